/* mbedtls_config.h — the mbed TLS 2.28 features the attestation verifier uses.
 *
 * Only what a DCAP quote needs: X.509 certificates and CRLs (DER and PEM),
 * ECDSA P-256 verification, SHA-256 and SHA-384, and the ASN.1 reader for
 * Intel's SGX certificate extension. No time source, no files, no entropy, no
 * TLS: the verifier checks validity at a time it is given, so the same build
 * runs natively and freestanding in wasm32. DG_MBEDTLS_WASM (set by the wasm
 * build) swaps libc's calloc/free for mbed TLS's own buffer allocator.
 */
#ifndef DG_MBEDTLS_CONFIG_H
#define DG_MBEDTLS_CONFIG_H

#define MBEDTLS_PLATFORM_C
#if defined(DG_MBEDTLS_WASM)
#define MBEDTLS_PLATFORM_MEMORY
#define MBEDTLS_PLATFORM_NO_STD_FUNCTIONS
#define MBEDTLS_MEMORY_BUFFER_ALLOC_C
#define MBEDTLS_MEMORY_ALIGN_MULTIPLE 8
#define MBEDTLS_PLATFORM_STD_CALLOC dg_mbedtls_no_calloc
#define MBEDTLS_PLATFORM_STD_FREE dg_mbedtls_no_free
#define MBEDTLS_PLATFORM_SNPRINTF_MACRO dg_mbedtls_snprintf
#define MBEDTLS_PLATFORM_PRINTF_MACRO dg_mbedtls_printf
#define MBEDTLS_PLATFORM_FPRINTF_MACRO dg_mbedtls_fprintf
#define MBEDTLS_PLATFORM_EXIT_MACRO dg_mbedtls_exit
#endif

#define MBEDTLS_BIGNUM_C
#define MBEDTLS_ECP_C
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
#define MBEDTLS_ECP_NIST_OPTIM
#define MBEDTLS_ECP_NO_INTERNAL_RNG /* verification only: no secret scalar to blind */
#define MBEDTLS_ECDSA_C
#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C
#define MBEDTLS_OID_C
#define MBEDTLS_PK_C
#define MBEDTLS_PK_PARSE_C
#define MBEDTLS_MD_C
#define MBEDTLS_SHA256_C
#define MBEDTLS_SHA512_C
#define MBEDTLS_BASE64_C
#define MBEDTLS_PEM_PARSE_C
#define MBEDTLS_X509_USE_C
#define MBEDTLS_X509_CRT_PARSE_C
#define MBEDTLS_X509_CRL_PARSE_C
#define MBEDTLS_X509_REMOVE_INFO

#if defined(DG_MBEDTLS_WASM)
#include <stddef.h>
int dg_mbedtls_snprintf(char *s, size_t n, const char *fmt, ...);
int dg_mbedtls_printf(const char *fmt, ...);
int dg_mbedtls_fprintf(void *f, const char *fmt, ...);
void dg_mbedtls_exit(int status);
void *dg_mbedtls_no_calloc(size_t n, size_t size);
void dg_mbedtls_no_free(void *p);
#endif

#include "mbedtls/check_config.h"
#endif
