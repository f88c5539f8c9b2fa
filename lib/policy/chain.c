/* chain.c — the machinery both chain backends stand on (see chain.h).
 *
 * The one idea: a background thread tracks a *snapshot block*, and a
 * decision reads everything it needs at that block, so the answer and the
 * gateway id always come from one state of the chain. Decisions are cached
 * by (block hash, route, canonical BootInfo): a new block is a new key, so a
 * revocation is seen as soon as its block becomes the snapshot. Concurrent
 * misses on one key wait for the first one's reads (single flight); errors
 * are never cached. Every failure is a deny:
 *
 *   the endpoint is on another network   the backend's net_reason
 *   endpoints disagree (quorum)           "RPC endpoints disagree"
 *   anything else (down, slow, garbage)   "authorization backend unavailable"
 *
 * with the precise cause in dg_decision.detail, which goes to the decision
 * log only (it may name an endpoint; the KMS gets the fixed reason). The
 * backends (eth.c, near.c) hold only their chain's reads.
 */
#include "chain.h"
#include "dstackgov/utf8.h"

#include <jansson.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REASON_DISAGREE "RPC endpoints disagree"

struct dg_chain_slot {
    uint64_t h;
    uint8_t *key;
    size_t klen;
    int allowed;
    char *reason, *gateway;
    int ep;
};

struct dg_chain_flight {
    struct dg_chain_flight *next;
    uint64_t h;
    const uint8_t *key; /* the leader's key, valid until done */
    size_t klen;
    int done, refs;
    dg_decision result;
};

/* One lane of a dg_chain_parallel run: a client that takes tasks until none
 * is left. */
struct dg_chain_run {
    void (*fn)(void *arg, size_t i, dg_rpc *rpc);
    void *arg;
    size_t n, next, lanes_out;
    long long deadline;
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

struct dg_chain_lane {
    struct dg_chain_lane *next;
    struct dg_chain_run *run;
    int slot;
};

/* ---------------------------------------------------------------- helpers */

void dg_chain_log(dg_chain *c, const char *fmt, ...) {
    char m[600];
    va_list ap;
    if (!c->o.log) return;
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    c->o.log(c->o.log_ctx, m);
}

const char *dg_chain_label(const dg_chain *c, size_t i) {
    return i < c->nurls ? c->labels[i] : "";
}

static uint64_t fnv1a(const uint8_t *p, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

/* The CLOCK_REALTIME time ms milliseconds from now (pthread_cond_timedwait). */
static void realtime_in(long long ms, struct timespec *ts) {
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (ms % 1000) * 1000000;
    if (ts->tv_nsec >= 1000000000) ts->tv_sec++, ts->tv_nsec -= 1000000000;
}

void dg_chain_deny(dg_chain *c, dg_decision *d, const dg_err *err) {
    const char *m = err->code == DG_ERR_DISAGREE   ? REASON_DISAGREE
                    : err->code == DG_ERR_CHAIN_ID ? c->be->net_reason
                                                   : DG_REASON_UNAVAILABLE;
    dg_decision_deny(d, 1, m);
    dg_utf8_clean(d->detail, sizeof d->detail, err->msg, strlen(err->msg));
}

/* ---------------------------------------------------------------- RPC pool */

static dg_rpc *pool_take(dg_chain *c, long long deadline, int wait, int *slot) {
    dg_rpc *r = NULL;
    pthread_mutex_lock(&c->pool_mu);
    while (!c->nfree && wait) {
        long long now = dg_policy_now_ms();
        if (now >= deadline) break;
        struct timespec ts;
        realtime_in(deadline - now, &ts);
        pthread_cond_timedwait(&c->pool_cv, &c->pool_mu, &ts);
    }
    if (c->nfree) {
        *slot = c->pool_free[--c->nfree];
        r = c->pool[*slot];
    }
    pthread_mutex_unlock(&c->pool_mu);
    return r;
}

dg_rpc *dg_chain_rpc_get(dg_chain *c, long long deadline, int *slot) {
    return pool_take(c, deadline, 1, slot);
}

static void stats_copy_locked(dg_chain *c, size_t k, const dg_rpc *rpc) {
    for (size_t i = 0; i < c->nurls; i++)
        dg_rpc_stats(rpc, i, &c->st_calls[k * c->nurls + i], &c->st_errors[k * c->nurls + i]);
}

void dg_chain_stats_copy(dg_chain *c, size_t k, const dg_rpc *rpc) {
    pthread_mutex_lock(&c->pool_mu);
    stats_copy_locked(c, k, rpc);
    pthread_mutex_unlock(&c->pool_mu);
}

void dg_chain_rpc_put(dg_chain *c, int slot) {
    pthread_mutex_lock(&c->pool_mu);
    stats_copy_locked(c, (size_t)slot, c->pool[slot]);
    c->pool_used[slot] = dg_policy_now_ms();
    c->pool_free[c->nfree++] = slot;
    pthread_cond_signal(&c->pool_cv);
    pthread_mutex_unlock(&c->pool_mu);
}

/* A cache miss must not pay a TCP and TLS handshake (two or three round
 * trips to a remote provider, the TLS ones the costly part): the pool's
 * connections are opened at start and kept open. A free client idle for
 * KEEP_WARM_MS (every client at start) asks the backend's warm_method
 * (eth_chainId, NEAR's status), which providers answer from memory; at most
 * `max` clients per call, never waiting for a busy one, so a decision never
 * waits for this. Only with an https:// endpoint, where the handshake is
 * what a miss would pay. */
#define KEEP_WARM_MS 15000
static void keep_warm(dg_chain *c, size_t max) {
    for (size_t done = 0; done < max; done++) {
        long long now = dg_policy_now_ms();
        int slot = -1;
        pthread_mutex_lock(&c->pool_mu);
        for (size_t k = 0; k < c->nfree && slot < 0; k++)
            if (now - c->pool_used[c->pool_free[k]] >= KEEP_WARM_MS) {
                slot = c->pool_free[k];
                memmove(&c->pool_free[k], &c->pool_free[k + 1],
                        (c->nfree - k - 1) * sizeof *c->pool_free);
                c->nfree--;
            }
        pthread_mutex_unlock(&c->pool_mu);
        if (slot < 0) return;
        dg_rpc *rpc = c->pool[slot];
        json_t *res = NULL;
        dg_err err = {0};
        dg_rpc_set_deadline(rpc, now + c->o.rpc_timeout_ms);
        if (dg_rpc_call(rpc, c->o.warm_method, NULL, &res, &err)) json_decref(res);
        dg_chain_rpc_put(c, slot);
    }
}

/* ---------------------------------------------------------------- parallel reads */

/* Take tasks of run until none is left. */
static void lane_work(dg_chain *c, struct dg_chain_run *r, int slot) {
    dg_rpc *rpc = c->pool[slot];
    for (;;) {
        pthread_mutex_lock(&r->mu);
        size_t i = r->next < r->n ? r->next++ : r->n;
        pthread_mutex_unlock(&r->mu);
        if (i == r->n) break;
        dg_rpc_set_deadline(rpc, r->deadline);
        r->fn(r->arg, i, rpc);
    }
}

static void *helper_main(void *arg) {
    dg_chain *c = arg;
    pthread_mutex_lock(&c->par_mu);
    for (;;) {
        while (!c->lanes && !c->par_stop)
            pthread_cond_wait(&c->par_cv, &c->par_mu);
        if (!c->lanes) break;               /* stopping, nothing queued */
        struct dg_chain_lane *l = c->lanes; /* reserved for this helper: idle counts it */
        c->lanes = l->next;
        pthread_mutex_unlock(&c->par_mu);
        struct dg_chain_run *r = l->run;
        lane_work(c, r, l->slot);
        dg_chain_rpc_put(c, l->slot);
        free(l);
        pthread_mutex_lock(&r->mu);
        r->lanes_out--;
        pthread_cond_signal(&r->cv);
        pthread_mutex_unlock(&r->mu);
        pthread_mutex_lock(&c->par_mu);
        c->idle++;
    }
    pthread_mutex_unlock(&c->par_mu);
    return NULL;
}

int dg_chain_parallel(dg_chain *c, size_t n, void (*fn)(void *arg, size_t i, dg_rpc *rpc),
                      void *arg, long long deadline) {
    struct dg_chain_run r = {.fn = fn, .arg = arg, .n = n, .deadline = deadline};
    int slot0;
    if (!n) return 1;
    if (!dg_chain_rpc_get(c, deadline, &slot0)) return 0;
    pthread_mutex_init(&r.mu, NULL);
    pthread_cond_init(&r.cv, NULL);
    /* Hand a lane to each idle helper that can have a client of its own. A
     * helper is reserved (idle--) under the same lock that queues its lane,
     * so every queued lane has a free helper and is picked up at once. */
    for (size_t k = 1; k < n && k < c->o.parallel; k++) {
        pthread_mutex_lock(&c->par_mu);
        int reserved = c->idle > 0 && !c->par_stop;
        if (reserved) c->idle--;
        pthread_mutex_unlock(&c->par_mu);
        if (!reserved) break;
        int slot = -1;
        struct dg_chain_lane *l = pool_take(c, deadline, 0, &slot) ? calloc(1, sizeof *l) : NULL;
        if (!l) {
            if (slot >= 0) dg_chain_rpc_put(c, slot);
            pthread_mutex_lock(&c->par_mu);
            c->idle++;
            pthread_mutex_unlock(&c->par_mu);
            break;
        }
        l->run = &r;
        l->slot = slot;
        pthread_mutex_lock(&r.mu);
        r.lanes_out++;
        pthread_mutex_unlock(&r.mu);
        pthread_mutex_lock(&c->par_mu);
        l->next = c->lanes;
        c->lanes = l;
        pthread_cond_signal(&c->par_cv);
        pthread_mutex_unlock(&c->par_mu);
    }
    lane_work(c, &r, slot0);
    dg_chain_rpc_put(c, slot0);
    /* Every task is taken. Lanes no helper has picked up yet are withdrawn
     * (on a busy machine a helper may not have been scheduled: waiting for it
     * would only cost its wake-up); the others may still be inside a task,
     * each bounded by the deadline. */
    pthread_mutex_lock(&c->par_mu);
    for (struct dg_chain_lane **pp = &c->lanes; *pp;) {
        struct dg_chain_lane *l = *pp;
        if (l->run != &r) {
            pp = &l->next;
            continue;
        }
        *pp = l->next;
        c->idle++;
        dg_chain_rpc_put(c, l->slot);
        free(l);
        pthread_mutex_lock(&r.mu);
        r.lanes_out--;
        pthread_mutex_unlock(&r.mu);
    }
    pthread_mutex_unlock(&c->par_mu);
    pthread_mutex_lock(&r.mu);
    while (r.lanes_out)
        pthread_cond_wait(&r.cv, &r.mu);
    pthread_mutex_unlock(&r.mu);
    pthread_mutex_destroy(&r.mu);
    pthread_cond_destroy(&r.cv);
    return 1;
}

static void start_helpers(dg_chain *c) {
    for (size_t i = 0; i + 1 < c->o.parallel; i++) {
        if (pthread_create(&c->helpers[i], NULL, helper_main, c) != 0) break;
        c->nhelpers++; /* read by dg_chain_free after it joined this thread */
        pthread_mutex_lock(&c->par_mu);
        c->idle++;
        pthread_mutex_unlock(&c->par_mu);
    }
}

/* ---------------------------------------------------------------- snapshot */

static void *poller_main(void *arg) {
    dg_chain *c = arg;
    int was_ok = 1;
    dg_err ierr = {0};
    dg_snap s;
    memset(&s, 0, sizeof s);
    int slot = -1;
    dg_rpc *rpc0 = c->o.quorum ? c->poll_rpc
                               : dg_chain_rpc_get(c, dg_policy_now_ms() + c->o.deadline_ms, &slot);
    if (rpc0) dg_rpc_set_deadline(rpc0, dg_policy_now_ms() + c->o.deadline_ms);
    int started = rpc0 && c->be->start(c, rpc0, &s, &ierr);
    if (!rpc0) dg_err_set(&ierr, DG_ERR_RPC_TIMEOUT, "no RPC client free for the start");
    if (slot >= 0) dg_chain_rpc_put(c, slot);
    dg_chain_stats_copy(c, c->npool, c->poll_rpc);
    pthread_mutex_lock(&c->snap_mu);
    if (started) {
        c->snap = s;
        c->snap_updates = 1;
    }
    c->init_state = started ? 1 : -1;
    c->init_err = ierr;
    pthread_cond_broadcast(&c->ready_cv);
    pthread_mutex_unlock(&c->snap_mu);
    if (!started) return NULL;
    if (c->keep_warm) keep_warm(c, c->npool);
    for (;;) {
        pthread_mutex_lock(&c->stop_mu);
        if (!c->stop) {
            struct timespec ts;
            realtime_in(c->o.refresh_ms, &ts);
            pthread_cond_timedwait(&c->stop_cv, &c->stop_mu, &ts);
        }
        int stop = c->stop;
        pthread_mutex_unlock(&c->stop_mu);
        if (stop) break;
        /* The helpers of parallel reads start one refresh after the start:
         * creating threads while the first requests are decided slows them,
         * and until they run a miss reads its views on its own thread
         * (dg_chain_parallel never waits for a helper). */
        if (!c->nhelpers) start_helpers(c);
        dg_err err = {0};
        memset(&s, 0, sizeof s);
        dg_rpc_set_deadline(c->poll_rpc, dg_policy_now_ms() + c->o.deadline_ms);
        int ok = c->be->poll(c, &s, &err);
        if (ok) {
            s.valid = 1;
            s.at_ms = dg_policy_now_ms();
        } else if (!s.err[0])
            dg_utf8_clean(s.err, sizeof s.err, err.msg, strlen(err.msg));
        dg_chain_stats_copy(c, c->npool, c->poll_rpc);
        pthread_mutex_lock(&c->snap_mu);
        int changed = ok && (!c->snap.valid || memcmp(c->snap.hash, s.hash, 32) != 0);
        c->snap = s;
        if (ok)
            c->snap_updates += changed;
        else
            c->snap_errors++;
        pthread_mutex_unlock(&c->snap_mu);
        if (!ok && was_ok)
            dg_chain_log(c, "snapshot unavailable, denying until it recovers: %s", err.msg);
        if (ok && !was_ok)
            dg_chain_log(c, "snapshot recovered at block %llu", (unsigned long long)s.number);
        was_ok = ok;
        if (c->keep_warm) keep_warm(c, 1);
    }
    return NULL;
}

/* Wait for the start until deadline_ms (absolute; < 0: no limit). */
static int wait_started(dg_chain *c, long long deadline_ms, dg_err *err) {
    pthread_mutex_lock(&c->snap_mu);
    while (c->init_state == 0) {
        if (deadline_ms < 0) {
            pthread_cond_wait(&c->ready_cv, &c->snap_mu);
            continue;
        }
        long long now = dg_policy_now_ms();
        if (now >= deadline_ms) break;
        struct timespec ts;
        realtime_in(deadline_ms - now, &ts);
        pthread_cond_timedwait(&c->ready_cv, &c->snap_mu, &ts);
    }
    int st = c->init_state;
    if (st < 0) *err = c->init_err;
    pthread_mutex_unlock(&c->snap_mu);
    if (st == 0)
        return dg_err_set(err, DG_ERR_RPC_TIMEOUT,
                          "backend still starting (first snapshot block not taken)");
    return st > 0;
}

int dg_chain_wait_ready(dg_policy *p, dg_err *err) {
    return wait_started((dg_chain *)p, -1, err);
}

/* ---------------------------------------------------------------- cache */

static void slot_clear(struct dg_chain_slot *s) {
    free(s->key);
    free(s->reason);
    free(s->gateway);
    memset(s, 0, sizeof *s);
}

static int cache_lookup(dg_chain *c, uint64_t h, const uint8_t *key, size_t klen, dg_decision *d) {
    struct dg_chain_slot *s = &c->slots[h % c->nslots];
    if (!s->key || s->h != h || s->klen != klen || memcmp(s->key, key, klen) != 0) return 0;
    d->allowed = s->allowed;
    /* both were copied from a dg_decision, so they fit */
    memcpy(d->reason, s->reason, strlen(s->reason) + 1);
    memcpy(d->gateway_app_id, s->gateway, strlen(s->gateway) + 1);
    if (s->ep >= 0 && (size_t)s->ep < c->nurls)
        snprintf(d->endpoint, sizeof d->endpoint, "%s", c->labels[s->ep]);
    d->cached = 1;
    return 1;
}

static void cache_store(dg_chain *c, uint64_t h, const uint8_t *key, size_t klen,
                        const dg_decision *d, int ep) {
    struct dg_chain_slot *s = &c->slots[h % c->nslots];
    struct dg_chain_slot n = {
        h, malloc(klen), klen, d->allowed, strdup(d->reason), strdup(d->gateway_app_id), ep};
    if (!n.key || !n.reason || !n.gateway) {
        slot_clear(&n);
        return;
    }
    memcpy(n.key, key, klen);
    slot_clear(s);
    *s = n;
}

int dg_chain_gateway_cached(dg_chain *c, const uint8_t hash[32], char *out, size_t cap) {
    int ok = 0;
    pthread_mutex_lock(&c->gw_mu);
    if (c->gw_valid && memcmp(c->gw_hash, hash, 32) == 0) {
        snprintf(out, cap, "%s", c->gw_value);
        ok = 1;
    }
    pthread_mutex_unlock(&c->gw_mu);
    return ok;
}

void dg_chain_gateway_store(dg_chain *c, const uint8_t hash[32], const char *v) {
    pthread_mutex_lock(&c->gw_mu);
    memcpy(c->gw_hash, hash, 32);
    snprintf(c->gw_value, sizeof c->gw_value, "%s", v);
    c->gw_valid = 1;
    pthread_mutex_unlock(&c->gw_mu);
}

/* ---------------------------------------------------------------- decide */

/* Decide, with the deadline counted from start. may_block 0: return 0
 * (d untouched but for block fields) where the decision would wait — the
 * start not finished, a miss, or the same miss in flight; 1 when decided. */
int dg_chain_try_decide(dg_policy *p, dg_route route, const dg_bootinfo *bi, dg_decision *d,
                        long long start, int may_block) {
    dg_chain *c = (dg_chain *)p;
    dg_snap s;
    dg_err ierr = {0};
    if (!may_block) {
        pthread_mutex_lock(&c->snap_mu);
        int st = c->init_state;
        pthread_mutex_unlock(&c->snap_mu);
        if (st == 0) return 0;
    }
    if (!wait_started(c, start + c->o.deadline_ms, &ierr)) {
        dg_chain_deny(c, d, &ierr);
        return 1;
    }
    pthread_mutex_lock(&c->snap_mu);
    s = c->snap;
    pthread_mutex_unlock(&c->snap_mu);
    if (!s.valid || start - s.at_ms > c->o.max_snapshot_age_ms) {
        dg_err err = {s.net_bad ? DG_ERR_CHAIN_ID : DG_ERR_RPC_UNREACHABLE, ""};
        if (s.valid)
            snprintf(err.msg, sizeof err.msg, "snapshot not refreshed for %lld ms",
                     start - s.at_ms);
        else
            snprintf(err.msg, sizeof err.msg, "no snapshot block: %s", s.err);
        dg_chain_deny(c, d, &err);
        return 1;
    }
    d->has_block = 1;
    d->block_number = s.number;
    memcpy(d->block_hash, s.hash, 32);

    dg_buf key;
    dg_buf_init(&key);
    dg_buf_reserve(&key, 256 + bi->tcb_len + bi->adv.len + 2 * bi->n_advisory);
    dg_buf_push(&key, (uint8_t)route);
    dg_buf_append(&key, s.hash, 32);
    if (!dg_bootinfo_canonical(bi, &key)) {
        dg_buf_free(&key);
        dg_err err = {DG_ERR_NOMEM, "out of memory"};
        dg_chain_deny(c, d, &err);
        return 1;
    }
    uint64_t h = fnv1a(key.data, key.len);

    pthread_mutex_lock(&c->cache_mu);
    if (cache_lookup(c, h, key.data, key.len, d)) {
        c->hits++;
        pthread_mutex_unlock(&c->cache_mu);
        dg_buf_free(&key);
        return 1;
    }
    for (struct dg_chain_flight *f = c->flights; f; f = f->next)
        if (f->h == h && f->klen == key.len && memcmp(f->key, key.data, key.len) == 0) {
            if (!may_block) {
                pthread_mutex_unlock(&c->cache_mu);
                dg_buf_free(&key);
                return 0;
            }
            /* Another thread is fetching this very decision: wait for it. */
            f->refs++;
            c->shared++;
            while (!f->done)
                pthread_cond_wait(&c->cache_cv, &c->cache_mu);
            *d = f->result;
            d->cached = 1;
            if (--f->refs == 0) free(f);
            pthread_mutex_unlock(&c->cache_mu);
            dg_buf_free(&key);
            return 1;
        }
    if (!may_block) {
        pthread_mutex_unlock(&c->cache_mu);
        dg_buf_free(&key);
        return 0;
    }
    c->misses++;
    struct dg_chain_flight *f = calloc(1, sizeof *f);
    if (f) {
        f->h = h;
        f->key = key.data;
        f->klen = key.len;
        f->refs = 1;
        f->next = c->flights;
        c->flights = f;
    }
    pthread_mutex_unlock(&c->cache_mu);

    int ep = c->be->fetch(c, route, bi, &s, start + c->o.deadline_ms, d);
    if (ep < 0 && d->error) d->gateway_app_id[0] = 0; /* a failure carries no gateway id */

    pthread_mutex_lock(&c->cache_mu);
    if (ep >= 0 && !d->error) cache_store(c, h, key.data, key.len, d, ep);
    if (f) {
        for (struct dg_chain_flight **pp = &c->flights; *pp; pp = &(*pp)->next)
            if (*pp == f) {
                *pp = f->next;
                break;
            }
        f->result = *d;
        f->done = 1;
        f->key = NULL;
        pthread_cond_broadcast(&c->cache_cv);
        if (--f->refs == 0) free(f);
    }
    pthread_mutex_unlock(&c->cache_mu);
    dg_buf_free(&key);
    return 1;
}

/* ---------------------------------------------------------------- info */

int dg_chain_info(dg_policy *p, dg_policy_info *out, dg_err *err) {
    dg_chain *c = (dg_chain *)p;
    long long now = dg_policy_now_ms();
    pthread_mutex_lock(&c->info_mu);
    if (c->info_valid && now - c->info_at_ms < c->o.info_cache_ms) {
        *out = c->info;
        pthread_mutex_unlock(&c->info_mu);
        return 1;
    }
    pthread_mutex_unlock(&c->info_mu);
    if (!wait_started(c, now + c->o.deadline_ms, err)) return 0;
    dg_snap s;
    pthread_mutex_lock(&c->snap_mu);
    s = c->snap;
    pthread_mutex_unlock(&c->snap_mu);
    if (!s.valid)
        return dg_err_set(err, s.net_bad ? DG_ERR_CHAIN_ID : DG_ERR_RPC_UNREACHABLE, "%s", s.err);
    memset(out, 0, sizeof *out);
    out->backend = c->be->kind;
    if (!c->be->info(c, &s, now + c->o.deadline_ms, out, err)) return 0;
    out->snapshot_block = s.number;
    pthread_mutex_lock(&c->info_mu);
    c->info = *out;
    c->info_at_ms = now;
    c->info_valid = 1;
    pthread_mutex_unlock(&c->info_mu);
    return 1;
}

/* ---------------------------------------------------------------- lifecycle */

void dg_chain_stats(dg_policy *p, dg_policy_stats *out) {
    dg_chain *c = (dg_chain *)p;
    pthread_mutex_lock(&c->cache_mu);
    out->cache_hits = c->hits;
    out->cache_misses = c->misses;
    out->cache_shared = c->shared;
    pthread_mutex_unlock(&c->cache_mu);
    pthread_mutex_lock(&c->snap_mu);
    out->snapshot_updates = c->snap_updates;
    out->snapshot_errors = c->snap_errors;
    out->has_snapshot = c->snap.valid;
    out->snapshot_block = c->snap.number;
    out->snapshot_age_ms = c->snap.valid ? dg_policy_now_ms() - c->snap.at_ms : -1;
    pthread_mutex_unlock(&c->snap_mu);
}

size_t dg_chain_nendpoints(const dg_policy *p) {
    return ((const dg_chain *)p)->nurls;
}

int dg_chain_endpoint_stats(dg_policy *p, size_t i, const char **label, unsigned long *calls,
                            unsigned long *errors) {
    dg_chain *c = (dg_chain *)p;
    unsigned long n = 0, er = 0;
    if (i >= c->nurls) return 0;
    if (label) *label = c->labels[i];
    pthread_mutex_lock(&c->pool_mu);
    for (size_t k = 0; k <= c->npool; k++) {
        n += c->st_calls[k * c->nurls + i];
        er += c->st_errors[k * c->nurls + i];
    }
    pthread_mutex_unlock(&c->pool_mu);
    if (calls) *calls = n;
    if (errors) *errors = er;
    return 1;
}

void dg_chain_free(dg_chain *c) {
    if (!c) return;
    pthread_mutex_lock(&c->stop_mu);
    c->stop = 1;
    pthread_cond_broadcast(&c->stop_cv);
    pthread_mutex_unlock(&c->stop_mu);
    if (c->poller_started) pthread_join(c->poller, NULL);
    pthread_mutex_lock(&c->par_mu);
    c->par_stop = 1;
    pthread_cond_broadcast(&c->par_cv);
    pthread_mutex_unlock(&c->par_mu);
    for (size_t i = 0; i < c->nhelpers; i++)
        pthread_join(c->helpers[i], NULL);
    free(c->helpers);
    if (c->be && c->be->destroy) c->be->destroy(c);
    dg_rpc_free(c->poll_rpc);
    for (size_t i = 0; c->pool && i < c->npool; i++)
        dg_rpc_free(c->pool[i]);
    free(c->pool);
    free(c->pool_free);
    free(c->pool_used);
    free(c->st_calls);
    free(c->st_errors);
    for (size_t i = 0; c->slots && i < c->nslots; i++)
        slot_clear(&c->slots[i]);
    free(c->slots);
    for (size_t i = 0; i < c->nurls; i++)
        free(c->urls[i]);
    free(c->urls);
    free(c->labels);
    pthread_mutex_destroy(&c->pool_mu);
    pthread_cond_destroy(&c->pool_cv);
    pthread_mutex_destroy(&c->snap_mu);
    pthread_mutex_destroy(&c->cache_mu);
    pthread_cond_destroy(&c->cache_cv);
    pthread_mutex_destroy(&c->info_mu);
    pthread_mutex_destroy(&c->gw_mu);
    pthread_mutex_destroy(&c->par_mu);
    pthread_cond_destroy(&c->par_cv);
    pthread_mutex_destroy(&c->stop_mu);
    pthread_cond_destroy(&c->stop_cv);
    pthread_cond_destroy(&c->ready_cv);
    free(c);
}

void dg_chain_destroy(dg_policy *p) {
    dg_chain_free((dg_chain *)p);
}

int dg_chain_init(dg_chain *c, const dg_chain_backend *be, const dg_chain_opts *o, dg_err *err) {
    c->be = be;
    c->o = *o;
    c->o.rpc_urls = NULL;
    c->o.rpc_ca_file = NULL; /* not owned: each dg_rpc keeps its own copy */
    if (!c->o.refresh_ms) c->o.refresh_ms = 250;
    if (!c->o.rpc_timeout_ms) c->o.rpc_timeout_ms = 1000;
    if (!c->o.deadline_ms) c->o.deadline_ms = 3000;
    if (!c->o.max_snapshot_age_ms) c->o.max_snapshot_age_ms = 10000;
    if (!c->o.cache_entries) c->o.cache_entries = 1024;
    if (!c->o.info_cache_ms) c->o.info_cache_ms = 1000;
    if (!c->o.rpc_pool) c->o.rpc_pool = 4;
    if (!c->o.parallel) c->o.parallel = 1;
    pthread_mutex_init(&c->pool_mu, NULL);
    pthread_cond_init(&c->pool_cv, NULL);
    pthread_mutex_init(&c->snap_mu, NULL);
    pthread_mutex_init(&c->cache_mu, NULL);
    pthread_cond_init(&c->cache_cv, NULL);
    pthread_mutex_init(&c->info_mu, NULL);
    pthread_mutex_init(&c->gw_mu, NULL);
    pthread_mutex_init(&c->par_mu, NULL);
    pthread_cond_init(&c->par_cv, NULL);
    pthread_mutex_init(&c->stop_mu, NULL);
    pthread_cond_init(&c->stop_cv, NULL);
    pthread_cond_init(&c->ready_cv, NULL);
    if (!o->nrpc || !o->rpc_urls)
        return dg_err_set(err, DG_ERR_CONFIG, "%s backend: no RPC endpoint configured", be->kind);

    c->urls = calloc(o->nrpc, sizeof *c->urls);
    c->labels = calloc(o->nrpc, sizeof(dg_chain_label_t));
    c->nslots = c->o.cache_entries;
    c->slots = calloc(c->nslots, sizeof *c->slots);
    c->npool = c->o.rpc_pool;
    c->pool = calloc(c->npool, sizeof(dg_rpc *));
    c->pool_free = calloc(c->npool, sizeof *c->pool_free);
    c->pool_used = calloc(c->npool, sizeof *c->pool_used);
    c->st_calls = calloc((c->npool + 1) * o->nrpc, sizeof(unsigned long));
    c->st_errors = calloc((c->npool + 1) * o->nrpc, sizeof(unsigned long));
    c->helpers = c->o.parallel > 1 ? calloc(c->o.parallel - 1, sizeof *c->helpers) : NULL;
    if (!c->urls || !c->labels || !c->slots || !c->pool || !c->pool_free || !c->pool_used ||
        !c->st_calls || !c->st_errors || (c->o.parallel > 1 && !c->helpers))
        return dg_err_set(err, DG_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < o->nrpc; i++) {
        c->keep_warm |= o->warm_method && strncmp(o->rpc_urls[i], "https://", 8) == 0;
        if (!(c->urls[i] = strdup(o->rpc_urls[i])))
            return dg_err_set(err, DG_ERR_NOMEM, "out of memory");
        c->nurls++;
    }
    dg_rpc_opts ro = {.timeout_ms = c->o.rpc_timeout_ms,
                      .retries = -1,
                      .backoff_ms = 10,
                      .quorum = c->o.quorum,
                      .ca_file = o->rpc_ca_file};
    /* The poller only picks a block (first endpoint that answers); the quorum
     * applies to the decision reads, which are pinned to that block: endpoints
     * one block apart must not make every poll fail, and a block an honest
     * endpoint does not know makes the quorum fail, i.e. a deny. */
    dg_rpc_opts po = ro;
    po.quorum = 0;
    if (!(c->poll_rpc = dg_rpc_new((const char *const *)c->urls, c->nurls, &po, err))) return 0;
    for (size_t i = 0; i < c->nurls; i++)
        snprintf(c->labels[i], sizeof c->labels[i], "%s", dg_rpc_endpoint_label(c->poll_rpc, i));
    for (size_t i = 0; i < c->npool; i++) {
        if (!(c->pool[i] = dg_rpc_new((const char *const *)c->urls, c->nurls, &ro, err))) return 0;
        c->pool_free[c->nfree++] = (int)i;
        c->pool_used[i] = -(long long)KEEP_WARM_MS; /* never used: warm it at start */
    }
    return 1;
}

int dg_chain_start(dg_chain *c, dg_err *err) {
    if (pthread_create(&c->poller, NULL, poller_main, c) != 0)
        return dg_err_set(err, DG_ERR_INTERNAL, "cannot start the snapshot thread");
    c->poller_started = 1;
    if (!c->o.async_start && !dg_chain_wait_ready(&c->base, err)) return 0;
    return 1;
}
