/* test_attest.c — the TDX quote verifier and the dstack event log against
 * real vectors (tests/data/attest, see its README), and the reasons it gives
 * for mutations of them. tests/attest/ has the mutations that need a PKI of
 * our own (chains, CRLs, TCB levels); tests/attest/xcheck.mjs checks the
 * same verdicts with @phala/dcap-qvl. */
#include <stdio.h>
#include <stdlib.h>

#include "../test.h"
#include "dstackgov/attest.h"
#include "dstackgov/hash.h"

static char *slurp(const char *name, size_t *n) {
    char path[512];
    snprintf(path, sizeof path, "%s/attest/%s", dg_test_data_dir(), name);
    return dg_test_slurp(path, n);
}

static int64_t at(const char *t) {
    int64_t v = 0;
    CHECK(dg_at_parse_time(t, strlen(t), &v));
    return v;
}

/* Verify name/collateral at time t; returns the reason (DG_AT_OK = 0). */
static int run(const uint8_t *q, size_t qn, const char *c, size_t cn, const char *t,
               dg_quote *quote, dg_at_verdict *v) {
    dg_at_err err = {0};
    int ok = dg_at_verify(q, qn, c, cn, at(t), NULL, 0, quote, v, &err);
    CHECK_INT(ok, err.code == DG_AT_OK);
    if (!ok && getenv("ATTEST_DEBUG"))
        fprintf(stderr, "  %s: %s\n", dg_at_reason_name(err.code), err.msg);
    return err.code;
}

TEST(attest_intel_root_is_intels) {
    uint8_t h[32], want[32];
    dg_sha256(dg_at_intel_root, dg_at_intel_root_len, h);
    dg_test_unhex("44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3", want, 32);
    CHECK_MEM(h, want, 32);
}

TEST(attest_parse_time) {
    int64_t v;
    CHECK(dg_at_parse_time("1970-01-01T00:00:00Z", 20, &v) && v == 0);
    CHECK(dg_at_parse_time("2025-07-01T00:00:00Z", 20, &v) && v == 1751328000);
    CHECK(dg_at_parse_time("2024-02-29T12:34:56.789Z", 24, &v) && v == 1709210096);
    CHECK(!dg_at_parse_time("2025-02-29T00:00:00Z", 20, &v));
    CHECK(!dg_at_parse_time("2025-07-01T00:00:00", 19, &v));
    CHECK(!dg_at_parse_time("2025-07-01T00:00:00+02:00", 25, &v));
    CHECK(!dg_at_parse_time("2025-13-01T00:00:00Z", 20, &v));
}

TEST(attest_tdx_quote_up_to_date) {
    size_t qn, cn;
    char *q = slurp("tdx_quote", &qn), *c = slurp("tdx_quote_collateral.json", &cn);
    CHECK(q && c);
    dg_quote quote;
    dg_at_verdict v;
    CHECK_INT(run((uint8_t *)q, qn, c, cn, "2025-07-01T00:00:00Z", &quote, &v), DG_AT_OK);
    CHECK_STR(dg_at_status_name(v.status), "UpToDate");
    CHECK_INT(v.n_advisories, 0);
    CHECK_INT(v.test_anchor, 0);
    CHECK_INT(quote.version, 4);
    CHECK_INT(quote.td_version, 10);
    uint8_t fmspc[6];
    dg_test_unhex("b0c06f000000", fmspc, 6);
    CHECK_MEM(v.fmspc, fmspc, 6);
    CHECK_INT(v.pce_svn, 11);
    /* Intel's root passed explicitly is not a test anchor */
    dg_at_err err = {0, ""};
    CHECK(dg_at_verify((uint8_t *)q, qn, c, cn, at("2025-07-01T00:00:00Z"), dg_at_intel_root,
                       dg_at_intel_root_len, NULL, &v, &err));
    CHECK_INT(v.test_anchor, 0);
    /* any instant of the collateral's validity, and not outside it */
    CHECK_INT(run((uint8_t *)q, qn, c, cn, "2025-06-19T10:32:27Z", NULL, NULL), DG_AT_OK);
    CHECK_INT(run((uint8_t *)q, qn, c, cn, "2025-07-19T10:00:35Z", NULL, NULL), DG_AT_OK);
    CHECK_INT(run((uint8_t *)q, qn, c, cn, "2025-06-19T10:16:02Z", NULL, NULL),
              DG_AT_TCB_INFO_TIME);
    CHECK_INT(run((uint8_t *)q, qn, c, cn, "2025-07-19T10:16:04Z", NULL, NULL),
              DG_AT_TCB_INFO_TIME);
    /* QE identity issued 16 minutes after the TCB info */
    CHECK_INT(run((uint8_t *)q, qn, c, cn, "2025-06-19T10:20:00Z", NULL, NULL),
              DG_AT_QE_IDENTITY_TIME);
    /* the PCK CRL expires 16 minutes before the TCB info */
    CHECK_INT(run((uint8_t *)q, qn, c, cn, "2025-07-19T10:10:00Z", NULL, NULL), DG_AT_CRL);
    free(q);
    free(c);
}

TEST(attest_outdated_quote_has_no_tcb_level) {
    size_t qn, cn;
    char *q = slurp("tdx_quote_outdated", &qn),
         *c = slurp("tdx_quote_outdated_collateral.json", &cn);
    CHECK(q && c);
    dg_quote quote;
    CHECK_INT(run((uint8_t *)q, qn, c, cn, "2026-03-01T00:00:00Z", &quote, NULL),
              DG_AT_NO_TCB_LEVEL);
    CHECK_INT(quote.version, 5);
    CHECK_INT(quote.td_version, 15);
    /* the other quote with this collateral: another FMSPC */
    size_t q2n;
    char *q2 = slurp("tdx_quote", &q2n);
    CHECK_INT(run((uint8_t *)q2, q2n, c, cn, "2026-03-01T00:00:00Z", NULL, NULL), DG_AT_FMSPC);
    free(q);
    free(c);
    free(q2);
}

/* One byte of the quote flipped at off → reason. */
static void flip_quote(size_t off, int want) {
    size_t qn, cn;
    char *q = slurp("tdx_quote", &qn), *c = slurp("tdx_quote_collateral.json", &cn);
    q[off] ^= 0x01;
    int got = run((uint8_t *)q, qn, c, cn, "2025-07-01T00:00:00Z", NULL, NULL);
    if (got != want)
        dg_test_fail(__FILE__, __LINE__, "byte %zu: reason %s, expected %s", off,
                     dg_at_reason_name(got), dg_at_reason_name(want));
    free(q);
    free(c);
}

TEST(attest_quote_mutations) {
    /* header 0..48, TD report 48..632, then length, signature, key, cert data */
    flip_quote(12, DG_AT_QUOTE_SIGNATURE);                          /* QE vendor id (signed) */
    flip_quote(48 + 136 + 10, DG_AT_QUOTE_SIGNATURE);               /* MRTD */
    flip_quote(48 + 520 + 5, DG_AT_QUOTE_SIGNATURE);                /* report data */
    flip_quote(636 + 3, DG_AT_QUOTE_SIGNATURE);                     /* signature r */
    flip_quote(636 + 64 + 3, DG_AT_QE_REPORT_BINDING);              /* attestation key */
    flip_quote(636 + 128 + 6 + 100, DG_AT_QE_REPORT_SIGNATURE);     /* QE report body */
    flip_quote(636 + 128 + 6 + 384 + 7, DG_AT_QE_REPORT_SIGNATURE); /* QE report signature */
    flip_quote(0, DG_AT_QUOTE_UNSUPPORTED); /* version 5 without a body descriptor... */
    flip_quote(4, DG_AT_QUOTE_UNSUPPORTED); /* tee type 0x80 */
    flip_quote(2, DG_AT_QUOTE_UNSUPPORTED); /* key type 3 */
    flip_quote(632, DG_AT_QUOTE_FORMAT);    /* signature data length */
}

TEST(attest_quote_truncations_are_format_errors) {
    size_t qn, cn;
    char *q = slurp("tdx_quote", &qn), *c = slurp("tdx_quote_collateral.json", &cn);
    /* the real quote is zero-padded after its signature data (as configfs-tsm
     * hands it out): every cut before the padding is a format error */
    size_t end = 636 + ((uint8_t)q[632] | (uint8_t)q[633] << 8 | (size_t)(uint8_t)q[634] << 16);
    CHECK(end < qn);
    for (size_t n = 0; n < end; n += (n < 700 || n > end - 200 ? 1 : 97)) {
        dg_quote quote;
        dg_at_err err = {0};
        CHECK(!dg_quote_parse((uint8_t *)q, n, &quote, &err));
        CHECK(err.code == DG_AT_QUOTE_FORMAT);
    }
    dg_quote quote;
    CHECK(dg_quote_parse((uint8_t *)q, qn, &quote, NULL));
    free(q);
    free(c);
}

/* Replace the first occurrence of from by to (same length) in collateral. */
static void mutate_collateral(const char *from, const char *to, int want) {
    size_t qn, cn;
    char *q = slurp("tdx_quote", &qn), *c = slurp("tdx_quote_collateral.json", &cn);
    char *p = strstr(c, from);
    CHECK(p != NULL);
    if (p) memcpy(p, to, strlen(to));
    int got = run((uint8_t *)q, qn, c, cn, "2025-07-01T00:00:00Z", NULL, NULL);
    if (got != want)
        dg_test_fail(__FILE__, __LINE__, "%s -> %s: reason %s, expected %s", from, to,
                     dg_at_reason_name(got), dg_at_reason_name(want));
    free(q);
    free(c);
}

TEST(attest_collateral_mutations) {
    mutate_collateral("\"tcb_info_signature\": \"027e", "\"tcb_info_signature\": \"027f",
                      DG_AT_TCB_INFO_SIGNATURE);
    mutate_collateral("\"qe_identity_signature\": \"d6d7", "\"qe_identity_signature\": \"d6d8",
                      DG_AT_QE_IDENTITY_SIGNATURE);
    mutate_collateral("\\\"tcbEvaluationDataNumber\\\":17,\\\"tdxModule",
                      "\\\"tcbEvaluationDataNumber\\\":18,\\\"tdxModule", DG_AT_TCB_INFO_SIGNATURE);
    mutate_collateral("\\\"isvprodid\\\":2", "\\\"isvprodid\\\":3", DG_AT_QE_IDENTITY_SIGNATURE);
    mutate_collateral("\"tcb_info\": \"{", "\"tcb_info\": \"[", DG_AT_TCB_INFO_FORMAT);
    mutate_collateral("\"root_ca_crl\": \"30", "\"root_ca_crl\": \"31", DG_AT_COLLATERAL_FORMAT);
    mutate_collateral("\"pck_crl\": \"30", "\"pck_crl\": \"3g", DG_AT_COLLATERAL_FORMAT);
    mutate_collateral("\"pck_crl\":", "\"pck_crX\":", DG_AT_COLLATERAL_FORMAT);
}

TEST(attest_wrong_anchor_fails_first_chain) {
    size_t qn, cn;
    char *q = slurp("tdx_quote", &qn), *c = slurp("tdx_quote_collateral.json", &cn);
    /* a DER certificate that is not Intel's root: the PCK leaf of the quote
     * is not a CA, so the root CRL cannot be issued by it */
    dg_quote quote;
    CHECK(dg_quote_parse((uint8_t *)q, qn, &quote, NULL));
    dg_at_err err = {0};
    uint8_t junk[4] = {0x30, 0x02, 0x05, 0x00};
    CHECK(!dg_at_verify((uint8_t *)q, qn, c, cn, at("2025-07-01T00:00:00Z"), junk, sizeof junk,
                        NULL, NULL, &err));
    CHECK_INT(err.code, DG_AT_COLLATERAL_FORMAT);
    free(q);
    free(c);
}

TEST(attest_event_log_replays_to_rtmr3) {
    size_t n;
    char *r = slurp("dstack_quote_report.json", &n);
    CHECK(r != NULL);
    dg_at_events ev;
    dg_at_err err = {0};
    CHECK(dg_at_events_parse(r, n, &ev, &err));
    CHECK_INT(ev.n_events, 28);
    CHECK_INT(ev.n_imr3, 8);
    CHECK_INT(ev.app_id_len, 20);
    CHECK_INT(ev.compose_hash_len, 32);
    CHECK_INT(ev.n_compose_hash, 1);
    CHECK_INT(ev.instance_id_len, 20);
    CHECK(strstr(ev.key_provider, "\"name\":\"local-sgx\"") != NULL);
    uint8_t app_id[20];
    dg_test_unhex("3763bc34552cf3a27ff71ad5f7a90471562a1a2d", app_id, 20);
    CHECK_MEM(ev.app_id, app_id, 20);
    /* the quote in the same report */
    const char *qh = strstr(r, "\"quote\": \"");
    if (!qh) qh = strstr(r, "\"quote\":\"");
    CHECK(qh != NULL);
    qh = strchr(strchr(qh, ':'), '"') + 1;
    size_t qlen = (size_t)(strchr(qh, '"') - qh) / 2;
    uint8_t *q = malloc(qlen);
    dg_test_unhex(qh, q, qlen);
    dg_quote quote;
    CHECK(dg_quote_parse(q, qlen, &quote, &err));
    CHECK(dg_at_events_check_rtmr3(&ev, &quote.td, &err));
    /* a changed payload byte: the listed digest no longer matches */
    char *p = strstr(r, "3763bc34552cf3a27ff71ad5f7a90471562a1a2d");
    p[0] = '4';
    CHECK(!dg_at_events_parse(r, n, &ev, &err));
    CHECK_INT(err.code, DG_AT_EVENT_LOG);
    p[0] = '3';
    /* a changed RTMR3 in the quote */
    quote.td.rtmr[3][0] ^= 1;
    CHECK(dg_at_events_parse(r, n, &ev, &err));
    CHECK(!dg_at_events_check_rtmr3(&ev, &quote.td, &err));
    CHECK_INT(err.code, DG_AT_RTMR3);
    /* app-compose: the compose-hash event is not SHA-256 of this text */
    CHECK(!dg_at_events_check_compose(&ev, "{}", 2, &err));
    CHECK_INT(err.code, DG_AT_APP_COMPOSE);
    free(q);
    free(r);
}
