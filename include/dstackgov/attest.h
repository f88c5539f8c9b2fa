/* attest.h — Intel TDX quote (DCAP) verification and the dstack event log.
 *
 * The verifier checks a TDX quote (v4, or v5 with a TD 1.0 or 1.5 report)
 * the way Intel's quote verification library does: the PCK certificate chain
 * in the quote up to Intel's SGX root CA, the root and PCK CRLs, the QE report
 * signed by the PCK key and binding the attestation key, the quote signed by
 * the attestation key, and the collateral (TCB info and QE identity, each
 * signed by Intel's TCB signing key and valid at the given time) that turns the
 * PCK certificate's SGX extension and the TD report into a TCB status with
 * advisory ids. It stops at the first failing check and names it.
 *
 * The same code runs natively and inside the NEAR KMS contract (wasm32, no
 * libc): it allocates only through mbed TLS's allocator and formats its own
 * messages, so it never prints, exits or reads a clock — the caller passes
 * the time. Crypto and X.509/CRL parsing come from mbed TLS 2.28.
 *
 * Every function returns 1 on success and 0 on failure, with *err filled:
 * err->code is a dg_at_reason (stable; dg_at_reason_name gives its name) and
 * err->msg one sentence naming the field and the problem.
 */
#ifndef DSTACKGOV_ATTEST_H
#define DSTACKGOV_ATTEST_H

#include <stddef.h>
#include <stdint.h>

/* Why a verification failed: the first check that did not pass. */
typedef enum {
    DG_AT_OK = 0,
    DG_AT_QUOTE_FORMAT,          /* the quote bytes do not parse */
    DG_AT_QUOTE_UNSUPPORTED,     /* not a TDX v4/v5 ECDSA-P256 quote with a PCK chain */
    DG_AT_COLLATERAL_FORMAT,     /* collateral JSON, hex, PEM or DER does not parse */
    DG_AT_TCB_INFO_FORMAT,       /* tcb_info JSON is malformed */
    DG_AT_TCB_INFO_TIME,         /* tcb_info not yet issued or past nextUpdate */
    DG_AT_QE_IDENTITY_FORMAT,    /* qe_identity JSON is malformed */
    DG_AT_QE_IDENTITY_TIME,      /* qe_identity not yet issued or past nextUpdate */
    DG_AT_CRL,                   /* a CRL has a bad signature, issuer or validity */
    DG_AT_REVOKED,               /* a certificate of a chain is on a CRL */
    DG_AT_TCB_CHAIN,             /* the TCB signing chain does not lead to the root */
    DG_AT_TCB_INFO_SIGNATURE,    /* tcb_info_signature is not valid */
    DG_AT_QE_IDENTITY_CHAIN,     /* the QE identity signing chain does not lead to the root */
    DG_AT_QE_IDENTITY_SIGNATURE, /* qe_identity_signature is not valid */
    DG_AT_QE_IDENTITY_KIND,      /* qe_identity is not a TD_QE identity (version 2 or 3) */
    DG_AT_PCK_CHAIN,             /* the quote's PCK chain does not lead to the root */
    DG_AT_PCK_EXTENSION,         /* the PCK certificate's SGX extension is malformed */
    DG_AT_QE_REPORT_SIGNATURE,   /* the QE report is not signed by the PCK key */
    DG_AT_QE_REPORT_BINDING,     /* QE report data does not hash the attestation key */
    DG_AT_QE_IDENTITY_MISMATCH,  /* QE report vs QE identity (MRSIGNER, ISVPRODID, ...) */
    DG_AT_QE_TCB,                /* QE ISVSVN below every QE identity TCB level */
    DG_AT_QUOTE_SIGNATURE,       /* the quote is not signed by the attestation key */
    DG_AT_FMSPC,                 /* PCK FMSPC differs from tcb_info's */
    DG_AT_PCEID,                 /* PCK PCE-ID differs from tcb_info's */
    DG_AT_TCB_INFO_KIND,         /* tcb_info is not TDX TCB info of version >= 3 */
    DG_AT_NO_TCB_LEVEL,          /* no TCB level matches the platform (TCB not supported) */
    DG_AT_TCB_REVOKED,           /* the matching TCB status is Revoked (or unknown) */
    DG_AT_TD_ATTRIBUTES,         /* debug TD, reserved bits, SEPT_VE_DISABLE off, service TD */
    DG_AT_EVENT_LOG,             /* the event log does not parse or an event digest differs */
    DG_AT_RTMR3,                 /* replayed RTMR3 differs from the quote's */
    DG_AT_APP_COMPOSE,           /* app-compose does not hash to the compose-hash event */
    DG_AT_NOMEM,                 /* the allocator ran out */
    DG_AT_REASON_COUNT
} dg_at_reason;

typedef struct {
    int code; /* dg_at_reason */
    char msg[240];
} dg_at_err;

/* Stable kebab-case name of a reason, e.g. "quote-signature". */
const char *dg_at_reason_name(int code);

/* TCB statuses, from best to worst (Intel's names by dg_at_status_name). */
typedef enum {
    DG_TCB_UP_TO_DATE = 0,
    DG_TCB_SW_HARDENING_NEEDED,
    DG_TCB_CONFIGURATION_NEEDED,
    DG_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED,
    DG_TCB_OUT_OF_DATE,
    DG_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED,
    DG_TCB_REVOKED,
    DG_TCB_UNKNOWN
} dg_tcb_status;

/* "UpToDate", "OutOfDate", ... as in Intel's TCB info. */
const char *dg_at_status_name(int status);

/* The TD report (TDX 1.0 fields; tee_tcb_svn2 and mr_service_td are zero for 1.0). */
typedef struct {
    uint8_t tee_tcb_svn[16];
    uint8_t mr_seam[48];
    uint8_t mr_signer_seam[48];
    uint8_t seam_attributes[8];
    uint8_t td_attributes[8];
    uint8_t xfam[8];
    uint8_t mr_td[48];
    uint8_t mr_config_id[48];
    uint8_t mr_owner[48];
    uint8_t mr_owner_config[48];
    uint8_t rtmr[4][48];
    uint8_t report_data[64];
    uint8_t tee_tcb_svn2[16];
    uint8_t mr_service_td[48];
} dg_td_report;

/* A parsed quote. Pointers point into the caller's quote bytes. */
typedef struct {
    uint16_t version;  /* 4 or 5 */
    uint16_t key_type; /* 2: ECDSA-256 with P-256 */
    uint32_t tee_type; /* 0x81: TDX */
    uint16_t qe_svn, pce_svn;
    uint8_t qe_vendor_id[16];
    uint8_t user_data[20];
    uint8_t td_version; /* 10 (TDX 1.0 report) or 15 (TDX 1.5 report) */
    dg_td_report td;
    size_t signed_len;           /* header + body: what the attestation key signs */
    uint8_t signature[64];       /* r || s, big-endian */
    uint8_t attestation_key[64]; /* x || y */
    const uint8_t *qe_report;    /* 384-byte SGX report of the QE */
    uint8_t qe_report_signature[64];
    const uint8_t *qe_auth_data;
    uint16_t qe_auth_len;
    uint16_t cert_type;       /* inner certification data type: 5 = PEM PCK chain */
    const uint8_t *cert_data; /* PCK chain (PEM) when cert_type is 5 */
    uint32_t cert_len;
} dg_quote;

/* Parse a TDX quote (v4, or v5 with body type 2 = TD 1.0 or 3 = TD 1.5).
 * Checks lengths and the header (TDX, ECDSA-P256, certification data type 6
 * wrapping the QE report); verifies nothing. Args: q/n: the quote bytes (kept
 * referenced by out). Out: out. */
int dg_quote_parse(const uint8_t *q, size_t n, dg_quote *out, dg_at_err *err);

#define DG_AT_MAX_ADVISORIES 64

/* What a verified quote proves. */
typedef struct {
    int status; /* dg_tcb_status: the platform's and the QE's status combined */
    uint32_t n_advisories;
    char advisories[DG_AT_MAX_ADVISORIES][24]; /* "INTEL-SA-00837", ... */
    uint8_t fmspc[6];
    uint8_t pce_id[2];
    uint16_t pce_svn;    /* from the PCK certificate */
    uint8_t cpu_svn[16]; /* from the PCK certificate */
    int test_anchor;     /* 1 when verified against a root other than Intel's */
} dg_at_verdict;

/* Intel SGX Root CA (DER), the production trust anchor; SHA-256 of the DER is
 * 44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3. */
extern const uint8_t dg_at_intel_root[];
extern const size_t dg_at_intel_root_len;

/* Verify quote q[0..qn) with the collateral JSON c[0..cn) (the shape of the
 * NEAR KMS contract's `collateral` argument: pck_crl_issuer_chain, root_ca_crl
 * (hex DER), pck_crl (hex DER), tcb_info_issuer_chain, tcb_info (JSON text),
 * tcb_info_signature (hex r||s), qe_identity_issuer_chain, qe_identity,
 * qe_identity_signature; unknown keys rejected) at unix time now.
 * Returns 1 when every check passed and the combined TCB status is not Revoked
 * (the status may still be OutOfDate etc.: policy is the caller's).
 * Args: root/root_len: the trust anchor (DER or PEM); NULL selects Intel's root (a
 *   production build passes NULL); a different root sets out->test_anchor.
 * Out: quote (parsed; may be NULL), out (verdict; may be NULL). */
int dg_at_verify(const uint8_t *q, size_t qn, const char *c, size_t cn, int64_t now,
                 const uint8_t *root, size_t root_len, dg_quote *quote, dg_at_verdict *out,
                 dg_at_err *err);

/* The dstack facts replayed from an event log. */
typedef struct {
    uint8_t rtmr3[48]; /* SHA-384 replay of the imr 3 events from 48 zero bytes */
    uint32_t n_events; /* all events in the log */
    uint32_t n_imr3;   /* events with imr 3 */
    /* Payloads of dstack's events (lengths 0 when absent). */
    uint8_t app_id[32];
    uint32_t app_id_len;
    uint8_t compose_hash[32];
    uint32_t compose_hash_len;
    uint32_t n_compose_hash; /* how many compose-hash events (exactly 1 expected) */
    uint8_t instance_id[32];
    uint32_t instance_id_len;
    char key_provider[512]; /* JSON text as logged, NUL-terminated */
    uint32_t key_provider_len;
} dg_at_events;

/* Parse a dstack event log (a JSON array of {imr, event_type, digest, event,
 * event_payload}, or an object with key "event_log" holding it as JSON text)
 * and replay imr 3: each imr-3 event must be a dstack event (type 0x08000001)
 * whose digest equals SHA-384(type as 4 LE bytes ‖ ":" ‖ event ‖ ":" ‖
 * payload). Args: s/n: the text. Out: out. */
int dg_at_events_parse(const char *s, size_t n, dg_at_events *out, dg_at_err *err);

/* 1 if the replayed RTMR3 equals the quote's RTMR3 (else DG_AT_RTMR3). */
int dg_at_events_check_rtmr3(const dg_at_events *ev, const dg_td_report *td, dg_at_err *err);

/* 1 if the log has exactly one compose-hash event and it equals
 * SHA-256(app_compose[0..n)) (else DG_AT_APP_COMPOSE). */
int dg_at_events_check_compose(const dg_at_events *ev, const char *app_compose, size_t n,
                               dg_at_err *err);

/* RFC 3339 UTC time ("2025-07-01T00:00:00Z", optional fraction) to unix
 * seconds. Returns 1, or 0 if s[0..n) is not such a time. */
int dg_at_parse_time(const char *s, size_t n, int64_t *out);

#endif
