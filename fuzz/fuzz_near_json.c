/* fuzz_near_json.c — the NEAR contracts' strict JSON reader, built natively.
 * Properties: no crash or out-of-bounds on any input; every accepted document
 * has a consistent token tree (each subtree ends within the array, after its
 * start); decoding every string in place stays inside the string; the field
 * matcher never reads outside the tokens. */
/* fuzz-sources: contracts/near/json.c contracts/near/text.c */
#include "../contracts/near/json.h"
#include "../contracts/near/text.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 1 << 16) return 0;
    uint32_t n = (uint32_t)size;
    char *s = malloc(n ? n : 1);
    memcpy(s, data, n);
    uint32_t cap = nj_tok_cap(n);
    nj_tok *t = malloc(cap * sizeof *t);
    char e[128];
    nj_buf err = {e, 0, sizeof e, 0};
    uint32_t nt = nj_parse(s, n, t, cap, &err);
    if (nt) {
        if (t[0].end != nt) abort();
        for (uint32_t i = 0; i < nt; i++) {
            if (t[i].end <= i || t[i].end > nt) abort();
            if (t[i].start > n) abort();
            if (t[i].type == NJ_STR && t[i].start + t[i].len > n) abort();
        }
        /* a field table over the root, when it is an object */
        nj_str a = {0, 0}, b = {0, 0};
        int flag;
        uint64_t u;
        uint32_t arr;
        nj_field f[] = {{"a", NJF_STR, 0, &a},
                        {"b", NJF_STR_NULL, 0, &b},
                        {"c", NJF_BOOL, 0, &flag},
                        {"d", NJF_U64, 0, &u},
                        {"e", NJF_ARR, 0, &arr}};
        err.len = 0;
        int64_t m = nj_fields(s, t, 0, f, 5, &err);
        if (m >= 0 && (m & 16)) {
            uint8_t *bytes = malloc(t[arr].len + 1);
            (void)nj_bytes(s, t, arr, bytes);
            free(bytes);
        }
        char hex[64];
        if (m >= 0 && a.s) (void)nt_hex_norm(a.s, a.len, 64, hex);
        if (m >= 0 && a.s) (void)nt_account_valid(a.s, a.len);
    } else if (err.len == 0) {
        abort(); /* a rejection always says why */
    }
    free(t);
    free(s);
    return 0;
}
