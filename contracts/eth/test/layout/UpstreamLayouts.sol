// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

// Storage-only stand-ins for dstack's deployed implementations, written from the slot
// tables in reference/ethereum.md §1.3–1.4 (same parents, same sequential variables).
// upgrade_check.js asks @openzeppelin/upgrades-core whether a proxy holding one of
// these layouts can be upgraded to our DstackKms / DstackApp. Test-only; never deployed.

import {Initializable} from "@openzeppelin/contracts-upgradeable/proxy/utils/Initializable.sol";
import {OwnableUpgradeable} from "@openzeppelin/contracts-upgradeable/access/OwnableUpgradeable.sol";
import {Ownable2StepUpgradeable} from "@openzeppelin/contracts-upgradeable/access/Ownable2StepUpgradeable.sol";
import {UUPSUpgradeable} from "@openzeppelin/contracts-upgradeable/proxy/utils/UUPSUpgradeable.sol";
import {ERC165Upgradeable} from "@openzeppelin/contracts-upgradeable/utils/introspection/ERC165Upgradeable.sol";

/// NEW upstream DstackKms layout.
contract UpstreamDstackKms is Initializable, Ownable2StepUpgradeable, UUPSUpgradeable, ERC165Upgradeable {
    struct KmsInfo {
        bytes k256Pubkey;
        bytes caPubkey;
        bytes quote;
        bytes eventlog;
    }

    KmsInfo public kmsInfo;
    string public gatewayAppId;
    mapping(address => bool) public registeredApps;
    mapping(bytes32 => bool) public kmsAllowedAggregatedMrs;
    mapping(bytes32 => bool) public kmsAllowedDeviceIds;
    mapping(bytes32 => bool) public allowedOsImages;
    address public appImplementation;
    uint256[50] private __gap;

    /// @custom:oz-upgrades-unsafe-allow constructor
    constructor() {
        _disableInitializers();
    }

    function _authorizeUpgrade(address) internal override onlyOwner {}
}

/// The layout before the tproxy -> gateway rename (slot 4 named tproxyAppId), OLD parents.
contract UpstreamTproxyDstackKms is Initializable, OwnableUpgradeable, UUPSUpgradeable, ERC165Upgradeable {
    struct KmsInfo {
        bytes k256Pubkey;
        bytes caPubkey;
        bytes quote;
        bytes eventlog;
    }

    KmsInfo public kmsInfo;
    string public tproxyAppId;
    mapping(address => bool) public registeredApps;
    mapping(bytes32 => bool) public kmsAllowedAggregatedMrs;
    mapping(bytes32 => bool) public kmsAllowedDeviceIds;
    mapping(bytes32 => bool) public allowedOsImages;
    address public appImplementation;
    uint256[50] private __gap;

    /// @custom:oz-upgrades-unsafe-allow constructor
    constructor() {
        _disableInitializers();
    }

    function _authorizeUpgrade(address) internal override onlyOwner {}
}

/// NEW upstream DstackApp layout (version 2).
contract UpstreamDstackApp is Initializable, Ownable2StepUpgradeable, UUPSUpgradeable, ERC165Upgradeable {
    mapping(bytes32 => bool) public allowedComposeHashes;
    bool private _upgradesDisabled;
    bool public allowAnyDevice;
    mapping(bytes32 => bool) public allowedDeviceIds;
    bool public requireTcbUpToDate;
    uint256[49] private __gap;

    /// @custom:oz-upgrades-unsafe-allow constructor
    constructor() {
        _disableInitializers();
    }

    function _authorizeUpgrade(address) internal override onlyOwner {}
}

/// OLD upstream DstackApp layout: Ownable (not 2-step), no TCB flag, gap[50] from slot 3.
contract UpstreamOldDstackApp is Initializable, OwnableUpgradeable, UUPSUpgradeable, ERC165Upgradeable {
    mapping(bytes32 => bool) public allowedComposeHashes;
    bool private _upgradesDisabled;
    bool public allowAnyDevice;
    mapping(bytes32 => bool) public allowedDeviceIds;
    uint256[50] private __gap;

    /// @custom:oz-upgrades-unsafe-allow constructor
    constructor() {
        _disableInitializers();
    }

    function _authorizeUpgrade(address) internal override onlyOwner {}
}

/// Negative control: the two flags of slot 1 swapped. upgrades-core must reject it.
contract BrokenDstackApp is Initializable, Ownable2StepUpgradeable, UUPSUpgradeable, ERC165Upgradeable {
    mapping(bytes32 => bool) public allowedComposeHashes;
    bool public allowAnyDevice;
    bool private _upgradesDisabled;
    mapping(bytes32 => bool) public allowedDeviceIds;
    bool public requireTcbUpToDate;
    uint256[49] private __gap;

    /// @custom:oz-upgrades-unsafe-allow constructor
    constructor() {
        _disableInitializers();
    }

    function _authorizeUpgrade(address) internal override onlyOwner {}
}
