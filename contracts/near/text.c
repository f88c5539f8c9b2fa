/* text.c — hex normalization, account-id validation and u128 decimals.
 *
 * Every hex value the contracts store passes through nt_hex_norm, so the
 * stored form is canonical (lowercase, no 0x, exact length) and a lookup by
 * the KMS's lowercase hex always finds what an owner added in any spelling.
 */
#include "text.h"

static int nt_hexdigit(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static uint32_t nt_prefix(const char *s, uint32_t n) {
    return (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) ? 2 : 0;
}

uint32_t nt_hex_body_len(const char *s, uint32_t n) {
    return n - nt_prefix(s, n);
}

int nt_hex_norm(const char *s, uint32_t n, uint32_t digits, char *out) {
    uint32_t p = nt_prefix(s, n);
    if (n - p != digits) return 0;
    for (uint32_t i = 0; i < digits; i++) {
        char c = s[p + i];
        if (!nt_hexdigit(c)) return 0;
        out[i] = (c >= 'A' && c <= 'F') ? (char)(c - 'A' + 'a') : c;
    }
    return 1;
}

int nt_account_valid(const char *s, uint32_t n) {
    if (n < 2 || n > 64) return 0;
    int prev_sep = 1; /* a separator may not come first */
    for (uint32_t i = 0; i < n; i++) {
        char c = s[i];
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            prev_sep = 0;
        } else if (c == '.' || c == '-' || c == '_') {
            if (prev_sep) return 0;
            prev_sep = 1;
        } else {
            return 0;
        }
    }
    return !prev_sep;
}

uint32_t nt_u128_dec(nt_u128 v, char out[40]) {
    char tmp[40];
    uint32_t i = sizeof tmp;
    do {
        tmp[--i] = (char)('0' + (int)(v % 10));
        v /= 10;
    } while (v);
    uint32_t n = (uint32_t)sizeof tmp - i;
    for (uint32_t k = 0; k < n; k++)
        out[k] = tmp[i + k];
    return n;
}

int nt_u128_parse(const char *s, uint32_t n, nt_u128 *out) {
    const nt_u128 max = ~(nt_u128)0;
    nt_u128 v = 0;
    if (n == 0 || n > 39 || (n > 1 && s[0] == '0')) return 0;
    for (uint32_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return 0;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (max - d) / 10) return 0;
        v = v * 10 + d;
    }
    *out = v;
    return 1;
}

void nt_hex_encode(const uint8_t *p, uint32_t n, char *out) {
    static const char d[] = "0123456789abcdef";
    for (uint32_t i = 0; i < n; i++) {
        out[2 * i] = d[p[i] >> 4];
        out[2 * i + 1] = d[p[i] & 15];
    }
}

/* Hex s[0..n) (n even, either case) → out[n/2]; 0 on a non-hex digit. */
int nt_hex_decode(const char *s, uint32_t n, uint8_t *out) {
    for (uint32_t i = 0; i < n; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0) return 0;
        if (i % 2)
            out[i / 2] = (uint8_t)(out[i / 2] << 4 | d);
        else
            out[i / 2] = (uint8_t)d;
    }
    return 1;
}
