/* internal.h — helpers shared by the attestation modules (not public).
 *
 * The attestation code is freestanding (it is compiled into the NEAR KMS
 * contract too): messages are built by concatenation, not printf, and memory
 * comes from mbed TLS's allocator (libc natively, a buffer in wasm).
 */
#ifndef DG_ATTEST_INTERNAL_H
#define DG_ATTEST_INTERNAL_H

#include <string.h>

#include "../../contracts/near/json.h"
#include "dstackgov/attest.h"

/* Fill err with code and the concatenation of up to three parts (NULLs
 * skipped); returns 0. */
int at_fail(dg_at_err *err, int code, const char *a, const char *b, const char *c);
int at_fail5(dg_at_err *err, int code, const char *a, const char *b, const char *c, const char *d,
             const char *e);

/* Decimal text of v (a static buffer per call site is the caller's). */
const char *at_u64(char buf[40], uint64_t v);

/* Lowercase hex of p[0..n) into out (2n+1 bytes). */
void at_hex(char *out, const uint8_t *p, size_t n);

/* Decode exactly 2*n hex digits s[0..sn) into out[0..n): 1 or 0. */
int at_unhex(const char *s, size_t sn, uint8_t *out, size_t n);

void at_sha256(const uint8_t *p, size_t n, uint8_t out[32]);
void at_sha384(const uint8_t *p, size_t n, uint8_t out[48]);

/* A parsed JSON document: the text (mutable: strings are unescaped in place)
 * and its tokens. */
typedef struct {
    char *s;
    uint32_t n;
    nj_tok *t;
    uint32_t nt;
} at_json;

/* Parse s[0..n) (copied). Returns 1, or 0 with err = code. */
int at_json_parse(at_json *j, const char *s, size_t n, int code, const char *what, dg_at_err *err);
void at_json_free(at_json *j);
/* Index of member `name` of object token obj, or 0 when absent. */
uint32_t at_json_get(const at_json *j, uint32_t obj, const char *name);
/* String member (unescaped once, NUL-terminated in place): pointer or NULL. */
const char *at_json_str(at_json *j, uint32_t obj, const char *name, uint32_t *len);
/* Unsigned integer member <= max: 1 or 0. */
int at_json_uint(const at_json *j, uint32_t obj, const char *name, uint64_t max, uint64_t *out);

#endif
