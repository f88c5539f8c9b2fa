/* eth.h — Ethereum transactions: build, sign, send, wait, decode.
 *
 * Two levels. The send flow (bottom of this header) is what a program calls:
 * dg_eth_plan_prepare() turns "call `to` with `data` from `from`" into a
 * checked plan — chain id as expected, code at the target (asked again on
 * public chains whose load-balanced nodes lag), the revert of a failing
 * estimate decoded, the gas limit (estimate + margin, or the caller's, refused
 * below the estimate or the intrinsic gas unless forced), the worst-case cost
 * against the balance — without signing anything, so a program can show the
 * cost and ask for confirmation; dg_eth_plan_submit() signs and sends it;
 * dg_eth_plan_wait() waits for the receipt, reports a transaction the node
 * dropped within seconds, and replays a reverted one to say why.
 * dg_eth_transact() does the three in a row for a program that does not ask
 * (a KMS). The CLI is built on exactly these calls.
 *
 * The steps under it: dg_eth_prepare() gathers everything a transaction needs
 * (chain id, pending nonce, fee suggestion, gas estimate, balance, code at the
 * target) in ONE batched JSON-RPC round trip; dg_eth_tx_sign() produces the
 * raw signed bytes (EIP-1559 type 2, or legacy with the EIP-155 chain id),
 * dg_eth_send_raw() submits them and dg_eth_wait_receipt() polls for the
 * receipt with a bounded timeout and a progress callback. Reverts are decoded
 * (dg_revert_decode) into one sentence with a class (DG_ERR_NOT_OWNER,
 * DG_ERR_REVERT, ...).
 *
 * Amounts (wei) are dg_u256; gas and nonces are uint64_t. No function prints.
 */
#ifndef DSTACKGOV_ETH_H
#define DSTACKGOV_ETH_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "dstackgov/abi.h"
#include "dstackgov/buf.h"
#include "dstackgov/err.h"
#include "dstackgov/rpc.h"
#include "dstackgov/u256.h"

/* ------------------------------------------------------------------ transactions */

typedef enum { DG_TX_LEGACY = 0, DG_TX_EIP1559 = 2 } dg_tx_type;

typedef struct {
    dg_tx_type type;
    uint64_t chain_id; /* EIP-155 / EIP-1559 chain id (legacy: 0 = pre-EIP-155) */
    uint64_t nonce;
    uint64_t gas_limit;
    dg_u256 gas_price;        /* legacy only */
    dg_u256 max_priority_fee; /* EIP-1559 only: maxPriorityFeePerGas */
    dg_u256 max_fee;          /* EIP-1559 only: maxFeePerGas */
    int has_to;               /* 0 = contract creation */
    uint8_t to[20];
    dg_u256 value;
    const uint8_t *data; /* calldata or init code (borrowed) */
    size_t data_len;
} dg_eth_tx;

/* The hash a sender signs: keccak256 of the EIP-155 RLP list (legacy) or of
 * 0x02 || rlp([chainId, nonce, maxPriorityFee, maxFee, gas, to, value, data, []]).
 * Returns 1, or 0 (DG_ERR_NOMEM / DG_ERR_INPUT for an unknown type).
 * Out: hash: 32 bytes.  In: tx.
 */
int dg_eth_tx_signing_hash(const dg_eth_tx *tx, uint8_t hash[32], dg_err *err);

/* Sign a transaction and encode it for eth_sendRawTransaction.
 * Returns 1, or 0 with err (bad key, allocation).
 * Args: err: error out (may be NULL).
 * Out:  raw:     the signed encoding is APPENDED (typed: 0x02 || rlp(...)).
 *       tx_hash: keccak256 of the raw bytes (the transaction hash), may be NULL.
 * In:   tx, priv: the 32-byte secret key (not kept).
 */
int dg_eth_tx_sign(const dg_eth_tx *tx, const uint8_t priv[32], dg_buf *raw, uint8_t tx_hash[32],
                   dg_err *err);

/* Decode a signed raw transaction (legacy or type 2) back into fields and
 * recover its sender. `out->data` points into `raw`. Returns 1, or 0
 * (DG_ERR_INPUT) naming what is malformed.
 * Out: out, from (20 bytes, may be NULL).  In: raw, len.
 */
int dg_eth_tx_decode(const uint8_t *raw, size_t len, dg_eth_tx *out, uint8_t from[20], dg_err *err);

/* Address of a contract created with CREATE by `sender` at `nonce`:
 * keccak256(rlp([sender, nonce]))[12:].  Out: out (20 bytes). */
void dg_eth_create_address(const uint8_t sender[20], uint64_t nonce, uint8_t out[20]);

/* Address of a contract created with CREATE2:
 * keccak256(0xff || deployer || salt || keccak256(init_code))[12:]. */
void dg_eth_create2_address(const uint8_t deployer[20], const uint8_t salt[32],
                            const uint8_t init_code_hash[32], uint8_t out[20]);

/* ------------------------------------------------------------------ fees */

typedef struct {
    dg_tx_type type;          /* DG_TX_EIP1559 when the chain reports a base fee */
    dg_u256 base_fee;         /* next block's base fee (EIP-1559) */
    dg_u256 max_priority_fee; /* EIP-1559 tip */
    dg_u256 max_fee;          /* EIP-1559 cap = 2 * base_fee + tip */
    dg_u256 gas_price;        /* legacy price; for EIP-1559 equals max_fee (worst case) */
} dg_eth_fees;

/* Choose fees from the raw JSON-RPC answers (pure; any argument may be NULL
 * when that call failed): eth_feeHistory(N, "latest", [50]) gives the next base
 * fee; the tip is eth_maxPriorityFeePerGas, else the median reward of the
 * history, else 1 gwei (capped below by 1 wei). Without a base fee (or with a
 * zero one: pre-London chains) the transaction is legacy with eth_gasPrice. Returns 1, or 0
 * (DG_ERR_RPC_RESPONSE) when neither a base fee nor a gas price is usable.
 */
int dg_eth_fees_choose(const json_t *fee_history, const json_t *max_priority,
                       const json_t *gas_price, dg_eth_fees *out, dg_err *err);

/* Gas limit with a safety margin: estimate * (100 + percent) / 100, plus 1000
 * for small estimates' rounding, never above `cap` (when cap != 0). */
uint64_t dg_eth_gas_with_margin(uint64_t estimate, unsigned percent, uint64_t cap);

/* ------------------------------------------------------------------ JSON helpers */

/* Parse a JSON-RPC quantity ("0x1a") into a u64 / u256. Return 1 or 0 (DG_ERR_RPC_RESPONSE). */
int dg_eth_quantity_u64(const json_t *v, uint64_t *out, dg_err *err);
int dg_eth_quantity_u256(const json_t *v, dg_u256 *out, dg_err *err);
/* New JSON string "0x<hex>" of a quantity (minimal, "0x0" for zero). */
json_t *dg_eth_json_quantity_u64(uint64_t v);
json_t *dg_eth_json_quantity_u256(const dg_u256 *v);
/* New JSON string "0x" + lowercase hex of bytes. */
json_t *dg_eth_json_bytes(const uint8_t *p, size_t n);

/* ------------------------------------------------------------------ RPC steps */

/* dg_rpc_batch, except that when the endpoint answers but refuses JSON-RPC
 * batches (some nodes and gateways do), the requests are sent one at a time.
 * Same contract as dg_rpc_batch: params are stolen, per-request results and
 * errors (with error_data) are in reqs[i]; returns 0 only on transport failure. */
int dg_eth_batch(dg_rpc *rpc, dg_rpc_req *reqs, size_t n, dg_err *err);

/* Everything dg_eth_prepare gathers for one transaction. */
typedef struct {
    uint64_t chain_id;
    uint64_t nonce; /* pending transaction count of `from` */
    dg_eth_fees fees;
    uint64_t gas_estimate; /* eth_estimateGas (0 if it failed, see estimate_err) */
    dg_u256 balance;       /* of `from`, at latest */
    int to_has_code;       /* 1 if `to` has contract code (1 for creations) */
    uint64_t block_number; /* latest block */
    int estimate_failed;   /* 1 if eth_estimateGas returned an error */
    dg_err estimate_err;   /* its decoded reason (revert sentence + class) */
} dg_eth_prep;

/* One batched round trip: eth_chainId, eth_getTransactionCount(from,"pending"),
 * eth_feeHistory, eth_maxPriorityFeePerGas, eth_gasPrice, eth_estimateGas,
 * eth_getBalance, eth_getCode(to), eth_blockNumber.
 * Returns 1 (an estimate failure is reported in out->estimate_failed, not as
 * a failure), or 0 with err when the endpoint is unreachable or answers garbage.
 * In: from (20), to (20 or NULL for a creation), data/len, value (NULL = 0).
 */
int dg_eth_prepare(dg_rpc *rpc, const uint8_t from[20], const uint8_t *to, const uint8_t *data,
                   size_t len, const dg_u256 *value, dg_eth_prep *out, dg_err *err);

/* eth_chainId. */
int dg_eth_chain_id(dg_rpc *rpc, uint64_t *out, dg_err *err);

/* eth_getTransactionCount(addr, "pending"). */
int dg_eth_nonce(dg_rpc *rpc, const uint8_t addr[20], uint64_t *out, dg_err *err);

/* Fee suggestion with one batched round trip (see dg_eth_fees_choose). */
int dg_eth_suggest_fees(dg_rpc *rpc, dg_eth_fees *out, dg_err *err);

/* eth_estimateGas for a call from `from`; a revert is decoded into err
 * (class from dg_revert_decode, e.g. DG_ERR_NOT_OWNER). */
int dg_eth_estimate_gas(dg_rpc *rpc, const uint8_t from[20], const uint8_t *to, const uint8_t *data,
                        size_t len, uint64_t *gas, dg_err *err);

/* eth_call at `block` ("latest", "pending" or "0x<n>"); the return data is
 * APPENDED to `ret`. A revert becomes err with the decoded sentence.
 * In: from (may be NULL), to (20), data/len. */
int dg_eth_call(dg_rpc *rpc, const uint8_t *from, const uint8_t to[20], const uint8_t *data,
                size_t len, const char *block, dg_buf *ret, dg_err *err);

/* Classify a JSON-RPC error of a transaction call: the revert data (if any) is
 * decoded with dg_revert_decode; node messages such as "insufficient funds"
 * and "nonce too low" get their class. Fills err; returns 0. */
int dg_eth_classify_error(const char *what, const char *message, const json_t *data, dg_err *err);

/* eth_sendRawTransaction; the hash the node returns must equal keccak(raw).
 * Out: tx_hash (32 bytes, may be NULL). */
int dg_eth_send_raw(dg_rpc *rpc, const uint8_t *raw, size_t len, uint8_t tx_hash[32], dg_err *err);

/* ------------------------------------------------------------------ receipts and logs */

typedef struct {
    uint8_t address[20];
    uint8_t topics[4][32];
    size_t ntopics;
    uint8_t *data; /* owned */
    size_t data_len;
    uint64_t log_index;
    uint64_t block_number; /* 0 when the node did not say */
    uint8_t tx_hash[32];   /* zero when the node did not say */
} dg_eth_log;

typedef struct {
    uint8_t tx_hash[32];
    int status; /* 1 success, 0 reverted */
    uint64_t block_number;
    uint64_t gas_used;
    dg_u256 effective_gas_price;
    int has_contract_address;
    uint8_t contract_address[20];
    dg_eth_log *logs; /* owned */
    size_t nlogs;
} dg_eth_receipt;

/* Parse an eth_getTransactionReceipt result. Returns 1, or 0 (DG_ERR_RPC_RESPONSE). */
int dg_eth_receipt_parse(const json_t *j, dg_eth_receipt *out, dg_err *err);
void dg_eth_receipt_free(dg_eth_receipt *r);

/* Called about every poll while waiting: elapsed milliseconds and the latest
 * block number seen (0 if unknown). */
typedef void (*dg_eth_progress_fn)(void *ctx, long elapsed_ms, uint64_t block);

/* Poll eth_getTransactionReceipt until it is mined or `timeout_ms` passes.
 * The first poll is immediate (auto-mining chains answer at once), then the
 * interval grows from 2 ms to 1 s. With drop_grace_ms > 0, each poll after the
 * first also asks eth_getTransactionByHash (same batch): a transaction the node no longer knows
 * (neither mined nor pending) at two polls, the later one at least drop_grace_ms after the start,
 * was dropped (a node drops, for example, a transaction whose gas limit is below its intrinsic gas)
 * and is reported at once instead of waiting out the timeout. drop_grace_ms <= 0 never declares a
 * drop (for private relays that do not show pending transactions). Returns 1 with the receipt
 * (whatever its status), or 0 with DG_ERR_RPC_TIMEOUT ("transaction 0x.. not mined after N s"),
 * DG_ERR_DROPPED
 * ("transaction 0x.. was dropped by the node: ...") or an RPC error.
 * In: progress (may be NULL), ctx.  Out: out (free with dg_eth_receipt_free).
 */
int dg_eth_wait_receipt(dg_rpc *rpc, const uint8_t tx_hash[32], long timeout_ms, long drop_grace_ms,
                        dg_eth_progress_fn progress, void *ctx, dg_eth_receipt *out, dg_err *err);

/* First log at index >= *start whose topic0 is `topic0` and (if address is
 * non-NULL) whose emitter is `address`; *start is advanced past it. NULL when none. */
const dg_eth_log *dg_eth_find_log(const dg_eth_receipt *r, const uint8_t topic0[32],
                                  const uint8_t *address, size_t *start);

/* eth_getLogs for one contract and one event (topic0), blocks from_block to
 * to_block ("latest" when NULL). Providers cap ranges and result sizes; the
 * error then says so in the node's words. Returns 1 with *logs (free with
 * dg_eth_logs_free) and *n, or 0 with err. */
int dg_eth_get_logs(dg_rpc *rpc, const uint8_t address[20], const uint8_t topic0[32],
                    uint64_t from_block, const char *to_block, dg_eth_log **logs, size_t *n,
                    dg_err *err);
/* The same for the logs of any of naddr contracts, in one eth_getLogs (the
 * node returns them in chain order). naddr == 0 returns no logs and asks
 * nothing (an empty filter would mean every contract). */
int dg_eth_get_logs_multi(dg_rpc *rpc, const uint8_t (*addresses)[20], size_t naddr,
                          const uint8_t topic0[32], uint64_t from_block, const char *to_block,
                          dg_eth_log **logs, size_t *n, dg_err *err);
void dg_eth_logs_free(dg_eth_log *logs, size_t n);

/* ABI-decode a log's data — the event's non-indexed arguments — as the tuple
 * type `types`, e.g. "(string)" for GatewayAppIdSet(string). Indexed
 * arguments are in log->topics[1..]. Returns 1, or 0 (DG_ERR_RPC_RESPONSE)
 * when the data does not decode strictly.
 * Out: out (free with dg_abi_value_free).  In: log, types. */
int dg_eth_log_decode(const dg_eth_log *log, const char *types, dg_abi_value *out, dg_err *err);

/* keccak256 of an event signature, e.g. "ComposeHashAdded(bytes32)". */
void dg_eth_event_topic(const char *signature, uint8_t out[32]);

/* ------------------------------------------------------------------ the send flow */

/* Intrinsic gas of a transaction: what the protocol charges before any code
 * runs, so a lower gas limit can never be mined. 21000 (53000 for a creation,
 * plus 2 per 32-byte word of init code, EIP-3860) + 4 per zero and 16 per
 * non-zero byte of data; at least the EIP-7623 calldata floor (21000 + 10 per
 * token, a token being a zero byte or a quarter of a non-zero byte). Pure. */
uint64_t dg_eth_intrinsic_gas(const uint8_t *data, size_t len, int create);

/* Compare a chain id with the expected one.
 * Returns 1 when expect is 0 (nothing expected) or equal to got, else 0 with
 * DG_ERR_CHAIN_ID: "chain id mismatch: <source> expects E but <endpoint> is chain G".
 * In: source: who expects it, e.g. "network sepolia" or "--chain-id" (NULL: "the caller");
 *     endpoint: the node's label, scheme://host[:port] (never a URL with a key). */
int dg_eth_check_chain(uint64_t expect, const char *source, uint64_t got, const char *endpoint,
                       dg_err *err);

/* How the send flow behaves. Zero-initialize, then set what differs; every
 * zero field means its default. */
typedef struct {
    uint64_t expect_chain_id;    /* refuse any other chain (0 = any) */
    const char *expect_source;   /* named in the mismatch message ("network sepolia") */
    uint64_t gas_limit;          /* 0 = the estimate + gas_margin_percent, at most gas_cap */
    int force_gas_limit;         /* 1 = send gas_limit even below the estimate or the
                                    intrinsic gas (it will run out of gas or be dropped) */
    unsigned gas_margin_percent; /* default 20 */
    uint64_t gas_cap;            /* default 30,000,000 */
    long timeout_ms;             /* receipt wait, default 120 s */
    long drop_grace_ms;          /* see dg_eth_wait_receipt; default 3 s; < 0 = never */
    long code_wait_ms;           /* how long "no code at the target" is asked again, on chains
                                    other than 31337 and 1337 (load-balanced nodes lag behind a
                                    deployment, dstack#505); default 3.5 s; < 0 = not at all */
    dg_eth_progress_fn progress; /* called while waiting for the receipt (may be NULL) */
    void *progress_ctx;
} dg_eth_send_opts;

/* A checked transaction, ready to sign. Everything a program shows before it
 * asks for confirmation is here. */
typedef struct {
    const char *label;      /* what it does, e.g. "addOsImageHash" (borrowed) */
    uint8_t from[20];       /* the sender */
    dg_eth_tx tx;           /* every field set; tx.data borrows the caller's data */
    dg_eth_prep prep;       /* the node's answers: chain id, nonce, fees, estimate, balance */
    uint64_t intrinsic_gas; /* dg_eth_intrinsic_gas of the data */
    dg_u256 max_cost;       /* worst case: tx.gas_limit * max fee per gas + value, in wei */
    int gas_limit_forced;   /* 1 when tx.gas_limit is below the estimate or the intrinsic gas
                               and force_gas_limit allowed it */
} dg_eth_plan;

/* Plan a transaction from `from` (no key needed: a plan for another sender,
 * e.g. the multisig that owns a contract, shows what it would do).
 * Returns 1 with out filled, or 0 with err, in this order of checks:
 *   the node unreachable or answering garbage (DG_ERR_RPC_*); another chain
 *   (DG_ERR_CHAIN_ID); no code at `to` (DG_ERR_NO_CODE: "no contract code at
 *   0x.. on chain N (label): wrong address or wrong network?"); the estimate
 *   reverts (its decoded class and reason, e.g. DG_ERR_NOT_OWNER: "label: gas
 *   estimate reverted: 0x.. is not the owner"); opts->gas_limit below the estimate or the intrinsic
 *   gas without force_gas_limit (DG_ERR_INPUT, naming both figures and the
 *   flag --force-gas-limit); the balance below max_cost (DG_ERR_FUNDS, with
 *   both amounts in ETH).
 * Args: rpc, opts (NULL = defaults), err (may be NULL).
 * In:   from (20), to (20, or NULL to create a contract), data/len (borrowed by
 *       out->tx until the plan is sent), value (NULL = 0), label (borrowed).
 * Out:  out.
 */
int dg_eth_plan_prepare(dg_rpc *rpc, const dg_eth_send_opts *opts, const uint8_t from[20],
                        const uint8_t *to, const uint8_t *data, size_t len, const dg_u256 *value,
                        const char *label, dg_eth_plan *out, dg_err *err);

/* Sign a plan with the sender's key and send it (eth_sendRawTransaction).
 * Returns 1 with the hash, or 0 with err prefixed by the plan's label
 * (DG_ERR_INPUT when priv is not the plan's sender; the node's refusal
 * classified as in dg_eth_classify_error).
 * In: plan, priv (32 bytes, not kept).  Out: tx_hash (32 bytes).
 */
int dg_eth_plan_submit(dg_rpc *rpc, const dg_eth_plan *plan, const uint8_t priv[32],
                       uint8_t tx_hash[32], dg_err *err);

/* Wait for a submitted plan's receipt (dg_eth_wait_receipt with opts'
 * timeout, drop grace and progress). A mined transaction that reverted is
 * explained: replayed as a call on its parent block, a revert there gives the
 * reason (DG_ERR_NOT_OWNER, DG_ERR_REVERT: "<label> failed on chain (block N):
 * ..."); else "out of gas" when it used its whole limit or its limit was below
 * the estimate; else "a state change since the estimate". A creation's
 * receipt must name the new contract, and on chains other than 31337/1337 its
 * code is waited for (opts' code_wait_ms), since the next step usually calls it.
 * Returns 1 with rcpt (status 1; free with dg_eth_receipt_free), or 0 with
 * err (rcpt then holds nothing to free).
 */
int dg_eth_plan_wait(dg_rpc *rpc, const dg_eth_plan *plan, const dg_eth_send_opts *opts,
                     const uint8_t tx_hash[32], dg_eth_receipt *rcpt, dg_err *err);

/* The whole flow without a confirmation step, for programs that do not ask:
 * dg_eth_plan_prepare (from = priv's address), dg_eth_plan_submit,
 * dg_eth_plan_wait. Returns 1 with rcpt, or 0 with err as those do.
 * Out: plan (may be NULL; what was sent), rcpt.
 */
int dg_eth_transact(dg_rpc *rpc, const dg_eth_send_opts *opts, const uint8_t priv[32],
                    const uint8_t *to, const uint8_t *data, size_t len, const dg_u256 *value,
                    const char *label, dg_eth_plan *plan, dg_eth_receipt *rcpt, dg_err *err);

#endif
