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

#include "dstackgov/bootinfo.h"
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

/* The arguments of the contracts' is_app_allowed / is_kms_allowed for
 * bi: {"boot_info":{...}} with snake_case fields, hex lowercase without 0x
 * (an empty instanceId or mrSystem as "", an empty osImageHash as 64 zeros,
 * as the Ethereum contracts see it), appended to out (NUL-terminated, the NUL
 * not counted). The boot check (gov.h) and dstack-authd's near backend both
 * send exactly this. Returns 1, or 0 on allocation failure. */
int dg_near_boot_info_args(const dg_bootinfo *bi, dg_buf *out);

/* ------------------------------------------------------------------ credentials */

/* Read a NEAR secret key from a file through the mode-checked secret loader
 * (secret.h: a regular file that group and others cannot read or write).
 * The file holds either the key text "ed25519:..." or a near-cli credential
 * JSON {"account_id":..., "public_key":..., "private_key"|"secret_key":...}.
 * For a JSON file, account_id (when present) is copied out and its
 * public_key (when present) must match the secret key.
 * Returns: 1, or 0 with err (DG_ERR_KEY_FILE, the message never quotes the
 *          content).
 * Out: key; account (may be NULL): DG_NEAR_ACCOUNT_MAX+1 chars, "" when the
 *      file does not name one. */
int dg_near_key_load_file(const char *path, dg_near_key *key, char *account, dg_err *err);

/* The path of near-cli's credential file for an account:
 * <home>/.near-credentials/<network>/<account>.json.
 * Returns 1, or 0 (DG_ERR_INPUT) when the account id is invalid, the network
 * is not a plain name, or the path does not fit cap. */
int dg_near_credentials_path(const char *home, const char *network, const char *account, char *out,
                             size_t cap, dg_err *err);

/* ------------------------------------------------------------------ transactions */

#define DG_NEAR_TGAS 1000000000000ull /* 10^12 gas */

typedef enum {
    DG_NEAR_CREATE_ACCOUNT = 0,
    DG_NEAR_DEPLOY_CONTRACT = 1,
    DG_NEAR_FUNCTION_CALL = 2,
    DG_NEAR_TRANSFER = 3,
    DG_NEAR_ADD_KEY = 5,
    DG_NEAR_DELETE_KEY = 6
} dg_near_action_kind;

/* One action. Pointers are borrowed by the transaction that holds it. */
typedef struct {
    dg_near_action_kind kind;
    /* DEPLOY_CONTRACT */
    const uint8_t *code;
    size_t code_len;
    /* FUNCTION_CALL */
    const char *method;
    const uint8_t *args; /* JSON text by convention */
    size_t args_len;
    uint64_t gas;
    /* FUNCTION_CALL (attached deposit) and TRANSFER, in yoctoNEAR */
    dg_u256 deposit;
    /* ADD_KEY, DELETE_KEY */
    uint8_t public_key[32];
    /* ADD_KEY: 0 = full access; 1 = a function-call key for fc_receiver and
     * fc_methods (none = any method), with an optional allowance */
    int fc_key;
    int fc_has_allowance;
    dg_u256 fc_allowance;
    const char *fc_receiver;
    const char *const *fc_methods;
    size_t fc_nmethods;
} dg_near_action;

/* A transaction (NEAR's TransactionV0). */
typedef struct {
    const char *signer_id;
    uint8_t public_key[32]; /* ed25519 key of the signer that signs */
    uint64_t nonce;         /* the access key's nonce + 1 (or more) */
    const char *receiver_id;
    uint8_t block_hash[32]; /* a recent block: the transaction expires with it */
    const dg_near_action *actions;
    size_t nactions;
} dg_near_tx;

/* Borsh-encode a transaction (what is hashed and signed) and APPEND it.
 * Returns 1, or 0 (DG_ERR_INPUT naming the bad field: an invalid account id,
 * no actions, an amount above 2^128; DG_ERR_NOMEM). */
int dg_near_tx_encode(const dg_near_tx *tx, dg_buf *out, dg_err *err);

/* Sign: SHA-256 of the encoding is the transaction hash, its ed25519
 * signature follows the encoding (SignedTransaction). The key must be the
 * transaction's public_key.
 * Returns 1, or 0 (DG_ERR_INPUT for a key mismatch or a bad field).
 * Out: signed_tx: the signed bytes are APPENDED; hash: 32 bytes (may be NULL). */
int dg_near_tx_sign(const dg_near_tx *tx, const dg_near_key *key, dg_buf *signed_tx,
                    uint8_t hash[32], dg_err *err);

/* A decoded signed transaction: every string and byte vector is owned. */
typedef struct {
    char signer_id[DG_NEAR_ACCOUNT_MAX + 1];
    char receiver_id[DG_NEAR_ACCOUNT_MAX + 1];
    uint8_t public_key[32];
    uint64_t nonce;
    uint8_t block_hash[32];
    dg_near_action *actions; /* owned, with owned code/method/args/receiver/method names */
    size_t nactions;
    uint8_t signature[64];
    uint8_t hash[32]; /* SHA-256 of the transaction part */
} dg_near_signed_tx;

/* Decode a SignedTransaction with the actions above (ed25519 only) and check
 * its signature. Strict: no trailing bytes, valid account ids, no unknown
 * action or key type.
 * Returns 1, or 0 (DG_ERR_INPUT naming the problem). Free with
 * dg_near_signed_tx_free (also after a failure). */
int dg_near_signed_tx_decode(const uint8_t *raw, size_t len, dg_near_signed_tx *out, dg_err *err);
void dg_near_signed_tx_free(dg_near_signed_tx *tx);

/* ------------------------------------------------------------------ outcomes */

/* What a final execution outcome says (send_tx, broadcast_tx_commit, tx). */
typedef struct {
    uint8_t tx_hash[32];
    int success;    /* status SuccessValue / SuccessReceiptId */
    uint8_t *value; /* SuccessValue bytes (owned, may be NULL) */
    size_t value_len;
    char **logs; /* every log line of every receipt, in order (owned) */
    size_t nlogs;
    json_t *events;       /* NEP-297 events: array of {standard, version, event, data,
                             executor_id} parsed from "EVENT_JSON:" logs (owned) */
    uint64_t gas_burnt;   /* transaction + every receipt */
    dg_u256 tokens_burnt; /* yoctoNEAR, transaction + every receipt */
    size_t nreceipts;
    size_t nfailed;        /* receipts whose own status is a Failure */
    char final_status[32]; /* final_execution_status when the node sent one, else "" */
    dg_err failure;        /* when !success: the class and one sentence (a panic with its
                              text, LackBalanceForState with the amount, ...) */
} dg_near_outcome;

/* Parse a final execution outcome (pure; fuzzed). A transaction that ran
 * and failed is parsed successfully with success = 0 and failure set.
 * Returns 1, or 0 (DG_ERR_RPC_RESPONSE) when the JSON is not an outcome.
 * Out: out (free with dg_near_outcome_free, also after a failure). */
int dg_near_outcome_parse(const json_t *result, dg_near_outcome *out, dg_err *err);
void dg_near_outcome_free(dg_near_outcome *o);

/* ------------------------------------------------------------------ the send flow */

typedef struct {
    const char *wait_until; /* send_tx's wait_until; NULL = "FINAL" */
    long timeout_ms;        /* how long to wait for the outcome; 0 = 120 s */
    int no_nonce_retry;     /* 1 = do not resend once with the node's nonce */
} dg_near_send_opts;

/* A checked transaction, ready to sign: what a program shows before asking. */
typedef struct {
    const char *label; /* borrowed */
    char signer_id[DG_NEAR_ACCOUNT_MAX + 1];
    char receiver_id[DG_NEAR_ACCOUNT_MAX + 1];
    dg_near_tx tx;         /* every field set; borrows the actions and the ids above */
    uint64_t block_height; /* of tx.block_hash */
    int full_access;       /* the signing key is a full-access key */
    dg_u256 gas_price;     /* yoctoNEAR per gas */
    uint64_t prepaid_gas;  /* attached to function calls */
    uint64_t fee_gas;      /* estimated action fees (creation, deployment per byte, ...) */
    dg_u256 deposit;       /* attached deposits + transfers */
    dg_u256 max_cost;      /* (prepaid_gas + fee_gas) * gas_price + deposit: unused gas is
                              refunded, so the real cost is lower */
    dg_u256 balance;       /* the signer's liquid balance */
} dg_near_plan;

/* Plan a transaction: the signer's access key (nonce, a recent block hash,
 * permission), its balance, the gas price, and the receiver's code when a
 * method is called on an existing account.
 * Returns 1 with out, or 0 with err in this order of checks: a bad id or no
 * actions (DG_ERR_INPUT); the node (DG_ERR_RPC_*); the key is not on the
 * signer (DG_ERR_CONFIG); no contract at the receiver (DG_ERR_NO_CODE); the
 * balance below max_cost (DG_ERR_FUNDS, with both amounts in NEAR).
 * In: signer_id, pk (the signing key's public half), receiver_id, actions/n
 *     (borrowed by out->tx), label (borrowed). */
int dg_near_plan_prepare(dg_rpc *rpc, const char *signer_id, const uint8_t pk[32],
                         const char *receiver_id, const dg_near_action *actions, size_t n,
                         const char *label, dg_near_plan *out, dg_err *err);

/* Sign the plan and send it (send_tx with wait_until; broadcast_tx_commit on
 * nodes without send_tx), then wait for the final outcome: on TIMEOUT_ERROR
 * the `tx` method is polled until opts->timeout_ms. A stale nonce
 * (InvalidNonce) is retried once with the node's nonce + 1 and a fresh block.
 * Returns 1 when the transaction succeeded; 0 with err otherwise: refused
 * before it ran (Expired, NotEnoughBalance with the amounts: DG_ERR_FUNDS,
 * InvalidNonce twice, a key mismatch: DG_ERR_INPUT) or ran and failed (the
 * outcome's failure: a panic with its text is DG_ERR_REVERT or
 * DG_ERR_NOT_OWNER). err is prefixed with the plan's label.
 * Out: out (may be NULL): the outcome when the node gave one (out->tx_hash
 *      set; free with dg_near_outcome_free in every case). */
int dg_near_plan_submit(dg_rpc *rpc, const dg_near_send_opts *opts, dg_near_plan *plan,
                        const dg_near_key *key, dg_near_outcome *out, dg_err *err);

/* Plan, sign, send and wait in one call (a KMS that does not confirm). */
int dg_near_transact(dg_rpc *rpc, const dg_near_send_opts *opts, const char *signer_id,
                     const dg_near_key *key, const char *receiver_id, const dg_near_action *actions,
                     size_t n, const char *label, dg_near_outcome *out, dg_err *err);

/* An upper bound of the gas NEAR charges for the actions themselves (not
 * the function calls' own execution, which their prepaid gas covers). */
uint64_t dg_near_action_fee_gas(const dg_near_action *actions, size_t n);

#endif
