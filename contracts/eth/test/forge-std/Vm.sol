// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.13;

/// @title Vm — the forge cheatcodes OpenZeppelin Foundry Upgrades calls, declared here.
/// @dev @openzeppelin/foundry-upgrades imports "forge-std/Vm.sol"; forge-std is not
/// installable offline (its npm release, 1.1.2, predates these cheatcodes), so the
/// remapping forge-std/ = test/forge-std/ points at these declarations of the cheatcode
/// interface (each is identified by its selector, so only the signature matters).
interface Vm {
    struct FfiResult {
        int32 exitCode;
        bytes stdout;
        bytes stderr;
    }

    function tryFfi(string[] calldata commandInput) external returns (FfiResult memory result);
    function projectRoot() external view returns (string memory path);
    function envOr(string calldata name, string calldata defaultValue) external view returns (string memory value);
    function readFile(string calldata path) external view returns (string memory data);
    function getCode(string calldata artifactPath) external view returns (bytes memory creationBytecode);
    function keyExistsJson(string calldata json, string calldata key) external view returns (bool);
    function parseJsonString(string calldata json, string calldata key) external pure returns (string memory);
    function parseAddress(string calldata stringifiedValue) external pure returns (address parsedValue);
    function split(string calldata input, string calldata delimiter) external pure returns (string[] memory outputs);
    function indexOf(string calldata input, string calldata key) external pure returns (uint256);
    function replace(string calldata input, string calldata from, string calldata to)
        external
        pure
        returns (string memory output);
    function toString(address value) external pure returns (string memory stringifiedValue);
    function toString(bytes calldata value) external pure returns (string memory stringifiedValue);
    function toString(bytes32 value) external pure returns (string memory stringifiedValue);
    function toString(uint256 value) external pure returns (string memory stringifiedValue);
    function toString(bool value) external pure returns (string memory stringifiedValue);
    function load(address target, bytes32 slot) external view returns (bytes32 data);
    function startPrank(address msgSender) external;
    function stopPrank() external;
}
