/* send.c — the NEAR send flow: plan (access key, nonce, recent block, gas
 * price, balance, receiver code), sign, send, wait, and the outcome parsed.
 *
 * The one idea: the same shape as lib/eth/send.c. dg_near_plan_prepare needs
 * only the public key and returns everything a program shows before it asks
 * for confirmation (max cost, balance); dg_near_plan_submit signs and sends
 * it and turns whatever comes back — a refusal before execution
 * (InvalidTxError), a node timeout (then `tx` is polled), or a final outcome
 * whose receipts failed — into one dg_err with a class. A stale nonce is the
 * one refusal retried, once, with the nonce the node reports.
 */
#include "dstackgov/near.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dstackgov/utf8.h"
#include "internal.h"

static const char *jstr(const json_t *o, const char *key) {
    const json_t *v = json_is_object(o) ? json_object_get(o, key) : NULL;
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* "1.5 NEAR" of a decimal yocto string, or the string itself when malformed */
static void amount_text(const json_t *v, char *out, size_t cap) {
    dg_u256 x;
    char s[DG_NEAR_AMOUNT_LEN];
    if (dg_near_json_amount(v, &x, NULL)) {
        dg_near_format_amount(x, s);
        snprintf(out, cap, "%s", s);
    } else if (json_is_integer(v)) {
        snprintf(out, cap, "%lld yoctoNEAR", (long long)json_integer_value(v));
    } else {
        snprintf(out, cap, "?");
    }
}

/* the only key of a one-key object (Rust enum as JSON), or NULL */
static const char *enum_name(const json_t *v, const json_t **body) {
    if (json_is_string(v)) {
        if (body) *body = NULL;
        return json_string_value(v);
    }
    if (!json_is_object(v) || json_object_size(v) != 1) return NULL;
    const char *k;
    json_t *c;
    json_object_foreach((json_t *)v, k, c) {
        if (body) *body = c;
        return k;
    }
    return NULL;
}

/* An account id as the node wrote it, for a message: at most 64 bytes,
 * control characters as '?' (a node's text must not reach a terminal raw). */
static const char *node_id(const json_t *body, const char *key, const char *dflt, char *buf,
                           size_t cap) {
    const char *s = jstr(body, key);
    dg_utf8_clean_str(buf, cap, s ? s : dflt, 64);
    return buf;
}

static void dump(const json_t *v, char *out, size_t cap) {
    char *d = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    dg_utf8_clean_str(out, cap, d ? d : "?", 300);
    free(d);
}

/* The error's name: the enum key, or for a text form ("InvalidTxError:
 * NotEnoughBalance for x", older nodes and emulators) its first word after
 * the prefix, copied into buf. */
static const char *ite_name(const json_t *ite, const json_t **body, char *buf, size_t cap) {
    const char *n = enum_name(ite, body);
    if (!n || !json_is_string(ite)) return n;
    if (strncmp(n, "InvalidTxError: ", 16) == 0) n += 16;
    size_t k = 0;
    while (n[k] && ((n[k] >= 'A' && n[k] <= 'Z') || (n[k] >= 'a' && n[k] <= 'z')) && k + 1 < cap)
        k++;
    memcpy(buf, n, k);
    buf[k] = 0;
    return buf;
}

const char *dg_near_invalid_tx_name(const json_t *ite) {
    static _Thread_local char buf[64];
    const char *n = ite_name(ite, NULL, buf, sizeof buf);
    return n ? n : "";
}

int dg_near_invalid_tx_error(const char *what, const json_t *ite, dg_err *err) {
    const json_t *b = NULL;
    char nb[64];
    const char *name = ite_name(ite, &b, nb, sizeof nb);
    char t[360], x[64], y[64], id[72];
    if (!name) {
        dump(ite, t, sizeof t);
        return dg_err_set(err, DG_ERR_RPC_RESPONSE, "%s: invalid transaction: %s", what, t);
    }
    if (strcmp(name, "NotEnoughBalance") == 0 && !b) {
        dump(ite, t, sizeof t);
        return dg_err_set(err, DG_ERR_FUNDS, "%s: not enough balance: %s", what, t);
    }
    if (strcmp(name, "NotEnoughBalance") == 0) {
        amount_text(json_object_get(b, "balance"), x, sizeof x);
        amount_text(json_object_get(b, "cost"), y, sizeof y);
        return dg_err_set(err, DG_ERR_FUNDS,
                          "%s: not enough balance: %s has %s, the transaction costs up to %s", what,
                          node_id(b, "signer_id", "the signer", id, sizeof id), x, y);
    }
    if (strcmp(name, "LackBalanceForState") == 0) {
        amount_text(json_object_get(b, "amount"), x, sizeof x);
        return dg_err_set(err, DG_ERR_FUNDS,
                          "%s: %s would lack the balance for its storage (needs %s more)", what,
                          node_id(b, "signer_id", "the signer", id, sizeof id), x);
    }
    if (strcmp(name, "InvalidNonce") == 0) {
        const json_t *ak = json_object_get(b, "ak_nonce"), *tn = json_object_get(b, "tx_nonce");
        if (json_is_integer(ak) && json_is_integer(tn))
            return dg_err_set(err, DG_ERR_RPC_RESPONSE,
                              "%s: invalid nonce: the access key is at nonce %lld, the transaction "
                              "used %lld (another transaction from the same key?)",
                              what, (long long)json_integer_value(ak),
                              (long long)json_integer_value(tn));
        return dg_err_set(err, DG_ERR_RPC_RESPONSE,
                          "%s: invalid nonce (another transaction from the same key?)", what);
    }
    if (strcmp(name, "Expired") == 0)
        return dg_err_set(err, DG_ERR_RPC_RESPONSE,
                          "%s: the transaction expired: its block hash is too old (send it again)",
                          what);
    if (strcmp(name, "InvalidAccessKeyError") == 0 || strcmp(name, "SignerDoesNotExist") == 0 ||
        strcmp(name, "InvalidSignature") == 0 || strcmp(name, "InvalidSignerId") == 0) {
        dump(ite, t, sizeof t);
        return dg_err_set(err, DG_ERR_CONFIG, "%s: the node refused the signer: %s", what, t);
    }
    dump(ite, t, sizeof t);
    return dg_err_set(err, DG_ERR_RPC_RESPONSE, "%s: invalid transaction: %s", what, t);
}

int dg_near_action_error(const char *what, const json_t *kind, dg_err *err) {
    const json_t *b = NULL;
    const char *name = enum_name(kind, &b);
    char t[360], x[64], id[72];
    if (!name) {
        dump(kind, t, sizeof t);
        return dg_err_set(err, DG_ERR_REVERT, "%s: failed: %s", what, t);
    }
    if (strcmp(name, "FunctionCallError") == 0) {
        const char *ee = jstr(b, "ExecutionError");
        if (ee) return dg_near_vm_text_error(what, ee, err);
        const json_t *gp = dg_near_find_key(b, "GuestPanic", 0);
        const char *pm = jstr(gp, "panic_msg");
        if (pm) {
            char m[340];
            snprintf(m, sizeof m, "Smart contract panicked: %.300s", pm);
            return dg_near_vm_text_error(what, m, err);
        }
        dump(b, t, sizeof t);
        return dg_near_vm_text_error(what, t, err);
    }
    if (strcmp(name, "LackBalanceForState") == 0) {
        amount_text(json_object_get(b, "amount"), x, sizeof x);
        return dg_err_set(err, DG_ERR_FUNDS, "%s: %s lacks balance for its storage (needs %s more)",
                          what, node_id(b, "account_id", "the account", id, sizeof id), x);
    }
    if (strcmp(name, "AccountDoesNotExist") == 0)
        return dg_err_set(err, DG_ERR_NO_CODE, "%s: account %s does not exist", what,
                          node_id(b, "account_id", "?", id, sizeof id));
    if (strcmp(name, "AccountAlreadyExists") == 0)
        return dg_err_set(err, DG_ERR_REVERT, "%s: account %s already exists", what,
                          node_id(b, "account_id", "?", id, sizeof id));
    dump(kind, t, sizeof t);
    return dg_err_set(err, DG_ERR_REVERT, "%s: %s", what, t);
}

/* ------------------------------------------------------------------ outcomes */

void dg_near_outcome_free(dg_near_outcome *o) {
    if (!o) return;
    free(o->value);
    for (size_t i = 0; i < o->nlogs; i++)
        free(o->logs[i]);
    free(o->logs);
    json_decref(o->events);
    memset(o, 0, sizeof *o);
}

static int add_log(dg_near_outcome *o, const char *line, const char *executor) {
    char **nl = realloc(o->logs, (o->nlogs + 1) * sizeof *nl);
    if (!nl) return 0;
    o->logs = nl;
    if (!(o->logs[o->nlogs] = strdup(line))) return 0;
    o->nlogs++;
    if (strncmp(line, "EVENT_JSON:", 11) != 0) return 1;
    json_t *ev = json_loads(line + 11, 0, NULL);
    /* NEP-297: standard, version and event are required; anything else is a plain log */
    if (json_is_object(ev) && jstr(ev, "standard") && jstr(ev, "version") && jstr(ev, "event")) {
        if (executor) json_object_set_new(ev, "executor_id", json_string(executor));
        json_array_append(o->events, ev);
    }
    json_decref(ev);
    return 1;
}

/* One ExecutionOutcome: logs, gas, tokens. Returns its status object or NULL. */
static int add_outcome(dg_near_outcome *o, const json_t *eo, const json_t **status) {
    const json_t *out = json_object_get(eo, "outcome");
    const json_t *logs = json_object_get(out, "logs");
    const json_t *gas = json_object_get(out, "gas_burnt");
    const json_t *tok = json_object_get(out, "tokens_burnt");
    const char *exec = jstr(out, "executor_id");
    if (!json_is_object(out) || !json_is_array(logs)) return 0;
    for (size_t i = 0; i < json_array_size(logs); i++) {
        const char *l = json_string_value(json_array_get(logs, i));
        if (!l || !add_log(o, l, exec)) return 0;
    }
    if (json_is_integer(gas) && json_integer_value(gas) >= 0)
        o->gas_burnt += (uint64_t)json_integer_value(gas);
    dg_u256 t;
    if (tok && dg_near_json_amount(tok, &t, NULL))
        dg_u256_add(&o->tokens_burnt, o->tokens_burnt, t);
    *status = json_object_get(out, "status");
    return 1;
}

static int is_failure(const json_t *status) {
    return json_is_object(status) && json_object_get(status, "Failure") != NULL;
}

static void describe_failure(dg_near_outcome *o, const json_t *fail, const char *receiver) {
    char what[120], rcv[72];
    const json_t *ae = json_object_get(fail, "ActionError");
    if (ae) {
        const json_t *idx = json_object_get(ae, "index");
        dg_utf8_clean_str(rcv, sizeof rcv, receiver ? receiver : "the receiver", 64);
        if (json_is_integer(idx))
            snprintf(what, sizeof what, "action %lld on %s", (long long)json_integer_value(idx),
                     rcv);
        else
            snprintf(what, sizeof what, "%s", rcv);
        dg_near_action_error(what, json_object_get(ae, "kind"), &o->failure);
        return;
    }
    const json_t *ite = json_object_get(fail, "InvalidTxError");
    if (ite) {
        dg_near_invalid_tx_error("transaction", ite, &o->failure);
        return;
    }
    char t[360];
    dump(fail, t, sizeof t);
    dg_err_set(&o->failure, DG_ERR_REVERT, "transaction failed: %s", t);
}

int dg_near_outcome_parse(const json_t *result, dg_near_outcome *o, dg_err *err) {
    memset(o, 0, sizeof *o);
    o->events = json_array();
    if (!o->events) return dg_err_set(err, DG_ERR_NOMEM, "out of memory");
    const json_t *status = json_object_get(result, "status");
    const json_t *tx = json_object_get(result, "transaction");
    const json_t *txo = json_object_get(result, "transaction_outcome");
    const json_t *ros = json_object_get(result, "receipts_outcome");
    const char *fes = jstr(result, "final_execution_status");
    if (fes) dg_utf8_clean_str(o->final_status, sizeof o->final_status, fes, 31);
    const char *hash = jstr(tx, "hash");
    if (!hash) hash = jstr(txo, "id");
    if (!json_is_object(status) || !hash || !dg_base58_decode_exact(hash, o->tx_hash, 32, NULL))
        return dg_err_set(err, DG_ERR_RPC_RESPONSE,
                          "the outcome lacks a status or a transaction hash");
    const json_t *st = NULL;
    if (txo && !add_outcome(o, txo, &st))
        return dg_err_set(err, DG_ERR_RPC_RESPONSE, "malformed transaction_outcome");
    if (ros && !json_is_array(ros))
        return dg_err_set(err, DG_ERR_RPC_RESPONSE, "receipts_outcome is not an array");
    const json_t *first_fail = NULL;
    const char *fail_exec = NULL;
    for (size_t i = 0; i < json_array_size(ros); i++) {
        const json_t *r = json_array_get(ros, i);
        if (!add_outcome(o, r, &st))
            return dg_err_set(err, DG_ERR_RPC_RESPONSE, "malformed receipts_outcome[%zu]", i);
        o->nreceipts++;
        if (is_failure(st)) {
            o->nfailed++;
            if (!first_fail) {
                first_fail = json_object_get(st, "Failure");
                fail_exec = jstr(json_object_get(r, "outcome"), "executor_id");
            }
        }
    }
    const json_t *sv = json_object_get(status, "SuccessValue");
    if (json_is_string(sv)) {
        const char *b64 = json_string_value(sv);
        size_t n = strlen(b64), len = 0;
        o->value = malloc(n + 1);
        if (!o->value) return dg_err_set(err, DG_ERR_NOMEM, "out of memory");
        if (sodium_base642bin(o->value, n + 1, b64, n, NULL, &len, NULL,
                              sodium_base64_VARIANT_ORIGINAL) != 0)
            return dg_err_set(err, DG_ERR_RPC_RESPONSE, "SuccessValue is not base64");
        o->value_len = len;
        o->success = 1;
    } else if (json_is_string(json_object_get(status, "SuccessReceiptId"))) {
        o->success = 1;
    } else if (is_failure(status)) {
        const char *recv = jstr(tx, "receiver_id");
        describe_failure(o, json_object_get(status, "Failure"), fail_exec ? fail_exec : recv);
    } else {
        return dg_err_set(err, DG_ERR_RPC_RESPONSE, "the outcome's status is not understood");
    }
    (void)first_fail;
    return 1;
}

/* ------------------------------------------------------------------ plan */

static int receiver_is_created(const dg_near_action *a, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (a[i].kind == DG_NEAR_CREATE_ACCOUNT || a[i].kind == DG_NEAR_DEPLOY_CONTRACT) return 1;
    return 0;
}

int dg_near_plan_prepare(dg_rpc *rpc, const char *signer_id, const uint8_t pk[32],
                         const char *receiver_id, const dg_near_action *actions, size_t n,
                         const char *label, dg_near_plan *out, dg_err *err) {
    memset(out, 0, sizeof *out);
    out->label = label ? label : "transaction";
    if (!dg_near_account_id_check(signer_id, err))
        return dg_err_wrap(err, "%s: signer", out->label);
    if (!dg_near_account_id_check(receiver_id, err))
        return dg_err_wrap(err, "%s: receiver", out->label);
    if (!n) return dg_err_set(err, DG_ERR_INPUT, "%s: no actions", out->label);
    snprintf(out->signer_id, sizeof out->signer_id, "%s", signer_id);
    snprintf(out->receiver_id, sizeof out->receiver_id, "%s", receiver_id);
    dg_near_access_key ak;
    /* the nonce from the newest state (a final view can lag the last transaction) */
    if (!dg_near_view_access_key(rpc, "optimistic", signer_id, pk, &ak, err))
        return dg_err_wrap(err, "%s", out->label);
    dg_near_account acct;
    if (!dg_near_view_account(rpc, "optimistic", signer_id, &acct, err))
        return dg_err_wrap(err, "%s", out->label);
    /* a method called on an existing account needs code there (not when this
     * transaction creates or deploys it) */
    int calls = 0;
    for (size_t i = 0; i < n; i++) {
        calls |= actions[i].kind == DG_NEAR_FUNCTION_CALL;
        if (actions[i].kind == DG_NEAR_FUNCTION_CALL) out->prepaid_gas += actions[i].gas;
        if (actions[i].kind == DG_NEAR_FUNCTION_CALL || actions[i].kind == DG_NEAR_TRANSFER)
            if (!dg_u256_add(&out->deposit, out->deposit, actions[i].deposit))
                return dg_err_set(err, DG_ERR_INPUT, "%s: deposits overflow", out->label);
    }
    if (calls && !receiver_is_created(actions, n)) {
        dg_near_account r;
        if (!dg_near_view_account(rpc, "optimistic", receiver_id, &r, err))
            return dg_err_wrap(err, "%s", out->label);
        if (!r.has_code)
            return dg_err_set(err, DG_ERR_NO_CODE,
                              "%s: account %s has no contract code: wrong account or wrong "
                              "network?",
                              out->label, receiver_id);
    }
    json_t *gp = NULL;
    if (!dg_near_call(rpc, "gas_price", "gas_price", json_pack("[n]"), &gp, NULL, err))
        return dg_err_wrap(err, "%s", out->label);
    int ok = dg_near_json_amount(json_object_get(gp, "gas_price"), &out->gas_price, err);
    json_decref(gp);
    if (!ok) return dg_err_wrap(err, "%s: gas_price", out->label);
    out->fee_gas = dg_near_action_fee_gas(actions, n);
    dg_u256 gas_cost;
    if (!dg_u256_mul_u64(&gas_cost, out->gas_price, out->prepaid_gas + out->fee_gas) ||
        !dg_u256_add(&out->max_cost, gas_cost, out->deposit))
        return dg_err_set(err, DG_ERR_INPUT, "%s: cost overflows", out->label);
    out->balance = acct.amount;
    out->block_height = ak.at.height;
    out->full_access = ak.full_access;
    out->tx.signer_id = out->signer_id;
    out->tx.receiver_id = out->receiver_id;
    memcpy(out->tx.public_key, pk, 32);
    out->tx.nonce = ak.nonce + 1;
    memcpy(out->tx.block_hash, ak.at.hash, 32);
    out->tx.actions = actions;
    out->tx.nactions = n;
    if (dg_u256_cmp(out->balance, out->max_cost) < 0) {
        char have[DG_NEAR_AMOUNT_LEN], need[DG_NEAR_AMOUNT_LEN];
        dg_near_format_amount(out->balance, have);
        dg_near_format_amount(out->max_cost, need);
        return dg_err_set(err, DG_ERR_FUNDS, "%s: insufficient funds: %s has %s, needs up to %s",
                          out->label, signer_id, have, need);
    }
    return 1;
}

/* ------------------------------------------------------------------ submit */

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Poll `tx` until the outcome is there or the deadline passes. */
static int poll_tx(dg_rpc *rpc, const char *hash, const char *sender, const char *wait,
                   long long deadline, json_t **res, dg_err *err) {
    long wait_ms = 50;
    for (;;) {
        json_t *e = NULL;
        dg_err pe = {0};
        if (dg_near_call(rpc, "tx", "tx",
                         json_pack("{s:s, s:s, s:s}", "tx_hash", hash, "sender_account_id", sender,
                                   "wait_until", wait),
                         res, &e, &pe)) {
            /* an outcome so far ("Started": receipts still run) is no outcome yet */
            if (json_is_object(json_object_get(*res, "status"))) return 1;
            json_decref(*res);
            *res = NULL;
        } else {
            const char *c = dg_near_error_cause(e);
            int again =
                c && (strcmp(c, "TIMEOUT_ERROR") == 0 || strcmp(c, "UNKNOWN_TRANSACTION") == 0);
            json_decref(e);
            if (!again && pe.code != DG_ERR_RPC_TIMEOUT) {
                if (err) *err = pe;
                return 0;
            }
        }
        if (dg_rpc_now_ms() + wait_ms > deadline)
            return dg_err_set(err, DG_ERR_RPC_TIMEOUT,
                              "transaction %s sent, but no final outcome yet (ask again with its "
                              "hash)",
                              hash);
        sleep_ms(wait_ms);
        if (wait_ms < 1000) wait_ms *= 2;
    }
}

/* Send once. Returns 1 with *res (an outcome, maybe without status), or 0
 * with err and *error (the node's error object, when it sent one). */
static int send_once(dg_rpc *rpc, const char *b64, const char *wait, json_t **res, json_t **error,
                     dg_err *err) {
    if (dg_near_call(rpc, "send_tx", "send_tx",
                     json_pack("{s:s, s:s}", "signed_tx_base64", b64, "wait_until", wait), res,
                     error, err))
        return 1;
    const char *c = dg_near_error_cause(*error);
    if (!c || strcmp(c, "METHOD_NOT_FOUND") != 0) return 0;
    /* nodes older than send_tx (nearcore < 1.39) */
    json_decref(*error);
    *error = NULL;
    return dg_near_call(rpc, "broadcast_tx_commit", "broadcast_tx_commit", json_pack("[s]", b64),
                        res, error, err);
}

int dg_near_plan_submit(dg_rpc *rpc, const dg_near_send_opts *opts, dg_near_plan *plan,
                        const dg_near_key *key, dg_near_outcome *out, dg_err *err) {
    dg_near_send_opts o = opts ? *opts : (dg_near_send_opts){0};
    const char *wait = o.wait_until ? o.wait_until : "FINAL";
    long long deadline = dg_rpc_now_ms() + (o.timeout_ms > 0 ? o.timeout_ms : 120000);
    if (out) memset(out, 0, sizeof *out);
    int retried = 0;
    for (;;) {
        dg_buf raw;
        dg_buf_init(&raw);
        uint8_t h[32];
        if (!dg_near_tx_sign(&plan->tx, key, &raw, h, err)) {
            dg_buf_free(&raw);
            return dg_err_wrap(err, "%s", plan->label);
        }
        size_t b64len = sodium_base64_ENCODED_LEN(raw.len, sodium_base64_VARIANT_ORIGINAL);
        char *b64 = malloc(b64len);
        if (!b64) {
            dg_buf_free(&raw);
            return dg_err_set(err, DG_ERR_NOMEM, "%s: out of memory", plan->label);
        }
        sodium_bin2base64(b64, b64len, raw.data, raw.len, sodium_base64_VARIANT_ORIGINAL);
        dg_buf_free(&raw);
        char hash[DG_BASE58_LEN(32)];
        dg_base58_encode(h, 32, hash, sizeof hash);
        if (out) memcpy(out->tx_hash, h, 32);
        json_t *res = NULL, *error = NULL;
        int ok = send_once(rpc, b64, wait, &res, &error, err);
        free(b64);
        const char *cause = dg_near_error_cause(error);
        if (!ok && cause && strcmp(cause, "TIMEOUT_ERROR") == 0) {
            json_decref(error);
            error = NULL;
            ok = poll_tx(rpc, hash, plan->signer_id, wait, deadline, &res, err);
        } else if (ok && !json_is_object(json_object_get(res, "status"))) {
            /* the node answered before the outcome (wait_until below EXECUTED, or
             * INCLUDED_FINAL with receipts still running: status "Started") */
            json_decref(res);
            res = NULL;
            ok = poll_tx(rpc, hash, plan->signer_id, "FINAL", deadline, &res, err);
        }
        if (!ok) {
            const json_t *info = json_object_get(json_object_get(error, "cause"), "info");
            const json_t *ite = dg_near_find_key(info, "InvalidTxError", 0);
            if (!ite) ite = dg_near_find_key(json_object_get(error, "data"), "InvalidTxError", 0);
            const char *name = ite ? dg_near_invalid_tx_name(ite) : "";
            if (strcmp(name, "InvalidNonce") == 0 && !retried && !o.no_nonce_retry) {
                /* another transaction used this nonce: once more, past the node's nonce */
                const json_t *ak =
                    json_object_get(json_object_get(ite, "InvalidNonce"), "ak_nonce");
                uint64_t node_nonce = json_is_integer(ak) && json_integer_value(ak) > 0
                                          ? (uint64_t)json_integer_value(ak)
                                          : 0;
                dg_near_access_key k;
                dg_err e2 = {0};
                int fresh = dg_near_view_access_key(rpc, "optimistic", plan->signer_id,
                                                    plan->tx.public_key, &k, &e2);
                json_decref(error);
                if (!fresh) {
                    if (err) *err = e2;
                    return dg_err_wrap(err, "%s", plan->label);
                }
                uint64_t n = k.nonce > node_nonce ? k.nonce : node_nonce;
                plan->tx.nonce = n + 1;
                memcpy(plan->tx.block_hash, k.at.hash, 32);
                plan->block_height = k.at.height;
                retried = 1;
                continue;
            }
            json_decref(error);
            return dg_err_wrap(err, "%s", plan->label);
        }
        json_decref(error);
        dg_near_outcome tmp;
        int parsed = dg_near_outcome_parse(res, &tmp, err);
        json_decref(res);
        if (!parsed) {
            dg_near_outcome_free(&tmp);
            return dg_err_wrap(err, "%s: transaction %s", plan->label, hash);
        }
        int success = tmp.success;
        if (!success && err) *err = tmp.failure;
        if (out)
            *out = tmp;
        else
            dg_near_outcome_free(&tmp);
        if (!success) return dg_err_wrap(err, "%s (transaction %s)", plan->label, hash);
        return 1;
    }
}

int dg_near_transact(dg_rpc *rpc, const dg_near_send_opts *opts, const char *signer_id,
                     const dg_near_key *key, const char *receiver_id, const dg_near_action *actions,
                     size_t n, const char *label, dg_near_outcome *out, dg_err *err) {
    dg_near_plan plan;
    if (out) memset(out, 0, sizeof *out);
    if (!dg_near_plan_prepare(rpc, signer_id, key->pk, receiver_id, actions, n, label, &plan, err))
        return 0;
    return dg_near_plan_submit(rpc, opts, &plan, key, out, err);
}
