/* rpc_http.c — serve nemu_rpc_handle over HTTP on loopback (lib/httpd).
 *
 * POST (any path) with a JSON-RPC body is answered 200 with the JSON-RPC
 * reply. The emulator is single-threaded (wasm2c's trap handling uses one
 * global jump buffer): one worker thread serves requests, and every call into
 * the world holds the server's lock. A request that waits for a transaction
 * (a yield waiting for its resume) is deferred (dg_httpd_defer), so the
 * worker keeps serving the requests that will resume it; after each request,
 * and every 20 ms on a timer thread (which also produces the blocks wall
 * time asks for), the waiters are polled and the ready ones answered.
 * SIGINT and SIGTERM are blocked in both threads, so nemu-rpc's main thread
 * is the one that sees them.
 */
#include "rpc_http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "dstackgov/httpd.h"
#include "rpc.h"

/* near-api-js sends a whole transaction in one request; a wasm deploy (the
 * KMS contract embeds the App contract) is the largest. The server buffers up
 * to DG_HTTP_HEAD_MAX + MAX_BODY per connection, and only as far as a request
 * actually needs. */
#define MAX_BODY (8u << 20)

/* the answer to a request that would wait while the server stops */
#define STOPPING                                                                                   \
    "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"name\":\"INTERNAL_ERROR\",\"cause\":{"          \
    "\"name\":\"INTERNAL_ERROR\"},\"code\":-32000,\"message\":\"nemu-rpc is stopping\"}}"

typedef struct {
    nemu_rpc_wait *wait;
    dg_httpd_pending *pending;
} waiter;

struct nemu_server {
    dg_httpd *h;
    nemu_rpc *rpc;
    pthread_mutex_t lock; /* the world and the waiters */
    waiter *waiters;
    size_t nwaiters;
    pthread_t timer;
    int timer_on, stopping;
};

static void answer(dg_httpd_pending *p, char *out) {
    dg_http_reply rp = {.status = 200, .content_type = "application/json"};
    dg_buf_init(&rp.body);
    dg_buf_puts(&rp.body, out);
    free(out);
    dg_httpd_complete(p, &rp);
}

/* Answer the waiters whose transaction finished or whose time is up. Called
 * with the lock held. */
static void poll_waiters(struct nemu_server *s) {
    size_t k = 0;
    for (size_t i = 0; i < s->nwaiters; i++) {
        char *out = nemu_rpc_wait_poll(s->rpc, s->waiters[i].wait);
        if (out)
            answer(s->waiters[i].pending, out);
        else
            s->waiters[k++] = s->waiters[i];
    }
    s->nwaiters = k;
}

static void *timer_main(void *arg) {
    struct nemu_server *s = arg;
    for (;;) {
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
        pthread_mutex_lock(&s->lock);
        int stop = s->stopping;
        if (!stop) {
            nemu_rpc_tick(s->rpc);
            poll_waiters(s);
        }
        pthread_mutex_unlock(&s->lock);
        if (stop) return NULL;
    }
}

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
    pthread_mutex_lock(&s->lock);
    nemu_rpc_wait *wait = NULL;
    char *out =
        nemu_rpc_handle_async(s->rpc, rq->body ? (const char *)rq->body : "", rq->body_len, &wait);
    if (wait && s->stopping) {
        nemu_rpc_wait_free(wait);
        wait = NULL;
        out = strdup(STOPPING);
    }
    if (wait) {
        waiter *nw = realloc(s->waiters, (s->nwaiters + 1) * sizeof *nw);
        dg_httpd_pending *p = nw ? dg_httpd_defer(rq) : NULL;
        if (!p) abort();
        s->waiters = nw;
        s->waiters[s->nwaiters++] = (waiter){wait, p};
    }
    poll_waiters(s);
    pthread_mutex_unlock(&s->lock);
    if (out) dg_buf_puts(&rp->body, out); /* on failure lib/httpd answers 500, never a half body */
    free(out);
}

nemu_server *nemu_server_start(nemu *w, int port, const nemu_rpc_opts *opts) {
    struct nemu_server *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->rpc = nemu_rpc_new_opts(w, opts);
    pthread_mutex_init(&s->lock, NULL);
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
    if (s->h) s->timer_on = pthread_create(&s->timer, NULL, timer_main, s) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!s->h) {
        fprintf(stderr, "nemu-rpc: 127.0.0.1:%d: %s\n", port, err.msg);
        pthread_mutex_destroy(&s->lock);
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
    pthread_mutex_lock(&s->lock);
    s->stopping = 1;
    /* deferred requests must be answered before the server stops */
    for (size_t i = 0; i < s->nwaiters; i++) {
        nemu_rpc_wait_free(s->waiters[i].wait);
        answer(s->waiters[i].pending, strdup(STOPPING));
    }
    s->nwaiters = 0;
    pthread_mutex_unlock(&s->lock);
    if (s->timer_on) pthread_join(s->timer, NULL);
    dg_httpd_stop(s->h, 1000);
    free(s->waiters);
    pthread_mutex_destroy(&s->lock);
    nemu_rpc_free(s->rpc);
    free(s);
}
