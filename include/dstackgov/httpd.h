/* httpd.h — a small, strict HTTP/1.1 server for loopback webhooks.
 *
 * Two parts:
 *   - dg_http_head_parse: the request-head parser, a pure function over a
 *     byte buffer (fuzzed in fuzz/fuzz_http_request.c);
 *   - dg_httpd_*: an epoll server with a fixed pool of worker threads. Each
 *     worker owns the connections it accepted; a request is read whole (head
 *     and body) and handed to one callback, whose reply is framed and sent.
 *     Keep-alive, pipelining and "Expect: 100-continue" are supported;
 *     transfer codings are not (a request with Transfer-Encoding gets 501).
 *
 * Why not libmicrohttpd: Debian's build links GnuTLS and eight more
 * libraries, whose loading and initialisation alone cost ~4 ms of a start
 * budget of 8 ms (docs/authd.md, Performance). A webhook on loopback needs
 * none of it. This server maps no library beyond libc.
 *
 * Strictness (each answered with the status in brackets and the connection
 * closed): a request line or header not ended by CRLF, a target that is not
 * a path, header folding, a space before a header's colon, control
 * characters, duplicate Host / Content-Length / Content-Type / Expect,
 * a non-numeric Content-Length [400]; Transfer-Encoding [501]; a version
 * other than HTTP/1.0 and HTTP/1.1 [505]; an expectation other than
 * 100-continue [417]; a head over DG_HTTP_HEAD_MAX or with more than
 * DG_HTTP_HEADERS_MAX fields [431]; HTTP/1.1 without Host [400]. A body over
 * the configured maximum is not read: the callback sees too_large = 1 and
 * answers (413), then the body is discarded (or the connection closed when
 * it is over 1 MiB).
 */
#ifndef DSTACKGOV_HTTPD_H
#define DSTACKGOV_HTTPD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "dstackgov/buf.h"
#include "dstackgov/err.h"

#define DG_HTTP_HEAD_MAX 16384 /* request line + header fields + blank line */
#define DG_HTTP_HEADERS_MAX 64 /* header fields per request */

/* HTTP syntax shared by this server and the RPC client's response parser
 * (lib/rpc/http_parse.c), RFC 9110 §5.6: a token character; a field-value
 * octet (HT, visible ASCII, SP, obs-text); whether a comma-separated list
 * v[0..n) holds token tok (case-insensitive). */
int dg_http_is_tchar(int c);
int dg_http_is_field_char(int c);
int dg_http_list_has(const char *v, size_t n, const char *tok);

/* What the parser keeps of a request head. Pointers point into the parsed
 * buffer (not NUL-terminated; use the lengths). */
typedef struct {
    const char *method;
    size_t method_len;
    const char *path; /* the target up to '?' (always starts with '/') */
    size_t path_len;
    int minor; /* HTTP/1.<minor>: 0 or 1 */
    int has_length;
    uint64_t content_length;
    const char *content_type; /* NULL when absent; value with surrounding blanks trimmed */
    size_t content_type_len;
    int keep_alive; /* 1.1 unless "Connection: close"; 1.0 only with "Connection: keep-alive" */
    int expect_continue; /* "Expect: 100-continue" */
} dg_http_head;

/* Parse a request head from buf[0..len).
 * Returns: > 0  the head is complete and that many bytes long (leading empty
 *               lines before the request line included);
 *          0    more bytes are needed (and len < DG_HTTP_HEAD_MAX);
 *          < 0  the head is malformed: -status (400, 417, 431, 501, 505),
 *               with the problem, naming the field, in why (why_len bytes,
 *               always NUL-terminated). */
int dg_http_head_parse(const char *buf, size_t len, dg_http_head *h, char *why, size_t why_len);

/* The request as the callback sees it. */
typedef struct {
    const dg_http_head *head;
    const uint8_t *body; /* body_len bytes; NULL when empty or too large */
    size_t body_len;
    int too_large;   /* Content-Length over max_body: body not read */
    long long t0_ns; /* CLOCK_MONOTONIC when the head was complete */
    void *internal_; /* the server's; for dg_httpd_defer */
} dg_http_request;

/* The reply the callback fills. body starts empty; status defaults to 200
 * and content_type to "application/json". allow, when set, is sent as the
 * Allow header (for 405). Strings must outlive the callback (use literals). */
typedef struct {
    unsigned status;
    const char *content_type;
    const char *allow;
    dg_buf body;
} dg_http_reply;

typedef void (*dg_httpd_handler)(void *ctx, const dg_http_request *rq, dg_http_reply *rp);
/* Called for a request the server refuses before the handler could see it
 * (malformed head, 417, 431, 501, 505): rp->status is already set; the
 * callback writes the body (and may change content_type). With no callback
 * the body is the problem as text/plain. The connection is then closed. */
typedef void (*dg_httpd_reject_cb)(void *ctx, const char *why, dg_http_reply *rp);

typedef struct {
    const struct sockaddr *addr; /* where to listen (port 0 = any free port) */
    socklen_t addr_len;
    int listen_fd;          /* > 0: serve this already listening socket (socket
                               activation) instead of binding addr; the server owns it */
    int threads;            /* worker threads, 1..64 */
    int start_threads;      /* how many dg_httpd_start starts (0 or > threads: all); the
                               rest start in dg_httpd_start_workers, so a daemon can
                               answer its first request before paying for the others */
    size_t max_body;        /* larger bodies are not read */
    int idle_timeout_ms;    /* an idle keep-alive connection waits this long for a request */
    int request_timeout_ms; /* a request (head and body) must be complete this long after
                               the accept or its first byte; 0: idle_timeout_ms */
    int max_connections;    /* at the limit, a new connection is still served: an idle
                               connection is closed to make room (oldest first), else the
                               one sending an incomplete request the longest; refused only
                               when all are busy and 25% + 16 over the limit */
    dg_httpd_handler handler;
    dg_httpd_reject_cb on_reject; /* may be NULL */
    void *ctx;
} dg_httpd_opts;

typedef struct dg_httpd dg_httpd;

/* Deferred answers. A handler that would block (a cache miss waiting on an
 * RPC round trip) calls dg_httpd_defer and returns at once; its worker goes
 * on serving its other connections, and this one waits (no further request
 * of it is read). Later, from any thread, exactly one dg_httpd_complete
 * sends the answer. head, body and the reply passed to the handler are not
 * valid after the handler returns: copy what the answer needs. Every
 * deferred request must be completed before dg_httpd_stop (use
 * dg_httpd_quiesce first, then stop whatever completes them). */
typedef struct dg_httpd_pending dg_httpd_pending;
dg_httpd_pending *dg_httpd_defer(const dg_http_request *rq);
/* Send rp as the answer (takes its body); p is freed. */
void dg_httpd_complete(dg_httpd_pending *p, dg_http_reply *rp);

/* Bind, listen and start the workers. NULL with err set (DG_ERR_IO: the
 * address is in use or not allowed; DG_ERR_NOMEM). */
dg_httpd *dg_httpd_start(const dg_httpd_opts *o, dg_err *err);
/* Start the workers dg_httpd_start left out (start_threads). Returns 1, or
 * 0 with err set (the server keeps serving with the workers it has). */
int dg_httpd_start_workers(dg_httpd *s, dg_err *err);
/* The port actually bound (useful with port 0). */
int dg_httpd_port(const dg_httpd *s);
/* Connection counters (for metrics). */
typedef struct {
    int open;                            /* connections open now */
    unsigned long long evicted;          /* closed to make room for a new one */
    unsigned long long idle_timeouts;    /* idle past idle_timeout_ms */
    unsigned long long request_timeouts; /* request incomplete after request_timeout_ms */
    unsigned long long refused;          /* new connections closed at once: no room */
} dg_httpd_stats;
void dg_httpd_get_stats(dg_httpd *s, dg_httpd_stats *out);
/* Stop accepting and wait up to wait_ms for the requests being read,
 * handled or deferred to be answered. Idempotent. */
void dg_httpd_quiesce(dg_httpd *s, long wait_ms);
/* dg_httpd_quiesce, then close every connection, join the workers and free. */
void dg_httpd_stop(dg_httpd *s, long wait_ms);

#endif
