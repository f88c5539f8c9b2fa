/* common.c — messages, hex, hashes and JSON lookups for lib/attest.
 *
 * Freestanding on purpose: the verifier is compiled into the NEAR KMS
 * contract, where there is no printf and no malloc, so messages are
 * concatenated here and every allocation goes through mbed TLS's calloc.
 */
#include "internal.h"

#include "../../contracts/near/text.h"

#include "mbedtls/platform.h"
#include "mbedtls/sha256.h"
#include "mbedtls/sha512.h"

static const char *const reason_names[DG_AT_REASON_COUNT] = {
    [DG_AT_OK] = "ok",
    [DG_AT_QUOTE_FORMAT] = "quote-format",
    [DG_AT_QUOTE_UNSUPPORTED] = "quote-unsupported",
    [DG_AT_COLLATERAL_FORMAT] = "collateral-format",
    [DG_AT_TCB_INFO_FORMAT] = "tcb-info-format",
    [DG_AT_TCB_INFO_TIME] = "tcb-info-time",
    [DG_AT_QE_IDENTITY_FORMAT] = "qe-identity-format",
    [DG_AT_QE_IDENTITY_TIME] = "qe-identity-time",
    [DG_AT_CRL] = "crl",
    [DG_AT_REVOKED] = "revoked",
    [DG_AT_TCB_CHAIN] = "tcb-chain",
    [DG_AT_TCB_INFO_SIGNATURE] = "tcb-info-signature",
    [DG_AT_QE_IDENTITY_CHAIN] = "qe-identity-chain",
    [DG_AT_QE_IDENTITY_SIGNATURE] = "qe-identity-signature",
    [DG_AT_QE_IDENTITY_KIND] = "qe-identity-kind",
    [DG_AT_PCK_CHAIN] = "pck-chain",
    [DG_AT_PCK_EXTENSION] = "pck-extension",
    [DG_AT_QE_REPORT_SIGNATURE] = "qe-report-signature",
    [DG_AT_QE_REPORT_BINDING] = "qe-report-binding",
    [DG_AT_QE_IDENTITY_MISMATCH] = "qe-identity-mismatch",
    [DG_AT_QE_TCB] = "qe-tcb",
    [DG_AT_QUOTE_SIGNATURE] = "quote-signature",
    [DG_AT_FMSPC] = "fmspc",
    [DG_AT_PCEID] = "pceid",
    [DG_AT_TCB_INFO_KIND] = "tcb-info-kind",
    [DG_AT_NO_TCB_LEVEL] = "no-tcb-level",
    [DG_AT_TCB_REVOKED] = "tcb-revoked",
    [DG_AT_TD_ATTRIBUTES] = "td-attributes",
    [DG_AT_EVENT_LOG] = "event-log",
    [DG_AT_RTMR3] = "rtmr3",
    [DG_AT_APP_COMPOSE] = "app-compose",
    [DG_AT_NOMEM] = "out-of-memory",
};

const char *dg_at_reason_name(int code) {
    if (code < 0 || code >= DG_AT_REASON_COUNT) return "unknown";
    return reason_names[code];
}

static const char *const status_names[] = {
    [DG_TCB_UP_TO_DATE] = "UpToDate",
    [DG_TCB_SW_HARDENING_NEEDED] = "SWHardeningNeeded",
    [DG_TCB_CONFIGURATION_NEEDED] = "ConfigurationNeeded",
    [DG_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED] = "ConfigurationAndSWHardeningNeeded",
    [DG_TCB_OUT_OF_DATE] = "OutOfDate",
    [DG_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED] = "OutOfDateConfigurationNeeded",
    [DG_TCB_REVOKED] = "Revoked",
    [DG_TCB_UNKNOWN] = "Unknown",
};

const char *dg_at_status_name(int status) {
    if (status < 0 || status > DG_TCB_UNKNOWN) return "Unknown";
    return status_names[status];
}

int at_fail(dg_at_err *err, int code, const char *a, const char *b, const char *c) {
    return at_fail5(err, code, a, b, c, NULL, NULL);
}

int at_fail5(dg_at_err *err, int code, const char *a, const char *b, const char *c, const char *d,
             const char *e) {
    if (!err) return 0;
    err->code = code;
    size_t k = 0;
    const char *parts[5] = {a, b, c, d, e};
    for (int i = 0; i < 5; i++)
        for (const char *p = parts[i]; p && *p && k + 1 < sizeof err->msg; p++)
            err->msg[k++] = *p;
    err->msg[k] = 0;
    return 0;
}

const char *at_u64(char buf[40], uint64_t v) {
    buf[nt_u128_dec(v, buf)] = 0;
    return buf;
}

void at_hex(char *out, const uint8_t *p, size_t n) {
    nt_hex_encode(p, (uint32_t)n, out);
    out[2 * n] = 0;
}

static int nib(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int at_unhex(const char *s, size_t sn, uint8_t *out, size_t n) {
    if (sn != 2 * n) return 0;
    for (size_t i = 0; i < n; i++) {
        int h = nib(s[2 * i]), l = nib(s[2 * i + 1]);
        if (h < 0 || l < 0) return 0;
        out[i] = (uint8_t)(h << 4 | l);
    }
    return 1;
}

void at_sha256(const uint8_t *p, size_t n, uint8_t out[32]) {
    mbedtls_sha256_ret(p, n, out, 0);
}

void at_sha384(const uint8_t *p, size_t n, uint8_t out[48]) {
    uint8_t full[64];
    mbedtls_sha512_ret(p, n, full, 1);
    memcpy(out, full, 48);
}

int at_json_parse(at_json *j, const char *s, size_t n, int code, const char *what, dg_at_err *err) {
    memset(j, 0, sizeof *j);
    if (n > NJ_MAX_INPUT) return at_fail(err, code, what, ": longer than 1 MiB", NULL);
    j->s = mbedtls_calloc(1, n + 1);
    j->t = mbedtls_calloc(nj_tok_cap((uint32_t)n), sizeof(nj_tok));
    if (!j->s || !j->t) {
        at_json_free(j);
        return at_fail(err, DG_AT_NOMEM, what, ": out of memory", NULL);
    }
    memcpy(j->s, s, n);
    j->n = (uint32_t)n;
    char detail[96];
    nj_buf eb = {detail, 0, sizeof detail - 1, 0};
    j->nt = nj_parse(j->s, j->n, j->t, nj_tok_cap((uint32_t)n), &eb);
    if (!j->nt) {
        detail[eb.len] = 0;
        at_json_free(j);
        return at_fail(err, code, what, " is not valid JSON: ", detail);
    }
    return 1;
}

void at_json_free(at_json *j) {
    mbedtls_free(j->s);
    mbedtls_free(j->t);
    memset(j, 0, sizeof *j);
}

uint32_t at_json_get(const at_json *j, uint32_t obj, const char *name) {
    if (obj >= j->nt || j->t[obj].type != NJ_OBJ) return 0;
    uint32_t nl = nj_strlen(name);
    uint32_t k = obj + 1;
    for (uint32_t m = 0; m < j->t[obj].len; m++) {
        const nj_tok *key = &j->t[k];
        uint32_t v = k + 1;
        if (nj_eq(j->s + key->start, key->len, name, nl)) return v;
        k = j->t[v].end;
    }
    return 0;
}

/* A string token unescaped in place is marked by this bit in its type. */
#define AT_DECODED 0x80

const char *at_json_str(at_json *j, uint32_t obj, const char *name, uint32_t *len) {
    uint32_t v = at_json_get(j, obj, name);
    if (!v) return NULL;
    nj_tok *t = &j->t[v];
    if ((t->type & 0x7f) != NJ_STR) return NULL;
    if (!(t->type & AT_DECODED)) {
        t->len = nj_unescape(j->s, t);
        j->s[t->start + t->len] = 0; /* the closing quote: tokens no longer need it */
        t->type |= AT_DECODED;
    }
    if (len) *len = t->len;
    return j->s + t->start;
}

int at_json_uint(const at_json *j, uint32_t obj, const char *name, uint64_t max, uint64_t *out) {
    uint32_t v = at_json_get(j, obj, name);
    if (!v || j->t[v].type != NJ_NUM) return 0;
    return nj_uint(j->s, &j->t[v], max, out);
}

int dg_at_parse_time(const char *s, size_t n, int64_t *out) {
    /* YYYY-MM-DDTHH:MM:SSZ, optionally with .fraction before Z */
    static const char shape[] = "dddd-dd-ddTdd:dd:dd";
    if (n < 20) return 0;
    int v[6] = {0};
    static const int at[6] = {0, 5, 8, 11, 14, 17}, w[6] = {4, 2, 2, 2, 2, 2};
    for (int i = 0; i < 19; i++) {
        char c = s[i];
        if (shape[i] == 'd' ? (c < '0' || c > '9') : (c != shape[i] && !(i == 10 && c == 't')))
            return 0;
    }
    for (int f = 0; f < 6; f++)
        for (int i = 0; i < w[f]; i++)
            v[f] = v[f] * 10 + (s[at[f] + i] - '0');
    size_t k = 19;
    if (k < n && s[k] == '.') {
        k++;
        size_t d0 = k;
        while (k < n && s[k] >= '0' && s[k] <= '9')
            k++;
        if (k == d0) return 0;
    }
    if (k + 1 != n || (s[k] != 'Z' && s[k] != 'z')) return 0;
    static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y = v[0], m = v[1], d = v[2];
    if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1] || v[3] > 23 || v[4] > 59 || v[5] > 60)
        return 0;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (m == 2 && d == 29 && !leap) return 0;
    /* days from civil (Howard Hinnant's algorithm) */
    int yy = y - (m <= 2);
    int era = (yy >= 0 ? yy : yy - 399) / 400;
    int yoe = yy - era * 400;
    int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    int64_t days = (int64_t)era * 146097 + doe - 719468;
    *out = days * 86400 + v[3] * 3600 + v[4] * 60 + v[5];
    return 1;
}
