/* quote.c — the Intel TDX quote (v4/v5) binary layout.
 *
 * A quote is header ‖ TD report ‖ signature data; the signature data nests
 * the QE report and, inside its certification data, the PEM PCK chain. The
 * parser reads with a bounds-checked cursor and checks every length against
 * what is left, so a truncated or inflated length is a format error naming the
 * field, never a read past the end. Nothing is verified here.
 */
#include "internal.h"

typedef struct {
    const uint8_t *p;
    size_t n, off;
    const char *field; /* the field a short read is blamed on */
} cur;

static int take(cur *c, size_t k, const uint8_t **out) {
    if (k > c->n - c->off) return 0;
    *out = c->p + c->off;
    c->off += k;
    return 1;
}

static int copy(cur *c, void *dst, size_t k) {
    const uint8_t *p;
    if (!take(c, k, &p)) return 0;
    memcpy(dst, p, k);
    return 1;
}

static int u16le(cur *c, uint16_t *v) {
    const uint8_t *p;
    if (!take(c, 2, &p)) return 0;
    *v = (uint16_t)(p[0] | p[1] << 8);
    return 1;
}

static int u32le(cur *c, uint32_t *v) {
    const uint8_t *p;
    if (!take(c, 4, &p)) return 0;
    *v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    return 1;
}

#define SHORT(field) at_fail(err, DG_AT_QUOTE_FORMAT, "quote: ", field, " is truncated")

enum { TEE_TDX = 0x81, KEY_P256 = 2, CERT_QE_REPORT = 6, CERT_PCK_CHAIN = 5 };
enum { TD10_LEN = 584, TD15_LEN = 648, QE_REPORT_LEN = 384 };

static int td_report(cur *c, dg_td_report *td, int v15) {
    /* field order of TDREPORT's TDINFO as the quote carries it */
    struct {
        void *p;
        size_t n;
    } f[] = {{td->tee_tcb_svn, 16},     {td->mr_seam, 48},      {td->mr_signer_seam, 48},
             {td->seam_attributes, 8},  {td->td_attributes, 8}, {td->xfam, 8},
             {td->mr_td, 48},           {td->mr_config_id, 48}, {td->mr_owner, 48},
             {td->mr_owner_config, 48}, {td->rtmr[0], 48},      {td->rtmr[1], 48},
             {td->rtmr[2], 48},         {td->rtmr[3], 48},      {td->report_data, 64},
             {td->tee_tcb_svn2, 16},    {td->mr_service_td, 48}};
    size_t nf = v15 ? sizeof f / sizeof f[0] : sizeof f / sizeof f[0] - 2;
    for (size_t i = 0; i < nf; i++)
        if (!copy(c, f[i].p, f[i].n)) return 0;
    return 1;
}

int dg_quote_parse(const uint8_t *q, size_t n, dg_quote *out, dg_at_err *err) {
    memset(out, 0, sizeof *out);
    cur c = {q, n, 0, NULL};
    if (!u16le(&c, &out->version) || !u16le(&c, &out->key_type) || !u32le(&c, &out->tee_type) ||
        !u16le(&c, &out->qe_svn) || !u16le(&c, &out->pce_svn) || !copy(&c, out->qe_vendor_id, 16) ||
        !copy(&c, out->user_data, 20))
        return SHORT("header");
    char num[40];
    if (out->version != 4 && out->version != 5)
        return at_fail(err, DG_AT_QUOTE_UNSUPPORTED, "quote: version ", at_u64(num, out->version),
                       " is not a TDX quote version (4 or 5)");
    if (out->tee_type != TEE_TDX)
        return at_fail(err, DG_AT_QUOTE_UNSUPPORTED, "quote: tee_type ", at_u64(num, out->tee_type),
                       " is not TDX (0x81)");
    if (out->key_type != KEY_P256)
        return at_fail(err, DG_AT_QUOTE_UNSUPPORTED, "quote: attestation key type ",
                       at_u64(num, out->key_type), " is not ECDSA-256 with P-256 (2)");
    uint16_t body_type = 2;
    uint32_t body_len = TD10_LEN;
    if (out->version == 5) {
        if (!u16le(&c, &body_type) || !u32le(&c, &body_len)) return SHORT("body descriptor");
        if (body_type != 2 && body_type != 3)
            return at_fail(err, DG_AT_QUOTE_UNSUPPORTED, "quote: body type ",
                           at_u64(num, body_type), " is not a TD report (2: TDX 1.0, 3: TDX 1.5)");
        if (body_len != (body_type == 2 ? TD10_LEN : TD15_LEN))
            return at_fail(err, DG_AT_QUOTE_FORMAT, "quote: body size ", at_u64(num, body_len),
                           " does not match its body type");
    }
    out->td_version = body_type == 3 ? 15 : 10;
    if (!td_report(&c, &out->td, body_type == 3)) return SHORT("TD report");
    out->signed_len = c.off;

    uint32_t auth_len;
    if (!u32le(&c, &auth_len)) return SHORT("signature data length");
    if (auth_len > n - c.off)
        return at_fail(err, DG_AT_QUOTE_FORMAT, "quote: signature data length ",
                       at_u64(num, auth_len), " exceeds the quote");
    /* Quotes read from configfs-tsm come zero-padded: padding is allowed,
     * anything else after the signature data is not. */
    for (size_t i = c.off + auth_len; i < n; i++)
        if (q[i])
            return at_fail(err, DG_AT_QUOTE_FORMAT,
                           "quote: non-zero bytes after the signature data", NULL, NULL);
    cur a = {q + c.off, auth_len, 0, NULL};
    uint16_t cert_type;
    uint32_t cert_len;
    if (!copy(&a, out->signature, 64) || !copy(&a, out->attestation_key, 64))
        return SHORT("quote signature or attestation key");
    if (!u16le(&a, &cert_type) || !u32le(&a, &cert_len)) return SHORT("certification data header");
    if (cert_type != CERT_QE_REPORT)
        return at_fail(err, DG_AT_QUOTE_UNSUPPORTED, "quote: certification data type ",
                       at_u64(num, cert_type), " is not the QE report certification data (6)");
    if (cert_len != a.n - a.off)
        return at_fail(err, DG_AT_QUOTE_FORMAT, "quote: certification data length ",
                       at_u64(num, cert_len), " does not match the signature data");
    if (!take(&a, QE_REPORT_LEN, &out->qe_report) || !copy(&a, out->qe_report_signature, 64))
        return SHORT("QE report");
    if (!u16le(&a, &out->qe_auth_len) || !take(&a, out->qe_auth_len, &out->qe_auth_data))
        return SHORT("QE authentication data");
    if (!u16le(&a, &out->cert_type) || !u32le(&a, &out->cert_len))
        return SHORT("PCK certification data header");
    if (out->cert_len != a.n - a.off)
        return at_fail(err, DG_AT_QUOTE_FORMAT, "quote: PCK certification data length ",
                       at_u64(num, out->cert_len), " does not match what is left");
    if (!take(&a, out->cert_len, &out->cert_data)) return SHORT("PCK certification data");
    if (out->cert_type != CERT_PCK_CHAIN)
        return at_fail(err, DG_AT_QUOTE_UNSUPPORTED, "quote: PCK certification data type ",
                       at_u64(num, out->cert_type), " is not a PEM PCK chain (5)");
    return 1;
}
