/* safe.h — contracts owned by a Safe multisig or an OpenZeppelin
 * TimelockController: build what the owner must send, sign it, check it.
 *
 * A Safe (1.3 / 1.4.1) runs a call only with `execTransaction`, carrying
 * threshold signatures of its owners over the call's EIP-712 hash, the
 * "SafeTx hash" (domain: chain id and the Safe's address; the Safe's nonce is
 * part of the message, so a signature is good for exactly one call). Several
 * calls go as ONE SafeTx: a DELEGATECALL to MultiSendCallOnly with the calls
 * packed (dg_safe_multisend). Owners pass a proposal around — plain JSON with
 * every SafeTx field, the hash and the signatures (dg_safe_proposal_*) — and
 * nothing signs or executes a proposal whose hash does not match its content
 * or whose signatures are not their stated signers'. The Safe checks
 * signatures sorted by signer address, ascending, without repeats;
 * dg_safe_signatures_pack sorts them so.
 *
 * A Safe reports a call that reverted inside execTransaction with the event
 * ExecutionFailure and a SUCCESSFUL transaction (dg_safe_exec_outcome tells
 * which happened).
 *
 * A TimelockController runs a call only after `schedule` (by a proposer) and
 * the minimum delay, through `execute`; an operation is the tuple (targets,
 * values, payloads, predecessor, salt) and its id the keccak of its ABI
 * encoding (dg_timelock_*). No function here prints or talks to a node except
 * dg_safe_read and dg_timelock_read.
 */
#ifndef DSTACKGOV_SAFE_H
#define DSTACKGOV_SAFE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "dstackgov/buf.h"
#include "dstackgov/err.h"
#include "dstackgov/eth.h"
#include "dstackgov/rpc.h"
#include "dstackgov/u256.h"

/* ------------------------------------------------------------------ one call */

/* A call a contract owner makes: target, value, calldata (borrowed). */
typedef struct {
    uint8_t to[20];
    dg_u256 value;
    const uint8_t *data;
    size_t len;
} dg_owner_call;

/* ------------------------------------------------------------------ Safe */

enum { DG_SAFE_CALL = 0, DG_SAFE_DELEGATECALL = 1 };

/* The SafeTx message, field for field (Safe's own names). */
typedef struct {
    uint8_t to[20];
    dg_u256 value;
    dg_buf data;       /* owned */
    uint8_t operation; /* DG_SAFE_CALL or DG_SAFE_DELEGATECALL */
    dg_u256 safe_tx_gas, base_gas, gas_price;
    uint8_t gas_token[20], refund_receiver[20];
    dg_u256 nonce;
} dg_safe_tx;

void dg_safe_tx_init(dg_safe_tx *t);
void dg_safe_tx_free(dg_safe_tx *t);

/* The SafeTx hash owners sign (what Safe's getTransactionHash returns):
 * keccak256(0x19 0x01 || domainSeparator || keccak256(abi.encode(SAFE_TX_TYPEHASH,
 * to, value, keccak256(data), operation, safeTxGas, baseGas, gasPrice, gasToken,
 * refundReceiver, nonce))), domainSeparator = keccak256(abi.encode(
 * keccak256("EIP712Domain(uint256 chainId,address verifyingContract)"), chainId, safe)).
 * Pure. Out: out (32 bytes). */
void dg_safe_tx_hash(uint64_t chain_id, const uint8_t safe[20], const dg_safe_tx *t,
                     uint8_t out[32]);

/* The SafeTx for `calls`: one call is a CALL to its target; several are a
 * DELEGATECALL to `multisend` (MultiSendCallOnly) with dg_safe_multisend's
 * data (multisend may be NULL only for one call). Gas fields and refunds are
 * zero (the executor pays its own gas). Returns 1, or 0 (DG_ERR_INPUT: no
 * call, several calls without a MultiSend address; DG_ERR_NOMEM).
 * Out: t (dg_safe_tx_init'ed by the caller; its data is replaced). */
int dg_safe_tx_from_calls(const dg_owner_call *calls, size_t n, const uint8_t *multisend,
                          const dg_u256 *nonce, dg_safe_tx *t, dg_err *err);

/* Append MultiSend's `multiSend(bytes)` calldata for calls, each packed as
 * operation (uint8, 0 = CALL) || to (20) || value (32) || data length (32) ||
 * data. Returns 1, or 0 (DG_ERR_NOMEM). */
int dg_safe_multisend(const dg_owner_call *calls, size_t n, dg_buf *out, dg_err *err);

/* A 65-byte owner signature r || s || v of a SafeTx hash, v = 27 + recovery id
 * (Safe's plain ECDSA kind, signed over the hash itself, no prefix).
 * Returns 1, or 0 (bad key). */
int dg_safe_sign(const uint8_t priv[32], const uint8_t hash[32], uint8_t sig[65], dg_err *err);

/* The signer of a 65-byte signature of `hash`: v 27/28 is over the hash
 * itself, v 31/32 over "\x19Ethereum Signed Message:\n32" || hash (eth_sign,
 * as hardware wallets sign). Contract (v 0) and approved-hash (v 1)
 * signatures are refused (DG_ERR_PROPOSAL naming v). Out: signer (20 bytes). */
int dg_safe_recover(const uint8_t hash[32], const uint8_t sig[65], uint8_t signer[20], dg_err *err);

/* One owner's signature as a proposal holds it. */
typedef struct {
    uint8_t signer[20];
    uint8_t sig[65];
} dg_safe_sig;

/* Check signatures against the hash and the Safe's owners and pack them for
 * execTransaction: each must recover to its stated signer (else DG_ERR_PROPOSAL
 * "signature i is not 0x..'s signature of this SafeTx": forged, or moved
 * to another signer), the signer must be an owner (when owners is non-NULL)
 * and appear once, and there must be at least `threshold` of them (0 = no
 * minimum). The packed bytes are sorted by signer address, ascending, as the
 * Safe requires. Returns 1, or 0 with err. Out: packed (appended; may be NULL
 * to check only). */
int dg_safe_signatures_check(const uint8_t hash[32], const dg_safe_sig *sigs, size_t n,
                             const uint8_t (*owners)[20], size_t nowners, uint64_t threshold,
                             dg_buf *packed, dg_err *err);

/* Append execTransaction(to, value, data, operation, safeTxGas, baseGas,
 * gasPrice, gasToken, refundReceiver, signatures) calldata. */
int dg_safe_exec_calldata(const dg_safe_tx *t, const uint8_t *sigs, size_t sigs_len, dg_buf *out,
                          dg_err *err);

/* What a Safe says about itself, read in one batch at `latest`. */
typedef struct {
    dg_u256 nonce;
    uint64_t threshold;
    uint8_t (*owners)[20]; /* owned (free with dg_safe_info_free) */
    size_t nowners;
    uint64_t chain_id;
} dg_safe_info;

/* nonce(), getThreshold(), getOwners() and eth_chainId in one round trip.
 * Returns 1, or 0 (DG_ERR_NO_CODE "no Safe at 0x..: ..." when the calls fail,
 * DG_ERR_RPC_*). */
int dg_safe_read(dg_rpc *rpc, const uint8_t safe[20], dg_safe_info *out, dg_err *err);
void dg_safe_info_free(dg_safe_info *i);

/* The outcome of a mined execTransaction, from its receipt: 1 when the Safe
 * logged ExecutionSuccess, 0 with DG_ERR_REVERT when it logged
 * ExecutionFailure (the transaction itself succeeded and the Safe's nonce was
 * used up, but the inner call reverted: "the Safe executed the proposal but
 * its call reverted (ExecutionFailure)"), 0 with DG_ERR_RPC_RESPONSE when it
 * logged neither for `hash`. */
int dg_safe_exec_outcome(const dg_eth_receipt *r, const uint8_t safe[20], const uint8_t hash[32],
                         dg_err *err);

/* ------------------------------------------------------------------ proposals */

/* A proposal: the SafeTx, where it runs, the hash, the signatures so far. */
typedef struct {
    uint64_t chain_id;
    uint8_t safe[20];
    dg_safe_tx tx;
    uint8_t hash[32];
    char description[200];
    dg_safe_sig *sigs; /* owned */
    size_t nsigs;
} dg_safe_proposal;

void dg_safe_proposal_free(dg_safe_proposal *p);

/* New JSON object of a proposal:
 *   {"version":1,"chainId":N,"safe":"0x..","description":"...",
 *    "tx":{"to","value","data","operation","safeTxGas","baseGas","gasPrice",
 *          "gasToken","refundReceiver","nonce"}, "safeTxHash":"0x..",
 *    "signatures":[{"signer":"0x..","signature":"0x.."}]}
 * amounts as decimal strings. NULL on allocation failure. */
json_t *dg_safe_proposal_to_json(const dg_safe_proposal *p);

/* Parse a proposal and verify it: every field present and well-formed (the
 * message names the field), the stated safeTxHash equal to the hash of the
 * content (else DG_ERR_PROPOSAL "safeTxHash 0x.. does not match the proposal's
 * content (0x..): edited after it was made?"), every signature its signer's
 * (dg_safe_signatures_check without owners). Returns 1, or 0 with err. */
int dg_safe_proposal_from_json(const json_t *j, dg_safe_proposal *out, dg_err *err);

/* Add (or replace, for the same signer) a signature by `priv`. Returns 1, or 0. */
int dg_safe_proposal_sign(dg_safe_proposal *p, const uint8_t priv[32], dg_err *err);

/* Safe{Wallet} Transaction Builder batch file for calls (version "1.0",
 * chainId, meta.createdFromSafeAddress, transactions[{to,value,data}]). */
json_t *dg_safe_tx_builder_json(uint64_t chain_id, const uint8_t safe[20], const char *name,
                                const dg_owner_call *calls, size_t n);

/* ------------------------------------------------------------------ timelock */

/* An operation of a TimelockController. */
typedef struct {
    const dg_owner_call *calls; /* borrowed */
    size_t n;
    uint8_t predecessor[32];
    uint8_t salt[32];
} dg_timelock_op;

/* The operation id: hashOperation (one call) or hashOperationBatch. Returns 1 or 0 (NOMEM). */
int dg_timelock_id(const dg_timelock_op *op, uint8_t id[32], dg_err *err);

/* Append calldata of schedule/scheduleBatch(..., delay), execute/executeBatch
 * and cancel(id). Batch forms are used for n > 1. */
int dg_timelock_schedule_calldata(const dg_timelock_op *op, uint64_t delay, dg_buf *out,
                                  dg_err *err);
int dg_timelock_execute_calldata(const dg_timelock_op *op, dg_buf *out, dg_err *err);
int dg_timelock_cancel_calldata(const uint8_t id[32], dg_buf *out, dg_err *err);

/* The state of an operation, as OpenZeppelin 5 reports it. */
typedef enum {
    DG_TL_UNSET = 0,
    DG_TL_WAITING = 1,
    DG_TL_READY = 2,
    DG_TL_DONE = 3
} dg_timelock_state;

/* getMinDelay(), getOperationState(id), getTimestamp(id) and the latest
 * block's timestamp in one round trip. Returns 1, or 0 (DG_ERR_NO_CODE when
 * `timelock` does not answer as a TimelockController). Out: any may be NULL. */
int dg_timelock_read(dg_rpc *rpc, const uint8_t timelock[20], const uint8_t id[32],
                     uint64_t *min_delay, dg_timelock_state *state, uint64_t *ready_at,
                     uint64_t *now, dg_err *err);

/* Name of a state: "unset", "waiting", "ready", "done". */
const char *dg_timelock_state_name(dg_timelock_state s);

#endif
