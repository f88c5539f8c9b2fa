/* verify.c — DCAP verification of a TDX quote against its collateral.
 *
 * The order of checks follows Intel's QVL as Phala's dcap-qvl implements it
 * (collateral validity, CRLs, TCB info and QE identity signatures, PCK chain,
 * QE report signature and binding, QE identity policy, quote signature,
 * FMSPC, TCB level, TD attributes), so the first failing check — the reason
 * reported — is the same one an operator would see from that tool. Where
 * this verifier is stricter it says so: the CRLs must be signed by their
 * issuers and current, revocation is looked up in the CRL of the
 * certificate's own issuer, and the PCK certificate's PCE-ID must match the
 * TCB info's.
 */
#include <stddef.h>

#include "pki.h"

#include "mbedtls/platform.h"
#include "mbedtls/sha256.h"

enum { MAX_LEVELS = 64 };

typedef struct {
    uint8_t sgx[16], tdx[16];
    uint16_t pce_svn;
    int status;
    uint32_t adv; /* token index of advisoryIDs, 0 when absent */
} tcb_level;

typedef struct {
    uint16_t isv_svn;
    int status;
    uint32_t adv;
} qe_level;

static const char *const status_text[] = {"UpToDate",
                                          "SWHardeningNeeded",
                                          "ConfigurationNeeded",
                                          "ConfigurationAndSWHardeningNeeded",
                                          "OutOfDate",
                                          "OutOfDateConfigurationNeeded",
                                          "Revoked"};

static int status_of(const char *s, uint32_t n) {
    for (int i = 0; i < (int)(sizeof status_text / sizeof status_text[0]); i++)
        if (nj_eq(s, n, status_text[i], nj_strlen(status_text[i]))) return i;
    return DG_TCB_UNKNOWN;
}

/* --------------------------------------------------------- collateral JSON */

typedef struct {
    at_json j;
    const char *v[9];
    uint32_t n[9];
} collateral;

enum {
    C_PCK_CRL_CHAIN,
    C_ROOT_CRL,
    C_PCK_CRL,
    C_TCB_CHAIN,
    C_TCB_INFO,
    C_TCB_SIG,
    C_QE_CHAIN,
    C_QE_ID,
    C_QE_SIG
};
static const char *const col_keys[9] = {
    "pck_crl_issuer_chain",     "root_ca_crl", "pck_crl",
    "tcb_info_issuer_chain",    "tcb_info",    "tcb_info_signature",
    "qe_identity_issuer_chain", "qe_identity", "qe_identity_signature"};

static int parse_collateral(collateral *c, const char *s, size_t n, dg_at_err *err) {
    if (!at_json_parse(&c->j, s, n, DG_AT_COLLATERAL_FORMAT, "collateral", err)) return 0;
    at_json *j = &c->j;
    if (j->t[0].type != NJ_OBJ)
        return at_fail(err, DG_AT_COLLATERAL_FORMAT, "collateral: not a JSON object", NULL, NULL);
    uint32_t k = 1;
    for (uint32_t m = 0; m < j->t[0].len; m++, k = j->t[k + 1].end) {
        const nj_tok *key = &j->t[k];
        int idx = -1;
        for (int i = 0; i < 9; i++)
            if (nj_eq(j->s + key->start, key->len, col_keys[i], nj_strlen(col_keys[i]))) idx = i;
        char name[48];
        uint32_t nl = key->len < sizeof name - 1 ? key->len : (uint32_t)sizeof name - 1;
        memcpy(name, j->s + key->start, nl);
        name[nl] = 0;
        if (idx < 0)
            return at_fail(err, DG_AT_COLLATERAL_FORMAT, "collateral: unknown key \"", name, "\"");
        if (c->v[idx])
            return at_fail(err, DG_AT_COLLATERAL_FORMAT, "collateral: duplicate key \"", name,
                           "\"");
        c->v[idx] = at_json_str(j, 0, col_keys[idx], &c->n[idx]);
        if (!c->v[idx])
            return at_fail(err, DG_AT_COLLATERAL_FORMAT, "collateral: \"", name,
                           "\" is not a string");
    }
    for (int i = 0; i < 9; i++)
        if (!c->v[i])
            return at_fail(err, DG_AT_COLLATERAL_FORMAT, "collateral: \"", col_keys[i],
                           "\" is missing");
    return 1;
}

/* hex text → freshly allocated bytes */
static uint8_t *unhex_alloc(const char *s, uint32_t n, size_t *len) {
    if (n % 2) return NULL;
    uint8_t *b = mbedtls_calloc(1, n / 2 + 1);
    if (b && !at_unhex(s, n, b, n / 2)) {
        mbedtls_free(b);
        return NULL;
    }
    *len = n / 2;
    return b;
}

/* ------------------------------------------------------------- TCB info */

typedef struct {
    at_json j;
    int64_t issue, next;
    uint8_t fmspc[6], pce_id[2];
    uint64_t version;
    int tdx; /* id == "TDX" */
    tcb_level lv[MAX_LEVELS];
    uint32_t n;
} tcb_info;

static int svn_array(const at_json *j, uint32_t arr, uint8_t out[16]) {
    if (!arr || j->t[arr].type != NJ_ARR || j->t[arr].len != 16) return 0;
    uint32_t e = arr + 1;
    for (int i = 0; i < 16; i++, e = j->t[e].end) {
        uint64_t v;
        if (!at_json_uint(j, e, "svn", 255, &v)) return 0;
        out[i] = (uint8_t)v;
    }
    return 1;
}

static int time_field(at_json *j, const char *name, int64_t *out) {
    uint32_t n;
    const char *s = at_json_str(j, 0, name, &n);
    return s && dg_at_parse_time(s, n, out);
}

/* What TCB info and QE identity share: id, version, issueDate, nextUpdate,
 * a non-empty tcbLevels array, and each level's tcbStatus and advisoryIDs.
 * Each returns NULL, or what is wrong. */
static const char *parse_head(at_json *j, const char *id, int *id_ok, uint64_t *version,
                              int64_t *issue, int64_t *next, uint32_t *levels) {
    uint32_t idn;
    if (j->t[0].type != NJ_OBJ) return "not a JSON object";
    const char *got = at_json_str(j, 0, "id", &idn);
    if (!got) return "\"id\" is missing";
    *id_ok = nj_eq(got, idn, id, nj_strlen(id));
    if (!at_json_uint(j, 0, "version", 1000, version)) return "\"version\" is not a number";
    if (!time_field(j, "issueDate", issue)) return "\"issueDate\" is not an RFC 3339 time";
    if (!time_field(j, "nextUpdate", next)) return "\"nextUpdate\" is not an RFC 3339 time";
    *levels = at_json_get(j, 0, "tcbLevels");
    if (!*levels || j->t[*levels].type != NJ_ARR || j->t[*levels].len == 0)
        return "\"tcbLevels\" is not a non-empty array";
    if (j->t[*levels].len > MAX_LEVELS) return "more than 64 TCB levels";
    return NULL;
}

static const char *parse_level_status(at_json *j, uint32_t level, int *status, uint32_t *adv) {
    uint32_t sn;
    const char *st = at_json_str(j, level, "tcbStatus", &sn);
    if (!st) return "a TCB level has no \"tcbStatus\"";
    *status = status_of(st, sn);
    *adv = at_json_get(j, level, "advisoryIDs");
    if (*adv && j->t[*adv].type != NJ_ARR) return "\"advisoryIDs\" is not an array";
    return NULL;
}

static int parse_tcb_info(tcb_info *ti, const char *s, size_t n, dg_at_err *err) {
#define BAD(why) at_fail(err, DG_AT_TCB_INFO_FORMAT, "tcb_info: ", why, NULL)
    if (!at_json_parse(&ti->j, s, n, DG_AT_TCB_INFO_FORMAT, "tcb_info", err)) return 0;
    at_json *j = &ti->j;
    uint32_t fn, pn, lv;
    const char *why = parse_head(j, "TDX", &ti->tdx, &ti->version, &ti->issue, &ti->next, &lv);
    if (why) return BAD(why);
    const char *f = at_json_str(j, 0, "fmspc", &fn);
    if (!f || !at_unhex(f, fn, ti->fmspc, 6)) return BAD("\"fmspc\" is not 6 bytes of hex");
    const char *p = at_json_str(j, 0, "pceId", &pn);
    if (!p || !at_unhex(p, pn, ti->pce_id, 2)) return BAD("\"pceId\" is not 2 bytes of hex");
    uint32_t e = lv + 1;
    for (uint32_t i = 0; i < j->t[lv].len; i++, e = j->t[e].end) {
        tcb_level *l = &ti->lv[ti->n++];
        uint32_t tcb = at_json_get(j, e, "tcb");
        uint64_t pce;
        if (!tcb || j->t[tcb].type != NJ_OBJ) return BAD("a TCB level has no \"tcb\" object");
        if (!svn_array(j, at_json_get(j, tcb, "sgxtcbcomponents"), l->sgx))
            return BAD("a TCB level's \"sgxtcbcomponents\" is not 16 {svn} objects");
        /* TDX TCB info carries tdxtcbcomponents; for SGX TCB info it is absent */
        uint32_t tdx = at_json_get(j, tcb, "tdxtcbcomponents");
        if (tdx && !svn_array(j, tdx, l->tdx))
            return BAD("a TCB level's \"tdxtcbcomponents\" is not 16 {svn} objects");
        if (!tdx && ti->tdx) return BAD("a TDX TCB level has no \"tdxtcbcomponents\"");
        if (!at_json_uint(j, tcb, "pcesvn", 65535, &pce))
            return BAD("a TCB level's \"pcesvn\" is not 0..65535");
        l->pce_svn = (uint16_t)pce;
        if ((why = parse_level_status(j, e, &l->status, &l->adv))) return BAD(why);
    }
#undef BAD
    return 1;
}

/* ------------------------------------------------------------ QE identity */

typedef struct {
    at_json j;
    int64_t issue, next;
    uint64_t version, isv_prod_id;
    int td_qe; /* id == "TD_QE" */
    uint8_t misc[4], misc_mask[4], attr[16], attr_mask[16], mrsigner[32];
    qe_level lv[MAX_LEVELS];
    uint32_t n;
} qe_identity;

static int hex_field(at_json *j, const char *name, uint8_t *out, size_t n) {
    uint32_t sn;
    const char *s = at_json_str(j, 0, name, &sn);
    return s && at_unhex(s, sn, out, n);
}

static int parse_qe_identity(qe_identity *qi, const char *s, size_t n, dg_at_err *err) {
#define BAD(why) at_fail(err, DG_AT_QE_IDENTITY_FORMAT, "qe_identity: ", why, NULL)
    if (!at_json_parse(&qi->j, s, n, DG_AT_QE_IDENTITY_FORMAT, "qe_identity", err)) return 0;
    at_json *j = &qi->j;
    uint32_t lv;
    const char *why = parse_head(j, "TD_QE", &qi->td_qe, &qi->version, &qi->issue, &qi->next, &lv);
    if (why) return BAD(why);
    static const struct {
        const char *name;
        size_t off, n;
    } hex[] = {{"miscselect", offsetof(qe_identity, misc), 4},
               {"miscselectMask", offsetof(qe_identity, misc_mask), 4},
               {"attributes", offsetof(qe_identity, attr), 16},
               {"attributesMask", offsetof(qe_identity, attr_mask), 16},
               {"mrsigner", offsetof(qe_identity, mrsigner), 32}};
    for (size_t i = 0; i < sizeof hex / sizeof hex[0]; i++)
        if (!hex_field(j, hex[i].name, (uint8_t *)qi + hex[i].off, hex[i].n))
            return at_fail5(err, DG_AT_QE_IDENTITY_FORMAT, "qe_identity: \"", hex[i].name,
                            "\" is not hex of the right length", NULL, NULL);
    if (!at_json_uint(j, 0, "isvprodid", 65535, &qi->isv_prod_id))
        return BAD("\"isvprodid\" is not 0..65535");
    uint32_t e = lv + 1;
    for (uint32_t i = 0; i < j->t[lv].len; i++, e = j->t[e].end) {
        qe_level *l = &qi->lv[qi->n++];
        uint32_t tcb = at_json_get(j, e, "tcb");
        uint64_t svn;
        if (!tcb || !at_json_uint(j, tcb, "isvsvn", 65535, &svn))
            return BAD("a TCB level has no \"tcb\".\"isvsvn\"");
        l->isv_svn = (uint16_t)svn;
        if ((why = parse_level_status(j, e, &l->status, &l->adv))) return BAD(why);
    }
#undef BAD
    return 1;
}

/* Append the advisory ids of array token adv (if any) that out lacks. */
static int add_advisories(at_json *j, uint32_t adv, dg_at_verdict *out, int code, dg_at_err *err) {
    if (!adv) return 1;
    uint32_t e = adv + 1;
    for (uint32_t i = 0; i < j->t[adv].len; i++, e = j->t[e].end) {
        nj_tok *t = &j->t[e];
        if (t->type != NJ_STR)
            return at_fail(err, code, "advisoryIDs: an item is not a string", NULL, NULL);
        uint32_t n = nj_unescape(j->s, t);
        t->type = NJ_STR | 0x80; /* decoded: never again */
        t->len = n;
        const char *s = j->s + t->start;
        if (n == 0 || n >= sizeof out->advisories[0])
            return at_fail(err, code, "advisoryIDs: an id is empty or longer than 23 bytes", NULL,
                           NULL);
        int dup = 0;
        for (uint32_t k = 0; k < out->n_advisories; k++)
            dup |= nj_eq(out->advisories[k], nj_strlen(out->advisories[k]), s, n);
        if (dup) continue;
        if (out->n_advisories == DG_AT_MAX_ADVISORIES)
            return at_fail(err, code, "advisoryIDs: more than 64 ids", NULL, NULL);
        memcpy(out->advisories[out->n_advisories], s, n);
        out->advisories[out->n_advisories++][n] = 0;
    }
    return 1;
}

static int ge_all(const uint8_t have[16], const uint8_t need[16]) {
    for (int i = 0; i < 16; i++)
        if (have[i] < need[i]) return 0;
    return 1;
}

/* SGX report body (the QE's), offsets of the fields the policy reads */
enum {
    QR_MISC = 16,
    QR_ATTR = 48,
    QR_MRSIGNER = 128,
    QR_PRODID = 256,
    QR_ISVSVN = 258,
    QR_DATA = 320
};

static int qe_policy(const dg_quote *q, const qe_identity *qi, int *qe_level_out, dg_at_err *err) {
    const uint8_t *r = q->qe_report;
    if (memcmp(r + QR_MRSIGNER, qi->mrsigner, 32) != 0)
        return at_fail(err, DG_AT_QE_IDENTITY_MISMATCH,
                       "QE report: MRSIGNER differs from qe_identity's", NULL, NULL);
    uint16_t prod = (uint16_t)(r[QR_PRODID] | r[QR_PRODID + 1] << 8);
    if (prod != qi->isv_prod_id)
        return at_fail(err, DG_AT_QE_IDENTITY_MISMATCH,
                       "QE report: ISVPRODID differs from qe_identity's", NULL, NULL);
    if (r[QR_ATTR] & 0x02)
        return at_fail(err, DG_AT_QE_IDENTITY_MISMATCH, "QE report: the QE runs in debug mode",
                       NULL, NULL);
    for (int i = 0; i < 4; i++)
        if ((r[QR_MISC + i] & qi->misc_mask[i]) != (qi->misc[i] & qi->misc_mask[i]))
            return at_fail(err, DG_AT_QE_IDENTITY_MISMATCH,
                           "QE report: MISCSELECT differs from qe_identity's under its mask", NULL,
                           NULL);
    for (int i = 0; i < 16; i++)
        if ((r[QR_ATTR + i] & qi->attr_mask[i]) != (qi->attr[i] & qi->attr_mask[i]))
            return at_fail(err, DG_AT_QE_IDENTITY_MISMATCH,
                           "QE report: ATTRIBUTES differ from qe_identity's under its mask", NULL,
                           NULL);
    uint16_t svn = (uint16_t)(r[QR_ISVSVN] | r[QR_ISVSVN + 1] << 8);
    for (uint32_t i = 0; i < qi->n; i++)
        if (svn >= qi->lv[i].isv_svn) {
            *qe_level_out = (int)i;
            return 1;
        }
    char num[40];
    return at_fail(err, DG_AT_QE_TCB, "QE report: ISVSVN ", at_u64(num, svn),
                   " is below every qe_identity TCB level");
}

static int td_attributes(const dg_quote *q, dg_at_err *err) {
    const uint8_t *a = q->td.td_attributes;
#define BAD(why) at_fail(err, DG_AT_TD_ATTRIBUTES, "TD report: ", why, NULL)
    if (q->td_version == 15)
        for (int i = 0; i < 48; i++)
            if (q->td.mr_service_td[i]) return BAD("MRSERVICETD is not zero");
    if (a[0]) return BAD("the TD is a debug TD (TUD bits set)");
    if (a[1] || a[2] || (a[3] & 0x0f) || (a[3] & 0x20) || a[4] || a[5] || a[6] || (a[7] & 0x7f))
        return BAD("reserved TD attribute bits are set");
    if (!(a[3] & 0x10)) return BAD("SEPT_VE_DISABLE is not set");
#undef BAD
    return 1;
}

/* --------------------------------------------------------------- verify */

typedef struct {
    collateral col;
    tcb_info ti;
    qe_identity qi;
    mbedtls_x509_crt root, pck_ca, tcb_chain, qe_chain, pck_chain;
    mbedtls_x509_crl root_crl, pck_crl;
} work;

static void work_free(work *w) {
    at_json_free(&w->col.j);
    at_json_free(&w->ti.j);
    at_json_free(&w->qi.j);
    mbedtls_x509_crt_free(&w->root);
    mbedtls_x509_crt_free(&w->pck_ca);
    mbedtls_x509_crt_free(&w->tcb_chain);
    mbedtls_x509_crt_free(&w->qe_chain);
    mbedtls_x509_crt_free(&w->pck_chain);
    mbedtls_x509_crl_free(&w->root_crl);
    mbedtls_x509_crl_free(&w->pck_crl);
}

static int parse_crl(mbedtls_x509_crl *crl, const char *hex, uint32_t n, const char *what,
                     dg_at_err *err) {
    size_t len;
    uint8_t *der = unhex_alloc(hex, n, &len);
    if (!der) return at_fail(err, DG_AT_COLLATERAL_FORMAT, "collateral: ", what, " is not hex");
    int r = mbedtls_x509_crl_parse_der(crl, der, len);
    mbedtls_free(der);
    if (r)
        return at_fail(err, DG_AT_COLLATERAL_FORMAT, "collateral: ", what,
                       " is not a DER CRL that parses");
    return 1;
}

static int signed_json(const mbedtls_x509_crt *leaf, const char *text, uint32_t n,
                       const char *sig_hex, uint32_t sn, int code, const char *what,
                       dg_at_err *err) {
    uint8_t sig[64];
    if (!at_unhex(sig_hex, sn, sig, 64))
        return at_fail(err, code, "collateral: ", what, "_signature is not 64 bytes of hex");
    if (!at_raw_sig_ok(&leaf->pk, (const uint8_t *)text, n, sig))
        return at_fail(err, code, "collateral: ", what,
                       " is not signed by its issuer chain's leaf key");
    return 1;
}

static int verify(work *w, const uint8_t *qb, size_t qn, const char *c, size_t cn, int64_t now,
                  const uint8_t *root, size_t root_len, dg_quote *q, dg_at_verdict *out,
                  dg_at_err *err) {
    if (!dg_quote_parse(qb, qn, q, err)) return 0;
    if (!parse_collateral(&w->col, c, cn, err)) return 0;
    const char *const *v = w->col.v;
    const uint32_t *vn = w->col.n;

    /* collateral freshness first, as Intel's QVL */
    if (!parse_tcb_info(&w->ti, v[C_TCB_INFO], vn[C_TCB_INFO], err)) return 0;
    if (now < w->ti.issue)
        return at_fail(err, DG_AT_TCB_INFO_TIME, "tcb_info: issueDate is after the given time",
                       NULL, NULL);
    if (now > w->ti.next)
        return at_fail(err, DG_AT_TCB_INFO_TIME,
                       "tcb_info: nextUpdate is before the given time (expired)", NULL, NULL);

    /* the trust anchor and the CRLs */
    if (root_len > 10 && memcmp(root, "-----BEGIN", 10) == 0) {
        if (!at_parse_pem(&w->root, (const char *)root, root_len, DG_AT_COLLATERAL_FORMAT,
                          "trust anchor", err))
            return 0;
    } else if (mbedtls_x509_crt_parse_der(&w->root, root, root_len) != 0) {
        return at_fail(err, DG_AT_COLLATERAL_FORMAT, "trust anchor: not a DER or PEM certificate",
                       NULL, NULL);
    }
    at_pki k = {&w->root, {NULL, NULL}, now, {{NULL, NULL}}, 0};
    if (!parse_crl(&w->root_crl, v[C_ROOT_CRL], vn[C_ROOT_CRL], "root_ca_crl", err)) return 0;
    if (!at_check_crl(&k, &w->root_crl, &w->root, "root_ca_crl", err)) return 0;
    k.crl[0] = &w->root_crl;
    if (!at_parse_pem(&w->pck_ca, v[C_PCK_CRL_CHAIN], vn[C_PCK_CRL_CHAIN], DG_AT_COLLATERAL_FORMAT,
                      "collateral: pck_crl_issuer_chain", err))
        return 0;
    if (!at_check_chain(&k, &w->pck_ca, 1, DG_AT_CRL, "pck_crl_issuer_chain", err)) return 0;
    if (!parse_crl(&w->pck_crl, v[C_PCK_CRL], vn[C_PCK_CRL], "pck_crl", err)) return 0;
    if (!at_check_crl(&k, &w->pck_crl, &w->pck_ca, "pck_crl", err)) return 0;
    k.crl[1] = &w->pck_crl;

    /* TCB info: signed by the TCB signing key, chained to the root */
    if (!at_parse_pem(&w->tcb_chain, v[C_TCB_CHAIN], vn[C_TCB_CHAIN], DG_AT_COLLATERAL_FORMAT,
                      "collateral: tcb_info_issuer_chain", err))
        return 0;
    if (!at_check_chain(&k, &w->tcb_chain, 0, DG_AT_TCB_CHAIN, "tcb_info_issuer_chain", err))
        return 0;
    if (!signed_json(&w->tcb_chain, v[C_TCB_INFO], vn[C_TCB_INFO], v[C_TCB_SIG], vn[C_TCB_SIG],
                     DG_AT_TCB_INFO_SIGNATURE, "tcb_info", err))
        return 0;

    /* QE identity: the same */
    if (!parse_qe_identity(&w->qi, v[C_QE_ID], vn[C_QE_ID], err)) return 0;
    if (now < w->qi.issue)
        return at_fail(err, DG_AT_QE_IDENTITY_TIME,
                       "qe_identity: issueDate is after the given time", NULL, NULL);
    if (now > w->qi.next)
        return at_fail(err, DG_AT_QE_IDENTITY_TIME,
                       "qe_identity: nextUpdate is before the given time (expired)", NULL, NULL);
    if (!at_parse_pem(&w->qe_chain, v[C_QE_CHAIN], vn[C_QE_CHAIN], DG_AT_COLLATERAL_FORMAT,
                      "collateral: qe_identity_issuer_chain", err))
        return 0;
    if (!at_check_chain(&k, &w->qe_chain, 0, DG_AT_QE_IDENTITY_CHAIN, "qe_identity_issuer_chain",
                        err))
        return 0;
    if (!signed_json(&w->qe_chain, v[C_QE_ID], vn[C_QE_ID], v[C_QE_SIG], vn[C_QE_SIG],
                     DG_AT_QE_IDENTITY_SIGNATURE, "qe_identity", err))
        return 0;
    if (!w->qi.td_qe || (w->qi.version != 2 && w->qi.version != 3))
        return at_fail(err, DG_AT_QE_IDENTITY_KIND,
                       "qe_identity: not a TD_QE identity of version 2 or 3", NULL, NULL);

    /* the quote's PCK chain */
    if (!at_parse_pem(&w->pck_chain, (const char *)q->cert_data, q->cert_len, DG_AT_QUOTE_FORMAT,
                      "quote: PCK certificate chain", err))
        return 0;
    if (!at_check_chain(&k, &w->pck_chain, 0, DG_AT_PCK_CHAIN, "quote PCK chain", err)) return 0;
    if (!(w->pck_chain.issuer_raw.len == w->pck_crl.issuer_raw.len &&
          memcmp(w->pck_chain.issuer_raw.p, w->pck_crl.issuer_raw.p, w->pck_crl.issuer_raw.len) ==
              0))
        return at_fail(err, DG_AT_CRL,
                       "pck_crl: not issued by the CA of the quote's PCK certificate", NULL, NULL);
    at_sgx_ext ext;
    if (!at_sgx_extension(&w->pck_chain, &ext, err)) return 0;

    /* QE report: signed by the PCK key, binding the attestation key */
    if (!at_raw_sig_ok(&w->pck_chain.pk, q->qe_report, 384, q->qe_report_signature))
        return at_fail(err, DG_AT_QE_REPORT_SIGNATURE,
                       "quote: the QE report is not signed by the PCK certificate's key", NULL,
                       NULL);
    {
        mbedtls_sha256_context h;
        uint8_t d[32];
        mbedtls_sha256_init(&h);
        mbedtls_sha256_starts_ret(&h, 0);
        mbedtls_sha256_update_ret(&h, q->attestation_key, 64);
        mbedtls_sha256_update_ret(&h, q->qe_auth_data, q->qe_auth_len);
        mbedtls_sha256_finish_ret(&h, d);
        mbedtls_sha256_free(&h);
        if (memcmp(d, q->qe_report + QR_DATA, 32) != 0)
            return at_fail(err, DG_AT_QE_REPORT_BINDING,
                           "quote: QE report data is not SHA-256(attestation key ‖ QE auth data)",
                           NULL, NULL);
    }
    int qe_lv = 0;
    if (!qe_policy(q, &w->qi, &qe_lv, err)) return 0;

    /* the quote itself */
    if (!at_key_verify(q->attestation_key, qb, q->signed_len, q->signature))
        return at_fail(err, DG_AT_QUOTE_SIGNATURE,
                       "quote: the header and TD report are not signed by the attestation key",
                       NULL, NULL);

    /* platform TCB */
    char hx[13], hy[13];
    if (memcmp(ext.fmspc, w->ti.fmspc, 6) != 0) {
        at_hex(hx, ext.fmspc, 6);
        at_hex(hy, w->ti.fmspc, 6);
        return at_fail5(err, DG_AT_FMSPC, "PCK certificate FMSPC ", hx,
                        " differs from tcb_info fmspc ", hy, NULL);
    }
    if (memcmp(ext.pce_id, w->ti.pce_id, 2) != 0)
        return at_fail(err, DG_AT_PCEID, "PCK certificate PCE-ID differs from tcb_info pceId", NULL,
                       NULL);
    if (!w->ti.tdx || w->ti.version < 3)
        return at_fail(err, DG_AT_TCB_INFO_KIND, "tcb_info: not TDX TCB info of version 3 or later",
                       NULL, NULL);
    int lv = -1;
    for (uint32_t i = 0; i < w->ti.n && lv < 0; i++) {
        const tcb_level *l = &w->ti.lv[i];
        if (ext.pce_svn >= l->pce_svn && ge_all(ext.comp, l->sgx) &&
            ge_all(q->td.tee_tcb_svn, l->tdx))
            lv = (int)i;
    }
    if (lv < 0)
        return at_fail(err, DG_AT_NO_TCB_LEVEL,
                       "no tcb_info TCB level matches the platform (SGX components, PCESVN, TDX "
                       "components): TCB not supported",
                       NULL, NULL);

    memset(out, 0, sizeof *out);
    const tcb_level *pl = &w->ti.lv[lv];
    const qe_level *ql = &w->qi.lv[qe_lv];
    out->status = pl->status >= ql->status ? pl->status : ql->status;
    if (!add_advisories(&w->ti.j, pl->adv, out, DG_AT_TCB_INFO_FORMAT, err) ||
        !add_advisories(&w->qi.j, ql->adv, out, DG_AT_QE_IDENTITY_FORMAT, err))
        return 0;
    memcpy(out->fmspc, ext.fmspc, 6);
    memcpy(out->pce_id, ext.pce_id, 2);
    out->pce_svn = ext.pce_svn;
    memcpy(out->cpu_svn, ext.cpu_svn, 16);
    out->test_anchor =
        !(root_len == dg_at_intel_root_len && memcmp(root, dg_at_intel_root, root_len) == 0);
    if (out->status >= DG_TCB_REVOKED)
        return at_fail(err, DG_AT_TCB_REVOKED, "TCB status is ", dg_at_status_name(out->status),
                       ": not acceptable");
    return td_attributes(q, err);
}

int dg_at_verify(const uint8_t *q, size_t qn, const char *c, size_t cn, int64_t now,
                 const uint8_t *root, size_t root_len, dg_quote *quote, dg_at_verdict *out,
                 dg_at_err *err) {
    dg_quote qtmp;
    dg_at_verdict vtmp;
    if (!quote) quote = &qtmp;
    if (!out) out = &vtmp;
    memset(out, 0, sizeof *out);
    out->status = DG_TCB_UNKNOWN;
    if (!root) {
        root = dg_at_intel_root;
        root_len = dg_at_intel_root_len;
    }
    work *w = mbedtls_calloc(1, sizeof *w);
    if (!w) return at_fail(err, DG_AT_NOMEM, "verify: out of memory", NULL, NULL);
    mbedtls_x509_crt_init(&w->root);
    mbedtls_x509_crt_init(&w->pck_ca);
    mbedtls_x509_crt_init(&w->tcb_chain);
    mbedtls_x509_crt_init(&w->qe_chain);
    mbedtls_x509_crt_init(&w->pck_chain);
    mbedtls_x509_crl_init(&w->root_crl);
    mbedtls_x509_crl_init(&w->pck_crl);
    int ok = verify(w, q, qn, c, cn, now, root, root_len, quote, out, err);
    work_free(w);
    mbedtls_free(w);
    if (ok && err) {
        err->code = DG_AT_OK;
        err->msg[0] = 0;
    }
    return ok;
}
