// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Initializable} from "@openzeppelin/contracts-upgradeable/proxy/utils/Initializable.sol";
import {Ownable2StepUpgradeable} from "@openzeppelin/contracts-upgradeable/access/Ownable2StepUpgradeable.sol";
import {UUPSUpgradeable} from "@openzeppelin/contracts-upgradeable/proxy/utils/UUPSUpgradeable.sol";
import {ERC165Upgradeable} from "@openzeppelin/contracts-upgradeable/utils/introspection/ERC165Upgradeable.sol";
import {MulticallUpgradeable} from "@openzeppelin/contracts-upgradeable/utils/MulticallUpgradeable.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {ERC1967Utils} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Utils.sol";
import {Errors} from "@openzeppelin/contracts/utils/Errors.sol";
import {IAppAuth} from "./IAppAuth.sol";
import {ERC1967MinimalProxy} from "./ERC1967MinimalProxy.sol";
import {IDstackAppInitializer} from "./IDstackAppInitializer.sol";

/// @title DstackKms — the on-chain policy of one dstack KMS.
/// @notice OS-image whitelist, app registry and app factory, the KMS's own
/// aggregated-MR and device whitelists, the gateway app id and the KMS's public info.
/// Interface- and storage-compatible with dstack's DstackKms, so an existing proxy can
/// be upgraded to it. Beyond upstream (see docs/contracts.md): a KMS-owner kill switch
/// per app (`deregisterApp` / `reinstateApp`), deterministic app ids (CREATE2 factory
/// with a per-deployer salt and `predictAppId`), `multicall`, and apps deployed behind
/// a 57-byte standard ERC-1967 proxy (cheaper factory).
contract DstackKms is
    Initializable,
    Ownable2StepUpgradeable,
    UUPSUpgradeable,
    ERC165Upgradeable,
    MulticallUpgradeable,
    IAppAuth
{
    /// @notice What the KMS publishes about itself.
    struct KmsInfo {
        bytes k256Pubkey;
        bytes caPubkey;
        bytes quote;
        bytes eventlog;
    }

    // ------------------------------------------------------------------ storage
    // Sequential layout, slot by slot as deployed upstream; do not reorder.

    /// @notice slots 0..3
    KmsInfo public kmsInfo;
    /// @notice slot 4: gateway app id handed to every allowed app
    /// @custom:oz-renamed-from tproxyAppId
    string public gatewayAppId;
    /// @notice slot 5: app id => registered
    mapping(address => bool) public registeredApps;
    /// @notice slot 6: aggregated MR => a KMS with it may boot
    mapping(bytes32 => bool) public kmsAllowedAggregatedMrs;
    /// @notice slot 7: device id => a KMS may boot on it
    mapping(bytes32 => bool) public kmsAllowedDeviceIds;
    /// @notice slot 8: OS image hash => allowed (apps and KMS)
    mapping(bytes32 => bool) public allowedOsImages;
    /// @notice slot 9: DstackApp implementation used by the factory
    address public appImplementation;
    /// @dev slots 10..59
    uint256[50] private __gap;

    /// @custom:storage-location erc7201:dstack-gov.storage.DstackKms
    struct DstackGovKmsStorage {
        /// app id => deregistered by the KMS owner (blocks registerApp until reinstated)
        mapping(address => bool) deregistered;
    }

    // keccak256(abi.encode(uint256(keccak256("dstack-gov.storage.DstackKms")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant DSTACK_GOV_KMS_STORAGE =
        0x13d7b83da6f81338d5c6986c6dc85008dd9e6ca35a477d1dc7b4ce2a9a373100;

    function _govStorage() private pure returns (DstackGovKmsStorage storage $) {
        assembly {
            $.slot := DSTACK_GOV_KMS_STORAGE
        }
    }

    // ------------------------------------------------------------------ events
    event AppRegistered(address appId);
    event KmsInfoSet(bytes k256Pubkey);
    event KmsAggregatedMrAdded(bytes32 mrAggregated);
    event KmsAggregatedMrRemoved(bytes32 mrAggregated);
    event KmsDeviceAdded(bytes32 deviceId);
    event KmsDeviceRemoved(bytes32 deviceId);
    event OsImageHashAdded(bytes32 osImageHash);
    event OsImageHashRemoved(bytes32 osImageHash);
    event GatewayAppIdSet(string gatewayAppId);
    event AppImplementationSet(address implementation);
    event AppDeployedViaFactory(address indexed appId, address indexed deployer);
    /// @notice Audit trail of every policy change (see DstackApp.PolicyChanged).
    event PolicyChanged(address indexed actor, bytes32 indexed policy, bytes32 indexed value, bool enabled);
    /// @notice Extension: the KMS owner revoked an app (kill switch).
    event AppDeregistered(address indexed appId);
    /// @notice Extension: the KMS owner lifted a revocation and re-registered the app.
    event AppReinstated(address indexed appId);

    bytes32 private constant POLICY_APP_IMPLEMENTATION = keccak256("app-implementation");
    bytes32 private constant POLICY_IMPLEMENTATION_UPGRADE = keccak256("implementation-upgrade");
    bytes32 private constant POLICY_KMS_INFO = keccak256("kms-info");
    bytes32 private constant POLICY_GATEWAY_APP_ID = keccak256("gateway-app-id");
    bytes32 private constant POLICY_REGISTERED_APP = keccak256("registered-app");
    bytes32 private constant POLICY_DEREGISTERED_APP = keccak256("deregistered-app");
    bytes32 private constant POLICY_KMS_AGGREGATED_MR = keccak256("kms-aggregated-mr");
    bytes32 private constant POLICY_KMS_DEVICE = keccak256("kms-device");
    bytes32 private constant POLICY_OS_IMAGE = keccak256("os-image");

    /// @custom:oz-upgrades-unsafe-allow constructor
    constructor() {
        _disableInitializers();
    }

    /// @notice Set the owner and, when non-zero, the DstackApp implementation for the
    /// factory (a zero implementation is accepted and can be set later).
    function initialize(address initialOwner, address _appImplementation) public initializer {
        __Ownable_init(initialOwner);
        __Ownable2Step_init();
        __UUPSUpgradeable_init();
        __ERC165_init();
        __Multicall_init();
        if (_appImplementation != address(0)) {
            _setAppImplementation(_appImplementation);
        }
    }

    // ------------------------------------------------------------------ views

    /// @notice ERC-165: IAppAuth and IERC165.
    function supportsInterface(bytes4 interfaceId)
        public
        view
        virtual
        override(ERC165Upgradeable, IERC165)
        returns (bool)
    {
        return interfaceId == 0x1e079198 // IAppAuth
            || super.supportsInterface(interfaceId);
    }

    /// @notice Whether the KMS owner has deregistered `appId` (extension).
    function deregisteredApps(address appId) external view returns (bool) {
        return _govStorage().deregistered[appId];
    }

    /// @notice The app id the deterministic factory gives `deployer` for `salt` with the
    /// current app implementation (the address also depends on appImplementation).
    function predictAppId(address deployer, bytes32 salt) public view returns (address) {
        bytes32 initHash = keccak256(ERC1967MinimalProxy.creationCode(appImplementation));
        bytes32 h = keccak256(abi.encodePacked(bytes1(0xff), address(this), _create2Salt(deployer, salt), initHash));
        return address(uint160(uint256(h)));
    }

    /// @notice May a KMS instance with these measurements boot? First failure wins:
    /// tcbStatus != "UpToDate", OS image, aggregated MR, device (always checked).
    function isKmsAllowed(AppBootInfo calldata bootInfo) external view returns (bool isAllowed, string memory reason) {
        if (keccak256(bytes(bootInfo.tcbStatus)) != keccak256("UpToDate")) {
            return (false, "TCB status is not up to date");
        }
        if (!allowedOsImages[bootInfo.osImageHash]) {
            return (false, "OS image is not allowed");
        }
        if (!kmsAllowedAggregatedMrs[bootInfo.mrAggregated]) {
            return (false, "Aggregated MR not allowed");
        }
        if (!kmsAllowedDeviceIds[bootInfo.deviceId]) {
            return (false, "KMS is not allowed to boot on this device");
        }
        return (true, "");
    }

    /// @notice May this app boot? First failure wins: app not registered ("App
    /// deregistered" when the KMS owner revoked it), OS image not allowed, no code at the
    /// app id; otherwise the app contract's own answer, verbatim. A reverting app makes
    /// this call revert.
    function isAppAllowed(AppBootInfo calldata bootInfo)
        external
        view
        override
        returns (bool isAllowed, string memory reason)
    {
        if (!registeredApps[bootInfo.appId]) {
            if (_govStorage().deregistered[bootInfo.appId]) {
                return (false, "App deregistered");
            }
            return (false, "App not registered");
        }
        if (!allowedOsImages[bootInfo.osImageHash]) {
            return (false, "OS image is not allowed");
        }
        if (bootInfo.appId.code.length == 0) {
            return (false, "App not deployed or invalid address");
        }
        // Same function, same arguments: forward our calldata instead of re-encoding the
        // struct. A revert of the app propagates; malformed return data reverts in decode.
        (bool ok, bytes memory ret) = bootInfo.appId.staticcall(msg.data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 0x20), mload(ret))
            }
        }
        return abi.decode(ret, (bool, string));
    }

    // ------------------------------------------------------------------ owner: KMS info

    /// @notice Publish the KMS's keys, quote and event log.
    function setKmsInfo(KmsInfo calldata info) external onlyOwner {
        kmsInfo = info;
        emit KmsInfoSet(info.k256Pubkey);
        emit PolicyChanged(_msgSender(), POLICY_KMS_INFO, keccak256(info.k256Pubkey), true);
    }

    /// @notice Replace only the quote (no event, as upstream).
    function setKmsQuote(bytes calldata quote) external onlyOwner {
        kmsInfo.quote = quote;
    }

    /// @notice Replace only the event log (no event, as upstream).
    function setKmsEventlog(bytes calldata eventlog) external onlyOwner {
        kmsInfo.eventlog = eventlog;
    }

    /// @notice Set the gateway app id returned to allowed apps (not validated).
    function setGatewayAppId(string calldata appId) external onlyOwner {
        gatewayAppId = appId;
        emit GatewayAppIdSet(appId);
        emit PolicyChanged(_msgSender(), POLICY_GATEWAY_APP_ID, keccak256(bytes(appId)), true);
    }

    /// @notice Set the DstackApp implementation the factory deploys.
    function setAppImplementation(address _appImplementation) external onlyOwner {
        require(_appImplementation != address(0), "Invalid implementation address");
        _setAppImplementation(_appImplementation);
    }

    function _setAppImplementation(address impl) private {
        appImplementation = impl;
        emit AppImplementationSet(impl);
        emit PolicyChanged(_msgSender(), POLICY_APP_IMPLEMENTATION, bytes32(uint256(uint160(impl))), true);
    }

    // ------------------------------------------------------------------ owner: whitelists

    /// @notice Allow KMS instances with this aggregated measurement.
    function addKmsAggregatedMr(bytes32 mrAggregated) external onlyOwner {
        kmsAllowedAggregatedMrs[mrAggregated] = true;
        emit KmsAggregatedMrAdded(mrAggregated);
        emit PolicyChanged(_msgSender(), POLICY_KMS_AGGREGATED_MR, mrAggregated, true);
    }

    /// @notice Stop allowing KMS instances with this aggregated measurement.
    function removeKmsAggregatedMr(bytes32 mrAggregated) external onlyOwner {
        kmsAllowedAggregatedMrs[mrAggregated] = false;
        emit KmsAggregatedMrRemoved(mrAggregated);
        emit PolicyChanged(_msgSender(), POLICY_KMS_AGGREGATED_MR, mrAggregated, false);
    }

    /// @notice Allow KMS instances on this device (sha256 of the platform device id).
    function addKmsDevice(bytes32 deviceId) external onlyOwner {
        kmsAllowedDeviceIds[deviceId] = true;
        emit KmsDeviceAdded(deviceId);
        emit PolicyChanged(_msgSender(), POLICY_KMS_DEVICE, deviceId, true);
    }

    /// @notice Stop allowing KMS instances on this device.
    function removeKmsDevice(bytes32 deviceId) external onlyOwner {
        kmsAllowedDeviceIds[deviceId] = false;
        emit KmsDeviceRemoved(deviceId);
        emit PolicyChanged(_msgSender(), POLICY_KMS_DEVICE, deviceId, false);
    }

    /// @notice Whitelist an OS image (its digest) for apps and KMS instances.
    function addOsImageHash(bytes32 osImageHash) external onlyOwner {
        allowedOsImages[osImageHash] = true;
        emit OsImageHashAdded(osImageHash);
        emit PolicyChanged(_msgSender(), POLICY_OS_IMAGE, osImageHash, true);
    }

    /// @notice Remove an OS image: every app and KMS on it is denied from now on.
    function removeOsImageHash(bytes32 osImageHash) external onlyOwner {
        allowedOsImages[osImageHash] = false;
        emit OsImageHashRemoved(osImageHash);
        emit PolicyChanged(_msgSender(), POLICY_OS_IMAGE, osImageHash, false);
    }

    // ------------------------------------------------------------------ apps

    /// @notice Register an app id (open to anyone, idempotent). Reverts "App
    /// deregistered" for an id the KMS owner has deregistered.
    function registerApp(address appId) public {
        require(appId != address(0), "Invalid app ID");
        _registerApp(appId);
    }

    function _registerApp(address appId) private {
        require(!_govStorage().deregistered[appId], "App deregistered");
        _markRegistered(appId);
    }

    /// @dev The factory's path: its app ids are contracts created in this very call,
    /// which cannot be deregistered apps (deregisterApp needs a registered app), so
    /// the block list is not read (saves a cold SLOAD).
    function _markRegistered(address appId) private {
        registeredApps[appId] = true;
        emit AppRegistered(appId);
        emit PolicyChanged(_msgSender(), POLICY_REGISTERED_APP, bytes32(uint256(uint160(appId))), true);
    }

    /// @notice Extension, KMS-owner kill switch: unregister `appId` and block its
    /// re-registration. isAppAllowed then answers (false, "App deregistered").
    function deregisterApp(address appId) external onlyOwner {
        require(registeredApps[appId], "App not registered");
        registeredApps[appId] = false;
        _govStorage().deregistered[appId] = true;
        emit AppDeregistered(appId);
        emit PolicyChanged(_msgSender(), POLICY_DEREGISTERED_APP, bytes32(uint256(uint160(appId))), true);
    }

    /// @notice Extension: lift a deregistration and register the app again.
    function reinstateApp(address appId) external onlyOwner {
        require(_govStorage().deregistered[appId], "App not deregistered");
        _govStorage().deregistered[appId] = false;
        emit AppReinstated(appId);
        emit PolicyChanged(_msgSender(), POLICY_DEREGISTERED_APP, bytes32(uint256(uint160(appId))), false);
        _registerApp(appId);
    }

    /// @notice Deploy a DstackApp proxy, initialize it and register it, in one call.
    /// @return appId the new proxy; `AppDeployedViaFactory` is the last log.
    function deployAndRegisterApp(
        address initialOwner,
        bool disableUpgrades,
        bool requireTcbUpToDate,
        bool allowAnyDevice,
        bytes32 initialDeviceId,
        bytes32 initialComposeHash
    ) public returns (address appId) {
        return _deployApp(
            false, bytes32(0), initialOwner, disableUpgrades, requireTcbUpToDate, allowAnyDevice, initialDeviceId, initialComposeHash
        );
    }

    /// @notice Legacy 5-argument factory: requireTcbUpToDate = false.
    function deployAndRegisterApp(
        address initialOwner,
        bool disableUpgrades,
        bool allowAnyDevice,
        bytes32 initialDeviceId,
        bytes32 initialComposeHash
    ) external returns (address appId) {
        return _deployApp(false, bytes32(0), initialOwner, disableUpgrades, false, allowAnyDevice, initialDeviceId, initialComposeHash);
    }

    /// @notice Extension: like deployAndRegisterApp, at the CREATE2 address
    /// predictAppId(msg.sender, salt). The salt is bound to the caller, so nobody can
    /// take another deployer's app id.
    function deployAndRegisterAppDeterministic(
        bytes32 salt,
        address initialOwner,
        bool disableUpgrades,
        bool requireTcbUpToDate,
        bool allowAnyDevice,
        bytes32 initialDeviceId,
        bytes32 initialComposeHash
    ) external returns (address appId) {
        return _deployApp(
            true, salt, initialOwner, disableUpgrades, requireTcbUpToDate, allowAnyDevice, initialDeviceId, initialComposeHash
        );
    }

    function _create2Salt(address deployer, bytes32 salt) private pure returns (bytes32) {
        return keccak256(abi.encode(deployer, salt));
    }

    function _deployApp(
        bool deterministic,
        bytes32 salt,
        address initialOwner,
        bool disableUpgrades,
        bool requireTcbUpToDate,
        bool allowAnyDevice,
        bytes32 initialDeviceId,
        bytes32 initialComposeHash
    ) private returns (address appId) {
        address impl = appImplementation;
        require(impl != address(0), "DstackApp implementation not set");
        require(initialOwner != address(0), "Invalid owner address");
        if (impl.code.length == 0) revert ERC1967Utils.ERC1967InvalidImplementation(impl);
        bytes memory initcode = ERC1967MinimalProxy.creationCode(impl);
        if (deterministic) {
            bytes32 s = _create2Salt(_msgSender(), salt);
            assembly ("memory-safe") {
                appId := create2(0, add(initcode, 0x20), mload(initcode), s)
            }
        } else {
            assembly ("memory-safe") {
                appId := create(0, add(initcode, 0x20), mload(initcode))
            }
        }
        if (appId == address(0)) revert Errors.FailedDeployment();
        // initialize(owner, disableUpgrades, requireTcbUpToDate, allowAnyDevice, device,
        // composeHash) (0x9ed28193) on the new proxy. Encoded by hand in scratch memory:
        // the proxy has code (just created), so no extcodesize check is needed, and a
        // revert of the initializer is re-thrown with its data.
        bytes4 sel = IDstackAppInitializer.initialize.selector;
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, sel)
            mstore(add(m, 0x04), initialOwner)
            mstore(add(m, 0x24), disableUpgrades)
            mstore(add(m, 0x44), requireTcbUpToDate)
            mstore(add(m, 0x64), allowAnyDevice)
            mstore(add(m, 0x84), initialDeviceId)
            mstore(add(m, 0xa4), initialComposeHash)
            if iszero(call(gas(), appId, 0, m, 0xc4, 0, 0)) {
                returndatacopy(m, 0, returndatasize())
                revert(m, returndatasize())
            }
        }
        _markRegistered(appId);
        emit AppDeployedViaFactory(appId, _msgSender());
    }

    /// @dev UUPS hook: owner only; records the new implementation in the audit trail.
    function _authorizeUpgrade(address newImplementation) internal override onlyOwner {
        emit PolicyChanged(_msgSender(), POLICY_IMPLEMENTATION_UPGRADE, bytes32(uint256(uint160(newImplementation))), true);
    }
}
