/* fuzz_http_request.c — the request-head parser of lib/httpd (request.c).
 *
 * The input is a request head as a client sent it. An input that starts with
 * byte 0xFF is first grown: bytes 1-2 give a count (big-endian, mod 20000)
 * of 'a' inserted at the offset byte 3 gives (mod the rest's length), so a
 * few bytes reach the 16 KiB head limit. Beyond memory safety, the
 * parser's contract is checked: the result is 0 (only below the limit), a
 * length within the input, or -400/-417/-431/-501/-505 with a message; a
 * parsed head has a method token, a path starting with '/' without '?' or
 * '#', HTTP/1.0 or 1.1, and every pointer inside the head; and a prefix of
 * the input gives 0 or exactly the same outcome (result, fields, message),
 * which is what lets the server parse bytes as they arrive (checked at the
 * deciding places and at positions drawn from the input: see below).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dstackgov/httpd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PAD_MAX 20000
#define PREFIX_SAMPLES 10

static void check_inside(const char *buf, size_t len, const char *p, size_t n) {
    if (p < buf || p > buf + len || n > (size_t)(buf + len - p)) abort();
}

/* Parse buf[0..len) and check what a single result must satisfy. */
static int parse_checked(const char *buf, size_t len, dg_http_head *h, char *why, size_t why_len) {
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
    check_inside(buf, (size_t)r, h->method, h->method_len);
    check_inside(buf, (size_t)r, h->path, h->path_len);
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
        check_inside(buf, (size_t)r, h->content_type, h->content_type_len);
    else if (h->content_type_len)
        abort();
    return r;
}

static int same_head(const dg_http_head *a, const dg_http_head *b) {
    return a->method == b->method && a->method_len == b->method_len && a->path == b->path &&
           a->path_len == b->path_len && a->minor == b->minor && a->has_length == b->has_length &&
           a->content_length == b->content_length && a->content_type == b->content_type &&
           a->content_type_len == b->content_type_len && a->keep_alive == b->keep_alive &&
           a->expect_continue == b->expect_continue;
}

/* A prefix gives 0 or the same outcome as the whole input. */
static void check_prefix(const char *buf, size_t k, int r, const dg_http_head *h, const char *why) {
    dg_http_head hk;
    char wk[256];
    int rk = parse_checked(buf, k, &hk, wk, sizeof wk);
    if (rk == 0) return;
    if (rk != r || strcmp(wk, why) != 0) abort();
    if (r > 0 && !same_head(&hk, h)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *buf = NULL;
    size_t len = size;
    if (size >= 4 && data[0] == 0xff) {
        size_t pad = (((size_t)data[1] << 8) | data[2]) % PAD_MAX, rest = size - 4;
        size_t at = rest ? data[3] % (rest + 1) : 0;
        len = rest + pad;
        buf = malloc(len ? len : 1);
        if (!buf) return 0;
        memcpy(buf, data + 4, at);
        memset(buf + at, 'a', pad);
        memcpy(buf + at + pad, data + 4 + at, rest - at);
    } else {
        buf = malloc(size ? size : 1);
        if (!buf) return 0;
        if (size) memcpy(buf, data, size);
    }

    dg_http_head h;
    char why[256];
    int r = parse_checked(buf, len, &h, why, sizeof why);

    /* a short or absent message buffer changes nothing but the message */
    dg_http_head h2;
    char w1[1];
    if (dg_http_head_parse(buf, len, &h2, w1, sizeof w1) != r || w1[0]) abort();
    if (dg_http_head_parse(buf, len, &h2, NULL, 0) != r) abort();
    if (r > 0 && !same_head(&h, &h2)) abort();

    /* bytes after the head (a body, the next request) do not matter */
    if (r > 0) check_prefix(buf, (size_t)r, r, &h, why);

    /* Every prefix gives 0 or the final outcome: the parser's verdict is
     * decided at one byte. Checking every prefix costs O(n^2) per input (it
     * held the target at ~1k exec/s); instead the checked prefixes are the
     * places where the outcome is decided (the end, the head limit, the end
     * of a parsed head), all prefixes of a short input, and PREFIX_SAMPLES
     * positions drawn from the input's own bytes, so 10^7 executions still
     * cover every offset of every input shape many times. */
    if (len <= 48) {
        for (size_t k = 0; k < len; k++)
            check_prefix(buf, k, r, &h, why);
    } else {
        uint32_t x = 2166136261u; /* FNV-1a of the input: reproducible draws */
        for (size_t i = 0; i < len; i++)
            x = (x ^ (uint8_t)buf[i]) * 16777619u;
        /* a long input costs a parse of up to 16 KiB per prefix: fewer draws */
        size_t draws = len <= 1024 ? PREFIX_SAMPLES : 3;
        for (size_t i = 0; i < draws; i++) {
            x = x * 1664525u + 1013904223u;
            check_prefix(buf, (size_t)x % len, r, &h, why);
        }
        check_prefix(buf, len - 1, r, &h, why);
        if (len <= 1024) check_prefix(buf, len - 2, r, &h, why);
        for (size_t k = DG_HTTP_HEAD_MAX - 1; k <= DG_HTTP_HEAD_MAX && k < len; k++)
            check_prefix(buf, k, r, &h, why);
        if (r > 0)
            for (size_t k = (size_t)r - (len <= 1024 ? 4 : 1); k < (size_t)r; k++)
                check_prefix(buf, k, r, &h, why);
    }
    free(buf);
    return 0;
}
