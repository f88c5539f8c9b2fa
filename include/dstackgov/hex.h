/* hex.h — strict hexadecimal and Ethereum address text.
 *
 * Input is strict: an optional "0x"/"0X" prefix, then exactly the expected
 * number of hex digits in any case. A short value is an error, never padded.
 * Output is always lowercase (addresses: EIP-55 mixed case on request).
 * Error messages name the problem ("expected 64 hex digits, got 62"); callers
 * prefix the name of the field with dg_err_wrap().
 */
#ifndef DSTACKGOV_HEX_H
#define DSTACKGOV_HEX_H

#include <stddef.h>
#include <stdint.h>

#include "dstackgov/buf.h"
#include "dstackgov/err.h"

/* The value of one hex digit c (0-9, a-f, A-F), or -1 for any other byte. */
int dg_hex_digit(int c);

/* Decode a fixed-length hex string.
 *
 * Returns 1 on success; 0 (err: DG_ERR_INPUT) when the digit count is not
 * exactly 2*outlen or a character is not a hex digit. On failure `out` is left
 * untouched.
 * Args:  err:    error out (may be NULL).
 * Out:   out:    outlen bytes.
 * In:    s:      text, optional 0x/0X prefix; need not be NUL-terminated.
 *        slen:   length of s in bytes.
 *        outlen: expected byte count (e.g. 32 for a bytes32).
 */
int dg_hex_decode(const char *s, size_t slen, uint8_t *out, size_t outlen, dg_err *err);

/* Decode a hex string of any even length (0 digits included) and APPEND the
 * bytes to `out`.
 *
 * Returns 1 on success; 0 (DG_ERR_INPUT) on an odd digit count or a non-hex
 * character (out unchanged), 0 (DG_ERR_NOMEM) if the buffer cannot grow.
 * Args:  err: error out (may be NULL).
 * Out:   out: initialised buffer; the decoded bytes are appended.
 * In:    s, slen: text with optional 0x/0X prefix.
 */
int dg_hex_decode_var(const char *s, size_t slen, dg_buf *out, dg_err *err);

/* Encode n bytes as 2n lowercase hex digits followed by a NUL.
 * Out: out: 2n+1 chars.  In: in: n bytes (may be NULL when n == 0).
 */
void dg_hex_encode(const uint8_t *in, size_t n, char *out);

/* Like dg_hex_encode with a "0x" prefix: out needs 2n+3 chars. */
void dg_hex_encode_0x(const uint8_t *in, size_t n, char *out);

/* Append "0x" (if `prefix`) and the lowercase hex of n bytes to a buffer.
 * Returns 1, or 0 if the buffer cannot grow (b->oom is set).
 */
int dg_hex_append(dg_buf *b, const uint8_t *in, size_t n, int prefix);

/* Parse an Ethereum address: optional 0x/0X prefix and exactly 40 hex digits.
 * All-lowercase and all-uppercase digits are accepted as they are; mixed case
 * must be a valid EIP-55 checksum (a typo is caught, not silently accepted).
 *
 * Returns 1 on success; 0 (DG_ERR_INPUT) with a message naming the problem.
 * Args:  err: error out (may be NULL).
 * Out:   out: the 20 address bytes (untouched on failure).
 * In:    s:   NUL-terminated text.
 */
int dg_address_parse(const char *s, uint8_t out[20], dg_err *err);

/* Format an address with its EIP-55 checksum: "0x" + 40 mixed-case digits + NUL.
 * Out: out: 43 chars.  In: addr: 20 bytes.
 */
void dg_address_checksum(const uint8_t addr[20], char out[43]);

/* Returns 1 if the NUL-terminated text (optional 0x) is 40 hex digits
 * written exactly in their EIP-55 case, else 0 (an all-lowercase address is
 * checksummed only when its checksum happens to have no upper-case letter).
 * For warnings ("address is not checksummed").
 */
int dg_address_is_checksummed(const char *s);

#endif
