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

#endif
