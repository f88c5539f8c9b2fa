/* u256.h — unsigned 256-bit integers: wei amounts, uint256 ABI values, RPC
 * quantities.
 *
 * Values are passed by value (32 bytes) and results written through a
 * pointer. Arithmetic reports overflow instead of wrapping: every function
 * that can overflow returns 1 when the result is exact and 0 when it is not
 * (the result then holds the wrapped value, which callers must not use).
 */
#ifndef DSTACKGOV_U256_H
#define DSTACKGOV_U256_H

#include <stddef.h>
#include <stdint.h>

#include "dstackgov/err.h"

typedef struct {
    uint64_t w[4]; /* w[0] least significant 64 bits */
} dg_u256;

/* Buffer sizes for the text forms, NUL included. */
#define DG_U256_DEC_LEN 79   /* up to 78 decimal digits */
#define DG_U256_HEX_LEN 67   /* "0x" + up to 64 digits */
#define DG_U256_UNITS_LEN 82 /* digits, '.', leading "0." */

/* Returns the value x. */
dg_u256 dg_u256_from_u64(uint64_t x);

/* Returns 1 if v == 0, else 0. */
int dg_u256_is_zero(dg_u256 v);

/* Convert to uint64_t. Returns 1 if v fits (then *out = v), else 0. */
int dg_u256_to_u64(dg_u256 v, uint64_t *out);

/* Parse an unsigned integer: decimal digits ("12345"), or "0x"/"0X" followed
 * by 1 to 64 hex digits (JSON-RPC quantities such as "0x1a"). No sign, no
 * spaces, no unit. Leading zeros are accepted.
 *
 * Returns 1 on success; 0 (DG_ERR_INPUT) on a malformed or too-large value,
 * with a message naming the problem. *out is untouched on failure.
 * Args: err: error out (may be NULL).  Out: out.  In: s: NUL-terminated text.
 */
int dg_u256_parse(const char *s, dg_u256 *out, dg_err *err);

/* Parse an amount of ether into wei: a decimal number with an optional
 * fraction and an optional unit — "wei", "gwei", "ether" (or "eth"), any
 * case — with optional spaces between number and unit: "1.5ether",
 * "10 gwei", "123wei", "2 ETH".
 * Without a unit the number is in wei and must be an integer ("123", or a
 * 0x-hex quantity). A fraction finer than the unit allows ("1.5wei",
 * "0.0000000001gwei") is an error, never rounded.
 *
 * Returns 1 on success; 0 (DG_ERR_INPUT) with a message naming the problem.
 * Args: err: error out (may be NULL).  Out: wei.  In: s: NUL-terminated text.
 */
int dg_u256_parse_amount(const char *s, dg_u256 *wei, dg_err *err);

/* Decimal text of v, without leading zeros ("0" for zero).
 * Out: out: DG_U256_DEC_LEN chars.
 */
void dg_u256_to_dec(dg_u256 v, char out[DG_U256_DEC_LEN]);

/* Minimal "0x" hex of v as JSON-RPC wants quantities: "0x0", "0x1a".
 * Out: out: DG_U256_HEX_LEN chars.
 */
void dg_u256_to_hex(dg_u256 v, char out[DG_U256_HEX_LEN]);

/* Format v scaled down by 10^decimals, trailing fractional zeros removed:
 * (1500000000000000000, 18) -> "1.5", (0, 18) -> "0", (5, 18) ->
 * "0.000000000000000005", (7, 0) -> "7". decimals must be <= 77 (larger
 * values are treated as 77).
 * Out: out: DG_U256_UNITS_LEN chars.
 */
void dg_u256_format_units(dg_u256 v, unsigned decimals, char out[DG_U256_UNITS_LEN]);

/* r = a + b. Returns 1, or 0 on overflow. r may alias nothing else needed. */
int dg_u256_add(dg_u256 *r, dg_u256 a, dg_u256 b);
/* r = a - b. Returns 1, or 0 if b > a (underflow). */
int dg_u256_sub(dg_u256 *r, dg_u256 a, dg_u256 b);
/* r = a * m. Returns 1, or 0 on overflow. */
int dg_u256_mul_u64(dg_u256 *r, dg_u256 a, uint64_t m);
/* r = a * b. Returns 1, or 0 on overflow. */
int dg_u256_mul(dg_u256 *r, dg_u256 a, dg_u256 b);
/* q = a / d, returns the remainder a % d. d must not be 0 (then q = 0 and
 * the return value is 0). */
uint64_t dg_u256_div_u64(dg_u256 *q, dg_u256 a, uint64_t d);
/* Returns -1, 0 or 1 as a <, ==, > b. */
int dg_u256_cmp(dg_u256 a, dg_u256 b);

/* 32-byte big-endian form (the ABI word and storage slot layout). */
void dg_u256_to_be(dg_u256 v, uint8_t out[32]);
/* Returns the value of a 32-byte big-endian word. */
dg_u256 dg_u256_from_be(const uint8_t in[32]);

/* Value of n big-endian bytes (any n, e.g. an RLP integer).
 * Returns 1, or 0 if the value does not fit in 256 bits (*out untouched).
 */
int dg_u256_from_bytes(const uint8_t *p, size_t n, dg_u256 *out);

/* Minimal big-endian bytes of v (no leading zero byte; zero has none), as
 * RLP encodes integers. Returns the count k (0..32) written to out[0..k).
 */
size_t dg_u256_to_min_be(dg_u256 v, uint8_t out[32]);

#endif
