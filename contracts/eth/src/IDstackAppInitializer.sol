// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IDstackAppInitializer — the DstackApp initializer the KMS factory calls.
/// @dev The 6-argument `initialize` (selector 0x9ed28193). In its own file so that
/// DstackKms.sol declares one top-level type and tools that find a contract by its
/// file name (forge's vm.getCode("DstackKms.sol"), OpenZeppelin Foundry Upgrades)
/// find exactly one artifact.
interface IDstackAppInitializer {
    function initialize(
        address initialOwner,
        bool disableUpgrades,
        bool requireTcbUpToDate,
        bool allowAnyDevice,
        bytes32 initialDeviceId,
        bytes32 initialComposeHash
    ) external;
}
