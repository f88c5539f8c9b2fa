/* fuzz_near_codec.c — lib/near's binary and text codecs: base58 (decode any
 * text, encode what was decoded), the strict decoder of a signed NEAR
 * transaction (borsh), NEAR amounts, keys and account ids. Properties: no
 * crash or out-of-bounds read; base58 round-trips exactly; a signed
 * transaction that decodes re-encodes to the same bytes (borsh has one
 * encoding per value) and its signature verifies. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dstackgov/near.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0 || size > 1 << 16) return 0;
    uint8_t sel = data[0];
    data++;
    size--;
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = 0;
    if (sel & 1) {
        uint8_t out[256];
        size_t n = 0;
        if (dg_base58_decode(s, size, out, sizeof out, &n, NULL)) {
            char back[DG_BASE58_LEN(256)];
            size_t m = dg_base58_encode(out, n, back, sizeof back);
            /* canonical text only: leading '1's are zero bytes, the rest is the number */
            if (m != size || memcmp(back, s, size) != 0) abort();
        }
        dg_u256 v;
        dg_near_parse_amount(s, &v, NULL);
        dg_near_key k;
        if (dg_near_key_parse(s, &k, NULL)) dg_near_key_wipe(&k);
        uint8_t pk[32];
        dg_near_pubkey_parse(s, pk, NULL);
        if (dg_near_account_id_check(s, NULL) && strlen(s) > 64) abort();
    } else {
        dg_near_signed_tx tx;
        int ok = dg_near_signed_tx_decode(data, size, &tx, NULL);
        if (ok) {
            dg_near_tx again = {tx.signer_id, {0},        tx.nonce,   tx.receiver_id,
                                {0},          tx.actions, tx.nactions};
            memcpy(again.public_key, tx.public_key, 32);
            memcpy(again.block_hash, tx.block_hash, 32);
            dg_buf b;
            dg_buf_init(&b);
            if (!dg_near_tx_encode(&again, &b, NULL)) abort();
            if (b.len + 65 != size || memcmp(b.data, data, b.len) != 0) abort();
            dg_buf_free(&b);
        }
        dg_near_signed_tx_free(&tx);
    }
    free(s);
    return 0;
}
