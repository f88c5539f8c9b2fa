/* test_revert.c — revert data to sentences: Error(string), Panic(uint256),
 * the OpenZeppelin custom errors of reference/ethereum.md §1.2. */
#include <stdio.h>

#include "../test.h"
#include "dstackgov/abi.h"
#include "dstackgov/hex.h"
#include "dstackgov/revert.h"

static char g_out[512];

static int dec_hex(const char *hex, dg_err_code *k) {
    return dg_revert_decode_hex(hex, g_out, sizeof g_out, k);
}

TEST(revert_error_string) {
    dg_err_code k = DG_OK;
    /* Error("App not registered"), as a node returns it */
    CHECK(dec_hex("0x08c379a0"
                  "0000000000000000000000000000000000000000000000000000000000000020"
                  "0000000000000000000000000000000000000000000000000000000000000012"
                  "417070206e6f7420726567697374657265640000000000000000000000000000",
                  &k));
    CHECK_STR(g_out, "App not registered");
    CHECK_INT(k, DG_ERR_REVERT);
    /* control characters are not passed to the terminal */
    CHECK(dec_hex("0x08c379a0"
                  "0000000000000000000000000000000000000000000000000000000000000020"
                  "0000000000000000000000000000000000000000000000000000000000000003"
                  "611b620000000000000000000000000000000000000000000000000000000000",
                  &k));
    CHECK_STR(g_out, "a?b");
    /* a contract's string is bytes: invalid UTF-8 is not passed on either
     * ("a", 0xff, "b", then "é" kept whole) */
    CHECK(dec_hex("0x08c379a0"
                  "0000000000000000000000000000000000000000000000000000000000000020"
                  "0000000000000000000000000000000000000000000000000000000000000005"
                  "61ff62c3a9000000000000000000000000000000000000000000000000000000",
                  &k));
    CHECK_STR(g_out, "a?b\xc3\xa9");
    /* truncated Error(string) */
    CHECK(!dec_hex("0x08c379a0"
                   "0000000000000000000000000000000000000000000000000000000000000020"
                   "0000000000000000000000000000000000000000000000000000000000000012",
                   &k));
    CHECK_STR(g_out, "malformed Error(string) revert data");
    /* output truncated to the buffer, still NUL-terminated */
    char small[4];
    CHECK(dg_revert_decode_hex("0x08c379a0"
                               "0000000000000000000000000000000000000000000000000000000000000020"
                               "0000000000000000000000000000000000000000000000000000000000000012"
                               "417070206e6f7420726567697374657265640000000000000000000000000000",
                               small, sizeof small, NULL));
    CHECK_STR(small, "App");
}

TEST(revert_panic_codes) {
    dg_err_code k;
    CHECK(dec_hex("0x4e487b71"
                  "0000000000000000000000000000000000000000000000000000000000000011",
                  &k));
    CHECK_STR(g_out, "panic 0x11 (arithmetic overflow)");
    CHECK(dec_hex("0x4e487b71"
                  "0000000000000000000000000000000000000000000000000000000000000032",
                  &k));
    CHECK_STR(g_out, "panic 0x32 (array index out of bounds)");
    CHECK(dec_hex("0x4e487b71"
                  "0000000000000000000000000000000000000000000000000000000000000001",
                  &k));
    CHECK_STR(g_out, "panic 0x01 (assertion failed)");
    CHECK(dec_hex("0x4e487b71"
                  "0000000000000000000000000000000000000000000000000000000000000012",
                  &k));
    CHECK_STR(g_out, "panic 0x12 (division or modulo by zero)");
    CHECK(!dec_hex("0x4e487b71"
                   "0000000000000000000000000000000000000000000000000000000000000099",
                   &k));
    CHECK_STR(g_out, "panic 0x99 (unknown panic code)");
    CHECK(!dec_hex("0x4e487b71"
                   "1000000000000000000000000000000000000000000000000000000000000000",
                   &k));
    CHECK(!dec_hex("0x4e487b71", &k));
    CHECK_STR(g_out, "malformed Panic(uint256) revert data");
    CHECK(dg_revert_panic_reason(0x41) != NULL);
    CHECK(dg_revert_panic_reason(0x42) == NULL);
}

TEST(revert_not_owner) {
    dg_err_code k = DG_OK;
    /* exact data of OwnableUnauthorizedAccount(anvil account 1, a public test address) */
    CHECK(dec_hex("0x118cdaa7"
                  "00000000000000000000000070997970c51812dc3a010c7d01b50e0d17dc79c8",
                  &k));
    CHECK_STR(g_out, "0x70997970C51812dc3A010C7d01b50e0d17dc79C8 is not the owner");
    CHECK_INT(k, DG_ERR_NOT_OWNER);
    /* malformed argument: dirty upper bytes of the address */
    CHECK(!dec_hex("0x118cdaa7"
                   "01000000000000000000000070997970c51812dc3a010c7d01b50e0d17dc79c8",
                   &k));
    CHECK_INT(k, DG_ERR_REVERT);
    CHECK_STR(g_out, "malformed OwnableUnauthorizedAccount(address) revert data");
}

/* Every OZ error of the reference, with its selector from the reference. */
TEST(revert_oz_custom_errors) {
    static const struct {
        const char *sig, *sel, *arg, *contains;
    } v[] = {
        {"OwnableUnauthorizedAccount(address)", "118cdaa7", "addr", "is not the owner"},
        {"OwnableInvalidOwner(address)", "1e4fbdf7", "zero",
         "0x0000000000000000000000000000000000000000 cannot be the owner"},
        {"InvalidInitialization()", "f92ee8a9", NULL, "already initialized"},
        {"NotInitializing()", "d7e6bcf8", NULL, "being initialized"},
        {"UUPSUnauthorizedCallContext()", "e07c8dba", NULL, "through the proxy"},
        {"UUPSUnsupportedProxiableUUID(bytes32)", "aa1d49a4", "b32", "proxiableUUID is 0x1111"},
        {"ERC1967InvalidImplementation(address)", "4c9c8ce3", "addr",
         "is not a valid implementation"},
        {"ERC1967NonPayable()", "b398979f", NULL, "does not accept"},
        {"FailedCall()", "d6bda275", NULL, "failed without a reason"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        uint8_t sel[4];
        char selhex[9];
        CHECK(dg_abi_selector(v[i].sig, sel));
        dg_hex_encode(sel, 4, selhex);
        CHECK_STR(selhex, v[i].sel);
        char hex[200];
        const char *arg = !v[i].arg ? ""
                          : !strcmp(v[i].arg, "addr")
                              ? "000000000000000000000000f39fd6e51aad88f6f4ce6ab8827279cfffb92266"
                          : !strcmp(v[i].arg, "zero")
                              ? "0000000000000000000000000000000000000000000000000000000000000000"
                              : "1111111111111111111111111111111111111111111111111111111111111111";
        snprintf(hex, sizeof hex, "0x%s%s", v[i].sel, arg);
        dg_err_code k;
        if (!dec_hex(hex, &k)) dg_test_fail(__FILE__, __LINE__, "%s: %s", v[i].sig, g_out);
        if (!strstr(g_out, v[i].contains))
            dg_test_fail(__FILE__, __LINE__, "%s: \"%s\" lacks \"%s\"", v[i].sig, g_out,
                         v[i].contains);
        CHECK_INT(k, i == 0 ? DG_ERR_NOT_OWNER : DG_ERR_REVERT);
        /* a missing argument is malformed, not silently accepted */
        if (v[i].arg) {
            snprintf(hex, sizeof hex, "0x%s", v[i].sel);
            CHECK(!dec_hex(hex, &k));
        }
    }
}

TEST(revert_unknown_and_empty) {
    dg_err_code k;
    CHECK(dec_hex("0x", &k));
    CHECK_STR(g_out, "reverted without a reason");
    CHECK(dg_revert_decode(NULL, 0, g_out, sizeof g_out, &k));
    CHECK_STR(g_out, "reverted without a reason");
    CHECK(!dec_hex("0xdeadbeef00", &k));
    CHECK_STR(g_out, "unknown error 0xdeadbeef");
    CHECK_INT(k, DG_ERR_REVERT);
    CHECK(!dec_hex("0x08c3", &k));
    CHECK_STR(g_out, "malformed revert data (2 bytes, less than a selector)");
    CHECK(!dec_hex("0xzz", &k));
    CHECK_STR(g_out, "malformed revert data");
}

/* Every error the project's contracts can revert with (their generated ABI
 * table) has a sentence, not "unknown error". */
#if __has_include("dg_contracts_gen.h")
#include "dg_contracts_gen.h"

TEST(revert_every_contract_error_is_known) {
    int errors = 0;
    for (size_t i = 0; i < dg_gen_abi_count; i++) {
        if (strcmp(dg_gen_abi[i].kind, "error") != 0) continue;
        const char *sig = dg_gen_abi[i].signature;
        uint8_t data[4 + 32 * 4] = {0};
        CHECK(dg_abi_selector(sig, data));
        char sel[9];
        dg_hex_encode(data, 4, sel);
        CHECK_STR(sel, dg_gen_abi[i].id);
        size_t nargs = 0;
        const char *p = strchr(sig, '(');
        if (p && p[1] != ')') {
            nargs = 1;
            for (; *p; p++)
                nargs += *p == ',';
        }
        if (nargs > 4) continue;
        dg_err_code k;
        if (!dg_revert_decode(data, 4 + 32 * nargs, g_out, sizeof g_out, &k))
            dg_test_fail(__FILE__, __LINE__, "%s: %s", sig, g_out);
        errors++;
    }
    CHECK(errors > 0);
}
#endif
