/* test_rpc.c — the emulator's NEAR JSON-RPC (rpc.h) in-process and over HTTP.
 *
 * Replies are parsed with jansson and compared field by field against the
 * shapes of reference/near.md §5.3: view results as byte arrays with logs and
 * block fields, errors as HANDLER_ERROR with the node's cause names.
 */
#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>

#include "nt.h"
#include "rpc.h"
#include "rpc_http.h"

static json_t *rpc(nemu *w, const char *req) {
    char *out = nemu_rpc_handle(w, req, strlen(req));
    json_error_t e;
    json_t *j = json_loads(out, 0, &e);
    free(out);
    CHECK(j != NULL);
    return j ? j : json_object();
}

static const char *jstr(json_t *j, const char *path) {
    /* dotted path of object keys */
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *tok = strtok(buf, "."); tok && j; tok = strtok(NULL, ".")) j = json_object_get(j, tok);
    return j && json_is_string(j) ? json_string_value(j) : "";
}

static nemu *rpc_world(void) {
    nemu *w = nemu_new();
    json_decref(rpc(w, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"nemu_create_account\",\"params\":{\"account_id\":\"probe.test\",\"balance\":\"10000000000000000000000000\"}}"));
    json_decref(rpc(w, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"nemu_create_account\",\"params\":{\"account_id\":\"alice.test\",\"balance\":\"10000000000000000000000000\"}}"));
    json_t *r = rpc(w, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"nemu_deploy\",\"params\":{\"account_id\":\"probe.test\",\"module\":\"probe\"}}");
    CHECK(json_is_true(json_object_get(r, "result")));
    json_decref(r);
    return w;
}

TEST(rpc_base58_vectors) {
    char out[64];
    nemu_base58((const unsigned char *)"Hello World!", 12, out);
    CHECK_STR(out, "2NEpo7TZRRrLZSi2U");
    static const unsigned char z[3] = {0, 0, 1};
    nemu_base58(z, 3, out);
    CHECK_STR(out, "112");
    nemu_base58(z, 0, out);
    CHECK_STR(out, "");
}

TEST(rpc_query_call_function) {
    nemu *w = rpc_world();
    /* args_base64 of "hi" = aGk= ; echo returns the same bytes */
    json_t *r = rpc(w, "{\"jsonrpc\":\"2.0\",\"id\":\"dontcare\",\"method\":\"query\",\"params\":{\"request_type\":"
                       "\"call_function\",\"finality\":\"final\",\"account_id\":\"probe.test\",\"method_name\":\"echo\","
                       "\"args_base64\":\"aGk=\"}}");
    CHECK_STR(jstr(r, "id"), "dontcare");
    json_t *res = json_object_get(r, "result");
    json_t *bytes = json_object_get(res, "result");
    CHECK_INT(json_array_size(bytes), 2);
    CHECK_INT(json_integer_value(json_array_get(bytes, 0)), 'h');
    CHECK_INT(json_integer_value(json_array_get(bytes, 1)), 'i');
    CHECK(json_is_array(json_object_get(res, "logs")));
    CHECK(json_integer_value(json_object_get(res, "block_height")) > 0);
    CHECK(strlen(jstr(res, "block_hash")) >= 32);
    json_decref(r);
    /* a panic is a CONTRACT_EXECUTION_ERROR with the VM message */
    r = rpc(w, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"query\",\"params\":{\"request_type\":\"call_function\","
               "\"finality\":\"final\",\"account_id\":\"probe.test\",\"method_name\":\"panic_msg\",\"args_base64\":\"Ym9vbQ==\"}}");
    CHECK(json_object_get(r, "result") == NULL);
    CHECK_STR(jstr(r, "error.name"), "HANDLER_ERROR");
    CHECK_STR(jstr(r, "error.cause.name"), "CONTRACT_EXECUTION_ERROR");
    CHECK_STR(jstr(r, "error.cause.info.vm_error"), "Smart contract panicked: boom");
    json_decref(r);
    /* the view rules hold over RPC too */
    r = rpc(w, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"query\",\"params\":{\"request_type\":\"call_function\","
               "\"finality\":\"optimistic\",\"account_id\":\"probe.test\",\"method_name\":\"whoami\",\"args_base64\":\"\"}}");
    CHECK(strstr(jstr(r, "error.cause.info.vm_error"), "predecessor_account_id is not allowed in view calls") != NULL);
    json_decref(r);
    r = rpc(w, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"query\",\"params\":{\"request_type\":\"call_function\","
               "\"finality\":\"final\",\"account_id\":\"nobody.test\",\"method_name\":\"echo\",\"args_base64\":\"\"}}");
    CHECK_STR(jstr(r, "error.cause.name"), "UNKNOWN_ACCOUNT");
    json_decref(r);
    r = rpc(w, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"query\",\"params\":{\"request_type\":\"call_function\","
               "\"finality\":\"final\",\"account_id\":\"alice.test\",\"method_name\":\"echo\",\"args_base64\":\"\"}}");
    CHECK_STR(jstr(r, "error.cause.name"), "NO_CONTRACT_CODE");
    json_decref(r);
    nemu_free(w);
}

TEST(rpc_view_account_code_and_block) {
    nemu *w = rpc_world();
    json_t *r = rpc(w, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"query\",\"params\":{\"request_type\":\"view_account\","
                       "\"finality\":\"final\",\"account_id\":\"probe.test\"}}");
    CHECK_STR(jstr(r, "result.amount"), "10000000000000000000000000");
    size_t n;
    uint8_t *code = nemu_module_code("probe", &n);
    uint8_t h[32];
    crypto_hash_sha256(h, code, n);
    char want[64];
    nemu_base58(h, 32, want);
    CHECK_STR(jstr(r, "result.code_hash"), want);
    CHECK_INT(json_integer_value(json_object_get(json_object_get(r, "result"), "storage_usage")),
              nemu_storage_usage(w, "probe.test"));
    json_decref(r);
    r = rpc(w, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"query\",\"params\":{\"request_type\":\"view_code\","
               "\"finality\":\"final\",\"account_id\":\"probe.test\"}}");
    const char *c64 = jstr(r, "result.code_base64");
    uint8_t *back = malloc(n + 16);
    size_t bn = 0;
    CHECK(sodium_base642bin(back, n + 16, c64, strlen(c64), NULL, &bn, NULL, sodium_base64_VARIANT_ORIGINAL) == 0);
    CHECK_INT(bn, n);
    CHECK(bn == n && memcmp(back, code, n) == 0);
    free(back);
    free(code);
    json_decref(r);
    r = rpc(w, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"block\",\"params\":{\"finality\":\"final\"}}");
    CHECK(json_integer_value(json_object_get(json_object_get(json_object_get(r, "result"), "header"), "height")) > 0);
    CHECK(strlen(jstr(r, "result.header.hash")) >= 32);
    json_decref(r);
    r = rpc(w, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"nope\",\"params\":{}}");
    CHECK_INT(json_integer_value(json_object_get(json_object_get(r, "error"), "code")), -32601);
    json_decref(r);
    r = rpc(w, "{not json");
    CHECK_INT(json_integer_value(json_object_get(json_object_get(r, "error"), "code")), -32700);
    json_decref(r);
    nemu_free(w);
}

TEST(rpc_test_methods_change_state) {
    nemu *w = rpc_world();
    json_t *r = rpc(w, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"nemu_call\",\"params\":{\"signer_id\":\"alice.test\","
                       "\"receiver_id\":\"probe.test\",\"method_name\":\"set\",\"args\":\"k v\"}}");
    CHECK_STR(jstr(r, "result.status.SuccessValue"), "MA=="); /* "0" */
    json_decref(r);
    r = rpc(w, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"nemu_call\",\"params\":{\"signer_id\":\"alice.test\","
               "\"receiver_id\":\"probe.test\",\"method_name\":\"panic_msg\",\"args\":\"no\",\"deposit\":\"5\"}}");
    CHECK_STR(jstr(r, "result.status.Failure.ActionError.kind.FunctionCallError.ExecutionError"),
              "Smart contract panicked: no");
    CHECK(json_array_size(json_object_get(json_object_get(r, "result"), "receipts_outcome")) >= 2); /* + refund */
    json_decref(r);
    /* a JSON args value is sent compactly */
    r = rpc(w, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"nemu_call\",\"params\":{\"signer_id\":\"alice.test\","
               "\"receiver_id\":\"probe.test\",\"method_name\":\"echo\",\"args\":{\"a\": [1, 2]}}}");
    size_t n = 0;
    uint8_t out[64];
    const char *v = jstr(r, "result.status.SuccessValue");
    CHECK(sodium_base642bin(out, sizeof out - 1, v, strlen(v), NULL, &n, NULL, sodium_base64_VARIANT_ORIGINAL) == 0);
    out[n] = 0;
    CHECK_STR((char *)out, "{\"a\":[1,2]}");
    json_decref(r);
    /* the view sees the state the call wrote ("k" = base64 aw==) */
    r = rpc(w, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"query\",\"params\":{\"request_type\":\"call_function\","
               "\"finality\":\"final\",\"account_id\":\"probe.test\",\"method_name\":\"get\",\"args_base64\":\"aw==\"}}");
    json_t *bytes = json_object_get(json_object_get(r, "result"), "result");
    CHECK_INT(json_array_size(bytes), 1);
    CHECK_INT(json_integer_value(json_array_get(bytes, 0)), 'v');
    json_decref(r);
    nemu_free(w);
}

static size_t collect(char *p, size_t size, size_t n, void *ud) {
    char **buf = ud;
    size_t old = *buf ? strlen(*buf) : 0;
    char *nb = realloc(*buf, old + size * n + 1);
    if (!nb) return 0;
    memcpy(nb + old, p, size * n);
    nb[old + size * n] = 0;
    *buf = nb;
    return size * n;
}

TEST(rpc_over_http) {
    nemu *w = rpc_world();
    nemu_server *s = nemu_server_start(w, 0);
    CHECK(s != NULL);
    if (!s) {
        nemu_free(w);
        return;
    }
    CHECK(nemu_server_port(s) > 0);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", nemu_server_port(s));
    CURL *c = curl_easy_init();
    char *resp = NULL;
    const char *req = "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"query\",\"params\":{\"request_type\":\"call_function\","
                      "\"finality\":\"final\",\"account_id\":\"probe.test\",\"method_name\":\"echo\",\"args_base64\":\"aGk=\"}}";
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, req);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    CHECK_INT(curl_easy_perform(c), CURLE_OK);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    CHECK_INT(status, 200);
    json_t *j = resp ? json_loads(resp, 0, NULL) : NULL;
    CHECK(j != NULL);
    if (j) {
        CHECK_INT(json_integer_value(json_object_get(j, "id")), 7);
        CHECK_INT(json_array_size(json_object_get(json_object_get(j, "result"), "result")), 2);
        json_decref(j);
    }
    free(resp);
    curl_slist_free_all(hdr);
    curl_easy_cleanup(c);
    nemu_server_stop(s);
    nemu_free(w);
}
