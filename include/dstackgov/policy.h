/* policy.h — boot-authorization decisions and the backends that make them.
 *
 * A dg_policy answers "may this BootInfo boot?" for one of two routes (an app,
 * or a KMS) and "what is your configuration?" (GET /). Four backends:
 *
 *   eth     reads DstackKms.isAppAllowed / isKmsAllowed and gatewayAppId() at
 *           one snapshot block, in one JSON-RPC batch. A background thread
 *           tracks the snapshot (finalized, safe, latest, or head minus N) and
 *           the chain id.
 *   near    reads the dstack-gov NEAR contracts (is_app_registered,
 *           is_os_image_allowed, the app contract's is_app_allowed, or
 *           is_kms_allowed; get_gateway_app_id) with parallel views pinned to
 *           one block hash. A background thread tracks the snapshot (the last
 *           final block, or the head with optimistic) and the network.
 *           Both chain backends share one machinery: decisions are cached by
 *           (snapshot block hash, route, canonical BootInfo); concurrent misses
 *           for one key share one read; errors are never cached; several
 *           endpoints with failover or a quorum; a deadline per decision.
 *   static  an allowlist file (JSON, the keys of dstack's auth-simple but
 *           strict: an empty device list allows no device unless
 *           allowAnyDevice, hex values exact and canonical). Reloaded when the
 *           file changes or on dg_policy_reload; a broken file keeps the last
 *           good policy.
 *   dev     allows everything with a configured gateway app id; every reason
 *           says it is the dev backend.
 *
 * Fail closed: dg_policy_decide always produces a decision; any error is a
 * deny whose reason says what failed (never a crash, never an allow).
 * All functions are thread-safe unless noted.
 */
#ifndef DSTACKGOV_POLICY_H
#define DSTACKGOV_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "dstackgov/bootinfo.h"
#include "dstackgov/err.h"

/* The reason given for every backend failure (RPC down, timeout, garbage). */
#define DG_REASON_UNAVAILABLE "authorization backend unavailable"

typedef struct {
    int allowed;                         /* 1 allow, 0 deny */
    char reason[DG_REASON_MAX];          /* "" on allow from the chain */
    char gateway_app_id[DG_GATEWAY_MAX]; /* "" when unknown (errors) */
    int error;                           /* 1: the deny comes from a backend failure */
    int cached;                          /* 1: served from the decision cache */
    int has_block;                       /* eth: the snapshot block below is set */
    uint64_t block_number;
    uint8_t block_hash[32];
    char endpoint[128]; /* eth: label of the endpoint that answered */
    char detail[300];   /* cause of a backend failure: for the log, never sent */
} dg_decision;

/* What GET / reports. Strings are "" when the backend has no such value. */
typedef struct {
    const char *backend;   /* "eth", "near", "static", "dev" */
    char kms_contract[72]; /* eth: "0x" + 40 hex, EIP-55; near: the KMS account */
    char eth_rpc_url[160]; /* scheme://host[:port] of the first endpoint */
    char gateway_app_id[DG_GATEWAY_MAX];
    uint64_t chain_id;   /* near: DG_NEAR_CHAIN_ID */
    char network_id[64]; /* near: the network's chain id ("mainnet", "testnet", ...) */
    char app_implementation[64];
    const char *snapshot;    /* eth: the snapshot mode in use ("auto" resolved); near: "final"
                                or "optimistic"; NULL otherwise */
    uint64_t snapshot_block; /* eth, near: the block the answer was read at */
} dg_policy_info;

/* Counters for /metrics. */
typedef struct {
    unsigned long long cache_hits, cache_misses, cache_shared; /* shared = waited on another miss */
    unsigned long long snapshot_updates, snapshot_errors;
    int has_snapshot;
    uint64_t snapshot_block;
    long long snapshot_age_ms;                 /* since the last successful poll, -1 if never */
    unsigned long long reloads, reload_errors; /* static backend */
} dg_policy_stats;

typedef struct dg_policy dg_policy;

/* A sink for messages the backend wants logged (reload failures, snapshot
 * errors). Called from the backend's threads; must be thread-safe. */
typedef void (*dg_policy_log_fn)(void *ctx, const char *msg);

/* ---------------------------------------------------------------- eth */

typedef enum {
    DG_SNAP_LATEST = 0,
    DG_SNAP_SAFE,
    DG_SNAP_FINALIZED,
    DG_SNAP_CONFIRMATIONS, /* head minus `confirmations` */
    DG_SNAP_AUTO           /* resolved at start: FINALIZED when the chain answers the "finalized"
                              tag, LATEST on local dev chains (chain id 31337 or 1337) and on
                              chains without finality tags */
} dg_snapshot_mode;

typedef struct {
    const char *const *rpc_urls; /* nrpc endpoint URLs, tried in order */
    size_t nrpc;
    const char *rpc_ca_file;  /* CAs trusted for https:// endpoints instead of the system's
                                 (dg_rpc_opts.ca_file), or NULL */
    const char *kms_contract; /* DstackKms proxy address (40 hex, optional 0x) */
    uint64_t chain_id;        /* 0 = learn at start; then pinned */
    dg_snapshot_mode snapshot;
    uint64_t confirmations; /* for DG_SNAP_CONFIRMATIONS */
    long refresh_ms;        /* snapshot poll interval; 0 = 250 */
    long rpc_timeout_ms;    /* per HTTP request; 0 = 1000 */
    long deadline_ms;       /* whole decision; 0 = 3000 */
    long
        max_snapshot_age_ms; /* deny when the snapshot was not refreshed for this long; 0 = 10000 */
    unsigned quorum;         /* 0/1 = failover; k = k identical answers */
    size_t cache_entries;    /* decision cache size; 0 = 1024 */
    long info_cache_ms;      /* GET / cache; 0 = 1000 */
    size_t rpc_pool;         /* RPC clients for concurrent misses; 0 = 4 */
    dg_policy_log_fn log;    /* may be NULL */
    void *log_ctx;
    int async_start; /* 1: return before the first snapshot (see below) */
} dg_eth_policy_opts;

/* Start the eth backend: its snapshot thread connects, learns or checks the
 * chain id and takes the first snapshot (one JSON-RPC batch), then keeps the
 * snapshot fresh. By default this waits for that start and returns NULL with
 * err filled if it failed (bad address, no endpoint reachable, chain id
 * mismatch, snapshot unavailable). With async_start it returns at once: the
 * caller gets the start's outcome from dg_policy_wait_ready, and decisions
 * asked meanwhile wait for it (within their deadline; a failed start denies).
 * The daemon uses this to listen while the first round trip is in flight. */
dg_policy *dg_policy_eth_new(const dg_eth_policy_opts *opts, dg_err *err);

/* The eth_call data of isAppAllowed(T) (route app) or isKmsAllowed(T) (route
 * kms) for bi, as "0x" + lowercase hex, appended to out (NUL-terminated,
 * the NUL not counted in len). T is the AppBootInfo tuple of
 * reference/ethereum.md §1.1. Returns 1, or 0 on allocation failure. */
int dg_policy_eth_calldata(const dg_bootinfo *bi, dg_route route, dg_buf *out);

/* ---------------------------------------------------------------- near */

/* What GET / reports as chainId for NEAR: the KMS parses chainId as a u64,
 * and NEAR networks are named, not numbered. 397 is NEAR's SLIP-0044 coin
 * type; the network itself is in dg_policy_info.network_id. */
#define DG_NEAR_CHAIN_ID 397

typedef struct {
    const char *const *rpc_urls; /* nrpc endpoint URLs, tried in order */
    size_t nrpc;
    const char *rpc_ca_file; /* CAs trusted for https:// endpoints instead of the system's
                                (dg_rpc_opts.ca_file), or NULL */
    const char *contract_id; /* the KMS account (at most 23 characters: app accounts are
                                <40 hex app id>.<kms>, at most 64) */
    const char *network_id;  /* the node's chain id ("mainnet", "testnet"); NULL, "" or
                                "local" (dstack-gov's name for a local chain) = learn at
                                start; then pinned */
    int optimistic;          /* 1: snapshot the head; 0: the last final block */
    long refresh_ms, rpc_timeout_ms, deadline_ms, max_snapshot_age_ms; /* as for eth */
    unsigned quorum;
    size_t cache_entries;
    long info_cache_ms;
    size_t rpc_pool; /* RPC clients for concurrent misses; 0 = 4 (plus 3 for parallel views) */
    dg_policy_log_fn log;
    void *log_ctx;
    int async_start;
} dg_near_policy_opts;

/* Start the near backend: its snapshot thread asks `status` for the network
 * (checked against network_id when given, else learned and pinned) and
 * `block` for the snapshot, from one endpoint, then keeps both fresh.
 * Waits for that start unless async_start (as dg_policy_eth_new).
 * Returns the backend, or NULL with err filled (bad account, no endpoint
 * reachable, network mismatch). */
dg_policy *dg_policy_near_new(const dg_near_policy_opts *opts, dg_err *err);

/* ---------------------------------------------------------------- static */

/* Load the allowlist file at path (see docs/authd.md for its keys).
 * Returns the backend, or NULL with err filled (DG_ERR_CONFIG naming the key). */
dg_policy *dg_policy_static_new(const char *path, dg_policy_log_fn log, void *log_ctx, dg_err *err);

/* Parse an allowlist document only (for --check-config and tests).
 * Returns 1 if valid, 0 with err naming the problem. */
int dg_policy_static_check(const char *json, size_t len, dg_err *err);

/* ---------------------------------------------------------------- dev */

/* The dev backend: every request allowed with gateway_app_id. The caller must
 * have obtained explicit consent (dstack-authd --dev).
 * Returns the backend, or NULL with err filled. */
dg_policy *dg_policy_dev_new(const char *gateway_app_id, dg_err *err);

/* ---------------------------------------------------------------- common */

/* Decide. Always fills *out (a deny on any error) and returns out->allowed. */
int dg_policy_decide(dg_policy *p, dg_route route, const dg_bootinfo *bi, dg_decision *out);
/* Decide only if that needs no wait on the chain: returns 1 with *out
 * filled (a cache hit, a deny that needs no RPC, or a backend that never
 * waits), or 0 when the decision needs a round trip or must wait for one in
 * flight: then call dg_policy_decide_since from a thread that may block. */
int dg_policy_try_decide(dg_policy *p, dg_route route, const dg_bootinfo *bi, dg_decision *out);
/* dg_policy_decide with the deadline counted from start_ms (dg_policy_now_ms()
 * when the request arrived), so time spent queued counts against it. */
int dg_policy_decide_since(dg_policy *p, dg_route route, const dg_bootinfo *bi, long long start_ms,
                           dg_decision *out);
/* Milliseconds of CLOCK_MONOTONIC: the clock of start_ms. */
long long dg_policy_now_ms(void);

/* Information for GET /. Returns 1, or 0 with err filled (backend failure). */
int dg_policy_info_get(dg_policy *p, dg_policy_info *out, dg_err *err);

/* "eth", "near", "static" or "dev". */
const char *dg_policy_kind(const dg_policy *p);

/* Re-read the backend's file (static). Returns 1 on success (or nothing to
 * do), 0 with err filled; on failure the previous policy stays in force. */
int dg_policy_reload(dg_policy *p, dg_err *err);

/* Counters for metrics. */
void dg_policy_get_stats(dg_policy *p, dg_policy_stats *out);

/* Number of RPC endpoints (eth, near; 0 otherwise), their labels and counters
 * summed over the backend's RPC clients. Returns 1, or 0 if i is out of range. */
size_t dg_policy_endpoint_count(const dg_policy *p);
int dg_policy_endpoint_stats(dg_policy *p, size_t i, const char **label, unsigned long *calls,
                             unsigned long *errors);

/* Stop threads and free. NULL is fine. */
void dg_policy_free(dg_policy *p);

/* Wait until the backend has started (eth, near with async_start: first snapshot
 * taken or failed). Returns 1, or 0 with err set to why the start failed.
 * Immediate for the other backends. */
int dg_policy_wait_ready(dg_policy *p, dg_err *err);

/* Name of a route: "app" or "kms". */
const char *dg_route_name(dg_route route);

#endif
