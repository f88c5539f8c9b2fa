/* test_httpd.c — lib/httpd: the request-head parser and the epoll server.
 *
 * The parser (dg_http_head_parse) is fed canned heads: the fields it keeps
 * from valid ones, and for every malformed one the status and that the
 * message names the culprit; every proper prefix of a valid head must ask
 * for more bytes. The server runs in-process on 127.0.0.1 (port 0, two
 * workers) with a handler that echoes what it saw ("METHOD PATH BODYLEN
 * TOO_LARGE") and takes its status from a path "/status/NNN"; raw sockets
 * check the framing a client sees: keep-alive, pipelining, HEAD, HTTP/1.0,
 * 100-continue, bodies over the cap, rejects, timeouts, the connection cap
 * and a stop that waits for a running handler. Deferred answers
 * (dg_httpd_defer / dg_httpd_complete, completed by helper threads): the
 * worker serves other connections meanwhile, pipelined requests wait behind
 * one, a client that leaves (FIN or reset, also in the same epoll batch as
 * the completion), quiesce waiting for one, HEAD / Connection: close / 1.0.
 * Every client socket has a receive timeout, so a server bug fails a check
 * instead of hanging.
 */
#include "../test.h"
#include "dstackgov/httpd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------ parser */

static int parse(const char *s, dg_http_head *h, char *why, size_t why_len) {
    return dg_http_head_parse(s, strlen(s), h, why, why_len);
}

/* Every proper prefix of a complete head needs more bytes. */
static void check_prefixes(const char *s, int line) {
    size_t n = strlen(s);
    dg_http_head h;
    char why[256];
    for (size_t k = 0; k < n; k++) {
        int r = dg_http_head_parse(s, k, &h, why, sizeof why);
        if (r != 0) {
            dg_test_fail(__FILE__, line, "prefix of %zu bytes: %d (%s), expected 0", k, r, why);
            return;
        }
    }
}

/* A malformed head: -status, a message naming `field`, and every prefix
 * either 0 or the same result. */
static void expect_err(const char *s, int status, const char *field, int line) {
    dg_http_head h;
    char why[256];
    int r = parse(s, &h, why, sizeof why);
    if (r != -status || !why[0] || !strstr(why, field))
        dg_test_fail(__FILE__, line, "%d \"%s\", expected %d with \"%s\"", r, why, -status, field);
    for (size_t k = 0; k < strlen(s); k++) {
        int rk = dg_http_head_parse(s, k, &h, why, sizeof why);
        if (rk != 0 && rk != r) {
            dg_test_fail(__FILE__, line, "prefix of %zu bytes: %d, whole head: %d", k, rk, r);
            return;
        }
    }
}
#define EXPECT_ERR(s, st, field) expect_err((s), (st), (field), __LINE__)

static int field_is(const char *p, size_t n, const char *want) {
    return p && n == strlen(want) && memcmp(p, want, n) == 0;
}

TEST(httpd_head_get_post) {
    dg_http_head h;
    char why[256];
    const char *get = "GET /v1/x?q=1&r=/a HTTP/1.1\r\nHost: localhost\r\n\r\n";
    CHECK_INT(parse(get, &h, why, sizeof why), (int)strlen(get));
    CHECK(field_is(h.method, h.method_len, "GET"));
    CHECK(field_is(h.path, h.path_len, "/v1/x"));
    CHECK_INT(h.minor, 1);
    CHECK_INT(h.has_length, 0);
    CHECK_INT(h.content_length, 0);
    CHECK(h.content_type == NULL);
    CHECK_INT(h.content_type_len, 0);
    CHECK_INT(h.keep_alive, 1);
    CHECK_INT(h.expect_continue, 0);
    CHECK_STR(why, "");
    check_prefixes(get, __LINE__);

    const char *post = "POST /bootAuth/app HTTP/1.1\r\nhost: a\r\ncontent-length:  17 \r\n"
                       "Content-Type: \t application/json; charset=utf-8 \t\r\n"
                       "Expect: 100-Continue\r\nX-Other: \x80\xff ok\r\n\r\nBODY";
    CHECK_INT(parse(post, &h, why, sizeof why), (int)strlen(post) - 4);
    CHECK(field_is(h.method, h.method_len, "POST"));
    CHECK(field_is(h.path, h.path_len, "/bootAuth/app"));
    CHECK_INT(h.has_length, 1);
    CHECK_INT(h.content_length, 17);
    CHECK(field_is(h.content_type, h.content_type_len, "application/json; charset=utf-8"));
    CHECK_INT(h.expect_continue, 1);
    CHECK_INT(h.keep_alive, 1);
    check_prefixes("POST /bootAuth/app HTTP/1.1\r\nhost: a\r\ncontent-length: 17\r\n\r\n",
                   __LINE__);

    /* 18 digits is the most accepted */
    CHECK(parse("PUT / HTTP/1.0\r\nContent-Length: 999999999999999999\r\n\r\n", &h, why,
                sizeof why) > 0);
    CHECK_INT(h.content_length, 999999999999999999ULL);
    CHECK(parse("PUT / HTTP/1.0\r\nContent-Length: 0\r\n\r\n", &h, why, sizeof why) > 0);
    CHECK_INT(h.has_length, 1);
    CHECK_INT(h.content_length, 0);
}

TEST(httpd_head_keep_alive) {
    static const struct {
        const char *head;
        int minor, keep;
    } cases[] = {
        {"GET / HTTP/1.1\r\nHost: a\r\n\r\n", 1, 1},
        {"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", 1, 0},
        {"GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, CLOSE\r\n\r\n", 1, 0},
        {"GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\n\r\n", 1, 1},
        {"GET / HTTP/1.1\r\nHost: a\r\nConnection: closed\r\n\r\n", 1, 1},
        {"GET / HTTP/1.0\r\n\r\n", 0, 0},
        {"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", 0, 1},
        {"GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n", 0, 0},
        {"GET / HTTP/1.0\r\nConnection: close\r\n\r\n", 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        dg_http_head h;
        char why[256];
        int r = parse(cases[i].head, &h, why, sizeof why);
        if (r != (int)strlen(cases[i].head) || h.minor != cases[i].minor ||
            h.keep_alive != cases[i].keep)
            dg_test_fail(__FILE__, __LINE__, "case %zu: r %d (%s) minor %d keep %d", i, r, why,
                         h.minor, h.keep_alive);
    }
}

TEST(httpd_head_leading_crlf) {
    dg_http_head h;
    char why[256];
    const char *s = "\r\n\r\nGET /a HTTP/1.1\r\nHost: a\r\n\r\n";
    CHECK_INT(parse(s, &h, why, sizeof why), (int)strlen(s));
    CHECK(field_is(h.method, h.method_len, "GET"));
    CHECK(field_is(h.path, h.path_len, "/a"));
    check_prefixes(s, __LINE__);
    /* only empty lines so far: more is needed */
    CHECK_INT(parse("\r\n\r\n\r\n", &h, why, sizeof why), 0);
}

TEST(httpd_head_errors) {
    /* line structure */
    EXPECT_ERR("GET / HTTP/1.1\nHost: a\r\n\r\n", 400, "line 1");
    EXPECT_ERR("GET / HTTP/1.1\r\nHost: a\n\r\n", 400, "line 2");
    EXPECT_ERR("GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", 400, "bare CR in line 2");
    EXPECT_ERR("GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n  folded\r\n\r\n", 400, "folding");
    EXPECT_ERR("GET / HTTP/1.1\r\nHost: a\r\n\tfolded\r\n\r\n", 400, "folding");
    EXPECT_ERR("GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400,
               "header Host: blank between the field name and ':'");
    EXPECT_ERR("GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", 400, "NoColon");
    EXPECT_ERR("GET / HTTP/1.1\r\nHost: a\r\n: v\r\n\r\n", 400, "not a field name");
    EXPECT_ERR("GET / HTTP/1.1\r\nHost: a\r\nX-Ctl: a\x01z\r\n\r\n", 400,
               "header X-Ctl: control character");
    EXPECT_ERR("GET / HTTP/1.1\r\nHost: a\r\nX-Del: a\x7f\r\n\r\n", 400,
               "header X-Del: control character");
    /* duplicates */
    EXPECT_ERR("GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n", 400, "Host: sent more than once");
    EXPECT_ERR("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n", 400,
               "Content-Length: sent more than once");
    EXPECT_ERR("POST / HTTP/1.1\r\nHost: a\r\nContent-Type: a\r\nContent-type: b\r\n\r\n", 400,
               "Content-Type: sent more than once");
    EXPECT_ERR("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nExpect: 100-continue\r\n\r\n",
               400, "Expect: sent more than once");
    /* Content-Length */
    EXPECT_ERR("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n", 400,
               "Content-Length: not a decimal");
    EXPECT_ERR("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400,
               "Content-Length: not a decimal");
    EXPECT_ERR("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 2\r\n\r\n", 400,
               "Content-Length: not a decimal");
    EXPECT_ERR("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1000000000000000000\r\n\r\n", 400,
               "Content-Length: expected 1 to 18");
    EXPECT_ERR("POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", 400,
               "Content-Length: expected 1 to 18");
    /* transfer codings */
    EXPECT_ERR("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", 501,
               "Transfer-Encoding");
    EXPECT_ERR(
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
        400, "Transfer-Encoding: not allowed together with Content-Length");
    /* request line */
    EXPECT_ERR("GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505, "version HTTP/2.0");
    EXPECT_ERR("GET / HTTP/1.2\r\nHost: a\r\n\r\n", 505, "version HTTP/1.2");
    EXPECT_ERR("GET / HTTP/x\r\nHost: a\r\n\r\n", 400, "version");
    EXPECT_ERR("GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400, "version");
    EXPECT_ERR("GET / http/1.1\r\nHost: a\r\n\r\n", 400, "version");
    EXPECT_ERR("GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n", 400, "target must be a path");
    EXPECT_ERR("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", 400, "target must be a path");
    EXPECT_ERR("GET /a#f HTTP/1.1\r\nHost: a\r\n\r\n", 400, "target must not hold a fragment");
    EXPECT_ERR("GET /a?b#f HTTP/1.1\r\nHost: a\r\n\r\n", 400, "target must not hold a fragment");
    EXPECT_ERR("GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400, "target");
    EXPECT_ERR("G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400, "method");
    EXPECT_ERR(" GET / HTTP/1.1\r\nHost: a\r\n\r\n", 400, "method");
    EXPECT_ERR("GET / HTTP/1.1\r\n\r\n", 400, "Host: required in HTTP/1.1");
    EXPECT_ERR("POST / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n\r\n", 417,
               "Expect: only 100-continue");
    EXPECT_ERR("POST / HTTP/1.0\r\nExpect: 100-continue, x\r\n\r\n", 417, "Expect");
    /* a why buffer of one byte still gets its NUL; none at all is allowed */
    dg_http_head h;
    char one[1] = {'x'};
    CHECK_INT(dg_http_head_parse("GET / HTTP/1.2\r\n\r\n", 18, &h, one, sizeof one), -505);
    CHECK_INT(one[0], 0);
    CHECK_INT(dg_http_head_parse("GET / HTTP/1.2\r\n\r\n", 18, &h, NULL, 0), -505);
}

TEST(httpd_head_limits) {
    dg_http_head h;
    char why[256];
    dg_buf b;
    /* 64 header fields pass, 65 do not */
    for (int fields = 64; fields <= 65; fields++) {
        dg_buf_init(&b);
        dg_buf_puts(&b, "GET / HTTP/1.1\r\nHost: a\r\n");
        for (int i = 1; i < fields; i++)
            dg_buf_printf(&b, "X-%d: v\r\n", i);
        dg_buf_puts(&b, "\r\n");
        int r = dg_http_head_parse((const char *)b.data, b.len, &h, why, sizeof why);
        if (fields == 64)
            CHECK_INT(r, (int)b.len);
        else {
            CHECK_INT(r, -431);
            CHECK(strstr(why, "more than 64 header fields") != NULL);
        }
        dg_buf_free(&b);
    }
    /* a head of 16 KiB with no end: 431; one byte less: more needed */
    char *big = malloc(DG_HTTP_HEAD_MAX + 2);
    memcpy(big, "GET / HTTP/1.1\r\nHost: a\r\nX-Big: ", 32);
    memset(big + 32, 'a', DG_HTTP_HEAD_MAX + 2 - 32);
    CHECK_INT(dg_http_head_parse(big, DG_HTTP_HEAD_MAX - 1, &h, why, sizeof why), 0);
    CHECK_INT(dg_http_head_parse(big, DG_HTTP_HEAD_MAX, &h, why, sizeof why), -431);
    CHECK(strstr(why, "request head larger than 16384 bytes") != NULL);
    /* exactly DG_HTTP_HEAD_MAX bytes is a valid head */
    memcpy(big + DG_HTTP_HEAD_MAX - 4, "\r\n\r\n", 4);
    CHECK_INT(dg_http_head_parse(big, DG_HTTP_HEAD_MAX, &h, why, sizeof why), DG_HTTP_HEAD_MAX);
    /* a CR as the last byte of a full-size buffer cannot end a head that
     * fits: 431 at once, not 0 (which promises len < DG_HTTP_HEAD_MAX) */
    memset(big + 32, 'a', DG_HTTP_HEAD_MAX + 2 - 32);
    big[DG_HTTP_HEAD_MAX - 1] = '\r';
    big[DG_HTTP_HEAD_MAX] = '\n';
    big[DG_HTTP_HEAD_MAX + 1] = '\r';
    CHECK_INT(dg_http_head_parse(big, DG_HTTP_HEAD_MAX, &h, why, sizeof why), -431);
    CHECK_INT(dg_http_head_parse(big, DG_HTTP_HEAD_MAX + 2, &h, why, sizeof why), -431);
    big[DG_HTTP_HEAD_MAX - 2] = '\r';
    big[DG_HTTP_HEAD_MAX - 1] = '\n';
    big[DG_HTTP_HEAD_MAX] = '\r';
    CHECK_INT(dg_http_head_parse(big, DG_HTTP_HEAD_MAX, &h, why, sizeof why), -431);
    CHECK_INT(dg_http_head_parse(big, DG_HTTP_HEAD_MAX + 1, &h, why, sizeof why), -431);
    free(big);
}

/* ------------------------------------------------------------ server */

struct hctx {
    int entered; /* the /sleep handler started (atomic) */
    int calls;   /* handler calls (atomic) */
};

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static long long mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Echo "METHOD PATH BODYLEN TOO_LARGE"; "/status/NNN" sets the status,
 * "/sleep" takes 200 ms. */
static void echo_handler(void *ctx, const dg_http_request *rq, dg_http_reply *rp) {
    struct hctx *hc = ctx;
    const dg_http_head *h = rq->head;
    __atomic_add_fetch(&hc->calls, 1, __ATOMIC_SEQ_CST);
    if (h->path_len > 8 && memcmp(h->path, "/status/", 8) == 0)
        rp->status = (unsigned)atoi(h->path + 8);
    if (h->path_len == 6 && memcmp(h->path, "/sleep", 6) == 0) {
        __atomic_store_n(&hc->entered, 1, __ATOMIC_SEQ_CST);
        sleep_ms(200);
    }
    rp->content_type = "text/plain";
    dg_buf_printf(&rp->body, "%.*s %.*s %zu %d", (int)h->method_len, h->method, (int)h->path_len,
                  h->path, rq->body_len, rq->too_large);
}

static void reject_cb(void *ctx, const char *why, dg_http_reply *rp) {
    (void)ctx;
    rp->content_type = "application/json";
    dg_buf_printf(&rp->body, "{\"error\":\"%s\"}", why);
}

static dg_httpd *start_with(struct hctx *hc, int threads, int idle_ms, int request_ms,
                            int max_conns) {
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    dg_httpd_opts o = {.addr = (const struct sockaddr *)&a,
                       .addr_len = sizeof a,
                       .threads = threads,
                       .max_body = 65536,
                       .idle_timeout_ms = idle_ms,
                       .request_timeout_ms = request_ms,
                       .max_connections = max_conns,
                       .handler = echo_handler,
                       .on_reject = reject_cb,
                       .ctx = hc};
    dg_err e = {0};
    dg_httpd *s = dg_httpd_start(&o, &e);
    if (!s) dg_test_fail(__FILE__, __LINE__, "dg_httpd_start: %s", e.msg);
    return s;
}

static dg_httpd *start(struct hctx *hc, int idle_ms, int max_conns) {
    return start_with(hc, 2, idle_ms, 0, max_conns);
}

/* One worker: which connection is evicted is then the server's choice alone
 * (each worker evicts among the connections it owns). */
static dg_httpd *start_rt(struct hctx *hc, int idle_ms, int request_ms, int max_conns) {
    return start_with(hc, 1, idle_ms, request_ms, max_conns);
}

/* A client connection with a receive buffer kept across responses. */
struct cl {
    int fd;
    size_t len;
    char buf[8192];
};

static int cl_open(struct cl *c, dg_httpd *s) {
    c->len = 0;
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct timeval tv = {2, 0};
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)dg_httpd_port(s))};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(c->fd, (struct sockaddr *)&a, sizeof a) != 0) {
        dg_test_fail(__FILE__, __LINE__, "connect: %s", strerror(errno));
        return 0;
    }
    return 1;
}

static void cl_close(struct cl *c) {
    if (c->fd >= 0) close(c->fd);
    c->fd = -1;
}

static int cl_send(struct cl *c, const void *p, size_t n) {
    const char *q = p;
    while (n) {
        ssize_t k = send(c->fd, q, n, MSG_NOSIGNAL);
        if (k <= 0) return 0;
        q += k;
        n -= (size_t)k;
    }
    return 1;
}

static int cl_sends(struct cl *c, const char *s) {
    return cl_send(c, s, strlen(s));
}

/* Read more into c->buf: > 0 bytes, 0 at EOF, -1 on timeout or error. */
static ssize_t cl_fill(struct cl *c) {
    if (c->len == sizeof c->buf) return -1;
    ssize_t k = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
    if (k > 0) c->len += (size_t)k;
    return k < 0 ? -1 : k;
}

struct resp {
    int status;
    int close; /* "Connection: close" */
    char body[512];
};

/* Read one response (no body after a HEAD). Returns 1 when complete. */
static int cl_read(struct cl *c, struct resp *r, int head_only) {
    memset(r, 0, sizeof *r);
    char *end;
    for (;;) {
        end = c->len ? memmem(c->buf, c->len, "\r\n\r\n", 4) : NULL;
        if (end) break;
        if (cl_fill(c) <= 0) return 0;
    }
    size_t hl = (size_t)(end - c->buf) + 4;
    char head[4096];
    if (hl >= sizeof head) return 0;
    memcpy(head, c->buf, hl);
    head[hl] = 0;
    if (sscanf(head, "HTTP/1.1 %d ", &r->status) != 1) return 0;
    const char *cl = strcasestr(head, "\r\nContent-Length: ");
    size_t blen = cl ? (size_t)strtoul(cl + 18, NULL, 10) : 0;
    r->close = strcasestr(head, "\r\nConnection: close\r\n") != NULL;
    if (head_only || r->status < 200) blen = 0;
    while (c->len < hl + blen)
        if (cl_fill(c) <= 0) return 0;
    size_t keep = blen < sizeof r->body - 1 ? blen : sizeof r->body - 1;
    memcpy(r->body, c->buf + hl, keep);
    memmove(c->buf, c->buf + hl + blen, c->len - hl - blen);
    c->len -= hl + blen;
    return 1;
}

/* The server closed the connection (EOF or reset) with nothing more sent. */
static int cl_closed(struct cl *c) {
    if (c->len) return 0;
    char x;
    ssize_t k = recv(c->fd, &x, 1, 0);
    return k == 0 || (k < 0 && errno == ECONNRESET);
}

#define REQ(path) "GET " path " HTTP/1.1\r\nHost: t\r\n\r\n"

TEST(httpd_keep_alive_and_status) {
    struct hctx hc = {0};
    dg_httpd *s = start(&hc, 5000, 64);
    if (!s) return;
    struct cl c;
    struct resp r;
    if (cl_open(&c, s)) {
        CHECK(cl_sends(&c, REQ("/a?x=1")));
        CHECK(cl_read(&c, &r, 0));
        CHECK_INT(r.status, 200);
        CHECK_STR(r.body, "GET /a 0 0");
        CHECK_INT(r.close, 0);
        CHECK(
            cl_sends(&c, "POST /status/404 HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello"));
        CHECK(cl_read(&c, &r, 0));
        CHECK_INT(r.status, 404);
        CHECK_STR(r.body, "POST /status/404 5 0");
        CHECK_INT(__atomic_load_n(&hc.calls, __ATOMIC_SEQ_CST), 2);
    }
    cl_close(&c);
    dg_httpd_stop(s, 1000);
}

TEST(httpd_pipelining) {
    struct hctx hc = {0};
    dg_httpd *s = start(&hc, 5000, 64);
    if (!s) return;
    struct cl c;
    struct resp r;
    if (cl_open(&c, s)) {
        CHECK(cl_sends(&c, "POST /one HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc" REQ(
                               "/status/201") REQ("/three")));
        CHECK(cl_read(&c, &r, 0));
        CHECK_STR(r.body, "POST /one 3 0");
        CHECK(cl_read(&c, &r, 0));
        CHECK_INT(r.status, 201);
        CHECK_STR(r.body, "GET /status/201 0 0");
        CHECK(cl_read(&c, &r, 0));
        CHECK_STR(r.body, "GET /three 0 0");
    }
    cl_close(&c);
    /* the last request asks to close: all answers still arrive, then EOF */
    if (cl_open(&c, s)) {
        CHECK(cl_sends(&c, REQ("/a") "GET /b HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"));
        CHECK(cl_read(&c, &r, 0));
        CHECK_STR(r.body, "GET /a 0 0");
        CHECK(cl_read(&c, &r, 0));
        CHECK_STR(r.body, "GET /b 0 0");
        CHECK_INT(r.close, 1);
        CHECK(cl_closed(&c));
    }
    cl_close(&c);
    dg_httpd_stop(s, 1000);
}

TEST(httpd_head_and_http10) {
    struct hctx hc = {0};
    dg_httpd *s = start(&hc, 5000, 64);
    if (!s) return;
    struct cl c;
    struct resp r;
    if (cl_open(&c, s)) {
        CHECK(cl_sends(&c, "HEAD /h HTTP/1.1\r\nHost: t\r\n\r\n"));
        CHECK(cl_read(&c, &r, 1));
        CHECK_INT(r.status, 200);
        CHECK_STR(r.body, "");
        /* the next answer starts right after the head: no body bytes came */
        CHECK(cl_sends(&c, REQ("/after")));
        CHECK(cl_read(&c, &r, 0));
        CHECK_STR(r.body, "GET /after 0 0");
        /* a HEAD answer announces the length of the body it leaves out */
        CHECK(cl_sends(&c, "HEAD /h HTTP/1.1\r\nHost: t\r\n\r\n"));
        char *end = NULL;
        while (!(end = memmem(c.buf, c.len, "\r\n\r\n", 4)))
            if (cl_fill(&c) <= 0) break;
        c.buf[c.len < sizeof c.buf ? c.len : sizeof c.buf - 1] = 0;
        CHECK(end && strstr(c.buf, "\r\nContent-Length: 11\r\n") != NULL);
        c.len = 0;
    }
    cl_close(&c);
    if (cl_open(&c, s)) {
        CHECK(cl_sends(&c, "GET /old HTTP/1.0\r\n\r\n"));
        CHECK(cl_read(&c, &r, 0));
        CHECK_STR(r.body, "GET /old 0 0");
        CHECK_INT(r.close, 1);
        CHECK(cl_closed(&c));
    }
    cl_close(&c);
    if (cl_open(&c, s)) {
        CHECK(cl_sends(&c, "GET /old HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
        CHECK(cl_read(&c, &r, 0));
        CHECK_INT(r.close, 0);
        CHECK(cl_sends(&c, "GET /again HTTP/1.0\r\n\r\n"));
        CHECK(cl_read(&c, &r, 0));
        CHECK_STR(r.body, "GET /again 0 0");
        CHECK(cl_closed(&c));
    }
    cl_close(&c);
    dg_httpd_stop(s, 1000);
}

TEST(httpd_expect_continue) {
    struct hctx hc = {0};
    dg_httpd *s = start(&hc, 5000, 64);
    if (!s) return;
    struct cl c;
    struct resp r;
    if (cl_open(&c, s)) {
        CHECK(cl_sends(
            &c,
            "POST /e HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n"));
        CHECK(cl_read(&c, &r, 0));
        CHECK_INT(r.status, 100);
        CHECK_INT(__atomic_load_n(&hc.calls, __ATOMIC_SEQ_CST), 0);
        CHECK(cl_sends(&c, "body"));
        CHECK(cl_read(&c, &r, 0));
        CHECK_INT(r.status, 200);
        CHECK_STR(r.body, "POST /e 4 0");
        /* over the cap: no 100 Continue, the answer at once, then close */
        CHECK(cl_sends(&c, "POST /e HTTP/1.1\r\nHost: t\r\nContent-Length: 70000\r\nExpect: "
                           "100-continue\r\n\r\n"));
        CHECK(cl_read(&c, &r, 0));
        CHECK_INT(r.status, 200);
        CHECK_STR(r.body, "POST /e 0 1");
        CHECK(cl_closed(&c));
    }
    cl_close(&c);
    dg_httpd_stop(s, 1000);
}

TEST(httpd_body_over_max) {
    struct hctx hc = {0};
    dg_httpd *s = start(&hc, 5000, 64);
    if (!s) return;
    struct cl c;
    struct resp r;
    char *body = malloc(70000);
    memset(body, 'b', 70000);
    /* 70000 bytes sent in full: refused unread, discarded, the connection stays */
    if (cl_open(&c, s)) {
        CHECK(
            cl_sends(&c, "POST /status/413 HTTP/1.1\r\nHost: t\r\nContent-Length: 70000\r\n\r\n"));
        CHECK(cl_send(&c, body, 70000));
        CHECK(cl_read(&c, &r, 0));
        CHECK_INT(r.status, 413);
        CHECK_STR(r.body, "POST /status/413 0 1");
        CHECK_INT(r.close, 0);
        CHECK(cl_sends(&c, REQ("/next")));
        CHECK(cl_read(&c, &r, 0));
        CHECK_STR(r.body, "GET /next 0 0");
    }
    cl_close(&c);
    /* the same, with the next request in the same write as the body */
    if (cl_open(&c, s)) {
        dg_buf b;
        dg_buf_init(&b);
        dg_buf_puts(&b, "POST /status/413 HTTP/1.1\r\nHost: t\r\nContent-Length: 70000\r\n\r\n");
        dg_buf_append(&b, body, 70000);
        dg_buf_puts(&b, REQ("/next"));
        CHECK(cl_send(&c, b.data, b.len));
        dg_buf_free(&b);
        CHECK(cl_read(&c, &r, 0));
        CHECK_INT(r.status, 413);
        CHECK(cl_read(&c, &r, 0));
        CHECK_STR(r.body, "GET /next 0 0");
    }
    cl_close(&c);
    /* exactly max_body is read and handed over */
    if (cl_open(&c, s)) {
        CHECK(cl_sends(&c, "POST /max HTTP/1.1\r\nHost: t\r\nContent-Length: 65536\r\n\r\n"));
        CHECK(cl_send(&c, body, 65536));
        CHECK(cl_read(&c, &r, 0));
        CHECK_STR(r.body, "POST /max 65536 0");
    }
    cl_close(&c);
    /* 2 MiB: answered without reading, then closed */
    if (cl_open(&c, s)) {
        CHECK(cl_sends(&c, "POST /huge HTTP/1.1\r\nHost: t\r\nContent-Length: 2097152\r\n\r\n"));
        CHECK(cl_send(&c, body, 70000));
        CHECK(cl_read(&c, &r, 0));
        CHECK_STR(r.body, "POST /huge 0 1");
        CHECK_INT(r.close, 1);
        CHECK(cl_closed(&c));
    }
    cl_close(&c);
    free(body);
    dg_httpd_stop(s, 1000);
}

TEST(httpd_reject) {
    struct hctx hc = {0};
    dg_httpd *s = start(&hc, 5000, 64);
    if (!s) return;
    struct cl c;
    struct resp r;
    static const struct {
        const char *req;
        int status;
        const char *body;
    } cases[] = {
        {"GET / HTTP/1.1\r\nHost : t\r\n\r\n", 400,
         "{\"error\":\"header Host: blank between the field name and ':'\"}"},
        {"GET / HTTP/2.0\r\nHost: t\r\n\r\n", 505, NULL},
        {"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n", 501, NULL},
        {"POST / HTTP/1.1\r\nHost: t\r\nExpect: later\r\n\r\n", 417, NULL},
        {"GET / HTTP/1.1\nHost: t\n\n", 400, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (!cl_open(&c, s)) break;
        CHECK(cl_sends(&c, cases[i].req));
        if (!cl_read(&c, &r, 0) || r.status != cases[i].status || !r.close ||
            strncmp(r.body, "{\"error\":\"", 10))
            dg_test_fail(__FILE__, __LINE__, "case %zu: status %d close %d body %s", i, r.status,
                         r.close, r.body);
        if (cases[i].body) CHECK_STR(r.body, cases[i].body);
        CHECK(cl_closed(&c));
        cl_close(&c);
    }
    /* a good request, then a bad one pipelined: one answer each, then close */
    if (cl_open(&c, s)) {
        CHECK(cl_sends(&c, REQ("/ok") "GET /x HTTP/1.1\r\n\r\n"));
        CHECK(cl_read(&c, &r, 0));
        CHECK_STR(r.body, "GET /ok 0 0");
        CHECK(cl_read(&c, &r, 0));
        CHECK_INT(r.status, 400);
        CHECK(cl_closed(&c));
    }
    cl_close(&c);
    CHECK_INT(__atomic_load_n(&hc.calls, __ATOMIC_SEQ_CST), 1);
    dg_httpd_stop(s, 1000);
}

TEST(httpd_byte_by_byte) {
    struct hctx hc = {0};
    dg_httpd *s = start(&hc, 5000, 64);
    if (!s) return;
    struct cl c;
    struct resp r;
    const char *req = "\r\nPOST /slow?q HTTP/1.1\r\nHost: t\r\nContent-Length: 6\r\n\r\nsix!!!";
    if (cl_open(&c, s)) {
        int ok = 1;
        for (size_t i = 0; req[i] && ok; i++) {
            ok = cl_send(&c, req + i, 1);
            if (i % 8 == 0) sleep_ms(1); /* let some bytes arrive alone */
        }
        CHECK(ok);
        CHECK(cl_read(&c, &r, 0));
        CHECK_INT(r.status, 200);
        CHECK_STR(r.body, "POST /slow 6 0");
    }
    cl_close(&c);
    dg_httpd_stop(s, 1000);
}

TEST(httpd_idle_timeout) {
    struct hctx hc = {0};
    dg_httpd *s = start(&hc, 300, 64);
    if (!s) return;
    struct cl c;
    if (cl_open(&c, s)) {
        long long t0 = mono_ms();
        CHECK(cl_sends(&c, "GET /half HTTP/1.1\r\nHo"));
        CHECK(cl_closed(&c));
        long long dt = mono_ms() - t0;
        if (dt < 280 || dt > 1400)
            dg_test_fail(__FILE__, __LINE__, "closed after %lld ms, expected 300..1300", dt);
    }
    cl_close(&c);
    CHECK_INT(__atomic_load_n(&hc.calls, __ATOMIC_SEQ_CST), 0);
    dg_httpd_stop(s, 1000);
}

/* At the limit a new connection is served: the connection idle the longest
 * is closed to make room (it used to be the new one that was closed, so a
 * neighbour holding idle connections locked every client out). */
TEST(httpd_max_connections) {
    struct hctx hc = {0};
    dg_httpd *s = start_rt(&hc, 5000, 5000, 2);
    if (!s) return;
    struct cl a, b, c;
    struct resp r;
    int ok = cl_open(&a, s) && cl_open(&b, s);
    if (ok) {
        CHECK(cl_sends(&a, REQ("/a")) && cl_read(&a, &r, 0));
        sleep_ms(20); /* a has been idle longer than b */
        CHECK(cl_sends(&b, REQ("/b")) && cl_read(&b, &r, 0));
        if (cl_open(&c, s)) {
            long long t0 = mono_ms();
            CHECK(cl_sends(&c, REQ("/c")) && cl_read(&c, &r, 0));
            CHECK_STR(r.body, "GET /c 0 0");
            CHECK(mono_ms() - t0 < 100);
        }
        cl_close(&c);
        CHECK(cl_closed(&a)); /* the oldest idle one made room */
        CHECK(cl_sends(&b, REQ("/b2")) && cl_read(&b, &r, 0));
        CHECK_STR(r.body, "GET /b2 0 0");
        dg_httpd_stats st;
        dg_httpd_get_stats(s, &st);
        CHECK(st.evicted >= 1);
        CHECK_INT((long long)st.refused, 0);
    }
    cl_close(&a);
    cl_close(&b);
    dg_httpd_stop(s, 1000);
}

/* Slowloris: connections that never finish their request head. At the limit
 * the oldest of them makes room for a new connection; the others are closed
 * once request_timeout_ms has passed, while an idle keep-alive connection
 * (idle_timeout_ms, much longer) stays. */
TEST(httpd_slow_heads_evicted_and_timed_out) {
    struct hctx hc = {0};
    dg_httpd *s = start_rt(&hc, 10000, 300, 4);
    if (!s) return;
    struct cl idle, slow[3], c;
    struct resp r;
    int ok = cl_open(&idle, s) && cl_sends(&idle, REQ("/i")) && cl_read(&idle, &r, 0);
    for (int i = 0; ok && i < 3; i++) {
        ok = cl_open(&slow[i], s) && cl_sends(&slow[i], "GET /slow HTTP/1.1\r\nHo");
        sleep_ms(10);
    }
    CHECK(ok);
    if (ok) {
        sleep_ms(120); /* the partial heads are old enough to be judged slow */
        long long t0 = mono_ms();
        CHECK(cl_open(&c, s) && cl_sends(&c, REQ("/c")) && cl_read(&c, &r, 0));
        CHECK(mono_ms() - t0 < 100);
        cl_close(&c);
        /* an idle connection goes first (no request in progress) */
        CHECK(cl_closed(&idle));
        /* the slow heads are closed by the request timeout (swept each second) */
        t0 = mono_ms();
        for (int i = 0; i < 3; i++)
            CHECK(cl_closed(&slow[i]));
        CHECK(mono_ms() - t0 < 1800);
        dg_httpd_stats st;
        dg_httpd_get_stats(s, &st);
        CHECK(st.request_timeouts >= 3);
        CHECK(st.evicted >= 1);
    }
    cl_close(&idle);
    for (int i = 0; i < 3; i++)
        cl_close(&slow[i]);
    dg_httpd_stop(s, 1000);
}

/* With only slow heads at the limit, the one that has been sending the
 * longest is closed to make room. */
TEST(httpd_slow_head_evicted_oldest_first) {
    struct hctx hc = {0};
    dg_httpd *s = start_rt(&hc, 10000, 5000, 2);
    if (!s) return;
    struct cl s1, s2, c;
    struct resp r;
    int ok = cl_open(&s1, s) && cl_sends(&s1, "GET /x HTTP/1.1\r\n");
    sleep_ms(20);
    ok = ok && cl_open(&s2, s) && cl_sends(&s2, "GET /y HTTP/1.1\r\n");
    sleep_ms(120); /* both old enough to be judged slow */
    CHECK(ok);
    if (ok) {
        CHECK(cl_open(&c, s) && cl_sends(&c, REQ("/c")) && cl_read(&c, &r, 0));
        cl_close(&c);
        CHECK(cl_closed(&s1));
        /* s2 is still there and may finish its request */
        CHECK(cl_sends(&s2, "Host: t\r\n\r\n") && cl_read(&s2, &r, 0));
        CHECK_STR(r.body, "GET /y 0 0");
    }
    cl_close(&s1);
    cl_close(&s2);
    dg_httpd_stop(s, 1000);
}

TEST(httpd_stop_waits_for_handler) {
    struct hctx hc = {0};
    dg_httpd *s = start(&hc, 5000, 64);
    if (!s) return;
    struct cl c;
    struct resp r;
    if (!cl_open(&c, s)) {
        dg_httpd_stop(s, 0);
        return;
    }
    CHECK(cl_sends(&c, REQ("/sleep")));
    for (int i = 0; i < 200 && !__atomic_load_n(&hc.entered, __ATOMIC_SEQ_CST); i++)
        sleep_ms(1);
    CHECK(__atomic_load_n(&hc.entered, __ATOMIC_SEQ_CST));
    long long t0 = mono_ms();
    dg_httpd_stop(s, 2000);
    long long dt = mono_ms() - t0;
    if (dt < 100 || dt > 1500)
        dg_test_fail(__FILE__, __LINE__, "stop took %lld ms, expected ~200", dt);
    /* the answer was written before the connection was closed */
    CHECK(cl_read(&c, &r, 0));
    CHECK_INT(r.status, 200);
    CHECK_STR(r.body, "GET /sleep 0 0");
    CHECK(cl_closed(&c));
    cl_close(&c);
}

/* ------------------------------------------------------------ inherited socket, staged workers */

/* Threads of this process (entries of /proc/self/task). */
static int thread_count(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    int n = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "Threads: %d", &n) == 1) break;
    if (f) fclose(f);
    return n;
}

/* A listening TCP socket on 127.0.0.1 (any port); its port in *port. */
static int listening_socket(int *port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t l = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 16) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &l) != 0) {
        dg_test_fail(__FILE__, __LINE__, "listening socket: %s", strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    *port = ntohs(a.sin_port);
    return fd;
}

static int is_listening(int fd) {
    int acc = 0;
    socklen_t l = sizeof acc;
    return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &l) == 0 && acc;
}

static dg_httpd_opts fd_opts(struct hctx *hc, int listen_fd, int threads, int start_threads) {
    dg_httpd_opts o = {.listen_fd = listen_fd, /* no addr: an inherited socket needs none */
                       .threads = threads,
                       .start_threads = start_threads,
                       .max_body = 65536,
                       .idle_timeout_ms = 5000,
                       .max_connections = 64,
                       .handler = echo_handler,
                       .on_reject = reject_cb,
                       .ctx = hc};
    return o;
}

TEST(httpd_listen_fd) {
    struct hctx hc = {0};
    int port = 0, fd = listening_socket(&port);
    if (fd < 0) return;
    /* systemd keeps its own descriptor of the socket for the next activation */
    int keep = dup(fd);
    dg_httpd_opts o = fd_opts(&hc, fd, 2, 0);
    dg_err e = {0};
    dg_httpd *s = dg_httpd_start(&o, &e);
    if (!s) {
        dg_test_fail(__FILE__, __LINE__, "dg_httpd_start(listen_fd): %s", e.msg);
        close(fd);
        close(keep);
        return;
    }
    CHECK_INT(dg_httpd_port(s), port);
    struct cl c;
    struct resp r;
    if (cl_open(&c, s)) {
        CHECK(cl_sends(&c, REQ("/inherited")) && cl_read(&c, &r, 0));
        CHECK_INT(r.status, 200);
        CHECK_STR(r.body, "GET /inherited 0 0");
    }
    cl_close(&c);
    dg_httpd_stop(s, 1000);
    /* the server closed its descriptor (it owns it) ... */
    errno = 0;
    CHECK(fcntl(fd, F_GETFD) == -1 && errno == EBADF);
    /* ... but left the socket listening for the other holders: a connection
     * made now waits in the backlog for the next process */
    CHECK(is_listening(keep));
    int k = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(connect(k, (struct sockaddr *)&a, sizeof a) == 0);
    close(k);
    /* and a second server on the same socket answers */
    hc.calls = 0;
    int fd2 = dup(keep);
    o = fd_opts(&hc, fd2, 1, 0);
    s = dg_httpd_start(&o, &e);
    if (!s)
        dg_test_fail(__FILE__, __LINE__, "second dg_httpd_start(listen_fd): %s", e.msg);
    else {
        if (cl_open(&c, s)) {
            CHECK(cl_sends(&c, REQ("/again")) && cl_read(&c, &r, 0));
            CHECK_STR(r.body, "GET /again 0 0");
        }
        cl_close(&c);
        dg_httpd_stop(s, 1000);
    }
    close(keep);
}

TEST(httpd_listen_fd_not_listening) {
    struct hctx hc = {0};
    /* a stream socket that is not listening, and a datagram socket */
    int fds[2] = {socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0),
                  socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)};
    for (int i = 0; i < 2; i++) {
        if (fds[i] < 0) {
            dg_test_fail(__FILE__, __LINE__, "socket: %s", strerror(errno));
            continue;
        }
        dg_httpd_opts o = fd_opts(&hc, fds[i], 2, 0);
        dg_err e = {0};
        dg_httpd *s = dg_httpd_start(&o, &e);
        CHECK(s == NULL);
        if (s) dg_httpd_stop(s, 0);
        char want[64];
        snprintf(want, sizeof want, "descriptor %d is not a listening", fds[i]);
        if (!strstr(e.msg, want))
            dg_test_fail(__FILE__, __LINE__, "error \"%s\", expected \"%s\"", e.msg, want);
        CHECK_INT(e.code, DG_ERR_IO);
        close(fds[i]);
    }
}

TEST(httpd_start_threads) {
    struct hctx hc = {0};
    int port = 0, fd = listening_socket(&port);
    if (fd < 0) return;
    int base = thread_count();
    dg_httpd_opts o = fd_opts(&hc, fd, 3, 1);
    dg_err e = {0};
    dg_httpd *s = dg_httpd_start(&o, &e);
    if (!s) {
        dg_test_fail(__FILE__, __LINE__, "dg_httpd_start: %s", e.msg);
        close(fd);
        return;
    }
    CHECK_INT(thread_count(), base + 1);
    /* one worker answers, on a connection kept open across the start of the others */
    struct cl a, b;
    struct resp r;
    int ok = cl_open(&a, s);
    if (ok) {
        CHECK(cl_sends(&a, REQ("/first")) && cl_read(&a, &r, 0));
        CHECK_STR(r.body, "GET /first 0 0");
    }
    CHECK_INT(dg_httpd_start_workers(s, &e), 1);
    CHECK_INT(thread_count(), base + 3);
    /* again: nothing more to start */
    CHECK_INT(dg_httpd_start_workers(s, &e), 1);
    CHECK_INT(thread_count(), base + 3);
    if (ok) {
        CHECK(cl_sends(&a, REQ("/same-conn")) && cl_read(&a, &r, 0));
        CHECK_STR(r.body, "GET /same-conn 0 0");
    }
    /* new connections, several at once, spread over the workers */
    for (int i = 0; i < 6; i++) {
        if (!cl_open(&b, s)) break;
        CHECK(cl_sends(&b, REQ("/later")) && cl_read(&b, &r, 0));
        CHECK_STR(r.body, "GET /later 0 0");
        cl_close(&b);
    }
    cl_close(&a);
    CHECK_INT(__atomic_load_n(&hc.calls, __ATOMIC_SEQ_CST), 8);
    dg_httpd_stop(s, 1000);
    /* every worker joined */
    CHECK_INT(thread_count(), base);

    /* start_threads 0 or above threads: all start at once; stop without
     * dg_httpd_start_workers joins the one started */
    static const int cases[][3] = {{3, 0, 3}, {2, 5, 2}, {4, 1, 1}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        o = fd_opts(&hc, 0, cases[i][0], cases[i][1]);
        o.addr = (const struct sockaddr *)&sa;
        o.addr_len = sizeof sa;
        s = dg_httpd_start(&o, &e);
        if (!s) {
            dg_test_fail(__FILE__, __LINE__, "case %zu: dg_httpd_start: %s", i, e.msg);
            continue;
        }
        if (thread_count() != base + cases[i][2])
            dg_test_fail(__FILE__, __LINE__, "case %zu: %d workers, expected %d", i,
                         thread_count() - base, cases[i][2]);
        if (cl_open(&a, s)) {
            CHECK(cl_sends(&a, REQ("/x")) && cl_read(&a, &r, 0));
            CHECK_INT(r.status, 200);
        }
        cl_close(&a);
        dg_httpd_stop(s, 1000);
        CHECK_INT(thread_count(), base);
    }
}

/* ------------------------------------------------------------ deferred answers */

/* A handler that defers "/defer/MS" (answered MS ms later by a helper
 * thread), "/twice" (dg_httpd_defer called twice; answered 10 ms later) and
 * "/now" (a helper completes at once, before the handler returns, as a fast
 * decider may); "/block/MS" blocks its worker MS ms; anything else is
 * answered at once. Helpers are joined by the test (dctx_join). */
struct dctx {
    int calls, twice_null, twice_first;
    int defers; /* helpers being started (atomic) */
    int nth;    /* helpers started, their ids in th (dctx_mu) */
    pthread_t th[32];
};
static pthread_mutex_t dctx_mu = PTHREAD_MUTEX_INITIALIZER;

struct djob {
    dg_httpd_pending *p;
    long delay_ms;
    char body[128];
};

static void *djob_main(void *arg) {
    struct djob *j = arg;
    sleep_ms(j->delay_ms);
    dg_http_reply rp = {.status = 202, .content_type = "text/plain"};
    dg_buf_init(&rp.body);
    dg_buf_puts(&rp.body, j->body);
    dg_httpd_complete(j->p, &rp);
    dg_buf_free(&rp.body); /* taken by dg_httpd_complete: nothing left to free */
    free(j);
    return NULL;
}

/* Complete p after delay_ms from a new thread; 0 when it could not start. */
static int dctx_later(struct dctx *d, dg_httpd_pending *p, long delay_ms, const dg_http_head *h,
                      pthread_t *out) {
    struct djob *j = calloc(1, sizeof *j);
    if (!j) return 0;
    j->p = p;
    j->delay_ms = delay_ms;
    snprintf(j->body, sizeof j->body, "late %.*s %.*s", (int)h->method_len, h->method,
             (int)h->path_len, h->path);
    pthread_t th;
    if (pthread_create(&th, NULL, djob_main, j) != 0) {
        free(j);
        if (!out) __atomic_sub_fetch(&d->defers, 1, __ATOMIC_SEQ_CST);
        return 0;
    }
    if (out)
        *out = th;
    else {
        pthread_mutex_lock(&dctx_mu);
        if (d->nth < 32)
            d->th[d->nth++] = th;
        else
            pthread_detach(th);
        pthread_mutex_unlock(&dctx_mu);
    }
    return 1;
}

static int dctx_registered(struct dctx *d) {
    pthread_mutex_lock(&dctx_mu);
    int n = d->nth;
    pthread_mutex_unlock(&dctx_mu);
    return n;
}

static void dctx_join(struct dctx *d) {
    /* a handler counted in calls may not have registered its helper yet */
    for (int i = 0; i < 2000 && dctx_registered(d) < __atomic_load_n(&d->defers, __ATOMIC_SEQ_CST);
         i++)
        sleep_ms(1);
    pthread_mutex_lock(&dctx_mu);
    int n = d->nth;
    pthread_t th[32];
    memcpy(th, d->th, sizeof th);
    d->nth = 0;
    pthread_mutex_unlock(&dctx_mu);
    for (int i = 0; i < n && i < 32; i++)
        pthread_join(th[i], NULL);
    __atomic_store_n(&d->defers, 0, __ATOMIC_SEQ_CST);
}

static int path_is(const dg_http_head *h, const char *pre, size_t *rest) {
    size_t n = strlen(pre);
    if (h->path_len < n || memcmp(h->path, pre, n) != 0) return 0;
    *rest = n;
    return 1;
}

static void defer_handler(void *ctx, const dg_http_request *rq, dg_http_reply *rp) {
    struct dctx *d = ctx;
    const dg_http_head *h = rq->head;
    size_t k;
    __atomic_add_fetch(&d->calls, 1, __ATOMIC_SEQ_CST);
    rp->content_type = "text/plain";
    if (path_is(h, "/defer/", &k)) {
        __atomic_add_fetch(&d->defers, 1, __ATOMIC_SEQ_CST);
        dg_httpd_pending *p = dg_httpd_defer(rq);
        if (p && dctx_later(d, p, atol(h->path + k), h, NULL)) return;
        rp->status = 500; /* the test sees it */
        if (p) {
            dg_httpd_complete(p, rp);
            return;
        }
    } else if (path_is(h, "/twice", &k)) {
        __atomic_add_fetch(&d->defers, 1, __ATOMIC_SEQ_CST);
        dg_httpd_pending *p = dg_httpd_defer(rq);
        __atomic_store_n(&d->twice_first, p != NULL, __ATOMIC_SEQ_CST);
        __atomic_store_n(&d->twice_null, dg_httpd_defer(rq) == NULL, __ATOMIC_SEQ_CST);
        if (p && dctx_later(d, p, 10, h, NULL)) return;
        rp->status = 500;
    } else if (path_is(h, "/now", &k)) {
        dg_httpd_pending *p = dg_httpd_defer(rq);
        pthread_t th;
        if (p && dctx_later(d, p, 0, h, &th)) {
            pthread_join(th, NULL); /* completed before the handler returns */
            return;
        }
        rp->status = 500;
    } else if (path_is(h, "/block/", &k))
        sleep_ms(atol(h->path + k));
    dg_buf_printf(&rp->body, "now %.*s %.*s", (int)h->method_len, h->method, (int)h->path_len,
                  h->path);
}

static dg_httpd *dstart(struct dctx *d, int threads) {
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    dg_httpd_opts o = {.addr = (const struct sockaddr *)&a,
                       .addr_len = sizeof a,
                       .threads = threads,
                       .max_body = 65536,
                       .idle_timeout_ms = 5000,
                       .max_connections = 64,
                       .handler = defer_handler,
                       .ctx = d};
    dg_err e = {0};
    dg_httpd *s = dg_httpd_start(&o, &e);
    if (!s) dg_test_fail(__FILE__, __LINE__, "dg_httpd_start: %s", e.msg);
    return s;
}

static void wait_calls(struct dctx *d, int n) {
    for (int i = 0; i < 2000 && __atomic_load_n(&d->calls, __ATOMIC_SEQ_CST) < n; i++)
        sleep_ms(1);
    CHECK(__atomic_load_n(&d->calls, __ATOMIC_SEQ_CST) >= n);
}

TEST(httpd_defer_worker_serves_others) {
    struct dctx d = {0};
    dg_httpd *s = dstart(&d, 1);
    if (!s) return;
    struct cl a, b;
    struct resp r;
    if (cl_open(&a, s) && cl_open(&b, s)) {
        long long t0 = mono_ms();
        CHECK(cl_sends(&a, REQ("/defer/100")));
        wait_calls(&d, 1);
        /* the only worker is free: another connection is answered at once */
        long long t1 = mono_ms();
        CHECK(cl_sends(&b, REQ("/quick")) && cl_read(&b, &r, 0));
        long long tb = mono_ms() - t1;
        CHECK_INT(r.status, 200);
        CHECK_STR(r.body, "now GET /quick");
        if (tb > 50)
            dg_test_fail(__FILE__, __LINE__, "other connection answered in %lld ms, expected < 50",
                         tb);
        /* the deferred answer arrives, with the helper's status and body */
        CHECK(cl_read(&a, &r, 0));
        long long ta = mono_ms() - t0;
        CHECK_INT(r.status, 202);
        CHECK_STR(r.body, "late GET /defer/100");
        CHECK_INT(r.close, 0);
        if (ta < 90 || ta > 1000)
            dg_test_fail(__FILE__, __LINE__, "deferred answer after %lld ms, expected ~100", ta);
        /* the connection is kept alive and serves the next request */
        CHECK(cl_sends(&a, REQ("/next")) && cl_read(&a, &r, 0));
        CHECK_STR(r.body, "now GET /next");
    }
    cl_close(&a);
    cl_close(&b);
    dctx_join(&d);
    dg_httpd_stop(s, 1000);
}

TEST(httpd_defer_pipelined) {
    struct dctx d = {0};
    dg_httpd *s = dstart(&d, 1);
    if (!s) return;
    struct cl c;
    struct resp r;
    if (cl_open(&c, s)) {
        CHECK(cl_sends(&c, REQ("/defer/100") REQ("/second") REQ("/defer/20") REQ("/fourth")));
        wait_calls(&d, 1);
        sleep_ms(50);
        /* nothing behind the deferred request is read while it waits */
        CHECK_INT(__atomic_load_n(&d.calls, __ATOMIC_SEQ_CST), 1);
        CHECK(cl_read(&c, &r, 0));
        CHECK_STR(r.body, "late GET /defer/100");
        CHECK(cl_read(&c, &r, 0));
        CHECK_STR(r.body, "now GET /second");
        CHECK(cl_read(&c, &r, 0));
        CHECK_STR(r.body, "late GET /defer/20");
        CHECK(cl_read(&c, &r, 0));
        CHECK_STR(r.body, "now GET /fourth");
        CHECK_INT(__atomic_load_n(&d.calls, __ATOMIC_SEQ_CST), 4);
    }
    cl_close(&c);
    dctx_join(&d);
    dg_httpd_stop(s, 1000);
}

/* The client goes away while its answer is deferred: with a FIN (the server
 * notices when it writes the answer) and with a reset (the server notices at
 * once and keeps the connection until the completion). */
TEST(httpd_defer_client_gone) {
    for (int rst = 0; rst < 2; rst++) {
        struct dctx d = {0};
        dg_httpd *s = dstart(&d, 1);
        if (!s) return;
        struct cl c, o;
        struct resp r;
        if (cl_open(&c, s)) {
            CHECK(cl_sends(&c, REQ("/defer/150")));
            wait_calls(&d, 1);
            if (rst) {
                struct linger lg = {1, 0};
                setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
            }
            cl_close(&c);
        }
        dctx_join(&d); /* the completion has been handed over */
        /* the worker is still sane */
        if (cl_open(&o, s)) {
            CHECK(cl_sends(&o, REQ("/after")) && cl_read(&o, &r, 0));
            CHECK_STR(r.body, "now GET /after");
        }
        cl_close(&o);
        long long t0 = mono_ms();
        dg_httpd_stop(s, 2000);
        long long dt = mono_ms() - t0;
        /* nothing is left in flight: the gone connection does not hold the stop */
        if (dt > 500) dg_test_fail(__FILE__, __LINE__, "rst %d: stop took %lld ms", rst, dt);
    }
}

/* A completion and the client's reset reach the worker in one epoll batch,
 * the completion first: the worker is busy in another handler meanwhile. */
TEST(httpd_defer_completion_and_reset_together) {
    for (int round = 0; round < 3; round++) {
        struct dctx d = {0};
        dg_httpd *s = dstart(&d, 1);
        if (!s) return;
        struct cl a, b;
        struct resp r;
        if (cl_open(&a, s) && cl_open(&b, s)) {
            CHECK(cl_sends(&a, REQ("/defer/40")));
            wait_calls(&d, 1);
            CHECK(cl_sends(&b, REQ("/block/150"))); /* the worker is busy until ~150 ms */
            wait_calls(&d, 2);
            sleep_ms(80); /* the completion is queued (40 ms) */
            struct linger lg = {1, 0};
            setsockopt(a.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
            cl_close(&a); /* then the reset */
            CHECK(cl_read(&b, &r, 0));
            CHECK_STR(r.body, "now GET /block/150");
            CHECK(cl_sends(&b, REQ("/again")) && cl_read(&b, &r, 0));
            CHECK_STR(r.body, "now GET /again");
        }
        cl_close(&a);
        cl_close(&b);
        dctx_join(&d);
        dg_httpd_stop(s, 1000);
    }
}

TEST(httpd_defer_quiesce_waits) {
    struct dctx d = {0};
    dg_httpd *s = dstart(&d, 2);
    if (!s) return;
    struct cl c;
    struct resp r;
    if (!cl_open(&c, s)) {
        dg_httpd_stop(s, 0);
        return;
    }
    CHECK(cl_sends(&c, REQ("/defer/150")));
    wait_calls(&d, 1);
    long long t0 = mono_ms();
    dg_httpd_quiesce(s, 2000);
    long long dt = mono_ms() - t0;
    if (dt < 100 || dt > 1500)
        dg_test_fail(__FILE__, __LINE__, "quiesce took %lld ms, expected ~150", dt);
    /* the answer was sent before quiesce returned */
    CHECK(cl_read(&c, &r, 0));
    CHECK_INT(r.status, 202);
    CHECK_STR(r.body, "late GET /defer/150");
    dctx_join(&d);
    dg_httpd_stop(s, 0);
    CHECK(cl_closed(&c));
    cl_close(&c);
}

TEST(httpd_defer_head_and_close) {
    struct dctx d = {0};
    dg_httpd *s = dstart(&d, 1);
    if (!s) return;
    struct cl c;
    struct resp r;
    if (cl_open(&c, s)) {
        CHECK(cl_sends(&c, "HEAD /defer/30 HTTP/1.1\r\nHost: t\r\n\r\n"));
        CHECK(cl_read(&c, &r, 1));
        CHECK_INT(r.status, 202);
        CHECK_STR(r.body, "");
        /* no body bytes came: the next answer starts right after the head */
        CHECK(cl_sends(&c, "GET /defer/30 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"));
        CHECK(cl_read(&c, &r, 0));
        CHECK_INT(r.status, 202);
        CHECK_STR(r.body, "late GET /defer/30");
        CHECK_INT(r.close, 1);
        CHECK(cl_closed(&c));
    }
    cl_close(&c);
    /* HTTP/1.0 keep-alive: the deferred answer says so */
    if (cl_open(&c, s)) {
        CHECK(cl_sends(&c, "GET /defer/10 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
        CHECK(cl_read(&c, &r, 0));
        CHECK_STR(r.body, "late GET /defer/10");
        CHECK_INT(r.close, 0);
        CHECK(cl_sends(&c, "GET /defer/10 HTTP/1.0\r\n\r\n"));
        CHECK(cl_read(&c, &r, 0));
        CHECK_INT(r.close, 1);
        CHECK(cl_closed(&c));
    }
    cl_close(&c);
    dctx_join(&d);
    dg_httpd_stop(s, 1000);
}

TEST(httpd_defer_twice_and_at_once) {
    struct dctx d = {0};
    dg_httpd *s = dstart(&d, 1);
    if (!s) return;
    struct cl c;
    struct resp r;
    if (cl_open(&c, s)) {
        CHECK(cl_sends(&c, REQ("/twice")) && cl_read(&c, &r, 0));
        CHECK_INT(r.status, 202);
        CHECK_STR(r.body, "late GET /twice");
        CHECK_INT(__atomic_load_n(&d.twice_first, __ATOMIC_SEQ_CST), 1);
        CHECK_INT(__atomic_load_n(&d.twice_null, __ATOMIC_SEQ_CST), 1);
        /* completed by another thread before the handler even returned */
        for (int i = 0; i < 20; i++) {
            CHECK(cl_sends(&c, REQ("/now")) && cl_read(&c, &r, 0));
            CHECK_INT(r.status, 202);
            CHECK_STR(r.body, "late GET /now");
        }
    }
    cl_close(&c);
    /* outside a handler there is nothing to defer */
    dg_http_request none = {0};
    CHECK(dg_httpd_defer(&none) == NULL);
    dctx_join(&d);
    dg_httpd_stop(s, 1000);
}
