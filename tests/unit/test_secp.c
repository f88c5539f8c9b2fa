/* test_secp.c — secp256k1 keys, signatures and Ethereum addresses.
 *
 * Known answers: anvil's well-known TEST accounts (public test keys, never
 * for real funds) and a signature made by `cast wallet sign --no-hash`
 * (Foundry) with account 0 over keccak256("hello"). */
#include "../test.h"
#include "dstackgov/hash.h"
#include "dstackgov/secp.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* anvil test accounts 0..4: private key (TEST ONLY) -> address */
static const struct {
    const char *priv, *addr;
} g_anvil[] = {
    {"ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
     "f39fd6e51aad88f6f4ce6ab8827279cfffb92266"},
    {"59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
     "70997970c51812dc3a010c7d01b50e0d17dc79c8"},
    {"5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
     "3c44cdddb6a900fa2b585dd299e03d12fa4293bc"},
    {"7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
     "90f79bf6eb2c4f870365e785982e1f101e93b906"},
    {"47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
     "15d34aaf54267db7d7c367839aaf71a00a2c6a65"},
};

TEST(secp_anvil_keys_to_addresses) {
    for (size_t i = 0; i < sizeof g_anvil / sizeof g_anvil[0]; i++) {
        uint8_t priv[32], want[20], addr[20];
        dg_err e = {0};
        CHECK(dg_privkey_parse(g_anvil[i].priv, priv, &e));
        dg_test_unhex(g_anvil[i].addr, want, 20);
        CHECK(dg_eth_address_from_priv(priv, addr, &e));
        CHECK_MEM(addr, want, 20);
        uint8_t pub[64], addr2[20];
        CHECK(dg_secp_pubkey(priv, pub, &e));
        dg_eth_address_from_pub(pub, addr2);
        CHECK_MEM(addr2, want, 20);
        dg_wipe(priv, 32);
    }
}

TEST(secp_sign_matches_cast) {
    uint8_t priv[32], hash[32], sig[64], want[65];
    int recid = -1;
    dg_err e = {0};
    CHECK(dg_privkey_parse("0x"
                           "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
                           priv, &e));
    dg_keccak256("hello", 5, hash);
    /* cast wallet sign --no-hash --private-key <anvil key 0> $(cast keccak hello) */
    dg_test_unhex("73eebf81a611136662d65778960c853fdcaf6eca86793ed9cabc30f2195937af"
                  "78a07e601627da5b4cc80c0ab35f6894da19b4a01759d90c101d9c9dd1c6745d1b",
                  want, 65);
    CHECK(dg_secp_sign(priv, hash, sig, &recid, &e));
    CHECK_MEM(sig, want, 64);
    CHECK_INT(27 + recid, want[64]);
    dg_wipe(priv, 32);
}

TEST(secp_sign_recover_round_trip_low_s) {
    uint8_t priv[32], hash[32], sig[64], addr[20], rec[20];
    dg_err e = {0};
    CHECK(dg_privkey_parse(g_anvil[1].priv, priv, &e));
    CHECK(dg_eth_address_from_priv(priv, addr, &e));
    static const uint8_t half[32] = {0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                     0x5d, 0x57, 0x6e, 0x73, 0x57, 0xa4, 0x50, 0x1d,
                                     0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0};
    int seen_recid[2] = {0, 0};
    for (int i = 0; i < 64; i++) {
        int recid = -1;
        dg_keccak256(&i, sizeof i, hash);
        CHECK(dg_secp_sign(priv, hash, sig, &recid, &e));
        CHECK(recid == 0 || recid == 1);
        if (recid == 0 || recid == 1) seen_recid[recid] = 1;
        CHECK(memcmp(sig + 32, half, 32) <= 0);
        CHECK(dg_secp_recover_address(hash, sig, recid, rec, &e));
        CHECK_MEM(rec, addr, 20);
        /* the other recovery id gives another key */
        if (dg_secp_recover_address(hash, sig, recid ^ 1, rec, &e))
            CHECK(memcmp(rec, addr, 20) != 0);
        /* a different hash gives another key */
        hash[0] ^= 1;
        CHECK(dg_secp_recover_address(hash, sig, recid, rec, &e));
        CHECK(memcmp(rec, addr, 20) != 0);
    }
    CHECK(seen_recid[0] && seen_recid[1]);
    /* high s (n - s) is refused even though it is mathematically valid */
    dg_keccak256("x", 1, hash);
    int recid;
    CHECK(dg_secp_sign(priv, hash, sig, &recid, &e));
    static const uint8_t n[32] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                  0xff, 0xff, 0xff, 0xff, 0xfe, 0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48,
                                  0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41};
    int borrow = 0;
    for (int i = 31; i >= 0; i--) {
        int d = n[i] - sig[32 + i] - borrow;
        borrow = d < 0;
        sig[32 + i] = (uint8_t)(d + (borrow ? 256 : 0));
    }
    CHECK(!dg_secp_recover_address(hash, sig, recid ^ 1, rec, &e));
    CHECK_INT(e.code, DG_ERR_INPUT);
    CHECK(strstr(e.msg, "upper half") != NULL);
    CHECK(!dg_secp_recover_address(hash, sig, 4, rec, &e));
    memset(sig, 0xff, 32);
    memset(sig + 32, 0x01, 32);
    CHECK(!dg_secp_recover_address(hash, sig, 0, rec, &e));
    dg_wipe(priv, 32);
}

TEST(secp_privkey_parse_strict) {
    uint8_t priv[32];
    memset(priv, 0xaa, 32);
    dg_err e = {0};
    CHECK(dg_privkey_parse("  0X"
                           "AC0974BEC39A17E36BA4A6B4D238FF944BACB478CBED5EFCAE784D7BF4F2FF80\n",
                           priv, &e));
    CHECK_INT(priv[0], 0xac);
    static const char *bad[] = {
        "",
        "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff8",   /* 63 digits */
        "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff800", /* 65 digits */
        "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ffzz",
        "0000000000000000000000000000000000000000000000000000000000000000", /* zero */
        "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141", /* = n */
        "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t k[32] = {0x55};
        CHECK(!dg_privkey_parse(bad[i], k, &e));
        CHECK_INT(e.code, DG_ERR_INPUT);
        CHECK_INT(k[0], 0x55); /* untouched */
        CHECK(strstr(e.msg, "ffff") == NULL && strstr(e.msg, "ac09") == NULL);
    }
    CHECK(!dg_privkey_parse(NULL, priv, &e));
    uint8_t zero[32] = {0}, pub[64];
    CHECK(!dg_secp_pubkey(zero, pub, &e));
    CHECK(!dg_secp_sign(zero, zero, pub, NULL, &e));
    dg_wipe(priv, sizeof priv);
    CHECK_MEM(priv, zero, 32);
}

TEST(secp_privkey_file_mode_checked) {
    char dir[] = "/tmp/dg-secp-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[64];
    snprintf(path, sizeof path, "%s/key.hex", dir);
    uint8_t priv[32], want[32];
    dg_err e = {0};
    dg_test_unhex(g_anvil[2].priv, want, 32);

    dg_test_write_file(path, "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a\n",
                       0600);
    CHECK(dg_privkey_load_file(path, priv, &e));
    CHECK_MEM(priv, want, 32);
    dg_test_write_file(path, "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
                       0400);
    CHECK(dg_privkey_load_file(path, priv, &e));

    static const mode_t open_modes[] = {0644, 0640, 0604, 0620, 0602, 0610};
    for (size_t i = 0; i < sizeof open_modes / sizeof open_modes[0]; i++) {
        dg_test_write_file(path, "5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
                           open_modes[i]);
        CHECK(!dg_privkey_load_file(path, priv, &e));
        CHECK_INT(e.code, DG_ERR_KEY_FILE);
        CHECK(strstr(e.msg, "accessible by group or others") != NULL);
    }
    CHECK(strstr(e.msg, "(mode 0610)") != NULL);

    dg_test_write_file(path, "not a key", 0600);
    CHECK(!dg_privkey_load_file(path, priv, &e));
    CHECK_INT(e.code, DG_ERR_KEY_FILE);
    CHECK(strstr(e.msg, "key file ") == e.msg);
    CHECK(strstr(e.msg, "64 hex digits") != NULL);

    char big[5000];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = 0;
    dg_test_write_file(path, big, 0600);
    CHECK(!dg_privkey_load_file(path, priv, &e));
    CHECK(strstr(e.msg, "larger than 4096 bytes") != NULL);
    CHECK_INT(e.code, DG_ERR_KEY_FILE);

    CHECK(!dg_privkey_load_file(dir, priv, &e)); /* a directory */
    CHECK_INT(e.code, DG_ERR_KEY_FILE);
    unlink(path);
    CHECK(!dg_privkey_load_file(path, priv, &e)); /* missing */
    CHECK_INT(e.code, DG_ERR_KEY_FILE);
    CHECK(strstr(e.msg, "No such file") != NULL);
    rmdir(dir);
    dg_wipe(priv, 32);
}
