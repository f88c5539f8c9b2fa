// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title ERC1967MinimalProxy — creation code of the smallest standard ERC-1967 proxy.
/// @notice The factory in DstackKms deploys every app behind this proxy instead of
/// OpenZeppelin's ERC1967Proxy: 61 bytes of runtime code instead of several hundred,
/// which is most of the factory's gas saving. It is still a standard ERC-1967 proxy:
/// the implementation lives in the ERC-1967 slot, the constructor emits
/// `Upgraded(implementation)`, and UUPS upgrades go through the implementation
/// (`upgradeToAndCall`), so explorers and upgrade tools recognise it.
///
/// Creation code (94 bytes, then the implementation as one ABI word):
///   PUSH1 32, DUP1, CODESIZE, SUB, PUSH1 0, CODECOPY    ; mem[0..32] = last word (impl)
///   PUSH1 0, MLOAD, DUP1, PUSH32 slot, SSTORE           ; sstore(ERC1967 slot, impl)
///   PUSH32 Upgraded, PUSH1 0, DUP1, LOG2                ; emit Upgraded(impl)
///   PUSH1 61, DUP1, PUSH1 94, PUSH1 0, CODECOPY, PUSH1 0, RETURN
/// Runtime code (61 bytes): copy calldata, DELEGATECALL sload(slot) with all gas,
/// copy the return data, then REVERT or RETURN with it.
/// The initializer is not run by the constructor: the factory calls it in the same
/// transaction, right after creation, so nobody can initialize the proxy first.
library ERC1967MinimalProxy {
    /// @notice Runtime code of every proxy made from {creationCode}.
    bytes internal constant RUNTIME =
        hex"363d3d373d3d363d7f360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc545af43d6000803e6038573d6000fd5b3d6000f3";

    /// @notice Creation code without the trailing implementation word.
    bytes internal constant CREATION_PREFIX =
        hex"602080380360003960005180"
        hex"7f360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc55"
        hex"7fbc7cd75a20ee27fd9adebab32041f755214dbc6bffa90cc0225b39da2e5c2d3b600080a2"
        hex"603d80605e6000396000f3"
        hex"363d3d373d3d363d7f360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc545af43d6000803e6038573d6000fd5b3d6000f3";

    /// @notice Full creation code of a proxy pointing at `implementation`.
    function creationCode(address implementation) internal pure returns (bytes memory) {
        return abi.encodePacked(CREATION_PREFIX, uint256(uint160(implementation)));
    }
}
