// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

// The contracts deployed and upgraded the way dstack's operators do it in Foundry:
// OpenZeppelin Foundry Upgrades (npm @openzeppelin/foundry-upgrades, pinned), which
// finds each contract by its file name and runs @openzeppelin/upgrades-core's
// upgrade-safety validation (the pinned local copy, through ffi: no download) before
// every deployment: storage layout against the reference, constructors, initializers.
// Each validation is a Node run over the build info (about 5 s of CPU), so the tests
// are few: the KMS deployed and upgraded, and upstream's KMS and app proxies upgraded
// to ours; the app's lookups by file name are in ArtifactLookup.t.sol.

import {Upgrades, Options} from "@openzeppelin/foundry-upgrades/Upgrades.sol";
import {ERC1967Proxy} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol";
import {TestBase} from "./Base.sol";
import {DstackKms} from "../src/DstackKms.sol";
import {DstackApp} from "../src/DstackApp.sol";
import {DstackKmsV2Mock} from "./DstackKms.t.sol";
import {UpstreamDstackKms, UpstreamDstackApp} from "./layout/UpstreamLayouts.sol";

contract FoundryUpgradesTest is TestBase {
    function test_kmsDeployUUPSProxyAndUpgradeProxyByFileName() public {
        address appImpl = address(new DstackApp());
        address proxy =
            Upgrades.deployUUPSProxy("DstackKms.sol", abi.encodeCall(DstackKms.initialize, (OWNER, appImpl)));
        DstackKms kms = DstackKms(proxy);
        assertEq(kms.owner(), OWNER, "owner");
        assertEq(kms.appImplementation(), appImpl, "app implementation");
        vm.prank(OWNER);
        kms.addOsImageHash(bytes32(uint256(0x05)));

        Options memory o;
        o.referenceContract = "DstackKms.sol";
        Upgrades.upgradeProxy(
            proxy, "DstackKms.t.sol:DstackKmsV2Mock", abi.encodeCall(DstackKmsV2Mock.initializeV2, ()), o, OWNER
        );
        assertEq(DstackKmsV2Mock(proxy).marker(), 7, "runs the new implementation");
        assertTrue(kms.allowedOsImages(bytes32(uint256(0x05))), "state kept across the upgrade");
    }

    /// A live dstack KMS proxy (upstream's layout) upgraded to ours by file name, with
    /// upstream's layout as the reference of the storage check.
    function test_upstreamKmsProxyUpgradedToOursByFileName() public {
        address proxy = address(new ERC1967Proxy(address(new UpstreamDstackKms()), ""));
        vm.store(proxy, OWNER_SLOT, addrWord(OWNER));
        vm.store(proxy, INITIALIZABLE_SLOT, bytes32(uint256(1)));
        vm.store(proxy, keccak256(abi.encode(bytes32(uint256(0x09)), uint256(8))), bytes32(uint256(1)));
        Options memory o;
        o.referenceContract = "UpstreamLayouts.sol:UpstreamDstackKms";
        // gatewayAppId carries upstream's `@custom:oz-renamed-from tproxyAppId` (for proxies
        // from before that rename); against upstream's current layout, which already says
        // gatewayAppId, the validator reads it as a rename (as in upgrade_check.js).
        o.unsafeAllowRenames = true;
        Upgrades.upgradeProxy(proxy, "DstackKms.sol", "", o, OWNER);
        assertTrue(DstackKms(proxy).allowedOsImages(bytes32(uint256(0x09))), "upstream state read by ours");
        assertEq(DstackKms(proxy).owner(), OWNER, "owner kept");
    }

    function test_upstreamAppProxyUpgradedToOursByFileName() public {
        address proxy = address(new ERC1967Proxy(address(new UpstreamDstackApp()), ""));
        vm.store(proxy, OWNER_SLOT, addrWord(OWNER));
        vm.store(proxy, INITIALIZABLE_SLOT, bytes32(uint256(1)));
        vm.store(proxy, keccak256(abi.encode(bytes32(uint256(0x0b)), uint256(0))), bytes32(uint256(1)));
        Options memory o;
        o.referenceContract = "UpstreamLayouts.sol:UpstreamDstackApp";
        Upgrades.upgradeProxy(proxy, "DstackApp.sol", "", o, OWNER);
        assertTrue(DstackApp(proxy).allowedComposeHashes(bytes32(uint256(0x0b))), "upstream state read by ours");
    }
}
