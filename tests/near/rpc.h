/* rpc.h — NEAR JSON-RPC answered by nemu, an EMULATION of the NEAR runtime
 * (not nearcore), for tests of NEAR clients.
 *
 * nemu_rpc_handle() takes one JSON-RPC 2.0 request body and returns the
 * response body nearcore would give, in nearcore's shapes (the list, with the
 * error forms, is in tests/near/README.md): query (call_function,
 * view_account, view_code, view_access_key) by finality or block_id over the
 * world's block history, block, status, gas_price,
 * EXPERIMENTAL_protocol_config, send_tx / broadcast_tx_commit /
 * broadcast_tx_async, tx / EXPERIMENTAL_tx_status. Signed transactions are
 * borsh SignedTransactions (TransactionV0, actions 0-7 except Stake): key,
 * nonce, block hash age (transaction_validity_period) and the ed25519
 * signature over sha256(transaction) are checked, then nemu runs them and
 * the answer is a FinalExecutionOutcomeView.
 *
 * Test-only methods, prefixed `nemu_` (like a sandbox node's extra methods),
 * set up state without signing; the chain then runs two blocks so the change
 * is final at once:
 *   nemu_create_account {account_id, balance, public_key?}
 *   nemu_deploy {account_id, module}              (a module of the registry)
 *   nemu_call {signer_id, receiver_id, method_name, args (JSON value or string),
 *              deposit (decimal string, default "0"), gas (default 300 TGas)}
 *     → {"status": {"SuccessValue": base64} | {"Failure": {...}} | "Started",
 *        "receipts_outcome": [{"outcome": {"executor_id", "logs", "status"}}]}
 *   nemu_advance_blocks {blocks}   fast-forward (yield timeouts in a test)
 *   nemu_set_time {unix_seconds}   move the clock forward
 *
 * A transaction whose receipt tree is still open (a yield waits for its
 * resume) is answered like nearcore: send_tx / broadcast_tx_commit / tx with
 * wait_until EXECUTED_OPTIMISTIC, EXECUTED or FINAL wait until it finishes or
 * tx_timeout_ms passes (then the TIMEOUT_ERROR error); INCLUDED_FINAL gives
 * the outcome so far (status "Started"). nemu_rpc_handle cannot wait: it
 * answers TIMEOUT_ERROR at once; nemu_rpc_handle_async returns NULL and a
 * waiter to poll instead.
 */
#ifndef NEMU_RPC_H
#define NEMU_RPC_H

#include <stddef.h>

#include "emu.h"

typedef struct nemu_rpc nemu_rpc;

#define NEMU_PROTOCOL_VERSION 73 /* reported; nemu follows the rules it documents */
#define NEMU_VALIDITY_BLOCKS 100 /* transaction_validity_period (nearcore localnet) */
#define NEMU_TX_TIMEOUT_MS 10000 /* nearcore's RPC polling_timeout (10 s) */

typedef struct {
    unsigned block_ms;        /* a new block every block_ms of wall time; 0 = only on demand */
    uint64_t validity_blocks; /* transaction_validity_period; 0 = NEMU_VALIDITY_BLOCKS */
    const char *chain_id;     /* NULL = "localnet" */
    unsigned tx_timeout_ms;   /* how long a request waits for an outcome; 0 = 10 s */
} nemu_rpc_opts;

/* An RPC endpoint over world w (which it does not own). */
nemu_rpc *nemu_rpc_new(nemu *w);
nemu_rpc *nemu_rpc_new_opts(nemu *w, const nemu_rpc_opts *o);
void nemu_rpc_free(nemu_rpc *r);
/* Returns a malloc'd JSON response (never NULL). */
char *nemu_rpc_handle(nemu_rpc *r, const char *body, size_t len);
/* The same, except that a request whose answer must wait for a transaction
 * returns NULL and a waiter in *wait: poll it with nemu_rpc_wait_poll (after
 * other requests, and now and then) until it returns the response (the
 * waiter is then freed). */
typedef struct nemu_rpc_wait nemu_rpc_wait;
char *nemu_rpc_handle_async(nemu_rpc *r, const char *body, size_t len, nemu_rpc_wait **wait);
char *nemu_rpc_wait_poll(nemu_rpc *r, nemu_rpc_wait *wait);
void nemu_rpc_wait_free(nemu_rpc_wait *wait);
/* Produce the blocks wall time asks for (block_ms), with what they bring. */
void nemu_rpc_tick(nemu_rpc *r);

/* Bitcoin-alphabet base58 of n bytes into out (at least 2n+1 bytes). */
void nemu_base58(const unsigned char *p, size_t n, char *out);
/* Decode base58 into out (at most cap bytes); returns the length or -1. */
int nemu_base58_decode(const char *s, unsigned char *out, size_t cap);

#endif
