/* hex.c — strict hex text and EIP-55 addresses (see include/dstackgov/hex.h).
 *
 * The one idea: a hex value has exactly the length its type says. Nothing is
 * padded or truncated here, so a pasted 31-byte hash or a 19-byte address is
 * an error the operator sees, not a silently different value on chain.
 */
#include "dstackgov/hex.h"

#include <string.h>

#include "dstackgov/hash.h"

int dg_hex_digit(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Drop an optional 0x/0X prefix; returns the prefix length (0 or 2). */
static size_t skip_prefix(const char *s, size_t slen) {
    return (slen >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) ? 2 : 0;
}

/* Report the first non-hex character of s[0..n) with its position in the
 * original text (pos0 = prefix length). Returns 1 if all are hex. */
static int check_digits(const char *s, size_t n, size_t pos0, dg_err *err) {
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (dg_hex_digit(c) < 0) {
            if (c >= 0x20 && c < 0x7f)
                return dg_err_set(err, DG_ERR_INPUT, "invalid hex digit '%c' at position %zu", c,
                                  pos0 + i);
            return dg_err_set(err, DG_ERR_INPUT, "invalid hex digit (byte 0x%02x) at position %zu",
                              c, pos0 + i);
        }
    }
    return 1;
}

static void unhex(const char *s, size_t nbytes, uint8_t *out) {
    for (size_t i = 0; i < nbytes; i++)
        out[i] = (uint8_t)((unsigned)dg_hex_digit((unsigned char)s[2 * i]) << 4 |
                           (unsigned)dg_hex_digit((unsigned char)s[2 * i + 1]));
}

int dg_hex_decode(const char *s, size_t slen, uint8_t *out, size_t outlen, dg_err *err) {
    if (!s) return dg_err_set(err, DG_ERR_INPUT, "missing hex value");
    size_t p = skip_prefix(s, slen);
    size_t nd = slen - p;
    if (outlen > SIZE_MAX / 2 || nd != 2 * outlen)
        return dg_err_set(err, DG_ERR_INPUT, "expected %zu hex digits, got %zu", 2 * outlen, nd);
    if (!check_digits(s + p, nd, p, err)) return 0;
    unhex(s + p, outlen, out);
    return 1;
}

int dg_hex_decode_var(const char *s, size_t slen, dg_buf *out, dg_err *err) {
    if (!s) return dg_err_set(err, DG_ERR_INPUT, "missing hex value");
    size_t p = skip_prefix(s, slen);
    size_t nd = slen - p;
    if (nd % 2) return dg_err_set(err, DG_ERR_INPUT, "odd number of hex digits (%zu)", nd);
    if (!check_digits(s + p, nd, p, err)) return 0;
    if (!dg_buf_reserve(out, nd / 2))
        return dg_err_set(err, DG_ERR_NOMEM, "out of memory decoding %zu hex digits", nd);
    unhex(s + p, nd / 2, out->data + out->len);
    out->len += nd / 2;
    out->data[out->len] = 0;
    return 1;
}

static const char k_digits[] = "0123456789abcdef";

void dg_hex_encode(const uint8_t *in, size_t n, char *out) {
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = k_digits[in[i] >> 4];
        out[2 * i + 1] = k_digits[in[i] & 15];
    }
    out[2 * n] = 0;
}

void dg_hex_encode_0x(const uint8_t *in, size_t n, char *out) {
    out[0] = '0';
    out[1] = 'x';
    dg_hex_encode(in, n, out + 2);
}

int dg_hex_append(dg_buf *b, const uint8_t *in, size_t n, int prefix) {
    if (n > (SIZE_MAX - 3) / 2 || !dg_buf_reserve(b, 2 * n + 2)) return 0;
    if (prefix && !dg_buf_puts(b, "0x")) return 0;
    dg_hex_encode(in, n, (char *)b->data + b->len);
    b->len += 2 * n;
    return 1;
}

/* EIP-55: hex digit i is upper case iff nibble i of keccak(lowercase hex) >= 8. */
static void checksum_case(const char lower[40], char out[40]) {
    uint8_t h[32];
    dg_keccak256(lower, 40, h);
    for (int i = 0; i < 40; i++) {
        int nib = (i % 2) ? (h[i / 2] & 15) : (h[i / 2] >> 4);
        char c = lower[i];
        out[i] = (c >= 'a' && c <= 'f' && nib >= 8) ? (char)(c - 'a' + 'A') : c;
    }
}

void dg_address_checksum(const uint8_t addr[20], char out[43]) {
    char lower[41];
    dg_hex_encode(addr, 20, lower);
    out[0] = '0';
    out[1] = 'x';
    checksum_case(lower, out + 2);
    out[42] = 0;
}

/* 1 = mixed case, 0 = single case, given 40 validated digits. */
static int is_mixed_case(const char *d) {
    int up = 0, lo = 0;
    for (int i = 0; i < 40; i++) {
        if (d[i] >= 'a' && d[i] <= 'f') lo = 1;
        if (d[i] >= 'A' && d[i] <= 'F') up = 1;
    }
    return up && lo;
}

static int checksum_matches(const char *d) {
    char lower[40], want[40];
    for (int i = 0; i < 40; i++)
        lower[i] = (d[i] >= 'A' && d[i] <= 'F') ? (char)(d[i] - 'A' + 'a') : d[i];
    checksum_case(lower, want);
    return memcmp(want, d, 40) == 0;
}

int dg_address_parse(const char *s, uint8_t out[20], dg_err *err) {
    if (!s) return dg_err_set(err, DG_ERR_INPUT, "missing address");
    size_t slen = strlen(s);
    size_t p = skip_prefix(s, slen);
    if (slen - p != 40)
        return dg_err_set(err, DG_ERR_INPUT, "address must be 40 hex digits, got %zu", slen - p);
    if (!check_digits(s + p, 40, p, err)) return 0;
    if (is_mixed_case(s + p) && !checksum_matches(s + p))
        return dg_err_set(err, DG_ERR_INPUT,
                          "address %s has mixed case but an invalid EIP-55 checksum (typo?)", s);
    unhex(s + p, 20, out);
    return 1;
}

int dg_address_is_checksummed(const char *s) {
    if (!s) return 0;
    size_t slen = strlen(s);
    size_t p = skip_prefix(s, slen);
    if (slen - p != 40 || !check_digits(s + p, 40, p, NULL)) return 0;
    return checksum_matches(s + p);
}
