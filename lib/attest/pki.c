/* pki.c — certificate chains, CRLs, signatures and the SGX extension.
 *
 * mbed TLS parses the DER and does the ECDSA; this module only decides what
 * must hold, so each failure can be named: every link of a chain is checked
 * by hand (issuer name, CA flag, signature, validity at the caller's time,
 * revocation by a CRL of that issuer) instead of through
 * mbedtls_x509_crt_verify, which reads the system clock and hides which link
 * failed. The chain must end at the trust anchor given at build or run time.
 */
#include "pki.h"

#include "bearssl_ec.h"
#include "mbedtls/asn1.h"
#include "mbedtls/oid.h"
#include "mbedtls/platform.h"

int64_t at_x509_time(const mbedtls_x509_time *t) {
    /* same civil-date arithmetic as dg_at_parse_time */
    char s[21] = "0000-00-00T00:00:00Z";
    int v[6] = {t->year, t->mon, t->day, t->hour, t->min, t->sec};
    static const int at[6] = {0, 5, 8, 11, 14, 17}, w[6] = {4, 2, 2, 2, 2, 2};
    for (int f = 0; f < 6; f++) {
        int x = v[f] < 0 ? 0 : v[f];
        for (int i = w[f] - 1; i >= 0; i--, x /= 10)
            s[at[f] + i] = (char)('0' + x % 10);
    }
    int64_t out;
    return dg_at_parse_time(s, 20, &out) ? out : INT64_MIN;
}

static int same_buf(const mbedtls_x509_buf *a, const mbedtls_x509_buf *b) {
    return a->len == b->len && memcmp(a->p, b->p, a->len) == 0;
}

/* P-256 public key of a certificate as an uncompressed point (65 bytes). */
static int p256_point(const mbedtls_pk_context *pk, uint8_t out[65]) {
    if (mbedtls_pk_get_type(pk) != MBEDTLS_PK_ECKEY) return 0;
    const mbedtls_ecp_keypair *kp = mbedtls_pk_ec(*pk);
    size_t n = 0;
    return kp->grp.id == MBEDTLS_ECP_DP_SECP256R1 &&
           mbedtls_ecp_point_write_binary(&kp->grp, &kp->Q, MBEDTLS_ECP_PF_UNCOMPRESSED, &n, out,
                                          65) == 0 &&
           n == 65;
}

/* ECDSA is BearSSL's P-256 (ec_p256_m31): in wasm it costs a quarter of mbed
 * TLS's generic ECP, and ECDSA is most of what a verification costs on NEAR.
 * mbed TLS parses; BearSSL verifies. */
static int md_sig_ok(mbedtls_md_type_t mdt, mbedtls_pk_type_t pkt, const mbedtls_x509_buf *tbs,
                     const mbedtls_x509_buf *sig, const mbedtls_pk_context *key) {
    const mbedtls_md_info_t *md = mbedtls_md_info_from_type(mdt);
    uint8_t h[64], pt[65];
    if (pkt != MBEDTLS_PK_ECDSA || !md || !p256_point(key, pt) ||
        mbedtls_md(md, tbs->p, tbs->len, h) != 0)
        return 0;
    br_ec_public_key pk = {BR_EC_secp256r1, pt, sizeof pt};
    return br_ecdsa_i31_vrfy_asn1(&br_ec_p256_m31, h, mbedtls_md_get_size(md), &pk, sig->p,
                                  sig->len) == 1;
}

static int raw_verify(const uint8_t pt[65], const uint8_t *msg, size_t n, const uint8_t sig[64]) {
    uint8_t h[32];
    at_sha256(msg, n, h);
    br_ec_public_key pk = {BR_EC_secp256r1, (unsigned char *)pt, 65};
    return br_ecdsa_i31_vrfy_raw(&br_ec_p256_m31, h, sizeof h, &pk, sig, 64) == 1;
}

int at_raw_sig_ok(const mbedtls_pk_context *pk, const uint8_t *msg, size_t n,
                  const uint8_t sig[64]) {
    uint8_t pt[65];
    return p256_point(pk, pt) && raw_verify(pt, msg, n, sig);
}

int at_key_verify(const uint8_t key[64], const uint8_t *msg, size_t n, const uint8_t sig[64]) {
    /* BearSSL rejects a point that is not on the curve */
    uint8_t pt[65];
    pt[0] = 4;
    memcpy(pt + 1, key, 64);
    return raw_verify(pt, msg, n, sig);
}

int at_parse_pem(mbedtls_x509_crt *chain, const char *pem, size_t n, int code, const char *what,
                 dg_at_err *err) {
    /* mbed TLS wants PEM NUL-terminated, the NUL counted in the length */
    char *tmp = mbedtls_calloc(1, n + 1);
    if (!tmp) return at_fail(err, DG_AT_NOMEM, what, ": out of memory", NULL);
    memcpy(tmp, pem, n);
    int r = mbedtls_x509_crt_parse(chain, (const unsigned char *)tmp, n + 1);
    mbedtls_free(tmp);
    if (r != 0 || !chain->raw.p)
        return at_fail(err, code, what, " is not a PEM certificate chain that parses", NULL);
    return 1;
}

static int revoked(const at_pki *k, const mbedtls_x509_crt *c, const mbedtls_x509_crt *issuer) {
    for (int i = 0; i < 2; i++) {
        const mbedtls_x509_crl *crl = k->crl[i];
        if (!crl || !same_buf(&crl->issuer_raw, &issuer->subject_raw)) continue;
        for (const mbedtls_x509_crl_entry *e = &crl->entry; e && e->raw.p; e = e->next)
            if (same_buf(&e->serial, &c->serial)) return 1;
    }
    return 0;
}

static int valid_at(const mbedtls_x509_crt *c, int64_t now) {
    return at_x509_time(&c->valid_from) <= now && now <= at_x509_time(&c->valid_to);
}

static int seen(const at_pki *k, const mbedtls_x509_crt *c, const mbedtls_x509_crt *is) {
    for (int i = 0; i < k->nseen; i++)
        if (same_buf(&k->seen[i][0]->raw, &c->raw) && same_buf(&k->seen[i][1]->raw, &is->raw))
            return 1;
    return 0;
}

int at_check_chain(at_pki *k, const mbedtls_x509_crt *chain, int leaf_may_be_ca, int code,
                   const char *what, dg_at_err *err) {
    const mbedtls_x509_crt *c[8];
    size_t n = 0;
    char num[40];
    for (const mbedtls_x509_crt *p = chain; p && p->raw.p; p = p->next) {
        if (n == 8) return at_fail(err, code, what, ": more than 8 certificates", NULL);
        c[n++] = p;
    }
    if (n && same_buf(&c[n - 1]->raw, &k->root->raw)) n--; /* the chain's copy of the root */
    if (n == 0) return at_fail(err, code, what, ": no certificate below the trust anchor", NULL);
    if (!leaf_may_be_ca && c[0]->ca_istrue)
        return at_fail(err, code, what, ": the leaf certificate is a CA certificate", NULL);
    for (size_t i = 0; i < n; i++) {
        const mbedtls_x509_crt *is = i + 1 < n ? c[i + 1] : k->root;
        const char *who = i + 1 < n ? "its issuer (the next certificate)" : "the trust anchor";
        at_u64(num, i);
        if (!same_buf(&c[i]->issuer_raw, &is->subject_raw))
            return at_fail5(err, code, what, ": certificate ", num, " is not issued by ", who);
        if (!is->ca_istrue)
            return at_fail5(err, code, what, ": the issuer of certificate ", num, " is not a CA",
                            NULL);
        if (!seen(k, c[i], is)) {
            if (!md_sig_ok(c[i]->sig_md, c[i]->sig_pk, &c[i]->tbs, &c[i]->sig, &is->pk))
                return at_fail5(err, code, what, ": the signature of certificate ", num,
                                " does not verify with the key of ", who);
            if (k->nseen < 8) {
                k->seen[k->nseen][0] = c[i];
                k->seen[k->nseen++][1] = is;
            }
        }
        if (!valid_at(c[i], k->now))
            return at_fail5(err, code, what, ": certificate ", num,
                            " is expired or not yet valid at the given time", NULL);
        if (revoked(k, c[i], is))
            return at_fail5(err, DG_AT_REVOKED, what, ": certificate ", num,
                            " is revoked by its issuer's CRL", NULL);
    }
    if (!valid_at(k->root, k->now))
        return at_fail(err, code, what, ": the trust anchor is expired or not yet valid", NULL);
    if (revoked(k, k->root, k->root))
        return at_fail(err, DG_AT_REVOKED, what, ": the trust anchor is revoked by the root CRL",
                       NULL);
    return 1;
}

int at_check_crl(const at_pki *k, const mbedtls_x509_crl *crl, const mbedtls_x509_crt *issuer,
                 const char *what, dg_at_err *err) {
    if (!same_buf(&crl->issuer_raw, &issuer->subject_raw))
        return at_fail(err, DG_AT_CRL, what, " is not issued by the expected CA", NULL);
    if (!md_sig_ok(crl->sig_md, crl->sig_pk, &crl->tbs, &crl->sig, &issuer->pk))
        return at_fail(err, DG_AT_CRL, what,
                       ": the signature does not verify with its issuer's key", NULL);
    int64_t from = at_x509_time(&crl->this_update), to = at_x509_time(&crl->next_update);
    if (k->now < from)
        return at_fail(err, DG_AT_CRL, what, ": thisUpdate is after the given time", NULL);
    if (!crl->next_update.year || k->now > to)
        return at_fail(err, DG_AT_CRL, what, ": nextUpdate is before the given time", NULL);
    return 1;
}

/* ---------------------------------------------------------- SGX extension */

/* 1.2.840.113741.1.13.1 and its children; the arcs after it are one byte. */
static const uint8_t sgx_oid[] = {0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01};

/* Child OID sgx_oid.a[.b] matches buf? */
static int sgx_child(const mbedtls_asn1_buf *oid, int a, int b) {
    size_t want = sizeof sgx_oid + (b ? 2 : 1);
    return oid->len == want && memcmp(oid->p, sgx_oid, sizeof sgx_oid) == 0 &&
           oid->p[sizeof sgx_oid] == a && (!b || oid->p[sizeof sgx_oid + 1] == b);
}

/* Next SEQUENCE { OID, value } of a SEQUENCE OF: its OID, and the value's
 * tag, content and length. */
static int next_item(uint8_t **p, const uint8_t *end, mbedtls_asn1_buf *oid, int *tag,
                     uint8_t **val, size_t *vlen) {
    size_t len;
    if (mbedtls_asn1_get_tag(p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE))
        return 0;
    const uint8_t *iend = *p + len;
    if (mbedtls_asn1_get_tag(p, iend, &oid->len, MBEDTLS_ASN1_OID)) return 0;
    oid->p = *p;
    *p += oid->len;
    if (*p >= iend) return 0;
    *tag = **p;
    (*p)++;
    if (mbedtls_asn1_get_len(p, iend, vlen)) return 0;
    *val = *p;
    *p += *vlen;
    return *p == iend;
}

static int small_int(const uint8_t *v, size_t n, int max, int *out) {
    /* DER INTEGER content, non-negative, <= max */
    if (n == 0 || n > 3 || (v[0] & 0x80)) return 0;
    int x = 0;
    for (size_t i = 0; i < n; i++)
        x = x << 8 | v[i];
    if (x > max) return 0;
    *out = x;
    return 1;
}

int at_sgx_extension(const mbedtls_x509_crt *pck, at_sgx_ext *out, dg_at_err *err) {
    memset(out, 0, sizeof *out);
#define BAD(why) at_fail(err, DG_AT_PCK_EXTENSION, "PCK certificate SGX extension: ", why, NULL)
    if (!pck->v3_ext.p) return BAD("the certificate has no extensions");
    uint8_t *p = pck->v3_ext.p, *end = p + pck->v3_ext.len;
    size_t len;
    if (mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE))
        return BAD("the certificate has no extensions");
    uint8_t *ext = NULL;
    size_t ext_len = 0;
    int found = 0;
    while (p < end) {
        if (mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE))
            return BAD("an extension is malformed");
        uint8_t *e_end = p + len;
        mbedtls_asn1_buf oid;
        if (mbedtls_asn1_get_tag(&p, e_end, &oid.len, MBEDTLS_ASN1_OID)) return BAD("bad OID");
        oid.p = p;
        p += oid.len;
        int crit = 0;
        if (p < e_end && *p == MBEDTLS_ASN1_BOOLEAN && mbedtls_asn1_get_bool(&p, e_end, &crit))
            return BAD("bad critical flag");
        size_t vl;
        if (mbedtls_asn1_get_tag(&p, e_end, &vl, MBEDTLS_ASN1_OCTET_STRING) || p + vl != e_end)
            return BAD("an extension value is malformed");
        if (oid.len == sizeof sgx_oid && memcmp(oid.p, sgx_oid, sizeof sgx_oid) == 0) {
            if (found++) return BAD("the extension appears twice");
            ext = p;
            ext_len = vl;
        }
        p = e_end;
    }
    if (!found) return BAD("the extension is missing");
    p = ext;
    end = ext + ext_len;
    if (mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) ||
        p + len != end)
        return BAD("not a SEQUENCE");
    enum { HAVE_TCB = 1, HAVE_PCEID = 2, HAVE_FMSPC = 4, HAVE_CPUSVN = 8, HAVE_PCESVN = 16 };
    int have = 0;
    while (p < end) {
        mbedtls_asn1_buf oid;
        int tag;
        uint8_t *v;
        size_t vl;
        if (!next_item(&p, end, &oid, &tag, &v, &vl)) return BAD("an item is malformed");
        if (sgx_child(&oid, 3, 0)) {
            if (tag != MBEDTLS_ASN1_OCTET_STRING || vl != 2) return BAD("PCE-ID is not 2 bytes");
            memcpy(out->pce_id, v, 2);
            have |= HAVE_PCEID;
        } else if (sgx_child(&oid, 4, 0)) {
            if (tag != MBEDTLS_ASN1_OCTET_STRING || vl != 6) return BAD("FMSPC is not 6 bytes");
            memcpy(out->fmspc, v, 6);
            have |= HAVE_FMSPC;
        } else if (sgx_child(&oid, 2, 0)) {
            if (tag != (MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE))
                return BAD("TCB is not a SEQUENCE");
            have |= HAVE_TCB;
            uint8_t *q = v, *qend = v + vl;
            while (q < qend) {
                mbedtls_asn1_buf c;
                int ct;
                uint8_t *cv;
                size_t cl;
                if (!next_item(&q, qend, &c, &ct, &cv, &cl)) return BAD("a TCB item is malformed");
                int comp;
                if (c.len != sizeof sgx_oid + 2 || !sgx_child(&c, 2, c.p[sizeof sgx_oid + 1]))
                    continue;
                comp = c.p[sizeof sgx_oid + 1];
                if (comp >= 1 && comp <= 16) {
                    int x;
                    if (ct != MBEDTLS_ASN1_INTEGER || !small_int(cv, cl, 255, &x))
                        return BAD("a TCB component is not an integer 0..255");
                    out->comp[comp - 1] = (uint8_t)x;
                } else if (comp == 17) {
                    int x;
                    if (ct != MBEDTLS_ASN1_INTEGER || !small_int(cv, cl, 65535, &x))
                        return BAD("PCESVN is not an integer 0..65535");
                    out->pce_svn = (uint16_t)x;
                    have |= HAVE_PCESVN;
                } else if (comp == 18) {
                    if (ct != MBEDTLS_ASN1_OCTET_STRING || cl != 16)
                        return BAD("CPUSVN is not 16 bytes");
                    memcpy(out->cpu_svn, cv, 16);
                    have |= HAVE_CPUSVN;
                }
            }
        }
    }
    if (!(have & HAVE_TCB)) return BAD("TCB is missing");
    if (!(have & HAVE_PCESVN)) return BAD("PCESVN is missing");
    if (!(have & HAVE_CPUSVN)) return BAD("CPUSVN is missing");
    if (!(have & HAVE_PCEID)) return BAD("PCE-ID is missing");
    if (!(have & HAVE_FMSPC)) return BAD("FMSPC is missing");
#undef BAD
    return 1;
}
