/* buf.h — a growable byte buffer, the output type of every encoder.
 *
 * Encoders append to a dg_buf; on allocation failure the buffer sets `oom`
 * and ignores further appends, so a caller checks once at the end.
 */
#ifndef DSTACKGOV_BUF_H
#define DSTACKGOV_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint8_t *data; /* owned; NULL until the first append */
    size_t len;
    size_t cap;
    int oom; /* 1 once an allocation failed */
} dg_buf;

/* Initialise an empty buffer (no allocation). */
void dg_buf_init(dg_buf *b);
/* Release memory and reset to empty. */
void dg_buf_free(dg_buf *b);
/* Zero the contents (for secrets), then free. */
void dg_buf_wipe(dg_buf *b);
/* Ensure room for `extra` more bytes. Returns 1, or 0 (and sets oom). */
int dg_buf_reserve(dg_buf *b, size_t extra);
/* Append n bytes. Returns 1, or 0 on allocation failure. */
int dg_buf_append(dg_buf *b, const void *p, size_t n);
/* Append one byte. */
int dg_buf_push(dg_buf *b, uint8_t byte);
/* Append n zero bytes. */
int dg_buf_zeros(dg_buf *b, size_t n);
/* Append a NUL-terminated string without its NUL. */
int dg_buf_puts(dg_buf *b, const char *s);
/* Append printf-formatted text (no NUL counted in len; data stays NUL-terminated). */
int dg_buf_printf(dg_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Insert n bytes at offset off (shifting the rest). */
int dg_buf_insert(dg_buf *b, size_t off, const void *p, size_t n);

#endif
