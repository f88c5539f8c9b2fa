// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {TestBase, VmLog} from "./Base.sol";
import {ERC1967Proxy} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol";
import {DstackApp} from "../src/DstackApp.sol";
import {IAppAuth} from "../src/IAppAuth.sol";

contract DstackAppV2Mock is DstackApp {
    function initializeV2() external reinitializer(2) {}
    function marker() external pure returns (uint256) {
        return 42;
    }
}

contract DstackAppTest is TestBase {
    bytes32 constant H1 = keccak256("compose-1");
    bytes32 constant H2 = keccak256("compose-2");
    bytes32 constant D1 = keccak256("device-1");
    bytes32 constant D2 = keccak256("device-2");

    DstackApp app;

    function setUp() public {
        app = deployApp6(OWNER, false, false, false, D1, H1);
    }

    // ------------------------------------------------------------------ initializers
    function testInitialState() public view {
        assertEq(app.owner(), OWNER, "owner");
        assertEq(app.pendingOwner(), address(0), "pending");
        assertTrue(app.allowedComposeHashes(H1), "hash");
        assertTrue(app.allowedDeviceIds(D1), "device");
        assertFalse(app.allowAnyDevice(), "any");
        assertFalse(app.requireTcbUpToDate(), "tcb");
        assertEq(app.version(), 2, "version");
        assertEq(app.UPGRADE_INTERFACE_VERSION(), "5.0.0", "uuid ver");
        assertEq(uint256(vm.load(address(app), INITIALIZABLE_SLOT)), 1, "initialized=1");
    }

    function testInit6EventsInOrder() public {
        DstackApp impl = new DstackApp();
        vm.recordLogs();
        bytes memory init = abi.encodeWithSelector(bytes4(0x9ed28193), OWNER, false, true, false, D1, H1);
        address p = address(new ERC1967Proxy(address(impl), init));
        VmLog[] memory l = vm.getRecordedLogs();
        assertEq(l.length, 7, "log count");
        assertEq(l[0].topics[0], TOPIC_UPGRADED, "Upgraded first");
        checkLog(l[1], p, keccak256("DeviceAdded(bytes32)"), abi.encode(D1), "DeviceAdded");
        checkPolicyLog(l[2], p, address(this), "device", D1, true);
        checkLog(l[3], p, keccak256("ComposeHashAdded(bytes32)"), abi.encode(H1), "ComposeHashAdded");
        checkPolicyLog(l[4], p, address(this), "compose-hash", H1, true);
        assertEq(l[5].topics[0], TOPIC_OWNERSHIP_TRANSFERRED, "OwnershipTransferred");
        assertEq(l[5].topics[1], bytes32(0), "from 0");
        assertEq(l[5].topics[2], addrWord(OWNER), "to owner");
        checkLog(l[6], p, TOPIC_INITIALIZED, abi.encode(uint64(1)), "Initialized last");
        assertTrue(DstackApp(p).requireTcbUpToDate(), "tcb flag set");
        // slot 3 holds the flag
        assertEq(uint256(vm.load(p, bytes32(uint256(3)))), 1, "slot 3");
    }

    function testInit5LegacyAndFlagsInSlot1() public {
        DstackApp impl = new DstackApp();
        bytes memory init = abi.encodeWithSelector(bytes4(0x187515ca), OWNER, true, true, bytes32(0), bytes32(0));
        vm.recordLogs();
        DstackApp a = DstackApp(address(new ERC1967Proxy(address(impl), init)));
        VmLog[] memory l = vm.getRecordedLogs();
        assertEq(l.length, 3, "no device/hash events for zero values");
        assertFalse(a.requireTcbUpToDate(), "legacy: tcb false");
        assertTrue(a.allowAnyDevice(), "any device");
        // slot 1: byte 0 = upgradesDisabled, byte 1 = allowAnyDevice
        assertEq(uint256(vm.load(address(a), bytes32(uint256(1)))), 0x0101, "slot 1 packing");
    }

    function testInitZeroOwnerRevertsLowercase() public {
        DstackApp impl = new DstackApp();
        bytes memory init = abi.encodeWithSelector(bytes4(0x9ed28193), address(0), false, false, false, D1, H1);
        vm.expectRevert(strErr("invalid owner address"));
        new ERC1967Proxy(address(impl), init);
        init = abi.encodeWithSelector(bytes4(0x187515ca), address(0), false, false, D1, H1);
        vm.expectRevert(strErr("invalid owner address"));
        new ERC1967Proxy(address(impl), init);
    }

    function testOnlyOneInitializerSucceeds() public {
        vm.expectRevert(abi.encodeWithSignature("InvalidInitialization()"));
        app.initialize(STRANGER, false, false, bytes32(0), bytes32(0));
        vm.expectRevert(abi.encodeWithSignature("InvalidInitialization()"));
        app.initialize(STRANGER, false, false, false, bytes32(0), bytes32(0));
        DstackApp legacy = DstackApp(
            address(
                new ERC1967Proxy(
                    address(new DstackApp()),
                    abi.encodeWithSelector(bytes4(0x187515ca), OWNER, false, false, bytes32(0), bytes32(0))
                )
            )
        );
        vm.expectRevert(abi.encodeWithSignature("InvalidInitialization()"));
        legacy.initialize(STRANGER, false, true, false, bytes32(0), bytes32(0));
    }

    function testImplementationCannotBeInitialized() public {
        DstackApp impl = new DstackApp();
        vm.expectRevert(abi.encodeWithSignature("InvalidInitialization()"));
        impl.initialize(OWNER, false, false, false, bytes32(0), bytes32(0));
        vm.expectRevert(abi.encodeWithSignature("InvalidInitialization()"));
        impl.initialize(OWNER, false, false, bytes32(0), bytes32(0));
    }

    // ------------------------------------------------------------------ ERC-165
    function testSupportsInterface() public view {
        assertTrue(app.supportsInterface(0x1e079198), "IAppAuth");
        assertTrue(app.supportsInterface(0x8fd37527), "IAppAuthBasicManagement");
        assertTrue(app.supportsInterface(0x01ffc9a7), "IERC165");
        assertFalse(app.supportsInterface(0xffffffff), "0xffffffff");
        assertFalse(app.supportsInterface(0x12345678), "random");
    }

    // ------------------------------------------------------------------ management
    function testAddRemoveComposeHash() public {
        vm.recordLogs();
        vm.prank(OWNER);
        app.addComposeHash(H2);
        VmLog[] memory l = vm.getRecordedLogs();
        assertEq(l.length, 2, "two logs");
        checkLog(l[0], address(app), keccak256("ComposeHashAdded(bytes32)"), abi.encode(H2), "added");
        checkPolicyLog(l[1], address(app), OWNER, "compose-hash", H2, true);
        assertTrue(app.allowedComposeHashes(H2), "added");
        vm.prank(OWNER);
        app.removeComposeHash(H2);
        l = vm.getRecordedLogs();
        checkLog(l[0], address(app), keccak256("ComposeHashRemoved(bytes32)"), abi.encode(H2), "removed");
        checkPolicyLog(l[1], address(app), OWNER, "compose-hash", H2, false);
        assertFalse(app.allowedComposeHashes(H2), "removed");
    }

    function testAddRemoveDevice() public {
        vm.recordLogs();
        vm.prank(OWNER);
        app.addDevice(D2);
        VmLog[] memory l = vm.getRecordedLogs();
        checkLog(l[0], address(app), keccak256("DeviceAdded(bytes32)"), abi.encode(D2), "added");
        checkPolicyLog(l[1], address(app), OWNER, "device", D2, true);
        assertTrue(app.allowedDeviceIds(D2), "added");
        vm.prank(OWNER);
        app.removeDevice(D2);
        l = vm.getRecordedLogs();
        checkLog(l[0], address(app), keccak256("DeviceRemoved(bytes32)"), abi.encode(D2), "removed");
        checkPolicyLog(l[1], address(app), OWNER, "device", D2, false);
        assertFalse(app.allowedDeviceIds(D2), "removed");
    }

    function testFlagsSetters() public {
        vm.recordLogs();
        vm.prank(OWNER);
        app.setAllowAnyDevice(true);
        VmLog[] memory l = vm.getRecordedLogs();
        checkLog(l[0], address(app), keccak256("AllowAnyDeviceSet(bool)"), abi.encode(true), "any");
        checkPolicyLog(l[1], address(app), OWNER, "allow-any-device", bytes32(0), true);
        assertTrue(app.allowAnyDevice(), "any set");
        vm.prank(OWNER);
        app.setRequireTcbUpToDate(true);
        l = vm.getRecordedLogs();
        checkLog(l[0], address(app), keccak256("RequireTcbUpToDateSet(bool)"), abi.encode(true), "tcb");
        checkPolicyLog(l[1], address(app), OWNER, "require-tcb-up-to-date", bytes32(0), true);
        assertTrue(app.requireTcbUpToDate(), "tcb set");
        vm.prank(OWNER);
        app.setRequireTcbUpToDate(false);
        l = vm.getRecordedLogs();
        checkPolicyLog(l[1], address(app), OWNER, "require-tcb-up-to-date", bytes32(0), false);
        assertFalse(app.requireTcbUpToDate(), "tcb cleared");
    }

    function testOnlyOwnerEverywhere() public {
        bytes memory e = ownableErr(STRANGER);
        vm.startPrank(STRANGER);
        vm.expectRevert(e);
        app.addComposeHash(H2);
        vm.expectRevert(e);
        app.removeComposeHash(H1);
        vm.expectRevert(e);
        app.addDevice(D2);
        vm.expectRevert(e);
        app.removeDevice(D1);
        vm.expectRevert(e);
        app.setAllowAnyDevice(true);
        vm.expectRevert(e);
        app.setRequireTcbUpToDate(true);
        vm.expectRevert(e);
        app.disableUpgrades();
        address newImpl = address(new DstackApp());
        vm.expectRevert(e);
        app.upgradeToAndCall(newImpl, "");
        vm.expectRevert(e);
        app.transferOwnership(STRANGER);
        vm.expectRevert(e);
        app.renounceOwnership();
        vm.stopPrank();
    }

    // ------------------------------------------------------------------ isAppAllowed
    function check(IAppAuth.AppBootInfo memory b, bool ok, string memory reason) internal view {
        (bool a, string memory r) = app.isAppAllowed(b);
        assertEq(a, ok, reason);
        assertEq(r, reason, "reason");
    }

    function testIsAppAllowedReasonsAndPrecedence() public {
        check(boot(address(app), H1, D1, bytes32(0), ""), true, "");
        check(boot(address(0x1234), H1, D1, keccak256("x"), "OutOfDate"), true, ""); // appId, os, tcb ignored
        check(boot(address(app), H2, D1, 0, "UpToDate"), false, "Compose hash not allowed");
        check(boot(address(app), H1, D2, 0, "UpToDate"), false, "Device not allowed");
        check(boot(address(app), H2, D2, 0, "UpToDate"), false, "Compose hash not allowed"); // hash before device
        vm.prank(OWNER);
        app.setRequireTcbUpToDate(true);
        check(boot(address(app), H2, D2, 0, "OutOfDate"), false, "TCB status is not up to date"); // tcb first
        check(boot(address(app), H1, D1, 0, "uptodate"), false, "TCB status is not up to date"); // case-sensitive
        check(boot(address(app), H1, D1, 0, ""), false, "TCB status is not up to date");
        check(boot(address(app), H1, D1, 0, "UpToDate "), false, "TCB status is not up to date");
        check(boot(address(app), H1, D1, 0, "UpToDate"), true, "");
        vm.prank(OWNER);
        app.setAllowAnyDevice(true);
        check(boot(address(app), H1, D2, 0, "UpToDate"), true, "");
        vm.prank(OWNER);
        app.removeDevice(D1); // no effect under allowAnyDevice
        check(boot(address(app), H1, D1, 0, "UpToDate"), true, "");
    }

    // ------------------------------------------------------------------ ownership
    function testTwoStepOwnership() public {
        vm.prank(OWNER);
        app.transferOwnership(STRANGER);
        assertEq(app.owner(), OWNER, "owner unchanged");
        assertEq(app.pendingOwner(), STRANGER, "pending");
        assertEq(vm.load(address(app), PENDING_OWNER_SLOT), addrWord(STRANGER), "pending slot");
        vm.prank(address(0xCAFE));
        vm.expectRevert(ownableErr(address(0xCAFE)));
        app.acceptOwnership();
        vm.prank(STRANGER);
        app.acceptOwnership();
        assertEq(app.owner(), STRANGER, "accepted");
        assertEq(app.pendingOwner(), address(0), "pending cleared");
        assertEq(vm.load(address(app), OWNER_SLOT), addrWord(STRANGER), "owner slot");
        vm.prank(STRANGER);
        app.renounceOwnership();
        assertEq(app.owner(), address(0), "renounced");
    }

    // ------------------------------------------------------------------ upgrades
    function testUpgradeAndDisable() public {
        DstackAppV2Mock v2 = new DstackAppV2Mock();
        vm.recordLogs();
        vm.prank(OWNER);
        app.upgradeToAndCall(address(v2), abi.encodeCall(DstackAppV2Mock.initializeV2, ()));
        VmLog[] memory l = vm.getRecordedLogs();
        checkPolicyLog(l[0], address(app), OWNER, "implementation-upgrade", addrWord(address(v2)), true);
        assertEq(l[1].topics[0], TOPIC_UPGRADED, "Upgraded after PC");
        assertEq(l[1].topics[1], addrWord(address(v2)), "Upgraded arg");
        assertEq(vm.load(address(app), IMPL_SLOT), addrWord(address(v2)), "impl slot");
        assertEq(DstackAppV2Mock(address(app)).marker(), 42, "new code");
        assertTrue(app.allowedComposeHashes(H1), "state kept");

        vm.prank(OWNER);
        vm.recordLogs();
        app.disableUpgrades();
        l = vm.getRecordedLogs();
        checkLog(l[0], address(app), keccak256("UpgradesDisabled()"), "", "UpgradesDisabled");
        checkPolicyLog(l[1], address(app), OWNER, "upgrades-disabled", bytes32(0), true);
        vm.prank(OWNER);
        app.disableUpgrades(); // re-callable
        DstackApp v3 = new DstackApp();
        vm.prank(OWNER);
        vm.expectRevert(strErr("Upgrades are permanently disabled"));
        app.upgradeToAndCall(address(v3), "");
        // access control comes before the disabled check
        vm.prank(STRANGER);
        vm.expectRevert(ownableErr(STRANGER));
        app.upgradeToAndCall(address(v3), "");
    }

    function testUpgradeGuards() public {
        // a contract without proxiableUUID is not a UUPS implementation
        vm.prank(OWNER);
        vm.expectRevert(abi.encodeWithSignature("ERC1967InvalidImplementation(address)", address(this)));
        app.upgradeToAndCall(address(this), "");
        DstackApp impl = new DstackApp();
        vm.expectRevert(abi.encodeWithSignature("UUPSUnauthorizedCallContext()"));
        impl.upgradeToAndCall(address(impl), "");
        vm.expectRevert(abi.encodeWithSignature("UUPSUnauthorizedCallContext()"));
        app.proxiableUUID();
        assertEq(impl.proxiableUUID(), IMPL_SLOT, "proxiableUUID");
    }

    function testDisableUpgradesAtInit() public {
        DstackApp a = deployApp6(OWNER, true, false, false, 0, 0);
        address v2 = address(new DstackApp());
        vm.prank(OWNER);
        vm.expectRevert(strErr("Upgrades are permanently disabled"));
        a.upgradeToAndCall(v2, "");
    }

    // ------------------------------------------------------------------ multicall (extension)
    function testMulticallRotateComposeHash() public {
        bytes[] memory calls = new bytes[](2);
        calls[0] = abi.encodeCall(DstackApp.addComposeHash, (H2));
        calls[1] = abi.encodeCall(DstackApp.removeComposeHash, (H1));
        vm.recordLogs();
        vm.prank(OWNER);
        app.multicall(calls);
        VmLog[] memory l = vm.getRecordedLogs();
        assertEq(l.length, 4, "4 logs");
        checkPolicyLog(l[1], address(app), OWNER, "compose-hash", H2, true);
        checkPolicyLog(l[3], address(app), OWNER, "compose-hash", H1, false);
        assertTrue(app.allowedComposeHashes(H2), "new");
        assertFalse(app.allowedComposeHashes(H1), "old gone");
        // not the owner: the whole batch reverts with the inner error
        vm.prank(STRANGER);
        vm.expectRevert(ownableErr(STRANGER));
        app.multicall(calls);
    }
}
