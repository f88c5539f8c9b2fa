/* fuzz_near_rpc.c — lib/near's decoders of NEAR node answers: a final
 * execution outcome (status, logs, NEP-297 events, gas, failures) and a
 * JSON-RPC error in either shape (older text, structured cause). The input
 * is JSON text. Properties: no crash or out-of-bounds read; every error
 * decodes to a class and a NUL-terminated message without control
 * characters; a parsed outcome's counts are consistent. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dstackgov/near.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 1 << 16) return 0;
    json_t *j = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
    if (!j) return 0;
    dg_near_outcome o;
    dg_err e = {DG_OK, ""};
    if (dg_near_outcome_parse(j, &o, &e)) {
        if (o.nfailed > o.nreceipts) abort();
        if (json_array_size(o.events) > o.nlogs) abort();
        if (!o.success && (o.failure.code == DG_OK || !o.failure.msg[0])) abort();
        for (size_t i = 0; i < sizeof o.failure.msg && o.failure.msg[i]; i++)
            if ((unsigned char)o.failure.msg[i] < 0x20) abort();
    }
    dg_near_outcome_free(&o);
    dg_err e2 = {DG_OK, ""};
    if (dg_near_rpc_error("fuzz", j, &e2) != 0) abort();
    if (e2.code == DG_OK || !memchr(e2.msg, 0, sizeof e2.msg)) abort();
    for (size_t i = 0; e2.msg[i]; i++)
        if ((unsigned char)e2.msg[i] < 0x20) abort();
    (void)dg_near_error_cause(j);
    json_decref(j);
    return 0;
}
