/* u256.c — 256-bit unsigned arithmetic and text (see include/dstackgov/u256.h).
 *
 * Four 64-bit limbs, least significant first; products use unsigned __int128.
 * Amount parsing is exact decimal arithmetic: "1.5ether" is 15 * 10^17 wei,
 * computed from the digits, never through a floating-point value.
 */
#include "dstackgov/u256.h"

#include <string.h>
#include <strings.h>

#include "dstackgov/hex.h"

typedef unsigned __int128 u128;

dg_u256 dg_u256_from_u64(uint64_t x) {
    dg_u256 r = {{x, 0, 0, 0}};
    return r;
}

int dg_u256_is_zero(dg_u256 v) {
    return (v.w[0] | v.w[1] | v.w[2] | v.w[3]) == 0;
}

int dg_u256_to_u64(dg_u256 v, uint64_t *out) {
    if (v.w[1] | v.w[2] | v.w[3]) return 0;
    *out = v.w[0];
    return 1;
}

int dg_u256_add(dg_u256 *r, dg_u256 a, dg_u256 b) {
    uint64_t carry = 0;
    for (int i = 0; i < 4; i++) {
        u128 s = (u128)a.w[i] + b.w[i] + carry;
        r->w[i] = (uint64_t)s;
        carry = (uint64_t)(s >> 64);
    }
    return carry == 0;
}

int dg_u256_sub(dg_u256 *r, dg_u256 a, dg_u256 b) {
    uint64_t borrow = 0;
    for (int i = 0; i < 4; i++) {
        uint64_t d = a.w[i] - b.w[i] - borrow;
        borrow = (a.w[i] < b.w[i]) || (a.w[i] == b.w[i] && borrow) ? 1 : 0;
        r->w[i] = d;
    }
    return borrow == 0;
}

int dg_u256_mul_u64(dg_u256 *r, dg_u256 a, uint64_t m) {
    uint64_t carry = 0;
    for (int i = 0; i < 4; i++) {
        u128 p = (u128)a.w[i] * m + carry;
        r->w[i] = (uint64_t)p;
        carry = (uint64_t)(p >> 64);
    }
    return carry == 0;
}

int dg_u256_mul(dg_u256 *r, dg_u256 a, dg_u256 b) {
    uint64_t t[8] = {0};
    for (int i = 0; i < 4; i++) {
        uint64_t carry = 0;
        for (int j = 0; j < 4; j++) {
            u128 p = (u128)a.w[i] * b.w[j] + t[i + j] + carry;
            t[i + j] = (uint64_t)p;
            carry = (uint64_t)(p >> 64);
        }
        t[i + 4] = carry;
    }
    memcpy(r->w, t, sizeof r->w);
    return (t[4] | t[5] | t[6] | t[7]) == 0;
}

uint64_t dg_u256_div_u64(dg_u256 *q, dg_u256 a, uint64_t d) {
    if (d == 0) {
        *q = dg_u256_from_u64(0);
        return 0;
    }
    u128 rem = 0;
    for (int i = 3; i >= 0; i--) {
        u128 cur = (rem << 64) | a.w[i];
        q->w[i] = (uint64_t)(cur / d);
        rem = cur % d;
    }
    return (uint64_t)rem;
}

int dg_u256_cmp(dg_u256 a, dg_u256 b) {
    for (int i = 3; i >= 0; i--) {
        if (a.w[i] != b.w[i]) return a.w[i] < b.w[i] ? -1 : 1;
    }
    return 0;
}

void dg_u256_to_be(dg_u256 v, uint8_t out[32]) {
    for (int i = 0; i < 32; i++)
        out[31 - i] = (uint8_t)(v.w[i / 8] >> (8 * (i % 8)));
}

dg_u256 dg_u256_from_be(const uint8_t in[32]) {
    dg_u256 r = {{0, 0, 0, 0}};
    for (int i = 0; i < 32; i++)
        r.w[i / 8] |= (uint64_t)in[31 - i] << (8 * (i % 8));
    return r;
}

int dg_u256_from_bytes(const uint8_t *p, size_t n, dg_u256 *out) {
    uint8_t be[32] = {0};
    while (n > 32) {
        if (*p) return 0;
        p++;
        n--;
    }
    if (n) memcpy(be + 32 - n, p, n);
    *out = dg_u256_from_be(be);
    return 1;
}

size_t dg_u256_to_min_be(dg_u256 v, uint8_t out[32]) {
    uint8_t be[32];
    dg_u256_to_be(v, be);
    size_t z = 0;
    while (z < 32 && be[z] == 0)
        z++;
    memcpy(out, be + z, 32 - z);
    return 32 - z;
}

void dg_u256_to_dec(dg_u256 v, char out[DG_U256_DEC_LEN]) {
    char tmp[DG_U256_DEC_LEN];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + dg_u256_div_u64(&v, v, 10));
    } while (!dg_u256_is_zero(v));
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    out[n] = 0;
}

void dg_u256_to_hex(dg_u256 v, char out[DG_U256_HEX_LEN]) {
    static const char digits[] = "0123456789abcdef";
    uint8_t be[32];
    dg_u256_to_be(v, be);
    size_t o = 0;
    out[o++] = '0';
    out[o++] = 'x';
    int started = 0;
    for (int i = 0; i < 64; i++) {
        int nib = (i % 2) ? (be[i / 2] & 15) : (be[i / 2] >> 4);
        if (!nib && !started && i < 63) continue;
        started = 1;
        out[o++] = digits[nib];
    }
    out[o] = 0;
}

void dg_u256_format_units(dg_u256 v, unsigned decimals, char out[DG_U256_UNITS_LEN]) {
    char dec[DG_U256_DEC_LEN];
    if (decimals > 77) decimals = 77;
    dg_u256_to_dec(v, dec);
    size_t n = strlen(dec);
    size_t o = 0;
    if (n <= decimals) {
        /* 0.000ddd */
        out[o++] = '0';
        out[o++] = '.';
        for (size_t i = 0; i < decimals - n; i++)
            out[o++] = '0';
        memcpy(out + o, dec, n);
        o += n;
    } else {
        memcpy(out, dec, n - decimals);
        o = n - decimals;
        if (decimals) {
            out[o++] = '.';
            memcpy(out + o, dec + n - decimals, decimals);
            o += decimals;
        }
    }
    out[o] = 0;
    if (decimals && strchr(out, '.')) {
        while (o > 0 && out[o - 1] == '0')
            out[--o] = 0;
        if (o > 0 && out[o - 1] == '.') out[--o] = 0;
    }
}

/* Accumulate decimal digits s[0..n) into *v (v = v*10 + d). 0 on overflow. */
static int acc_dec(dg_u256 *v, const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (!dg_u256_mul_u64(v, *v, 10)) return 0;
        if (!dg_u256_add(v, *v, dg_u256_from_u64((uint64_t)(s[i] - '0')))) return 0;
    }
    return 1;
}

int dg_u256_parse(const char *s, dg_u256 *out, dg_err *err) {
    if (!s || !*s) return dg_err_set(err, DG_ERR_INPUT, "empty number");
    dg_u256 v = {{0, 0, 0, 0}};
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        const char *h = s + 2;
        size_t n = strlen(h);
        if (n == 0) return dg_err_set(err, DG_ERR_INPUT, "\"0x\" without hex digits");
        /* leading zeros do not count toward the 64-digit limit */
        while (n > 1 && *h == '0') {
            h++;
            n--;
        }
        for (size_t i = 0; i < n; i++) {
            int d = dg_hex_digit(h[i]);
            if (d < 0)
                return dg_err_set(err, DG_ERR_INPUT, "invalid hex digit '%c' in number",
                                  h[i] >= 0x20 && h[i] < 0x7f ? h[i] : '?');
        }
        if (n > 64) return dg_err_set(err, DG_ERR_INPUT, "number does not fit in 256 bits");
        for (size_t i = 0; i < n; i++) {
            size_t bit = 4 * (n - 1 - i);
            v.w[bit / 64] |= (uint64_t)dg_hex_digit(h[i]) << (bit % 64);
        }
        *out = v;
        return 1;
    }
    size_t n = strlen(s);
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return dg_err_set(err, DG_ERR_INPUT, "invalid character '%c' in decimal number",
                              s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?');
    }
    if (!acc_dec(&v, s, n)) return dg_err_set(err, DG_ERR_INPUT, "number does not fit in 256 bits");
    *out = v;
    return 1;
}

static const struct {
    const char *name;
    unsigned decimals;
} k_units[] = {{"wei", 0}, {"gwei", 9}, {"ether", 18}, {"eth", 18}};

int dg_u256_parse_amount(const char *s, dg_u256 *wei, dg_err *err) {
    if (!s || !*s) return dg_err_set(err, DG_ERR_INPUT, "empty amount");
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) return dg_u256_parse(s, wei, err);
    size_t i = 0, ni, nf = 0;
    while (s[i] >= '0' && s[i] <= '9')
        i++;
    ni = i;
    const char *frac = NULL;
    if (s[i] == '.') {
        frac = s + i + 1;
        i++;
        while (s[i] >= '0' && s[i] <= '9')
            i++;
        nf = (size_t)(s + i - frac);
    }
    if (ni == 0 && nf == 0)
        return dg_err_set(err, DG_ERR_INPUT, "amount \"%.64s\" does not start with a number", s);
    while (s[i] == ' ')
        i++;
    const char *unit = s + i;
    int have_unit = *unit != 0;
    unsigned decimals = 0;
    if (have_unit) {
        size_t u;
        for (u = 0; u < sizeof k_units / sizeof k_units[0]; u++)
            if (strcasecmp(unit, k_units[u].name) == 0) break;
        if (u == sizeof k_units / sizeof k_units[0])
            return dg_err_set(err, DG_ERR_INPUT,
                              "unknown unit \"%.32s\" in amount (use wei, gwei or ether)", unit);
        decimals = k_units[u].decimals;
    }
    /* trailing zeros of the fraction carry no value */
    while (nf > 0 && frac[nf - 1] == '0')
        nf--;
    if (nf > decimals) {
        if (!have_unit)
            return dg_err_set(
                err, DG_ERR_INPUT,
                "amount \"%.64s\" has a fraction but no unit (add wei, gwei or ether)", s);
        return dg_err_set(err, DG_ERR_INPUT,
                          "amount \"%.64s\" is finer than 1 wei (at most %u decimals for %s)", s,
                          decimals, unit);
    }
    dg_u256 v = {{0, 0, 0, 0}};
    int ok = acc_dec(&v, s, ni) && acc_dec(&v, frac ? frac : "", nf);
    for (unsigned k = (unsigned)nf; ok && k < decimals; k++)
        ok = dg_u256_mul_u64(&v, v, 10);
    if (!ok) return dg_err_set(err, DG_ERR_INPUT, "amount \"%.64s\" does not fit in 256 bits", s);
    *wei = v;
    return 1;
}
