/* near.h — NEAR: base58, borsh, ed25519 key strings, account ids, and the
 * JSON-RPC views a governance client and a boot-authorization backend need.
 *
 * The NEAR side of the library has the shape of the Ethereum side (eth.h):
 * codecs that cannot fail silently, then calls on a dg_rpc (failover,
 * deadline and quorum come from rpc.h; every NEAR read method is a read that
 * may be retried and repeated on another endpoint).
 *
 * Blocks. Every view takes a block reference `block`: NULL or "final" for the
 * last final block, "optimistic" for the head, a decimal height ("1234"), or
 * a base58 block hash. To read several views as of one block (what a boot
 * decision needs), fetch the block once with dg_near_block() and pass its
 * hash to every view.
 *
 * Errors. A NEAR node reports a failed call in one of two shapes: older
 * nodes answer a view with a `result` holding an `error` string (and `logs`),
 * or a JSON-RPC error whose `data` is a string; newer nodes send a JSON-RPC
 * error with `name` "HANDLER_ERROR" and a structured `cause` {name, info}.
 * Both are turned into one dg_err sentence with a class:
 *   UNKNOWN_ACCOUNT, NO_CONTRACT_CODE      -> DG_ERR_NO_CODE
 *   CONTRACT_EXECUTION_ERROR (a panic)     -> DG_ERR_REVERT, or DG_ERR_NOT_OWNER
 *                                             when the panic is an access check
 *   UNKNOWN_ACCESS_KEY, UNKNOWN_BLOCK, ... -> DG_ERR_RPC_RESPONSE
 *   TIMEOUT_ERROR                          -> DG_ERR_RPC_TIMEOUT
 * The message names the account and method and quotes the node's words
 * (sanitized, bounded), e.g. "view kms.test.near.get_x: contract panicked:
 * Method get_x not found".
 *
 * Amounts are yoctoNEAR (10^-24 NEAR) held in a dg_u256 that never exceeds
 * 2^128 - 1. No function prints; secret keys are wiped by their owners.
 */
#ifndef DSTACKGOV_NEAR_H
#define DSTACKGOV_NEAR_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "dstackgov/buf.h"
#include "dstackgov/err.h"
#include "dstackgov/rpc.h"
#include "dstackgov/u256.h"

/* ------------------------------------------------------------------ base58 */

/* Bitcoin's base58 alphabet; each leading zero byte is written as '1'. */

/* Characters needed to base58-encode n bytes, NUL included (an upper bound). */
#define DG_BASE58_LEN(n) ((n)*138 / 100 + 2)

/* Encode n bytes as base58.
 * Returns: the length written (without the NUL), or 0 when cap is too small
 *          (out then holds "").
 * Out: out: cap chars, NUL-terminated.
 * In:  in, n: bytes (in may be NULL when n == 0; zero bytes give "").
 */
size_t dg_base58_encode(const uint8_t *in, size_t n, char *out, size_t cap);

/* Decode base58 text of any length into at most cap bytes.
 * Returns: 1, or 0 (DG_ERR_INPUT) on a character outside the alphabet, empty
 *          text, or a value longer than cap bytes; out is untouched on failure.
 * Out: out: *outlen bytes.
 * In:  s, slen: text (need not be NUL-terminated).
 */
int dg_base58_decode(const char *s, size_t slen, uint8_t *out, size_t cap, size_t *outlen,
                     dg_err *err);

/* Decode base58 text that must hold exactly n bytes (a hash, a key).
 * Returns: 1, or 0 (DG_ERR_INPUT) naming the problem ("expected 32 bytes,
 *          got 31"); out is untouched on failure.
 * Out: out: n bytes.  In: s: NUL-terminated text.
 */
int dg_base58_decode_exact(const char *s, uint8_t *out, size_t n, dg_err *err);

/* ------------------------------------------------------------------ borsh */

/* Writers APPEND to a dg_buf, little-endian, as NEAR's borsh: strings and
 * byte vectors are a u32 length then the bytes. They return 1, or 0 once
 * the buffer ran out of memory (b->oom is set; check once at the end). */
int dg_borsh_u8(dg_buf *b, uint8_t v);
int dg_borsh_u32(dg_buf *b, uint32_t v);
int dg_borsh_u64(dg_buf *b, uint64_t v);
/* A u128 (16 bytes); returns 0 also when v does not fit in 128 bits. */
int dg_borsh_u128(dg_buf *b, dg_u256 v);
int dg_borsh_bytes(dg_buf *b, const uint8_t *p, size_t n);
int dg_borsh_string(dg_buf *b, const char *s);

/* A reader over caller-owned bytes. Any read past the end sets `bad` and
 * returns zeros / NULL, so a parser checks once (dg_borsh_done). */
typedef struct {
    const uint8_t *p;
    size_t len, off;
    int bad;
} dg_borsh_reader;

void dg_borsh_reader_init(dg_borsh_reader *r, const uint8_t *p, size_t len);
uint8_t dg_borsh_read_u8(dg_borsh_reader *r);
uint32_t dg_borsh_read_u32(dg_borsh_reader *r);
uint64_t dg_borsh_read_u64(dg_borsh_reader *r);
dg_u256 dg_borsh_read_u128(dg_borsh_reader *r);
/* n raw bytes: a pointer into the input, or NULL (bad set) when fewer remain. */
const uint8_t *dg_borsh_read_fixed(dg_borsh_reader *r, size_t n);
/* A length-prefixed byte vector: pointer into the input and *n, or NULL. */
const uint8_t *dg_borsh_read_bytes(dg_borsh_reader *r, size_t *n);
/* A length-prefixed string copied into out (cap bytes, NUL-terminated).
 * Sets bad when it does not fit, contains a NUL byte, or the input ends. */
void dg_borsh_read_string(dg_borsh_reader *r, char *out, size_t cap);
/* Returns 1 when every read succeeded and the whole input was consumed,
 * else 0 with err (DG_ERR_INPUT, "borsh: ...") naming the offset. */
int dg_borsh_done(const dg_borsh_reader *r, dg_err *err);

/* ------------------------------------------------------------------ amounts */

/* 10^24 yoctoNEAR = 1 NEAR; values above 2^128-1 are rejected. */
#define DG_NEAR_AMOUNT_LEN 48 /* "340282366920938.463463374607431768211455 NEAR" + NUL */

/* Parse an amount: "1.5" or "1.5 NEAR" / "1.5near" (NEAR, up to 24
 * fraction digits), or "123 yocto" / "123yoctoNEAR" (an integer of
 * yoctoNEAR). A fraction finer than a yoctoNEAR is an error, never rounded.
 * Returns: 1, or 0 (DG_ERR_INPUT) naming the problem; *yocto untouched then.
 */
int dg_near_parse_amount(const char *s, dg_u256 *yocto, dg_err *err);

/* Format yoctoNEAR as NEAR without trailing zeros: "1.5 NEAR", "0 NEAR".
 * Out: out: DG_NEAR_AMOUNT_LEN chars. */
void dg_near_format_amount(dg_u256 yocto, char out[DG_NEAR_AMOUNT_LEN]);

/* Parse a decimal yoctoNEAR string as the RPC sends amounts ("1000").
 * Returns: 1, or 0 (DG_ERR_RPC_RESPONSE) when v is not such a string. */
int dg_near_json_amount(const json_t *v, dg_u256 *out, dg_err *err);

/* ------------------------------------------------------------------ keys */

/* "ed25519:" + base58(32): at most 8 + 45 chars + NUL. */
#define DG_NEAR_PUBKEY_LEN 56
/* "ed25519:" + base58(64): at most 8 + 89 chars + NUL. */
#define DG_NEAR_SIG_LEN 100

/* An ed25519 signing key: libsodium's 64-byte secret (seed || public key)
 * and the public key. Secret: wipe with dg_near_key_wipe. */
typedef struct {
    uint8_t sk[64];
    uint8_t pk[32];
} dg_near_key;

/* Parse a secret key "ed25519:<base58 of 64 bytes = seed || public key>"
 * (near-cli's and near-api-js's form; surrounding whitespace allowed). The
 * public half must match the seed. A base58 32-byte seed is accepted too.
 * Returns: 1, or 0 (DG_ERR_INPUT; the message never quotes the input).
 * Out: key. */
int dg_near_key_parse(const char *s, dg_near_key *key, dg_err *err);

/* The key of a 32-byte seed (deterministic; for tests and key generation). */
void dg_near_key_from_seed(const uint8_t seed[32], dg_near_key *key);

/* Zero a key. */
void dg_near_key_wipe(dg_near_key *key);

/* Parse "ed25519:<base58 32 bytes>". Returns 1, or 0 (DG_ERR_INPUT).
 * Out: pk: 32 bytes. */
int dg_near_pubkey_parse(const char *s, uint8_t pk[32], dg_err *err);

/* Format a public key as "ed25519:<base58>". Out: out: DG_NEAR_PUBKEY_LEN chars. */
void dg_near_pubkey_format(const uint8_t pk[32], char out[DG_NEAR_PUBKEY_LEN]);

/* Format / parse a signature "ed25519:<base58 64 bytes>".
 * dg_near_sig_parse returns 1, or 0 (DG_ERR_INPUT). */
void dg_near_sig_format(const uint8_t sig[64], char out[DG_NEAR_SIG_LEN]);
int dg_near_sig_parse(const char *s, uint8_t sig[64], dg_err *err);

/* Ed25519 signature of msg (NEAR signs the 32-byte SHA-256 of a transaction).
 * Out: sig: 64 bytes. */
void dg_near_sign(const dg_near_key *key, const uint8_t *msg, size_t n, uint8_t sig[64]);

/* Returns 1 when sig is pk's signature of msg, else 0. */
int dg_near_verify(const uint8_t pk[32], const uint8_t *msg, size_t n, const uint8_t sig[64]);

/* ------------------------------------------------------------------ account ids */

#define DG_NEAR_ACCOUNT_MAX 64

/* Check a NEAR account id: 2..64 characters of [a-z0-9._-], dot-separated
 * parts, each a run of [a-z0-9] groups joined by single '-' or '_' (no
 * leading, trailing or doubled separators, no upper case).
 * Returns: 1, or 0 (DG_ERR_INPUT) naming the problem and its position. */
int dg_near_account_id_check(const char *id, dg_err *err);

/* Returns 1 for an implicit account id: 64 lowercase hex digits (an ed25519
 * key) or "0x" + 40 lowercase hex digits (ETH-implicit), else 0. */
int dg_near_account_id_is_implicit(const char *id);

/* ------------------------------------------------------------------ RPC errors */

/* Turn a NEAR JSON-RPC error object (either shape, see the top of this file)
 * into err. `what` names the call ("view kms.near.get_x"). Always returns 0.
 * In: error: the `error` member of the answer (may be NULL). */
int dg_near_rpc_error(const char *what, const json_t *error, dg_err *err);

/* The cause name of a NEAR JSON-RPC error ("UNKNOWN_ACCOUNT",
 * "INVALID_TRANSACTION", "TIMEOUT_ERROR", ...), or NULL when it has none
 * (older nodes). Borrowed from error. */
const char *dg_near_error_cause(const json_t *error);

/* Call a NEAR JSON-RPC method. A JSON-RPC error is decoded with
 * dg_near_rpc_error; transport failures keep rpc.h's classes.
 * Returns: 1 with *result (new reference), or 0 with err.
 * Args: what: names the call in messages; params: object, stolen.
 * Out:  error: when non-NULL and the node answered with an error, a new
 *       reference to its error object (else NULL), for callers that react
 *       to specific causes (a stale nonce, a timeout). */
int dg_near_call(dg_rpc *rpc, const char *what, const char *method, json_t *params, json_t **result,
                 json_t **error, dg_err *err);

/* ------------------------------------------------------------------ views */

/* Where a view was answered. */
typedef struct {
    uint64_t height;
    uint8_t hash[32];
} dg_near_block_ref;

/* Run a view method (query call_function) at `block` (see the top).
 * The result bytes (JSON text by convention) are APPENDED to `result`.
 * A panic, an unknown account or a missing contract is an error with its
 * class (see the top); older nodes' `result.error` shape is decoded the same.
 * Returns: 1, or 0 with err.
 * In:  account: the contract; method; args, args_len: the argument bytes
 *      (JSON text; NULL/0 for none, sent as "{}").
 * Out: result; at (may be NULL): the block that answered. */
int dg_near_view(dg_rpc *rpc, const char *block, const char *account, const char *method,
                 const char *args, size_t args_len, dg_buf *result, dg_near_block_ref *at,
                 dg_err *err);

/* dg_near_view, then parse the result bytes as JSON.
 * Returns: 1 with *out (new reference), or 0 (a result that is not JSON is
 * DG_ERR_RPC_RESPONSE). */
int dg_near_view_json(dg_rpc *rpc, const char *block, const char *account, const char *method,
                      const char *args, json_t **out, dg_near_block_ref *at, dg_err *err);

typedef struct {
    dg_u256 amount;         /* yoctoNEAR, liquid */
    dg_u256 locked;         /* yoctoNEAR, staked */
    uint8_t code_hash[32];  /* all zero (base58 "111...1") when no contract */
    int has_code;           /* code_hash is not all zero */
    uint64_t storage_usage; /* bytes */
    dg_near_block_ref at;
} dg_near_account;

/* query view_account. Returns 1, or 0 (UNKNOWN_ACCOUNT -> DG_ERR_NO_CODE). */
int dg_near_view_account(dg_rpc *rpc, const char *block, const char *account, dg_near_account *out,
                         dg_err *err);

typedef struct {
    uint64_t nonce;
    int full_access;                           /* 1 for FullAccess */
    dg_u256 allowance;                         /* FunctionCall keys: remaining allowance */
    int has_allowance;                         /* 0 = unlimited */
    char receiver_id[DG_NEAR_ACCOUNT_MAX + 1]; /* FunctionCall keys */
    dg_near_block_ref at; /* its block_hash is a valid recent block for a transaction */
} dg_near_access_key;

/* query view_access_key for (account, public key).
 * Returns 1, or 0 (UNKNOWN_ACCESS_KEY -> DG_ERR_CONFIG "access key ... not
 * found on account ...", UNKNOWN_ACCOUNT -> DG_ERR_NO_CODE). */
int dg_near_view_access_key(dg_rpc *rpc, const char *block, const char *account,
                            const uint8_t pk[32], dg_near_access_key *out, dg_err *err);

/* query view_code: the contract's wasm is APPENDED to code; its SHA-256 is
 * checked against the hash the node reports.
 * Returns 1, or 0 (NO_CONTRACT_CODE / UNKNOWN_ACCOUNT -> DG_ERR_NO_CODE). */
int dg_near_view_code(dg_rpc *rpc, const char *block, const char *account, dg_buf *code,
                      uint8_t hash[32], dg_err *err);

typedef struct {
    uint64_t height;
    uint8_t hash[32];
    uint8_t prev_hash[32];
    uint64_t timestamp_ns;
} dg_near_block_info;

/* method block at `block` (finality, height or hash). Returns 1, or 0. */
int dg_near_block(dg_rpc *rpc, const char *block, dg_near_block_info *out, dg_err *err);

typedef struct {
    char chain_id[64];
    uint32_t protocol_version;
    uint64_t latest_height;
    uint8_t latest_hash[32];
    int syncing;
} dg_near_status;

/* method status (the node's chain id, version and head). Returns 1, or 0. */
int dg_near_node_status(dg_rpc *rpc, dg_near_status *out, dg_err *err);

/* The `params` of a query with its block reference set (for callers that
 * build their own batch). Returns a new object, or NULL (DG_ERR_INPUT for a
 * malformed block reference, DG_ERR_NOMEM). */
json_t *dg_near_query_params(const char *request_type, const char *block, dg_err *err);

#endif
