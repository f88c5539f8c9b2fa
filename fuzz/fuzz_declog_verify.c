/* fuzz_declog_verify.c — the hash-chained decision log verifier
 * (dstack-authd --verify-log, cmd/dstack-authd/log.c) on arbitrary text.
 *
 * Beyond memory safety, the verifier's contract: a bad line is reported
 * with its number and a reason; text it accepts is accepted the same when
 * cut into two files at a line boundary (the chain continues across files);
 * and changing any one byte of an accepted line (other than into a line
 * break) makes it fail.
 */
/* fuzz-sources: cmd/dstack-authd/log.c */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../cmd/dstack-authd/authd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run(const char *t, size_t n, uint8_t chain[32], unsigned long *lines, int *have) {
    uint8_t first[32];
    unsigned long bad = 0;
    char why[160] = "";
    *have = 0;
    *lines = 0;
    int ok = declog_verify_text(t, n, have, chain, first, lines, &bad, why, sizeof why);
    if (!ok && (bad == 0 || !why[0])) abort();
    return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *t = (const char *)data;
    uint8_t c1[32], c2[32];
    unsigned long l1, l2;
    int h1, h2;
    if (!run(t, size, c1, &l1, &h1) || !h1) return 0;
    /* accepted: the same text cut after its first line break, as two files */
    const char *nl = memchr(t, '\n', size);
    if (nl && (size_t)(nl - t) + 1 < size) {
        size_t k = (size_t)(nl - t) + 1;
        uint8_t first[32], bad_chain[32];
        unsigned long bad = 0, lines = 0;
        char why[160];
        int have = 0;
        if (!declog_verify_text(t, k, &have, c2, first, &lines, &bad, why, sizeof why)) abort();
        if (!declog_verify_text(t + k, size - k, &have, c2, first, &lines, &bad, why, sizeof why))
            abort();
        if (lines != l1 || memcmp(c1, c2, 32) != 0) abort();
        (void)bad_chain;
    }
    /* one changed byte in the first non-empty line must be found */
    size_t s = 0;
    while (s < size && (t[s] == '\n' || t[s] == '\r'))
        s++;
    size_t e = s;
    while (e < size && t[e] != '\n')
        e++;
    while (e > s && t[e - 1] == '\r')
        e--;
    if (e <= s) return 0;
    char *m = malloc(size);
    if (!m) return 0;
    memcpy(m, t, size);
    size_t pos = s + (size_t)data[size / 2] % (e - s);
    m[pos] ^= 0x01;
    if (m[pos] != '\n' && m[pos] != '\r' && run(m, size, c2, &l2, &h2) && l2 == l1) abort();
    free(m);
    return 0;
}
