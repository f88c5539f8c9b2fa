/* rpc.c — the NEAR JSON-RPC answers of rpc.h, computed on a nemu world.
 *
 * One function per method; each builds a jansson object and the dispatcher
 * wraps it as {"jsonrpc":"2.0","id":...,"result":...} or an error. View calls
 * go through nemu_view, so the same ProhibitedInView and panic rules apply as
 * in the contract tests.
 */
#include "rpc.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void nemu_base58(const unsigned char *p, size_t n, char *out) {
    static const char alphabet[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    size_t zeros = 0;
    while (zeros < n && p[zeros] == 0) zeros++;
    size_t cap = n * 2 + 1, len = 0;
    unsigned char *d = calloc(cap, 1);
    if (!d) abort();
    for (size_t i = zeros; i < n; i++) {
        unsigned carry = p[i];
        for (size_t j = 0; j < len; j++) {
            carry += (unsigned)d[j] << 8;
            d[j] = (unsigned char)(carry % 58);
            carry /= 58;
        }
        while (carry) {
            d[len++] = (unsigned char)(carry % 58);
            carry /= 58;
        }
    }
    size_t o = 0;
    for (size_t i = 0; i < zeros; i++) out[o++] = '1';
    for (size_t i = 0; i < len; i++) out[o++] = alphabet[d[len - 1 - i]];
    out[o] = 0;
    free(d);
}

static void block_hash(const nemu *w, char out[64]) {
    unsigned char h[32];
    char buf[64];
    snprintf(buf, sizeof buf, "nemu block %llu", (unsigned long long)nemu_block_height(w));
    crypto_hash_sha256(h, (const unsigned char *)buf, strlen(buf));
    nemu_base58(h, 32, out);
}

static json_t *b64(const unsigned char *p, size_t n) {
    size_t cap = sodium_base64_encoded_len(n, sodium_base64_VARIANT_ORIGINAL);
    char *s = malloc(cap);
    if (!s) abort();
    sodium_bin2base64(s, cap, p, n, sodium_base64_VARIANT_ORIGINAL);
    json_t *j = json_string(s);
    free(s);
    return j;
}

static json_t *u128_json(nemu_u128 v) {
    char b[48];
    return json_string(nemu_u128_str(v, b));
}

static int parse_u128(const char *s, nemu_u128 *out) {
    nemu_u128 v = 0;
    if (!s || !*s) return 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return 0;
        nemu_u128 nv = v * 10 + (nemu_u128)(*s - '0');
        if (nv / 10 != v) return 0;
        v = nv;
    }
    *out = v;
    return 1;
}

/* An error reply: *err gets the error object, the function returns NULL. */
static json_t *handler_error(json_t **err, const char *cause, json_t *info, const char *data) {
    *err = json_pack("{s:s, s:{s:s, s:o}, s:i, s:s, s:s}", "name", "HANDLER_ERROR", "cause", "name", cause,
                     "info", info ? info : json_object(), "code", -32000, "message", "Server error", "data",
                     data ? data : cause);
    return NULL;
}

static json_t *request_error(json_t **err, const char *cause, const char *msg) {
    *err = json_pack("{s:s, s:{s:s, s:{}}, s:i, s:s, s:s}", "name", "REQUEST_VALIDATION_ERROR", "cause", "name",
                     cause, "info", "code", -32602, "message", "Invalid params", "data", msg);
    return NULL;
}

static void add_block(nemu *w, json_t *o) {
    char h[64];
    block_hash(w, h);
    json_object_set_new(o, "block_height", json_integer((json_int_t)nemu_block_height(w)));
    json_object_set_new(o, "block_hash", json_string(h));
}

static json_t *q_call_function(nemu *w, json_t *params, json_t **err) {
    const char *acc = json_string_value(json_object_get(params, "account_id"));
    const char *method = json_string_value(json_object_get(params, "method_name"));
    const char *a64 = json_string_value(json_object_get(params, "args_base64"));
    if (!acc || !method || !a64) return request_error(err, "PARSE_ERROR", "account_id, method_name and args_base64 are required");
    size_t alen = strlen(a64);
    unsigned char *args = malloc(alen + 1);
    size_t n = 0;
    if (!args) abort();
    if (sodium_base642bin(args, alen + 1, a64, alen, NULL, &n, NULL, sodium_base64_VARIANT_ORIGINAL) != 0) {
        free(args);
        return request_error(err, "PARSE_ERROR", "args_base64 is not base64");
    }
    args[n] = 0;
    if (!nemu_account_exists(w, acc)) {
        free(args);
        return handler_error(err, "UNKNOWN_ACCOUNT", json_pack("{s:s}", "requested_account_id", acc), NULL);
    }
    if (!nemu_code_len(w, acc)) {
        free(args);
        return handler_error(err, "NO_CONTRACT_CODE", json_pack("{s:s}", "contract_account_id", acc), NULL);
    }
    /* nemu_view takes NUL-terminated args: views with a NUL byte in their input are refused */
    if (strlen((char *)args) != n) {
        free(args);
        return request_error(err, "PARSE_ERROR", "emulator: binary view arguments are not supported");
    }
    nemu_outcome *o = nemu_view(w, acc, method, n ? (char *)args : NULL);
    free(args);
    json_t *logs = json_array();
    for (size_t i = 0; i < o->nreceipts; i++)
        for (size_t j = 0; j < o->receipts[i].nlogs; j++) json_array_append_new(logs, json_string(o->receipts[i].logs[j]));
    if (!o->ok) {
        json_t *info = json_pack("{s:s}", "vm_error", o->error ? o->error : "");
        add_block(w, info);
        json_decref(logs);
        char *msg = o->error ? strdup(o->error) : NULL;
        nemu_outcome_free(o);
        json_t *r = handler_error(err, "CONTRACT_EXECUTION_ERROR", info, msg);
        free(msg);
        return r;
    }
    json_t *bytes = json_array();
    for (size_t i = 0; i < o->value_len; i++) json_array_append_new(bytes, json_integer(o->value[i]));
    nemu_outcome_free(o);
    json_t *r = json_pack("{s:o, s:o}", "result", bytes, "logs", logs);
    add_block(w, r);
    return r;
}

static void code_hash_b58(nemu *w, const char *acc, char out[64]) {
    unsigned char h[32];
    if (!nemu_code_hash(w, acc, h)) memset(h, 0, 32);
    nemu_base58(h, 32, out);
}

static json_t *q_view_account(nemu *w, json_t *params, json_t **err) {
    const char *acc = json_string_value(json_object_get(params, "account_id"));
    if (!acc) return request_error(err, "PARSE_ERROR", "account_id is required");
    if (!nemu_account_exists(w, acc))
        return handler_error(err, "UNKNOWN_ACCOUNT", json_pack("{s:s}", "requested_account_id", acc), NULL);
    char ch[64];
    code_hash_b58(w, acc, ch);
    json_t *r = json_pack("{s:o, s:s, s:s, s:I, s:i}", "amount", u128_json(nemu_balance(w, acc)), "locked", "0",
                          "code_hash", ch, "storage_usage", (json_int_t)nemu_storage_usage(w, acc),
                          "storage_paid_at", 0);
    add_block(w, r);
    return r;
}

static json_t *q_view_code(nemu *w, json_t *params, json_t **err) {
    const char *acc = json_string_value(json_object_get(params, "account_id"));
    if (!acc) return request_error(err, "PARSE_ERROR", "account_id is required");
    if (!nemu_account_exists(w, acc))
        return handler_error(err, "UNKNOWN_ACCOUNT", json_pack("{s:s}", "requested_account_id", acc), NULL);
    if (!nemu_code_len(w, acc))
        return handler_error(err, "NO_CONTRACT_CODE", json_pack("{s:s}", "contract_account_id", acc), NULL);
    /* the emulator keeps code by hash of the registry; fetch the module bytes back */
    unsigned char h[32];
    nemu_code_hash(w, acc, h);
    char ch[64];
    nemu_base58(h, 32, ch);
    char hex[65];
    for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", h[i]);
    for (size_t i = 0; i < nemu_nmodules; i++)
        if (strcmp(nemu_modules[i].sha256_hex, hex) == 0) {
            size_t n;
            unsigned char *code = nemu_read_file(nemu_modules[i].wasm_path, &n);
            if (!code) break;
            json_t *r = json_pack("{s:o, s:s}", "code_base64", b64(code, n), "hash", ch);
            free(code);
            add_block(w, r);
            return r;
        }
    return handler_error(err, "INTERNAL_ERROR", NULL, "emulator: code not in the registry");
}

static json_t *m_query(nemu *w, json_t *params, json_t **err) {
    const char *rt = json_string_value(json_object_get(params, "request_type"));
    if (!json_is_object(params) || !rt) return request_error(err, "PARSE_ERROR", "params.request_type is required");
    if (strcmp(rt, "call_function") == 0) return q_call_function(w, params, err);
    if (strcmp(rt, "view_account") == 0) return q_view_account(w, params, err);
    if (strcmp(rt, "view_code") == 0) return q_view_code(w, params, err);
    return request_error(err, "PARSE_ERROR", "emulator: unsupported request_type");
}

static json_t *m_block(nemu *w, json_t *params, json_t **err) {
    (void)params;
    (void)err;
    char h[64];
    block_hash(w, h);
    return json_pack("{s:{s:I, s:s, s:I}}", "header", "height", (json_int_t)nemu_block_height(w), "hash", h,
                     "timestamp", (json_int_t)(1700000000ull + nemu_block_height(w)) * 1000000000);
}

static json_t *m_gas_price(nemu *w, json_t *params, json_t **err) {
    (void)w;
    (void)params;
    (void)err;
    return json_pack("{s:s}", "gas_price", "100000000");
}

static json_t *m_create_account(nemu *w, json_t *params, json_t **err) {
    const char *acc = json_string_value(json_object_get(params, "account_id"));
    const char *bal = json_string_value(json_object_get(params, "balance"));
    nemu_u128 b;
    if (!acc || !bal || !parse_u128(bal, &b))
        return request_error(err, "PARSE_ERROR", "account_id and balance (decimal yocto) are required");
    if (!nemu_create_account(w, acc, b)) return request_error(err, "PARSE_ERROR", "invalid or existing account");
    return json_true();
}

static json_t *m_deploy(nemu *w, json_t *params, json_t **err) {
    const char *acc = json_string_value(json_object_get(params, "account_id"));
    const char *mod = json_string_value(json_object_get(params, "module"));
    size_t n;
    unsigned char *code = mod ? nemu_module_code(mod, &n) : NULL;
    if (!acc || !code) {
        free(code);
        return request_error(err, "PARSE_ERROR", "account_id and a registered module are required");
    }
    int ok = nemu_set_code(w, acc, code, n);
    free(code);
    if (!ok) return handler_error(err, "UNKNOWN_ACCOUNT", json_pack("{s:s}", "requested_account_id", acc), NULL);
    return json_true();
}

static json_t *status_json(int ok, const unsigned char *v, size_t n, const char *error) {
    if (ok) return json_pack("{s:o}", "SuccessValue", b64(v, n));
    return json_pack("{s:{s:{s:{s:{s:s}}}}}", "Failure", "ActionError", "kind", "FunctionCallError", "ExecutionError",
                     error ? error : "");
}

static json_t *m_call(nemu *w, json_t *params, json_t **err) {
    const char *signer = json_string_value(json_object_get(params, "signer_id"));
    const char *recv = json_string_value(json_object_get(params, "receiver_id"));
    const char *method = json_string_value(json_object_get(params, "method_name"));
    json_t *args = json_object_get(params, "args");
    const char *dep = json_string_value(json_object_get(params, "deposit"));
    json_t *gas = json_object_get(params, "gas");
    nemu_u128 deposit = 0;
    if (!signer || !recv || !method || (dep && !parse_u128(dep, &deposit)) || (gas && !json_is_integer(gas)))
        return request_error(err, "PARSE_ERROR", "signer_id, receiver_id and method_name are required");
    char *a = NULL;
    if (json_is_string(args))
        a = strdup(json_string_value(args));
    else if (args)
        a = json_dumps(args, JSON_COMPACT);
    nemu_outcome *o = nemu_call(w, signer, recv, method, a, deposit,
                                gas ? (uint64_t)json_integer_value(gas) : NEMU_MAX_PREPAID_GAS);
    free(a);
    json_t *ros = json_array();
    for (size_t i = 0; i < o->nreceipts; i++) {
        const nemu_receipt_outcome *r = &o->receipts[i];
        json_t *logs = json_array();
        for (size_t j = 0; j < r->nlogs; j++) json_array_append_new(logs, json_string(r->logs[j]));
        json_array_append_new(ros, json_pack("{s:{s:s, s:o, s:o}}", "outcome", "executor_id", r->executor, "logs",
                                             logs, "status", status_json(r->ok, r->value, r->value_len, r->error)));
    }
    json_t *res = json_pack("{s:o, s:o}", "status", status_json(o->ok, o->value, o->value_len, o->error),
                            "receipts_outcome", ros);
    nemu_outcome_free(o);
    return res;
}

typedef json_t *(*rpc_fn)(nemu *, json_t *, json_t **);

static const struct {
    const char *name;
    rpc_fn fn;
} methods[] = {
    {"query", m_query},
    {"block", m_block},
    {"gas_price", m_gas_price},
    {"nemu_create_account", m_create_account},
    {"nemu_deploy", m_deploy},
    {"nemu_call", m_call},
};

char *nemu_rpc_handle(nemu *w, const char *body, size_t len) {
    json_error_t je;
    json_t *req = json_loadb(body, len, 0, &je);
    json_t *id = req ? json_object_get(req, "id") : NULL;
    json_t *reply = json_pack("{s:s, s:O}", "jsonrpc", "2.0", "id", id ? id : json_null());
    const char *m = req ? json_string_value(json_object_get(req, "method")) : NULL;
    json_t *err = NULL, *res = NULL;
    if (!req || !m) {
        err = json_pack("{s:i, s:s, s:s, s:{s:s}}", "code", -32700, "message", "Parse error", "name",
                        "REQUEST_VALIDATION_ERROR", "cause", "name", "PARSE_ERROR");
    } else {
        size_t i;
        for (i = 0; i < sizeof methods / sizeof methods[0]; i++)
            if (strcmp(methods[i].name, m) == 0) break;
        if (i == sizeof methods / sizeof methods[0])
            err = json_pack("{s:i, s:s, s:s, s:{s:s, s:{s:s}}}", "code", -32601, "message", "Method not found",
                            "name", "REQUEST_VALIDATION_ERROR", "cause", "name", "METHOD_NOT_FOUND", "info",
                            "method_name", m);
        else
            res = methods[i].fn(w, json_object_get(req, "params"), &err);
    }
    if (res)
        json_object_set_new(reply, "result", res);
    else
        json_object_set_new(reply, "error", err);
    char *out = json_dumps(reply, JSON_COMPACT);
    json_decref(reply);
    json_decref(req);
    if (!out) abort();
    return out;
}
