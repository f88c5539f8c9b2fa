/* test_rpc_anvil.c — suite `rpc`: the JSON-RPC client against a real anvil,
 * and our signatures against Foundry's cast, both from node_modules.
 *
 * Each test starts its own anvil on 127.0.0.1 with --port 0 (its stdout goes
 * to a temp file where the chosen port is read back) and stops it by PID.
 * The only keys used are anvil's well-known public TEST keys.
 */
#include "../test.h"
#include "anvil.h"
#include "dstackgov/hash.h"
#include "dstackgov/rpc.h"
#include "dstackgov/secp.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* anvil account 0 — a public TEST key, never for real funds */
#define TEST_KEY0 "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
#define TEST_ADDR0 "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"

static int cmp_ll(const void *x, const void *y) {
    long long a = *(const long long *)x, b = *(const long long *)y;
    return (a > b) - (a < b);
}

TEST(anvil_chain_id_block_number_batch) {
    struct anvil a;
    if (!anvil_start(&a)) return;
    dg_rpc *r = connect_anvil(&a);
    dg_err e = {0};
    json_t *res = NULL;
    CHECK(dg_rpc_call(r, "eth_chainId", NULL, &res, &e));
    CHECK_STR(json_string_value(res), "0x7a69"); /* 31337 */
    json_decref(res);
    CHECK(dg_rpc_call(r, "eth_blockNumber", NULL, &res, &e));
    CHECK_STR(json_string_value(res), "0x0");
    json_decref(res);
    CHECK(dg_rpc_call(r, "evm_mine", NULL, NULL, &e));
    CHECK(dg_rpc_call(r, "eth_blockNumber", NULL, &res, &e));
    CHECK_STR(json_string_value(res), "0x1");
    json_decref(res);

    dg_rpc_req q[4] = {
        {.method = "eth_chainId"},
        {.method = "eth_blockNumber"},
        {.method = "eth_getBalance", .params = json_pack("[s,s]", TEST_ADDR0, "latest")},
        {.method = "no_such_method"},
    };
    CHECK(dg_rpc_batch(r, q, 4, &e));
    CHECK(q[0].ok && q[1].ok && q[2].ok && !q[3].ok);
    CHECK_STR(json_string_value(q[0].result), "0x7a69");
    CHECK_STR(json_string_value(q[1].result), "0x1");
    CHECK_STR(json_string_value(q[2].result), "0x21e19e0c9bab2400000"); /* 10000 ether */
    CHECK_INT(q[3].error_code, -32601);
    CHECK(strstr(q[3].error, "no_such_method: ") == q[3].error);
    dg_rpc_req_clear(q, 4);

    unsigned long calls, errors;
    dg_rpc_stats(r, 0, &calls, &errors);
    CHECK_INT(calls, 5);
    CHECK_INT(errors, 0);
    dg_rpc_free(r);
    anvil_stop(&a);

    /* anvil gone: unreachable, named by host and port */
    r = connect_anvil(&a);
    CHECK(!dg_rpc_call(r, "eth_chainId", NULL, NULL, &e));
    CHECK_INT(e.code, DG_ERR_RPC_UNREACHABLE);
    CHECK(strstr(e.msg, a.url) && strstr(e.msg, "connection refused"));
    dg_rpc_free(r);
}

/* Deploy a contract whose code reverts with data 0xdeadbeef, call it. */
TEST(anvil_revert_data_reaches_caller) {
    struct anvil a;
    if (!anvil_start(&a)) return;
    dg_rpc *r = connect_anvil(&a);
    dg_err e = {0};
    /* runtime: PUSH4 deadbeef PUSH1 0 MSTORE PUSH1 4 PUSH1 28 REVERT (13 bytes);
     * init: PUSH13 runtime PUSH1 0 MSTORE PUSH1 13 PUSH1 19 RETURN */
    const char *init = "0x6c63deadbeef6000526004601cfd600052600d6013f3";
    json_t *hash = NULL, *rcpt = NULL, *res = NULL;
    CHECK(dg_rpc_call(r, "eth_sendTransaction",
                      json_pack("[{s:s,s:s}]", "from", TEST_ADDR0, "data", init), &hash, &e));
    if (!hash) goto out;
    /* anvil mines right after answering: the receipt is null for a moment */
    for (int i = 0; i < 200 && (!rcpt || json_is_null(rcpt)); i++) {
        json_decref(rcpt);
        rcpt = NULL;
        if (i) usleep(10000);
        CHECK(dg_rpc_call(r, "eth_getTransactionReceipt", json_pack("[O]", hash), &rcpt, &e));
    }
    const char *addr = json_string_value(json_object_get(rcpt, "contractAddress"));
    CHECK(addr != NULL);
    if (!addr) goto out;
    CHECK(!dg_rpc_call(r, "eth_call",
                       json_pack("[{s:s,s:s},s]", "to", addr, "data", "0x", "latest"), &res, &e));
    CHECK(res == NULL);
    CHECK_INT(e.code, DG_ERR_RPC_RESPONSE);
    CHECK(strstr(e.msg, "eth_call: execution reverted") != NULL);
    CHECK_STR(dg_rpc_last_error_data(r), "0xdeadbeef");
    CHECK_INT(dg_rpc_last_error_code(r), 3);
    /* the next successful call clears it */
    CHECK(dg_rpc_call(r, "eth_chainId", NULL, NULL, &e));
    CHECK(dg_rpc_last_error_data(r) == NULL);
out:
    json_decref(hash);
    json_decref(rcpt);
    dg_rpc_free(r);
    anvil_stop(&a);
}

/* Latency of one call on a kept-alive connection (the daemon's miss path). */
TEST(anvil_call_latency_keepalive) {
    struct anvil a;
    if (!anvil_start(&a)) return;
    dg_rpc *r = connect_anvil(&a);
    dg_err e = {0};
    enum { N = 400 };
    static long long us[N];
    for (int i = 0; i < N + 20; i++) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        int ok = dg_rpc_call(
            r, "eth_call",
            json_pack("[{s:s,s:s},s]", "to", TEST_ADDR0, "data", "0x12345678", "latest"), NULL, &e);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (!ok) {
            CHECK(ok);
            break;
        }
        if (i >= 20) /* warm-up excluded */
            us[i - 20] = (t1.tv_sec - t0.tv_sec) * 1000000LL + (t1.tv_nsec - t0.tv_nsec) / 1000;
    }
    qsort(us, N, sizeof us[0], cmp_ll);
    printf("rpc: eth_call on anvil over one kept-alive connection: p50 %lld us, p99 %lld us\n",
           us[N / 2], us[N * 99 / 100]);
    /* generous bound: catches a reconnect per call or a Nagle/delayed-ACK stall (40 ms) */
    CHECK(us[N / 2] < 20000);

    /* the daemon's miss: one batch of three reads */
    for (int i = 0; i < N + 20; i++) {
        dg_rpc_req q[3] = {
            {.method = "eth_call",
             .params = json_pack("[{s:s,s:s},s]", "to", TEST_ADDR0, "data", "0x01", "0x0")},
            {.method = "eth_call",
             .params = json_pack("[{s:s,s:s},s]", "to", TEST_ADDR0, "data", "0x02", "0x0")},
            {.method = "eth_getBlockByNumber", .params = json_pack("[s,b]", "0x0", 0)},
        };
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        int ok = dg_rpc_batch(r, q, 3, &e) && q[0].ok && q[1].ok && q[2].ok;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        dg_rpc_req_clear(q, 3);
        if (!ok) {
            CHECK(ok);
            break;
        }
        if (i >= 20)
            us[i - 20] = (t1.tv_sec - t0.tv_sec) * 1000000LL + (t1.tv_nsec - t0.tv_nsec) / 1000;
    }
    qsort(us, N, sizeof us[0], cmp_ll);
    printf("rpc: batch of 3 reads on anvil: p50 %lld us, p99 %lld us\n", us[N / 2],
           us[N * 99 / 100]);
    CHECK(us[N / 2] < 20000);
    dg_rpc_free(r);
    anvil_stop(&a);
}

/* Our signature equals cast's for the same key and raw hash. */
TEST(cast_wallet_sign_no_hash_matches) {
    char cast[512];
    dg_test_tool_path(cast, sizeof cast, "cast");
    uint8_t priv[32];
    dg_err e = {0};
    CHECK(dg_privkey_parse(TEST_KEY0, priv, &e));
    for (int i = 0; i < 4; i++) {
        uint8_t hash[32], sig[64];
        int recid;
        dg_keccak256(&i, sizeof i, hash);
        CHECK(dg_secp_sign(priv, hash, sig, &recid, &e));
        char cmd[1024], hex[65], want[140], got[140];
        for (int j = 0; j < 32; j++)
            snprintf(hex + 2 * j, 3, "%02x", hash[j]);
        /* the key on argv is anvil's public TEST key */
        snprintf(cmd, sizeof cmd, "%s wallet sign --no-hash --private-key %s 0x%s", cast, TEST_KEY0,
                 hex);
        FILE *p = popen(cmd, "r");
        CHECK(p != NULL);
        if (!p) break;
        if (!fgets(got, sizeof got, p)) got[0] = 0;
        pclose(p);
        got[strcspn(got, "\r\n")] = 0;
        char *w = want + snprintf(want, sizeof want, "0x");
        for (int j = 0; j < 64; j++)
            w += snprintf(w, 3, "%02x", sig[j]);
        snprintf(w, 3, "%02x", 27 + recid);
        CHECK_STR(got, want);
    }
    dg_wipe(priv, sizeof priv);
}
