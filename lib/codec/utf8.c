/* utf8.c — strict UTF-8 (see include/dstackgov/utf8.h).
 *
 * The one idea: a sequence is decoded to its code point before it is
 * accepted, so an overlong form or an encoded surrogate is refused by the
 * same range check that refuses values above U+10FFFF, and every parser that
 * calls this refuses the same bytes.
 */
#include "dstackgov/utf8.h"

#include <string.h>

size_t dg_utf8_seq(const unsigned char *p, const unsigned char *end) {
    unsigned c = p[0];
    size_t need;
    unsigned cp, min;
    if (c >= 0xC2 && c <= 0xDF) {
        need = 1;
        cp = c & 0x1F;
        min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        cp = c & 0x0F;
        min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        cp = c & 0x07;
        min = 0x10000;
    } else
        return 0;
    if ((size_t)(end - p) < need + 1) return 0;
    for (size_t i = 1; i <= need; i++) {
        if ((p[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return need + 1;
}

size_t dg_utf8_encode(uint32_t cp, unsigned char out[4]) {
    if (cp < 0x80) {
        out[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (unsigned char)(0xC0 | (cp >> 6));
        out[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (unsigned char)(0xE0 | (cp >> 12));
        out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (unsigned char)(0xF0 | (cp >> 18));
    out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

void dg_utf8_clean(char *dst, size_t cap, const char *s, size_t n) {
    size_t o = 0, i = 0;
    if (!cap) return;
    while (i < n && o + 1 < cap) {
        unsigned char c = (unsigned char)s[i];
        size_t k =
            c < 0x80 ? 1 : dg_utf8_seq((const unsigned char *)s + i, (const unsigned char *)s + n);
        if (k <= 1) { /* ASCII, or a byte that starts no valid sequence */
            dst[o++] = (k == 0 || c < 0x20 || c == 0x7f) ? '?' : (char)c;
            i++;
            continue;
        }
        if (o + k + 1 > cap) break;
        memcpy(dst + o, s + i, k);
        o += k;
        i += k;
    }
    dst[o] = 0;
}

void dg_utf8_clean_str(char *dst, size_t cap, const char *s, size_t max) {
    dg_utf8_clean(dst, cap, s, s ? strnlen(s, max) : 0);
}
