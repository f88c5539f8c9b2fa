/* test_rpc.c — the emulator's NEAR JSON-RPC (rpc.h) in-process and over HTTP.
 *
 * Replies are parsed with jansson and compared field by field against the
 * shapes of reference/near.md §5.3: view results as byte arrays with logs and
 * block fields, errors as HANDLER_ERROR with the node's cause names.
 */
#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>
#include <unistd.h>

#include "nt.h"
#include "rpc.h"
#include "rpc_http.h"

static json_t *rpc(nemu_rpc *rc, const char *req) {
    char *out = nemu_rpc_handle(rc, req, strlen(req));
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
    for (char *tok = strtok(buf, "."); tok && j; tok = strtok(NULL, "."))
        j = json_object_get(j, tok);
    return j && json_is_string(j) ? json_string_value(j) : "";
}

static json_t *jget(json_t *j, const char *path) {
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *tok = strtok(buf, "."); tok && j; tok = strtok(NULL, "."))
        j = json_object_get(j, tok);
    return j;
}

static nemu *rpc_world(void) {
    nemu *w = nemu_new();
    nemu_rpc *rc = nemu_rpc_new(w);
    json_decref(rpc(rc,
                    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"nemu_create_account\",\"params\":{"
                    "\"account_id\":\"probe.test\",\"balance\":\"10000000000000000000000000\"}}"));
    json_decref(rpc(rc,
                    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"nemu_create_account\",\"params\":{"
                    "\"account_id\":\"alice.test\",\"balance\":\"10000000000000000000000000\"}}"));
    json_t *r = rpc(rc, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"nemu_deploy\",\"params\":{"
                        "\"account_id\":\"probe.test\",\"module\":\"probe\"}}");
    CHECK(json_is_true(json_object_get(r, "result")));
    json_decref(r);
    nemu_rpc_free(rc);
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
    nemu_rpc *rc = nemu_rpc_new(w);
    /* args_base64 of "hi" = aGk= ; echo returns the same bytes */
    json_t *r = rpc(rc, "{\"jsonrpc\":\"2.0\",\"id\":\"dontcare\",\"method\":\"query\",\"params\":{"
                        "\"request_type\":"
                        "\"call_function\",\"finality\":\"final\",\"account_id\":\"probe.test\","
                        "\"method_name\":\"echo\","
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
    r = rpc(rc, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"query\",\"params\":{\"request_type\":"
                "\"call_function\","
                "\"finality\":\"final\",\"account_id\":\"probe.test\",\"method_name\":\"panic_"
                "msg\",\"args_base64\":\"Ym9vbQ==\"}}");
    /* nearcore's backward-compatible form for a failing view: result.error */
    CHECK(json_object_get(r, "error") == NULL);
    CHECK_STR(jstr(r, "result.error"),
              "wasm execution failed with error: HostError(GuestPanic { panic_msg: \"boom\" })");
    CHECK(json_is_array(jget(r, "result.logs")));
    CHECK(json_is_integer(jget(r, "result.block_height")));
    CHECK(strlen(jstr(r, "result.block_hash")) >= 32);
    json_decref(r);
    /* the view rules hold over RPC too */
    r = rpc(rc, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"query\",\"params\":{\"request_type\":"
                "\"call_function\","
                "\"finality\":\"optimistic\",\"account_id\":\"probe.test\",\"method_name\":"
                "\"whoami\",\"args_base64\":\"\"}}");
    CHECK_STR(jstr(r, "result.error"),
              "wasm execution failed with error: HostError(ProhibitedInView { method_name: "
              "\"predecessor_account_id\" })");
    json_decref(r);
    r = rpc(rc, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"query\",\"params\":{\"request_type\":"
                "\"call_function\","
                "\"finality\":\"final\",\"account_id\":\"nobody.test\",\"method_name\":\"echo\","
                "\"args_base64\":\"\"}}");
    CHECK_STR(jstr(r, "error.cause.name"), "UNKNOWN_ACCOUNT");
    json_decref(r);
    r = rpc(rc, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"query\",\"params\":{\"request_type\":"
                "\"call_function\","
                "\"finality\":\"final\",\"account_id\":\"alice.test\",\"method_name\":\"echo\","
                "\"args_base64\":\"\"}}");
    CHECK_STR(jstr(r, "error.cause.name"), "NO_CONTRACT_CODE");
    json_decref(r);
    nemu_rpc_free(rc);
    nemu_free(w);
}

TEST(rpc_view_account_code_and_block) {
    nemu *w = rpc_world();
    nemu_rpc *rc = nemu_rpc_new(w);
    json_t *r = rpc(rc, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"query\",\"params\":{\"request_"
                        "type\":\"view_account\","
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
    r = rpc(rc, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"query\",\"params\":{\"request_type\":"
                "\"view_code\","
                "\"finality\":\"final\",\"account_id\":\"probe.test\"}}");
    const char *c64 = jstr(r, "result.code_base64");
    uint8_t *back = malloc(n + 16);
    size_t bn = 0;
    CHECK(sodium_base642bin(back, n + 16, c64, strlen(c64), NULL, &bn, NULL,
                            sodium_base64_VARIANT_ORIGINAL) == 0);
    CHECK_INT(bn, n);
    CHECK(bn == n && memcmp(back, code, n) == 0);
    free(back);
    free(code);
    json_decref(r);
    r = rpc(
        rc,
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"block\",\"params\":{\"finality\":\"final\"}}");
    CHECK(json_integer_value(json_object_get(
              json_object_get(json_object_get(r, "result"), "header"), "height")) > 0);
    CHECK(strlen(jstr(r, "result.header.hash")) >= 32);
    json_decref(r);
    r = rpc(rc, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"nope\",\"params\":{}}");
    CHECK_INT(json_integer_value(json_object_get(json_object_get(r, "error"), "code")), -32601);
    json_decref(r);
    r = rpc(rc, "{not json");
    CHECK_INT(json_integer_value(json_object_get(json_object_get(r, "error"), "code")), -32700);
    json_decref(r);
    nemu_rpc_free(rc);
    nemu_free(w);
}

TEST(rpc_test_methods_change_state) {
    nemu *w = rpc_world();
    nemu_rpc *rc = nemu_rpc_new(w);
    json_t *r =
        rpc(rc, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"nemu_call\",\"params\":{\"signer_id\":"
                "\"alice.test\","
                "\"receiver_id\":\"probe.test\",\"method_name\":\"set\",\"args\":\"k v\"}}");
    CHECK_STR(jstr(r, "result.status.SuccessValue"), "MA=="); /* "0" */
    json_decref(r);
    r = rpc(rc, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"nemu_call\",\"params\":{\"signer_id\":"
                "\"alice.test\","
                "\"receiver_id\":\"probe.test\",\"method_name\":\"panic_msg\",\"args\":\"no\","
                "\"deposit\":\"5\"}}");
    CHECK_STR(jstr(r, "result.status.Failure.ActionError.kind.FunctionCallError.ExecutionError"),
              "Smart contract panicked: no");
    CHECK(json_array_size(json_object_get(json_object_get(r, "result"), "receipts_outcome")) >=
          2); /* + refund */
    json_decref(r);
    /* a JSON args value is sent compactly */
    r = rpc(rc,
            "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"nemu_call\",\"params\":{\"signer_id\":"
            "\"alice.test\","
            "\"receiver_id\":\"probe.test\",\"method_name\":\"echo\",\"args\":{\"a\": [1, 2]}}}");
    size_t n = 0;
    uint8_t out[64];
    const char *v = jstr(r, "result.status.SuccessValue");
    CHECK(sodium_base642bin(out, sizeof out - 1, v, strlen(v), NULL, &n, NULL,
                            sodium_base64_VARIANT_ORIGINAL) == 0);
    out[n] = 0;
    CHECK_STR((char *)out, "{\"a\":[1,2]}");
    json_decref(r);
    /* the view sees the state the call wrote ("k" = base64 aw==) */
    r = rpc(rc, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"query\",\"params\":{\"request_type\":"
                "\"call_function\","
                "\"finality\":\"final\",\"account_id\":\"probe.test\",\"method_name\":\"get\","
                "\"args_base64\":\"aw==\"}}");
    json_t *bytes = json_object_get(json_object_get(r, "result"), "result");
    CHECK_INT(json_array_size(bytes), 1);
    CHECK_INT(json_integer_value(json_array_get(bytes, 0)), 'v');
    json_decref(r);
    nemu_rpc_free(rc);
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
    nemu_rpc *rc = nemu_rpc_new(w);
    nemu_server *s = nemu_server_start(w, 0, NULL);
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
    const char *req = "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"query\",\"params\":{\"request_"
                      "type\":\"call_function\","
                      "\"finality\":\"final\",\"account_id\":\"probe.test\",\"method_name\":"
                      "\"echo\",\"args_base64\":\"aGk=\"}}";
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
    nemu_rpc_free(rc);
    nemu_free(w);
}

/* ------------------------------------------------------------ signed transactions */

typedef struct {
    uint8_t b[4096];
    size_t n;
} bw;

static void w_bytes(bw *x, const void *p, size_t n) {
    memcpy(x->b + x->n, p, n);
    x->n += n;
}
static void w_u32(bw *x, uint32_t v) {
    for (int i = 0; i < 4; i++)
        x->b[x->n++] = (uint8_t)(v >> (8 * i));
}
static void w_u64(bw *x, uint64_t v) {
    for (int i = 0; i < 8; i++)
        x->b[x->n++] = (uint8_t)(v >> (8 * i));
}
static void w_u128(bw *x, nemu_u128 v) {
    for (int i = 0; i < 16; i++)
        x->b[x->n++] = (uint8_t)(v >> (8 * i));
}
static void w_str(bw *x, const char *s) {
    w_u32(x, (uint32_t)strlen(s));
    w_bytes(x, s, strlen(s));
}

/* TEST KEY ONLY: a fixed seed, never used outside these tests. */
static void test_keypair(uint8_t pk[32], uint8_t sk[64], uint8_t fill) {
    uint8_t seed[32];
    memset(seed, fill, 32);
    crypto_sign_seed_keypair(pk, sk, seed);
}

/* A signed FunctionCall (or Transfer when method is NULL) transaction, base64. */
static char *signed_call(nemu_rpc *rc, const char *signer, const uint8_t pk[32],
                         const uint8_t sk[64], uint64_t nonce, const char *receiver,
                         const char *method, const char *args, nemu_u128 deposit, int corrupt) {
    json_t *blk = rpc(
        rc,
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"block\",\"params\":{\"finality\":\"final\"}}");
    uint8_t bh[32];
    CHECK(nemu_base58_decode(jstr(blk, "result.header.hash"), bh, 32) == 32);
    json_decref(blk);
    bw tx = {.n = 0};
    w_str(&tx, signer);
    tx.b[tx.n++] = 0;
    w_bytes(&tx, pk, 32);
    w_u64(&tx, nonce);
    w_str(&tx, receiver);
    w_bytes(&tx, bh, 32);
    w_u32(&tx, 1);
    if (method) {
        tx.b[tx.n++] = 2;
        w_str(&tx, method);
        w_str(&tx, args);
        w_u64(&tx, 30 * NEMU_TGAS);
        w_u128(&tx, deposit);
    } else {
        tx.b[tx.n++] = 3;
        w_u128(&tx, deposit);
    }
    uint8_t h[32], sig[64];
    crypto_hash_sha256(h, tx.b, tx.n);
    crypto_sign_detached(sig, NULL, h, 32, sk);
    if (corrupt) sig[0] ^= 1;
    tx.b[tx.n++] = 0;
    w_bytes(&tx, sig, 64);
    size_t cap = sodium_base64_encoded_len(tx.n, sodium_base64_VARIANT_ORIGINAL);
    char *out = malloc(cap);
    sodium_bin2base64(out, cap, tx.b, tx.n, sodium_base64_VARIANT_ORIGINAL);
    return out;
}

static json_t *send_tx(nemu_rpc *rc, const char *b64tx) {
    char *req = malloc(strlen(b64tx) + 200);
    sprintf(req,
            "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"send_tx\",\"params\":{\"signed_tx_base64\":"
            "\"%s\","
            "\"wait_until\":\"FINAL\"}}",
            b64tx);
    json_t *r = rpc(rc, req);
    free(req);
    return r;
}

TEST(rpc_signed_transactions) {
    nemu *w = rpc_world();
    nemu_set_gas_price(w, 0); /* deposit arithmetic; gas is tested in emu_gas_* */
    nemu_rpc *rc = nemu_rpc_new(w);
    uint8_t pk[32], sk[64], pk2[32], sk2[64];
    test_keypair(pk, sk, 1);
    test_keypair(pk2, sk2, 2);
    char pks[80] = "ed25519:";
    nemu_base58(pk, 32, pks + 8);
    char req[512];
    snprintf(req, sizeof req,
             "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"nemu_create_account\",\"params\":{"
             "\"account_id\":"
             "\"signer.test\",\"balance\":\"5000000000000000000000000\",\"public_key\":\"%s\"}}",
             pks);
    json_t *r = rpc(rc, req);
    CHECK(json_is_true(json_object_get(r, "result")));
    json_decref(r);
    snprintf(req, sizeof req,
             "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"query\",\"params\":{\"request_type\":"
             "\"view_access_key\",\"finality\":\"final\",\"account_id\":\"signer.test\",\"public_"
             "key\":\"%s\"}}",
             pks);
    r = rpc(rc, req);
    CHECK_INT(json_integer_value(json_object_get(json_object_get(r, "result"), "nonce")), 0);
    CHECK_STR(jstr(r, "result.permission"), "FullAccess");
    json_decref(r);
    /* a good transaction: executed, answered as a FinalExecutionOutcome, findable by hash */
    char *t = signed_call(rc, "signer.test", pk, sk, 1, "probe.test", "set", "key val", 0, 0);
    r = send_tx(rc, t);
    CHECK_STR(jstr(r, "result.status.SuccessValue"), "MA==");
    CHECK_STR(jstr(r, "result.final_execution_status"), "FINAL");
    CHECK_STR(jstr(r, "result.transaction.signer_id"), "signer.test");
    CHECK_STR(jstr(r, "result.transaction.public_key"), pks);
    char hash[64];
    snprintf(hash, sizeof hash, "%s", jstr(r, "result.transaction.hash"));
    CHECK(strlen(hash) >= 32);
    json_decref(r);
    /* replaying it: the nonce is used */
    r = send_tx(rc, t);
    CHECK_STR(jstr(r, "error.cause.name"), "INVALID_TRANSACTION");
    CHECK_INT(json_integer_value(jget(r, "error.cause.info.InvalidNonce.tx_nonce")), 1);
    CHECK_INT(json_integer_value(
                  jget(r, "error.data.TxExecutionError.InvalidTxError.InvalidNonce.ak_nonce")),
              1);
    json_decref(r);
    free(t);
    snprintf(req, sizeof req,
             "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tx\",\"params\":{\"tx_hash\":\"%s\","
             "\"sender_account_id\":\"signer.test\",\"wait_until\":\"FINAL\"}}",
             hash);
    r = rpc(rc, req);
    CHECK_STR(jstr(r, "result.transaction.hash"), hash);
    CHECK_STR(jstr(r, "result.status.SuccessValue"), "MA==");
    json_decref(r);
    r = rpc(rc, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tx\",\"params\":{\"tx_hash\":"
                "\"11111111111111111111111111111111\",\"sender_account_id\":\"a.test\"}}");
    CHECK_STR(jstr(r, "error.cause.name"), "UNKNOWN_TRANSACTION");
    json_decref(r);
    /* the state changed */
    NT_OK(nemu_view(w, "probe.test", "get", "key"), "val");
    /* a wrong signature, an unknown key, a panicking call */
    t = signed_call(rc, "signer.test", pk, sk, 2, "probe.test", "set", "a b", 0, 1);
    r = send_tx(rc, t);
    CHECK_STR(jstr(r, "error.data.TxExecutionError.InvalidTxError"), "InvalidSignature");
    json_decref(r);
    free(t);
    t = signed_call(rc, "signer.test", pk2, sk2, 2, "probe.test", "set", "a b", 0, 0);
    r = send_tx(rc, t);
    CHECK_STR(jstr(r, "error.cause.info.InvalidAccessKeyError.AccessKeyNotFound.account_id"),
              "signer.test");
    json_decref(r);
    free(t);
    nemu_u128 b0 = nemu_balance(w, "signer.test");
    t = signed_call(rc, "signer.test", pk, sk, 2, "probe.test", "panic_msg", "nope", 7, 0);
    r = send_tx(rc, t);
    CHECK_STR(jstr(r, "result.status.Failure.ActionError.kind.FunctionCallError.ExecutionError"),
              "Smart contract panicked: nope");
    json_decref(r);
    free(t);
    CHECK_U128(nemu_balance(w, "signer.test"), b0);
    /* a transfer to a missing account fails as an action error */
    t = signed_call(rc, "signer.test", pk, sk, 3, "ghost.test", NULL, NULL, 5, 0);
    r = send_tx(rc, t);
    CHECK_STR(jstr(r, "result.status.Failure.ActionError.kind.AccountDoesNotExist.account_id"),
              "ghost.test");
    json_decref(r);
    free(t);
    /* a transaction referring to an old block has expired */
    t = signed_call(rc, "signer.test", pk, sk, 4, "probe.test", "set", "c d", 0, 0);
    nemu_advance_blocks(w, 101);
    r = send_tx(rc, t);
    CHECK_STR(jstr(r, "error.data.TxExecutionError.InvalidTxError"), "Expired");
    json_decref(r);
    free(t);
    /* garbage */
    r = send_tx(rc, "AAAA");
    CHECK_STR(jstr(r, "error.cause.name"), "PARSE_ERROR");
    json_decref(r);
    nemu_rpc_free(rc);
    nemu_free(w);
}

TEST(rpc_blocks_finality_and_pinned_views) {
    nemu *w = rpc_world();
    nemu_rpc *rc = nemu_rpc_new(w);
    uint64_t h0 = nemu_block_height(w);
    char req[512];
    /* by height and by hash; final is two blocks behind the head */
    snprintf(req, sizeof req,
             "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"block\",\"params\":{\"block_id\":%llu}}",
             (unsigned long long)h0);
    json_t *r = rpc(rc, req);
    CHECK_INT(json_integer_value(jget(r, "result.header.height")), h0);
    char hash[64];
    snprintf(hash, sizeof hash, "%s", jstr(r, "result.header.hash"));
    json_decref(r);
    snprintf(req, sizeof req,
             "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"block\",\"params\":{\"block_id\":\"%s\"}}",
             hash);
    r = rpc(rc, req);
    CHECK_INT(json_integer_value(jget(r, "result.header.height")), h0);
    json_decref(r);
    r = rpc(
        rc,
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"block\",\"params\":{\"finality\":\"final\"}}");
    CHECK_INT(json_integer_value(jget(r, "result.header.height")), h0 - 2);
    json_decref(r);
    r = rpc(
        rc,
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"block\",\"params\":{\"block_id\":99999999}}");
    CHECK_STR(jstr(r, "error.cause.name"), "UNKNOWN_BLOCK");
    json_decref(r);
    r = rpc(rc, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"status\",\"params\":[]}");
    CHECK_STR(jstr(r, "result.chain_id"), "localnet");
    CHECK_INT(json_integer_value(jget(r, "result.sync_info.latest_block_height")), h0);
    CHECK(strlen(jstr(r, "result.genesis_hash")) >= 32);
    json_decref(r);
    /* a change after h0: a view pinned to h0 (by hash) does not see it */
    r = rpc(
        rc,
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"nemu_call\",\"params\":{\"signer_id\":"
        "\"alice.test\",\"receiver_id\":\"probe.test\",\"method_name\":\"set\",\"args\":\"k v\"}}");
    json_decref(r);
    const char *get_k =
        "\"account_id\":\"probe.test\",\"method_name\":\"get\",\"args_base64\":\"aw==\"";
    snprintf(req, sizeof req,
             "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"query\",\"params\":{\"request_type\":"
             "\"call_function\",\"block_id\":\"%s\",%s}}",
             hash, get_k);
    r = rpc(rc, req);
    CHECK_INT(json_array_size(jget(r, "result.result")), 4); /* "null" */
    CHECK_INT(json_integer_value(jget(r, "result.block_height")), h0);
    json_decref(r);
    snprintf(req, sizeof req,
             "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"query\",\"params\":{\"request_type\":"
             "\"call_function\",\"finality\":\"final\",%s}}",
             get_k);
    r = rpc(rc, req);
    CHECK_INT(json_array_size(jget(r, "result.result")), 1); /* "v" */
    json_decref(r);
    nemu_rpc_free(rc);
    nemu_free(w);
}

/* The answer of a request that may wait: NULL (and *wt) while it waits. */
static json_t *rpc_async(nemu_rpc *rc, const char *req, nemu_rpc_wait **wt) {
    *wt = NULL;
    char *out = nemu_rpc_handle_async(rc, req, strlen(req), wt);
    if (!out) return NULL;
    json_t *j = json_loads(out, 0, NULL);
    free(out);
    return j;
}

static json_t *wait_poll(nemu_rpc *rc, nemu_rpc_wait *wt) {
    char *out = nemu_rpc_wait_poll(rc, wt);
    if (!out) return NULL;
    json_t *j = json_loads(out, 0, NULL);
    free(out);
    return j;
}

/* A transaction whose receipt tree stays open (the probe yields until a
 * resume): send_tx FINAL waits, tx INCLUDED_FINAL shows the outcome so far
 * ("Started"), a request that cannot wait gets nearcore's TIMEOUT_ERROR, the
 * resume completes the waiting answer; without a resume the yield times out
 * after 200 blocks (fast-forwarded with nemu_advance_blocks). */
TEST(rpc_open_transactions_wait_and_time_out) {
    nemu *w = rpc_world();
    nemu_rpc_opts opts = {.tx_timeout_ms = 60000};
    nemu_rpc *rc = nemu_rpc_new_opts(w, &opts);
    uint8_t pk[32], sk[64];
    test_keypair(pk, sk, 3);
    char pks[80] = "ed25519:", req[600];
    nemu_base58(pk, 32, pks + 8);
    snprintf(req, sizeof req,
             "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"nemu_create_account\",\"params\":{"
             "\"account_id\":\"y.test\",\"balance\":\"5000000000000000000000000\",\"public_key\":"
             "\"%s\"}}",
             pks);
    json_decref(rpc(rc, req));
    char *t = signed_call(rc, "y.test", pk, sk, 1, "probe.test", "yield_wait", "20", 0, 0);
    snprintf(
        req, sizeof req,
        "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"send_tx\",\"params\":{\"signed_tx_base64\":"
        "\"%s\",\"wait_until\":\"FINAL\"}}",
        t);
    nemu_rpc_wait *wt;
    json_t *r = rpc_async(rc, req, &wt);
    CHECK(r == NULL && wt != NULL);
    json_decref(r);
    CHECK(wt && wait_poll(rc, wt) == NULL);
    /* its hash, as the client computes it: sha256 of the transaction bytes */
    uint8_t raw[600];
    size_t rn = 0;
    sodium_base642bin(raw, sizeof raw, t, strlen(t), NULL, &rn, NULL,
                      sodium_base64_VARIANT_ORIGINAL);
    uint8_t h[32];
    crypto_hash_sha256(h, raw, rn - 65);
    char hash[64];
    nemu_base58(h, 32, hash);
    char q[700];
#define TX_STATUS(level)                                                                           \
    snprintf(q, sizeof q,                                                                          \
             "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"EXPERIMENTAL_tx_status\",\"params\":{"    \
             "\"tx_hash\":\"%s\",\"sender_account_id\":\"y.test\",\"wait_until\":\"%s\"}}",        \
             hash, level)
    TX_STATUS("INCLUDED_FINAL");
    r = rpc(rc, q);
    CHECK_STR(jstr(r, "result.status"), "Started");
    CHECK_STR(jstr(r, "result.final_execution_status"), "INCLUDED_FINAL");
    CHECK(json_array_size(jget(r, "result.receipts_outcome")) >= 1);
    CHECK(json_array_size(jget(r, "result.receipts")) >= 1);
    json_decref(r);
    /* nemu_rpc_handle cannot wait: nearcore's TIMEOUT_ERROR at once */
    TX_STATUS("EXECUTED_OPTIMISTIC");
    r = rpc(rc, q);
    CHECK_STR(jstr(r, "error.name"), "HANDLER_ERROR");
    CHECK_STR(jstr(r, "error.cause.name"), "TIMEOUT_ERROR");
    CHECK_STR(jstr(r, "error.data"), "Timeout");
    CHECK_INT(json_integer_value(jget(r, "error.code")), -32000);
    json_decref(r);
    /* the resume: the waiting send_tx gets the final outcome */
    r = rpc(rc, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"nemu_call\",\"params\":{"
                "\"signer_id\":\"alice.test\",\"receiver_id\":\"probe.test\",\"method_name\":"
                "\"resume\",\"args\":\"hi\"}}");
    CHECK_STR(jstr(r, "result.status.SuccessValue"), "MQ==");
    json_decref(r);
    r = wt ? wait_poll(rc, wt) : NULL;
    CHECK(r != NULL);
    if (r) {
        CHECK_INT(json_integer_value(json_object_get(r, "id")), 7);
        CHECK_STR(jstr(r, "result.status.SuccessValue"),
                  "cmVzdW1lZDpoaXxhcmc="); /* resumed:hi|arg */
        CHECK_STR(jstr(r, "result.final_execution_status"), "FINAL");
    }
    json_decref(r);
    free(t);
    /* no resume: the waiter times out (tx_timeout_ms), then the yield (200 blocks) */
    nemu_rpc_free(rc);
    opts.tx_timeout_ms = 1;
    rc = nemu_rpc_new_opts(w, &opts);
    t = signed_call(rc, "y.test", pk, sk, 2, "probe.test", "yield_wait", "20", 0, 0);
    snprintf(
        req, sizeof req,
        "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"broadcast_tx_commit\",\"params\":[\"%s\"]}", t);
    r = rpc_async(rc, req, &wt);
    CHECK(r == NULL && wt != NULL);
    usleep(5000);
    r = wt ? wait_poll(rc, wt) : NULL;
    CHECK_STR(jstr(r, "error.cause.name"), "TIMEOUT_ERROR");
    json_decref(r);
    r = rpc(rc, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"EXPERIMENTAL_protocol_config\","
                "\"params\":{\"finality\":\"final\"}}");
    CHECK_INT(json_integer_value(
                  jget(r, "result.runtime_config.wasm_config.limit_config.max_yield_payload_size")),
              1024);
    CHECK_INT(json_integer_value(jget(r, "result.runtime_config.wasm_config.limit_config."
                                         "yield_timeout_length_in_blocks")),
              200);
    json_decref(r);
    r = rpc(rc, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"nemu_advance_blocks\",\"params\":{"
                "\"blocks\":205}}");
    CHECK(json_integer_value(jget(r, "result.block_height")) > 205);
    json_decref(r);
    sodium_base642bin(raw, sizeof raw, t, strlen(t), NULL, &rn, NULL,
                      sodium_base64_VARIANT_ORIGINAL);
    crypto_hash_sha256(h, raw, rn - 65);
    nemu_base58(h, 32, hash);
    snprintf(q, sizeof q,
             "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"tx\",\"params\":[\"%s\",\"y.test\"]}",
             hash);
    r = rpc(rc, q);
    CHECK(strstr(jstr(r, "result.status.Failure.ActionError.kind.FunctionCallError.ExecutionError"),
                 "yield timed out") != NULL);
    json_decref(r);
    free(t);
    nemu_rpc_free(rc);
    nemu_free(w);
}
