// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

// Pulls OpenZeppelin's ERC1967Proxy into the build so its creation code is an artifact
// (the KMS proxy and standalone app proxies are plain ERC1967Proxy, as upstream).
import {ERC1967Proxy} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol";
