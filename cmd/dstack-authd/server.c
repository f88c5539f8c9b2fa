/* server.c — the HTTP side of dstack-authd, on lib/httpd.
 *
 * Routes: GET / (backend info), POST /bootAuth/app and /bootAuth/kms (boot
 * decisions), GET /metrics. lib/httpd runs a pool of epoll worker threads;
 * each request arrives whole (body at most 64 KiB, never read when larger),
 * is parsed by the strict BootInfo parser, decided by the policy, answered,
 * logged and counted.
 *
 * Status codes: 200 for every decision (allow or deny, as the KMS expects),
 * 400 for an invalid body (same three keys, isAllowed false, the reason names
 * the field), 404 unknown path, 405 wrong method, 413 body over 64 KiB, 415
 * content type other than application/json, 500 when GET / cannot reach the
 * backend; a malformed HTTP request is refused by lib/httpd (400, 417, 431,
 * 501, 505) with the same three keys. The policy pointer sits behind a
 * read-write lock so SIGHUP can swap in a freshly built backend while
 * requests keep flowing.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "authd.h"
#include "dstackgov/bootinfo.h"
#include "dstackgov/httpd.h"

struct authd_server {
    dg_httpd *h;
    char url[96];
    int activated;
    pthread_mutex_t first_mu; /* the first answer: the daemon is "up" */
    pthread_cond_t first_cv;
    int answered;
    /* Deciders: decisions that wait on the chain run here, so an HTTP
     * worker never blocks on an RPC round trip and keeps answering its
     * other connections (cache hits, other requests) meanwhile. */
    pthread_mutex_t q_mu;
    pthread_cond_t q_cv;
    struct job *q_head, *q_tail;
    int q_stop;
    pthread_t *deciders;
    int ndeciders, max_deciders;
    pthread_rwlock_t lock;
    dg_policy *policy;
    int port;
    authd_log *log;         /* the caller's */
    authd_metrics *metrics; /* the server's */
};

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void reply_error(dg_http_reply *rp, unsigned status, const char *msg) {
    rp->status = status;
    dg_buf_puts(&rp->body, "{\"status\":\"error\",\"message\":");
    dg_json_put_string(&rp->body, msg, strlen(msg));
    dg_buf_puts(&rp->body, "}");
}

static void put_verdict(dg_buf *out, int allowed, const char *reason, const char *gateway) {
    dg_buf_reserve(out, 64 + strlen(reason) + strlen(gateway));
    dg_buf_puts(out,
                allowed ? "{\"isAllowed\":true,\"reason\":" : "{\"isAllowed\":false,\"reason\":");
    dg_json_put_string(out, reason, strlen(reason));
    dg_buf_puts(out, ",\"gatewayAppId\":");
    dg_json_put_string(out, gateway, strlen(gateway));
    dg_buf_push(out, '}');
}

/* A request waiting for a decider: a decision (bi) or GET / (R_INFO). */
typedef struct job {
    struct job *next;
    dg_httpd_pending *pend;
    enum authd_route route;
    dg_bootinfo bi;
    long long t0_ns, start_ms;
} job;

static void answer_info(authd_server *s, dg_http_reply *rp);

/* Frame the verdict, count it and log it. */
static void verdict_reply(authd_server *s, enum authd_route route, const dg_bootinfo *bi,
                          const dg_decision *d, unsigned status, enum authd_outcome outcome,
                          long long t0_ns, dg_http_reply *rp) {
    rp->status = status;
    put_verdict(&rp->body, d->allowed, d->reason, d->gateway_app_id);
    double secs = (double)(now_ns() - t0_ns) / 1e9;
    authd_metrics_request(s->metrics, route, outcome, secs, d->cached);
    authd_log_decision(s->log, route, bi, d, status, secs);
}

static enum authd_outcome outcome_of(const dg_decision *d) {
    return d->allowed ? O_ALLOW : d->error ? O_ERROR : O_DENY;
}

static dg_route policy_route(enum authd_route r) {
    return r == R_KMS ? DG_ROUTE_KMS : DG_ROUTE_APP;
}

static void *decider_main(void *arg) {
    authd_server *s = arg;
    for (;;) {
        pthread_mutex_lock(&s->q_mu);
        while (!s->q_head && !s->q_stop)
            pthread_cond_wait(&s->q_cv, &s->q_mu);
        job *j = s->q_head; /* drains the queue before stopping */
        if (j) {
            s->q_head = j->next;
            if (!s->q_head) s->q_tail = NULL;
        }
        pthread_mutex_unlock(&s->q_mu);
        if (!j) return NULL;
        dg_http_reply rp = {.status = 200, .content_type = "application/json"};
        dg_buf_init(&rp.body);
        if (j->route == R_INFO)
            answer_info(s, &rp);
        else {
            dg_decision d;
            pthread_rwlock_rdlock(&s->lock);
            dg_policy_decide_since(s->policy, policy_route(j->route), &j->bi, j->start_ms, &d);
            pthread_rwlock_unlock(&s->lock);
            verdict_reply(s, j->route, &j->bi, &d, 200, outcome_of(&d), j->t0_ns, &rp);
        }
        dg_httpd_complete(j->pend, &rp);
        dg_bootinfo_free(&j->bi);
        free(j);
    }
}

/* Start deciders until there are n of them (1 <= n <= max_deciders). */
static void start_deciders(authd_server *s, int n) {
    int k = s->ndeciders;
    while (k < n && pthread_create(&s->deciders[k], NULL, decider_main, s) == 0)
        k++;
    __atomic_store_n(&s->ndeciders, k, __ATOMIC_RELEASE); /* read by the workers */
}

/* Defer rq's answer to a decider. Returns 1 when queued (a decision's bi is
 * moved into the job), 0 when the caller must answer now: deferred only
 * while deciders will take it (a keep-alive connection can still send a
 * request after the stop began). */
static int to_decider(authd_server *s, const dg_http_request *rq, enum authd_route route,
                      dg_bootinfo *bi, long long start_ms) {
    job *j = __atomic_load_n(&s->ndeciders, __ATOMIC_ACQUIRE) ? calloc(1, sizeof *j) : NULL;
    if (!j) return 0;
    pthread_mutex_lock(&s->q_mu);
    dg_httpd_pending *pend = s->q_stop ? NULL : dg_httpd_defer(rq);
    if (pend) {
        j->pend = pend;
        j->route = route;
        if (bi) j->bi = *bi;
        j->t0_ns = rq->t0_ns;
        j->start_ms = start_ms;
        if (s->q_tail)
            s->q_tail->next = j;
        else
            s->q_head = j;
        s->q_tail = j;
        pthread_cond_signal(&s->q_cv);
    }
    pthread_mutex_unlock(&s->q_mu);
    if (!pend) free(j);
    return pend != NULL;
}

static void answer_decision(authd_server *s, enum authd_route route, const dg_http_request *rq,
                            dg_http_reply *rp) {
    dg_bootinfo bi;
    dg_decision d;
    dg_err err = {0};
    dg_bootinfo_init(&bi);
    memset(&d, 0, sizeof d);
    if (!dg_bootinfo_parse(&bi, rq->body_len ? (const char *)rq->body : "", rq->body_len, &err)) {
        snprintf(d.reason, sizeof d.reason, "invalid authorization request: %.400s", err.msg);
        verdict_reply(s, route, NULL, &d, 400, O_INVALID, rq->t0_ns, rp);
        dg_bootinfo_free(&bi);
        return;
    }
    if (authd_log_blocks(s->log)) { /* an audit trail that cannot record lets nothing through */
        authd_log_status ls;
        authd_log_get_status(s->log, &ls);
        d.error = 1;
        snprintf(d.reason, sizeof d.reason, "%s", AUTHD_REASON_LOG);
        snprintf(d.detail, sizeof d.detail, "decision log %.60s: %.200s", ls.path, ls.error);
        verdict_reply(s, route, &bi, &d, 200, O_ERROR, rq->t0_ns, rp);
        dg_bootinfo_free(&bi);
        return;
    }
    long long start_ms = dg_policy_now_ms();
    pthread_rwlock_rdlock(&s->lock);
    int decided = dg_policy_try_decide(s->policy, policy_route(route), &bi, &d);
    pthread_rwlock_unlock(&s->lock);
    if (!decided) { /* needs the chain: hand it to a decider, answer later */
        if (to_decider(s, rq, route, &bi, start_ms)) return; /* bi moved to the decider */
        /* no decider (not started yet, stopping, out of memory): decide here */
        pthread_rwlock_rdlock(&s->lock);
        dg_policy_decide_since(s->policy, policy_route(route), &bi, start_ms, &d);
        pthread_rwlock_unlock(&s->lock);
    }
    verdict_reply(s, route, &bi, &d, 200, outcome_of(&d), rq->t0_ns, rp);
    dg_bootinfo_free(&bi);
}

static void answer_invalid(authd_server *s, enum authd_route route, const dg_http_request *rq,
                           dg_http_reply *rp, unsigned status, enum authd_outcome o,
                           const char *reason) {
    dg_decision d;
    memset(&d, 0, sizeof d);
    snprintf(d.reason, sizeof d.reason, "%s", reason);
    verdict_reply(s, route, NULL, &d, status, o, rq->t0_ns, rp);
}

/* ,"decisionLog":{...}: whether the log records, and what it lost. */
static void put_log_status(dg_buf *b, const authd_log_status *ls) {
    dg_buf_printf(b, ",\"decisionLog\":{\"status\":\"%s\",\"onError\":\"%s\",\"lost\":%llu",
                  !ls->on       ? "off"
                  : ls->failing ? "failing"
                                : "ok",
                  ls->deny ? "deny" : "continue", ls->lost);
    if (ls->failing) {
        dg_buf_puts(b, ",\"error\":");
        dg_json_put_string(b, ls->error, strlen(ls->error));
        dg_buf_printf(b, ",\"since\":\"%s\"", ls->since);
    }
    dg_buf_push(b, '}');
}

static void answer_info(authd_server *s, dg_http_reply *rp) {
    dg_policy_info info;
    dg_err err = {0};
    authd_log_status ls;
    authd_log_get_status(s->log, &ls);
    if (ls.failing && ls.deny) { /* every decision denies: not a healthy daemon */
        authd_metrics_request(s->metrics, R_INFO, O_ERROR, 0, 0);
        reply_error(rp, 500, AUTHD_REASON_LOG);
        rp->body.len--; /* reopen the object for the log's state */
        put_log_status(&rp->body, &ls);
        dg_buf_push(&rp->body, '}');
        return;
    }
    pthread_rwlock_rdlock(&s->lock);
    int ok = dg_policy_info_get(s->policy, &info, &err);
    pthread_rwlock_unlock(&s->lock);
    if (!ok) {
        authd_msg("GET / failed: %s", err.msg);
        authd_metrics_request(s->metrics, R_INFO, O_ERROR, 0, 0);
        reply_error(rp, 500, DG_REASON_UNAVAILABLE);
        return;
    }
    dg_buf *b = &rp->body;
    dg_buf_puts(b, "{\"status\":\"ok\",\"kmsContractAddr\":");
    dg_json_put_string(b, info.kms_contract, strlen(info.kms_contract));
    dg_buf_puts(b, ",\"ethRpcUrl\":");
    dg_json_put_string(b, info.eth_rpc_url, strlen(info.eth_rpc_url));
    dg_buf_puts(b, ",\"gatewayAppId\":");
    dg_json_put_string(b, info.gateway_app_id, strlen(info.gateway_app_id));
    dg_buf_printf(
        b, ",\"chainId\":%llu,\"appAuthImplementation\":", (unsigned long long)info.chain_id);
    dg_json_put_string(b, info.app_implementation, strlen(info.app_implementation));
    dg_buf_puts(b, ",\"appImplementation\":");
    dg_json_put_string(b, info.app_implementation, strlen(info.app_implementation));
    dg_buf_puts(b, ",\"backend\":");
    dg_json_put_string(b, info.backend, strlen(info.backend));
    if (info.network_id[0]) {
        dg_buf_puts(b, ",\"networkId\":");
        dg_json_put_string(b, info.network_id, strlen(info.network_id));
    }
    if (info.snapshot) {
        dg_buf_puts(b, ",\"snapshot\":");
        dg_json_put_string(b, info.snapshot, strlen(info.snapshot));
        dg_buf_printf(b, ",\"snapshotBlock\":%llu", (unsigned long long)info.snapshot_block);
    }
    put_log_status(b, &ls);
    dg_buf_push(b, '}');
    authd_metrics_request(s->metrics, R_INFO, O_OK, 0, 0);
}

static int is_json_type(const char *ct, size_t n) {
    size_t k = strlen("application/json");
    if (!ct || n < k || strncasecmp(ct, "application/json", k) != 0) return 0;
    ct += k;
    n -= k;
    while (n && (*ct == ' ' || *ct == '\t'))
        ct++, n--;
    return n == 0 || *ct == ';';
}

static int path_is(const dg_http_head *h, const char *p) {
    return h->path_len == strlen(p) && memcmp(h->path, p, h->path_len) == 0;
}

static int method_is(const dg_http_head *h, const char *m) {
    return h->method_len == strlen(m) && memcmp(h->method, m, h->method_len) == 0;
}

static void route(authd_server *s, const dg_http_request *rq, dg_http_reply *rp);

static void handler(void *ctx, const dg_http_request *rq, dg_http_reply *rp) {
    authd_server *s = ctx;
    route(s, rq, rp);
    if (!__atomic_load_n(&s->answered, __ATOMIC_ACQUIRE)) {
        pthread_mutex_lock(&s->first_mu);
        s->answered = 1;
        pthread_cond_broadcast(&s->first_cv);
        pthread_mutex_unlock(&s->first_mu);
    }
}

static void route(authd_server *s, const dg_http_request *rq, dg_http_reply *rp) {
    const dg_http_head *h = rq->head;
    int is_get = method_is(h, "GET") || method_is(h, "HEAD");
    if (path_is(h, "/bootAuth/app") || path_is(h, "/bootAuth/kms")) {
        enum authd_route route = h->path[10] == 'k' ? R_KMS : R_APP;
        if (!method_is(h, "POST")) {
            authd_metrics_request(s->metrics, route, O_BAD_METHOD, 0, 0);
            rp->allow = "POST";
            reply_error(rp, 405, "method not allowed; use POST");
            return;
        }
        if (!is_json_type(h->content_type, h->content_type_len)) {
            answer_invalid(s, route, rq, rp, 415, O_BAD_TYPE,
                           "invalid authorization request: content type must be application/json");
            return;
        }
        if (rq->too_large) {
            answer_invalid(s, route, rq, rp, 413, O_TOO_LARGE,
                           "invalid authorization request: body larger than 65536 bytes");
            return;
        }
        answer_decision(s, route, rq, rp);
        return;
    }
    enum authd_route route = path_is(h, "/")          ? R_INFO
                             : path_is(h, "/metrics") ? R_METRICS
                                                      : R_OTHER;
    if (route == R_OTHER) {
        authd_metrics_request(s->metrics, R_OTHER, O_NOT_FOUND, 0, 0);
        reply_error(rp, 404, "not found");
        return;
    }
    if (!is_get) {
        authd_metrics_request(s->metrics, route, O_BAD_METHOD, 0, 0);
        rp->allow = "GET, HEAD";
        reply_error(rp, 405, "method not allowed; use GET");
        return;
    }
    if (route == R_INFO) { /* may read the chain (cached for eth.info_cache_ms): off the worker */
        if (!to_decider(s, rq, R_INFO, NULL, 0)) answer_info(s, rp);
        return;
    }
    dg_httpd_stats hs;
    /* the first worker may answer before dg_httpd_start has returned */
    dg_httpd *hd = __atomic_load_n(&s->h, __ATOMIC_ACQUIRE);
    if (hd) dg_httpd_get_stats(hd, &hs);
    pthread_rwlock_rdlock(&s->lock);
    authd_metrics_render(s->metrics, &rp->body, s->policy, s->log, hd ? &hs : NULL);
    pthread_rwlock_unlock(&s->lock);
    authd_metrics_request(s->metrics, R_METRICS, O_OK, 0, 0);
    rp->content_type = "text/plain; version=0.0.4";
}

/* A request lib/httpd refused before routing (malformed head, 501, 505...):
 * answered with the decision shape, so a KMS reads it as a deny. */
static void on_reject(void *ctx, const char *why, dg_http_reply *rp) {
    authd_server *s = ctx;
    char reason[320];
    snprintf(reason, sizeof reason, "invalid HTTP request: %s", why);
    rp->content_type = "application/json";
    put_verdict(&rp->body, 0, reason, "");
    authd_metrics_request(s->metrics, R_OTHER, O_INVALID, 0, 0);
}

static void stop_deciders(authd_server *s) {
    pthread_mutex_lock(&s->q_mu);
    s->q_stop = 1;
    pthread_cond_broadcast(&s->q_cv);
    pthread_mutex_unlock(&s->q_mu);
    for (int i = 0; i < s->ndeciders; i++)
        pthread_join(s->deciders[i], NULL);
    __atomic_store_n(&s->ndeciders, 0, __ATOMIC_RELEASE); /* the workers may still read it */
    free(s->deciders);
    s->deciders = NULL;
}

/* systemd's socket activation protocol (sd_listen_fds(3)): descriptors from
 * 3 on, LISTEN_FDS of them, meant for the process LISTEN_PID. Returns the
 * descriptor, 0 when not activated, -1 with err set when misconfigured. */
static int activation_fd(dg_err *err) {
    const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
    if (!pid || !fds) return 0;
    char *end;
    long lp = strtol(pid, &end, 10);
    if (*end || lp != (long)getpid()) return 0; /* meant for another process */
    long n = strtol(fds, &end, 10);
    unsetenv("LISTEN_PID");
    unsetenv("LISTEN_FDS");
    unsetenv("LISTEN_FDNAMES");
    if (*end || n != 1) {
        dg_err_set(err, DG_ERR_CONFIG,
                   "socket activation: LISTEN_FDS=%s, expected exactly one socket", fds);
        return -1;
    }
    return 3;
}

/* Descriptors for max_connections (plus a quarter over it while idle ones
 * are closed) and the rest: a service manager's default soft limit (often
 * 1024) would refuse connections below the configured limit. */
static void raise_nofile(int max_connections) {
    struct rlimit rl;
    rlim_t want = (rlim_t)max_connections + (rlim_t)max_connections / 4 + 256;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want) return;
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < want)
        authd_msg("open files limited to %llu: fewer than server.max_connections = %d need",
                  (unsigned long long)rl.rlim_cur, max_connections);
}

authd_server *server_start(const authd_config *cfg, dg_policy *p, authd_log *log, dg_err *err) {
    authd_server *s = calloc(1, sizeof *s);
    struct sockaddr_storage ss;
    socklen_t sl;
    memset(&ss, 0, sizeof ss);
    if (!s) {
        dg_err_set(err, DG_ERR_NOMEM, "out of memory");
        return NULL;
    }
    int lfd = activation_fd(err);
    if (lfd < 0) {
        free(s);
        return NULL;
    }
    struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, cfg->host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)cfg->port);
        sl = sizeof *v4;
    } else if (inet_pton(AF_INET6, cfg->host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)cfg->port);
        sl = sizeof *v6;
    } else {
        free(s);
        dg_err_set(err, DG_ERR_CONFIG, "host \"%s\": expected an IPv4 or IPv6 address", cfg->host);
        return NULL;
    }
    s->policy = p;
    s->log = log;
    if (!(s->metrics = authd_metrics_new())) {
        free(s);
        dg_err_set(err, DG_ERR_NOMEM, "out of memory");
        return NULL;
    }
    raise_nofile(cfg->max_connections);
    s->activated = lfd > 0;
    pthread_rwlock_init(&s->lock, NULL);
    pthread_mutex_init(&s->first_mu, NULL);
    pthread_cond_init(&s->first_cv, NULL);
    pthread_mutex_init(&s->q_mu, NULL);
    pthread_cond_init(&s->q_cv, NULL);
    s->max_deciders = cfg->threads;
    s->deciders = calloc((size_t)s->max_deciders, sizeof *s->deciders);
    /* no decider yet: until the first answer, a miss is decided on its worker
     * (one thread less on the way to the first answer); see server_start_workers */
    dg_httpd_opts o = {.addr = (struct sockaddr *)&ss,
                       .addr_len = sl,
                       .listen_fd = lfd,
                       .threads = cfg->threads,
                       .start_threads = 1,
                       .max_body = DG_BOOTINFO_BODY_MAX,
                       .idle_timeout_ms = (int)cfg->idle_timeout_ms,
                       .request_timeout_ms = (int)cfg->request_timeout_ms,
                       .max_connections = cfg->max_connections,
                       .handler = handler,
                       .on_reject = on_reject,
                       .ctx = s};
    dg_err e2 = {0};
    dg_httpd *h = dg_httpd_start(&o, &e2);
    __atomic_store_n(&s->h, h, __ATOMIC_RELEASE); /* read by the workers (GET /metrics) */
    if (!s->h) {
        stop_deciders(s);
        pthread_rwlock_destroy(&s->lock);
        authd_metrics_free(s->metrics);
        free(s);
        if (lfd > 0)
            dg_err_set(err, DG_ERR_IO, "socket activation: %s", e2.msg);
        else
            dg_err_set(err, DG_ERR_IO, "cannot listen on %s port %d: %s", cfg->host, cfg->port,
                       e2.msg);
        return NULL;
    }
    s->port = dg_httpd_port(s->h);
    /* the address actually bound (an inherited socket has its own) */
    char host[80] = "?";
    sl = sizeof ss;
    if (lfd > 0 && getsockname(lfd, (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET)
            inet_ntop(AF_INET, &v4->sin_addr, host, sizeof host);
        else if (ss.ss_family == AF_INET6)
            inet_ntop(AF_INET6, &v6->sin6_addr, host, sizeof host);
    } else
        snprintf(host, sizeof host, "%s", cfg->host);
    snprintf(s->url, sizeof s->url, "http://%s%s%s:%d", strchr(host, ':') ? "[" : "", host,
             strchr(host, ':') ? "]" : "", s->port);
    return s;
}

void server_start_workers(authd_server *s, long wait_first_ms) {
    dg_err err = {0};
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += (wait_first_ms % 1000) * 1000000;
    ts.tv_sec += wait_first_ms / 1000 + ts.tv_nsec / 1000000000;
    ts.tv_nsec %= 1000000000;
    pthread_mutex_lock(&s->first_mu);
    while (!s->answered)
        if (pthread_cond_timedwait(&s->first_cv, &s->first_mu, &ts) != 0) break;
    pthread_mutex_unlock(&s->first_mu);
    if (s->deciders) start_deciders(s, s->max_deciders);
    if (!dg_httpd_start_workers(s->h, &err))
        authd_msg("%s (serving with fewer HTTP workers)", err.msg);
}

const char *server_listen_url(const authd_server *s) {
    return s->url;
}

int server_socket_activated(const authd_server *s) {
    return s->activated;
}

int server_port(const authd_server *s) {
    return s->port;
}

dg_policy *server_swap_policy(authd_server *s, dg_policy *p) {
    pthread_rwlock_wrlock(&s->lock);
    dg_policy *old = s->policy;
    s->policy = p;
    pthread_rwlock_unlock(&s->lock);
    return old;
}

void server_stop(authd_server *s, long wait_ms) {
    if (!s) return;
    dg_httpd_quiesce(s->h, wait_ms); /* no new requests; the deferred ones answered or given up */
    stop_deciders(s);                /* finishes whatever is still queued */
    dg_httpd_stop(s->h, 0);
    pthread_rwlock_destroy(&s->lock);
    pthread_mutex_destroy(&s->q_mu);
    pthread_cond_destroy(&s->q_cv);
    pthread_mutex_destroy(&s->first_mu);
    pthread_cond_destroy(&s->first_cv);
    authd_metrics_free(s->metrics);
    free(s);
}
