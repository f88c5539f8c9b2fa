/* tx.c — Ethereum transaction encoding, signing and decoding.
 *
 * Two wire forms: legacy (rlp([nonce, gasPrice, gas, to, value, data, v, r, s])
 * with EIP-155 v = recid + 35 + 2*chainId, signed over rlp of the first six
 * fields plus [chainId, 0, 0]) and EIP-1559 type 2 (0x02 || rlp([chainId,
 * nonce, tip, maxFee, gas, to, value, data, accessList, yParity, r, s]),
 * signed over 0x02 || rlp of the first nine). Integers are minimal big-endian
 * byte strings (zero is the empty string); r and s are stripped the same way.
 */
#include "dstackgov/eth.h"

#include <string.h>

#include "dstackgov/hash.h"
#include "dstackgov/rlp.h"
#include "dstackgov/secp.h"

/* Minimal big-endian bytes of a u256 (w[0] least significant); returns length. */
static size_t u256_min_be(const dg_u256 *v, uint8_t out[32]) {
    uint8_t be[32];
    for (int i = 0; i < 4; i++)
        for (int b = 0; b < 8; b++)
            be[31 - (i * 8 + b)] = (uint8_t)(v->w[i] >> (8 * b));
    size_t skip = 0;
    while (skip < 32 && be[skip] == 0)
        skip++;
    memcpy(out, be + skip, 32 - skip);
    return 32 - skip;
}

static void put_u256(dg_buf *b, const dg_u256 *v) {
    uint8_t tmp[32];
    size_t n = u256_min_be(v, tmp);
    dg_rlp_put_bytes(b, tmp, n);
}

static void put_min_bytes(dg_buf *b, const uint8_t *p, size_t n) {
    while (n > 0 && *p == 0)
        p++, n--;
    dg_rlp_put_bytes(b, p, n);
}

/* Fields common to both forms, in each form's order. */
static void put_body(dg_buf *b, const dg_eth_tx *tx) {
    if (tx->type == DG_TX_EIP1559) {
        dg_rlp_put_uint(b, tx->chain_id);
        dg_rlp_put_uint(b, tx->nonce);
        put_u256(b, &tx->max_priority_fee);
        put_u256(b, &tx->max_fee);
    } else {
        dg_rlp_put_uint(b, tx->nonce);
        put_u256(b, &tx->gas_price);
    }
    dg_rlp_put_uint(b, tx->gas_limit);
    dg_rlp_put_bytes(b, tx->to, tx->has_to ? 20 : 0);
    put_u256(b, &tx->value);
    dg_rlp_put_bytes(b, tx->data, tx->data_len);
    if (tx->type == DG_TX_EIP1559) {
        size_t m = dg_rlp_list_begin(b); /* empty access list */
        dg_rlp_list_end(b, m);
    }
}

static int encode_payload(const dg_eth_tx *tx, dg_buf *out, const uint8_t *sig, int recid,
                          dg_err *err) {
    if (tx->type != DG_TX_EIP1559 && tx->type != DG_TX_LEGACY)
        return dg_err_set(err, DG_ERR_INPUT, "unknown transaction type %d", (int)tx->type);
    if (tx->type == DG_TX_EIP1559) dg_buf_push(out, 0x02);
    size_t m = dg_rlp_list_begin(out);
    put_body(out, tx);
    if (!sig) {
        if (tx->type == DG_TX_LEGACY && tx->chain_id != 0) {
            dg_rlp_put_uint(out, tx->chain_id);
            dg_rlp_put_bytes(out, NULL, 0);
            dg_rlp_put_bytes(out, NULL, 0);
        }
    } else {
        uint64_t v;
        if (tx->type == DG_TX_EIP1559)
            v = (uint64_t)recid;
        else if (tx->chain_id != 0)
            v = (uint64_t)recid + 35 + 2 * tx->chain_id;
        else
            v = (uint64_t)recid + 27;
        dg_rlp_put_uint(out, v);
        put_min_bytes(out, sig, 32);
        put_min_bytes(out, sig + 32, 32);
    }
    if (!dg_rlp_list_end(out, m) || out->oom)
        return dg_err_set(err, DG_ERR_NOMEM, "out of memory encoding a transaction");
    return 1;
}

int dg_eth_tx_signing_hash(const dg_eth_tx *tx, uint8_t hash[32], dg_err *err) {
    dg_buf b;
    dg_buf_init(&b);
    int ok = encode_payload(tx, &b, NULL, 0, err);
    if (ok) dg_keccak256(b.data, b.len, hash);
    dg_buf_free(&b);
    return ok;
}

int dg_eth_tx_sign(const dg_eth_tx *tx, const uint8_t priv[32], dg_buf *raw, uint8_t tx_hash[32],
                   dg_err *err) {
    uint8_t h[32], sig[64];
    int recid = 0;
    if (!dg_eth_tx_signing_hash(tx, h, err)) return 0;
    if (!dg_secp_sign(priv, h, sig, &recid, err)) return 0;
    size_t start = raw->len;
    if (!encode_payload(tx, raw, sig, recid, err)) return 0;
    if (tx_hash) dg_keccak256(raw->data + start, raw->len - start, tx_hash);
    return 1;
}

/* ------------------------------------------------------------------ decoding */

static int item_uint(const dg_rlp_item *it, uint64_t *out, const char *what, dg_err *err) {
    if (it->is_list || it->len > 8 || (it->len > 0 && it->payload[0] == 0))
        return dg_err_set(err, DG_ERR_INPUT, "transaction field %s is not a canonical integer",
                          what);
    uint64_t v = 0;
    for (size_t i = 0; i < it->len; i++)
        v = (v << 8) | it->payload[i];
    *out = v;
    return 1;
}

static int item_u256(const dg_rlp_item *it, dg_u256 *out, const char *what, dg_err *err) {
    if (it->is_list || it->len > 32 || (it->len > 0 && it->payload[0] == 0))
        return dg_err_set(err, DG_ERR_INPUT, "transaction field %s is not a canonical integer",
                          what);
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < it->len; i++) {
        size_t bit = 8 * (it->len - 1 - i);
        out->w[bit / 64] |= (uint64_t)it->payload[i] << (bit % 64);
    }
    return 1;
}

static int item_word(const dg_rlp_item *it, uint8_t out[32], const char *what, dg_err *err) {
    if (it->is_list || it->len > 32 || it->len == 0)
        return dg_err_set(err, DG_ERR_INPUT, "signature field %s is malformed", what);
    memset(out, 0, 32);
    memcpy(out + 32 - it->len, it->payload, it->len);
    return 1;
}

int dg_eth_tx_decode(const uint8_t *raw, size_t len, dg_eth_tx *out, uint8_t from[20],
                     dg_err *err) {
    memset(out, 0, sizeof *out);
    int typed = len > 0 && raw[0] < 0x7f;
    if (typed && raw[0] != 0x02)
        return dg_err_set(err, DG_ERR_INPUT, "unsupported transaction type 0x%02x", raw[0]);
    const uint8_t *p = typed ? raw + 1 : raw;
    size_t plen = typed ? len - 1 : len, used = 0, off = 0;
    dg_rlp_item list, f[12];
    if (!dg_rlp_decode(p, plen, &list, &used, err)) return 0;
    if (used != plen || !list.is_list)
        return dg_err_set(err, DG_ERR_INPUT, "transaction is not one RLP list");
    size_t want = typed ? 12 : 9, n = 0;
    while (off < list.len) {
        if (n == want) return dg_err_set(err, DG_ERR_INPUT, "transaction has too many fields");
        if (!dg_rlp_next(&list, &off, &f[n], err)) return 0;
        n++;
    }
    if (n != want)
        return dg_err_set(err, DG_ERR_INPUT, "transaction has %zu fields, expected %zu", n, want);
    size_t i = 0;
    uint64_t v = 0;
    out->type = typed ? DG_TX_EIP1559 : DG_TX_LEGACY;
    if (typed) {
        if (!item_uint(&f[i++], &out->chain_id, "chainId", err)) return 0;
        if (!item_uint(&f[i++], &out->nonce, "nonce", err)) return 0;
        if (!item_u256(&f[i++], &out->max_priority_fee, "maxPriorityFeePerGas", err)) return 0;
        if (!item_u256(&f[i++], &out->max_fee, "maxFeePerGas", err)) return 0;
    } else {
        if (!item_uint(&f[i++], &out->nonce, "nonce", err)) return 0;
        if (!item_u256(&f[i++], &out->gas_price, "gasPrice", err)) return 0;
    }
    if (!item_uint(&f[i++], &out->gas_limit, "gas", err)) return 0;
    const dg_rlp_item *to = &f[i++];
    if (to->is_list || (to->len != 0 && to->len != 20))
        return dg_err_set(err, DG_ERR_INPUT, "transaction field to has %zu bytes", to->len);
    out->has_to = to->len == 20;
    if (out->has_to) memcpy(out->to, to->payload, 20);
    if (!item_u256(&f[i++], &out->value, "value", err)) return 0;
    if (f[i].is_list) return dg_err_set(err, DG_ERR_INPUT, "transaction data is a list");
    out->data = f[i].payload;
    out->data_len = f[i].len;
    i++;
    if (typed) {
        if (!f[i].is_list) return dg_err_set(err, DG_ERR_INPUT, "access list is not a list");
        i++;
    }
    if (!item_uint(&f[i++], &v, "v", err)) return 0;
    uint8_t sig[64];
    if (!item_word(&f[i++], sig, "r", err) || !item_word(&f[i++], sig + 32, "s", err)) return 0;
    int recid;
    if (typed) {
        if (v > 1) return dg_err_set(err, DG_ERR_INPUT, "yParity is %llu", (unsigned long long)v);
        recid = (int)v;
    } else if (v == 27 || v == 28) {
        recid = (int)(v - 27);
    } else if (v >= 35) {
        out->chain_id = (v - 35) / 2;
        recid = (int)((v - 35) % 2);
    } else {
        return dg_err_set(err, DG_ERR_INPUT, "invalid v %llu", (unsigned long long)v);
    }
    if (from) {
        uint8_t h[32];
        if (!dg_eth_tx_signing_hash(out, h, err)) return 0;
        if (!dg_secp_recover_address(h, sig, recid, from, err)) return 0;
    }
    return 1;
}

void dg_eth_create_address(const uint8_t sender[20], uint64_t nonce, uint8_t out[20]) {
    dg_buf b;
    uint8_t h[32];
    dg_buf_init(&b);
    size_t m = dg_rlp_list_begin(&b);
    dg_rlp_put_bytes(&b, sender, 20);
    dg_rlp_put_uint(&b, nonce);
    dg_rlp_list_end(&b, m);
    dg_keccak256(b.data, b.len, h);
    dg_buf_free(&b);
    memcpy(out, h + 12, 20);
}

void dg_eth_create2_address(const uint8_t deployer[20], const uint8_t salt[32],
                            const uint8_t init_code_hash[32], uint8_t out[20]) {
    uint8_t in[85], h[32];
    in[0] = 0xff;
    memcpy(in + 1, deployer, 20);
    memcpy(in + 21, salt, 32);
    memcpy(in + 53, init_code_hash, 32);
    dg_keccak256(in, sizeof in, h);
    memcpy(out, h + 12, 20);
}

void dg_eth_event_topic(const char *signature, uint8_t out[32]) {
    dg_keccak256(signature, strlen(signature), out);
}
