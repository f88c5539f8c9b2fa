/* eth.c — the Ethereum backend: DstackKms decisions at one snapshot block.
 *
 * Only the Ethereum reads live here; the snapshot thread, cache, single
 * flight, quorum, deadline and deny mapping are the chain machinery's
 * (chain.c). The snapshot block is latest, safe, finalized, or head minus N,
 * tracked with the chain id. A miss reads everything it needs — eth_chainId,
 * isAppAllowed/isKmsAllowed and (once per block) gatewayAppId() — at that
 * block's hash in ONE JSON-RPC batch, so a miss costs one round trip. The
 * chain id is pinned at start; a reply from another chain denies with
 * "authorization backend chain ID mismatch". Selectors come from the tables
 * generated from the compiled contracts; return data, reverts and quantities
 * are decoded by lib/eth.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain.h"
#include "dstackgov/contracts.h"
#include "dstackgov/eth.h"
#include "dstackgov/hex.h"
#include "dstackgov/revert.h"
#include "dstackgov/utf8.h"

#define T_BOOTINFO "(address,bytes32,address,bytes32,bytes32,bytes32,bytes32,string,string[])"
#define SIG_IS_APP_ALLOWED "isAppAllowed(" T_BOOTINFO ")"
#define SIG_IS_KMS_ALLOWED "isKmsAllowed(" T_BOOTINFO ")"

typedef struct {
    dg_chain ch;
    dg_snapshot_mode mode;
    uint64_t confirmations;
    uint64_t want_chain_id; /* 0: learn at start */
    uint8_t kms[20];
    char kms_hex[43];     /* "0x" + lowercase, for eth_call */
    char kms_display[43]; /* EIP-55 */
    uint64_t chain_id;
    char gw_call[16], impl_call[16]; /* "0x" + selector */
} eth_policy;

/* ---------------------------------------------------------------- calldata */

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
    const char *sel = dg_contract_id("DstackKms", route == DG_ROUTE_KMS ? SIG_IS_KMS_ALLOWED
                                                                        : SIG_IS_APP_ALLOWED);
    if (!sel) return 0;
    dg_buf_puts(out, "0x");
    dg_buf_puts(out, sel);
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

/* eth_call {to: the KMS, data} at block hash id. */
static json_t *kms_call(const eth_policy *e, const char *data, const char *block_id) {
    return json_pack("[{s:s,s:s}{s:s}]", "to", e->kms_hex, "data", data, "blockHash", block_id);
}

/* The hex data of an eth_call result, decoded into out. */
static int call_data(json_t *j, dg_buf *out) {
    return json_is_string(j) &&
           dg_hex_decode_var(json_string_value(j), json_string_length(j), out, NULL);
}

/* A single ABI `string` return, copied as text into out (cap bytes).
 * Returns 1, or 0 when malformed or too long. */
static int decode_string(json_t *j, char *out, size_t cap) {
    dg_buf b;
    char *s = NULL;
    dg_buf_init(&b);
    int ok =
        call_data(j, &b) && dg_contract_decode_string(b.data, b.len, &s, NULL) && strlen(s) < cap;
    if (ok) dg_utf8_clean(out, cap, s, strlen(s));
    free(s);
    dg_buf_free(&b);
    return ok;
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

static json_t *block_params(const char *tag, uint64_t number) {
    char q[24];
    if (!tag) snprintf(q, sizeof q, "0x%llx", (unsigned long long)number);
    return json_pack("[sb]", tag ? tag : q, 0);
}

/* The snapshot from an eth_getBlockByNumber answer (tag NULL: head - N). */
static int snap_from_block(const dg_rpc_req *r, const char *tag, dg_snap *s, dg_err *err) {
    uint64_t num = 0;
    if (!r->ok || !json_is_object(r->result))
        return dg_err_set(err, DG_ERR_RPC_RESPONSE, "eth_getBlockByNumber(%s): %s",
                          tag ? tag : "head-N", r->ok ? "no such block" : r->error);
    json_t *hash = json_object_get(r->result, "hash");
    if (!dg_eth_quantity_u64(json_object_get(r->result, "number"), &num, NULL) ||
        !json_is_string(hash) ||
        !dg_hex_decode(json_string_value(hash), json_string_length(hash), s->hash, 32, NULL))
        return dg_err_set(err, DG_ERR_RPC_RESPONSE, "eth_getBlockByNumber: malformed block");
    s->number = num;
    dg_hex_encode_0x(s->hash, 32, s->id);
    s->valid = 1;
    s->at_ms = dg_policy_now_ms();
    return 1;
}

/* Check the chain id answer r of endpoint label against want. */
static int check_chain(const dg_rpc_req *r, const char *label, uint64_t want, uint64_t *got,
                       dg_err *err) {
    if (!r->ok || !dg_eth_quantity_u64(r->result, got, NULL))
        return dg_err_set(err, DG_ERR_RPC_RESPONSE, "rpc %s: %s", label,
                          r->ok ? "eth_chainId: not a quantity" : r->error);
    if (want && *got != want)
        return dg_err_set(err, DG_ERR_CHAIN_ID, "rpc %s: chain id %llu, expected %llu", label,
                          (unsigned long long)*got, (unsigned long long)want);
    return 1;
}

/* One poll: chain id + the snapshot block. */
static int eth_poll(dg_chain *c, dg_snap *s, dg_err *err) {
    eth_policy *e = (eth_policy *)c;
    dg_rpc_req r[2];
    const char *tag = snapshot_tag(e->mode);
    uint64_t cid = 0, head = 0;
    memset(r, 0, sizeof r);
    r[0].method = "eth_chainId";
    if (tag) {
        r[1].method = "eth_getBlockByNumber";
        r[1].params = block_params(tag, 0);
    } else {
        r[1].method = "eth_blockNumber";
    }
    if (!dg_rpc_batch(c->poll_rpc, r, 2, err)) goto fail;
    if (!check_chain(&r[0], dg_rpc_endpoint_label(c->poll_rpc, dg_rpc_last_endpoint(c->poll_rpc)),
                     e->chain_id, &cid, err)) {
        s->net_bad = err->code == DG_ERR_CHAIN_ID;
        goto fail;
    }
    if (!tag) {
        if (!r[1].ok || !dg_eth_quantity_u64(r[1].result, &head, NULL)) {
            dg_err_set(err, DG_ERR_RPC_RESPONSE, "eth_blockNumber: %s",
                       r[1].ok ? "not a quantity" : r[1].error);
            goto fail;
        }
        if (head < e->confirmations) {
            dg_err_set(err, DG_ERR_RPC_RESPONSE,
                       "chain head %llu is below the %llu confirmations required",
                       (unsigned long long)head, (unsigned long long)e->confirmations);
            goto fail;
        }
        dg_rpc_req_clear(r, 2);
        memset(r, 0, sizeof r);
        r[0].method = "eth_getBlockByNumber";
        r[0].params = block_params(NULL, head - e->confirmations);
        if (!dg_rpc_batch(c->poll_rpc, r, 1, err)) goto fail;
        r[1] = r[0];
        memset(&r[0], 0, sizeof r[0]);
    }
    if (!snap_from_block(&r[1], tag, s, err)) goto fail;
    dg_rpc_req_clear(r, 2);
    return 1;
fail:
    dg_rpc_req_clear(r, 2);
    dg_utf8_clean(s->err, sizeof s->err, err->msg, strlen(err->msg));
    return 0;
}

/* The KMS contract at the head: it has code and gatewayAppId() answers
 * with an ABI string (a reload pointing at a wrong address is refused, as a
 * start is). At the head, not the snapshot: a contract deployed after the
 * finalized block is present, and decisions deny until finality reaches it. */
static int kms_present(const eth_policy *e, const dg_rpc_req *code, const dg_rpc_req *gw,
                       dg_err *err) {
    dg_buf c;
    dg_buf_init(&c);
    char id[DG_GATEWAY_MAX];
    int ok = 1;
    if (!code->ok || !call_data(code->result, &c))
        ok = dg_err_set(err, DG_ERR_RPC_RESPONSE, "eth_getCode: %s",
                        code->ok ? "not hex data" : code->error);
    else if (c.len == 0)
        ok = dg_err_set(err, DG_ERR_CONFIG, "KMS contract %s: no contract code on chain %llu",
                        e->kms_display, (unsigned long long)e->chain_id);
    else if (!gw->ok || !decode_string(gw->result, id, sizeof id))
        ok = dg_err_set(err, DG_ERR_CONFIG,
                        "KMS contract %s: gatewayAppId() does not answer as a DstackKms (%s)",
                        e->kms_display, gw->ok ? "malformed answer" : gw->error);
    dg_buf_free(&c);
    return ok;
}

/* The start: learn or check the chain id, check the KMS contract and take
 * the first snapshot in one round trip (for `auto`, both candidate blocks),
 * so the first request is answered at once. */
static int eth_start(dg_chain *c, dg_rpc *rpc, dg_snap *s, dg_err *err) {
    eth_policy *e = (eth_policy *)c;
    dg_rpc_req r[5];
    memset(r, 0, sizeof r);
    size_t nr = 4;
    /* auto asks for "finalized" and, below, "latest" too */
    const char *tag = e->mode == DG_SNAP_AUTO ? "finalized" : snapshot_tag(e->mode);
    r[0].method = "eth_chainId";
    if (tag) {
        r[1].method = "eth_getBlockByNumber";
        r[1].params = block_params(tag, 0);
    } else
        r[1].method = "eth_blockNumber";
    r[2].method = "eth_getCode";
    r[2].params = json_pack("[ss]", e->kms_hex, "latest");
    r[3].method = "eth_call";
    r[3].params = json_pack("[{s:s,s:s}s]", "to", e->kms_hex, "data", e->gw_call, "latest");
    if (e->mode == DG_SNAP_AUTO) {
        r[4].method = "eth_getBlockByNumber";
        r[4].params = block_params("latest", 0);
        nr = 5;
    }
    int ok = dg_rpc_batch(rpc, r, nr, err);
    size_t ep0 = dg_rpc_last_endpoint(rpc) < c->nurls ? dg_rpc_last_endpoint(rpc) : 0;
    uint64_t cid = 0;
    if (!ok || !check_chain(&r[0], dg_chain_label(c, ep0), e->want_chain_id, &cid, err)) goto fail;
    e->chain_id = cid;
    if (!kms_present(e, &r[2], &r[3], err)) goto fail;

    /* Auto snapshot: decide from finalized state wherever the chain has it
     * (a reorg cannot then resurrect a revoked measurement); a local dev chain
     * finalizes far behind its head and would hide every fresh change. */
    const dg_rpc_req *blk = tag ? &r[1] : NULL;
    if (e->mode == DG_SNAP_AUTO) {
        int has_final = cid != 31337 && cid != 1337 && r[1].ok && json_is_object(r[1].result);
        e->mode = has_final ? DG_SNAP_FINALIZED : DG_SNAP_LATEST;
        blk = has_final ? &r[1] : &r[4];
        tag = has_final ? "finalized" : "latest";
        dg_chain_log(c, "snapshot auto: %s (chain %llu %s)", has_final ? "finalized" : "latest",
                     (unsigned long long)cid,
                     has_final                       ? "reports finalized blocks"
                     : (cid == 31337 || cid == 1337) ? "is a local dev chain"
                                                     : "has no finalized tag");
    }
    if (!blk) dg_rpc_set_deadline(c->poll_rpc, dg_policy_now_ms() + c->o.deadline_ms);
    if (blk ? !snap_from_block(blk, tag, s, err) : !eth_poll(c, s, err)) {
        dg_err_wrap(err, "first snapshot block");
        goto fail;
    }
    dg_rpc_req_clear(r, 5);
    return 1;
fail:
    dg_rpc_req_clear(r, 5);
    return 0;
}

/* ---------------------------------------------------------------- decide */

/* The RPC round trip for one miss: eth_chainId, isAppAllowed/isKmsAllowed and
 * (once per block) gatewayAppId() at the snapshot block's hash, in one batch.
 * The chain id is checked here as well as by the poller because failover or
 * a quorum may put another endpoint behind this answer; it costs the node
 * nothing next to an eth_call. Returns the endpoint index or -1 (an error:
 * not cached); fills d. */
static int eth_fetch(dg_chain *c, dg_route route, const dg_bootinfo *bi, const dg_snap *s,
                     long long deadline, dg_decision *d) {
    eth_policy *e = (eth_policy *)c;
    dg_err err = {0};
    int slot, ep = -1;
    int have_gw = dg_chain_gateway_cached(c, s->hash, d->gateway_app_id, sizeof d->gateway_app_id);
    size_t n = have_gw ? 2 : 3;
    dg_rpc *rpc = dg_chain_rpc_get(c, deadline, &slot);
    if (!rpc) {
        dg_err_set(&err, DG_ERR_RPC_TIMEOUT, "no RPC client free before the deadline");
        dg_chain_deny(c, d, &err);
        return -1;
    }
    dg_buf data;
    dg_buf_init(&data);
    dg_rpc_req r[3];
    memset(r, 0, sizeof r);
    if (dg_policy_eth_calldata(bi, route, &data)) {
        r[0].method = "eth_chainId";
        r[1].method = "eth_call";
        r[1].params = kms_call(e, (const char *)data.data, s->id);
        if (!have_gw) {
            r[2].method = "eth_call";
            r[2].params = kms_call(e, e->gw_call, s->id);
        }
    }
    dg_buf_free(&data);
    if (!r[1].params || (!have_gw && !r[2].params)) {
        dg_err_set(&err, DG_ERR_NOMEM, "out of memory");
        dg_chain_deny(c, d, &err);
        goto out;
    }
    dg_rpc_set_deadline(rpc, deadline);
    if (!dg_rpc_batch(rpc, r, n, &err)) {
        dg_chain_deny(c, d, &err);
        goto out;
    }
    ep = (int)dg_rpc_last_endpoint(rpc);
    snprintf(d->endpoint, sizeof d->endpoint, "%s", dg_chain_label(c, (size_t)ep));
    const char *label = d->endpoint;
    uint64_t cid;
    char why[DG_REASON_MAX];
    int allowed = 0;
    dg_buf out1;
    dg_buf_init(&out1);
    if (!check_chain(&r[0], label, e->chain_id, &cid, &err)) {
        dg_chain_deny(c, d, &err);
        ep = -1;
    } else if (!r[1].ok) {
        if (r[1].error_data || strstr(r[1].error, "revert")) {
            json_t *rd = json_is_object(r[1].error_data) ? json_object_get(r[1].error_data, "data")
                                                         : r[1].error_data;
            char rev[DG_REASON_MAX - 32]; /* room for "policy contract reverted: " */
            if (json_is_string(rd))
                dg_revert_decode_hex(json_string_value(rd), rev, sizeof rev, NULL);
            else
                snprintf(rev, sizeof rev, "no revert data");
            snprintf(d->reason, sizeof d->reason, "policy contract reverted: %s", rev);
            dg_utf8_clean(d->detail, sizeof d->detail, r[1].error, strlen(r[1].error));
            d->allowed = 0;
            d->error = 1;
        } else {
            dg_err_set(&err, DG_ERR_RPC_RESPONSE, "rpc %s: %s", label, r[1].error);
            dg_chain_deny(c, d, &err);
        }
        ep = -1;
    } else if (!call_data(r[1].result, &out1) ||
               !dg_contract_decode_allowed(out1.data, out1.len, &allowed, why, sizeof why, NULL)) {
        dg_err_set(&err, DG_ERR_RPC_RESPONSE, "rpc %s: %s returned malformed (bool,string)", label,
                   route == DG_ROUTE_KMS ? "isKmsAllowed" : "isAppAllowed");
        dg_chain_deny(c, d, &err);
        ep = -1;
    } else if (!have_gw &&
               (!r[2].ok || !decode_string(r[2].result, d->gateway_app_id, DG_GATEWAY_MAX))) {
        dg_err_set(&err, DG_ERR_RPC_RESPONSE, "rpc %s: gatewayAppId(): %s", label,
                   r[2].ok ? "malformed string or longer than 1023 bytes" : r[2].error);
        dg_chain_deny(c, d, &err);
        ep = -1;
    } else {
        d->allowed = allowed;
        dg_utf8_clean(d->reason, sizeof d->reason, why, strlen(why));
        if (!have_gw) dg_chain_gateway_store(c, s->hash, d->gateway_app_id);
        if (!allowed && !d->reason[0])
            snprintf(d->reason, sizeof d->reason, "denied by the contract");
    }
    dg_buf_free(&out1);
out:
    dg_rpc_req_clear(r, 3);
    dg_chain_rpc_put(c, slot);
    return ep;
}

/* ---------------------------------------------------------------- info */

static int eth_info(dg_chain *c, const dg_snap *s, long long deadline, dg_policy_info *out,
                    dg_err *err) {
    eth_policy *e = (eth_policy *)c;
    int slot;
    dg_rpc *rpc = dg_chain_rpc_get(c, deadline, &slot);
    if (!rpc) return dg_err_set(err, DG_ERR_RPC_TIMEOUT, "no RPC client free before the deadline");
    dg_rpc_req r[2];
    memset(r, 0, sizeof r);
    r[0].method = r[1].method = "eth_call";
    r[0].params = kms_call(e, e->gw_call, s->id);
    r[1].params = kms_call(e, e->impl_call, s->id);
    dg_rpc_set_deadline(rpc, deadline);
    int ok = dg_rpc_batch(rpc, r, 2, err);
    dg_chain_rpc_put(c, slot);
    dg_buf b;
    dg_buf_init(&b);
    uint8_t impl[20];
    if (ok) {
        if (!r[0].ok || !r[1].ok)
            ok = dg_err_set(err, DG_ERR_RPC_RESPONSE, "%s", !r[0].ok ? r[0].error : r[1].error);
        else if (!decode_string(r[0].result, out->gateway_app_id, sizeof out->gateway_app_id))
            ok = dg_err_set(err, DG_ERR_RPC_RESPONSE, "gatewayAppId(): malformed answer");
        else if (!call_data(r[1].result, &b) ||
                 !dg_contract_decode_address(b.data, b.len, impl, NULL))
            ok = dg_err_set(err, DG_ERR_RPC_RESPONSE, "appImplementation(): malformed answer");
    }
    if (ok) {
        out->snapshot = snapshot_tag(e->mode) ? snapshot_tag(e->mode) : "confirmations";
        snprintf(out->kms_contract, sizeof out->kms_contract, "%s", e->kms_display);
        snprintf(out->eth_rpc_url, sizeof out->eth_rpc_url, "%s", dg_chain_label(c, 0));
        out->chain_id = e->chain_id;
        dg_address_checksum(impl, out->app_implementation);
    }
    dg_buf_free(&b);
    dg_rpc_req_clear(r, 2);
    return ok;
}

/* ---------------------------------------------------------------- lifecycle */

static const dg_chain_backend ETH_BACKEND = {
    .kind = "eth",
    .net_reason = "authorization backend chain ID mismatch",
    .start = eth_start,
    .poll = eth_poll,
    .fetch = eth_fetch,
    .info = eth_info,
};

static const struct dg_policy_ops ETH_OPS = DG_CHAIN_POLICY_OPS("eth");

dg_policy *dg_policy_eth_new(const dg_eth_policy_opts *opts, dg_err *err) {
    if (!opts || !opts->kms_contract || !opts->kms_contract[0]) {
        dg_err_set(err, DG_ERR_CONFIG, "eth backend: no KMS contract address configured");
        return NULL;
    }
    eth_policy *e = calloc(1, sizeof *e);
    if (!e) {
        dg_err_set(err, DG_ERR_NOMEM, "out of memory");
        return NULL;
    }
    e->ch.base.ops = &ETH_OPS;
    e->mode = opts->snapshot;
    e->confirmations = opts->confirmations;
    e->want_chain_id = opts->chain_id;
    dg_chain_opts co = DG_CHAIN_OPTS_OF(opts);
    co.warm_method = "eth_chainId";
    const char *gw = dg_contract_id("DstackKms", DG_SIG_GATEWAY_APP_ID);
    const char *impl = dg_contract_id("DstackKms", DG_SIG_APP_IMPLEMENTATION);
    dg_err aerr;
    if (!dg_chain_init(&e->ch, &ETH_BACKEND, &co, err)) goto fail;
    if (!gw || !impl) {
        dg_err_set(err, DG_ERR_INTERNAL, "DstackKms selectors missing from the generated tables");
        goto fail;
    }
    snprintf(e->gw_call, sizeof e->gw_call, "0x%s", gw);
    snprintf(e->impl_call, sizeof e->impl_call, "0x%s", impl);
    if (!dg_address_parse(opts->kms_contract, e->kms, &aerr)) {
        dg_err_set(err, DG_ERR_CONFIG, "KMS contract address: %s", aerr.msg);
        goto fail;
    }
    dg_hex_encode_0x(e->kms, 20, e->kms_hex);
    dg_address_checksum(e->kms, e->kms_display);
    if (!dg_chain_start(&e->ch, err)) goto fail;
    return &e->ch.base;
fail:
    dg_chain_free(&e->ch);
    return NULL;
}
