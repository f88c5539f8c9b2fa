/* test_eth_send.c — suite `rpc`: the library's send flow (eth.h: plan,
 * submit, wait, transact) against a real anvil with the real DstackKms
 * behind an ERC1967Proxy, as a KMS linking the library would use it.
 *
 * Keys: anvil's well-known public TEST keys (accounts 0 and 1) and the
 * unfunded TEST key 0x..01. Never for real funds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../test.h"
#include "anvil.h"
#include "dg_contracts_gen.h"
#include "dstackgov/abi.h"
#include "dstackgov/contracts.h"
#include "dstackgov/eth.h"
#include "dstackgov/hex.h"
#include "dstackgov/secp.h"

#define KEY0 "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80" /* TEST */
#define KEY1 "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d" /* TEST */

static long long mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

typedef struct {
    struct anvil a;
    dg_rpc *rpc;
    uint8_t k0[32], k1[32], a0[20], a1[20];
    uint8_t kms[20]; /* the DstackKms proxy, owned by account 0 */
} fixture;

/* Deploy DstackKms (implementation, then proxy with initialize(owner = a0))
 * through dg_eth_transact, as a program without a confirmation step does. */
static int setup_chain(fixture *f, unsigned long chain_id) {
    memset(f, 0, sizeof *f);
    if (!anvil_start_chain(&f->a, chain_id)) return 0;
    f->rpc = connect_anvil(&f->a);
    dg_err e = {0};
    CHECK(dg_privkey_parse(KEY0, f->k0, &e) && dg_privkey_parse(KEY1, f->k1, &e));
    CHECK(dg_eth_address_from_priv(f->k0, f->a0, &e) && dg_eth_address_from_priv(f->k1, f->a1, &e));
    dg_buf code, init, ctor;
    dg_buf_init(&code);
    dg_buf_init(&init);
    dg_buf_init(&ctor);
    dg_eth_receipt r;
    dg_eth_plan plan;
    int ok = dg_hex_decode_var(dg_gen_bytecode_DstackKms, strlen(dg_gen_bytecode_DstackKms), &code,
                               &e) &&
             dg_eth_transact(f->rpc, NULL, f->k0, NULL, code.data, code.len, NULL,
                             "DstackKms implementation", &plan, &r, &e);
    CHECK(ok);
    if (ok) {
        CHECK(r.status == 1 && r.has_contract_address);
        CHECK_INT(plan.tx.chain_id, chain_id ? chain_id : 31337);
        CHECK(!plan.tx.has_to);
        /* a creation's intrinsic gas: 53000 + data + init code words */
        CHECK(plan.intrinsic_gas > 53000 && plan.intrinsic_gas < plan.prep.gas_estimate);
        uint8_t impl[20], zero[20] = {0};
        memcpy(impl, r.contract_address, 20);
        dg_eth_receipt_free(&r);
        dg_abi_value t;
        memset(&t, 0, sizeof t);
        ok = dg_kms_initialize(&init, f->a0, zero, &e) && dg_abi_tuple(&t, 2) &&
             dg_abi_bytes(&t.items[1], init.data, init.len);
        if (ok) dg_abi_address(&t.items[0], impl);
        ok = ok && dg_abi_encode(&ctor, &t, &e);
        dg_abi_value_free(&t);
        dg_buf_free(&code);
        dg_buf_init(&code);
        ok = ok &&
             dg_hex_decode_var(dg_gen_bytecode_ERC1967Proxy, strlen(dg_gen_bytecode_ERC1967Proxy),
                               &code, &e) &&
             dg_buf_append(&code, ctor.data, ctor.len) &&
             dg_eth_transact(f->rpc, NULL, f->k0, NULL, code.data, code.len, NULL, "proxy", NULL,
                             &r, &e);
        CHECK(ok);
        if (ok) memcpy(f->kms, r.contract_address, 20);
        if (ok) dg_eth_receipt_free(&r);
    }
    if (!ok) dg_test_fail(__FILE__, __LINE__, "setup: %s", e.msg);
    dg_buf_free(&code);
    dg_buf_free(&init);
    dg_buf_free(&ctor);
    return ok;
}

static int setup(fixture *f) {
    return setup_chain(f, 0);
}

static void teardown(fixture *f) {
    if (f->rpc) dg_rpc_free(f->rpc);
    anvil_stop(&f->a);
    dg_wipe(f->k0, 32);
    dg_wipe(f->k1, 32);
}

static uint64_t nonce_of(dg_rpc *rpc, const uint8_t a[20]) {
    uint64_t n = 0;
    CHECK(dg_eth_nonce(rpc, a, &n, NULL));
    return n;
}

TEST(eth_send_plan_then_submit_and_wait) {
    fixture f;
    if (!setup(&f)) return teardown(&f);
    uint8_t img[32];
    memset(img, 0xaa, 32);
    dg_buf d;
    dg_buf_init(&d);
    dg_err e = {0};
    CHECK(dg_kms_add_os_image(&d, img, &e));
    dg_eth_plan p;
    CHECK(dg_eth_plan_prepare(f.rpc, NULL, f.a0, f.kms, d.data, d.len, NULL, "addOsImageHash", &p,
                              &e));
    /* what a program shows before it asks */
    CHECK_INT(p.tx.chain_id, 31337);
    CHECK_INT(p.tx.nonce, nonce_of(f.rpc, f.a0));
    CHECK(p.tx.has_to && memcmp(p.tx.to, f.kms, 20) == 0);
    CHECK(p.prep.gas_estimate > p.intrinsic_gas);
    CHECK_INT(p.tx.gas_limit, dg_eth_gas_with_margin(p.prep.gas_estimate, 20, 30000000));
    CHECK_INT(p.intrinsic_gas, dg_eth_intrinsic_gas(d.data, d.len, 0));
    dg_u256 want;
    CHECK(dg_u256_mul_u64(&want, p.prep.fees.gas_price, p.tx.gas_limit));
    CHECK(dg_u256_cmp(want, p.max_cost) == 0);
    CHECK(!p.gas_limit_forced);
    /* planning sends nothing */
    CHECK_INT(nonce_of(f.rpc, f.a0), p.tx.nonce);

    /* the key must be the plan's sender */
    uint8_t h[32];
    CHECK(!dg_eth_plan_submit(f.rpc, &p, f.k1, h, &e));
    CHECK_INT(e.code, DG_ERR_INPUT);
    CHECK(strstr(e.msg, "addOsImageHash: the key is for 0x70997970") == e.msg);

    CHECK(dg_eth_plan_submit(f.rpc, &p, f.k0, h, &e));
    dg_eth_receipt r;
    CHECK(dg_eth_plan_wait(f.rpc, &p, NULL, h, &r, &e));
    CHECK(r.status == 1);
    CHECK_MEM(r.tx_hash, h, 32);
    CHECK(r.gas_used <= p.tx.gas_limit && r.gas_used >= p.intrinsic_gas);
    dg_eth_receipt_free(&r);
    /* the change happened */
    dg_buf q, ret;
    dg_buf_init(&q);
    dg_buf_init(&ret);
    CHECK(dg_kms_allowed_os_images(&q, img, &e));
    CHECK(dg_eth_call(f.rpc, NULL, f.kms, q.data, q.len, "latest", &ret, &e));
    CHECK(ret.len == 32 && ret.data[31] == 1);
    dg_buf_free(&q);
    dg_buf_free(&ret);
    dg_buf_free(&d);
    teardown(&f);
}

TEST(eth_send_plan_refusals_before_anything_is_signed) {
    fixture f;
    if (!setup(&f)) return teardown(&f);
    uint8_t img[32], dead[20] = {0}, poor[20];
    memset(img, 0xab, 32);
    dead[18] = 0xde, dead[19] = 0xad;
    dg_buf d;
    dg_buf_init(&d);
    dg_err e = {0};
    dg_eth_plan p;
    CHECK(dg_kms_add_os_image(&d, img, &e));

    dg_eth_send_opts o = {.expect_chain_id = 1, .expect_source = "network mainnet"};
    CHECK(!dg_eth_plan_prepare(f.rpc, &o, f.a0, f.kms, d.data, d.len, NULL, "add", &p, &e));
    CHECK_INT(e.code, DG_ERR_CHAIN_ID);
    CHECK(strstr(e.msg, "chain id mismatch: network mainnet expects 1 but http://127.0.0.1:") ==
          e.msg);
    CHECK(strstr(e.msg, "is chain 31337") != NULL);

    long long t0 = mono_ms(); /* a dev chain: "no code" is final at once */
    CHECK(!dg_eth_plan_prepare(f.rpc, NULL, f.a0, dead, d.data, d.len, NULL, "add", &p, &e));
    CHECK_INT(e.code, DG_ERR_NO_CODE);
    CHECK(strstr(e.msg, "no contract code at 0x000000000000000000000000000000000000dEaD on chain "
                        "31337 (add)") == e.msg);
    CHECK(mono_ms() - t0 < 400);

    CHECK(!dg_eth_plan_prepare(f.rpc, NULL, f.a1, f.kms, d.data, d.len, NULL, "addOsImageHash", &p,
                               &e));
    CHECK_INT(e.code, DG_ERR_NOT_OWNER);
    CHECK(strstr(e.msg, "addOsImageHash: gas estimate reverted: ") == e.msg);
    CHECK(strstr(e.msg, "is not the owner") != NULL);

    uint8_t one[32] = {0};
    one[31] = 1; /* TEST key 0x..01, unfunded */
    CHECK(dg_eth_address_from_priv(one, poor, &e));
    dg_buf none;
    dg_buf_init(&none);
    CHECK(dg_contract_encode_noarg(&none, "owner()", &e));
    CHECK(
        !dg_eth_plan_prepare(f.rpc, NULL, poor, f.kms, none.data, none.len, NULL, "owner", &p, &e));
    CHECK_INT(e.code, DG_ERR_FUNDS);
    CHECK(strstr(e.msg, "insufficient funds: 0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf has 0 ETH, "
                        "owner needs up to ") == e.msg);

    /* a gas limit below the estimate, or below the intrinsic gas, is refused */
    dg_eth_send_opts lo = {.gas_limit = 30000};
    CHECK(!dg_eth_plan_prepare(f.rpc, &lo, f.a0, f.kms, d.data, d.len, NULL, "addOsImageHash", &p,
                               &e));
    CHECK_INT(e.code, DG_ERR_INPUT);
    CHECK(strstr(e.msg, "addOsImageHash: gas limit 30000 is below the estimate") == e.msg);
    CHECK(strstr(e.msg, "--force-gas-limit") != NULL);
    lo.gas_limit = 21000;
    CHECK(!dg_eth_plan_prepare(f.rpc, &lo, f.a0, f.kms, d.data, d.len, NULL, "addOsImageHash", &p,
                               &e));
    CHECK_INT(e.code, DG_ERR_INPUT);
    CHECK(strstr(e.msg, "gas limit 21000 is below the intrinsic gas") != NULL);
    /* at or above the estimate it is the caller's choice, and used as given */
    CHECK(dg_eth_plan_prepare(f.rpc, NULL, f.a0, f.kms, d.data, d.len, NULL, "add", &p, &e));
    lo.gas_limit = p.prep.gas_estimate;
    CHECK(dg_eth_plan_prepare(f.rpc, &lo, f.a0, f.kms, d.data, d.len, NULL, "add", &p, &e));
    CHECK_INT(p.tx.gas_limit, p.prep.gas_estimate);
    CHECK(!p.gas_limit_forced);
    /* nothing was sent by any of these */
    CHECK_INT(nonce_of(f.rpc, f.a0), 2);
    dg_buf_free(&none);
    dg_buf_free(&d);
    teardown(&f);
}

TEST(eth_send_forced_low_limit_out_of_gas_is_explained) {
    fixture f;
    if (!setup(&f)) return teardown(&f);
    uint8_t img[32];
    memset(img, 0xac, 32);
    dg_buf d;
    dg_buf_init(&d);
    dg_err e = {0};
    CHECK(dg_kms_add_os_image(&d, img, &e));
    dg_eth_send_opts o = {.gas_limit = 30000, .force_gas_limit = 1};
    dg_eth_plan p;
    dg_eth_receipt r;
    CHECK(!dg_eth_transact(f.rpc, &o, f.k0, f.kms, d.data, d.len, NULL, "addOsImageHash", &p, &r,
                           &e));
    CHECK(p.gas_limit_forced);
    CHECK_INT(p.tx.gas_limit, 30000);
    CHECK_INT(e.code, DG_ERR_REVERT);
    if (strstr(e.msg, "addOsImageHash failed on chain (block ") != e.msg)
        dg_test_fail(__FILE__, __LINE__, "message: %s", e.msg);
    CHECK(strstr(e.msg, "out of gas") != NULL);
    CHECK(strstr(e.msg, "gas limit 30000") != NULL);
    CHECK_INT(nonce_of(f.rpc, f.a0), 3); /* it was mined: the fee is spent */
    dg_buf_free(&d);
    teardown(&f);
}

TEST(eth_send_dropped_transaction_reported_within_the_grace) {
    fixture f;
    if (!setup(&f)) return teardown(&f);
    uint8_t img[32];
    memset(img, 0xad, 32);
    dg_buf d;
    dg_buf_init(&d);
    dg_err e = {0};
    CHECK(dg_kms_add_os_image(&d, img, &e));
    /* 21000 is below the intrinsic gas of 36 bytes of data: anvil accepts it
     * into its pool, mines a block without it, and forgets it */
    dg_eth_send_opts o = {
        .gas_limit = 21000, .force_gas_limit = 1, .drop_grace_ms = 600, .timeout_ms = 20000};
    dg_eth_plan p;
    dg_eth_receipt r;
    long long t0 = mono_ms();
    CHECK(!dg_eth_transact(f.rpc, &o, f.k0, f.kms, d.data, d.len, NULL, "addOsImageHash", &p, &r,
                           &e));
    long long took = mono_ms() - t0;
    CHECK_INT(e.code, DG_ERR_DROPPED);
    CHECK(strstr(e.msg, "addOsImageHash: transaction 0x") == e.msg);
    CHECK(strstr(e.msg, "was dropped by the node") != NULL);
    CHECK(took >= 600 && took < 3000);
    /* the nonce is free again: the same change goes through normally */
    CHECK_INT(nonce_of(f.rpc, f.a0), 2);
    CHECK(dg_eth_transact(f.rpc, NULL, f.k0, f.kms, d.data, d.len, NULL, "addOsImageHash", &p, &r,
                          &e));
    CHECK_INT(p.tx.nonce, 2);
    dg_eth_receipt_free(&r);
    dg_buf_free(&d);
    teardown(&f);
}

TEST(eth_send_revert_on_chain_is_replayed_for_its_reason) {
    fixture f;
    if (!setup(&f)) return teardown(&f);
    /* Plan a change while account 0 owns the KMS, then give the ownership
     * up before it is mined: the mined transaction reverts, and the replay on
     * its parent block says why. */
    uint8_t img[32];
    memset(img, 0xae, 32);
    dg_buf d, rn;
    dg_buf_init(&d);
    dg_buf_init(&rn);
    dg_err e = {0};
    CHECK(dg_kms_add_os_image(&d, img, &e));
    CHECK(dg_contract_encode_noarg(&rn, "renounceOwnership()", &e));
    dg_eth_plan add, renounce;
    CHECK(dg_eth_plan_prepare(f.rpc, NULL, f.a0, f.kms, d.data, d.len, NULL, "addOsImageHash", &add,
                              &e));
    CHECK(dg_eth_plan_prepare(f.rpc, NULL, f.a0, f.kms, rn.data, rn.len, NULL, "renounceOwnership",
                              &renounce, &e));
    add.tx.nonce = renounce.tx.nonce + 1; /* both planned at the same pending nonce */
    uint8_t h1[32], h2[32];
    dg_eth_receipt r;
    CHECK(dg_eth_plan_submit(f.rpc, &renounce, f.k0, h1, &e));
    CHECK(dg_eth_plan_wait(f.rpc, &renounce, NULL, h1, &r, &e));
    dg_eth_receipt_free(&r);
    CHECK(dg_eth_plan_submit(f.rpc, &add, f.k0, h2, &e));
    CHECK(!dg_eth_plan_wait(f.rpc, &add, NULL, h2, &r, &e));
    CHECK_INT(e.code, DG_ERR_NOT_OWNER);
    CHECK(strstr(e.msg, "addOsImageHash failed on chain (block ") == e.msg);
    CHECK(strstr(e.msg, "is not the owner") != NULL);
    CHECK(r.logs == NULL && r.nlogs == 0); /* nothing left to free */
    dg_buf_free(&d);
    dg_buf_free(&rn);
    teardown(&f);
}

TEST(eth_send_public_chain_asks_again_for_missing_code) {
    /* On a chain that is not a local devnet, "no code" may be a lagging node
     * behind a load balancer: it is asked again (0.5 s, 1 s, ...) within
     * code_wait_ms before it is final. The deployments of setup() went
     * through the creation path's code check on this chain too. */
    fixture f;
    if (!setup_chain(&f, 11155111)) return teardown(&f);
    uint8_t dead[20] = {0};
    dead[19] = 0x01;
    dg_buf d;
    dg_buf_init(&d);
    dg_err e = {0};
    CHECK(dg_contract_encode_noarg(&d, "owner()", &e));
    dg_eth_plan p;
    dg_eth_send_opts o = {.code_wait_ms = 1600, .expect_chain_id = 11155111};
    long long t0 = mono_ms();
    CHECK(!dg_eth_plan_prepare(f.rpc, &o, f.a0, dead, d.data, d.len, NULL, "owner", &p, &e));
    long long took = mono_ms() - t0;
    CHECK_INT(e.code, DG_ERR_NO_CODE);
    CHECK(strstr(e.msg, "on chain 11155111 (owner)") != NULL);
    CHECK(took >= 1500 && took < 3000); /* asked at 0.5 s and 1.5 s */
    o.code_wait_ms = -1;                /* never: at once */
    t0 = mono_ms();
    CHECK(!dg_eth_plan_prepare(f.rpc, &o, f.a0, dead, d.data, d.len, NULL, "owner", &p, &e));
    CHECK(mono_ms() - t0 < 400);
    /* a target with code is planned at once */
    t0 = mono_ms();
    CHECK(dg_eth_plan_prepare(f.rpc, &o, f.a0, f.kms, d.data, d.len, NULL, "owner", &p, &e));
    CHECK(mono_ms() - t0 < 400);
    dg_buf_free(&d);
    teardown(&f);
}
