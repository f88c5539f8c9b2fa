/* test_send.c — lib/near's send flow against nemu-rpc (the local NEAR runtime
 * emulation with the real contract wasm; not nearcore): transfers, a KMS
 * deployment as one multi-action transaction (CreateAccount, Transfer,
 * AddKey, DeployContract, FunctionCall new), function calls with deposit and
 * their NEP-297 events, and each error class: a contract panic with its
 * text, an access check (NOT_OWNER), a stale nonce retried once, an expired
 * block hash, NotEnoughBalance with the amounts, and credential files; a
 * transaction that outlasts the node's wait (TIMEOUT_ERROR, then `tx` polled). */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../test.h"
#include "nemu_proc.h"

#define NEAR_1 "1000000000000000000000000"

static dg_near_key g_key; /* NEAR's well-known test seed (32 x 0x01), a test key */

static int world_args(nemu_proc *p, const char *const *args) {
    uint8_t seed[32];
    memset(seed, 1, sizeof seed);
    dg_near_key_from_seed(seed, &g_key);
    if (!nemu_proc_start_args(p, args)) return 0;
    char pks[DG_NEAR_PUBKEY_LEN], params[400];
    dg_near_pubkey_format(g_key.pk, pks);
    snprintf(params, sizeof params,
             "{\"account_id\":\"ops.test\",\"balance\":\"100" NEAR_1 "\",\"public_key\":\"%s\"}",
             pks);
    json_decref(nemu_proc_call(p, "nemu_create_account", params));
    snprintf(params, sizeof params,
             "{\"account_id\":\"poor.test\",\"balance\":\"500000000000000000000000\","
             "\"public_key\":\"%s\"}",
             pks);
    json_decref(nemu_proc_call(p, "nemu_create_account", params));
    json_decref(nemu_proc_call(p, "nemu_create_account",
                               "{\"account_id\":\"bob.test\",\"balance\":\"" NEAR_1 "\"}"));
    return 1;
}

static int world(nemu_proc *p) {
    return world_args(p, NULL);
}

static dg_near_action call(const char *method, const char *args, const char *deposit_yocto) {
    dg_near_action a;
    memset(&a, 0, sizeof a);
    a.kind = DG_NEAR_FUNCTION_CALL;
    a.method = method;
    a.args = (const uint8_t *)args;
    a.args_len = strlen(args);
    a.gas = 100 * DG_NEAR_TGAS;
    if (deposit_yocto) dg_u256_parse(deposit_yocto, &a.deposit, NULL);
    return a;
}

/* Create a sub-account with the test key (one transaction from ops.test),
 * then deploy kms.wasm and initialise it (one transaction from the new
 * account itself: `new` is private, so its predecessor must be the KMS). */
static int deploy_kms(nemu_proc *p, const char *kms, dg_near_outcome *o, dg_err *e) {
    dg_buf code;
    dg_buf_init(&code);
    /* the kms.wasm of this build (build/ or build-asan/): nemu-rpc's registry
     * knows only the modules built beside it */
    const char *path = getenv("NEAR_KMS_WASM");
    FILE *f = fopen(path ? path : "../build/near/kms.wasm", "rb");
    if (!f) return 0;
    uint8_t tmp[4096];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
        dg_buf_append(&code, tmp, n);
    fclose(f);
    dg_near_action acts[5];
    memset(acts, 0, sizeof acts);
    acts[0].kind = DG_NEAR_CREATE_ACCOUNT;
    acts[1].kind = DG_NEAR_TRANSFER;
    dg_near_parse_amount("5", &acts[1].deposit, NULL);
    acts[2].kind = DG_NEAR_ADD_KEY;
    memcpy(acts[2].public_key, g_key.pk, 32);
    acts[3].kind = DG_NEAR_DEPLOY_CONTRACT;
    acts[3].code = code.data;
    acts[3].code_len = code.len;
    acts[4] = call("new",
                   "{\"owner_id\":\"ops.test\",\"mpc_contract_id\":\"v1.signer\","
                   "\"mpc_domain_id\":2}",
                   NULL);
    int ok = dg_near_transact(p->rpc, NULL, "ops.test", &g_key, kms, acts, 3, "create KMS", o, e);
    if (ok) {
        dg_near_outcome_free(o);
        ok = dg_near_transact(p->rpc, NULL, kms, &g_key, kms, acts + 3, 2, "deploy KMS", o, e);
    }
    dg_buf_free(&code);
    return ok;
}

TEST(near_send_transfer_and_kms_deploy) {
    nemu_proc p;
    if (!world(&p)) {
        CHECK(!"nemu-rpc did not start");
        return;
    }
    dg_err e = {0};
    dg_near_outcome o;
    dg_near_action t;
    memset(&t, 0, sizeof t);
    t.kind = DG_NEAR_TRANSFER;
    dg_near_parse_amount("2.5", &t.deposit, NULL);
    dg_near_account before, after;
    CHECK(dg_near_view_account(p.rpc, NULL, "bob.test", &before, &e));
    CHECK(dg_near_transact(p.rpc, NULL, "ops.test", &g_key, "bob.test", &t, 1, "transfer", &o, &e));
    CHECK(o.success);
    dg_near_outcome_free(&o);
    CHECK(dg_near_view_account(p.rpc, NULL, "bob.test", &after, &e));
    dg_u256 diff;
    CHECK(dg_u256_sub(&diff, after.amount, before.amount));
    CHECK(dg_u256_cmp(diff, t.deposit) == 0);

    if (!deploy_kms(&p, "kms.ops.test", &o, &e)) dg_test_fail(__FILE__, __LINE__, "%s", e.msg);
    CHECK(o.success);
    dg_near_outcome_free(&o);
    json_t *j = NULL;
    CHECK(dg_near_view_json(p.rpc, NULL, "kms.ops.test", "get_owner", NULL, &j, NULL, &e));
    CHECK_STR(json_string_value(j), "ops.test");
    json_decref(j);
    /* the added key is a full-access key of the new account */
    dg_near_access_key ak;
    CHECK(dg_near_view_access_key(p.rpc, NULL, "kms.ops.test", g_key.pk, &ak, &e));
    CHECK(ak.full_access);

    /* a governance call: 1 yocto, an event in the outcome */
    dg_near_action a =
        call("add_os_image_hash",
             "{\"os_image_hash\":\"0x11111111111111111111111111111111111111111111111111"
             "11111111111111\"}",
             "1");
    CHECK(dg_near_transact(p.rpc, NULL, "ops.test", &g_key, "kms.ops.test", &a, 1, "add image", &o,
                           &e));
    CHECK(o.success);
    CHECK_INT(json_array_size(o.events), 1);
    json_t *ev = json_array_get(o.events, 0);
    CHECK_STR(json_string_value(json_object_get(ev, "event")), "os_image_hash_added");
    CHECK_STR(json_string_value(json_object_get(ev, "standard")), "dstack-kms");
    CHECK_STR(json_string_value(json_object_get(ev, "executor_id")), "kms.ops.test");
    CHECK(o.nlogs >= 1 && strncmp(o.logs[0], "EVENT_JSON:", 11) == 0);
    CHECK(o.gas_burnt > 0);
    dg_near_outcome_free(&o);
    /* the plan: nonce = access key nonce + 1, cost bound, balance */
    dg_near_plan plan;
    CHECK(dg_near_plan_prepare(p.rpc, "ops.test", g_key.pk, "kms.ops.test", &a, 1, "x", &plan, &e));
    CHECK(dg_near_view_access_key(p.rpc, NULL, "ops.test", g_key.pk, &ak, &e));
    CHECK(plan.tx.nonce == ak.nonce + 1);
    CHECK(plan.prepaid_gas == 100 * DG_NEAR_TGAS);
    CHECK(dg_u256_cmp(plan.max_cost, plan.deposit) > 0);
    CHECK(plan.full_access);
    nemu_proc_stop(&p);
}

TEST(near_send_error_classes) {
    nemu_proc p;
    if (!world(&p)) {
        CHECK(!"nemu-rpc did not start");
        return;
    }
    dg_err e = {0};
    dg_near_outcome o;
    CHECK(deploy_kms(&p, "kms.ops.test", &o, &e));
    dg_near_outcome_free(&o);
    /* a panic with its text */
    dg_near_action a = call("add_os_image_hash", "{\"os_image_hash\":\"12\"}", "1");
    CHECK(!dg_near_transact(p.rpc, NULL, "ops.test", &g_key, "kms.ops.test", &a, 1, "add image", &o,
                            &e));
    CHECK_INT(e.code, DG_ERR_REVERT);
    CHECK(strstr(e.msg, "Invalid os_image_hash: expected 64 hex digits") != NULL);
    CHECK(strncmp(e.msg, "add image", 9) == 0);
    CHECK(!o.success);
    dg_near_outcome_free(&o);
    /* an access check: poor.test is not the owner */
    dg_near_action b = call("add_kms_device",
                            "{\"device_id\":\"2222222222222222222222222222222222222222222222222222"
                            "222222222222\"}",
                            "1");
    CHECK(!dg_near_transact(p.rpc, NULL, "poor.test", &g_key, "kms.ops.test", &b, 1, "add device",
                            &o, &e));
    CHECK_INT(e.code, DG_ERR_NOT_OWNER);
    CHECK(strstr(e.msg, "Insufficient permissions") != NULL);
    dg_near_outcome_free(&o);
    /* no contract at the receiver: refused before signing */
    CHECK(!dg_near_transact(p.rpc, NULL, "ops.test", &g_key, "bob.test", &b, 1, "add device", &o,
                            &e));
    CHECK_INT(e.code, DG_ERR_NO_CODE);
    /* funds: the plan refuses a transfer above the balance */
    dg_near_action t;
    memset(&t, 0, sizeof t);
    t.kind = DG_NEAR_TRANSFER;
    dg_near_parse_amount("1", &t.deposit, NULL);
    dg_near_plan plan;
    CHECK(!dg_near_plan_prepare(p.rpc, "poor.test", g_key.pk, "bob.test", &t, 1, "transfer", &plan,
                                &e));
    CHECK_INT(e.code, DG_ERR_FUNDS);
    CHECK(strstr(e.msg, "insufficient funds: poor.test has 0.4") !=
          NULL); /* 0.5 less the gas of the refused call */
    CHECK(strstr(e.msg, "needs up to 1.0") != NULL);
    nemu_proc_stop(&p);
}

TEST(near_send_nonce_retry_and_expiry) {
    nemu_proc p;
    if (!world(&p)) {
        CHECK(!"nemu-rpc did not start");
        return;
    }
    dg_err e = {0};
    dg_near_outcome o;
    dg_near_action t;
    memset(&t, 0, sizeof t);
    t.kind = DG_NEAR_TRANSFER;
    dg_near_parse_amount("0.1", &t.deposit, NULL);
    /* two plans with the same nonce: the second is retried with the node's nonce */
    dg_near_plan p1, p2;
    CHECK(dg_near_plan_prepare(p.rpc, "ops.test", g_key.pk, "bob.test", &t, 1, "first", &p1, &e));
    CHECK(dg_near_plan_prepare(p.rpc, "ops.test", g_key.pk, "bob.test", &t, 1, "second", &p2, &e));
    CHECK(p1.tx.nonce == p2.tx.nonce);
    CHECK(dg_near_plan_submit(p.rpc, NULL, &p1, &g_key, &o, &e));
    dg_near_outcome_free(&o);
    if (!dg_near_plan_submit(p.rpc, NULL, &p2, &g_key, &o, &e))
        dg_test_fail(__FILE__, __LINE__, "retry: %s", e.msg);
    CHECK(p2.tx.nonce == p1.tx.nonce + 1);
    dg_near_outcome_free(&o);
    /* without the retry the stale nonce is an error that says so */
    dg_near_plan p3;
    CHECK(dg_near_plan_prepare(p.rpc, "ops.test", g_key.pk, "bob.test", &t, 1, "third", &p3, &e));
    p3.tx.nonce = p1.tx.nonce;
    dg_near_send_opts so = {.no_nonce_retry = 1};
    CHECK(!dg_near_plan_submit(p.rpc, &so, &p3, &g_key, &o, &e));
    CHECK(strstr(e.msg, "nonce") != NULL);
    dg_near_outcome_free(&o);
    /* an unknown block hash: expired */
    dg_near_plan p4;
    CHECK(dg_near_plan_prepare(p.rpc, "ops.test", g_key.pk, "bob.test", &t, 1, "fourth", &p4, &e));
    memset(p4.tx.block_hash, 9, 32);
    CHECK(!dg_near_plan_submit(p.rpc, NULL, &p4, &g_key, &o, &e));
    CHECK(strstr(e.msg, "expired") != NULL);
    dg_near_outcome_free(&o);
    /* the node's own balance check: NotEnoughBalance with the amounts */
    dg_near_plan p5;
    CHECK(dg_near_plan_prepare(p.rpc, "ops.test", g_key.pk, "bob.test", &t, 1, "fifth", &p5, &e));
    dg_near_action huge = t;
    dg_near_parse_amount("100000", &huge.deposit, NULL);
    p5.tx.actions = &huge;
    CHECK(!dg_near_plan_submit(p.rpc, NULL, &p5, &g_key, &o, &e));
    if (e.code != DG_ERR_FUNDS) dg_test_fail(__FILE__, __LINE__, "%s", e.msg);
    dg_near_outcome_free(&o);
    /* a key that is not the plan's */
    dg_near_key other;
    uint8_t seed[32];
    memset(seed, 2, 32);
    dg_near_key_from_seed(seed, &other);
    CHECK(!dg_near_plan_submit(p.rpc, NULL, &p4, &other, &o, &e));
    CHECK_INT(e.code, DG_ERR_INPUT);
    nemu_proc_stop(&p);
}

TEST(near_credential_files) {
    char dir[] = "/tmp/dg-near-cred-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[256], sk[128] = "ed25519:", pks[DG_NEAR_PUBKEY_LEN];
    uint8_t seed[32];
    memset(seed, 1, 32);
    dg_near_key k, got;
    dg_near_key_from_seed(seed, &k);
    dg_base58_encode(k.sk, 64, sk + 8, sizeof sk - 8);
    dg_near_pubkey_format(k.pk, pks);
    dg_err e = {0};
    CHECK(dg_near_credentials_path(dir, "testnet", "ops.testnet", path, sizeof path, &e));
    char sub[200];
    snprintf(sub, sizeof sub, "%s/.near-credentials", dir);
    mkdir(sub, 0700);
    snprintf(sub, sizeof sub, "%s/.near-credentials/testnet", dir);
    mkdir(sub, 0700);
    FILE *f = fopen(path, "w");
    fprintf(f, "{\"account_id\":\"ops.testnet\",\"public_key\":\"%s\",\"private_key\":\"%s\"}\n",
            pks, sk);
    fclose(f);
    chmod(path, 0644);
    char acc[DG_NEAR_ACCOUNT_MAX + 1];
    CHECK(!dg_near_key_load_file(path, &got, acc, &e));
    CHECK_INT(e.code, DG_ERR_KEY_FILE);
    CHECK(strstr(e.msg, "chmod 600") != NULL);
    chmod(path, 0600);
    CHECK(dg_near_key_load_file(path, &got, acc, &e));
    CHECK_MEM(got.sk, k.sk, 64);
    CHECK_STR(acc, "ops.testnet");
    /* a bare key file, and a JSON whose public key is someone else's */
    f = fopen(path, "w");
    fprintf(f, "  %s\n", sk);
    fclose(f);
    CHECK(dg_near_key_load_file(path, &got, acc, &e));
    CHECK_STR(acc, "");
    f = fopen(path, "w");
    fprintf(f,
            "{\"public_key\":\"ed25519:11111111111111111111111111111111\",\"private_key\":\"%s\"}",
            sk);
    fclose(f);
    CHECK(!dg_near_key_load_file(path, &got, acc, &e));
    CHECK(strstr(e.msg, "does not belong") != NULL);
    CHECK(strstr(e.msg, sk + 8) == NULL);
    CHECK(!dg_near_credentials_path(dir, "../x", "ops.testnet", path, sizeof path, &e));
    unlink(path);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
}

#define MPC_ANSWER "{\"big_y\":\"bls12381g1:Y\",\"big_c\":\"bls12381g1:C\"}"

/* A child process playing the MPC responder: after wait_ms it answers the
 * first pending CKD request of the MPC test double (as ops.test, through the
 * emulator's unsigned nemu_call). Exits 0 if it answered. */
static int respond_later(const char *url, long wait_ms) {
    usleep((useconds_t)wait_ms * 1000);
    const char *urls[1] = {url};
    dg_rpc *rpc = dg_rpc_new(urls, 1, NULL, NULL);
    for (int i = 0; rpc && i < 200; i++, usleep(10000)) {
        json_t *list = NULL, *res = NULL;
        dg_err e = {0};
        if (!dg_near_view_json(rpc, "optimistic", "mpc.test", "pending_ckd_requests", NULL, &list,
                               NULL, &e))
            continue;
        const char *id = json_string_value(json_object_get(json_array_get(list, 0), "request_id"));
        json_t *params =
            id ? json_pack("{s:s, s:s, s:s, s:{s:s, s:o}}", "signer_id", "ops.test", "receiver_id",
                           "mpc.test", "method_name", "respond_ckd", "args", "request_id", id,
                           "response", json_loads(MPC_ANSWER, 0, NULL))
               : NULL;
        json_decref(list);
        if (!params) continue;
        int ok = dg_rpc_call(rpc, "nemu_call", params, &res, &e);
        json_decref(res);
        dg_rpc_free(rpc);
        return ok ? 0 : 1;
    }
    dg_rpc_free(rpc);
    return 1;
}

/* nearcore answers send_tx with TIMEOUT_ERROR when the outcome takes longer
 * than its polling timeout (10 s; nemu-rpc --tx-timeout-ms 200 here); lib/near
 * then polls `tx` until the outcome is final or its own deadline passes. The
 * MPC test double's request yields until a responder answers, or until
 * NEAR's 200-block yield timeout (1 s with 5 ms blocks). */
TEST(near_send_polls_tx_after_timeout_error) {
    static const char *const args[] = {"--tx-timeout-ms", "200", "--block-ms", "5", NULL};
    nemu_proc p;
    if (!world_args(&p, args)) {
        CHECK(!"nemu-rpc did not start");
        return;
    }
    json_decref(nemu_proc_call(&p, "nemu_create_account",
                               "{\"account_id\":\"mpc.test\",\"balance\":\"" NEAR_1 "\"}"));
    json_decref(
        nemu_proc_call(&p, "nemu_deploy", "{\"account_id\":\"mpc.test\",\"module\":\"mpctest\"}"));
    json_decref(nemu_proc_call(&p, "nemu_call",
                               "{\"signer_id\":\"mpc.test\",\"receiver_id\":\"mpc.test\","
                               "\"method_name\":\"new\",\"args\":{\"public_key\":\"bls12381g2:k\","
                               "\"responder\":\"ops.test\"}}"));
    dg_near_action a = call("request_app_private_key",
                            "{\"request\":{\"derivation_path\":\"p\",\"app_public_key\":"
                            "\"bls12381g1:k\",\"domain_id\":2}}",
                            "1");
    dg_err e = {0};
    dg_near_outcome o;
    /* answered 600 ms later: the node timed out at least twice meanwhile */
    pid_t kid = fork();
    if (kid == 0) _exit(respond_later(p.url, 600));
    long long t0 = dg_rpc_now_ms();
    int ok = dg_near_transact(p.rpc, NULL, "ops.test", &g_key, "mpc.test", &a, 1, "ckd", &o, &e);
    long long took = dg_rpc_now_ms() - t0;
    if (!ok) dg_test_fail(__FILE__, __LINE__, "%s", e.msg);
    CHECK(ok && o.value_len == strlen(MPC_ANSWER) && memcmp(o.value, MPC_ANSWER, o.value_len) == 0);
    CHECK(took >= 600);
    if (ok) CHECK_STR(o.final_status, "FINAL");
    dg_near_outcome_free(&o);
    int st = -1;
    waitpid(kid, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    /* no answer and a deadline before NEAR's yield timeout: lib/near gives up */
    dg_near_send_opts so = {.timeout_ms = 500};
    CHECK(!dg_near_transact(p.rpc, &so, "ops.test", &g_key, "mpc.test", &a, 1, "ckd", &o, &e));
    CHECK_INT(e.code, DG_ERR_RPC_TIMEOUT);
    CHECK(strstr(e.msg, "no final outcome yet") != NULL);
    dg_near_outcome_free(&o);
    /* wait_until INCLUDED_FINAL: the node answers the outcome so far (status
     * "Started"), which is no outcome yet: lib/near polls for the final one */
    dg_near_send_opts inc = {.wait_until = "INCLUDED_FINAL", .timeout_ms = 500};
    CHECK(!dg_near_transact(p.rpc, &inc, "ops.test", &g_key, "mpc.test", &a, 1, "ckd", &o, &e));
    if (e.code != DG_ERR_RPC_TIMEOUT) dg_test_fail(__FILE__, __LINE__, "%s", e.msg);
    dg_near_outcome_free(&o);
    /* no answer at all: the yield times out and the transaction fails with the
     * double's message, found by polling */
    CHECK(!dg_near_transact(p.rpc, NULL, "ops.test", &g_key, "mpc.test", &a, 1, "ckd", &o, &e));
    if (!strstr(e.msg, "CKD request timed out")) dg_test_fail(__FILE__, __LINE__, "%s", e.msg);
    dg_near_outcome_free(&o);
    nemu_proc_stop(&p);
}
