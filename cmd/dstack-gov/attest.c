/* attest.c — `attest verify`: what a TDX quote proves, before anyone trusts it.
 *
 * An operator reads a CVM's quote (and its dstack event log) here before
 * whitelisting what it runs: the verdict of lib/attest's DCAP verifier with
 * Intel's collateral, the TCB status and advisories, every measurement, and
 * the facts the event log's RTMR3 replay proves (app-id, compose-hash, ...).
 * Without collateral nothing is signature-checked, and the output and exit
 * code say so plainly (ATTEST_UNVERIFIED), so a script cannot mistake a parse
 * for a verification.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "dstackgov/attest.h"
#include "dstackgov/hex.h"

/* Exit code of a quote that was parsed and replayed but not verified. */
#define ATTEST_UNVERIFIED 20

static int read_all(const char *flag, const char *path, dg_buf *b, dg_err *err) {
    dg_buf_init(b);
    if (!cli_read_file(path, b, (size_t)16 << 20, err)) return dg_err_wrap(err, "%s", flag);
    return 1;
}

/* A quote file holds the raw bytes, or hex text (0x optional, trailing
 * whitespace allowed), as `dstack` tools print it. */
static int quote_bytes(dg_buf *b, dg_err *err) {
    size_t n = b->len;
    while (n && (b->data[n - 1] == '\n' || b->data[n - 1] == '\r' || b->data[n - 1] == ' '))
        n--;
    const char *s = (const char *)b->data;
    if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s += 2, n -= 2;
    int hex = n >= 2 && n % 2 == 0;
    for (size_t i = 0; hex && i < n; i++)
        hex = strchr("0123456789abcdefABCDEF", s[i]) && s[i];
    if (!hex) return 1; /* binary */
    uint8_t *tmp = malloc(n / 2);
    if (!tmp) return dg_err_set(err, DG_ERR_NOMEM, "--quote: out of memory");
    int ok = dg_hex_decode(s, n, tmp, n / 2, err);
    if (ok) {
        memcpy(b->data, tmp, n / 2);
        b->len = n / 2;
    }
    free(tmp);
    return ok ? 1 : dg_err_wrap(err, "--quote");
}

static void put_hex(cli *c, json_t *o, const char *label, const char *key, const uint8_t *p,
                    size_t n) {
    char *h = malloc(2 * n + 1);
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++)
        h[2 * i] = d[p[i] >> 4], h[2 * i + 1] = d[p[i] & 15];
    h[2 * n] = 0;
    if (o) json_object_set_new(o, key, json_string(h));
    if (label) cli_say(c, "  %-16s %s", label, h);
    free(h);
}

static void print_quote(cli *c, const dg_quote *q) {
    json_t *o = c->json ? json_object() : NULL;
    cli_say(c, "quote:              v%u, TDX %s report", q->version,
            q->td_version == 15 ? "1.5" : "1.0");
    if (o) {
        json_object_set_new(o, "version", json_integer(q->version));
        json_object_set_new(o, "tdReport", json_string(q->td_version == 15 ? "1.5" : "1.0"));
    }
    const dg_td_report *t = &q->td;
    static const char *const rt[4] = {"rtmr0", "rtmr1", "rtmr2", "rtmr3"};
    put_hex(c, o, "mrtd", "mrtd", t->mr_td, 48);
    for (int i = 0; i < 4; i++)
        put_hex(c, o, rt[i], rt[i], t->rtmr[i], 48);
    put_hex(c, o, "report_data", "reportData", t->report_data, 64);
    put_hex(c, o, "mr_config_id", "mrConfigId", t->mr_config_id, 48);
    put_hex(c, o, "mr_owner", "mrOwner", t->mr_owner, 48);
    put_hex(c, o, "mr_owner_config", "mrOwnerConfig", t->mr_owner_config, 48);
    put_hex(c, o, "mr_seam", "mrSeam", t->mr_seam, 48);
    put_hex(c, o, "mr_signer_seam", "mrSignerSeam", t->mr_signer_seam, 48);
    put_hex(c, o, "td_attributes", "tdAttributes", t->td_attributes, 8);
    put_hex(c, o, "xfam", "xfam", t->xfam, 8);
    put_hex(c, o, "seam_attributes", "seamAttributes", t->seam_attributes, 8);
    put_hex(c, o, "tee_tcb_svn", "teeTcbSvn", t->tee_tcb_svn, 16);
    if (q->td_version == 15) {
        put_hex(c, o, "tee_tcb_svn2", "teeTcbSvn2", t->tee_tcb_svn2, 16);
        put_hex(c, o, "mr_service_td", "mrServiceTd", t->mr_service_td, 48);
    }
    if (o) cli_json_set(c, "quote", o);
}

static void print_events(cli *c, const dg_at_events *ev, int rtmr_ok, int compose_ok) {
    json_t *o = c->json ? json_object() : NULL;
    cli_say(c, "event log:          %u events, %u on RTMR3; replay %s", ev->n_events, ev->n_imr3,
            rtmr_ok ? "matches the quote's RTMR3" : "DIFFERS from the quote's RTMR3");
    if (o) {
        json_object_set_new(o, "events", json_integer(ev->n_events));
        json_object_set_new(o, "rtmr3Events", json_integer(ev->n_imr3));
        json_object_set_new(o, "rtmr3Matches", json_boolean(rtmr_ok));
    }
    put_hex(c, o, "rtmr3 (replayed)", "rtmr3", ev->rtmr3, 48);
    if (ev->app_id_len) put_hex(c, o, "app-id", "appId", ev->app_id, ev->app_id_len);
    if (ev->compose_hash_len)
        put_hex(c, o, "compose-hash", "composeHash", ev->compose_hash, ev->compose_hash_len);
    if (ev->instance_id_len)
        put_hex(c, o, "instance-id", "instanceId", ev->instance_id, ev->instance_id_len);
    if (ev->key_provider_len) {
        cli_say(c, "  %-16s %s", "key-provider", ev->key_provider);
        if (o) json_object_set_new(o, "keyProvider", json_string(ev->key_provider));
    }
    if (compose_ok >= 0) {
        cli_say(c, "app-compose:        %s",
                compose_ok ? "matches the compose-hash event"
                           : "DOES NOT match the compose-hash event");
        if (o) json_object_set_new(o, "appComposeMatches", json_boolean(compose_ok));
    }
    if (o) cli_json_set(c, "eventLog", o);
}

static int cmd_attest_verify(cli *c) {
    dg_err err = {DG_OK, ""};
    const char *qf = flag_str(&c->f, "quote"), *cf = flag_str(&c->f, "collateral");
    const char *ef = flag_str(&c->f, "event-log"), *af = flag_str(&c->f, "app-compose");
    const char *tf = flag_str(&c->f, "at"), *rf = flag_str(&c->f, "test-root-ca");
    if (!qf) return cli_failf(c, DG_ERR_INPUT, "attest verify: --quote FILE is required");
    if (af && !ef)
        return cli_failf(c, DG_ERR_INPUT, "attest verify: --app-compose needs --event-log");
    int64_t now = (int64_t)time(NULL);
    if (tf && !dg_at_parse_time(tf, strlen(tf), &now))
        return cli_failf(c, DG_ERR_INPUT,
                         "--at: \"%s\" is not an RFC 3339 UTC time (e.g. 2025-07-01T00:00:00Z)",
                         tf);
    dg_buf qb, cb, eb, ab, rb;
    dg_buf_init(&cb);
    dg_buf_init(&eb);
    dg_buf_init(&ab);
    dg_buf_init(&rb);
    int rc = 0;
    if (!read_all("--quote", qf, &qb, &err) || !quote_bytes(&qb, &err) ||
        (cf && !read_all("--collateral", cf, &cb, &err)) ||
        (ef && !read_all("--event-log", ef, &eb, &err)) ||
        (af && !read_all("--app-compose", af, &ab, &err)) ||
        (rf && !read_all("--test-root-ca", rf, &rb, &err))) {
        rc = cli_fail(c, &err);
        goto out;
    }
    dg_quote q;
    dg_at_verdict v;
    dg_at_err ae = {0, ""};
    int verified = 0, parsed;
    if (cf) {
        verified = dg_at_verify(qb.data, qb.len, (const char *)cb.data, cb.len, now,
                                rf ? rb.data : NULL, rb.len, &q, &v, &ae);
        parsed = verified || dg_quote_parse(qb.data, qb.len, &q, NULL);
    } else {
        parsed = dg_quote_parse(qb.data, qb.len, &q, &ae);
    }
    char when[32];
    time_t tt = (time_t)now;
    struct tm tmv;
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&tt, &tmv));
    cli_json_set(c, "at", json_string(when));
    cli_json_set(c, "signaturesChecked", json_boolean(cf != NULL));
    if (rf) cli_warn(c, "verifying against a TEST trust anchor (%s), not Intel's SGX root CA", rf);
    if (!cf) {
        cli_say(c, "verdict:            NOT VERIFIED: no --collateral given, so the quote's "
                   "signatures and certificates were not checked");
    } else if (verified) {
        cli_say(c, "verdict:            verified at %s%s", when, rf ? " (TEST trust anchor)" : "");
    } else {
        cli_say(c, "verdict:            NOT VERIFIED at %s: %s: %s", when,
                dg_at_reason_name(ae.code), ae.msg);
    }
    cli_json_set(c, "verified", json_boolean(verified));
    if (cf && !verified) {
        cli_json_set(c, "reason", json_string(dg_at_reason_name(ae.code)));
        cli_json_set(c, "message", json_string(ae.msg));
    }
    if (!cf && !parsed) {
        cli_say(c, "quote:              does not parse: %s", ae.msg);
        cli_json_set(c, "reason", json_string(dg_at_reason_name(ae.code)));
        cli_json_set(c, "message", json_string(ae.msg));
    }
    if (verified || (cf && ae.code >= DG_AT_NO_TCB_LEVEL && ae.code <= DG_AT_TD_ATTRIBUTES)) {
        /* the TCB evaluation ran: its status is worth showing even when refused */
        if (ae.code != DG_AT_NO_TCB_LEVEL) {
            cli_say(c, "status:             %s", dg_at_status_name(v.status));
            cli_json_set(c, "status", json_string(dg_at_status_name(v.status)));
            json_t *a = json_array();
            char line[1600] = "";
            for (uint32_t i = 0; i < v.n_advisories; i++) {
                json_array_append_new(a, json_string(v.advisories[i]));
                strcat(strcat(line, i ? ", " : ""), v.advisories[i]);
            }
            cli_json_set(c, "advisoryIds", a);
            cli_say(c, "advisories:         %s", v.n_advisories ? line : "none");
            char fm[13];
            dg_hex_encode(v.fmspc, 6, fm);
            cli_say(c, "platform:           fmspc %s, pce_svn %u", fm, v.pce_svn);
            cli_json_set(c, "fmspc", json_string(fm));
        }
    }
    if (parsed) print_quote(c, &q);
    int ev_ok = 1;
    if (ef) {
        dg_at_events ev;
        dg_at_err ee = {0, ""};
        if (!dg_at_events_parse((const char *)eb.data, eb.len, &ev, &ee)) {
            cli_say(c, "event log:          does not replay: %s", ee.msg);
            cli_json_set(c, "eventLogError", json_string(ee.msg));
            ev_ok = 0;
        } else {
            int rt = parsed && dg_at_events_check_rtmr3(&ev, &q.td, NULL);
            int co = af ? dg_at_events_check_compose(&ev, (const char *)ab.data, ab.len, NULL) : -1;
            print_events(c, &ev, rt, co);
            ev_ok = rt && co != 0;
        }
    }
    if (!parsed)
        rc = 1;
    else if (!cf)
        rc = ev_ok ? ATTEST_UNVERIFIED : 1;
    else
        rc = verified && ev_ok ? 0 : 1;
    if (rc == ATTEST_UNVERIFIED && c->json && c->out) {
        /* cli_finish prints JSON for 0 and 1 only */
        json_object_set_new(c->out, "ok", json_true());
        json_object_set_new(c->out, "command", json_string(c->invoked));
        char *s = json_dumps(c->out, JSON_COMPACT | JSON_SORT_KEYS);
        if (s) printf("%s\n", s);
        free(s);
        json_decref(c->out);
        c->out = NULL;
    }
out:
    dg_buf_free(&qb);
    dg_buf_free(&cb);
    dg_buf_free(&eb);
    dg_buf_free(&ab);
    dg_buf_free(&rb);
    return rc;
}

static const flag_spec verify_flags[] = {
    {"quote", FLAG_STR, "FILE", "the TDX quote: raw bytes or hex text"},
    {"collateral", FLAG_STR, "FILE",
     "Intel collateral JSON (pck_crl, tcb_info, qe_identity, ...); without it nothing is "
     "signature-checked"},
    {"event-log", FLAG_STR, "FILE",
     "dstack event log (JSON array, or a quote report with an \"event_log\" key)"},
    {"app-compose", FLAG_STR, "FILE", "app-compose.json to check against the compose-hash event"},
    {"at", FLAG_STR, "TIME", "verify at this RFC 3339 UTC time (default: now)"},
    {"test-root-ca", FLAG_STR, "FILE",
     "TESTS ONLY: trust this root certificate (PEM/DER) instead of Intel's SGX root CA"},
    {NULL, 0, NULL, NULL},
};

const cmd_spec attest_cmds[] = {
    {"attest", "verify", NULL, NULL, 0, 0, 0, verify_flags,
     "verify an Intel TDX quote (DCAP) and a dstack event log; print what they prove",
     "Checks the PCK chain to Intel's SGX root CA, the CRLs, the QE report and quote\n"
     "signatures, and the TCB status from --collateral at --at; replays the event log's\n"
     "RTMR3 events and compares with the quote. Prints the verdict, TCB status, advisory\n"
     "ids, measurements and the event-log facts (app-id, compose-hash, instance-id,\n"
     "key-provider). Exit 0: verified (any TCB status but Revoked; read `status`);\n"
     "1: not verified (the reason names the first failing check), or the event log or\n"
     "app-compose does not match; 20: no --collateral, parsed and replayed only.\n"
     "Guide: docs/attest.md.",
     cmd_attest_verify, NULL},
    {NULL, NULL, NULL, NULL, 0, 0, 0, NULL, NULL, NULL, NULL, NULL},
};
