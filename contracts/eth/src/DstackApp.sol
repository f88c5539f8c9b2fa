// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Initializable} from "@openzeppelin/contracts-upgradeable/proxy/utils/Initializable.sol";
import {OwnableUpgradeable} from "@openzeppelin/contracts-upgradeable/access/OwnableUpgradeable.sol";
import {Ownable2StepUpgradeable} from "@openzeppelin/contracts-upgradeable/access/Ownable2StepUpgradeable.sol";
import {UUPSUpgradeable} from "@openzeppelin/contracts-upgradeable/proxy/utils/UUPSUpgradeable.sol";
import {ERC165Upgradeable} from "@openzeppelin/contracts-upgradeable/utils/introspection/ERC165Upgradeable.sol";
import {MulticallUpgradeable} from "@openzeppelin/contracts-upgradeable/utils/MulticallUpgradeable.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {IAppAuth} from "./IAppAuth.sol";
import {IAppAuthBasicManagement} from "./IAppAuthBasicManagement.sol";

/// @title DstackApp — the boot policy of one dstack app; its proxy address IS the app id.
/// @notice Compose-hash and device whitelists, an optional up-to-date-TCB requirement and
/// a one-way switch that freezes the implementation. Interface- and storage-compatible
/// with dstack's DstackApp (version 2), so an existing proxy can be upgraded to it.
/// Beyond upstream: `multicall` (OpenZeppelin Multicall) so "add the new compose hash and
/// remove the old one" is one transaction.
contract DstackApp is
    Initializable,
    Ownable2StepUpgradeable,
    UUPSUpgradeable,
    ERC165Upgradeable,
    MulticallUpgradeable,
    IAppAuth,
    IAppAuthBasicManagement
{
    // ------------------------------------------------------------------ storage
    // Sequential layout, slot by slot as deployed upstream. New state goes into an
    // ERC-7201 namespace, never here.

    /// @notice compose hash => allowed (slot 0)
    mapping(bytes32 => bool) public allowedComposeHashes;
    /// @dev slot 1, byte 0
    bool private _upgradesDisabled;
    /// @notice slot 1, byte 1: when true the device whitelist is not consulted
    bool public allowAnyDevice;
    /// @notice device id => allowed (slot 2)
    mapping(bytes32 => bool) public allowedDeviceIds;
    /// @notice slot 3: deny boots whose tcbStatus is not exactly "UpToDate"
    bool public requireTcbUpToDate;
    /// @dev slots 4..52
    uint256[49] private __gap;

    // ------------------------------------------------------------------ events
    event UpgradesDisabled();
    event AllowAnyDeviceSet(bool allowAny);
    event RequireTcbUpToDateSet(bool requireUpToDate);
    /// @notice Audit trail of every policy change: policy = keccak256(key), value = the
    /// item (bytes32, left-padded address, or keccak of dynamic data), enabled = add/remove
    /// or the new flag.
    event PolicyChanged(address indexed actor, bytes32 indexed policy, bytes32 indexed value, bool enabled);

    // Initializable's ERC-7201 slot (OpenZeppelin 5.x)
    bytes32 private constant INITIALIZABLE_STORAGE = 0xf0c57e16840df040f15088dc2f81fe391c3923bec73e23a9662efc9c229c6a00;

    bytes32 private constant POLICY_DEVICE = keccak256("device");
    bytes32 private constant POLICY_COMPOSE_HASH = keccak256("compose-hash");
    bytes32 private constant POLICY_ALLOW_ANY_DEVICE = keccak256("allow-any-device");
    bytes32 private constant POLICY_REQUIRE_TCB = keccak256("require-tcb-up-to-date");
    bytes32 private constant POLICY_UPGRADES_DISABLED = keccak256("upgrades-disabled");
    bytes32 private constant POLICY_IMPLEMENTATION_UPGRADE = keccak256("implementation-upgrade");

    /// @custom:oz-upgrades-unsafe-allow constructor
    constructor() {
        _disableInitializers();
    }

    // ------------------------------------------------------------------ initializers

    /// @notice Legacy 5-argument initializer (requireTcbUpToDate = false).
    function initialize(
        address initialOwner,
        bool _disableUpgrades,
        bool _allowAnyDevice,
        bytes32 initialDeviceId,
        bytes32 initialComposeHash
    ) public initializer {
        _initializeCommon(initialOwner, _disableUpgrades, _allowAnyDevice, initialDeviceId, initialComposeHash);
    }

    /// @notice Initializer used by the KMS factory. Only one initializer can ever succeed.
    /// @param initialOwner owner of the app (must not be zero: "invalid owner address")
    /// @param _disableUpgrades freeze the implementation from the start
    /// @param _requireTcbUpToDate deny boots whose tcbStatus is not "UpToDate"
    /// @param _allowAnyDevice skip the device whitelist
    /// @param initialDeviceId device to whitelist (zero: none)
    /// @param initialComposeHash compose hash to whitelist (zero: none)
    function initialize(
        address initialOwner,
        bool _disableUpgrades,
        bool _requireTcbUpToDate,
        bool _allowAnyDevice,
        bytes32 initialDeviceId,
        bytes32 initialComposeHash
    ) public initializer {
        if (_requireTcbUpToDate) requireTcbUpToDate = true;
        _initializeCommon(initialOwner, _disableUpgrades, _allowAnyDevice, initialDeviceId, initialComposeHash);
    }

    function _initializeCommon(
        address initialOwner,
        bool _disableUpgrades,
        bool _allowAnyDevice,
        bytes32 initialDeviceId,
        bytes32 initialComposeHash
    ) private {
        require(initialOwner != address(0), "invalid owner address");
        // A first initializer only ever runs on fresh (all-zero) storage, so false
        // flags need no write; skipping them saves the factory a cold SSTORE each.
        if (_disableUpgrades) _upgradesDisabled = true;
        if (_allowAnyDevice) allowAnyDevice = true;
        if (initialDeviceId != bytes32(0)) {
            allowedDeviceIds[initialDeviceId] = true;
            emit DeviceAdded(initialDeviceId);
            emit PolicyChanged(_msgSender(), POLICY_DEVICE, initialDeviceId, true);
        }
        if (initialComposeHash != bytes32(0)) {
            allowedComposeHashes[initialComposeHash] = true;
            emit ComposeHashAdded(initialComposeHash);
            emit PolicyChanged(_msgSender(), POLICY_COMPOSE_HASH, initialComposeHash, true);
        }
        __Ownable_init(initialOwner);
        // The UUPS, ERC165, Ownable2Step and Multicall initializers of OpenZeppelin 5.4
        // are empty; they are not called, which saves the factory gas.
    }

    /// @dev Ownable2Step clears the pending owner on every transfer. During the first
    /// initialization (version 1, storage fresh) there is none, so skip that cold write;
    /// everywhere else (including reinitializers) behave exactly as Ownable2Step.
    function _transferOwnership(address newOwner) internal virtual override {
        bool firstInit;
        assembly ("memory-safe") {
            // Initializable storage word: _initialized (uint64) | _initializing (bool) << 64
            firstInit := eq(sload(INITIALIZABLE_STORAGE), 0x010000000000000001)
        }
        if (firstInit) {
            OwnableUpgradeable._transferOwnership(newOwner);
        } else {
            super._transferOwnership(newOwner);
        }
    }

    // ------------------------------------------------------------------ views

    /// @notice Interface version of this contract (upstream NEW = 2).
    function version() public pure returns (uint256) {
        return 2;
    }

    /// @notice ERC-165: IAppAuth, IAppAuthBasicManagement and IERC165.
    function supportsInterface(bytes4 interfaceId)
        public
        view
        virtual
        override(ERC165Upgradeable, IERC165)
        returns (bool)
    {
        return interfaceId == 0x1e079198 // IAppAuth
            || interfaceId == 0x8fd37527 // IAppAuthBasicManagement
            || super.supportsInterface(interfaceId);
    }

    /// @notice The app-level boot decision; first failing rule wins:
    /// 1. requireTcbUpToDate and tcbStatus != "UpToDate" -> "TCB status is not up to date"
    /// 2. compose hash not whitelisted                    -> "Compose hash not allowed"
    /// 3. !allowAnyDevice and device not whitelisted      -> "Device not allowed"
    /// appId is not compared with this contract; instanceId, mrAggregated, mrSystem,
    /// osImageHash and advisoryIds are not consulted.
    function isAppAllowed(AppBootInfo calldata bootInfo)
        external
        view
        override
        returns (bool isAllowed, string memory reason)
    {
        if (requireTcbUpToDate && keccak256(bytes(bootInfo.tcbStatus)) != keccak256("UpToDate")) {
            return (false, "TCB status is not up to date");
        }
        if (!allowedComposeHashes[bootInfo.composeHash]) {
            return (false, "Compose hash not allowed");
        }
        if (!allowAnyDevice && !allowedDeviceIds[bootInfo.deviceId]) {
            return (false, "Device not allowed");
        }
        return (true, "");
    }

    // ------------------------------------------------------------------ owner actions

    /// @notice Whitelist a compose hash (sha256 of app-compose.json).
    function addComposeHash(bytes32 composeHash) external override onlyOwner {
        allowedComposeHashes[composeHash] = true;
        emit ComposeHashAdded(composeHash);
        emit PolicyChanged(_msgSender(), POLICY_COMPOSE_HASH, composeHash, true);
    }

    /// @notice Remove a compose hash from the whitelist.
    function removeComposeHash(bytes32 composeHash) external override onlyOwner {
        allowedComposeHashes[composeHash] = false;
        emit ComposeHashRemoved(composeHash);
        emit PolicyChanged(_msgSender(), POLICY_COMPOSE_HASH, composeHash, false);
    }

    /// @notice Whitelist a device id (sha256 of the raw platform device id).
    function addDevice(bytes32 deviceId) external override onlyOwner {
        allowedDeviceIds[deviceId] = true;
        emit DeviceAdded(deviceId);
        emit PolicyChanged(_msgSender(), POLICY_DEVICE, deviceId, true);
    }

    /// @notice Remove a device id from the whitelist (no effect on decisions while
    /// allowAnyDevice is true).
    function removeDevice(bytes32 deviceId) external override onlyOwner {
        allowedDeviceIds[deviceId] = false;
        emit DeviceRemoved(deviceId);
        emit PolicyChanged(_msgSender(), POLICY_DEVICE, deviceId, false);
    }

    /// @notice Turn the device whitelist off (true) or on (false).
    function setAllowAnyDevice(bool _allowAnyDevice) external onlyOwner {
        allowAnyDevice = _allowAnyDevice;
        emit AllowAnyDeviceSet(_allowAnyDevice);
        emit PolicyChanged(_msgSender(), POLICY_ALLOW_ANY_DEVICE, bytes32(0), _allowAnyDevice);
    }

    /// @notice Require tcbStatus == "UpToDate" for every boot (true) or not (false).
    function setRequireTcbUpToDate(bool _requireUpToDate) external onlyOwner {
        requireTcbUpToDate = _requireUpToDate;
        emit RequireTcbUpToDateSet(_requireUpToDate);
        emit PolicyChanged(_msgSender(), POLICY_REQUIRE_TCB, bytes32(0), _requireUpToDate);
    }

    /// @notice Freeze the implementation for ever (re-callable; there is no way back).
    function disableUpgrades() external onlyOwner {
        _upgradesDisabled = true;
        emit UpgradesDisabled();
        emit PolicyChanged(_msgSender(), POLICY_UPGRADES_DISABLED, bytes32(0), true);
    }

    /// @dev UUPS hook: owner only, and only while upgrades are not disabled.
    function _authorizeUpgrade(address newImplementation) internal override onlyOwner {
        require(!_upgradesDisabled, "Upgrades are permanently disabled");
        emit PolicyChanged(_msgSender(), POLICY_IMPLEMENTATION_UPGRADE, bytes32(uint256(uint160(newImplementation))), true);
    }
}
