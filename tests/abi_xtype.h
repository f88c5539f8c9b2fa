/* abi_xtype.h — random ABI types for the codec cross-check
 * (tests/xcheck/codec_xcheck.c) and the ABI fuzzer (fuzz/fuzz_abi.c).
 *
 * Both build a random type tree and its Solidity type string; they differ
 * only in where the randomness comes from (a seeded RNG, the fuzzer's bytes)
 * and how often each kind is picked. So the caller passes a `below(ctx, n)`
 * draw (a number in [0, n)) and an xtype_mix: the kind for each pick, how
 * many picks are open while the tree may still grow, and how many (the
 * scalars first in the table) once it is deep enough. The string is written
 * while the tree grows (no second walk to print it), and the nodes come from
 * a fixed pool the caller empties (no allocation per node: the fuzzer makes
 * a few hundred trees per second per core). Header-only, so neither build
 * needs another source file.
 */
#ifndef DG_TESTS_ABI_XTYPE_H
#define DG_TESTS_ABI_XTYPE_H

#include <stdlib.h>
#include <string.h>

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

/* A tree below depth `deep` has at most 1 + 3 + ... + 3^deep nodes (tuples
 * have up to 3 items): 121 for deep = 4, so 4 such trees fit. */
#define XTYPE_POOL 512
typedef struct {
    xtype node[XTYPE_POOL];
    unsigned used; /* set to 0 to reuse the pool */
} xtype_pool;

/* A random type from pool's free nodes, its type string appended to text
 * ("uint8", "(bytes,string[2])[]"). */
static xtype *xtype_gen(xtype_pool *pool, const xtype_mix *m, xtype_below below, void *ctx,
                        int depth, dg_buf *text) {
    static const char *const names[] = {
        [DG_ABI_UINT] = "uint",     [DG_ABI_INT] = "int",           [DG_ABI_ADDRESS] = "address",
        [DG_ABI_BOOL] = "bool",     [DG_ABI_FIXED_BYTES] = "bytes", [DG_ABI_BYTES] = "bytes",
        [DG_ABI_STRING] = "string",
    };
    if (pool->used == XTYPE_POOL) abort(); /* a mix deeper than XTYPE_POOL allows */
    xtype *t = &pool->node[pool->used++];
    memset(t, 0, sizeof *t);
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
        t->elem = xtype_gen(pool, m, below, ctx, depth + 1, text);
        dg_buf_puts(text, "[]");
        return t;
    case DG_ABI_FIXED_ARRAY:
        t->n = 1 + below(ctx, 3);
        t->elem = xtype_gen(pool, m, below, ctx, depth + 1, text);
        dg_buf_printf(text, "[%u]", t->n);
        return t;
    case DG_ABI_TUPLE:
        t->n = 1 + below(ctx, 3);
        dg_buf_push(text, '(');
        for (unsigned i = 0; i < t->n; i++) {
            if (i) dg_buf_push(text, ',');
            t->items[i] = xtype_gen(pool, m, below, ctx, depth + 1, text);
        }
        dg_buf_push(text, ')');
        return t;
    default:
        break;
    }
    dg_buf_puts(text, names[t->kind]);
    if (t->n) dg_buf_printf(text, "%u", t->n);
    return t;
}

#endif
