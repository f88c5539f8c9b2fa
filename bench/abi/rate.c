/* rate.c — dg_abi_decode calls per second on return data shaped like what
 * dstack-gov decodes (a verdict with a reason, four byte strings, an address
 * list, a list of small records).
 *
 * Each shape is encoded once with the library's encoder, then decoded and
 * freed in a loop for about 1.5 s, twice: with dg_abi_decode (the type string
 * parsed at every call, as most callers do) and with dg_abi_decode_parsed (a
 * type parsed once). Prints one line per shape: both rates.
 * Usage: abi-rate
 */
#include <stdio.h>
#include <time.h>

#include "dstackgov/abi.h"

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Encode args as types, then time decoding it. Returns 1, or 0 on a failure. */
static int rate(const char *types, dg_abi_value *args) {
    dg_buf b;
    dg_buf_init(&b);
    dg_err e = {0};
    int ok = dg_abi_encode_types(&b, types, args, &e);
    dg_abi_value_free(args);
    if (!ok) {
        fprintf(stderr, "abi-rate: %s: %s\n", types, e.msg);
        dg_buf_free(&b);
        return 0;
    }
    dg_abi_type *parsed = dg_abi_type_parse(types, &e);
    double r[2];
    for (int k = 0; k < 2 && parsed; k++) {
        size_t n = 0;
        double t0 = now_s(), t;
        do {
            for (int i = 0; i < 10000; i++) {
                dg_abi_value v;
                if (!(k ? dg_abi_decode_parsed(parsed, b.data, b.len, &v, &e)
                        : dg_abi_decode(types, b.data, b.len, &v, &e))) {
                    dg_abi_type_free(parsed);
                    parsed = NULL;
                    break;
                }
                dg_abi_value_free(&v);
            }
            n += 10000;
        } while (parsed && (t = now_s() - t0) < 1.5);
        if (parsed) r[k] = (double)n / t;
    }
    if (!parsed) {
        fprintf(stderr, "abi-rate: %s: %s\n", types, e.msg);
        dg_buf_free(&b);
        return 0;
    }
    printf("%-26s %5zu bytes %10.0f decodes/s %10.0f with the type parsed once\n", types, b.len,
           r[0], r[1]);
    dg_abi_type_free(parsed);
    dg_buf_free(&b);
    return 1;
}

int main(void) {
    dg_abi_value a;
    int ok = 1;

    dg_abi_tuple(&a, 2);
    dg_abi_bool(&a.items[0], 1);
    dg_abi_string(&a.items[1], "compose hash not allowed");
    ok &= rate("(bool,string)", &a);

    dg_abi_tuple(&a, 4);
    for (int i = 0; i < 4; i++)
        dg_abi_bytes(&a.items[i], (const uint8_t *)"0123456789abcdef0123456789abcdef", 32);
    ok &= rate("(bytes,bytes,bytes,bytes)", &a);

    const uint8_t addr[20] = {1};
    dg_abi_tuple(&a, 1);
    dg_abi_array(&a.items[0], 16);
    for (int i = 0; i < 16; i++)
        dg_abi_address(&a.items[0].items[i], addr);
    ok &= rate("(address[])", &a);

    dg_abi_tuple(&a, 1);
    dg_abi_array(&a.items[0], 8);
    for (int i = 0; i < 8; i++) {
        dg_abi_value *r = &a.items[0].items[i];
        dg_abi_tuple(r, 3);
        dg_abi_uint64(&r->items[0], (uint64_t)i);
        dg_abi_string(&r->items[1], "name");
        dg_abi_bool(&r->items[2], 1);
    }
    ok &= rate("((uint64,string,bool)[])", &a);
    return ok ? 0 : 1;
}
