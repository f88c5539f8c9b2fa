/* fuzz_bootinfo.c — the strict BootInfo parser on arbitrary bytes.
 *
 * Besides not crashing, a body the parser accepts must survive a round trip:
 * re-serialised in the KMS's shape and parsed again it yields the same
 * canonical form (the decision-cache key), and its calldata encodes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dstackgov/bootinfo.h"
#include "dstackgov/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    dg_bootinfo a, b;
    dg_err err;
    dg_bootinfo_init(&a);
    dg_bootinfo_init(&b);
    if (dg_bootinfo_parse(&a, (const char *)data, size, &err)) {
        dg_buf j, ka, kb, cd;
        dg_buf_init(&j);
        dg_buf_init(&ka);
        dg_buf_init(&kb);
        dg_buf_init(&cd);
        if (!dg_bootinfo_to_json(&a, &j) || !dg_bootinfo_canonical(&a, &ka)) abort();
        if (!dg_bootinfo_parse(&b, (const char *)j.data, j.len, &err)) abort();
        if (!dg_bootinfo_canonical(&b, &kb)) abort();
        if (ka.len != kb.len || memcmp(ka.data, kb.data, ka.len) != 0) abort();
        if (!dg_policy_eth_calldata(&a, DG_ROUTE_APP, &cd)) abort();
        if (cd.len < 10 + 9 * 64 || (cd.len - 10) % 64 != 0) abort();
        dg_buf_free(&j);
        dg_buf_free(&ka);
        dg_buf_free(&kb);
        dg_buf_free(&cd);
    } else if (err.code != DG_ERR_INPUT && err.code != DG_ERR_NOMEM) {
        abort();
    }
    dg_bootinfo_free(&a);
    dg_bootinfo_free(&b);
    return 0;
}
