/* secp.c — secp256k1 keys, recoverable signatures and Ethereum addresses on
 * libsecp256k1 (see include/dstackgov/secp.h).
 *
 * The one idea: key material only ever lives in caller buffers and in
 * short-lived locals here, and every local that held it is wiped before
 * return. A signing context is created per call and randomized (blinding
 * against side channels); with libsecp256k1 >= 0.2 that is cheap, and it
 * keeps the module free of global state.
 */
#include "dstackgov/secp.h"

#include <secp256k1.h>
#include <secp256k1_recovery.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "dstackgov/hash.h"
#include "dstackgov/hex.h"
#include "dstackgov/secret.h"

/* n/2 of secp256k1, big-endian: the largest s allowed by EIP-2. */
static const uint8_t g_half_order[32] = {
    0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x5d, 0x57, 0x6e, 0x73, 0x57, 0xa4, 0x50, 0x1d, 0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0};

static secp256k1_context *signing_context(void) {
    secp256k1_context *ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    if (!ctx) return NULL;
    uint8_t seed[32];
    if (sodium_init() < 0) {
        secp256k1_context_destroy(ctx);
        return NULL;
    }
    randombytes_buf(seed, sizeof seed);
    int ok = secp256k1_context_randomize(ctx, seed);
    dg_wipe(seed, sizeof seed);
    if (!ok) {
        secp256k1_context_destroy(ctx);
        return NULL;
    }
    return ctx;
}

int dg_secp_pubkey(const uint8_t priv[32], uint8_t pub64[64], dg_err *err) {
    secp256k1_context *ctx = signing_context();
    if (!ctx) return dg_err_set(err, DG_ERR_INTERNAL, "secp256k1: cannot create a context");
    secp256k1_pubkey pk;
    int ok = 0;
    if (!secp256k1_ec_seckey_verify(ctx, priv) || !secp256k1_ec_pubkey_create(ctx, &pk, priv)) {
        dg_err_set(err, DG_ERR_INPUT,
                   "private key is not valid (zero or not below the curve order)");
    } else {
        uint8_t ser[65];
        size_t len = sizeof ser;
        secp256k1_ec_pubkey_serialize(ctx, ser, &len, &pk, SECP256K1_EC_UNCOMPRESSED);
        memcpy(pub64, ser + 1, 64);
        ok = 1;
    }
    secp256k1_context_destroy(ctx);
    return ok;
}

void dg_eth_address_from_pub(const uint8_t pub64[64], uint8_t addr[20]) {
    uint8_t h[32];
    dg_keccak256(pub64, 64, h);
    memcpy(addr, h + 12, 20);
}

int dg_eth_address_from_priv(const uint8_t priv[32], uint8_t addr[20], dg_err *err) {
    uint8_t pub[64];
    if (!dg_secp_pubkey(priv, pub, err)) return 0;
    dg_eth_address_from_pub(pub, addr);
    return 1;
}

int dg_secp_sign(const uint8_t priv[32], const uint8_t hash32[32], uint8_t sig64[64], int *recid,
                 dg_err *err) {
    secp256k1_context *ctx = signing_context();
    if (!ctx) return dg_err_set(err, DG_ERR_INTERNAL, "secp256k1: cannot create a context");
    secp256k1_ecdsa_recoverable_signature sig;
    int ok = 0, rid = 0;
    if (!secp256k1_ec_seckey_verify(ctx, priv) ||
        !secp256k1_ecdsa_sign_recoverable(ctx, &sig, hash32, priv, NULL, NULL)) {
        dg_err_set(err, DG_ERR_INPUT,
                   "private key is not valid (zero or not below the curve order)");
    } else {
        /* libsecp256k1 always produces s in the lower half (EIP-2). */
        secp256k1_ecdsa_recoverable_signature_serialize_compact(ctx, sig64, &rid, &sig);
        if (recid) *recid = rid;
        ok = 1;
    }
    dg_wipe(&sig, sizeof sig);
    secp256k1_context_destroy(ctx);
    return ok;
}

int dg_secp_recover_address(const uint8_t hash32[32], const uint8_t sig64[64], int recid,
                            uint8_t addr[20], dg_err *err) {
    if (recid < 0 || recid > 3)
        return dg_err_set(err, DG_ERR_INPUT, "signature recovery id %d is not 0..3", recid);
    if (memcmp(sig64 + 32, g_half_order, 32) > 0)
        return dg_err_set(err, DG_ERR_INPUT, "signature s is in the upper half (EIP-2 forbids it)");
    /* recovery involves no secret: the static context suffices */
    const secp256k1_context *ctx = secp256k1_context_static;
    secp256k1_ecdsa_recoverable_signature sig;
    secp256k1_pubkey pk;
    int ok = 0;
    if (!secp256k1_ecdsa_recoverable_signature_parse_compact(ctx, &sig, sig64, recid)) {
        dg_err_set(err, DG_ERR_INPUT, "signature r or s is not below the curve order");
    } else if (!secp256k1_ecdsa_recover(ctx, &pk, &sig, hash32)) {
        dg_err_set(err, DG_ERR_INPUT, "no public key recovers from this signature");
    } else {
        uint8_t ser[65];
        size_t len = sizeof ser;
        secp256k1_ec_pubkey_serialize(ctx, ser, &len, &pk, SECP256K1_EC_UNCOMPRESSED);
        dg_eth_address_from_pub(ser + 1, addr);
        ok = 1;
    }
    return ok;
}

static int is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Parse s[0..len) (not NUL-terminated necessarily). Messages never quote it. */
static int parse_key(const char *s, size_t len, uint8_t priv[32], dg_err *err) {
    while (len && is_space(*s))
        s++, len--;
    while (len && is_space(s[len - 1]))
        len--;
    if (len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s += 2, len -= 2;
    if (len != 64)
        return dg_err_set(err, DG_ERR_INPUT,
                          "private key must be 64 hex digits, got %zu characters", len);
    uint8_t k[32];
    for (size_t i = 0; i < 32; i++) {
        int hi = dg_hex_digit(s[2 * i]), lo = dg_hex_digit(s[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            dg_wipe(k, sizeof k);
            return dg_err_set(err, DG_ERR_INPUT,
                              "private key has a non-hex character at position %zu",
                              2 * i + (hi < 0 ? 1 : 2));
        }
        k[i] = (uint8_t)(hi << 4 | lo);
    }
    if (!secp256k1_ec_seckey_verify(secp256k1_context_static, k)) {
        dg_wipe(k, sizeof k);
        return dg_err_set(err, DG_ERR_INPUT,
                          "private key is not valid (zero or not below the curve order)");
    }
    memcpy(priv, k, 32);
    dg_wipe(k, sizeof k);
    return 1;
}

int dg_privkey_parse(const char *hex, uint8_t priv[32], dg_err *err) {
    if (!hex) return dg_err_set(err, DG_ERR_INPUT, "no private key given");
    return parse_key(hex, strlen(hex), priv, err);
}

static int parse_key_cb(void *ctx, const char *text, size_t len, dg_err *err) {
    return parse_key(text, len, ctx, err);
}

int dg_privkey_load_file(const char *path, uint8_t priv[32], dg_err *err) {
    /* 4096: a hex key with any comment or whitespace around it fits easily */
    return dg_secret_file_load(path, 4096, parse_key_cb, priv, err);
}
