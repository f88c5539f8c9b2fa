/* rlp.c — RLP encoder and strict decoder (see include/dstackgov/rlp.h).
 *
 * The one idea: every item is a header (1 to 9 bytes) followed by a payload,
 * and the decoder accepts a header only in its shortest form, so encoding and
 * decoding are exact inverses. The decoder checks every length against the
 * bytes actually available before looking at them.
 */
#include "dstackgov/rlp.h"

#include <string.h>

/* Write a header for a payload of n bytes: short base (0x80 strings, 0xc0
 * lists) for n <= 55, long base (0xb7 / 0xf7) + length-of-length otherwise. */
static size_t make_header(uint8_t hdr[9], uint8_t base, size_t n) {
    if (n <= 55) {
        hdr[0] = (uint8_t)(base + n);
        return 1;
    }
    uint8_t len[8];
    size_t k = 0;
    for (size_t v = n; v; v >>= 8)
        len[k++] = (uint8_t)v;
    hdr[0] = (uint8_t)(base + 55 + k);
    for (size_t i = 0; i < k; i++)
        hdr[1 + i] = len[k - 1 - i];
    return 1 + k;
}

int dg_rlp_put_bytes(dg_buf *b, const uint8_t *p, size_t n) {
    if (n == 1 && p[0] < 0x80) return dg_buf_push(b, p[0]);
    uint8_t hdr[9];
    size_t h = make_header(hdr, 0x80, n);
    return dg_buf_append(b, hdr, h) && dg_buf_append(b, p, n);
}

int dg_rlp_put_uint(dg_buf *b, uint64_t v) {
    uint8_t be[8];
    size_t k = 0;
    for (int i = 7; i >= 0; i--) {
        uint8_t byte = (uint8_t)(v >> (8 * i));
        if (byte || k) be[k++] = byte;
    }
    return dg_rlp_put_bytes(b, be, k);
}

int dg_rlp_put_u256(dg_buf *b, dg_u256 v) {
    uint8_t be[32];
    size_t k = dg_u256_to_min_be(v, be);
    return dg_rlp_put_bytes(b, be, k);
}

int dg_rlp_put_raw(dg_buf *b, const uint8_t *p, size_t n) {
    return dg_buf_append(b, p, n);
}

size_t dg_rlp_list_begin(dg_buf *b) {
    return b->len;
}

int dg_rlp_list_end(dg_buf *b, size_t mark) {
    if (b->oom || mark > b->len) return 0;
    uint8_t hdr[9];
    size_t h = make_header(hdr, 0xc0, b->len - mark);
    return dg_buf_insert(b, mark, hdr, h);
}

/* Decode one item at in[0..inlen); `base` is the offset of `in` within the
 * outermost input, used only in messages. */
static int decode_at(const uint8_t *in, size_t inlen, size_t base, dg_rlp_item *item,
                     size_t *consumed, dg_err *err) {
    if (inlen == 0)
        return dg_err_set(err, DG_ERR_INPUT, "rlp: no item at byte %zu (input ends)", base);
    uint8_t b0 = in[0];
    size_t hlen, plen;
    int is_list = b0 >= 0xc0;
    if (b0 < 0x80) {
        item->is_list = 0;
        item->payload = in;
        item->len = 1;
        *consumed = 1;
        return 1;
    }
    uint8_t short_base = is_list ? 0xc0 : 0x80;
    if (b0 <= short_base + 55) {
        hlen = 1;
        plen = (size_t)(b0 - short_base);
        if (plen > inlen - 1)
            return dg_err_set(err, DG_ERR_INPUT,
                              "rlp: %s at byte %zu declares %zu bytes but only %zu remain",
                              is_list ? "list" : "string", base, plen, inlen - 1);
        if (!is_list && plen == 1 && in[1] < 0x80)
            return dg_err_set(
                err, DG_ERR_INPUT,
                "rlp: non-canonical single byte 0x%02x at byte %zu (must be encoded as itself)",
                in[1], base);
    } else {
        size_t lenlen = (size_t)(b0 - short_base - 55);
        if (lenlen > inlen - 1)
            return dg_err_set(err, DG_ERR_INPUT,
                              "rlp: length of %s at byte %zu is truncated (%zu of %zu bytes)",
                              is_list ? "list" : "string", base, inlen - 1, lenlen);
        if (in[1] == 0)
            return dg_err_set(err, DG_ERR_INPUT,
                              "rlp: non-canonical length with a leading zero byte at byte %zu",
                              base);
        if (lenlen > sizeof(size_t))
            return dg_err_set(err, DG_ERR_INPUT, "rlp: length at byte %zu is too large", base);
        plen = 0;
        for (size_t i = 0; i < lenlen; i++)
            plen = (plen << 8) | in[1 + i];
        if (plen <= 55)
            return dg_err_set(err, DG_ERR_INPUT,
                              "rlp: non-canonical long header for a %zu-byte payload at byte %zu",
                              plen, base);
        hlen = 1 + lenlen;
        if (plen > inlen - hlen)
            return dg_err_set(err, DG_ERR_INPUT,
                              "rlp: %s at byte %zu declares %zu bytes but only %zu remain",
                              is_list ? "list" : "string", base, plen, inlen - hlen);
    }
    item->is_list = is_list;
    item->payload = in + hlen;
    item->len = plen;
    *consumed = hlen + plen;
    return 1;
}

int dg_rlp_decode(const uint8_t *in, size_t inlen, dg_rlp_item *item, size_t *consumed,
                  dg_err *err) {
    size_t used = 0;
    dg_rlp_item it;
    if (!in && inlen) return dg_err_set(err, DG_ERR_INPUT, "rlp: no input");
    if (!decode_at(in, inlen, 0, &it, &used, err)) return 0;
    if (!consumed && used != inlen)
        return dg_err_set(err, DG_ERR_INPUT, "rlp: %zu trailing bytes after the item",
                          inlen - used);
    *item = it;
    if (consumed) *consumed = used;
    return 1;
}

int dg_rlp_next(const dg_rlp_item *list, size_t *offset, dg_rlp_item *child, dg_err *err) {
    if (!list->is_list) return dg_err_set(err, DG_ERR_INPUT, "rlp: expected a list, got a string");
    if (*offset >= list->len) return dg_err_set(err, DG_ERR_INPUT, "rlp: end of list");
    size_t used = 0;
    dg_rlp_item it;
    if (!decode_at(list->payload + *offset, list->len - *offset, *offset, &it, &used, err))
        return dg_err_wrap(err, "inside list");
    *child = it;
    *offset += used;
    return 1;
}

int dg_rlp_list_items(const dg_rlp_item *list, dg_rlp_item *items, size_t max, size_t *n,
                      dg_err *err) {
    if (!list->is_list) return dg_err_set(err, DG_ERR_INPUT, "rlp: expected a list, got a string");
    size_t off = 0, k = 0;
    while (off < list->len) {
        if (k == max)
            return dg_err_set(err, DG_ERR_INPUT, "rlp: list has more than %zu items", max);
        if (!dg_rlp_next(list, &off, &items[k], err)) return 0;
        k++;
    }
    *n = k;
    return 1;
}

static int check_int(const dg_rlp_item *item, size_t maxlen, const char *what, dg_err *err) {
    if (item->is_list) return dg_err_set(err, DG_ERR_INPUT, "rlp: expected an integer, got a list");
    if (item->len > 0 && item->payload[0] == 0)
        return dg_err_set(err, DG_ERR_INPUT, "rlp: integer with a leading zero byte");
    if (item->len > maxlen)
        return dg_err_set(err, DG_ERR_INPUT, "rlp: integer of %zu bytes does not fit in %s",
                          item->len, what);
    return 1;
}

int dg_rlp_to_u64(const dg_rlp_item *item, uint64_t *out, dg_err *err) {
    if (!check_int(item, 8, "64 bits", err)) return 0;
    uint64_t v = 0;
    for (size_t i = 0; i < item->len; i++)
        v = (v << 8) | item->payload[i];
    *out = v;
    return 1;
}

int dg_rlp_to_u256(const dg_rlp_item *item, dg_u256 *out, dg_err *err) {
    if (!check_int(item, 32, "256 bits", err)) return 0;
    return dg_u256_from_bytes(item->payload, item->len, out);
}
