/* pki.h — chains, CRLs and signatures for lib/attest (not public). */
#ifndef DG_ATTEST_PKI_H
#define DG_ATTEST_PKI_H

#include "internal.h"

#include "mbedtls/ecp.h"
#include "mbedtls/x509_crl.h"
#include "mbedtls/x509_crt.h"

/* What every chain is checked against: the trust anchor, the CRLs (root CRL,
 * PCK CRL; either may be NULL while they are being checked) and the time. */
typedef struct {
    const mbedtls_x509_crt *root;
    const mbedtls_x509_crl *crl[2];
    int64_t now;
    /* certificate signatures already checked, as (certificate, issuer) pairs:
     * Intel's chains share their CA certificates, and an ECDSA verification is
     * most of the cost in wasm, so a pair seen again is not verified again */
    const mbedtls_x509_crt *seen[8][2];
    int nseen;
} at_pki;

/* Unix seconds of an X.509 time (INT64_MIN if impossible). */
int64_t at_x509_time(const mbedtls_x509_time *t);

/* Parse PEM certificates pem[0..n) into chain (initialised by the caller). */
int at_parse_pem(mbedtls_x509_crt *chain, const char *pem, size_t n, int code, const char *what,
                 dg_at_err *err);

/* Check chain (leaf first; a trailing copy of the anchor is allowed) up to
 * k->root: issuer names, CA flags, signatures, validity at k->now, CRLs.
 * Failures are `code`, except a revocation (DG_AT_REVOKED). */
int at_check_chain(at_pki *k, const mbedtls_x509_crt *chain, int leaf_may_be_ca, int code,
                   const char *what, dg_at_err *err);

/* Check a CRL: issued and signed by issuer, thisUpdate <= now <= nextUpdate. */
int at_check_crl(const at_pki *k, const mbedtls_x509_crl *crl, const mbedtls_x509_crt *issuer,
                 const char *what, dg_at_err *err);

/* ECDSA-P256 over SHA-256(msg) with a raw r||s signature: by a certificate's
 * key, by a raw x||y key (BearSSL's P-256). */
int at_raw_sig_ok(const mbedtls_pk_context *pk, const uint8_t *msg, size_t n,
                  const uint8_t sig[64]);
int at_key_verify(const uint8_t key[64], const uint8_t *msg, size_t n, const uint8_t sig[64]);

/* Intel's SGX extension of a PCK certificate. */
typedef struct {
    uint8_t comp[16]; /* SGX TCB components 1..16 */
    uint8_t cpu_svn[16];
    uint16_t pce_svn;
    uint8_t pce_id[2];
    uint8_t fmspc[6];
} at_sgx_ext;

int at_sgx_extension(const mbedtls_x509_crt *pck, at_sgx_ext *out, dg_at_err *err);

#endif
