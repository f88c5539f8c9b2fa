/* test_attest.c — lib/attest's verifier compiled to wasm32 and run in nemu
 * (an EMULATION of the NEAR runtime, see emu.h): the same known answers as
 * the native tests (tests/unit/test_attest.c) with the real vectors. The
 * module is tests/near/wasm/attest.c, built by mk/attest.mk from the same
 * sources as the native library. */
#include "nt.h"

static uint8_t *slurp(const char *name, size_t *n) {
    char path[256];
    snprintf(path, sizeof path, "tests/data/attest/%s", name);
    return (uint8_t *)dg_test_slurp(path, n);
}

static void le32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static nemu *world(void) {
    nemu *w = nemu_new();
    size_t n;
    uint8_t *code = nemu_module_code("attest", &n);
    CHECK(code != NULL);
    CHECK(nemu_create_account(w, "alice", 100 * NEMU_NEAR));
    CHECK(nemu_create_account(w, "attest", 50 * NEMU_NEAR));
    if (code) nemu_set_code(w, "attest", code, n);
    free(code);
    return w;
}

/* verify(quote file, collateral file, unix time, one byte of the quote
 * flipped at flip (or -1)) → the module's answer (caller frees the outcome). */
static nemu_outcome *verify(nemu *w, const char *qf, const char *cf, uint64_t t, long flip) {
    size_t qn, cn;
    uint8_t *q = slurp(qf, &qn), *c = slurp(cf, &cn);
    CHECK(q && c);
    if (flip >= 0) q[flip] ^= 1;
    size_t n = 4 + qn + 4 + cn + 8;
    uint8_t *a = malloc(n);
    le32(a, (uint32_t)qn);
    memcpy(a + 4, q, qn);
    le32(a + 4 + qn, (uint32_t)cn);
    memcpy(a + 8 + qn, c, cn);
    for (int i = 0; i < 8; i++)
        a[8 + qn + cn + i] = (uint8_t)(t >> (8 * i));
    nemu_outcome *o = nemu_call_bytes(w, "alice", "attest", "verify", a, n, 0, NT_GAS);
    free(a);
    free(q);
    free(c);
    return o;
}

TEST(attest_wasm_tdx_quote_up_to_date) {
    nemu *w = world();
    nemu_outcome *o = verify(w, "tdx_quote", "tdx_quote_collateral.json", 1751328000, -1);
    CHECK_STR(nt_val(o), "ok UpToDate ");
    /* nemu meters the exact wasm instruction count at regular_op_cost
     * (meter.mjs): bench/attest/wasm-gas counts ~141 TGas for the verifier
     * alone; host calls and argument bytes come on top. */
    uint64_t gas = o->nreceipts ? o->receipts[0].gas_burnt : 0;
    CHECK(gas > 130 * NEMU_TGAS && gas < 160 * NEMU_TGAS);
    if (getenv("NT_FIGURES"))
        printf("attest: verify(tdx_quote) burnt %.1f TGas in nemu\n", (double)gas / 1e12);
    nemu_outcome_free(o);
    /* 2025-07-20: past the TCB info's nextUpdate */
    NT_OK(verify(w, "tdx_quote", "tdx_quote_collateral.json", 1752969600, -1),
          "fail tcb-info-time");
    NT_OK(verify(w, "tdx_quote", "tdx_quote_collateral.json", 1751328000, 48 + 136),
          "fail quote-signature");
    NT_OK(verify(w, "tdx_quote", "tdx_quote_collateral.json", 1751328000, 636 + 128 + 6 + 384 + 7),
          "fail qe-report-signature");
    nemu_free(w);
}

TEST(attest_wasm_outdated_quote_has_no_tcb_level) {
    nemu *w = world();
    /* 2026-03-01 */
    NT_OK(verify(w, "tdx_quote_outdated", "tdx_quote_outdated_collateral.json", 1772323200, -1),
          "fail no-tcb-level");
    nemu_free(w);
}

TEST(attest_wasm_event_log_replays_to_rtmr3) {
    nemu *w = world();
    size_t n;
    char *r = (char *)slurp("dstack_quote_report.json", &n);
    CHECK(r != NULL);
    const char *qh = strstr(r, "\"quote\"");
    qh = strchr(qh + 7, '"') + 1;
    size_t qlen = (size_t)(strchr(qh, '"') - qh) / 2;
    uint8_t *a = malloc(4 + qlen + n);
    le32(a, (uint32_t)qlen);
    CHECK_INT(dg_test_unhex(qh, a + 4, qlen), qlen);
    memcpy(a + 4 + qlen, r, n);
    nemu_outcome *o = nemu_call_bytes(w, "alice", "attest", "replay", a, 4 + qlen + n, 0, NT_GAS);
    CHECK(o->ok && strncmp(nt_val(o), "ok ", 3) == 0);
    CHECK(strstr(nt_val(o), " 3763bc34552cf3a27ff71ad5f7a90471562a1a2d ") != NULL);
    nemu_outcome_free(o);
    /* a flipped RTMR3 byte in the quote */
    a[4 + 48 + 136 + 48 * 4 + 48 * 3] ^= 1;
    NT_OK(nemu_call_bytes(w, "alice", "attest", "replay", a, 4 + qlen + n, 0, NT_GAS),
          "fail rtmr3");
    free(a);
    free(r);
    nemu_free(w);
}
