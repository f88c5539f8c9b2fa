/* test_abi.c — ABI encoder/decoder: the Solidity documentation's examples,
 * selectors from reference/ethereum.md, argument checks, strict decoding. */
#include <stdlib.h>

#include "../test.h"
#include "dstackgov/abi.h"
#include "dstackgov/hex.h"

/* Encode a call and return its lowercase hex (caller frees), or NULL. */
static char *call_hex(const char *sig, const dg_abi_value *args, dg_err *e) {
    dg_buf b;
    dg_buf_init(&b);
    if (!dg_abi_encode_call(&b, sig, args, e)) {
        dg_buf_free(&b);
        return NULL;
    }
    char *s = malloc(2 * b.len + 1);
    dg_hex_encode(b.data, b.len, s);
    dg_buf_free(&b);
    return s;
}

#define W(x) "00000000000000000000000000000000000000000000000000000000" x
#define CHECK_CALL(sig, args, want)                                                                \
    do {                                                                                           \
        dg_err e_ = {0};                                                                           \
        char *h_ = call_hex(sig, args, &e_);                                                       \
        if (!h_) dg_test_fail(__FILE__, __LINE__, "%s", e_.msg);                                   \
        CHECK_STR(h_, want);                                                                       \
        free(h_);                                                                                  \
    } while (0)

/* The examples of the Solidity ABI specification, with their published
 * encodings (cross-checked with `cast calldata`). */
TEST(abi_solidity_doc_baz) {
    dg_abi_value a;
    dg_abi_tuple(&a, 2);
    dg_abi_uint64(&a.items[0], 69);
    dg_abi_bool(&a.items[1], 1);
    CHECK_CALL("baz(uint32,bool)", &a,
               "cdcd77c0"
               "0000000000000000000000000000000000000000000000000000000000000045"
               "0000000000000000000000000000000000000000000000000000000000000001");
    dg_abi_value_free(&a);
}

TEST(abi_solidity_doc_bar) {
    dg_abi_value a;
    dg_abi_tuple(&a, 1);
    dg_abi_fixed_array(&a.items[0], 2);
    dg_abi_fixed_bytes(&a.items[0].items[0], (const uint8_t *)"abc", 3);
    dg_abi_fixed_bytes(&a.items[0].items[1], (const uint8_t *)"def", 3);
    CHECK_CALL("bar(bytes3[2])", &a,
               "fce353f6"
               "6162630000000000000000000000000000000000000000000000000000000000"
               "6465660000000000000000000000000000000000000000000000000000000000");
    dg_abi_value_free(&a);
}

static const char k_sam[] = "a5643bf2"
                            "0000000000000000000000000000000000000000000000000000000000000060"
                            "0000000000000000000000000000000000000000000000000000000000000001"
                            "00000000000000000000000000000000000000000000000000000000000000a0"
                            "0000000000000000000000000000000000000000000000000000000000000004"
                            "6461766500000000000000000000000000000000000000000000000000000000"
                            "0000000000000000000000000000000000000000000000000000000000000003"
                            "0000000000000000000000000000000000000000000000000000000000000001"
                            "0000000000000000000000000000000000000000000000000000000000000002"
                            "0000000000000000000000000000000000000000000000000000000000000003";

TEST(abi_solidity_doc_sam) {
    dg_abi_value a;
    dg_abi_tuple(&a, 3);
    dg_abi_bytes(&a.items[0], (const uint8_t *)"dave", 4);
    dg_abi_bool(&a.items[1], 1);
    dg_abi_array(&a.items[2], 3);
    for (int i = 0; i < 3; i++)
        dg_abi_uint64(&a.items[2].items[i], (uint64_t)i + 1);
    CHECK_CALL("sam(bytes,bool,uint256[])", &a, k_sam);
    dg_abi_value_free(&a);

    /* and back: decode the arguments */
    uint8_t data[sizeof k_sam / 2];
    size_t n = dg_test_unhex(k_sam + 8, data, sizeof data);
    dg_abi_value v;
    dg_err e = {0};
    CHECK(dg_abi_decode("(bytes,bool,uint256[])", data, n, &v, &e));
    CHECK_INT(v.nitems, 3);
    CHECK_INT(v.items[0].kind, DG_ABI_BYTES);
    CHECK_INT(v.items[0].len, 4);
    CHECK_STR((char *)v.items[0].data, "dave");
    CHECK_INT(v.items[1].word[31], 1);
    CHECK_INT(v.items[2].nitems, 3);
    uint64_t x = 0;
    CHECK(dg_abi_as_u64(&v.items[2].items[2], &x));
    CHECK_INT(x, 3);
    dg_abi_value_free(&v);
}

static const char k_f[] = "8be65246"
                          "0000000000000000000000000000000000000000000000000000000000000123"
                          "0000000000000000000000000000000000000000000000000000000000000080"
                          "3132333435363738393000000000000000000000000000000000000000000000"
                          "00000000000000000000000000000000000000000000000000000000000000e0"
                          "0000000000000000000000000000000000000000000000000000000000000002"
                          "0000000000000000000000000000000000000000000000000000000000000456"
                          "0000000000000000000000000000000000000000000000000000000000000789"
                          "000000000000000000000000000000000000000000000000000000000000000d"
                          "48656c6c6f2c20776f726c642100000000000000000000000000000000000000";

TEST(abi_solidity_doc_f) {
    dg_abi_value a;
    dg_abi_tuple(&a, 4);
    dg_abi_uint64(&a.items[0], 0x123);
    dg_abi_array(&a.items[1], 2);
    dg_abi_uint64(&a.items[1].items[0], 0x456);
    dg_abi_uint64(&a.items[1].items[1], 0x789);
    dg_abi_fixed_bytes(&a.items[2], (const uint8_t *)"1234567890", 10);
    dg_abi_bytes(&a.items[3], (const uint8_t *)"Hello, world!", 13);
    CHECK_CALL("f(uint256,uint32[],bytes10,bytes)", &a, k_f);
    /* value-only encoding (no types) gives the same bytes after the selector */
    dg_buf b;
    dg_buf_init(&b);
    CHECK(dg_abi_encode(&b, &a, NULL));
    char *h = malloc(2 * b.len + 1);
    dg_hex_encode(b.data, b.len, h);
    CHECK_STR(h, k_f + 8);
    free(h);
    dg_buf_free(&b);
    dg_abi_value_free(&a);
}

static const char k_g[] = "2289b18c"
                          "0000000000000000000000000000000000000000000000000000000000000040"
                          "0000000000000000000000000000000000000000000000000000000000000140"
                          "0000000000000000000000000000000000000000000000000000000000000002"
                          "0000000000000000000000000000000000000000000000000000000000000040"
                          "00000000000000000000000000000000000000000000000000000000000000a0"
                          "0000000000000000000000000000000000000000000000000000000000000002"
                          "0000000000000000000000000000000000000000000000000000000000000001"
                          "0000000000000000000000000000000000000000000000000000000000000002"
                          "0000000000000000000000000000000000000000000000000000000000000001"
                          "0000000000000000000000000000000000000000000000000000000000000003"
                          "0000000000000000000000000000000000000000000000000000000000000003"
                          "0000000000000000000000000000000000000000000000000000000000000060"
                          "00000000000000000000000000000000000000000000000000000000000000a0"
                          "00000000000000000000000000000000000000000000000000000000000000e0"
                          "0000000000000000000000000000000000000000000000000000000000000003"
                          "6f6e650000000000000000000000000000000000000000000000000000000000"
                          "0000000000000000000000000000000000000000000000000000000000000003"
                          "74776f0000000000000000000000000000000000000000000000000000000000"
                          "0000000000000000000000000000000000000000000000000000000000000005"
                          "7468726565000000000000000000000000000000000000000000000000000000";

TEST(abi_solidity_doc_g_nested_dynamic) {
    dg_abi_value a;
    dg_abi_tuple(&a, 2);
    dg_abi_array(&a.items[0], 2);
    dg_abi_array(&a.items[0].items[0], 2);
    dg_abi_uint64(&a.items[0].items[0].items[0], 1);
    dg_abi_uint64(&a.items[0].items[0].items[1], 2);
    dg_abi_array(&a.items[0].items[1], 1);
    dg_abi_uint64(&a.items[0].items[1].items[0], 3);
    dg_abi_array(&a.items[1], 3);
    dg_abi_string(&a.items[1].items[0], "one");
    dg_abi_string(&a.items[1].items[1], "two");
    dg_abi_string(&a.items[1].items[2], "three");
    CHECK_CALL("g(uint256[][],string[])", &a, k_g);
    dg_abi_value_free(&a);

    uint8_t data[sizeof k_g / 2];
    size_t n = dg_test_unhex(k_g + 8, data, sizeof data);
    dg_abi_value v;
    dg_err e = {0};
    CHECK(dg_abi_decode("(uint256[][],string[])", data, n, &v, &e));
    CHECK_INT(v.items[0].nitems, 2);
    CHECK_INT(v.items[0].items[1].nitems, 1);
    CHECK_INT(v.items[0].items[1].items[0].word[31], 3);
    CHECK_STR((char *)v.items[1].items[2].data, "three");
    /* decode then re-encode is the identity */
    dg_buf b;
    dg_buf_init(&b);
    CHECK(dg_abi_encode(&b, &v, &e));
    CHECK_INT(b.len, n);
    CHECK_MEM(b.data, data, n);
    dg_buf_free(&b);
    dg_abi_value_free(&v);
}

/* Selectors listed in reference/ethereum.md §1. */
TEST(abi_selectors_of_the_reference) {
    static const struct {
        const char *sig, *sel;
    } v[] = {
        {"isAppAllowed((address,bytes32,address,bytes32,bytes32,bytes32,bytes32,string,string[]))",
         "1e079198"},
        {"isKmsAllowed((address,bytes32,address,bytes32,bytes32,bytes32,bytes32,string,string[]))",
         "e067ec9d"},
        {"owner()", "8da5cb5b"},
        {"transferOwnership(address)", "f2fde38b"},
        {"Error(string)", "08c379a0"},
        {"Panic(uint256)", "4e487b71"},
        {"OwnableUnauthorizedAccount(address)", "118cdaa7"},
        {"deployAndRegisterApp(address,bool,bool,bool,bytes32,bytes32)", "9cb9c31f"},
        {"setKmsInfo((bytes,bytes,bytes,bytes))", "7d025352"},
        {"upgradeToAndCall(address,bytes)", "4f1ef286"},
        {"addComposeHash(bytes32)", "dfc77223"},
        {"supportsInterface(bytes4)", "01ffc9a7"},
        /* uint/int are aliases of uint256/int256 in signatures */
        {"transfer(address,uint)", "a9059cbb"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        uint8_t s[4];
        char h[9];
        CHECK(dg_abi_selector(v[i].sig, s));
        dg_hex_encode(s, 4, h);
        CHECK_STR(h, v[i].sel);
    }
    uint8_t s[4];
    CHECK(!dg_abi_selector("owner", s));
    CHECK(!dg_abi_selector("f(uint7)", s));
    CHECK(!dg_abi_selector("f(address to)", s));
    CHECK(!dg_abi_selector("f(uint256", s));
    CHECK(!dg_abi_selector("f(bytes33)", s));
    CHECK(!dg_abi_selector("f(uint256[0])", s));
    CHECK(!dg_abi_selector("f(())", s));
    CHECK(!dg_abi_selector("f()x", s));
    dg_buf b;
    dg_buf_init(&b);
    CHECK(dg_abi_canonical_signature("f(uint,int[2][],(bytes,uint8)[])", &b, NULL));
    CHECK_STR((char *)b.data, "f(uint256,int256[2][],(bytes,uint8)[])");
    dg_buf_free(&b);
    /* event topic0: full keccak of the signature (reference: 0x8be0079c...) */
    uint8_t t[32];
    CHECK(dg_abi_signature_hash("OwnershipTransferred(address,address)", t, NULL));
    CHECK_MEM(t, "\x8b\xe0\x07\x9c", 4);
}

TEST(abi_encode_call_checks_arguments) {
    dg_abi_value a;
    dg_err e = {0};
    dg_buf b;
    dg_buf_init(&b);
    dg_abi_tuple(&a, 2);
    dg_abi_uint64(&a.items[0], 256);
    dg_abi_bool(&a.items[1], 1);
    CHECK(!dg_abi_encode_call(&b, "f(uint8,bool)", &a, &e));
    CHECK_STR(e.msg, "abi: argument 1 (uint8): value does not fit in its bits");
    CHECK_INT(b.len, 0);
    CHECK(dg_abi_encode_call(&b, "f(uint16,bool)", &a, &e));
    CHECK_INT(b.len, 4 + 64);
    CHECK(!dg_abi_encode_call(&b, "f(uint16)", &a, &e));
    CHECK_STR(e.msg, "abi: expected 1 arguments, got 2");
    CHECK(!dg_abi_encode_call(&b, "f(uint16,string)", &a, &e));
    CHECK_STR(e.msg, "abi: argument 2: expected string, got bool");
    CHECK(!dg_abi_encode_call(&b, "f(uint16,bool", &a, &e));
    CHECK_INT(e.code, DG_ERR_INPUT);
    dg_abi_value_free(&a);

    dg_abi_tuple(&a, 1);
    dg_abi_int64(&a.items[0], -1);
    CHECK(dg_abi_encode_call(&b, "f(int8)", &a, &e));
    dg_abi_int64(&a.items[0], -129);
    CHECK(!dg_abi_encode_call(&b, "f(int8)", &a, &e));
    dg_abi_int64(&a.items[0], 127);
    CHECK(dg_abi_encode_call(&b, "f(int8)", &a, &e));
    dg_abi_int64(&a.items[0], 128);
    CHECK(!dg_abi_encode_call(&b, "f(int8)", &a, &e));
    /* bytesN size must match exactly */
    dg_abi_fixed_bytes(&a.items[0], (const uint8_t *)"abcd", 4);
    CHECK(dg_abi_encode_call(&b, "f(bytes4)", &a, &e));
    CHECK(!dg_abi_encode_call(&b, "f(bytes32)", &a, &e));
    CHECK_STR(e.msg, "abi: argument 1: expected bytes32, got bytes4");
    dg_abi_value_free(&a);

    /* T[k] needs exactly k items, T[] is not T[k] */
    dg_abi_tuple(&a, 1);
    dg_abi_fixed_array(&a.items[0], 2);
    CHECK(dg_abi_encode_call(&b, "f(uint256[2])", &a, &e));
    CHECK(!dg_abi_encode_call(&b, "f(uint256[3])", &a, &e));
    CHECK(!dg_abi_encode_call(&b, "f(uint256[])", &a, &e));
    CHECK_STR(e.msg, "abi: argument 1: expected uint256[], got fixed array");
    dg_abi_value_free(&a);
    dg_buf_free(&b);
}

/* The AppBootInfo tuple the KMS evaluates (reference §1.1), round trip. */
TEST(abi_app_boot_info_roundtrip) {
    static const char sig[] =
        "isAppAllowed((address,bytes32,address,bytes32,bytes32,bytes32,bytes32,string,string[]))";
    dg_abi_value a;
    dg_abi_tuple(&a, 1);
    dg_abi_value *t = &a.items[0];
    dg_abi_tuple(t, 9);
    uint8_t addr[20], h[32];
    for (int i = 0; i < 20; i++)
        addr[i] = (uint8_t)(0xa0 + i);
    for (int i = 0; i < 32; i++)
        h[i] = (uint8_t)i;
    dg_abi_address(&t->items[0], addr);
    for (int i = 1; i < 7; i++) {
        h[0] = (uint8_t)i;
        if (i == 2)
            dg_abi_address(&t->items[i], addr);
        else
            dg_abi_bytes32(&t->items[i], h);
    }
    dg_abi_string(&t->items[7], "UpToDate");
    dg_abi_array(&t->items[8], 2);
    dg_abi_string(&t->items[8].items[0], "INTEL-SA-00334");
    dg_abi_string(&t->items[8].items[1], "");
    dg_buf b;
    dg_buf_init(&b);
    dg_err e = {0};
    CHECK(dg_abi_encode_call(&b, sig, &a, &e));
    CHECK_MEM(b.data, "\x1e\x07\x91\x98", 4);
    /* the tuple is dynamic: its head slot is an offset (0x20) */
    CHECK_MEM(b.data + 4, W("00000000000000000000000000000000000000000000000000000020") + 56, 0);
    CHECK_INT(b.data[4 + 31], 0x20);
    dg_abi_value v;
    CHECK(
        dg_abi_decode("((address,bytes32,address,bytes32,bytes32,bytes32,bytes32,string,string[]))",
                      b.data + 4, b.len - 4, &v, &e));
    CHECK_INT(v.nitems, 1);
    CHECK_INT(v.items[0].nitems, 9);
    CHECK_MEM(dg_abi_as_address(&v.items[0].items[0]), addr, 20);
    CHECK_STR((char *)v.items[0].items[7].data, "UpToDate");
    CHECK_STR((char *)v.items[0].items[8].items[0].data, "INTEL-SA-00334");
    CHECK_INT(v.items[0].items[8].items[1].len, 0);
    CHECK_INT(v.items[0].items[6].word[0], 6);
    dg_abi_value_free(&v);
    dg_abi_value_free(&a);
    dg_buf_free(&b);
}

/* (bool,string) as isAppAllowed returns it. */
TEST(abi_decode_bool_string) {
    static const char ret[] = "0000000000000000000000000000000000000000000000000000000000000000"
                              "0000000000000000000000000000000000000000000000000000000000000040"
                              "0000000000000000000000000000000000000000000000000000000000000018"
                              "436f6d706f73652068617368206e6f7420616c6c6f7765640000000000000000";
    uint8_t d[128];
    size_t n = dg_test_unhex(ret, d, sizeof d);
    dg_abi_value v;
    dg_err e = {0};
    CHECK(dg_abi_decode("(bool,string)", d, n, &v, &e));
    CHECK_INT(v.items[0].word[31], 0);
    CHECK_STR((char *)v.items[1].data, "Compose hash not allowed");
    dg_abi_value_free(&v);
    /* a single type is a one-item tuple */
    CHECK(dg_abi_decode("bool", d, 32, &v, &e));
    CHECK_INT(v.kind, DG_ABI_TUPLE);
    CHECK_INT(v.nitems, 1);
    dg_abi_value_free(&v);
    CHECK(dg_abi_decode("()", NULL, 0, &v, &e));
    CHECK_INT(v.nitems, 0);
    dg_abi_value_free(&v);

    /* truncated: string length runs past the end */
    CHECK(!dg_abi_decode("(bool,string)", d, n - 32, &v, &e));
    CHECK_INT(e.code, DG_ERR_RPC_RESPONSE);
    CHECK_STR(e.msg, "abi: value 2 (string) at byte 0x40: length 24 runs past the end of the data "
                     "(0 bytes left)");
    /* bool = 2 */
    d[31] = 2;
    CHECK(!dg_abi_decode("(bool,string)", d, n, &v, &e));
    CHECK_STR(e.msg, "abi: value 1 (bool) at byte 0x0: bool is neither 0 nor 1");
    d[31] = 1;
    /* offset past the end */
    d[63] = 0xa0;
    CHECK(!dg_abi_decode("(bool,string)", d, n, &v, &e));
    CHECK_STR(
        e.msg,
        "abi: value 2 (string) at byte 0x20: offset 0xa0 is past the end of the data (128 bytes)");
    /* offset near 2^64: offset + start must not wrap */
    memset(d + 32, 0xff, 32);
    CHECK(!dg_abi_decode("(bool,string)", d, n, &v, &e));
    memset(d + 32, 0, 32);
    d[32 + 24] = 0xff; /* 0xff00000000000000: fits 64 bits, far past the end */
    CHECK(!dg_abi_decode("(bool,string)", d, n, &v, &e));
    memset(d + 32, 0, 32);
    d[63] = 0x40;
    /* length word with high bits */
    d[64] = 1;
    CHECK(!dg_abi_decode("(bool,string)", d, n, &v, &e));
    CHECK(strstr(e.msg, "impossibly large") != NULL);
    d[64] = 0;
    d[64 + 24] = 0x7f; /* huge length that still fits size_t */
    CHECK(!dg_abi_decode("(bool,string)", d, n, &v, &e));
    d[64 + 24] = 0;
    CHECK(dg_abi_decode("(bool,string)", d, n, &v, &e));
    dg_abi_value_free(&v);
    /* head shorter than the types need */
    CHECK(!dg_abi_decode("(bool,uint256,uint256,bool,bool)", d, 96, &v, &e));
    CHECK_STR(e.msg, "abi: data ((bool,uint256,uint256,bool,bool)) at byte 0x0: needs 160 bytes "
                     "but only 96 remain");
    /* the same inside a dynamic value: the path names it */
    CHECK(!dg_abi_decode("(bool,(uint256,string))", d, 96, &v, &e));
    CHECK_STR(e.msg,
              "abi: value 2 ((uint256,string)) at byte 0x40: needs 64 bytes but only 32 remain");
    /* bad type string */
    CHECK(!dg_abi_decode("(bool,strin)", d, n, &v, &e));
    CHECK_INT(e.code, DG_ERR_INPUT);
}

TEST(abi_decode_range_checks) {
    uint8_t w[32] = {0};
    dg_abi_value v;
    dg_err e = {0};
    w[11] = 1; /* address with a dirty upper byte */
    CHECK(!dg_abi_decode("address", w, 32, &v, &e));
    CHECK(strstr(e.msg, "non-zero upper 12 bytes") != NULL);
    memset(w, 0, 32);
    w[30] = 1; /* 256 does not fit uint8 */
    CHECK(!dg_abi_decode("uint8", w, 32, &v, &e));
    CHECK(dg_abi_decode("uint16", w, 32, &v, &e));
    dg_abi_value_free(&v);
    memset(w, 0xff, 32); /* -1 */
    CHECK(dg_abi_decode("int8", w, 32, &v, &e));
    CHECK_INT(v.items[0].bits_or_size, 8);
    dg_abi_value_free(&v);
    w[0] = 0x7f; /* not sign-extended */
    CHECK(!dg_abi_decode("int8", w, 32, &v, &e));
    memset(w, 0, 32);
    w[0] = 'a';
    w[4] = 'x'; /* bytes4 with dirty padding */
    CHECK(!dg_abi_decode("bytes4", w, 32, &v, &e));
    CHECK(strstr(e.msg, "bytesN has non-zero padding") != NULL);
    CHECK(dg_abi_decode("bytes5", w, 32, &v, &e));
    CHECK_INT(v.items[0].bits_or_size, 5);
    dg_abi_value_free(&v);
}

/* Offsets that all point at the same data cannot make the decoder produce
 * more values than the data could hold: N offsets all pointing at one inner
 * array of M items would be N*M values from (N+M) words. */
static void put_u32(uint8_t *word, uint32_t x) {
    for (int i = 0; i < 4; i++)
        word[31 - i] = (uint8_t)(x >> (8 * i));
}

TEST(abi_decode_alias_bomb_is_bounded) {
    enum { N = 1000, M = 1000 };
    size_t len = 32 + 32 + N * 32 + 32 + M * 32;
    uint8_t *d = calloc(1, len);
    put_u32(d, 0x20);   /* offset of the outer array */
    put_u32(d + 32, N); /* its length */
    for (size_t i = 0; i < N; i++)
        put_u32(d + 64 + 32 * i, N * 32); /* all alias */
    put_u32(d + 64 + N * 32, M);          /* the one inner array */
    dg_abi_value v;
    dg_err e = {0};
    CHECK(!dg_abi_decode("(uint256[][])", d, len, &v, &e));
    CHECK(strstr(e.msg, "offsets alias") != NULL);
    /* the same shape without aliasing (N = 2 distinct inner arrays) decodes */
    size_t len2 = 64 + 2 * 32 + 2 * (32 + 32);
    uint8_t *d2 = calloc(1, len2);
    put_u32(d2, 0x20);
    put_u32(d2 + 32, 2);
    put_u32(d2 + 64, 0x40);
    put_u32(d2 + 96, 0x80);
    put_u32(d2 + 128, 1);
    put_u32(d2 + 160, 7);
    put_u32(d2 + 192, 1);
    put_u32(d2 + 224, 9);
    CHECK(dg_abi_decode("(uint256[][])", d2, len2, &v, &e));
    CHECK_INT(v.items[0].nitems, 2);
    CHECK_INT(v.items[0].items[1].items[0].word[31], 9);
    dg_abi_value_free(&v);
    /* strings aliasing one long payload: total bytes bounded by the data size */
    free(d);
    d = calloc(1, 64 + 64 * 32 + 32 + 4096);
    put_u32(d, 0x20);
    put_u32(d + 32, 64);
    for (size_t i = 0; i < 64; i++)
        put_u32(d + 64 + 32 * i, 64 * 32);
    put_u32(d + 64 + 64 * 32, 4096);
    CHECK(!dg_abi_decode("(bytes[])", d, 64 + 64 * 32 + 32 + 4096, &v, &e));
    CHECK(strstr(e.msg, "offsets alias") != NULL);
    free(d);
    free(d2);
}

/* Nested one-item containers own no data of their own: one word of data
 * can legitimately hold bool[1][1][1][1][1] (found by fuzz_abi). */
TEST(abi_decode_nested_single_item_containers) {
    uint8_t w[32] = {0};
    w[31] = 1;
    dg_abi_value v;
    dg_err e = {0};
    CHECK(dg_abi_decode("(bool[1][1][1][1][1])", w, 32, &v, &e));
    CHECK_INT(v.items[0].items[0].items[0].items[0].items[0].items[0].word[31], 1);
    dg_abi_value_free(&v);
    CHECK(dg_abi_decode("((((((uint8))))))", w, 32, &v, &e));
    dg_abi_value_free(&v);
    /* but a fixed array whose head does not fit is rejected before allocating */
    CHECK(!dg_abi_decode("(uint256[65536])", w, 32, &v, &e));
    CHECK_STR(e.msg,
              "abi: data ((uint256[65536])) at byte 0x0: needs 2097152 bytes but only 32 remain");
}

/* Constructor arguments: abi.encode(args) without a selector. */
TEST(abi_encode_types_for_constructor_args) {
    dg_abi_value a;
    dg_abi_tuple(&a, 2);
    uint8_t impl[20];
    memset(impl, 0x11, 20);
    dg_abi_address(&a.items[0], impl);
    dg_abi_bytes(&a.items[1], (const uint8_t *)"\x48\x5c\xc9\x55", 4);
    dg_buf b, c;
    dg_buf_init(&b);
    dg_buf_init(&c);
    dg_err e = {0};
    CHECK(dg_abi_encode_types(&b, "(address,bytes)", &a, &e));
    CHECK(dg_abi_encode(&c, &a, &e));
    CHECK_INT(b.len, 128);
    CHECK_INT(b.len, c.len);
    CHECK_MEM(b.data, c.data, b.len);
    CHECK_INT(b.data[63], 0x40); /* offset of the bytes */
    CHECK_INT(b.data[95], 4);    /* its length */
    CHECK_MEM(b.data + 96, "\x48\x5c\xc9\x55\x00", 5);
    CHECK(!dg_abi_encode_types(&b, "(address,string)", &a, &e));
    CHECK_STR(e.msg, "abi: argument 2: expected string, got bytes");
    CHECK(!dg_abi_encode_types(&b, "(address)", &a, &e));
    dg_buf_free(&b);
    dg_buf_free(&c);
    dg_abi_value_free(&a);
}

/* bytes/string tails are padded with zeros to a multiple of 32 bytes, as
 * Solidity (and every ABI encoder) always writes them: an eth_call result or
 * revert whose tail stops short of the padding, or whose padding is dirty,
 * is not a canonical encoding and is refused like dirty bytesN padding. */
TEST(abi_decode_bytes_tail_padding) {
    uint8_t d[96] = {0};
    d[31] = 0x20;                /* offset of the string */
    d[63] = 6;                   /* length 6 */
    memcpy(d + 64, "abcdef", 6); /* then 26 zero bytes of padding */
    dg_abi_value v;
    dg_err e = {0};
    CHECK(dg_abi_decode("(string)", d, 96, &v, &e));
    CHECK_STR((char *)v.items[0].data, "abcdef");
    dg_abi_value_free(&v);
    /* the padding missing: 70 bytes of data */
    CHECK(!dg_abi_decode("(string)", d, 70, &v, &e));
    CHECK_INT(e.code, DG_ERR_RPC_RESPONSE);
    CHECK_STR(e.msg,
              "abi: value 1 (string) at byte 0x20: length 6 needs 32 bytes with its padding, "
              "only 6 left");
    CHECK(!dg_abi_decode("(bytes)", d, 95, &v, &e));
    /* dirty padding */
    d[95] = 1;
    CHECK(!dg_abi_decode("(bytes)", d, 96, &v, &e));
    CHECK_STR(e.msg, "abi: value 1 (bytes) at byte 0x20: non-zero padding after 6 bytes");
    d[95] = 0;
    /* an empty string needs no padding; a 32-byte one needs none either */
    d[63] = 0;
    CHECK(dg_abi_decode("(string)", d, 64, &v, &e));
    CHECK_INT(v.items[0].len, 0);
    dg_abi_value_free(&v);
    d[63] = 32;
    memset(d + 64, 'x', 32);
    CHECK(dg_abi_decode("(bytes)", d, 96, &v, &e));
    CHECK_INT(v.items[0].len, 32);
    dg_abi_value_free(&v);
}

/* A message names the nested item: the path is written out only for the
 * message (abi.c keeps steps while descending), so check it is whole. */
TEST(abi_error_paths_name_nested_items) {
    dg_abi_value a, v;
    dg_err e = {0};
    dg_buf b;
    dg_buf_init(&b);
    dg_abi_tuple(&a, 1);
    dg_abi_array(&a.items[0], 2);
    for (int i = 0; i < 2; i++) {
        dg_abi_tuple(&a.items[0].items[i], 2);
        dg_abi_bool(&a.items[0].items[i].items[0], i);
        dg_abi_uint64(&a.items[0].items[i].items[1], 7);
    }
    CHECK(dg_abi_encode_types(&b, "((bool,uint8)[])", &a, &e));
    CHECK_INT(b.len, 0xc0);
    b.data[0x9f] = 2; /* item 1's bool */
    CHECK(!dg_abi_decode("((bool,uint8)[])", b.data, b.len, &v, &e));
    CHECK_STR(e.msg, "abi: value 1[1].0 (bool) at byte 0x80: bool is neither 0 nor 1");
    dg_abi_uint64(&a.items[0].items[1].items[1], 300);
    CHECK(!dg_abi_encode_types(&b, "((bool,uint8)[])", &a, &e));
    CHECK_STR(e.msg, "abi: argument 1[1].1 (uint8): value does not fit in its bits");
    dg_abi_value_free(&a);
    dg_buf_free(&b);
}

/* A decoded tree lives in its root's arena. Nested static tuples hold many
 * more values than the data has words, so this tree outgrows the first
 * chunk (sized from the data) and spans a chain; every value must still
 * read back, and a decoded root moved into a built tuple is released with
 * it (the ASan build and valgrind see a leak or a bad free otherwise). */
TEST(abi_decoded_tree_spans_arena_chunks_and_moves) {
    char types[128] = "(";
    size_t depth = 20, n = 1;
    for (size_t i = 0; i < depth; i++)
        types[n++] = '(';
    memcpy(types + n, "uint8,bytes2", 12);
    n += 12;
    for (size_t i = 0; i < depth; i++)
        types[n++] = ')';
    memcpy(types + n, ",string)", 9);
    uint8_t d[160] = {0};
    d[31] = 7;               /* uint8 */
    memcpy(d + 32, "hi", 2); /* bytes2 */
    d[95] = 0x60;            /* the string's offset */
    d[127] = 3;              /* its length */
    memcpy(d + 128, "abc", 3);
    dg_abi_value v, outer;
    dg_err e = {0};
    CHECK(dg_abi_decode(types, d, sizeof d, &v, &e));
    CHECK_INT(v.nitems, 2);
    const dg_abi_value *in = &v.items[0];
    size_t levels = 1;
    while (in->kind == DG_ABI_TUPLE && in->nitems == 1) {
        in = &in->items[0];
        levels++;
    }
    CHECK_INT(levels, depth);
    CHECK_INT(in->nitems, 2);
    CHECK_INT(in->items[0].word[31], 7);
    CHECK(memcmp(in->items[1].word, "hi", 2) == 0);
    CHECK_INT(v.items[1].len, 3);
    CHECK_STR((char *)v.items[1].data, "abc");
    CHECK(dg_abi_tuple(&outer, 2));
    outer.items[0] = v;
    CHECK(dg_abi_string(&outer.items[1], "built"));
    dg_abi_value_free(&outer);
    CHECK(outer.items == NULL && outer.nitems == 0);
}

/* A type parsed once decodes and checks like its string, every time. */
TEST(abi_parsed_type_matches_the_string_api) {
    /* more nodes than fit inside a parsed type (32): the heap block */
    const char *types = "(uint8,(bool,string)[],bytes3[2],((uint16,bytes)[1],int8)[],"
                        "(address,(uint32,uint32,uint32,uint32,uint32,uint32,uint32,"
                        "uint32,uint32,uint32,uint32,uint32,uint32,uint32,uint32,uint32,"
                        "uint32,uint32,uint32,uint32,uint32,uint32,uint32,uint32)))";
    dg_err e = {0};
    dg_abi_type *t = dg_abi_type_parse(types, &e);
    CHECK(t != NULL);
    /* data: a valid encoding (from values), then each one-word truncation
     * and a flipped byte, so that accepted and refused cases both occur */
    dg_abi_value a;
    dg_abi_tuple(&a, 5);
    dg_abi_uint64(&a.items[0], 200);
    a.items[0].bits_or_size = 8;
    dg_abi_array(&a.items[1], 2);
    for (int i = 0; i < 2; i++) {
        dg_abi_tuple(&a.items[1].items[i], 2);
        dg_abi_bool(&a.items[1].items[i].items[0], i);
        dg_abi_string(&a.items[1].items[i].items[1], i ? "second" : "first");
    }
    dg_abi_fixed_array(&a.items[2], 2);
    dg_abi_fixed_bytes(&a.items[2].items[0], (const uint8_t *)"abc", 3);
    dg_abi_fixed_bytes(&a.items[2].items[1], (const uint8_t *)"def", 3);
    dg_abi_array(&a.items[3], 1);
    dg_abi_value *x = &a.items[3].items[0];
    dg_abi_tuple(x, 2);
    dg_abi_fixed_array(&x->items[0], 1);
    dg_abi_tuple(&x->items[0].items[0], 2);
    dg_abi_uint64(&x->items[0].items[0].items[0], 7);
    x->items[0].items[0].items[0].bits_or_size = 16;
    dg_abi_bytes(&x->items[0].items[0].items[1], (const uint8_t *)"\x01\x02", 2);
    dg_abi_int64(&x->items[1], -5);
    x->items[1].bits_or_size = 8;
    dg_abi_tuple(&a.items[4], 2);
    uint8_t addr[20] = {0xaa};
    dg_abi_address(&a.items[4].items[0], addr);
    dg_abi_tuple(&a.items[4].items[1], 24);
    for (int i = 0; i < 24; i++) {
        dg_abi_uint64(&a.items[4].items[1].items[i], (uint64_t)i);
        a.items[4].items[1].items[i].bits_or_size = 32;
    }
    dg_buf by_string, by_parsed;
    dg_buf_init(&by_string);
    dg_buf_init(&by_parsed);
    CHECK(dg_abi_encode_types(&by_string, types, &a, &e));
    CHECK(dg_abi_encode_parsed(&by_parsed, t, &a, &e));
    CHECK_INT(by_parsed.len, by_string.len);
    CHECK(by_parsed.len == by_string.len &&
          memcmp(by_parsed.data, by_string.data, by_parsed.len) == 0);

    size_t accepted = 0, refused = 0;
    for (size_t cut = 0; cut <= by_string.len; cut += 32) {
        for (int flip = 0; flip < 2; flip++) {
            uint8_t *d = malloc(by_string.len + 1);
            memcpy(d, by_string.data, by_string.len);
            if (flip && cut < by_string.len) d[cut + 31] ^= 0x81;
            dg_abi_value v1, v2;
            dg_err e1 = {0}, e2 = {0};
            int ok1 = dg_abi_decode(types, d, by_string.len - cut, &v1, &e1);
            int ok2 = dg_abi_decode_parsed(t, d, by_string.len - cut, &v2, &e2);
            CHECK_INT(ok2, ok1);
            if (ok1 && ok2) {
                accepted++;
                dg_buf r1, r2;
                dg_buf_init(&r1);
                dg_buf_init(&r2);
                CHECK(dg_abi_encode(&r1, &v1, NULL) && dg_abi_encode(&r2, &v2, NULL));
                CHECK(r1.len == r2.len && memcmp(r1.data, r2.data, r1.len) == 0);
                dg_buf_free(&r1);
                dg_buf_free(&r2);
            } else if (!ok1 && !ok2) {
                refused++;
                CHECK_INT(e2.code, e1.code);
                CHECK_STR(e2.msg, e1.msg);
                CHECK_INT(v2.kind, 0);
                CHECK(v2.items == NULL && v2.nitems == 0);
            }
            dg_abi_value_free(&v1);
            dg_abi_value_free(&v2);
            free(d);
        }
    }
    CHECK(accepted >= 2);
    CHECK(refused >= 10);

    /* the argument check is the same: a wrong count and a wrong kind */
    a.nitems = 4;
    dg_err e1 = {0}, e2 = {0};
    CHECK(!dg_abi_encode_types(&by_string, types, &a, &e1));
    CHECK(!dg_abi_encode_parsed(&by_parsed, t, &a, &e2));
    CHECK_STR(e2.msg, e1.msg);
    CHECK_STR(e2.msg, "abi: expected 5 arguments, got 4");
    a.nitems = 5;
    dg_abi_bool(&a.items[0], 1);
    CHECK(!dg_abi_encode_parsed(&by_parsed, t, &a, &e2));
    CHECK_STR(e2.msg, "abi: argument 1: expected uint8, got bool");

    /* a decoded value outlives the type it was decoded with */
    dg_abi_value kept;
    CHECK(dg_abi_decode_parsed(t, by_string.data, by_string.len, &kept, &e));
    dg_abi_type_free(t);
    CHECK_STR((const char *)kept.items[1].items[1].items[1].data, "second");
    dg_abi_value_free(&kept);
    dg_abi_value_free(&a);
    dg_buf_free(&by_string);
    dg_buf_free(&by_parsed);
}

TEST(abi_parsed_type_refuses_bad_strings_and_null) {
    dg_err e = {0};
    CHECK(dg_abi_type_parse("(uint7)", &e) == NULL);
    CHECK_INT(e.code, DG_ERR_INPUT);
    CHECK_STR(e.msg, "abi: bad type \"(uint7)\" at position 6: integer size must be 8..256 in "
                     "steps of 8");
    CHECK(dg_abi_type_parse(NULL, &e) == NULL);
    CHECK_STR(e.msg, "abi: missing type string");
    CHECK(dg_abi_type_parse("(bool", &e) == NULL);
    dg_abi_value v;
    memset(&v, 0xff, sizeof v);
    CHECK(!dg_abi_decode_parsed(NULL, (const uint8_t *)"", 0, &v, &e));
    CHECK_INT(e.code, DG_ERR_INPUT);
    CHECK(v.items == NULL && v.nitems == 0 && v.arena == NULL);
    dg_buf b;
    dg_buf_init(&b);
    CHECK(!dg_abi_encode_parsed(&b, NULL, &v, &e));
    CHECK_INT(b.len, 0);
    dg_abi_type_free(NULL);
    /* "()" parses to no values; a single type to a one-item tuple */
    dg_abi_type *t = dg_abi_type_parse("()", &e);
    CHECK(t && dg_abi_decode_parsed(t, NULL, 0, &v, &e) && v.nitems == 0);
    dg_abi_type_free(t);
    uint8_t w[32] = {0};
    w[31] = 1;
    t = dg_abi_type_parse("bool", &e);
    CHECK(t && dg_abi_decode_parsed(t, w, 32, &v, &e) && v.nitems == 1 && v.items[0].word[31] == 1);
    dg_abi_value_free(&v);
    dg_abi_type_free(t);
}
