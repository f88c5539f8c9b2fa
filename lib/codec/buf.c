/* buf.c — growable byte buffer (see include/dstackgov/buf.h).
 *
 * The one idea: an allocation failure is sticky (`oom`), so long encoders do
 * not need to check every append; they check once before using the result.
 * The data is always kept NUL-terminated past `len` so text can be printed.
 */
#include "dstackgov/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void dg_buf_init(dg_buf *b) {
    b->data = NULL;
    b->len = b->cap = 0;
    b->oom = 0;
}

void dg_buf_free(dg_buf *b) {
    free(b->data);
    dg_buf_init(b);
}

void dg_buf_wipe(dg_buf *b) {
    if (b->data) {
        volatile uint8_t *p = b->data;
        for (size_t i = 0; i < b->cap; i++)
            p[i] = 0;
    }
    dg_buf_free(b);
}

int dg_buf_reserve(dg_buf *b, size_t extra) {
    /* the common case first, in one comparison: room for extra and a NUL
     * (cap >= len always holds), still 0 after an earlier failure */
    if (extra < b->cap - b->len) return !b->oom;
    if (b->oom) return 0;
    if (extra > SIZE_MAX - b->len - 1) {
        b->oom = 1;
        return 0;
    }
    size_t need = b->len + extra + 1; /* +1 keeps room for a NUL */
    if (need <= b->cap) return 1;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    uint8_t *p = realloc(b->data, cap);
    if (!p) {
        b->oom = 1;
        return 0;
    }
    b->data = p;
    b->cap = cap;
    return 1;
}

int dg_buf_append(dg_buf *b, const void *p, size_t n) {
    if (!dg_buf_reserve(b, n)) return 0;
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = 0;
    return 1;
}

int dg_buf_push(dg_buf *b, uint8_t byte) {
    return dg_buf_append(b, &byte, 1);
}

int dg_buf_zeros(dg_buf *b, size_t n) {
    if (!dg_buf_reserve(b, n)) return 0;
    memset(b->data + b->len, 0, n);
    b->len += n;
    b->data[b->len] = 0;
    return 1;
}

int dg_buf_puts(dg_buf *b, const char *s) {
    return dg_buf_append(b, s, strlen(s));
}

int dg_buf_printf(dg_buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !dg_buf_reserve(b, (size_t)n)) return 0;
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 1;
}

int dg_buf_insert(dg_buf *b, size_t off, const void *p, size_t n) {
    if (off > b->len) return 0;
    if (!dg_buf_reserve(b, n)) return 0;
    memmove(b->data + off + n, b->data + off, b->len - off);
    if (n) memcpy(b->data + off, p, n);
    b->len += n;
    b->data[b->len] = 0;
    return 1;
}
