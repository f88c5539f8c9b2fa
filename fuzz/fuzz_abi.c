/* fuzz_abi.c — libFuzzer target for the strict ABI decoder and the revert
 * decoder, in two modes chosen by the first byte.
 *  - bit 7 clear: the byte picks a type string (static, dynamic, nested) and
 *    the rest is decoded as data of that type. Properties: no crash, no
 *    out-of-bounds read, bounded memory; an accepted value re-encodes to a
 *    canonical form that decodes again and re-encodes identically.
 *  - bit 7 set: the rest drives a generator of a random type and a value of
 *    that type; encode (checked against the type), decode, and the decoded
 *    tree must equal the original.
 * Types are parsed once per input (the generated one) or once per process
 * (the fixed ones) with dg_abi_type_parse; the string API (dg_abi_decode,
 * dg_abi_encode_types) is the same code behind one parse, and the unit test
 * abi_parsed_type_matches_the_string_api holds the two to the same results. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dstackgov/abi.h"
#include "dstackgov/revert.h"
#include "../tests/abi_xtype.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const k_types[] = {
    "(bool,string)",
    "(uint256)",
    "(address,bytes32,uint8,int16,bytes4)",
    "((address,bytes32,address,bytes32,bytes32,bytes32,bytes32,string,string[]))",
    "(bytes,bool,uint256[])",
    "(uint256,uint32[],bytes10,bytes)",
    "(uint256[][],string[])",
    "(bytes,bytes,bytes,bytes)",
    "((bytes,bytes,bytes,bytes))",
    "(string[2][],(uint8,bytes)[3])",
    "(uint256[][][])",
    "(bytes3[2],int8[])",
    "()",
    "address",
    "((uint256,(string,bytes)[])[],bool)",
};

/* ---- structure-aware mode */

typedef struct {
    const uint8_t *p;
    size_t n;
} src;

static unsigned take(src *s) {
    if (!s->n) return 0;
    s->n--;
    return *s->p++;
}

static unsigned below(void *ctx, unsigned n) {
    return take(ctx) % n;
}

/* picks 8..10 (arrays, tuples) only while depth < 4 */
static const dg_abi_kind k_kinds[] = {
    DG_ABI_UINT,        DG_ABI_INT,         DG_ABI_ADDRESS, DG_ABI_BOOL,
    DG_ABI_FIXED_BYTES, DG_ABI_BYTES,       DG_ABI_STRING,  DG_ABI_STRING,
    DG_ABI_ARRAY,       DG_ABI_FIXED_ARRAY, DG_ABI_TUPLE,
};
static const xtype_mix k_mix = {k_kinds, 11, 8, 4};

/* The generated value's containers and bytes come from fixed pools (no
 * allocation per node; the ASan allocator was the largest cost of this
 * target): a tree of k_mix has at most 121 nodes with at most 63 bytes each,
 * so 4 arguments fit. */
typedef struct {
    dg_abi_value node[4 * 121];
    size_t used;
    uint8_t bytes[4 * 121 * 64];
    size_t bytes_used;
} value_pool;

static dg_abi_value *take_nodes(value_pool *vp, size_t n) {
    if (n > sizeof vp->node / sizeof vp->node[0] - vp->used) abort(); /* cannot happen: see above */
    dg_abi_value *v = &vp->node[vp->used];
    vp->used += n;
    return n ? v : NULL;
}

static void gen_value(src *s, value_pool *vp, const xtype *t, dg_abi_value *v) {
    uint8_t w[32] = {0};
    switch (t->kind) {
    case DG_ABI_UINT: /* the word itself: a round trip through dg_u256 was 2% of the time */
        memset(v, 0, sizeof *v);
        v->kind = DG_ABI_UINT;
        v->bits_or_size = t->n;
        for (unsigned i = 32 - t->n / 8; i < 32; i++)
            v->word[i] = (uint8_t)take(s);
        return;
    case DG_ABI_INT: {
        int64_t x = (int64_t)(((uint64_t)take(s) << 56) | ((uint64_t)take(s) << 8) | take(s));
        if (t->n < 64) x >>= 64 - t->n;
        dg_abi_int64(v, x);
        return;
    }
    case DG_ABI_ADDRESS:
        for (int i = 0; i < 20; i++)
            w[i] = (uint8_t)take(s);
        dg_abi_address(v, w);
        return;
    case DG_ABI_BOOL:
        dg_abi_bool(v, take(s) & 1);
        return;
    case DG_ABI_FIXED_BYTES:
        for (unsigned i = 0; i < t->n; i++)
            w[i] = (uint8_t)take(s);
        dg_abi_fixed_bytes(v, w, t->n);
        return;
    case DG_ABI_BYTES:
    case DG_ABI_STRING: {
        size_t n = take(s) % 64;
        memset(v, 0, sizeof *v);
        v->kind = t->kind;
        v->data = vp->bytes + vp->bytes_used;
        for (size_t i = 0; i < n; i++)
            v->data[i] = (uint8_t)take(s);
        v->data[n] = 0;
        v->len = n;
        vp->bytes_used += n + 1;
        return;
    }
    default: {
        size_t n = t->kind == DG_ABI_ARRAY ? take(s) % 4 : t->n;
        memset(v, 0, sizeof *v);
        v->kind = t->kind;
        v->bits_or_size = t->kind == DG_ABI_ARRAY ? 0 : (unsigned)n;
        v->items = take_nodes(vp, n);
        v->nitems = n;
        for (size_t i = 0; i < n; i++)
            gen_value(s, vp, t->kind == DG_ABI_TUPLE ? t->items[i] : t->elem, &v->items[i]);
        return;
    }
    }
}

/* Deep equality of the encoded content (not bits_or_size, which the
 * constructors and the decoder fill differently for uint/int). */
static int same_value(const dg_abi_value *a, const dg_abi_value *b) {
    if (a->kind != b->kind || memcmp(a->word, b->word, 32) != 0) return 0;
    if (a->len != b->len || (a->len && memcmp(a->data, b->data, a->len) != 0)) return 0;
    if (a->nitems != b->nitems) return 0;
    for (size_t i = 0; i < a->nitems; i++)
        if (!same_value(&a->items[i], &b->items[i])) return 0;
    return 1;
}

/* Output buffers kept from one input to the next (a realloc per doubling
 * was a visible share of the time); each use starts at len 0. */
static dg_buf g_buf[3];

static void structured(const uint8_t *data, size_t size) {
    static xtype_pool pool;
    static value_pool vp;
    src s = {data, size};
    size_t nargs = 1 + take(&s) % 4;
    const xtype *types[4] = {0};
    dg_buf *ty = &g_buf[0], *enc = &g_buf[1], *re = &g_buf[2];
    for (int i = 0; i < 3; i++)
        g_buf[i].len = 0;
    dg_buf_push(ty, '(');
    pool.used = 0;
    for (size_t i = 0; i < nargs; i++) {
        if (i) dg_buf_push(ty, ',');
        types[i] = xtype_gen(&pool, &k_mix, below, &s, 0, ty);
    }
    dg_buf_push(ty, ')');
    vp.used = vp.bytes_used = 0;
    dg_abi_value args = {.kind = DG_ABI_TUPLE, .bits_or_size = (unsigned)nargs};
    args.items = take_nodes(&vp, nargs);
    args.nitems = nargs;
    for (size_t i = 0; i < nargs; i++)
        gen_value(&s, &vp, types[i], &args.items[i]);
    dg_err err;
    /* the generated string is parsed once (the parser is fuzzed here) and
     * serves the encoder's check and both decodes */
    dg_abi_type *type = dg_abi_type_parse((char *)ty->data, &err);
    if (!type) abort();
    if (!dg_abi_encode_parsed(enc, type, &args, &err)) abort();
    dg_abi_value back;
    if (!dg_abi_decode_parsed(type, enc->data, enc->len, &back, &err)) abort();
    if (!same_value(&args, &back)) abort();
    if (!dg_abi_encode(re, &back, &err)) abort();
    if (re->len != enc->len || memcmp(re->data, enc->data, enc->len) != 0) abort();
    /* every strict prefix of a non-empty encoding must be rejected or, if
     * accepted, decode to the same value (tails can end early only when the
     * last dynamic value is empty) */
    if (enc->len >= 32) {
        dg_abi_value cut;
        if (dg_abi_decode_parsed(type, enc->data, enc->len - 32, &cut, &err)) {
            if (!same_value(&cut, &back)) abort();
            dg_abi_value_free(&cut);
        }
    }
    dg_abi_value_free(&back);
    dg_abi_type_free(type);
}

/* The fixed types, parsed on first use: parsing a constant string again for
 * every input adds nothing to what is checked (the structured mode fuzzes the
 * parser on generated strings) and was a sixth of this target's time. */
static const dg_abi_type *fixed_type(size_t i) {
    static dg_abi_type *parsed[sizeof k_types / sizeof k_types[0]];
    if (!parsed[i]) {
        dg_err err;
        if (!(parsed[i] = dg_abi_type_parse(k_types[i], &err))) abort();
    }
    return parsed[i];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    if (data[0] & 0x80) {
        structured(data + 1, size - 1);
        return 0;
    }
    const dg_abi_type *types = fixed_type(data[0] % (sizeof k_types / sizeof k_types[0]));
    /* no copy: libFuzzer's buffer ends exactly at the input's end, so an
     * over-read is caught as it is */
    size_t len = size - 1;
    const uint8_t *in = data + 1;
    dg_abi_value v;
    dg_err err;
    if (dg_abi_decode_parsed(types, in, len, &v, &err)) {
        dg_buf *e1 = &g_buf[0], *e2 = &g_buf[1];
        e1->len = e2->len = 0;
        if (!dg_abi_encode(e1, &v, &err)) abort();
        if (!dg_abi_encode_parsed(e2, types, &v, &err)) abort();
        if (e1->len != e2->len || memcmp(e1->data, e2->data, e1->len) != 0) abort();
        dg_abi_value w;
        if (!dg_abi_decode_parsed(types, e1->data, e1->len, &w, &err)) abort();
        e2->len = 0;
        if (!dg_abi_encode(e2, &w, &err)) abort();
        if (e1->len != e2->len || memcmp(e1->data, e2->data, e1->len) != 0) abort();
        dg_abi_value_free(&w);
        dg_abi_value_free(&v);
    }
    char out[256];
    dg_err_code k;
    (void)dg_revert_decode(in, len, out, sizeof out, &k);
    if (!memchr(out, 0, sizeof out)) abort();
    return 0;
}
