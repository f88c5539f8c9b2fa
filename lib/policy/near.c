/* near.c — the NEAR backend: decisions from the dstack-gov NEAR contracts at
 * one block.
 *
 * Only the NEAR reads live here; the snapshot thread, cache, single flight,
 * quorum, deadline and deny mapping are the chain machinery's (chain.c).
 * The snapshot is the last `final` block (or the head with `optimistic`),
 * polled together with the node's chain id, which is pinned at start (or
 * given as near.network_id): an endpoint on another network is a deny.
 * A miss runs its views in parallel, each pinned to the snapshot's block
 * hash (a hash exists on one network only, so that also pins the network),
 * and checks that every answer names that very block:
 *
 *   app route   KMS is_app_registered {"app_id": "<hex>.<kms>"} -> "App not registered"
 *               KMS is_os_image_allowed {"os_image_hash"}        -> "OS image is not allowed"
 *               <hex>.<kms> is_app_allowed {"boot_info": {...}}  -> the contract's reason
 *   kms route   KMS is_kms_allowed {"boot_info": {...}}          -> the contract's reason
 *   both        KMS get_gateway_app_id {} (once per block; a deny carries it too)
 *
 * The checks are decided in that order from the answers, so a later view's
 * failure matters only when the decision reaches it (an unregistered app's
 * account may not exist at all). The arguments are the contracts' shape
 * (reference/near.md §8.2): snake_case, hex lowercase without 0x; the
 * boot_info one is lib/near's (dg_near_boot_info_args), which the rule-by-rule
 * check there sends too.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain.h"
#include "dstackgov/hex.h"
#include "dstackgov/near.h"
#include "dstackgov/utf8.h"

#define REASON_NOT_REGISTERED "App not registered"
#define REASON_OS_IMAGE "OS image is not allowed"

typedef struct {
    dg_chain ch;
    char kms[DG_NEAR_ACCOUNT_MAX + 1];
    const char *finality; /* "final" or "optimistic" */
    char want_net[64];    /* near.network_id, "" = learn at start */
    char chain_id[64];    /* the network, pinned at start */
} near_policy;

/* ---------------------------------------------------------------- snapshot */

/* The network and the snapshot block, both from one endpoint: a failover
 * between the two calls could otherwise pair one network's name with
 * another's block. want: the expected chain id ("" = any). */
static int read_snapshot(near_policy *n, dg_rpc *rpc, const char *want, dg_snap *s,
                         char chain_id[64], dg_err *err) {
    dg_near_status st;
    dg_near_block_info b;
    if (!dg_near_node_status(rpc, &st, err)) return 0;
    size_t ep = dg_rpc_last_endpoint(rpc);
    if (want[0] && strcmp(st.chain_id, want) != 0) {
        s->net_bad = 1;
        return dg_err_set(err, DG_ERR_CHAIN_ID, "rpc %s: network \"%.63s\", expected \"%s\"",
                          dg_chain_label(&n->ch, ep), st.chain_id, want);
    }
    if (!dg_near_block(rpc, n->finality, &b, err)) return 0;
    if (dg_rpc_last_endpoint(rpc) != ep)
        return dg_err_set(
            err, DG_ERR_RPC_RESPONSE, "status and block answered by different endpoints (%s, %s)",
            dg_chain_label(&n->ch, ep), dg_chain_label(&n->ch, dg_rpc_last_endpoint(rpc)));
    s->number = b.height;
    memcpy(s->hash, b.hash, 32);
    if (!dg_base58_encode(b.hash, 32, s->id, sizeof s->id))
        return dg_err_set(err, DG_ERR_INTERNAL, "block hash does not fit");
    s->valid = 1;
    s->at_ms = dg_policy_now_ms();
    snprintf(chain_id, 64, "%s", st.chain_id);
    return 1;
}

/* get_gateway_app_id's answer g (a string or null: "") copied into out.
 * Returns 1, or 0 with err when it is anything else or too long. */
static int gateway_answer(const near_policy *n, const json_t *g, char *out, size_t cap,
                          dg_err *err) {
    if (!json_is_null(g) && (!json_is_string(g) || json_string_length(g) >= cap))
        return dg_err_set(err, DG_ERR_RPC_RESPONSE,
                          "view %s.get_gateway_app_id: expected a string of at most %zu bytes "
                          "or null",
                          n->kms, cap - 1);
    const char *v = json_is_string(g) ? json_string_value(g) : "";
    dg_utf8_clean(out, cap, v, strlen(v));
    return 1;
}

/* The gateway id at snapshot s through rpc, into out; 0 with err. */
static int read_gateway(const near_policy *n, dg_rpc *rpc, const dg_snap *s, char *out, size_t cap,
                        dg_err *err) {
    json_t *g = NULL;
    dg_near_block_ref at;
    int ok = dg_near_view_json(rpc, s->id, n->kms, "get_gateway_app_id", "{}", &g, &at, err) &&
             gateway_answer(n, g, out, cap, err);
    if (ok && memcmp(at.hash, s->hash, 32) != 0)
        ok = dg_err_set(err, DG_ERR_RPC_RESPONSE,
                        "view %s.get_gateway_app_id: answered at block %llu, not the snapshot "
                        "block %llu",
                        n->kms, (unsigned long long)at.height, (unsigned long long)s->number);
    json_decref(g);
    return ok;
}

/* The start: the network, the first snapshot, and the KMS contract itself —
 * an account without the contract (a typo, the wrong network) refuses to
 * start instead of denying every boot. Its gateway id at the snapshot is
 * kept for the first decisions. A KMS deployed a moment ago, not in the
 * final block yet, is accepted when the head has it (decisions deny until
 * finality reaches it). */
static int near_start(dg_chain *c, dg_rpc *rpc, dg_snap *s, dg_err *err) {
    near_policy *n = (near_policy *)c;
    char gw[DG_GATEWAY_MAX];
    if (!read_snapshot(n, rpc, n->want_net, s, n->chain_id, err)) {
        dg_err_wrap(err, "first snapshot block");
        return 0;
    }
    if (read_gateway(n, rpc, s, gw, sizeof gw, err)) {
        dg_chain_gateway_store(c, s->hash, gw);
        return 1;
    }
    if (err->code != DG_ERR_NO_CODE) return dg_err_wrap(err, "KMS contract %s", n->kms), 0;
    json_t *g = NULL;
    dg_err e2 = {0};
    int ok =
        dg_near_view_json(rpc, "optimistic", n->kms, "get_gateway_app_id", "{}", &g, NULL, &e2) &&
        gateway_answer(n, g, gw, sizeof gw, &e2);
    json_decref(g);
    if (!ok) {
        err->code = DG_ERR_CONFIG;
        return dg_err_wrap(err, "KMS contract %s", n->kms), 0;
    }
    return 1;
}

static int near_poll(dg_chain *c, dg_snap *s, dg_err *err) {
    near_policy *n = (near_policy *)c;
    char cid[64];
    return read_snapshot(n, c->poll_rpc, n->chain_id, s, cid, err);
}

/* ---------------------------------------------------------------- decide */

enum { V_GATEWAY, V_REGISTERED, V_OS_IMAGE, V_POLICY, V_MAX };

/* One decision's views, run by dg_chain_parallel. */
typedef struct {
    const dg_snap *s;
    struct view {
        const char *account, *method;
        const char *args;
        json_t *val;
        dg_err err;
        int ep;
    } v[V_MAX];
    size_t order[V_MAX], nv;
} views;

static void run_view(void *arg, size_t i, dg_rpc *rpc) {
    views *vs = arg;
    struct view *v = &vs->v[vs->order[i]];
    dg_near_block_ref at;
    v->ep = -1;
    if (!dg_near_view_json(rpc, vs->s->id, v->account, v->method, v->args, &v->val, &at, &v->err))
        return;
    v->ep = (int)dg_rpc_last_endpoint(rpc);
    if (memcmp(at.hash, vs->s->hash, 32) != 0) {
        /* a node that ignores block_id would mix two states of the chain */
        dg_err_set(&v->err, DG_ERR_RPC_RESPONSE,
                   "view %s.%s: answered at block %llu, not the snapshot block %llu", v->account,
                   v->method, (unsigned long long)at.height, (unsigned long long)vs->s->number);
        json_decref(v->val);
        v->val = NULL;
        v->ep = -1;
    }
}

/* The answer of view i as a bool; 0 with a deny in d when it failed. */
static int view_bool(near_policy *n, const struct view *v, int *b, dg_decision *d) {
    if (!v->val) {
        dg_chain_deny(&n->ch, d, &v->err);
        return 0;
    }
    if (!json_is_boolean(v->val)) {
        dg_err e;
        dg_err_set(&e, DG_ERR_RPC_RESPONSE, "view %s.%s: expected a bool", v->account, v->method);
        dg_chain_deny(&n->ch, d, &e);
        return 0;
    }
    *b = json_is_true(v->val);
    return 1;
}

static int near_fetch(dg_chain *c, dg_route route, const dg_bootinfo *bi, const dg_snap *s,
                      long long deadline, dg_decision *d) {
    near_policy *n = (near_policy *)c;
    views vs;
    memset(&vs, 0, sizeof vs);
    vs.s = s;
    char app_account[2 * 20 + 1 + DG_NEAR_ACCOUNT_MAX + 1];
    char reg_args[sizeof app_account + 16], os_args[96];
    dg_buf bargs;
    dg_buf_init(&bargs);
    int ep = -1;
    if (!dg_near_boot_info_args(bi, &bargs)) {
        dg_err e = {DG_ERR_NOMEM, "out of memory"};
        dg_chain_deny(c, d, &e);
        goto out;
    }
    char app_hex[41], os_hex[65];
    dg_hex_encode(bi->app_id, 20, app_hex);
    dg_hex_encode(bi->os_image_hash, 32, os_hex);
    snprintf(app_account, sizeof app_account, "%s.%s", app_hex, n->kms);
    snprintf(reg_args, sizeof reg_args, "{\"app_id\":\"%s\"}", app_account);
    snprintf(os_args, sizeof os_args, "{\"os_image_hash\":\"%s\"}", os_hex);

    vs.v[V_GATEWAY] = (struct view){n->kms, "get_gateway_app_id", "{}", NULL, {0, ""}, -1};
    vs.v[V_REGISTERED] = (struct view){n->kms, "is_app_registered", reg_args, NULL, {0, ""}, -1};
    vs.v[V_OS_IMAGE] = (struct view){n->kms, "is_os_image_allowed", os_args, NULL, {0, ""}, -1};
    vs.v[V_POLICY] =
        route == DG_ROUTE_KMS
            ? (struct view){n->kms, "is_kms_allowed", (const char *)bargs.data, NULL, {0, ""}, -1}
            : (struct view){app_account, "is_app_allowed", (const char *)bargs.data,
                            NULL,        {0, ""},          -1};
    int have_gw = dg_chain_gateway_cached(c, s->hash, d->gateway_app_id, sizeof d->gateway_app_id);
    /* the policy view first: it is the slowest (a contract of its own) */
    vs.order[vs.nv++] = V_POLICY;
    if (route == DG_ROUTE_APP) {
        vs.order[vs.nv++] = V_REGISTERED;
        vs.order[vs.nv++] = V_OS_IMAGE;
    }
    if (!have_gw) vs.order[vs.nv++] = V_GATEWAY;
    if (!dg_chain_parallel(c, vs.nv, run_view, &vs, deadline)) {
        dg_err e = {DG_ERR_RPC_TIMEOUT, "no RPC client free before the deadline"};
        dg_chain_deny(c, d, &e);
        goto out;
    }

    /* The gateway id first: every answer, allow or deny, carries it. */
    if (!have_gw) {
        struct view *g = &vs.v[V_GATEWAY];
        if (!g->val ||
            !gateway_answer(n, g->val, d->gateway_app_id, sizeof d->gateway_app_id, &g->err)) {
            dg_chain_deny(c, d, &g->err);
            goto out;
        }
        dg_chain_gateway_store(c, s->hash, d->gateway_app_id);
    }
    const struct view *pv = &vs.v[V_POLICY];
    ep = pv->ep;
    if (route == DG_ROUTE_APP) {
        int reg = 0, os = 0;
        if (!view_bool(n, &vs.v[V_REGISTERED], &reg, d)) goto fail;
        if (!reg) {
            dg_decision_deny(d, 0, REASON_NOT_REGISTERED);
            ep = vs.v[V_REGISTERED].ep;
            goto out;
        }
        if (!view_bool(n, &vs.v[V_OS_IMAGE], &os, d)) goto fail;
        if (!os) {
            dg_decision_deny(d, 0, REASON_OS_IMAGE);
            ep = vs.v[V_OS_IMAGE].ep;
            goto out;
        }
    }
    if (!pv->val) {
        if (pv->err.code == DG_ERR_REVERT) { /* the policy contract panicked: say so */
            dg_decision_deny(d, 1, "policy contract panicked");
            dg_utf8_clean(d->detail, sizeof d->detail, pv->err.msg, strlen(pv->err.msg));
        } else
            dg_chain_deny(c, d, &pv->err);
        goto fail;
    }
    json_t *a = pv->val, *r = json_array_get(a, 1);
    if (!json_is_array(a) || json_array_size(a) != 2 || !json_is_boolean(json_array_get(a, 0)) ||
        !json_is_string(r) || json_string_length(r) >= DG_REASON_MAX) {
        dg_err e;
        dg_err_set(&e, DG_ERR_RPC_RESPONSE, "view %s.%s: expected [bool, string]", pv->account,
                   pv->method);
        dg_chain_deny(c, d, &e);
        goto fail;
    }
    d->allowed = json_is_true(json_array_get(a, 0));
    dg_utf8_clean(d->reason, sizeof d->reason, json_string_value(r), json_string_length(r));
    if (!d->allowed && !d->reason[0])
        snprintf(d->reason, sizeof d->reason, "denied by the contract");
    goto out;
fail:
    ep = -1;
out:
    if (ep >= 0) snprintf(d->endpoint, sizeof d->endpoint, "%s", dg_chain_label(c, (size_t)ep));
    for (size_t i = 0; i < V_MAX; i++)
        json_decref(vs.v[i].val);
    dg_buf_free(&bargs);
    return ep;
}

/* ---------------------------------------------------------------- info */

static int near_info(dg_chain *c, const dg_snap *s, long long deadline, dg_policy_info *out,
                     dg_err *err) {
    near_policy *n = (near_policy *)c;
    int slot;
    dg_rpc *rpc = dg_chain_rpc_get(c, deadline, &slot);
    if (!rpc) return dg_err_set(err, DG_ERR_RPC_TIMEOUT, "no RPC client free before the deadline");
    dg_rpc_set_deadline(rpc, deadline);
    int ok = read_gateway(n, rpc, s, out->gateway_app_id, sizeof out->gateway_app_id, err);
    dg_chain_rpc_put(c, slot);
    if (ok) {
        snprintf(out->kms_contract, sizeof out->kms_contract, "%s", n->kms);
        snprintf(out->network_id, sizeof out->network_id, "%s", n->chain_id);
        out->chain_id = DG_NEAR_CHAIN_ID;
        out->snapshot = n->finality;
    }
    return ok;
}

/* ---------------------------------------------------------------- lifecycle */

static const dg_chain_backend NEAR_BACKEND = {
    .kind = "near",
    .net_reason = "authorization backend network mismatch",
    .start = near_start,
    .poll = near_poll,
    .fetch = near_fetch,
    .info = near_info,
};

static const struct dg_policy_ops NEAR_OPS = DG_CHAIN_POLICY_OPS("near");

dg_policy *dg_policy_near_new(const dg_near_policy_opts *opts, dg_err *err) {
    if (!opts || !opts->contract_id || !opts->contract_id[0]) {
        dg_err_set(err, DG_ERR_CONFIG, "near backend: no KMS contract account configured");
        return NULL;
    }
    dg_err aerr;
    if (!dg_near_account_id_check(opts->contract_id, &aerr)) {
        dg_err_set(err, DG_ERR_CONFIG, "near KMS contract \"%s\": %s", opts->contract_id, aerr.msg);
        return NULL;
    }
    /* <40 hex>.<kms> must be an account id (at most 64 characters) */
    if (strlen(opts->contract_id) > DG_NEAR_ACCOUNT_MAX - 41) {
        dg_err_set(err, DG_ERR_CONFIG,
                   "near KMS contract \"%s\": longer than %d characters, so its app accounts "
                   "<40 hex>.<kms> would exceed 64",
                   opts->contract_id, DG_NEAR_ACCOUNT_MAX - 41);
        return NULL;
    }
    if (opts->network_id && strlen(opts->network_id) >= 64) {
        dg_err_set(err, DG_ERR_CONFIG, "near network id longer than 63 characters");
        return NULL;
    }
    near_policy *n = calloc(1, sizeof *n);
    if (!n) {
        dg_err_set(err, DG_ERR_NOMEM, "out of memory");
        return NULL;
    }
    n->ch.base.ops = &NEAR_OPS;
    snprintf(n->kms, sizeof n->kms, "%s", opts->contract_id);
    /* "local" names a local chain, as for dstack-gov (`devnet env --near` sets it): any
     * chain id, learned at start and pinned, like "" */
    const char *net =
        opts->network_id && strcmp(opts->network_id, "local") != 0 ? opts->network_id : "";
    snprintf(n->want_net, sizeof n->want_net, "%s", net);
    n->finality = opts->optimistic ? "optimistic" : "final";
    dg_chain_opts co = DG_CHAIN_OPTS_OF(opts);
    co.parallel = V_MAX;
    co.warm_method = "status";
    /* room for one app miss's four views on top of the deciders */
    co.rpc_pool = (opts->rpc_pool ? opts->rpc_pool : 4) + V_MAX - 1;
    if (!dg_chain_init(&n->ch, &NEAR_BACKEND, &co, err) || !dg_chain_start(&n->ch, err)) {
        dg_chain_free(&n->ch);
        return NULL;
    }
    return &n->ch.base;
}
