/* attest.c — lib/attest's TDX quote verifier as a NEAR contract, for tests.
 *
 * The same sources as the native library (lib/attest and mbed TLS), compiled
 * freestanding to MVP wasm32 with contracts/near's runtime, so the known-answer
 * tests run in the emulator (tests/near/test_attest.c) and the verifier's cost
 * can be measured (bench/attest/wasm-gas). Arguments are binary, not JSON, to keep
 * the test about the verifier:
 *   verify: u32 LE quote length, quote, u32 LE collateral length, collateral,
 *           u64 LE unix time → "ok <status> <advisory,...>" | "fail <reason>"
 *   replay: u32 LE quote length, quote, event log JSON
 *           → "ok <rtmr3 hex> <app-id hex> <compose-hash hex>" | "fail <reason>"
 * With -DATTEST_STANDALONE it is instead a module without imports whose export
 * `run` verifies the embedded tdx_quote (for wasm-interp's instruction count).
 */
#include <stdint.h>

#include "dstackgov/attest.h"

static uint32_t le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static char out[2048];
static uint32_t outn;

static void put(const char *s) {
    while (*s && outn < sizeof out - 1)
        out[outn++] = *s++;
}

static int do_verify(const uint8_t *in, uint32_t n) {
    if (n < 16) return 0;
    uint32_t qn = le32(in);
    if (qn > n - 16) return 0;
    uint32_t cn = le32(in + 4 + qn);
    if (cn != n - 16 - qn) return 0;
    const uint8_t *tp = in + 8 + qn + cn;
    int64_t now = (int64_t)((uint64_t)le32(tp) | (uint64_t)le32(tp + 4) << 32);
    dg_at_verdict v;
    dg_at_err err;
    outn = 0;
    if (dg_at_verify(in + 4, qn, (const char *)in + 8 + qn, cn, now, 0, 0, 0, &v, &err)) {
        put("ok ");
        put(dg_at_status_name(v.status));
        put(" ");
        for (uint32_t i = 0; i < v.n_advisories; i++) {
            if (i) put(",");
            put(v.advisories[i]);
        }
    } else {
        put("fail ");
        put(dg_at_reason_name(err.code));
    }
    return 1;
}

#ifdef ATTEST_STANDALONE
extern const unsigned char kat_quote[], kat_collateral[];
extern const uint32_t kat_quote_len, kat_collateral_len;
static uint8_t buf[32768];

/* Verify the embedded tdx_quote at 2025-07-01T00:00:00Z; 1 when UpToDate. */
__attribute__((export_name("run"))) int run(void) {
    uint32_t n = 0;
    buf[n++] = (uint8_t)kat_quote_len, buf[n++] = (uint8_t)(kat_quote_len >> 8), n += 2;
    for (uint32_t i = 0; i < kat_quote_len; i++)
        buf[n++] = kat_quote[i];
    buf[n++] = (uint8_t)kat_collateral_len, buf[n++] = (uint8_t)(kat_collateral_len >> 8), n += 2;
    for (uint32_t i = 0; i < kat_collateral_len; i++)
        buf[n++] = kat_collateral[i];
    const uint64_t t = 1751328000;
    for (int i = 0; i < 8; i++)
        buf[n++] = (uint8_t)(t >> (8 * i));
    return do_verify(buf, n) && outn >= 11 && out[3] == 'U' && out[4] == 'p';
}
#else
#include "rt.h"

static void put_hex(const uint8_t *p, uint32_t n) {
    static const char d[] = "0123456789abcdef";
    for (uint32_t i = 0; i < n && outn + 2 < sizeof out; i++) {
        out[outn++] = d[p[i] >> 4];
        out[outn++] = d[p[i] & 15];
    }
}

const char nc_standard[] = "dstack-attest-test";

METHOD(verify) {
    uint32_t n;
    const uint8_t *in = (const uint8_t *)rt_input(&n);
    if (!do_verify(in, n)) rt_panic("bad arguments");
    rt_return(out, outn);
}

METHOD(replay) {
    uint32_t n;
    const uint8_t *in = (const uint8_t *)rt_input(&n);
    if (n < 4 || le32(in) > n - 4) rt_panic("bad arguments");
    uint32_t qn = le32(in);
    dg_quote q;
    dg_at_events ev;
    dg_at_err err;
    outn = 0;
    if (dg_quote_parse(in + 4, qn, &q, &err) &&
        dg_at_events_parse((const char *)in + 4 + qn, n - 4 - qn, &ev, &err) &&
        dg_at_events_check_rtmr3(&ev, &q.td, &err)) {
        put("ok ");
        put_hex(ev.rtmr3, 48);
        put(" ");
        put_hex(ev.app_id, ev.app_id_len);
        put(" ");
        put_hex(ev.compose_hash, ev.compose_hash_len);
    } else {
        put("fail ");
        put(dg_at_reason_name(err.code));
    }
    rt_return(out, outn);
}
#endif
