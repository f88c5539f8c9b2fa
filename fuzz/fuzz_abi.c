/* fuzz_abi.c — libFuzzer target for the strict ABI decoder and the revert
 * decoder. The first byte picks a type string (static, dynamic, nested);
 * the rest is decoded as data of that type. Properties: no crash, no
 * out-of-bounds read, bounded memory; and an accepted value re-encodes to a
 * canonical form that decodes again and re-encodes identically. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dstackgov/abi.h"
#include "dstackgov/revert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const k_types[] = {
    "(bool,string)",
    "(uint256)",
    "(address,bytes32,uint8,int16,bytes4)",
    "((address,bytes32,address,bytes32,bytes32,bytes32,bytes32,string,string[]))",
    "(bytes,bool,uint256[])",
    "(uint256,uint32[],bytes10,bytes)",
    "(uint256[][],string[])",
    "(bytes,bytes,bytes,bytes)",
    "((bytes,bytes,bytes,bytes))",
    "(string[2][],(uint8,bytes)[3])",
    "(uint256[][][])",
    "(bytes3[2],int8[])",
    "()",
    "address",
    "((uint256,(string,bytes)[])[],bool)",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    const char *types = k_types[data[0] % (sizeof k_types / sizeof k_types[0])];
    size_t len = size - 1;
    uint8_t *in = malloc(len ? len : 1);
    if (len) memcpy(in, data + 1, len);
    dg_abi_value v;
    dg_err err;
    if (dg_abi_decode(types, in, len, &v, &err)) {
        dg_buf e1, e2;
        dg_buf_init(&e1);
        dg_buf_init(&e2);
        if (!dg_abi_encode(&e1, &v, &err)) abort();
        if (!dg_abi_encode_types(&e2, types, &v, &err)) abort();
        if (e1.len != e2.len || memcmp(e1.data, e2.data, e1.len) != 0) abort();
        dg_abi_value w;
        if (!dg_abi_decode(types, e1.data, e1.len, &w, &err)) abort();
        dg_buf_free(&e2);
        dg_buf_init(&e2);
        if (!dg_abi_encode(&e2, &w, &err)) abort();
        if (e1.len != e2.len || memcmp(e1.data, e2.data, e1.len) != 0) abort();
        dg_abi_value_free(&w);
        dg_buf_free(&e1);
        dg_buf_free(&e2);
        dg_abi_value_free(&v);
    }
    char out[256];
    dg_err_code k;
    (void)dg_revert_decode(in, len, out, sizeof out, &k);
    if (!memchr(out, 0, sizeof out)) abort();
    free(in);
    return 0;
}
