/* rpc.c — JSON-RPC client: failover, retries, quorum, deadline (see
 * include/dstackgov/rpc.h for the contract).
 *
 * The one idea: every call, single or batch, with one endpoint or a quorum,
 * runs through one small engine (exchange). Each endpoint owns a transport
 * set up once: our own non-blocking HTTP/1.1 connection for http:// (http.c)
 * or a libcurl easy handle for https:// (libcurl is loaded at run time, only
 * then: curl_dl.c). Connections stay open between calls, so a call to a
 * local node costs one request on a warm socket. The engine launches just
 * enough endpoints to still reach the quorum (1 by default, which is plain
 * failover in order), waits on all their sockets at once (poll, or
 * curl_multi_poll when a libcurl transfer runs, with our sockets as extra
 * descriptors), collects answers as they complete, and stops as soon as k of
 * them are identical.
 */
#include "dstackgov/rpc.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dstackgov/buf.h"
#include "rpc_internal.h"

#define MAX_RESPONSE_BYTES (64u << 20)
#define DEFAULT_TIMEOUT_MS 5000
#define DEFAULT_RETRIES 2
#define DEFAULT_BACKOFF_MS 50

enum ep_state { EP_UNTRIED, EP_INFLIGHT, EP_ANSWERED, EP_FAILED };

struct endpoint {
    char *url; /* may hold an API key: used for requests only, wiped on free */
    char label[160];
    dg_http_url u;                /* parsed url (target and credentials are secret too) */
    dg_http_conn *hc;             /* http:// transport */
    CURL *h;                      /* https:// transport (libcurl) */
    char errbuf[CURL_ERROR_SIZE]; /* libcurl's detail of the last failure */
    dg_buf resp;
    int too_big;
    unsigned long calls, errors;
    /* state of the current call */
    enum ep_state state;
    long timeout_ms; /* applied to the request in flight */
    int clipped;     /* that timeout was cut short by the deadline */
    dg_rpc_req *ans; /* decoded answers when EP_ANSWERED */
    int sent;        /* the request may have reached the node */
    dg_err fail;     /* why it failed (EP_FAILED) */
};

struct dg_rpc {
    struct endpoint *ep;
    size_t nep;
    const dg_curl_api *cu; /* libcurl, when an endpoint is https:// */
    CURLM *multi;
    struct curl_slist *headers;
    long timeout_ms;
    int retries;
    long backoff_ms;
    unsigned quorum;
    long long deadline;
    char *ca_file;       /* trusted CAs for https:// instead of the system's, or NULL */
    dg_tls_trust *trust; /* the loaded CAs (NULL: libcurl loads them per client) */
    long long next_id;
    size_t last_ep;
    char *last_error_data;
    long last_error_code;
    json_t *last_error;
};

long long dg_rpc_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long long ms) {
    if (ms <= 0) return;
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static size_t write_cb(char *p, size_t size, size_t nmemb, void *ud) {
    struct endpoint *ep = ud;
    size_t n = size * nmemb;
    if (ep->resp.len + n > MAX_RESPONSE_BYTES) {
        ep->too_big = 1;
        return 0;
    }
    return dg_buf_append(&ep->resp, p, n) ? n : 0;
}

static int setup_handle(dg_rpc *rpc, struct endpoint *ep) {
    const dg_curl_api *cu = rpc->cu;
    CURL *h = cu->easy_init();
    if (!h) return 0;
    ep->h = h;
    int bad = 0;
    bad |= cu->easy_setopt(h, CURLOPT_URL, ep->url) != CURLE_OK;
    bad |= cu->easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https") != CURLE_OK;
    bad |= cu->easy_setopt(h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
    bad |= cu->easy_setopt(h, CURLOPT_TCP_NODELAY, 1L) != CURLE_OK;
    bad |= cu->easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L) != CURLE_OK;
    bad |= cu->easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK;
    bad |= cu->easy_setopt(h, CURLOPT_POST, 1L) != CURLE_OK;
    bad |= cu->easy_setopt(h, CURLOPT_HTTPHEADER, rpc->headers) != CURLE_OK;
    bad |= cu->easy_setopt(h, CURLOPT_USERAGENT, "dstack-gov") != CURLE_OK;
    bad |= cu->easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb) != CURLE_OK;
    bad |= cu->easy_setopt(h, CURLOPT_WRITEDATA, ep) != CURLE_OK;
    bad |= cu->easy_setopt(h, CURLOPT_PRIVATE, ep) != CURLE_OK;
    bad |= !dg_tls_setup(cu, h, rpc->ca_file, rpc->trust, ep->errbuf);
    return !bad;
}

dg_rpc *dg_rpc_new(const char *const *urls, size_t nurls, const dg_rpc_opts *opts, dg_err *err) {
    if (!urls || nurls == 0)
        return dg_err_set(err, DG_ERR_CONFIG, "rpc: no endpoint URL given"), NULL;
    dg_rpc_opts o = opts ? *opts : (dg_rpc_opts){0};
    if (o.quorum > nurls)
        return dg_err_set(err, DG_ERR_CONFIG, "rpc: quorum %u is larger than the %zu endpoints",
                          o.quorum, nurls),
               NULL;
    if (o.timeout_ms < 0 || o.backoff_ms < 0 || o.retries < -1)
        return dg_err_set(err, DG_ERR_CONFIG, "rpc: negative timeout, backoff or retries"), NULL;

    dg_rpc *rpc = calloc(1, sizeof *rpc);
    if (!rpc) return dg_err_set(err, DG_ERR_NOMEM, "rpc: out of memory"), NULL;
    rpc->timeout_ms = o.timeout_ms ? o.timeout_ms : DEFAULT_TIMEOUT_MS;
    rpc->retries = o.retries == 0 ? DEFAULT_RETRIES : (o.retries < 0 ? 0 : o.retries);
    rpc->backoff_ms = o.backoff_ms ? o.backoff_ms : DEFAULT_BACKOFF_MS;
    rpc->quorum = o.quorum;
    rpc->next_id = 1;
    rpc->last_ep = (size_t)-1;
    if (o.ca_file) {
        if (!dg_rpc_ca_file_check(o.ca_file, err)) goto fail;
        if (!(rpc->ca_file = strdup(o.ca_file))) goto oom;
    }
    rpc->ep = calloc(nurls, sizeof *rpc->ep);
    if (!rpc->ep) goto oom;
    rpc->nep = nurls;
    for (size_t i = 0; i < nurls; i++) {
        struct endpoint *ep = &rpc->ep[i];
        dg_buf_init(&ep->resp);
        if (!urls[i]) {
            dg_err_set(err, DG_ERR_CONFIG, "rpc endpoint #%zu is empty", i + 1);
            goto fail;
        }
        if (!dg_http_url_parse(urls[i], i, &ep->u, ep->label, sizeof ep->label, err)) goto fail;
        ep->url = strdup(urls[i]);
        if (!ep->url) goto oom;
        if (!ep->u.https) {
            ep->hc = dg_http_conn_new(&ep->u);
            if (!ep->hc) goto oom;
            continue;
        }
        if (!rpc->cu) { /* first https:// endpoint: load libcurl now */
            dg_err e = {0};
            rpc->cu = dg_curl_load(&e);
            if (!rpc->cu) {
                dg_err_set(err, e.code, "rpc %s: %s", ep->label, e.msg);
                goto fail;
            }
            struct curl_slist *hd = rpc->cu->slist_append(NULL, "Content-Type: application/json");
            if (hd) rpc->headers = hd;
            /* an empty "Expect:" stops curl waiting for 100-continue on larger bodies */
            if (hd && !(hd = rpc->cu->slist_append(rpc->headers, "Expect:"))) goto oom;
            if (!hd) goto oom;
            rpc->multi = rpc->cu->multi_init();
            if (!rpc->multi) goto oom;
            if (!dg_tls_trust_get(rpc->cu, rpc->ca_file, &rpc->trust, err)) goto fail;
        }
        if (!setup_handle(rpc, ep)) {
            dg_err_set(err, DG_ERR_INTERNAL, "rpc %s: libcurl rejected the options", ep->label);
            goto fail;
        }
    }
    return rpc;
oom:
    dg_err_set(err, DG_ERR_NOMEM, "rpc: out of memory");
fail:
    dg_rpc_free(rpc);
    return NULL;
}

void dg_rpc_free(dg_rpc *rpc) {
    if (!rpc) return;
    const dg_curl_api *cu = rpc->cu;
    if (cu && rpc->multi) cu->multi_cleanup(rpc->multi);
    for (size_t i = 0; i < rpc->nep; i++) {
        struct endpoint *ep = &rpc->ep[i];
        if (cu && ep->h) cu->easy_cleanup(ep->h);
        dg_http_conn_free(ep->hc);
        dg_http_url_free(&ep->u);
        if (ep->url) {
            volatile char *v = ep->url;
            for (size_t j = 0; v[j]; j++)
                v[j] = 0;
            free(ep->url);
        }
        dg_buf_free(&ep->resp);
    }
    free(rpc->ep);
    if (rpc->headers) cu->slist_free_all(rpc->headers);
    if (cu) dg_tls_trust_put(cu, rpc->trust);
    free(rpc->last_error_data);
    json_decref(rpc->last_error);
    free(rpc->ca_file);
    free(rpc);
}

size_t dg_rpc_endpoint_count(const dg_rpc *rpc) {
    return rpc ? rpc->nep : 0;
}

const char *dg_rpc_endpoint_label(const dg_rpc *rpc, size_t i) {
    return (rpc && i < rpc->nep) ? rpc->ep[i].label : "?";
}

size_t dg_rpc_last_endpoint(const dg_rpc *rpc) {
    return rpc ? rpc->last_ep : (size_t)-1;
}

int dg_rpc_set_deadline(dg_rpc *rpc, long long deadline_ms_monotonic) {
    if (rpc) rpc->deadline = deadline_ms_monotonic > 0 ? deadline_ms_monotonic : 0;
    return 1;
}

int dg_rpc_stats(const dg_rpc *rpc, size_t i, unsigned long *calls, unsigned long *errors) {
    if (!rpc || i >= rpc->nep) return 0;
    if (calls) *calls = rpc->ep[i].calls;
    if (errors) *errors = rpc->ep[i].errors;
    return 1;
}

const char *dg_rpc_last_error_data(const dg_rpc *rpc) {
    return rpc ? rpc->last_error_data : NULL;
}

const json_t *dg_rpc_last_error(const dg_rpc *rpc) {
    return rpc ? rpc->last_error : NULL;
}

long dg_rpc_last_error_code(const dg_rpc *rpc) {
    return rpc ? rpc->last_error_code : 0;
}

/* ------------------------------------------------------------------ engine */

struct call {
    const char *body;
    size_t blen;
    long long first_id;
    int as_batch;
    dg_rpc_req *reqs; /* methods, for messages */
    size_t n;
    int is_read; /* may be sent again (transparent retry on a stale connection) */
};

static void free_answers(struct endpoint *ep, size_t n) {
    if (!ep->ans) return;
    for (size_t j = 0; j < n; j++) {
        json_decref(ep->ans[j].result);
        json_decref(ep->ans[j].error_data);
        json_decref(ep->ans[j].error_obj);
    }
    free(ep->ans);
    ep->ans = NULL;
}

static int answers_equal(const dg_rpc_req *a, const dg_rpc_req *b, size_t n) {
    for (size_t j = 0; j < n; j++) {
        if (a[j].ok != b[j].ok) return 0;
        if (a[j].ok) {
            if (!json_equal(a[j].result, b[j].result)) return 0;
        } else {
            if (a[j].error_code != b[j].error_code || strcmp(a[j].error, b[j].error) != 0) return 0;
            if ((a[j].error_data == NULL) != (b[j].error_data == NULL)) return 0;
            if (a[j].error_data && !json_equal(a[j].error_data, b[j].error_data)) return 0;
            if ((a[j].error_obj == NULL) != (b[j].error_obj == NULL)) return 0;
            if (a[j].error_obj && !json_equal(a[j].error_obj, b[j].error_obj)) return 0;
        }
    }
    return 1;
}

/* Size of the largest group of identical answers; *first = its first endpoint. */
static size_t best_group(const dg_rpc *rpc, size_t n, size_t *first, size_t *ngroups) {
    size_t best = 0, groups = 0;
    for (size_t i = 0; i < rpc->nep; i++) {
        if (rpc->ep[i].state != EP_ANSWERED) continue;
        int seen_before = 0;
        for (size_t j = 0; j < i && !seen_before; j++)
            if (rpc->ep[j].state == EP_ANSWERED && answers_equal(rpc->ep[j].ans, rpc->ep[i].ans, n))
                seen_before = 1;
        if (seen_before) continue;
        groups++;
        size_t size = 1;
        for (size_t j = i + 1; j < rpc->nep; j++)
            if (rpc->ep[j].state == EP_ANSWERED && answers_equal(rpc->ep[i].ans, rpc->ep[j].ans, n))
                size++;
        if (size > best) {
            best = size;
            *first = i;
        }
    }
    if (ngroups) *ngroups = groups;
    return best;
}

static void ep_fail(struct endpoint *ep, dg_err_code code, const char *what) {
    ep->state = EP_FAILED;
    ep->errors++;
    dg_err_set(&ep->fail, code, "rpc %s: %s", ep->label, what);
}

/* Start the request on ep. Returns 0 if the deadline has already passed. */
static int launch(dg_rpc *rpc, struct endpoint *ep, const struct call *c) {
    long t = rpc->timeout_ms;
    ep->clipped = 0;
    long long now = dg_rpc_now_ms();
    if (rpc->deadline) {
        long long left = rpc->deadline - now;
        if (left <= 0) return 0;
        if (left < t) {
            t = (long)left;
            ep->clipped = 1;
        }
    }
    ep->timeout_ms = t;
    ep->resp.len = 0;
    ep->too_big = 0;
    ep->sent = 0;
    ep->calls++;
    if (ep->hc) {
        if (!dg_http_start(ep->hc, c->body, c->blen, now + t, c->is_read, &ep->resp,
                           MAX_RESPONSE_BYTES)) {
            ep_fail(ep, DG_ERR_NOMEM, "out of memory");
            return 1;
        }
        ep->state = EP_INFLIGHT;
        return 1;
    }
    const dg_curl_api *cu = rpc->cu;
    cu->easy_setopt(ep->h, CURLOPT_POSTFIELDS, c->body);
    cu->easy_setopt(ep->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)c->blen);
    cu->easy_setopt(ep->h, CURLOPT_TIMEOUT_MS, t);
    cu->easy_setopt(ep->h, CURLOPT_CONNECTTIMEOUT_MS, t);
    ep->errbuf[0] = 0;
    if (cu->multi_add_handle(rpc->multi, ep->h) != CURLM_OK) {
        ep_fail(ep, DG_ERR_INTERNAL, "libcurl could not start the request");
        return 1;
    }
    ep->state = EP_INFLIGHT;
    return 1;
}

/* A complete HTTP response arrived: check the status, decode the body. */
static void got_response(struct endpoint *ep, long status, const struct call *c) {
    char what[200];
    if (status < 200 || status > 299) {
        snprintf(what, sizeof what, "HTTP status %ld", status);
        ep_fail(ep, DG_ERR_RPC_RESPONSE, what);
        return;
    }
    dg_rpc_req *ans = calloc(c->n, sizeof *ans);
    if (!ans) {
        ep_fail(ep, DG_ERR_NOMEM, "out of memory");
        return;
    }
    for (size_t j = 0; j < c->n; j++)
        ans[j].method = c->reqs[j].method;
    dg_err e = {0};
    if (!dg_jsonrpc_decode(ep->resp.len ? (const char *)ep->resp.data : "", ep->resp.len,
                           c->first_id, c->as_batch, ans, c->n, &e)) {
        free(ans);
        ep_fail(ep, e.code, e.msg);
        return;
    }
    ep->ans = ans;
    ep->state = EP_ANSWERED;
}

static void timed_out(struct endpoint *ep) {
    char what[200];
    snprintf(what, sizeof what, "%s after %ld ms", ep->clipped ? "deadline passed" : "timed out",
             ep->timeout_ms);
    ep_fail(ep, DG_ERR_RPC_TIMEOUT, what);
}

static void finish_http(struct endpoint *ep, const struct call *c) {
    int status = 0, sent = 0;
    const char *why = "";
    dg_http_fail f = dg_http_result(ep->hc, &status, &sent, &why);
    ep->sent = sent;
    char what[200];
    switch (f) {
    case DG_HTTP_OK:
        got_response(ep, status, c);
        return;
    case DG_HTTP_E_RESOLVE:
        ep_fail(ep, DG_ERR_RPC_UNREACHABLE, "could not resolve the host name");
        return;
    case DG_HTTP_E_REFUSED:
        ep_fail(ep, DG_ERR_RPC_UNREACHABLE, "connection refused");
        return;
    case DG_HTTP_E_CONNECT:
        ep_fail(ep, DG_ERR_RPC_UNREACHABLE, "could not connect");
        return;
    case DG_HTTP_E_TIMEOUT:
        timed_out(ep);
        return;
    case DG_HTTP_E_NOTHING:
        ep_fail(ep, DG_ERR_RPC_RESPONSE, "connection closed without a response");
        return;
    case DG_HTTP_E_IO:
        ep_fail(ep, DG_ERR_RPC_RESPONSE, why[0] ? why : "connection lost");
        return;
    case DG_HTTP_E_PROTOCOL:
        snprintf(what, sizeof what, "bad HTTP response: %s", why);
        ep_fail(ep, DG_ERR_RPC_RESPONSE, what);
        return;
    case DG_HTTP_E_TOO_BIG:
        ep_fail(ep, DG_ERR_RPC_RESPONSE, "response larger than 64 MiB");
        return;
    case DG_HTTP_E_NOMEM:
        ep_fail(ep, DG_ERR_NOMEM, "out of memory for the response");
        return;
    }
    ep_fail(ep, DG_ERR_INTERNAL, "unknown transport failure");
}

static void finish_curl(const dg_curl_api *cu, struct endpoint *ep, CURLcode cc,
                        const struct call *c) {
    long reqsize = 0;
    cu->easy_getinfo(ep->h, CURLINFO_REQUEST_SIZE, &reqsize);
    ep->sent = reqsize > 0;
    char what[200];
    if (dg_tls_failure(cu, ep->h, cc, ep->errbuf, ep->u.host, what, sizeof what)) {
        ep_fail(ep, DG_ERR_RPC_UNREACHABLE, what);
        return;
    }
    if (cc == CURLE_OK) {
        long status = 0;
        cu->easy_getinfo(ep->h, CURLINFO_RESPONSE_CODE, &status);
        got_response(ep, status, c);
        return;
    }
    dg_err_code code = DG_ERR_RPC_UNREACHABLE;
    switch (cc) {
    case CURLE_COULDNT_CONNECT: {
        long oserr = 0;
        cu->easy_getinfo(ep->h, CURLINFO_OS_ERRNO, &oserr);
        snprintf(what, sizeof what, "%s",
                 oserr == ECONNREFUSED ? "connection refused" : "could not connect");
        break;
    }
    case CURLE_COULDNT_RESOLVE_HOST:
        snprintf(what, sizeof what, "could not resolve the host name");
        break;
    case CURLE_OPERATION_TIMEDOUT:
        timed_out(ep);
        return;
    case CURLE_GOT_NOTHING:
        code = DG_ERR_RPC_RESPONSE;
        snprintf(what, sizeof what, "connection closed without a response");
        break;
    case CURLE_WRITE_ERROR:
        code = ep->too_big ? DG_ERR_RPC_RESPONSE : DG_ERR_NOMEM;
        snprintf(what, sizeof what, "%s",
                 ep->too_big ? "response larger than 64 MiB" : "out of memory for the response");
        break;
    default:
        snprintf(what, sizeof what, "%s", cu->easy_strerror(cc));
        break;
    }
    ep_fail(ep, code, what);
}

/* Drive every request in flight until at least one completes: our HTTP
 * connections step without blocking; libcurl's transfers run in its multi
 * handle, whose poll also watches our sockets. */
static void wait_some(dg_rpc *rpc, const struct call *c) {
    const dg_curl_api *cu = rpc->cu;
    struct pollfd pfd_stack[8];
    struct curl_waitfd wfd_stack[8];
    struct pollfd *pfd = pfd_stack;
    struct curl_waitfd *wfd = wfd_stack;
    if (rpc->nep > 8) {
        pfd = calloc(rpc->nep, sizeof *pfd);
        wfd = calloc(rpc->nep, sizeof *wfd);
        if (!pfd || !wfd) { /* cannot wait: fail what is in flight */
            for (size_t i = 0; i < rpc->nep; i++) {
                struct endpoint *ep = &rpc->ep[i];
                if (ep->state != EP_INFLIGHT) continue;
                if (ep->hc)
                    dg_http_abort(ep->hc);
                else
                    cu->multi_remove_handle(rpc->multi, ep->h);
                ep->sent = 1;
                ep_fail(ep, DG_ERR_NOMEM, "out of memory");
            }
            free(pfd);
            free(wfd);
            return;
        }
    }
    for (;;) {
        int done = 0, curl_busy = 0;
        unsigned nfd = 0;
        long long wake = -1, now = dg_rpc_now_ms();
        for (size_t i = 0; i < rpc->nep; i++) {
            struct endpoint *ep = &rpc->ep[i];
            if (ep->state != EP_INFLIGHT) continue;
            if (!ep->hc) {
                curl_busy = 1;
                continue;
            }
            if (dg_http_step(ep->hc)) {
                finish_http(ep, c);
                done++;
                continue;
            }
            int fd;
            short ev;
            long long dl;
            dg_http_want(ep->hc, &fd, &ev, &dl);
            if (wake < 0 || dl < wake) wake = dl;
            if (fd >= 0) {
                pfd[nfd] = (struct pollfd){.fd = fd, .events = ev};
                wfd[nfd] =
                    (struct curl_waitfd){.fd = fd,
                                         .events = (short)((ev & POLLIN ? CURL_WAIT_POLLIN : 0) |
                                                           (ev & POLLOUT ? CURL_WAIT_POLLOUT : 0))};
                nfd++;
            }
        }
        if (curl_busy) {
            int running = 0;
            CURLMcode mc = cu->multi_perform(rpc->multi, &running);
            CURLMsg *m;
            int left;
            while ((m = cu->multi_info_read(rpc->multi, &left))) {
                if (m->msg != CURLMSG_DONE) continue;
                CURL *h = m->easy_handle;
                CURLcode cc = m->data.result;
                char *priv = NULL;
                cu->easy_getinfo(h, CURLINFO_PRIVATE, &priv);
                cu->multi_remove_handle(rpc->multi, h);
                finish_curl(cu, (struct endpoint *)(void *)priv, cc, c);
                done++;
            }
            if (!done && mc != CURLM_OK) {
                for (size_t i = 0; i < rpc->nep; i++) {
                    struct endpoint *ep = &rpc->ep[i];
                    if (ep->state != EP_INFLIGHT || ep->hc) continue;
                    cu->multi_remove_handle(rpc->multi, ep->h);
                    ep->sent = 1;
                    ep_fail(ep, DG_ERR_INTERNAL, cu->multi_strerror(mc));
                    done++;
                }
            }
        }
        if (done) break;
        long long ms = wake < 0 ? 100 : wake - now + 1;
        if (ms > 100 && curl_busy) ms = 100;
        if (ms < 0) ms = 0;
        if (curl_busy)
            cu->multi_poll(rpc->multi, wfd, nfd, (int)ms, NULL);
        else
            poll(pfd, nfd, (int)(ms > 60000 ? 60000 : ms));
    }
    if (pfd != pfd_stack) free(pfd);
    if (wfd != wfd_stack) free(wfd);
}

/* Append "; " + s to the message being built (truncating at the end). */
static void msg_add(char *dst, size_t cap, const char *s) {
    size_t l = strlen(dst);
    if (l && l + 2 < cap) {
        memcpy(dst + l, "; ", 3);
        l += 2;
    }
    if (l + 1 < cap) snprintf(dst + l, cap - l, "%s", s);
}

static int exchange(dg_rpc *rpc, const struct call *c, int is_read, dg_rpc_req *out, dg_err *err) {
    size_t nep = rpc->nep, n = c->n, winner = 0;
    size_t k = (is_read && rpc->quorum > 1) ? rpc->quorum : 1;
    int rounds = is_read ? rpc->retries : 0;
    int stop = 0, deadline_hit = 0, ok = 0;
    dg_err_code last_code = DG_ERR_RPC_UNREACHABLE;

    for (size_t i = 0; i < nep; i++) {
        rpc->ep[i].state = EP_UNTRIED;
        rpc->ep[i].ans = NULL;
    }
    for (int round = 0;; round++) {
        for (;;) {
            size_t first = 0, best = best_group(rpc, n, &first, NULL);
            if (best >= k) {
                winner = first;
                ok = 1;
                goto done;
            }
            size_t inflight = 0;
            for (size_t i = 0; i < nep; i++)
                inflight += rpc->ep[i].state == EP_INFLIGHT;
            size_t need = k > best + inflight ? k - best - inflight : 0;
            for (size_t i = 0; i < nep && need > 0 && !stop; i++) {
                if (rpc->ep[i].state != EP_UNTRIED) continue;
                if (!launch(rpc, &rpc->ep[i], c)) {
                    stop = deadline_hit = 1;
                    break;
                }
                if (rpc->ep[i].state == EP_INFLIGHT) {
                    need--;
                    inflight++;
                }
            }
            if (inflight == 0) break;
            wait_some(rpc, c);
            for (size_t i = 0; i < nep; i++) {
                struct endpoint *ep = &rpc->ep[i];
                if (ep->state != EP_FAILED) continue;
                last_code = ep->fail.code;
                /* a write that may have reached a node is never repeated */
                if (!is_read && ep->sent) stop = 1;
            }
        }
        if (stop || round >= rounds) break;
        int any = 0;
        for (size_t i = 0; i < nep; i++)
            any |= rpc->ep[i].state == EP_FAILED;
        if (!any) break;
        long long wait = (long long)rpc->backoff_ms << (round < 20 ? round : 20);
        if (rpc->deadline && dg_rpc_now_ms() + wait >= rpc->deadline) {
            deadline_hit = 1;
            break;
        }
        sleep_ms(wait);
        for (size_t i = 0; i < nep; i++)
            if (rpc->ep[i].state == EP_FAILED) rpc->ep[i].state = EP_UNTRIED;
    }

    /* No usable answer: say why, naming each endpoint's last failure. */
    {
        char msg[sizeof err->msg];
        msg[0] = 0;
        size_t answered = 0, groups = 0, first = 0;
        size_t best = best_group(rpc, n, &first, &groups);
        for (size_t i = 0; i < nep; i++)
            answered += rpc->ep[i].state == EP_ANSWERED;
        dg_err_code code = last_code;
        if (groups > 1) {
            size_t other = first;
            for (size_t i = 0; i < nep; i++)
                if (rpc->ep[i].state == EP_ANSWERED &&
                    !answers_equal(rpc->ep[first].ans, rpc->ep[i].ans, n)) {
                    other = i;
                    break;
                }
            snprintf(msg, sizeof msg,
                     "RPC endpoints disagree: %s and %s returned different results "
                     "(%zu of %zu needed to agree, at most %zu did)",
                     rpc->ep[first].label, rpc->ep[other].label, k, nep, best);
            code = DG_ERR_DISAGREE;
        } else if (answered > 0) {
            snprintf(msg, sizeof msg,
                     "rpc quorum of %zu not reached: %zu of %zu endpoints answered", k, answered,
                     nep);
        }
        for (size_t i = 0; i < nep; i++) {
            struct endpoint *ep = &rpc->ep[i];
            if (ep->state == EP_FAILED) msg_add(msg, sizeof msg, ep->fail.msg);
        }
        if (deadline_hit) {
            msg_add(msg, sizeof msg, "rpc deadline passed");
            if (code != DG_ERR_DISAGREE) code = DG_ERR_RPC_TIMEOUT;
        }
        if (!msg[0]) snprintf(msg, sizeof msg, "rpc: no endpoint answered");
        dg_err_set(err, code, "%s", msg);
    }
done:
    if (ok) {
        struct endpoint *w = &rpc->ep[winner];
        for (size_t j = 0; j < n; j++) {
            const char *m = out[j].method;
            out[j] = w->ans[j];
            out[j].method = m;
            out[j].params = NULL;
            w->ans[j].result = w->ans[j].error_data = w->ans[j].error_obj = NULL;
        }
        rpc->last_ep = winner;
    }
    for (size_t i = 0; i < nep; i++) {
        free_answers(&rpc->ep[i], n);
        if (rpc->ep[i].state == EP_INFLIGHT) {
            if (rpc->ep[i].hc)
                dg_http_abort(rpc->ep[i].hc);
            else
                rpc->cu->multi_remove_handle(rpc->multi, rpc->ep[i].h);
        }
        /* keep a small response buffer for the next call, not a one-off huge one */
        if (rpc->ep[i].resp.cap > (1u << 20)) dg_buf_free(&rpc->ep[i].resp);
    }
    return ok;
}

/* ------------------------------------------------------------------ calls */

static char *error_data_string(json_t *data) {
    if (json_is_object(data)) data = json_object_get(data, "data");
    return json_is_string(data) ? strdup(json_string_value(data)) : NULL;
}

int dg_rpc_call(dg_rpc *rpc, const char *method, json_t *params, json_t **result, dg_err *err) {
    if (result) *result = NULL;
    if (!rpc || !method) {
        json_decref(params);
        return dg_err_set(err, DG_ERR_INPUT, "rpc: no client or no method");
    }
    free(rpc->last_error_data);
    rpc->last_error_data = NULL;
    rpc->last_error_code = 0;
    json_decref(rpc->last_error);
    rpc->last_error = NULL;
    dg_rpc_req r = {.method = method, .params = params};
    struct call c = {.first_id = rpc->next_id++, .as_batch = 0, .reqs = &r, .n = 1};
    char *body = dg_jsonrpc_encode(&r, 1, c.first_id, 0, &c.blen, err);
    json_decref(params);
    r.params = NULL;
    if (!body) return 0;
    c.body = body;
    c.is_read = dg_rpc_method_is_read(method);
    int ok = exchange(rpc, &c, c.is_read, &r, err);
    free(body);
    if (!ok) return 0;
    if (!r.ok) {
        rpc->last_error_code = r.error_code;
        rpc->last_error_data = error_data_string(r.error_data);
        rpc->last_error = r.error_obj ? json_incref(r.error_obj) : NULL;
        dg_err_set(err, DG_ERR_RPC_RESPONSE, "rpc %s: %s", rpc->ep[rpc->last_ep].label, r.error);
        dg_rpc_req_clear(&r, 1);
        return 0;
    }
    if (result) {
        *result = r.result;
        r.result = NULL;
    }
    dg_rpc_req_clear(&r, 1);
    return 1;
}

int dg_rpc_batch(dg_rpc *rpc, dg_rpc_req *reqs, size_t n, dg_err *err) {
    dg_err e = {0};
    int ok = 0;
    if (!rpc || !reqs || n == 0) {
        for (size_t i = 0; reqs && i < n; i++) {
            json_decref(reqs[i].params);
            reqs[i].params = NULL;
        }
        return dg_err_set(err, DG_ERR_INPUT, "rpc: empty batch");
    }
    int is_read = 1;
    for (size_t i = 0; i < n; i++) {
        reqs[i].ok = 0;
        reqs[i].result = reqs[i].error_data = reqs[i].error_obj = NULL;
        reqs[i].error[0] = 0;
        reqs[i].error_code = 0;
        is_read &= dg_rpc_method_is_read(reqs[i].method);
    }
    struct call c = {.first_id = rpc->next_id, .as_batch = 1, .reqs = reqs, .n = n};
    rpc->next_id += (long long)n;
    char *body = dg_jsonrpc_encode(reqs, n, c.first_id, 1, &c.blen, &e);
    for (size_t i = 0; i < n; i++) {
        json_decref(reqs[i].params);
        reqs[i].params = NULL;
    }
    if (body) {
        c.body = body;
        c.is_read = is_read;
        ok = exchange(rpc, &c, is_read, reqs, &e);
        free(body);
    }
    if (!ok) {
        for (size_t i = 0; i < n; i++) {
            reqs[i].ok = 0;
            snprintf(reqs[i].error, sizeof reqs[i].error, "%.255s", e.msg);
        }
        if (err) *err = e;
    }
    return ok;
}
