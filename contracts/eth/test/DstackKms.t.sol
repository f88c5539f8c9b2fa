// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {TestBase, VmLog} from "./Base.sol";
import {ERC1967Proxy} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol";
import {DstackKms} from "../src/DstackKms.sol";
import {DstackApp} from "../src/DstackApp.sol";
import {IAppAuth} from "../src/IAppAuth.sol";

/// An app whose answer the test sets, and that can be told to revert or return junk.
contract ScriptedApp {
    bool public allow;
    string public why;
    uint8 public mode; // 0 answer, 1 revert with message, 2 return 1 byte, 3 run out of gas

    function set(bool a, string memory w, uint8 m) external {
        allow = a;
        why = w;
        mode = m;
    }

    fallback(bytes calldata) external returns (bytes memory) {
        if (mode == 1) revert("app exploded");
        if (mode == 2) return hex"01";
        if (mode == 3) {
            while (true) {}
        }
        return abi.encode(allow, why);
    }
}

contract DstackKmsV2Mock is DstackKms {
    function initializeV2() external reinitializer(2) {}
    function marker() external pure returns (uint256) {
        return 7;
    }
}

contract DstackKmsTest is TestBase {
    bytes32 constant IMG = keccak256("os-image");
    bytes32 constant MR = keccak256("mr");
    bytes32 constant DEV = keccak256("dev");
    bytes32 constant H1 = keccak256("h1");

    DstackKms kms;
    DstackApp appImpl;

    function setUp() public {
        appImpl = new DstackApp();
        kms = deployKms(OWNER, address(appImpl));
    }

    // ------------------------------------------------------------------ initialize
    function testInitializeEventsAndState() public {
        DstackKms impl = new DstackKms();
        vm.recordLogs();
        address p = address(
            new ERC1967Proxy(address(impl), abi.encodeCall(DstackKms.initialize, (OWNER, address(appImpl))))
        );
        VmLog[] memory l = vm.getRecordedLogs();
        assertEq(l.length, 5, "5 logs");
        assertEq(l[0].topics[0], TOPIC_UPGRADED, "Upgraded");
        assertEq(l[1].topics[0], TOPIC_OWNERSHIP_TRANSFERRED, "OwnershipTransferred");
        assertEq(l[1].topics[2], addrWord(OWNER), "to owner");
        checkLog(l[2], p, keccak256("AppImplementationSet(address)"), abi.encode(address(appImpl)), "AppImplementationSet");
        checkPolicyLog(l[3], p, address(this), "app-implementation", addrWord(address(appImpl)), true);
        checkLog(l[4], p, TOPIC_INITIALIZED, abi.encode(uint64(1)), "Initialized last");
        DstackKms k = DstackKms(p);
        assertEq(k.owner(), OWNER, "owner");
        assertEq(k.appImplementation(), address(appImpl), "impl");
        assertEq(vm.load(p, bytes32(uint256(9))), addrWord(address(appImpl)), "slot 9 = appImplementation");
    }

    function testInitializeZeroImplAccepted() public {
        DstackKms impl = new DstackKms();
        vm.recordLogs();
        DstackKms k = DstackKms(
            address(new ERC1967Proxy(address(impl), abi.encodeCall(DstackKms.initialize, (OWNER, address(0)))))
        );
        assertEq(vm.getRecordedLogs().length, 3, "no impl events");
        assertEq(k.appImplementation(), address(0), "zero impl");
        vm.expectRevert(strErr("DstackApp implementation not set"));
        k.deployAndRegisterApp(OWNER, false, false, false, 0, 0);
    }

    function testInitializeGuards() public {
        DstackKms impl = new DstackKms();
        vm.expectRevert(abi.encodeWithSignature("OwnableInvalidOwner(address)", address(0)));
        new ERC1967Proxy(address(impl), abi.encodeCall(DstackKms.initialize, (address(0), address(appImpl))));
        vm.expectRevert(abi.encodeWithSignature("InvalidInitialization()"));
        kms.initialize(STRANGER, address(0));
        vm.expectRevert(abi.encodeWithSignature("InvalidInitialization()"));
        impl.initialize(STRANGER, address(0));
    }

    function testSupportsInterface() public view {
        assertTrue(kms.supportsInterface(0x1e079198), "IAppAuth");
        assertTrue(kms.supportsInterface(0x01ffc9a7), "IERC165");
        assertFalse(kms.supportsInterface(0x8fd37527), "not management");
        assertFalse(kms.supportsInterface(0xffffffff), "ffffffff");
    }

    // ------------------------------------------------------------------ owner setters
    function testSetKmsInfoAndParts() public {
        DstackKms.KmsInfo memory info = DstackKms.KmsInfo(hex"02aabb", hex"03ccdd", hex"0102", hex"0304");
        vm.recordLogs();
        vm.prank(OWNER);
        kms.setKmsInfo(info);
        VmLog[] memory l = vm.getRecordedLogs();
        assertEq(l.length, 2, "2 logs");
        checkLog(l[0], address(kms), keccak256("KmsInfoSet(bytes)"), abi.encode(info.k256Pubkey), "KmsInfoSet");
        checkPolicyLog(l[1], address(kms), OWNER, "kms-info", keccak256(info.k256Pubkey), true);
        (bytes memory k, bytes memory ca, bytes memory q, bytes memory ev) = kms.kmsInfo();
        assertEq(k, info.k256Pubkey, "k256");
        assertEq(ca, info.caPubkey, "ca");
        assertEq(q, info.quote, "quote");
        assertEq(ev, info.eventlog, "eventlog");
        vm.startPrank(OWNER);
        kms.setKmsQuote(hex"beef");
        kms.setKmsEventlog(hex"cafe");
        vm.stopPrank();
        assertEq(vm.getRecordedLogs().length, 0, "quote/eventlog emit nothing");
        (k, ca, q, ev) = kms.kmsInfo();
        assertEq(q, hex"beef", "quote set");
        assertEq(ev, hex"cafe", "eventlog set");
        assertEq(k, info.k256Pubkey, "k256 kept");
        // k256Pubkey (short bytes) lives in slot 0: length*2 in the low byte
        assertEq(uint256(vm.load(address(kms), bytes32(0))) & 0xff, 6, "slot 0 = k256Pubkey");
        assertEq(uint256(vm.load(address(kms), bytes32(uint256(2)))) & 0xff, 4, "slot 2 = quote");
    }

    function testSetGatewayAppId() public {
        string memory id = "0x1234567890abcdef1234567890abcdef12345678";
        vm.recordLogs();
        vm.prank(OWNER);
        kms.setGatewayAppId(id);
        VmLog[] memory l = vm.getRecordedLogs();
        checkLog(l[0], address(kms), keccak256("GatewayAppIdSet(string)"), abi.encode(id), "GatewayAppIdSet");
        checkPolicyLog(l[1], address(kms), OWNER, "gateway-app-id", keccak256(bytes(id)), true);
        assertEq(kms.gatewayAppId(), id, "stored");
        // long string in slot 4: length*2+1
        assertEq(uint256(vm.load(address(kms), bytes32(uint256(4)))), 42 * 2 + 1, "slot 4 = gatewayAppId");
        vm.prank(OWNER);
        kms.setGatewayAppId("any");
        assertEq(kms.gatewayAppId(), "any", "not validated");
    }

    function testSetAppImplementation() public {
        vm.prank(OWNER);
        vm.expectRevert(strErr("Invalid implementation address"));
        kms.setAppImplementation(address(0));
        address n = address(new DstackApp());
        vm.recordLogs();
        vm.prank(OWNER);
        kms.setAppImplementation(n);
        VmLog[] memory l = vm.getRecordedLogs();
        checkLog(l[0], address(kms), keccak256("AppImplementationSet(address)"), abi.encode(n), "AppImplementationSet");
        checkPolicyLog(l[1], address(kms), OWNER, "app-implementation", addrWord(n), true);
        assertEq(kms.appImplementation(), n, "set");
    }

    function _checkPair(
        function(bytes32) external add,
        function(bytes32) external remove,
        function(bytes32) external view returns (bool) getter,
        string memory addedSig,
        string memory removedSig,
        string memory key,
        uint256 mappingSlot
    ) internal {
        bytes32 v = keccak256(abi.encode(key, "value"));
        vm.recordLogs();
        vm.prank(OWNER);
        add(v);
        VmLog[] memory l = vm.getRecordedLogs();
        assertEq(l.length, 2, string.concat(key, ": 2 logs"));
        checkLog(l[0], address(kms), keccak256(bytes(addedSig)), abi.encode(v), addedSig);
        checkPolicyLog(l[1], address(kms), OWNER, key, v, true);
        assertTrue(getter(v), string.concat(key, " added"));
        assertEq(uint256(vm.load(address(kms), keccak256(abi.encode(v, mappingSlot)))), 1, string.concat(key, " slot"));
        vm.prank(OWNER);
        remove(v);
        l = vm.getRecordedLogs();
        checkLog(l[0], address(kms), keccak256(bytes(removedSig)), abi.encode(v), removedSig);
        checkPolicyLog(l[1], address(kms), OWNER, key, v, false);
        assertFalse(getter(v), string.concat(key, " removed"));
        vm.prank(OWNER);
        remove(v); // no existence check: always emits
        assertEq(vm.getRecordedLogs().length, 2, string.concat(key, " remove again emits"));
    }

    function testWhitelists() public {
        _checkPair(kms.addKmsAggregatedMr, kms.removeKmsAggregatedMr, kms.kmsAllowedAggregatedMrs,
            "KmsAggregatedMrAdded(bytes32)", "KmsAggregatedMrRemoved(bytes32)", "kms-aggregated-mr", 6);
        _checkPair(kms.addKmsDevice, kms.removeKmsDevice, kms.kmsAllowedDeviceIds,
            "KmsDeviceAdded(bytes32)", "KmsDeviceRemoved(bytes32)", "kms-device", 7);
        _checkPair(kms.addOsImageHash, kms.removeOsImageHash, kms.allowedOsImages,
            "OsImageHashAdded(bytes32)", "OsImageHashRemoved(bytes32)", "os-image", 8);
    }

    function testOnlyOwnerEverywhere() public {
        bytes memory e = ownableErr(STRANGER);
        address v2 = address(new DstackKms());
        vm.startPrank(STRANGER);
        vm.expectRevert(e);
        kms.setKmsInfo(DstackKms.KmsInfo("", "", "", ""));
        vm.expectRevert(e);
        kms.setKmsQuote("");
        vm.expectRevert(e);
        kms.setKmsEventlog("");
        vm.expectRevert(e);
        kms.setGatewayAppId("x");
        vm.expectRevert(e);
        kms.setAppImplementation(address(1));
        vm.expectRevert(e);
        kms.addKmsAggregatedMr(MR);
        vm.expectRevert(e);
        kms.removeKmsAggregatedMr(MR);
        vm.expectRevert(e);
        kms.addKmsDevice(DEV);
        vm.expectRevert(e);
        kms.removeKmsDevice(DEV);
        vm.expectRevert(e);
        kms.addOsImageHash(IMG);
        vm.expectRevert(e);
        kms.removeOsImageHash(IMG);
        vm.expectRevert(e);
        kms.deregisterApp(address(1));
        vm.expectRevert(e);
        kms.reinstateApp(address(1));
        vm.expectRevert(e);
        kms.upgradeToAndCall(v2, "");
        vm.expectRevert(e);
        kms.transferOwnership(STRANGER);
        vm.expectRevert(e);
        kms.renounceOwnership();
        vm.stopPrank();
    }

    // ------------------------------------------------------------------ registerApp
    function testRegisterAppOpenToAnyone() public {
        vm.expectRevert(strErr("Invalid app ID"));
        kms.registerApp(address(0));
        address a = address(0x1234);
        vm.recordLogs();
        vm.prank(STRANGER);
        kms.registerApp(a);
        VmLog[] memory l = vm.getRecordedLogs();
        assertEq(l.length, 2, "2 logs");
        checkLog(l[0], address(kms), keccak256("AppRegistered(address)"), abi.encode(a), "AppRegistered");
        checkPolicyLog(l[1], address(kms), STRANGER, "registered-app", addrWord(a), true);
        assertTrue(kms.registeredApps(a), "registered");
        kms.registerApp(a); // idempotent
        assertTrue(kms.registeredApps(a), "still registered");
        assertEq(uint256(vm.load(address(kms), keccak256(abi.encode(a, uint256(5))))), 1, "slot 5 mapping");
    }

    // ------------------------------------------------------------------ isKmsAllowed
    function checkKms(IAppAuth.AppBootInfo memory b, bool ok, string memory reason) internal view {
        (bool a, string memory r) = kms.isKmsAllowed(b);
        assertEq(a, ok, reason);
        assertEq(r, reason, "reason");
    }

    function testIsKmsAllowedPrecedence() public {
        IAppAuth.AppBootInfo memory b = boot(address(0), 0, DEV, IMG, "UpToDate");
        b.mrAggregated = MR;
        checkKms(b, false, "OS image is not allowed");
        b.tcbStatus = "OutOfDate";
        checkKms(b, false, "TCB status is not up to date");
        b.tcbStatus = "UpToDate";
        vm.prank(OWNER);
        kms.addOsImageHash(IMG);
        checkKms(b, false, "Aggregated MR not allowed");
        vm.prank(OWNER);
        kms.addKmsAggregatedMr(MR);
        checkKms(b, false, "KMS is not allowed to boot on this device");
        vm.prank(OWNER);
        kms.addKmsDevice(DEV);
        checkKms(b, true, "");
        b.tcbStatus = "SWHardeningNeeded";
        checkKms(b, false, "TCB status is not up to date");
        b.tcbStatus = "UPTODATE";
        checkKms(b, false, "TCB status is not up to date");
    }

    // ------------------------------------------------------------------ isAppAllowed
    function checkApp(IAppAuth.AppBootInfo memory b, bool ok, string memory reason) internal view {
        (bool a, string memory r) = kms.isAppAllowed(b);
        assertEq(a, ok, reason);
        assertEq(r, reason, "reason");
    }

    function testIsAppAllowedPrecedenceAndDelegation() public {
        ScriptedApp s = new ScriptedApp();
        s.set(false, "custom app reason", 0);
        IAppAuth.AppBootInfo memory b = boot(address(s), H1, DEV, IMG, "OutOfDate");
        checkApp(b, false, "App not registered");
        kms.registerApp(address(s));
        checkApp(b, false, "OS image is not allowed");
        vm.prank(OWNER);
        kms.addOsImageHash(IMG);
        checkApp(b, false, "custom app reason"); // app's answer verbatim, no KMS TCB check
        s.set(true, "even with a reason", 0);
        checkApp(b, true, "even with a reason");
        // registered address without code
        address eoa = address(0xE0A);
        kms.registerApp(eoa);
        b.appId = eoa;
        checkApp(b, false, "App not deployed or invalid address");
        vm.prank(OWNER);
        kms.removeOsImageHash(IMG);
        checkApp(b, false, "OS image is not allowed"); // OS image before code check
    }

    function testAppFailuresPropagate() public {
        ScriptedApp s = new ScriptedApp();
        kms.registerApp(address(s));
        vm.prank(OWNER);
        kms.addOsImageHash(IMG);
        IAppAuth.AppBootInfo memory b = boot(address(s), H1, DEV, IMG, "UpToDate");
        s.set(false, "", 1);
        vm.expectRevert(strErr("app exploded"));
        kms.isAppAllowed(b);
        s.set(false, "", 2);
        vm.expectRevert();
        kms.isAppAllowed(b);
        s.set(false, "", 3);
        vm.expectRevert();
        kms.isAppAllowed{gas: 200000}(b);
    }

    function testIsAppAllowedEndToEndWithDstackApp() public {
        vm.prank(OWNER);
        kms.addOsImageHash(IMG);
        address app = kms.deployAndRegisterApp(OWNER, false, true, false, DEV, H1);
        checkApp(boot(app, H1, DEV, IMG, "UpToDate"), true, "");
        checkApp(boot(app, H1, DEV, IMG, "OutOfDate"), false, "TCB status is not up to date");
        checkApp(boot(app, keccak256("other"), DEV, IMG, "UpToDate"), false, "Compose hash not allowed");
        checkApp(boot(app, H1, keccak256("other"), IMG, "UpToDate"), false, "Device not allowed");
        checkApp(boot(app, H1, DEV, keccak256("img2"), "UpToDate"), false, "OS image is not allowed");
    }

    function testAdvisoryIdsAndIgnoredFieldsForwarded() public {
        vm.prank(OWNER);
        kms.addOsImageHash(IMG);
        address app = kms.deployAndRegisterApp(OWNER, false, true, false, DEV, H1);
        IAppAuth.AppBootInfo memory b = boot(app, H1, DEV, IMG, "UpToDate");
        b.advisoryIds = new string[](3);
        b.advisoryIds[0] = "INTEL-SA-00828";
        b.advisoryIds[1] = "INTEL-SA-00837";
        b.advisoryIds[2] = "";
        b.instanceId = address(0x1D);
        b.mrAggregated = keccak256("mr-any");
        b.mrSystem = keccak256("sys-any");
        checkApp(b, true, "");
        b.tcbStatus = "OutOfDate";
        checkApp(b, false, "TCB status is not up to date");
        // the KMS-level answer equals the app's own answer for the same bytes
        (bool a1, string memory r1) = DstackApp(app).isAppAllowed(b);
        (bool a2, string memory r2) = kms.isAppAllowed(b);
        assertEq(a1, a2, "same decision");
        assertEq(r1, r2, "same reason");
    }

    // ------------------------------------------------------------------ ownership / upgrade
    function testTwoStepOwnershipKms() public {
        vm.recordLogs();
        vm.prank(OWNER);
        kms.transferOwnership(STRANGER);
        VmLog[] memory l = vm.getRecordedLogs();
        assertEq(l[0].topics[0], keccak256("OwnershipTransferStarted(address,address)"), "started");
        assertEq(kms.owner(), OWNER, "not yet");
        assertEq(kms.pendingOwner(), STRANGER, "pending");
        vm.prank(STRANGER);
        kms.acceptOwnership();
        assertEq(kms.owner(), STRANGER, "accepted");
        vm.prank(OWNER);
        vm.expectRevert(ownableErr(OWNER));
        kms.addOsImageHash(IMG);
    }

    function testUpgradeKms() public {
        DstackKmsV2Mock v2 = new DstackKmsV2Mock();
        vm.prank(OWNER);
        kms.addOsImageHash(IMG);
        vm.recordLogs();
        vm.prank(OWNER);
        kms.upgradeToAndCall(address(v2), abi.encodeCall(DstackKmsV2Mock.initializeV2, ()));
        VmLog[] memory l = vm.getRecordedLogs();
        checkPolicyLog(l[0], address(kms), OWNER, "implementation-upgrade", addrWord(address(v2)), true);
        assertEq(l[1].topics[0], TOPIC_UPGRADED, "Upgraded after PC");
        checkLog(l[2], address(kms), TOPIC_INITIALIZED, abi.encode(uint64(2)), "reinitialized 2");
        assertEq(DstackKmsV2Mock(address(kms)).marker(), 7, "new code");
        assertTrue(kms.allowedOsImages(IMG), "state kept");
        assertEq(kms.appImplementation(), address(appImpl), "impl kept");
    }
}
