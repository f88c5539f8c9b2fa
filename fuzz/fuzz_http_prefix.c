/* fuzz_http_prefix.c — the request-head parser of lib/httpd (request.c) on
 * inputs cut short: what lets the server parse bytes as they arrive.
 *
 * The input is a request head as in fuzz_http_request (grown to the 16 KiB
 * limit when it starts with 0xFF: see http_request_check.h). The property:
 * every prefix of the input gives 0 (more bytes needed) or exactly the
 * outcome of the whole input (result, fields, message), each result also
 * meeting the contract of http_parse_checked; and bytes after a parsed head
 * (a body, the next request) do not change it.
 *
 * Checking every prefix costs O(n^2) per input (it held the target at ~1k
 * exec/s); the outcome is decided at one byte, so the checked prefixes are
 * the places where it is decided (the end, the head limit, the end of a
 * parsed head), all prefixes of a short input, and PREFIX_SAMPLES positions
 * drawn from the input's own bytes: 10^7 executions still cover every offset
 * of every input shape many times.
 */
#include "http_request_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PREFIX_SAMPLES 10

/* A prefix gives 0 or the same outcome as the whole input. */
static void check_prefix(const char *buf, size_t k, int r, const dg_http_head *h, const char *why) {
    dg_http_head hk;
    char wk[256];
    int rk = http_parse_checked(buf, k, &hk, wk, sizeof wk);
    if (rk == 0) return;
    if (rk != r || strcmp(wk, why) != 0) abort();
    if (r > 0 && !http_same_head(&hk, h)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    size_t len;
    char *buf = http_input(data, size, &len);
    if (!buf) return 0;
    dg_http_head h;
    char why[256];
    int r = http_parse_checked(buf, len, &h, why, sizeof why);

    /* bytes after the head do not matter */
    if (r > 0) check_prefix(buf, (size_t)r, r, &h, why);

    if (len <= 48) {
        for (size_t k = 0; k < len; k++)
            check_prefix(buf, k, r, &h, why);
    } else {
        uint32_t x = 2166136261u; /* FNV-1a of the input: reproducible draws */
        for (size_t i = 0; i < len; i++)
            x = (x ^ (uint8_t)buf[i]) * 16777619u;
        /* a long input costs a parse of up to 16 KiB per prefix: fewer draws */
        size_t draws = len <= 1024 ? PREFIX_SAMPLES : 3;
        for (size_t i = 0; i < draws; i++) {
            x = x * 1664525u + 1013904223u;
            check_prefix(buf, (size_t)x % len, r, &h, why);
        }
        check_prefix(buf, len - 1, r, &h, why);
        if (len <= 1024) check_prefix(buf, len - 2, r, &h, why);
        for (size_t k = DG_HTTP_HEAD_MAX - 1; k <= DG_HTTP_HEAD_MAX && k < len; k++)
            check_prefix(buf, k, r, &h, why);
        if (r > 0)
            for (size_t k = (size_t)r - (len <= 1024 ? 4 : 1); k < (size_t)r; k++)
                check_prefix(buf, k, r, &h, why);
    }
    free(buf);
    return 0;
}
