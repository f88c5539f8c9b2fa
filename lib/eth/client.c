/* client.c — the JSON-RPC steps of a transaction: prepare, send, wait.
 *
 * The one idea: a transaction costs three round trips and no more. Everything
 * known before signing (chain id, nonce, fees, gas estimate, balance, target
 * code, block) is fetched in one JSON-RPC batch; then eth_sendRawTransaction;
 * then receipt polling that starts immediately (auto-mining chains answer at
 * once) and backs off up to one second. Node errors are classified here:
 * revert data goes through dg_revert_decode, "insufficient funds" becomes
 * DG_ERR_FUNDS.
 */
#include "dstackgov/eth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "dstackgov/hash.h"
#include "dstackgov/hex.h"
#include "dstackgov/revert.h"

/* ------------------------------------------------------------------ JSON helpers */

int dg_eth_quantity_u64(const json_t *v, uint64_t *out, dg_err *err) {
    const char *s = json_is_string(v) ? json_string_value(v) : NULL;
    if (!s || (s[0] != '0') || (s[1] != 'x' && s[1] != 'X') || s[2] == '\0' || strlen(s) > 18)
        return dg_err_set(err, DG_ERR_RPC_RESPONSE, "expected a hex quantity, got %s",
                          s ? s : "a non-string");
    uint64_t r = 0;
    for (const char *p = s + 2; *p; p++) {
        int d;
        if (*p >= '0' && *p <= '9')
            d = *p - '0';
        else if (*p >= 'a' && *p <= 'f')
            d = *p - 'a' + 10;
        else if (*p >= 'A' && *p <= 'F')
            d = *p - 'A' + 10;
        else
            return dg_err_set(err, DG_ERR_RPC_RESPONSE, "bad hex quantity \"%s\"", s);
        r = (r << 4) | (uint64_t)d;
    }
    *out = r;
    return 1;
}

int dg_eth_quantity_u256(const json_t *v, dg_u256 *out, dg_err *err) {
    const char *s = json_is_string(v) ? json_string_value(v) : NULL;
    if (!s || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') || s[2] == '\0' || strlen(s) > 66)
        return dg_err_set(err, DG_ERR_RPC_RESPONSE, "expected a hex quantity, got %s",
                          s ? s : "a non-string");
    dg_u256 r = {{0, 0, 0, 0}};
    size_t n = strlen(s + 2);
    for (size_t i = 0; i < n; i++) {
        int d = dg_hex_digit((unsigned char)s[2 + i]);
        if (d < 0) return dg_err_set(err, DG_ERR_RPC_RESPONSE, "bad hex quantity \"%s\"", s);
        size_t bit = 4 * (n - 1 - i);
        r.w[bit / 64] |= (uint64_t)d << (bit % 64);
    }
    *out = r;
    return 1;
}

json_t *dg_eth_json_quantity_u64(uint64_t v) {
    char s[24];
    snprintf(s, sizeof s, "0x%llx", (unsigned long long)v);
    return json_string(s);
}

json_t *dg_eth_json_quantity_u256(const dg_u256 *v) {
    char s[70] = "0x";
    size_t n = 2;
    int started = 0;
    for (int i = 63; i >= 0; i--) {
        unsigned d = (unsigned)(v->w[i / 16] >> (4 * (i % 16))) & 0xf;
        if (!d && !started) continue;
        started = 1;
        s[n++] = "0123456789abcdef"[d];
    }
    if (!started) s[n++] = '0';
    s[n] = '\0';
    return json_string(s);
}

json_t *dg_eth_json_bytes(const uint8_t *p, size_t n) {
    char *s = malloc(2 * n + 3);
    if (!s) return NULL;
    dg_hex_encode_0x(p, n, s);
    json_t *j = json_string(s);
    free(s);
    return j;
}

static int json_hex_fixed(const json_t *v, uint8_t *out, size_t n, const char *what, dg_err *err) {
    const char *s = json_is_string(v) ? json_string_value(v) : NULL;
    if (!s || !dg_hex_decode(s, strlen(s), out, n, NULL))
        return dg_err_set(err, DG_ERR_RPC_RESPONSE, "malformed %s in the node's answer", what);
    return 1;
}

/* ------------------------------------------------------------------ fees */

static void u256_set64(dg_u256 *v, uint64_t x) {
    memset(v, 0, sizeof *v);
    v->w[0] = x;
}

/* v = a*2 + b (fees never come near 2^255; saturate to be safe). */
static void u256_2a_plus_b(dg_u256 *out, const dg_u256 *a, const dg_u256 *b) {
    dg_u256 r;
    uint64_t carry = 0;
    for (int i = 0; i < 4; i++) {
        uint64_t twice = (a->w[i] << 1) | carry;
        carry = a->w[i] >> 63;
        r.w[i] = twice;
    }
    uint64_t c = 0;
    for (int i = 0; i < 4; i++) {
        uint64_t s = r.w[i] + b->w[i];
        uint64_t c1 = s < r.w[i];
        uint64_t s2 = s + c;
        uint64_t c2 = s2 < s;
        r.w[i] = s2;
        c = c1 | c2;
    }
    if (carry || c) memset(&r, 0xff, sizeof r);
    *out = r;
}

static int u256_is_zero(const dg_u256 *v) {
    return !(v->w[0] | v->w[1] | v->w[2] | v->w[3]);
}

static int u256_lt(const dg_u256 *a, const dg_u256 *b) {
    for (int i = 3; i >= 0; i--)
        if (a->w[i] != b->w[i]) return a->w[i] < b->w[i];
    return 0;
}

int dg_eth_fees_choose(const json_t *fee_history, const json_t *max_priority,
                       const json_t *gas_price, dg_eth_fees *out, dg_err *err) {
    memset(out, 0, sizeof *out);
    const json_t *bases = fee_history ? json_object_get(fee_history, "baseFeePerGas") : NULL;
    size_t nb = json_is_array(bases) ? json_array_size(bases) : 0;
    dg_u256 base;
    /* A zero base fee means a pre-London chain (a London chain never goes below 7 wei):
     * some nodes still answer eth_feeHistory there, with zeros. */
    if (nb > 0 && dg_eth_quantity_u256(json_array_get(bases, nb - 1), &base, NULL) &&
        !u256_is_zero(&base)) {
        dg_u256 tip;
        int have_tip = max_priority && dg_eth_quantity_u256(max_priority, &tip, NULL);
        if (!have_tip) {
            /* median of the 50th-percentile rewards */
            const json_t *rw = json_object_get(fee_history, "reward");
            size_t nr = json_is_array(rw) ? json_array_size(rw) : 0;
            dg_u256 vals[64];
            size_t k = 0;
            for (size_t i = 0; i < nr && k < 64; i++) {
                const json_t *row = json_array_get(rw, i);
                if (json_is_array(row) && json_array_size(row) > 0 &&
                    dg_eth_quantity_u256(json_array_get(row, 0), &vals[k], NULL))
                    k++;
            }
            for (size_t i = 1; i < k; i++) /* insertion sort: k <= 64 */
                for (size_t j = i; j > 0 && u256_lt(&vals[j], &vals[j - 1]); j--) {
                    dg_u256 t = vals[j];
                    vals[j] = vals[j - 1];
                    vals[j - 1] = t;
                }
            if (k > 0) tip = vals[k / 2], have_tip = 1;
        }
        if (!have_tip) u256_set64(&tip, 1000000000ull); /* 1 gwei */
        if (u256_is_zero(&tip)) u256_set64(&tip, 1);
        out->type = DG_TX_EIP1559;
        out->base_fee = base;
        out->max_priority_fee = tip;
        u256_2a_plus_b(&out->max_fee, &base, &tip);
        out->gas_price = out->max_fee;
        return 1;
    }
    dg_u256 gp;
    if (gas_price && dg_eth_quantity_u256(gas_price, &gp, NULL)) {
        out->type = DG_TX_LEGACY;
        out->gas_price = gp;
        return 1;
    }
    return dg_err_set(err, DG_ERR_RPC_RESPONSE,
                      "the node reported neither a base fee (eth_feeHistory) nor a gas price");
}

uint64_t dg_eth_gas_with_margin(uint64_t estimate, unsigned percent, uint64_t cap) {
    uint64_t g = estimate + estimate / 100 * percent + (estimate % 100) * percent / 100 + 1000;
    if (g < estimate) g = UINT64_MAX;
    if (cap && g > cap) g = cap;
    return g;
}

/* ------------------------------------------------------------------ errors */

int dg_eth_classify_error(const char *what, const char *message, const json_t *data, dg_err *err) {
    const char *hex = json_is_string(data) ? json_string_value(data) : NULL;
    /* Some nodes nest the data: {"data": {"data": "0x..."}} or {"data": "Reverted 0x.."}. */
    if (!hex && json_is_object(data)) {
        const json_t *inner = json_object_get(data, "data");
        if (json_is_string(inner)) hex = json_string_value(inner);
    }
    if (hex && strncmp(hex, "Reverted ", 9) == 0) hex += 9;
    if (hex && hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X')) {
        dg_buf b;
        dg_buf_init(&b);
        if (dg_hex_decode_var(hex, strlen(hex), &b, NULL)) {
            char reason[400];
            dg_err_code klass = DG_ERR_REVERT;
            if (b.len == 0)
                snprintf(reason, sizeof reason, "reverted without a reason");
            else
                dg_revert_decode(b.data, b.len, reason, sizeof reason, &klass);
            dg_buf_free(&b);
            if (klass == DG_OK) klass = DG_ERR_REVERT;
            return dg_err_set(err, klass, "%s reverted: %s", what, reason);
        }
        dg_buf_free(&b);
    }
    const char *m = message ? message : "unknown error";
    if (strcasestr(m, "insufficient funds"))
        return dg_err_set(err, DG_ERR_FUNDS, "%s: insufficient funds for gas * price + value (%s)",
                          what, m);
    if (strcasestr(m, "revert")) return dg_err_set(err, DG_ERR_REVERT, "%s: %s", what, m);
    return dg_err_set(err, DG_ERR_RPC_RESPONSE, "%s: the node answered: %s", what, m);
}

/* ------------------------------------------------------------------ calls */

static json_t *call_object(const uint8_t *from, const uint8_t *to, const uint8_t *data, size_t len,
                           const dg_u256 *value) {
    json_t *o = json_object();
    if (from) json_object_set_new(o, "from", dg_eth_json_bytes(from, 20));
    if (to) json_object_set_new(o, "to", dg_eth_json_bytes(to, 20));
    json_object_set_new(o, "data", dg_eth_json_bytes(data, len));
    if (value && !u256_is_zero(value))
        json_object_set_new(o, "value", dg_eth_json_quantity_u256(value));
    return o;
}

/* One call, sent as a plain (non-batch) request; JSON-RPC errors are classified. */
static int single(dg_rpc *rpc, const char *method, json_t *params, json_t **result,
                  const char *what, dg_err *err) {
    dg_err e = {DG_OK, ""};
    if (dg_rpc_call(rpc, method, params, result, &e)) return 1;
    if (e.code != DG_ERR_RPC_RESPONSE || !dg_rpc_last_error_code(rpc)) {
        if (err) *err = e;
        return 0;
    }
    const char *d = dg_rpc_last_error_data(rpc);
    json_t *data = d ? json_string(d) : NULL;
    dg_eth_classify_error(what, e.msg, data, err);
    if (data) json_decref(data);
    return 0;
}

int dg_eth_batch(dg_rpc *rpc, dg_rpc_req *reqs, size_t n, dg_err *err) {
    json_t *saved[32];
    if (n > 32) return dg_rpc_batch(rpc, reqs, n, err);
    for (size_t i = 0; i < n; i++)
        saved[i] = reqs[i].params ? json_incref(reqs[i].params) : NULL;
    dg_err e = {DG_OK, ""};
    if (dg_rpc_batch(rpc, reqs, n, &e)) {
        for (size_t i = 0; i < n; i++)
            if (saved[i]) json_decref(saved[i]);
        return 1;
    }
    if (e.code != DG_ERR_RPC_RESPONSE) { /* unreachable, timeout: no second try here */
        for (size_t i = 0; i < n; i++)
            if (saved[i]) json_decref(saved[i]);
        if (err) *err = e;
        return 0;
    }
    /* The endpoint answered, but not with a batch: some nodes and gateways refuse
     * JSON-RPC batches. Ask one request at a time. */
    for (size_t i = 0; i < n; i++) {
        dg_rpc_req *r = &reqs[i];
        dg_err e2 = {DG_OK, ""};
        json_t *res = NULL;
        r->ok = 0;
        r->result = r->error_data = NULL;
        r->error[0] = '\0';
        json_t *p = saved[i];
        saved[i] = NULL;
        if (dg_rpc_call(rpc, r->method, p ? p : json_array(), &res, &e2)) {
            r->ok = 1;
            r->result = res;
        } else if (e2.code == DG_ERR_RPC_RESPONSE) {
            snprintf(r->error, sizeof r->error, "%.255s", e2.msg);
            r->error_code = dg_rpc_last_error_code(rpc);
            const char *d = dg_rpc_last_error_data(rpc);
            r->error_data = d ? json_string(d) : NULL;
        } else {
            for (size_t k = i + 1; k < n; k++)
                if (saved[k]) json_decref(saved[k]);
            if (err) *err = e2;
            return 0;
        }
    }
    return 1;
}

int dg_eth_chain_id(dg_rpc *rpc, uint64_t *out, dg_err *err) {
    json_t *res = NULL;
    if (!single(rpc, "eth_chainId", json_array(), &res, "eth_chainId", err)) return 0;
    int ok = dg_eth_quantity_u64(res, out, err);
    json_decref(res);
    return ok;
}

int dg_eth_nonce(dg_rpc *rpc, const uint8_t addr[20], uint64_t *out, dg_err *err) {
    json_t *res = NULL;
    json_t *p = json_pack("[o,s]", dg_eth_json_bytes(addr, 20), "pending");
    if (!single(rpc, "eth_getTransactionCount", p, &res, "eth_getTransactionCount", err)) return 0;
    int ok = dg_eth_quantity_u64(res, out, err);
    json_decref(res);
    return ok;
}

int dg_eth_suggest_fees(dg_rpc *rpc, dg_eth_fees *out, dg_err *err) {
    dg_rpc_req r[3];
    memset(r, 0, sizeof r);
    r[0].method = "eth_feeHistory";
    r[0].params = json_pack("[s,s,[i]]", "0x5", "latest", 50);
    r[1].method = "eth_maxPriorityFeePerGas";
    r[1].params = json_array();
    r[2].method = "eth_gasPrice";
    r[2].params = json_array();
    int ok = dg_eth_batch(rpc, r, 3, err);
    if (ok)
        ok = dg_eth_fees_choose(r[0].ok ? r[0].result : NULL, r[1].ok ? r[1].result : NULL,
                                r[2].ok ? r[2].result : NULL, out, err);
    dg_rpc_req_clear(r, 3);
    return ok;
}

int dg_eth_estimate_gas(dg_rpc *rpc, const uint8_t from[20], const uint8_t *to, const uint8_t *data,
                        size_t len, uint64_t *gas, dg_err *err) {
    json_t *res = NULL;
    json_t *p = json_pack("[o]", call_object(from, to, data, len, NULL));
    if (!single(rpc, "eth_estimateGas", p, &res, "gas estimate", err)) return 0;
    int ok = dg_eth_quantity_u64(res, gas, err);
    json_decref(res);
    return ok;
}

int dg_eth_call(dg_rpc *rpc, const uint8_t *from, const uint8_t to[20], const uint8_t *data,
                size_t len, const char *block, dg_buf *ret, dg_err *err) {
    json_t *res = NULL;
    json_t *p =
        json_pack("[o,s]", call_object(from, to, data, len, NULL), block ? block : "latest");
    if (!single(rpc, "eth_call", p, &res, "call", err)) return 0;
    const char *s = json_is_string(res) ? json_string_value(res) : NULL;
    int ok = s && dg_hex_decode_var(s, strlen(s), ret, NULL);
    json_decref(res);
    if (!ok) return dg_err_set(err, DG_ERR_RPC_RESPONSE, "eth_call returned malformed data");
    return 1;
}

int dg_eth_send_raw(dg_rpc *rpc, const uint8_t *raw, size_t len, uint8_t tx_hash[32], dg_err *err) {
    json_t *res = NULL;
    uint8_t mine[32], theirs[32];
    dg_keccak256(raw, len, mine);
    json_t *p = json_pack("[o]", dg_eth_json_bytes(raw, len));
    if (!single(rpc, "eth_sendRawTransaction", p, &res, "sending the transaction", err)) return 0;
    int ok = json_hex_fixed(res, theirs, 32, "transaction hash", err);
    json_decref(res);
    if (!ok) return 0;
    if (memcmp(mine, theirs, 32) != 0)
        return dg_err_set(err, DG_ERR_RPC_RESPONSE,
                          "the node returned a transaction hash that is not the hash of what "
                          "was sent");
    if (tx_hash) memcpy(tx_hash, mine, 32);
    return 1;
}

int dg_eth_prepare(dg_rpc *rpc, const uint8_t from[20], const uint8_t *to, const uint8_t *data,
                   size_t len, const dg_u256 *value, dg_eth_prep *out, dg_err *err) {
    enum { CHAIN, NONCE, HIST, TIP, PRICE, EST, BAL, CODE, BLOCK, N };
    dg_rpc_req r[N];
    memset(r, 0, sizeof r);
    memset(out, 0, sizeof *out);
    r[CHAIN].method = "eth_chainId";
    r[CHAIN].params = json_array();
    r[NONCE].method = "eth_getTransactionCount";
    r[NONCE].params = json_pack("[o,s]", dg_eth_json_bytes(from, 20), "pending");
    r[HIST].method = "eth_feeHistory";
    r[HIST].params = json_pack("[s,s,[i]]", "0x5", "latest", 50);
    r[TIP].method = "eth_maxPriorityFeePerGas";
    r[TIP].params = json_array();
    r[PRICE].method = "eth_gasPrice";
    r[PRICE].params = json_array();
    r[EST].method = "eth_estimateGas";
    r[EST].params = json_pack("[o]", call_object(from, to, data, len, value));
    r[BAL].method = "eth_getBalance";
    r[BAL].params = json_pack("[o,s]", dg_eth_json_bytes(from, 20), "latest");
    size_t n = N;
    if (to) {
        r[CODE].method = "eth_getCode";
        r[CODE].params = json_pack("[o,s]", dg_eth_json_bytes(to, 20), "latest");
    } else {
        r[CODE].method = "eth_blockNumber"; /* placeholder keeps indices fixed */
        r[CODE].params = json_array();
    }
    r[BLOCK].method = "eth_blockNumber";
    r[BLOCK].params = json_array();
    int ok = dg_eth_batch(rpc, r, n, err);
    if (!ok) goto done;
    ok = 0;
    if (!r[CHAIN].ok) {
        dg_err_set(err, DG_ERR_RPC_RESPONSE, "eth_chainId failed: %s", r[CHAIN].error);
        goto done;
    }
    if (!dg_eth_quantity_u64(r[CHAIN].result, &out->chain_id, err)) goto done;
    if (!r[NONCE].ok) {
        dg_err_set(err, DG_ERR_RPC_RESPONSE, "eth_getTransactionCount failed: %s", r[NONCE].error);
        goto done;
    }
    if (!dg_eth_quantity_u64(r[NONCE].result, &out->nonce, err)) goto done;
    if (!dg_eth_fees_choose(r[HIST].ok ? r[HIST].result : NULL, r[TIP].ok ? r[TIP].result : NULL,
                            r[PRICE].ok ? r[PRICE].result : NULL, &out->fees, err))
        goto done;
    if (!r[BAL].ok) {
        dg_err_set(err, DG_ERR_RPC_RESPONSE, "eth_getBalance failed: %s", r[BAL].error);
        goto done;
    }
    if (!dg_eth_quantity_u256(r[BAL].result, &out->balance, err)) goto done;
    if (r[BLOCK].ok) dg_eth_quantity_u64(r[BLOCK].result, &out->block_number, NULL);
    if (to) {
        const char *code =
            r[CODE].ok && json_is_string(r[CODE].result) ? json_string_value(r[CODE].result) : NULL;
        if (!code) {
            dg_err_set(err, DG_ERR_RPC_RESPONSE, "eth_getCode failed: %s", r[CODE].error);
            goto done;
        }
        out->to_has_code = strcmp(code, "0x") != 0 && strcmp(code, "") != 0;
    } else {
        out->to_has_code = 1;
    }
    if (r[EST].ok) {
        if (!dg_eth_quantity_u64(r[EST].result, &out->gas_estimate, err)) goto done;
    } else {
        out->estimate_failed = 1;
        dg_eth_classify_error("gas estimate", r[EST].error, r[EST].error_data, &out->estimate_err);
    }
    ok = 1;
done:
    dg_rpc_req_clear(r, n); /* every answer's references, the error object's too */
    return ok;
}

/* ------------------------------------------------------------------ receipts */

void dg_eth_receipt_free(dg_eth_receipt *r) {
    if (!r) return;
    for (size_t i = 0; i < r->nlogs; i++)
        free(r->logs[i].data);
    free(r->logs);
    r->logs = NULL;
    r->nlogs = 0;
}

/* One log object (receipt entry or eth_getLogs entry). On failure lg->data is NULL. */
static int parse_log(const json_t *l, dg_eth_log *lg, dg_err *err) {
    memset(lg, 0, sizeof *lg);
    const json_t *topics = json_object_get(l, "topics");
    size_t nt = json_is_array(topics) ? json_array_size(topics) : 0;
    if (!json_is_object(l) || nt > 4 ||
        !json_hex_fixed(json_object_get(l, "address"), lg->address, 20, "log address", err))
        return dg_err_set(err, DG_ERR_RPC_RESPONSE, "malformed log");
    for (size_t t = 0; t < nt; t++)
        if (!json_hex_fixed(json_array_get(topics, t), lg->topics[t], 32, "log topic", err))
            return 0;
    lg->ntopics = nt;
    const json_t *li = json_object_get(l, "logIndex");
    if (li) dg_eth_quantity_u64(li, &lg->log_index, NULL);
    const json_t *bn = json_object_get(l, "blockNumber");
    if (bn) dg_eth_quantity_u64(bn, &lg->block_number, NULL);
    const json_t *th = json_object_get(l, "transactionHash");
    if (json_is_string(th)) json_hex_fixed(th, lg->tx_hash, 32, "log transactionHash", NULL);
    const json_t *d = json_object_get(l, "data");
    const char *ds = json_is_string(d) ? json_string_value(d) : "0x";
    dg_buf b;
    dg_buf_init(&b);
    if (!dg_hex_decode_var(ds, strlen(ds), &b, NULL)) {
        dg_buf_free(&b);
        return dg_err_set(err, DG_ERR_RPC_RESPONSE, "malformed log data");
    }
    lg->data = b.data;
    lg->data_len = b.len;
    return 1;
}

int dg_eth_receipt_parse(const json_t *j, dg_eth_receipt *out, dg_err *err) {
    memset(out, 0, sizeof *out);
    if (!json_is_object(j)) return dg_err_set(err, DG_ERR_RPC_RESPONSE, "receipt is not an object");
    uint64_t st = 0;
    if (!json_hex_fixed(json_object_get(j, "transactionHash"), out->tx_hash, 32,
                        "receipt transactionHash", err) ||
        !dg_eth_quantity_u64(json_object_get(j, "status"), &st, err) ||
        !dg_eth_quantity_u64(json_object_get(j, "blockNumber"), &out->block_number, err) ||
        !dg_eth_quantity_u64(json_object_get(j, "gasUsed"), &out->gas_used, err))
        return dg_err_wrap(err, "receipt");
    out->status = st == 1;
    const json_t *egp = json_object_get(j, "effectiveGasPrice");
    if (egp) dg_eth_quantity_u256(egp, &out->effective_gas_price, NULL);
    const json_t *ca = json_object_get(j, "contractAddress");
    if (json_is_string(ca)) {
        if (!json_hex_fixed(ca, out->contract_address, 20, "contractAddress", err)) return 0;
        out->has_contract_address = 1;
    }
    const json_t *logs = json_object_get(j, "logs");
    size_t n = json_is_array(logs) ? json_array_size(logs) : 0;
    if (n) {
        out->logs = calloc(n, sizeof *out->logs);
        if (!out->logs) return dg_err_set(err, DG_ERR_NOMEM, "out of memory for receipt logs");
    }
    for (size_t i = 0; i < n; i++) {
        out->nlogs = i + 1;
        if (!parse_log(json_array_get(logs, i), &out->logs[i], err)) {
            dg_eth_receipt_free(out);
            return dg_err_wrap(err, "log %zu of the receipt", i);
        }
    }
    return 1;
}

void dg_eth_logs_free(dg_eth_log *logs, size_t n) {
    for (size_t i = 0; logs && i < n; i++)
        free(logs[i].data);
    free(logs);
}

int dg_eth_get_logs(dg_rpc *rpc, const uint8_t address[20], const uint8_t topic0[32],
                    uint64_t from_block, const char *to_block, dg_eth_log **logs, size_t *n,
                    dg_err *err) {
    return dg_eth_get_logs_multi(rpc, (const uint8_t(*)[20])address, 1, topic0, from_block,
                                 to_block, logs, n, err);
}

int dg_eth_get_logs_multi(dg_rpc *rpc, const uint8_t (*addresses)[20], size_t naddr,
                          const uint8_t topic0[32], uint64_t from_block, const char *to_block,
                          dg_eth_log **logs, size_t *n, dg_err *err) {
    *logs = NULL;
    *n = 0;
    if (naddr == 0) return 1; /* an empty address list would mean "every contract" to a node */
    json_t *filter = json_object();
    json_t *addr = json_array();
    for (size_t i = 0; i < naddr; i++)
        json_array_append_new(addr, dg_eth_json_bytes(addresses[i], 20));
    json_object_set_new(filter, "address", addr);
    json_object_set_new(filter, "fromBlock", dg_eth_json_quantity_u64(from_block));
    json_object_set_new(filter, "toBlock", json_string(to_block ? to_block : "latest"));
    json_object_set_new(filter, "topics", json_pack("[o]", dg_eth_json_bytes(topic0, 32)));
    json_t *res = NULL;
    if (!single(rpc, "eth_getLogs", json_pack("[o]", filter), &res, "eth_getLogs", err)) return 0;
    size_t k = json_is_array(res) ? json_array_size(res) : 0;
    if (!json_is_array(res)) {
        json_decref(res);
        return dg_err_set(err, DG_ERR_RPC_RESPONSE, "eth_getLogs did not return a list");
    }
    dg_eth_log *out = k ? calloc(k, sizeof *out) : NULL;
    if (k && !out) {
        json_decref(res);
        return dg_err_set(err, DG_ERR_NOMEM, "out of memory for %zu logs", k);
    }
    for (size_t i = 0; i < k; i++) {
        if (!parse_log(json_array_get(res, i), &out[i], err)) {
            dg_eth_logs_free(out, i + 1);
            json_decref(res);
            return dg_err_wrap(err, "eth_getLogs entry %zu", i);
        }
    }
    json_decref(res);
    *logs = out;
    *n = k;
    return 1;
}

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int dg_eth_wait_receipt(dg_rpc *rpc, const uint8_t tx_hash[32], long timeout_ms, long drop_grace_ms,
                        dg_eth_progress_fn progress, void *ctx, dg_eth_receipt *out, dg_err *err) {
    long long start = now_ms();
    long interval = 2;     /* auto-mining chains mine within a few ms of the send */
    int unknown_polls = 0; /* polls at which the node knew nothing of the transaction */
    char hx[67];
    dg_hex_encode_0x(tx_hash, 32, hx);
    for (int round = 0;; round++) {
        enum { RCPT, TX, BLOCK };
        dg_rpc_req r[3];
        memset(r, 0, sizeof r);
        r[RCPT].method = "eth_getTransactionReceipt";
        r[RCPT].params = json_pack("[s]", hx);
        size_t n = 1;
        /* in the same batch (no extra round trip), from the second poll on: an
         * auto-mining chain answers the first with the receipt, so the fast
         * path asks no more than it did before drops were detected */
        int ask_tx = drop_grace_ms > 0 && round > 0;
        if (ask_tx) {
            r[TX].method = "eth_getTransactionByHash";
            r[TX].params = json_pack("[s]", hx);
            n = 2;
        }
        if (round > 0 && progress) { /* block number only for progress reports */
            r[n].method = "eth_blockNumber";
            r[n].params = json_array();
            n++;
        }
        int ok = dg_eth_batch(rpc, r, n, err);
        uint64_t block = 0;
        int done = 0;
        if (ok && r[RCPT].ok && r[RCPT].result && !json_is_null(r[RCPT].result)) {
            ok = dg_eth_receipt_parse(r[RCPT].result, out, err);
            done = 1;
        } else if (ok && !r[RCPT].ok) {
            dg_err_set(err, DG_ERR_RPC_RESPONSE, "eth_getTransactionReceipt failed: %s",
                       r[RCPT].error);
            ok = 0;
        } else if (ok && ask_tx && r[TX].ok && json_is_null(r[TX].result)) {
            unknown_polls++;
        }
        if (progress && round > 0 && r[n - 1].ok)
            dg_eth_quantity_u64(r[n - 1].result, &block, NULL);
        dg_rpc_req_clear(r, n);
        if (!ok) return 0;
        if (done) return 1;
        long elapsed = (long)(now_ms() - start);
        /* Two unknown answers, the later after the grace: one could be a lagging
         * node behind a load balancer that has not seen the send yet. */
        if (drop_grace_ms > 0 && unknown_polls >= 2 && elapsed >= drop_grace_ms)
            return dg_err_set(err, DG_ERR_DROPPED,
                              "transaction %s was dropped by the node: neither mined nor pending "
                              "after %ld.%ld s (a gas limit below the intrinsic gas, a fee the "
                              "node refuses, or a replaced nonce); it will not be mined",
                              hx, elapsed / 1000, elapsed % 1000 / 100);
        if (elapsed >= timeout_ms)
            return dg_err_set(err, DG_ERR_RPC_TIMEOUT,
                              "transaction %s not mined after %ld s (it may still be mined later)",
                              hx, timeout_ms / 1000);
        if (progress) progress(ctx, elapsed, block);
        long wait = interval;
        if (elapsed + wait > timeout_ms) wait = timeout_ms - elapsed;
        /* after an unknown answer, look again right when the grace ends */
        if (unknown_polls && elapsed < drop_grace_ms && elapsed + wait > drop_grace_ms)
            wait = drop_grace_ms - elapsed;
        if (wait > 0) sleep_ms(wait);
        interval = interval * 2 > 1000 ? 1000 : interval * 2;
    }
}

const dg_eth_log *dg_eth_find_log(const dg_eth_receipt *r, const uint8_t topic0[32],
                                  const uint8_t *address, size_t *start) {
    for (size_t i = start ? *start : 0; i < r->nlogs; i++) {
        const dg_eth_log *l = &r->logs[i];
        if (l->ntopics == 0 || memcmp(l->topics[0], topic0, 32) != 0) continue;
        if (address && memcmp(l->address, address, 20) != 0) continue;
        if (start) *start = i + 1;
        return l;
    }
    return NULL;
}

int dg_eth_log_decode(const dg_eth_log *log, const char *types, dg_abi_value *out, dg_err *err) {
    if (!dg_abi_decode(types, log->data, log->data_len, out, err)) {
        if (err) err->code = DG_ERR_RPC_RESPONSE;
        return dg_err_wrap(err, "log data as %s", types);
    }
    return 1;
}
