/* test_hex.c — strict hex decoding and EIP-55 addresses (vectors from EIP-55). */
#include <stdlib.h>

#include "../test.h"
#include "dstackgov/hex.h"

TEST(hex_decode_exact_length) {
    uint8_t out[4] = {0};
    dg_err e = {0};
    CHECK(dg_hex_decode("0xdeadBEEF", 10, out, 4, &e));
    CHECK_MEM(out, "\xde\xad\xbe\xef", 4);
    CHECK(dg_hex_decode("0X00010203", 10, out, 4, &e));
    CHECK_MEM(out, "\x00\x01\x02\x03", 4);
    CHECK(dg_hex_decode("a0b1c2d3", 8, out, 4, &e));
    CHECK_MEM(out, "\xa0\xb1\xc2\xd3", 4);
    /* short value: rejected, never padded; out untouched */
    CHECK(!dg_hex_decode("0xdeadbe", 8, out, 4, &e));
    CHECK_INT(e.code, DG_ERR_INPUT);
    CHECK_STR(e.msg, "expected 8 hex digits, got 6");
    CHECK_MEM(out, "\xa0\xb1\xc2\xd3", 4);
    CHECK(!dg_hex_decode("0xdeadbeef00", 12, out, 4, &e));
    CHECK_STR(e.msg, "expected 8 hex digits, got 10");
    CHECK(!dg_hex_decode("0xdeadbeeg", 10, out, 4, &e));
    CHECK_STR(e.msg, "invalid hex digit 'g' at position 9");
    CHECK(!dg_hex_decode("dead bee", 8, out, 4, &e));
    CHECK_STR(e.msg, "invalid hex digit ' ' at position 4");
    CHECK(!dg_hex_decode("0x", 2, out, 4, &e));
    CHECK_STR(e.msg, "expected 8 hex digits, got 0");
    /* slen bounds the read: trailing garbage beyond slen is ignored */
    CHECK(dg_hex_decode("0102030405zz", 8, out, 4, &e));
    CHECK_MEM(out, "\x01\x02\x03\x04", 4);
    /* "0x" only counts as a prefix at the start */
    CHECK(!dg_hex_decode("000x1234", 8, out, 4, &e));
    CHECK(dg_hex_decode("", 0, out, 0, &e));
    CHECK(dg_hex_decode("0x", 2, out, 0, &e));
}

TEST(hex_decode_var_appends) {
    dg_buf b;
    dg_buf_init(&b);
    dg_err e = {0};
    CHECK(dg_hex_decode_var("0x", 2, &b, &e));
    CHECK_INT(b.len, 0);
    CHECK(dg_hex_decode_var("0xCAFE", 6, &b, &e));
    CHECK(dg_hex_decode_var("00ff", 4, &b, &e));
    CHECK_INT(b.len, 4);
    CHECK_MEM(b.data, "\xca\xfe\x00\xff", 4);
    CHECK(!dg_hex_decode_var("0xabc", 5, &b, &e));
    CHECK_STR(e.msg, "odd number of hex digits (3)");
    CHECK(!dg_hex_decode_var("0xzz", 4, &b, &e));
    CHECK_STR(e.msg, "invalid hex digit 'z' at position 2");
    CHECK_INT(b.len, 4);
    dg_buf_free(&b);
}

TEST(hex_encode_lowercase) {
    const uint8_t in[5] = {0x00, 0xAB, 0x10, 0xff, 0x09};
    char out[16];
    dg_hex_encode(in, 5, out);
    CHECK_STR(out, "00ab10ff09");
    dg_hex_encode_0x(in, 5, out);
    CHECK_STR(out, "0x00ab10ff09");
    dg_hex_encode_0x(in, 0, out);
    CHECK_STR(out, "0x");
    dg_buf b;
    dg_buf_init(&b);
    CHECK(dg_hex_append(&b, in, 2, 1));
    CHECK(dg_hex_append(&b, in + 2, 3, 0));
    CHECK_STR((char *)b.data, "0x00ab10ff09");
    CHECK_INT(b.len, 12);
    dg_buf_free(&b);
}

/* Round trip of every byte value through encode/decode. */
TEST(hex_roundtrip_all_bytes) {
    uint8_t in[256], back[256];
    char txt[2 * 256 + 3];
    for (int i = 0; i < 256; i++)
        in[i] = (uint8_t)i;
    dg_hex_encode_0x(in, 256, txt);
    CHECK(dg_hex_decode(txt, strlen(txt), back, 256, NULL));
    CHECK_MEM(in, back, 256);
}

/* The examples listed in EIP-55 (every one is a valid checksum). */
static const char *const k_eip55[] = {
    "0x52908400098527886E0F7030069857D2E4169EE7", "0x8617E340B3D01FA5F11F306F4090FD50E238070D",
    "0xde709f2102306220921060314715629080e2fb77", "0x27b1fdb04752bbc536007a920d24acb045561c26",
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB", "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
};

TEST(address_eip55_vectors) {
    for (size_t i = 0; i < sizeof k_eip55 / sizeof k_eip55[0]; i++) {
        uint8_t a[20];
        char out[43];
        dg_err e = {0};
        CHECK(dg_address_parse(k_eip55[i], a, &e));
        dg_address_checksum(a, out);
        CHECK_STR(out, k_eip55[i]);
        /* the same address typed all-lowercase and all-uppercase parses too */
        char low[43], up[43];
        strcpy(low, k_eip55[i]);
        strcpy(up, k_eip55[i]);
        for (int j = 2; j < 42; j++) {
            if (low[j] >= 'A' && low[j] <= 'F') low[j] = (char)(low[j] + 32);
            if (up[j] >= 'a' && up[j] <= 'f') up[j] = (char)(up[j] - 32);
        }
        uint8_t b[20], c[20];
        CHECK(dg_address_parse(low, b, &e));
        CHECK(dg_address_parse(up, c, &e));
        CHECK_MEM(a, b, 20);
        CHECK_MEM(a, c, 20);
    }
    /* the anvil test account 0 (well-known test key, public address) */
    uint8_t a[20];
    char out[43];
    CHECK(dg_address_parse("f39fd6e51aad88f6f4ce6ab8827279cfffb92266", a, NULL));
    dg_address_checksum(a, out);
    CHECK_STR(out, "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
    CHECK(dg_address_is_checksummed(out));
    CHECK(!dg_address_is_checksummed("0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"));
    /* EIP-55 example whose checksum is all lowercase */
    CHECK(dg_address_is_checksummed("0xde709f2102306220921060314715629080e2fb77"));
    CHECK(dg_address_is_checksummed("0x0000000000000000000000000000000000000000"));
}

TEST(address_rejects_bad_checksum_and_length) {
    uint8_t a[20];
    memset(a, 0x55, 20);
    dg_err e = {0};
    /* one letter's case flipped: a typo EIP-55 is designed to catch */
    CHECK(!dg_address_parse("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", a, &e));
    CHECK_INT(e.code, DG_ERR_INPUT);
    CHECK(strstr(e.msg, "EIP-55") != NULL);
    CHECK_INT(a[0], 0x55);
    CHECK(!dg_address_parse("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeA", a, &e));
    CHECK_STR(e.msg, "address must be 40 hex digits, got 38");
    CHECK(!dg_address_parse("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed00", a, &e));
    CHECK_STR(e.msg, "address must be 40 hex digits, got 42");
    CHECK(!dg_address_parse("", a, &e));
    CHECK(!dg_address_parse("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaeX", a, &e));
    CHECK_STR(e.msg, "invalid hex digit 'X' at position 41");
    CHECK(!dg_address_parse(NULL, a, &e));
}
