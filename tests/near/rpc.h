/* rpc.h — NEAR JSON-RPC answered by the emulator (for tests of NEAR clients).
 *
 * nemu_rpc_handle() takes one JSON-RPC 2.0 request body and returns the
 * response body a NEAR RPC node would give for the same question, computed on
 * a nemu world (reference/near.md §5.3): `query` with request_type
 * call_function / view_account / view_code, `block`, `gas_price`. Errors use
 * the newer nodes' shape: {"error":{"name":"HANDLER_ERROR","cause":{"name":
 * "UNKNOWN_ACCOUNT"|"NO_CONTRACT_CODE"|"CONTRACT_EXECUTION_ERROR",...}}}.
 * Finality and block_id are accepted and ignored (one chain, always final).
 *
 * Test-only methods, prefixed `nemu_` (like a sandbox node's extra methods),
 * let a test set up state without signing transactions:
 *   nemu_create_account {account_id, balance}
 *   nemu_deploy {account_id, module}              (a module of the registry)
 *   nemu_call {signer_id, receiver_id, method_name, args (JSON value or string),
 *              deposit (decimal string, default "0"), gas (default 300 TGas)}
 *     → {"status": {"SuccessValue": base64} | {"Failure": {...}},
 *        "receipts_outcome": [{"outcome": {"executor_id", "logs", "status"}}]}
 * Signed transactions (send_tx / broadcast_tx_commit) are not supported.
 */
#ifndef NEMU_RPC_H
#define NEMU_RPC_H

#include <stddef.h>

#include "emu.h"

/* Returns a malloc'd JSON response (never NULL). */
char *nemu_rpc_handle(nemu *w, const char *body, size_t len);

/* Bitcoin-alphabet base58 of n bytes into out (at least 2n+1 bytes). */
void nemu_base58(const unsigned char *p, size_t n, char *out);

#endif
