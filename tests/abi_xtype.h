/* abi_xtype.h — random ABI types for the codec cross-check
 * (tests/xcheck/codec_xcheck.c) and the ABI fuzzer (fuzz/fuzz_abi.c).
 *
 * Both build a random type tree, print it as a Solidity type string and free
 * it; they differ only in where the randomness comes from (a seeded RNG, the
 * fuzzer's bytes) and how often each kind is picked. So the caller passes a
 * `below(ctx, n)` draw (a number in [0, n)) and an xtype_mix: the kind for
 * each pick, how many picks are open while the tree may still grow, and how
 * many (the scalars first in the table) once it is deep enough. Header-only,
 * so neither build needs another source file.
 */
#ifndef DG_TESTS_ABI_XTYPE_H
#define DG_TESTS_ABI_XTYPE_H

#include <stdlib.h>

#include "dstackgov/abi.h"

typedef struct xtype {
    dg_abi_kind kind;
    unsigned n;             /* bits, bytesN size, T[k] length, tuple arity */
    struct xtype *elem;     /* arrays */
    struct xtype *items[3]; /* tuples */
} xtype;

typedef struct {
    const dg_abi_kind *kinds; /* kinds[pick]; picks below `narrow` must be scalars */
    unsigned wide, narrow;    /* picks while depth < deep, and after */
    int deep;
} xtype_mix;

typedef unsigned (*xtype_below)(void *ctx, unsigned n);

static xtype *xtype_gen(const xtype_mix *m, xtype_below below, void *ctx, int depth) {
    xtype *t = calloc(1, sizeof *t);
    if (!t) abort();
    t->kind = m->kinds[below(ctx, depth < m->deep ? m->wide : m->narrow)];
    switch (t->kind) {
    case DG_ABI_UINT:
    case DG_ABI_INT:
        t->n = 8 * (1 + below(ctx, 32));
        break;
    case DG_ABI_FIXED_BYTES:
        t->n = 1 + below(ctx, 32);
        break;
    case DG_ABI_ARRAY:
        t->elem = xtype_gen(m, below, ctx, depth + 1);
        break;
    case DG_ABI_FIXED_ARRAY:
        t->n = 1 + below(ctx, 3);
        t->elem = xtype_gen(m, below, ctx, depth + 1);
        break;
    case DG_ABI_TUPLE:
        t->n = 1 + below(ctx, 3);
        for (unsigned i = 0; i < t->n; i++)
            t->items[i] = xtype_gen(m, below, ctx, depth + 1);
        break;
    default:
        break;
    }
    return t;
}

static void xtype_free(xtype *t) {
    if (!t) return;
    xtype_free(t->elem);
    for (int i = 0; i < 3; i++)
        xtype_free(t->items[i]);
    free(t);
}

/* Append the Solidity type string of t ("uint8", "(bytes,string[2])[]"). */
static void xtype_text(const xtype *t, dg_buf *b) {
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
        xtype_text(t->elem, b);
        dg_buf_puts(b, "[]");
        break;
    case DG_ABI_FIXED_ARRAY:
        xtype_text(t->elem, b);
        dg_buf_printf(b, "[%u]", t->n);
        break;
    case DG_ABI_TUPLE:
        dg_buf_push(b, '(');
        for (unsigned i = 0; i < t->n; i++) {
            if (i) dg_buf_push(b, ',');
            xtype_text(t->items[i], b);
        }
        dg_buf_push(b, ')');
        break;
    }
}

#endif
