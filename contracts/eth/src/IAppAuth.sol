// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";

/// @title IAppAuth — the boot-authorization question a dstack KMS asks.
/// @notice ERC-165 id 0x1e079198 (the selector of isAppAllowed, its only function).
interface IAppAuth is IERC165 {
    /// @notice What the KMS knows about a CVM that asks for keys. Field order is normative.
    struct AppBootInfo {
        address appId;
        bytes32 composeHash;
        address instanceId;
        bytes32 deviceId;
        bytes32 mrAggregated;
        bytes32 mrSystem;
        bytes32 osImageHash;
        string tcbStatus;
        string[] advisoryIds;
    }

    /// @notice Whether the described boot may receive its keys.
    /// @return isAllowed true to allow
    /// @return reason empty when allowed, otherwise why not
    function isAppAllowed(AppBootInfo calldata bootInfo) external view returns (bool isAllowed, string memory reason);
}
