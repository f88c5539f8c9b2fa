/* http_request_check.h — what fuzz_http_request (whole inputs) and
 * fuzz_http_prefix (inputs cut short) both need: the input as a request head
 * (an input that starts with byte 0xFF is first grown: bytes 1-2 give a count,
 * big-endian mod HTTP_PAD_MAX, of 'a' inserted at the offset byte 3 gives (mod
 * the rest's length), so a few bytes reach the 16 KiB head limit), and the
 * contract of one dg_http_head_parse result. Header-only: fuzz.sh builds each
 * fuzz_*.c alone.
 */
#ifndef DG_FUZZ_HTTP_REQUEST_CHECK_H
#define DG_FUZZ_HTTP_REQUEST_CHECK_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dstackgov/httpd.h"

#define HTTP_PAD_MAX 20000

/* The head the input stands for, in a malloc'd buffer (NULL: no memory). */
static char *http_input(const uint8_t *data, size_t size, size_t *len) {
    char *buf;
    *len = size;
    if (size >= 4 && data[0] == 0xff) {
        size_t pad = (((size_t)data[1] << 8) | data[2]) % HTTP_PAD_MAX, rest = size - 4;
        size_t at = rest ? data[3] % (rest + 1) : 0;
        *len = rest + pad;
        buf = malloc(*len ? *len : 1);
        if (!buf) return NULL;
        memcpy(buf, data + 4, at);
        memset(buf + at, 'a', pad);
        memcpy(buf + at + pad, data + 4 + at, rest - at);
        return buf;
    }
    buf = malloc(size ? size : 1);
    if (buf && size) memcpy(buf, data, size);
    return buf;
}

static void http_check_inside(const char *buf, size_t len, const char *p, size_t n) {
    if (p < buf || p > buf + len || n > (size_t)(buf + len - p)) abort();
}

/* Parse buf[0..len) and check what a single result must satisfy: 0 (only
 * below the limit), a length within the input ending the head, or
 * -400/-417/-431/-501/-505 with a message; a parsed head has a method token,
 * a path starting with '/' without '?' or '#', HTTP/1.0 or 1.1, and every
 * pointer inside the head. */
static int http_parse_checked(const char *buf, size_t len, dg_http_head *h, char *why,
                              size_t why_len) {
    memset(why, 'x', why_len);
    int r = dg_http_head_parse(buf, len, h, why, why_len);
    if (!memchr(why, 0, why_len)) abort(); /* always NUL-terminated */
    if (r == 0) {
        if (len >= DG_HTTP_HEAD_MAX) abort();
        return r;
    }
    if (r < 0) {
        if (r != -400 && r != -417 && r != -431 && r != -501 && r != -505) abort();
        if (!why[0]) abort();
        return r;
    }
    if ((size_t)r > len || r > DG_HTTP_HEAD_MAX || r < 4) abort();
    if (memcmp(buf + r - 4, "\r\n\r\n", 4) != 0) abort();
    if (why[0]) abort();
    http_check_inside(buf, (size_t)r, h->method, h->method_len);
    http_check_inside(buf, (size_t)r, h->path, h->path_len);
    if (!h->method_len || !h->path_len || h->path[0] != '/') abort();
    if (memchr(h->method, ' ', h->method_len)) abort();
    for (size_t i = 0; i < h->path_len; i++) {
        unsigned char c = (unsigned char)h->path[i];
        if (c <= 0x20 || c >= 0x7f || c == '?' || c == '#') abort();
    }
    if (h->minor != 0 && h->minor != 1) abort();
    if (h->keep_alive != 0 && h->keep_alive != 1) abort();
    if (h->expect_continue != 0 && h->expect_continue != 1) abort();
    if (!h->has_length && h->content_length) abort();
    if (h->content_length > 999999999999999999ULL) abort();
    if (h->content_type)
        http_check_inside(buf, (size_t)r, h->content_type, h->content_type_len);
    else if (h->content_type_len)
        abort();
    return r;
}

static int http_same_head(const dg_http_head *a, const dg_http_head *b) {
    return a->method == b->method && a->method_len == b->method_len && a->path == b->path &&
           a->path_len == b->path_len && a->minor == b->minor && a->has_length == b->has_length &&
           a->content_length == b->content_length && a->content_type == b->content_type &&
           a->content_type_len == b->content_type_len && a->keep_alive == b->keep_alive &&
           a->expect_continue == b->expect_continue;
}

#endif
