// SPDX-License-Identifier: Apache-2.0
// Timelock.sol — brings OpenZeppelin's TimelockController (the pinned npm
// package) into this build, so out/TimelockController.sol/TimelockController.json
// holds its bytecode for the cli-safe suite: a KMS owned by a timelock.
pragma solidity ^0.8.24;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
