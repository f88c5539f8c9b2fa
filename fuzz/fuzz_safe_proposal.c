/* fuzz_safe_proposal.c — the Safe proposal parser (dg_safe_proposal_from_json)
 * on arbitrary JSON.
 *
 * An accepted proposal must be self-consistent: its hash is the SafeTx hash
 * of its content, every signature recovers to its stated signer, and writing
 * it back and parsing again gives the same hash and signatures. A refusal
 * must carry a message and leave nothing to free.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "dstackgov/safe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    json_t *j = json_loadb((const char *)data, size, 0, NULL);
    if (!j) return 0;
    dg_safe_proposal p;
    dg_err err = {DG_OK, ""};
    if (!dg_safe_proposal_from_json(j, &p, &err)) {
        if (!err.msg[0] || p.sigs || p.nsigs) abort();
        json_decref(j);
        return 0;
    }
    uint8_t h[32];
    dg_safe_tx_hash(p.chain_id, p.safe, &p.tx, h);
    if (memcmp(h, p.hash, 32) != 0) abort();
    if (!dg_safe_signatures_check(p.hash, p.sigs, p.nsigs, NULL, 0, 0, NULL, NULL)) abort();
    json_t *back = dg_safe_proposal_to_json(&p);
    dg_safe_proposal q;
    if (!back || !dg_safe_proposal_from_json(back, &q, NULL)) abort();
    if (memcmp(q.hash, p.hash, 32) != 0 || q.nsigs != p.nsigs) abort();
    dg_safe_proposal_free(&q);
    dg_safe_proposal_free(&p);
    json_decref(back);
    json_decref(j);
    return 0;
}
