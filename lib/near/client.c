/* client.c — NEAR JSON-RPC reads: views, access keys, code, blocks, status,
 * and the decoding of a node's errors into one dg_err sentence.
 *
 * The one idea: a NEAR node has said the same thing in two shapes over the
 * years (an `error` string inside a view's `result`, or `data` text in a
 * JSON-RPC error; and now a structured `cause` {name, info}). Every answer
 * goes through one decoder that looks for the structured cause first and
 * falls back to recognising the older text, so callers see one class and one
 * message whichever node they talk to, and nothing half-understood is used.
 */
#include "dstackgov/near.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dstackgov/utf8.h"
#include "dstackgov/hash.h"
#include "dstackgov/hex.h"
#include "internal.h"

/* ------------------------------------------------------------------ text helpers */

static const char *jstr(const json_t *o, const char *key) {
    const json_t *v = json_is_object(o) ? json_object_get(o, key) : NULL;
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* The panic message inside a VM error text, in the forms nodes have used:
 *   Smart contract panicked: <msg>
 *   ... GuestPanic { panic_msg: "<msg>" } ...
 * Writes the message (unescaped quotes kept) or the whole text when neither. */
static void panic_text(const char *vm, char *out, size_t cap) {
    const char *p;
    if ((p = strstr(vm, "panic_msg: \""))) {
        p += 12;
        size_t n = 0;
        while (p[n] && !(p[n] == '"' && (n == 0 || p[n - 1] != '\\')))
            n++;
        dg_utf8_clean_str(out, cap, p, n);
    } else if ((p = strstr(vm, "Smart contract panicked: "))) {
        dg_utf8_clean_str(out, cap, p + 25, 300);
    } else {
        dg_utf8_clean_str(out, cap, vm, 300);
    }
}

/* The text of a VM error given as a string or as nearcore's structured
 * FunctionCallError / ExecutionError object (dumped compactly otherwise). */
static void vm_error_text(const json_t *v, char *out, size_t cap) {
    if (json_is_string(v)) {
        panic_text(json_string_value(v), out, cap);
        return;
    }
    const json_t *fce = json_object_get(v, "FunctionCallError");
    if (!fce) fce = v;
    const char *ee = jstr(fce, "ExecutionError");
    if (ee) {
        panic_text(ee, out, cap);
        return;
    }
    if (json_is_string(fce)) {
        panic_text(json_string_value(fce), out, cap);
        return;
    }
    char *d = json_dumps(fce, JSON_COMPACT);
    dg_utf8_clean_str(out, cap, d ? d : "unknown VM error", 300);
    free(d);
}

static int is_access_panic(const char *msg) {
    return strstr(msg, "Insufficient permissions") || strstr(msg, "not the owner") ||
           strstr(msg, "Requires one of these roles");
}

/* A contract panic: class NOT_OWNER for an access check, else REVERT. */
static int panic_error(const char *what, const char *msg, dg_err *err) {
    return dg_err_set(err, is_access_panic(msg) ? DG_ERR_NOT_OWNER : DG_ERR_REVERT,
                      "%s: contract panicked: %s", what, msg);
}

/* Recognise the older nodes' text (a view's result.error, or error.data). */
int dg_near_vm_text_error(const char *what, const char *text, dg_err *err) {
    char t[360];
    dg_utf8_clean_str(t, sizeof t, text, 340);
    if (strstr(text, "panicked") || strstr(text, "GuestPanic") ||
        strstr(text, "wasm execution failed") || strstr(text, "MethodResolveError") ||
        strstr(text, "CompilationError")) {
        char m[340];
        panic_text(text, m, sizeof m);
        if (strstr(text, "MethodNotFound") || strstr(text, "MethodResolveError"))
            return dg_err_set(err, DG_ERR_REVERT, "%s: the contract has no such method (%s)", what,
                              m);
        if (strstr(text, "CodeDoesNotExist") || strstr(text, "CompilationError"))
            return dg_err_set(err, DG_ERR_NO_CODE, "%s: no contract code (%s)", what, m);
        return panic_error(what, m, err);
    }
    if (strstr(text, "access key") && strstr(text, "does not exist"))
        return dg_err_set(err, DG_ERR_CONFIG, "%s: %s", what, t);
    if (strstr(text, "does not exist while viewing") || strstr(text, "doesn't exist"))
        return dg_err_set(err, DG_ERR_NO_CODE, "%s: %s", what, t);
    if (strstr(text, "contract code") || strstr(text, "CodeDoesNotExist"))
        return dg_err_set(err, DG_ERR_NO_CODE, "%s: %s", what, t);
    if (strstr(text, "access key") && strstr(text, "does not exist"))
        return dg_err_set(err, DG_ERR_CONFIG, "%s: %s", what, t);
    if (strstr(text, "imeout")) return dg_err_set(err, DG_ERR_RPC_TIMEOUT, "%s: %s", what, t);
    return dg_err_set(err, DG_ERR_RPC_RESPONSE, "%s: %s", what, t);
}

const char *dg_near_error_cause(const json_t *error) {
    const json_t *cause = json_is_object(error) ? json_object_get(error, "cause") : NULL;
    return jstr(cause, "name");
}

const json_t *dg_near_find_key(const json_t *v, const char *key, int depth) {
    if (!json_is_object(v) || depth > 8) return NULL;
    const json_t *h = json_object_get(v, key);
    if (h) return h;
    const char *k;
    json_t *c;
    json_object_foreach((json_t *)v, k, c) {
        const json_t *r = dg_near_find_key(c, key, depth + 1);
        if (r) return r;
    }
    return NULL;
}

int dg_near_rpc_error(const char *what, const json_t *error, dg_err *err) {
    if (!json_is_object(error))
        return dg_err_set(err, DG_ERR_RPC_RESPONSE, "%s: the node answered an error", what);
    const char *cause = dg_near_error_cause(error);
    const json_t *info = json_object_get(json_object_get(error, "cause"), "info");
    const json_t *data = json_object_get(error, "data");
    const char *msg = jstr(error, "message");
    char t[360];
    if (cause) {
        if (strcmp(cause, "UNKNOWN_ACCOUNT") == 0) {
            const char *a = jstr(info, "requested_account_id");
            dg_utf8_clean_str(t, sizeof t, a ? a : "?", 80);
            return dg_err_set(err, DG_ERR_NO_CODE, "%s: account %s does not exist", what, t);
        }
        if (strcmp(cause, "NO_CONTRACT_CODE") == 0) {
            const char *a = jstr(info, "contract_account_id");
            dg_utf8_clean_str(t, sizeof t, a ? a : "?", 80);
            return dg_err_set(err, DG_ERR_NO_CODE, "%s: account %s has no contract code", what, t);
        }
        if (strcmp(cause, "CONTRACT_EXECUTION_ERROR") == 0) {
            const json_t *vm = json_object_get(info, "vm_error");
            if (!vm && json_is_string(data))
                return dg_near_vm_text_error(what, json_string_value(data), err);
            if (json_is_string(vm)) return dg_near_vm_text_error(what, json_string_value(vm), err);
            /* structured: dump it and read it as the older text (MethodResolveError, ...) */
            char *d = vm ? json_dumps(vm, JSON_COMPACT) : NULL;
            if (d && !strstr(d, "ExecutionError")) {
                dg_near_vm_text_error(what, d, err);
                free(d);
                return 0;
            }
            free(d);
            vm_error_text(vm, t, sizeof t);
            return panic_error(what, t, err);
        }
        if (strcmp(cause, "UNKNOWN_ACCESS_KEY") == 0) {
            const char *k = jstr(info, "public_key");
            dg_utf8_clean_str(t, sizeof t, k ? k : "?", 80);
            return dg_err_set(err, DG_ERR_CONFIG, "%s: access key %s does not exist", what, t);
        }
        if (strcmp(cause, "TIMEOUT_ERROR") == 0)
            return dg_err_set(err, DG_ERR_RPC_TIMEOUT,
                              "%s: the node timed out waiting for the transaction", what);
        if (strcmp(cause, "UNKNOWN_BLOCK") == 0 || strcmp(cause, "GARBAGE_COLLECTED_BLOCK") == 0)
            return dg_err_set(
                err, DG_ERR_RPC_RESPONSE, "%s: the node does not have the requested block (%s)",
                what, strcmp(cause, "UNKNOWN_BLOCK") == 0 ? "unknown block" : "garbage-collected");
        if (strcmp(cause, "UNKNOWN_TRANSACTION") == 0)
            return dg_err_set(err, DG_ERR_RPC_RESPONSE,
                              "%s: the node does not know the transaction", what);
        if (strcmp(cause, "INVALID_TRANSACTION") == 0) {
            const json_t *ite = dg_near_find_key(info, "InvalidTxError", 0);
            if (!ite) ite = dg_near_find_key(data, "InvalidTxError", 0);
            if (!ite) ite = info;
            return dg_near_invalid_tx_error(what, ite, err);
        }
        if (strcmp(cause, "NOT_SYNCED_YET") == 0 || strcmp(cause, "NO_SYNCED_BLOCKS") == 0)
            return dg_err_set(err, DG_ERR_RPC_RESPONSE, "%s: the node is not synced yet", what);
        if (strcmp(cause, "METHOD_NOT_FOUND") == 0)
            return dg_err_set(err, DG_ERR_RPC_RESPONSE, "%s: the node does not know this method",
                              what);
    }
    if (json_is_string(data)) return dg_near_vm_text_error(what, json_string_value(data), err);
    if (data) {
        char *d = json_dumps(data, JSON_COMPACT);
        dg_utf8_clean_str(t, sizeof t, d ? d : "?", 300);
        free(d);
        return dg_err_set(err, DG_ERR_RPC_RESPONSE, "%s: %s", what, t);
    }
    dg_utf8_clean_str(t, sizeof t, cause ? cause : msg ? msg : "unknown error", 200);
    return dg_err_set(err, DG_ERR_RPC_RESPONSE, "%s: %s", what, t);
}

int dg_near_call(dg_rpc *rpc, const char *what, const char *method, json_t *params, json_t **result,
                 json_t **error, dg_err *err) {
    if (error) *error = NULL;
    *result = NULL;
    dg_err e = {0};
    if (dg_rpc_call(rpc, method, params, result, &e)) return 1;
    const json_t *eo = dg_rpc_last_error(rpc);
    if (!eo) {
        if (err) *err = e;
        return dg_err_wrap(err, "%s", what);
    }
    if (error) *error = json_incref((json_t *)eo);
    return dg_near_rpc_error(what, eo, err);
}

/* ------------------------------------------------------------------ block references */

static int set_block(json_t *p, const char *block, dg_err *err) {
    if (!block || strcmp(block, "final") == 0 || strcmp(block, "optimistic") == 0 ||
        strcmp(block, "near-final") == 0)
        return json_object_set_new(p, "finality", json_string(block ? block : "final")) == 0;
    size_t n = strlen(block), i = 0;
    while (i < n && block[i] >= '0' && block[i] <= '9')
        i++;
    if (n && i == n && n < 20)
        return json_object_set_new(p, "block_id", json_integer(strtoll(block, NULL, 10))) == 0;
    uint8_t h[32];
    if (!dg_base58_decode_exact(block, h, 32, NULL))
        return dg_err_set(err, DG_ERR_INPUT,
                          "block \"%.70s\" is not final, optimistic, a height or a base58 block "
                          "hash",
                          block);
    return json_object_set_new(p, "block_id", json_string(block)) == 0;
}

json_t *dg_near_query_params(const char *request_type, const char *block, dg_err *err) {
    json_t *p = json_object();
    if (!p || json_object_set_new(p, "request_type", json_string(request_type)) != 0) {
        json_decref(p);
        return dg_err_set(err, DG_ERR_NOMEM, "out of memory"), NULL;
    }
    dg_err e = {DG_ERR_NOMEM, "out of memory"};
    if (!set_block(p, block, &e)) {
        json_decref(p);
        if (err) *err = e;
        return NULL;
    }
    return p;
}

static int parse_block_ref(const json_t *r, dg_near_block_ref *at, dg_err *err) {
    const json_t *h = json_object_get(r, "block_height");
    const char *hs = jstr(r, "block_hash");
    dg_near_block_ref b;
    if (!json_is_integer(h) || json_integer_value(h) < 0 || !hs ||
        !dg_base58_decode_exact(hs, b.hash, 32, NULL))
        return dg_err_set(err, DG_ERR_RPC_RESPONSE,
                          "answer lacks a block_height and a base58 block_hash");
    b.height = (uint64_t)json_integer_value(h);
    if (at) *at = b;
    return 1;
}

/* A query; the result is checked for the older in-result `error` string. */
static int query(dg_rpc *rpc, const char *what, json_t *params, json_t **res, dg_err *err) {
    if (!params) return 0;
    if (!dg_near_call(rpc, what, "query", params, res, NULL, err)) return 0;
    if (!json_is_object(*res)) {
        json_decref(*res);
        *res = NULL;
        return dg_err_set(err, DG_ERR_RPC_RESPONSE, "%s: the answer is not an object", what);
    }
    const char *old = jstr(*res, "error");
    if (old) {
        dg_near_vm_text_error(what, old, err);
        json_decref(*res);
        *res = NULL;
        return 0;
    }
    return 1;
}

/* ------------------------------------------------------------------ views */

int dg_near_view(dg_rpc *rpc, const char *block, const char *account, const char *method,
                 const char *args, size_t args_len, dg_buf *result, dg_near_block_ref *at,
                 dg_err *err) {
    char what[200];
    snprintf(what, sizeof what, "view %.70s.%.60s", account ? account : "?", method ? method : "?");
    if (!account || !method) return dg_err_set(err, DG_ERR_INPUT, "%s: no account or method", what);
    if (!args || !args_len) {
        args = "{}";
        args_len = 2;
    }
    size_t b64len = sodium_base64_ENCODED_LEN(args_len, sodium_base64_VARIANT_ORIGINAL);
    char *b64 = malloc(b64len);
    if (!b64) return dg_err_set(err, DG_ERR_NOMEM, "%s: out of memory", what);
    sodium_bin2base64(b64, b64len, (const unsigned char *)args, args_len,
                      sodium_base64_VARIANT_ORIGINAL);
    json_t *p = dg_near_query_params("call_function", block, err);
    if (p) {
        json_object_set_new(p, "account_id", json_string(account));
        json_object_set_new(p, "method_name", json_string(method));
        json_object_set_new(p, "args_base64", json_string(b64));
    }
    free(b64);
    json_t *r = NULL;
    if (!query(rpc, what, p, &r, err)) return 0;
    const json_t *bytes = json_object_get(r, "result");
    int ok = json_is_array(bytes) && parse_block_ref(r, at, err);
    if (!json_is_array(bytes)) dg_err_set(err, DG_ERR_RPC_RESPONSE, "%s: no result bytes", what);
    size_t start = result->len;
    for (size_t i = 0; ok && i < json_array_size(bytes); i++) {
        const json_t *v = json_array_get(bytes, i);
        json_int_t x = json_is_integer(v) ? json_integer_value(v) : -1;
        if (x < 0 || x > 255) {
            ok = dg_err_set(err, DG_ERR_RPC_RESPONSE, "%s: result byte %zu is not 0..255", what, i);
            break;
        }
        dg_buf_push(result, (uint8_t)x);
    }
    if (ok && result->oom) ok = dg_err_set(err, DG_ERR_NOMEM, "%s: out of memory", what);
    if (!ok) result->len = start;
    json_decref(r);
    return ok;
}

int dg_near_view_json(dg_rpc *rpc, const char *block, const char *account, const char *method,
                      const char *args, json_t **out, dg_near_block_ref *at, dg_err *err) {
    dg_buf b;
    dg_buf_init(&b);
    *out = NULL;
    if (!dg_near_view(rpc, block, account, method, args, args ? strlen(args) : 0, &b, at, err)) {
        dg_buf_free(&b);
        return 0;
    }
    json_error_t je;
    *out = json_loadb(b.len ? (const char *)b.data : "", b.len, JSON_DECODE_ANY, &je);
    dg_buf_free(&b);
    if (!*out)
        return dg_err_set(err, DG_ERR_RPC_RESPONSE, "view %.70s.%.60s: the result is not JSON (%s)",
                          account, method, je.text);
    return 1;
}

/* A query of one account (view_account, view_code); what = "<type> <account>". */
static int account_query(dg_rpc *rpc, const char *type, const char *block, const char *account,
                         char what[120], json_t **r, dg_err *err) {
    snprintf(what, 120, "%s %.70s", type, account ? account : "?");
    json_t *p = dg_near_query_params(type, block, err);
    if (p) json_object_set_new(p, "account_id", json_string(account ? account : ""));
    return query(rpc, what, p, r, err);
}

int dg_near_view_account(dg_rpc *rpc, const char *block, const char *account, dg_near_account *out,
                         dg_err *err) {
    char what[120];
    json_t *r = NULL;
    if (!account_query(rpc, "view_account", block, account, what, &r, err)) return 0;
    dg_near_account a;
    memset(&a, 0, sizeof a);
    const char *ch = jstr(r, "code_hash");
    const json_t *su = json_object_get(r, "storage_usage");
    int ok = dg_near_json_amount(json_object_get(r, "amount"), &a.amount, err) &&
             dg_near_json_amount(json_object_get(r, "locked"), &a.locked, err) && ch &&
             dg_base58_decode_exact(ch, a.code_hash, 32, err) && json_is_integer(su) &&
             json_integer_value(su) >= 0 && parse_block_ref(r, &a.at, err);
    if (ok) a.storage_usage = (uint64_t)json_integer_value(su);
    json_decref(r);
    if (!ok)
        return dg_err_set(err, DG_ERR_RPC_RESPONSE,
                          "%s: malformed answer (needs amount, locked, code_hash, storage_usage)",
                          what);
    for (int i = 0; i < 32; i++)
        a.has_code |= a.code_hash[i] != 0;
    *out = a;
    return 1;
}

int dg_near_view_access_key(dg_rpc *rpc, const char *block, const char *account,
                            const uint8_t pk[32], dg_near_access_key *out, dg_err *err) {
    char pks[DG_NEAR_PUBKEY_LEN], what[200];
    dg_near_pubkey_format(pk, pks);
    snprintf(what, sizeof what, "access key %s of %.70s", pks, account ? account : "?");
    json_t *p = dg_near_query_params("view_access_key", block, err);
    if (p) {
        json_object_set_new(p, "account_id", json_string(account ? account : ""));
        json_object_set_new(p, "public_key", json_string(pks));
    }
    json_t *r = NULL;
    if (!query(rpc, what, p, &r, err)) {
        /* name the fix: the key of NEAR_PRIVATE_KEY is not on that account */
        if (err && err->code == DG_ERR_CONFIG)
            dg_err_set(err, DG_ERR_CONFIG,
                       "%s: no such access key (is the private key the one of this account?)",
                       what);
        return 0;
    }
    dg_near_access_key k;
    memset(&k, 0, sizeof k);
    const json_t *nonce = json_object_get(r, "nonce");
    const json_t *perm = json_object_get(r, "permission");
    int ok =
        json_is_integer(nonce) && json_integer_value(nonce) >= 0 && parse_block_ref(r, &k.at, err);
    if (ok) k.nonce = (uint64_t)json_integer_value(nonce);
    if (ok && json_is_string(perm) && strcmp(json_string_value(perm), "FullAccess") == 0) {
        k.full_access = 1;
    } else if (ok && json_is_object(json_object_get(perm, "FunctionCall"))) {
        const json_t *fc = json_object_get(perm, "FunctionCall");
        const json_t *al = json_object_get(fc, "allowance");
        const char *recv = jstr(fc, "receiver_id");
        if (al && !json_is_null(al)) {
            ok = dg_near_json_amount(al, &k.allowance, err);
            k.has_allowance = 1;
        }
        if (recv) snprintf(k.receiver_id, sizeof k.receiver_id, "%.64s", recv);
    } else {
        ok = 0;
    }
    json_decref(r);
    if (!ok)
        return dg_err_set(err, DG_ERR_RPC_RESPONSE,
                          "%s: malformed answer (needs nonce, permission, block_hash)", what);
    *out = k;
    return 1;
}

int dg_near_view_code(dg_rpc *rpc, const char *block, const char *account, dg_buf *code,
                      uint8_t hash[32], dg_err *err) {
    char what[120];
    json_t *r = NULL;
    if (!account_query(rpc, "view_code", block, account, what, &r, err)) return 0;
    const char *b64 = jstr(r, "code_base64");
    const char *hs = jstr(r, "hash");
    uint8_t want[32], got[32];
    int ok = 0;
    if (!b64 || !hs || !dg_base58_decode_exact(hs, want, 32, NULL)) {
        dg_err_set(err, DG_ERR_RPC_RESPONSE, "%s: malformed answer (needs code_base64 and hash)",
                   what);
        goto out;
    }
    size_t n = strlen(b64), len = 0, start = code->len;
    if (!dg_buf_reserve(code, n)) {
        dg_err_set(err, DG_ERR_NOMEM, "%s: out of memory", what);
        goto out;
    }
    if (sodium_base642bin(code->data + start, n, b64, n, NULL, &len, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0) {
        dg_err_set(err, DG_ERR_RPC_RESPONSE, "%s: code_base64 is not base64", what);
        goto out;
    }
    dg_sha256(code->data + start, len, got);
    if (memcmp(got, want, 32) != 0) {
        dg_err_set(err, DG_ERR_RPC_RESPONSE, "%s: the code does not hash to the hash the node gave",
                   what);
        goto out;
    }
    code->len = start + len;
    if (hash) memcpy(hash, got, 32);
    ok = 1;
out:
    json_decref(r);
    return ok;
}

int dg_near_block(dg_rpc *rpc, const char *block, dg_near_block_info *out, dg_err *err) {
    json_t *p = json_object();
    dg_err e = {DG_ERR_NOMEM, "out of memory"};
    if (!p || !set_block(p, block, &e)) {
        json_decref(p);
        if (err) *err = e;
        return 0;
    }
    char what[100];
    snprintf(what, sizeof what, "block %.70s", block ? block : "final");
    json_t *r = NULL;
    if (!dg_near_call(rpc, what, "block", p, &r, NULL, err)) return 0;
    const json_t *h = json_object_get(r, "header");
    const json_t *height = json_object_get(h, "height");
    const json_t *ts = json_object_get(h, "timestamp");
    const char *hash = jstr(h, "hash"), *prev = jstr(h, "prev_hash");
    dg_near_block_info b;
    memset(&b, 0, sizeof b);
    int ok = json_is_integer(height) && json_integer_value(height) >= 0 && hash &&
             dg_base58_decode_exact(hash, b.hash, 32, NULL) &&
             (!prev || dg_base58_decode_exact(prev, b.prev_hash, 32, NULL));
    if (ok) {
        b.height = (uint64_t)json_integer_value(height);
        if (json_is_integer(ts) && json_integer_value(ts) > 0)
            b.timestamp_ns = (uint64_t)json_integer_value(ts);
    }
    json_decref(r);
    if (!ok)
        return dg_err_set(err, DG_ERR_RPC_RESPONSE,
                          "%s: malformed answer (needs header.height and header.hash)", what);
    *out = b;
    return 1;
}

int dg_near_node_status(dg_rpc *rpc, dg_near_status *out, dg_err *err) {
    json_t *r = NULL;
    if (!dg_near_call(rpc, "status", "status", json_object(), &r, NULL, err)) return 0;
    const json_t *si = json_object_get(r, "sync_info");
    const json_t *height = json_object_get(si, "latest_block_height");
    const json_t *pv = json_object_get(r, "protocol_version");
    const char *chain = jstr(r, "chain_id"), *hash = jstr(si, "latest_block_hash");
    dg_near_status s;
    memset(&s, 0, sizeof s);
    int ok = chain && strlen(chain) < sizeof s.chain_id && json_is_integer(height) &&
             json_integer_value(height) >= 0 && hash &&
             dg_base58_decode_exact(hash, s.latest_hash, 32, NULL);
    if (ok) {
        snprintf(s.chain_id, sizeof s.chain_id, "%s", chain);
        s.latest_height = (uint64_t)json_integer_value(height);
        if (json_is_integer(pv)) s.protocol_version = (uint32_t)json_integer_value(pv);
        s.syncing = json_is_true(json_object_get(si, "syncing"));
    }
    json_decref(r);
    if (!ok)
        return dg_err_set(err, DG_ERR_RPC_RESPONSE,
                          "status: malformed answer (needs chain_id and sync_info)");
    *out = s;
    return 1;
}

/* ------------------------------------------------------------------ the contracts' boot_info */

static void put_hex(dg_buf *b, const char *key, const uint8_t *p, size_t n, int present) {
    char h[65];
    dg_hex_encode(p, present ? n : 0, h);
    dg_buf_puts(b, key);
    dg_buf_push(b, '"');
    dg_buf_puts(b, h);
    dg_buf_push(b, '"');
}

int dg_near_boot_info_args(const dg_bootinfo *bi, dg_buf *out) {
    /* An empty osImageHash reads as zero bytes, as on Ethereum; instance_id
     * and mr_system may stay empty (the contracts accept ""). */
    put_hex(out, "{\"boot_info\":{\"app_id\":", bi->app_id, 20, 1);
    put_hex(out, ",\"compose_hash\":", bi->compose_hash, 32, 1);
    put_hex(out, ",\"instance_id\":", bi->instance_id, 20, bi->has_instance_id);
    put_hex(out, ",\"device_id\":", bi->device_id, 32, 1);
    put_hex(out, ",\"mr_aggregated\":", bi->mr_aggregated, 32, 1);
    put_hex(out, ",\"mr_system\":", bi->mr_system, 32, bi->has_mr_system);
    put_hex(out, ",\"os_image_hash\":", bi->os_image_hash, 32, 1);
    dg_buf_puts(out, ",\"tcb_status\":");
    dg_json_put_string(out, bi->tcb_status, bi->tcb_len);
    dg_buf_puts(out, ",\"advisory_ids\":[");
    for (size_t i = 0; i < bi->n_advisory; i++) {
        size_t n;
        const char *s = dg_bootinfo_advisory(bi, i, &n);
        if (i) dg_buf_push(out, ',');
        dg_json_put_string(out, s, n);
    }
    dg_buf_puts(out, "]}}");
    dg_buf_push(out, 0);
    out->len--;
    return !out->oom;
}
