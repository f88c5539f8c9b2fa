/* test_rlp.c — RLP against the ethereum/tests rlptest.json vectors
 * (tests/data/rlp_vectors.txt), decoding round trips, and the non-canonical
 * and truncated encodings the strict decoder must reject. */
#include <stdio.h>
#include <stdlib.h>

#include "../test.h"
#include "dstackgov/hex.h"
#include "dstackgov/rlp.h"

/* Encode the vector notation ("text", 0x.., #N, [a,b]) at *p into b. */
static int enc_notation(const char **p, dg_buf *b) {
    const char *s = *p;
    if (*s == '"') {
        const char *e = strchr(s + 1, '"');
        if (!e) return 0;
        dg_rlp_put_bytes(b, (const uint8_t *)s + 1, (size_t)(e - s - 1));
        *p = e + 1;
        return 1;
    }
    if (*s == '#') {
        char num[100];
        size_t n = strspn(s + 1, "0123456789");
        if (n == 0 || n >= sizeof num) return 0;
        memcpy(num, s + 1, n);
        num[n] = 0;
        dg_u256 v;
        if (!dg_u256_parse(num, &v, NULL)) return 0;
        dg_rlp_put_u256(b, v);
        *p = s + 1 + n;
        return 1;
    }
    if (s[0] == '0' && s[1] == 'x') {
        size_t n = 2 + strspn(s + 2, "0123456789abcdef");
        dg_buf raw;
        dg_buf_init(&raw);
        int ok = dg_hex_decode_var(s, n, &raw, NULL);
        if (ok) dg_rlp_put_bytes(b, raw.data, raw.len);
        dg_buf_free(&raw);
        *p = s + n;
        return ok;
    }
    if (*s == '[') {
        size_t m = dg_rlp_list_begin(b);
        s++;
        while (*s != ']') {
            if (!enc_notation(&s, b)) return 0;
            if (*s == ',')
                s++;
            else if (*s != ']')
                return 0;
        }
        *p = s + 1;
        return dg_rlp_list_end(b, m);
    }
    return 0;
}

/* Re-encode a decoded item tree (exercises dg_rlp_next on every list). */
static int reencode(const dg_rlp_item *it, dg_buf *b, dg_err *e) {
    if (!it->is_list) return dg_rlp_put_bytes(b, it->payload, it->len);
    size_t m = dg_rlp_list_begin(b), off = 0;
    dg_rlp_item c;
    while (off < it->len) {
        if (!dg_rlp_next(it, &off, &c, e)) return 0;
        if (!reencode(&c, b, e)) return 0;
    }
    return dg_rlp_list_end(b, m);
}

TEST(rlp_ethereum_test_vectors) {
    char path[256];
    snprintf(path, sizeof path, "%s/rlp_vectors.txt", dg_test_data_dir());
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    if (!f) return;
    static char line[8192];
    int cases = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#' || line[0] == '\n') continue;
        char *name = strtok(line, "\t"), *in = strtok(NULL, "\t"), *out = strtok(NULL, "\t\n");
        if (!name || !in || !out) {
            dg_test_fail(__FILE__, __LINE__, "bad vector line");
            continue;
        }
        dg_buf b, want, re;
        dg_buf_init(&b);
        dg_buf_init(&want);
        dg_buf_init(&re);
        const char *p = in;
        if (!enc_notation(&p, &b) || *p) dg_test_fail(__FILE__, __LINE__, "%s: bad notation", name);
        CHECK(dg_hex_decode_var(out, strlen(out), &want, NULL));
        if (b.len != want.len || memcmp(b.data, want.data, b.len) != 0)
            dg_test_fail(__FILE__, __LINE__, "%s: encoding differs", name);
        dg_rlp_item it;
        dg_err e = {0};
        if (!dg_rlp_decode(want.data, want.len, &it, NULL, &e) || !reencode(&it, &re, &e))
            dg_test_fail(__FILE__, __LINE__, "%s: decode: %s", name, e.msg);
        else if (re.len != want.len || memcmp(re.data, want.data, re.len) != 0)
            dg_test_fail(__FILE__, __LINE__, "%s: decode/re-encode differs", name);
        dg_buf_free(&b);
        dg_buf_free(&want);
        dg_buf_free(&re);
        cases++;
    }
    fclose(f);
    CHECK_INT(cases, 28);
}

/* Hex in, expect rejection with a message containing `why`. */
static void reject(const char *hex, const char *why, int line) {
    uint8_t in[64];
    size_t n = dg_test_unhex(hex, in, sizeof in);
    dg_rlp_item it;
    dg_err e = {0};
    int ok = dg_rlp_decode(in, n, &it, NULL, &e);
    if (ok && it.is_list) {
        /* walk the list: a bad child must be reported */
        dg_rlp_item c;
        size_t off = 0;
        while (ok && off < it.len)
            ok = dg_rlp_next(&it, &off, &c, &e);
    }
    if (ok)
        dg_test_fail(__FILE__, line, "accepted invalid rlp %s", hex);
    else if (!strstr(e.msg, why))
        dg_test_fail(__FILE__, line, "rlp %s: message \"%s\" lacks \"%s\"", hex, e.msg, why);
}

TEST(rlp_rejects_noncanonical_and_truncated) {
    reject("", "input ends", __LINE__);
    reject("8100", "non-canonical single byte 0x00", __LINE__);
    reject("817f", "non-canonical single byte", __LINE__);
    reject("b800", "leading zero", __LINE__);
    reject("b801ff", "non-canonical long header for a 1-byte payload", __LINE__);
    reject("b90001ff", "leading zero", __LINE__);
    reject("f800", "leading zero", __LINE__);
    reject("f80100", "non-canonical long header", __LINE__);
    reject("83646f", "declares 3 bytes but only 2 remain", __LINE__);
    reject("c1", "declares 1 bytes but only 0 remain", __LINE__);
    reject("c383646f", "inside list: rlp: string at byte 0 declares 3 bytes", __LINE__);
    reject("8000", "1 trailing bytes", __LINE__);
    reject("bfffffffffffffffff", "declares", __LINE__);
    reject("bb0000", "truncated", __LINE__);
    reject("c28100", "inside list: rlp: non-canonical single byte", __LINE__);
}

TEST(rlp_integers_and_lists) {
    dg_buf b;
    dg_buf_init(&b);
    size_t m = dg_rlp_list_begin(&b);
    dg_rlp_put_uint(&b, 0);
    dg_rlp_put_uint(&b, 0x7f);
    dg_rlp_put_uint(&b, 0x80);
    dg_rlp_put_uint(&b, UINT64_MAX);
    dg_rlp_put_u256(&b, dg_u256_from_u64(1024));
    CHECK(dg_rlp_list_end(&b, m));
    char h[128];
    dg_hex_encode(b.data, b.len, h);
    CHECK_STR(h, "d0807f818088ffffffffffffffff820400");
    dg_rlp_item list, items[8];
    size_t n = 0, used = 0;
    dg_err e = {0};
    CHECK(dg_rlp_decode(b.data, b.len, &list, &used, &e));
    CHECK_INT(used, b.len);
    CHECK(dg_rlp_list_items(&list, items, 8, &n, &e));
    CHECK_INT(n, 5);
    uint64_t x = 1;
    CHECK(dg_rlp_to_u64(&items[0], &x, &e));
    CHECK_INT(x, 0);
    CHECK(dg_rlp_to_u64(&items[2], &x, &e));
    CHECK_INT(x, 0x80);
    CHECK(dg_rlp_to_u64(&items[3], &x, &e));
    CHECK(x == UINT64_MAX);
    dg_u256 v;
    CHECK(dg_rlp_to_u256(&items[4], &v, &e));
    CHECK(dg_u256_to_u64(v, &x) && x == 1024);
    CHECK(!dg_rlp_list_items(&list, items, 4, &n, &e));
    CHECK_STR(e.msg, "rlp: list has more than 4 items");
    /* end of list */
    size_t off = list.len;
    dg_rlp_item c;
    CHECK(!dg_rlp_next(&list, &off, &c, &e));
    CHECK_STR(e.msg, "rlp: end of list");
    CHECK(!dg_rlp_to_u64(&list, &x, &e));
    /* integer with a leading zero byte is not canonical */
    const uint8_t lz[] = {0x82, 0x00, 0x01};
    dg_rlp_item li;
    CHECK(dg_rlp_decode(lz, 3, &li, NULL, &e));
    CHECK(!dg_rlp_to_u64(&li, &x, &e));
    CHECK_STR(e.msg, "rlp: integer with a leading zero byte");
    /* 9-byte integer does not fit u64 */
    const uint8_t big[] = {0x89, 1, 0, 0, 0, 0, 0, 0, 0, 0};
    CHECK(dg_rlp_decode(big, sizeof big, &li, NULL, &e));
    CHECK(!dg_rlp_to_u64(&li, &x, &e));
    CHECK(dg_rlp_to_u256(&li, &v, &e));
    /* consumed: several items back to back */
    const uint8_t two[] = {0x83, 'd', 'o', 'g', 0xc0};
    CHECK(dg_rlp_decode(two, sizeof two, &li, &used, &e));
    CHECK_INT(used, 4);
    CHECK(dg_rlp_decode(two + used, sizeof two - used, &li, &used, &e));
    CHECK(li.is_list);
    dg_buf_free(&b);
}

/* Decode and walk every nested list; 1 only if everything is well-formed. */
static int walk(const dg_rlp_item *it, dg_err *e) {
    if (!it->is_list) return 1;
    size_t off = 0;
    dg_rlp_item c;
    while (off < it->len) {
        if (!dg_rlp_next(it, &off, &c, e) || !walk(&c, e)) return 0;
    }
    return 1;
}

TEST(rlp_ethereum_invalid_vectors) {
    char path[256];
    snprintf(path, sizeof path, "%s/rlp_invalid.txt", dg_test_data_dir());
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    if (!f) return;
    char line[1024];
    int cases = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#' || line[0] == '\n') continue;
        char *name = strtok(line, "\t"), *hex = strtok(NULL, "\t\n");
        if (!name || !hex) continue;
        dg_buf b;
        dg_buf_init(&b);
        CHECK(dg_hex_decode_var(hex, strlen(hex), &b, NULL));
        dg_rlp_item it;
        dg_err e = {0};
        if (dg_rlp_decode(b.data, b.len, &it, NULL, &e) && walk(&it, &e))
            dg_test_fail(__FILE__, __LINE__, "%s: accepted", name);
        else
            CHECK_INT(e.code, DG_ERR_INPUT);
        dg_buf_free(&b);
        cases++;
    }
    fclose(f);
    CHECK_INT(cases, 17);
}
