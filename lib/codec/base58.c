/* base58.c — Bitcoin-alphabet base58, the text form of NEAR hashes, keys and
 * signatures.
 *
 * The one idea: base58 is a change of radix of the whole byte string, so both
 * directions run the schoolbook conversion over a digit array, and leading
 * zero bytes (which the radix change would lose) are carried separately as
 * '1' characters. Inputs here are small (keys, hashes), so quadratic time is
 * fine; the decoder refuses anything that would not fit the caller's buffer.
 */
#include "dstackgov/near.h"

#include <stdlib.h>
#include <string.h>

static const char alphabet[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/* digit value of c, or -1 (a scan of 58 bytes: inputs are keys and hashes) */
static int digit(unsigned char c) {
    const char *q = c ? strchr(alphabet, c) : NULL;
    return q ? (int)(q - alphabet) : -1;
}

size_t dg_base58_encode(const uint8_t *in, size_t n, char *out, size_t cap) {
    if (!cap) return 0;
    out[0] = 0;
    size_t zeros = 0;
    while (zeros < n && in[zeros] == 0)
        zeros++;
    size_t dcap = (n - zeros) * 138 / 100 + 1;
    uint8_t stack[256];
    uint8_t *d = dcap <= sizeof stack ? stack : malloc(dcap);
    if (!d) return 0;
    size_t len = 0; /* base58 digits, least significant first */
    for (size_t i = zeros; i < n; i++) {
        unsigned carry = in[i];
        for (size_t j = 0; j < len; j++) {
            carry += (unsigned)d[j] << 8;
            d[j] = (uint8_t)(carry % 58);
            carry /= 58;
        }
        while (carry) {
            d[len++] = (uint8_t)(carry % 58);
            carry /= 58;
        }
    }
    size_t total = zeros + len;
    if (total + 1 > cap) {
        if (d != stack) free(d);
        return 0;
    }
    memset(out, '1', zeros);
    for (size_t i = 0; i < len; i++)
        out[zeros + i] = alphabet[d[len - 1 - i]];
    out[total] = 0;
    if (d != stack) free(d);
    return total;
}

int dg_base58_decode(const char *s, size_t slen, uint8_t *out, size_t cap, size_t *outlen,
                     dg_err *err) {
    if (slen == 0) return dg_err_set(err, DG_ERR_INPUT, "empty base58 text");
    size_t zeros = 0;
    while (zeros < slen && s[zeros] == '1')
        zeros++;
    uint8_t stack[256];
    size_t bcap = slen; /* bytes never outnumber characters */
    uint8_t *b = bcap <= sizeof stack ? stack : malloc(bcap);
    if (!b) return dg_err_set(err, DG_ERR_NOMEM, "out of memory decoding base58");
    size_t len = 0; /* bytes, least significant first */
    for (size_t i = zeros; i < slen; i++) {
        int v = digit((unsigned char)s[i]);
        if (v < 0) {
            if (b != stack) free(b);
            return dg_err_set(err, DG_ERR_INPUT,
                              "character %zu of base58 text is not in the base58 alphabet", i + 1);
        }
        unsigned carry = (unsigned)v;
        for (size_t j = 0; j < len; j++) {
            carry += (unsigned)b[j] * 58;
            b[j] = (uint8_t)carry;
            carry >>= 8;
        }
        while (carry) {
            b[len++] = (uint8_t)carry;
            carry >>= 8;
        }
    }
    if (zeros + len > cap) {
        if (b != stack) free(b);
        return dg_err_set(err, DG_ERR_INPUT, "base58 value is longer than %zu bytes", cap);
    }
    memset(out, 0, zeros);
    for (size_t i = 0; i < len; i++)
        out[zeros + i] = b[len - 1 - i];
    *outlen = zeros + len;
    if (b != stack) free(b);
    return 1;
}

int dg_base58_decode_exact(const char *s, uint8_t *out, size_t n, dg_err *err) {
    uint8_t tmp[128];
    size_t got = 0;
    if (!s) return dg_err_set(err, DG_ERR_INPUT, "missing base58 value");
    if (n > sizeof tmp) return dg_err_set(err, DG_ERR_INTERNAL, "base58: %zu bytes is too long", n);
    if (!dg_base58_decode(s, strlen(s), tmp, sizeof tmp, &got, err)) return 0;
    if (got != n)
        return dg_err_set(err, DG_ERR_INPUT, "base58 value: expected %zu bytes, got %zu", n, got);
    memcpy(out, tmp, n);
    return 1;
}
