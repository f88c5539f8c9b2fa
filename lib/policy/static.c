/* static.c — the allowlist-file backend.
 *
 * The file has the keys of dstack's auth-simple (reference/ethereum.md §2.4)
 * with its defects removed: hex values must have their exact length and are
 * compared as bytes (so case and 0x never matter and two spellings of one app
 * id are a duplicate, not a shadow), an empty device list allows no device
 * unless allowAnyDevice is true, unknown keys are errors (a typo must not
 * silently widen or narrow the policy), and a file that fails to load never
 * replaces the last good one. The loaded policy is immutable; a reload builds
 * a new one and swaps the pointer under a write lock, so a decision sees
 * either the old or the new policy, never a mix.
 */
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dstackgov/hex.h"
#include "internal.h"

#define CHECK_EVERY_MS 200

typedef struct {
    uint8_t *v; /* n * width bytes, sorted */
    size_t n;
} set;

typedef struct {
    uint8_t id[20];
    set hashes, devices;
    int any_device;
} app_rule;

typedef struct {
    char gateway[DG_GATEWAY_MAX];
    char kms_contract[64], app_impl[64];
    uint64_t chain_id;
    set os_images, kms_mrs, kms_devices;
    int kms_any_device;
    char **tcb, **adv;
    size_t ntcb, nadv;
    app_rule *apps; /* sorted by id */
    size_t napps;
} allowlist;

typedef struct {
    struct dg_policy base;
    char *path;
    pthread_rwlock_t lock;
    allowlist *cur;
    pthread_mutex_t check_mu;
    long long last_check_ms;
    struct stat last_st;
    dg_policy_log_fn log;
    void *log_ctx;
    unsigned long long reloads, reload_errors;
} static_policy;

static void set_free(set *s) {
    free(s->v);
}

static void allowlist_free(allowlist *a) {
    if (!a) return;
    set_free(&a->os_images);
    set_free(&a->kms_mrs);
    set_free(&a->kms_devices);
    for (size_t i = 0; i < a->ntcb; i++)
        free(a->tcb[i]);
    for (size_t i = 0; i < a->nadv; i++)
        free(a->adv[i]);
    free(a->tcb);
    free(a->adv);
    for (size_t i = 0; i < a->napps; i++) {
        set_free(&a->apps[i].hashes);
        set_free(&a->apps[i].devices);
    }
    free(a->apps);
    free(a);
}

static int cmp32(const void *a, const void *b) {
    return memcmp(a, b, 32);
}
static int cmp20(const void *a, const void *b) {
    return memcmp(a, b, 20);
}

static int set_has(const set *s, const uint8_t v[32]) {
    return s->n && bsearch(v, s->v, s->n, 32, cmp32) != NULL;
}

/* Strict hex of exactly `width` bytes, optional 0x, any case. */
static int parse_hex(const char *s, uint8_t *out, size_t width, const char *where, dg_err *err) {
    dg_err e;
    if (!dg_hex_decode(s, strlen(s), out, width, &e))
        return dg_err_set(err, DG_ERR_CONFIG, "%s: %s", where, e.msg);
    return 1;
}

static int load_set(json_t *arr, const char *where, set *out, dg_err *err) {
    char w[160];
    if (!arr) return 1;
    if (!json_is_array(arr))
        return dg_err_set(err, DG_ERR_CONFIG, "%s: expected an array of hex strings", where);
    size_t n = json_array_size(arr);
    if (!n) return 1;
    if (!(out->v = malloc(n * 32))) return dg_err_set(err, DG_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        json_t *it = json_array_get(arr, i);
        snprintf(w, sizeof w, "%s[%zu]", where, i);
        if (!json_is_string(it))
            return dg_err_set(err, DG_ERR_CONFIG, "%s: expected a hex string", w);
        if (!parse_hex(json_string_value(it), out->v + 32 * i, 32, w, err)) return 0;
    }
    qsort(out->v, n, 32, cmp32);
    out->n = n;
    return 1;
}

static int load_strings(json_t *arr, const char *where, char ***out, size_t *nout, dg_err *err) {
    if (!json_is_array(arr))
        return dg_err_set(err, DG_ERR_CONFIG, "%s: expected an array of strings", where);
    size_t n = json_array_size(arr);
    *out = calloc(n ? n : 1, sizeof **out);
    if (!*out) return dg_err_set(err, DG_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        json_t *it = json_array_get(arr, i);
        if (!json_is_string(it))
            return dg_err_set(err, DG_ERR_CONFIG, "%s[%zu]: expected a string", where, i);
        if (!((*out)[i] = strdup(json_string_value(it))))
            return dg_err_set(err, DG_ERR_NOMEM, "out of memory");
        *nout = i + 1;
    }
    return 1;
}

static int get_bool(json_t *o, const char *key, const char *where, int *out, dg_err *err) {
    json_t *v = json_object_get(o, key);
    *out = 0;
    if (!v) return 1;
    if (!json_is_boolean(v))
        return dg_err_set(err, DG_ERR_CONFIG, "%s.%s: expected true or false", where, key);
    *out = json_is_true(v);
    return 1;
}

static const char *first_unknown(json_t *o, const char *const *keys) {
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v) {
        int ok = 0;
        (void)v;
        for (size_t i = 0; keys[i]; i++)
            if (strcmp(k, keys[i]) == 0) ok = 1;
        if (!ok) return k;
    }
    return NULL;
}

static const char *const TOP_KEYS[] = {"gatewayAppId",
                                       "kmsContractAddr",
                                       "appImplementation",
                                       "chainId",
                                       "osImages",
                                       "allowedTcbStatuses",
                                       "allowedAdvisoryIds",
                                       "kms",
                                       "apps",
                                       NULL};
static const char *const KMS_KEYS[] = {"mrAggregated", "devices", "allowAnyDevice", NULL};
static const char *const APP_KEYS[] = {"composeHashes", "devices", "allowAnyDevice", NULL};

static int load_addr_string(json_t *root, const char *key, char *out, size_t cap, dg_err *err) {
    json_t *v = json_object_get(root, key);
    uint8_t a[20];
    snprintf(out, cap, "0x0000000000000000000000000000000000000000");
    if (!v) return 1;
    if (!json_is_string(v))
        return dg_err_set(err, DG_ERR_CONFIG, "%s: expected an address string", key);
    if (!parse_hex(json_string_value(v), a, 20, key, err)) return 0;
    dg_address_checksum(a, out);
    return 1;
}

static allowlist *parse_allowlist(const char *text, size_t len, dg_err *err) {
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        dg_err_set(err, DG_ERR_CONFIG, "line %d, column %d: %s", je.line, je.column, je.text);
        return NULL;
    }
    allowlist *a = calloc(1, sizeof *a);
    const char *unk;
    json_t *v;
    if (!a) {
        dg_err_set(err, DG_ERR_NOMEM, "out of memory");
        goto fail;
    }
    if (!json_is_object(root)) {
        dg_err_set(err, DG_ERR_CONFIG, "expected a JSON object");
        goto fail;
    }
    if ((unk = first_unknown(root, TOP_KEYS))) {
        dg_err_set(err, DG_ERR_CONFIG, "unknown key \"%s\"", unk);
        goto fail;
    }
    v = json_object_get(root, "gatewayAppId");
    if (v) {
        if (!json_is_string(v) || json_string_length(v) >= DG_GATEWAY_MAX ||
            strlen(json_string_value(v)) != json_string_length(v)) {
            dg_err_set(err, DG_ERR_CONFIG, "gatewayAppId: expected a string shorter than %d bytes",
                       DG_GATEWAY_MAX);
            goto fail;
        }
        snprintf(a->gateway, sizeof a->gateway, "%s", json_string_value(v));
    }
    if (!load_addr_string(root, "kmsContractAddr", a->kms_contract, sizeof a->kms_contract, err) ||
        !load_addr_string(root, "appImplementation", a->app_impl, sizeof a->app_impl, err))
        goto fail;
    v = json_object_get(root, "chainId");
    if (v) {
        if (!json_is_integer(v) || json_integer_value(v) < 0) {
            dg_err_set(err, DG_ERR_CONFIG, "chainId: expected a non-negative integer");
            goto fail;
        }
        a->chain_id = (uint64_t)json_integer_value(v);
    }
    if (!load_set(json_object_get(root, "osImages"), "osImages", &a->os_images, err)) goto fail;
    v = json_object_get(root, "allowedTcbStatuses");
    if (v) {
        if (!load_strings(v, "allowedTcbStatuses", &a->tcb, &a->ntcb, err)) goto fail;
    } else {
        a->tcb = calloc(1, sizeof *a->tcb);
        if (!a->tcb || !(a->tcb[0] = strdup("UpToDate"))) {
            dg_err_set(err, DG_ERR_NOMEM, "out of memory");
            goto fail;
        }
        a->ntcb = 1;
    }
    v = json_object_get(root, "allowedAdvisoryIds");
    if (v && !load_strings(v, "allowedAdvisoryIds", &a->adv, &a->nadv, err)) goto fail;
    v = json_object_get(root, "kms");
    if (v) {
        if (!json_is_object(v)) {
            dg_err_set(err, DG_ERR_CONFIG, "kms: expected an object");
            goto fail;
        }
        if ((unk = first_unknown(v, KMS_KEYS))) {
            dg_err_set(err, DG_ERR_CONFIG, "kms: unknown key \"%s\"", unk);
            goto fail;
        }
        if (!load_set(json_object_get(v, "mrAggregated"), "kms.mrAggregated", &a->kms_mrs, err) ||
            !load_set(json_object_get(v, "devices"), "kms.devices", &a->kms_devices, err) ||
            !get_bool(v, "allowAnyDevice", "kms", &a->kms_any_device, err))
            goto fail;
    }
    v = json_object_get(root, "apps");
    if (v) {
        const char *k;
        json_t *rule;
        if (!json_is_object(v)) {
            dg_err_set(err, DG_ERR_CONFIG, "apps: expected an object keyed by app id");
            goto fail;
        }
        size_t n = json_object_size(v);
        a->apps = calloc(n ? n : 1, sizeof *a->apps);
        if (!a->apps) {
            dg_err_set(err, DG_ERR_NOMEM, "out of memory");
            goto fail;
        }
        json_object_foreach(v, k, rule) {
            char w[160];
            app_rule *r = &a->apps[a->napps];
            snprintf(w, sizeof w, "apps[\"%.60s\"]", k);
            if (!parse_hex(k, r->id, 20, w, err)) goto fail;
            a->napps++;
            if (!json_is_object(rule)) {
                dg_err_set(err, DG_ERR_CONFIG, "%s: expected an object", w);
                goto fail;
            }
            if ((unk = first_unknown(rule, APP_KEYS))) {
                dg_err_set(err, DG_ERR_CONFIG, "%s: unknown key \"%s\"", w, unk);
                goto fail;
            }
            char w2[200];
            snprintf(w2, sizeof w2, "%s.composeHashes", w);
            if (!load_set(json_object_get(rule, "composeHashes"), w2, &r->hashes, err)) goto fail;
            snprintf(w2, sizeof w2, "%s.devices", w);
            if (!load_set(json_object_get(rule, "devices"), w2, &r->devices, err) ||
                !get_bool(rule, "allowAnyDevice", w, &r->any_device, err))
                goto fail;
        }
        qsort(a->apps, a->napps, sizeof *a->apps, cmp20);
        for (size_t i = 1; i < a->napps; i++)
            if (memcmp(a->apps[i - 1].id, a->apps[i].id, 20) == 0) {
                char id[43];
                dg_address_checksum(a->apps[i].id, id);
                dg_err_set(err, DG_ERR_CONFIG,
                           "apps: app id %s listed twice (ids are compared as bytes)", id);
                goto fail;
            }
    }
    json_decref(root);
    return a;
fail:
    json_decref(root);
    allowlist_free(a);
    return NULL;
}

int dg_policy_static_check(const char *json, size_t len, dg_err *err) {
    allowlist *a = parse_allowlist(json, len, err);
    if (!a) return 0;
    allowlist_free(a);
    return 1;
}

static allowlist *load_file(const char *path, struct stat *st, dg_err *err) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        dg_err_set(err, DG_ERR_CONFIG, "%s: cannot open", path);
        return NULL;
    }
    if (fstat(fileno(f), st) != 0 || st->st_size > (8 << 20)) {
        fclose(f);
        dg_err_set(err, DG_ERR_CONFIG, "%s: unreadable or larger than 8 MiB", path);
        return NULL;
    }
    dg_buf b;
    char chunk[8192];
    size_t n;
    dg_buf_init(&b);
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        dg_buf_append(&b, chunk, n);
    fclose(f);
    allowlist *a = b.oom ? NULL : parse_allowlist(b.len ? (const char *)b.data : "", b.len, err);
    if (b.oom) dg_err_set(err, DG_ERR_NOMEM, "out of memory");
    dg_buf_free(&b);
    if (!a) dg_err_wrap(err, "%s", path);
    return a;
}

static int has_string(char **v, size_t n, const char *s, size_t len) {
    for (size_t i = 0; i < n; i++)
        if (strlen(v[i]) == len && memcmp(v[i], s, len) == 0) return 1;
    return 0;
}

static void eval(const allowlist *a, dg_route route, const dg_bootinfo *bi, dg_decision *out) {
    snprintf(out->gateway_app_id, sizeof out->gateway_app_id, "%s", a->gateway);
    if (!has_string(a->tcb, a->ntcb, bi->tcb_status, bi->tcb_len)) {
        dg_decision_deny(out, 0, "TCB status is not allowed");
        return;
    }
    for (size_t i = 0; i < bi->n_advisory; i++) {
        size_t n;
        const char *s = dg_bootinfo_advisory(bi, i, &n);
        if (!has_string(a->adv, a->nadv, s, n)) {
            dg_decision_deny(out, 0, "advisory ID is not allowed");
            return;
        }
    }
    if (!set_has(&a->os_images, bi->os_image_hash)) {
        dg_decision_deny(out, 0, "OS image is not allowed");
        return;
    }
    if (route == DG_ROUTE_KMS) {
        if (!set_has(&a->kms_mrs, bi->mr_aggregated)) {
            dg_decision_deny(out, 0, "aggregated MR not allowed");
            return;
        }
        if (!a->kms_any_device && !set_has(&a->kms_devices, bi->device_id)) {
            dg_decision_deny(out, 0, "KMS is not allowed to boot on this device");
            return;
        }
    } else {
        const app_rule *r =
            a->napps ? bsearch(bi->app_id, a->apps, a->napps, sizeof *a->apps, cmp20) : NULL;
        if (!r) {
            dg_decision_deny(out, 0, "app not registered");
            return;
        }
        if (!set_has(&r->hashes, bi->compose_hash)) {
            dg_decision_deny(out, 0, "compose hash not allowed");
            return;
        }
        if (!r->any_device && !set_has(&r->devices, bi->device_id)) {
            dg_decision_deny(out, 0, "app is not allowed to boot on this device");
            return;
        }
    }
    out->allowed = 1;
    out->reason[0] = 0;
}

static void logf_(static_policy *s, const char *msg) {
    if (s->log) s->log(s->log_ctx, msg);
}

static int do_reload(static_policy *s, dg_err *err) {
    struct stat st;
    dg_err e;
    allowlist *a = load_file(s->path, &st, &e);
    if (!a) {
        char m[700];
        __atomic_add_fetch(&s->reload_errors, 1, __ATOMIC_RELAXED);
        snprintf(m, sizeof m, "static policy not reloaded, keeping the last good one: %s", e.msg);
        logf_(s, m);
        if (err) *err = e;
        return 0;
    }
    pthread_rwlock_wrlock(&s->lock);
    allowlist *old = s->cur;
    s->cur = a;
    s->last_st = st;
    pthread_rwlock_unlock(&s->lock);
    allowlist_free(old);
    __atomic_add_fetch(&s->reloads, 1, __ATOMIC_RELAXED);
    char m[600];
    snprintf(m, sizeof m, "static policy loaded from %s", s->path);
    logf_(s, m);
    return 1;
}

/* At most every CHECK_EVERY_MS, reload if the file's identity or mtime changed. */
static void maybe_reload(static_policy *s) {
    long long now = dg_policy_now_ms();
    if (now - __atomic_load_n(&s->last_check_ms, __ATOMIC_RELAXED) < CHECK_EVERY_MS) return;
    if (pthread_mutex_trylock(&s->check_mu) != 0) return;
    __atomic_store_n(&s->last_check_ms, now, __ATOMIC_RELAXED);
    struct stat st;
    if (stat(s->path, &st) == 0 &&
        (st.st_mtim.tv_sec != s->last_st.st_mtim.tv_sec ||
         st.st_mtim.tv_nsec != s->last_st.st_mtim.tv_nsec || st.st_ino != s->last_st.st_ino ||
         st.st_size != s->last_st.st_size)) {
        if (!do_reload(s, NULL))
            s->last_st = st; /* do not retry a broken file until it changes again */
    }
    pthread_mutex_unlock(&s->check_mu);
}

static void st_decide(dg_policy *p, dg_route route, const dg_bootinfo *bi, dg_decision *out) {
    static_policy *s = (static_policy *)p;
    maybe_reload(s);
    pthread_rwlock_rdlock(&s->lock);
    eval(s->cur, route, bi, out);
    pthread_rwlock_unlock(&s->lock);
}

static int st_info(dg_policy *p, dg_policy_info *out, dg_err *err) {
    static_policy *s = (static_policy *)p;
    (void)err;
    maybe_reload(s);
    pthread_rwlock_rdlock(&s->lock);
    snprintf(out->gateway_app_id, sizeof out->gateway_app_id, "%s", s->cur->gateway);
    snprintf(out->kms_contract, sizeof out->kms_contract, "%s", s->cur->kms_contract);
    snprintf(out->app_implementation, sizeof out->app_implementation, "%s", s->cur->app_impl);
    out->chain_id = s->cur->chain_id;
    pthread_rwlock_unlock(&s->lock);
    return 1;
}

static int st_reload(dg_policy *p, dg_err *err) {
    static_policy *s = (static_policy *)p;
    pthread_mutex_lock(&s->check_mu);
    int ok = do_reload(s, err);
    if (!ok) stat(s->path, &s->last_st);
    pthread_mutex_unlock(&s->check_mu);
    return ok;
}

static void st_stats(dg_policy *p, dg_policy_stats *out) {
    static_policy *s = (static_policy *)p;
    out->reloads = __atomic_load_n(&s->reloads, __ATOMIC_RELAXED);
    out->reload_errors = __atomic_load_n(&s->reload_errors, __ATOMIC_RELAXED);
}

static void st_destroy(dg_policy *p) {
    static_policy *s = (static_policy *)p;
    allowlist_free(s->cur);
    pthread_rwlock_destroy(&s->lock);
    pthread_mutex_destroy(&s->check_mu);
    free(s->path);
    free(s);
}

static const struct dg_policy_ops STATIC_OPS = {
    .kind = "static",
    .decide = st_decide,
    .info = st_info,
    .reload = st_reload,
    .stats = st_stats,
    .destroy = st_destroy,
};

dg_policy *dg_policy_static_new(const char *path, dg_policy_log_fn log, void *log_ctx,
                                dg_err *err) {
    static_policy *s = calloc(1, sizeof *s);
    if (!s || !(s->path = strdup(path))) {
        free(s);
        dg_err_set(err, DG_ERR_NOMEM, "out of memory");
        return NULL;
    }
    s->base.ops = &STATIC_OPS;
    s->log = log;
    s->log_ctx = log_ctx;
    pthread_rwlock_init(&s->lock, NULL);
    pthread_mutex_init(&s->check_mu, NULL);
    s->cur = load_file(path, &s->last_st, err);
    if (!s->cur) {
        st_destroy(&s->base);
        return NULL;
    }
    s->last_check_ms = dg_policy_now_ms();
    return &s->base;
}
