/* json.c — strict JSON reader and small writer for the NEAR contracts.
 *
 * A contract's arguments arrive as untrusted bytes, so the reader accepts
 * exactly RFC 8259 and nothing more: one value, no trailing commas, no comments,
 * no leading zeros, escapes checked, UTF-8 checked (no overlongs, no
 * surrogates, including escaped lone surrogates). It never allocates: the
 * caller gives a token array sized with nj_tok_cap(). Freestanding: no libc.
 */
#include "json.h"

uint32_t nj_strlen(const char *s) {
    uint32_t n = 0;
    while (s[n])
        n++;
    return n;
}

int nj_eq(const char *a, uint32_t an, const char *b, uint32_t bn) {
    if (an != bn) return 0;
    for (uint32_t i = 0; i < an; i++)
        if (a[i] != b[i]) return 0;
    return 1;
}

/* ------------------------------------------------------------------ writer */

void nj_put(nj_buf *b, const char *s, uint32_t n) {
    if (b->overflow || n > b->cap - b->len) {
        b->overflow = 1;
        return;
    }
    for (uint32_t i = 0; i < n; i++)
        b->p[b->len + i] = s[i];
    b->len += n;
}

void nj_puts(nj_buf *b, const char *s) {
    nj_put(b, s, nj_strlen(s));
}

void nj_putc(nj_buf *b, char c) {
    nj_put(b, &c, 1);
}

void nj_put_u64(nj_buf *b, uint64_t v) {
    char tmp[20];
    uint32_t i = sizeof tmp;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    nj_put(b, tmp + i, (uint32_t)sizeof tmp - i);
}

static const char nj_hexd[] = "0123456789abcdef";

void nj_put_str(nj_buf *b, const char *s, uint32_t n) {
    nj_putc(b, '"');
    uint32_t run = 0;
    for (uint32_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        nj_put(b, s + run, i - run);
        run = i + 1;
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            nj_put(b, e, 2);
        } else {
            char e[6] = {'\\', 'u', '0', '0', nj_hexd[c >> 4], nj_hexd[c & 15]};
            nj_put(b, e, 6);
        }
    }
    nj_put(b, s + run, n - run);
    nj_putc(b, '"');
}

void nj_put_bytes(nj_buf *b, const uint8_t *p, uint32_t n) {
    nj_putc(b, '[');
    for (uint32_t i = 0; i < n; i++) {
        if (i) nj_putc(b, ',');
        nj_put_u64(b, p[i]);
    }
    nj_putc(b, ']');
}

/* ------------------------------------------------------------------ reader */

typedef struct {
    const char *s;
    uint32_t n, i;
    nj_tok *t;
    uint32_t cap, nt;
    const char *err; /* static detail; position appended when syntax */
} nj_p;

uint32_t nj_tok_cap(uint32_t n) {
    /* Every token but the last needs at least two bytes (value + separator). */
    return n / 2 + 2;
}

static void nj_ws(nj_p *p) {
    while (p->i < p->n) {
        char c = p->s[p->i];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
        p->i++;
    }
}

static int nj_new(nj_p *p, uint8_t type, uint32_t start, uint32_t *idx) {
    if (p->nt >= p->cap) {
        p->err = "too many values";
        return 0;
    }
    *idx = p->nt;
    nj_tok *t = &p->t[p->nt++];
    t->type = type;
    t->start = start;
    t->len = 0;
    t->end = 0;
    return 1;
}

static int nj_hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Four hex digits at s[i..i+4) → code unit, or -1. */
static int32_t nj_u4(const char *s, uint32_t i, uint32_t n) {
    if (n < 4 || i > n - 4) return -1;
    int32_t v = 0;
    for (uint32_t k = 0; k < 4; k++) {
        int h = nj_hexval(s[i + k]);
        if (h < 0) return -1;
        v = v * 16 + h;
    }
    return v;
}

/* Length of the valid UTF-8 sequence at s[i], or 0. */
static uint32_t nj_utf8(const unsigned char *s, uint32_t i, uint32_t n) {
    unsigned char c = s[i];
    uint32_t len;
    uint32_t min;
    uint32_t cp;
    if (c < 0x80) return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1f;
        min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0f;
        min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07;
        min = 0x10000;
    } else {
        return 0;
    }
    if (n - i < len) return 0;
    for (uint32_t k = 1; k < len; k++) {
        if ((s[i + k] & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (s[i + k] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    return len;
}

static int nj_string(nj_p *p) {
    uint32_t idx;
    p->i++; /* opening quote */
    if (!nj_new(p, NJ_STR, p->i, &idx)) return 0;
    const unsigned char *u = (const unsigned char *)p->s;
    while (p->i < p->n) {
        unsigned char c = u[p->i];
        if (c == '"') {
            p->t[idx].len = p->i - p->t[idx].start;
            p->t[idx].end = p->nt;
            p->i++;
            return 1;
        }
        if (c < 0x20) return 0;
        if (c == '\\') {
            if (p->i + 1 >= p->n) return 0;
            char e = p->s[p->i + 1];
            if (e == 'u') {
                int32_t v = nj_u4(p->s, p->i + 2, p->n);
                if (v < 0 || (v >= 0xdc00 && v <= 0xdfff)) return 0;
                p->i += 6;
                if (v >= 0xd800 && v <= 0xdbff) {
                    if (p->i + 1 >= p->n || p->s[p->i] != '\\' || p->s[p->i + 1] != 'u') return 0;
                    int32_t lo = nj_u4(p->s, p->i + 2, p->n);
                    if (lo < 0xdc00 || lo > 0xdfff) return 0;
                    p->i += 6;
                }
                continue;
            }
            if (e != '"' && e != '\\' && e != '/' && e != 'b' && e != 'f' && e != 'n' && e != 'r' &&
                e != 't')
                return 0;
            p->i += 2;
            continue;
        }
        uint32_t l = nj_utf8(u, p->i, p->n);
        if (!l) return 0;
        p->i += l;
    }
    return 0;
}

static int nj_digit(nj_p *p) {
    return p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9';
}

static int nj_number(nj_p *p) {
    uint32_t idx, start = p->i;
    if (!nj_new(p, NJ_NUM, start, &idx)) return 0;
    if (p->s[p->i] == '-') p->i++;
    if (!nj_digit(p)) return 0;
    if (p->s[p->i] == '0') {
        p->i++;
    } else {
        while (nj_digit(p))
            p->i++;
    }
    if (p->i < p->n && p->s[p->i] == '.') {
        p->i++;
        if (!nj_digit(p)) return 0;
        while (nj_digit(p))
            p->i++;
    }
    if (p->i < p->n && (p->s[p->i] == 'e' || p->s[p->i] == 'E')) {
        p->i++;
        if (p->i < p->n && (p->s[p->i] == '+' || p->s[p->i] == '-')) p->i++;
        if (!nj_digit(p)) return 0;
        while (nj_digit(p))
            p->i++;
    }
    p->t[idx].len = p->i - start;
    p->t[idx].end = p->nt;
    return 1;
}

static int nj_literal(nj_p *p, const char *word, uint8_t type) {
    uint32_t idx, n = nj_strlen(word);
    if (p->n - p->i < n) return 0;
    for (uint32_t k = 0; k < n; k++)
        if (p->s[p->i + k] != word[k]) return 0;
    if (!nj_new(p, type, p->i, &idx)) return 0;
    p->t[idx].len = n;
    p->t[idx].end = p->nt;
    p->i += n;
    return 1;
}

static int nj_value(nj_p *p, uint32_t depth);

static int nj_container(nj_p *p, uint32_t depth, int is_obj) {
    uint32_t idx, count = 0;
    char close = is_obj ? '}' : ']';
    if (depth >= NJ_MAX_DEPTH) {
        p->err = "nesting too deep";
        return 0;
    }
    if (!nj_new(p, is_obj ? NJ_OBJ : NJ_ARR, p->i, &idx)) return 0;
    p->i++;
    nj_ws(p);
    if (p->i < p->n && p->s[p->i] == close) {
        p->i++;
        p->t[idx].end = p->nt;
        return 1;
    }
    for (;;) {
        if (is_obj) {
            nj_ws(p);
            if (p->i >= p->n || p->s[p->i] != '"') return 0;
            if (!nj_string(p)) return 0;
            nj_ws(p);
            if (p->i >= p->n || p->s[p->i] != ':') return 0;
            p->i++;
        }
        if (!nj_value(p, depth + 1)) return 0;
        count++;
        nj_ws(p);
        if (p->i >= p->n) return 0;
        if (p->s[p->i] == ',') {
            p->i++;
            continue;
        }
        if (p->s[p->i] != close) return 0;
        p->i++;
        p->t[idx].len = count;
        p->t[idx].end = p->nt;
        return 1;
    }
}

static int nj_value(nj_p *p, uint32_t depth) {
    nj_ws(p);
    if (p->i >= p->n) return 0;
    char c = p->s[p->i];
    switch (c) {
    case '{':
        return nj_container(p, depth, 1);
    case '[':
        return nj_container(p, depth, 0);
    case '"':
        return nj_string(p);
    case 't':
        return nj_literal(p, "true", NJ_TRUE);
    case 'f':
        return nj_literal(p, "false", NJ_FALSE);
    case 'n':
        return nj_literal(p, "null", NJ_NULL);
    default:
        if (c == '-' || (c >= '0' && c <= '9')) return nj_number(p);
        return 0;
    }
}

uint32_t nj_parse(const char *s, uint32_t n, nj_tok *toks, uint32_t cap, nj_buf *err) {
    nj_p p = {s, n, 0, toks, cap, 0, 0};
    if (n > NJ_MAX_INPUT) {
        nj_puts(err, "input too large");
        return 0;
    }
    int ok = nj_value(&p, 0);
    if (ok) {
        nj_ws(&p);
        ok = p.i == n;
    }
    if (ok) return p.nt;
    if (p.err) {
        nj_puts(err, p.err);
    } else {
        nj_puts(err, "syntax error at byte ");
        nj_put_u64(err, p.i);
    }
    return 0;
}

static void nj_utf8_put(char *out, uint32_t *o, uint32_t cp) {
    if (cp < 0x80) {
        out[(*o)++] = (char)cp;
    } else if (cp < 0x800) {
        out[(*o)++] = (char)(0xc0 | (cp >> 6));
        out[(*o)++] = (char)(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        out[(*o)++] = (char)(0xe0 | (cp >> 12));
        out[(*o)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[(*o)++] = (char)(0x80 | (cp & 0x3f));
    } else {
        out[(*o)++] = (char)(0xf0 | (cp >> 18));
        out[(*o)++] = (char)(0x80 | ((cp >> 12) & 0x3f));
        out[(*o)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[(*o)++] = (char)(0x80 | (cp & 0x3f));
    }
}

uint32_t nj_unescape(char *s, const nj_tok *t) {
    char *b = s + t->start;
    uint32_t i = 0, o = 0, n = t->len;
    while (i < n) {
        if (b[i] != '\\') {
            b[o++] = b[i++];
            continue;
        }
        char e = b[i + 1];
        i += 2;
        switch (e) {
        case 'b':
            b[o++] = '\b';
            break;
        case 'f':
            b[o++] = '\f';
            break;
        case 'n':
            b[o++] = '\n';
            break;
        case 'r':
            b[o++] = '\r';
            break;
        case 't':
            b[o++] = '\t';
            break;
        case 'u': {
            uint32_t cp = (uint32_t)nj_u4(b, i, n);
            i += 4;
            if (cp >= 0xd800 && cp <= 0xdbff) {
                uint32_t lo = (uint32_t)nj_u4(b, i + 2, n);
                i += 6;
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            }
            nj_utf8_put(b, &o, cp);
            break;
        }
        default:
            b[o++] = e;
            break; /* " \ / */
        }
    }
    return o;
}

int nj_uint(const char *s, const nj_tok *t, uint64_t max, uint64_t *out) {
    if (t->type != NJ_NUM || t->len == 0) return 0;
    const char *d = s + t->start;
    uint64_t v = 0;
    for (uint32_t i = 0; i < t->len; i++) {
        if (d[i] < '0' || d[i] > '9') return 0;
        uint64_t digit = (uint64_t)(d[i] - '0');
        if (v > (max - digit) / 10) return 0;
        v = v * 10 + digit;
    }
    *out = v;
    return 1;
}

int nj_bytes(const char *s, const nj_tok *toks, uint32_t arr, uint8_t *out) {
    if (toks[arr].type != NJ_ARR) return 0;
    uint32_t k = arr + 1;
    for (uint32_t i = 0; i < toks[arr].len; i++) {
        uint64_t v;
        if (!nj_uint(s, &toks[k], 255, &v)) return 0;
        out[i] = (uint8_t)v;
        k = toks[k].end;
    }
    return 1;
}

/* Field name for an error message: at most 64 bytes, cut on a UTF-8 boundary. */
static void nj_put_name(nj_buf *err, const char *s, uint32_t n) {
    if (n > 64) {
        n = 64;
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
            n--;
    }
    nj_putc(err, '`');
    nj_put(err, s, n);
    nj_putc(err, '`');
}

static int64_t nj_field_err(nj_buf *err, const char *what, const char *s, uint32_t n) {
    nj_puts(err, what);
    nj_put_name(err, s, n);
    return -1;
}

int64_t nj_fields(char *s, const nj_tok *toks, uint32_t obj, const nj_field *f, uint32_t nf,
                  nj_buf *err) {
    uint32_t seen = 0;
    if (toks[obj].type != NJ_OBJ) {
        nj_puts(err, "expected an object");
        return -1;
    }
    uint32_t k = obj + 1;
    for (uint32_t m = 0; m < toks[obj].len; m++) {
        const nj_tok *key = &toks[k];
        uint32_t v = k + 1;
        char *name = s + key->start;
        uint32_t nlen = nj_unescape(s, key);
        uint32_t j = 0;
        while (j < nf && !nj_eq(name, nlen, f[j].name, nj_strlen(f[j].name)))
            j++;
        if (j == nf) return nj_field_err(err, "unknown field ", name, nlen);
        if (seen & (1u << j)) return nj_field_err(err, "duplicate field ", name, nlen);
        seen |= 1u << j;
        const nj_tok *t = &toks[v];
        int ok = 1;
        switch (f[j].kind) {
        case NJF_STR:
        case NJF_STR_NULL: {
            nj_str *o = f[j].out;
            if (t->type == NJ_NULL && f[j].kind == NJF_STR_NULL) {
                o->s = 0;
                o->len = 0;
            } else if (t->type == NJ_STR) {
                o->s = s + t->start;
                o->len = nj_unescape(s, t);
            } else {
                ok = 0;
            }
            break;
        }
        case NJF_BOOL:
            if (t->type == NJ_TRUE || t->type == NJ_FALSE)
                *(int *)f[j].out = t->type == NJ_TRUE;
            else
                ok = 0;
            break;
        case NJF_U64:
            ok = nj_uint(s, t, UINT64_MAX, f[j].out);
            break;
        case NJF_U32: {
            uint64_t x;
            ok = nj_uint(s, t, UINT32_MAX, &x);
            if (ok) *(uint32_t *)f[j].out = (uint32_t)x;
            break;
        }
        case NJF_OBJ:
        case NJF_ARR:
            ok = t->type == (f[j].kind == NJF_OBJ ? NJ_OBJ : NJ_ARR);
            if (ok) *(uint32_t *)f[j].out = v;
            break;
        default:
            ok = 0;
        }
        if (!ok)
            return nj_field_err(err, "invalid type for field ", f[j].name, nj_strlen(f[j].name));
        k = t->end;
    }
    for (uint32_t j = 0; j < nf; j++)
        if (f[j].required && !(seen & (1u << j)))
            return nj_field_err(err, "missing field ", f[j].name, nj_strlen(f[j].name));
    return seen;
}
