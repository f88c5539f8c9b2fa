/* http_parse.c — the HTTP/1.x response parser of the RPC client.
 *
 * Bytes go in as they arrive from the socket, in pieces of any size; the
 * parser keeps one line at a time (status line, header, chunk size) in a
 * fixed buffer and appends body bytes to a dg_buf, so memory is bounded by
 * DG_HTTP_MAX_LINE plus the body cap. It is strict on purpose: a line not
 * ended by CRLF, a malformed status line, header folding, control
 * characters, conflicting or doubled framing (Content-Length with chunked,
 * two different lengths), a transfer coding other than chunked, or too
 * many / too long header lines all fail the response, because an RPC node
 * never sends them and guessing framing is how responses get mixed up.
 * Interim 1xx responses are skipped; 204/304 have no body; a response with
 * neither length nor chunking runs until the server closes the connection.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dstackgov/hex.h"
#include "dstackgov/httpd.h"
#include "rpc_internal.h"

enum {
    S_STATUS,
    S_HEADER,
    S_BODY_LEN,
    S_CHUNK_SIZE,
    S_CHUNK_DATA,
    S_CHUNK_END,
    S_TRAILER,
    S_BODY_EOF,
    S_DONE,
    S_BAD
};

void dg_http_resp_init(dg_http_resp *r, dg_buf *body, size_t max_body) {
    memset(r, 0, sizeof *r);
    r->state = S_STATUS;
    r->body = body;
    r->max_body = max_body;
    if (body) body->len = 0;
}

int dg_http_resp_started(const dg_http_resp *r) {
    return r->header_bytes > 0 || r->state != S_STATUS;
}

static int bad(dg_http_resp *r, const char *why) {
    r->state = S_BAD;
    snprintf(r->why, sizeof r->why, "%s", why);
    return DG_HTTP_BAD;
}

static int status_line(dg_http_resp *r, const char *l, size_t n) {
    if (n < 12 || memcmp(l, "HTTP/1.", 7) != 0 || (l[7] != '0' && l[7] != '1') || l[8] != ' ')
        return bad(r, "bad HTTP status line");
    int st = 0;
    for (int i = 9; i < 12; i++) {
        if (l[i] < '0' || l[i] > '9') return bad(r, "bad HTTP status line");
        st = st * 10 + (l[i] - '0');
    }
    if (st < 100) return bad(r, "bad HTTP status line");
    if (n > 12 && l[12] != ' ') return bad(r, "bad HTTP status line");
    for (size_t i = 13; i < n; i++)
        if (!dg_http_is_field_char((unsigned char)l[i])) return bad(r, "bad HTTP status line");
    if (st == 101) return bad(r, "unexpected HTTP status 101 (protocol switch)");
    r->status = st;
    r->keep_alive = l[7] == '1';
    r->chunked = r->has_length = 0;
    r->length = 0;
    r->state = S_HEADER;
    return DG_HTTP_MORE;
}

static int end_of_headers(dg_http_resp *r) {
    if (r->status < 200) { /* interim response: the real one follows */
        r->state = S_STATUS;
        return DG_HTTP_MORE;
    }
    if (r->chunked && r->has_length) return bad(r, "both Content-Length and chunked in response");
    if (r->status == 204 || r->status == 304) {
        r->state = S_DONE;
        return DG_HTTP_DONE;
    }
    if (r->chunked) {
        r->state = S_CHUNK_SIZE;
    } else if (r->has_length) {
        if (r->length > r->max_body) {
            r->too_big = 1;
            return bad(r, "response body too large");
        }
        r->left = r->length;
        r->state = r->length ? S_BODY_LEN : S_DONE;
        if (!r->length) return DG_HTTP_DONE;
    } else {
        r->keep_alive = 0; /* the body ends when the server closes */
        r->state = S_BODY_EOF;
    }
    return DG_HTTP_MORE;
}

static int header_line(dg_http_resp *r, const char *l, size_t n, int trailer) {
    if (n == 0) {
        if (trailer) {
            r->state = S_DONE;
            return DG_HTTP_DONE;
        }
        return end_of_headers(r);
    }
    if (++r->fields > DG_HTTP_MAX_FIELDS) return bad(r, "too many HTTP header lines");
    if (l[0] == ' ' || l[0] == '\t') return bad(r, "folded HTTP header line");
    size_t k = 0;
    while (k < n && dg_http_is_tchar((unsigned char)l[k]))
        k++;
    if (k == 0 || k == n || l[k] != ':') return bad(r, "malformed HTTP header line");
    for (size_t i = k + 1; i < n; i++)
        if (!dg_http_is_field_char((unsigned char)l[i]))
            return bad(r, "control character in HTTP header");
    const char *v = l + k + 1;
    size_t vn = n - k - 1;
    while (vn && (*v == ' ' || *v == '\t'))
        v++, vn--;
    while (vn && (v[vn - 1] == ' ' || v[vn - 1] == '\t'))
        vn--;
    if (trailer) return DG_HTTP_MORE; /* trailers carry nothing we use */
    if (k == 14 && strncasecmp(l, "content-length", 14) == 0) {
        if (vn == 0 || vn > 18) return bad(r, "bad Content-Length");
        unsigned long long len = 0;
        for (size_t i = 0; i < vn; i++) {
            if (v[i] < '0' || v[i] > '9') return bad(r, "bad Content-Length");
            len = len * 10 + (unsigned)(v[i] - '0');
        }
        if (r->has_length && r->length != len) return bad(r, "conflicting Content-Length");
        r->has_length = 1;
        r->length = len;
    } else if (k == 17 && strncasecmp(l, "transfer-encoding", 17) == 0) {
        if (r->chunked || vn != 7 || strncasecmp(v, "chunked", 7) != 0)
            return bad(r, "unsupported Transfer-Encoding");
        r->chunked = 1;
    } else if (k == 10 && strncasecmp(l, "connection", 10) == 0) {
        if (dg_http_list_has(v, vn, "close"))
            r->keep_alive = 0;
        else if (dg_http_list_has(v, vn, "keep-alive"))
            r->keep_alive = 1;
    }
    return DG_HTTP_MORE;
}

static int chunk_size_line(dg_http_resp *r, const char *l, size_t n) {
    size_t i = 0;
    unsigned long long size = 0;
    while (i < n) {
        int d = dg_hex_digit((unsigned char)l[i]);
        if (d < 0) break;
        if (i >= 15) return bad(r, "bad chunk size");
        size = size * 16 + (unsigned)d;
        i++;
    }
    if (i == 0) return bad(r, "bad chunk size");
    while (i < n && (l[i] == ' ' || l[i] == '\t'))
        i++;
    if (i < n && l[i] != ';') return bad(r, "bad chunk size");
    for (; i < n; i++)
        if (!dg_http_is_field_char((unsigned char)l[i])) return bad(r, "bad chunk extension");
    if (size == 0) {
        r->state = S_TRAILER;
        r->fields = 0;
        return DG_HTTP_MORE;
    }
    if (r->body && size > r->max_body - r->body->len) {
        r->too_big = 1;
        return bad(r, "response body too large");
    }
    r->left = size;
    r->state = S_CHUNK_DATA;
    return DG_HTTP_MORE;
}

static int body_bytes(dg_http_resp *r, const char *p, size_t n) {
    if (!r->body) return DG_HTTP_MORE;
    if (n > r->max_body - r->body->len) {
        r->too_big = 1;
        return bad(r, "response body too large");
    }
    if (!dg_buf_append(r->body, p, n)) {
        r->nomem = 1;
        return bad(r, "out of memory for the response");
    }
    return DG_HTTP_MORE;
}

static int line_done(dg_http_resp *r) {
    size_t n = r->line_len;
    r->line_len = 0;
    if (n == 0 || r->line[n - 1] != '\r') return bad(r, "HTTP line not ended by CRLF");
    n--;
    for (size_t i = 0; i < n; i++)
        if (r->line[i] == '\r' || r->line[i] == 0) return bad(r, "control character in HTTP line");
    switch (r->state) {
    case S_STATUS:
        return status_line(r, r->line, n);
    case S_HEADER:
        return header_line(r, r->line, n, 0);
    case S_TRAILER:
        return header_line(r, r->line, n, 1);
    case S_CHUNK_SIZE:
        return chunk_size_line(r, r->line, n);
    case S_CHUNK_END:
        if (n != 0) return bad(r, "chunk not followed by CRLF");
        r->state = S_CHUNK_SIZE;
        return DG_HTTP_MORE;
    default:
        return bad(r, "parser state");
    }
}

int dg_http_resp_feed(dg_http_resp *r, const char *p, size_t n, size_t *used) {
    size_t i = 0;
    int rc = DG_HTTP_MORE;
    while (i < n && rc == DG_HTTP_MORE) {
        switch (r->state) {
        case S_DONE:
            rc = DG_HTTP_DONE;
            break;
        case S_BAD:
            rc = DG_HTTP_BAD;
            break;
        case S_BODY_LEN:
        case S_CHUNK_DATA: {
            size_t k = n - i;
            if (k > r->left) k = (size_t)r->left;
            rc = body_bytes(r, p + i, k);
            i += k;
            r->left -= k;
            if (rc == DG_HTTP_MORE && r->left == 0) {
                if (r->state == S_BODY_LEN) {
                    r->state = S_DONE;
                    rc = DG_HTTP_DONE;
                } else {
                    r->state = S_CHUNK_END;
                }
            }
            break;
        }
        case S_BODY_EOF:
            rc = body_bytes(r, p + i, n - i);
            i = n;
            break;
        default: { /* a line-oriented state */
            int head = r->state == S_STATUS || r->state == S_HEADER || r->state == S_TRAILER;
            const char *nl = memchr(p + i, '\n', n - i);
            size_t k = nl ? (size_t)(nl - (p + i)) : n - i;
            if (head && r->header_bytes + k + 1 > DG_HTTP_MAX_HEADERS)
                return *used = i, bad(r, "HTTP headers too large");
            if (r->line_len + k >= sizeof r->line) return *used = i, bad(r, "HTTP line too long");
            memcpy(r->line + r->line_len, p + i, k);
            r->line_len += k;
            if (head) r->header_bytes += k + (nl ? 1 : 0);
            i += k;
            if (nl) {
                i++;
                rc = line_done(r);
            }
            break;
        }
        }
    }
    if (rc == DG_HTTP_MORE && r->state == S_DONE) rc = DG_HTTP_DONE;
    *used = i;
    return rc;
}

int dg_http_resp_eof(dg_http_resp *r) {
    if (r->state == S_BODY_EOF || r->state == S_DONE) {
        r->state = S_DONE;
        return DG_HTTP_DONE;
    }
    if (r->state != S_BAD) bad(r, "connection closed before the end of the response");
    return DG_HTTP_BAD;
}
