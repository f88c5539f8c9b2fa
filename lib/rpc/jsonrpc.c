/* jsonrpc.c — the JSON-RPC 2.0 wire format: request encoding and strict
 * response decoding, with no network (see include/dstackgov/rpc.h).
 *
 * The one idea: a response is either a complete, well-formed answer to every
 * request we sent (each id exactly once, each with exactly one of `result`
 * or `error`) or it is rejected as a whole. A half-understood answer must
 * never reach a caller that makes security decisions from it, so anything
 * unexpected is an error that names the problem, and the caller fails over.
 */
#include "dstackgov/rpc.h"
#include "rpc_internal.h"
#include "dstackgov/utf8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const g_reads[] = {
    "eth_call",
    "eth_getBalance",
    "eth_blockNumber",
    "eth_getBlockByNumber",
    "eth_getBlockByHash",
    "eth_chainId",
    "eth_getCode",
    "eth_getStorageAt",
    "eth_getTransactionCount",
    "eth_getTransactionByHash",
    "eth_getTransactionReceipt",
    "eth_estimateGas",
    "eth_feeHistory",
    "eth_maxPriorityFeePerGas",
    "eth_gasPrice",
    "eth_getLogs",
    "eth_syncing",
    "net_version",
    "web3_clientVersion",
    /* NEAR */
    "query",
    "block",
    "status",
    "tx",
    "EXPERIMENTAL_tx_status",
    "gas_price",
    "EXPERIMENTAL_protocol_config",
    "EXPERIMENTAL_genesis_config",
    "chunk",
    "validators",
};

int dg_rpc_method_is_read(const char *method) {
    if (!method) return 0;
    for (size_t i = 0; i < sizeof g_reads / sizeof g_reads[0]; i++)
        if (strcmp(method, g_reads[i]) == 0) return 1;
    return 0;
}

void dg_rpc_req_clear(dg_rpc_req *reqs, size_t n) {
    for (size_t i = 0; i < n; i++) {
        json_decref(reqs[i].params);
        json_decref(reqs[i].result);
        json_decref(reqs[i].error_data);
        json_decref(reqs[i].error_obj);
        const char *m = reqs[i].method;
        memset(&reqs[i], 0, sizeof reqs[i]);
        reqs[i].method = m;
    }
}

/* Build the request body. ids are first_id..first_id+n-1. */
char *dg_jsonrpc_encode(dg_rpc_req *reqs, size_t n, long long first_id, int as_batch, size_t *len,
                        dg_err *err) {
    json_t *root = as_batch ? json_array() : NULL;
    if (as_batch && !root) goto oom;
    for (size_t i = 0; i < n; i++) {
        json_t *params = reqs[i].params ? json_incref(reqs[i].params) : json_array();
        if (!params) goto oom_root;
        if (!json_is_array(params) && !json_is_object(params)) {
            json_decref(params);
            json_decref(root);
            return dg_err_set(err, DG_ERR_INPUT, "rpc: %s: params must be a JSON array or object",
                              reqs[i].method ? reqs[i].method : "(null)"),
                   NULL;
        }
        if (!reqs[i].method || !reqs[i].method[0]) {
            json_decref(params);
            json_decref(root);
            return dg_err_set(err, DG_ERR_INPUT, "rpc: request %zu has no method", i), NULL;
        }
        json_t *o = json_pack("{s:s, s:I, s:s, s:o}", "jsonrpc", "2.0", "id",
                              (json_int_t)(first_id + (long long)i), "method", reqs[i].method,
                              "params", params);
        if (!o) goto oom_root;
        if (!as_batch) {
            root = o;
            break;
        }
        if (json_array_append_new(root, o) != 0) goto oom_root;
    }
    char *s = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    if (!s) goto oom;
    *len = strlen(s);
    return s;
oom_root:
    json_decref(root);
oom:
    dg_err_set(err, DG_ERR_NOMEM, "rpc: out of memory building the request");
    return NULL;
}

/* Decode one response object into tmp[id - first_id]. */
static int decode_object(json_t *o, long long first_id, dg_rpc_req *tmp, unsigned char *seen,
                         size_t n, dg_err *err) {
    if (!json_is_object(o))
        return dg_err_set(err, DG_ERR_RPC_RESPONSE, "response is not a JSON-RPC object");
    json_t *ver = json_object_get(o, "jsonrpc");
    json_t *id = json_object_get(o, "id");
    json_t *res = json_object_get(o, "result");
    json_t *e = json_object_get(o, "error");
    if (!json_is_string(ver) || strcmp(json_string_value(ver), "2.0") != 0)
        return dg_err_set(err, DG_ERR_RPC_RESPONSE, "response lacks \"jsonrpc\": \"2.0\"");
    if (!json_is_integer(id)) {
        /* An error with a null id is the server rejecting the request as a
         * whole (parse error, batch not supported): pass its words on. */
        json_t *m = json_is_object(e) ? json_object_get(e, "message") : NULL;
        if (json_is_string(m)) {
            char msg[200];
            dg_utf8_clean_str(msg, sizeof msg, json_string_value(m), 160);
            return dg_err_set(err, DG_ERR_RPC_RESPONSE, "request rejected: %s", msg);
        }
        return dg_err_set(err, DG_ERR_RPC_RESPONSE, "response has no integer \"id\"");
    }
    long long v = (long long)json_integer_value(id);
    if (v < first_id || (unsigned long long)(v - first_id) >= n)
        return dg_err_set(err, DG_ERR_RPC_RESPONSE, "response id %lld was not requested", v);
    size_t k = (size_t)(v - first_id);
    if (seen[k]) return dg_err_set(err, DG_ERR_RPC_RESPONSE, "response id %lld appears twice", v);
    if ((res != NULL) == (e != NULL))
        return dg_err_set(err, DG_ERR_RPC_RESPONSE,
                          "response id %lld must have exactly one of \"result\" and \"error\"", v);
    seen[k] = 1;
    dg_rpc_req *r = &tmp[k];
    const char *method = r->method ? r->method : "request";
    if (res) {
        r->result = json_incref(res);
        r->ok = 1;
        return 1;
    }
    json_t *code = json_object_get(e, "code");
    json_t *msg = json_object_get(e, "message");
    if (!json_is_object(e) || !json_is_integer(code) || !json_is_string(msg))
        return dg_err_set(err, DG_ERR_RPC_RESPONSE,
                          "response id %lld has a malformed \"error\" (needs integer code and "
                          "string message)",
                          v);
    char clean[200];
    dg_utf8_clean_str(clean, sizeof clean, json_string_value(msg), 160);
    r->ok = 0;
    r->error_code = (long)json_integer_value(code);
    snprintf(r->error, sizeof r->error, "%.60s: %.160s (code %ld)", method, clean, r->error_code);
    json_t *data = json_object_get(e, "data");
    r->error_data = data ? json_incref(data) : NULL;
    r->error_obj = json_incref(e);
    return 1;
}

int dg_jsonrpc_decode(const char *body, size_t len, long long first_id, int as_batch,
                      dg_rpc_req *reqs, size_t n, dg_err *err) {
    if (n == 0 || (!as_batch && n != 1))
        return dg_err_set(err, DG_ERR_INPUT, "rpc: a single request decodes exactly one answer");
    json_error_t je;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        char snippet[40];
        dg_utf8_clean_str(snippet, sizeof snippet, len ? body : "", len < 32 ? len : 32);
        return dg_err_set(err, DG_ERR_RPC_RESPONSE, "response is not JSON (%s) near \"%s\"",
                          je.text, snippet);
    }
    dg_rpc_req *tmp = calloc(n, sizeof *tmp);
    unsigned char *seen = calloc(n, 1);
    int ok = 0;
    if (!tmp || !seen) {
        dg_err_set(err, DG_ERR_NOMEM, "rpc: out of memory decoding the response");
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        tmp[i].method = reqs[i].method;
    if (!as_batch) {
        if (!decode_object(root, first_id, tmp, seen, 1, err)) goto out;
    } else if (json_is_object(root)) {
        /* A single object to a batch is a server that does not do batches, or
         * one that rejected it; report it through decode_object's words. */
        if (!decode_object(root, first_id, tmp, seen, n, err)) goto out;
        dg_err_set(err, DG_ERR_RPC_RESPONSE, "batch of %zu answered with a single object", n);
        goto out;
    } else if (!json_is_array(root)) {
        dg_err_set(err, DG_ERR_RPC_RESPONSE, "response is neither a JSON-RPC object nor an array");
        goto out;
    } else {
        if (json_array_size(root) != n) {
            dg_err_set(err, DG_ERR_RPC_RESPONSE, "batch of %zu answered with %zu responses", n,
                       json_array_size(root));
            goto out;
        }
        for (size_t i = 0; i < n; i++)
            if (!decode_object(json_array_get(root, i), first_id, tmp, seen, n, err)) goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const char *m = reqs[i].method;
        json_t *p = reqs[i].params;
        reqs[i] = tmp[i];
        reqs[i].method = m;
        reqs[i].params = p;
        tmp[i].result = tmp[i].error_data = tmp[i].error_obj = NULL;
    }
    ok = 1;
out:
    if (tmp) {
        for (size_t i = 0; i < n; i++) {
            json_decref(tmp[i].result);
            json_decref(tmp[i].error_data);
            json_decref(tmp[i].error_obj);
        }
    }
    free(tmp);
    free(seen);
    json_decref(root);
    return ok;
}
