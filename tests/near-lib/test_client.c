/* test_client.c — lib/near's views against nemu-rpc (the local NEAR runtime
 * emulation running the real KMS wasm; not nearcore): call_function with JSON
 * args and decoded result bytes, view_account, view_access_key, view_code,
 * block by finality, height and hash, views pinned to one block, and every
 * error class decoded from the node's answers. */
#include <stdio.h>
#include <stdlib.h>

#include "../test.h"
#include "dstackgov/hash.h"
#include "nemu_proc.h"

/* NEAR's well-known test key seed: 32 bytes of 0x01 (a test key, labelled) */
static void test_key(dg_near_key *k) {
    uint8_t seed[32];
    memset(seed, 1, sizeof seed);
    dg_near_key_from_seed(seed, k);
}

static int world(nemu_proc *p) {
    if (!nemu_proc_start(p)) return 0;
    dg_near_key k;
    test_key(&k);
    char pks[DG_NEAR_PUBKEY_LEN], params[400];
    dg_near_pubkey_format(k.pk, pks);
    snprintf(params, sizeof params,
             "{\"account_id\":\"ops.test\",\"balance\":\"100000000000000000000000000\","
             "\"public_key\":\"%s\"}",
             pks);
    json_decref(nemu_proc_call(p, "nemu_create_account", params));
    json_decref(nemu_proc_call(p, "nemu_create_account",
                               "{\"account_id\":\"kms.test\",\"balance\":"
                               "\"50000000000000000000000000\"}"));
    json_decref(nemu_proc_call(p, "nemu_create_account",
                               "{\"account_id\":\"empty.test\",\"balance\":\"1000\"}"));
    json_decref(
        nemu_proc_call(p, "nemu_deploy", "{\"account_id\":\"kms.test\",\"module\":\"kms\"}"));
    json_t *r = nemu_proc_call(
        p, "nemu_call",
        "{\"signer_id\":\"kms.test\",\"receiver_id\":\"kms.test\",\"method_name\":\"new\","
        "\"args\":{\"owner_id\":\"ops.test\",\"mpc_contract_id\":\"v1.signer\","
        "\"mpc_domain_id\":2}}");
    json_decref(r);
    r = nemu_proc_call(p, "nemu_call",
                       "{\"signer_id\":\"ops.test\",\"receiver_id\":\"kms.test\",\"method_name\":"
                       "\"add_os_image_hash\",\"deposit\":\"1\",\"args\":{\"os_image_hash\":"
                       "\"0x"
                       "AB"
                       "000000000000000000000000000000000000000000000000000000000000"
                       "00\"}}");
    json_decref(r);
    return 1;
}

TEST(near_client_views) {
    nemu_proc p;
    if (!world(&p)) {
        CHECK(!"nemu-rpc did not start");
        return;
    }
    dg_err e = {0};
    json_t *j = NULL;
    dg_near_block_ref at;
    CHECK(dg_near_view_json(p.rpc, NULL, "kms.test", "get_allowed_os_images", NULL, &j, &at, &e));
    CHECK(json_is_array(j) && json_array_size(j) == 1);
    CHECK_STR(json_string_value(json_array_get(j, 0)),
              "ab00000000000000000000000000000000000000000000000000000000000000");
    json_decref(j);
    CHECK(at.height > 0);
    /* args as JSON, result bytes decoded */
    CHECK(
        dg_near_view_json(p.rpc, "optimistic", "kms.test", "is_os_image_allowed",
                          "{\"os_image_hash\":\"ab000000000000000000000000000000000000000000000000"
                          "00000000000000\"}",
                          &j, NULL, &e));
    CHECK(json_is_true(j));
    json_decref(j);
    /* pinned to the block the first view saw: by hash, then by height */
    char hash[DG_BASE58_LEN(32)], height[24];
    dg_base58_encode(at.hash, 32, hash, sizeof hash);
    snprintf(height, sizeof height, "%llu", (unsigned long long)at.height);
    dg_near_block_ref at2;
    CHECK(dg_near_view_json(p.rpc, hash, "kms.test", "get_owner", NULL, &j, &at2, &e));
    CHECK_STR(json_string_value(j), "ops.test");
    CHECK_MEM(at2.hash, at.hash, 32);
    json_decref(j);
    dg_near_block_info b;
    CHECK(dg_near_block(p.rpc, NULL, &b, &e));
    CHECK(b.height >= at.height);
    dg_near_block_info b2;
    CHECK(dg_near_block(p.rpc, hash, &b2, &e));
    CHECK_MEM(b2.hash, at.hash, 32);
    CHECK(dg_near_block(p.rpc, height, &b2, &e));
    CHECK(b2.height == at.height);
    /* view_account: balance, code hash = sha256 of the deployed wasm */
    dg_near_account a;
    CHECK(dg_near_view_account(p.rpc, NULL, "kms.test", &a, &e));
    CHECK(a.has_code);
    CHECK(a.storage_usage > 0);
    dg_near_account none;
    CHECK(dg_near_view_account(p.rpc, NULL, "empty.test", &none, &e));
    CHECK(!none.has_code);
    CHECK(none.amount.w[0] == 1000);
    dg_buf code;
    dg_buf_init(&code);
    uint8_t h[32];
    CHECK(dg_near_view_code(p.rpc, NULL, "kms.test", &code, h, &e));
    CHECK(code.len > 1000);
    CHECK_MEM(h, a.code_hash, 32);
    CHECK(code.len > 4 && memcmp(code.data, "\0asm", 4) == 0);
    dg_buf_free(&code);
    /* access key: nonce and full access */
    dg_near_key k;
    test_key(&k);
    dg_near_access_key ak;
    CHECK(dg_near_view_access_key(p.rpc, NULL, "ops.test", k.pk, &ak, &e));
    CHECK(ak.full_access);
    nemu_proc_stop(&p);
}

TEST(near_client_errors) {
    nemu_proc p;
    if (!world(&p)) {
        CHECK(!"nemu-rpc did not start");
        return;
    }
    dg_err e = {0};
    json_t *j = NULL;
    dg_buf out;
    dg_buf_init(&out);
    CHECK(!dg_near_view(p.rpc, NULL, "nobody.test", "get_owner", NULL, 0, &out, NULL, &e));
    CHECK_INT(e.code, DG_ERR_NO_CODE);
    CHECK_STR(e.msg, "view nobody.test.get_owner: account nobody.test does not exist");
    CHECK(!dg_near_view(p.rpc, NULL, "empty.test", "get_owner", NULL, 0, &out, NULL, &e));
    CHECK_INT(e.code, DG_ERR_NO_CODE);
    /* a panic with its text */
    CHECK(!dg_near_view_json(p.rpc, NULL, "kms.test", "is_os_image_allowed",
                             "{\"os_image_hash\":\"12\"}", &j, NULL, &e));
    CHECK_INT(e.code, DG_ERR_REVERT);
    CHECK(strstr(e.msg, "contract panicked: Invalid os_image_hash: expected 64 hex digits") !=
          NULL);
    CHECK(!dg_near_view_json(p.rpc, NULL, "kms.test", "no_such_method", NULL, &j, NULL, &e));
    CHECK_INT(e.code, DG_ERR_REVERT);
    CHECK_INT(out.len, 0);
    /* an unknown key of an existing account */
    uint8_t other[32];
    memset(other, 7, 32);
    dg_near_access_key ak;
    CHECK(!dg_near_view_access_key(p.rpc, NULL, "ops.test", other, &ak, &e));
    CHECK_INT(e.code, DG_ERR_CONFIG);
    CHECK(strstr(e.msg, "no such access key") != NULL);
    /* malformed block reference: refused before anything is sent */
    CHECK(!dg_near_view(p.rpc, "latest", "kms.test", "get_owner", NULL, 0, &out, NULL, &e));
    CHECK_INT(e.code, DG_ERR_INPUT);
    nemu_proc_stop(&p);
    /* transport: the endpoint is gone */
    dg_near_block_info b;
    const char *urls[1] = {"http://127.0.0.1:1"};
    dg_rpc_opts o = {.timeout_ms = 500, .retries = -1};
    dg_rpc *dead = dg_rpc_new(urls, 1, &o, NULL);
    CHECK(!dg_near_block(dead, NULL, &b, &e));
    CHECK_INT(e.code, DG_ERR_RPC_UNREACHABLE);
    dg_rpc_free(dead);
    dg_buf_free(&out);
}
