/* request.c — the strict HTTP/1.x request-head parser of lib/httpd.
 *
 * One pass finds the end of the head (the first empty line) while refusing
 * a bare CR or LF and too many lines; a second pass reads the request line
 * and the header fields. Only the fields the server frames requests with
 * are interpreted (Host, Content-Length, Transfer-Encoding, Content-Type,
 * Connection, Expect); every field is checked for syntax. The result of a
 * prefix of a request is "need more" or the same as for the whole request,
 * so bytes may arrive in pieces of any size (the fuzz target checks it).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dstackgov/httpd.h"

static int fail(char *why, size_t why_len, int status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(char *why, size_t why_len, int status, const char *fmt, ...) {
    if (why && why_len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, why_len, fmt, ap);
        va_end(ap);
    }
    return -status;
}

static int name_is(const char *p, size_t n, const char *name) {
    return strlen(name) == n && strncasecmp(p, name, n) == 0;
}

/* Locate the end of the head. Returns the head length, 0 for more, or an
 * error. *start receives the offset of the request line. Lines are found
 * with memchr, not byte by byte: the head is scanned again as bytes arrive,
 * and a byte loop under the fuzzers' coverage tracing was most of their time
 * on heads near the 16 KiB limit. */
static int find_end(const char *buf, size_t len, size_t *start, char *why, size_t why_len) {
    size_t i = 0, lines = 0;
    /* RFC 9112 §2.2: ignore empty lines received before the request line */
    while (i + 1 < len && buf[i] == '\r' && buf[i + 1] == '\n' && i < DG_HTTP_HEAD_MAX)
        i += 2;
    *start = i;
    /* no byte at or past DG_HTTP_HEAD_MAX may be part of the head */
    size_t limit = len < DG_HTTP_HEAD_MAX ? len : DG_HTTP_HEAD_MAX;
    for (size_t line_start = i; line_start < limit;) {
        const char *cr = memchr(buf + line_start, '\r', limit - line_start);
        size_t j = cr ? (size_t)(cr - buf) : limit;
        if (memchr(buf + line_start, '\n', j - line_start))
            return fail(why, why_len, 400, "line %zu of the request head not ended by CRLF",
                        lines + 1);
        if (!cr) break;
        /* its LF would be byte DG_HTTP_HEAD_MAX + 1: too large whatever follows */
        if (j + 1 >= DG_HTTP_HEAD_MAX)
            return fail(why, why_len, 431, "request head larger than %d bytes", DG_HTTP_HEAD_MAX);
        if (j + 1 >= len) return 0;
        if (buf[j + 1] != '\n')
            return fail(why, why_len, 400, "bare CR in line %zu of the request head", lines + 1);
        if (j == line_start) {
            if (lines == 0) return fail(why, why_len, 400, "empty request line");
            return (int)(j + 2); /* j + 1 < DG_HTTP_HEAD_MAX: within the limit */
        }
        if (++lines > DG_HTTP_HEADERS_MAX + 1)
            return fail(why, why_len, 431, "more than %d header fields", DG_HTTP_HEADERS_MAX);
        line_start = j + 2;
    }
    if (len >= DG_HTTP_HEAD_MAX)
        return fail(why, why_len, 431, "request head larger than %d bytes", DG_HTTP_HEAD_MAX);
    return 0;
}

static int parse_request_line(const char *p, size_t n, dg_http_head *h, char *why, size_t why_len) {
    size_t i = 0;
    while (i < n && dg_http_is_tchar((unsigned char)p[i]))
        i++;
    if (i == 0 || i >= n || p[i] != ' ')
        return fail(why, why_len, 400, "request line: method is not a token followed by one space");
    h->method = p;
    h->method_len = i;
    size_t t = ++i;
    while (i < n && (unsigned char)p[i] > 0x20 && (unsigned char)p[i] < 0x7f)
        i++;
    if (i == t || i >= n || p[i] != ' ')
        return fail(why, why_len, 400,
                    "request line: target is empty, holds a control character, or is not followed "
                    "by one space");
    if (p[t] != '/')
        return fail(why, why_len, 400, "request line: target must be a path starting with '/'");
    size_t q = t;
    while (q < i && p[q] != '?') {
        if (p[q] == '#')
            return fail(why, why_len, 400, "request line: target must not hold a fragment ('#')");
        q++;
    }
    for (size_t k = q; k < i; k++)
        if (p[k] == '#')
            return fail(why, why_len, 400, "request line: target must not hold a fragment ('#')");
    h->path = p + t;
    h->path_len = q - t;
    const char *v = p + i + 1;
    size_t vn = n - i - 1;
    if (vn != 8 || memcmp(v, "HTTP/", 5) != 0 || v[5] < '0' || v[5] > '9' || v[6] != '.' ||
        v[7] < '0' || v[7] > '9')
        return fail(why, why_len, 400, "request line: version is not HTTP/<digit>.<digit>");
    if (v[5] != '1' || (v[7] != '0' && v[7] != '1'))
        return fail(why, why_len, 505,
                    "request line: version %.8s not supported (HTTP/1.0 or HTTP/1.1)", v);
    h->minor = v[7] - '0';
    return 0;
}

int dg_http_head_parse(const char *buf, size_t len, dg_http_head *h, char *why, size_t why_len) {
    size_t start = 0;
    if (why && why_len) why[0] = 0;
    memset(h, 0, sizeof *h);
    int end = find_end(buf, len, &start, why, why_len);
    if (end <= 0) return end;
    const char *p = buf + start, *stop = buf + end - 2; /* stop: the final empty line */
    const char *eol = memchr(p, '\r', (size_t)(stop - p));
    int r = parse_request_line(p, (size_t)(eol - p), h, why, why_len);
    if (r) return r;
    int hosts = 0, te = 0, close = 0, ka = 0;
    for (p = eol + 2; p < stop; p = eol + 2) {
        eol = memchr(p, '\r', (size_t)(stop - p));
        size_t n = (size_t)(eol - p), i = 0;
        if (p[0] == ' ' || p[0] == '\t')
            return fail(why, why_len, 400,
                        "obsolete header folding (a line starting with a blank)");
        while (i < n && dg_http_is_tchar((unsigned char)p[i]))
            i++;
        if (i == 0 || i >= n || p[i] != ':') {
            if (i > 0 && i < n && (p[i] == ' ' || p[i] == '\t'))
                return fail(why, why_len, 400, "header %.*s: blank between the field name and ':'",
                            (int)(i > 64 ? 64 : i), p);
            return fail(why, why_len, 400, "header line %.*s: not a field name followed by ':'",
                        (int)(n > 64 ? 64 : n), p);
        }
        const char *name = p;
        size_t nl = i++;
        while (i < n && (p[i] == ' ' || p[i] == '\t'))
            i++;
        const char *v = p + i;
        size_t vn = n - i;
        for (size_t k = 0; k < vn; k++)
            if (!dg_http_is_field_char((unsigned char)v[k]))
                return fail(why, why_len, 400, "header %.*s: control character in the value",
                            (int)(nl > 64 ? 64 : nl), name);
        while (vn && (v[vn - 1] == ' ' || v[vn - 1] == '\t'))
            vn--;
        if (name_is(name, nl, "host")) {
            if (hosts++) return fail(why, why_len, 400, "header Host: sent more than once");
        } else if (name_is(name, nl, "content-length")) {
            if (h->has_length)
                return fail(why, why_len, 400, "header Content-Length: sent more than once");
            if (vn == 0 || vn > 18)
                return fail(why, why_len, 400,
                            "header Content-Length: expected 1 to 18 decimal digits");
            uint64_t x = 0;
            for (size_t k = 0; k < vn; k++) {
                if (v[k] < '0' || v[k] > '9')
                    return fail(why, why_len, 400, "header Content-Length: not a decimal number");
                x = x * 10 + (uint64_t)(v[k] - '0');
            }
            h->has_length = 1;
            h->content_length = x;
        } else if (name_is(name, nl, "transfer-encoding")) {
            te = 1;
        } else if (name_is(name, nl, "content-type")) {
            if (h->content_type)
                return fail(why, why_len, 400, "header Content-Type: sent more than once");
            h->content_type = v;
            h->content_type_len = vn;
        } else if (name_is(name, nl, "connection")) {
            close |= dg_http_list_has(v, vn, "close");
            ka |= dg_http_list_has(v, vn, "keep-alive");
        } else if (name_is(name, nl, "expect")) {
            if (h->expect_continue)
                return fail(why, why_len, 400, "header Expect: sent more than once");
            if (!(vn == 12 && strncasecmp(v, "100-continue", 12) == 0))
                return fail(why, why_len, 417, "header Expect: only 100-continue is supported");
            h->expect_continue = 1;
        }
    }
    if (te && h->has_length)
        return fail(why, why_len, 400,
                    "header Transfer-Encoding: not allowed together with Content-Length");
    if (te)
        return fail(why, why_len, 501,
                    "header Transfer-Encoding: not supported; send the body with Content-Length");
    if (h->minor == 1 && !hosts)
        return fail(why, why_len, 400, "header Host: required in HTTP/1.1");
    if (!h->content_type) h->content_type_len = 0;
    h->keep_alive = h->minor == 1 ? !close : (ka && !close);
    return end;
}
