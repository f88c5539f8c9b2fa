/* test_rootkey.c — request_kms_root_key in nemu (an EMULATION of the NEAR
 * runtime, see emu.h): the KMS contract verifies a worker's TDX quote at block
 * time and only then asks the MPC contract for the root key.
 *
 * The quotes are signed by the attest suite's test PKI (tests/attest/pki.mjs)
 * and made by tests/near/rootkey-fixture.mjs into $NT_ROOTKEY (make test-near
 * runs it first): one good worker per key and one mutation per check. They
 * verify only in the TEST BUILD of the KMS (module kmstest, kms-test.wasm),
 * whose owner sets the trust anchor; the production kms.wasm must refuse them.
 */
#include "nt.h"
#include "ntc.h"

static char *fixture(const char *name) {
    const char *d = getenv("NT_ROOTKEY");
    if (!d) {
        fprintf(stderr, "NT_ROOTKEY is not set (make test-near makes the fixture)\n");
        return NULL;
    }
    char path[512];
    snprintf(path, sizeof path, "%s/%s", d, name);
    size_t n;
    return dg_test_slurp(path, &n);
}

#define WORKER_A "worker-a.near"
#define WORKER_B "worker-b.near"

/* The KMS (test build unless production), the owner's trust anchor,
 * measurements and compose hash, two workers with the fixture's keys. */
static nemu *rk_world(int production) {
    nemu *w = nemu_new();
    uint8_t ka[33] = {0}, kb[33] = {0};
    memset(ka + 1, 0xa1, 32);
    memset(kb + 1, 0xb2, 32);
    nemu_create_account(w, KMS, 50 * NEMU_NEAR);
    nemu_create_account(w, OWNER, 100 * NEMU_NEAR);
    nemu_create_account(w, MPC, 50 * NEMU_NEAR);
    nemu_create_account_key(w, WORKER_A, 100 * NEMU_NEAR, ka);
    nemu_create_account_key(w, WORKER_B, 100 * NEMU_NEAR, kb);
    char *at = fixture("at");
    CHECK(at != NULL);
    if (at) CHECK(nemu_set_timestamp(w, strtoull(at, NULL, 10) * 1000000000ull));
    free(at);
    NT_OK(nt_deploy_init(w, KMS, production ? "kms" : "kmstest",
                         "{\"owner_id\":\"" OWNER "\",\"mpc_contract_id\":\"" MPC
                         "\",\"mpc_domain_id\":2}"),
          NULL);
    char *root = fixture("root.json"), *meas = fixture("measurements.json"),
         *allowed = fixture("allowed");
    CHECK(root && meas && allowed);
    if (!production) NT_OK(nt_call1(w, OWNER, KMS, "test_set_trust_anchor", root), NULL);
    NT_OK(nt_call1(w, OWNER, KMS, "add_kms_measurements", meas), NULL);
    NT_OK(nt_call1(w, OWNER, KMS, "add_kms_compose_hash",
                   fmt("{\"compose_hash\":\"%.64s\"}", allowed ? allowed : "")),
          NULL);
    free(root);
    free(meas);
    free(allowed);
    return w;
}

static nemu_outcome *request(nemu *w, const char *worker, const char *fixture_case,
                             nemu_u128 deposit) {
    char name[64];
    snprintf(name, sizeof name, "%s.json", fixture_case);
    char *args = fixture(name);
    CHECK(args != NULL);
    nemu_outcome *o =
        nemu_call(w, worker, KMS, "request_kms_root_key", args ? args : "{}", deposit, NT_GAS);
    free(args);
    return o;
}

/* Receipts the request sent to the MPC contract's request_app_private_key. */
static size_t mpc_calls(const nemu_outcome *o) {
    size_t n = 0;
    for (size_t i = 0; i < o->nreceipts; i++)
        if (strcmp(o->receipts[i].executor, MPC) == 0 &&
            strcmp(o->receipts[i].method, "request_app_private_key") == 0)
            n++;
    return n;
}

/* Refund receipts (deposits given back, not gas) to account. */
static size_t refunds_to(const nemu_outcome *o, const char *account) {
    size_t n = 0;
    for (size_t i = 0; i < o->nreceipts; i++)
        if (o->receipts[i].refund && !o->receipts[i].gas_refund &&
            strcmp(o->receipts[i].executor, account) == 0)
            n++;
    return n;
}

static size_t step_events(const nemu_outcome *o, const char *step, const char *result) {
    return nemu_outcome_count_logs(o, fmt("\"step\":\"%s\",\"result\":\"%s\"", step, result));
}

static const char *const steps[] = {
    "quote",    "td_report", "tcb_status",   "report_data", "measurements",
    "tcb_info", "rtmr3",     "compose_hash", "app_compose", "compose_hash_allowed"};
#define NSTEPS (sizeof steps / sizeof steps[0])

TEST(rootkey_attested_worker_reaches_mpc) {
    nemu *w = rk_world(0);
    nemu_outcome *o = request(w, WORKER_A, "good", NT_YOCTO);
    for (size_t i = 0; i < NSTEPS; i++)
        CHECK_INT(step_events(o, steps[i], "passed"), 1);
    CHECK(nemu_outcome_find_log(o, "KMS attestation verified, requesting key from MPC") != NULL);
    CHECK_INT(mpc_calls(o), 1);
    /* no MPC contract is deployed here: its receipt fails, and the yoctoNEAR
     * the KMS attached comes back to the KMS */
    CHECK(!o->ok && o->error && strstr(o->error, "cannot find contract code"));
    CHECK_INT(refunds_to(o, KMS), 1);
    uint64_t gas = 0;
    for (size_t i = 0; i < o->nreceipts; i++)
        if (strcmp(o->receipts[i].executor, KMS) == 0) gas += o->receipts[i].gas_burnt;
    if (getenv("NT_FIGURES"))
        printf("rootkey: request_kms_root_key burnt %.1f TGas in the KMS (nemu)\n",
               (double)gas / 1e12);
    nemu_outcome_free(o);
    /* worker B with its own quote */
    o = request(w, WORKER_B, "good-b", NT_YOCTO);
    CHECK_INT(step_events(o, "compose_hash_allowed", "passed"), 1);
    CHECK_INT(mpc_calls(o), 1);
    nemu_outcome_free(o);
    nemu_free(w);
}

/* One mutation per check: the step named fails (with an event), every step
 * before it passed, the request panics and the MPC is never asked. */
TEST(rootkey_each_check_refuses) {
    static const struct {
        const char *fixture, *step;
    } cases[] = {
        {"quote-signature", "quote"},
        {"tcb-out-of-date", "tcb_status"},
        {"tcb-advisory", "tcb_status"},
        {"report-data", "report_data"},
        {"unknown-measurements", "measurements"},
        {"tcb-info", "tcb_info"},
        {"rtmr3", "rtmr3"},
        {"compose-hash", "compose_hash"},
        {"app-compose", "app_compose"},
        {"compose-allowed", "compose_hash_allowed"},
    };
    nemu *w = rk_world(0);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        nemu_outcome *o = request(w, WORKER_A, cases[c].fixture, NT_YOCTO);
        CHECK(!o->ok && o->error && strstr(o->error, "Attestation verification failed"));
        CHECK_INT(step_events(o, cases[c].step, "failed"), 1);
        size_t i = 0;
        while (i < NSTEPS && strcmp(steps[i], cases[c].step) != 0)
            CHECK_INT(step_events(o, steps[i++], "passed"), 1);
        CHECK_INT(mpc_calls(o), 0);
        CHECK_INT(refunds_to(o, WORKER_A), 1);
        if (o->ok || step_events(o, cases[c].step, "failed") != 1)
            fprintf(stderr, "case %s: %s\n", cases[c].fixture, o->error ? o->error : "ok");
        nemu_outcome_free(o);
    }
    nemu_free(w);
}

TEST(rootkey_panics_in_upstream_order) {
    nemu *w = rk_world(0);
    NT_FAIL(request(w, WORKER_A, "good", 0), "Requires attached deposit of exactly 1 yoctoNEAR");
    /* a refused request gives the deposit back to the worker */
    nemu_outcome *o = request(w, WORKER_A, "good", 2);
    CHECK(!o->ok && o->error &&
          strstr(o->error, "Requires attached deposit of exactly 1 yoctoNEAR"));
    CHECK_INT(refunds_to(o, WORKER_A), 1);
    nemu_outcome_free(o);
    const char *base = "\"worker_public_key\":\"bls12381g1:x\"";
    NT_FAIL(
        nemu_call(w, WORKER_A, KMS, "request_kms_root_key",
                  fmt("{\"quote_hex\":\"0g\",\"collateral\":\"[\",\"tcb_info\":\"[\",%s}", base), 1,
                  NT_GAS),
        "Invalid quote hex");
    NT_FAIL(
        nemu_call(w, WORKER_A, KMS, "request_kms_root_key",
                  fmt("{\"quote_hex\":\"00\",\"collateral\":\"{}\",\"tcb_info\":\"[\",%s}", base),
                  1, NT_GAS),
        "Invalid collateral format");
    char *good = fixture("good.json");
    CHECK(good != NULL);
    /* the good collateral, a tcb_info without event_log */
    char *tcb = good ? strstr(good, "\"tcb_info\":") : NULL;
    if (tcb) {
        char *args = malloc(strlen(good) + 128);
        snprintf(args, strlen(good) + 128, "%.*s\"tcb_info\":\"{}\",%s}", (int)(tcb - good), good,
                 base);
        NT_FAIL(nemu_call(w, WORKER_A, KMS, "request_kms_root_key", args, 1, NT_GAS),
                "Invalid TCB info format");
        free(args);
    }
    free(good);
    nemu_free(w);
}

/* The production kms.wasm trusts Intel's root only: the test PKI's quote
 * fails its first check, and it has no way to change the anchor. */
TEST(rootkey_production_build_refuses_test_pki) {
    nemu *w = rk_world(1);
    nemu_outcome *o = request(w, WORKER_A, "good", NT_YOCTO);
    CHECK(!o->ok && o->error && strstr(o->error, "Attestation verification failed"));
    CHECK_INT(step_events(o, "quote", "failed"), 1);
    CHECK_INT(mpc_calls(o), 0);
    nemu_outcome_free(o);
    NT_FAIL(nt_call1(w, OWNER, KMS, "test_set_trust_anchor", "{\"root_der_hex\":\"00\"}"),
            "MethodNotFound");
    nemu_free(w);
}

#define M4(a, b, c, d)                                                                             \
    "{\"mrtd\":\"" a "\",\"rtmr0\":\"" b "\",\"rtmr1\":\"" c "\",\"rtmr2\":\"" d "\"}"
#define H96(x)                                                                                     \
    x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x

TEST(rootkey_measurements_are_governed) {
    nemu *w = kms_world();
    const char *m = M4(H96("aa"), H96("bb"), H96("cc"), H96("dd"));
    NT_FAIL(nt_call1(w, ALICE, KMS, "add_kms_measurements", m), "");
    nemu_outcome *o = nt_call1(w, OWNER, KMS, "add_kms_measurements", m);
    CHECK_INT(nt_event_count(o, "dstack-kms", "kms_measurements_added", m), 1);
    nemu_outcome_free(o);
    NT_OK(nemu_view(w, KMS, "get_kms_measurements", NULL), fmt("[%s]", m));
    NT_OK(nemu_view(w, KMS, "is_kms_measurements_allowed", m), "true");
    /* upper case and 0x normalize to the same entry */
    NT_OK(nemu_view(w, KMS, "is_kms_measurements_allowed",
                    M4("0x" H96("AA"), H96("bb"), H96("cc"), H96("dd"))),
          "true");
    NT_FAIL(
        nt_call1(w, OWNER, KMS, "add_kms_measurements", M4(H96("aa"), H96("bb"), H96("cc"), "dd")),
        "Invalid rtmr2: expected 96 hex digits");
    NT_FAIL(nt_call1(w, OWNER, KMS, "remove_kms_measurements",
                     M4(H96("ab"), H96("bb"), H96("cc"), H96("dd"))),
            "Measurements not found");
    o = nt_call1(w, OWNER, KMS, "remove_kms_measurements", m);
    CHECK_INT(nt_event_count(o, "dstack-kms", "kms_measurements_removed", m), 1);
    nemu_outcome_free(o);
    NT_OK(nemu_view(w, KMS, "get_kms_measurements", NULL), "[]");
    NT_OK(nemu_view(w, KMS, "is_kms_measurements_allowed", m), "false");
    nemu_free(w);
}

/* Upstream stores compose hashes as given, so one malformed entry makes every
 * request panic "Invalid compose hash"; here entries are checked when added. */
TEST(rootkey_malformed_compose_hash_is_refused_when_added) {
    nemu *w = kms_world();
    NT_FAIL(nt_call1(w, OWNER, KMS, "add_kms_compose_hash", "{\"compose_hash\":\"0xzz\"}"),
            "Invalid compose_hash: expected 64 hex digits");
    NT_FAIL(nt_call1(w, OWNER, KMS, "add_kms_compose_hash",
                     fmt("{\"compose_hash\":\"%s00\"}", hex64('a'))),
            "Invalid compose_hash: expected 64 hex digits");
    NT_OK(nemu_view(w, KMS, "get_kms_allowed_compose_hashes", NULL), "[]");
    nemu_free(w);
}

/* ------------------------------------------------------------ the MPC leg */
#define RESPONDER "responder.near"
#define ANSWER "{\"big_y\":\"bls12381g1:Y\",\"big_c\":\"bls12381g1:C\"}"

/* The world above with the MPC TEST DOUBLE (contracts/near/test/mpc-test.c) at
 * MPC: its requests yield until the responder answers. */
static nemu *mpc_world(void) {
    nemu *w = rk_world(0);
    nemu_create_account(w, RESPONDER, 10 * NEMU_NEAR);
    nemu_create_account(w, ALICE, 10 * NEMU_NEAR);
    NT_OK(nt_deploy_init(w, MPC, "mpctest",
                         "{\"public_key\":\"bls12381g2:mpk\",\"responder\":\"" RESPONDER "\"}"),
          NULL);
    return w;
}

/* The pending requests as the MPC double lists them. */
static char *pending(nemu *w) {
    nemu_outcome *o = nemu_view(w, MPC, "pending_ckd_requests", NULL);
    CHECK(o->ok);
    char *s = strdup(nt_val(o));
    nemu_outcome_free(o);
    return s;
}

/* The request_id of the only pending request, for respond_ckd. */
static const char *only_request_id(nemu *w) {
    static char id[65];
    char *p = pending(w);
    const char *k = strstr(p, "\"request_id\":\"");
    CHECK(k != NULL && !strstr(k + 1, "\"request_id\""));
    snprintf(id, sizeof id, "%.64s", k ? k + 14 : "");
    free(p);
    return id;
}

static nemu_outcome *respond(nemu *w, const char *who, const char *id) {
    return nemu_call(w, who, MPC, "respond_ckd",
                     fmt("{\"request_id\":\"%s\",\"response\":" ANSWER "}", id), 0, NT_GAS);
}

TEST(rootkey_mpc_answer_is_the_transaction_result) {
    nemu *w = mpc_world();
    nemu_u128 kms0 = nemu_balance(w, KMS);
    nemu_outcome *o = request(w, WORKER_A, "good", NT_YOCTO);
    /* the MPC contract yielded: the worker's transaction waits for the answer */
    CHECK(o->pending && !o->ok);
    CHECK_INT(mpc_calls(o), 1);
    uint64_t first = o->first_receipt;
    nemu_outcome_free(o);
    /* the MPC call's arguments, and who paid: the KMS, 1 yoctoNEAR */
    char *p = pending(w);
    CHECK(strstr(p, "\"predecessor_id\":\"" KMS "\",\"derivation_path\":\"kms-root-key\","
                    "\"app_public_key\":\"bls12381g1:test-worker\",\"domain_id\":2,"
                    "\"deposit\":\"1\"") != NULL);
    free(p);
    const char *id = only_request_id(w);
    /* only the responder answers; an unknown request is refused */
    NT_FAIL(respond(w, ALICE, id), "Only the responder may answer CKD requests");
    NT_FAIL(respond(w, RESPONDER, hex64('e')), "Unknown request_id");
    o = respond(w, RESPONDER, id);
    CHECK_STR(nt_val(o), "true");
    if (getenv("NT_FIGURES"))
        printf("rootkey: respond_ckd (the responder's answer) burnt %.2f TGas (nemu)\n",
               (double)(o->tx_gas_burnt + o->receipts[0].gas_burnt) / 1e12);
    nemu_outcome_free(o);
    o = nemu_tx_poll(w, first);
    CHECK(o && !o->pending);
    if (o) CHECK_STR(nt_val(o), ANSWER);
    /* the gas of a successful request, MPC leg included (every receipt but refunds) */
    uint64_t gas = o ? o->tx_gas_burnt : 0;
    for (size_t i = 0; o && i < o->nreceipts; i++)
        if (!o->receipts[i].refund) gas += o->receipts[i].gas_burnt;
    if (getenv("NT_FIGURES")) {
        printf("rootkey: request_kms_root_key with the MPC leg burnt %.1f TGas (nemu)\n",
               (double)gas / 1e12);
        printf("rootkey:   transaction %.2f TGas\n", o ? (double)o->tx_gas_burnt / 1e12 : 0.0);
        for (size_t i = 0; o && i < o->nreceipts; i++)
            if (!o->receipts[i].refund)
                printf("rootkey:   %s %s %.2f TGas\n", o->receipts[i].executor,
                       o->receipts[i].method, (double)o->receipts[i].gas_burnt / 1e12);
    }
    nemu_outcome_free(o);
    /* the KMS paid the yoctoNEAR the worker attached on to the MPC contract */
    CHECK_U128(nemu_balance(w, KMS), kms0);
    NT_OK(nemu_view(w, MPC, "pending_ckd_requests", NULL), "[]");
    NT_OK(nemu_view(w, MPC, "public_key", "{\"domain_id\":2}"), "\"bls12381g2:mpk\"");
    NT_FAIL(nemu_view(w, MPC, "public_key", "{\"domain_id\":1}"), "Unknown domain_id 1");
    nemu_free(w);
}

TEST(rootkey_refused_worker_makes_no_mpc_request) {
    nemu *w = mpc_world();
    nemu_outcome *o = request(w, WORKER_A, "report-data", NT_YOCTO);
    CHECK(!o->pending && !o->ok && strstr(o->error, "Attestation verification failed"));
    CHECK_INT(mpc_calls(o), 0);
    nemu_outcome_free(o);
    NT_OK(nemu_view(w, MPC, "pending_ckd_requests", NULL), "[]");
    nemu_free(w);
}

TEST(rootkey_mpc_timeout_fails_the_request) {
    nemu *w = mpc_world();
    nemu_outcome *o = request(w, WORKER_B, "good-b", NT_YOCTO);
    CHECK(o->pending);
    uint64_t first = o->first_receipt;
    nemu_outcome_free(o);
    const char *id = only_request_id(w);
    char saved[65];
    snprintf(saved, sizeof saved, "%s", id);
    /* no answer within NEAR's yield timeout (200 blocks) */
    nemu_advance_blocks(w, 203);
    o = nemu_tx_poll(w, first);
    CHECK(o && !o->pending && !o->ok);
    if (o)
        CHECK_STR(o->error, "Smart contract panicked: CKD request timed out: no response from "
                            "the MPC network within 200 blocks");
    nemu_outcome_free(o);
    /* no longer listed; a late answer is refused by NEAR and the request forgotten */
    NT_OK(nemu_view(w, MPC, "pending_ckd_requests", NULL), "[]");
    o = respond(w, RESPONDER, saved);
    CHECK_STR(nt_val(o), "false");
    CHECK(nemu_outcome_find_log(o, "no longer waiting") != NULL);
    nemu_outcome_free(o);
    NT_FAIL(respond(w, RESPONDER, saved), "Unknown request_id");
    nemu_free(w);
}

TEST(rootkey_mpc_double_deposit_and_domain) {
    nemu *w = mpc_world();
#define REQ(d)                                                                                     \
    "{\"request\":{\"derivation_path\":\"p\",\"app_public_key\":\"bls12381g1:k\",\"domain_id\":" d \
    "}}"
    NT_FAIL(nemu_call(w, ALICE, MPC, "request_app_private_key", REQ("2"), 0, NT_GAS),
            "Attached deposit is lower than required");
    NT_FAIL(nemu_call(w, ALICE, MPC, "request_app_private_key", REQ("7"), 1, NT_GAS),
            "Unknown domain_id 7");
    /* less than 10 TGas prepaid is refused, as by the real contract (the KMS
     * attaches 100: rootkey_mpc_answer_is_the_transaction_result passes this check) */
    NT_FAIL(nemu_call(w, ALICE, MPC, "request_app_private_key", REQ("2"), 1, 10 * NEMU_TGAS - 1),
            "Provided gas is lower than required. Provided: 9999999999999, Required: "
            "10000000000000 (10 TGas)");
    NT_OK(nemu_view(w, MPC, "pending_ckd_requests", NULL), "[]");
    /* the excess over 1 yoctoNEAR goes back at once; the request waits */
    nemu_outcome *o = nemu_call(w, ALICE, MPC, "request_app_private_key", REQ("2"), 5, NT_GAS);
    CHECK(o->pending);
    size_t back = 0;
    for (size_t i = 0; i < o->nreceipts; i++)
        back += strcmp(o->receipts[i].executor, ALICE) == 0 &&
                strcmp(o->receipts[i].predecessor, MPC) == 0 && o->receipts[i].ok;
    CHECK_INT(back, 1);
    nemu_outcome_free(o);
    char *p = pending(w);
    CHECK(strstr(p, "\"predecessor_id\":\"" ALICE "\",\"derivation_path\":\"p\"") != NULL);
    free(p);
    nemu_free(w);
}
