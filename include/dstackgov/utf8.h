/* utf8.h — strict UTF-8: one sequence checked, one code point written.
 *
 * Shared by every text parser of the library (the BootInfo JSON parser, the
 * webhook's reason sanitizer, the TOML config parser), so all of them accept
 * exactly the same bytes: no overlong form, no surrogate, nothing above
 * U+10FFFF.
 */
#ifndef DSTACKGOV_UTF8_H
#define DSTACKGOV_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* The length of the valid UTF-8 sequence at p.
 *
 * Returns 2 to 4, or 0 when the bytes from p are not one valid sequence
 * (bad lead byte, truncated before end, bad continuation, overlong form,
 * surrogate, above U+10FFFF).
 * In:    p:      the lead byte, >= 0x80 (ASCII is the caller's).
 *        end:    one past the last readable byte.
 */
size_t dg_utf8_seq(const unsigned char *p, const unsigned char *end);

/* Write code point cp as UTF-8.
 *
 * Returns the number of bytes written (1 to 4).
 * Out:   out:    the bytes.
 * In:    cp:     a Unicode scalar value (<= U+10FFFF, not a surrogate;
 *                the caller checks).
 */
size_t dg_utf8_encode(uint32_t cp, unsigned char out[4]);

/* Copy text from outside (a node, a contract, a request) for a one-line
 * message: control characters (NUL included) and bytes that are not valid
 * UTF-8 become '?', valid UTF-8 is kept, and a sequence is never cut short.
 * The one cleaner of the library: decision reasons, RPC and NEAR errors,
 * revert strings.
 * Out:   dst:    NUL-terminated (unless cap is 0), at most cap - 1 bytes.
 * In:    s, n:   the bytes (s may be NULL when n is 0).
 */
void dg_utf8_clean(char *dst, size_t cap, const char *s, size_t n);

/* dg_utf8_clean of a C string's first max bytes at most (up to its NUL);
 * NULL is "". */
void dg_utf8_clean_str(char *dst, size_t cap, const char *s, size_t max);

#endif
