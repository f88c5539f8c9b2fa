/* eth.c — the Ethereum backend: DstackKms decisions at one snapshot block.
 *
 * The one idea: a background thread tracks a *snapshot block* (latest, safe,
 * finalized, or head minus N) and the chain id; a decision reads everything
 * it needs — eth_chainId, isAppAllowed/isKmsAllowed and gatewayAppId() — at
 * that block's hash in ONE JSON-RPC batch, so the answer and the gateway id always come
 * from the same state and a miss costs one round trip (the gateway id, the
 * same for every decision in a block, is fetched with the block's first miss). Decisions
 * are cached by (block hash, route, canonical BootInfo): a new block is a new
 * key, so a revocation is seen as soon as its block becomes the snapshot.
 * Concurrent misses on one key wait for the first one's round trip; errors
 * are never cached. Every failure is a deny:
 *
 *   chain id differs from the pinned one  "authorization backend chain ID mismatch"
 *   endpoints disagree (quorum)           "RPC endpoints disagree"
 *   anything else (down, slow, garbage)   "authorization backend unavailable"
 *
 * with the precise cause in dg_decision.detail, which goes to the decision
 * log only (it may name an endpoint; the KMS gets the fixed reason).
 */
#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dstackgov/hex.h"
#include "dstackgov/rpc.h"
#include "internal.h"

#define SEL_IS_APP_ALLOWED "1e079198"
#define SEL_IS_KMS_ALLOWED "e067ec9d"
#define SEL_GATEWAY_APP_ID "95f51931"
#define SEL_APP_IMPLEMENTATION "25a992da"

#define REASON_CHAIN "authorization backend chain ID mismatch"
#define REASON_DISAGREE "RPC endpoints disagree"

typedef struct {
    uint64_t h;
    uint8_t *key;
    size_t klen;
    int allowed;
    char *reason, *gateway;
    uint64_t block;
    int ep;
} cache_slot;

typedef struct flight {
    struct flight *next;
    uint64_t h;
    const uint8_t *key; /* the leader's key, valid until done */
    size_t klen;
    int done, refs;
    dg_decision result;
} flight;

typedef struct {
    int valid; /* a usable snapshot */
    uint64_t number;
    uint8_t hash[32];
    char hash_hex[67];
    long long at_ms; /* when it was last confirmed */
    int chain_bad;   /* the endpoint reports another chain */
    char err[300];   /* why not valid */
} snapshot;

typedef char label_t[160];

typedef struct {
    struct dg_policy base;
    dg_eth_policy_opts o;
    char **urls;
    size_t nurls;
    uint8_t kms[20];
    char kms_hex[43];     /* "0x" + lowercase, for eth_call */
    char kms_display[43]; /* EIP-55 */
    uint64_t chain_id;
    char chain_hex[24]; /* "0x..." as eth_chainId returns it */
    label_t *labels;

    /* RPC clients: one for the poller, a pool for decisions. */
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
    snapshot snap;
    int init_state; /* 0 starting, 1 started, -1 start failed (under snap_mu) */
    dg_err init_err;
    pthread_cond_t ready_cv;

    pthread_mutex_t cache_mu;
    pthread_cond_t cache_cv;
    cache_slot *slots;
    size_t nslots;
    flight *flights;
    unsigned long long hits, misses, shared, snap_updates, snap_errors;

    pthread_mutex_t gw_mu; /* gatewayAppId() of one block */
    int gw_valid;
    uint8_t gw_hash[32];
    char gw_value[DG_GATEWAY_MAX];

    pthread_mutex_t info_mu;
    long long info_at_ms;
    int info_valid;
    dg_policy_info info;

    pthread_t poller;
    int poller_started;
    pthread_mutex_t stop_mu;
    pthread_cond_t stop_cv;
    int stop;
} eth_policy;

/* ---------------------------------------------------------------- helpers */

static void logm(eth_policy *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logm(eth_policy *e, const char *fmt, ...) {
    char m[600];
    va_list ap;
    if (!e->o.log) return;
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    e->o.log(e->o.log_ctx, m);
}

static uint64_t fnv1a(const uint8_t *p, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

/* Parse a JSON-RPC quantity "0x1a" into v. */
static int parse_quantity(json_t *j, uint64_t *v) {
    const char *s;
    uint64_t x = 0;
    if (!json_is_string(j)) return 0;
    s = json_string_value(j);
    if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X') || !s[2] || strlen(s) > 18) return 0;
    for (s += 2; *s; s++) {
        int d = (*s >= '0' && *s <= '9')   ? *s - '0'
                : (*s >= 'a' && *s <= 'f') ? *s - 'a' + 10
                : (*s >= 'A' && *s <= 'F') ? *s - 'A' + 10
                                           : -1;
        if (d < 0) return 0;
        x = x << 4 | (uint64_t)d;
    }
    *v = x;
    return 1;
}

/* Decode a JSON "0x..." data string into buf. */
static int parse_data(json_t *j, dg_buf *out) {
    if (!json_is_string(j)) return 0;
    return dg_hex_decode_var(json_string_value(j), json_string_length(j), out, NULL);
}

/* Read a uint256 word at off as size_t (must fit in 32 bits). */
static int word_size(const uint8_t *d, size_t len, size_t off, size_t *v) {
    if (off > len || len - off < 32) return 0;
    for (size_t i = 0; i < 28; i++)
        if (d[off + i]) return 0;
    *v = (size_t)d[off + 28] << 24 | (size_t)d[off + 29] << 16 | (size_t)d[off + 30] << 8 |
         d[off + 31];
    return 1;
}

/* ABI string whose offset word is at head_off (relative to base). */
static int abi_string(const uint8_t *d, size_t len, size_t base, size_t head_off, const uint8_t **s,
                      size_t *n) {
    size_t off, slen;
    if (!word_size(d, len, base + head_off, &off)) return 0;
    if (off > len - base) return 0;
    if (!word_size(d, len, base + off, &slen)) return 0;
    size_t start = base + off + 32;
    if (slen > len - start) return 0;
    *s = d + start;
    *n = slen;
    return 1;
}

/* Decode `(bool,string)`. */
static int decode_bool_string(const uint8_t *d, size_t len, int *b, const uint8_t **s, size_t *n) {
    size_t v;
    if (!word_size(d, len, 0, &v) || v > 1) return 0;
    *b = (int)v;
    return abi_string(d, len, 0, 32, s, n);
}

static void hex_word(dg_buf *b, const uint8_t *p, size_t n) {
    static const char hx[] = "0123456789abcdef";
    uint8_t w[32] = {0};
    memcpy(w + 32 - n, p, n);
    for (size_t i = 0; i < 32; i++) {
        dg_buf_push(b, (uint8_t)hx[w[i] >> 4]);
        dg_buf_push(b, (uint8_t)hx[w[i] & 15]);
    }
}

static void hex_u(dg_buf *b, size_t v) {
    uint8_t w[8];
    for (int i = 0; i < 8; i++)
        w[i] = (uint8_t)(v >> (56 - 8 * i));
    hex_word(b, w, 8);
}

static void hex_padded_bytes(dg_buf *b, const uint8_t *p, size_t n) {
    static const char hx[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        dg_buf_push(b, (uint8_t)hx[p[i] >> 4]);
        dg_buf_push(b, (uint8_t)hx[p[i] & 15]);
    }
    for (size_t i = n; i % 32; i++)
        dg_buf_puts(b, "00");
}

static size_t pad32(size_t n) {
    return (n + 31) / 32 * 32;
}

/* Calldata (0x-hex) for isAppAllowed/isKmsAllowed(T) with
 * T = (address,bytes32,address,bytes32,bytes32,bytes32,bytes32,string,string[]).
 * Written directly (fixed layout) rather than through a value tree: this is
 * the hot path of every miss. tests/unit/test_bootinfo.c checks it against
 * the general ABI encoder. */
int dg_policy_eth_calldata(const dg_bootinfo *bi, dg_route route, dg_buf *out) {
    dg_buf_puts(out, "0x");
    dg_buf_puts(out, route == DG_ROUTE_KMS ? SEL_IS_KMS_ALLOWED : SEL_IS_APP_ALLOWED);
    hex_u(out, 32); /* offset of the dynamic tuple */
    hex_word(out, bi->app_id, 20);
    hex_word(out, bi->compose_hash, 32);
    hex_word(out, bi->instance_id, 20);
    hex_word(out, bi->device_id, 32);
    hex_word(out, bi->mr_aggregated, 32);
    hex_word(out, bi->mr_system, 32);
    hex_word(out, bi->os_image_hash, 32);
    size_t head = 9 * 32;
    hex_u(out, head);
    hex_u(out, head + 32 + pad32(bi->tcb_len));
    hex_u(out, bi->tcb_len);
    hex_padded_bytes(out, (const uint8_t *)bi->tcb_status, bi->tcb_len);
    hex_u(out, bi->n_advisory);
    size_t off = 32 * bi->n_advisory;
    for (size_t i = 0; i < bi->n_advisory; i++) {
        hex_u(out, off);
        off += 32 + pad32(bi->adv_len[i]);
    }
    for (size_t i = 0; i < bi->n_advisory; i++) {
        size_t n;
        const char *s = dg_bootinfo_advisory(bi, i, &n);
        hex_u(out, n);
        hex_padded_bytes(out, (const uint8_t *)s, n);
    }
    dg_buf_push(out, 0);
    out->len--;
    return !out->oom;
}

/* A human sentence for revert data: Error(string), Panic(uint256), else the selector. */
static void describe_revert(json_t *data, char *out, size_t cap) {
    dg_buf b;
    const char *s = NULL;
    if (json_is_object(data)) data = json_object_get(data, "data");
    if (!json_is_string(data)) {
        snprintf(out, cap, "no revert data");
        return;
    }
    s = json_string_value(data);
    dg_buf_init(&b);
    if (!dg_hex_decode_var(s, strlen(s), &b, NULL) || b.len < 4) {
        snprintf(out, cap, "no revert data");
    } else if (memcmp(b.data, "\x08\xc3\x79\xa0", 4) == 0) {
        const uint8_t *m;
        size_t n;
        if (abi_string(b.data + 4, b.len - 4, 0, 0, &m, &n)) {
            char t[300];
            dg_policy_copy_text(t, sizeof t, (const char *)m, n);
            snprintf(out, cap, "%s", t);
        } else
            snprintf(out, cap, "malformed Error(string)");
    } else if (memcmp(b.data, "\x4e\x48\x7b\x71", 4) == 0 && b.len == 36) {
        snprintf(out, cap, "panic 0x%02x", b.data[35]);
    } else {
        snprintf(out, cap, "unknown error 0x%02x%02x%02x%02x", b.data[0], b.data[1], b.data[2],
                 b.data[3]);
    }
    dg_buf_free(&b);
}

/* ---------------------------------------------------------------- RPC pool */

/* The CLOCK_REALTIME time ms milliseconds from now (pthread_cond_timedwait). */
static void realtime_in(long long ms, struct timespec *ts) {
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (ms % 1000) * 1000000;
    if (ts->tv_nsec >= 1000000000) ts->tv_sec++, ts->tv_nsec -= 1000000000;
}

static dg_rpc *pool_get(eth_policy *e, long long deadline, int *slot) {
    dg_rpc *r = NULL;
    pthread_mutex_lock(&e->pool_mu);
    while (!e->nfree) {
        long long now = dg_policy_now_ms();
        if (now >= deadline) break;
        struct timespec ts;
        realtime_in(deadline - now, &ts);
        pthread_cond_timedwait(&e->pool_cv, &e->pool_mu, &ts);
    }
    if (e->nfree) {
        *slot = e->pool_free[--e->nfree];
        r = e->pool[*slot];
    }
    pthread_mutex_unlock(&e->pool_mu);
    return r;
}

/* Copy client k's counters (the caller owns the client). */
static void stats_copy_locked(eth_policy *e, size_t k, const dg_rpc *rpc) {
    for (size_t i = 0; i < e->nurls; i++)
        dg_rpc_stats(rpc, i, &e->st_calls[k * e->nurls + i], &e->st_errors[k * e->nurls + i]);
}

static void pool_put(eth_policy *e, int slot) {
    pthread_mutex_lock(&e->pool_mu);
    stats_copy_locked(e, (size_t)slot, e->pool[slot]);
    e->pool_used[slot] = dg_policy_now_ms();
    e->pool_free[e->nfree++] = slot;
    pthread_cond_signal(&e->pool_cv);
    pthread_mutex_unlock(&e->pool_mu);
}

/* Map an RPC failure to a deny. */
static void deny_rpc(dg_decision *d, const dg_err *err) {
    char m[DG_REASON_MAX];
    if (err->code == DG_ERR_DISAGREE)
        snprintf(m, sizeof m, "%s", REASON_DISAGREE);
    else if (err->code == DG_ERR_CHAIN_ID)
        snprintf(m, sizeof m, "%s", REASON_CHAIN);
    else
        snprintf(m, sizeof m, "%s", DG_REASON_UNAVAILABLE);
    dg_decision_deny(d, 1, m);
    dg_policy_copy_text(d->detail, sizeof d->detail, err->msg, strlen(err->msg));
}

/* ---------------------------------------------------------------- snapshot */

/* The block tag of a snapshot mode: NULL for head-minus-N (confirmations).
 * Called once auto is resolved (the start resolves it to finalized or latest). */
static const char *snapshot_tag(dg_snapshot_mode m) {
    return m == DG_SNAP_SAFE            ? "safe"
           : m == DG_SNAP_FINALIZED     ? "finalized"
           : m == DG_SNAP_CONFIRMATIONS ? NULL
                                        : "latest";
}

static int block_params(eth_policy *e, const char *tag, uint64_t number, json_t **params) {
    char q[24];
    (void)e;
    if (!tag) snprintf(q, sizeof q, "0x%llx", (unsigned long long)number);
    *params = json_pack("[sb]", tag ? tag : q, 0);
    return *params != NULL;
}

/* The snapshot from an eth_getBlockByNumber answer (tag NULL: head - N). */
static int snap_from_block(const dg_rpc_req *r, const char *tag, snapshot *s, dg_err *err) {
    uint64_t num = 0;
    if (!r->ok || !json_is_object(r->result))
        return dg_err_set(err, DG_ERR_RPC_RESPONSE, "eth_getBlockByNumber(%s): %s",
                          tag ? tag : "head-N", r->ok ? "no such block" : r->error);
    json_t *hash = json_object_get(r->result, "hash");
    if (!parse_quantity(json_object_get(r->result, "number"), &num) || !json_is_string(hash) ||
        !dg_hex_decode(json_string_value(hash), json_string_length(hash), s->hash, 32, NULL))
        return dg_err_set(err, DG_ERR_RPC_RESPONSE, "eth_getBlockByNumber: malformed block");
    s->number = num;
    dg_hex_encode_0x(s->hash, 32, s->hash_hex);
    s->valid = 1;
    s->at_ms = dg_policy_now_ms();
    return 1;
}

/* One poll: chain id + the snapshot block. Fills s; returns 1 when valid. */
static int poll_once(eth_policy *e, snapshot *s, dg_err *err) {
    dg_rpc_req r[2];
    const char *tag = snapshot_tag(e->o.snapshot);
    uint64_t cid = 0, head = 0;
    memset(r, 0, sizeof r);
    memset(s, 0, sizeof *s);
    dg_rpc_set_deadline(e->poll_rpc, dg_policy_now_ms() + e->o.deadline_ms);
    r[0].method = "eth_chainId";
    if (tag) {
        r[1].method = "eth_getBlockByNumber";
        block_params(e, tag, 0, &r[1].params);
    } else {
        r[1].method = "eth_blockNumber";
    }
    if (!dg_rpc_batch(e->poll_rpc, r, 2, err)) goto fail;
    if (!r[0].ok || !parse_quantity(r[0].result, &cid)) {
        dg_err_set(err, DG_ERR_RPC_RESPONSE, "rpc %s: %s",
                   dg_rpc_endpoint_label(e->poll_rpc, dg_rpc_last_endpoint(e->poll_rpc)),
                   r[0].ok ? "eth_chainId: not a quantity" : r[0].error);
        goto fail;
    }
    if (cid != e->chain_id) {
        s->chain_bad = 1;
        dg_err_set(err, DG_ERR_CHAIN_ID, "rpc %s: chain id %llu, expected %llu",
                   dg_rpc_endpoint_label(e->poll_rpc, dg_rpc_last_endpoint(e->poll_rpc)),
                   (unsigned long long)cid, (unsigned long long)e->chain_id);
        goto fail;
    }
    if (!tag) {
        if (!r[1].ok || !parse_quantity(r[1].result, &head)) {
            dg_err_set(err, DG_ERR_RPC_RESPONSE, "eth_blockNumber: %s",
                       r[1].ok ? "not a quantity" : r[1].error);
            goto fail;
        }
        if (head < e->o.confirmations) {
            dg_err_set(err, DG_ERR_RPC_RESPONSE,
                       "chain head %llu is below the %llu confirmations required",
                       (unsigned long long)head, (unsigned long long)e->o.confirmations);
            goto fail;
        }
        dg_rpc_req_clear(r, 2);
        memset(r, 0, sizeof r);
        r[0].method = "eth_getBlockByNumber";
        block_params(e, NULL, head - e->o.confirmations, &r[0].params);
        if (!dg_rpc_batch(e->poll_rpc, r, 1, err)) goto fail;
        json_t *t = r[0].result;
        r[0].result = r[1].result;
        r[1].result = t;
        r[1].ok = r[0].ok;
        snprintf(r[1].error, sizeof r[1].error, "%s", r[0].error);
    }
    if (!snap_from_block(&r[1], tag, s, err)) goto fail;
    dg_rpc_req_clear(r, 2);
    return 1;
fail:
    dg_rpc_req_clear(r, 2);
    dg_policy_copy_text(s->err, sizeof s->err, err->msg, strlen(err->msg));
    return 0;
}

/* The KMS contract at the head: it has code and gatewayAppId() answers
 * with an ABI string (a reload pointing at a wrong address is refused, as a
 * start is). At the head, not the snapshot: a contract deployed after the
 * finalized block is present, and decisions deny until finality reaches it. */
static int kms_present(eth_policy *e, const dg_rpc_req *code, const dg_rpc_req *gw, dg_err *err) {
    dg_buf c, g;
    dg_buf_init(&c);
    dg_buf_init(&g);
    const uint8_t *gs;
    size_t gn;
    int ok = 1;
    if (!code->ok || !parse_data(code->result, &c))
        ok = dg_err_set(err, DG_ERR_RPC_RESPONSE, "eth_getCode: %s",
                        code->ok ? "not hex data" : code->error);
    else if (c.len == 0)
        ok = dg_err_set(err, DG_ERR_CONFIG, "KMS contract %s: no contract code on chain %llu",
                        e->kms_display, (unsigned long long)e->chain_id);
    else if (!gw->ok || !parse_data(gw->result, &g) || !abi_string(g.data, g.len, 0, 0, &gs, &gn))
        ok = dg_err_set(err, DG_ERR_CONFIG,
                        "KMS contract %s: gatewayAppId() does not answer as a DstackKms (%s)",
                        e->kms_display, gw->ok ? "malformed answer" : gw->error);
    dg_buf_free(&c);
    dg_buf_free(&g);
    return ok;
}

/* The start, on the snapshot thread: learn or check the chain id, check the
 * KMS contract and take the first snapshot. Returns 1, or 0 with err set. */
static int first_snapshot(eth_policy *e, dg_err *err) {
    /* Learn or check the chain id, check the contract and take the first
     * snapshot in one round trip (for `auto`, both candidate blocks), so the
     * first request is answered at once. Without a quorum it goes through the
     * pool client the first miss will use, whose connection is then already
     * open. */
    dg_rpc_req r[5];
    memset(r, 0, sizeof r);
    size_t nr = 4;
    int slot = -1;
    dg_rpc *rpc0 =
        e->o.quorum ? e->poll_rpc : pool_get(e, dg_policy_now_ms() + e->o.deadline_ms, &slot);
    /* auto asks for "finalized" and, below, "latest" too */
    const char *tag = e->o.snapshot == DG_SNAP_AUTO ? "finalized" : snapshot_tag(e->o.snapshot);
    r[0].method = "eth_chainId";
    if (tag) {
        r[1].method = "eth_getBlockByNumber";
        block_params(e, tag, 0, &r[1].params);
    } else
        r[1].method = "eth_blockNumber";
    r[2].method = "eth_getCode";
    r[2].params = json_pack("[ss]", e->kms_hex, "latest");
    r[3].method = "eth_call";
    r[3].params =
        json_pack("[{s:s,s:s}s]", "to", e->kms_hex, "data", "0x" SEL_GATEWAY_APP_ID, "latest");
    if (e->o.snapshot == DG_SNAP_AUTO) {
        r[4].method = "eth_getBlockByNumber";
        block_params(e, "latest", 0, &r[4].params);
        nr = 5;
    }
    dg_rpc_set_deadline(rpc0, dg_policy_now_ms() + e->o.deadline_ms);
    int bok = dg_rpc_batch(rpc0, r, nr, err);
    size_t ep0 = dg_rpc_last_endpoint(rpc0) < e->nurls ? dg_rpc_last_endpoint(rpc0) : 0;
    if (slot >= 0) pool_put(e, slot);
    if (!bok) goto fail_r;
    uint64_t cid;
    if (!r[0].ok || !parse_quantity(r[0].result, &cid)) {
        dg_err_set(err, DG_ERR_RPC_RESPONSE, "rpc %s: %s", e->labels[ep0],
                   r[0].ok ? "eth_chainId: not a quantity" : r[0].error);
        goto fail_r;
    }
    if (e->o.chain_id && cid != e->o.chain_id) {
        dg_err_set(err, DG_ERR_CHAIN_ID, "rpc %s: chain id %llu, expected %llu", e->labels[ep0],
                   (unsigned long long)cid, (unsigned long long)e->o.chain_id);
        goto fail_r;
    }
    e->chain_id = cid;
    snprintf(e->chain_hex, sizeof e->chain_hex, "0x%llx", (unsigned long long)cid);
    if (!kms_present(e, &r[2], &r[3], err)) goto fail_r;

    /* Auto snapshot: decide from finalized state wherever the chain has it
     * (a reorg cannot then resurrect a revoked measurement); a local dev chain
     * finalizes far behind its head and would hide every fresh change. */
    const dg_rpc_req *blk = tag ? &r[1] : NULL;
    if (e->o.snapshot == DG_SNAP_AUTO) {
        int has_final = cid != 31337 && cid != 1337 && r[1].ok && json_is_object(r[1].result);
        e->o.snapshot = has_final ? DG_SNAP_FINALIZED : DG_SNAP_LATEST;
        blk = has_final ? &r[1] : &r[4];
        tag = has_final ? "finalized" : "latest";
        if (e->o.log) {
            char m[160];
            snprintf(m, sizeof m, "snapshot auto: %s (chain %llu %s)",
                     has_final ? "finalized" : "latest", (unsigned long long)cid,
                     has_final                       ? "reports finalized blocks"
                     : (cid == 31337 || cid == 1337) ? "is a local dev chain"
                                                     : "has no finalized tag");
            e->o.log(e->o.log_ctx, m);
        }
    }

    snapshot s;
    memset(&s, 0, sizeof s);
    if (blk ? !snap_from_block(blk, tag, &s, err) : !poll_once(e, &s, err)) {
        dg_err_wrap(err, "first snapshot block");
        goto fail_r;
    }
    dg_rpc_req_clear(r, 5);
    pthread_mutex_lock(&e->pool_mu);
    stats_copy_locked(e, e->npool, e->poll_rpc);
    pthread_mutex_unlock(&e->pool_mu);
    pthread_mutex_lock(&e->snap_mu);
    e->snap = s;
    e->snap_updates = 1;
    pthread_mutex_unlock(&e->snap_mu);
    return 1;
fail_r:
    dg_rpc_req_clear(r, 5);
    return 0;
}

/* A cache miss must not pay a TCP and TLS handshake (two or three round
 * trips to a remote provider, the TLS ones the costly part): the pool's
 * connections are opened at start and kept open. A free client idle for
 * KEEP_WARM_MS (every client at start) asks eth_chainId, which providers
 * answer from memory; at most `max` clients per call, never waiting for a
 * busy one, so a decision never waits for this. Only with an https://
 * endpoint, where the handshake is what a miss would pay. */
#define KEEP_WARM_MS 15000
static void keep_warm(eth_policy *e, size_t max) {
    for (size_t done = 0; done < max; done++) {
        long long now = dg_policy_now_ms();
        int slot = -1;
        pthread_mutex_lock(&e->pool_mu);
        for (size_t k = 0; k < e->nfree && slot < 0; k++)
            if (now - e->pool_used[e->pool_free[k]] >= KEEP_WARM_MS) {
                slot = e->pool_free[k];
                memmove(&e->pool_free[k], &e->pool_free[k + 1],
                        (e->nfree - k - 1) * sizeof *e->pool_free);
                e->nfree--;
            }
        pthread_mutex_unlock(&e->pool_mu);
        if (slot < 0) return;
        dg_rpc *rpc = e->pool[slot];
        json_t *res = NULL;
        dg_err err = {0};
        dg_rpc_set_deadline(rpc, now + e->o.rpc_timeout_ms);
        if (dg_rpc_call(rpc, "eth_chainId", NULL, &res, &err)) json_decref(res);
        pool_put(e, slot);
    }
}

static void *poller_main(void *arg) {
    eth_policy *e = arg;
    int was_ok = 1;
    dg_err ierr = {0};
    int started = first_snapshot(e, &ierr);
    pthread_mutex_lock(&e->snap_mu);
    e->init_state = started ? 1 : -1;
    e->init_err = ierr;
    pthread_cond_broadcast(&e->ready_cv);
    pthread_mutex_unlock(&e->snap_mu);
    if (!started) return NULL;
    if (e->keep_warm) keep_warm(e, e->npool);
    for (;;) {
        pthread_mutex_lock(&e->stop_mu);
        if (!e->stop) {
            struct timespec ts;
            realtime_in(e->o.refresh_ms, &ts);
            pthread_cond_timedwait(&e->stop_cv, &e->stop_mu, &ts);
        }
        int stop = e->stop;
        pthread_mutex_unlock(&e->stop_mu);
        if (stop) break;
        snapshot s;
        dg_err err = {0};
        int ok = poll_once(e, &s, &err);
        pthread_mutex_lock(&e->pool_mu);
        stats_copy_locked(e, e->npool, e->poll_rpc);
        pthread_mutex_unlock(&e->pool_mu);
        pthread_mutex_lock(&e->snap_mu);
        int changed = ok && (!e->snap.valid || memcmp(e->snap.hash, s.hash, 32) != 0);
        e->snap = s;
        if (ok)
            e->snap_updates += changed;
        else
            e->snap_errors++;
        pthread_mutex_unlock(&e->snap_mu);
        if (!ok && was_ok) logm(e, "snapshot unavailable, denying until it recovers: %s", err.msg);
        if (ok && !was_ok)
            logm(e, "snapshot recovered at block %llu", (unsigned long long)s.number);
        was_ok = ok;
        if (e->keep_warm) keep_warm(e, 1);
    }
    return NULL;
}

/* ---------------------------------------------------------------- cache */

static void slot_clear(cache_slot *c) {
    free(c->key);
    free(c->reason);
    free(c->gateway);
    memset(c, 0, sizeof *c);
}

static int cache_lookup(eth_policy *e, uint64_t h, const uint8_t *key, size_t klen,
                        dg_decision *d) {
    cache_slot *c = &e->slots[h % e->nslots];
    if (!c->key || c->h != h || c->klen != klen || memcmp(c->key, key, klen) != 0) return 0;
    d->allowed = c->allowed;
    /* both were copied from a dg_decision, so they fit */
    memcpy(d->reason, c->reason, strlen(c->reason) + 1);
    memcpy(d->gateway_app_id, c->gateway, strlen(c->gateway) + 1);
    if (c->ep >= 0 && (size_t)c->ep < e->nurls)
        snprintf(d->endpoint, sizeof d->endpoint, "%s", e->labels[c->ep]);
    d->cached = 1;
    return 1;
}

static void cache_store(eth_policy *e, uint64_t h, const uint8_t *key, size_t klen,
                        const dg_decision *d, int ep) {
    cache_slot *c = &e->slots[h % e->nslots];
    cache_slot n = {h,
                    malloc(klen),
                    klen,
                    d->allowed,
                    strdup(d->reason),
                    strdup(d->gateway_app_id),
                    d->block_number,
                    ep};
    if (!n.key || !n.reason || !n.gateway) {
        slot_clear(&n);
        return;
    }
    memcpy(n.key, key, klen);
    slot_clear(c);
    *c = n;
}

/* ---------------------------------------------------------------- decide */

/* gatewayAppId() is a KMS-wide value: fetched once per snapshot block (in the
 * first miss's batch) and reused for that block, so a later miss in the same
 * block is a single eth_call. Returns 1 and copies it when known for hash. */
static int gateway_cached(eth_policy *e, const uint8_t hash[32], char *out, size_t cap) {
    int ok = 0;
    pthread_mutex_lock(&e->gw_mu);
    if (e->gw_valid && memcmp(e->gw_hash, hash, 32) == 0) {
        snprintf(out, cap, "%s", e->gw_value);
        ok = 1;
    }
    pthread_mutex_unlock(&e->gw_mu);
    return ok;
}

static void gateway_store(eth_policy *e, const uint8_t hash[32], const char *v) {
    pthread_mutex_lock(&e->gw_mu);
    memcpy(e->gw_hash, hash, 32);
    snprintf(e->gw_value, sizeof e->gw_value, "%s", v);
    e->gw_valid = 1;
    pthread_mutex_unlock(&e->gw_mu);
}

/* The RPC round trip for one miss: eth_chainId, isAppAllowed/isKmsAllowed and
 * (once per block) gatewayAppId() at the snapshot block's hash, in one batch.
 * The chain id is checked here as well as by the poller because failover or
 * a quorum may put another endpoint behind this answer; it costs the node
 * nothing next to an eth_call. Returns the endpoint index or -1 (an error:
 * not cached); fills d. */
static int fetch_decision(eth_policy *e, dg_route route, const dg_bootinfo *bi, const snapshot *s,
                          long long deadline, dg_decision *d) {
    dg_err err = {0};
    int slot, ep = -1;
    int have_gw = gateway_cached(e, s->hash, d->gateway_app_id, sizeof d->gateway_app_id);
    size_t n = have_gw ? 2 : 3;
    dg_rpc *rpc = pool_get(e, deadline, &slot);
    if (!rpc) {
        err.code = DG_ERR_RPC_TIMEOUT;
        snprintf(err.msg, sizeof err.msg, "no RPC client free before the deadline");
        deny_rpc(d, &err);
        return -1;
    }
    dg_buf data;
    dg_buf_init(&data);
    dg_rpc_req r[3];
    memset(r, 0, sizeof r);
    if (!dg_policy_eth_calldata(bi, route, &data)) {
        dg_buf_free(&data);
        err.code = DG_ERR_NOMEM;
        snprintf(err.msg, sizeof err.msg, "out of memory");
        deny_rpc(d, &err);
        goto out;
    }
    r[0].method = "eth_chainId";
    r[1].method = "eth_call";
    r[1].params = json_pack("[{s:s,s:s}{s:s}]", "to", e->kms_hex, "data", (const char *)data.data,
                            "blockHash", s->hash_hex);
    if (!have_gw) {
        r[2].method = "eth_call";
        r[2].params = json_pack("[{s:s,s:s}{s:s}]", "to", e->kms_hex, "data",
                                "0x" SEL_GATEWAY_APP_ID, "blockHash", s->hash_hex);
    }
    dg_buf_free(&data);
    if (!r[1].params || (!have_gw && !r[2].params)) {
        dg_rpc_req_clear(r, 3);
        err.code = DG_ERR_NOMEM;
        snprintf(err.msg, sizeof err.msg, "out of memory");
        deny_rpc(d, &err);
        goto out;
    }
    dg_rpc_set_deadline(rpc, deadline);
    if (!dg_rpc_batch(rpc, r, n, &err)) {
        deny_rpc(d, &err);
        goto out_clear;
    }
    ep = (int)dg_rpc_last_endpoint(rpc);
    if (ep >= 0 && (size_t)ep < e->nurls)
        snprintf(d->endpoint, sizeof d->endpoint, "%s", e->labels[ep]);
    const char *label = d->endpoint;
    uint64_t cid;
    if (!r[0].ok || !parse_quantity(r[0].result, &cid)) {
        dg_err_set(&err, DG_ERR_RPC_RESPONSE, "rpc %s: %s", label,
                   r[0].ok ? "eth_chainId: not a quantity" : r[0].error);
        deny_rpc(d, &err);
        ep = -1;
        goto out_clear;
    }
    if (cid != e->chain_id) {
        dg_err_set(&err, DG_ERR_CHAIN_ID, "rpc %s: chain id %llu, expected %llu", label,
                   (unsigned long long)cid, (unsigned long long)e->chain_id);
        deny_rpc(d, &err);
        ep = -1;
        goto out_clear;
    }
    if (!r[1].ok) {
        if (r[1].error_data || strstr(r[1].error, "revert")) {
            char why[300];
            describe_revert(r[1].error_data, why, sizeof why);
            snprintf(d->reason, sizeof d->reason, "policy contract reverted: %s", why);
            dg_policy_copy_text(d->detail, sizeof d->detail, r[1].error, strlen(r[1].error));
            d->allowed = 0;
            d->error = 1;
        } else {
            dg_err_set(&err, DG_ERR_RPC_RESPONSE, "rpc %s: %s", label, r[1].error);
            deny_rpc(d, &err);
        }
        ep = -1;
        goto out_clear;
    }
    dg_buf out1, out2;
    dg_buf_init(&out1);
    dg_buf_init(&out2);
    const uint8_t *rs = NULL, *gs = NULL;
    size_t rn = 0, gn = 0;
    int allowed = 0;
    if (!parse_data(r[1].result, &out1) ||
        !decode_bool_string(out1.data, out1.len, &allowed, &rs, &rn)) {
        dg_err_set(&err, DG_ERR_RPC_RESPONSE, "rpc %s: %s returned malformed (bool,string)", label,
                   route == DG_ROUTE_KMS ? "isKmsAllowed" : "isAppAllowed");
        deny_rpc(d, &err);
        ep = -1;
    } else if (!have_gw && (!r[2].ok || !parse_data(r[2].result, &out2) ||
                            !abi_string(out2.data, out2.len, 0, 0, &gs, &gn))) {
        dg_err_set(&err, DG_ERR_RPC_RESPONSE, "rpc %s: gatewayAppId(): %s", label,
                   r[2].ok ? "malformed string" : r[2].error);
        deny_rpc(d, &err);
        ep = -1;
    } else if (!have_gw && gn >= DG_GATEWAY_MAX) {
        dg_err_set(&err, DG_ERR_RPC_RESPONSE, "gatewayAppId() is longer than %d bytes",
                   DG_GATEWAY_MAX - 1);
        deny_rpc(d, &err);
        ep = -1;
    } else {
        d->allowed = allowed;
        dg_policy_copy_text(d->reason, sizeof d->reason, (const char *)rs, rn);
        if (!have_gw) {
            dg_policy_copy_text(d->gateway_app_id, sizeof d->gateway_app_id,
                                gs ? (const char *)gs : "", gn);
            gateway_store(e, s->hash, d->gateway_app_id);
        }
        if (!allowed && !d->reason[0])
            snprintf(d->reason, sizeof d->reason, "denied by the contract");
    }
    dg_buf_free(&out1);
    dg_buf_free(&out2);
out_clear:
    dg_rpc_req_clear(r, 3);
out:
    if (ep < 0 && d->error) d->gateway_app_id[0] = 0; /* a failure carries no gateway id */
    pool_put(e, slot);
    return ep;
}

/* Wait for the start until deadline_ms (absolute; < 0: no limit). */
static int wait_started(eth_policy *e, long long deadline_ms, dg_err *err) {
    pthread_mutex_lock(&e->snap_mu);
    while (e->init_state == 0) {
        if (deadline_ms < 0) {
            pthread_cond_wait(&e->ready_cv, &e->snap_mu);
            continue;
        }
        long long now = dg_policy_now_ms();
        if (now >= deadline_ms) break;
        struct timespec ts;
        realtime_in(deadline_ms - now, &ts);
        pthread_cond_timedwait(&e->ready_cv, &e->snap_mu, &ts);
    }
    int st = e->init_state;
    if (st < 0) *err = e->init_err;
    pthread_mutex_unlock(&e->snap_mu);
    if (st == 0)
        return dg_err_set(err, DG_ERR_RPC_TIMEOUT,
                          "backend still starting (first snapshot block not taken)");
    return st > 0;
}

static int eth_wait_ready(dg_policy *p, dg_err *err) {
    return wait_started((eth_policy *)p, -1, err);
}

/* Decide, with the deadline counted from start. may_block 0: return 0
 * (d untouched but for block fields) where the decision would wait — the
 * start not finished, a miss, or the same miss in flight; 1 when decided. */
static int eth_try_decide(dg_policy *p, dg_route route, const dg_bootinfo *bi, dg_decision *d,
                          long long start, int may_block) {
    eth_policy *e = (eth_policy *)p;
    snapshot s;
    dg_err ierr = {0};
    if (!may_block) {
        pthread_mutex_lock(&e->snap_mu);
        int st = e->init_state;
        pthread_mutex_unlock(&e->snap_mu);
        if (st == 0) return 0;
    }
    if (!wait_started(e, start + e->o.deadline_ms, &ierr)) {
        deny_rpc(d, &ierr);
        return 1;
    }
    pthread_mutex_lock(&e->snap_mu);
    s = e->snap;
    pthread_mutex_unlock(&e->snap_mu);
    if (!s.valid || start - s.at_ms > e->o.max_snapshot_age_ms) {
        dg_err err = {s.chain_bad ? DG_ERR_CHAIN_ID : DG_ERR_RPC_UNREACHABLE, ""};
        if (s.valid)
            snprintf(err.msg, sizeof err.msg, "snapshot not refreshed for %lld ms",
                     start - s.at_ms);
        else
            snprintf(err.msg, sizeof err.msg, "no snapshot block: %s", s.err);
        deny_rpc(d, &err);
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
        deny_rpc(d, &err);
        return 1;
    }
    uint64_t h = fnv1a(key.data, key.len);

    pthread_mutex_lock(&e->cache_mu);
    if (cache_lookup(e, h, key.data, key.len, d)) {
        e->hits++;
        pthread_mutex_unlock(&e->cache_mu);
        dg_buf_free(&key);
        return 1;
    }
    for (flight *f = e->flights; f; f = f->next)
        if (f->h == h && f->klen == key.len && memcmp(f->key, key.data, key.len) == 0) {
            if (!may_block) {
                pthread_mutex_unlock(&e->cache_mu);
                dg_buf_free(&key);
                return 0;
            }
            /* Another thread is fetching this very decision: wait for it. */
            f->refs++;
            e->shared++;
            while (!f->done)
                pthread_cond_wait(&e->cache_cv, &e->cache_mu);
            *d = f->result;
            d->cached = 1;
            if (--f->refs == 0) free(f);
            pthread_mutex_unlock(&e->cache_mu);
            dg_buf_free(&key);
            return 1;
        }
    if (!may_block) {
        pthread_mutex_unlock(&e->cache_mu);
        dg_buf_free(&key);
        return 0;
    }
    e->misses++;
    flight *f = calloc(1, sizeof *f);
    if (f) {
        f->h = h;
        f->key = key.data;
        f->klen = key.len;
        f->refs = 1;
        f->next = e->flights;
        e->flights = f;
    }
    pthread_mutex_unlock(&e->cache_mu);

    int ep = fetch_decision(e, route, bi, &s, start + e->o.deadline_ms, d);

    pthread_mutex_lock(&e->cache_mu);
    if (ep >= 0 && !d->error) cache_store(e, h, key.data, key.len, d, ep);
    if (f) {
        for (flight **pp = &e->flights; *pp; pp = &(*pp)->next)
            if (*pp == f) {
                *pp = f->next;
                break;
            }
        f->result = *d;
        f->done = 1;
        f->key = NULL;
        pthread_cond_broadcast(&e->cache_cv);
        if (--f->refs == 0) free(f);
    }
    pthread_mutex_unlock(&e->cache_mu);
    dg_buf_free(&key);
    return 1;
}

/* ---------------------------------------------------------------- info */

static int eth_info(dg_policy *p, dg_policy_info *out, dg_err *err) {
    eth_policy *e = (eth_policy *)p;
    long long now = dg_policy_now_ms();
    pthread_mutex_lock(&e->info_mu);
    if (e->info_valid && now - e->info_at_ms < e->o.info_cache_ms) {
        *out = e->info;
        pthread_mutex_unlock(&e->info_mu);
        return 1;
    }
    pthread_mutex_unlock(&e->info_mu);
    if (!wait_started(e, now + e->o.deadline_ms, err)) return 0;

    snapshot s;
    pthread_mutex_lock(&e->snap_mu);
    s = e->snap;
    pthread_mutex_unlock(&e->snap_mu);
    if (!s.valid)
        return dg_err_set(err, s.chain_bad ? DG_ERR_CHAIN_ID : DG_ERR_RPC_UNREACHABLE, "%s", s.err);
    int slot;
    long long deadline = now + e->o.deadline_ms;
    dg_rpc *rpc = pool_get(e, deadline, &slot);
    if (!rpc) return dg_err_set(err, DG_ERR_RPC_TIMEOUT, "no RPC client free before the deadline");
    dg_rpc_req r[2];
    memset(r, 0, sizeof r);
    r[0].method = r[1].method = "eth_call";
    r[0].params = json_pack("[{s:s,s:s}{s:s}]", "to", e->kms_hex, "data", "0x" SEL_GATEWAY_APP_ID,
                            "blockHash", s.hash_hex);
    r[1].params = json_pack("[{s:s,s:s}{s:s}]", "to", e->kms_hex, "data",
                            "0x" SEL_APP_IMPLEMENTATION, "blockHash", s.hash_hex);
    dg_rpc_set_deadline(rpc, deadline);
    int ok = dg_rpc_batch(rpc, r, 2, err);
    pool_put(e, slot);
    dg_buf a, b;
    dg_buf_init(&a);
    dg_buf_init(&b);
    const uint8_t *gs = NULL;
    size_t gn = 0;
    if (ok) {
        if (!r[0].ok || !r[1].ok)
            ok = dg_err_set(err, DG_ERR_RPC_RESPONSE, "%s", !r[0].ok ? r[0].error : r[1].error);
        else if (!parse_data(r[0].result, &a) || !abi_string(a.data, a.len, 0, 0, &gs, &gn) ||
                 gn >= DG_GATEWAY_MAX)
            ok = dg_err_set(err, DG_ERR_RPC_RESPONSE, "gatewayAppId(): malformed answer");
        else if (!parse_data(r[1].result, &b) || b.len != 32 ||
                 memcmp(b.data, "\0\0\0\0\0\0\0\0\0\0\0\0", 12) != 0)
            ok = dg_err_set(err, DG_ERR_RPC_RESPONSE, "appImplementation(): malformed answer");
    }
    if (ok) {
        memset(out, 0, sizeof *out);
        out->backend = "eth";
        out->snapshot = snapshot_tag(e->o.snapshot) ? snapshot_tag(e->o.snapshot) : "confirmations";
        out->snapshot_block = s.number;
        snprintf(out->kms_contract, sizeof out->kms_contract, "%s", e->kms_display);
        snprintf(out->eth_rpc_url, sizeof out->eth_rpc_url, "%s", e->labels[0]);
        dg_policy_copy_text(out->gateway_app_id, sizeof out->gateway_app_id,
                            gs ? (const char *)gs : "", gs ? gn : 0);
        out->chain_id = e->chain_id;
        dg_address_checksum(b.data + 12, out->app_implementation);
        pthread_mutex_lock(&e->info_mu);
        e->info = *out;
        e->info_at_ms = now;
        e->info_valid = 1;
        pthread_mutex_unlock(&e->info_mu);
    }
    dg_buf_free(&a);
    dg_buf_free(&b);
    dg_rpc_req_clear(r, 2);
    return ok;
}

/* ---------------------------------------------------------------- lifecycle */

static void eth_stats(dg_policy *p, dg_policy_stats *out) {
    eth_policy *e = (eth_policy *)p;
    pthread_mutex_lock(&e->cache_mu);
    out->cache_hits = e->hits;
    out->cache_misses = e->misses;
    out->cache_shared = e->shared;
    pthread_mutex_unlock(&e->cache_mu);
    pthread_mutex_lock(&e->snap_mu);
    out->snapshot_updates = e->snap_updates;
    out->snapshot_errors = e->snap_errors;
    out->has_snapshot = e->snap.valid;
    out->snapshot_block = e->snap.number;
    out->snapshot_age_ms = e->snap.valid ? dg_policy_now_ms() - e->snap.at_ms : -1;
    pthread_mutex_unlock(&e->snap_mu);
}

static size_t eth_nendpoints(const dg_policy *p) {
    return ((const eth_policy *)p)->nurls;
}

static int eth_endpoint_stats(dg_policy *p, size_t i, const char **label, unsigned long *calls,
                              unsigned long *errors) {
    eth_policy *e = (eth_policy *)p;
    unsigned long c = 0, er = 0;
    if (i >= e->nurls) return 0;
    if (label) *label = e->labels[i];
    pthread_mutex_lock(&e->pool_mu);
    for (size_t k = 0; k <= e->npool; k++) {
        c += e->st_calls[k * e->nurls + i];
        er += e->st_errors[k * e->nurls + i];
    }
    pthread_mutex_unlock(&e->pool_mu);
    if (calls) *calls = c;
    if (errors) *errors = er;
    return 1;
}

static void eth_destroy(dg_policy *p) {
    eth_policy *e = (eth_policy *)p;
    if (e->poller_started) {
        pthread_mutex_lock(&e->stop_mu);
        e->stop = 1;
        pthread_cond_broadcast(&e->stop_cv);
        pthread_mutex_unlock(&e->stop_mu);
        pthread_join(e->poller, NULL);
    }
    dg_rpc_free(e->poll_rpc);
    for (size_t i = 0; i < e->npool; i++)
        dg_rpc_free(e->pool[i]);
    free(e->pool);
    free(e->pool_free);
    free(e->pool_used);
    free(e->st_calls);
    free(e->st_errors);
    for (size_t i = 0; i < e->nslots; i++)
        slot_clear(&e->slots[i]);
    free(e->slots);
    for (size_t i = 0; i < e->nurls; i++)
        free(e->urls[i]);
    free(e->urls);
    free(e->labels);
    pthread_mutex_destroy(&e->pool_mu);
    pthread_cond_destroy(&e->pool_cv);
    pthread_mutex_destroy(&e->snap_mu);
    pthread_mutex_destroy(&e->cache_mu);
    pthread_cond_destroy(&e->cache_cv);
    pthread_mutex_destroy(&e->info_mu);
    pthread_mutex_destroy(&e->gw_mu);
    pthread_mutex_destroy(&e->stop_mu);
    pthread_cond_destroy(&e->stop_cv);
    pthread_cond_destroy(&e->ready_cv);
    free(e);
}

static const struct dg_policy_ops ETH_OPS = {
    .kind = "eth",
    .info = eth_info,
    .stats = eth_stats,
    .nendpoints = eth_nendpoints,
    .endpoint_stats = eth_endpoint_stats,
    .destroy = eth_destroy,
    .wait_ready = eth_wait_ready,
    .try_decide = eth_try_decide,
};

dg_policy *dg_policy_eth_new(const dg_eth_policy_opts *opts, dg_err *err) {
    if (!opts || !opts->nrpc || !opts->rpc_urls) {
        dg_err_set(err, DG_ERR_CONFIG, "eth backend: no RPC endpoint configured");
        return NULL;
    }
    if (!opts->kms_contract || !opts->kms_contract[0]) {
        dg_err_set(err, DG_ERR_CONFIG, "eth backend: no KMS contract address configured");
        return NULL;
    }
    eth_policy *e = calloc(1, sizeof *e);
    if (!e) {
        dg_err_set(err, DG_ERR_NOMEM, "out of memory");
        return NULL;
    }
    e->base.ops = &ETH_OPS;
    e->o = *opts;
    if (!e->o.refresh_ms) e->o.refresh_ms = 250;
    if (!e->o.rpc_timeout_ms) e->o.rpc_timeout_ms = 1000;
    if (!e->o.deadline_ms) e->o.deadline_ms = 3000;
    if (!e->o.max_snapshot_age_ms) e->o.max_snapshot_age_ms = 10000;
    if (!e->o.cache_entries) e->o.cache_entries = 1024;
    if (!e->o.info_cache_ms) e->o.info_cache_ms = 1000;
    if (!e->o.rpc_pool) e->o.rpc_pool = 4;
    e->o.rpc_urls = NULL;
    e->o.rpc_ca_file = NULL; /* not owned: each dg_rpc keeps its own copy */
    pthread_mutex_init(&e->pool_mu, NULL);
    pthread_cond_init(&e->pool_cv, NULL);
    pthread_mutex_init(&e->snap_mu, NULL);
    pthread_mutex_init(&e->cache_mu, NULL);
    pthread_cond_init(&e->cache_cv, NULL);
    pthread_mutex_init(&e->info_mu, NULL);
    pthread_mutex_init(&e->gw_mu, NULL);
    pthread_mutex_init(&e->stop_mu, NULL);
    pthread_cond_init(&e->stop_cv, NULL);
    pthread_cond_init(&e->ready_cv, NULL);

    dg_err aerr;
    if (!dg_address_parse(opts->kms_contract, e->kms, &aerr)) {
        dg_err_set(err, DG_ERR_CONFIG, "KMS contract address: %s", aerr.msg);
        goto fail;
    }
    dg_hex_encode_0x(e->kms, 20, e->kms_hex);
    dg_address_checksum(e->kms, e->kms_display);

    e->urls = calloc(opts->nrpc, sizeof *e->urls);
    e->labels = calloc(opts->nrpc, sizeof(label_t));
    e->nslots = e->o.cache_entries;
    e->slots = calloc(e->nslots, sizeof *e->slots);
    e->npool = e->o.rpc_pool;
    e->pool = calloc(e->npool, sizeof(dg_rpc *));
    e->pool_free = calloc(e->npool, sizeof *e->pool_free);
    e->pool_used = calloc(e->npool, sizeof *e->pool_used);
    e->st_calls = calloc((e->npool + 1) * opts->nrpc, sizeof(unsigned long));
    e->st_errors = calloc((e->npool + 1) * opts->nrpc, sizeof(unsigned long));
    if (!e->urls || !e->labels || !e->slots || !e->pool || !e->pool_free || !e->pool_used ||
        !e->st_calls || !e->st_errors) {
        dg_err_set(err, DG_ERR_NOMEM, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < opts->nrpc; i++) {
        e->keep_warm |= strncmp(opts->rpc_urls[i], "https://", 8) == 0;
        if (!(e->urls[i] = strdup(opts->rpc_urls[i]))) {
            dg_err_set(err, DG_ERR_NOMEM, "out of memory");
            goto fail;
        }
        e->nurls++;
    }
    dg_rpc_opts ro = {.timeout_ms = e->o.rpc_timeout_ms,
                      .retries = -1,
                      .backoff_ms = 10,
                      .quorum = e->o.quorum,
                      .ca_file = opts->rpc_ca_file};
    /* The poller only picks a block (first endpoint that answers); the quorum
     * applies to the decision batches, which are pinned to that block's hash:
     * endpoints one block apart must not make every poll fail, and a block an
     * honest endpoint does not know makes the quorum fail, i.e. a deny. */
    dg_rpc_opts po = ro;
    po.quorum = 0;
    if (!(e->poll_rpc = dg_rpc_new((const char *const *)e->urls, e->nurls, &po, err))) goto fail;
    for (size_t i = 0; i < e->nurls; i++)
        snprintf(e->labels[i], sizeof e->labels[i], "%s", dg_rpc_endpoint_label(e->poll_rpc, i));
    for (size_t i = 0; i < e->npool; i++) {
        if (!(e->pool[i] = dg_rpc_new((const char *const *)e->urls, e->nurls, &ro, err))) goto fail;
        e->pool_free[e->nfree++] = (int)i;
        e->pool_used[i] = -(long long)KEEP_WARM_MS; /* never used: warm it at start */
    }

    if (pthread_create(&e->poller, NULL, poller_main, e) != 0) {
        dg_err_set(err, DG_ERR_INTERNAL, "cannot start the snapshot thread");
        goto fail;
    }
    e->poller_started = 1;
    if (!e->o.async_start && !eth_wait_ready(&e->base, err)) goto fail;
    return &e->base;
fail:
    eth_destroy(&e->base);
    return NULL;
}
