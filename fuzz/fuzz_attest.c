/* fuzz_attest.c — the quote, collateral and event-log parsers of lib/attest.
 *
 * The first input byte picks the parser; the rest is its input. Collateral
 * goes through dg_at_verify with the real tdx_quote's bytes' shape unknown to
 * the fuzzer, so the collateral JSON, hex, PEM and DER paths are reached with
 * an arbitrary quote that fails late or early — both must be clean.
 * fuzz-attest
 */
#include <stdint.h>
#include <string.h>

#include "dstackgov/attest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    uint8_t which = data[0] % 3;
    data++;
    size--;
    dg_at_err err;
    if (which == 0) {
        dg_quote q;
        dg_quote_parse(data, size, &q, &err);
    } else if (which == 1) {
        dg_at_events ev;
        if (dg_at_events_parse((const char *)data, size, &ev, &err)) {
            dg_td_report td;
            memset(&td, 0, sizeof td);
            dg_at_events_check_rtmr3(&ev, &td, &err);
            dg_at_events_check_compose(&ev, "{}", 2, &err);
        }
    } else {
        /* split: 2-byte quote length, quote, collateral */
        if (size < 2) return 0;
        size_t qn = (size_t)(data[0] | data[1] << 8);
        if (qn > size - 2) qn = size - 2;
        dg_at_verify(data + 2, qn, (const char *)data + 2 + qn, size - 2 - qn, 1751328000, NULL, 0,
                     NULL, NULL, &err);
    }
    return 0;
}
