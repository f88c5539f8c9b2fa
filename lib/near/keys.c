/* keys.c — NEAR's text forms: ed25519 keys and signatures ("ed25519:" +
 * base58), account ids, and NEAR amounts.
 *
 * The one idea: everything that arrives as text is checked completely before
 * it is used — a key's public half must match its seed, an account id must
 * match NEAR's grammar exactly, an amount must be exact to the yoctoNEAR — so
 * a typo is an error here and never a transaction to the wrong place. Secret
 * material passes only through caller-owned buffers that are wiped, and no
 * message quotes it. Ed25519 is libsodium's.
 */
#include "dstackgov/near.h"

#include <ctype.h>
#include <strings.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "dstackgov/secret.h"

/* ------------------------------------------------------------------ keys */

static const char ED[] = "ed25519:";

void dg_near_key_from_seed(const uint8_t seed[32], dg_near_key *key) {
    crypto_sign_seed_keypair(key->pk, key->sk, seed);
}

void dg_near_key_wipe(dg_near_key *key) {
    dg_wipe(key, sizeof *key);
}

int dg_near_key_parse(const char *s, dg_near_key *key, dg_err *err) {
    if (!s) return dg_err_set(err, DG_ERR_INPUT, "missing NEAR secret key");
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    if (n > 8 && strncmp(s, ED, 8) == 0) {
        s += 8;
        n -= 8;
    } else if (n > 10 && strncmp(s, "secp256k1:", 10) == 0) {
        return dg_err_set(err, DG_ERR_INPUT,
                          "NEAR secret key is a secp256k1 key; only ed25519 keys are supported");
    }
    uint8_t raw[64];
    size_t got = 0;
    dg_err e = {0};
    if (!dg_base58_decode(s, n, raw, sizeof raw, &got, &e) || (got != 64 && got != 32)) {
        dg_wipe(raw, sizeof raw);
        return dg_err_set(err, DG_ERR_INPUT,
                          "NEAR secret key is not \"ed25519:\" followed by the base58 of 64 bytes "
                          "(seed and public key)");
    }
    dg_near_key k;
    dg_near_key_from_seed(raw, &k);
    int ok = got == 32 || sodium_memcmp(raw + 32, k.pk, 32) == 0;
    dg_wipe(raw, sizeof raw);
    if (!ok) {
        dg_near_key_wipe(&k);
        return dg_err_set(err, DG_ERR_INPUT,
                          "NEAR secret key is inconsistent: its public half does not belong to "
                          "its seed");
    }
    *key = k;
    dg_near_key_wipe(&k);
    return 1;
}

/* "ed25519:" + base58 of exactly n bytes */
static int parse_prefixed(const char *what, const char *s, uint8_t *out, size_t n, dg_err *err) {
    if (!s || strncmp(s, ED, 8) != 0)
        return dg_err_set(err, DG_ERR_INPUT, "%s must start with \"ed25519:\"", what);
    if (!dg_base58_decode_exact(s + 8, out, n, err)) return dg_err_wrap(err, "%s", what);
    return 1;
}

int dg_near_pubkey_parse(const char *s, uint8_t pk[32], dg_err *err) {
    return parse_prefixed("NEAR public key", s, pk, 32, err);
}

int dg_near_sig_parse(const char *s, uint8_t sig[64], dg_err *err) {
    return parse_prefixed("NEAR signature", s, sig, 64, err);
}

/* "ed25519:" + base58 of n bytes into out (cap chars) */
static void format_prefixed(const uint8_t *p, size_t n, char *out, size_t cap) {
    snprintf(out, cap, "%s", ED);
    dg_base58_encode(p, n, out + 8, cap - 8);
}

void dg_near_pubkey_format(const uint8_t pk[32], char out[DG_NEAR_PUBKEY_LEN]) {
    format_prefixed(pk, 32, out, DG_NEAR_PUBKEY_LEN);
}

void dg_near_sig_format(const uint8_t sig[64], char out[DG_NEAR_SIG_LEN]) {
    format_prefixed(sig, 64, out, DG_NEAR_SIG_LEN);
}

void dg_near_sign(const dg_near_key *key, const uint8_t *msg, size_t n, uint8_t sig[64]) {
    crypto_sign_detached(sig, NULL, msg, n, key->sk);
}

int dg_near_verify(const uint8_t pk[32], const uint8_t *msg, size_t n, const uint8_t sig[64]) {
    return crypto_sign_verify_detached(sig, msg, n, pk) == 0;
}

/* ------------------------------------------------------------------ account ids */

int dg_near_account_id_check(const char *id, dg_err *err) {
    if (!id) return dg_err_set(err, DG_ERR_INPUT, "missing NEAR account id");
    size_t n = strlen(id);
    if (n < 2 || n > DG_NEAR_ACCOUNT_MAX)
        return dg_err_set(err, DG_ERR_INPUT,
                          "NEAR account id \"%.80s\" has %zu characters (2 to 64 allowed)", id, n);
    /* prev: 0 = start of a part, 1 = after [a-z0-9], 2 = after a separator */
    int prev = 0;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        int alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (alnum) {
            prev = 1;
            continue;
        }
        if (c >= 'A' && c <= 'Z')
            return dg_err_set(err, DG_ERR_INPUT,
                              "NEAR account id \"%s\" has an upper-case letter at %zu (account ids "
                              "are lower case)",
                              id, i + 1);
        if (c != '.' && c != '-' && c != '_')
            return dg_err_set(err, DG_ERR_INPUT,
                              "NEAR account id \"%s\" has an invalid character at %zu (allowed: "
                              "a-z 0-9 . - _)",
                              id, i + 1);
        if (prev != 1)
            return dg_err_set(err, DG_ERR_INPUT,
                              "NEAR account id \"%s\" has a misplaced '%c' at %zu (separators go "
                              "between letters or digits)",
                              id, c, i + 1);
        prev = c == '.' ? 0 : 2;
    }
    if (prev != 1)
        return dg_err_set(err, DG_ERR_INPUT, "NEAR account id \"%s\" ends with a separator", id);
    return 1;
}

static int all_lower_hex(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return 0;
    return 1;
}

int dg_near_account_id_is_implicit(const char *id) {
    if (!id) return 0;
    size_t n = strlen(id);
    if (n == 64) return all_lower_hex(id, 64);
    if (n == 42 && id[0] == '0' && id[1] == 'x') return all_lower_hex(id + 2, 40);
    return 0;
}

/* ------------------------------------------------------------------ amounts */

static int fits_u128(dg_u256 v) {
    return v.w[2] == 0 && v.w[3] == 0;
}

static int unit_is(const char *u, const char *name) {
    return strcasecmp(u, name) == 0;
}

int dg_near_parse_amount(const char *s, dg_u256 *yocto, dg_err *err) {
    if (!s || !*s) return dg_err_set(err, DG_ERR_INPUT, "empty NEAR amount");
    const char *p = s;
    size_t ni = 0, nf = 0;
    const char *ip = p;
    while (p[ni] >= '0' && p[ni] <= '9')
        ni++;
    p += ni;
    const char *fp = NULL;
    if (*p == '.') {
        fp = ++p;
        while (p[nf] >= '0' && p[nf] <= '9')
            nf++;
        p += nf;
    }
    if (ni == 0 && nf == 0)
        return dg_err_set(err, DG_ERR_INPUT, "NEAR amount \"%.60s\" does not start with a number",
                          s);
    while (*p == ' ')
        p++;
    int in_yocto;
    if (!*p || unit_is(p, "near"))
        in_yocto = 0;
    else if (unit_is(p, "yocto") || unit_is(p, "yoctonear"))
        in_yocto = 1;
    else
        return dg_err_set(err, DG_ERR_INPUT,
                          "NEAR amount \"%.60s\" has an unknown unit \"%.20s\" (NEAR or yocto)", s,
                          p);
    if (in_yocto && fp)
        return dg_err_set(err, DG_ERR_INPUT,
                          "NEAR amount \"%.60s\": a yoctoNEAR amount must be an integer", s);
    size_t keep = nf; /* trailing zeros of the fraction carry no value */
    while (keep && fp[keep - 1] == '0')
        keep--;
    if (!in_yocto && keep > 24)
        return dg_err_set(err, DG_ERR_INPUT,
                          "NEAR amount \"%.60s\" is finer than one yoctoNEAR (24 decimals)", s);
    char digits[160];
    if (ni + 24 + 1 > sizeof digits)
        return dg_err_set(err, DG_ERR_INPUT, "NEAR amount \"%.60s\" is too large", s);
    size_t o = 0;
    memcpy(digits, ni ? ip : "0", ni ? ni : 1);
    o = ni ? ni : 1;
    if (!in_yocto) {
        memcpy(digits + o, fp ? fp : "", keep);
        memset(digits + o + keep, '0', 24 - keep);
        o += 24;
    }
    digits[o] = 0;
    dg_u256 v;
    if (!dg_u256_parse(digits, &v, NULL) || !fits_u128(v))
        return dg_err_set(err, DG_ERR_INPUT,
                          "NEAR amount \"%.60s\" is too large (more than 2^128 yoctoNEAR)", s);
    *yocto = v;
    return 1;
}

void dg_near_format_amount(dg_u256 yocto, char out[DG_NEAR_AMOUNT_LEN]) {
    char s[DG_U256_UNITS_LEN];
    dg_u256_format_units(yocto, 24, s);
    snprintf(out, DG_NEAR_AMOUNT_LEN, "%.42s NEAR", s);
}

int dg_near_json_amount(const json_t *v, dg_u256 *out, dg_err *err) {
    const char *s = json_is_string(v) ? json_string_value(v) : NULL;
    dg_u256 x;
    if (!s || !*s || (s[0] == '0' && s[1] == 'x') || !dg_u256_parse(s, &x, NULL) || !fits_u128(x))
        return dg_err_set(err, DG_ERR_RPC_RESPONSE, "amount is not a decimal string of yoctoNEAR");
    *out = x;
    return 1;
}

/* ------------------------------------------------------------------ credential files */

typedef struct {
    dg_near_key *key;
    char *account;
} cred_ctx;

/* zero a JSON string's bytes in place before jansson frees it */
static void wipe_json_string(json_t *v) {
    if (json_is_string(v)) dg_wipe((void *)json_string_value(v), json_string_length(v));
}

static int parse_cred(void *vctx, const char *text, size_t len, dg_err *err) {
    cred_ctx *c = vctx;
    size_t i = 0;
    while (i < len && isspace((unsigned char)text[i]))
        i++;
    if (i == len) return dg_err_set(err, DG_ERR_INPUT, "empty");
    if (text[i] != '{') {
        if (!dg_near_key_parse(text + i, c->key, err)) return 0;
        return 1;
    }
    json_error_t je;
    json_t *j = json_loadb(text, len, 0, &je);
    if (!json_is_object(j)) {
        json_decref(j);
        return dg_err_set(err, DG_ERR_INPUT,
                          "not a near-cli credential file (JSON with private_key) nor an "
                          "\"ed25519:\" key (line %d)",
                          je.line);
    }
    json_t *sk = json_object_get(j, "private_key");
    if (!sk) sk = json_object_get(j, "secret_key");
    const char *acc = json_string_value(json_object_get(j, "account_id"));
    const char *pub = json_string_value(json_object_get(j, "public_key"));
    int ok = 0;
    uint8_t pk[32];
    if (!json_is_string(sk)) {
        dg_err_set(err, DG_ERR_INPUT, "no \"private_key\" string");
    } else if (!dg_near_key_parse(json_string_value(sk), c->key, err)) {
        dg_err_wrap(err, "private_key");
    } else if (acc && !dg_near_account_id_check(acc, err)) {
        dg_err_wrap(err, "account_id");
    } else if (pub && (!dg_near_pubkey_parse(pub, pk, err) || memcmp(pk, c->key->pk, 32) != 0)) {
        dg_err_set(err, DG_ERR_INPUT, "public_key does not belong to private_key");
    } else {
        if (c->account) snprintf(c->account, DG_NEAR_ACCOUNT_MAX + 1, "%s", acc ? acc : "");
        ok = 1;
    }
    wipe_json_string(json_object_get(j, "private_key"));
    wipe_json_string(json_object_get(j, "secret_key"));
    json_decref(j);
    if (!ok) dg_near_key_wipe(c->key);
    return ok;
}

int dg_near_key_load_file(const char *path, dg_near_key *key, char *account, dg_err *err) {
    dg_near_key k;
    cred_ctx c = {&k, account};
    if (account) account[0] = 0;
    if (!dg_secret_file_load(path, 16384, parse_cred, &c, err)) return 0;
    *key = k;
    dg_near_key_wipe(&k);
    return 1;
}

int dg_near_credentials_path(const char *home, const char *network, const char *account, char *out,
                             size_t cap, dg_err *err) {
    if (!dg_near_account_id_check(account, err)) return 0;
    for (const char *p = network; p && *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
            return dg_err_set(err, DG_ERR_INPUT, "network \"%.40s\" is not a plain name", network);
    if (!home || !*home || !network || !*network)
        return dg_err_set(err, DG_ERR_INPUT, "no home directory or network for credentials");
    int n = snprintf(out, cap, "%s/.near-credentials/%s/%s.json", home, network, account);
    if (n < 0 || (size_t)n >= cap) return dg_err_set(err, DG_ERR_INPUT, "credential path too long");
    return 1;
}
