/* fuzz_eth_tx.c — libFuzzer target for transaction decoding and receipts.
 * The first byte picks the mode:
 *  - 0..63: the rest is a raw signed transaction for dg_eth_tx_decode (with
 *    sender recovery). Properties: no crash or over-read; an accepted
 *    transaction has a computable signing hash.
 *  - 64..127: the rest builds a transaction (type, chain id, nonce, gas, fees,
 *    to, data); it is signed with a fixed TEST key and decoded back. Every
 *    field and the sender must round-trip.
 *  - 128..255: the rest is JSON for dg_eth_receipt_parse. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "dstackgov/eth.h"
#include "dstackgov/secp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t take64(const uint8_t **p, size_t *n) {
    uint64_t v = 0;
    for (int i = 0; i < 8 && *n; i++, (*p)++, (*n)--)
        v = (v << 8) | **p;
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    uint8_t mode = data[0];
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    if (mode < 64) {
        dg_eth_tx tx;
        uint8_t from[20], h[32];
        if (dg_eth_tx_decode(p, n, &tx, from, NULL)) {
            if (!dg_eth_tx_signing_hash(&tx, h, NULL)) abort();
        }
    } else if (mode < 128) {
        static const uint8_t key[32] = {[31] = 7}; /* TEST key 0x..07 */
        dg_eth_tx tx;
        memset(&tx, 0, sizeof tx);
        tx.type = (mode & 1) ? DG_TX_EIP1559 : DG_TX_LEGACY;
        tx.chain_id = take64(&p, &n) >> 8; /* keep v = recid + 35 + 2*chainId in 64 bits */
        if (tx.type == DG_TX_LEGACY && tx.chain_id == 0) tx.chain_id = 1;
        tx.nonce = take64(&p, &n);
        tx.gas_limit = take64(&p, &n);
        tx.gas_price.w[0] = take64(&p, &n);
        tx.max_fee.w[1] = take64(&p, &n);
        tx.max_priority_fee.w[0] = take64(&p, &n);
        tx.value.w[3] = take64(&p, &n);
        tx.has_to = (mode & 2) != 0;
        if (tx.has_to)
            for (int i = 0; i < 20; i++)
                tx.to[i] = n ? (n--, *p++) : 0;
        tx.data = p;
        tx.data_len = n;
        if (tx.type == DG_TX_EIP1559)
            memset(&tx.gas_price, 0, sizeof tx.gas_price);
        else
            memset(&tx.max_fee, 0, sizeof tx.max_fee),
                memset(&tx.max_priority_fee, 0, sizeof tx.max_priority_fee);
        dg_buf raw;
        dg_buf_init(&raw);
        uint8_t want[20], from[20];
        if (!dg_eth_tx_sign(&tx, key, &raw, NULL, NULL)) abort();
        if (!dg_eth_address_from_priv(key, want, NULL)) abort();
        dg_eth_tx back;
        if (!dg_eth_tx_decode(raw.data, raw.len, &back, from, NULL)) abort();
        if (memcmp(from, want, 20) != 0 || back.type != tx.type || back.chain_id != tx.chain_id ||
            back.nonce != tx.nonce || back.gas_limit != tx.gas_limit || back.has_to != tx.has_to ||
            (tx.has_to && memcmp(back.to, tx.to, 20) != 0) || back.data_len != tx.data_len ||
            (tx.data_len && memcmp(back.data, tx.data, tx.data_len)) ||
            memcmp(&back.value, &tx.value, sizeof tx.value) != 0 ||
            memcmp(&back.gas_price, &tx.gas_price, sizeof tx.gas_price) != 0 ||
            memcmp(&back.max_fee, &tx.max_fee, sizeof tx.max_fee) != 0)
            abort();
        dg_buf_free(&raw);
    } else {
        json_t *j = json_loadb((const char *)p, n, 0, NULL);
        if (j) {
            dg_eth_receipt r;
            if (dg_eth_receipt_parse(j, &r, NULL)) dg_eth_receipt_free(&r);
            json_decref(j);
        }
    }
    return 0;
}
