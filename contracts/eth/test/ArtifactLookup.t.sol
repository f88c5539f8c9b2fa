// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

// Tools that find a contract by its file name — forge's vm.getCode("DstackKms.sol"),
// OpenZeppelin Foundry Upgrades (Upgrades.deployUUPSProxy("DstackKms.sol", ...)),
// dstack's own upgrade script — need exactly one artifact per file. These tests deploy
// and upgrade every contract through that lookup alone (no `new`), so a second
// top-level type in a source file fails them ("multiple matching artifacts found").

import {TestBase} from "./Base.sol";
import {DstackKms} from "../src/DstackKms.sol";
import {DstackApp} from "../src/DstackApp.sol";

contract ArtifactLookupTest is TestBase {
    function create(bytes memory code) internal returns (address a) {
        assembly {
            a := create(0, add(code, 0x20), mload(code))
        }
        assertTrue(a != address(0), "creation from the looked-up code");
    }

    function proxyFor(address impl, bytes memory init) internal returns (address) {
        return create(abi.encodePacked(vm.getCode("ERC1967Proxy.sol"), abi.encode(impl, init)));
    }

    function implOf(address proxy) internal view returns (address) {
        return address(uint160(uint256(vm.load(proxy, IMPL_SLOT))));
    }

    function test_everyLookupFormFindsOneArtifact() public view {
        string[9] memory names = [
            "DstackKms.sol",
            "DstackKms.sol:DstackKms",
            "DstackKms",
            "DstackApp.sol",
            "DstackApp.sol:DstackApp",
            "DstackApp",
            "ERC1967Proxy.sol",
            "out/DstackKms.sol/DstackKms.json",
            "out/DstackApp.sol/DstackApp.json"
        ];
        for (uint256 i = 0; i < names.length; i++) {
            assertTrue(vm.getCode(names[i]).length > 100, names[i]);
        }
        assertEq(keccak256(vm.getCode("DstackKms.sol")), keccak256(type(DstackKms).creationCode), "same KMS code");
        assertEq(keccak256(vm.getCode("DstackApp.sol")), keccak256(type(DstackApp).creationCode), "same app code");
    }

    function test_kmsDeployedAndUpgradedByFileName() public {
        address appImpl = create(vm.getCode("DstackApp.sol"));
        address impl = create(vm.getCode("DstackKms.sol"));
        DstackKms kms = DstackKms(proxyFor(impl, abi.encodeCall(DstackKms.initialize, (OWNER, appImpl))));
        assertEq(kms.owner(), OWNER, "owner");
        assertEq(kms.appImplementation(), appImpl, "app implementation");
        assertEq(implOf(address(kms)), impl, "implementation slot");
        vm.prank(OWNER);
        kms.addOsImageHash(bytes32(uint256(0x05)));

        address impl2 = create(vm.getCode("DstackKms.sol"));
        vm.prank(OWNER);
        kms.upgradeToAndCall(impl2, "");
        assertEq(implOf(address(kms)), impl2, "upgraded implementation slot");
        assertTrue(kms.allowedOsImages(bytes32(uint256(0x05))), "state kept across the upgrade");
        assertEq(kms.owner(), OWNER, "owner kept");

        vm.prank(STRANGER);
        vm.expectRevert(ownableErr(STRANGER));
        kms.upgradeToAndCall(impl, "");
    }

    function test_appDeployedAndUpgradedByFileName() public {
        address impl = create(vm.getCode("DstackApp.sol"));
        bytes memory init =
            abi.encodeWithSelector(bytes4(0x9ed28193), OWNER, false, false, false, bytes32(0), bytes32(uint256(7)));
        DstackApp app = DstackApp(proxyFor(impl, init));
        assertEq(app.owner(), OWNER, "owner");
        assertTrue(app.allowedComposeHashes(bytes32(uint256(7))), "initial compose hash");

        address impl2 = create(vm.getCode("DstackApp.sol:DstackApp"));
        vm.prank(OWNER);
        app.upgradeToAndCall(impl2, "");
        assertEq(implOf(address(app)), impl2, "upgraded implementation slot");
        assertTrue(app.allowedComposeHashes(bytes32(uint256(7))), "state kept across the upgrade");
    }

    function test_factoryAppsOfALookedUpKms() public {
        address appImpl = create(vm.getCode("DstackApp.sol"));
        DstackKms kms = DstackKms(
            proxyFor(create(vm.getCode("DstackKms.sol")), abi.encodeCall(DstackKms.initialize, (OWNER, appImpl)))
        );
        vm.prank(OWNER);
        address app = kms.deployAndRegisterApp(OWNER, false, true, bytes32(0), bytes32(uint256(9)));
        assertTrue(kms.registeredApps(app), "factory app registered");
        assertTrue(DstackApp(app).allowedComposeHashes(bytes32(uint256(9))), "factory app initialized");
    }
}
