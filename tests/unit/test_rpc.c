/* test_rpc.c — the JSON-RPC client over real HTTP on loopback.
 *
 * Each test starts one or more tiny HTTP servers (a thread with a listening
 * socket on 127.0.0.1:0) that answer JSON-RPC correctly or misbehave on
 * purpose: garbage, too slow, connection closed, HTTP 500, JSON-RPC errors,
 * different results (for quorum). The response decoder is also tested alone.
 */
#include "../test.h"
#include "dstackgov/rpc.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------ test server */

enum srv_mode { M_OK, M_GARBAGE, M_SLOW, M_CLOSE, M_HTTP500, M_RPCERR, M_SINGLE_FOR_BATCH };

#define REVERT_DATA                                                                                \
    "0x08c379a00000000000000000000000000000000000000000000000000000000000000020000000000000"       \
    "000000000000000000000000000000000000000000000000046e6f706500000000000000000000000000000"      \
    "000000000000000000000000000"

struct srv {
    int lfd, port;
    pthread_t th;
    atomic_int stop;
    enum srv_mode mode;
    int fail_first;    /* answer the first N requests with HTTP 500, then follow mode */
    int reverse_batch; /* answer batches in reverse order */
    int slow_ms;
    int close_after;    /* close the connection after each answer, without saying so */
    const char *result; /* JSON text of the result of every call; NULL = the method name */
    atomic_int requests, connections;
};

static int wait_readable(struct srv *s, int fd) {
    while (!atomic_load(&s->stop)) {
        struct pollfd p = {fd, POLLIN, 0};
        int r = poll(&p, 1, 20);
        if (r > 0) return 1;
        if (r < 0) return 0;
    }
    return 0;
}

static json_t *answer_one(struct srv *s, json_t *req) {
    json_t *id = json_object_get(req, "id");
    const char *method = json_string_value(json_object_get(req, "method"));
    if (__atomic_load_n(&s->mode, __ATOMIC_ACQUIRE) == M_RPCERR)
        return json_pack("{s:s, s:O, s:{s:i, s:s, s:s}}", "jsonrpc", "2.0", "id", id, "error",
                         "code", 3, "message", "execution reverted: nope", "data", REVERT_DATA);
    json_t *res = s->result ? json_loads(s->result, JSON_DECODE_ANY, NULL)
                            : json_string(method ? method : "?");
    return json_pack("{s:s, s:O, s:o}", "jsonrpc", "2.0", "id", id, "result", res);
}

/* One send() per response: two small writes would meet Nagle and delayed ACK. */
static void respond(int fd, int status, const char *body) {
    char *msg = NULL;
    int n = asprintf(&msg,
                     "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\n\r\n%s",
                     status, status == 200 ? "OK" : "Error", strlen(body), body);
    if (n > 0) send(fd, msg, (size_t)n, MSG_NOSIGNAL);
    free(msg);
}

/* Serve one connection until the client closes it (keep-alive). */
static void serve_conn(struct srv *s, int fd) {
    char buf[65536];
    size_t have = 0;
    for (;;) {
        char *hend;
        while (!(hend = memmem(buf, have, "\r\n\r\n", 4))) {
            if (have == sizeof buf || !wait_readable(s, fd)) return;
            ssize_t r = recv(fd, buf + have, sizeof buf - have, 0);
            if (r <= 0) return;
            have += (size_t)r;
        }
        size_t hlen = (size_t)(hend - buf) + 4, clen = 0;
        for (char *p = buf; p < hend; p++)
            if (strncasecmp(p, "\ncontent-length:", 16) == 0) clen = strtoul(p + 16, NULL, 10);
        if (hlen + clen > sizeof buf) return;
        while (have < hlen + clen) {
            if (!wait_readable(s, fd)) return;
            ssize_t r = recv(fd, buf + have, sizeof buf - have, 0);
            if (r <= 0) return;
            have += (size_t)r;
        }
        int nreq = atomic_fetch_add(&s->requests, 1);
        json_t *req = json_loadb(buf + hlen, clen, 0, NULL);
        memmove(buf, buf + hlen + clen, have - hlen - clen);
        have -= hlen + clen;

        enum srv_mode mode =
            nreq < s->fail_first ? M_HTTP500 : __atomic_load_n(&s->mode, __ATOMIC_ACQUIRE);
        if (mode == M_CLOSE) {
            json_decref(req);
            return;
        }
        if (mode == M_SLOW) {
            for (int t = 0; t < s->slow_ms && !atomic_load(&s->stop); t += 5)
                usleep(5000);
            mode = M_OK;
        }
        if (mode == M_HTTP500) {
            respond(fd, 500, "{\"oops\":true}");
        } else if (mode == M_GARBAGE) {
            respond(fd, 200, "<html>this is not json</html>");
        } else {
            json_t *ans;
            if (json_is_array(req) &&
                __atomic_load_n(&s->mode, __ATOMIC_ACQUIRE) != M_SINGLE_FOR_BATCH) {
                ans = json_array();
                size_t n = json_array_size(req);
                for (size_t i = 0; i < n; i++) {
                    size_t k = s->reverse_batch ? n - 1 - i : i;
                    json_array_append_new(ans, answer_one(s, json_array_get(req, k)));
                }
            } else if (json_is_array(req)) {
                ans = json_pack("{s:s, s:n, s:{s:i, s:s}}", "jsonrpc", "2.0", "id", "error", "code",
                                -32600, "message", "batch not supported");
            } else {
                ans = answer_one(s, req);
            }
            char *text = json_dumps(ans, JSON_COMPACT);
            respond(fd, 200, text);
            free(text);
            json_decref(ans);
        }
        json_decref(req);
        if (s->close_after) return;
    }
}

static void *srv_main(void *arg) {
    struct srv *s = arg;
    while (wait_readable(s, s->lfd)) {
        int fd = accept(s->lfd, NULL, NULL);
        if (fd < 0) continue;
        atomic_fetch_add(&s->connections, 1);
        serve_conn(s, fd);
        close(fd);
    }
    return NULL;
}

static int listen_any(int *port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 16) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        return -1;
    *port = ntohs(a.sin_port);
    return fd;
}

static void srv_start(struct srv *s, enum srv_mode mode) {
    memset(s, 0, sizeof *s);
    s->mode = mode;
    s->slow_ms = 400;
    s->lfd = listen_any(&s->port);
    CHECK(s->lfd >= 0);
    CHECK_INT(pthread_create(&s->th, NULL, srv_main, s), 0);
}

static void srv_stop(struct srv *s) {
    atomic_store(&s->stop, 1);
    pthread_join(s->th, NULL);
    close(s->lfd);
}

/* A port on which nothing listens (bound, read back, closed). */
static int dead_port(void) {
    int port = 0, fd = listen_any(&port);
    close(fd);
    return port;
}

static void url_of(char *out, size_t cap, int port, const char *suffix) {
    snprintf(out, cap, "http://127.0.0.1:%d%s", port, suffix);
}

static dg_rpc *client(const char *const *urls, size_t n, long timeout, int retries,
                      unsigned quorum) {
    dg_rpc_opts o = {.timeout_ms = timeout, .retries = retries, .backoff_ms = 10, .quorum = quorum};
    dg_err e = {0};
    dg_rpc *r = dg_rpc_new(urls, n, &o, &e);
    if (!r) dg_test_fail(__FILE__, __LINE__, "dg_rpc_new: %s", e.msg);
    return r;
}

/* ------------------------------------------------------------ decoder alone */

static int decode1(const char *body, long long id, dg_rpc_req *r, dg_err *e) {
    memset(r, 0, sizeof *r);
    r->method = "eth_call";
    return dg_jsonrpc_decode(body, strlen(body), id, 0, r, 1, e);
}

TEST(jsonrpc_decode_single) {
    dg_rpc_req r;
    dg_err e = {0};
    CHECK(decode1("{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":\"0x01\"}", 7, &r, &e));
    CHECK(r.ok);
    CHECK_STR(json_string_value(r.result), "0x01");
    dg_rpc_req_clear(&r, 1);

    CHECK(decode1("{\"jsonrpc\":\"2.0\",\"id\":7,\"error\":{\"code\":3,\"message\":\"execution "
                  "reverted\",\"data\":\"0x08c379a0\"}}",
                  7, &r, &e));
    CHECK(!r.ok);
    CHECK_INT(r.error_code, 3);
    CHECK_STR(r.error, "eth_call: execution reverted (code 3)");
    CHECK_STR(json_string_value(r.error_data), "0x08c379a0");
    dg_rpc_req_clear(&r, 1);

    /* a null result is a result (pending receipt) */
    CHECK(decode1("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":null}", 1, &r, &e));
    CHECK(r.ok && json_is_null(r.result));
    dg_rpc_req_clear(&r, 1);
}

TEST(jsonrpc_decode_rejects_malformed) {
    static const struct {
        const char *body, *want;
    } bad[] = {
        {"", "not JSON"},
        {"<html>", "not JSON"},
        {"[]", "not a JSON-RPC object"},
        {"{\"id\":1,\"result\":1}", "jsonrpc"},
        {"{\"jsonrpc\":\"1.0\",\"id\":1,\"result\":1}", "jsonrpc"},
        {"{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":1}", "id 2 was not requested"},
        {"{\"jsonrpc\":\"2.0\",\"id\":\"1\",\"result\":1}", "no integer \"id\""},
        {"{\"jsonrpc\":\"2.0\",\"id\":1}", "exactly one of"},
        {"{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":1,\"error\":{\"code\":1,\"message\":\"x\"}}",
         "exactly one of"},
        {"{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":\"x\",\"message\":\"x\"}}",
         "malformed \"error\""},
        {"{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":\"boom\"}", "malformed \"error\""},
        {"{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":1,\"result\":2}", "not JSON"},
        {"{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32700,\"message\":\"Parse "
         "error\"}}",
         "request rejected: Parse error"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        dg_rpc_req r;
        dg_err e = {0};
        int ok = decode1(bad[i].body, 1, &r, &e);
        if (ok || e.code != DG_ERR_RPC_RESPONSE || !strstr(e.msg, bad[i].want))
            dg_test_fail(__FILE__, __LINE__, "body %s: ok=%d msg \"%s\", expected \"%s\"",
                         bad[i].body, ok, e.msg, bad[i].want);
        CHECK(r.result == NULL && r.error_data == NULL);
    }
}

TEST(jsonrpc_decode_body_without_nul) {
    /* exactly 5 bytes, no terminator: the error snippet must not read past them (ASan) */
    char *body = malloc(5);
    memcpy(body, "<html", 5);
    dg_rpc_req r = {.method = "eth_call"};
    dg_err e = {0};
    CHECK(!dg_jsonrpc_decode(body, 5, 1, 0, &r, 1, &e));
    CHECK(strstr(e.msg, "near \"<html\"") != NULL);
    free(body);
}

TEST(jsonrpc_decode_batch) {
    dg_rpc_req r[3] = {{.method = "a"}, {.method = "b"}, {.method = "c"}};
    dg_err e = {0};
    const char *body = "[{\"jsonrpc\":\"2.0\",\"id\":12,\"result\":\"C\"},"
                       "{\"jsonrpc\":\"2.0\",\"id\":10,\"result\":\"A\"},"
                       "{\"jsonrpc\":\"2.0\",\"id\":11,\"error\":{\"code\":-1,\"message\":\"m\"}}]";
    CHECK(dg_jsonrpc_decode(body, strlen(body), 10, 1, r, 3, &e));
    CHECK(r[0].ok && r[2].ok && !r[1].ok);
    CHECK_STR(json_string_value(r[0].result), "A");
    CHECK_STR(json_string_value(r[2].result), "C");
    CHECK_STR(r[1].error, "b: m (code -1)");
    CHECK_STR(r[1].method, "b");
    dg_rpc_req_clear(r, 3);

    const char *dup = "[{\"jsonrpc\":\"2.0\",\"id\":10,\"result\":1},"
                      "{\"jsonrpc\":\"2.0\",\"id\":10,\"result\":1},"
                      "{\"jsonrpc\":\"2.0\",\"id\":11,\"result\":1}]";
    CHECK(!dg_jsonrpc_decode(dup, strlen(dup), 10, 1, r, 3, &e));
    CHECK(strstr(e.msg, "appears twice") != NULL);
    const char *shortb = "[{\"jsonrpc\":\"2.0\",\"id\":10,\"result\":1}]";
    CHECK(!dg_jsonrpc_decode(shortb, strlen(shortb), 10, 1, r, 3, &e));
    CHECK(strstr(e.msg, "batch of 3 answered with 1 responses") != NULL);
    const char *single = "{\"jsonrpc\":\"2.0\",\"id\":10,\"result\":1}";
    CHECK(!dg_jsonrpc_decode(single, strlen(single), 10, 1, r, 3, &e));
    CHECK(strstr(e.msg, "single object") != NULL);
    for (int i = 0; i < 3; i++)
        CHECK(r[i].result == NULL);
}

TEST(rpc_method_read_list) {
    CHECK(dg_rpc_method_is_read("eth_call"));
    CHECK(dg_rpc_method_is_read("eth_getTransactionReceipt"));
    CHECK(dg_rpc_method_is_read("eth_feeHistory"));
    CHECK(!dg_rpc_method_is_read("eth_sendRawTransaction"));
    CHECK(!dg_rpc_method_is_read("eth_call2"));
    CHECK(!dg_rpc_method_is_read(NULL));
}

/* ------------------------------------------------------------ construction */

TEST(rpc_labels_hide_path_query_and_userinfo) {
    const char *urls[] = {"https://user:pw@rpc.example.org:8443/v2/SECRETKEY?apikey=SECRET2",
                          "http://127.0.0.1:8545", "http://[::1]:9/x", "HTTP://Node.Example/k"};
    dg_rpc *r = client(urls, 4, 0, 0, 0);
    CHECK_INT(dg_rpc_endpoint_count(r), 4);
    CHECK_STR(dg_rpc_endpoint_label(r, 0), "https://rpc.example.org:8443");
    CHECK_STR(dg_rpc_endpoint_label(r, 1), "http://127.0.0.1:8545");
    CHECK_STR(dg_rpc_endpoint_label(r, 2), "http://[::1]:9");
    CHECK_STR(dg_rpc_endpoint_label(r, 3), "http://node.example");
    CHECK_STR(dg_rpc_endpoint_label(r, 4), "?");
    CHECK(dg_rpc_last_endpoint(r) == (size_t)-1);
    dg_rpc_free(r);
}

TEST(rpc_new_rejects_bad_config) {
    dg_err e = {0};
    const char *ftp[] = {"ftp://h/SECRET"};
    CHECK(dg_rpc_new(ftp, 1, NULL, &e) == NULL);
    CHECK_INT(e.code, DG_ERR_CONFIG);
    CHECK(strstr(e.msg, "\"ftp\" is not http or https") && !strstr(e.msg, "SECRET"));
    const char *noscheme[] = {"127.0.0.1:8545/SECRET"};
    CHECK(dg_rpc_new(noscheme, 1, NULL, &e) == NULL);
    CHECK(strstr(e.msg, "endpoint #1 is not a valid URL") && !strstr(e.msg, "SECRET"));
    const char *two[] = {"http://a", "http://b"};
    dg_rpc_opts o = {.quorum = 3};
    CHECK(dg_rpc_new(two, 2, &o, &e) == NULL);
    CHECK(strstr(e.msg, "quorum 3 is larger than the 2 endpoints") != NULL);
    CHECK(dg_rpc_new(two, 0, NULL, &e) == NULL);
    CHECK_INT(e.code, DG_ERR_CONFIG);
}

/* ------------------------------------------------------------ over HTTP */

TEST(rpc_call_reuses_one_connection) {
    struct srv s;
    srv_start(&s, M_OK);
    s.result = "\"0x7a69\"";
    char u[128];
    url_of(u, sizeof u, s.port, "/path/with/KEY?k=1");
    const char *urls[] = {u};
    dg_rpc *r = client(urls, 1, 2000, 0, 0);
    for (int i = 0; i < 20; i++) {
        json_t *res = NULL;
        dg_err e = {0};
        CHECK(dg_rpc_call(r, "eth_chainId", json_array(), &res, &e));
        CHECK_STR(json_string_value(res), "0x7a69");
        json_decref(res);
    }
    json_t *res = NULL;
    CHECK(dg_rpc_call(r, "eth_getBalance", json_pack("[s,s]", "0x00", "latest"), &res, NULL));
    json_decref(res);
    /* params may be NULL, result may be ignored */
    CHECK(dg_rpc_call(r, "eth_blockNumber", NULL, NULL, NULL));
    unsigned long calls = 0, errors = 1;
    CHECK(dg_rpc_stats(r, 0, &calls, &errors));
    CHECK_INT(calls, 22);
    CHECK_INT(errors, 0);
    CHECK(!dg_rpc_stats(r, 1, &calls, &errors));
    CHECK_INT(dg_rpc_last_endpoint(r), 0);
    dg_rpc_free(r);
    srv_stop(&s);
    CHECK_INT(atomic_load(&s.requests), 22);
    CHECK_INT(atomic_load(&s.connections), 1);
}

TEST(rpc_batch_matches_ids) {
    struct srv s;
    srv_start(&s, M_OK);
    s.reverse_batch = 1;
    char u[64];
    url_of(u, sizeof u, s.port, "");
    const char *urls[] = {u};
    dg_rpc *r = client(urls, 1, 2000, 0, 0);
    for (int round = 0; round < 2; round++) {
        dg_rpc_req q[3] = {{.method = "eth_chainId"},
                           {.method = "eth_blockNumber", .params = json_array()},
                           {.method = "eth_call", .params = json_pack("[{},s]", "latest")}};
        dg_err e = {0};
        CHECK(dg_rpc_batch(r, q, 3, &e));
        for (int i = 0; i < 3; i++) {
            CHECK(q[i].ok);
            CHECK(q[i].params == NULL);
            CHECK_STR(json_string_value(q[i].result), q[i].method);
        }
        dg_rpc_req_clear(q, 3);
    }
    dg_rpc_free(r);
    srv_stop(&s);
    CHECK_INT(atomic_load(&s.requests), 2);
}

TEST(rpc_batch_per_request_errors_and_unsupported) {
    struct srv s;
    srv_start(&s, M_RPCERR);
    char u[64];
    url_of(u, sizeof u, s.port, "");
    const char *urls[] = {u};
    dg_rpc *r = client(urls, 1, 2000, 0, 0);
    dg_rpc_req q[2] = {{.method = "eth_call"}, {.method = "eth_estimateGas"}};
    dg_err e = {0};
    CHECK(dg_rpc_batch(r, q, 2, &e));
    CHECK(!q[0].ok && !q[1].ok);
    CHECK_STR(q[1].error, "eth_estimateGas: execution reverted: nope (code 3)");
    CHECK_STR(json_string_value(q[0].error_data), REVERT_DATA);
    dg_rpc_req_clear(q, 2);
    dg_rpc_free(r);
    srv_stop(&s);

    srv_start(&s, M_SINGLE_FOR_BATCH);
    url_of(u, sizeof u, s.port, "");
    r = client(urls, 1, 2000, -1, 0);
    dg_rpc_req q2[2] = {{.method = "eth_call"}, {.method = "eth_chainId"}};
    CHECK(!dg_rpc_batch(r, q2, 2, &e));
    CHECK_INT(e.code, DG_ERR_RPC_RESPONSE);
    CHECK(strstr(e.msg, "request rejected: batch not supported") != NULL);
    CHECK(!q2[0].ok && strstr(q2[1].error, "batch not supported"));
    dg_rpc_req_clear(q2, 2);
    dg_rpc_free(r);
    srv_stop(&s);
}

/* One failing call against a misbehaving server; returns err. */
static dg_err one_bad_call(enum srv_mode mode, long timeout, int *requests, long long *ms) {
    struct srv s;
    srv_start(&s, mode);
    char u[128];
    url_of(u, sizeof u, s.port, "/v3/SECRETKEY?apikey=SECRET2");
    const char *urls[] = {u};
    dg_rpc *r = client(urls, 1, timeout, -1, 0);
    json_t *res = (json_t *)1;
    dg_err e = {0};
    long long t0 = dg_rpc_now_ms();
    CHECK(!dg_rpc_call(r, "eth_call", json_array(), &res, &e));
    *ms = dg_rpc_now_ms() - t0;
    CHECK(res == NULL);
    CHECK(strstr(e.msg, "SECRET") == NULL);
    char label[64];
    snprintf(label, sizeof label, "rpc http://127.0.0.1:%d: ", s.port);
    if (strncmp(e.msg, label, strlen(label)) != 0)
        dg_test_fail(__FILE__, __LINE__, "message \"%s\" does not start with \"%s\"", e.msg, label);
    unsigned long calls = 0, errors = 0;
    dg_rpc_stats(r, 0, &calls, &errors);
    if (mode != M_RPCERR) CHECK_INT(errors, 1);
    dg_rpc_free(r);
    srv_stop(&s);
    *requests = atomic_load(&s.requests);
    return e;
}

TEST(rpc_misbehaving_servers) {
    int n;
    long long ms;
    dg_err e = one_bad_call(M_GARBAGE, 2000, &n, &ms);
    CHECK_INT(e.code, DG_ERR_RPC_RESPONSE);
    CHECK(strstr(e.msg, "response is not JSON") != NULL);

    e = one_bad_call(M_HTTP500, 2000, &n, &ms);
    CHECK_INT(e.code, DG_ERR_RPC_RESPONSE);
    CHECK(strstr(e.msg, ": HTTP status 500") != NULL);

    e = one_bad_call(M_CLOSE, 2000, &n, &ms);
    CHECK_INT(e.code, DG_ERR_RPC_RESPONSE);
    CHECK(strstr(e.msg, "connection closed without a response") != NULL);

    e = one_bad_call(M_SLOW, 100, &n, &ms);
    CHECK_INT(e.code, DG_ERR_RPC_TIMEOUT);
    CHECK(strstr(e.msg, "timed out after 100 ms") != NULL);
    CHECK(ms >= 90 && ms < 390);
}

TEST(rpc_jsonrpc_error_keeps_revert_data_and_is_not_retried) {
    int n;
    long long ms;
    struct srv s;
    srv_start(&s, M_RPCERR);
    char u[64];
    url_of(u, sizeof u, s.port, "");
    const char *urls[] = {u};
    dg_rpc *r = client(urls, 1, 2000, 2, 0);
    dg_err e = {0};
    json_t *res = NULL;
    CHECK(!dg_rpc_call(r, "eth_call", json_array(), &res, &e));
    CHECK_INT(e.code, DG_ERR_RPC_RESPONSE);
    char want[160];
    snprintf(want, sizeof want,
             "rpc http://127.0.0.1:%d: eth_call: execution reverted: nope (code 3)", s.port);
    CHECK_STR(e.msg, want);
    CHECK_STR(dg_rpc_last_error_data(r), REVERT_DATA);
    CHECK_INT(dg_rpc_last_error_code(r), 3);
    unsigned long calls, errors;
    dg_rpc_stats(r, 0, &calls, &errors);
    CHECK_INT(calls, 1);
    CHECK_INT(errors, 0);
    dg_rpc_free(r);
    srv_stop(&s);
    CHECK_INT(atomic_load(&s.requests), 1);
    e = one_bad_call(M_RPCERR, 2000, &n, &ms);
    CHECK_INT(n, 1);
}

TEST(rpc_connection_refused) {
    char u[64];
    int port = dead_port();
    url_of(u, sizeof u, port, "/KEY");
    const char *urls[] = {u};
    dg_rpc *r = client(urls, 1, 1000, -1, 0);
    dg_err e = {0};
    CHECK(!dg_rpc_call(r, "eth_chainId", NULL, NULL, &e));
    CHECK_INT(e.code, DG_ERR_RPC_UNREACHABLE);
    char want[96];
    snprintf(want, sizeof want, "rpc http://127.0.0.1:%d: connection refused", port);
    CHECK_STR(e.msg, want);
    dg_rpc_free(r);
}

TEST(rpc_failover_in_order) {
    struct srv a, b;
    srv_start(&a, M_GARBAGE);
    srv_start(&b, M_OK);
    char u0[64], u1[64], u2[64];
    url_of(u0, sizeof u0, dead_port(), "");
    url_of(u1, sizeof u1, a.port, "");
    url_of(u2, sizeof u2, b.port, "");
    const char *urls[] = {u0, u1, u2};
    dg_rpc *r = client(urls, 3, 1000, -1, 0);
    json_t *res = NULL;
    dg_err e = {0};
    CHECK(dg_rpc_call(r, "eth_blockNumber", NULL, &res, &e));
    CHECK_STR(json_string_value(res), "eth_blockNumber");
    json_decref(res);
    CHECK_INT(dg_rpc_last_endpoint(r), 2);
    unsigned long c0, e0, c2, e2;
    dg_rpc_stats(r, 0, &c0, &e0);
    dg_rpc_stats(r, 2, &c2, &e2);
    CHECK(c0 == 1 && e0 == 1 && c2 == 1 && e2 == 0);
    dg_rpc_free(r);
    srv_stop(&a);
    srv_stop(&b);
    CHECK_INT(atomic_load(&a.requests), 1);

    /* all fail: the message names every endpoint */
    const char *urls2[] = {u0, u1};
    srv_start(&a, M_HTTP500);
    url_of(u1, sizeof u1, a.port, "");
    r = client(urls2, 2, 1000, -1, 0);
    CHECK(!dg_rpc_call(r, "eth_blockNumber", NULL, NULL, &e));
    CHECK(strstr(e.msg, "connection refused; rpc http://127.0.0.1:") != NULL);
    CHECK(strstr(e.msg, "HTTP status 500") != NULL);
    CHECK_INT(e.code, DG_ERR_RPC_RESPONSE);
    dg_rpc_free(r);
    srv_stop(&a);
}

TEST(rpc_reads_retry_with_backoff) {
    struct srv s;
    srv_start(&s, M_OK);
    s.fail_first = 2;
    char u[64];
    url_of(u, sizeof u, s.port, "");
    const char *urls[] = {u};
    dg_rpc *r = client(urls, 1, 1000, 2, 0);
    long long t0 = dg_rpc_now_ms();
    CHECK(dg_rpc_call(r, "eth_getCode", NULL, NULL, NULL));
    long long ms = dg_rpc_now_ms() - t0;
    CHECK(ms >= 25); /* backoff 10 + 20 ms */
    dg_rpc_free(r);
    srv_stop(&s);
    CHECK_INT(atomic_load(&s.requests), 3);

    /* one retry is not enough for two failures */
    srv_start(&s, M_OK);
    s.fail_first = 2;
    url_of(u, sizeof u, s.port, "");
    r = client(urls, 1, 1000, 1, 0);
    dg_err e = {0};
    CHECK(!dg_rpc_call(r, "eth_getCode", NULL, NULL, &e));
    CHECK(strstr(e.msg, "HTTP status 500") != NULL);
    dg_rpc_free(r);
    srv_stop(&s);
    CHECK_INT(atomic_load(&s.requests), 2);
}

TEST(rpc_writes_not_repeated) {
    struct srv a, b;
    srv_start(&a, M_HTTP500);
    srv_start(&b, M_OK);
    char u0[64], u1[64], u2[64];
    url_of(u0, sizeof u0, dead_port(), "");
    url_of(u1, sizeof u1, a.port, "");
    url_of(u2, sizeof u2, b.port, "");
    /* an endpoint that could not be reached never saw the transaction: fail over */
    const char *urls1[] = {u0, u2};
    dg_rpc *r = client(urls1, 2, 1000, 2, 0);
    json_t *res = NULL;
    CHECK(dg_rpc_call(r, "eth_sendRawTransaction", json_pack("[s]", "0x02"), &res, NULL));
    CHECK_STR(json_string_value(res), "eth_sendRawTransaction");
    json_decref(res);
    dg_rpc_free(r);
    CHECK_INT(atomic_load(&b.requests), 1);
    /* one that answered HTTP 500 may have seen it: no retry, no failover */
    const char *urls2[] = {u1, u2};
    r = client(urls2, 2, 1000, 2, 0);
    dg_err e = {0};
    CHECK(!dg_rpc_call(r, "eth_sendRawTransaction", json_pack("[s]", "0x02"), NULL, &e));
    CHECK(strstr(e.msg, "HTTP status 500") != NULL);
    dg_rpc_free(r);
    srv_stop(&a);
    srv_stop(&b);
    CHECK_INT(atomic_load(&a.requests), 1);
    CHECK_INT(atomic_load(&b.requests), 1);
}

TEST(rpc_quorum) {
    struct srv x1, x2, y;
    srv_start(&x1, M_OK);
    srv_start(&x2, M_OK);
    srv_start(&y, M_OK);
    x1.result = x2.result = "{\"v\":\"0x01\",\"w\":[1,2]}";
    y.result = "{\"v\":\"0x02\",\"w\":[1,2]}";
    char ux1[64], ux2[64], uy[64], ud[64];
    url_of(ux1, sizeof ux1, x1.port, "");
    url_of(ux2, sizeof ux2, x2.port, "");
    url_of(uy, sizeof uy, y.port, "/SECRET");
    url_of(ud, sizeof ud, dead_port(), "");
    dg_err e = {0};
    json_t *res = NULL;

    const char *agree[] = {ux1, ux2};
    dg_rpc *r = client(agree, 2, 1000, -1, 2);
    CHECK(dg_rpc_call(r, "eth_call", NULL, &res, &e));
    CHECK_STR(json_string_value(json_object_get(res, "v")), "0x01");
    json_decref(res);
    dg_rpc_free(r);

    const char *disagree[] = {ux1, uy};
    r = client(disagree, 2, 1000, 2, 2);
    CHECK(!dg_rpc_call(r, "eth_call", NULL, &res, &e));
    CHECK_INT(e.code, DG_ERR_DISAGREE);
    CHECK(strstr(e.msg, "RPC endpoints disagree") == e.msg);
    CHECK(strstr(e.msg, "SECRET") == NULL);
    dg_rpc_req q[1] = {{.method = "eth_call"}};
    CHECK(!dg_rpc_batch(r, q, 1, &e));
    CHECK_INT(e.code, DG_ERR_DISAGREE);
    dg_rpc_free(r);

    /* 2 of 3: the odd one out and a dead one are outvoted */
    const char *three[] = {uy, ud, ux1, ux2};
    r = client(three, 4, 1000, -1, 2);
    CHECK(dg_rpc_call(r, "eth_call", NULL, &res, &e));
    CHECK_STR(json_string_value(json_object_get(res, "v")), "0x01");
    CHECK_INT(dg_rpc_last_endpoint(r), 2);
    json_decref(res);
    dg_rpc_free(r);

    /* too few answers: not a disagreement, but the failure of the others */
    const char *few[] = {ux1, ud};
    r = client(few, 2, 1000, -1, 2);
    CHECK(!dg_rpc_call(r, "eth_call", NULL, &res, &e));
    CHECK_INT(e.code, DG_ERR_RPC_UNREACHABLE);
    CHECK(strstr(e.msg, "quorum of 2 not reached: 1 of 2 endpoints answered") != NULL);
    CHECK(strstr(e.msg, "connection refused") != NULL);
    dg_rpc_free(r);

    srv_stop(&x1);
    srv_stop(&x2);
    srv_stop(&y);
}

TEST(rpc_deadline) {
    struct srv s;
    srv_start(&s, M_SLOW);
    char u[64];
    url_of(u, sizeof u, s.port, "");
    const char *urls[] = {u};
    s.slow_ms = 250;
    dg_rpc *r = client(urls, 1, 5000, 2, 0);
    dg_err e = {0};
    long long t0 = dg_rpc_now_ms();
    dg_rpc_set_deadline(r, t0 + 150);
    CHECK(!dg_rpc_call(r, "eth_call", NULL, NULL, &e));
    long long ms = dg_rpc_now_ms() - t0;
    CHECK_INT(e.code, DG_ERR_RPC_TIMEOUT);
    CHECK(strstr(e.msg, "deadline passed") != NULL);
    CHECK(ms >= 140 && ms < 380);
    /* already past: nothing is sent */
    CHECK(!dg_rpc_call(r, "eth_call", NULL, NULL, &e));
    CHECK_INT(e.code, DG_ERR_RPC_TIMEOUT);
    CHECK_STR(e.msg, "rpc deadline passed");
    unsigned long calls;
    dg_rpc_stats(r, 0, &calls, NULL);
    CHECK_INT(calls, 1);
    /* removed: calls work again */
    dg_rpc_set_deadline(r, 0);
    __atomic_store_n(&s.mode, M_OK, __ATOMIC_RELEASE); /* the server thread reads it */
    CHECK(dg_rpc_call(r, "eth_call", NULL, NULL, &e));
    dg_rpc_free(r);
    srv_stop(&s);
}

TEST(rpc_recovers_and_survives_idle_close) {
    struct srv s;
    srv_start(&s, M_CLOSE);
    char u[64];
    url_of(u, sizeof u, s.port, "");
    const char *urls[] = {u};
    dg_rpc *r = client(urls, 1, 1000, -1, 0);
    dg_err e = {0};
    CHECK(!dg_rpc_call(r, "eth_chainId", NULL, NULL, &e));
    __atomic_store_n(&s.mode, M_OK, __ATOMIC_RELEASE); /* the server thread reads it */
    /* the server drops every connection after answering, as a node does with
     * idle keep-alive connections: even a write (never retried) must go
     * through on a fresh connection */
    s.close_after = 1;
    for (int i = 0; i < 3; i++) {
        json_t *res = NULL;
        if (i) usleep(20000); /* let the server close its side (not before the first) */
        CHECK(dg_rpc_call(r, "eth_sendRawTransaction", json_pack("[s]", "0x02"), &res, &e));
        CHECK_STR(json_string_value(res), "eth_sendRawTransaction");
        json_decref(res);
    }
    dg_rpc_free(r);
    srv_stop(&s);
    CHECK_INT(atomic_load(&s.requests), 4);
    CHECK_INT(atomic_load(&s.connections), 4);
}

/* ------------------------------------------------------------ CA file */

/* A CA file is checked when the client is made, before any network: an
 * operator learns of a wrong path at start, not at the first https request. */
TEST(rpc_ca_file_checked_at_new) {
    char dir[] = "/tmp/dg-ca-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char good[64], notpem[64], missing[64];
    snprintf(good, sizeof good, "%s/ca.pem", dir);
    snprintf(notpem, sizeof notpem, "%s/not.pem", dir);
    snprintf(missing, sizeof missing, "%s/missing.pem", dir);
    FILE *f = fopen(good, "w");
    CHECK(f != NULL);
    fputs("# a bundle may start with comments\n-----BEGIN CERTIFICATE-----\nMIIB\n"
          "-----END CERTIFICATE-----\n",
          f);
    fclose(f);
    f = fopen(notpem, "w");
    CHECK(f != NULL);
    fputs("-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n", f);
    fclose(f);

    dg_err e = {0};
    CHECK(dg_rpc_ca_file_check(good, &e));
    CHECK(!dg_rpc_ca_file_check(missing, &e));
    CHECK(e.code == DG_ERR_CONFIG && strstr(e.msg, missing) && strstr(e.msg, "No such file"));
    CHECK(!dg_rpc_ca_file_check(notpem, &e));
    CHECK(strstr(e.msg, "no PEM certificate") != NULL);
    CHECK(!dg_rpc_ca_file_check(dir, &e));
    CHECK(strstr(e.msg, "not a regular file") != NULL);
    CHECK(!dg_rpc_ca_file_check("", &e));

    /* dg_rpc_new refuses a bad file for any endpoint, http:// too */
    const char *urls[1] = {"http://127.0.0.1:1"};
    dg_rpc_opts o = {.ca_file = missing};
    CHECK(dg_rpc_new(urls, 1, &o, &e) == NULL);
    CHECK(e.code == DG_ERR_CONFIG && strstr(e.msg, missing));
    o.ca_file = good;
    dg_rpc *r = dg_rpc_new(urls, 1, &o, &e);
    CHECK(r != NULL);
    dg_rpc_free(r);
    unlink(good);
    unlink(notpem);
    rmdir(dir);
}

/* A CA file is checked once per process and file: a second client with the
 * same unchanged file does not read it again (dstack-authd makes nine), but a
 * file that changed since is checked again and refused when it went bad. */
TEST(rpc_ca_file_checked_once_per_file) {
    char dir[] = "/tmp/dg-ca-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char ca[64];
    snprintf(ca, sizeof ca, "%s/ca.pem", dir);
    static const char pem[] = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    static const char bad[] = "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n";
    CHECK(sizeof pem == sizeof bad);
    FILE *f = fopen(ca, "w");
    CHECK(f != NULL);
    fputs(pem, f);
    fclose(f);
    struct stat st0;
    CHECK(stat(ca, &st0) == 0);
    dg_err e = {0};
    CHECK(dg_rpc_ca_file_check(ca, &e));

    /* Overwrite in place with a non-PEM of the same size, and give it back its
     * old mtime: the file looks unchanged, so it is not read again. */
    f = fopen(ca, "r+");
    CHECK(f != NULL);
    fputs(bad, f);
    fclose(f);
    struct timespec times[2] = {st0.st_atim, st0.st_mtim};
    CHECK(utimensat(AT_FDCWD, ca, times, 0) == 0);
    CHECK(dg_rpc_ca_file_check(ca, &e));
    const char *urls[1] = {"http://127.0.0.1:1"};
    dg_rpc_opts o = {.ca_file = ca};
    dg_rpc *r = dg_rpc_new(urls, 1, &o, &e);
    CHECK(r != NULL);
    dg_rpc_free(r);

    /* A changed mtime is a changed file: checked again and refused. */
    struct timespec later[2] = {st0.st_atim, {st0.st_mtim.tv_sec + 5, st0.st_mtim.tv_nsec}};
    CHECK(utimensat(AT_FDCWD, ca, later, 0) == 0);
    CHECK(!dg_rpc_ca_file_check(ca, &e));
    CHECK(e.code == DG_ERR_CONFIG && strstr(e.msg, ca) && strstr(e.msg, "no PEM certificate"));
    CHECK(dg_rpc_new(urls, 1, &o, &e) == NULL);
    CHECK(strstr(e.msg, "no PEM certificate") != NULL);
    /* a refusal is not remembered either: fixed again, it passes */
    f = fopen(ca, "w");
    CHECK(f != NULL);
    fputs(pem, f);
    fclose(f);
    CHECK(dg_rpc_ca_file_check(ca, &e));
    unlink(ca);
    rmdir(dir);
}
