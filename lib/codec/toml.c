/* toml.c — the strict TOML subset of toml.h.
 *
 * One pass over the text with a cursor that tracks line and column; every
 * value becomes one entry with its full dotted key (table prefix + key).
 * Tables are remembered only to refuse defining one twice or using a key as
 * both a value and a table; that check is a linear scan, which is fine for
 * configuration files of a few dozen keys. Fuzzed by fuzz/fuzz_toml.c.
 */
#include "dstackgov/hex.h"
#include "dstackgov/toml.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dstackgov/buf.h"
#include "dstackgov/utf8.h"

#define MAX_ENTRIES 4096
#define MAX_KEY 512

struct dg_toml {
    dg_toml_entry *e;
    size_t n, cap;
    char **tables; /* explicitly defined [tables] and implicit prefixes */
    size_t ntables, captables;
};

typedef struct {
    const char *p, *end, *line_start;
    int line;
    dg_toml *doc;
    dg_err *err;
} cur;

static int col(const cur *c) {
    return (int)(c->p - c->line_start) + 1;
}

__attribute__((format(printf, 2, 3))) static int fail(cur *c, const char *fmt, ...) {
    char m[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    return dg_err_set(c->err, DG_ERR_CONFIG, "line %d, column %d: %s", c->line, col(c), m);
}

static void skip_sp(cur *c) {
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t'))
        c->p++;
}

/* Skip spaces and a comment; stop before the newline. */
static int skip_sp_comment(cur *c) {
    skip_sp(c);
    if (c->p < c->end && *c->p == '#') {
        while (c->p < c->end && *c->p != '\n') {
            unsigned char ch = (unsigned char)*c->p;
            if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
                if (ch == '\r' && c->p + 1 < c->end && c->p[1] == '\n') {
                    c->p++;
                    continue;
                }
                return fail(c, "control character in comment");
            }
            c->p++;
        }
    }
    return 1;
}

/* Expect end of line (after optional spaces/comment); consumes the newline. */
static int end_of_line(cur *c) {
    if (!skip_sp_comment(c)) return 0;
    if (c->p >= c->end) return 1;
    if (*c->p == '\r' && c->p + 1 < c->end && c->p[1] == '\n') c->p++;
    if (*c->p != '\n') return fail(c, "expected end of line, found '%c'", *c->p);
    c->p++;
    c->line++;
    c->line_start = c->p;
    return 1;
}

/* Skip whitespace, newlines and comments (inside arrays). */
static int skip_ws_nl(cur *c) {
    for (;;) {
        if (!skip_sp_comment(c)) return 0;
        if (c->p < c->end &&
            (*c->p == '\n' || (*c->p == '\r' && c->p + 1 < c->end && c->p[1] == '\n'))) {
            if (*c->p == '\r') c->p++;
            c->p++;
            c->line++;
            c->line_start = c->p;
            continue;
        }
        return 1;
    }
}

static int is_bare(char ch) {
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           ch == '_' || ch == '-';
}

static void put_utf8(dg_buf *b, unsigned long cp) {
    unsigned char tmp[4];
    dg_buf_append(b, tmp, dg_utf8_encode((uint32_t)cp, tmp));
}

/* Parse a basic or literal string at c->p into b (NUL-terminated). */
static int parse_string(cur *c, dg_buf *b) {
    char q = *c->p;
    if (c->end - c->p >= 3 && c->p[1] == q && c->p[2] == q)
        return fail(c, "multi-line strings are not supported");
    c->p++;
    for (;;) {
        if (c->p >= c->end || *c->p == '\n' || *c->p == '\r') return fail(c, "unterminated string");
        unsigned char ch = (unsigned char)*c->p;
        if (ch == (unsigned char)q) {
            c->p++;
            break;
        }
        if ((ch < 0x20 && ch != '\t') || ch == 0x7f) return fail(c, "control character in string");
        if (ch >= 0x80) {
            size_t k = dg_utf8_seq((const unsigned char *)c->p, (const unsigned char *)c->end);
            if (!k) return fail(c, "invalid UTF-8 in string");
            dg_buf_append(b, c->p, k);
            c->p += k;
            continue;
        }
        if (q == '"' && ch == '\\') {
            if (c->end - c->p < 2) return fail(c, "unterminated string");
            char e = c->p[1];
            int digits = 0;
            switch (e) {
            case 'b':
                dg_buf_push(b, '\b');
                break;
            case 't':
                dg_buf_push(b, '\t');
                break;
            case 'n':
                dg_buf_push(b, '\n');
                break;
            case 'f':
                dg_buf_push(b, '\f');
                break;
            case 'r':
                dg_buf_push(b, '\r');
                break;
            case '"':
                dg_buf_push(b, '"');
                break;
            case '\\':
                dg_buf_push(b, '\\');
                break;
            case 'u':
                digits = 4;
                break;
            case 'U':
                digits = 8;
                break;
            default:
                return fail(c, "invalid escape '\\%c'", e >= 0x20 && e < 0x7f ? e : '?');
            }
            if (digits) {
                unsigned long cp = 0;
                if (c->end - c->p < 2 + digits) return fail(c, "short \\%c escape", e);
                for (int i = 0; i < digits; i++) {
                    int h = dg_hex_digit(c->p[2 + i]);
                    if (h < 0) return fail(c, "bad hex digit in \\%c escape", e);
                    cp = cp << 4 | (unsigned long)h;
                }
                if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
                    return fail(c, "escape is not a valid non-NUL Unicode scalar value");
                put_utf8(b, cp);
                c->p += 2 + digits;
            } else
                c->p += 2;
            continue;
        }
        dg_buf_push(b, ch);
        c->p++;
    }
    dg_buf_push(b, 0);
    if (b->oom) return dg_err_set(c->err, DG_ERR_NOMEM, "out of memory");
    return 1;
}

/* Parse a (possibly dotted) key into b as "a.b.c" (quoted parts may contain
 * anything but '.' is kept literal — we refuse '.' inside quoted keys to keep
 * paths unambiguous). */
static int parse_key(cur *c, dg_buf *b) {
    for (;;) {
        skip_sp(c);
        if (c->p >= c->end) return fail(c, "expected a key");
        if (*c->p == '"' || *c->p == '\'') {
            dg_buf part;
            dg_buf_init(&part);
            if (!parse_string(c, &part)) {
                dg_buf_free(&part);
                return 0;
            }
            if (part.len <= 1 || memchr(part.data, '.', part.len - 1)) {
                dg_buf_free(&part);
                return fail(c, "quoted key must be non-empty and contain no '.'");
            }
            dg_buf_append(b, part.data, part.len - 1);
            dg_buf_free(&part);
        } else if (is_bare(*c->p)) {
            while (c->p < c->end && is_bare(*c->p))
                dg_buf_push(b, (uint8_t)*c->p++);
        } else
            return fail(c, "expected a key, found '%c'",
                        *c->p >= 0x20 && *c->p < 0x7f ? *c->p : '?');
        if (b->len > MAX_KEY) return fail(c, "key too long");
        skip_sp(c);
        if (c->p < c->end && *c->p == '.') {
            dg_buf_push(b, '.');
            c->p++;
            continue;
        }
        dg_buf_push(b, 0);
        if (b->oom) return dg_err_set(c->err, DG_ERR_NOMEM, "out of memory");
        return 1;
    }
}

static int table_known(const dg_toml *d, const char *name) {
    if (!name) return 0;
    for (size_t i = 0; i < d->ntables; i++)
        if (d->tables[i] && strcmp(d->tables[i], name) == 0) return 1;
    return 0;
}

static int add_table(cur *c, const char *name) {
    dg_toml *d = c->doc;
    if (d->ntables == d->captables) {
        size_t nc = d->captables ? d->captables * 2 : 8;
        char **nt = realloc(d->tables, nc * sizeof *nt);
        if (!nt) return dg_err_set(c->err, DG_ERR_NOMEM, "out of memory");
        d->tables = nt;
        d->captables = nc;
    }
    char *t = strdup(name);
    if (!t) return dg_err_set(c->err, DG_ERR_NOMEM, "out of memory");
    d->tables[d->ntables++] = t;
    return 1;
}

/* Is `name` a value key, or a prefix of one / a table (name + ".")? */
static const dg_toml_entry *find_entry(const dg_toml *d, const char *name) {
    if (!name) return NULL;
    for (size_t i = 0; i < d->n; i++)
        if (d->e[i].key && strcmp(d->e[i].key, name) == 0) return &d->e[i];
    return NULL;
}

static int has_prefix_use(const dg_toml *d, const char *name) {
    if (!name) return 0;
    size_t n = strlen(name);
    for (size_t i = 0; i < d->n; i++)
        if (d->e[i].key && strncmp(d->e[i].key, name, n) == 0 && d->e[i].key[n] == '.') return 1;
    return 0;
}

/* Every proper prefix of `key` must not be a value. */
static int check_prefixes(cur *c, const char *key) {
    char tmp[MAX_KEY + 2];
    if (!key) return dg_err_set(c->err, DG_ERR_NOMEM, "out of memory");
    size_t n = strlen(key);
    if (n > MAX_KEY) return fail(c, "key too long");
    memcpy(tmp, key, n + 1);
    for (size_t i = 0; i < n; i++)
        if (tmp[i] == '.') {
            tmp[i] = 0;
            if (find_entry(c->doc, tmp)) return fail(c, "'%s' is a value, not a table", tmp);
            tmp[i] = '.';
        }
    return 1;
}

static int parse_int(cur *c, long long *out) {
    const char *s = c->p;
    int neg = 0;
    unsigned long long v = 0;
    if (*c->p == '+' || *c->p == '-') neg = *c->p++ == '-';
    if (c->p >= c->end || *c->p < '0' || *c->p > '9') {
        c->p = s;
        return fail(c,
                    "unsupported value (expected a string, integer, boolean or array of strings)");
    }
    if (*c->p == '0' && c->p + 1 < c->end && (is_bare(c->p[1]) || c->p[1] == '.')) {
        if (c->p[1] == 'x' || c->p[1] == 'o' || c->p[1] == 'b')
            return fail(c, "only decimal integers are supported");
        if ((c->p[1] >= '0' && c->p[1] <= '9') || c->p[1] == '_')
            return fail(c, "leading zeros are not allowed");
    }
    int prev_digit = 0;
    while (c->p < c->end && ((*c->p >= '0' && *c->p <= '9') || *c->p == '_')) {
        if (*c->p == '_') {
            if (!prev_digit || c->p + 1 >= c->end || c->p[1] < '0' || c->p[1] > '9')
                return fail(c, "'_' must be between digits");
            prev_digit = 0;
            c->p++;
            continue;
        }
        unsigned d = (unsigned)(*c->p - '0');
        if (v > (ULLONG_MAX - d) / 10) return fail(c, "integer out of range");
        v = v * 10 + d;
        prev_digit = 1;
        c->p++;
    }
    if (c->p < c->end && (*c->p == '.' || *c->p == 'e' || *c->p == 'E' || *c->p == ':' ||
                          *c->p == '-' || is_bare(*c->p))) {
        c->p = s;
        return fail(c, "unsupported value (floats, dates and times are not supported)");
    }
    if ((!neg && v > (unsigned long long)LLONG_MAX) ||
        (neg && v > (unsigned long long)LLONG_MAX + 1))
        return fail(c, "integer out of range");
    *out =
        neg ? (v == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN : -(long long)v) : (long long)v;
    return 1;
}

/* A new, zeroed entry owned by the document (freed with it, even if the
 * parse fails half-way through filling it). NULL on failure (err set). */
static dg_toml_entry *new_entry(cur *c) {
    dg_toml *d = c->doc;
    if (d->n == MAX_ENTRIES) {
        fail(c, "too many keys");
        return NULL;
    }
    if (d->n == d->cap) {
        size_t nc = d->cap ? d->cap * 2 : 16;
        dg_toml_entry *ne = realloc(d->e, nc * sizeof *ne);
        if (!ne) {
            dg_err_set(c->err, DG_ERR_NOMEM, "out of memory");
            return NULL;
        }
        d->e = ne;
        d->cap = nc;
    }
    dg_toml_entry *e = &d->e[d->n++];
    memset(e, 0, sizeof *e);
    return e;
}

static void entry_free(dg_toml_entry *e) {
    free((char *)e->key);
    free((char *)e->str);
    for (size_t i = 0; i < e->nitems; i++)
        free(e->items[i]);
    free(e->items);
}

static int parse_value(cur *c, dg_toml_entry *e) {
    e->line = c->line;
    e->col = col(c);
    if (c->p >= c->end || *c->p == '\n' || *c->p == '\r' || *c->p == '#')
        return fail(c, "expected a value");
    char ch = *c->p;
    if (ch == '"' || ch == '\'') {
        dg_buf b;
        dg_buf_init(&b);
        if (!parse_string(c, &b)) {
            dg_buf_free(&b);
            return 0;
        }
        e->type = DG_TOML_STRING;
        e->str = (const char *)b.data;
        return 1;
    }
    if (ch == '[') {
        e->type = DG_TOML_ARRAY;
        c->p++;
        for (;;) {
            if (!skip_ws_nl(c)) return 0;
            if (c->p >= c->end) return fail(c, "unterminated array");
            if (*c->p == ']') {
                c->p++;
                return 1;
            }
            if (*c->p != '"' && *c->p != '\'') return fail(c, "arrays may only hold strings");
            dg_buf b;
            dg_buf_init(&b);
            if (!parse_string(c, &b)) {
                dg_buf_free(&b);
                return 0;
            }
            char **ni = realloc(e->items, (e->nitems + 1) * sizeof *ni);
            if (!ni) {
                dg_buf_free(&b);
                return dg_err_set(c->err, DG_ERR_NOMEM, "out of memory");
            }
            e->items = ni;
            e->items[e->nitems++] = (char *)b.data;
            if (!skip_ws_nl(c)) return 0;
            if (c->p < c->end && *c->p == ',') {
                c->p++;
                continue;
            }
            if (c->p < c->end && *c->p == ']') {
                c->p++;
                return 1;
            }
            return fail(c, "expected ',' or ']' in array");
        }
    }
    if (ch == '{') return fail(c, "inline tables are not supported");
    if (c->end - c->p >= 4 && memcmp(c->p, "true", 4) == 0 &&
        (c->end - c->p == 4 || !is_bare(c->p[4]))) {
        e->type = DG_TOML_BOOL;
        e->b = 1;
        c->p += 4;
        return 1;
    }
    if (c->end - c->p >= 5 && memcmp(c->p, "false", 5) == 0 &&
        (c->end - c->p == 5 || !is_bare(c->p[5]))) {
        e->type = DG_TOML_BOOL;
        e->b = 0;
        c->p += 5;
        return 1;
    }
    e->type = DG_TOML_INT;
    return parse_int(c, &e->i);
}

static int join(cur *c, const char *prefix, const char *key, char **out) {
    size_t a = strlen(prefix), b = strlen(key);
    if (a + b + 2 > MAX_KEY) return fail(c, "key too long");
    char *s = malloc(a + b + 2);
    if (!s) return dg_err_set(c->err, DG_ERR_NOMEM, "out of memory");
    if (a) {
        memcpy(s, prefix, a);
        s[a++] = '.';
    }
    memcpy(s + a, key, b);
    s[a + b] = 0;
    *out = s;
    return 1;
}

static int parse_doc(cur *c) {
    char table[MAX_KEY + 1] = "";
    while (c->p < c->end) {
        skip_sp(c);
        if (c->p >= c->end) break;
        if (*c->p == '#' || *c->p == '\n' || *c->p == '\r') {
            if (!end_of_line(c)) return 0;
            continue;
        }
        if (*c->p == '[') {
            int hl = c->line, hc = col(c);
            if (c->p + 1 < c->end && c->p[1] == '[')
                return fail(c, "arrays of tables are not supported");
            c->p++;
            dg_buf k;
            dg_buf_init(&k);
            if (!parse_key(c, &k) || !k.data) {
                dg_buf_free(&k);
                return 0;
            }
            skip_sp(c);
            if (c->p >= c->end || *c->p != ']') {
                dg_buf_free(&k);
                return fail(c, "expected ']' after table name");
            }
            c->p++;
            const char *name = (const char *)k.data;
            int bad = table_known(c->doc, name) || find_entry(c->doc, name) ||
                      has_prefix_use(c->doc, name);
            if (bad) {
                dg_err_set(c->err, DG_ERR_CONFIG,
                           "line %d, column %d: table [%s] defined twice or used as a value", hl,
                           hc, name);
                dg_buf_free(&k);
                return 0;
            }
            if (!check_prefixes(c, name) || !add_table(c, name)) {
                dg_buf_free(&k);
                return 0;
            }
            snprintf(table, sizeof table, "%s", name);
            dg_buf_free(&k);
            if (!end_of_line(c)) return 0;
            continue;
        }
        int kl = c->line, kc = col(c);
        dg_buf k;
        dg_buf_init(&k);
        if (!parse_key(c, &k) || !k.data) {
            dg_buf_free(&k);
            return 0;
        }
        char *full = NULL;
        if (!join(c, table, (const char *)k.data, &full)) {
            dg_buf_free(&k);
            return 0;
        }
        dg_buf_free(&k);
        if (find_entry(c->doc, full) || table_known(c->doc, full) || has_prefix_use(c->doc, full)) {
            dg_err_set(c->err, DG_ERR_CONFIG, "line %d, column %d: key '%s' defined twice", kl, kc,
                       full);
            free(full);
            return 0;
        }
        if (!check_prefixes(c, full)) {
            free(full);
            return 0;
        }
        dg_toml_entry *e = new_entry(c);
        if (!e) {
            free(full);
            return 0;
        }
        e->key = full;
        e->key_line = kl;
        e->key_col = kc;
        skip_sp(c);
        if (c->p >= c->end || *c->p != '=') return fail(c, "expected '=' after key");
        c->p++;
        skip_sp(c);
        if (!parse_value(c, e)) return 0;
        if (!end_of_line(c)) return 0;
    }
    return 1;
}

void dg_toml_free(dg_toml *doc) {
    if (!doc) return;
    for (size_t i = 0; i < doc->n; i++)
        entry_free(&doc->e[i]);
    free(doc->e);
    for (size_t i = 0; i < doc->ntables; i++)
        free(doc->tables[i]);
    free(doc->tables);
    free(doc);
}

int dg_toml_parse(const char *text, size_t len, dg_toml **out, dg_err *err) {
    *out = NULL;
    if (memchr(text, 0, len)) {
        const char *z = memchr(text, 0, len);
        int line = 1;
        const char *ls = text;
        for (const char *q = text; q < z; q++)
            if (*q == '\n') {
                line++;
                ls = q + 1;
            }
        return dg_err_set(err, DG_ERR_CONFIG, "line %d, column %d: NUL byte", line,
                          (int)(z - ls) + 1);
    }
    dg_toml *d = calloc(1, sizeof *d);
    if (!d) return dg_err_set(err, DG_ERR_NOMEM, "out of memory");
    cur c = {text, text + len, text, 1, d, err};
    /* A UTF-8 byte order mark is tolerated at the start. */
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) c.p += 3, c.line_start = c.p;
    if (!parse_doc(&c)) {
        dg_toml_free(d);
        return 0;
    }
    *out = d;
    return 1;
}

int dg_toml_parse_file(const char *path, dg_toml **out, dg_err *err) {
    FILE *f = fopen(path, "rb");
    dg_buf b;
    char chunk[4096];
    size_t n;
    *out = NULL;
    if (!f) return dg_err_set(err, DG_ERR_CONFIG, "%s: %s", path, strerror(errno));
    dg_buf_init(&b);
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (b.len + n > (1u << 20)) {
            fclose(f);
            dg_buf_free(&b);
            return dg_err_set(err, DG_ERR_CONFIG, "%s: larger than 1 MiB", path);
        }
        dg_buf_append(&b, chunk, n);
    }
    int rerr = ferror(f);
    fclose(f);
    if (rerr || b.oom) {
        dg_buf_free(&b);
        return dg_err_set(err, DG_ERR_CONFIG, "%s: read error", path);
    }
    int ok = dg_toml_parse(b.len ? (const char *)b.data : "", b.len, out, err);
    dg_buf_free(&b);
    if (!ok) return dg_err_wrap(err, "%s", path);
    return 1;
}

size_t dg_toml_count(const dg_toml *doc) {
    return doc ? doc->n : 0;
}

const dg_toml_entry *dg_toml_at(const dg_toml *doc, size_t i) {
    return doc && i < doc->n ? &doc->e[i] : NULL;
}

const dg_toml_entry *dg_toml_get(const dg_toml *doc, const char *key) {
    return doc ? find_entry(doc, key) : NULL;
}
