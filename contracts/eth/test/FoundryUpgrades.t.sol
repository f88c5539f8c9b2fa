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

    /// A proxy as a live dstack deployment has it: upstream's implementation, owned by
    /// OWNER, initialized, and `key` set to true in the mapping at `mappingSlot`.
    function upstreamProxy(address impl, bytes32 key, uint256 mappingSlot) internal returns (address proxy) {
        proxy = address(new ERC1967Proxy(impl, ""));
        vm.store(proxy, OWNER_SLOT, addrWord(OWNER));
        vm.store(proxy, INITIALIZABLE_SLOT, bytes32(uint256(1)));
        vm.store(proxy, keccak256(abi.encode(key, mappingSlot)), bytes32(uint256(1)));
    }

    /// Upstream's KMS proxy upgraded to ours by file name, with upstream's layout as the
    /// reference of the storage check.
    function test_upstreamKmsProxyUpgradedToOursByFileName() public {
        bytes32 img = bytes32(uint256(0x09));
        address proxy = upstreamProxy(address(new UpstreamDstackKms()), img, 8); // allowedOsImages
        Options memory o;
        o.referenceContract = "UpstreamLayouts.sol:UpstreamDstackKms";
        // gatewayAppId carries upstream's `@custom:oz-renamed-from tproxyAppId` (for proxies
        // from before that rename); against upstream's current layout, which already says
        // gatewayAppId, the validator reads it as a rename (as in upgrade_check.js).
        o.unsafeAllowRenames = true;
        Upgrades.upgradeProxy(proxy, "DstackKms.sol", "", o, OWNER);
        assertTrue(DstackKms(proxy).allowedOsImages(img), "upstream state read by ours");
        assertEq(DstackKms(proxy).owner(), OWNER, "owner kept");
    }

    function test_upstreamAppProxyUpgradedToOursByFileName() public {
        bytes32 hash = bytes32(uint256(0x0b));
        address proxy = upstreamProxy(address(new UpstreamDstackApp()), hash, 0); // allowedComposeHashes
        Options memory o;
        o.referenceContract = "UpstreamLayouts.sol:UpstreamDstackApp";
        Upgrades.upgradeProxy(proxy, "DstackApp.sol", "", o, OWNER);
        assertTrue(DstackApp(proxy).allowedComposeHashes(hash), "upstream state read by ours");
    }
}
