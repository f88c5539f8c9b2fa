/* test_hash.c — Keccak-256 and SHA-256 known answers.
 * Vectors: Keccak from `cast keccak` (Foundry), SHA-256 from FIPS 180-4. */
#include "../test.h"
#include "dstackgov/hash.h"

static void check_keccak(const void *p, size_t n, const char *hex) {
    uint8_t want[32], got[32];
    CHECK_INT(dg_test_unhex(hex, want, 32), 32);
    dg_keccak256(p, n, got);
    CHECK_MEM(got, want, 32);
}

TEST(keccak256_empty_and_abc) {
    check_keccak("", 0, "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
    check_keccak(NULL, 0, "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
    check_keccak("abc", 3, "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45");
}

TEST(keccak256_rate_boundaries) {
    uint8_t a[136];
    memset(a, 'a', sizeof a);
    /* 135 bytes: padding 0x01 and 0x80 land in the same byte */
    check_keccak(a, 135, "34367dc248bbd832f4e3e69dfaac2f92638bd0bbd18f2912ba4ef454919cf446");
    /* exactly one rate block: padding needs a whole extra block */
    check_keccak(a, 136, "a6c4d403279fe3e0af03729caada8374b5ca54d8065329a3ebcaeb4b60aa386e");
}

TEST(keccak256_200_bytes_incremental_matches_oneshot) {
    uint8_t in[200], want[32], one[32];
    for (size_t i = 0; i < sizeof in; i++)
        in[i] = (uint8_t)(i * 7);
    CHECK_INT(
        dg_test_unhex("e04f7ba958b8ea97baa335903e44841720f241b5b3ac011b42bd5ba61d2f085b", want, 32),
        32);
    dg_keccak256(in, sizeof in, one);
    CHECK_MEM(one, want, 32);
    /* every split point, plus byte-by-byte */
    for (size_t cut = 0; cut <= sizeof in; cut++) {
        dg_keccak_ctx c;
        uint8_t got[32];
        dg_keccak_init(&c);
        dg_keccak_update(&c, in, cut);
        dg_keccak_update(&c, in + cut, sizeof in - cut);
        dg_keccak_final(&c, got);
        if (memcmp(got, want, 32) != 0) {
            CHECK_INT(cut, -1);
            break;
        }
    }
    dg_keccak_ctx c;
    uint8_t got[32];
    dg_keccak_init(&c);
    dg_keccak_update(&c, NULL, 0);
    for (size_t i = 0; i < sizeof in; i++) {
        dg_keccak_update(&c, in + i, 1);
        dg_keccak_update(&c, NULL, 0);
    }
    dg_keccak_final(&c, got);
    CHECK_MEM(got, want, 32);
}

TEST(sha256_known_answers) {
    uint8_t want[32], got[32];
    dg_test_unhex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", want, 32);
    dg_sha256("abc", 3, got);
    CHECK_MEM(got, want, 32);
    dg_test_unhex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", want, 32);
    dg_sha256(NULL, 0, got);
    CHECK_MEM(got, want, 32);
}
