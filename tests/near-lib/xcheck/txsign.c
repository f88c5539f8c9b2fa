/* txsign.c — lib/near's transaction signer as a filter, for the byte-for-byte
 * cross-check against near-api-js (xcheck.mjs). One JSON case per input line
 * (seed, signer, receiver, nonce, block hash, actions, all as hex or decimal
 * text); one output line per case: the base64 of the signed transaction, or
 * "error: <message>". The keys are random test keys made by xcheck.mjs. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dstackgov/hex.h"
#include "dstackgov/near.h"

static const char *s_(json_t *o, const char *k) {
    const char *v = json_string_value(json_object_get(o, k));
    return v ? v : "";
}

static int hexbuf(const char *h, dg_buf *b) {
    return dg_hex_decode_var(h, strlen(h), b, NULL);
}

static int one(json_t *c, dg_buf *out, dg_err *e) {
    uint8_t seed[32];
    if (!dg_hex_decode(s_(c, "seed"), 64, seed, 32, e)) return 0;
    dg_near_key k;
    dg_near_key_from_seed(seed, &k);
    json_t *acts = json_object_get(c, "actions");
    size_t n = json_array_size(acts);
    dg_near_action a[16];
    dg_buf bufs[32];
    const char *names[16][8];
    size_t nb = 0;
    memset(a, 0, sizeof a);
    if (n > 16) return dg_err_set(e, DG_ERR_INPUT, "too many actions");
    int ok = 1;
    for (size_t i = 0; i < n && ok; i++) {
        json_t *x = json_array_get(acts, i);
        const char *t = s_(x, "t");
        if (strcmp(t, "create") == 0) {
            a[i].kind = DG_NEAR_CREATE_ACCOUNT;
        } else if (strcmp(t, "transfer") == 0) {
            a[i].kind = DG_NEAR_TRANSFER;
            ok = dg_u256_parse(s_(x, "deposit"), &a[i].deposit, e);
        } else if (strcmp(t, "deploy") == 0) {
            a[i].kind = DG_NEAR_DEPLOY_CONTRACT;
            dg_buf_init(&bufs[nb]);
            ok = hexbuf(s_(x, "code"), &bufs[nb]);
            a[i].code = bufs[nb].data;
            a[i].code_len = bufs[nb++].len;
        } else if (strcmp(t, "call") == 0) {
            a[i].kind = DG_NEAR_FUNCTION_CALL;
            a[i].method = s_(x, "method");
            dg_buf_init(&bufs[nb]);
            ok = hexbuf(s_(x, "args"), &bufs[nb]);
            a[i].args = bufs[nb].data;
            a[i].args_len = bufs[nb++].len;
            dg_u256 g;
            ok = ok && dg_u256_parse(s_(x, "gas"), &g, e) && dg_u256_to_u64(g, &a[i].gas) &&
                 dg_u256_parse(s_(x, "deposit"), &a[i].deposit, e);
        } else if (strcmp(t, "add_key") == 0 || strcmp(t, "delete_key") == 0) {
            a[i].kind = t[0] == 'a' ? DG_NEAR_ADD_KEY : DG_NEAR_DELETE_KEY;
            ok = dg_hex_decode(s_(x, "pk"), 64, a[i].public_key, 32, e);
            json_t *fc = json_object_get(x, "fc");
            if (ok && json_is_object(fc)) {
                a[i].fc_key = 1;
                a[i].fc_receiver = s_(fc, "receiver");
                json_t *al = json_object_get(fc, "allowance");
                if (json_is_string(al)) {
                    a[i].fc_has_allowance = 1;
                    ok = dg_u256_parse(json_string_value(al), &a[i].fc_allowance, e);
                }
                json_t *m = json_object_get(fc, "methods");
                for (size_t j = 0; j < json_array_size(m) && j < 8; j++)
                    names[i][j] = json_string_value(json_array_get(m, j));
                a[i].fc_methods = names[i];
                a[i].fc_nmethods = json_array_size(m) < 8 ? json_array_size(m) : 8;
            }
        } else {
            ok = dg_err_set(e, DG_ERR_INPUT, "unknown action %s", t);
        }
    }
    dg_near_tx tx = {s_(c, "signer"), {0}, 0, s_(c, "receiver"), {0}, a, n};
    memcpy(tx.public_key, k.pk, 32);
    dg_u256 nonce;
    ok = ok && dg_u256_parse(s_(c, "nonce"), &nonce, e) && dg_u256_to_u64(nonce, &tx.nonce) &&
         dg_hex_decode(s_(c, "block_hash"), 64, tx.block_hash, 32, e) &&
         dg_near_tx_sign(&tx, &k, out, NULL, e);
    for (size_t i = 0; i < nb; i++)
        dg_buf_free(&bufs[i]);
    dg_near_key_wipe(&k);
    return ok;
}

int main(void) {
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, stdin) > 0) {
        json_t *c = json_loads(line, 0, NULL);
        dg_buf out;
        dg_buf_init(&out);
        dg_err e = {0};
        if (c && one(c, &out, &e)) {
            size_t l = sodium_base64_ENCODED_LEN(out.len, sodium_base64_VARIANT_ORIGINAL);
            char *b = malloc(l);
            sodium_bin2base64(b, l, out.data, out.len, sodium_base64_VARIANT_ORIGINAL);
            printf("%s\n", b);
            free(b);
        } else {
            printf("error: %s\n", c ? e.msg : "bad JSON");
        }
        fflush(stdout);
        dg_buf_free(&out);
        json_decref(c);
    }
    free(line);
    return 0;
}
