/* fuzz_http_request.c — the request-head parser of lib/httpd (request.c),
 * one whole input at a time.
 *
 * The input is a request head as a client sent it (grown to the 16 KiB limit
 * when it starts with 0xFF: see http_request_check.h). Beyond memory safety,
 * the contract of one result is checked (http_parse_checked: result codes, a
 * parsed head's fields and pointers), and that a short or absent message
 * buffer changes nothing but the message. That a prefix of the input gives 0
 * or the same outcome (what lets the server parse bytes as they arrive) is
 * fuzz_http_prefix's: one parse per input here keeps this target fast.
 */
#include "http_request_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    size_t len;
    char *buf = http_input(data, size, &len);
    if (!buf) return 0;
    dg_http_head h, h2;
    char why[256], w1[1];
    int r = http_parse_checked(buf, len, &h, why, sizeof why);
    if (dg_http_head_parse(buf, len, &h2, w1, sizeof w1) != r || w1[0]) abort();
    if (dg_http_head_parse(buf, len, &h2, NULL, 0) != r) abort();
    if (r > 0 && !http_same_head(&h, &h2)) abort();
    free(buf);
    return 0;
}
