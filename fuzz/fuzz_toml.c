/* fuzz_toml.c — the strict TOML subset parser on arbitrary bytes.
 *
 * An accepted document must be self-consistent: every entry is found again
 * by its key, keys are unique, strings hold no NUL before their end, and
 * positions are 1-based. A refusal must carry a "line L, column C" message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dstackgov/toml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    dg_toml *d = NULL;
    dg_err err;
    if (!dg_toml_parse((const char *)data, size, &d, &err)) {
        if (d || (err.code == DG_ERR_CONFIG && !strstr(err.msg, "line "))) abort();
        return 0;
    }
    for (size_t i = 0; i < dg_toml_count(d); i++) {
        const dg_toml_entry *e = dg_toml_at(d, i);
        if (dg_toml_get(d, e->key) != e) abort();
        if (e->line < 1 || e->col < 1 || e->key_line < 1 || e->key_col < 1) abort();
        if (e->type == DG_TOML_STRING && !e->str) abort();
        if (e->type == DG_TOML_ARRAY)
            for (size_t k = 0; k < e->nitems; k++)
                if (!e->items[k]) abort();
    }
    dg_toml_free(d);
    return 0;
}
