/* abi.c — Solidity ABI encoder and strict decoder (see include/dstackgov/abi.h).
 *
 * The one idea: a tuple is a head of fixed-size slots followed by a tail;
 * static values sit in their head slot, dynamic ones (bytes, string, T[],
 * and anything containing them) put an offset there, relative to the start of
 * the tuple, and live in the tail. T[k] is encoded like a tuple of k T's and
 * T[] like its length followed by that tuple. The encoder follows the values'
 * kinds (after checking them against a type string when one is given); the
 * decoder follows a parsed type tree and checks every offset and length
 * against the data before it reads, with budgets that stop aliased offsets
 * from multiplying the output.
 */
#include "dstackgov/abi.h"

#include <endian.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dstackgov/hash.h"

#define MAX_DEPTH 32
#define MAX_FIXED_LEN 65536

/* ------------------------------------------------------------ value helpers */

static void value_init(dg_abi_value *v, dg_abi_kind kind) {
    memset(v, 0, sizeof *v);
    v->kind = kind;
}

void dg_abi_address(dg_abi_value *v, const uint8_t addr[20]) {
    value_init(v, DG_ABI_ADDRESS);
    v->bits_or_size = 160;
    memcpy(v->word + 12, addr, 20);
}

void dg_abi_bool(dg_abi_value *v, int b) {
    value_init(v, DG_ABI_BOOL);
    v->word[31] = b ? 1 : 0;
}

void dg_abi_uint64(dg_abi_value *v, uint64_t x) {
    value_init(v, DG_ABI_UINT);
    v->bits_or_size = 64;
    for (int i = 0; i < 8; i++)
        v->word[31 - i] = (uint8_t)(x >> (8 * i));
}

void dg_abi_int64(dg_abi_value *v, int64_t x) {
    value_init(v, DG_ABI_INT);
    v->bits_or_size = 64;
    uint64_t u = (uint64_t)x;
    memset(v->word, x < 0 ? 0xff : 0, 24);
    for (int i = 0; i < 8; i++)
        v->word[31 - i] = (uint8_t)(u >> (8 * i));
}

void dg_abi_uint256(dg_abi_value *v, dg_u256 x) {
    value_init(v, DG_ABI_UINT);
    v->bits_or_size = 256;
    dg_u256_to_be(x, v->word);
}

void dg_abi_bytes32(dg_abi_value *v, const uint8_t b[32]) {
    value_init(v, DG_ABI_FIXED_BYTES);
    v->bits_or_size = 32;
    memcpy(v->word, b, 32);
}

int dg_abi_fixed_bytes(dg_abi_value *v, const uint8_t *p, size_t n) {
    value_init(v, DG_ABI_FIXED_BYTES);
    if (n < 1 || n > 32) {
        v->bits_or_size = 32;
        return 0;
    }
    v->bits_or_size = (unsigned)n;
    memcpy(v->word, p, n);
    return 1;
}

static int set_data(dg_abi_value *v, const void *p, size_t n) {
    v->data = malloc(n + 1);
    if (!v->data) return 0;
    if (n) memcpy(v->data, p, n);
    v->data[n] = 0;
    v->len = n;
    return 1;
}

int dg_abi_bytes(dg_abi_value *v, const uint8_t *p, size_t n) {
    value_init(v, DG_ABI_BYTES);
    return set_data(v, p, n);
}

int dg_abi_string(dg_abi_value *v, const char *s) {
    value_init(v, DG_ABI_STRING);
    return s ? set_data(v, s, strlen(s)) : set_data(v, "", 0);
}

static int make_items(dg_abi_value *v, dg_abi_kind kind, size_t n) {
    value_init(v, kind);
    if (n == 0) return 1;
    v->items = calloc(n, sizeof *v->items);
    if (!v->items) return 0;
    v->nitems = n;
    if (kind == DG_ABI_FIXED_ARRAY || kind == DG_ABI_TUPLE)
        v->bits_or_size = n > 0xffffffffu ? 0xffffffffu : (unsigned)n;
    return 1;
}

int dg_abi_tuple(dg_abi_value *v, size_t n) {
    return make_items(v, DG_ABI_TUPLE, n);
}

int dg_abi_array(dg_abi_value *v, size_t n) {
    return make_items(v, DG_ABI_ARRAY, n);
}

int dg_abi_fixed_array(dg_abi_value *v, size_t n) {
    return make_items(v, DG_ABI_FIXED_ARRAY, n);
}

/* The decoder's memory: chunks bumped from the front, newest first in the
 * chain. Under AddressSanitizer every piece is kept apart by a poisoned gap
 * and the free space stays poisoned, so an overrun of one item array or
 * byte string is still reported as it was with one malloc per piece. */
struct dg_abi_arena {
    struct dg_abi_arena *next;
    size_t cap, used;
    _Alignas(dg_abi_value) unsigned char mem[];
};

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ARENA_ASAN 1
#endif
#endif
#if !defined(ARENA_ASAN) && defined(__SANITIZE_ADDRESS__)
#define ARENA_ASAN 1
#endif
#ifdef ARENA_ASAN
#include <sanitizer/asan_interface.h>
#define ARENA_GAP 16 /* two shadow granules */
#define ARENA_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define ARENA_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define ARENA_GAP 0
#define ARENA_POISON(p, n) ((void)(p), (void)(n))
#define ARENA_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

static void arena_free(struct dg_abi_arena *a) {
    while (a) {
        struct dg_abi_arena *next = a->next;
        ARENA_UNPOISON(a->mem, a->cap);
        free(a);
        a = next;
    }
}

void dg_abi_value_free(dg_abi_value *v) {
    if (!v) return;
    if (v->arena) { /* a decoded root: everything below lives in the arena */
        arena_free(v->arena);
        memset(v, 0, sizeof *v);
        return;
    }
    for (size_t i = 0; i < v->nitems; i++)
        dg_abi_value_free(&v->items[i]);
    free(v->items);
    free(v->data);
    memset(v, 0, sizeof *v);
}

dg_u256 dg_abi_as_u256(const dg_abi_value *v) {
    return dg_u256_from_be(v->word);
}

int dg_abi_as_u64(const dg_abi_value *v, uint64_t *out) {
    if (v->kind != DG_ABI_UINT) return 0;
    return dg_u256_to_u64(dg_u256_from_be(v->word), out);
}

const uint8_t *dg_abi_as_address(const dg_abi_value *v) {
    return v->word + 12;
}

/* ------------------------------------------------------------ type strings */

typedef struct abi_type {
    dg_abi_kind kind;
    unsigned n;             /* uint/int bits, bytesN size, T[k] length, tuple arity */
    struct abi_type *elem;  /* arrays */
    struct abi_type *items; /* tuple: the first item, the others follow by ->next */
    struct abi_type *next;  /* the next item of the enclosing tuple */
    int dynamic;            /* set by type_finish: see type_dynamic */
    size_t head;            /* set by type_finish: see type_head_size */
    size_t body;            /* set by type_finish: a tuple's or T[k]'s own head size */
} abi_type;

static size_t sat_add(size_t a, size_t b) {
    return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}
static size_t sat_mul(size_t a, size_t b) {
    return b && a > SIZE_MAX / b ? SIZE_MAX : a * b;
}

/* Whether a value of type t is dynamic (bytes, string, T[], or a T[k] or
 * tuple holding one), and the bytes it occupies in its enclosing head
 * (saturating): computed once per node when the parser completes it, from
 * its finished children, since the decoder asks at every level. */
static void type_finish(abi_type *t) {
    t->dynamic = t->kind == DG_ABI_BYTES || t->kind == DG_ABI_STRING || t->kind == DG_ABI_ARRAY;
    t->head = 32;
    t->body = 0;
    if (t->kind == DG_ABI_FIXED_ARRAY) {
        t->dynamic = t->elem->dynamic;
        t->body = sat_mul(t->n, t->elem->head);
    } else if (t->kind == DG_ABI_TUPLE) {
        for (const abi_type *it = t->items; it; it = it->next) {
            t->dynamic |= it->dynamic;
            t->body = sat_add(t->body, it->head);
        }
    }
    if ((t->kind == DG_ABI_FIXED_ARRAY || t->kind == DG_ABI_TUPLE) && !t->dynamic)
        t->head = t->body;
}

static int type_dynamic(const abi_type *t) {
    return t->dynamic;
}

static size_t type_head_size(const abi_type *t) {
    return t->head;
}

/* A parsed type string: the root, and room for the other nodes of a short
 * string (most are) so that parsing allocates nothing; a longer one gets one
 * block (heap). */
#define TYPE_ROOM 32
typedef struct {
    abi_type root;
    abi_type room[TYPE_ROOM];
    abi_type *heap;
} parsed;

static void type_free(parsed *pt) {
    free(pt->heap);
    pt->heap = NULL;
}

/* Every node but the root comes from one block sized before parsing: a node
 * is taken only after a character of its own is read (a tuple item's '(' or
 * ',', an array element's '['), so one node per such character and one more
 * (the tuple parse_types wraps a single type in) always suffice. A tuple's
 * items are a list, as every reader walks them in order. */
typedef struct {
    const char *s; /* whole string, for messages */
    size_t pos;
    dg_err *err;
    abi_type *block;
    size_t used, cap;
} parser;

static int parser_init(parser *p, const char *s, size_t pos, parsed *pt, dg_err *err) {
    p->s = s;
    p->pos = pos;
    p->err = err;
    p->used = 0;
    p->cap = 1;
    for (const char *c = s + pos; (c = strpbrk(c, "(,[")) != NULL; c++)
        p->cap++;
    memset(&pt->root, 0, sizeof pt->root);
    pt->heap = NULL;
    if (p->cap <= TYPE_ROOM) {
        p->block = pt->room;
        return 1;
    }
    p->block = pt->heap = malloc(p->cap * sizeof *p->block);
    if (!p->block) return dg_err_set(err, DG_ERR_NOMEM, "abi: out of memory parsing types");
    return 1;
}

static abi_type *new_node(parser *p) {
    if (p->used == p->cap) return NULL; /* cannot happen: see above */
    abi_type *t = &p->block[p->used++];
    memset(t, 0, sizeof *t);
    return t;
}

static int perr(parser *p, const char *what) {
    return dg_err_set(p->err, DG_ERR_INPUT, "abi: bad type \"%.120s\" at position %zu: %s", p->s,
                      p->pos, what);
}

/* Parse a decimal number of 1..6 digits without leading zero; -1 if none. */
static long parse_num(parser *p) {
    const char *s = p->s + p->pos;
    size_t n = 0;
    while (s[n] >= '0' && s[n] <= '9')
        n++;
    if (n == 0 || n > 6 || (n > 1 && s[0] == '0')) return -1;
    long v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    p->pos += n;
    return v;
}

static int parse_type(parser *p, abi_type *t, int depth, int allow_empty);

static int parse_tuple(parser *p, abi_type *t, int depth, int allow_empty) {
    p->pos++; /* '(' */
    t->kind = DG_ABI_TUPLE;
    if (p->s[p->pos] == ')') {
        if (!allow_empty) return perr(p, "empty tuple");
        p->pos++;
        return 1;
    }
    abi_type **tail = &t->items;
    for (;;) {
        if (t->n == 4096) return perr(p, "too many tuple items");
        abi_type *it = new_node(p);
        if (!it) return perr(p, "out of type nodes");
        *tail = it;
        tail = &it->next;
        t->n++;
        if (!parse_type(p, it, depth + 1, 0)) return 0;
        char c = p->s[p->pos];
        if (c == ',') {
            p->pos++;
            continue;
        }
        if (c == ')') {
            p->pos++;
            return 1;
        }
        return perr(p, "expected ',' or ')'");
    }
}

static int parse_base(parser *p, abi_type *t, int depth, int allow_empty) {
    if (p->s[p->pos] == '(') return parse_tuple(p, t, depth, allow_empty);
    static const struct {
        const char *name;
        dg_abi_kind kind;
    } names[] = {{"address", DG_ABI_ADDRESS},   {"bool", DG_ABI_BOOL}, {"string", DG_ABI_STRING},
                 {"bytes", DG_ABI_FIXED_BYTES}, {"uint", DG_ABI_UINT}, {"int", DG_ABI_INT}};
    const char *s = p->s + p->pos;
    size_t n = 0;
    while (s[n] >= 'a' && s[n] <= 'z')
        n++;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strlen(names[i].name) != n || memcmp(s, names[i].name, n) != 0) continue;
        p->pos += n;
        t->kind = names[i].kind;
        int has_num = p->s[p->pos] >= '0' && p->s[p->pos] <= '9';
        long v = has_num ? parse_num(p) : 0;
        if (has_num && v < 0) return perr(p, "bad size");
        switch (t->kind) {
        case DG_ABI_ADDRESS:
        case DG_ABI_BOOL:
        case DG_ABI_STRING:
            if (has_num) return perr(p, "unexpected size");
            t->n = t->kind == DG_ABI_ADDRESS ? 160 : 0;
            return 1;
        case DG_ABI_FIXED_BYTES:
            if (!has_num) {
                t->kind = DG_ABI_BYTES;
                return 1;
            }
            if (v < 1 || v > 32) return perr(p, "bytesN needs 1 <= N <= 32");
            t->n = (unsigned)v;
            return 1;
        default: /* uint, int */
            if (!has_num) v = 256;
            if (v < 8 || v > 256 || v % 8)
                return perr(p, "integer size must be 8..256 in steps of 8");
            t->n = (unsigned)v;
            return 1;
        }
    }
    return perr(p, "unknown type");
}

static int parse_type(parser *p, abi_type *t, int depth, int allow_empty) {
    if (depth > MAX_DEPTH) return perr(p, "nested too deeply");
    memset(t, 0, sizeof *t);
    if (!parse_base(p, t, depth, allow_empty)) return 0;
    type_finish(t);
    while (p->s[p->pos] == '[') {
        if (++depth > MAX_DEPTH) return perr(p, "nested too deeply");
        p->pos++;
        abi_type *e = new_node(p);
        if (!e) return perr(p, "out of type nodes");
        *e = *t;
        memset(t, 0, sizeof *t);
        t->elem = e;
        if (e->kind == DG_ABI_TUPLE && e->n == 0) return perr(p, "array of empty tuples");
        if (p->s[p->pos] == ']') {
            t->kind = DG_ABI_ARRAY;
        } else {
            long k = parse_num(p);
            if (k < 1 || k > MAX_FIXED_LEN) return perr(p, "fixed array length must be 1..65536");
            t->kind = DG_ABI_FIXED_ARRAY;
            t->n = (unsigned)k;
        }
        if (p->s[p->pos] != ']') return perr(p, "expected ']'");
        p->pos++;
        type_finish(t);
    }
    return 1;
}

/* Parse a whole string as one type into pt->root; a non-tuple becomes a
 * 1-tuple. On failure nothing is left to free. */
static int parse_types(const char *s, parsed *pt, dg_err *err) {
    parser p;
    abi_type one = {0}, *t = &pt->root;
    memset(t, 0, sizeof *t);
    pt->heap = NULL;
    if (!s) return dg_err_set(err, DG_ERR_INPUT, "abi: missing type string");
    if (!parser_init(&p, s, 0, pt, err)) return 0;
    if (!parse_type(&p, &one, 0, 1)) {
        type_free(pt);
        return 0;
    }
    if (p.s[p.pos] != 0) {
        type_free(pt);
        return perr(&p, "unexpected character");
    }
    if (one.kind == DG_ABI_TUPLE) {
        *t = one;
        return 1;
    }
    t->kind = DG_ABI_TUPLE;
    t->n = 1;
    t->items = new_node(&p);
    if (!t->items) {
        type_free(pt);
        return perr(&p, "out of type nodes");
    }
    *t->items = one;
    type_finish(t);
    return 1;
}

/* A parsed type for many uses: the parse is done in place, since the nodes of
 * a short string live inside `p` and point at one another. */
struct dg_abi_type {
    parsed p;
};

dg_abi_type *dg_abi_type_parse(const char *types, dg_err *err) {
    dg_abi_type *t = malloc(sizeof *t);
    if (!t) return dg_err_set(err, DG_ERR_NOMEM, "abi: out of memory parsing types"), NULL;
    if (!parse_types(types, &t->p, err)) {
        free(t);
        return NULL;
    }
    return t;
}

void dg_abi_type_free(dg_abi_type *t) {
    if (!t) return;
    type_free(&t->p);
    free(t);
}

static void print_type(dg_buf *b, const abi_type *t) {
    switch (t->kind) {
    case DG_ABI_UINT:
        dg_buf_printf(b, "uint%u", t->n);
        break;
    case DG_ABI_INT:
        dg_buf_printf(b, "int%u", t->n);
        break;
    case DG_ABI_ADDRESS:
        dg_buf_puts(b, "address");
        break;
    case DG_ABI_BOOL:
        dg_buf_puts(b, "bool");
        break;
    case DG_ABI_FIXED_BYTES:
        dg_buf_printf(b, "bytes%u", t->n);
        break;
    case DG_ABI_BYTES:
        dg_buf_puts(b, "bytes");
        break;
    case DG_ABI_STRING:
        dg_buf_puts(b, "string");
        break;
    case DG_ABI_ARRAY:
        print_type(b, t->elem);
        dg_buf_puts(b, "[]");
        break;
    case DG_ABI_FIXED_ARRAY:
        print_type(b, t->elem);
        dg_buf_printf(b, "[%u]", t->n);
        break;
    case DG_ABI_TUPLE:
        dg_buf_push(b, '(');
        for (const abi_type *it = t->items; it; it = it->next) {
            if (it != t->items) dg_buf_push(b, ',');
            print_type(b, it);
        }
        dg_buf_push(b, ')');
        break;
    }
}

/* Type name for messages, in a caller-provided buffer. */
static const char *type_name(const abi_type *t, char *out, size_t cap) {
    dg_buf b;
    dg_buf_init(&b);
    print_type(&b, t);
    snprintf(out, cap, "%s", b.data && !b.oom ? (char *)b.data : "?");
    dg_buf_free(&b);
    return out;
}

/* ------------------------------------------------------------ signatures */

/* Parse "name(types)" into the name length and the parameter tuple type. */
static int parse_signature(const char *sig, size_t *namelen, parsed *pt, dg_err *err) {
    memset(&pt->root, 0, sizeof pt->root);
    pt->heap = NULL;
    if (!sig) return dg_err_set(err, DG_ERR_INPUT, "abi: missing signature");
    size_t n = 0;
    while ((sig[n] >= 'a' && sig[n] <= 'z') || (sig[n] >= 'A' && sig[n] <= 'Z') || sig[n] == '_' ||
           sig[n] == '$' || (n > 0 && sig[n] >= '0' && sig[n] <= '9'))
        n++;
    if (n == 0 || sig[n] != '(')
        return dg_err_set(err, DG_ERR_INPUT, "abi: bad signature \"%.120s\": expected name(types)",
                          sig);
    parser p;
    pt->heap = NULL;
    if (!parser_init(&p, sig, n, pt, err)) return 0;
    if (!parse_type(&p, &pt->root, 0, 1)) {
        type_free(pt);
        return 0;
    }
    if (pt->root.kind != DG_ABI_TUPLE || sig[p.pos] != 0) {
        type_free(pt);
        return perr(&p, "unexpected text after the parameter list");
    }
    *namelen = n;
    return 1;
}

int dg_abi_canonical_signature(const char *signature, dg_buf *out, dg_err *err) {
    size_t namelen = 0;
    parsed t;
    if (!parse_signature(signature, &namelen, &t, err)) return 0;
    dg_buf_append(out, signature, namelen);
    print_type(out, &t.root);
    type_free(&t);
    if (out->oom) return dg_err_set(err, DG_ERR_NOMEM, "abi: out of memory");
    return 1;
}

int dg_abi_signature_hash(const char *signature, uint8_t out[32], dg_err *err) {
    dg_buf b;
    dg_buf_init(&b);
    if (!dg_abi_canonical_signature(signature, &b, err)) {
        dg_buf_free(&b);
        return 0;
    }
    dg_keccak256(b.data, b.len, out);
    dg_buf_free(&b);
    return 1;
}

int dg_abi_selector(const char *signature, uint8_t out[4]) {
    uint8_t h[32];
    if (!dg_abi_signature_hash(signature, h, NULL)) return 0;
    memcpy(out, h, 4);
    return 1;
}

/* ------------------------------------------------------------ value checks */

/* Whole-word loads and compares instead of byte loops: the decoder and the
 * checker look at every word of the data. */
static void put_u64(uint8_t *w, uint64_t x) {
    x = htobe64(x);
    memcpy(w, &x, 8);
}

static uint64_t get_u64(const uint8_t *w) {
    uint64_t x;
    memcpy(&x, w, 8);
    return be64toh(x);
}

#define FF8 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff
static const uint8_t k_zeros[32], k_ones[32] = {FF8, FF8, FF8, FF8};

/* Word range checks shared by the argument checker and the decoder; return a
 * static description of the problem, or NULL if the word is valid. */
static const char *word_problem(dg_abi_kind kind, unsigned n, const uint8_t w[32]) {
    switch (kind) {
    case DG_ABI_UINT:
        return memcmp(w, k_zeros, 32 - n / 8) != 0 ? "value does not fit in its bits" : NULL;
    case DG_ABI_INT:
        /* the bytes above the value repeat its sign */
        return memcmp(w, (w[32 - n / 8] & 0x80) != 0 ? k_ones : k_zeros, 32 - n / 8) != 0
                   ? "value does not fit in its bits"
                   : NULL;
    case DG_ABI_ADDRESS:
        return memcmp(w, k_zeros, 12) != 0 ? "address has non-zero upper 12 bytes" : NULL;
    case DG_ABI_BOOL:
        return memcmp(w, k_zeros, 31) != 0 || w[31] > 1 ? "bool is neither 0 nor 1" : NULL;
    case DG_ABI_FIXED_BYTES:
        return memcmp(w + n, k_zeros, 32 - n) != 0 ? "bytesN has non-zero padding" : NULL;
    default:
        return NULL;
    }
}

static const char *kind_name(dg_abi_kind k) {
    static const char *const names[] = {"uint",  "int",    "address",       "bool",        "bytesN",
                                        "bytes", "string", "dynamic array", "fixed array", "tuple"};
    return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "invalid value";
}

/* A path like "argument 2[3].1": steps kept while descending, written out
 * only for a message (the decoder passes every value, an error needs the
 * text once). Steps beyond PATH_STEPS are counted but not kept. */
enum path_how { PATH_ARG, PATH_VALUE, PATH_ITEM, PATH_ELEM };
#define PATH_STEPS 80
typedef struct {
    struct {
        enum path_how how;
        size_t i;
    } step[PATH_STEPS];
    size_t n;
    char s[160];
} path;

static size_t path_push(path *p, enum path_how how, size_t i) {
    if (p->n < PATH_STEPS) {
        p->step[p->n].how = how;
        p->step[p->n].i = i;
    }
    return p->n++;
}

static void path_pop(path *p, size_t old) {
    p->n = old;
}

static const char *path_text(path *p) {
    static const char *const pre[] = {"argument ", "value ", ".", "["}, *const post[] = {"", "", "",
                                                                                         "]"};
    size_t o = 0;
    p->s[0] = 0;
    for (size_t k = 0; k < p->n && k < PATH_STEPS && o < sizeof p->s - 1; k++) {
        int w = snprintf(p->s + o, sizeof p->s - o, "%s%zu%s", pre[p->step[k].how], p->step[k].i,
                         post[p->step[k].how]);
        if (w < 0) break;
        o += (size_t)w;
    }
    return p->s;
}

static int check_value(const abi_type *t, const dg_abi_value *v, path *pa, dg_err *err) {
    char tn[96];
    if (v->kind != t->kind)
        return dg_err_set(err, DG_ERR_INPUT, "abi: %s: expected %s, got %s", path_text(pa),
                          type_name(t, tn, sizeof tn), kind_name(v->kind));
    if (t->kind == DG_ABI_FIXED_BYTES && v->bits_or_size != t->n)
        return dg_err_set(err, DG_ERR_INPUT, "abi: %s: expected %s, got bytes%u", path_text(pa),
                          type_name(t, tn, sizeof tn), v->bits_or_size);
    const char *prob = word_problem(t->kind, t->n, v->word);
    if (prob)
        return dg_err_set(err, DG_ERR_INPUT, "abi: %s (%s): %s", path_text(pa),
                          type_name(t, tn, sizeof tn), prob);
    if ((t->kind == DG_ABI_BYTES || t->kind == DG_ABI_STRING) && v->len && !v->data)
        return dg_err_set(err, DG_ERR_INPUT, "abi: %s: %zu bytes but no data", path_text(pa),
                          v->len);
    if ((t->kind == DG_ABI_FIXED_ARRAY || t->kind == DG_ABI_TUPLE) && v->nitems != t->n)
        return dg_err_set(err, DG_ERR_INPUT, "abi: %s: expected %s with %u items, got %zu",
                          path_text(pa), type_name(t, tn, sizeof tn), t->n, v->nitems);
    const abi_type *it = t->kind == DG_ABI_TUPLE ? t->items : t->elem;
    for (size_t i = 0; i < v->nitems; i++) {
        if (!v->items)
            return dg_err_set(err, DG_ERR_INPUT, "abi: %s: items missing", path_text(pa));
        if (!it) break;
        size_t old = path_push(pa, t->kind == DG_ABI_TUPLE ? PATH_ITEM : PATH_ELEM, i);
        int ok = check_value(it, &v->items[i], pa, err);
        path_pop(pa, old);
        if (!ok) return 0;
        if (t->kind == DG_ABI_TUPLE) it = it->next;
    }
    return 1;
}

/* ------------------------------------------------------------ encoder */

/* Whether v is dynamic (it lives in the tail and puts an offset in its head
 * slot), with the bytes it takes in the enclosing head in *head: 32 for a
 * dynamic value, its items' sum for a static tuple or T[k]. One walk, which
 * ends at the first dynamic item, so the encoder asks once per item. */
static int val_shape(const dg_abi_value *v, int depth, size_t *head) {
    *head = 32;
    if (depth > 64) return 0;
    switch (v->kind) {
    case DG_ABI_BYTES:
    case DG_ABI_STRING:
    case DG_ABI_ARRAY:
        return 1;
    case DG_ABI_FIXED_ARRAY:
    case DG_ABI_TUPLE: {
        size_t sum = 0, h;
        for (size_t i = 0; i < v->nitems; i++) {
            /* T[k] is as dynamic as its first item (the encoder checks the rest) */
            if (val_shape(&v->items[i], depth + 1, &h) && (v->kind == DG_ABI_TUPLE || i == 0))
                return 1;
            sum = sat_add(sum, h);
        }
        *head = sum;
        return 0;
    }
    default:
        return 0;
    }
}

static void put_word_size(dg_buf *b, size_t x) {
    uint8_t w[32] = {0};
    put_u64(w + 24, x);
    dg_buf_append(b, w, 32);
}

static int enc_items(dg_buf *out, const dg_abi_value *items, size_t n, int same_kind, int depth,
                     dg_err *err);

static int enc_value(dg_buf *out, const dg_abi_value *v, int depth, dg_err *err) {
    if (depth > 64) return dg_err_set(err, DG_ERR_INPUT, "abi: value nested too deeply");
    switch (v->kind) {
    case DG_ABI_UINT:
    case DG_ABI_INT:
    case DG_ABI_ADDRESS:
    case DG_ABI_BOOL:
    case DG_ABI_FIXED_BYTES:
        dg_buf_append(out, v->word, 32);
        return 1;
    case DG_ABI_BYTES:
    case DG_ABI_STRING:
        if (v->len && !v->data)
            return dg_err_set(err, DG_ERR_INPUT, "abi: bytes value without data");
        put_word_size(out, v->len);
        dg_buf_append(out, v->data, v->len);
        dg_buf_zeros(out, (32 - v->len % 32) % 32);
        return 1;
    case DG_ABI_ARRAY:
        put_word_size(out, v->nitems);
        return enc_items(out, v->items, v->nitems, 1, depth + 1, err);
    case DG_ABI_FIXED_ARRAY:
        return enc_items(out, v->items, v->nitems, 1, depth + 1, err);
    case DG_ABI_TUPLE:
        return enc_items(out, v->items, v->nitems, 0, depth + 1, err);
    }
    return dg_err_set(err, DG_ERR_INPUT, "abi: invalid value kind %d", (int)v->kind);
}

static int enc_items(dg_buf *out, const dg_abi_value *items, size_t n, int same_kind, int depth,
                     dg_err *err) {
    if (n && !items) return dg_err_set(err, DG_ERR_INPUT, "abi: items missing");
    /* Written in place, no buffer per container: the head first (a static
     * item itself, a placeholder word for a dynamic one), then each dynamic
     * item's tail, patching its placeholder with the tail's offset from the
     * start of this head. Each item's shape is asked once: a placeholder
     * keeps its item's index (bytes 0-7) and the next placeholder's place
     * (bytes 8-15, 0 for none) until it is patched. */
    size_t base = out->len, head_size = 0, h0 = 0, first = SIZE_MAX, prev = SIZE_MAX;
    int dyn0 = n ? val_shape(&items[0], depth, &h0) : 0, ok = 1;
    for (size_t i = 0; ok && i < n; i++) {
        size_t h = h0;
        int dyn = i ? val_shape(&items[i], depth, &h) : dyn0;
        if (same_kind && (items[i].kind != items[0].kind || dyn != dyn0))
            return dg_err_set(err, DG_ERR_INPUT, "abi: array items differ in kind (item %zu)", i);
        head_size = sat_add(head_size, h);
        if (!dyn) {
            ok = enc_value(out, &items[i], depth, err);
            continue;
        }
        size_t at = out->len;
        dg_buf_zeros(out, 32);
        if (out->oom) break;
        put_u64(out->data + at, i);
        if (prev != SIZE_MAX)
            put_u64(out->data + prev + 8, at); /* never 0: it follows prev */
        else
            first = at;
        prev = at;
    }
    if (ok && head_size == SIZE_MAX) return dg_err_set(err, DG_ERR_INPUT, "abi: value too large");
    for (size_t at = first; ok && !out->oom && at != SIZE_MAX;) {
        size_t i = (size_t)get_u64(out->data + at), next = (size_t)get_u64(out->data + at + 8);
        memset(out->data + at, 0, 24);
        put_u64(out->data + at + 24, out->len - base);
        ok = enc_value(out, &items[i], depth, err);
        at = next ? next : SIZE_MAX;
    }
    if (ok && out->oom) ok = dg_err_set(err, DG_ERR_NOMEM, "abi: out of memory");
    return ok;
}

int dg_abi_encode(dg_buf *out, const dg_abi_value *tuple, dg_err *err) {
    if (!tuple || tuple->kind != DG_ABI_TUPLE)
        return dg_err_set(err, DG_ERR_INPUT, "abi: arguments must be a tuple");
    size_t mark = out->len;
    dg_buf_append(out, NULL, 0); /* out->data is set (NUL-terminated) even for "()" */
    if (!enc_items(out, tuple->items, tuple->nitems, 0, 0, err)) {
        if (!out->oom && mark <= out->len) out->len = mark;
        return 0;
    }
    return 1;
}

static int check_args(const abi_type *t, const dg_abi_value *args, dg_err *err) {
    if (!args || args->kind != DG_ABI_TUPLE)
        return dg_err_set(err, DG_ERR_INPUT, "abi: arguments must be a tuple");
    if (args->nitems != t->n)
        return dg_err_set(err, DG_ERR_INPUT, "abi: expected %u arguments, got %zu", t->n,
                          args->nitems);
    const abi_type *it = t->items;
    for (unsigned i = 0; i < t->n; i++, it = it->next) {
        path pa;
        pa.n = 0;
        path_push(&pa, PATH_ARG, i + 1);
        if (!check_value(it, &args->items[i], &pa, err)) return 0;
    }
    return 1;
}

int dg_abi_encode_types(dg_buf *out, const char *types, const dg_abi_value *args, dg_err *err) {
    parsed t;
    if (!parse_types(types, &t, err)) return 0;
    int ok = check_args(&t.root, args, err) && dg_abi_encode(out, args, err);
    type_free(&t);
    return ok;
}

int dg_abi_encode_parsed(dg_buf *out, const dg_abi_type *types, const dg_abi_value *args,
                         dg_err *err) {
    if (!types) return dg_err_set(err, DG_ERR_INPUT, "abi: missing parsed type");
    return check_args(&types->p.root, args, err) && dg_abi_encode(out, args, err);
}

int dg_abi_encode_call(dg_buf *out, const char *signature, const dg_abi_value *args, dg_err *err) {
    size_t namelen = 0;
    parsed t;
    if (!parse_signature(signature, &namelen, &t, err)) return 0;
    int ok = check_args(&t.root, args, err);
    if (ok) {
        dg_buf canon;
        dg_buf_init(&canon);
        dg_buf_append(&canon, signature, namelen);
        print_type(&canon, &t.root);
        uint8_t h[32];
        if (canon.oom) {
            ok = dg_err_set(err, DG_ERR_NOMEM, "abi: out of memory");
        } else {
            dg_keccak256(canon.data, canon.len, h);
            size_t mark = out->len;
            dg_buf_append(out, h, 4);
            ok = dg_abi_encode(out, args, err);
            if (!ok && !out->oom) out->len = mark;
        }
        dg_buf_free(&canon);
    }
    type_free(&t);
    return ok;
}

/* ------------------------------------------------------------ decoder */

typedef struct {
    const uint8_t *data;
    size_t len;
    size_t nodes_left;          /* values still allowed (aliasing guard) */
    size_t bytes_left;          /* bytes/string payload still allowed */
    struct dg_abi_arena *arena; /* current chunk; older ones follow ->next */
    path pa;
    dg_err *err;
} dec;

__attribute__((format(printf, 4, 5))) static int derr(dec *d, const abi_type *t, size_t at,
                                                      const char *fmt, ...) {
    char tn[96], what[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return dg_err_set(d->err, DG_ERR_RPC_RESPONSE, "abi: %s (%s) at byte 0x%zx: %s",
                      d->pa.n ? path_text(&d->pa) : "data", type_name(t, tn, sizeof tn), at, what);
}

/* Read a 32-byte word at pos as a size; fails if out of data or > SIZE_MAX/… */
static int read_size(dec *d, const abi_type *t, size_t pos, const char *what, size_t *out) {
    *out = 0;
    if (pos > d->len || d->len - pos < 32)
        return derr(d, t, pos, "%s word runs past the end of the data (%zu bytes)", what, d->len);
    const uint8_t *w = d->data + pos;
    if (memcmp(w, k_zeros, 24) != 0)
        return derr(d, t, pos, "%s 0x%02x%02x... is impossibly large", what, w[0], w[1]);
    uint64_t v = get_u64(w + 24);
    if (v > SIZE_MAX) return derr(d, t, pos, "%s %llu is too large", what, (unsigned long long)v);
    *out = (size_t)v;
    return 1;
}

/* Sized so that most trees fit the first chunk: the budgets allow about one
 * value per data word and one payload byte per data byte (nested static
 * tuples can exceed the first; the chain then doubles). A large first
 * estimate is capped: what is reserved but unused is never touched. */
#define ARENA_FIRST_MAX ((size_t)256 * 1024)

static void *arena_take(struct dg_abi_arena *a, size_t size, size_t align) {
    size_t at = (sat_add(a->used, ARENA_GAP) + align - 1) & ~(align - 1);
    if (at > a->cap || size > a->cap - at) return NULL;
    a->used = at + size;
    ARENA_UNPOISON(a->mem + at, size);
    return a->mem + at;
}

static void *arena_alloc(dec *d, size_t size, size_t align) {
    if (ARENA_GAP && align < 8) align = 8; /* pieces start on a shadow granule */
    void *p = d->arena ? arena_take(d->arena, size, align) : NULL;
    if (p) return p;
    size_t cap;
    if (d->arena) {
        cap = sat_mul(d->arena->cap, 2);
    } else {
        cap = sat_add(sat_mul(d->len / 32 + 2, sizeof(dg_abi_value) + ARENA_GAP),
                      d->len + (d->len / 32 + 2) * (ARENA_GAP + 8));
        if (cap > ARENA_FIRST_MAX) cap = ARENA_FIRST_MAX;
    }
    size_t need = sat_add(size, ARENA_GAP + align);
    if (cap < need) cap = need;
    if (cap > SIZE_MAX - sizeof *d->arena) return NULL;
    struct dg_abi_arena *n = malloc(sizeof *n + cap);
    if (!n) return NULL;
    n->next = d->arena;
    n->cap = cap;
    n->used = 0;
    ARENA_POISON(n->mem, cap);
    d->arena = n;
    return arena_take(n, size, align);
}

/* n zeroed-on-decode items (dec_value writes each), or NULL for none. */
static int alloc_items(dec *d, dg_abi_value *out, size_t n) {
    out->nitems = n;
    if (n == 0) return 1;
    if (n > SIZE_MAX / sizeof *out->items ||
        !(out->items = arena_alloc(d, n * sizeof *out->items, _Alignof(dg_abi_value)))) {
        out->nitems = 0;
        return dg_err_set(d->err, DG_ERR_NOMEM, "abi: out of memory");
    }
    return 1;
}

static int dec_value(dec *d, const abi_type *t, size_t pos, dg_abi_value *out);

/* Decode n items (the list from `types`, or all `elem`) as a tuple whose
 * head starts at `start`; out[] is pre-zeroed. */
static int dec_items(dec *d, const abi_type *types, const abi_type *elem, size_t n, size_t start,
                     dg_abi_value *out) {
    size_t p = start;
    const abi_type *next = types;
    for (size_t i = 0; i < n; i++) {
        const abi_type *t = types ? next : elem;
        if (!t) return dg_err_set(d->err, DG_ERR_INPUT, "abi: a tuple type with too few items");
        if (types) next = next->next;
        size_t old = !types    ? path_push(&d->pa, PATH_ELEM, i)
                     : d->pa.n ? path_push(&d->pa, PATH_ITEM, i)
                               : path_push(&d->pa, PATH_VALUE, i + 1);
        int ok;
        if (type_dynamic(t)) {
            size_t off = 0;
            ok = read_size(d, t, p, "offset", &off);
            if (ok && off > d->len - start) {
                ok = derr(d, t, p, "offset 0x%zx is past the end of the data (%zu bytes)", off,
                          d->len);
            }
            if (ok) ok = dec_value(d, t, start + off, &out[i]);
        } else {
            ok = dec_value(d, t, p, &out[i]);
        }
        path_pop(&d->pa, old);
        if (!ok) return 0;
        p = sat_add(p, type_head_size(t));
    }
    return 1;
}

static int take_node(dec *d, const abi_type *t, size_t pos, size_t k) {
    if (k > d->nodes_left)
        return derr(d, t, pos, "%zu values do not fit in %zu bytes of data (offsets alias)", k,
                    d->len);
    d->nodes_left -= k;
    return 1;
}

static int dec_value(dec *d, const abi_type *t, size_t pos, dg_abi_value *out) {
    memset(out, 0, sizeof *out);
    out->kind = t->kind;
    out->bits_or_size = t->n;
    /* Budget: every value that owns a word of the data (a static value, the
     * length word of bytes/string/T[]) takes one unit; tuples and T[k] own no
     * word and take none, but each of their items takes at least one, so a
     * container is only allocated when the budget can still cover it. */
    if (t->kind != DG_ABI_TUPLE && t->kind != DG_ABI_FIXED_ARRAY && !take_node(d, t, pos, 1))
        return 0;
    switch (t->kind) {
    case DG_ABI_UINT:
    case DG_ABI_INT:
    case DG_ABI_ADDRESS:
    case DG_ABI_BOOL:
    case DG_ABI_FIXED_BYTES: {
        if (pos > d->len || d->len - pos < 32)
            return derr(d, t, pos, "value runs past the end of the data (%zu bytes)", d->len);
        memcpy(out->word, d->data + pos, 32);
        const char *prob = word_problem(t->kind, t->n, out->word);
        if (prob) return derr(d, t, pos, "%s", prob);
        return 1;
    }
    case DG_ABI_BYTES:
    case DG_ABI_STRING: {
        size_t n;
        if (!read_size(d, t, pos, "length", &n)) return 0;
        size_t avail = d->len - pos - 32;
        if (n > avail)
            return derr(d, t, pos, "length %zu runs past the end of the data (%zu bytes left)", n,
                        avail);
        /* the tail is zero-padded to a whole word, as every encoder writes it */
        size_t pad = (32 - n % 32) % 32;
        if (pad > avail - n)
            return derr(d, t, pos, "length %zu needs %zu bytes with its padding, only %zu left", n,
                        n + pad, avail);
        for (size_t i = 0; i < pad; i++)
            if (d->data[pos + 32 + n + i])
                return derr(d, t, pos, "non-zero padding after %zu bytes", n);
        if (n > d->bytes_left)
            return derr(d, t, pos, "length %zu exceeds the data size %zu (offsets alias)", n,
                        d->len);
        d->bytes_left -= n;
        out->data = arena_alloc(d, n + 1, 1);
        if (!out->data) return dg_err_set(d->err, DG_ERR_NOMEM, "abi: out of memory");
        if (n) memcpy(out->data, d->data + pos + 32, n);
        out->data[n] = 0;
        out->len = n;
        return 1;
    }
    case DG_ABI_ARRAY: {
        size_t n;
        if (!read_size(d, t, pos, "length", &n)) return 0;
        size_t avail = d->len - pos - 32;
        size_t hs = type_head_size(t->elem);
        if (n > avail / hs)
            return derr(d, t, pos, "%zu items run past the end of the data (%zu bytes left)", n,
                        avail);
        if (!take_node(d, t, pos, n)) return 0;
        d->nodes_left += n; /* only checked here; the items take their own */
        if (!alloc_items(d, out, n)) return 0;
        return dec_items(d, NULL, t->elem, n, pos + 32, out->items);
    }
    case DG_ABI_FIXED_ARRAY:
    case DG_ABI_TUPLE: {
        size_t n = t->n;
        /* the container's own head: its items' slots (not the single
         * offset slot a dynamic container takes in its parent) */
        size_t hs = t->body;
        if (pos > d->len || hs > d->len - pos)
            return derr(d, t, pos, "needs %zu bytes but only %zu remain", hs,
                        pos > d->len ? (size_t)0 : d->len - pos);
        if (!take_node(d, t, pos, n)) return 0;
        d->nodes_left += n;
        if (!alloc_items(d, out, n)) return 0;
        if (t->kind == DG_ABI_TUPLE) return dec_items(d, t->items, NULL, n, pos, out->items);
        return dec_items(d, NULL, t->elem, n, pos, out->items);
    }
    }
    return derr(d, t, pos, "unknown type");
}

static int decode_root(const abi_type *root, const uint8_t *data, size_t len, dg_abi_value *out,
                       dg_err *err) {
    dec d; /* not zeroed as a whole: the path's steps are written before read */
    d.pa.n = 0;
    d.data = data ? data : (const uint8_t *)"";
    d.len = data ? len : 0;
    d.nodes_left = d.len / 32 + 1;
    d.bytes_left = d.len;
    d.arena = NULL;
    d.err = err;
    /* items not reached on failure hold garbage: drop the arena unwalked */
    if (!dec_value(&d, root, 0, out)) {
        arena_free(d.arena);
        memset(out, 0, sizeof *out);
        return 0;
    }
    out->arena = d.arena;
    return 1;
}

int dg_abi_decode(const char *types, const uint8_t *data, size_t len, dg_abi_value *out,
                  dg_err *err) {
    parsed t;
    memset(out, 0, sizeof *out);
    if (!parse_types(types, &t, err)) return 0;
    int ok = decode_root(&t.root, data, len, out, err);
    type_free(&t);
    return ok;
}

int dg_abi_decode_parsed(const dg_abi_type *types, const uint8_t *data, size_t len,
                         dg_abi_value *out, dg_err *err) {
    memset(out, 0, sizeof *out);
    if (!types) return dg_err_set(err, DG_ERR_INPUT, "abi: missing parsed type");
    return decode_root(&types->p.root, data, len, out, err);
}
