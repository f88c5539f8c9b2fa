/* chain.h — the chain-neutral machinery under the eth and near backends; not
 * part of the public API.
 *
 * A chain backend (eth.c, near.c) embeds `dg_chain` as its first member and
 * supplies only its reads in a dg_chain_backend table: how to start (learn or
 * check the network and take the first snapshot block), how to poll the
 * snapshot block, how to read one decision at a snapshot (a miss), and what
 * GET / shows. Everything else lives in chain.c, once for both chains: the
 * snapshot thread, the RPC client pool, the decision cache keyed by
 * (snapshot block hash, route, canonical BootInfo), single-flight misses,
 * the per-decision deadline, the gateway id of a block, the GET / cache,
 * parallel reads, counters, and the mapping of failures to deny reasons.
 */
#ifndef DG_POLICY_CHAIN_H
#define DG_POLICY_CHAIN_H

#include <pthread.h>

#include "dstackgov/rpc.h"
#include "internal.h"

/* A snapshot block: every read of one decision is pinned to it. */
typedef struct {
    int valid;       /* a usable snapshot */
    uint64_t number; /* height */
    uint8_t hash[32];
    char id[96];     /* the block as the chain's RPC names it ("0x" + hex; NEAR: base58) */
    long long at_ms; /* when it was last confirmed (dg_policy_now_ms) */
    int net_bad;     /* the endpoint reports another network */
    char err[300];   /* why not valid */
} dg_snap;

typedef struct dg_chain dg_chain;

typedef struct {
    const char *kind;       /* "eth", "near" */
    const char *net_reason; /* the deny reason of a network mismatch */
    /* On the snapshot thread, once: learn or check the network and take the
     * first snapshot. rpc is a pool client when there is no quorum (its
     * connection is then open for the first miss), else the poll client.
     * Returns 1 with *s valid, or 0 with err. */
    int (*start)(dg_chain *c, dg_rpc *rpc, dg_snap *s, dg_err *err);
    /* On the snapshot thread: the current snapshot block, read through
     * c->poll_rpc (no quorum: it only picks a block; reads pinned to it carry
     * the quorum). Returns 1 with *s valid, or 0 with err (*s->err set). */
    int (*poll)(dg_chain *c, dg_snap *s, dg_err *err);
    /* The reads of one miss at snapshot s, within deadline (absolute ms).
     * Fills d (reason, allowed, gateway id, endpoint). Returns the index of
     * the endpoint that answered, or -1 when d is a deny from a failure
     * (never cached). */
    int (*fetch)(dg_chain *c, dg_route route, const dg_bootinfo *bi, const dg_snap *s,
                 long long deadline, dg_decision *d);
    /* GET / at snapshot s (backend, snapshot and chain fields; the caller
     * sets out->backend). Returns 1, or 0 with err. */
    int (*info)(dg_chain *c, const dg_snap *s, long long deadline, dg_policy_info *out,
                dg_err *err);
    /* Free the backend's own fields (the machinery frees the rest). */
    void (*destroy)(dg_chain *c);
} dg_chain_backend;

typedef struct {
    const char *const *rpc_urls;
    size_t nrpc;
    const char *rpc_ca_file;  /* dg_rpc_opts.ca_file for every client, or NULL */
    const char *warm_method;  /* a cheap read answered from memory (eth_chainId, status):
                                 keeps https:// connections open, see chain.c */
    long refresh_ms;          /* 0 = 250 */
    long rpc_timeout_ms;      /* 0 = 1000 */
    long deadline_ms;         /* 0 = 3000 */
    long max_snapshot_age_ms; /* 0 = 10000 */
    long info_cache_ms;       /* 0 = 1000 */
    unsigned quorum;
    size_t cache_entries; /* 0 = 1024 */
    size_t rpc_pool;      /* 0 = 4 */
    size_t parallel;      /* reads of one miss that may run at once (dg_chain_parallel) */
    dg_policy_log_fn log;
    void *log_ctx;
    int async_start;
} dg_chain_opts;

/* The dg_chain_opts of a backend's public options (dg_eth_policy_opts,
 * dg_near_policy_opts name these fields alike). */
#define DG_CHAIN_OPTS_OF(op)                                                                       \
    {                                                                                              \
        .rpc_urls = (op)->rpc_urls, .nrpc = (op)->nrpc, .refresh_ms = (op)->refresh_ms,            \
        .rpc_ca_file = (op)->rpc_ca_file, .rpc_timeout_ms = (op)->rpc_timeout_ms,                  \
        .deadline_ms = (op)->deadline_ms, .max_snapshot_age_ms = (op)->max_snapshot_age_ms,        \
        .info_cache_ms = (op)->info_cache_ms, .quorum = (op)->quorum,                              \
        .cache_entries = (op)->cache_entries, .rpc_pool = (op)->rpc_pool, .parallel = 1,           \
        .log = (op)->log, .log_ctx = (op)->log_ctx, .async_start = (op)->async_start               \
    }

typedef char dg_chain_label_t[160];

struct dg_chain {
    struct dg_policy base;
    const dg_chain_backend *be;
    dg_chain_opts o;
    char **urls;
    size_t nurls;
    dg_chain_label_t *labels;

    /* RPC clients: one for the snapshot thread, a pool for decisions. */
    dg_rpc *poll_rpc;
    dg_rpc **pool;
    size_t npool;
    int *pool_free;
    size_t nfree;
    long long *pool_used; /* when each client was last given back (dg_policy_now_ms) */
    int keep_warm;        /* an endpoint is https://: keep the pool's connections open */
    pthread_mutex_t pool_mu;
    pthread_cond_t pool_cv;
    /* Per-endpoint counters of each client (pool clients, then the poller),
     * copied by the thread that owns the client, under pool_mu, so /metrics
     * never reads a client another thread is using. */
    unsigned long *st_calls, *st_errors;

    pthread_mutex_t snap_mu;
    dg_snap snap;
    int init_state; /* 0 starting, 1 started, -1 start failed (under snap_mu) */
    dg_err init_err;
    pthread_cond_t ready_cv;
    unsigned long long snap_updates, snap_errors;

    pthread_mutex_t cache_mu;
    pthread_cond_t cache_cv;
    struct dg_chain_slot *slots;
    size_t nslots;
    struct dg_chain_flight *flights;
    unsigned long long hits, misses, shared;

    pthread_mutex_t gw_mu; /* the KMS's gateway app id of one block */
    int gw_valid;
    uint8_t gw_hash[32];
    char gw_value[DG_GATEWAY_MAX];

    pthread_mutex_t info_mu;
    long long info_at_ms;
    int info_valid;
    dg_policy_info info;

    /* Helpers of dg_chain_parallel. */
    pthread_t *helpers;
    size_t nhelpers;
    pthread_mutex_t par_mu;
    pthread_cond_t par_cv;
    struct dg_chain_lane *lanes; /* queued for a helper */
    size_t idle;                 /* helpers neither running nor reserved for a queued lane */
    int par_stop;                /* under par_mu */

    pthread_t poller;
    int poller_started;
    pthread_mutex_t stop_mu;
    pthread_cond_t stop_cv;
    int stop;
};

/* Set up c (embedded first in the backend's struct, zeroed) for backend be:
 * clients, cache, helpers. Nothing runs yet. Returns 1, or 0 with err (the
 * caller then calls dg_chain_free). */
int dg_chain_init(dg_chain *c, const dg_chain_backend *be, const dg_chain_opts *o, dg_err *err);
/* Start the snapshot thread; unless o.async_start, wait for the start.
 * Returns 1, or 0 with err (the caller then calls dg_chain_free). */
int dg_chain_start(dg_chain *c, dg_err *err);
/* Stop the threads, call be->destroy, free everything and c itself
 * (dg_chain_destroy is the same as a dg_policy op). NULL is fine. */
void dg_chain_free(dg_chain *c);

/* The dg_policy_ops of every chain backend: the machinery answers them all. */
int dg_chain_try_decide(dg_policy *p, dg_route route, const dg_bootinfo *bi, dg_decision *d,
                        long long start, int may_block);
int dg_chain_info(dg_policy *p, dg_policy_info *out, dg_err *err);
void dg_chain_stats(dg_policy *p, dg_policy_stats *out);
size_t dg_chain_nendpoints(const dg_policy *p);
int dg_chain_endpoint_stats(dg_policy *p, size_t i, const char **label, unsigned long *calls,
                            unsigned long *errors);
void dg_chain_destroy(dg_policy *p);
int dg_chain_wait_ready(dg_policy *p, dg_err *err);
#define DG_CHAIN_POLICY_OPS(kind_)                                                                 \
    {                                                                                              \
        .kind = (kind_), .info = dg_chain_info, .stats = dg_chain_stats,                           \
        .nendpoints = dg_chain_nendpoints, .endpoint_stats = dg_chain_endpoint_stats,              \
        .destroy = dg_chain_destroy, .wait_ready = dg_chain_wait_ready,                            \
        .try_decide = dg_chain_try_decide                                                          \
    }

/* A pool client until deadline (absolute ms), or NULL. Give it back with
 * dg_chain_rpc_put. */
dg_rpc *dg_chain_rpc_get(dg_chain *c, long long deadline, int *slot);
void dg_chain_rpc_put(dg_chain *c, int slot);

/* Run fn(arg, i, rpc) for i in 0..n-1, up to o.parallel of them at once,
 * each with a pool client whose deadline is set. The calling thread takes
 * part, and takes every task no helper picked up, so the run never waits
 * for a free thread. Returns when all n ran; 0 when not even one client
 * was free before the deadline (then no task ran). */
int dg_chain_parallel(dg_chain *c, size_t n, void (*fn)(void *arg, size_t i, dg_rpc *rpc),
                      void *arg, long long deadline);

/* The KMS-wide gateway app id known for block hash (1, copied), or 0. */
int dg_chain_gateway_cached(dg_chain *c, const uint8_t hash[32], char *out, size_t cap);
void dg_chain_gateway_store(dg_chain *c, const uint8_t hash[32], const char *v);

/* A deny for a failure: the fixed reason of its class (quorum, network,
 * unavailable), the cause in d->detail (for the log only). */
void dg_chain_deny(dg_chain *c, dg_decision *d, const dg_err *err);

/* Endpoint i's label (scheme://host[:port]), "" when out of range. */
const char *dg_chain_label(const dg_chain *c, size_t i);
/* A message for the backend's log sink. */
void dg_chain_log(dg_chain *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Copy client rpc's counters into row k (pool index; npool = the poller). */
void dg_chain_stats_copy(dg_chain *c, size_t k, const dg_rpc *rpc);

#endif
