/* text.h — hex, NEAR account id and yoctoNEAR helpers of the NEAR contracts.
 *
 * Portable and libc-free like json.c: compiled into the wasm contracts and
 * natively into the unit tests.
 */
#ifndef NC_TEXT_H
#define NC_TEXT_H

#include <stdint.h>

typedef unsigned __int128 nt_u128;

/* Normalize a hex argument: optional "0x"/"0X", any case. Writes exactly
 * `digits` lowercase hex digits to out and returns 1 when s has exactly that
 * many digits after the prefix; returns 0 otherwise (out unspecified). */
int nt_hex_norm(const char *s, uint32_t n, uint32_t digits, char *out);

/* Number of digits after an optional "0x"/"0X" prefix (for "is it empty"). */
uint32_t nt_hex_body_len(const char *s, uint32_t n);

/* 1 if s[0..n) is a valid NEAR account id (2-64 chars, lowercase alnum runs
 * separated by single '.', '-' or '_'). */
int nt_account_valid(const char *s, uint32_t n);

/* Decimal text of v into out (no terminator); returns the length (1..39). */
uint32_t nt_u128_dec(nt_u128 v, char out[40]);

/* Parse a decimal u128 (digits only, no leading zeros except "0"). */
int nt_u128_parse(const char *s, uint32_t n, nt_u128 *out);

/* Lowercase hex of p[0..n) into out (2n chars). */
/* Hex s[0..n) (n even, either case) into out[n/2]; 0 on a non-hex digit. */
int nt_hex_decode(const char *s, uint32_t n, uint8_t *out);
void nt_hex_encode(const uint8_t *p, uint32_t n, char *out);

#endif
