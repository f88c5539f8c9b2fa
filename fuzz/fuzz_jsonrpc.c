/* fuzz_jsonrpc.c — the JSON-RPC response decoder (dg_jsonrpc_decode).
 *
 * The first input byte picks the shape of the request the body answers
 * (single or batch, 1..4 requests, first id 1 or a large id); the rest is the
 * HTTP body. Beyond memory safety, the decoder's contract is checked: on
 * success every request holds either a result or an error message; on
 * failure nothing is filled and a message is given.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dstackgov/rpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    uint8_t shape = data[0];
    int as_batch = shape & 1;
    size_t n = as_batch ? (size_t)((shape >> 1) & 3) + 1 : 1;
    long long first_id = (shape & 0x10) ? 9007199254740990LL : 1;
    dg_rpc_req reqs[4];
    memset(reqs, 0, sizeof reqs);
    static const char *methods[4] = {"eth_call", "eth_blockNumber", NULL, "eth_chainId"};
    for (size_t i = 0; i < n; i++)
        reqs[i].method = methods[i];
    dg_err err = {0};
    int ok = dg_jsonrpc_decode((const char *)data + 1, size - 1, first_id, as_batch, reqs, n, &err);
    for (size_t i = 0; i < n; i++) {
        if (ok) {
            if (reqs[i].ok && !reqs[i].result) abort();
            if (!reqs[i].ok && (reqs[i].result || !reqs[i].error[0])) abort();
        } else if (reqs[i].result || reqs[i].error_data || reqs[i].ok) {
            abort();
        }
    }
    if (!ok && (err.code != DG_ERR_RPC_RESPONSE || !err.msg[0])) abort();
    dg_rpc_req_clear(reqs, n);
    return 0;
}
