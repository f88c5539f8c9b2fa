// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title ERC1967MinimalProxy — creation code of the smallest standard ERC-1967 proxy.
/// @notice The factory in DstackKms deploys every app behind this proxy instead of
/// OpenZeppelin's ERC1967Proxy: 57 bytes of runtime code instead of several hundred,
/// which is most of the factory's gas saving. It is still a standard ERC-1967 proxy:
/// the implementation lives in the ERC-1967 slot, the constructor emits
/// `Upgraded(implementation)`, and UUPS upgrades go through the implementation
/// (`upgradeToAndCall`), so explorers and upgrade tools recognise it.
///
/// Creation code (89 bytes, then the implementation as one ABI word):
///   PUSH1 32, DUP1, CODESIZE, SUB, PUSH0, CODECOPY      ; mem[0..32] = last word (impl)
///   PUSH0, MLOAD, DUP1, PUSH32 slot, SSTORE             ; sstore(ERC1967 slot, impl)
///   PUSH32 Upgraded, PUSH0, PUSH0, LOG2                 ; emit Upgraded(impl)
///   PUSH1 57, DUP1, PUSH1 89, PUSH0, CODECOPY, PUSH0, RETURN
/// Runtime code (57 bytes): copy calldata, DELEGATECALL sload(slot) with all gas,
/// copy the return data, then REVERT or RETURN with it (stack arranged once for
/// both: PUSH0 RETURNDATASIZE SWAP2 before JUMPI). Uses PUSH0 (Shanghai+).
/// The initializer is not run by the constructor: the factory calls it in the same
/// transaction, right after creation, so nobody can initialize the proxy first.
library ERC1967MinimalProxy {
    /// @notice Runtime code of every proxy made from {creationCode}.
    bytes internal constant RUNTIME =
        hex"365f5f375f5f365f7f360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc545af43d5f803e5f3d91603757fd5bf3";

    /// @notice Creation code without the trailing implementation word.
    bytes internal constant CREATION_PREFIX =
        hex"60208038035f395f5180"
        hex"7f360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc55"
        hex"7fbc7cd75a20ee27fd9adebab32041f755214dbc6bffa90cc0225b39da2e5c2d3b5f5fa2"
        hex"60398060595f395ff3"
        hex"365f5f375f5f365f7f360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc545af43d5f803e5f3d91603757fd5bf3";

    /// @notice Full creation code of a proxy pointing at `implementation`.
    function creationCode(address implementation) internal pure returns (bytes memory code) {
        bytes memory prefix = CREATION_PREFIX;
        // Append the implementation word in place: the prefix was just materialised at
        // the free-memory pointer, so grow it by 32 bytes instead of copying it again.
        assembly ("memory-safe") {
            let len := mload(prefix)
            mstore(add(add(prefix, 0x20), len), implementation)
            mstore(prefix, add(len, 0x20))
            mstore(0x40, and(add(add(prefix, 0x5f), len), not(0x1f)))
            code := prefix
        }
    }
}
