/* send.c — the send flow: plan, submit, wait (see "the send flow" in eth.h).
 *
 * The one idea: everything that can be known before signing is checked in
 * dg_eth_plan_prepare, and the plan is the single record of what will be sent
 * — the program shows it and asks for confirmation, then dg_eth_plan_submit
 * signs exactly that. A failure after sending is explained rather than
 * reported raw: a dropped transaction is named as dropped within seconds, a
 * reverted one says whether it ran out of gas or why the contract refused.
 * The CLI and a KMS linking the library share this file, so they behave alike.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "dstackgov/eth.h"
#include "dstackgov/hex.h"
#include "dstackgov/secp.h"

#define DEFAULT_MARGIN_PERCENT 20
#define DEFAULT_GAS_CAP 30000000ull
#define DEFAULT_TIMEOUT_MS 120000L
#define DEFAULT_DROP_GRACE_MS 3000L
#define DEFAULT_CODE_WAIT_MS 3500L

/* Chains whose node is local and never lags: "no code" is final at once. */
static int is_dev_chain(uint64_t id) {
    return id == 31337 || id == 1337;
}

static dg_eth_send_opts with_defaults(const dg_eth_send_opts *o) {
    dg_eth_send_opts d;
    memset(&d, 0, sizeof d);
    if (o) d = *o;
    if (!d.gas_margin_percent) d.gas_margin_percent = DEFAULT_MARGIN_PERCENT;
    if (!d.gas_cap) d.gas_cap = DEFAULT_GAS_CAP;
    if (d.timeout_ms <= 0) d.timeout_ms = DEFAULT_TIMEOUT_MS;
    if (!d.drop_grace_ms) d.drop_grace_ms = DEFAULT_DROP_GRACE_MS;
    if (!d.code_wait_ms) d.code_wait_ms = DEFAULT_CODE_WAIT_MS;
    return d;
}

uint64_t dg_eth_intrinsic_gas(const uint8_t *data, size_t len, int create) {
    uint64_t zeros = 0, nonzeros = 0;
    for (size_t i = 0; i < len; i++)
        data[i] ? nonzeros++ : zeros++;
    uint64_t gas = (create ? 53000 : 21000) + 4 * zeros + 16 * nonzeros;
    if (create) gas += 2 * (((uint64_t)len + 31) / 32);   /* EIP-3860 init code words */
    uint64_t floor = 21000 + 10 * (zeros + 4 * nonzeros); /* EIP-7623 */
    return gas > floor ? gas : floor;
}

int dg_eth_check_chain(uint64_t expect, const char *source, uint64_t got, const char *endpoint,
                       dg_err *err) {
    if (!expect || expect == got) return 1;
    return dg_err_set(err, DG_ERR_CHAIN_ID,
                      "chain id mismatch: %s expects %llu but %s is chain %llu",
                      source ? source : "the caller", (unsigned long long)expect,
                      endpoint ? endpoint : "the node", (unsigned long long)got);
}

static const char *endpoint_label(dg_rpc *rpc) {
    return dg_rpc_endpoint_label(rpc, dg_rpc_last_endpoint(rpc));
}

static void format_eth(dg_u256 wei, char *out, size_t cap) {
    char s[DG_U256_UNITS_LEN];
    dg_u256_format_units(wei, 18, s);
    snprintf(out, cap, "%s ETH", s);
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* eth_getCode(to) until it is non-empty: at once when `now`, then at 0.5, 1,
 * 2 s... within wait_ms. Returns 1 when code appeared. Transport errors count
 * as "not yet". */
static int code_appears(dg_rpc *rpc, const uint8_t to[20], int now, long wait_ms) {
    long slept = 0;
    for (long step = now ? 0 : 500; slept + step <= wait_ms; step = step ? step * 2 : 500) {
        sleep_ms(step);
        slept += step;
        json_t *res = NULL;
        if (!dg_rpc_call(rpc, "eth_getCode",
                         json_pack("[o,s]", dg_eth_json_bytes(to, 20), "latest"), &res, NULL))
            continue;
        const char *code = json_is_string(res) ? json_string_value(res) : "0x";
        int has = code[0] && strcmp(code, "0x") != 0;
        json_decref(res);
        if (has) return 1;
    }
    return 0;
}

/* The gas limit to send: the caller's, or the estimate with its margin.
 * A caller's limit below what the transaction needs is refused unless forced. */
static int choose_gas(const dg_eth_send_opts *o, dg_eth_plan *p, dg_err *err) {
    uint64_t est = p->prep.gas_estimate;
    if (!o->gas_limit) {
        p->tx.gas_limit = dg_eth_gas_with_margin(est, o->gas_margin_percent, o->gas_cap);
        return 1;
    }
    p->tx.gas_limit = o->gas_limit;
    const char *why = NULL;
    uint64_t need = 0;
    if (o->gas_limit < p->intrinsic_gas)
        why = "the intrinsic gas (21000 + data), so no node can mine it", need = p->intrinsic_gas;
    else if (o->gas_limit < est)
        why = "the estimate, so it would run out of gas and still cost its fee", need = est;
    if (!why) return 1;
    if (o->force_gas_limit) {
        p->gas_limit_forced = 1;
        return 1;
    }
    return dg_err_set(err, DG_ERR_INPUT,
                      "%s: gas limit %llu is below %s (%llu needed, estimate %llu); "
                      "leave the limit out to use the estimate + %u%%, or pass "
                      "--force-gas-limit to send it anyway",
                      p->label, (unsigned long long)o->gas_limit, why, (unsigned long long)need,
                      (unsigned long long)est, o->gas_margin_percent);
}

int dg_eth_plan_prepare(dg_rpc *rpc, const dg_eth_send_opts *opts, const uint8_t from[20],
                        const uint8_t *to, const uint8_t *data, size_t len, const dg_u256 *value,
                        const char *label, dg_eth_plan *out, dg_err *err) {
    dg_eth_send_opts o = with_defaults(opts);
    memset(out, 0, sizeof *out);
    out->label = label ? label : "transaction";
    memcpy(out->from, from, 20);
    dg_eth_prep *p = &out->prep;
    if (!dg_eth_prepare(rpc, from, to, data, len, value, p, err)) return 0;
    if (!dg_eth_check_chain(o.expect_chain_id, o.expect_source, p->chain_id, endpoint_label(rpc),
                            err))
        return 0;
    /* Load-balanced public nodes can answer "0x" for code deployed a moment
     * ago (dstack#505): ask again before calling it missing, then plan again
     * (the estimate was made against no code). */
    if (to && !p->to_has_code && !is_dev_chain(p->chain_id) && o.code_wait_ms > 0 &&
        code_appears(rpc, to, 0, o.code_wait_ms) &&
        !dg_eth_prepare(rpc, from, to, data, len, value, p, err))
        return 0;
    if (to && !p->to_has_code) {
        char s[43];
        dg_address_checksum(to, s);
        return dg_err_set(err, DG_ERR_NO_CODE,
                          "no contract code at %s on chain %llu (%s): wrong address or wrong "
                          "network?",
                          s, (unsigned long long)p->chain_id, out->label);
    }
    if (p->estimate_failed) {
        *err = p->estimate_err;
        return dg_err_wrap(err, "%s", out->label);
    }
    out->intrinsic_gas = dg_eth_intrinsic_gas(data, len, to == NULL);
    dg_eth_tx *tx = &out->tx;
    tx->type = p->fees.type;
    tx->chain_id = p->chain_id;
    tx->nonce = p->nonce;
    tx->gas_price = p->fees.gas_price;
    tx->max_fee = p->fees.max_fee;
    tx->max_priority_fee = p->fees.max_priority_fee;
    tx->has_to = to != NULL;
    if (to) memcpy(tx->to, to, 20);
    if (value) tx->value = *value;
    tx->data = data;
    tx->data_len = len;
    if (!choose_gas(&o, out, err)) return 0;
    /* gas_price is the worst case for EIP-1559 too (max fee, see dg_eth_fees) */
    if (!dg_u256_mul_u64(&out->max_cost, p->fees.gas_price, tx->gas_limit) ||
        !dg_u256_add(&out->max_cost, out->max_cost, tx->value))
        memset(&out->max_cost, 0xff, sizeof out->max_cost);
    if (dg_u256_cmp(p->balance, out->max_cost) < 0) {
        char f[43], have[100], need[100];
        dg_address_checksum(from, f);
        format_eth(p->balance, have, sizeof have);
        format_eth(out->max_cost, need, sizeof need);
        return dg_err_set(err, DG_ERR_FUNDS,
                          "insufficient funds: %s has %s, %s needs up to %s (gas %llu)", f, have,
                          out->label, need, (unsigned long long)tx->gas_limit);
    }
    return 1;
}

int dg_eth_plan_submit(dg_rpc *rpc, const dg_eth_plan *plan, const uint8_t priv[32],
                       uint8_t tx_hash[32], dg_err *err) {
    uint8_t signer[20];
    if (!dg_eth_address_from_priv(priv, signer, err)) return dg_err_wrap(err, "%s", plan->label);
    if (memcmp(signer, plan->from, 20) != 0) {
        char a[43], b[43];
        dg_address_checksum(signer, a);
        dg_address_checksum(plan->from, b);
        return dg_err_set(err, DG_ERR_INPUT, "%s: the key is for %s, the plan is from %s",
                          plan->label, a, b);
    }
    dg_buf raw;
    dg_buf_init(&raw);
    int ok = dg_eth_tx_sign(&plan->tx, priv, &raw, tx_hash, err) &&
             dg_eth_send_raw(rpc, raw.data, raw.len, tx_hash, err);
    dg_buf_free(&raw);
    return ok ? 1 : dg_err_wrap(err, "%s", plan->label);
}

/* Why did a mined transaction fail? Replay it as a call on its parent block:
 * a revert there is the reason. Otherwise it ran out of gas when it used its
 * whole limit, or when the limit was below the estimate (out of gas inside a
 * delegatecall leaves the caller its 1/64: the proxy reverts, not all used). */
static int explain_failure(dg_rpc *rpc, const dg_eth_plan *p, const dg_eth_receipt *r,
                           dg_err *err) {
    unsigned long long blk = (unsigned long long)r->block_number;
    char at[24];
    snprintf(at, sizeof at, "0x%llx", blk ? blk - 1 : 0);
    dg_buf ret;
    dg_buf_init(&ret);
    dg_err e2 = {DG_OK, ""};
    int decoded = p->tx.has_to &&
                  !dg_eth_call(rpc, p->from, p->tx.to, p->tx.data, p->tx.data_len, at, &ret, &e2) &&
                  (e2.code == DG_ERR_REVERT || e2.code == DG_ERR_NOT_OWNER);
    dg_buf_free(&ret);
    if (decoded)
        return dg_err_set(err, e2.code, "%s failed on chain (block %llu): %s", p->label, blk,
                          e2.msg);
    if (r->gas_used >= p->tx.gas_limit || p->tx.gas_limit < p->prep.gas_estimate)
        return dg_err_set(err, DG_ERR_REVERT,
                          "%s failed on chain (block %llu): out of gas — gas limit %llu, "
                          "estimate %llu, used %llu",
                          p->label, blk, (unsigned long long)p->tx.gas_limit,
                          (unsigned long long)p->prep.gas_estimate,
                          (unsigned long long)r->gas_used);
    return dg_err_set(err, DG_ERR_REVERT,
                      "%s reverted on chain in block %llu (a state change since the estimate)",
                      p->label, blk);
}

int dg_eth_plan_wait(dg_rpc *rpc, const dg_eth_plan *plan, const dg_eth_send_opts *opts,
                     const uint8_t tx_hash[32], dg_eth_receipt *rcpt, dg_err *err) {
    dg_eth_send_opts o = with_defaults(opts);
    memset(rcpt, 0, sizeof *rcpt);
    if (!dg_eth_wait_receipt(rpc, tx_hash, o.timeout_ms, o.drop_grace_ms, o.progress,
                             o.progress_ctx, rcpt, err))
        return dg_err_wrap(err, "%s", plan->label);
    if (rcpt->status && plan->tx.has_to) return 1;
    if (rcpt->status) {
        /* A creation: the next step usually calls the new contract (a proxy's
         * constructor calls its implementation), so on a public chain wait
         * until the node shows its code (load-balanced nodes lag, dstack#505). */
        if (!rcpt->has_contract_address) {
            dg_eth_receipt_free(rcpt);
            return dg_err_set(err, DG_ERR_RPC_RESPONSE,
                              "%s: the receipt of a contract creation has no contractAddress",
                              plan->label);
        }
        if (is_dev_chain(plan->tx.chain_id) || o.code_wait_ms < 0 ||
            code_appears(rpc, rcpt->contract_address, 1, o.code_wait_ms))
            return 1;
        char a[43];
        dg_address_checksum(rcpt->contract_address, a);
        dg_eth_receipt_free(rcpt);
        return dg_err_set(err, DG_ERR_NO_CODE,
                          "%s: mined, but the node shows no code at the new contract %s after "
                          "%ld ms",
                          plan->label, a, o.code_wait_ms);
    }
    explain_failure(rpc, plan, rcpt, err);
    dg_eth_receipt_free(rcpt);
    return 0;
}

int dg_eth_transact(dg_rpc *rpc, const dg_eth_send_opts *opts, const uint8_t priv[32],
                    const uint8_t *to, const uint8_t *data, size_t len, const dg_u256 *value,
                    const char *label, dg_eth_plan *plan, dg_eth_receipt *rcpt, dg_err *err) {
    dg_eth_plan local;
    memset(&local, 0, sizeof local);
    dg_eth_plan *p = plan ? plan : &local;
    uint8_t from[20], h[32];
    memset(rcpt, 0, sizeof *rcpt);
    if (!dg_eth_address_from_priv(priv, from, err)) return 0;
    return dg_eth_plan_prepare(rpc, opts, from, to, data, len, value, label, p, err) &&
           dg_eth_plan_submit(rpc, p, priv, h, err) && dg_eth_plan_wait(rpc, p, opts, h, rcpt, err);
}
