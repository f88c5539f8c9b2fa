/* explore.c — `dstack-gov explore`: a read-only page of a KMS's whole governance.
 *
 * The one idea: the page is a view of one snapshot (dg_gov_snapshot, every
 * read pinned to one block) that a poller thread renews when — and only when —
 * the chain's head moves; the browser polls the cheap /api/head and fetches
 * /api/state when the block changed. The boot check runs dg_gov_check, the
 * same call as `dstack-gov check`. The page (web/explore.html) is embedded in
 * the binary with .incbin: no file, CDN or network fetch at run time. Nothing
 * here holds a key or sends a transaction; the server listens on loopback.
 *
 * With --near the same page and API read a NEAR KMS contract account:
 * dg_gov_near_snapshot and dg_gov_near_check (lib/near/gov.c, shared with
 * `near check`), the head being the latest final block.
 *
 * Routes: GET / (the page), GET /api/head, GET /api/state, GET /api/app/<id>,
 * POST /api/check/app and /api/check/kms (body: a BootInfo).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>

#include "cli.h"
#include "dstackgov/bootinfo.h"
#include "dstackgov/gov.h"
#include "dstackgov/hex.h"
#include "dstackgov/httpd.h"
#include "dstackgov/near.h"

#ifndef DG_EXPLORE_HTML
#define DG_EXPLORE_HTML "cmd/dstack-gov/web/explore.html"
#endif
/* The assembler computes the size, so C never subtracts two symbols' addresses. */
__asm__(".pushsection .rodata\n"
        ".balign 16\n"
        "dg_explore_html_start:\n"
        ".incbin \"" DG_EXPLORE_HTML "\"\n"
        "dg_explore_html_end:\n"
        ".balign 8\n"
        "dg_explore_html_size:\n"
        ".quad dg_explore_html_end - dg_explore_html_start\n"
        ".popsection\n");
extern const char dg_explore_html_start[] __asm__("dg_explore_html_start");
extern const uint64_t dg_explore_html_size __asm__("dg_explore_html_size");

typedef struct {
    cli *c;
    char near_kms[DG_NEAR_ACCOUNT_MAX + 1]; /* --near: the KMS contract account; else "" */
    pthread_mutex_t rpc_mu; /* the RPC client: the poller and boot checks share it */
    pthread_mutex_t mu;     /* everything below */
    pthread_cond_t cv;
    int stop;
    json_t *snap;                              /* the latest snapshot, or NULL */
    char *snap_text;                           /* its JSON text */
    uint64_t head;                             /* the chain's head as last polled */
    char error[sizeof(dg_err){DG_OK, ""}.msg]; /* the last read failure ("" when it worked) */
    dg_err_code error_code;
    unsigned long snapshots, polls;
    long long last_ms; /* how long the last snapshot took */
    long poll_ms;
} explorer;

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One poll: the head; a new snapshot when it moved (or none was taken yet). */
static void poll_once(explorer *x) {
    dg_err err = {DG_OK, ""};
    uint64_t head = 0;
    pthread_mutex_lock(&x->rpc_mu);
    int ok;
    if (x->near_kms[0]) {
        dg_near_block_info b;
        ok = dg_near_block(x->c->rpc, "final", &b, &err);
        head = b.height;
    } else {
        ok = dg_eth_block_number(x->c->rpc, &head, &err);
    }
    pthread_mutex_lock(&x->mu);
    int need = ok && (!x->snap || head != x->head);
    x->polls++;
    pthread_mutex_unlock(&x->mu);
    json_t *s = NULL;
    long long t0 = now_ms();
    if (need)
        s = x->near_kms[0] ? dg_gov_near_snapshot(x->c->rpc, x->near_kms, &err)
                           : dg_gov_snapshot(x->c->rpc, x->c->kms, &err);
    long long dt = now_ms() - t0;
    pthread_mutex_unlock(&x->rpc_mu);
    char *text = s ? json_dumps(s, JSON_COMPACT) : NULL;
    pthread_mutex_lock(&x->mu);
    if (!ok || (need && !text)) {
        snprintf(x->error, sizeof x->error, "%s", err.msg[0] ? err.msg : "out of memory");
        x->error_code = err.code ? err.code : DG_ERR_NOMEM;
    } else if (need) {
        json_decref(x->snap);
        free(x->snap_text);
        x->snap = s;
        x->snap_text = text;
        /* the snapshot may be newer than the head we polled */
        x->head = (uint64_t)json_integer_value(json_object_get(s, "block"));
        x->snapshots++;
        x->last_ms = dt;
        x->error[0] = '\0';
        s = NULL;
        text = NULL;
    }
    pthread_cond_broadcast(&x->cv);
    pthread_mutex_unlock(&x->mu);
    json_decref(s);
    free(text);
}

static void *poller(void *arg) {
    explorer *x = arg;
    pthread_mutex_lock(&x->mu);
    while (!x->stop) {
        pthread_mutex_unlock(&x->mu);
        poll_once(x);
        pthread_mutex_lock(&x->mu);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += (x->poll_ms % 1000) * 1000000L;
        ts.tv_sec += x->poll_ms / 1000 + ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        if (!x->stop) pthread_cond_timedwait(&x->cv, &x->mu, &ts);
    }
    pthread_mutex_unlock(&x->mu);
    return NULL;
}

/* ------------------------------------------------------------------ replies */

static void reply_json(dg_http_reply *rp, unsigned status, json_t *j) {
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    rp->status = s ? status : 500;
    rp->content_type = "application/json";
    if (s) dg_buf_append(&rp->body, s, strlen(s));
    free(s);
}

static void reply_error(dg_http_reply *rp, unsigned status, const char *msg) {
    reply_json(rp, status, json_pack("{s:s}", "error", msg));
}

static int path_is(const dg_http_request *rq, const char *p) {
    return rq->head->path_len == strlen(p) && memcmp(rq->head->path, p, rq->head->path_len) == 0;
}

static int method_is(const dg_http_request *rq, const char *m) {
    return rq->head->method_len == strlen(m) &&
           memcmp(rq->head->method, m, rq->head->method_len) == 0;
}

/* The app entry of the snapshot with this id (case-insensitive), or NULL. */
static json_t *find_app(json_t *snap, const char *id) {
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(snap, "apps"), i, a) {
        if (strcasecmp(json_string_value(json_object_get(a, "appId")), id) == 0) return a;
    }
    return NULL;
}

/* NEAR: the `near` command that lifts a denying rule (values without 0x, as
 * the contracts keep them; an app as its account). */
static json_t *near_fix_command(const char *kms, const char *rule, const dg_bootinfo *bi,
                                dg_route route) {
    static const struct {
        const char *rule, *kms_cmd, *app_cmd;
        size_t off, n;
    } t[] = {
        {"os-image", "kms add-image", "kms add-image", offsetof(dg_bootinfo, os_image_hash), 32},
        {"compose-hash", NULL, "app add-hash", offsetof(dg_bootinfo, compose_hash), 32},
        {"device", "kms add-device", "app add-device", offsetof(dg_bootinfo, device_id), 32},
        {"mr-aggregated", "kms add-mr", NULL, offsetof(dg_bootinfo, mr_aggregated), 32},
        {"registered", NULL, "app deploy", offsetof(dg_bootinfo, app_id), 20},
    };
    char acct[DG_NEAR_ACCOUNT_MAX + 1], h[65], cmd[300];
    if (!dg_near_app_account(kms, bi->app_id, acct, NULL)) return json_null();
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        const char *sub = route == DG_ROUTE_KMS ? t[i].kms_cmd : t[i].app_cmd;
        if (strcmp(rule, t[i].rule) != 0 || !sub) continue;
        dg_hex_encode((const uint8_t *)bi + t[i].off, t[i].n, h);
        if (strcmp(rule, "registered") == 0)
            snprintf(cmd, sizeof cmd, "dstack-gov near app deploy %s OWNER", h);
        else if (route == DG_ROUTE_APP && strcmp(sub, "kms add-image") != 0)
            snprintf(cmd, sizeof cmd, "dstack-gov near %s %s %s", sub, acct, h);
        else
            snprintf(cmd, sizeof cmd, "dstack-gov near %s %s", sub, h);
        return json_string(cmd);
    }
    return json_null();
}

/* The command that would lift a denying rule (the page only shows it). */
static json_t *fix_command(const char *rule, const dg_bootinfo *bi, dg_route route) {
    char h[67], app[43];
    dg_address_checksum(bi->app_id, app);
    char cmd[300] = "";
    if (strcmp(rule, "os-image") == 0) {
        dg_hex_encode_0x(bi->os_image_hash, 32, h);
        snprintf(cmd, sizeof cmd, "dstack-gov kms add-image %s", h);
    } else if (strcmp(rule, "compose-hash") == 0) {
        dg_hex_encode_0x(bi->compose_hash, 32, h);
        snprintf(cmd, sizeof cmd, "dstack-gov app add-hash %s --app-id %s", h, app);
    } else if (strcmp(rule, "device") == 0) {
        dg_hex_encode_0x(bi->device_id, 32, h);
        snprintf(cmd, sizeof cmd, "dstack-gov %s add-device %s%s%s",
                 route == DG_ROUTE_KMS ? "kms" : "app", h,
                 route == DG_ROUTE_KMS ? "" : " --app-id ", route == DG_ROUTE_KMS ? "" : app);
    } else if (strcmp(rule, "mr-aggregated") == 0) {
        dg_hex_encode_0x(bi->mr_aggregated, 32, h);
        snprintf(cmd, sizeof cmd, "dstack-gov kms add-mr %s", h);
    } else if (strcmp(rule, "registered") == 0) {
        snprintf(cmd, sizeof cmd, "dstack-gov kms register-app %s", app);
    }
    return cmd[0] ? json_string(cmd) : json_null();
}

static void api_check(explorer *x, const dg_http_request *rq, dg_http_reply *rp, dg_route route) {
    dg_err err = {DG_OK, ""};
    dg_bootinfo bi;
    dg_gov_verdict v;
    dg_bootinfo_init(&bi);
    if (!dg_bootinfo_parse(&bi, (const char *)rq->body, rq->body_len, &err)) {
        reply_error(rp, 400, err.msg);
        dg_bootinfo_free(&bi);
        return;
    }
    pthread_mutex_lock(&x->rpc_mu);
    int ok = x->near_kms[0] ? dg_gov_near_check(x->c->rpc, x->near_kms, &bi, route, &v, &err)
                            : dg_gov_check(x->c->rpc, x->c->kms, &bi, route, &v, &err);
    pthread_mutex_unlock(&x->rpc_mu);
    if (!ok || !v.kms_answers) {
        reply_error(rp, 502, ok ? "the KMS contract does not answer" : err.msg);
        dg_bootinfo_free(&bi);
        return;
    }
    json_t *rules = json_array();
    for (size_t i = 0; i < v.nrules; i++)
        json_array_append_new(
            rules, json_pack("{s:s,s:o,s:s}", "rule", v.rules[i].name, "ok",
                             v.rules[i].ok < 0 ? json_null() : json_boolean(v.rules[i].ok),
                             "detail", v.rules[i].detail));
    int first = dg_gov_first_failing(&v);
    const char *fname = first >= 0 ? v.rules[first].name : NULL;
    json_t *o =
        json_pack("{s:b,s:s,s:s,s:I,s:o,s:o,s:o}", "allowed", v.allowed, "reason", v.reason,
                  "gatewayAppId", v.gateway_app_id, "block", (json_int_t)v.block_number, "rules",
                  rules, "firstFailing", fname ? json_string(fname) : json_null(), "fix",
                  !fname           ? json_null()
                  : x->near_kms[0] ? near_fix_command(x->near_kms, fname, &bi, route)
                                   : fix_command(fname, &bi, route));
    if (x->near_kms[0]) json_object_set_new(o, "blockHash", json_string(v.block_hash));
    if (fname && strcmp(fname, "compose-hash") == 0) {
        /* what the app does allow, from the snapshot (the same chain, maybe a block older) */
        char id[43];
        if (x->near_kms[0])
            dg_hex_encode(bi.app_id, 20, id); /* a NEAR snapshot's appId: 40 hex, no 0x */
        else
            dg_address_checksum(bi.app_id, id);
        pthread_mutex_lock(&x->mu);
        json_t *a = x->snap ? find_app(x->snap, id) : NULL;
        json_t *hs = a ? json_object_get(a, "composeHashes") : NULL;
        json_object_set_new(o, "allowedComposeHashes", hs ? json_deep_copy(hs) : json_array());
        pthread_mutex_unlock(&x->mu);
    }
    reply_json(rp, 200, o);
    dg_bootinfo_free(&bi);
}

static void handle(void *ctx, const dg_http_request *rq, dg_http_reply *rp) {
    explorer *x = ctx;
    static const char APP_PREFIX[] = "/api/app/";
    int get = method_is(rq, "GET") || method_is(rq, "HEAD");
    if (rq->too_large) {
        reply_error(rp, 413, "body too large");
    } else if (path_is(rq, "/") || path_is(rq, "/index.html")) {
        if (!get) {
            rp->allow = "GET, HEAD";
            reply_error(rp, 405, "method not allowed");
            return;
        }
        rp->content_type = "text/html; charset=utf-8";
        dg_buf_append(&rp->body, dg_explore_html_start, (size_t)dg_explore_html_size);
    } else if (path_is(rq, "/favicon.ico")) {
        rp->status = 204; /* no icon: answered, so a browser logs no error */
        rp->content_type = "image/x-icon";
    } else if (path_is(rq, "/api/head") && get) {
        pthread_mutex_lock(&x->mu);
        json_t *o =
            json_pack("{s:I,s:o,s:I,s:I,s:I,s:s}", "head", (json_int_t)x->head, "snapshotBlock",
                      x->snap ? json_incref(json_object_get(x->snap, "block")) : json_null(),
                      "snapshots", (json_int_t)x->snapshots, "polls", (json_int_t)x->polls,
                      "lastSnapshotMs", (json_int_t)x->last_ms, "error", x->error);
        pthread_mutex_unlock(&x->mu);
        reply_json(rp, 200, o);
    } else if (path_is(rq, "/api/state") && get) {
        pthread_mutex_lock(&x->mu);
        if (x->snap_text)
            dg_buf_append(&rp->body, x->snap_text, strlen(x->snap_text));
        else
            reply_error(rp, 503, x->error[0] ? x->error : "no snapshot yet");
        pthread_mutex_unlock(&x->mu);
    } else if (rq->head->path_len > sizeof APP_PREFIX - 1 &&
               memcmp(rq->head->path, APP_PREFIX, sizeof APP_PREFIX - 1) == 0 && get) {
        char id[64];
        size_t n = rq->head->path_len - (sizeof APP_PREFIX - 1);
        if (n >= sizeof id) {
            reply_error(rp, 404, "no such app");
            return;
        }
        memcpy(id, rq->head->path + sizeof APP_PREFIX - 1, n);
        id[n] = '\0';
        pthread_mutex_lock(&x->mu);
        json_t *a = x->snap ? find_app(x->snap, id) : NULL;
        if (a)
            reply_json(rp, 200, json_incref(a));
        else
            reply_error(rp, 404, "no app with this id is registered in this KMS");
        pthread_mutex_unlock(&x->mu);
    } else if (path_is(rq, "/api/check/app") || path_is(rq, "/api/check/kms")) {
        if (!method_is(rq, "POST")) {
            rp->allow = "POST";
            reply_error(rp, 405, "POST a BootInfo");
            return;
        }
        api_check(x, rq, rp, path_is(rq, "/api/check/kms") ? DG_ROUTE_KMS : DG_ROUTE_APP);
    } else {
        reply_error(rp, 404, "not found");
    }
}

static void open_browser(cli *c, const char *url) {
    pid_t pid;
    char *argv[] = {(char *)"xdg-open", (char *)url, NULL};
    extern char **environ;
    if (posix_spawnp(&pid, "xdg-open", NULL, NULL, argv, environ) != 0)
        cli_warn(c, "--open: could not run xdg-open; open %s yourself", url);
    else
        waitpid(pid, NULL, 0); /* xdg-open hands the URL over and exits */
}

/* A numeric flag in [lo, hi], def when absent. */
static int flag_long(cli *c, const char *name, long def, long lo, long hi, long *out, dg_err *err) {
    const char *v = flag_str(&c->f, name);
    char *end = NULL;
    *out = v ? strtol(v, &end, 10) : def;
    if (v && (*v == '\0' || *end || *out < lo || *out > hi))
        return dg_err_set(err, DG_ERR_INPUT, "--%s \"%s\": expected a number from %ld to %ld", name,
                          v, lo, hi);
    return 1;
}

static int cmd_explore(cli *c) {
    dg_err err = {DG_OK, ""};
    long port, poll_ms;
    if (!flag_long(c, "port", 8546, 0, 65535, &port, &err) ||
        !flag_long(c, "poll-ms", 1000, 50, 600000, &poll_ms, &err))
        return cli_fail(c, &err);
    explorer x;
    memset(&x, 0, sizeof x);
    int near = c->cmd == &explore_near_cmd;
    if (near ? !near_explore_setup(c, x.near_kms, &err) : !cli_connect(c, &err))
        return cli_fail(c, &err);
    x.c = c;
    x.poll_ms = poll_ms;
    pthread_mutex_init(&x.rpc_mu, NULL);
    pthread_mutex_init(&x.mu, NULL);
    pthread_cond_init(&x.cv, NULL);
    /* the first snapshot before listening: a wrong --kms fails here, with its error */
    poll_once(&x);
    if (!x.snap) {
        int code = cli_failf(c, x.error_code, "explore: %s", x.error);
        pthread_mutex_destroy(&x.rpc_mu);
        pthread_mutex_destroy(&x.mu);
        pthread_cond_destroy(&x.cv);
        return code;
    }
    uint64_t cid = (uint64_t)json_integer_value(json_object_get(x.snap, "chainId"));
    if (!near && !cli_check_chain(c, cid, &err)) {
        json_decref(x.snap);
        free(x.snap_text);
        return cli_fail(c, &err);
    }
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL); /* threads inherit it; this one waits below */
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    dg_httpd_opts o = {.addr = (struct sockaddr *)&sa,
                       .addr_len = sizeof sa,
                       .threads = 2,
                       .max_body = DG_BOOTINFO_BODY_MAX,
                       .idle_timeout_ms = 30000,
                       .max_connections = 64,
                       .handler = handle,
                       .ctx = &x};
    dg_httpd *srv = dg_httpd_start(&o, &err);
    int code = 0;
    if (!srv) {
        code = cli_fail(c, &err);
    } else {
        pthread_t th;
        pthread_create(&th, NULL, poller, &x);
        char url[64], ks[43];
        snprintf(url, sizeof url, "http://127.0.0.1:%d/", dg_httpd_port(srv));
        char ks_near[DG_NEAR_ACCOUNT_MAX + 1];
        if (near)
            snprintf(ks_near, sizeof ks_near, "%s", x.near_kms);
        else
            cli_fmt_addr(c->kms, ks);
        const char *kname = near ? ks_near : ks;
        if (c->json && near) {
            json_t *j = json_pack("{s:s,s:s,s:s}", "url", url, "kms", kname, "chain", "near");
            char *s = json_dumps(j, JSON_COMPACT);
            printf("%s\n", s ? s : "{}");
            free(s);
            json_decref(j);
        } else if (near) {
            printf("Explorer of NEAR KMS %s (%s)\n", kname, c->rpc_label);
            printf("Serving on %s  (read-only; Ctrl-C to stop)\n", url);
        } else if (c->json) {
            json_t *j = json_pack("{s:s,s:s,s:I}", "url", url, "kms", ks, "chainId",
                                  (json_int_t)c->chain_id);
            char *s = json_dumps(j, JSON_COMPACT);
            printf("%s\n", s ? s : "{}");
            free(s);
            json_decref(j);
        } else {
            printf("Explorer of KMS %s on chain %llu (%s)\n", ks, (unsigned long long)c->chain_id,
                   c->rpc_label);
            printf("Serving on %s  (read-only; Ctrl-C to stop)\n", url);
        }
        fflush(stdout);
        if (flag_bool(&c->f, "open")) open_browser(c, url);
        int sig = 0;
        sigwait(&sigs, &sig);
        pthread_mutex_lock(&x.mu);
        x.stop = 1;
        pthread_cond_broadcast(&x.cv);
        pthread_mutex_unlock(&x.mu);
        pthread_join(th, NULL);
        dg_httpd_stop(srv, 2000);
        if (!c->json) fprintf(stderr, "explore: stopped\n");
    }
    json_decref(x.snap);
    free(x.snap_text);
    pthread_mutex_destroy(&x.rpc_mu);
    pthread_mutex_destroy(&x.mu);
    pthread_cond_destroy(&x.cv);
    return code;
}

static const flag_spec explore_flags[] = {
    {"port", FLAG_STR, "N", "port on 127.0.0.1 (default 8546; 0 = any free port)"},
    {"open", FLAG_BOOL, NULL, "open the page in the default browser (xdg-open)"},
    {"poll-ms", FLAG_STR, "MS", "how often to ask the chain for a new block (default 1000)"},
    {"near", FLAG_BOOL, NULL, "read a NEAR KMS instead (see `dstack-gov explore --near --help`)"},
    {NULL, 0, NULL, NULL},
};

const cmd_spec explore_cmds[] = {
    {NULL, "explore", NULL, NULL, 0, 0, NEED_CHAIN | NEED_KMS, explore_flags,
     "serve a read-only page of the KMS's whole governance, read from the chain",
     "The page (http://127.0.0.1:PORT/) shows the KMS (owner: EOA, Safe with its\n"
     "threshold or timelock with its delay; implementation; gateway app id; OS images,\n"
     "KMS measurements and devices), every app (owner, compose hashes, devices, flags),\n"
     "the history of every policy change, and answers \"would this boot be allowed?\"\n"
     "exactly as `dstack-gov check` and dstack-authd decide. It follows the chain: each\n"
     "new block is read once (one snapshot) and the page updates without a reload.\n"
     "Read-only: no key is read, no transaction is sent. JSON API and guide:\n"
     "docs/explore.md. Runs until Ctrl-C.",
     cmd_explore, NULL},
    {NULL, NULL, NULL, NULL, 0, 0, 0, NULL, NULL, NULL, NULL, NULL},
};

static const flag_spec explore_near_flags[] = {
    {"near", FLAG_BOOL, NULL, "read a NEAR KMS contract (this help)"},
    {"port", FLAG_STR, "N", "port on 127.0.0.1 (default 8546; 0 = any free port)"},
    {"open", FLAG_BOOL, NULL, "open the page in the default browser (xdg-open)"},
    {"poll-ms", FLAG_STR, "MS", "how often to ask the chain for a new final block (default 1000)"},
    {NULL, 0, NULL, NULL},
};

const cmd_spec explore_near_cmd = {
    NULL,
    "explore",
    NULL,
    NULL,
    0,
    0,
    NEED_NEAR,
    explore_near_flags,
    "serve a read-only page of a NEAR KMS's whole governance, read from the chain",
    "The same page and JSON API as `dstack-gov explore`, for the KMS contract account\n"
    "(--kms or $KMS_CONTRACT_ID) on --network / $NEAR_NETWORK_ID at --rpc-url /\n"
    "$NEAR_RPC_URL: the KMS (owner, gateway app id, OS images, aggregated MRs, devices,\n"
    "compose hashes), every registered app `<hex>.<kms>` (owner, compose hashes,\n"
    "devices, flags), and the boot check exactly as `dstack-gov near check` decides.\n"
    "Every view is read at one block hash; each new final block is read once. NEAR's\n"
    "JSON-RPC cannot list past events, so the history stays empty. Read-only; runs until\n"
    "Ctrl-C. Guide: docs/explore.md.",
    cmd_explore,
    NULL};
