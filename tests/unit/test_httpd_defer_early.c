/* test_httpd_defer_early.c — a deferred answer completed before its handler
 * has returned (a decider thread can be that fast) is delivered.
 *
 * The handler here calls dg_httpd_complete itself, inside the handler: the
 * extreme case of that race. Before the fix, dg_httpd_defer left the
 * pending answer without its connection until the handler returned, and the
 * completion dereferenced it (a crash).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "dstackgov/httpd.h"
#include "../test.h"

static void complete_at_once(void *ctx, const dg_http_request *rq, dg_http_reply *rp) {
    (void)ctx;
    (void)rp;
    dg_httpd_pending *p = dg_httpd_defer(rq);
    if (!p) {
        dg_buf_puts(&rp->body, "not deferred");
        return;
    }
    dg_http_reply r = {.status = 200, .content_type = "text/plain"};
    dg_buf_init(&r.body);
    dg_buf_puts(&r.body, "early");
    dg_httpd_complete(p, &r);
}

TEST(httpd_defer_completed_inside_handler) {
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    dg_httpd_opts o = {.addr = (struct sockaddr *)&a,
                       .addr_len = sizeof a,
                       .threads = 1,
                       .max_body = 1024,
                       .idle_timeout_ms = 5000,
                       .max_connections = 8,
                       .handler = complete_at_once};
    dg_err err = {0};
    dg_httpd *s = dg_httpd_start(&o, &err);
    CHECK(s != NULL);
    if (!s) return;
    a.sin_port = htons((uint16_t)dg_httpd_port(s));
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct timeval tv = {2, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    CHECK(connect(fd, (struct sockaddr *)&a, sizeof a) == 0);
    const char *req =
        "GET /x HTTP/1.1\r\nHost: t\r\n\r\nGET /y HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
    CHECK(write(fd, req, strlen(req)) == (ssize_t)strlen(req));
    char buf[2048];
    size_t got = 0;
    for (;;) {
        ssize_t k = read(fd, buf + got, sizeof buf - 1 - got);
        if (k <= 0) break;
        got += (size_t)k;
    }
    buf[got] = 0;
    close(fd);
    /* both pipelined requests answered, in order, each with the early body */
    const char *first = strstr(buf, "HTTP/1.1 200 OK");
    CHECK(first != NULL);
    CHECK(first && strstr(first + 1, "HTTP/1.1 200 OK") != NULL);
    const char *b1 = strstr(buf, "\r\n\r\nearly");
    CHECK(b1 != NULL);
    CHECK(b1 && strstr(b1 + 1, "\r\n\r\nearly") != NULL);
    CHECK(strstr(buf, "Connection: close") != NULL);
    dg_httpd_stop(s, 1000);
}
