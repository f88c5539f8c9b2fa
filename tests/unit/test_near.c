/* test_near.c — lib/near's codecs and the decoding of NEAR node answers:
 * base58 (Bitcoin's published vectors), borsh, ed25519 key strings (RFC 8032
 * test 1), account ids (NEAR's grammar), amounts, and errors in both the
 * older text shapes and nearcore's structured `cause` shape. */
#include <stdlib.h>

#include "../test.h"
#include "dstackgov/near.h"

static const struct {
    const char *hex, *b58;
} b58_vectors[] = {
    {"", ""},
    {"61", "2g"},
    {"626262", "a3gV"},
    {"636363", "aPEr"},
    {"73696d706c792061206c6f6e6720737472696e67", "2cFupjhnEsSn59qHXstmK2ffpLv2"},
    {"00eb15231dfceb60925886b67d065299925915aeb172c06647", "1NS17iag9jJgTHD1VXjvLCEnZuQ3rJDE9L"},
    {"516b6fcd0f", "ABnLTmg"},
    {"bf4f89001e670274dd", "3SEo3LWLoPntC"},
    {"572e4794", "3EFU7m"},
    {"ecac89cad93923c02321", "EJDM8drfXA6uyA"},
    {"10c8511e", "Rt5zm"},
    {"00000000000000000000", "1111111111"},
};

TEST(near_base58_vectors) {
    for (size_t i = 0; i < sizeof b58_vectors / sizeof b58_vectors[0]; i++) {
        uint8_t in[64], out[64];
        size_t n = dg_test_unhex(b58_vectors[i].hex, in, sizeof in), got = 99;
        char s[128];
        CHECK_INT(dg_base58_encode(in, n, s, sizeof s), strlen(b58_vectors[i].b58));
        CHECK_STR(s, b58_vectors[i].b58);
        if (!n) continue;
        dg_err e = {0};
        CHECK(dg_base58_decode(s, strlen(s), out, sizeof out, &got, &e));
        CHECK_INT(got, n);
        CHECK_MEM(out, in, n);
    }
}

TEST(near_base58_rejects) {
    uint8_t out[32];
    size_t got;
    dg_err e = {0};
    CHECK(!dg_base58_decode("0OIl", 4, out, 32, &got, &e)); /* not in the alphabet */
    CHECK_INT(e.code, DG_ERR_INPUT);
    CHECK_STR(e.msg, "character 1 of base58 text is not in the base58 alphabet");
    CHECK(!dg_base58_decode("", 0, out, 32, &got, &e));
    CHECK(!dg_base58_decode("2cFupjhnEsSn59qHXstmK2ffpLv2", 28, out, 4, &got, &e));
    CHECK_STR(e.msg, "base58 value is longer than 4 bytes");
    CHECK(!dg_base58_decode_exact("2g", out, 2, &e));
    CHECK_STR(e.msg, "base58 value: expected 2 bytes, got 1");
    char small[3];
    CHECK_INT(dg_base58_encode((const uint8_t *)"bbb", 3, small, sizeof small), 0);
    CHECK_STR(small, "");
}

TEST(near_borsh_roundtrip) {
    dg_buf b;
    dg_buf_init(&b);
    dg_u256 big = {{0x0123456789abcdefull, 0xfedcba9876543210ull, 0, 0}};
    CHECK(dg_borsh_u8(&b, 7));
    CHECK(dg_borsh_u32(&b, 0x01020304));
    CHECK(dg_borsh_u64(&b, 0x1122334455667788ull));
    CHECK(dg_borsh_u128(&b, big));
    CHECK(dg_borsh_string(&b, "near"));
    CHECK(dg_borsh_bytes(&b, (const uint8_t *)"\x00\x01", 2));
    dg_u256 too_big = {{0, 0, 1, 0}};
    CHECK(!dg_borsh_u128(&b, too_big));
    uint8_t want[64];
    size_t wn = dg_test_unhex("07"
                              "04030201"
                              "8877665544332211"
                              "efcdab89674523011032547698badcfe"
                              "040000006e656172"
                              "020000000001",
                              want, sizeof want);
    CHECK_INT(b.len, wn);
    CHECK_MEM(b.data, want, wn);
    dg_borsh_reader r;
    dg_borsh_reader_init(&r, b.data, b.len);
    CHECK_INT(dg_borsh_read_u8(&r), 7);
    CHECK_INT(dg_borsh_read_u32(&r), 0x01020304);
    CHECK(dg_borsh_read_u64(&r) == 0x1122334455667788ull);
    dg_u256 v = dg_borsh_read_u128(&r);
    CHECK(dg_u256_cmp(v, big) == 0);
    char s[8];
    dg_borsh_read_string(&r, s, sizeof s);
    CHECK_STR(s, "near");
    size_t n;
    const uint8_t *p = dg_borsh_read_bytes(&r, &n);
    CHECK(p && n == 2 && p[1] == 1);
    dg_err e = {0};
    CHECK(dg_borsh_done(&r, &e));
    /* truncated: sticky failure, one check at the end */
    dg_borsh_reader_init(&r, b.data, 10);
    dg_borsh_read_u8(&r);
    dg_borsh_read_u32(&r);
    CHECK(dg_borsh_read_u64(&r) == 0);
    CHECK(!dg_borsh_done(&r, &e));
    CHECK_STR(e.msg, "borsh: malformed or truncated value at byte 5");
    /* a string longer than its buffer, and trailing bytes */
    dg_borsh_reader_init(&r, want + 29, 8);
    dg_borsh_read_string(&r, s, 4);
    CHECK(!dg_borsh_done(&r, &e));
    dg_borsh_reader_init(&r, want, 2);
    dg_borsh_read_u8(&r);
    CHECK(!dg_borsh_done(&r, &e));
    CHECK_STR(e.msg, "borsh: 1 trailing bytes after byte 1");
    dg_buf_free(&b);
}

/* RFC 8032 section 7.1, test 1 */
#define RFC_SEED "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
#define RFC_PK "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
#define RFC_SIG                                                                                    \
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9" \
    "b46bd25bf5f0595bbe24655141438e7a100b"

TEST(near_keys_rfc8032) {
    uint8_t seed[32], pk[32], sig[64], want_sig[64];
    dg_test_unhex(RFC_SEED, seed, 32);
    dg_test_unhex(RFC_PK, pk, 32);
    dg_test_unhex(RFC_SIG, want_sig, 64);
    dg_near_key k;
    dg_near_key_from_seed(seed, &k);
    CHECK_MEM(k.pk, pk, 32);
    dg_near_sign(&k, (const uint8_t *)"", 0, sig);
    CHECK_MEM(sig, want_sig, 64);
    CHECK(dg_near_verify(pk, (const uint8_t *)"", 0, sig));
    sig[0] ^= 1;
    CHECK(!dg_near_verify(pk, (const uint8_t *)"", 0, sig));
    /* the secret key string: ed25519: + base58(seed || pk), parsed back */
    char sk[128] = "ed25519:";
    dg_base58_encode(k.sk, 64, sk + 8, sizeof sk - 8);
    dg_near_key k2;
    dg_err e = {0};
    CHECK(dg_near_key_parse(sk, &k2, &e));
    CHECK_MEM(k2.sk, k.sk, 64);
    CHECK_MEM(k2.pk, pk, 32);
    /* a public half that does not match the seed is refused, without quoting the key */
    char bad[128] = "ed25519:";
    uint8_t mixed[64];
    memcpy(mixed, k.sk, 64);
    mixed[40] ^= 1;
    dg_base58_encode(mixed, 64, bad + 8, sizeof bad - 8);
    CHECK(!dg_near_key_parse(bad, &k2, &e));
    CHECK(strstr(e.msg, "inconsistent") != NULL);
    CHECK(strstr(e.msg, bad + 8) == NULL);
    CHECK(!dg_near_key_parse("ed25519:notbase58!", &k2, &e));
    CHECK(strstr(e.msg, "notbase58") == NULL);
    CHECK(!dg_near_key_parse("secp256k1:abc", &k2, &e));
    /* public key strings round-trip */
    char pks[DG_NEAR_PUBKEY_LEN];
    dg_near_pubkey_format(pk, pks);
    uint8_t pk2[32];
    CHECK(dg_near_pubkey_parse(pks, pk2, &e));
    CHECK_MEM(pk2, pk, 32);
    CHECK(!dg_near_pubkey_parse(pks + 8, pk2, &e));
    CHECK_STR(e.msg, "NEAR public key must start with \"ed25519:\"");
    char sigs[DG_NEAR_SIG_LEN];
    dg_near_sig_format(want_sig, sigs);
    CHECK(dg_near_sig_parse(sigs, sig, &e));
    CHECK_MEM(sig, want_sig, 64);
    dg_near_key_wipe(&k);
    uint8_t zero[64] = {0};
    CHECK_MEM(k.sk, zero, 64);
}

TEST(near_account_ids) {
    static const char *ok[] = {"aa",
                               "a.b",
                               "kms.testnet",
                               "dstack-kms_1.near",
                               "0123456789012345678901234567890123456789012345678901234567890123",
                               "a-b_c.d-e",
                               "1.2.3.4"};
    static const char *bad[] = {
        "a",      "",
        "A.near", "a..b",
        ".a",     "a.",
        "a-",     "-a",
        "a--b",   "a_-b",
        "a b",    "a@b",
        "a.b-",   "01234567890123456789012345678901234567890123456789012345678901234"};
    dg_err e = {0};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (!dg_near_account_id_check(ok[i], &e)) dg_test_fail(__FILE__, __LINE__, "%s", e.msg);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (dg_near_account_id_check(bad[i], &e))
            dg_test_fail(__FILE__, __LINE__, "accepted \"%s\"", bad[i]);
    CHECK(!dg_near_account_id_check("Kms.near", &e));
    CHECK_STR(e.msg, "NEAR account id \"Kms.near\" has an upper-case letter at 1 (account ids are "
                     "lower case)");
    CHECK(dg_near_account_id_is_implicit(
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"));
    CHECK(dg_near_account_id_is_implicit("0x0123456789abcdef0123456789abcdef01234567"));
    CHECK(!dg_near_account_id_is_implicit("kms.near"));
    CHECK(!dg_near_account_id_is_implicit("0x0123456789ABCDEF0123456789abcdef01234567"));
}

TEST(near_amounts) {
    static const struct {
        const char *in, *yocto;
    } ok[] = {
        {"1", "1000000000000000000000000"},
        {"1.5", "1500000000000000000000000"},
        {"1.5 NEAR", "1500000000000000000000000"},
        {"0.000000000000000000000001near", "1"},
        {".25", "250000000000000000000000"},
        {"30", "30000000000000000000000000"},
        {"123 yocto", "123"},
        {"1yoctoNEAR", "1"},
        {"2.500", "2500000000000000000000000"},
        {"340282366920938463463374607431768211455 yocto",
         "340282366920938463463374607431768211455"},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        dg_u256 v;
        dg_err e = {0};
        char d[DG_U256_DEC_LEN];
        if (!dg_near_parse_amount(ok[i].in, &v, &e)) {
            dg_test_fail(__FILE__, __LINE__, "%s: %s", ok[i].in, e.msg);
            continue;
        }
        dg_u256_to_dec(v, d);
        CHECK_STR(d, ok[i].yocto);
    }
    static const char *bad[] = {"",
                                "NEAR",
                                "1.5 yocto",
                                "0.0000000000000000000000001",
                                "1 eth",
                                "-1",
                                "340282366920938463463374607431768211456 yocto",
                                "1,5"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        dg_u256 v;
        if (dg_near_parse_amount(bad[i], &v, NULL))
            dg_test_fail(__FILE__, __LINE__, "accepted \"%s\"", bad[i]);
    }
    char s[DG_NEAR_AMOUNT_LEN];
    dg_u256 v;
    dg_near_parse_amount("1.5", &v, NULL);
    dg_near_format_amount(v, s);
    CHECK_STR(s, "1.5 NEAR");
    dg_near_format_amount(dg_u256_from_u64(0), s);
    CHECK_STR(s, "0 NEAR");
    dg_near_format_amount(dg_u256_from_u64(1), s);
    CHECK_STR(s, "0.000000000000000000000001 NEAR");
    json_t *j = json_string("1000");
    CHECK(dg_near_json_amount(j, &v, NULL));
    CHECK(v.w[0] == 1000);
    json_decref(j);
    j = json_integer(1000); /* amounts are strings on the wire */
    CHECK(!dg_near_json_amount(j, &v, NULL));
    json_decref(j);
}

static void decode(const char *error_json, dg_err *e) {
    json_t *j = json_loads(error_json, 0, NULL);
    if (!j) dg_test_fail(__FILE__, __LINE__, "bad test JSON: %s", error_json);
    CHECK_INT(dg_near_rpc_error("view kms.near.m", j, e), 0);
    json_decref(j);
}

TEST(near_rpc_errors_structured) {
    dg_err e = {0};
    decode("{\"name\":\"HANDLER_ERROR\",\"cause\":{\"name\":\"UNKNOWN_ACCOUNT\",\"info\":{"
           "\"requested_account_id\":\"kms.near\",\"block_height\":1}},\"code\":-32000,"
           "\"message\":\"Server error\",\"data\":\"account kms.near does not exist while "
           "viewing\"}",
           &e);
    CHECK_INT(e.code, DG_ERR_NO_CODE);
    CHECK_STR(e.msg, "view kms.near.m: account kms.near does not exist");
    decode("{\"name\":\"HANDLER_ERROR\",\"cause\":{\"name\":\"NO_CONTRACT_CODE\",\"info\":{"
           "\"contract_account_id\":\"a.near\"}},\"code\":-32000,\"message\":\"Server error\"}",
           &e);
    CHECK_INT(e.code, DG_ERR_NO_CODE);
    CHECK_STR(e.msg, "view kms.near.m: account a.near has no contract code");
    /* vm_error as nearcore's Debug text */
    decode("{\"name\":\"HANDLER_ERROR\",\"cause\":{\"name\":\"CONTRACT_EXECUTION_ERROR\",\"info\":{"
           "\"vm_error\":\"wasm execution failed with error: FunctionCallError(HostError("
           "GuestPanic { panic_msg: \\\"OS image hash cannot be empty\\\" }))\"}},\"code\":-32000,"
           "\"message\":\"Server error\"}",
           &e);
    CHECK_INT(e.code, DG_ERR_REVERT);
    CHECK_STR(e.msg, "view kms.near.m: contract panicked: OS image hash cannot be empty");
    /* vm_error as a structured object */
    decode("{\"name\":\"HANDLER_ERROR\",\"cause\":{\"name\":\"CONTRACT_EXECUTION_ERROR\",\"info\":{"
           "\"vm_error\":{\"FunctionCallError\":{\"ExecutionError\":\"Smart contract panicked: "
           "Insufficient permissions for method x restricted by access control. Requires one of "
           "these roles: [\\\"Owner\\\"]\"}}}},\"code\":-32000,\"message\":\"Server error\"}",
           &e);
    CHECK_INT(e.code, DG_ERR_NOT_OWNER);
    CHECK(strncmp(e.msg, "view kms.near.m: contract panicked: Insufficient permissions", 60) == 0);
    decode("{\"name\":\"HANDLER_ERROR\",\"cause\":{\"name\":\"TIMEOUT_ERROR\"},\"code\":-32000,"
           "\"message\":\"Server error\"}",
           &e);
    CHECK_INT(e.code, DG_ERR_RPC_TIMEOUT);
    decode("{\"name\":\"HANDLER_ERROR\",\"cause\":{\"name\":\"INVALID_TRANSACTION\",\"info\":{"
           "\"TxExecutionError\":{\"InvalidTxError\":{\"InvalidNonce\":{\"ak_nonce\":5,"
           "\"tx_nonce\":3}}}}},\"code\":-32000,\"message\":\"Server error\"}",
           &e);
    CHECK_INT(e.code, DG_ERR_RPC_RESPONSE);
    CHECK_STR(e.msg, "view kms.near.m: invalid nonce: the access key is at nonce 5, the "
                     "transaction used 3 (another transaction from the same key?)");
    decode("{\"name\":\"HANDLER_ERROR\",\"cause\":{\"name\":\"UNKNOWN_ACCESS_KEY\",\"info\":{"
           "\"public_key\":\"ed25519:abc\"}},\"code\":-32000,\"message\":\"Server error\"}",
           &e);
    CHECK_INT(e.code, DG_ERR_CONFIG);
    json_t *j = json_loads("{\"cause\":{\"name\":\"X\"}}", 0, NULL);
    CHECK_STR(dg_near_error_cause(j), "X");
    json_decref(j);
}

TEST(near_rpc_errors_older_text) {
    dg_err e = {0};
    /* older nodes: data is text, no cause */
    decode("{\"code\":-32000,\"message\":\"Server error\",\"data\":\"wasm execution failed with "
           "error: FunctionCallError(HostError(GuestPanic { panic_msg: \\\"Device ID cannot be "
           "empty\\\" }))\"}",
           &e);
    CHECK_INT(e.code, DG_ERR_REVERT);
    CHECK_STR(e.msg, "view kms.near.m: contract panicked: Device ID cannot be empty");
    decode("{\"code\":-32000,\"message\":\"Server error\",\"data\":\"account x.near does not "
           "exist while viewing\"}",
           &e);
    CHECK_INT(e.code, DG_ERR_NO_CODE);
    decode("{\"code\":-32000,\"message\":\"Server error\",\"data\":\"wasm execution failed with "
           "error: FunctionCallError(CompilationError(CodeDoesNotExist { account_id: "
           "\\\"x.near\\\" }))\"}",
           &e);
    CHECK_INT(e.code, DG_ERR_NO_CODE);
    decode("{\"code\":-32000,\"message\":\"Server error\",\"data\":\"wasm execution failed with "
           "error: FunctionCallError(MethodResolveError(MethodNotFound))\"}",
           &e);
    CHECK_INT(e.code, DG_ERR_REVERT);
    CHECK(strstr(e.msg, "no such method") != NULL);
    decode("{\"code\":-32000,\"message\":\"Server error\",\"data\":\"Smart contract panicked: "
           "Insufficient permissions for method m\"}",
           &e);
    CHECK_INT(e.code, DG_ERR_NOT_OWNER);
    /* control characters from the node are not passed to a terminal */
    decode("{\"code\":-32000,\"message\":\"Server error\",\"data\":\"bad\\u001b[31m\"}", &e);
    CHECK(strchr(e.msg, 0x1b) == NULL);
    decode("{\"code\":-32601,\"message\":\"Method not found\"}", &e);
    CHECK_STR(e.msg, "view kms.near.m: Method not found");
}

TEST(near_query_params_block_refs) {
    dg_err e = {0};
    json_t *p = dg_near_query_params("view_account", NULL, &e);
    CHECK_STR(json_string_value(json_object_get(p, "finality")), "final");
    json_decref(p);
    p = dg_near_query_params("view_account", "optimistic", &e);
    CHECK_STR(json_string_value(json_object_get(p, "finality")), "optimistic");
    json_decref(p);
    p = dg_near_query_params("view_account", "1234", &e);
    CHECK_INT(json_integer_value(json_object_get(p, "block_id")), 1234);
    json_decref(p);
    p = dg_near_query_params("view_account", "244ZQ9cgj3CQ6bWBdytfrJMuMQ1jdXLFGnr4HhvtCTnM", &e);
    CHECK_STR(json_string_value(json_object_get(p, "block_id")),
              "244ZQ9cgj3CQ6bWBdytfrJMuMQ1jdXLFGnr4HhvtCTnM");
    json_decref(p);
    CHECK(dg_near_query_params("view_account", "latest", &e) == NULL);
    CHECK_INT(e.code, DG_ERR_INPUT);
}

/* A final execution outcome in nearcore's shape (send_tx / tx). */
static const char *outcome_ok =
    "{\"final_execution_status\":\"FINAL\",\"status\":{\"SuccessValue\":\"dHJ1ZQ==\"},"
    "\"transaction\":{\"signer_id\":\"ops.near\",\"public_key\":\"ed25519:abc\",\"nonce\":7,"
    "\"receiver_id\":\"kms.near\",\"actions\":[],\"signature\":\"ed25519:x\","
    "\"hash\":\"244ZQ9cgj3CQ6bWBdytfrJMuMQ1jdXLFGnr4HhvtCTnM\"},"
    "\"transaction_outcome\":{\"id\":\"244ZQ9cgj3CQ6bWBdytfrJMuMQ1jdXLFGnr4HhvtCTnM\","
    "\"block_hash\":\"x\",\"proof\":[],\"outcome\":{\"logs\":[],\"receipt_ids\":[\"r\"],"
    "\"gas_burnt\":100,\"tokens_burnt\":\"10\",\"executor_id\":\"ops.near\",\"status\":{"
    "\"SuccessReceiptId\":\"r\"},\"metadata\":{\"version\":1,\"gas_profile\":null}}},"
    "\"receipts_outcome\":[{\"id\":\"r\",\"block_hash\":\"x\",\"proof\":[],\"outcome\":{"
    "\"logs\":[\"hello\",\"EVENT_JSON:{\\\"standard\\\":\\\"dstack-kms\\\",\\\"version\\\":\\\"1.0."
    "0\\\",\\\"event\\\":\\\"os_image_hash_added\\\",\\\"data\\\":[{\\\"os_image_hash\\\":"
    "\\\"ab\\\"}]}"
    "\",\"EVENT_JSON:not json\"],\"receipt_ids\":[],\"gas_burnt\":200,\"tokens_burnt\":\"20\","
    "\"executor_id\":\"kms.near\",\"status\":{\"SuccessValue\":\"\"},\"metadata\":{}}}]}";

TEST(near_outcome_parse_success) {
    json_t *j = json_loads(outcome_ok, 0, NULL);
    CHECK(j != NULL);
    dg_near_outcome o;
    dg_err e = {0};
    CHECK(dg_near_outcome_parse(j, &o, &e));
    CHECK(o.success);
    CHECK_INT(o.value_len, 4);
    CHECK(o.value && memcmp(o.value, "true", 4) == 0);
    CHECK_INT(o.nlogs, 3);
    CHECK_STR(o.logs[0], "hello");
    CHECK_INT(json_array_size(o.events), 1); /* the malformed EVENT_JSON stays a plain log */
    CHECK_STR(json_string_value(json_object_get(json_array_get(o.events, 0), "event")),
              "os_image_hash_added");
    CHECK(o.gas_burnt == 300);
    CHECK(o.tokens_burnt.w[0] == 30);
    CHECK_INT(o.nreceipts, 1);
    CHECK_INT(o.nfailed, 0);
    CHECK_STR(o.final_status, "FINAL");
    char h[64];
    dg_base58_encode(o.tx_hash, 32, h, sizeof h);
    CHECK_STR(h, "244ZQ9cgj3CQ6bWBdytfrJMuMQ1jdXLFGnr4HhvtCTnM");
    dg_near_outcome_free(&o);
    json_decref(j);
}

static void outcome_failure(const char *status, const char *receipt_status, dg_err_code code,
                            const char *want) {
    char buf[2048];
    snprintf(buf, sizeof buf,
             "{\"status\":%s,\"transaction\":{\"hash\":"
             "\"244ZQ9cgj3CQ6bWBdytfrJMuMQ1jdXLFGnr4HhvtCTnM\",\"receiver_id\":\"kms.near\"},"
             "\"receipts_outcome\":[{\"id\":\"r\",\"outcome\":{\"logs\":[],\"gas_burnt\":5,"
             "\"tokens_burnt\":\"0\",\"executor_id\":\"app.kms.near\",\"status\":%s}}]}",
             status, receipt_status);
    json_t *j = json_loads(buf, 0, NULL);
    if (!j) {
        dg_test_fail(__FILE__, __LINE__, "bad JSON %s", status);
        return;
    }
    dg_near_outcome o;
    dg_err e = {0};
    CHECK(dg_near_outcome_parse(j, &o, &e));
    CHECK(!o.success);
    CHECK_INT(o.nfailed, 1);
    CHECK_INT(o.failure.code, code);
    if (!strstr(o.failure.msg, want))
        dg_test_fail(__FILE__, __LINE__, "\"%s\" lacks \"%s\"", o.failure.msg, want);
    dg_near_outcome_free(&o);
    json_decref(j);
}

TEST(near_outcome_parse_failures) {
    const char *panic =
        "{\"Failure\":{\"ActionError\":{\"index\":0,\"kind\":{\"FunctionCallError\":"
        "{\"ExecutionError\":\"Smart contract panicked: Compose hash cannot be "
        "empty\"}}}}}";
    outcome_failure(panic, panic, DG_ERR_REVERT,
                    "action 0 on app.kms.near: contract panicked: Compose hash cannot be empty");
    const char *old = "{\"Failure\":{\"ActionError\":{\"index\":0,\"kind\":{\"FunctionCallError\":"
                      "{\"HostError\":{\"GuestPanic\":{\"panic_msg\":\"Insufficient permissions "
                      "for method add_device\"}}}}}}}";
    outcome_failure(old, old, DG_ERR_NOT_OWNER, "contract panicked: Insufficient permissions");
    const char *lack =
        "{\"Failure\":{\"ActionError\":{\"index\":1,\"kind\":{\"LackBalanceForState\":"
        "{\"account_id\":\"app.kms.near\",\"amount\":\"1500000000000000000000\"}}}}}";
    outcome_failure(lack, lack, DG_ERR_FUNDS, "needs 0.0015 NEAR more");
    const char *exists = "{\"Failure\":{\"ActionError\":{\"index\":0,\"kind\":{"
                         "\"AccountAlreadyExists\":{\"account_id\":\"app.kms.near\"}}}}}";
    outcome_failure(exists, exists, DG_ERR_REVERT, "account app.kms.near already exists");
    /* a status that is neither success nor failure is not an outcome */
    json_t *j = json_loads("{\"status\":{\"Unknown\":1},\"transaction\":{\"hash\":"
                           "\"244ZQ9cgj3CQ6bWBdytfrJMuMQ1jdXLFGnr4HhvtCTnM\"}}",
                           0, NULL);
    dg_near_outcome o;
    dg_err e = {0};
    CHECK(!dg_near_outcome_parse(j, &o, &e));
    CHECK_INT(e.code, DG_ERR_RPC_RESPONSE);
    dg_near_outcome_free(&o);
    json_decref(j);
}

/* A node's account ids reach messages with control characters as '?' (found
 * by fuzz_near_rpc: "a.ne\r" was copied raw into a failure message). */
static void failure_text(const char *status, const char *executor, char *msg, size_t cap,
                         char *final_status, size_t fcap) {
    char buf[1024];
    snprintf(buf, sizeof buf,
             "{\"status\":%s,\"final_execution_status\":\"FINAL\\u0007\",\"transaction\":{"
             "\"hash\":\"244ZQ9cgj3CQ6bWBdytfrJMuMQ1jdXLFGnr4HhvtCTnM\"},\"receipts_outcome\":[{"
             "\"id\":\"r\",\"outcome\":{\"logs\":[],\"gas_burnt\":5,\"tokens_burnt\":\"0\","
             "\"executor_id\":\"%s\",\"status\":%s}}]}",
             status, executor, status);
    json_t *j = json_loads(buf, 0, NULL);
    dg_near_outcome o;
    dg_err e = {0};
    msg[0] = final_status[0] = 0;
    if (!j || !dg_near_outcome_parse(j, &o, &e) || o.success) {
        dg_test_fail(__FILE__, __LINE__, "not a failed outcome: %s", j ? e.msg : buf);
    } else {
        snprintf(msg, cap, "%s", o.failure.msg);
        snprintf(final_status, fcap, "%s", o.final_status);
    }
    dg_near_outcome_free(&o);
    json_decref(j);
}

TEST(near_errors_clean_the_node_text) {
    static const struct {
        const char *status, *want;
    } cases[] = {
        {"{\"Failure\":{\"ActionError\":{\"index\":0,\"kind\":{\"LackBalanceForState\":{"
         "\"account_id\":\"a.ne\\r\\u001b[31m\",\"amount\":\"1\"}}}}}",
         "a.ne??[31m lacks balance"},
        {"{\"Failure\":{\"ActionError\":{\"index\":0,\"kind\":{\"AccountDoesNotExist\":{"
         "\"account_id\":\"a.ne\\r\"}}}}}",
         "account a.ne? does not exist"},
        {"{\"Failure\":{\"ActionError\":{\"index\":0,\"kind\":{\"AccountAlreadyExists\":{"
         "\"account_id\":\"a.ne\\r\"}}}}}",
         "account a.ne? already exists"},
        {"{\"Failure\":{\"InvalidTxError\":{\"NotEnoughBalance\":{\"signer_id\":\"a\\nb.near\","
         "\"balance\":\"1\",\"cost\":\"2\"}}}}",
         "a?b.near has"},
        {"{\"Failure\":{\"InvalidTxError\":{\"LackBalanceForState\":{\"signer_id\":"
         "\"a\\nb.near\",\"amount\":\"1\"}}}}",
         "a?b.near would lack"},
        {"{\"Failure\":{\"ActionError\":{\"index\":0,\"kind\":{\"Foo\":{}}}}}", "on k?ms.near"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char msg[512], fs[32];
        failure_text(cases[i].status, "k\\tms.near", msg, sizeof msg, fs, sizeof fs);
        if (!strstr(msg, cases[i].want))
            dg_test_fail(__FILE__, __LINE__, "\"%s\" lacks \"%s\"", msg, cases[i].want);
        for (size_t c = 0; msg[c]; c++)
            if ((unsigned char)msg[c] < 0x20)
                dg_test_fail(__FILE__, __LINE__, "control character 0x%02x in \"%s\"",
                             (unsigned char)msg[c], msg);
        CHECK_STR(fs, "FINAL?");
    }
}

TEST(near_invalid_tx_errors) {
    dg_err e = {0};
    decode("{\"name\":\"HANDLER_ERROR\",\"cause\":{\"name\":\"INVALID_TRANSACTION\",\"info\":{"
           "\"TxExecutionError\":{\"InvalidTxError\":{\"NotEnoughBalance\":{\"signer_id\":"
           "\"ops.near\",\"balance\":\"1000000000000000000000000\",\"cost\":"
           "\"2500000000000000000000000\"}}}}},\"code\":-32000,\"message\":\"Server error\"}",
           &e);
    CHECK_INT(e.code, DG_ERR_FUNDS);
    CHECK_STR(e.msg, "view kms.near.m: not enough balance: ops.near has 1 NEAR, the transaction "
                     "costs up to 2.5 NEAR");
    decode("{\"name\":\"HANDLER_ERROR\",\"cause\":{\"name\":\"INVALID_TRANSACTION\",\"info\":{"
           "\"TxExecutionError\":{\"InvalidTxError\":\"Expired\"}}},\"code\":-32000,"
           "\"message\":\"Server error\"}",
           &e);
    CHECK(strstr(e.msg, "expired") != NULL);
    /* the older shape: no cause, data holds the structured error */
    decode("{\"code\":-32000,\"message\":\"Server error\",\"data\":{\"TxExecutionError\":{"
           "\"InvalidTxError\":{\"InvalidAccessKeyError\":{\"AccessKeyNotFound\":{\"account_id\":"
           "\"a.near\",\"public_key\":\"ed25519:x\"}}}}}}",
           &e);
    CHECK_INT(e.code, DG_ERR_RPC_RESPONSE);
}

TEST(near_tx_encode_sign_decode) {
    uint8_t seed[32];
    memset(seed, 1, 32);
    dg_near_key k;
    dg_near_key_from_seed(seed, &k);
    const char *names[] = {"add_compose_hash", "remove_compose_hash"};
    dg_near_action a[6];
    memset(a, 0, sizeof a);
    a[0].kind = DG_NEAR_CREATE_ACCOUNT;
    a[1].kind = DG_NEAR_TRANSFER;
    dg_near_parse_amount("1.25", &a[1].deposit, NULL);
    a[2].kind = DG_NEAR_ADD_KEY;
    memcpy(a[2].public_key, k.pk, 32);
    a[3].kind = DG_NEAR_ADD_KEY;
    a[3].fc_key = 1;
    a[3].fc_has_allowance = 1;
    a[3].fc_allowance = dg_u256_from_u64(77);
    a[3].fc_receiver = "app.kms.near";
    a[3].fc_methods = names;
    a[3].fc_nmethods = 2;
    a[4].kind = DG_NEAR_DEPLOY_CONTRACT;
    a[4].code = (const uint8_t *)"\0asm\1\0\0\0";
    a[4].code_len = 8;
    a[5].kind = DG_NEAR_FUNCTION_CALL;
    a[5].method = "new";
    a[5].args = (const uint8_t *)"{}";
    a[5].args_len = 2;
    a[5].gas = 30 * DG_NEAR_TGAS;
    a[5].deposit = dg_u256_from_u64(1);
    dg_near_tx tx = {"ops.near", {0}, 42, "kms.ops.near", {0}, a, 6};
    memcpy(tx.public_key, k.pk, 32);
    memset(tx.block_hash, 0xbb, 32);
    dg_buf raw;
    dg_buf_init(&raw);
    uint8_t h[32];
    dg_err e = {0};
    CHECK(dg_near_tx_sign(&tx, &k, &raw, h, &e));
    /* the header's layout: signer string, key tag + 32, nonce, receiver, block, count */
    CHECK_INT(raw.data[0], 8);
    CHECK(memcmp(raw.data + 4, "ops.near", 8) == 0);
    CHECK_INT(raw.data[12], 0);
    CHECK_INT(raw.data[45], 42);
    dg_near_signed_tx d;
    CHECK(dg_near_signed_tx_decode(raw.data, raw.len, &d, &e));
    CHECK_STR(d.signer_id, "ops.near");
    CHECK_STR(d.receiver_id, "kms.ops.near");
    CHECK(d.nonce == 42);
    CHECK_MEM(d.hash, h, 32);
    CHECK_INT(d.nactions, 6);
    CHECK(d.actions[3].fc_key && d.actions[3].fc_nmethods == 2);
    CHECK_STR(d.actions[3].fc_methods[1], "remove_compose_hash");
    CHECK_STR(d.actions[5].method, "new");
    CHECK(d.actions[5].gas == 30 * DG_NEAR_TGAS);
    /* re-encoding the decoded transaction gives the same bytes */
    dg_near_tx again = {d.signer_id, {0}, d.nonce, d.receiver_id, {0}, d.actions, d.nactions};
    memcpy(again.public_key, d.public_key, 32);
    memcpy(again.block_hash, d.block_hash, 32);
    dg_buf raw2;
    dg_buf_init(&raw2);
    CHECK(dg_near_tx_sign(&again, &k, &raw2, NULL, &e));
    CHECK_INT(raw2.len, raw.len);
    CHECK(raw2.len == raw.len && memcmp(raw2.data, raw.data, raw.len) == 0);
    dg_near_signed_tx_free(&d);
    /* one flipped byte: the signature no longer verifies */
    raw.data[45] ^= 1;
    CHECK(!dg_near_signed_tx_decode(raw.data, raw.len, &d, &e));
    CHECK(strstr(e.msg, "signature") != NULL);
    dg_near_signed_tx_free(&d);
    /* invalid ids and a foreign key are refused before signing */
    tx.receiver_id = "Kms.near";
    CHECK(!dg_near_tx_sign(&tx, &k, &raw2, NULL, &e));
    CHECK(strncmp(e.msg, "receiver: ", 10) == 0);
    dg_buf_free(&raw);
    dg_buf_free(&raw2);
}
