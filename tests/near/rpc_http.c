/* rpc_http.c — serve nemu_rpc_handle over HTTP on loopback (lib/httpd).
 *
 * POST (any path) with a JSON-RPC body is answered 200 with the JSON-RPC
 * reply. The emulator is single-threaded (wasm2c's trap handling uses one
 * global jump buffer), so the server runs exactly one worker thread: every
 * call into the world happens on it. SIGINT and SIGTERM are blocked in that
 * worker, so nemu-rpc's main thread is the one that sees them.
 */
#include "rpc_http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dstackgov/httpd.h"
#include "rpc.h"

/* near-api-js sends a whole transaction in one request; a wasm deploy (the
 * KMS contract embeds the App contract) is the largest. The server buffers up
 * to DG_HTTP_HEAD_MAX + MAX_BODY per connection, and only as far as a request
 * actually needs. */
#define MAX_BODY (8u << 20)

struct nemu_server {
    dg_httpd *h;
    nemu_rpc *rpc;
};

static void handler(void *ctx, const dg_http_request *rq, dg_http_reply *rp) {
    struct nemu_server *s = ctx;
    const dg_http_head *h = rq->head;
    if (!(h->method_len == 4 && memcmp(h->method, "POST", 4) == 0)) {
        rp->status = 405;
        rp->allow = "POST";
        dg_buf_puts(&rp->body, "{\"error\":\"POST a JSON-RPC request\"}");
        return;
    }
    if (rq->too_large) {
        rp->status = 413;
        dg_buf_puts(&rp->body, "{\"error\":\"request too large\"}");
        return;
    }
    char *out = nemu_rpc_handle(s->rpc, rq->body ? (const char *)rq->body : "", rq->body_len);
    dg_buf_puts(&rp->body, out); /* on failure lib/httpd answers 500, never a half body */
    free(out);
}

nemu_server *nemu_server_start(nemu *w, int port, const nemu_rpc_opts *opts) {
    struct nemu_server *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->rpc = nemu_rpc_new_opts(w, opts);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    /* no idle deadline worth the name: the previous server had none, and a test may
     * keep a client's keep-alive connection open between long steps */
    dg_httpd_opts o = {.addr = (struct sockaddr *)&a,
                       .addr_len = sizeof a,
                       .threads = 1,
                       .max_body = MAX_BODY,
                       .idle_timeout_ms = 3600 * 1000,
                       .max_connections = 1000,
                       .handler = handler,
                       .ctx = s};
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    dg_err err = {0};
    s->h = dg_httpd_start(&o, &err);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!s->h) {
        fprintf(stderr, "nemu-rpc: 127.0.0.1:%d: %s\n", port, err.msg);
        nemu_rpc_free(s->rpc);
        free(s);
        return NULL;
    }
    return s;
}

int nemu_server_port(const nemu_server *s) {
    return dg_httpd_port(s->h);
}

void nemu_server_stop(nemu_server *s) {
    if (!s) return;
    dg_httpd_stop(s->h, 1000);
    nemu_rpc_free(s->rpc);
    free(s);
}
