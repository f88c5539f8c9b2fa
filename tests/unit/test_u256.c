/* test_u256.c — 256-bit arithmetic, decimal/hex text and ether amounts. */
#include "../test.h"
#include "dstackgov/u256.h"

static dg_u256 P(const char *s) {
    dg_u256 v = {{0, 0, 0, 0}};
    dg_err e = {0};
    if (!dg_u256_parse(s, &v, &e)) dg_test_fail(__FILE__, __LINE__, "parse %s: %s", s, e.msg);
    return v;
}

static const char *D(dg_u256 v) {
    static char buf[4][DG_U256_DEC_LEN];
    static int k;
    k = (k + 1) % 4;
    dg_u256_to_dec(v, buf[k]);
    return buf[k];
}

#define MAX_DEC "115792089237316195423570985008687907853269984665640564039457584007913129639935"

TEST(u256_parse_and_print) {
    CHECK_STR(D(P("0")), "0");
    CHECK_STR(D(P("000123")), "123");
    CHECK_STR(D(P("18446744073709551616")), "18446744073709551616"); /* 2^64 */
    CHECK_STR(D(P(MAX_DEC)), MAX_DEC);
    CHECK_STR(D(P("0x"
                  "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff")),
              MAX_DEC);
    CHECK_STR(D(P("0x1a")), "26");
    CHECK_STR(D(P("0X00000000000000000000000000000000000000000000000000000000000000001")), "1");
    dg_u256 v;
    dg_err e = {0};
    /* 2^256 does not fit */
    CHECK(!dg_u256_parse(
        "115792089237316195423570985008687907853269984665640564039457584007913129639936", &v, &e));
    CHECK_STR(e.msg, "number does not fit in 256 bits");
    CHECK(!dg_u256_parse("0x1"
                         "0000000000000000000000000000000000000000000000000000000000000000",
                         &v, &e));
    CHECK(!dg_u256_parse("", &v, &e));
    CHECK(!dg_u256_parse("0x", &v, &e));
    CHECK(!dg_u256_parse("-1", &v, &e));
    CHECK_STR(e.msg, "invalid character '-' in decimal number");
    CHECK(!dg_u256_parse("12 ", &v, &e));
    CHECK(!dg_u256_parse("0x1g", &v, &e));
    CHECK(!dg_u256_parse("1e18", &v, &e));

    char h[DG_U256_HEX_LEN];
    dg_u256_to_hex(dg_u256_from_u64(0), h);
    CHECK_STR(h, "0x0");
    dg_u256_to_hex(dg_u256_from_u64(26), h);
    CHECK_STR(h, "0x1a");
    dg_u256_to_hex(P(MAX_DEC), h);
    CHECK_STR(h, "0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff");
    dg_u256_to_hex(P("18446744073709551616"), h);
    CHECK_STR(h, "0x10000000000000000");
}

TEST(u256_arithmetic) {
    dg_u256 r, max = P(MAX_DEC), one = dg_u256_from_u64(1);
    CHECK(!dg_u256_add(&r, max, one));
    CHECK(dg_u256_add(&r, P("18446744073709551615"), one));
    CHECK_STR(D(r), "18446744073709551616");
    CHECK(dg_u256_sub(&r, P("18446744073709551616"), one));
    CHECK_STR(D(r), "18446744073709551615");
    CHECK(!dg_u256_sub(&r, one, dg_u256_from_u64(2)));
    CHECK(dg_u256_sub(&r, max, max));
    CHECK(dg_u256_is_zero(r));
    /* gas * price: 21000 * 30 gwei */
    CHECK(dg_u256_mul_u64(&r, P("30000000000"), 21000));
    CHECK_STR(D(r), "630000000000000");
    CHECK(!dg_u256_mul_u64(&r, max, 2));
    /* (2^128 - 1)^2 = 2^256 - 2^129 + 1 fits; 2^128 * 2^128 does not */
    dg_u256 a = P("340282366920938463463374607431768211455");
    CHECK(dg_u256_mul(&r, a, a));
    CHECK_STR(D(r),
              "115792089237316195423570985008687907852589419931798687112530834793049593217025");
    CHECK(!dg_u256_mul(&r, P("340282366920938463463374607431768211456"),
                       P("340282366920938463463374607431768211456")));
    uint64_t rem = dg_u256_div_u64(&r, max, 1000000007);
    dg_u256 back;
    CHECK(dg_u256_mul_u64(&back, r, 1000000007));
    CHECK(dg_u256_add(&back, back, dg_u256_from_u64(rem)));
    CHECK_INT(dg_u256_cmp(back, max), 0);
    CHECK_INT(dg_u256_cmp(one, max), -1);
    CHECK_INT(dg_u256_cmp(max, one), 1);
    uint64_t x;
    CHECK(dg_u256_to_u64(P("18446744073709551615"), &x));
    CHECK(x == UINT64_MAX);
    CHECK(!dg_u256_to_u64(P("18446744073709551616"), &x));
}

TEST(u256_big_endian) {
    uint8_t be[32], back[32];
    dg_u256 v = P("0x0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20");
    dg_u256_to_be(v, be);
    for (int i = 0; i < 32; i++)
        CHECK_INT(be[i], i + 1);
    dg_u256_to_be(dg_u256_from_be(be), back);
    CHECK_MEM(be, back, 32);
    uint8_t m[32];
    CHECK_INT(dg_u256_to_min_be(dg_u256_from_u64(0), m), 0);
    CHECK_INT(dg_u256_to_min_be(dg_u256_from_u64(0x400), m), 2);
    CHECK_MEM(m, "\x04\x00", 2);
    dg_u256 r;
    CHECK(dg_u256_from_bytes((const uint8_t *)"\x00\x00\x04\x00", 4, &r));
    CHECK_STR(D(r), "1024");
    uint8_t big[33] = {0};
    big[32] = 5;
    CHECK(dg_u256_from_bytes(big, 33, &r));
    CHECK_STR(D(r), "5");
    big[0] = 1;
    CHECK(!dg_u256_from_bytes(big, 33, &r));
}

TEST(u256_amounts) {
    static const struct {
        const char *in, *wei;
    } ok[] = {
        {"1.5ether", "1500000000000000000"},
        {"1ether", "1000000000000000000"},
        {"0.000000000000000001 ether", "1"},
        {"10gwei", "10000000000"},
        {"1.5 gwei", "1500000000"},
        {"123wei", "123"},
        {"123", "123"},
        {"0x10", "16"},
        {".5eth", "500000000000000000"},
        {"2.", "2"},
        {"1.000000000000000000000ether", "1000000000000000000"},
        {"0", "0"},
        {"2 ETH", "2000000000000000000"},
        {"3Gwei", "3000000000"},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        dg_u256 v;
        dg_err e = {0};
        if (!dg_u256_parse_amount(ok[i].in, &v, &e)) {
            dg_test_fail(__FILE__, __LINE__, "%s: %s", ok[i].in, e.msg);
            continue;
        }
        CHECK_STR(D(v), ok[i].wei);
    }
    static const char *const bad[] = {
        "1.5",
        "1.5wei",
        "0.0000000001gwei",
        "1 btc",
        "",
        "ether",
        "-1ether",
        "1,5ether",
        "1.5.2ether",
        "1e18",
        "115792089237316195423570985008687907853269984665640564039458ether"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        dg_u256 v;
        dg_err e = {0};
        if (dg_u256_parse_amount(bad[i], &v, &e))
            dg_test_fail(__FILE__, __LINE__, "accepted bad amount \"%s\"", bad[i]);
        else
            CHECK_INT(e.code, DG_ERR_INPUT);
    }
    dg_u256 v;
    dg_err e = {0};
    CHECK(!dg_u256_parse_amount("1.5", &v, &e));
    CHECK_STR(e.msg, "amount \"1.5\" has a fraction but no unit (add wei, gwei or ether)");
    CHECK(!dg_u256_parse_amount("1 btc", &v, &e));
    CHECK_STR(e.msg, "unknown unit \"btc\" in amount (use wei, gwei or ether)");
}

TEST(u256_format_units) {
    char out[DG_U256_UNITS_LEN];
    dg_u256_format_units(P("1500000000000000000"), 18, out);
    CHECK_STR(out, "1.5");
    dg_u256_format_units(P("0"), 18, out);
    CHECK_STR(out, "0");
    dg_u256_format_units(P("5"), 18, out);
    CHECK_STR(out, "0.000000000000000005");
    dg_u256_format_units(P("1000000000000000000"), 18, out);
    CHECK_STR(out, "1");
    dg_u256_format_units(P("10000000000000000000000"), 18, out);
    CHECK_STR(out, "10000");
    dg_u256_format_units(P("100"), 0, out);
    CHECK_STR(out, "100");
    dg_u256_format_units(P("1234567890"), 9, out);
    CHECK_STR(out, "1.23456789");
    dg_u256_format_units(P(MAX_DEC), 18, out);
    CHECK_STR(out,
              "115792089237316195423570985008687907853269984665640564039457.584007913129639935");
    dg_u256_format_units(P(MAX_DEC), 77, out);
    CHECK_STR(out,
              "1.15792089237316195423570985008687907853269984665640564039457584007913129639935");
    dg_u256_format_units(P("1"), 77, out);
    CHECK_INT(strlen(out), 79);
}
