/* rate.c — native verifications per second of lib/attest on the real tdx_quote.
 *
 * Reads the quote and its collateral once, verifies them at 2025-07-01 for
 * about two seconds (each run re-parses everything: the daemon and the CLI
 * verify a quote from scratch) and prints the rate on its last line.
 * Usage: rate QUOTE COLLATERAL
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "dstackgov/attest.h"

static char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)len);
    if (b && fread(b, 1, (size_t)len, f) != (size_t)len) len = -1;
    fclose(f);
    *n = len < 0 ? 0 : (size_t)len;
    return b;
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: rate QUOTE COLLATERAL\n");
        return 2;
    }
    size_t qn, cn;
    char *q = slurp(argv[1], &qn), *c = slurp(argv[2], &cn);
    if (!q || !c) {
        fprintf(stderr, "rate: cannot read the inputs\n");
        return 2;
    }
    dg_at_err err;
    long n = 0;
    double t0 = now_s(), t;
    do {
        if (!dg_at_verify((const uint8_t *)q, qn, c, cn, 1751328000, NULL, 0, NULL, NULL, &err)) {
            fprintf(stderr, "rate: %s: %s\n", dg_at_reason_name(err.code), err.msg);
            return 1;
        }
        n++;
        t = now_s() - t0;
    } while (t < 2.0);
    printf("%ld verifications of tdx_quote in %.2f s (%.2f ms each)\n", n, t, 1000 * t / (double)n);
    printf("verifications per second: %.0f\n", (double)n / t);
    free(q);
    free(c);
    return 0;
}
