/* test_eth_contracts.c — DstackKms/DstackApp bindings: selectors against the
 * reference tables (ethereum.md §1), argument layout, and return decoding. */
#include <stdlib.h>
#include <string.h>

#include "../test.h"
#include "dstackgov/contracts.h"
#include "dstackgov/hex.h"

static void sel_is(const dg_buf *b, const char *hex8) {
    char got[9];
    CHECK(b->len >= 4);
    if (b->len < 4) return;
    dg_hex_encode(b->data, 4, got);
    CHECK_STR(got, hex8);
}

TEST(eth_contracts_selectors) {
    uint8_t z32[32] = {0}, z20[20] = {0};
    struct {
        int (*f)(dg_buf *, const uint8_t *, dg_err *);
        const char *sel;
    } b32[] = {
        {dg_kms_add_os_image, "06a3ae96"},        {dg_kms_remove_os_image, "9425bac6"},
        {dg_kms_add_aggregated_mr, "3e32d346"},   {dg_kms_remove_aggregated_mr, "2adee48d"},
        {dg_kms_add_device, "4d5922a1"},          {dg_kms_remove_device, "9e6f3114"},
        {dg_kms_allowed_os_images, "9a4e1d18"},   {dg_kms_allowed_aggregated_mrs, "f6fe4f40"},
        {dg_kms_allowed_device_ids, "13eb9770"},  {dg_app_add_compose_hash, "dfc77223"},
        {dg_app_remove_compose_hash, "67b3f22c"}, {dg_app_add_device, "2a819728"},
        {dg_app_remove_device, "1d266200"},       {dg_app_allowed_compose_hashes, "2f6622e5"},
        {dg_app_allowed_device_ids, "bf8b211b"},
    };
    for (size_t i = 0; i < sizeof b32 / sizeof b32[0]; i++) {
        dg_buf b;
        dg_buf_init(&b);
        CHECK(b32[i].f(&b, z32, NULL));
        sel_is(&b, b32[i].sel);
        CHECK_INT(b.len, 36);
        dg_buf_free(&b);
    }
    struct {
        int (*f)(dg_buf *, const uint8_t *, dg_err *);
        const char *sel;
    } addr[] = {
        {dg_kms_set_app_implementation, "3ceaaa11"},
        {dg_kms_register_app, "17a1d80f"},
        {dg_kms_registered_apps, "a6c4cce9"},
        {dg_contract_transfer_ownership, "f2fde38b"},
    };
    for (size_t i = 0; i < sizeof addr / sizeof addr[0]; i++) {
        dg_buf b;
        dg_buf_init(&b);
        CHECK(addr[i].f(&b, z20, NULL));
        sel_is(&b, addr[i].sel);
        dg_buf_free(&b);
    }
    struct {
        const char *sig, *sel;
    } noarg[] = {{DG_SIG_OWNER, "8da5cb5b"},
                 {DG_SIG_PENDING_OWNER, "e30c3978"},
                 {DG_SIG_ACCEPT_OWNERSHIP, "79ba5097"},
                 {DG_SIG_KMS_INFO, "09177063"},
                 {DG_SIG_GATEWAY_APP_ID, "95f51931"},
                 {DG_SIG_APP_IMPLEMENTATION, "25a992da"},
                 {DG_SIG_APP_VERSION, "54fd4d50"},
                 {DG_SIG_APP_ALLOW_ANY_DEVICE, "3440a16a"},
                 {DG_SIG_APP_REQUIRE_TCB, "0aa58c83"},
                 {DG_SIG_APP_DISABLE_UPGRADES, "ec669036"}};
    for (size_t i = 0; i < sizeof noarg / sizeof noarg[0]; i++) {
        dg_buf b;
        dg_buf_init(&b);
        CHECK(dg_contract_encode_noarg(&b, noarg[i].sig, NULL));
        sel_is(&b, noarg[i].sel);
        CHECK_INT(b.len, 4);
        dg_buf_free(&b);
    }
    dg_buf b;
    dg_buf_init(&b);
    CHECK(dg_kms_deploy_and_register_app(&b, z20, 0, 1, 1, z32, z32, NULL));
    sel_is(&b, "9cb9c31f");
    CHECK_INT(b.len, 4 + 6 * 32);
    CHECK_INT(b.data[4 + 2 * 32 + 31], 1); /* requireTcbUpToDate is the 3rd word */
    b.len = 0;
    CHECK(dg_kms_deploy_and_register_app_legacy(&b, z20, 0, 1, z32, z32, NULL));
    sel_is(&b, "8618169d");
    b.len = 0;
    CHECK(dg_kms_initialize(&b, z20, z20, NULL));
    sel_is(&b, "485cc955");
    b.len = 0;
    CHECK(dg_app_initialize(&b, z20, 0, 0, 0, z32, z32, NULL));
    sel_is(&b, "9ed28193");
    b.len = 0;
    CHECK(dg_kms_set_gateway_app_id(&b, "gw", NULL));
    sel_is(&b, "3971db27");
    CHECK_INT(b.len, 4 + 3 * 32);
    b.len = 0;
    CHECK(dg_app_set_allow_any_device(&b, 1, NULL));
    sel_is(&b, "7c4beeb8");
    CHECK_INT(b.data[35], 1);
    b.len = 0;
    CHECK(dg_app_set_require_tcb_up_to_date(&b, 0, NULL));
    sel_is(&b, "6e4c7422");
    b.len = 0;
    CHECK(dg_contract_upgrade_to_and_call(&b, z20, NULL, 0, NULL));
    sel_is(&b, "4f1ef286");
    b.len = 0;
    uint8_t k[1] = {1};
    dg_kms_info info = {k, 1, k, 1, k, 1, NULL, 0};
    CHECK(dg_kms_set_kms_info(&b, &info, NULL));
    sel_is(&b, "7d025352");
    dg_buf_free(&b);
}

TEST(eth_contracts_boot_info) {
    dg_app_boot_info bi;
    memset(&bi, 0, sizeof bi);
    memset(bi.app_id, 0x11, 20);
    bi.tcb_status = "UpToDate";
    const char *adv[] = {"INTEL-SA-00001"};
    bi.advisory_ids = adv;
    bi.n_advisory_ids = 1;
    dg_buf b;
    dg_buf_init(&b);
    CHECK(dg_kms_is_app_allowed(&b, &bi, NULL));
    sel_is(&b, "1e079198"); /* = the IAppAuth interface id */
    /* one dynamic tuple argument: first word is the offset 0x20 */
    CHECK_INT(b.data[4 + 31], 0x20);
    /* appId sits right-aligned in the tuple's first word */
    CHECK_INT(b.data[4 + 32 + 12], 0x11);
    b.len = 0;
    CHECK(dg_kms_is_kms_allowed(&b, &bi, NULL));
    sel_is(&b, "e067ec9d");
    dg_buf_free(&b);
}

TEST(eth_contracts_multicall) {
    dg_buf calls[2], out;
    uint8_t h[32];
    memset(h, 0xab, 32);
    dg_buf_init(&calls[0]);
    dg_buf_init(&calls[1]);
    dg_buf_init(&out);
    CHECK(dg_app_add_compose_hash(&calls[0], h, NULL));
    CHECK(dg_app_remove_compose_hash(&calls[1], h, NULL));
    CHECK(dg_app_multicall(&out, calls, 2, NULL));
    sel_is(&out, "ac9650d8"); /* multicall(bytes[]) */
    /* offset, length 2, two offsets, then each 36-byte call padded to 64 + its length word */
    CHECK_INT(out.len, 4 + 32 + 32 + 2 * 32 + 2 * (32 + 64));
    dg_buf_free(&calls[0]);
    dg_buf_free(&calls[1]);
    dg_buf_free(&out);
}

TEST(eth_contracts_decode) {
    uint8_t ret[160];
    memset(ret, 0, sizeof ret);
    /* (bool true, string "Device not allowed") */
    ret[31] = 1;
    ret[63] = 0x40;
    ret[95] = 18;
    memcpy(ret + 96, "Device not allowed", 18);
    int allowed = 0;
    char reason[64];
    CHECK(dg_contract_decode_allowed(ret, 128, &allowed, reason, sizeof reason, NULL));
    CHECK_INT(allowed, 1);
    CHECK_STR(reason, "Device not allowed");
    /* truncated data is an error, never an over-read */
    dg_err e;
    CHECK(!dg_contract_decode_allowed(ret, 100, &allowed, reason, sizeof reason, &e));
    /* truncation of the reason to the caller's buffer */
    char small[7];
    CHECK(dg_contract_decode_allowed(ret, 128, &allowed, small, sizeof small, NULL));
    CHECK_STR(small, "Device");
    uint8_t w[32] = {0}, a[20];
    w[31] = 1;
    int v;
    CHECK(dg_contract_decode_bool(w, 32, &v, NULL));
    CHECK_INT(v, 1);
    w[31] = 2; /* not a canonical bool */
    CHECK(!dg_contract_decode_bool(w, 32, &v, NULL));
    memset(w, 0, 32);
    memset(w + 12, 0x42, 20);
    CHECK(dg_contract_decode_address(w, 32, a, NULL));
    CHECK_INT(a[0], 0x42);
    CHECK(!dg_contract_decode_address(w, 31, a, NULL));
}
