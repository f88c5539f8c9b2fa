/* test_near_json.c — the NEAR contracts' JSON reader/writer and text helpers,
 * built natively. The contract sources are included directly so the exact
 * code that goes into the wasm is what runs here (their symbols carry the
 * nj_/nt_ prefixes, unique in the unit runner). */
#include "../../contracts/near/json.c"
#include "../../contracts/near/text.c"

#include "../test.h"

#include <stdio.h>
#include <stdlib.h>

/* Parse text (copied, so in-place decoding is safe); returns token count or 0
 * with the error detail in err_out. */
static uint32_t nj_t_parse(const char *text, char *copy, nj_tok *toks, uint32_t cap,
                           char *err_out) {
    uint32_t n = (uint32_t)strlen(text);
    memcpy(copy, text, n);
    char e[200];
    nj_buf err = {e, 0, sizeof e - 1, 0};
    uint32_t r = nj_parse(copy, n, toks, cap, &err);
    e[err.len] = 0;
    if (err_out) strcpy(err_out, e);
    return r;
}

static int nj_t_ok(const char *text) {
    char copy[512];
    nj_tok toks[256];
    return nj_t_parse(text, copy, toks, 256, NULL) != 0;
}

TEST(near_json_accepts_valid_documents) {
    static const char *ok[] = {
        "{}",
        "[]",
        " {\"a\" : 1 } ",
        "0",
        "-0",
        "1.5e-3",
        "-12E+2",
        "\"\"",
        "true",
        "false",
        "null",
        "[1,[2,[3]],{\"x\":null}]",
        "\"\\u00e9\\n\\t\\\\\\/\\\"\"",
        "\"\\ud83d\\ude00\"",
        "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"",
        "\t\r\n[ ]\n",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        if (!nj_t_ok(ok[i])) dg_test_fail(__FILE__, __LINE__, "rejected valid: %s", ok[i]);
    }
}

TEST(near_json_rejects_invalid_documents) {
    static const char *bad[] = {
        "",
        " ",
        "{",
        "}",
        "[1,]",
        "{\"a\":1,}",
        "{\"a\" 1}",
        "{a:1}",
        "[01]",
        "[1.]",
        "[.5]",
        "[1e]",
        "[+1]",
        "[-]",
        "tru",
        "nul",
        "truex",
        "[1] [2]",
        "{\"a\":1}x",
        "'a'",
        "\"abc",
        "\"\\x\"",
        "\"\\u12\"",
        "\"\\u12g4\"",
        "\"\\ud800\"",
        "\"\\udc00\"",
        "\"\\ud800\\u0041\"",
        "\"a\x01\"",
        "\"\xc0\xaf\"",
        "\"\xed\xa0\x80\"",
        "\"\xf5\x80\x80\x80\"",
        "\"\xe2\x82\"",
        "\"\x80\"",
        "[1,,2]",
        "{,}",
        "// c\n{}",
        "[NaN]",
        "[Infinity]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (nj_t_ok(bad[i]))
            dg_test_fail(__FILE__, __LINE__, "accepted invalid #%zu: %s", i, bad[i]);
    }
}

TEST(near_json_error_details) {
    char copy[512], err[200];
    nj_tok toks[64];
    CHECK_INT(nj_t_parse("[1,]", copy, toks, 64, err), 0);
    CHECK_STR(err, "syntax error at byte 3");
    CHECK_INT(nj_t_parse("{\"a\":1} x", copy, toks, 64, err), 0);
    CHECK_STR(err, "syntax error at byte 8");
    CHECK_INT(nj_t_parse("[1,2,3]", copy, toks, 3, err), 0);
    CHECK_STR(err, "too many values");

    /* depth: 32 nested arrays pass, 33 fail */
    char deep[80];
    memset(deep, '[', 32);
    memset(deep + 32, ']', 32);
    deep[64] = 0;
    CHECK(nj_t_parse(deep, copy, toks, 64, err) != 0);
    memset(deep, '[', 33);
    memset(deep + 33, ']', 33);
    deep[66] = 0;
    CHECK_INT(nj_t_parse(deep, copy, toks, 64, err), 0);
    CHECK_STR(err, "nesting too deep");

    char e[64];
    nj_buf eb = {e, 0, sizeof e - 1, 0};
    CHECK_INT(nj_parse("0", NJ_MAX_INPUT + 1, toks, 64, &eb), 0);
    e[eb.len] = 0;
    CHECK_STR(e, "input too large");
}

TEST(near_json_token_structure) {
    char copy[512];
    nj_tok t[32];
    uint32_t n = nj_t_parse("{\"a\":[1,{\"b\":2}],\"c\":\"x\"}", copy, t, 32, NULL);
    CHECK_INT(n, 9);
    CHECK_INT(t[0].type, NJ_OBJ);
    CHECK_INT(t[0].len, 2);
    CHECK_INT(t[0].end, 9);
    CHECK_INT(t[1].type, NJ_STR); /* key a */
    CHECK_INT(t[2].type, NJ_ARR);
    CHECK_INT(t[2].len, 2);
    CHECK_INT(t[2].end, 7);       /* skips [1,{"b":2}] */
    CHECK_INT(t[7].type, NJ_STR); /* key c */
    CHECK_INT(t[8].type, NJ_STR);
    CHECK_INT(t[8].len, 1);
    CHECK_INT(copy[t[8].start], 'x');
    /* a document of n bytes never needs more than nj_tok_cap(n) tokens */
    CHECK(nj_tok_cap(7) >= 4); /* [0,0,0] */
    char arr[1001];
    for (int i = 0; i < 1001; i++)
        arr[i] = (i % 2) ? ',' : '0';
    arr[0] = '[';
    arr[1000] = ']';
    char *big = malloc(1001);
    nj_tok *bt = malloc(nj_tok_cap(1001) * sizeof *bt);
    memcpy(big, arr, 1001);
    char e[64];
    nj_buf eb = {e, 0, sizeof e, 0};
    /* "[,0,0,...]" is invalid; fix to "[0,0,...,0]" */
    big[1] = '0';
    for (int i = 2; i < 1000; i++)
        big[i] = (i % 2) ? '0' : ',';
    CHECK(nj_parse(big, 1001, bt, nj_tok_cap(1001), &eb) != 0);
    free(big);
    free(bt);
}

TEST(near_json_unescape) {
    char copy[512];
    nj_tok t[8];
    CHECK(nj_t_parse("\"a\\u00e9\\ud83d\\ude00\\n\\\"\\/b\"", copy, t, 8, NULL) == 1);
    uint32_t n = nj_unescape(copy, &t[0]);
    CHECK_INT(n, 1 + 2 + 4 + 1 + 1 + 1 + 1);
    CHECK_MEM(copy + t[0].start, "a\xc3\xa9\xf0\x9f\x98\x80\n\"/b", n);
}

TEST(near_json_uint) {
    char copy[64];
    nj_tok t[4];
    uint64_t v = 0;
    nj_t_parse("18446744073709551615", copy, t, 4, NULL);
    CHECK(nj_uint(copy, &t[0], UINT64_MAX, &v));
    CHECK(v == UINT64_MAX);
    nj_t_parse("18446744073709551616", copy, t, 4, NULL);
    CHECK(!nj_uint(copy, &t[0], UINT64_MAX, &v));
    nj_t_parse("4294967296", copy, t, 4, NULL);
    CHECK(!nj_uint(copy, &t[0], UINT32_MAX, &v));
    nj_t_parse("-1", copy, t, 4, NULL);
    CHECK(!nj_uint(copy, &t[0], UINT64_MAX, &v));
    nj_t_parse("1.0", copy, t, 4, NULL);
    CHECK(!nj_uint(copy, &t[0], UINT64_MAX, &v));
    nj_t_parse("1e3", copy, t, 4, NULL);
    CHECK(!nj_uint(copy, &t[0], UINT64_MAX, &v));
    nj_t_parse("\"5\"", copy, t, 4, NULL);
    CHECK(!nj_uint(copy, &t[0], UINT64_MAX, &v));
}

TEST(near_json_bytes) {
    char copy[64];
    nj_tok t[8];
    uint8_t out[8];
    nj_t_parse("[0,1,255]", copy, t, 8, NULL);
    CHECK(nj_bytes(copy, t, 0, out));
    CHECK_MEM(out, "\x00\x01\xff", 3);
    nj_t_parse("[0,256]", copy, t, 8, NULL);
    CHECK(!nj_bytes(copy, t, 0, out));
    nj_t_parse("[1,\"2\"]", copy, t, 8, NULL);
    CHECK(!nj_bytes(copy, t, 0, out));
    nj_t_parse("[[1]]", copy, t, 8, NULL);
    CHECK(!nj_bytes(copy, t, 0, out));
}

/* Run a field table over text; returns the mask or -1 with err filled. */
static int64_t nj_t_fields(const char *text, char *copy, const nj_field *f, uint32_t nf,
                           char *err) {
    nj_tok toks[64];
    char e[200];
    nj_buf eb = {e, 0, sizeof e - 1, 0};
    err[0] = 0;
    if (!nj_t_parse(text, copy, toks, 64, err)) return -2;
    int64_t r = nj_fields(copy, toks, 0, f, nf, &eb);
    e[eb.len] = 0;
    strcpy(err, e);
    return r;
}

TEST(near_json_fields) {
    char copy[512], err[200];
    nj_str id, opt = {0, 0};
    int flag = 0;
    uint64_t n64 = 0;
    uint32_t n32 = 7, obj = 0;
    nj_field f[] = {
        {"id", NJF_STR, 1, &id},   {"opt", NJF_STR_NULL, 0, &opt}, {"flag", NJF_BOOL, 1, &flag},
        {"n64", NJF_U64, 0, &n64}, {"n32", NJF_U32, 0, &n32},      {"obj", NJF_OBJ, 0, &obj},
    };
    int64_t m = nj_t_fields("{\"flag\":true,\"id\":\"a\\u0062c\",\"n64\":42,\"obj\":{\"z\":1}}",
                            copy, f, 6, err);
    CHECK_INT(m, (1 << 0) | (1 << 2) | (1 << 3) | (1 << 5));
    CHECK_INT(id.len, 3);
    CHECK_MEM(id.s, "abc", 3);
    CHECK_INT(flag, 1);
    CHECK(n64 == 42);
    CHECK_INT(n32, 7); /* absent optional keeps its default */
    CHECK_INT(obj, 8); /* token index of the nested object */

    m = nj_t_fields("{\"id\":\"x\",\"flag\":false,\"opt\":null}", copy, f, 6, err);
    CHECK(m >= 0);
    CHECK(opt.s == NULL);
    m = nj_t_fields("{\"id\":\"x\",\"flag\":false,\"opt\":\"y\"}", copy, f, 6, err);
    CHECK(opt.s != NULL && opt.len == 1);

    CHECK_INT(nj_t_fields("{\"flag\":true}", copy, f, 6, err), -1);
    CHECK_STR(err, "missing field `id`");
    CHECK_INT(nj_t_fields("{\"id\":\"x\",\"flag\":true,\"other\":1}", copy, f, 6, err), -1);
    CHECK_STR(err, "unknown field `other`");
    CHECK_INT(nj_t_fields("{\"id\":\"x\",\"flag\":true,\"i\\u0064\":\"y\"}", copy, f, 6, err), -1);
    CHECK_STR(err, "duplicate field `id`");
    CHECK_INT(nj_t_fields("{\"id\":1,\"flag\":true}", copy, f, 6, err), -1);
    CHECK_STR(err, "invalid type for field `id`");
    CHECK_INT(nj_t_fields("{\"id\":null,\"flag\":true}", copy, f, 6, err), -1);
    CHECK_STR(err, "invalid type for field `id`");
    CHECK_INT(nj_t_fields("{\"id\":\"x\",\"flag\":1}", copy, f, 6, err), -1);
    CHECK_STR(err, "invalid type for field `flag`");
    CHECK_INT(nj_t_fields("{\"id\":\"x\",\"flag\":true,\"n32\":4294967296}", copy, f, 6, err), -1);
    CHECK_STR(err, "invalid type for field `n32`");
    CHECK_INT(nj_t_fields("[1]", copy, f, 6, err), -1);
    CHECK_STR(err, "expected an object");

    /* an unknown key longer than 64 bytes is cut, on a UTF-8 boundary */
    char text[256];
    snprintf(text, sizeof text, "{\"%s\xc3\xa9zz\":1}",
             "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    CHECK_INT(nj_t_fields(text, copy, f, 6, err), -1);
    CHECK_STR(err,
              "unknown field `aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa`");
}

TEST(near_json_writer) {
    char out[128];
    nj_buf b = {out, 0, sizeof out, 0};
    nj_put_str(&b, "a\"b\\c\n\x01\xc3\xa9", 9);
    nj_putc(&b, ' ');
    nj_put_u64(&b, 0);
    nj_putc(&b, ' ');
    nj_put_u64(&b, UINT64_MAX);
    nj_putc(&b, ' ');
    nj_put_bytes(&b, (const uint8_t *)"\x00\x7f\xff", 3);
    CHECK(!b.overflow);
    out[b.len] = 0;
    CHECK_STR(out, "\"a\\\"b\\\\c\\u000a\\u0001\xc3\xa9\" 0 18446744073709551615 [0,127,255]");

    char small[4];
    nj_buf s = {small, 0, sizeof small, 0};
    nj_puts(&s, "abc");
    CHECK(!s.overflow);
    nj_puts(&s, "de");
    CHECK(s.overflow);
    CHECK_INT(s.len, 3);
}

TEST(near_text_hex_norm) {
    char out[64];
    const char *h64 = "ABCDEF0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789";
    CHECK(nt_hex_norm(h64, 64, 64, out));
    CHECK_MEM(out, "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789", 64);
    char pre[67] = "0X";
    memcpy(pre + 2, h64, 64);
    CHECK(nt_hex_norm(pre, 66, 64, out));
    CHECK(!nt_hex_norm(h64, 63, 64, out));  /* short */
    CHECK(!nt_hex_norm(pre, 65, 64, out));  /* short with prefix */
    CHECK(!nt_hex_norm("0x12", 4, 1, out)); /* odd length requested exactly still counts digits */
    CHECK(nt_hex_norm("0x1", 3, 1, out));
    char bad[64];
    memcpy(bad, h64, 64);
    bad[10] = 'g';
    CHECK(!nt_hex_norm(bad, 64, 64, out));
    CHECK_INT(nt_hex_body_len("0x", 2), 0);
    CHECK_INT(nt_hex_body_len("", 0), 0);
    CHECK_INT(nt_hex_body_len("0xab", 4), 2);
    char enc[6];
    nt_hex_encode((const uint8_t *)"\x00\xab\xff", 3, enc);
    CHECK_MEM(enc, "00abff", 6);
}

TEST(near_text_account_ids) {
    static const char *ok[] = {"aa",
                               "kms.testnet",
                               "a-b_c.d",
                               "0x1234",
                               "v1.signer-prod.testnet",
                               "1234567890123456789012345678901234567890.kms.testnet"};
    static const char *bad[] = {"a",  "",   "A.near", "a..b", ".a",  "a.",
                                "a-", "-a", "a_-b",   "a b",  "a@b", "kms.testnet."};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (!nt_account_valid(ok[i], (uint32_t)strlen(ok[i])))
            dg_test_fail(__FILE__, __LINE__, "rejected %s", ok[i]);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (nt_account_valid(bad[i], (uint32_t)strlen(bad[i])))
            dg_test_fail(__FILE__, __LINE__, "accepted %s", bad[i]);
    char l64[65], l65[66];
    memset(l64, 'a', 64);
    memset(l65, 'a', 65);
    CHECK(nt_account_valid(l64, 64));
    CHECK(!nt_account_valid(l65, 65));
}

TEST(near_text_u128) {
    char d[40];
    nt_u128 v = (nt_u128)1000000000000000000ull * 1000000; /* 10^24 = 1 NEAR */
    uint32_t n = nt_u128_dec(v, d);
    CHECK_INT(n, 25);
    CHECK_MEM(d, "1000000000000000000000000", 25);
    n = nt_u128_dec(~(nt_u128)0, d);
    CHECK_INT(n, 39);
    CHECK_MEM(d, "340282366920938463463374607431768211455", 39);
    CHECK_INT(nt_u128_dec(0, d), 1);
    CHECK_INT(d[0], '0');
    nt_u128 p = 0;
    CHECK(nt_u128_parse("340282366920938463463374607431768211455", 39, &p));
    CHECK(p == ~(nt_u128)0);
    CHECK(!nt_u128_parse("340282366920938463463374607431768211456", 39, &p));
    CHECK(!nt_u128_parse("01", 2, &p));
    CHECK(!nt_u128_parse("", 0, &p));
    CHECK(!nt_u128_parse("1a", 2, &p));
    CHECK(nt_u128_parse("0", 1, &p) && p == 0);
}
