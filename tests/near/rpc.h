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
 *   nemu_create_account also takes "public_key": "ed25519:<base58>" for a real key.
 *
 * Signed transactions: send_tx {signed_tx_base64, wait_until} and
 * broadcast_tx_commit ([base64] or {signed_tx_base64}) take a borsh
 * SignedTransaction (TransactionV0, actions 0-7 except Stake), check the access
 * key, nonce, recent block hash and the ed25519 signature over
 * sha256(transaction), run it to the end and answer a FinalExecutionOutcome;
 * `tx` {tx_hash, sender_account_id} returns it again. query view_access_key
 * gives {nonce, permission}.
 */
#ifndef NEMU_RPC_H
#define NEMU_RPC_H

#include <stddef.h>

#include "emu.h"

typedef struct nemu_rpc nemu_rpc;

#define NEMU_PROTOCOL_VERSION 73 /* reported; nemu follows the rules it documents */
#define NEMU_VALIDITY_BLOCKS 100 /* transaction_validity_period (nearcore localnet) */

typedef struct {
    unsigned block_ms;        /* a new block every block_ms of wall time; 0 = only on demand */
    uint64_t validity_blocks; /* transaction_validity_period; 0 = NEMU_VALIDITY_BLOCKS */
    const char *chain_id;     /* NULL = "localnet" */
} nemu_rpc_opts;

/* An RPC endpoint over world w (which it does not own). */
nemu_rpc *nemu_rpc_new(nemu *w);
nemu_rpc *nemu_rpc_new_opts(nemu *w, const nemu_rpc_opts *o);
void nemu_rpc_free(nemu_rpc *r);
/* Returns a malloc'd JSON response (never NULL). */
char *nemu_rpc_handle(nemu_rpc *r, const char *body, size_t len);

/* Bitcoin-alphabet base58 of n bytes into out (at least 2n+1 bytes). */
void nemu_base58(const unsigned char *p, size_t n, char *out);
/* Decode base58 into out (at most cap bytes); returns the length or -1. */
int nemu_base58_decode(const char *s, unsigned char *out, size_t cap);

#endif
