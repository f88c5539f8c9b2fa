/* fuzz_hex.c — libFuzzer target for the text parsers of lib/codec: strict
 * hex (fixed and variable length), addresses with EIP-55 checksums, u256
 * numbers and ether amounts. Properties: no crash or out-of-bounds read, and
 * every accepted value round-trips through the encoder. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dstackgov/hex.h"
#include "dstackgov/u256.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char lower(char c) {
    return (c >= 'A' && c <= 'F') ? (char)(c - 'A' + 'a') : c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0 || size > 4096) return 0;
    /* exact-size copy: any read past `size` is caught by ASan */
    char *s = malloc(size);
    memcpy(s, data, size);
    dg_err err;

    /* fixed length decode: the length comes from the first byte */
    uint8_t out[64];
    size_t want = data[0] % 65;
    if (dg_hex_decode(s + 1, size - 1, out, want, &err)) {
        char back[2 * 64 + 1];
        dg_hex_encode(out, want, back);
        size_t p = (size - 1 > 2 * want) ? 2 : 0;
        for (size_t i = 0; i < 2 * want; i++)
            if (back[i] != lower(s[1 + p + i])) abort();
    }

    /* variable length decode of the whole input */
    dg_buf b;
    dg_buf_init(&b);
    if (dg_hex_decode_var(s, size, &b, &err)) {
        dg_buf t;
        dg_buf_init(&t);
        if (!dg_hex_append(&t, b.data, b.len, 0)) abort();
        size_t p = size - t.len;
        for (size_t i = 0; i < t.len; i++)
            if ((char)t.data[i] != lower(s[p + i])) abort();
        dg_buf_free(&t);
    }
    dg_buf_free(&b);
    free(s);

    /* NUL-terminated parsers */
    char *z = malloc(size + 1);
    memcpy(z, data, size);
    z[size] = 0;
    uint8_t addr[20];
    if (dg_address_parse(z, addr, &err)) {
        char cs[43];
        dg_address_checksum(addr, cs);
        uint8_t again[20];
        if (!dg_address_parse(cs, again, &err) || memcmp(addr, again, 20) != 0) abort();
        if (!dg_address_is_checksummed(cs)) abort();
    }
    dg_u256 v;
    if (dg_u256_parse(z, &v, &err)) {
        char dec[DG_U256_DEC_LEN], hex[DG_U256_HEX_LEN];
        dg_u256 a, c;
        dg_u256_to_dec(v, dec);
        dg_u256_to_hex(v, hex);
        if (!dg_u256_parse(dec, &a, &err) || !dg_u256_parse(hex, &c, &err)) abort();
        if (dg_u256_cmp(a, v) || dg_u256_cmp(c, v)) abort();
    }
    if (dg_u256_parse_amount(z, &v, &err)) {
        /* formatting in a unit and parsing back gives the same wei */
        static const struct {
            unsigned decimals;
            const char *unit;
        } u[] = {{18, "ether"}, {9, "gwei"}, {0, "wei"}};
        for (size_t i = 0; i < sizeof u / sizeof u[0]; i++) {
            char units[DG_U256_UNITS_LEN + 8];
            dg_u256 back;
            dg_u256_format_units(v, u[i].decimals, units);
            strcat(units, u[i].unit);
            if (!dg_u256_parse_amount(units, &back, &err) || dg_u256_cmp(back, v) != 0) abort();
        }
    }
    free(z);
    return 0;
}
