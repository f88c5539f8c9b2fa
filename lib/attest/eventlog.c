/* eventlog.c — dstack's event log: replay RTMR3 and read dstack's facts.
 *
 * dstack extends RTMR3 with its own events (type 0x08000001): each event's
 * digest is SHA-384(type as 4 little-endian bytes ‖ ":" ‖ name ‖ ":" ‖
 * payload), and RTMR3 = SHA-384(RTMR3 ‖ digest) from 48 zero bytes. The log
 * is untrusted until its replay equals the RTMR3 of a verified quote, so
 * every digest it lists is recomputed, never taken as given.
 */
#include "internal.h"

#include "mbedtls/platform.h"
#include "mbedtls/sha512.h"

enum { DSTACK_EVENT = 0x08000001 };

static int fail_ev(dg_at_err *err, uint32_t i, const char *what) {
    char num[40];
    return at_fail(err, DG_AT_EVENT_LOG, "event log: event ", at_u64(num, i), what);
}

/* Store payload into a fixed field (length capped by the field). */
static int keep(uint8_t *dst, uint32_t cap, uint32_t *len, const uint8_t *p, size_t n) {
    if (n > cap) return 0;
    memcpy(dst, p, n);
    *len = (uint32_t)n;
    return 1;
}

static int replay(at_json *j, uint32_t arr, dg_at_events *out, dg_at_err *err) {
    if (j->t[arr].type != NJ_ARR)
        return at_fail(err, DG_AT_EVENT_LOG, "event log: not a JSON array of events", NULL, NULL);
    uint32_t e = arr + 1;
    for (uint32_t i = 0; i < j->t[arr].len; i++, e = j->t[e].end) {
        out->n_events++;
        uint64_t imr, type;
        if (j->t[e].type != NJ_OBJ) return fail_ev(err, i, " is not an object");
        if (!at_json_uint(j, e, "imr", 3, &imr)) return fail_ev(err, i, ": \"imr\" is not 0..3");
        if (!at_json_uint(j, e, "event_type", 0xffffffffu, &type))
            return fail_ev(err, i, ": \"event_type\" is not a 32-bit number");
        uint32_t dn, nn, pn;
        const char *dig = at_json_str(j, e, "digest", &dn);
        const char *name = at_json_str(j, e, "event", &nn);
        const char *pay = at_json_str(j, e, "event_payload", &pn);
        if (!dig || !name || !pay)
            return fail_ev(err, i, ": \"digest\", \"event\" or \"event_payload\" is missing");
        if (imr != 3) continue;
        out->n_imr3++;
        if (type != DSTACK_EVENT)
            return fail_ev(err, i, ": an imr 3 event that is not a dstack event (0x08000001)");
        uint8_t listed[48];
        if (!at_unhex(dig, dn, listed, 48))
            return fail_ev(err, i, ": \"digest\" is not 48 bytes of hex");
        if (pn % 2) return fail_ev(err, i, ": \"event_payload\" is not hex");
        uint8_t *payload = mbedtls_calloc(1, pn / 2 + 1);
        if (!payload) return at_fail(err, DG_AT_NOMEM, "event log: out of memory", NULL, NULL);
        if (!at_unhex(pay, pn, payload, pn / 2)) {
            mbedtls_free(payload);
            return fail_ev(err, i, ": \"event_payload\" is not hex");
        }
        size_t plen = pn / 2;
        uint8_t le[4] = {(uint8_t)type, (uint8_t)(type >> 8), (uint8_t)(type >> 16),
                         (uint8_t)(type >> 24)};
        uint8_t d[64];
        mbedtls_sha512_context h;
        mbedtls_sha512_init(&h);
        mbedtls_sha512_starts_ret(&h, 1);
        mbedtls_sha512_update_ret(&h, le, 4);
        mbedtls_sha512_update_ret(&h, (const uint8_t *)":", 1);
        mbedtls_sha512_update_ret(&h, (const uint8_t *)name, nn);
        mbedtls_sha512_update_ret(&h, (const uint8_t *)":", 1);
        mbedtls_sha512_update_ret(&h, payload, plen);
        mbedtls_sha512_finish_ret(&h, d);
        int ok = memcmp(d, listed, 48) == 0;
        /* RTMR3 = SHA-384(RTMR3 ‖ digest) */
        mbedtls_sha512_starts_ret(&h, 1);
        mbedtls_sha512_update_ret(&h, out->rtmr3, 48);
        mbedtls_sha512_update_ret(&h, d, 48);
        mbedtls_sha512_finish_ret(&h, d);
        mbedtls_sha512_free(&h);
        memcpy(out->rtmr3, d, 48);
        int kept = 1;
        if (nj_eq(name, nn, "app-id", 6))
            kept = keep(out->app_id, sizeof out->app_id, &out->app_id_len, payload, plen);
        else if (nj_eq(name, nn, "compose-hash", 12)) {
            out->n_compose_hash++;
            kept = keep(out->compose_hash, sizeof out->compose_hash, &out->compose_hash_len,
                        payload, plen);
        } else if (nj_eq(name, nn, "instance-id", 11))
            kept = keep(out->instance_id, sizeof out->instance_id, &out->instance_id_len, payload,
                        plen);
        else if (nj_eq(name, nn, "key-provider", 12))
            kept = keep((uint8_t *)out->key_provider, sizeof out->key_provider - 1,
                        &out->key_provider_len, payload, plen);
        mbedtls_free(payload);
        if (!ok)
            return fail_ev(err, i,
                           ": the listed digest is not the digest of its type, name and payload");
        if (!kept) return fail_ev(err, i, ": the payload of a dstack fact is too long");
    }
    return 1;
}

int dg_at_events_parse(const char *s, size_t n, dg_at_events *out, dg_at_err *err) {
    memset(out, 0, sizeof *out);
    at_json j, inner;
    memset(&inner, 0, sizeof inner);
    if (!at_json_parse(&j, s, n, DG_AT_EVENT_LOG, "event log", err)) return 0;
    int ok;
    if (j.t[0].type == NJ_OBJ) {
        /* a dstack quote report: {"event_log": "<JSON text>", ...} */
        uint32_t ln;
        const char *log = at_json_str(&j, 0, "event_log", &ln);
        ok = log ? at_json_parse(&inner, log, ln, DG_AT_EVENT_LOG, "event_log", err) &&
                       replay(&inner, 0, out, err)
                 : at_fail(err, DG_AT_EVENT_LOG,
                           "event log: an object without an \"event_log\" string", NULL, NULL);
    } else {
        ok = replay(&j, 0, out, err);
    }
    at_json_free(&inner);
    at_json_free(&j);
    return ok;
}

int dg_at_events_check_rtmr3(const dg_at_events *ev, const dg_td_report *td, dg_at_err *err) {
    if (memcmp(ev->rtmr3, td->rtmr[3], 48) != 0) {
        char a[97], b[97];
        at_hex(a, ev->rtmr3, 48);
        at_hex(b, td->rtmr[3], 48);
        return at_fail5(err, DG_AT_RTMR3, "event log: replayed RTMR3 ", a,
                        " differs from the quote's ", b, NULL);
    }
    return 1;
}

int dg_at_events_check_compose(const dg_at_events *ev, const char *app_compose, size_t n,
                               dg_at_err *err) {
    if (ev->n_compose_hash != 1)
        return at_fail(err, DG_AT_APP_COMPOSE, "event log: not exactly one compose-hash event",
                       NULL, NULL);
    uint8_t h[32];
    at_sha256((const uint8_t *)app_compose, n, h);
    if (ev->compose_hash_len != 32 || memcmp(h, ev->compose_hash, 32) != 0) {
        char a[65];
        at_hex(a, h, 32);
        return at_fail(err, DG_AT_APP_COMPOSE, "app-compose: SHA-256 ", a,
                       " differs from the compose-hash event");
    }
    return 1;
}
