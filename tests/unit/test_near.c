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
    CHECK_STR(
        e.msg,
        "view kms.near.m: invalid transaction: {\"InvalidNonce\":{\"ak_nonce\":5,\"tx_nonce\":3}}");
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
