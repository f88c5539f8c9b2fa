// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

// A small test base on forge's cheatcode interface (forge-std is not available
// offline). Assertions revert with a message, which forge reports as a failure.

import {ERC1967Proxy} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol";
import {DstackKms} from "../src/DstackKms.sol";
import {DstackApp} from "../src/DstackApp.sol";
import {IAppAuth} from "../src/IAppAuth.sol";

struct VmLog {
    bytes32[] topics;
    bytes data;
    address emitter;
}

interface Vm {
    function prank(address sender) external;
    function startPrank(address sender) external;
    function stopPrank() external;
    function expectRevert(bytes calldata revertData) external;
    function expectRevert(bytes4 revertData) external;
    function expectRevert() external;
    function expectEmit(bool checkTopic1, bool checkTopic2, bool checkTopic3, bool checkData, address emitter) external;
    function recordLogs() external;
    function getRecordedLogs() external returns (VmLog[] memory logs);
    function load(address target, bytes32 slot) external view returns (bytes32 data);
    function store(address target, bytes32 slot, bytes32 value) external;
    function deal(address account, uint256 newBalance) external;
    function assume(bool condition) external pure;
    function etch(address target, bytes calldata newRuntimeBytecode) external;
    function getNonce(address account) external view returns (uint64 nonce);
    function getCode(string calldata artifactPath) external view returns (bytes memory creationBytecode);
}

abstract contract TestBase {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    bytes32 internal constant IMPL_SLOT = 0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc;
    bytes32 internal constant OWNER_SLOT = 0x9016d09d72d40fdae2fd8ceac6b6234c7706214fd39c1cd1e609a0528c199300;
    bytes32 internal constant PENDING_OWNER_SLOT = 0x237e158222e3e6968b72b9db0d8043aacf074ad9f650f0d1606b4d82ee432c00;
    bytes32 internal constant INITIALIZABLE_SLOT = 0xf0c57e16840df040f15088dc2f81fe391c3923bec73e23a9662efc9c229c6a00;

    bytes32 internal constant TOPIC_POLICY_CHANGED = keccak256("PolicyChanged(address,bytes32,bytes32,bool)");
    bytes32 internal constant TOPIC_UPGRADED = keccak256("Upgraded(address)");
    bytes32 internal constant TOPIC_OWNERSHIP_TRANSFERRED = keccak256("OwnershipTransferred(address,address)");
    bytes32 internal constant TOPIC_INITIALIZED = keccak256("Initialized(uint64)");

    address internal constant OWNER = address(0xA11CE);
    address internal constant STRANGER = address(0xBAD);

    // ------------------------------------------------------------------ assertions
    function fail(string memory what) internal pure {
        revert(string.concat("assertion failed: ", what));
    }

    function assertTrue(bool c, string memory what) internal pure {
        if (!c) fail(what);
    }

    function assertFalse(bool c, string memory what) internal pure {
        if (c) fail(what);
    }

    function assertEq(uint256 a, uint256 b, string memory what) internal pure {
        if (a != b) fail(string.concat(what, ": ", _u(a), " != ", _u(b)));
    }

    function assertEq(address a, address b, string memory what) internal pure {
        if (a != b) fail(string.concat(what, ": address mismatch"));
    }

    function assertEq(bytes32 a, bytes32 b, string memory what) internal pure {
        if (a != b) fail(string.concat(what, ": bytes32 mismatch"));
    }

    function assertEq(bool a, bool b, string memory what) internal pure {
        if (a != b) fail(string.concat(what, ": bool mismatch"));
    }

    function assertEq(string memory a, string memory b, string memory what) internal pure {
        if (keccak256(bytes(a)) != keccak256(bytes(b))) fail(string.concat(what, ": \"", a, "\" != \"", b, "\""));
    }

    function assertEq(bytes memory a, bytes memory b, string memory what) internal pure {
        if (keccak256(a) != keccak256(b)) fail(string.concat(what, ": bytes mismatch"));
    }

    function assertLe(uint256 a, uint256 b, string memory what) internal pure {
        if (a > b) fail(string.concat(what, ": ", _u(a), " > ", _u(b)));
    }

    function _u(uint256 v) internal pure returns (string memory) {
        if (v == 0) return "0";
        bytes memory b;
        while (v != 0) {
            b = abi.encodePacked(bytes1(uint8(48 + (v % 10))), b);
            v /= 10;
        }
        return string(b);
    }

    // ------------------------------------------------------------------ helpers
    function ownableErr(address who) internal pure returns (bytes memory) {
        return abi.encodeWithSignature("OwnableUnauthorizedAccount(address)", who);
    }

    function strErr(string memory s) internal pure returns (bytes memory) {
        return abi.encodeWithSignature("Error(string)", s);
    }

    function policy(string memory key) internal pure returns (bytes32) {
        return keccak256(bytes(key));
    }

    function addrWord(address a) internal pure returns (bytes32) {
        return bytes32(uint256(uint160(a)));
    }

    /// Check that `l` is PolicyChanged(actor, keccak(key), value, enabled) from `emitter`.
    function checkPolicyLog(VmLog memory l, address emitter, address actor, string memory key, bytes32 value, bool enabled)
        internal
        pure
    {
        assertEq(l.emitter, emitter, string.concat("PC emitter ", key));
        assertEq(l.topics.length, 4, "PC topics");
        assertEq(l.topics[0], TOPIC_POLICY_CHANGED, string.concat("PC topic0 ", key));
        assertEq(l.topics[1], addrWord(actor), string.concat("PC actor ", key));
        assertEq(l.topics[2], policy(key), string.concat("PC key ", key));
        assertEq(l.topics[3], value, string.concat("PC value ", key));
        assertEq(abi.decode(l.data, (bool)), enabled, string.concat("PC enabled ", key));
    }

    function checkLog(VmLog memory l, address emitter, bytes32 topic0, bytes memory data, string memory what) internal pure {
        assertEq(l.emitter, emitter, string.concat(what, " emitter"));
        assertEq(l.topics[0], topic0, string.concat(what, " topic0"));
        assertEq(l.data, data, string.concat(what, " data"));
    }

    function boot(address appId, bytes32 composeHash, bytes32 deviceId, bytes32 osImage, string memory tcb)
        internal
        pure
        returns (IAppAuth.AppBootInfo memory b)
    {
        b.appId = appId;
        b.composeHash = composeHash;
        b.deviceId = deviceId;
        b.osImageHash = osImage;
        b.tcbStatus = tcb;
        b.advisoryIds = new string[](0);
    }

    function deployKms(address owner, address appImpl) internal returns (DstackKms kms) {
        DstackKms impl = new DstackKms();
        kms = DstackKms(
            address(new ERC1967Proxy(address(impl), abi.encodeCall(DstackKms.initialize, (owner, appImpl))))
        );
    }

    function deployApp6(address owner, bool disableUpg, bool tcb, bool anyDevice, bytes32 dev, bytes32 hash)
        internal
        returns (DstackApp app)
    {
        DstackApp impl = new DstackApp();
        bytes memory init = abi.encodeWithSelector(bytes4(0x9ed28193), owner, disableUpg, tcb, anyDevice, dev, hash);
        app = DstackApp(address(new ERC1967Proxy(address(impl), init)));
    }
}
