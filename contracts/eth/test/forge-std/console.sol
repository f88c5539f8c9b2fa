// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.13;

/// @title console — the one logging call OpenZeppelin Foundry Upgrades makes.
/// @dev See Vm.sol beside this file for why this stands in for forge-std. forge prints
/// what is sent to its console address (the ASCII of "console.log") with the
/// signature of a Hardhat console function.
library console {
    address internal constant CONSOLE_ADDRESS = 0x000000000000000000636F6e736F6c652e6c6f67;

    function log(string memory message) internal view {
        (bool ok,) = CONSOLE_ADDRESS.staticcall(abi.encodeWithSignature("log(string)", message));
        ok; // the console never fails a test
    }
}
