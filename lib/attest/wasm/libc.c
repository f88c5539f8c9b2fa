/* libc.c — what lib/attest and mbed TLS need from libc in wasm32, and no more.
 *
 * NEAR contracts have no libc: these are the plain byte loops mbed TLS's
 * headers declare, an allocator that hands mbed TLS its own buffer allocator
 * (memory_buffer_alloc.c, a well-kept first-fit allocator with free) over a
 * static arena on first use, and stubs for printing that the verifier never
 * reaches (mbed TLS only prints from functions it does not call). memcpy and
 * memset go a word at a time and override contracts/near/rt.c's weak byte
 * loops: mbed TLS zeroes and copies its bignums constantly.
 */
#include <stddef.h>
#include <stdint.h>

#include "mbedtls/memory_buffer_alloc.h"
#include "mbedtls/platform.h"

#define NB __attribute__((no_builtin))

/* Word at a time when both pointers allow it: mbed TLS zeroes and copies
 * its bignums constantly, and in wasm a byte loop costs 4x the instructions. */
NB void *memcpy(void *d, const void *s, size_t n) {
    unsigned char *dp = d;
    const unsigned char *sp = s;
    if ((((uintptr_t)dp | (uintptr_t)sp) & 3) == 0) {
        for (; n >= 4; n -= 4, dp += 4, sp += 4)
            *(uint32_t *)(void *)dp = *(const uint32_t *)(const void *)sp;
    }
    while (n--)
        *dp++ = *sp++;
    return d;
}

NB void *memset(void *d, int c, size_t n) {
    unsigned char *dp = d;
    while (n && ((uintptr_t)dp & 3)) {
        *dp++ = (unsigned char)c;
        n--;
    }
    uint32_t w = (unsigned char)c * 0x01010101u;
    for (; n >= 4; n -= 4, dp += 4)
        *(uint32_t *)(void *)dp = w;
    while (n--)
        *dp++ = (unsigned char)c;
    return d;
}

NB void *memmove(void *d, const void *s, size_t n) {
    unsigned char *dp = d;
    const unsigned char *sp = s;
    if (dp < sp)
        while (n--)
            *dp++ = *sp++;
    else
        while (n--)
            dp[n] = sp[n];
    return d;
}

NB int memcmp(const void *a, const void *b, size_t n) {
    const unsigned char *x = a, *y = b;
    for (size_t i = 0; i < n; i++)
        if (x[i] != y[i]) return x[i] - y[i];
    return 0;
}

NB size_t strlen(const char *s) {
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

NB int strncmp(const char *a, const char *b, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (a[i] != b[i] || !a[i]) return (unsigned char)a[i] - (unsigned char)b[i];
    }
    return 0;
}

NB int strcmp(const char *a, const char *b) {
    return strncmp(a, b, (size_t)-1);
}

NB char *strstr(const char *h, const char *n) {
    size_t k = strlen(n);
    for (; *h; h++)
        if (strncmp(h, n, k) == 0) return (char *)h;
    return k ? NULL : (char *)h;
}

/* The arena: one verification of a real quote peaks well below this (the
 * figure is measured by tests/near's attest test). */
#ifndef DG_ATTEST_ARENA
#define DG_ATTEST_ARENA (1u << 20)
#endif
static unsigned char arena[DG_ATTEST_ARENA] __attribute__((aligned(16)));

void *dg_mbedtls_no_calloc(size_t n, size_t size) {
    /* first allocation: switch mbed TLS to its buffer allocator over the arena */
    mbedtls_memory_buffer_alloc_init(arena, sizeof arena);
    return mbedtls_calloc(n, size);
}

void dg_mbedtls_no_free(void *p) {
    (void)p;
}

int dg_mbedtls_snprintf(char *s, size_t n, const char *fmt, ...) {
    (void)fmt;
    if (n) s[0] = 0;
    return -1;
}

int dg_mbedtls_printf(const char *fmt, ...) {
    (void)fmt;
    return -1;
}

int dg_mbedtls_fprintf(void *f, const char *fmt, ...) {
    (void)f;
    (void)fmt;
    return -1;
}

void dg_mbedtls_exit(int status) {
    (void)status;
    __builtin_trap();
}
