/* tx.c — NEAR transactions: borsh encoding of TransactionV0 and its actions,
 * signing, and the strict decoding of a signed transaction.
 *
 * The one idea: a NEAR transaction is identified and signed by the SHA-256 of
 * its borsh bytes, so the encoder must produce exactly the bytes every other
 * implementation produces (near-api-js is the cross-check, tests/near-lib).
 * Every id is validated before it is encoded, so a typo fails here with the
 * field's name, not on the chain. The decoder exists for tests and fuzzing:
 * decode(encode(tx)) == tx, byte for byte.
 */
#include "dstackgov/near.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dstackgov/hash.h"
#include "dstackgov/secret.h"

#define MAX_ACTIONS 100 /* nearcore's max_actions_per_receipt */

static int check_id(const char *what, const char *id, dg_err *err) {
    if (!dg_near_account_id_check(id, err)) return dg_err_wrap(err, "%s", what);
    return 1;
}

static int enc_pk(dg_buf *b, const uint8_t pk[32]) {
    return dg_borsh_u8(b, 0) && dg_buf_append(b, pk, 32);
}

static int enc_action(dg_buf *b, const dg_near_action *a, size_t i, dg_err *err) {
    if (!dg_borsh_u8(b, (uint8_t)a->kind)) return 0;
    switch (a->kind) {
    case DG_NEAR_CREATE_ACCOUNT:
        return 1;
    case DG_NEAR_DEPLOY_CONTRACT:
        if (!a->code || !a->code_len)
            return dg_err_set(err, DG_ERR_INPUT, "action %zu: DeployContract without code", i);
        return dg_borsh_bytes(b, a->code, a->code_len);
    case DG_NEAR_FUNCTION_CALL:
        if (!a->method || !*a->method)
            return dg_err_set(err, DG_ERR_INPUT, "action %zu: FunctionCall without a method", i);
        if (!dg_borsh_string(b, a->method) || !dg_borsh_bytes(b, a->args, a->args_len) ||
            !dg_borsh_u64(b, a->gas))
            return 0;
        if (!dg_borsh_u128(b, a->deposit))
            return dg_err_set(err, DG_ERR_INPUT, "action %zu: deposit above 2^128 yoctoNEAR", i);
        return 1;
    case DG_NEAR_TRANSFER:
        if (!dg_borsh_u128(b, a->deposit))
            return dg_err_set(err, DG_ERR_INPUT, "action %zu: transfer above 2^128 yoctoNEAR", i);
        return 1;
    case DG_NEAR_ADD_KEY:
        if (!enc_pk(b, a->public_key) || !dg_borsh_u64(b, 0)) return 0; /* the new key's nonce */
        if (!a->fc_key) return dg_borsh_u8(b, 1);                       /* FullAccess */
        if (!check_id("function-call key receiver", a->fc_receiver, err)) return 0;
        if (!dg_borsh_u8(b, 0) || !dg_borsh_u8(b, a->fc_has_allowance ? 1 : 0)) return 0;
        if (a->fc_has_allowance && !dg_borsh_u128(b, a->fc_allowance))
            return dg_err_set(err, DG_ERR_INPUT, "action %zu: allowance above 2^128", i);
        if (!dg_borsh_string(b, a->fc_receiver) || !dg_borsh_u32(b, (uint32_t)a->fc_nmethods))
            return 0;
        for (size_t k = 0; k < a->fc_nmethods; k++)
            if (!dg_borsh_string(b, a->fc_methods[k])) return 0;
        return 1;
    case DG_NEAR_DELETE_KEY:
        return enc_pk(b, a->public_key);
    }
    return dg_err_set(err, DG_ERR_INPUT, "action %zu: unknown kind %d", i, (int)a->kind);
}

int dg_near_tx_encode(const dg_near_tx *tx, dg_buf *out, dg_err *err) {
    if (!check_id("signer", tx->signer_id, err) || !check_id("receiver", tx->receiver_id, err))
        return 0;
    if (!tx->nactions || tx->nactions > MAX_ACTIONS)
        return dg_err_set(err, DG_ERR_INPUT, "a transaction needs 1 to %d actions, got %zu",
                          MAX_ACTIONS, tx->nactions);
    size_t start = out->len;
    dg_err e = {DG_ERR_NOMEM, "out of memory encoding the transaction"};
    int ok = dg_borsh_string(out, tx->signer_id) && enc_pk(out, tx->public_key) &&
             dg_borsh_u64(out, tx->nonce) && dg_borsh_string(out, tx->receiver_id) &&
             dg_buf_append(out, tx->block_hash, 32) && dg_borsh_u32(out, (uint32_t)tx->nactions);
    for (size_t i = 0; ok && i < tx->nactions; i++)
        ok = enc_action(out, &tx->actions[i], i, &e);
    if (!ok || out->oom) {
        out->len = start;
        if (err) *err = e;
        return 0;
    }
    return 1;
}

int dg_near_tx_sign(const dg_near_tx *tx, const dg_near_key *key, dg_buf *signed_tx,
                    uint8_t hash[32], dg_err *err) {
    if (memcmp(key->pk, tx->public_key, 32) != 0)
        return dg_err_set(err, DG_ERR_INPUT, "the signing key is not the transaction's public key");
    size_t start = signed_tx->len;
    if (!dg_near_tx_encode(tx, signed_tx, err)) return 0;
    uint8_t h[32], sig[64];
    dg_sha256(signed_tx->data + start, signed_tx->len - start, h);
    dg_near_sign(key, h, 32, sig);
    if (!dg_borsh_u8(signed_tx, 0) || !dg_buf_append(signed_tx, sig, 64)) {
        signed_tx->len = start;
        return dg_err_set(err, DG_ERR_NOMEM, "out of memory signing the transaction");
    }
    if (hash) memcpy(hash, h, 32);
    return 1;
}

/* ------------------------------------------------------------------ decoding */

static char *dup_bytes(const uint8_t *p, size_t n) {
    char *s = malloc(n + 1);
    if (!s) return NULL;
    if (n) memcpy(s, p, n);
    s[n] = 0;
    return s;
}

static void read_pk(dg_borsh_reader *r, uint8_t pk[32]) {
    if (dg_borsh_read_u8(r) != 0) r->bad = 1; /* ed25519 only */
    const uint8_t *q = dg_borsh_read_fixed(r, 32);
    if (q) memcpy(pk, q, 32);
}

/* an owned string with no NUL byte */
static const char *read_str(dg_borsh_reader *r) {
    size_t n;
    const uint8_t *q = dg_borsh_read_bytes(r, &n);
    if (!q || memchr(q, 0, n)) {
        r->bad = 1;
        return NULL;
    }
    char *s = dup_bytes(q, n);
    if (!s) r->bad = 1;
    return s;
}

static int dec_action(dg_borsh_reader *r, dg_near_action *a, dg_err *err) {
    size_t n;
    const uint8_t *q;
    uint8_t tag = dg_borsh_read_u8(r);
    a->kind = (dg_near_action_kind)tag;
    switch (tag) {
    case DG_NEAR_CREATE_ACCOUNT:
        return 1;
    case DG_NEAR_DEPLOY_CONTRACT:
        q = dg_borsh_read_bytes(r, &n);
        if (!q) return 1;
        a->code = (const uint8_t *)dup_bytes(q, n);
        a->code_len = n;
        return 1;
    case DG_NEAR_FUNCTION_CALL:
        a->method = read_str(r);
        q = dg_borsh_read_bytes(r, &n);
        if (q) {
            a->args = (const uint8_t *)dup_bytes(q, n);
            a->args_len = n;
        }
        a->gas = dg_borsh_read_u64(r);
        a->deposit = dg_borsh_read_u128(r);
        return 1;
    case DG_NEAR_TRANSFER:
        a->deposit = dg_borsh_read_u128(r);
        return 1;
    case DG_NEAR_ADD_KEY: {
        read_pk(r, a->public_key);
        if (dg_borsh_read_u64(r) != 0) r->bad = 1; /* new keys start at nonce 0 */
        uint8_t perm = dg_borsh_read_u8(r);
        if (perm == 1) return 1;
        if (perm != 0) return dg_err_set(err, DG_ERR_INPUT, "unknown access key permission");
        a->fc_key = 1;
        uint8_t opt = dg_borsh_read_u8(r);
        if (opt > 1) r->bad = 1;
        a->fc_has_allowance = opt == 1;
        if (opt == 1) a->fc_allowance = dg_borsh_read_u128(r);
        a->fc_receiver = read_str(r);
        uint32_t m = dg_borsh_read_u32(r);
        if (r->bad || m > 256) return dg_err_set(err, DG_ERR_INPUT, "bad method-name list");
        const char **names = calloc(m ? m : 1, sizeof *names);
        if (!names) return dg_err_set(err, DG_ERR_NOMEM, "out of memory");
        a->fc_methods = names;
        for (uint32_t k = 0; k < m && !r->bad; k++) {
            names[k] = read_str(r);
            a->fc_nmethods = k + 1;
        }
        return 1;
    }
    case DG_NEAR_DELETE_KEY:
        read_pk(r, a->public_key);
        return 1;
    default:
        return dg_err_set(err, DG_ERR_INPUT, "unsupported action tag %u", tag);
    }
}

int dg_near_signed_tx_decode(const uint8_t *raw, size_t len, dg_near_signed_tx *out, dg_err *err) {
    memset(out, 0, sizeof *out);
    dg_borsh_reader r;
    dg_borsh_reader_init(&r, raw, len);
    dg_borsh_read_string(&r, out->signer_id, sizeof out->signer_id);
    read_pk(&r, out->public_key);
    out->nonce = dg_borsh_read_u64(&r);
    dg_borsh_read_string(&r, out->receiver_id, sizeof out->receiver_id);
    const uint8_t *bh = dg_borsh_read_fixed(&r, 32);
    if (bh) memcpy(out->block_hash, bh, 32);
    uint32_t n = dg_borsh_read_u32(&r);
    if (r.bad) return dg_err_set(err, DG_ERR_INPUT, "signed transaction: truncated header");
    if (n == 0 || n > MAX_ACTIONS)
        return dg_err_set(err, DG_ERR_INPUT, "signed transaction: %u actions (1 to %d allowed)", n,
                          MAX_ACTIONS);
    out->actions = calloc(n, sizeof *out->actions);
    if (!out->actions) return dg_err_set(err, DG_ERR_NOMEM, "out of memory");
    for (uint32_t i = 0; i < n && !r.bad; i++) {
        out->nactions = i + 1;
        if (!dec_action(&r, &out->actions[i], err))
            return dg_err_wrap(err, "signed transaction: action %u", i);
    }
    size_t txlen = r.off;
    if (dg_borsh_read_u8(&r) != 0) r.bad = 1;
    const uint8_t *sig = dg_borsh_read_fixed(&r, 64);
    if (!dg_borsh_done(&r, err)) return dg_err_wrap(err, "signed transaction");
    memcpy(out->signature, sig, 64);
    dg_err e = {0};
    if (!dg_near_account_id_check(out->signer_id, &e) ||
        !dg_near_account_id_check(out->receiver_id, &e))
        return dg_err_set(err, DG_ERR_INPUT, "signed transaction: %s", e.msg);
    dg_sha256(raw, txlen, out->hash);
    if (!dg_near_verify(out->public_key, out->hash, 32, out->signature))
        return dg_err_set(err, DG_ERR_INPUT, "signed transaction: the signature does not verify");
    return 1;
}

void dg_near_signed_tx_free(dg_near_signed_tx *tx) {
    for (size_t i = 0; tx->actions && i < tx->nactions; i++) {
        dg_near_action *a = &tx->actions[i];
        free((void *)a->code);
        free((void *)a->method);
        free((void *)a->args);
        free((void *)a->fc_receiver);
        for (size_t k = 0; a->fc_methods && k < a->fc_nmethods; k++)
            free((void *)a->fc_methods[k]);
        free((void *)a->fc_methods);
    }
    free(tx->actions);
    tx->actions = NULL;
    tx->nactions = 0;
}

/* ------------------------------------------------------------------ fees */

/* Upper bounds of nearcore's action fees (send + execution, in gas): generous
 * so the confirmed cost is never below what is charged. */
uint64_t dg_near_action_fee_gas(const dg_near_action *actions, size_t n) {
    const uint64_t tg = DG_NEAR_TGAS;
    uint64_t g = tg; /* the transaction and its receipt */
    for (size_t i = 0; i < n; i++) {
        const dg_near_action *a = &actions[i];
        g += tg / 2;
        if (a->kind == DG_NEAR_DEPLOY_CONTRACT) g += (uint64_t)a->code_len * 72000000ull;
        if (a->kind == DG_NEAR_FUNCTION_CALL)
            g += (uint64_t)(a->args_len + (a->method ? strlen(a->method) : 0)) * 5000000ull;
    }
    return g;
}
