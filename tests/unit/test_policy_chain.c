/* test_policy_chain.c — the chain-neutral machinery (lib/policy/chain.c) on a
 * scripted backend, without any chain: the cache keyed by snapshot block,
 * single flight of concurrent misses, errors never cached, a stale snapshot
 * denying, and dg_chain_parallel running every task exactly once, at once
 * when helpers are free, and without deadlock when many decisions run it
 * together. The real backends are tested over HTTP (tests/authd).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../lib/policy/chain.h"
#include "../test.h"

typedef struct {
    dg_chain ch;
    int fetches;    /* misses served (atomic) */
    int fail;       /* fetch answers with an error */
    int block;      /* the block the next poll reports */
    int fetch_ms;   /* how long a fetch takes */
    int poll_fails; /* polls fail */
} fake;

static void snap_of(int block, dg_snap *s) {
    memset(s->hash, 0, 32);
    s->hash[0] = (uint8_t)block;
    s->number = (uint64_t)block;
    snprintf(s->id, sizeof s->id, "block-%d", block);
    s->valid = 1;
    s->at_ms = dg_policy_now_ms();
}

static int f_start(dg_chain *c, dg_rpc *rpc, dg_snap *s, dg_err *err) {
    (void)rpc;
    (void)err;
    snap_of(__atomic_load_n(&((fake *)c)->block, __ATOMIC_ACQUIRE), s);
    return 1;
}

static int f_poll(dg_chain *c, dg_snap *s, dg_err *err) {
    fake *f = (fake *)c;
    if (__atomic_load_n(&f->poll_fails, __ATOMIC_ACQUIRE))
        return dg_err_set(err, DG_ERR_RPC_UNREACHABLE, "scripted poll failure");
    snap_of(__atomic_load_n(&f->block, __ATOMIC_ACQUIRE), s);
    return 1;
}

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static int f_fetch(dg_chain *c, dg_route route, const dg_bootinfo *bi, const dg_snap *s,
                   long long deadline, dg_decision *d) {
    fake *f = (fake *)c;
    (void)route;
    (void)deadline;
    __atomic_add_fetch(&f->fetches, 1, __ATOMIC_ACQ_REL);
    sleep_ms(__atomic_load_n(&f->fetch_ms, __ATOMIC_ACQUIRE));
    if (__atomic_load_n(&f->fail, __ATOMIC_ACQUIRE)) {
        dg_err e = {DG_ERR_RPC_RESPONSE, "scripted failure"};
        dg_chain_deny(c, d, &e);
        return -1;
    }
    d->allowed = bi->app_id[0] == 0xaa;
    if (!d->allowed)
        snprintf(d->reason, sizeof d->reason, "denied at %llu", (unsigned long long)s->number);
    snprintf(d->gateway_app_id, sizeof d->gateway_app_id, "gw");
    return 0;
}

static int f_info(dg_chain *c, const dg_snap *s, long long deadline, dg_policy_info *out,
                  dg_err *err) {
    (void)c;
    (void)s;
    (void)deadline;
    (void)err;
    out->chain_id = 7;
    return 1;
}

static const dg_chain_backend FAKE = {.kind = "fake",
                                      .net_reason = "fake network mismatch",
                                      .start = f_start,
                                      .poll = f_poll,
                                      .fetch = f_fetch,
                                      .info = f_info};
static const struct dg_policy_ops FAKE_OPS = DG_CHAIN_POLICY_OPS("fake");

static fake *fake_new(size_t parallel, long refresh_ms) {
    /* the URLs are never dialled: the scripted backend does no RPC */
    static const char *const urls[] = {"http://127.0.0.1:1"};
    fake *f = calloc(1, sizeof *f);
    dg_err err;
    f->block = 1;
    f->ch.base.ops = &FAKE_OPS;
    dg_chain_opts o = {.rpc_urls = urls,
                       .nrpc = 1,
                       .refresh_ms = refresh_ms,
                       .max_snapshot_age_ms = 300,
                       .parallel = parallel,
                       .rpc_pool = 8};
    if (!dg_chain_init(&f->ch, &FAKE, &o, &err) || !dg_chain_start(&f->ch, &err)) {
        dg_test_fail(__FILE__, __LINE__, "fake chain: %s", err.msg);
        dg_chain_free(&f->ch);
        return NULL;
    }
    return f;
}

static void bi_app(dg_bootinfo *bi, uint8_t first) {
    dg_bootinfo_init(bi);
    memset(bi->app_id, first, sizeof bi->app_id);
}

TEST(chain_cache_by_snapshot_block) {
    fake *f = fake_new(1, 20);
    if (!f) return;
    dg_bootinfo bi;
    dg_decision d;
    bi_app(&bi, 0xaa);
    CHECK_INT(dg_policy_decide(&f->ch.base, DG_ROUTE_APP, &bi, &d), 1);
    CHECK_INT(d.cached, 0);
    CHECK_INT(d.block_number, 1);
    CHECK_INT(dg_policy_decide(&f->ch.base, DG_ROUTE_APP, &bi, &d), 1);
    CHECK_INT(d.cached, 1);
    CHECK_INT(__atomic_load_n(&f->fetches, __ATOMIC_ACQUIRE), 1);
    /* the other route is another key */
    dg_policy_decide(&f->ch.base, DG_ROUTE_KMS, &bi, &d);
    CHECK_INT(d.cached, 0);
    /* a new snapshot block is a new key: the change is read, not served from the cache */
    __atomic_store_n(&f->block, 2, __ATOMIC_RELEASE);
    long long t0 = dg_policy_now_ms();
    do {
        dg_policy_decide(&f->ch.base, DG_ROUTE_APP, &bi, &d);
    } while (d.block_number != 2 && dg_policy_now_ms() - t0 < 2000);
    CHECK_INT(d.block_number, 2);
    CHECK_INT(d.cached, 0);
    CHECK_INT(__atomic_load_n(&f->fetches, __ATOMIC_ACQUIRE), 3);
    dg_chain_free(&f->ch);
}

TEST(chain_errors_are_not_cached_and_stale_snapshots_deny) {
    fake *f = fake_new(1, 20);
    if (!f) return;
    dg_bootinfo bi;
    dg_decision d;
    bi_app(&bi, 0xaa);
    __atomic_store_n(&f->fail, 1, __ATOMIC_RELEASE);
    CHECK_INT(dg_policy_decide(&f->ch.base, DG_ROUTE_APP, &bi, &d), 0);
    CHECK_STR(d.reason, DG_REASON_UNAVAILABLE);
    CHECK_STR(d.gateway_app_id, ""); /* a failure carries no gateway id */
    CHECK(strstr(d.detail, "scripted failure") != NULL);
    __atomic_store_n(&f->fail, 0, __ATOMIC_RELEASE);
    CHECK_INT(dg_policy_decide(&f->ch.base, DG_ROUTE_APP, &bi, &d), 1);
    CHECK_INT(d.cached, 0);
    /* polls failing: even the cached allow is not served */
    __atomic_store_n(&f->poll_fails, 1, __ATOMIC_RELEASE);
    long long t0 = dg_policy_now_ms();
    do {
        dg_policy_decide(&f->ch.base, DG_ROUTE_APP, &bi, &d);
    } while (d.allowed && dg_policy_now_ms() - t0 < 2000);
    CHECK_INT(d.allowed, 0);
    CHECK_STR(d.reason, DG_REASON_UNAVAILABLE);
    __atomic_store_n(&f->poll_fails, 0, __ATOMIC_RELEASE);
    t0 = dg_policy_now_ms();
    do {
        dg_policy_decide(&f->ch.base, DG_ROUTE_APP, &bi, &d);
    } while (!d.allowed && dg_policy_now_ms() - t0 < 2000);
    CHECK_INT(d.allowed, 1);
    dg_chain_free(&f->ch);
}

struct decider_arg {
    fake *f;
    dg_decision d;
};

static void *decide_thread(void *p) {
    struct decider_arg *a = p;
    dg_bootinfo bi;
    bi_app(&bi, 0xaa);
    dg_policy_decide(&a->f->ch.base, DG_ROUTE_APP, &bi, &a->d);
    return NULL;
}

TEST(chain_single_flight) {
    fake *f = fake_new(1, 1000);
    if (!f) return;
    __atomic_store_n(&f->fetch_ms, 100, __ATOMIC_RELEASE);
    struct decider_arg a[6];
    pthread_t t[6];
    for (int i = 0; i < 6; i++) {
        a[i].f = f;
        pthread_create(&t[i], NULL, decide_thread, &a[i]);
    }
    for (int i = 0; i < 6; i++)
        pthread_join(t[i], NULL);
    CHECK_INT(__atomic_load_n(&f->fetches, __ATOMIC_ACQUIRE), 1);
    for (int i = 0; i < 6; i++)
        CHECK_INT(a[i].d.allowed, 1);
    dg_policy_stats st;
    dg_policy_get_stats(&f->ch.base, &st);
    CHECK_INT(st.cache_misses, 1);
    CHECK_INT(st.cache_shared + st.cache_hits, 5);
    dg_chain_free(&f->ch);
}

/* dg_chain_parallel: tasks that sleep and count. */
struct tasks {
    int ran[8];
    pthread_t who[8];
};

static void task(void *arg, size_t i, dg_rpc *rpc) {
    struct tasks *t = arg;
    CHECK(rpc != NULL);
    __atomic_add_fetch(&t->ran[i], 1, __ATOMIC_ACQ_REL);
    t->who[i] = pthread_self();
    sleep_ms(60);
}

TEST(chain_parallel_runs_each_task_once_at_once) {
    fake *f = fake_new(4, 20);
    if (!f) return;
    sleep_ms(60); /* the helpers start one refresh (20 ms) after the first snapshot */
    struct tasks t;
    memset(&t, 0, sizeof t);
    long long t0 = dg_policy_now_ms();
    CHECK_INT(dg_chain_parallel(&f->ch, 4, task, &t, dg_policy_now_ms() + 2000), 1);
    long long ms = dg_policy_now_ms() - t0;
    for (int i = 0; i < 4; i++)
        CHECK_INT(t.ran[i], 1);
    CHECK(ms < 3 * 60); /* serially it takes 4 x 60 ms */
    int other = 0;
    for (int i = 0; i < 4; i++)
        other += !pthread_equal(t.who[i], pthread_self());
    CHECK(other >= 1);
    dg_chain_free(&f->ch);
}

static void *parallel_thread(void *p) {
    fake *f = p;
    for (int k = 0; k < 5; k++) {
        struct tasks t;
        memset(&t, 0, sizeof t);
        if (!dg_chain_parallel(&f->ch, 4, task, &t, dg_policy_now_ms() + 5000))
            dg_test_fail(__FILE__, __LINE__, "no client before the deadline");
        for (int i = 0; i < 4; i++)
            if (t.ran[i] != 1)
                dg_test_fail(__FILE__, __LINE__, "task %d ran %d times", i, t.ran[i]);
    }
    return NULL;
}

TEST(chain_parallel_under_contention) {
    /* six callers, three helpers, eight clients: every task runs once, none waits forever */
    fake *f = fake_new(4, 20);
    if (!f) return;
    sleep_ms(60); /* helpers running */
    pthread_t th[6];
    for (int i = 0; i < 6; i++)
        pthread_create(&th[i], NULL, parallel_thread, f);
    for (int i = 0; i < 6; i++)
        pthread_join(th[i], NULL);
    pthread_mutex_lock(&f->ch.pool_mu);
    CHECK_INT(f->ch.nfree, f->ch.npool); /* every client given back */
    pthread_mutex_unlock(&f->ch.pool_mu);
    dg_chain_free(&f->ch);
}
