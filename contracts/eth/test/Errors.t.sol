// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {TestBase} from "./Base.sol";
import {ERC1967Proxy} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol";
import {DstackKms} from "../src/DstackKms.sol";
import {DstackApp} from "../src/DstackApp.sol";

/// A UUPS implementation that reports the wrong proxiable UUID.
contract WrongUuidApp is DstackApp {
    function proxiableUUID() external view override notDelegated returns (bytes32) {
        return bytes32(uint256(1));
    }
}

/// Exposes an onlyInitializing parent initializer outside initialization.
contract LateInitApp is DstackApp {
    function lateInit() external {
        __Ownable_init(msg.sender);
    }
}

/// The OpenZeppelin errors of reference/ethereum.md §1.2 that the other suites do not
/// already trigger, each with its exact revert data.
contract ErrorsTest is TestBase {
    DstackApp app;
    DstackKms kms;

    function setUp() public {
        app = deployApp6(OWNER, false, false, false, keccak256("d"), keccak256("h"));
        kms = deployKms(OWNER, address(new DstackApp()));
    }

    function testUUPSUnsupportedProxiableUUID() public {
        address bad = address(new WrongUuidApp());
        vm.prank(OWNER);
        vm.expectRevert(abi.encodeWithSignature("UUPSUnsupportedProxiableUUID(bytes32)", bytes32(uint256(1))));
        app.upgradeToAndCall(bad, "");
    }

    function testSilentInitRevertIsFailedCall() public {
        address v2 = address(new DstackApp());
        vm.prank(OWNER);
        // unknown selector: the implementation reverts without data -> FailedCall()
        vm.expectRevert(abi.encodeWithSignature("FailedCall()"));
        app.upgradeToAndCall(v2, hex"deadbeef");
    }

    function testERC1967NonPayable() public {
        address impl = address(new DstackApp());
        vm.deal(address(this), 1 ether);
        vm.expectRevert(abi.encodeWithSignature("ERC1967NonPayable()"));
        new ERC1967Proxy{value: 1}(impl, "");
    }

    function testNotInitializing() public {
        LateInitApp impl = new LateInitApp();
        LateInitApp p = LateInitApp(
            address(
                new ERC1967Proxy(
                    address(impl), abi.encodeWithSelector(bytes4(0x9ed28193), OWNER, false, false, false, 0, 0)
                )
            )
        );
        vm.expectRevert(abi.encodeWithSignature("NotInitializing()"));
        p.lateInit();
    }

    function testOwnableUnauthorizedAccountDataIsExact() public {
        // the revert data is exactly selector 0x118cdaa7 + the caller, nothing else
        vm.prank(STRANGER);
        (bool ok, bytes memory ret) = address(kms).call(abi.encodeCall(DstackKms.addOsImageHash, (bytes32(0))));
        assertFalse(ok, "reverted");
        assertEq(ret, abi.encodePacked(bytes4(0x118cdaa7), uint256(uint160(STRANGER))), "exact data");
    }

    function testRevertStringsAreErrorString() public {
        (bool ok, bytes memory ret) = address(kms).call(abi.encodeCall(DstackKms.registerApp, (address(0))));
        assertFalse(ok, "reverted");
        assertEq(ret, abi.encodeWithSelector(bytes4(0x08c379a0), "Invalid app ID"), "Error(string)");
    }

    function testUpgradeInterfaceVersionAndProxiableUuidKms() public {
        assertEq(kms.UPGRADE_INTERFACE_VERSION(), "5.0.0", "UPGRADE_INTERFACE_VERSION");
        DstackKms impl = new DstackKms();
        assertEq(impl.proxiableUUID(), IMPL_SLOT, "proxiableUUID on implementation");
        vm.expectRevert(abi.encodeWithSignature("UUPSUnauthorizedCallContext()"));
        kms.proxiableUUID();
    }
}
