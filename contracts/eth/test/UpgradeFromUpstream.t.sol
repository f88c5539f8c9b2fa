// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {TestBase} from "./Base.sol";
import {ERC1967Proxy} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol";
import {DstackKms} from "../src/DstackKms.sol";
import {DstackApp} from "../src/DstackApp.sol";
import {IAppAuth} from "../src/IAppAuth.sol";
import {UpstreamDstackKms, UpstreamOldDstackApp, UpstreamDstackApp} from "./layout/UpstreamLayouts.sol";

/// A proxy that holds state in the upstream layout (written slot by slot, as a live
/// dstack proxy would have it) is upgraded to our implementation, which must read that
/// state back unchanged and keep working.
contract UpgradeFromUpstreamTest is TestBase {
    bytes32 constant H = keccak256("compose");
    bytes32 constant D = keccak256("device");
    bytes32 constant IMG = keccak256("img");

    function _proxyOf(address impl) internal returns (address p) {
        // uninitialized proxy; ownership and state are written directly below
        p = address(new ERC1967Proxy(impl, ""));
        vm.store(p, OWNER_SLOT, addrWord(OWNER));
        vm.store(p, INITIALIZABLE_SLOT, bytes32(uint256(1))); // initialized, version 1
    }

    function _mapSlot(bytes32 key, uint256 slot) internal pure returns (bytes32) {
        return keccak256(abi.encode(key, slot));
    }

    function testOldAppUpgradesToOurs() public {
        address p = _proxyOf(address(new UpstreamOldDstackApp()));
        vm.store(p, _mapSlot(H, 0), bytes32(uint256(1))); // allowedComposeHashes[H]
        vm.store(p, bytes32(uint256(1)), bytes32(uint256(0x0100))); // allowAnyDevice=true, upgrades enabled
        vm.store(p, _mapSlot(D, 2), bytes32(uint256(1))); // allowedDeviceIds[D]
        address ours = address(new DstackApp());
        vm.prank(OWNER);
        DstackApp(p).upgradeToAndCall(ours, "");
        DstackApp a = DstackApp(p);
        assertEq(a.version(), 2, "now version 2");
        assertTrue(a.allowedComposeHashes(H), "hash kept");
        assertTrue(a.allowAnyDevice(), "flag kept");
        assertTrue(a.allowedDeviceIds(D), "device kept");
        assertFalse(a.requireTcbUpToDate(), "old proxies read TCB flag false");
        assertEq(a.owner(), OWNER, "owner kept");
        (bool ok, string memory r) = a.isAppAllowed(boot(p, H, keccak256("any"), 0, "OutOfDate"));
        assertTrue(ok, r);
        // initializers stay closed; owner functions work; two-step ownership now applies
        vm.expectRevert(abi.encodeWithSignature("InvalidInitialization()"));
        a.initialize(STRANGER, false, false, false, 0, 0);
        vm.startPrank(OWNER);
        a.setRequireTcbUpToDate(true);
        a.transferOwnership(STRANGER);
        vm.stopPrank();
        assertEq(a.owner(), OWNER, "two-step: still owner");
        assertEq(a.pendingOwner(), STRANGER, "pending");
        (ok, r) = a.isAppAllowed(boot(p, H, D, 0, "OutOfDate"));
        assertEq(r, "TCB status is not up to date", "new rule active");
    }

    function testNewAppWithUpgradesDisabledStaysFrozen() public {
        address p = _proxyOf(address(new UpstreamDstackApp()));
        vm.store(p, bytes32(uint256(1)), bytes32(uint256(0x0001))); // _upgradesDisabled = true
        address ours = address(new DstackApp());
        // the stand-in's own hook does not check the flag; a real upstream proxy would
        // refuse here. Once on our implementation the flag is honoured.
        vm.prank(OWNER);
        DstackApp(p).upgradeToAndCall(ours, "");
        address next = address(new DstackApp());
        vm.prank(OWNER);
        vm.expectRevert(strErr("Upgrades are permanently disabled"));
        DstackApp(p).upgradeToAndCall(next, "");
    }

    function testUpstreamKmsUpgradesToOurs() public {
        address p = _proxyOf(address(new UpstreamDstackKms()));
        address appImpl = address(new DstackApp());
        // gatewayAppId "gw" (short string: data | len*2), registeredApps, OS image, MR, device, appImplementation
        vm.store(p, bytes32(uint256(4)), bytes32(abi.encodePacked(bytes2("gw"), bytes29(0), uint8(4))));
        address app = address(0xA99);
        vm.store(p, keccak256(abi.encode(app, uint256(5))), bytes32(uint256(1)));
        vm.store(p, _mapSlot(keccak256("mr"), 6), bytes32(uint256(1)));
        vm.store(p, _mapSlot(D, 7), bytes32(uint256(1)));
        vm.store(p, _mapSlot(IMG, 8), bytes32(uint256(1)));
        vm.store(p, bytes32(uint256(9)), addrWord(appImpl));
        address ours = address(new DstackKms());
        vm.prank(OWNER);
        DstackKms(p).upgradeToAndCall(ours, "");
        DstackKms k = DstackKms(p);
        assertEq(k.gatewayAppId(), "gw", "gateway kept");
        assertTrue(k.registeredApps(app), "registration kept");
        assertTrue(k.kmsAllowedAggregatedMrs(keccak256("mr")), "mr kept");
        assertTrue(k.kmsAllowedDeviceIds(D), "device kept");
        assertTrue(k.allowedOsImages(IMG), "image kept");
        assertEq(k.appImplementation(), appImpl, "impl kept");
        assertFalse(k.deregisteredApps(app), "namespace starts empty");
        // the factory works on the upgraded KMS
        address newApp = k.deployAndRegisterApp(OWNER, false, false, true, 0, H);
        IAppAuth.AppBootInfo memory b = boot(newApp, H, D, IMG, "UpToDate");
        (bool ok, string memory r) = k.isAppAllowed(b);
        assertTrue(ok, r);
        // and the kill switch on a pre-existing registration
        vm.prank(OWNER);
        k.deregisterApp(app);
        (ok, r) = k.isAppAllowed(boot(app, H, D, IMG, "UpToDate"));
        assertEq(r, "App deregistered", "kill switch");
    }
}
