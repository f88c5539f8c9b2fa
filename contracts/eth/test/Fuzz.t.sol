// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {TestBase} from "./Base.sol";
import {DstackKms} from "../src/DstackKms.sol";
import {DstackApp} from "../src/DstackApp.sol";
import {IAppAuth} from "../src/IAppAuth.sol";

/// Fuzz isAppAllowed (KMS + app) and isKmsAllowed against a plain model of the rules
/// in reference/ethereum.md §1.3–1.4, over random whitelists, flags and boot infos.
contract FuzzTest is TestBase {
    DstackKms kms;

    function setUp() public {
        kms = deployKms(OWNER, address(new DstackApp()));
    }

    function _tcb(uint256 pick) internal pure returns (string memory) {
        string[6] memory t = ["UpToDate", "OutOfDate", "SWHardeningNeeded", "uptodate", "", "UpToDate\x00"];
        return t[pick % 6];
    }

    // ------------------------------------------------------------------ models
    struct AppCase {
        uint8 reg; // 0 never registered, 1 registered, 2 deregistered by the KMS owner
        bool osOk;
        bool deployed;
        bool requireTcb;
        bool tcbOk;
        bool hashOk;
        bool anyDevice;
        bool deviceOk;
    }

    function modelApp(AppCase memory c) internal pure returns (bool, string memory) {
        if (c.reg != 1) return (false, c.reg == 2 ? "App deregistered" : "App not registered");
        if (!c.osOk) return (false, "OS image is not allowed");
        if (!c.deployed) return (false, "App not deployed or invalid address");
        if (c.requireTcb && !c.tcbOk) return (false, "TCB status is not up to date");
        if (!c.hashOk) return (false, "Compose hash not allowed");
        if (!c.anyDevice && !c.deviceOk) return (false, "Device not allowed");
        return (true, "");
    }

    function modelKms(bool tcbOk, bool osOk, bool mrOk, bool devOk) internal pure returns (bool, string memory) {
        if (!tcbOk) return (false, "TCB status is not up to date");
        if (!osOk) return (false, "OS image is not allowed");
        if (!mrOk) return (false, "Aggregated MR not allowed");
        if (!devOk) return (false, "KMS is not allowed to boot on this device");
        return (true, "");
    }

    // ------------------------------------------------------------------ fuzz
    function _setupApp(AppCase memory c, uint256 bits, bytes32 hash, bytes32 dev) internal returns (address appId) {
        if (c.deployed) {
            // the factory registers the app: "never registered" is not reachable
            if (c.reg == 0) c.reg = 1;
            appId = kms.deployAndRegisterApp(OWNER, false, c.requireTcb, c.anyDevice, bytes32(0), bytes32(0));
            vm.startPrank(OWNER);
            if (c.hashOk) DstackApp(appId).addComposeHash(hash);
            if (c.deviceOk) DstackApp(appId).addDevice(dev);
            // a hash/device added and removed again must not count
            if (!c.hashOk && bits & 0x10000 != 0) {
                DstackApp(appId).addComposeHash(hash);
                DstackApp(appId).removeComposeHash(hash);
            }
            if (!c.deviceOk && bits & 0x20000 != 0) {
                DstackApp(appId).addDevice(dev);
                DstackApp(appId).removeDevice(dev);
            }
            vm.stopPrank();
        } else {
            appId = address(uint160(uint256(keccak256(abi.encode(bits, hash)))) | 1);
            if (c.reg != 0) kms.registerApp(appId);
        }
        if (c.reg == 2) {
            vm.prank(OWNER);
            kms.deregisterApp(appId);
        }
    }

    function testFuzzIsAppAllowed(uint256 bits, bytes32 hash, bytes32 dev, bytes32 img, bytes32 mr, address inst)
        public
    {
        AppCase memory c;
        c.reg = uint8(bits % 3);
        c.osOk = bits & 4 != 0;
        c.deployed = bits & 8 != 0;
        c.requireTcb = bits & 16 != 0;
        c.hashOk = bits & 32 != 0;
        c.anyDevice = bits & 64 != 0;
        c.deviceOk = bits & 128 != 0;
        c.tcbOk = (bits >> 8) % 6 == 0;
        address appId = _setupApp(c, bits, hash, dev);
        if (c.osOk) {
            vm.prank(OWNER);
            kms.addOsImageHash(img);
        }
        IAppAuth.AppBootInfo memory b = boot(appId, hash, dev, img, _tcb(bits >> 8));
        b.mrAggregated = mr; // ignored by both levels
        b.instanceId = inst; // ignored
        b.mrSystem = keccak256(abi.encode(mr)); // ignored
        (bool ok, string memory r) = kms.isAppAllowed(b);
        (bool mok, string memory mr_) = modelApp(c);
        assertEq(ok, mok, "isAllowed matches model");
        assertEq(r, mr_, "reason matches model");
    }

    function testFuzzIsKmsAllowed(uint8 bits, uint8 tcbPick, bytes32 img, bytes32 mr, bytes32 dev, bytes32 other) public {
        vm.assume(other != img && other != mr && other != dev);
        bool osOk = bits & 1 != 0;
        bool mrOk = bits & 2 != 0;
        bool devOk = bits & 4 != 0;
        vm.startPrank(OWNER);
        // whitelist a decoy value always, the real one only when the model says so
        kms.addOsImageHash(other);
        kms.addKmsAggregatedMr(other);
        kms.addKmsDevice(other);
        if (osOk) kms.addOsImageHash(img);
        if (mrOk) kms.addKmsAggregatedMr(mr);
        if (devOk) kms.addKmsDevice(dev);
        // added then removed must count as not allowed
        if (!devOk && bits & 8 != 0) {
            kms.addKmsDevice(dev);
            kms.removeKmsDevice(dev);
        }
        vm.stopPrank();
        IAppAuth.AppBootInfo memory b = boot(address(uint160(bits)), other, dev, img, _tcb(tcbPick));
        b.mrAggregated = mr;
        (bool ok, string memory r) = kms.isKmsAllowed(b);
        (bool mok, string memory mr_) = modelKms(tcbPick % 6 == 0, osOk, mrOk, devOk);
        assertEq(ok, mok, "isAllowed matches model");
        assertEq(r, mr_, "reason matches model");
    }
}
