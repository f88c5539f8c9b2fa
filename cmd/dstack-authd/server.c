/* server.c — the HTTP side of dstack-authd (libmicrohttpd).
 *
 * Routes: GET / (backend info), POST /bootAuth/app and /bootAuth/kms (boot
 * decisions), GET /metrics. MHD runs an internal thread pool with epoll;
 * each request is read into one buffer (at most 64 KiB), parsed by the strict
 * BootInfo parser, decided by the policy, answered, logged and counted.
 *
 * Status codes: 200 for every decision (allow or deny, as the KMS expects),
 * 400 for an invalid body (same three keys, isAllowed false, the reason names
 * the field), 404 unknown path, 405 wrong method, 413 body over 64 KiB, 415
 * content type other than application/json, 500 when GET / cannot reach the
 * backend. The policy pointer sits behind a read-write lock so SIGHUP can
 * swap in a freshly built backend while requests keep flowing.
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "authd.h"
#include "dstackgov/bootinfo.h"

struct authd_server {
    struct MHD_Daemon *d;
    pthread_rwlock_t lock;
    dg_policy *policy;
    int port;
    int log_on;
    unsigned long inflight;
};

enum kind { K_DECIDE, K_INFO, K_METRICS, K_FIXED };

typedef struct {
    enum kind kind;
    enum authd_route route;
    long long t0_ns;
    int too_big;
    int bad_type;
    dg_buf body;
} req_ctx;

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static enum MHD_Result send_buf(struct MHD_Connection *c, unsigned status, dg_buf *b, const char *type) {
    if (b->oom) {
        dg_buf_free(b);
        return MHD_NO;
    }
    struct MHD_Response *r;
    if (b->len) {
        r = MHD_create_response_from_buffer(b->len, b->data, MHD_RESPMEM_MUST_FREE);
        if (!r) {
            dg_buf_free(b);
            return MHD_NO;
        }
    } else
        r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    b->data = NULL;
    b->len = b->cap = 0;
    if (!r) return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result send_error(struct MHD_Connection *c, unsigned status, const char *msg) {
    dg_buf b;
    dg_buf_init(&b);
    dg_buf_puts(&b, "{\"status\":\"error\",\"message\":");
    dg_json_put_string(&b, msg, strlen(msg));
    dg_buf_puts(&b, "}");
    return send_buf(c, status, &b, "application/json");
}

/* The decision log line is built on the stack without printf: this runs for
 * every request, so it must cost less than the decision it records. Worst
 * case (every string at its limit, fully escaped) is under 8 KiB. */
typedef struct {
    char *p;
    size_t n, cap;
} linebuf;

static void lb_put(linebuf *l, const char *s, size_t n) {
    if (n > l->cap - l->n) n = l->cap - l->n;
    memcpy(l->p + l->n, s, n);
    l->n += n;
}

static void lb_puts(linebuf *l, const char *s) { lb_put(l, s, strlen(s)); }

static void lb_u64(linebuf *l, unsigned long long v) {
    char t[24];
    size_t i = sizeof t;
    do t[--i] = (char)('0' + v % 10); while ((v /= 10) && i);
    lb_put(l, t + i, sizeof t - i);
}

static void lb_hex(linebuf *l, const char *key, const uint8_t *p, size_t n) {
    static const char hx[] = "0123456789abcdef";
    char t[64];
    lb_puts(l, ",\"");
    lb_puts(l, key);
    lb_puts(l, "\":\"");
    for (size_t i = 0; i < n; i++) {
        t[2 * i] = hx[p[i] >> 4];
        t[2 * i + 1] = hx[p[i] & 15];
    }
    lb_put(l, t, 2 * n);
    lb_put(l, "\"", 1);
}

static void lb_str(linebuf *l, const char *key, const char *s, size_t n) {
    static const char hx[] = "0123456789abcdef";
    lb_puts(l, ",\"");
    lb_puts(l, key);
    lb_puts(l, "\":\"");
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        lb_put(l, s + run, i - run);
        run = i + 1;
        char e[6] = {'\\', c, 0, 0, 0, 0};
        if (c == '"' || c == '\\') lb_put(l, e, 2);
        else {
            e[1] = 'u';
            e[2] = '0';
            e[3] = '0';
            e[4] = hx[c >> 4];
            e[5] = hx[c & 15];
            lb_put(l, e, 6);
        }
    }
    lb_put(l, s + run, n - run);
    lb_put(l, "\"", 1);
}

static void log_decision(enum authd_route route, const dg_bootinfo *bi, const dg_decision *d, unsigned status,
                         double secs) {
    /* "YYYY-mm-ddTHH:MM:SS" formatted once per second per thread */
    static __thread time_t t_sec = -1;
    static __thread char t_pre[32];
    char line[8192];
    linebuf l = {line, 0, sizeof line};
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (ts.tv_sec != t_sec) {
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        strftime(t_pre, sizeof t_pre, "%Y-%m-%dT%H:%M:%S", &tm);
        t_sec = ts.tv_sec;
    }
    long ms = ts.tv_nsec / 1000000;
    char msb[6] = {'.', (char)('0' + ms / 100), (char)('0' + ms / 10 % 10), (char)('0' + ms % 10), 'Z', '"'};
    lb_puts(&l, "{\"time\":\"");
    lb_puts(&l, t_pre);
    lb_put(&l, msb, 6);
    lb_puts(&l, route == R_KMS ? ",\"route\":\"kms\",\"status\":" : ",\"route\":\"app\",\"status\":");
    lb_u64(&l, status);
    if (bi) {
        lb_hex(&l, "appId", bi->app_id, 20);
        lb_hex(&l, "composeHash", bi->compose_hash, 32);
        lb_hex(&l, "deviceId", bi->device_id, 32);
        lb_hex(&l, "osImageHash", bi->os_image_hash, 32);
        lb_hex(&l, "mrAggregated", bi->mr_aggregated, 32);
        lb_str(&l, "tcbStatus", bi->tcb_status, bi->tcb_len);
    }
    if (d->has_block) {
        lb_puts(&l, ",\"block\":");
        lb_u64(&l, d->block_number);
        lb_hex(&l, "blockHash", d->block_hash, 32);
    }
    if (d->endpoint[0]) lb_str(&l, "endpoint", d->endpoint, strlen(d->endpoint));
    lb_puts(&l, d->allowed ? ",\"isAllowed\":true" : ",\"isAllowed\":false");
    lb_str(&l, "reason", d->reason, strlen(d->reason));
    if (d->detail[0]) lb_str(&l, "detail", d->detail, strlen(d->detail));
    lb_puts(&l, d->cached ? ",\"cached\":true,\"latencyMs\":" : ",\"cached\":false,\"latencyMs\":");
    unsigned long long us = (unsigned long long)(secs * 1e6 + 0.5);
    lb_u64(&l, us / 1000);
    char frac[4] = {'.', (char)('0' + us / 100 % 10), (char)('0' + us / 10 % 10), (char)('0' + us % 10)};
    lb_put(&l, frac, 4);
    lb_put(&l, "}", 1);
    declog_write(line, l.n);
}

static enum MHD_Result answer_decision(authd_server *s, struct MHD_Connection *c, req_ctx *rq) {
    dg_bootinfo bi;
    dg_decision d;
    dg_err err = {0};
    unsigned status = 200;
    enum authd_outcome outcome;
    dg_buf out;
    int parsed;
    dg_bootinfo_init(&bi);
    memset(&d, 0, sizeof d);
    parsed = dg_bootinfo_parse(&bi, rq->body.len ? (const char *)rq->body.data : "", rq->body.len, &err);
    if (!parsed) {
        status = 400;
        outcome = O_INVALID;
        snprintf(d.reason, sizeof d.reason, "invalid authorization request: %.400s", err.msg);
    } else {
        pthread_rwlock_rdlock(&s->lock);
        dg_policy_decide(s->policy, rq->route == R_KMS ? DG_ROUTE_KMS : DG_ROUTE_APP, &bi, &d);
        pthread_rwlock_unlock(&s->lock);
        outcome = d.allowed ? O_ALLOW : d.error ? O_ERROR : O_DENY;
    }
    dg_buf_init(&out);
    dg_buf_reserve(&out, 64 + strlen(d.reason) + strlen(d.gateway_app_id));
    dg_buf_puts(&out, d.allowed ? "{\"isAllowed\":true,\"reason\":" : "{\"isAllowed\":false,\"reason\":");
    dg_json_put_string(&out, d.reason, strlen(d.reason));
    dg_buf_puts(&out, ",\"gatewayAppId\":");
    dg_json_put_string(&out, d.gateway_app_id, strlen(d.gateway_app_id));
    dg_buf_push(&out, '}');
    enum MHD_Result ret = send_buf(c, status, &out, "application/json");
    double secs = (double)(now_ns() - rq->t0_ns) / 1e9;
    metrics_request(rq->route, outcome, secs, d.cached);
    if (s->log_on) log_decision(rq->route, parsed ? &bi : NULL, &d, status, secs);
    dg_bootinfo_free(&bi);
    return ret;
}

static enum MHD_Result answer_invalid(authd_server *s, struct MHD_Connection *c, req_ctx *rq, unsigned status,
                                      enum authd_outcome o, const char *reason) {
    dg_decision d;
    dg_buf out;
    memset(&d, 0, sizeof d);
    snprintf(d.reason, sizeof d.reason, "%s", reason);
    dg_buf_init(&out);
    dg_buf_puts(&out, "{\"isAllowed\":false,\"reason\":");
    dg_json_put_string(&out, reason, strlen(reason));
    dg_buf_puts(&out, ",\"gatewayAppId\":\"\"}");
    enum MHD_Result ret = send_buf(c, status, &out, "application/json");
    double secs = (double)(now_ns() - rq->t0_ns) / 1e9;
    metrics_request(rq->route, o, secs, 0);
    if (s->log_on) log_decision(rq->route, NULL, &d, status, secs);
    return ret;
}

static enum MHD_Result answer_info(authd_server *s, struct MHD_Connection *c) {
    dg_policy_info info;
    dg_err err = {0};
    dg_buf b;
    pthread_rwlock_rdlock(&s->lock);
    int ok = dg_policy_info_get(s->policy, &info, &err);
    pthread_rwlock_unlock(&s->lock);
    if (!ok) {
        authd_msg("GET / failed: %s", err.msg);
        metrics_request(R_INFO, O_ERROR, 0, 0);
        return send_error(c, 500, DG_REASON_UNAVAILABLE);
    }
    dg_buf_init(&b);
    dg_buf_puts(&b, "{\"status\":\"ok\",\"kmsContractAddr\":");
    dg_json_put_string(&b, info.kms_contract, strlen(info.kms_contract));
    dg_buf_puts(&b, ",\"ethRpcUrl\":");
    dg_json_put_string(&b, info.eth_rpc_url, strlen(info.eth_rpc_url));
    dg_buf_puts(&b, ",\"gatewayAppId\":");
    dg_json_put_string(&b, info.gateway_app_id, strlen(info.gateway_app_id));
    dg_buf_printf(&b, ",\"chainId\":%llu,\"appAuthImplementation\":", (unsigned long long)info.chain_id);
    dg_json_put_string(&b, info.app_implementation, strlen(info.app_implementation));
    dg_buf_puts(&b, ",\"appImplementation\":");
    dg_json_put_string(&b, info.app_implementation, strlen(info.app_implementation));
    dg_buf_puts(&b, ",\"backend\":");
    dg_json_put_string(&b, info.backend, strlen(info.backend));
    dg_buf_push(&b, '}');
    metrics_request(R_INFO, O_OK, 0, 0);
    return send_buf(c, 200, &b, "application/json");
}

static int is_json_type(const char *ct) {
    if (!ct) return 0;
    while (*ct == ' ') ct++;
    size_t n = strlen("application/json");
    if (strncasecmp(ct, "application/json", n) != 0) return 0;
    ct += n;
    while (*ct == ' ') ct++;
    return *ct == 0 || *ct == ';';
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                               const char *version, const char *upload, size_t *upload_size, void **con_cls) {
    authd_server *s = cls;
    req_ctx *rq = *con_cls;
    (void)version;
    if (!rq) {
        int is_get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
        int is_post = strcmp(method, "POST") == 0;
        rq = calloc(1, sizeof *rq);
        if (!rq) return MHD_NO;
        rq->t0_ns = now_ns();
        dg_buf_init(&rq->body);
        *con_cls = rq;
        __atomic_add_fetch(&s->inflight, 1, __ATOMIC_RELAXED);
        if (strcmp(url, "/bootAuth/app") == 0 || strcmp(url, "/bootAuth/kms") == 0) {
            rq->route = url[10] == 'k' ? R_KMS : R_APP;
            if (!is_post) {
                rq->kind = K_FIXED;
                metrics_request(rq->route, O_BAD_METHOD, 0, 0);
                struct MHD_Response *r = MHD_create_response_from_buffer(
                    strlen("{\"status\":\"error\",\"message\":\"method not allowed; use POST\"}"),
                    (void *)"{\"status\":\"error\",\"message\":\"method not allowed; use POST\"}", MHD_RESPMEM_PERSISTENT);
                if (!r) return MHD_NO;
                MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
                MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "POST");
                enum MHD_Result ret = MHD_queue_response(c, 405, r);
                MHD_destroy_response(r);
                return ret;
            }
            rq->kind = K_DECIDE;
            if (!is_json_type(MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE)))
                rq->bad_type = 1;
            const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
            if (cl) {
                unsigned long long n = strtoull(cl, NULL, 10);
                if (n > DG_BOOTINFO_BODY_MAX) rq->too_big = 1;
                else if (!rq->bad_type) dg_buf_reserve(&rq->body, (size_t)n); /* one allocation for the body */
            }
            return MHD_YES;
        }
        int known = strcmp(url, "/") == 0 || strcmp(url, "/metrics") == 0;
        rq->kind = K_FIXED;
        rq->route = strcmp(url, "/") == 0 ? R_INFO : strcmp(url, "/metrics") == 0 ? R_METRICS : R_OTHER;
        if (!known) {
            metrics_request(R_OTHER, O_NOT_FOUND, 0, 0);
            return send_error(c, 404, "not found");
        }
        if (!is_get) {
            metrics_request(rq->route, O_BAD_METHOD, 0, 0);
            struct MHD_Response *r = MHD_create_response_from_buffer(
                strlen("{\"status\":\"error\",\"message\":\"method not allowed; use GET\"}"),
                (void *)"{\"status\":\"error\",\"message\":\"method not allowed; use GET\"}", MHD_RESPMEM_PERSISTENT);
            if (!r) return MHD_NO;
            MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
            MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
            enum MHD_Result ret = MHD_queue_response(c, 405, r);
            MHD_destroy_response(r);
            return ret;
        }
        if (rq->route == R_INFO) return answer_info(s, c);
        dg_buf b;
        dg_buf_init(&b);
        pthread_rwlock_rdlock(&s->lock);
        metrics_render(&b, s->policy);
        pthread_rwlock_unlock(&s->lock);
        metrics_request(R_METRICS, O_OK, 0, 0);
        return send_buf(c, 200, &b, "text/plain; version=0.0.4");
    }
    if (rq->kind != K_DECIDE) {
        *upload_size = 0; /* a body sent with GET is ignored */
        return MHD_YES;
    }
    if (*upload_size) {
        if (!rq->too_big && !rq->bad_type) {
            if (rq->body.len + *upload_size > DG_BOOTINFO_BODY_MAX) {
                rq->too_big = 1;
                dg_buf_free(&rq->body);
            } else if (!dg_buf_append(&rq->body, upload, *upload_size))
                return MHD_NO;
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (rq->bad_type)
        return answer_invalid(s, c, rq, 415, O_BAD_TYPE,
                              "invalid authorization request: content type must be application/json");
    if (rq->too_big)
        return answer_invalid(s, c, rq, 413, O_TOO_LARGE, "invalid authorization request: body larger than 65536 bytes");
    return answer_decision(s, c, rq);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe) {
    authd_server *s = cls;
    req_ctx *rq = *con_cls;
    (void)c;
    (void)toe;
    if (!rq) return;
    dg_buf_free(&rq->body);
    free(rq);
    *con_cls = NULL;
    __atomic_sub_fetch(&s->inflight, 1, __ATOMIC_RELAXED);
}

static void mhd_log(void *cls, const char *fmt, va_list ap) {
    char m[512];
    (void)cls;
    vsnprintf(m, sizeof m, fmt, ap);
    size_t n = strlen(m);
    while (n && m[n - 1] == '\n') m[--n] = 0;
    authd_msg("http: %s", m);
}

authd_server *server_start(const authd_config *cfg, dg_policy *p, dg_err *err) {
    authd_server *s = calloc(1, sizeof *s);
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    if (!s) {
        dg_err_set(err, DG_ERR_NOMEM, "out of memory");
        return NULL;
    }
    struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_USE_TURBO | MHD_USE_ITC;
    if (inet_pton(AF_INET, cfg->host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)cfg->port);
    } else if (inet_pton(AF_INET6, cfg->host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)cfg->port);
        flags |= MHD_USE_IPv6;
    } else {
        free(s);
        dg_err_set(err, DG_ERR_CONFIG, "host \"%s\": expected an IPv4 or IPv6 address", cfg->host);
        return NULL;
    }
    s->policy = p;
    s->log_on = cfg->decision_log[0] != 0;
    pthread_rwlock_init(&s->lock, NULL);
    s->d = MHD_start_daemon(flags, (uint16_t)cfg->port, NULL, NULL, handler, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_SOCK_ADDR, &ss,
                            MHD_OPTION_THREAD_POOL_SIZE, (unsigned)cfg->threads, MHD_OPTION_NOTIFY_COMPLETED,
                            completed, s, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_CONNECTION_LIMIT,
                            (unsigned)1000, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(32 * 1024),
                            MHD_OPTION_END);
    if (!s->d) {
        pthread_rwlock_destroy(&s->lock);
        free(s);
        dg_err_set(err, DG_ERR_IO, "cannot listen on %s port %d (in use, or not allowed)", cfg->host, cfg->port);
        return NULL;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : cfg->port;
    return s;
}

int server_port(const authd_server *s) { return s->port; }

dg_policy *server_swap_policy(authd_server *s, dg_policy *p) {
    pthread_rwlock_wrlock(&s->lock);
    dg_policy *old = s->policy;
    s->policy = p;
    pthread_rwlock_unlock(&s->lock);
    return old;
}

void server_stop(authd_server *s, long wait_ms) {
    if (!s) return;
    MHD_quiesce_daemon(s->d);
    for (long waited = 0; waited < wait_ms && __atomic_load_n(&s->inflight, __ATOMIC_RELAXED); waited += 10) {
        struct timespec ts = {0, 10 * 1000000};
        nanosleep(&ts, NULL);
    }
    MHD_stop_daemon(s->d);
    pthread_rwlock_destroy(&s->lock);
    free(s);
}
