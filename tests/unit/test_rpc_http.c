/* test_rpc_http.c — the HTTP/1.1 transport of the RPC client (lib/rpc/http*.c).
 *
 * The response parser is fed canned responses, whole and one byte at a time
 * (framing: Content-Length, chunked, until close; strictness: status line,
 * header lines, sizes). The URL parser is checked for what a request and a
 * label take from a URL. Then dg_rpc runs against a scripted server on
 * loopback that answers each request as a test says (chunked, malformed,
 * cut short, silent, closing), to check what the engine makes of it: the
 * error message, keep-alive reuse, and when a request is sent again after
 * the server closed a kept-alive connection (reads only, writes never).
 */
#include "../test.h"
#include "../../lib/rpc/rpc_internal.h"
#include "dstackgov/rpc.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ------------------------------------------------------------ parser */

/* Parse text whole (step 0) or in pieces of `step` bytes. Returns the final
 * code; body gets the body. */
static int parse(const char *text, size_t step, size_t max_body, dg_buf *body, dg_http_resp *r,
                 int eof) {
    size_t n = strlen(text), off = 0;
    int rc = DG_HTTP_MORE;
    dg_http_resp_init(r, body, max_body);
    while (off < n && rc == DG_HTTP_MORE) {
        size_t k = step && step < n - off ? step : n - off, used = 0;
        rc = dg_http_resp_feed(r, text + off, k, &used);
        off += used;
    }
    if (rc == DG_HTTP_MORE && eof) rc = dg_http_resp_eof(r);
    return rc;
}

static void expect_body(const char *text, const char *want_body, int want_keep) {
    size_t steps[] = {0, 1, 3, 7};
    for (size_t s = 0; s < sizeof steps / sizeof steps[0]; s++) {
        dg_buf b;
        dg_buf_init(&b);
        dg_http_resp r;
        int rc = parse(text, steps[s], 1 << 20, &b, &r, 1);
        if (rc != DG_HTTP_DONE)
            dg_test_fail(__FILE__, __LINE__, "step %zu: rc %d (%s)", steps[s], rc, r.why);
        CHECK_INT(b.len, strlen(want_body));
        CHECK_MEM(b.data ? (const char *)b.data : "", want_body, strlen(want_body));
        CHECK_INT(r.keep_alive, want_keep);
        CHECK_INT(r.status, 200);
        dg_buf_free(&b);
    }
}

static void expect_bad(const char *text, const char *why, int eof) {
    size_t steps[] = {0, 1};
    for (size_t s = 0; s < 2; s++) {
        dg_buf b;
        dg_buf_init(&b);
        dg_http_resp r;
        int rc = parse(text, steps[s], 1 << 20, &b, &r, eof);
        if (rc != DG_HTTP_BAD || !strstr(r.why, why))
            dg_test_fail(__FILE__, __LINE__, "step %zu: rc %d why \"%s\", want \"%s\"", steps[s],
                         rc, r.why, why);
        dg_buf_free(&b);
    }
}

TEST(http_parse_framing) {
    expect_body("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", "hello", 1);
    expect_body("HTTP/1.1 200 OK\r\ncontent-length:5 \r\nContent-Length: 5\r\n\r\nhello", "hello",
                1);
    expect_body("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                "3\r\nhel\r\n2;ext=1\r\nlo\r\nA\r\n, world!!!\r\n0\r\nX-Trailer: t\r\n\r\n",
                "hello, world!!!", 1);
    expect_body("HTTP/1.1 200 OK\r\nTransfer-Encoding: CHUNKED\r\n\r\n0\r\n\r\n", "", 1);
    /* no length: the body runs to the close, and the connection is not reused */
    expect_body("HTTP/1.1 200 OK\r\nContent-Type: x\r\n\r\nuntil close", "until close", 0);
    expect_body("HTTP/1.1 200 OK\r\nConnection: keep-alive, close\r\nContent-Length: 2\r\n\r\nok",
                "ok", 0);
    expect_body("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", "ok", 0);
    expect_body("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\nok", "ok",
                1);
    /* interim responses are skipped; the reason phrase may be empty */
    expect_body("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200\r\nContent-Length: 1\r\n\r\nx", "x", 1);
    expect_body("HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n", "", 1);

    /* a response ends where its framing says: the rest is not consumed */
    dg_buf b;
    dg_buf_init(&b);
    dg_http_resp r;
    dg_http_resp_init(&r, &b, 100);
    const char *two = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n";
    size_t used = 0;
    CHECK_INT(dg_http_resp_feed(&r, two, strlen(two), &used), DG_HTTP_DONE);
    CHECK_INT(used, strlen(two) - strlen("HTTP/1.1 200 OK\r\n"));
    /* 204 has no body; other statuses are reported as they are */
    CHECK_INT(parse("HTTP/1.1 204 No Content\r\n\r\n", 0, 100, &b, &r, 0), DG_HTTP_DONE);
    CHECK_INT(r.status, 204);
    CHECK_INT(parse("HTTP/1.1 503 Busy\r\nContent-Length: 3\r\n\r\nbad", 1, 100, &b, &r, 0),
              DG_HTTP_DONE);
    CHECK_INT(r.status, 503);
    dg_buf_free(&b);
}

TEST(http_parse_rejects_malformed) {
    expect_bad("HTTP/2 200 OK\r\n\r\n", "bad HTTP status line", 0);
    expect_bad("HTTP/1.1 20 OK\r\n\r\n", "bad HTTP status line", 0);
    expect_bad("HTTP/1.1 200OK\r\n\r\n", "bad HTTP status line", 0);
    expect_bad("HTTP/1.1 099 Low\r\n\r\n", "bad HTTP status line", 0);
    expect_bad("ICY 200 OK\r\n\r\n", "bad HTTP status line", 0);
    expect_bad("<html>hello</html>\r\n", "bad HTTP status line", 0);
    expect_bad("HTTP/1.1 200 OK\nContent-Length: 0\n\n", "not ended by CRLF", 0);
    expect_bad("HTTP/1.1 200 O\x01K\r\n\r\n", "bad HTTP status line", 0);
    expect_bad("HTTP/1.1 101 Switching\r\n\r\n", "101", 0);
    expect_bad("HTTP/1.1 200 OK\r\nX: a\r\n  folded\r\n\r\n", "folded", 0);
    expect_bad("HTTP/1.1 200 OK\r\nNo colon\r\n\r\n", "malformed HTTP header line", 0);
    expect_bad("HTTP/1.1 200 OK\r\n: empty name\r\n\r\n", "malformed HTTP header line", 0);
    expect_bad("HTTP/1.1 200 OK\r\nX: a\x7f\r\n\r\n", "control character", 0);
    expect_bad("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
               "conflicting Content-Length", 0);
    expect_bad("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "bad Content-Length", 0);
    expect_bad("HTTP/1.1 200 OK\r\nContent-Length: 1 2\r\n\r\n", "bad Content-Length", 0);
    expect_bad("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
               "bad Content-Length", 0);
    expect_bad("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
               "unsupported Transfer-Encoding", 0);
    expect_bad("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
               "both Content-Length and chunked", 0);
    expect_bad("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "bad chunk size", 0);
    expect_bad("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1000000000000000\r\n",
               "bad chunk size", 0);
    expect_bad("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n",
               "chunk not followed by CRLF", 0);
    /* cut short: the close comes before the framing says the body ends */
    expect_bad("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello", "closed before the end", 1);
    expect_bad("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
               "closed before the end", 1);
    expect_bad("HTTP/1.1 200 OK\r\nContent-Le", "closed before the end", 1);
}

TEST(http_parse_bounds) {
    /* one header line longer than the line buffer */
    size_t big = DG_HTTP_MAX_LINE + 10;
    char *t = malloc(big + 64);
    strcpy(t, "HTTP/1.1 200 OK\r\nX: ");
    size_t l = strlen(t);
    memset(t + l, 'a', big);
    strcpy(t + l + big, "\r\n\r\n");
    expect_bad(t, "line too long", 0);
    free(t);
    /* many short lines, within the line limit but over the count */
    dg_buf m;
    dg_buf_init(&m);
    dg_buf_puts(&m, "HTTP/1.1 200 OK\r\n");
    for (int i = 0; i < DG_HTTP_MAX_FIELDS + 1; i++)
        dg_buf_printf(&m, "X-%d: v\r\n", i);
    dg_buf_puts(&m, "\r\n");
    expect_bad((const char *)m.data, "too many HTTP header lines", 0);
    dg_buf_free(&m);
    /* a few long lines: over the total header size */
    dg_buf_init(&m);
    dg_buf_puts(&m, "HTTP/1.1 200 OK\r\n");
    for (int i = 0; i < 5; i++) {
        dg_buf_printf(&m, "X-%d: ", i);
        for (int j = 0; j < 4000; j++)
            dg_buf_push(&m, 'v');
        dg_buf_puts(&m, "\r\n");
    }
    dg_buf_puts(&m, "\r\n");
    dg_buf_push(&m, 0);
    expect_bad((const char *)m.data, "HTTP headers too large", 0);
    dg_buf_free(&m);
    /* the body cap, announced or chunked */
    dg_buf b;
    dg_buf_init(&b);
    dg_http_resp r;
    CHECK_INT(parse("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n", 0, 10, &b, &r, 0),
              DG_HTTP_BAD);
    CHECK(r.too_big);
    CHECK_INT(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\naaaaaa\r\n"
                    "6\r\nbbbbbb\r\n0\r\n\r\n",
                    1, 10, &b, &r, 0),
              DG_HTTP_BAD);
    CHECK(r.too_big);
    CHECK_INT(parse("HTTP/1.1 200 OK\r\n\r\n0123456789ABC", 0, 10, &b, &r, 1), DG_HTTP_BAD);
    CHECK(r.too_big);
    dg_buf_free(&b);
}

TEST(http_url_parts) {
    dg_http_url u;
    char label[160];
    dg_err e = {0};
    CHECK(dg_http_url_parse("http://User:p%40ss@LocalHost:8545/v1/KEY?x=1#frag", 0, &u, label,
                            sizeof label, &e));
    CHECK_STR(label, "http://localhost:8545");
    CHECK_STR(u.host, "localhost");
    CHECK_STR(u.port, "8545");
    CHECK_STR(u.target, "/v1/KEY?x=1");
    CHECK_STR(u.auth, "Basic VXNlcjpwQHNz"); /* base64("User:p@ss") */
    CHECK(!u.https);
    dg_http_url_free(&u);
    CHECK(dg_http_url_parse("https://h?q", 0, &u, label, sizeof label, &e));
    CHECK_STR(u.target, "/?q");
    CHECK_STR(label, "https://h");
    CHECK(u.https && !u.auth && !u.port[0]);
    dg_http_url_free(&u);
    CHECK(dg_http_url_parse("http://[::1]:8545", 0, &u, label, sizeof label, &e));
    CHECK_STR(u.host, "::1");
    CHECK_STR(label, "http://[::1]:8545");
    dg_http_url_free(&u);
    const char *bad[] = {"http://",    "http://h:0",    "http://h:65536", "http://h:x1",
                         "http://h:",  "http://[::1",   "http://h/a b",   "http://ho st/",
                         "//h/SECRET", "http:/h/SECRET"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (dg_http_url_parse(bad[i], 2, &u, label, sizeof label, &e))
            dg_test_fail(__FILE__, __LINE__, "accepted %s", bad[i]);
        CHECK_INT(e.code, DG_ERR_CONFIG);
        CHECK(strstr(e.msg, "endpoint #3 is not a valid URL") != NULL);
    }
}

/* ------------------------------------------------------------ scripted server */

enum reply {
    P_OK,        /* Content-Length answer */
    P_CHUNKED,   /* chunked answer, in several writes */
    P_UNTIL_EOF, /* no length: body, then close */
    P_RAW,       /* the raw text in srv.raw, then close */
    P_TRUNCATED, /* Content-Length larger than what is sent, then close */
    P_DROP,      /* close without answering */
    P_SILENT     /* never answer (hold the connection) */
};

#define NSCRIPT 8
struct ssrv {
    int lfd, port;
    pthread_t th;
    atomic_int stop;
    enum reply script[NSCRIPT]; /* reply to request i; the last one repeats */
    int close_after[NSCRIPT];   /* close the connection after answering request i */
    int delay_ms;
    const char *raw;
    atomic_int requests, connections;
    char first_head[2048]; /* headers of the first request */
};

static int readable(struct ssrv *s, int fd, int ms) {
    for (int waited = 0; !atomic_load(&s->stop) && (ms < 0 || waited < ms); waited += 20) {
        struct pollfd p = {fd, POLLIN, 0};
        int r = poll(&p, 1, 20);
        if (r > 0) return 1;
        if (r < 0) return 0;
    }
    return 0;
}

static void send_all(int fd, const char *p, size_t n) {
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0) return;
        p += w;
        n -= (size_t)w;
    }
}

/* Answer one connection; returns when the script says to close it. */
static void ss_conn(struct ssrv *s, int fd) {
    char buf[65536];
    size_t have = 0;
    for (;;) {
        char *hend;
        while (!(hend = memmem(buf, have, "\r\n\r\n", 4))) {
            if (have == sizeof buf || !readable(s, fd, -1)) return;
            ssize_t r = recv(fd, buf + have, sizeof buf - have, 0);
            if (r <= 0) return;
            have += (size_t)r;
        }
        size_t hlen = (size_t)(hend - buf) + 4, clen = 0;
        for (char *p = buf; p < hend; p++)
            if (strncasecmp(p, "\ncontent-length:", 16) == 0) clen = strtoul(p + 16, NULL, 10);
        while (have < hlen + clen) {
            if (!readable(s, fd, -1)) return;
            ssize_t r = recv(fd, buf + have, sizeof buf - have, 0);
            if (r <= 0) return;
            have += (size_t)r;
        }
        int n = atomic_fetch_add(&s->requests, 1);
        if (n == 0) snprintf(s->first_head, sizeof s->first_head, "%.*s", (int)hlen, buf);
        json_t *req = json_loadb(buf + hlen, clen, 0, NULL);
        json_int_t id = json_integer_value(json_object_get(req, "id"));
        json_decref(req);
        memmove(buf, buf + hlen + clen, have - hlen - clen);
        have -= hlen + clen;
        int k = n < NSCRIPT ? n : NSCRIPT - 1;
        if (s->delay_ms) usleep((useconds_t)s->delay_ms * 1000);
        char body[128], msg[512];
        int bl = snprintf(body, sizeof body,
                          "{\"jsonrpc\":\"2.0\",\"id\":%lld,\"result\":\"0x2a\"}", (long long)id);
        switch (s->script[k]) {
        case P_OK:
            snprintf(msg, sizeof msg, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", bl, body);
            send_all(fd, msg, strlen(msg));
            break;
        case P_CHUNKED: {
            const char *h = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
            send_all(fd, h, strlen(h));
            for (int off = 0; off < bl; off += 10) {
                int c = bl - off < 10 ? bl - off : 10;
                snprintf(msg, sizeof msg, "%x\r\n%.*s\r\n", c, c, body + off);
                send_all(fd, msg, strlen(msg));
                usleep(2000);
            }
            send_all(fd, "0\r\n\r\n", 5);
            break;
        }
        case P_UNTIL_EOF:
            snprintf(msg, sizeof msg, "HTTP/1.1 200 OK\r\n\r\n%s", body);
            send_all(fd, msg, strlen(msg));
            return;
        case P_RAW:
            send_all(fd, s->raw, strlen(s->raw));
            return;
        case P_TRUNCATED:
            snprintf(msg, sizeof msg, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%.*s", bl + 10,
                     bl, body);
            send_all(fd, msg, strlen(msg));
            return;
        case P_DROP:
            return;
        case P_SILENT:
            readable(s, fd, -1);
            return;
        }
        if (s->close_after[k]) return;
    }
}

static void *ss_main(void *arg) {
    struct ssrv *s = arg;
    while (readable(s, s->lfd, -1)) {
        int fd = accept(s->lfd, NULL, NULL);
        if (fd < 0) continue;
        atomic_fetch_add(&s->connections, 1);
        ss_conn(s, fd);
        close(fd);
    }
    return NULL;
}

static void ss_start(struct ssrv *s) {
    s->lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    CHECK(s->lfd >= 0 && bind(s->lfd, (struct sockaddr *)&a, sizeof a) == 0 &&
          listen(s->lfd, 16) == 0 && getsockname(s->lfd, (struct sockaddr *)&a, &len) == 0);
    s->port = ntohs(a.sin_port);
    CHECK_INT(pthread_create(&s->th, NULL, ss_main, s), 0);
}

static void ss_stop(struct ssrv *s) {
    atomic_store(&s->stop, 1);
    pthread_join(s->th, NULL);
    close(s->lfd);
}

static dg_rpc *ss_client(struct ssrv *s, const char *suffix, long timeout, int retries) {
    char u[160];
    snprintf(u, sizeof u, "http://127.0.0.1:%d%s", s->port, suffix);
    const char *urls[] = {u};
    dg_rpc_opts o = {.timeout_ms = timeout, .retries = retries, .backoff_ms = 5};
    dg_err e = {0};
    dg_rpc *r = dg_rpc_new(urls, 1, &o, &e);
    if (!r) dg_test_fail(__FILE__, __LINE__, "dg_rpc_new: %s", e.msg);
    return r;
}

/* One eth_chainId call; returns 1 and checks the answer, or 0 with e. */
static int call(dg_rpc *r, const char *method, dg_err *e) {
    json_t *res = NULL;
    int ok = dg_rpc_call(r, method, NULL, &res, e);
    if (ok && strcmp(json_string_value(res), "0x2a") != 0) ok = 0;
    json_decref(res);
    return ok;
}

TEST(http_rpc_request_and_keepalive) {
    struct ssrv s = {0};
    s.script[0] = P_OK;
    s.script[1] = P_CHUNKED;
    s.script[2] = P_OK;
    ss_start(&s);
    dg_rpc *r = ss_client(&s, "/v1/SECRETKEY?k=SECRET2", 2000, -1);
    dg_err e = {0};
    for (int i = 0; i < 3; i++)
        CHECK(call(r, "eth_chainId", &e));
    dg_rpc_free(r);
    ss_stop(&s);
    CHECK_INT(atomic_load(&s.requests), 3);
    CHECK_INT(atomic_load(&s.connections), 1); /* one kept-alive connection for all */
    CHECK(strncmp(s.first_head, "POST /v1/SECRETKEY?k=SECRET2 HTTP/1.1\r\n", 39) == 0);
    char host[64];
    snprintf(host, sizeof host, "\r\nHost: 127.0.0.1:%d\r\n", s.port);
    CHECK(strstr(s.first_head, host) != NULL);
    CHECK(strstr(s.first_head, "\r\nContent-Type: application/json\r\n") != NULL);
}

TEST(http_rpc_body_until_close) {
    struct ssrv s = {0};
    s.script[0] = P_UNTIL_EOF;
    ss_start(&s);
    dg_rpc *r = ss_client(&s, "", 2000, -1);
    dg_err e = {0};
    CHECK(call(r, "eth_chainId", &e));
    CHECK(call(r, "eth_chainId", &e)); /* on a new connection */
    dg_rpc_free(r);
    ss_stop(&s);
    CHECK_INT(atomic_load(&s.connections), 2);
}

static void expect_fail(enum reply rep, const char *raw, const char *want, dg_err_code code) {
    struct ssrv s = {0};
    s.script[0] = rep;
    s.raw = raw;
    ss_start(&s);
    dg_rpc *r = ss_client(&s, "/SECRET", 300, -1);
    dg_err e = {0};
    CHECK(!call(r, "eth_chainId", &e));
    char label[64];
    snprintf(label, sizeof label, "rpc http://127.0.0.1:%d: ", s.port);
    if (strncmp(e.msg, label, strlen(label)) != 0 || !strstr(e.msg, want) || e.code != code)
        dg_test_fail(__FILE__, __LINE__, "got \"%s\" (class %d), want \"%s\" (class %d)", e.msg,
                     e.code, want, code);
    CHECK(strstr(e.msg, "SECRET") == NULL);
    dg_rpc_free(r);
    ss_stop(&s);
}

TEST(http_rpc_bad_responses) {
    expect_fail(P_RAW, "HTTP/1.1 2OO OK\r\n\r\n", "bad HTTP response: bad HTTP status line",
                DG_ERR_RPC_RESPONSE);
    expect_fail(P_RAW, "SSH-2.0-OpenSSH_9.2\r\n", "bad HTTP status line", DG_ERR_RPC_RESPONSE);
    expect_fail(P_TRUNCATED, NULL, "connection closed before the end of the response",
                DG_ERR_RPC_RESPONSE);
    expect_fail(P_DROP, NULL, "connection closed without a response", DG_ERR_RPC_RESPONSE);
    expect_fail(P_SILENT, NULL, "timed out after 300 ms", DG_ERR_RPC_TIMEOUT);
    expect_fail(P_RAW, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", "HTTP status 404",
                DG_ERR_RPC_RESPONSE);
    /* oversize headers: a server streaming header lines forever */
    dg_buf m;
    dg_buf_init(&m);
    dg_buf_puts(&m, "HTTP/1.1 200 OK\r\n");
    for (int i = 0; i < 2000; i++)
        dg_buf_printf(&m, "X-Filler-%d: %0200d\r\n", i, i);
    dg_buf_push(&m, 0);
    expect_fail(P_RAW, (const char *)m.data, "bad HTTP response: HTTP headers too large",
                DG_ERR_RPC_RESPONSE);
    dg_buf_free(&m);
}

TEST(http_rpc_idle_close_detected_before_sending) {
    /* the server answers, then closes the kept-alive connection while idle:
     * the next request (even a write) goes out on a fresh connection */
    struct ssrv s = {0};
    s.close_after[0] = s.close_after[1] = s.close_after[2] = 1;
    ss_start(&s);
    dg_rpc *r = ss_client(&s, "", 2000, -1);
    dg_err e = {0};
    CHECK(call(r, "eth_chainId", &e));
    usleep(30000);
    CHECK(call(r, "eth_sendRawTransaction", &e));
    usleep(30000);
    CHECK(call(r, "eth_chainId", &e));
    dg_rpc_free(r);
    ss_stop(&s);
    CHECK_INT(atomic_load(&s.requests), 3);
    CHECK_INT(atomic_load(&s.connections), 3);
}

TEST(http_rpc_close_race_repeats_reads_only) {
    /* the server takes the second request on the kept-alive connection, then
     * closes without answering — as when its idle timeout fires just as the
     * request arrives. A read is sent once more on a fresh connection... */
    struct ssrv s = {0};
    s.script[1] = P_DROP;
    ss_start(&s);
    dg_rpc *r = ss_client(&s, "", 2000, -1);
    dg_err e = {0};
    CHECK(call(r, "eth_chainId", &e));
    CHECK(call(r, "eth_chainId", &e));
    dg_rpc_free(r);
    ss_stop(&s);
    CHECK_INT(atomic_load(&s.requests), 3);
    CHECK_INT(atomic_load(&s.connections), 2);

    /* ...a write, which the server may have processed, is not */
    struct ssrv w = {0};
    w.script[1] = P_DROP;
    ss_start(&w);
    r = ss_client(&w, "", 2000, -1);
    CHECK(call(r, "eth_chainId", &e));
    CHECK(!call(r, "eth_sendRawTransaction", &e));
    CHECK(strstr(e.msg, "connection closed without a response") != NULL);
    dg_rpc_free(r);
    ss_stop(&w);
    CHECK_INT(atomic_load(&w.requests), 2);
    CHECK_INT(atomic_load(&w.connections), 1);

    /* and a fresh connection that drops is a plain failure, not repeated */
    struct ssrv f = {0};
    f.script[0] = P_DROP;
    ss_start(&f);
    r = ss_client(&f, "", 2000, -1);
    CHECK(!call(r, "eth_chainId", &e));
    dg_rpc_free(r);
    ss_stop(&f);
    CHECK_INT(atomic_load(&f.requests), 1);
}

TEST(http_rpc_quorum_in_parallel) {
    struct ssrv a = {0}, b = {0};
    a.delay_ms = b.delay_ms = 200;
    ss_start(&a);
    ss_start(&b);
    char ua[64], ub[64];
    snprintf(ua, sizeof ua, "http://127.0.0.1:%d", a.port);
    snprintf(ub, sizeof ub, "http://127.0.0.1:%d", b.port);
    const char *urls[] = {ua, ub};
    dg_rpc_opts o = {.timeout_ms = 2000, .retries = -1, .quorum = 2};
    dg_err e = {0};
    dg_rpc *r = dg_rpc_new(urls, 2, &o, &e);
    CHECK(r != NULL);
    long long t0 = dg_rpc_now_ms();
    CHECK(call(r, "eth_call", &e));
    long long ms = dg_rpc_now_ms() - t0;
    CHECK(ms >= 195 && ms < 380); /* both asked at once, not one after the other */
    dg_rpc_free(r);
    ss_stop(&a);
    ss_stop(&b);
}

TEST(http_rpc_https_goes_through_libcurl) {
    /* https:// endpoints are served by libcurl, loaded on demand: a dead
     * port gives the same message as with our own transport */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
          getsockname(fd, (struct sockaddr *)&a, &len) == 0);
    close(fd);
    char u[96], want[96];
    snprintf(u, sizeof u, "https://127.0.0.1:%d/SECRET", ntohs(a.sin_port));
    snprintf(want, sizeof want, "rpc https://127.0.0.1:%d: connection refused", ntohs(a.sin_port));
    const char *urls[] = {u};
    dg_rpc_opts o = {.timeout_ms = 1000, .retries = -1};
    dg_err e = {0};
    dg_rpc *r = dg_rpc_new(urls, 1, &o, &e);
    CHECK(r != NULL);
    CHECK(!dg_rpc_call(r, "eth_chainId", NULL, NULL, &e));
    CHECK_STR(e.msg, want);
    CHECK_INT(e.code, DG_ERR_RPC_UNREACHABLE);
    dg_rpc_free(r);
}
