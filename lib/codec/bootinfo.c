/* bootinfo.c — strict parser for the BootInfo JSON the KMS posts.
 *
 * This is the first thing every boot request touches, so it is a small
 * hand-written JSON scanner instead of a general JSON library: one pass over
 * the body, no allocation unless advisoryIds is non-empty, exact lengths for
 * every hex field and a reason that names the field. Unknown fields are
 * validated as JSON and skipped. The scanner follows RFC 8259 strictly (no
 * trailing commas, no comments, UTF-8 only, no lone surrogates); it is fuzzed
 * by fuzz/fuzz_bootinfo.c.
 */
#include "dstackgov/bootinfo.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "dstackgov/hex.h"
#include "dstackgov/utf8.h"

#define MAX_DEPTH 32

typedef struct {
    const char *start, *p, *end;
    dg_err *err;
} scan;

enum field_kind { F_HEX20, F_HEX32, F_TCB, F_ADV };

struct field {
    const char *name;
    enum field_kind kind;
    size_t off;     /* offset of the byte array in dg_bootinfo */
    size_t has_off; /* offset of the has_* flag, or (size_t)-1 */
    int empty_ok;
    int required;
};

#define NOFLAG ((size_t)-1)
static const struct field FIELDS[] = {
    {"appId", F_HEX20, offsetof(dg_bootinfo, app_id), NOFLAG, 0, 1},
    {"composeHash", F_HEX32, offsetof(dg_bootinfo, compose_hash), NOFLAG, 0, 1},
    {"instanceId", F_HEX20, offsetof(dg_bootinfo, instance_id),
     offsetof(dg_bootinfo, has_instance_id), 1, 1},
    {"deviceId", F_HEX32, offsetof(dg_bootinfo, device_id), NOFLAG, 0, 1},
    {"mrAggregated", F_HEX32, offsetof(dg_bootinfo, mr_aggregated), NOFLAG, 0, 1},
    {"mrSystem", F_HEX32, offsetof(dg_bootinfo, mr_system), offsetof(dg_bootinfo, has_mr_system), 1,
     0},
    {"osImageHash", F_HEX32, offsetof(dg_bootinfo, os_image_hash),
     offsetof(dg_bootinfo, has_os_image_hash), 1, 1},
    {"tcbStatus", F_TCB, 0, NOFLAG, 1, 0},
    {"advisoryIds", F_ADV, 0, NOFLAG, 1, 0},
};
#define NFIELDS (sizeof FIELDS / sizeof FIELDS[0])

void dg_bootinfo_init(dg_bootinfo *bi) {
    memset(bi, 0, sizeof *bi);
    dg_buf_init(&bi->adv);
}

void dg_bootinfo_free(dg_bootinfo *bi) {
    dg_buf_free(&bi->adv);
    dg_bootinfo_init(bi);
}

static int syntax(scan *s, const char *what) {
    return dg_err_set(s->err, DG_ERR_INPUT, "invalid JSON at byte %zu: %s",
                      (size_t)(s->p - s->start), what);
}

static void skip_ws(scan *s) {
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

/* Emit code point cp as UTF-8 into out (bounded by cap; *n counts all bytes). */
static void put_utf8(char *out, size_t cap, size_t *n, unsigned cp) {
    unsigned char tmp[4];
    size_t k = dg_utf8_encode(cp, tmp);
    for (size_t i = 0; i < k; i++) {
        if (out && *n < cap) out[*n] = (char)tmp[i];
        (*n)++;
    }
}

/* Parse a JSON string at s->p (which must be '"'). The unescaped bytes go to
 * out (at most cap; out may be NULL) and *outlen gets the full unescaped
 * length. A NUL inside the string is refused (fields become C strings). */
static int parse_string(scan *s, char *out, size_t cap, size_t *outlen) {
    size_t n = 0;
    *outlen = 0;
    if (s->p >= s->end || *s->p != '"') return syntax(s, "expected a string");
    s->p++;
    for (;;) {
        if (s->p >= s->end) return syntax(s, "unterminated string");
        unsigned char c = (unsigned char)*s->p;
        if (c == '"') {
            s->p++;
            break;
        }
        if (c < 0x20) return syntax(s, "control character in string");
        if (c == '\\') {
            if (s->end - s->p < 2) return syntax(s, "unterminated string");
            char e = s->p[1];
            unsigned cp;
            s->p += 2;
            switch (e) {
            case '"':
                cp = '"';
                break;
            case '\\':
                cp = '\\';
                break;
            case '/':
                cp = '/';
                break;
            case 'b':
                cp = '\b';
                break;
            case 'f':
                cp = '\f';
                break;
            case 'n':
                cp = '\n';
                break;
            case 'r':
                cp = '\r';
                break;
            case 't':
                cp = '\t';
                break;
            case 'u': {
                unsigned v = 0;
                if (s->end - s->p < 4) return syntax(s, "short \\u escape");
                for (int i = 0; i < 4; i++) {
                    int h = dg_hex_digit((unsigned char)s->p[i]);
                    if (h < 0) return syntax(s, "bad \\u escape");
                    v = v << 4 | (unsigned)h;
                }
                s->p += 4;
                if (v >= 0xDC00 && v <= 0xDFFF) return syntax(s, "lone low surrogate");
                if (v >= 0xD800 && v <= 0xDBFF) {
                    unsigned lo = 0;
                    if (s->end - s->p < 6 || s->p[0] != '\\' || s->p[1] != 'u')
                        return syntax(s, "lone high surrogate");
                    for (int i = 0; i < 4; i++) {
                        int h = dg_hex_digit((unsigned char)s->p[2 + i]);
                        if (h < 0) return syntax(s, "bad \\u escape");
                        lo = lo << 4 | (unsigned)h;
                    }
                    if (lo < 0xDC00 || lo > 0xDFFF) return syntax(s, "lone high surrogate");
                    s->p += 6;
                    v = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00);
                }
                if (v == 0) return syntax(s, "NUL character in string");
                cp = v;
                break;
            }
            default:
                s->p -= 1;
                return syntax(s, "bad escape in string");
            }
            put_utf8(out, cap, &n, cp);
            continue;
        }
        if (c < 0x80) {
            if (out && n < cap) out[n] = (char)c;
            n++;
            s->p++;
            continue;
        }
        size_t k = dg_utf8_seq((const unsigned char *)s->p, (const unsigned char *)s->end);
        if (!k) return syntax(s, "invalid UTF-8 in string");
        for (size_t i = 0; i < k; i++) {
            if (out && n < cap) out[n] = s->p[i];
            n++;
        }
        s->p += k;
    }
    *outlen = n;
    return 1;
}

static int skip_value(scan *s, int depth);

static int skip_number(scan *s) {
    const char *p = s->p;
    if (p < s->end && *p == '-') p++;
    if (p >= s->end) {
        s->p = p;
        return syntax(s, "bad number");
    }
    if (*p == '0')
        p++;
    else if (*p >= '1' && *p <= '9')
        while (p < s->end && *p >= '0' && *p <= '9')
            p++;
    else {
        s->p = p;
        return syntax(s, "bad number");
    }
    if (p < s->end && *p == '.') {
        p++;
        if (p >= s->end || *p < '0' || *p > '9') {
            s->p = p;
            return syntax(s, "bad number");
        }
        while (p < s->end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < s->end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < s->end && (*p == '+' || *p == '-')) p++;
        if (p >= s->end || *p < '0' || *p > '9') {
            s->p = p;
            return syntax(s, "bad number");
        }
        while (p < s->end && *p >= '0' && *p <= '9')
            p++;
    }
    s->p = p;
    return 1;
}

static int skip_literal(scan *s, const char *lit) {
    size_t n = strlen(lit);
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, lit, n) != 0)
        return syntax(s, "unexpected character");
    s->p += n;
    return 1;
}

static int skip_value(scan *s, int depth) {
    size_t dummy;
    if (depth > MAX_DEPTH) return syntax(s, "nested too deeply");
    skip_ws(s);
    if (s->p >= s->end) return syntax(s, "unexpected end");
    switch (*s->p) {
    case '"':
        return parse_string(s, NULL, 0, &dummy);
    case '{':
        s->p++;
        skip_ws(s);
        if (s->p < s->end && *s->p == '}') {
            s->p++;
            return 1;
        }
        for (;;) {
            skip_ws(s);
            if (!parse_string(s, NULL, 0, &dummy)) return 0;
            skip_ws(s);
            if (s->p >= s->end || *s->p != ':') return syntax(s, "expected ':'");
            s->p++;
            if (!skip_value(s, depth + 1)) return 0;
            skip_ws(s);
            if (s->p < s->end && *s->p == ',') {
                s->p++;
                continue;
            }
            if (s->p < s->end && *s->p == '}') {
                s->p++;
                return 1;
            }
            return syntax(s, "expected ',' or '}'");
        }
    case '[':
        s->p++;
        skip_ws(s);
        if (s->p < s->end && *s->p == ']') {
            s->p++;
            return 1;
        }
        for (;;) {
            if (!skip_value(s, depth + 1)) return 0;
            skip_ws(s);
            if (s->p < s->end && *s->p == ',') {
                s->p++;
                continue;
            }
            if (s->p < s->end && *s->p == ']') {
                s->p++;
                return 1;
            }
            return syntax(s, "expected ',' or ']'");
        }
    case 't':
        return skip_literal(s, "true");
    case 'f':
        return skip_literal(s, "false");
    case 'n':
        return skip_literal(s, "null");
    default:
        if (*s->p == '-' || (*s->p >= '0' && *s->p <= '9')) return skip_number(s);
        return syntax(s, "unexpected character");
    }
}

/* What kind of JSON value starts at p (for "expected a string, got ..."). */
static const char *kind_at(const scan *s) {
    if (s->p >= s->end) return "nothing";
    switch (*s->p) {
    case '{':
        return "an object";
    case '[':
        return "an array";
    case 't':
    case 'f':
        return "a boolean";
    case 'n':
        return "null";
    default:
        return "a number";
    }
}

static int hex_field(scan *s, const struct field *f, dg_bootinfo *bi) {
    char tmp[140];
    size_t n, want = f->kind == F_HEX20 ? 40 : 64;
    if (s->p >= s->end) return syntax(s, "unexpected end");
    if (*s->p != '"')
        return dg_err_set(s->err, DG_ERR_INPUT, "%s: expected a string, got %s", f->name,
                          kind_at(s));
    if (!parse_string(s, tmp, sizeof tmp, &n)) return 0;
    const char *h = tmp;
    size_t hn = n;
    if (hn >= 2 && h[0] == '0' && (h[1] == 'x' || h[1] == 'X')) {
        h += 2;
        hn -= 2;
    }
    uint8_t *dst = (uint8_t *)bi + f->off;
    if (hn == 0) {
        if (!f->empty_ok) return dg_err_set(s->err, DG_ERR_INPUT, "%s: must not be empty", f->name);
        memset(dst, 0, want / 2);
        return 1;
    }
    if (hn != want)
        return dg_err_set(s->err, DG_ERR_INPUT, "%s: expected %zu hex digits, got %zu", f->name,
                          want, hn);
    for (size_t i = 0; i < want; i += 2) {
        int a = dg_hex_digit((unsigned char)h[i]), b = dg_hex_digit((unsigned char)h[i + 1]);
        if (a < 0 || b < 0) {
            size_t bad = a < 0 ? i : i + 1;
            unsigned char c = (unsigned char)h[bad];
            if (c >= 0x21 && c < 0x7f)
                return dg_err_set(s->err, DG_ERR_INPUT,
                                  "%s: invalid hex digit '%c' at position %zu", f->name, c, bad);
            return dg_err_set(s->err, DG_ERR_INPUT, "%s: invalid hex digit at position %zu",
                              f->name, bad);
        }
        dst[i / 2] = (uint8_t)(a << 4 | b);
    }
    if (f->has_off != NOFLAG) *(int *)((uint8_t *)bi + f->has_off) = 1;
    return 1;
}

static int tcb_field(scan *s, dg_bootinfo *bi) {
    size_t n;
    if (s->p >= s->end) return syntax(s, "unexpected end");
    if (*s->p != '"')
        return dg_err_set(s->err, DG_ERR_INPUT, "tcbStatus: expected a string, got %s", kind_at(s));
    if (!parse_string(s, bi->tcb_status, DG_BOOTINFO_TCB_MAX, &n)) return 0;
    if (n > DG_BOOTINFO_TCB_MAX)
        return dg_err_set(s->err, DG_ERR_INPUT, "tcbStatus: longer than %d bytes (%zu)",
                          DG_BOOTINFO_TCB_MAX, n);
    bi->tcb_status[n] = 0;
    bi->tcb_len = n;
    return 1;
}

static int adv_field(scan *s, dg_bootinfo *bi) {
    char tmp[DG_BOOTINFO_ADV_LEN_MAX];
    if (s->p >= s->end) return syntax(s, "unexpected end");
    if (*s->p != '[')
        return dg_err_set(s->err, DG_ERR_INPUT, "advisoryIds: expected an array of strings, got %s",
                          *s->p == '"' ? "a string" : kind_at(s));
    s->p++;
    skip_ws(s);
    if (s->p < s->end && *s->p == ']') {
        s->p++;
        return 1;
    }
    for (;;) {
        size_t n, i = bi->n_advisory;
        skip_ws(s);
        if (s->p >= s->end || *s->p != '"') {
            if (s->p >= s->end) return syntax(s, "unexpected end");
            return dg_err_set(s->err, DG_ERR_INPUT, "advisoryIds[%zu]: expected a string, got %s",
                              i, kind_at(s));
        }
        if (i == DG_BOOTINFO_ADV_MAX)
            return dg_err_set(s->err, DG_ERR_INPUT, "advisoryIds: more than %d entries",
                              DG_BOOTINFO_ADV_MAX);
        if (!parse_string(s, tmp, sizeof tmp, &n)) return 0;
        if (n > DG_BOOTINFO_ADV_LEN_MAX)
            return dg_err_set(s->err, DG_ERR_INPUT, "advisoryIds[%zu]: longer than %d bytes (%zu)",
                              i, DG_BOOTINFO_ADV_LEN_MAX, n);
        bi->adv_off[i] = (uint16_t)bi->adv.len;
        bi->adv_len[i] = (uint16_t)n;
        if (!dg_buf_append(&bi->adv, tmp, n) || !dg_buf_push(&bi->adv, 0))
            return dg_err_set(s->err, DG_ERR_NOMEM, "advisoryIds: out of memory");
        bi->n_advisory++;
        skip_ws(s);
        if (s->p < s->end && *s->p == ',') {
            s->p++;
            continue;
        }
        if (s->p < s->end && *s->p == ']') {
            s->p++;
            return 1;
        }
        return syntax(s, "expected ',' or ']'");
    }
}

static int parse_object(scan *s, dg_bootinfo *bi) {
    unsigned seen = 0;
    skip_ws(s);
    if (s->p >= s->end || *s->p != '{')
        return dg_err_set(s->err, DG_ERR_INPUT, "body: expected a JSON object");
    s->p++;
    skip_ws(s);
    if (s->p < s->end && *s->p == '}')
        s->p++;
    else
        for (;;) {
            char key[32];
            size_t kn = 0;
            skip_ws(s);
            if (!parse_string(s, key, sizeof key, &kn)) return 0;
            skip_ws(s);
            if (s->p >= s->end || *s->p != ':') return syntax(s, "expected ':'");
            s->p++;
            skip_ws(s);
            const struct field *f = NULL;
            size_t fi = 0;
            if (kn < sizeof key)
                for (fi = 0; fi < NFIELDS; fi++)
                    if (strlen(FIELDS[fi].name) == kn && memcmp(FIELDS[fi].name, key, kn) == 0) {
                        f = &FIELDS[fi];
                        break;
                    }
            if (!f) {
                if (!skip_value(s, 1)) return 0;
            } else {
                if (seen & (1u << fi))
                    return dg_err_set(s->err, DG_ERR_INPUT, "%s: given twice", f->name);
                seen |= 1u << fi;
                int ok;
                switch (f->kind) {
                case F_HEX20:
                case F_HEX32:
                    ok = hex_field(s, f, bi);
                    break;
                case F_TCB:
                    ok = tcb_field(s, bi);
                    break;
                default:
                    ok = adv_field(s, bi);
                    break;
                }
                if (!ok) return 0;
            }
            skip_ws(s);
            if (s->p < s->end && *s->p == ',') {
                s->p++;
                continue;
            }
            if (s->p < s->end && *s->p == '}') {
                s->p++;
                break;
            }
            return syntax(s, "expected ',' or '}'");
        }
    skip_ws(s);
    if (s->p != s->end) return syntax(s, "trailing data after the object");
    for (size_t i = 0; i < NFIELDS; i++)
        if (FIELDS[i].required && !(seen & (1u << i)))
            return dg_err_set(s->err, DG_ERR_INPUT, "%s: missing", FIELDS[i].name);
    return 1;
}

int dg_bootinfo_parse(dg_bootinfo *bi, const char *json, size_t len, dg_err *err) {
    dg_bootinfo_free(bi);
    if (len > DG_BOOTINFO_BODY_MAX)
        return dg_err_set(err, DG_ERR_INPUT, "body: larger than %d bytes", DG_BOOTINFO_BODY_MAX);
    scan s = {json, json, json + len, err};
    if (!parse_object(&s, bi)) {
        dg_bootinfo_free(bi);
        return 0;
    }
    return 1;
}

const char *dg_bootinfo_advisory(const dg_bootinfo *bi, size_t i, size_t *len) {
    if (i >= bi->n_advisory) {
        if (len) *len = 0;
        return NULL;
    }
    if (len) *len = bi->adv_len[i];
    return (const char *)bi->adv.data + bi->adv_off[i];
}

int dg_bootinfo_canonical(const dg_bootinfo *bi, dg_buf *out) {
    uint8_t n2[2];
    dg_buf_append(out, bi->app_id, 20);
    dg_buf_append(out, bi->compose_hash, 32);
    dg_buf_append(out, bi->instance_id, 20);
    dg_buf_append(out, bi->device_id, 32);
    dg_buf_append(out, bi->mr_aggregated, 32);
    dg_buf_append(out, bi->mr_system, 32);
    dg_buf_append(out, bi->os_image_hash, 32);
    dg_buf_push(out, (uint8_t)bi->tcb_len);
    dg_buf_append(out, bi->tcb_status, bi->tcb_len);
    dg_buf_push(out, (uint8_t)bi->n_advisory);
    for (size_t i = 0; i < bi->n_advisory; i++) {
        n2[0] = (uint8_t)(bi->adv_len[i] >> 8);
        n2[1] = (uint8_t)bi->adv_len[i];
        dg_buf_append(out, n2, 2);
        dg_buf_append(out, bi->adv.data + bi->adv_off[i], bi->adv_len[i]);
    }
    return !out->oom;
}

int dg_json_put_string(dg_buf *out, const char *s, size_t n) {
    static const char hx[] = "0123456789abcdef";
    dg_buf_push(out, '"');
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        dg_buf_append(out, s + run, i - run);
        run = i + 1;
        switch (c) {
        case '"':
            dg_buf_puts(out, "\\\"");
            break;
        case '\\':
            dg_buf_puts(out, "\\\\");
            break;
        case '\n':
            dg_buf_puts(out, "\\n");
            break;
        case '\r':
            dg_buf_puts(out, "\\r");
            break;
        case '\t':
            dg_buf_puts(out, "\\t");
            break;
        default: {
            char e[6] = {'\\', 'u', '0', '0', hx[c >> 4], hx[c & 15]};
            dg_buf_append(out, e, 6);
        }
        }
    }
    dg_buf_append(out, s + run, n - run);
    dg_buf_push(out, '"');
    return !out->oom;
}

static void put_hex_field(dg_buf *out, const char *name, const uint8_t *p, size_t n, int present,
                          int comma) {
    static const char hx[] = "0123456789abcdef";
    char tmp[64];
    dg_buf_printf(out, "%s\"%s\":\"", comma ? "," : "", name);
    if (present) {
        for (size_t i = 0; i < n; i++) {
            tmp[2 * i] = hx[p[i] >> 4];
            tmp[2 * i + 1] = hx[p[i] & 15];
        }
        dg_buf_append(out, tmp, 2 * n);
    }
    dg_buf_push(out, '"');
}

int dg_bootinfo_to_json(const dg_bootinfo *bi, dg_buf *out) {
    dg_buf_push(out, '{');
    put_hex_field(out, "mrAggregated", bi->mr_aggregated, 32, 1, 0);
    put_hex_field(out, "osImageHash", bi->os_image_hash, 32, bi->has_os_image_hash, 1);
    put_hex_field(out, "mrSystem", bi->mr_system, 32, bi->has_mr_system, 1);
    put_hex_field(out, "appId", bi->app_id, 20, 1, 1);
    put_hex_field(out, "composeHash", bi->compose_hash, 32, 1, 1);
    put_hex_field(out, "instanceId", bi->instance_id, 20, bi->has_instance_id, 1);
    put_hex_field(out, "deviceId", bi->device_id, 32, 1, 1);
    dg_buf_puts(out, ",\"tcbStatus\":");
    dg_json_put_string(out, bi->tcb_status, bi->tcb_len);
    dg_buf_puts(out, ",\"advisoryIds\":[");
    for (size_t i = 0; i < bi->n_advisory; i++) {
        if (i) dg_buf_push(out, ',');
        dg_json_put_string(out, (const char *)bi->adv.data + bi->adv_off[i], bi->adv_len[i]);
    }
    dg_buf_puts(out, "]}");
    return !out->oom;
}
