/* fuzz_rlp.c — libFuzzer target for the strict RLP decoder. Properties: no
 * crash or out-of-bounds read on any input, and because only canonical
 * encodings are accepted, re-encoding an accepted input gives it back
 * byte for byte. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dstackgov/rlp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int reencode(const dg_rlp_item *it, dg_buf *b, int depth) {
    if (depth > 10000) return 0;
    if (!it->is_list) {
        uint64_t x;
        dg_u256 v;
        (void)dg_rlp_to_u64(it, &x, NULL);
        (void)dg_rlp_to_u256(it, &v, NULL);
        return dg_rlp_put_bytes(b, it->payload, it->len);
    }
    size_t m = dg_rlp_list_begin(b), off = 0;
    dg_rlp_item c;
    while (off < it->len) {
        if (!dg_rlp_next(it, &off, &c, NULL)) return 0;
        if (!reencode(&c, b, depth + 1)) return 0;
    }
    return dg_rlp_list_end(b, m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *in = malloc(size ? size : 1);
    if (size) memcpy(in, data, size);
    dg_rlp_item it;
    dg_err err;
    if (dg_rlp_decode(in, size, &it, NULL, &err)) {
        dg_buf b;
        dg_buf_init(&b);
        if (reencode(&it, &b, 0)) {
            if (b.len != size || memcmp(b.data, in, size) != 0) abort();
        }
        dg_buf_free(&b);
        dg_rlp_item items[16];
        size_t n;
        if (it.is_list) (void)dg_rlp_list_items(&it, items, 16, &n, &err);
    }
    size_t used;
    if (size && dg_rlp_decode(in, size, &it, &used, &err) && (used == 0 || used > size)) abort();
    free(in);
    return 0;
}
