/* test_emu.c — the emulator tested against the NEAR protocol facts it implements.
 *
 * Every test runs the probe contract (tests/near/wasm/probe.c, compiled to wasm
 * and through wasm2c like the real contracts) in a fresh world and checks one
 * rule: storage accounting and staking, rollback of a failed receipt, deposit
 * refunds, promise results in callbacks, promise_return chains, the host
 * functions NEAR forbids in views, account-creation permissions, access keys.
 */
#include <secp256k1.h>
#include <secp256k1_recovery.h>
#include <sodium.h>

#include "nt.h"

#define PROBE "probe"

static nemu *world(void) {
    nemu *w = nemu_new();
    size_t n;
    uint8_t *code = nemu_module_code("probe", &n);
    CHECK(code != NULL);
    CHECK(nemu_create_account(w, "alice", 100 * NEMU_NEAR));
    CHECK(nemu_create_account(w, "bob", 100 * NEMU_NEAR));
    CHECK(nemu_create_account(w, PROBE, 50 * NEMU_NEAR));
    CHECK(nemu_create_account(w, "probe2", 50 * NEMU_NEAR));
    if (code) {
        nemu_set_code(w, PROBE, code, n);
        nemu_set_code(w, "probe2", code, n);
    }
    free(code);
    return w;
}

static nemu_outcome *call(nemu *w, const char *method, const char *args) {
    return nemu_call(w, "alice", PROBE, method, args, 0, NT_GAS);
}

TEST(emu_echo_call_and_view) {
    nemu *w = world();
    NT_OK(call(w, "echo", "hello"), "hello");
    NT_OK(nemu_view(w, PROBE, "echo", "view input"), "view input");
    NT_OK(call(w, "noop", NULL), "");
    nemu_free(w);
}

TEST(emu_storage_write_read_remove_and_usage) {
    nemu *w = world();
    uint64_t u0 = nemu_storage_usage(w, PROBE);
    NT_OK(call(w, "set", "key value"), "0");
    /* a new record costs key + value + 40 bytes */
    CHECK_INT(nemu_storage_usage(w, PROBE), u0 + 3 + 5 + 40);
    NT_OK(call(w, "set", "key v2"), "1:value");
    CHECK_INT(nemu_storage_usage(w, PROBE), u0 + 3 + 2 + 40);
    NT_OK(call(w, "get", "key"), "v2");
    NT_OK(call(w, "has", "key"), "true");
    NT_OK(nemu_view(w, PROBE, "get", "key"), "v2");
    char want[32];
    snprintf(want, sizeof want, "%llu", (unsigned long long)(u0 + 45));
    NT_OK(call(w, "usage", NULL), want);
    NT_OK(call(w, "del", "key"), "v2");
    NT_OK(call(w, "get", "key"), "null");
    NT_OK(call(w, "has", "key"), "false");
    NT_OK(call(w, "del", "key"), "null");
    CHECK_INT(nemu_storage_usage(w, PROBE), u0);
    /* key passed through a register (len = u64::MAX) */
    NT_OK(call(w, "set_from_register", "rk"), "");
    NT_OK(call(w, "get", "rk"), "reg");
    nemu_free(w);
}

TEST(emu_failed_receipt_rolls_back_state_keeps_logs) {
    nemu *w = world();
    uint64_t u0 = nemu_storage_usage(w, PROBE);
    nemu_outcome *o = call(w, "set_then_panic", "k v");
    CHECK(!o->ok);
    CHECK_INT(o->err, NEMU_E_GUEST_PANIC);
    CHECK_STR(o->error, "Smart contract panicked: after write");
    CHECK(nemu_outcome_find_log(o, "before panic") != NULL);
    nemu_outcome_free(o);
    NT_OK(call(w, "get", "k"), "null");
    CHECK_INT(nemu_storage_usage(w, PROBE), u0);
    nemu_free(w);
}

TEST(emu_deposit_credited_before_call_and_refunded_on_failure) {
    nemu *w = world();
    nemu_set_gas_price(w, 0); /* deposit arithmetic; gas is tested in emu_gas_* */
    nemu_u128 a0 = nemu_balance(w, "alice"), p0 = nemu_balance(w, PROBE);
    char want[64];
    nemu_u128_str(p0 + 3 * NEMU_NEAR, want);
    NT_OK(nemu_call(w, "alice", PROBE, "balance", NULL, 3 * NEMU_NEAR, NT_GAS), want);
    CHECK_U128(nemu_balance(w, "alice"), a0 - 3 * NEMU_NEAR);
    CHECK_U128(nemu_balance(w, PROBE), p0 + 3 * NEMU_NEAR);
    NT_OK(nemu_call(w, "alice", PROBE, "deposit", NULL, 7, NT_GAS), "7");
    a0 = nemu_balance(w, "alice");
    p0 = nemu_balance(w, PROBE);
    nemu_outcome *o = nemu_call(w, "alice", PROBE, "panic_msg", "no thanks", 5 * NEMU_NEAR, NT_GAS);
    CHECK(!o->ok);
    CHECK_STR(o->error, "Smart contract panicked: no thanks");
    /* the refund receipt comes from "system" and reaches the predecessor */
    int refunds = 0;
    for (size_t i = 0; i < o->nreceipts; i++)
        if (o->receipts[i].refund && !o->receipts[i].gas_refund &&
            strcmp(o->receipts[i].executor, "alice") == 0)
            refunds++;
    CHECK_INT(refunds, 1);
    nemu_outcome_free(o);
    CHECK_U128(nemu_balance(w, "alice"), a0);
    CHECK_U128(nemu_balance(w, PROBE), p0);
    nemu_free(w);
}

TEST(emu_storage_staking_enforced_after_receipt) {
    nemu *w = world();
    size_t n;
    uint8_t *code = nemu_module_code("probe", &n);
    CHECK(nemu_create_account(w, "poor", 0));
    nemu_set_code(w, "poor", code, n);
    free(code);
    uint64_t usage = nemu_storage_usage(w, "poor");
    CHECK(usage > 770);
    /* exactly enough for the current usage: any new record fails the receipt */
    nemu_outcome *t;
    nemu_action a = {.kind = NEMU_A_TRANSFER, .amount = (nemu_u128)usage * NEMU_YOCTO_PER_BYTE};
    t = nemu_tx(w, "alice", 0, "poor", &a, 1);
    CHECK(t->ok);
    nemu_outcome_free(t);
    nemu_outcome *o = nemu_call(w, "alice", "poor", "set", "abc def", 0, NT_GAS);
    CHECK(!o->ok);
    CHECK_INT(o->err, NEMU_E_LACK_BALANCE_FOR_STATE);
    CHECK(strstr(o->error, "wouldn't have enough balance to cover storage, required to have "
                           "460000000000000000000 yoctoNEAR more") != NULL);
    nemu_outcome_free(o);
    CHECK_INT(nemu_storage_usage(w, "poor"), usage);
    CHECK_INT(nemu_storage_count(w, "poor"), 0);
    /* the attached deposit counts towards the stake: 46 bytes × 10^19 */
    NT_OK(nemu_call(w, "alice", "poor", "set", "abc def", (nemu_u128)46 * NEMU_YOCTO_PER_BYTE,
                    NT_GAS),
          "0");
    NT_FAIL(nemu_call(w, "alice", "poor", "fill", "big 1000", 0, NT_GAS), "cover storage");
    nemu_free(w);
}

TEST(emu_zero_balance_account_below_770_bytes) {
    nemu *w = world();
    /* an account without code and ≤ 770 bytes needs no balance (NEP-448) */
    CHECK(nemu_create_account(w, "empty", 0));
    CHECK(nemu_storage_usage(w, "empty") <= 770);
    nemu_action a = {.kind = NEMU_A_TRANSFER, .amount = 1};
    nemu_outcome *o = nemu_tx(w, "alice", 0, "empty", &a, 1);
    CHECK(o->ok);
    nemu_outcome_free(o);
    CHECK_U128(nemu_balance(w, "empty"), 1);
    nemu_free(w);
}

TEST(emu_views_reject_prohibited_host_functions) {
    nemu *w = world();
    NT_FAIL(nemu_view(w, PROBE, "whoami", NULL),
            "predecessor_account_id is not allowed in view calls");
    NT_FAIL(nemu_view(w, PROBE, "signer_pk", NULL),
            "signer_account_pk is not allowed in view calls");
    NT_FAIL(nemu_view(w, PROBE, "set", "a b"), "storage_write is not allowed in view calls");
    NT_FAIL(nemu_view(w, PROBE, "del", "a"), "storage_remove is not allowed in view calls");
    NT_FAIL(nemu_view(w, PROBE, "gas_left", NULL), "prepaid_gas is not allowed in view calls");
    NT_FAIL(nemu_view(w, PROBE, "xfer", "bob 1"),
            "promise_batch_create is not allowed in view calls");
    NT_FAIL(nemu_view(w, PROBE, "forward", "bob x"),
            "promise_batch_create is not allowed in view calls");
    NT_FAIL(nemu_view(w, PROBE, "on_result", NULL),
            "promise_results_count is not allowed in view calls");
    /* allowed in views: current account, storage reads, balance, and (per
     * nearcore's current logic.rs) attached_deposit, which is 0 there */
    NT_OK(nemu_view(w, PROBE, "current", NULL), PROBE);
    NT_OK(nemu_view(w, PROBE, "deposit", NULL), "0");
    NT_OK(nemu_view(w, PROBE, "get", "nothing"), "null");
    NT_FAIL(nemu_view(w, "nobody", "get", "x"), "does not exist");
    nemu_free(w);
}

TEST(emu_execution_errors) {
    nemu *w = world();
    nemu_set_gas_price(w, 0); /* deposit arithmetic; gas is tested in emu_gas_* */
    nemu_outcome *o = call(w, "panic_plain", NULL);
    CHECK_INT(o->err, NEMU_E_GUEST_PANIC);
    CHECK_STR(o->error, "Smart contract panicked: explicit guest panic");
    nemu_outcome_free(o);
    o = call(w, "trap", NULL);
    CHECK_INT(o->err, NEMU_E_WASM_TRAP);
    CHECK_STR(o->error, "WebAssembly trap: An `unreachable` opcode was executed.");
    nemu_outcome_free(o);
    o = call(w, "oob", NULL);
    CHECK_INT(o->err, NEMU_E_WASM_TRAP);
    CHECK(o->error && strstr(o->error, "Memory out of bounds"));
    nemu_outcome_free(o);
    NT_FAIL(call(w, "bad_register", NULL), "42 does not correspond to existing registers");
    NT_FAIL(call(w, "no_such_method", NULL), "MethodNotFound");
    NT_FAIL(call(w, "takes_arg", NULL), "MethodInvalidSignature");
    NT_FAIL(call(w, "bad_promise", NULL), "7 does not correspond to existing promises");
    NT_FAIL(call(w, "bad_account", NULL), "invalid account id");
    NT_FAIL(call(w, "return_joint", NULL), "Returning joint promise is currently prohibited");
    NT_FAIL(nemu_call(w, "alice", "bob", "echo", "x", 0, NT_GAS),
            "cannot find contract code for account bob");
    /* a missing receiver: the deposit comes back */
    nemu_u128 a0 = nemu_balance(w, "alice");
    NT_FAIL(nemu_call(w, "alice", "ghost", "echo", "x", NEMU_NEAR, NT_GAS),
            "Can't complete the action because account ghost doesn't exist");
    CHECK_U128(nemu_balance(w, "alice"), a0);
    nemu_free(w);
}

TEST(emu_logs_and_limits) {
    nemu *w = world();
    nemu_outcome *o = call(w, "log", "hello log");
    CHECK(o->ok);
    CHECK_INT(nemu_outcome_count_logs(o, "hello log"), 1);
    nemu_outcome_free(o);
    o = call(w, "log_n", "100");
    CHECK(o->ok);
    CHECK_INT(nemu_outcome_count_logs(o, "line"), 100);
    nemu_outcome_free(o);
    NT_FAIL(call(w, "log_n", "101"), "number of logs will exceed the limit 100");
    NT_FAIL(call(w, "log_bad_utf8", NULL), "bad UTF-8");
    o = call(w, "log_cstr", NULL);
    CHECK(nemu_outcome_find_log(o, "nul terminated") != NULL);
    nemu_outcome_free(o);
    o = call(w, "log16", NULL);
    CHECK(o->ok && nemu_outcome_find_log(o, "hi\xc3\xa9") != NULL);
    nemu_outcome_free(o);
    /* 16 KiB total */
    char *big = malloc(16386);
    memset(big, 'a', 16385);
    big[16385] = 0;
    NT_FAIL(call(w, "log", big), "exceeds the limit 16384");
    free(big);
    nemu_free(w);
}

/* The host limits of emu.c's header, each at its boundary (nearcore's
 * limit_config): storage key 2 KiB, storage value / returned value / contract
 * 4 MiB, 1024 promises and 128 input data dependencies per call. */
TEST(emu_host_limits) {
    nemu *w = world();
    NT_OK(call(w, "limit", "key 2048"), "");
    NT_FAIL(call(w, "limit", "key 2049"),
            "The length of a storage key 2049 exceeds the limit 2048");
    NT_FAIL(call(w, "limit", "value 4194305"),
            "The length of a storage value 4194305 exceeds the limit 4194304");
    nemu_outcome *o = call(w, "limit", "return 4194304");
    CHECK(o->ok);
    CHECK_INT(o->value_len, 4194304);
    nemu_outcome_free(o);
    NT_FAIL(call(w, "limit", "return 4194305"),
            "The length of a returned value 4194305 exceeds the limit 4194304");
    NT_FAIL(call(w, "limit", "code 4194305"), "Contract size 4194305 exceeds the limit 4194304");
    NT_OK(call(w, "limit", "promises 1024"), "");
    NT_FAIL(call(w, "limit", "promises 1025"), "Exceeded the maximum number of promises 1024");
    NT_OK(call(w, "limit", "deps 128"), "");
    NT_FAIL(call(w, "limit", "deps 129"),
            "Exceeded the maximum number of input data dependencies 128");
    nemu_free(w);
}

TEST(emu_context_ids_and_memory) {
    nemu *w = world();
    NT_OK(call(w, "whoami", NULL), "probe|alice|alice");
    /* across a cross-contract call the predecessor changes, the signer does not */
    NT_OK(nemu_call(w, "bob", "probe2", "call_then", "probe whoami - 10", 0, NT_GAS),
          "1:ok=probe|probe2|bob");
    NT_OK(call(w, "mem_pages", NULL), "1024");
    NT_OK(call(w, "grow_past_max", NULL), "4294967295");
    uint64_t h = nemu_block_height(w);
    nemu_outcome *o = call(w, "height", NULL);
    CHECK(o->ok && strtoull(nt_val(o), NULL, 10) > h);
    nemu_outcome_free(o);
    nemu_free(w);
}

TEST(emu_hash_host_functions) {
    nemu *w = world();
    NT_OK(call(w, "sha", "abc"),
          "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    NT_OK(call(w, "keccak", NULL),
          "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
    NT_OK(call(w, "keccak5", NULL),
          "0eab42de4c3ceb9235fc91acffe746b29c29a8c366b7c60e4e67c466f36a4304"
          "c00fa9caf9d87976ba469bcbe06713b435f091ef2769fb160cdab33d3670680e");
    NT_OK(call(w, "ripemd", NULL), "9c1185a5c5e9fc54612808977ee8f548b2258d31");
    nemu_free(w);
}

TEST(emu_transfers_balance_and_gas_limits) {
    nemu *w = world();
    nemu_u128 b0 = nemu_balance(w, "bob"), p0 = nemu_balance(w, PROBE);
    NT_OK(call(w, "xfer", "bob 1000000000000000000000000"), "");
    CHECK_U128(nemu_balance(w, "bob"), b0 + NEMU_NEAR);
    CHECK_U128(nemu_balance(w, PROBE), p0 - NEMU_NEAR);
    NT_FAIL(call(w, "overspend", "bob 1000000000000000000000000000"),
            "Exceeded the account balance");
    CHECK_U128(nemu_balance(w, PROBE), p0 - NEMU_NEAR);
    nemu_outcome *o = call(w, "gas_hog", NULL);
    CHECK_INT(o->err, NEMU_E_GAS_EXCEEDED);
    nemu_outcome_free(o);
    /* a callback given 10 TGas by probe2 cannot forward 10 TGas more */
    NT_OK(nemu_call(w, "alice", "probe2", "call_then", "probe gas_hog - 10", 0, NT_GAS),
          "1:failed");
    /* unused gas shared by weight reaches the weighted call */
    o = call(w, "weighted", NULL);
    CHECK(o->ok && strtoull(nt_val(o), NULL, 10) > 100 * NEMU_TGAS);
    nemu_outcome_free(o);
    nemu_free(w);
}

TEST(emu_promise_then_sees_results) {
    nemu *w = world();
    NT_OK(call(w, "call_then", "probe2 echo hi 10"), "1:ok=hi");
    NT_OK(call(w, "call_then", "probe2 panic_msg boom 10"), "1:failed");
    NT_OK(call(w, "call_then", "nobody echo x 10"), "1:failed");
    NT_OK(call(w, "call_then", "probe2 noop - 10"), "1:ok=");
    NT_OK(call(w, "and_then", "probe2 probe2"), "2:ok=first:failed");
    /* promise_return: the transaction's value is the returned promise's */
    NT_OK(call(w, "forward", "probe2 xyz"), "xyz");
    /* callbacks are receipts from the contract itself, signed by the tx signer */
    nemu_outcome *o = call(w, "call_then", "probe2 whoami - 10");
    CHECK_STR(nt_val(o), "1:ok=probe2|probe|alice");
    CHECK(o->nreceipts >= 3);
    size_t last = o->nreceipts - 1;
    while (last && o->receipts[last].refund)
        last--;
    CHECK_STR(o->receipts[last].method, "on_result");
    CHECK_STR(o->receipts[last].predecessor, PROBE);
    nemu_outcome_free(o);
    nemu_free(w);
}

static char *child_args(const char *head, size_t *len) {
    size_t n;
    uint8_t *code = nemu_module_code("probe", &n);
    size_t h = strlen(head);
    char *a = malloc(h + 1 + n);
    memcpy(a, head, h);
    a[h] = '\n';
    memcpy(a + h + 1, code, n);
    free(code);
    *len = h + 1 + n;
    return a;
}

TEST(emu_batch_create_deploy_call_like_a_factory) {
    nemu *w = world();
    size_t len;
    char *args = child_args("kid 2000000000000000000000000 init", &len);
    nemu_u128 p0 = nemu_balance(w, PROBE);
    nemu_outcome *o =
        nemu_call_bytes(w, "alice", PROBE, "make_child", (uint8_t *)args, len, 0, NT_GAS);
    CHECK(o->ok);
    CHECK_STR(nt_val(o), "1:ok=");
    CHECK(nemu_outcome_find_log(o, "init called") != NULL);
    nemu_outcome_free(o);
    free(args);
    CHECK(nemu_account_exists(w, "kid.probe"));
    CHECK_U128(nemu_balance(w, "kid.probe"), 2 * NEMU_NEAR);
    CHECK_U128(nemu_balance(w, PROBE), p0 - 2 * NEMU_NEAR);
    uint8_t h1[32], h2[32];
    CHECK(nemu_code_hash(w, "kid.probe", h1) && nemu_code_hash(w, PROBE, h2));
    CHECK_MEM(h1, h2, 32);
    uint8_t v[8];
    CHECK_INT(nemu_storage_get(w, "kid.probe", (const uint8_t *)"inited", 6, v, sizeof v), 3);
    CHECK_MEM(v, "yes", 3);
    /* the deployed code runs (DeployContract found its compiled module by hash) */
    NT_OK(nemu_call(w, "bob", "kid.probe", "echo", "from child", 0, NT_GAS), "from child");
    /* the new account has no access key: the predecessor was a contract */
    CHECK_INT(nemu_key_count(w, "kid.probe"), 0);
    /* creating it again fails: AccountAlreadyExists, and the 2 NEAR come back */
    args = child_args("kid 2000000000000000000000000 -", &len);
    p0 = nemu_balance(w, PROBE);
    o = nemu_call_bytes(w, "alice", PROBE, "make_child", (uint8_t *)args, len, 0, NT_GAS);
    CHECK_STR(nt_val(o), "1:failed");
    CHECK(nemu_outcome_first_error(o) && strstr(nemu_outcome_first_error(o), "already exists"));
    nemu_outcome_free(o);
    free(args);
    CHECK_U128(nemu_balance(w, PROBE), p0);
    nemu_free(w);
}

TEST(emu_batch_failure_rolls_back_the_whole_batch) {
    nemu *w = world();
    size_t len;
    nemu_u128 p0 = nemu_balance(w, PROBE);
    /* init panics: CreateAccount, Transfer and DeployContract are undone */
    char *args = child_args("kid 2000000000000000000000000 init_fail", &len);
    nemu_outcome *o =
        nemu_call_bytes(w, "alice", PROBE, "make_child", (uint8_t *)args, len, 0, NT_GAS);
    CHECK_STR(nt_val(o), "1:failed");
    CHECK(nemu_outcome_first_error(o) && strstr(nemu_outcome_first_error(o), "init refused"));
    nemu_outcome_free(o);
    free(args);
    CHECK(!nemu_account_exists(w, "kid.probe"));
    CHECK_U128(nemu_balance(w, PROBE), p0);
    /* too little for the code's storage: LackBalanceForState, refund to probe */
    args = child_args("kid 1000000000000000000000 -", &len);
    o = nemu_call_bytes(w, "alice", PROBE, "make_child", (uint8_t *)args, len, 0, NT_GAS);
    CHECK_STR(nt_val(o), "1:failed");
    CHECK(nemu_outcome_first_error(o) && strstr(nemu_outcome_first_error(o), "cover storage"));
    nemu_outcome_free(o);
    free(args);
    CHECK(!nemu_account_exists(w, "kid.probe"));
    CHECK_U128(nemu_balance(w, PROBE), p0);
    nemu_free(w);
}

/* Receipt order (emu.c header, "blocks"): the refund of a failed batch and the
 * data receipt that wakes its callback are produced together; nearcore emits
 * the refund first, so the predecessor has its money back when the callback
 * runs (register_app's refund to the caller relies on this). */
TEST(emu_refund_runs_before_the_callback_of_a_failed_batch) {
    nemu *w = world();
    size_t len;
    char *args = child_args("kid 2000000000000000000000000 init_fail", &len);
    nemu_outcome *o =
        nemu_call_bytes(w, "alice", PROBE, "make_child", (uint8_t *)args, len, 0, NT_GAS);
    free(args);
    CHECK_STR(nt_val(o), "1:failed");
    long refund = -1, batch = -1, cb = -1;
    for (size_t i = 0; i < o->nreceipts; i++) {
        const nemu_receipt_outcome *r = &o->receipts[i];
        if (strcmp(r->executor, "kid.probe") == 0 && batch < 0) batch = (long)i;
        if (r->refund && strcmp(r->executor, PROBE) == 0 && refund < 0) refund = (long)i;
        if (strcmp(r->method, "on_result") == 0) cb = (long)i;
    }
    CHECK(batch >= 0 && refund >= 0 && cb >= 0);
    CHECK(batch < refund);
    CHECK(refund < cb);
    nemu_outcome_free(o);
    nemu_free(w);
}

TEST(emu_create_account_permissions) {
    nemu *w = world();
    NT_OK(call(w, "create_any", "sub.probe"), "1:ok=");
    CHECK(nemu_account_exists(w, "sub.probe"));
    CHECK_INT(nemu_storage_usage(w, "sub.probe"), 100);
    nemu_outcome *o = call(w, "create_any", "x.alice");
    CHECK_STR(nt_val(o), "1:failed");
    CHECK(strstr(nemu_outcome_first_error(o),
                 "A sub-account ID x.alice can't be created by account probe"));
    nemu_outcome_free(o);
    o = call(w, "create_any", "a.sub.probe");
    CHECK_STR(nt_val(o), "1:failed");
    nemu_outcome_free(o);
    o = call(w, "create_any", "shortname");
    CHECK_STR(nt_val(o), "1:failed");
    CHECK(strstr(nemu_outcome_first_error(o), "can only be created by registrar"));
    nemu_outcome_free(o);
    o = call(w, "create_any", "bob");
    CHECK(strstr(nemu_outcome_first_error(o), "because it already exists"));
    nemu_outcome_free(o);
    /* the call itself succeeds; its promise receipt fails on its own */
    o = call(w, "deploy_other", "bob");
    CHECK(o->ok);
    CHECK(
        nemu_outcome_first_error(o) &&
        strstr(nemu_outcome_first_error(o), "Actor probe doesn't have permission to account bob"));
    nemu_outcome_free(o);
    nemu_free(w);
}

TEST(emu_account_ids) {
    CHECK(nemu_valid_account_id("alice.near"));
    CHECK(nemu_valid_account_id("a-b_c.d0"));
    CHECK(nemu_valid_account_id("0123456789012345678901234567890123456789.kms.testnet"));
    CHECK(!nemu_valid_account_id("a"));
    CHECK(!nemu_valid_account_id("Alice"));
    CHECK(!nemu_valid_account_id("a..b"));
    CHECK(!nemu_valid_account_id(".ab"));
    CHECK(!nemu_valid_account_id("ab."));
    CHECK(!nemu_valid_account_id("a-.b"));
    CHECK(!nemu_valid_account_id(
        "01234567890123456789012345678901234567890123456789012345678901234"));
}

TEST(emu_delete_account_and_keys) {
    nemu *w = world();
    uint64_t u0 = nemu_storage_usage(w, PROBE);
    size_t k0 = nemu_key_count(w, PROBE);
    NT_OK(call(w, "add_key", NULL), "");
    CHECK_INT(nemu_key_count(w, PROBE), k0 + 1);
    CHECK_INT(nemu_storage_usage(w, PROBE), u0 + 82); /* 33 + 9 + 40 */
    nemu_outcome *o = call(w, "add_key", NULL);
    CHECK(nemu_outcome_first_error(o) &&
          strstr(nemu_outcome_first_error(o), "already used for an existing access key"));
    nemu_outcome_free(o);
    CHECK_INT(nemu_key_count(w, PROBE), k0 + 1);
    nemu_u128 b0 = nemu_balance(w, "bob"), p0 = nemu_balance(w, PROBE);
    NT_OK(call(w, "self_destruct", "bob"), "");
    CHECK(!nemu_account_exists(w, PROBE));
    CHECK_U128(nemu_balance(w, "bob"), b0 + p0);
    nemu_free(w);
}

TEST(emu_transactions_and_access_keys) {
    nemu *w = world();
    /* a function-call key: no deposit, right receiver and method only */
    nemu_action add = {
        .kind = NEMU_A_ADD_KEY, .fc_key = 1, .fc_receiver = PROBE, .fc_methods = "echo"};
    add.pk[0] = 0;
    memset(add.pk + 1, 0x22, 32);
    nemu_outcome *o = nemu_tx(w, "alice", 0, "alice", &add, 1);
    CHECK(o->ok);
    nemu_outcome_free(o);
    CHECK_INT(nemu_key_count(w, "alice"), 2);
    nemu_action fc = {.kind = NEMU_A_FUNCTION_CALL,
                      .name = "echo",
                      .data = (const uint8_t *)"k",
                      .len = 1,
                      .gas = NT_GAS};
    o = nemu_tx(w, "alice", 1, PROBE, &fc, 1);
    CHECK(o->ok);
    CHECK_STR(nt_val(o), "k");
    nemu_outcome_free(o);
    fc.amount = 1;
    NT_FAIL(nemu_tx(w, "alice", 1, PROBE, &fc, 1), "DepositWithFunctionCall");
    fc.amount = 0;
    fc.name = "set";
    NT_FAIL(nemu_tx(w, "alice", 1, PROBE, &fc, 1), "MethodNameMismatch");
    fc.name = "echo";
    NT_FAIL(nemu_tx(w, "alice", 1, "probe2", &fc, 1), "ReceiverMismatch");
    NT_FAIL(nemu_tx(w, "alice", 5, PROBE, &fc, 1), "AccessKeyNotFound");
    NT_FAIL(nemu_tx(w, "nobody", 0, PROBE, &fc, 1), "SignerDoesNotExist");
    fc.gas = 301 * NEMU_TGAS;
    NT_FAIL(nemu_tx(w, "alice", 0, PROBE, &fc, 1), "TotalPrepaidGasExceeded");
    NT_FAIL(nemu_call(w, "alice", PROBE, "echo", "x", 1000 * NEMU_NEAR, NT_GAS),
            "NotEnoughBalance");
    /* a transfer to a 64-hex implicit account creates it with that key */
    const char *imp = "1111111111111111111111111111111111111111111111111111111111111111";
    nemu_action t = {.kind = NEMU_A_TRANSFER, .amount = NEMU_NEAR};
    o = nemu_tx(w, "alice", 0, imp, &t, 1);
    CHECK(o->ok);
    nemu_outcome_free(o);
    CHECK(nemu_account_exists(w, imp));
    uint8_t pk[33];
    CHECK(nemu_account_key(w, imp, 0, pk));
    CHECK_INT(pk[0], 0);
    CHECK_INT(pk[1], 0x11);
    /* a named account that does not exist is not created by a transfer */
    o = nemu_tx(w, "alice", 0, "nobodyhere", &t, 1);
    CHECK(!o->ok);
    nemu_outcome_free(o);
    CHECK(!nemu_account_exists(w, "nobodyhere"));
    nemu_free(w);
}

TEST(emu_unknown_code_is_a_compilation_error) {
    nemu *w = world();
    static const uint8_t junk[] = "not wasm at all";
    nemu_action d = {.kind = NEMU_A_DEPLOY_CONTRACT, .data = junk, .len = sizeof junk - 1};
    nemu_outcome *o = nemu_tx(w, "bob", 0, "bob", &d, 1);
    CHECK(o->ok);
    nemu_outcome_free(o);
    NT_FAIL(nemu_call(w, "alice", "bob", "echo", "x", 0, NT_GAS), "PrepareError(Deserialization)");
    /* deploying to someone else's account is refused */
    o = nemu_tx(w, "alice", 0, "bob", &d, 1);
    CHECK(!o->ok && o->err == NEMU_E_ACTOR_NO_PERMISSION);
    nemu_outcome_free(o);
    nemu_free(w);
}

TEST(emu_signature_host_functions) {
    nemu *w = world();
    /* ed25519 with a fixed test seed (libsodium signs, the contract verifies) */
    uint8_t seed[32], pk[32], sk[64], in[96 + 5];
    memset(seed, 7, sizeof seed);
    crypto_sign_seed_keypair(pk, sk, seed);
    memcpy(in + 96, "hello", 5);
    crypto_sign_detached(in, NULL, in + 96, 5, sk);
    memcpy(in + 64, pk, 32);
    NT_OK(nemu_call_bytes(w, "alice", PROBE, "ed_verify", in, sizeof in, 0, NT_GAS), "1");
    in[100] ^= 1;
    NT_OK(nemu_call_bytes(w, "alice", PROBE, "ed_verify", in, sizeof in, 0, NT_GAS), "0");
    /* ecrecover with a fixed test key: recovers the signer's uncompressed key */
    secp256k1_context *ctx = secp256k1_context_create(SECP256K1_CONTEXT_SIGN);
    uint8_t key[32], hash[32], buf[98], pub65[65];
    memset(key, 0x42, sizeof key);
    crypto_hash_sha256(hash, (const uint8_t *)"msg", 3);
    secp256k1_ecdsa_recoverable_signature rs;
    CHECK(secp256k1_ecdsa_sign_recoverable(ctx, &rs, hash, key, NULL, NULL));
    int recid;
    memcpy(buf, hash, 32);
    secp256k1_ecdsa_recoverable_signature_serialize_compact(ctx, buf + 32, &recid, &rs);
    buf[96] = (uint8_t)recid;
    buf[97] = 1;
    secp256k1_pubkey pub;
    CHECK(secp256k1_ec_pubkey_create(ctx, &pub, key));
    size_t plen = 65;
    secp256k1_ec_pubkey_serialize(ctx, pub65, &plen, &pub, SECP256K1_EC_UNCOMPRESSED);
    char want[129];
    for (int i = 0; i < 64; i++)
        snprintf(want + 2 * i, 3, "%02x", pub65[1 + i]);
    NT_OK(nemu_call_bytes(w, "alice", PROBE, "ec_recover", buf, sizeof buf, 0, NT_GAS), want);
    buf[96] ^= 1; /* the other recovery id gives another key */
    nemu_outcome *o = nemu_call_bytes(w, "alice", PROBE, "ec_recover", buf, sizeof buf, 0, NT_GAS);
    CHECK(o->ok && strcmp(nt_val(o), want) != 0);
    nemu_outcome_free(o);
    /* the same signature with s' = n - s (and the other parity) recovers the same
     * key, unless the malleability flag asks for low s */
    static const uint8_t order[32] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
                                      0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b,
                                      0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41};
    int borrow = 0;
    for (int i = 31; i >= 0; i--) {
        int d = order[i] - buf[64 + i] - borrow;
        borrow = d < 0;
        buf[64 + i] = (uint8_t)(d + (borrow ? 256 : 0));
    }
    buf[96] = (uint8_t)(recid ^ 1);
    buf[97] = 0;
    NT_OK(nemu_call_bytes(w, "alice", PROBE, "ec_recover", buf, sizeof buf, 0, NT_GAS), want);
    buf[97] = 1;
    NT_OK(nemu_call_bytes(w, "alice", PROBE, "ec_recover", buf, sizeof buf, 0, NT_GAS), "fail");
    buf[96] = 9;
    NT_FAIL(nemu_call_bytes(w, "alice", PROBE, "ec_recover", buf, sizeof buf, 0, NT_GAS),
            "ECRecoverError");
    secp256k1_context_destroy(ctx);
    nemu_free(w);
}

TEST(emu_new_receipts_are_validated) {
    nemu *w = world();
    nemu_u128 p0 = nemu_balance(w, PROBE);
    nemu_outcome *o = call(w, "delete_not_last", "bob");
    CHECK_INT(o->err, NEMU_E_NEW_RECEIPT_VALIDATION);
    CHECK(o->error && strstr(o->error, "DeleteActionMustBeFinal"));
    nemu_outcome_free(o);
    CHECK(nemu_account_exists(w, PROBE));
    CHECK_U128(nemu_balance(w, PROBE), p0);
    NT_OK(call(w, "many_actions", "100"), "");
    NT_FAIL(call(w, "many_actions", "101"), "TotalNumberOfActionsExceeded");
    CHECK_U128(nemu_balance(w, PROBE), p0);
    nemu_free(w);
}

TEST(emu_promise_return_chains_move_data_receivers) {
    nemu *w = world();
    /* probe → probe2.fwd → probe.echo: the tx value is the innermost value */
    NT_OK(call(w, "fwd", "probe2 fwd probe echo deep value"), "deep value");
    /* a callback waiting on probe2.fwd gets the value of the promise it returned */
    NT_OK(call(w, "then_fwd", "probe2 fwd probe echo inner"), "1:ok=inner");
    /* and sees the failure when the innermost call fails */
    NT_OK(call(w, "then_fwd", "probe2 fwd probe panic_msg no"), "1:failed");
    nemu_outcome *o = call(w, "fwd", "probe2 fwd probe panic_msg nope");
    CHECK(!o->ok);
    CHECK_STR(o->error, "Smart contract panicked: nope");
    nemu_outcome_free(o);
    nemu_free(w);
}

TEST(emu_gas_charged_to_the_signer_and_refunded) {
    nemu *w = world();
    nemu_u128 a0 = nemu_balance(w, "alice");
    nemu_outcome *o = nemu_call(w, "alice", PROBE, "echo", "x", 0, NT_GAS);
    CHECK(o->ok);
    /* converting the transaction burns the send fees: receipt + function call
     * (4 + 1 bytes of method and args), nearcore's values */
    CHECK_INT(o->tx_gas_burnt, 108059500000ull + 2319861500000ull + 5 * 2235934ull);
    CHECK(o->tokens_burnt > (nemu_u128)o->tx_gas_burnt * NEMU_GAS_PRICE);
    /* the signer prepaid 30 TGas and more; what was not burnt came back */
    CHECK(o->gas_cost >= (nemu_u128)NT_GAS * NEMU_GAS_PRICE);
    CHECK_U128(a0 - nemu_balance(w, "alice"), o->tokens_burnt);
    int refunds = 0;
    for (size_t i = 0; i < o->nreceipts; i++)
        if (o->receipts[i].gas_refund && strcmp(o->receipts[i].executor, "alice") == 0) refunds++;
    CHECK_INT(refunds, 1);
    CHECK(o->receipts[0].tokens_burnt == (nemu_u128)o->receipts[0].gas_burnt * NEMU_GAS_PRICE);
    nemu_outcome_free(o);
    /* a failed call burns too, and still refunds the rest */
    a0 = nemu_balance(w, "alice");
    o = nemu_call(w, "alice", PROBE, "panic_msg", "no", 0, NT_GAS);
    CHECK(!o->ok && o->tokens_burnt > 0);
    CHECK_U128(a0 - nemu_balance(w, "alice"), o->tokens_burnt);
    nemu_outcome_free(o);
    nemu_free(w);
}

TEST(emu_gas_per_wasm_instruction) {
    /* fill "k N" loops N times in wasm: the instruction cost (exact,
     * meter.mjs) grows with N; host costs are the same */
    nemu *w = world();
    nemu_outcome *a = call(w, "fill", "k 10"), *b = call(w, "fill", "k 60000");
    CHECK(a->ok && b->ok);
    CHECK(b->receipts[0].gas_burnt - a->receipts[0].gas_burnt >= 60000ull * 822756ull);
    nemu_outcome_free(a);
    nemu_outcome_free(b);
    /* a loop that never ends stops when the prepaid gas is used up */
    nemu_outcome *o = nemu_call(w, "alice", PROBE, "spin", NULL, 0, 5 * NEMU_TGAS);
    CHECK(!o->ok);
    CHECK_STR(o->error, "Exceeded the prepaid gas.");
    CHECK(o->receipts[0].gas_burnt <=
          5 * NEMU_TGAS + 108059500000ull + 2319861500000ull + 9 * 2235934ull);
    nemu_outcome_free(o);
    nemu_free(w);
}

TEST(emu_gas_not_enough_balance) {
    nemu *w = world();
    CHECK(nemu_create_account(w, "poor", NEMU_YOCTO_PER_BYTE * 10)); /* 10^20 */
    NT_FAIL(nemu_call(w, "poor", PROBE, "echo", "x", 0, NT_GAS),
            "{\"NotEnoughBalance\":{\"signer_id\":\"poor\",\"balance\":\"100000000000000000000\","
            "\"cost\":\"");
    nemu_set_gas_price(w, 0);
    NT_OK(nemu_call(w, "poor", PROBE, "echo", "x", 0, NT_GAS), "x");
    nemu_free(w);
}

/* yield/resume (NEP-519): the probe's yield_wait yields a callback to
 * yield_done and returns it, so the transaction stays open until a resume. */
static void yield_id_hex(nemu *w, char hex[65]) {
    uint8_t id[32];
    CHECK_INT(nemu_storage_get(w, PROBE, (const uint8_t *)"yid", 3, id, sizeof id), 32);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", id[i]);
}

TEST(emu_yield_resume_delivers_the_payload_to_the_callback) {
    nemu *w = world();
    nemu_outcome *o = call(w, "yield_wait", "20");
    CHECK(o->pending && !o->ok && !o->error);
    CHECK_INT(nemu_yields_waiting(w), 1);
    uint64_t first = o->first_receipt;
    /* the yielding call ran and returned the yield's callback receipt */
    CHECK(o->nreceipts >= 1 && o->receipts[0].ok && o->receipts[0].returned != 0);
    nemu_outcome_free(o);
    /* other transactions run meanwhile; the open one stays open */
    NT_OK(call(w, "echo", "meanwhile"), "meanwhile");
    o = nemu_tx_poll(w, first);
    CHECK(o && o->pending);
    nemu_outcome_free(o);
    /* the resume succeeds once; the callback runs in the next block */
    NT_OK(call(w, "resume", "hello"), "1");
    CHECK_INT(nemu_yields_waiting(w), 0);
    o = nemu_tx_poll(w, first);
    CHECK(o && !o->pending && o->ok);
    if (o) CHECK_STR(nt_val(o), "resumed:hello|arg");
    size_t cb = 0;
    for (size_t i = 0; o && i < o->nreceipts; i++)
        if (strcmp(o->receipts[i].method, "yield_done") == 0) cb = i;
    CHECK(cb > 0);
    if (o && cb) CHECK_STR(o->receipts[cb].predecessor, PROBE);
    nemu_outcome_free(o);
    /* collected: the world forgot it */
    CHECK(nemu_tx_poll(w, first) == NULL);
    /* resuming again finds nothing */
    NT_OK(call(w, "resume", "again"), "0");
    nemu_free(w);
}

TEST(emu_yield_times_out_after_200_blocks) {
    nemu *w = world();
    nemu_outcome *o = call(w, "yield_wait", "20");
    CHECK(o->pending);
    uint64_t first = o->first_receipt, made = o->receipts[0].height;
    nemu_outcome_free(o);
    /* nearcore's yield_timeout_length_in_blocks: at block made + 200 the
     * yield resolves as failed, its callback runs in the block after */
    nemu_advance_blocks(w, made + 199 - nemu_block_height(w));
    o = nemu_tx_poll(w, first);
    CHECK(o && o->pending);
    nemu_outcome_free(o);
    CHECK_INT(nemu_yields_waiting(w), 1);
    /* the callback runs at made + 201, its gas refund in the block after */
    nemu_advance_blocks(w, 3);
    CHECK_INT(nemu_yields_waiting(w), 0);
    o = nemu_tx_poll(w, first);
    CHECK(o && !o->pending && !o->ok);
    if (o) CHECK_STR(o->error, "Smart contract panicked: yield timed out");
    if (o) CHECK_INT(o->receipts[o->nreceipts - 1].height >= made + 201, 1);
    nemu_outcome_free(o);
    /* too late to resume */
    NT_OK(call(w, "resume", "late"), "0");
    nemu_free(w);
}

TEST(emu_yield_resume_rules) {
    nemu *w = world();
    nemu_outcome *o = call(w, "yield_wait", "20");
    uint64_t first = o->first_receipt;
    nemu_outcome_free(o);
    char hex[65], args[1200];
    yield_id_hex(w, hex);
    /* only the account that yielded may resume */
    snprintf(args, sizeof args, "%s intruder", hex);
    NT_OK(nemu_call(w, "alice", "probe2", "resume", args, 0, NT_GAS), "0");
    /* a resume in a call that fails does not happen */
    NT_FAIL(call(w, "resume_then_panic", NULL), "Smart contract panicked: after resume");
    CHECK_INT(nemu_yields_waiting(w), 1);
    /* a malformed data id and a payload over max_yield_payload_size are host errors */
    NT_FAIL(call(w, "resume_bad_id", NULL), "yield resumption token is malformed");
    memset(args, 'p', 1025);
    args[1025] = 0;
    NT_FAIL(call(w, "resume", args),
            "Yield resume payload is 1025 bytes which exceeds the 1024 byte limit");
    CHECK_INT(nemu_yields_waiting(w), 1);
    /* yields and resumes are prohibited in views */
    o = nemu_view(w, PROBE, "yield_wait", "20");
    CHECK(!o->ok && o->error && strstr(o->error, "promise_yield_create is not allowed in view"));
    nemu_outcome_free(o);
    /* 1024 bytes is the limit; the resume is charged nearcore's
     * yield_resume_base + yield_resume_byte per payload byte */
    args[1024] = 0;
    o = call(w, "resume", args);
    CHECK_STR(nt_val(o), "1");
    CHECK(o->receipts[0].gas_burnt > 1195627285210ull + 1024 * 47683715ull);
    nemu_outcome_free(o);
    o = nemu_tx_poll(w, first);
    CHECK(o && o->ok && o->value_len == 8 + 1024 + 4);
    nemu_outcome_free(o);
    /* a yield resumed by the call that made it: the second resume returns 0 */
    o = call(w, "yield_and_resume", NULL);
    CHECK(!o->pending);
    CHECK_STR(nt_val(o), "resumed:same|");
    CHECK(nemu_outcome_find_log(o, "1 0") != NULL);
    nemu_outcome_free(o);
    /* a yield that is not returned: the transaction is open all the same */
    o = call(w, "yield_wait", "20 keep");
    CHECK(o->pending);
    first = o->first_receipt;
    nemu_outcome_free(o);
    NT_OK(call(w, "resume", "x"), "1");
    o = nemu_tx_poll(w, first);
    CHECK(o && !o->pending && o->ok && o->value_len == 0);
    nemu_outcome_free(o);
    nemu_free(w);
}
