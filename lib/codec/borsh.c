/* borsh.c — NEAR's binary serialization, the bytes of every transaction.
 *
 * Borsh is deliberately boring: fixed-width little-endian integers, u32
 * length prefixes, u8 enum tags, no padding and exactly one encoding per
 * value, which is what makes the SHA-256 of a transaction well defined. The
 * writers append to a dg_buf (its oom flag is checked once by the caller);
 * the reader is sticky-failing, so a parser reads every field and checks
 * dg_borsh_done once instead of after every read.
 */
#include "dstackgov/near.h"

#include <string.h>

static int put_le(dg_buf *b, uint64_t v, int n) {
    uint8_t t[8];
    for (int i = 0; i < n; i++)
        t[i] = (uint8_t)(v >> (8 * i));
    return dg_buf_append(b, t, (size_t)n);
}

int dg_borsh_u8(dg_buf *b, uint8_t v) {
    return dg_buf_push(b, v);
}
int dg_borsh_u32(dg_buf *b, uint32_t v) {
    return put_le(b, v, 4);
}
int dg_borsh_u64(dg_buf *b, uint64_t v) {
    return put_le(b, v, 8);
}
int dg_borsh_u128(dg_buf *b, dg_u256 v) {
    if (v.w[2] || v.w[3]) return 0;
    return put_le(b, v.w[0], 8) && put_le(b, v.w[1], 8);
}
int dg_borsh_bytes(dg_buf *b, const uint8_t *p, size_t n) {
    if (n > UINT32_MAX) return 0;
    return dg_borsh_u32(b, (uint32_t)n) && dg_buf_append(b, p, n);
}
int dg_borsh_string(dg_buf *b, const char *s) {
    return dg_borsh_bytes(b, (const uint8_t *)s, strlen(s));
}

void dg_borsh_reader_init(dg_borsh_reader *r, const uint8_t *p, size_t len) {
    r->p = p;
    r->len = len;
    r->off = 0;
    r->bad = 0;
}

const uint8_t *dg_borsh_read_fixed(dg_borsh_reader *r, size_t n) {
    if (r->bad || n > r->len - r->off) {
        r->bad = 1;
        return NULL;
    }
    const uint8_t *q = r->p + r->off;
    r->off += n;
    return q;
}

static uint64_t get_le(dg_borsh_reader *r, int n) {
    const uint8_t *q = dg_borsh_read_fixed(r, (size_t)n);
    uint64_t v = 0;
    for (int i = n - 1; q && i >= 0; i--)
        v = (v << 8) | q[i];
    return v;
}

uint8_t dg_borsh_read_u8(dg_borsh_reader *r) {
    return (uint8_t)get_le(r, 1);
}
uint32_t dg_borsh_read_u32(dg_borsh_reader *r) {
    return (uint32_t)get_le(r, 4);
}
uint64_t dg_borsh_read_u64(dg_borsh_reader *r) {
    return get_le(r, 8);
}
dg_u256 dg_borsh_read_u128(dg_borsh_reader *r) {
    dg_u256 v = {{0, 0, 0, 0}};
    v.w[0] = get_le(r, 8);
    v.w[1] = get_le(r, 8);
    if (r->bad) v.w[0] = v.w[1] = 0;
    return v;
}

const uint8_t *dg_borsh_read_bytes(dg_borsh_reader *r, size_t *n) {
    uint32_t len = dg_borsh_read_u32(r);
    const uint8_t *q = dg_borsh_read_fixed(r, len);
    *n = q ? len : 0;
    return q;
}

void dg_borsh_read_string(dg_borsh_reader *r, char *out, size_t cap) {
    size_t n;
    const uint8_t *q = dg_borsh_read_bytes(r, &n);
    if (cap) out[0] = 0;
    if (!q) return;
    if (n + 1 > cap || memchr(q, 0, n)) {
        r->bad = 1;
        return;
    }
    memcpy(out, q, n);
    out[n] = 0;
}

int dg_borsh_done(const dg_borsh_reader *r, dg_err *err) {
    if (r->bad)
        return dg_err_set(err, DG_ERR_INPUT, "borsh: malformed or truncated value at byte %zu",
                          r->off);
    if (r->off != r->len)
        return dg_err_set(err, DG_ERR_INPUT, "borsh: %zu trailing bytes after byte %zu",
                          r->len - r->off, r->off);
    return 1;
}
