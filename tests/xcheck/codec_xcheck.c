/* codec_xcheck.c — cross-check lib/codec against an independent
 * implementation: Foundry's `cast`.
 *
 * Random but reproducible inputs (seed printed; DG_XCHECK_SEED to replay):
 * ABI call data of random nested signatures (`cast calldata`, and our
 * decoder on cast's bytes), RLP of random nested lists (`cast to-rlp`),
 * EIP-55 checksums (`cast to-check-sum-address`), keccak (`cast keccak`),
 * ether/gwei amounts (`cast to-wei`), decimal/hex text (`cast to-dec`,
 * `cast to-hex`). Many ABI/RLP cases are packed into each cast call because
 * each call costs a process start. Prints one line per failed check and
 * ends with "N passed, N failed". Usage: codec-xcheck [path-to-cast]
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dstackgov/abi.h"
#include "dstackgov/hash.h"
#include "dstackgov/hex.h"
#include "dstackgov/rlp.h"
#include "dstackgov/u256.h"
#include "../abi_xtype.h"

static const char *g_cast;
static int g_pass, g_fail;
static uint64_t g_rng;

static uint64_t rnd(void) {
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return g_rng;
}
static unsigned rn(unsigned n) {
    return (unsigned)(rnd() % n);
}
static void rbytes(uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)rnd();
}

__attribute__((format(printf, 2, 3))) static void result(int ok, const char *fmt, ...) {
    if (ok) {
        g_pass++;
        return;
    }
    g_fail++;
    va_list ap;
    va_start(ap, fmt);
    fputs("FAIL ", stdout);
    vprintf(fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
}

/* Run `cast <args>` through the shell; returns its trimmed stdout (malloc'd)
 * or NULL if it failed. Arguments are built from hex, digits and
 * [A-Za-z0-9 ] only, and single-quoted. */
static char *run_cast(const char *args) {
    dg_buf cmd;
    dg_buf_init(&cmd);
    dg_buf_printf(&cmd, "'%s' %s 2>&1", g_cast, args);
    FILE *f = popen((char *)cmd.data, "r");
    dg_buf_free(&cmd);
    if (!f) return NULL;
    dg_buf out;
    dg_buf_init(&out);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        dg_buf_append(&out, chunk, n);
    int rc = pclose(f);
    while (out.len && (out.data[out.len - 1] == '\n' || out.data[out.len - 1] == ' '))
        out.data[--out.len] = 0;
    if (rc != 0 || !out.data) {
        printf("cast %.200s... failed: %.300s\n", args, out.data ? (char *)out.data : "");
        dg_buf_free(&out);
        return NULL;
    }
    return (char *)out.data;
}

/* ------------------------------------------------------------ ABI */

static unsigned below(void *ctx, unsigned n) {
    (void)ctx;
    return rn(n);
}

/* A random ABI type: picks 8..11 (arrays, tuples) only while depth < 3. */
static const dg_abi_kind k_kinds[] = {
    DG_ABI_UINT,  DG_ABI_UINT,        DG_ABI_INT,         DG_ABI_ADDRESS,
    DG_ABI_BOOL,  DG_ABI_FIXED_BYTES, DG_ABI_BYTES,       DG_ABI_STRING,
    DG_ABI_ARRAY, DG_ABI_ARRAY,       DG_ABI_FIXED_ARRAY, DG_ABI_TUPLE,
};
static const xtype_mix k_mix = {k_kinds, 12, 8, 3};

/* A random value of type t: our tree in v, cast's argument syntax in arg.
 * `top`: a direct argument (cast reads a leading '-' there as a flag, and
 * strings are passed without quotes). */
static void gen_value(const xtype *t, int top, dg_abi_value *v, dg_buf *arg) {
    switch (t->kind) {
    case DG_ABI_UINT: {
        uint8_t w[32] = {0};
        rbytes(w + 32 - t->n / 8, t->n / 8);
        if (rn(3) == 0) memset(w, 0, 31); /* small values too */
        char dec[DG_U256_DEC_LEN];
        dg_u256_to_dec(dg_u256_from_be(w), dec);
        dg_abi_uint256(v, dg_u256_from_be(w));
        dg_buf_puts(arg, dec);
        return;
    }
    case DG_ABI_INT: {
        int64_t x = (int64_t)rnd();
        if (t->n < 64) x >>= 64 - t->n; /* arithmetic shift keeps it in range */
        if (top && x < 0) x = x == INT64_MIN ? 0 : -x;
        dg_abi_int64(v, x);
        dg_buf_printf(arg, "%lld", (long long)x);
        return;
    }
    case DG_ABI_ADDRESS: {
        uint8_t a[20];
        char h[41];
        rbytes(a, 20);
        dg_abi_address(v, a);
        dg_hex_encode(a, 20, h);
        dg_buf_printf(arg, "0x%s", h);
        return;
    }
    case DG_ABI_BOOL:
        dg_abi_bool(v, (int)rn(2));
        dg_buf_puts(arg, v->word[31] ? "true" : "false");
        return;
    case DG_ABI_FIXED_BYTES: {
        uint8_t b[32];
        char h[65];
        rbytes(b, t->n);
        dg_abi_fixed_bytes(v, b, t->n);
        dg_hex_encode(b, t->n, h);
        dg_buf_printf(arg, "0x%s", h);
        return;
    }
    case DG_ABI_BYTES: {
        size_t n = rn(4) == 0 ? 0 : rn(100);
        uint8_t b[100];
        char h[201];
        rbytes(b, n);
        dg_abi_bytes(v, b, n);
        dg_hex_encode(b, n, h);
        dg_buf_printf(arg, "0x%s", h);
        return;
    }
    case DG_ABI_STRING: {
        static const char al[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        size_t n = top ? 1 + rn(80) : rn(80);
        char s[81];
        for (size_t i = 0; i < n; i++)
            s[i] = al[rn(sizeof al - 1)];
        s[n] = 0;
        dg_abi_string(v, s);
        dg_buf_printf(arg, top ? "%s" : "\"%s\"", s);
        return;
    }
    case DG_ABI_ARRAY:
    case DG_ABI_FIXED_ARRAY:
    case DG_ABI_TUPLE: {
        size_t n = t->kind == DG_ABI_ARRAY ? rn(4) : t->n;
        if (t->kind == DG_ABI_ARRAY)
            dg_abi_array(v, n);
        else if (t->kind == DG_ABI_FIXED_ARRAY)
            dg_abi_fixed_array(v, n);
        else
            dg_abi_tuple(v, n);
        dg_buf_push(arg, t->kind == DG_ABI_TUPLE ? '(' : '[');
        for (size_t i = 0; i < n; i++) {
            if (i) dg_buf_push(arg, ',');
            gen_value(t->kind == DG_ABI_TUPLE ? t->items[i] : t->elem, 0, &v->items[i], arg);
        }
        dg_buf_push(arg, t->kind == DG_ABI_TUPLE ? ')' : ']');
        return;
    }
    }
}

static void xcheck_abi_round(int round) {
    static xtype_pool pool;
    size_t nargs = 4 + rn(10);
    dg_abi_value args;
    dg_abi_tuple(&args, nargs);
    dg_buf ty, cmd;
    dg_buf_init(&ty);
    dg_buf_init(&cmd);
    dg_buf_puts(&ty, "f(");
    dg_buf args_txt;
    dg_buf_init(&args_txt);
    for (size_t i = 0; i < nargs; i++) {
        if (i) dg_buf_push(&ty, ',');
        dg_buf a;
        dg_buf_init(&a);
        pool.used = 0;
        gen_value(xtype_gen(&pool, &k_mix, below, NULL, 0, &ty), 1, &args.items[i], &a);
        dg_buf_printf(&args_txt, " '%s'", (char *)a.data);
        dg_buf_free(&a);
    }
    dg_buf_push(&ty, ')');
    dg_buf_printf(&cmd, "calldata '%s' --%s", (char *)ty.data, (char *)args_txt.data);
    char *out = run_cast((char *)cmd.data);
    dg_buf ours;
    dg_buf_init(&ours);
    dg_err e = {0};
    int ok = dg_abi_encode_call(&ours, (char *)ty.data, &args, &e);
    if (!ok) printf("abi round %d: our encoder: %s\n", round, e.msg);
    char *hex = malloc(2 * ours.len + 3);
    dg_hex_encode_0x(ours.data, ours.len, hex);
    int same = out && ok && strcmp(out, hex) == 0;
    result(same,
           "abi round %d: %s: cast and dg_abi_encode_call differ\n  cast: %.400s\n  ours: %.400s",
           round, (char *)ty.data, out ? out : "(failed)", hex);
    /* our strict decoder on cast's bytes, then re-encode */
    if (out) {
        dg_buf cb;
        dg_buf_init(&cb);
        if (dg_hex_decode_var(out, strlen(out), &cb, NULL) && cb.len >= 4) {
            dg_abi_value dv;
            const char *params = strchr((char *)ty.data, '(');
            int dok = dg_abi_decode(params, cb.data + 4, cb.len - 4, &dv, &e);
            dg_buf re;
            dg_buf_init(&re);
            if (dok) dok = dg_abi_encode(&re, &dv, &e);
            result(dok && re.len == cb.len - 4 && memcmp(re.data, cb.data + 4, re.len) == 0,
                   "abi round %d: decode of cast's bytes does not round-trip (%s)", round,
                   dok ? "bytes differ" : e.msg);
            dg_buf_free(&re);
            if (dok) dg_abi_value_free(&dv);
        } else {
            result(0, "abi round %d: cast output is not hex", round);
        }
        dg_buf_free(&cb);
    }
    free(hex);
    free(out);
    dg_buf_free(&ours);
    dg_buf_free(&ty);
    dg_buf_free(&cmd);
    dg_buf_free(&args_txt);
    dg_abi_value_free(&args);
}

/* ------------------------------------------------------------ RLP */

static void gen_rlp(int depth, dg_buf *enc, dg_buf *txt) {
    if (depth < 4 && rn(3) == 0) {
        size_t m = dg_rlp_list_begin(enc), n = rn(depth == 0 ? 12 : 5);
        dg_buf_push(txt, '[');
        for (size_t i = 0; i < n; i++) {
            if (i) dg_buf_push(txt, ',');
            gen_rlp(depth + 1, enc, txt);
        }
        dg_buf_push(txt, ']');
        dg_rlp_list_end(enc, m);
        return;
    }
    static const size_t lens[] = {0, 1, 1, 2, 20, 55, 56, 57, 200, 300};
    size_t n = lens[rn(sizeof lens / sizeof lens[0])];
    uint8_t b[300];
    char h[601];
    rbytes(b, n);
    if (n == 1 && rn(2)) b[0] &= 0x7f;
    dg_rlp_put_bytes(enc, b, n);
    dg_hex_encode(b, n, h);
    dg_buf_printf(txt, "\"0x%s\"", h);
}

/* Re-encode a decoded item tree (walks every list with dg_rlp_next). */
static int rlp_reencode(const dg_rlp_item *it, dg_buf *b, dg_err *e) {
    if (!it->is_list) return dg_rlp_put_bytes(b, it->payload, it->len);
    size_t m = dg_rlp_list_begin(b), off = 0;
    dg_rlp_item c;
    while (off < it->len)
        if (!dg_rlp_next(it, &off, &c, e) || !rlp_reencode(&c, b, e)) return 0;
    return dg_rlp_list_end(b, m);
}

static void xcheck_rlp_round(int round) {
    dg_buf enc, txt, cmd;
    dg_buf_init(&enc);
    dg_buf_init(&txt);
    dg_buf_init(&cmd);
    /* top level: always a list so many items go into one call */
    size_t m = dg_rlp_list_begin(&enc), n = 3 + rn(8);
    dg_buf_push(&txt, '[');
    for (size_t i = 0; i < n; i++) {
        if (i) dg_buf_push(&txt, ',');
        gen_rlp(1, &enc, &txt);
    }
    dg_buf_push(&txt, ']');
    dg_rlp_list_end(&enc, m);
    dg_buf_printf(&cmd, "to-rlp '%s'", (char *)txt.data);
    char *out = run_cast((char *)cmd.data);
    char *hex = malloc(2 * enc.len + 3);
    dg_hex_encode_0x(enc.data, enc.len, hex);
    result(out && strcmp(out, hex) == 0,
           "rlp round %d: cast to-rlp and ours differ\n  cast: %.300s\n  ours: %.300s", round,
           out ? out : "(failed)", hex);
    if (out) {
        dg_buf cb, re;
        dg_buf_init(&cb);
        dg_buf_init(&re);
        dg_rlp_item it;
        dg_err e = {0};
        int ok = dg_hex_decode_var(out, strlen(out), &cb, &e) &&
                 dg_rlp_decode(cb.data, cb.len, &it, NULL, &e) && rlp_reencode(&it, &re, &e);
        result(ok && re.len == cb.len && memcmp(re.data, cb.data, re.len) == 0,
               "rlp round %d: decoding cast's encoding does not round-trip: %s", round,
               ok ? "bytes differ" : e.msg);
        dg_buf_free(&cb);
        dg_buf_free(&re);
    }
    free(out);
    free(hex);
    dg_buf_free(&enc);
    dg_buf_free(&txt);
    dg_buf_free(&cmd);
}

/* ------------------------------------------------------------ small ones */

static void xcheck_checksum(void) {
    uint8_t a[20];
    char h[41], ours[43], cmd[80];
    rbytes(a, 20);
    dg_hex_encode(a, 20, h);
    dg_address_checksum(a, ours);
    snprintf(cmd, sizeof cmd, "to-check-sum-address 0x%s", h);
    char *out = run_cast(cmd);
    result(out && strcmp(out, ours) == 0, "EIP-55 of 0x%s: cast %s, ours %s", h, out ? out : "-",
           ours);
    uint8_t back[20];
    result(out && dg_address_parse(out, back, NULL) && memcmp(back, a, 20) == 0,
           "dg_address_parse rejects cast's checksum %s", out ? out : "-");
    free(out);
}

static void xcheck_keccak(size_t n) {
    uint8_t *b = malloc(n ? n : 1);
    rbytes(b, n);
    char *cmd = malloc(2 * n + 32), d[67];
    uint8_t h[32];
    strcpy(cmd, "keccak 0x");
    dg_hex_encode(b, n, cmd + strlen(cmd));
    dg_keccak256(b, n, h);
    dg_hex_encode_0x(h, 32, d);
    char *out = run_cast(cmd);
    result(out && strcmp(out, d) == 0, "keccak of %zu bytes: cast %s, ours %s", n, out ? out : "-",
           d);
    free(out);
    free(cmd);
    free(b);
}

static void xcheck_amount(const char *unit) {
    char num[64], cmd[128], ours_in[80];
    unsigned frac = rn(unit[0] == 'e' ? 19 : 10);
    int k = snprintf(num, sizeof num, "%u", rn(100000));
    if (frac) {
        num[k++] = '.';
        for (unsigned i = 0; i < frac; i++)
            num[k++] = (char)('0' + rn(10));
        num[k] = 0;
    }
    snprintf(cmd, sizeof cmd, "to-wei %s %s", num, unit);
    snprintf(ours_in, sizeof ours_in, "%s%s", num, unit);
    dg_u256 v;
    char dec[DG_U256_DEC_LEN] = "(rejected)";
    if (dg_u256_parse_amount(ours_in, &v, NULL)) dg_u256_to_dec(v, dec);
    char *out = run_cast(cmd);
    result(out && strcmp(out, dec) == 0, "amount %s: cast %s, ours %s", ours_in, out ? out : "-",
           dec);
    free(out);
}

static void xcheck_dec_hex(void) {
    uint8_t w[32] = {0};
    size_t n = 1 + rn(32);
    rbytes(w + 32 - n, n);
    dg_u256 v = dg_u256_from_be(w);
    char hex[DG_U256_HEX_LEN], dec[DG_U256_DEC_LEN], cmd[160];
    dg_u256_to_hex(v, hex);
    dg_u256_to_dec(v, dec);
    snprintf(cmd, sizeof cmd, "to-dec %s", hex);
    char *out = run_cast(cmd);
    result(out && strcmp(out, dec) == 0, "to-dec %s: cast %s, ours %s", hex, out ? out : "-", dec);
    free(out);
    snprintf(cmd, sizeof cmd, "to-hex %s", dec);
    out = run_cast(cmd);
    result(out && strcmp(out, hex) == 0, "to-hex %s: cast %s, ours %s", dec, out ? out : "-", hex);
    free(out);
}

int main(int argc, char **argv) {
    g_cast = argc > 1 ? argv[1] : getenv("CAST");
    if (!g_cast) {
        printf("codec-xcheck: no cast binary (argument or CAST)\n0 passed, 1 failed\n");
        return 1;
    }
    const char *s = getenv("DG_XCHECK_SEED");
    uint64_t seed = s ? strtoull(s, NULL, 0) : (uint64_t)time(NULL);
    printf("codec-xcheck: seed %llu (DG_XCHECK_SEED=%llu to replay), cast %s\n",
           (unsigned long long)seed, (unsigned long long)seed, g_cast);
    g_rng = seed * 0x9e3779b97f4a7c15ULL + 1;
    for (int r = 0; r < 14; r++)
        xcheck_abi_round(r);
    for (int r = 0; r < 8; r++)
        xcheck_rlp_round(r);
    for (int r = 0; r < 6; r++)
        xcheck_checksum();
    static const size_t klens[] = {0, 135, 136, 137, 1000};
    for (size_t i = 0; i < sizeof klens / sizeof klens[0]; i++)
        xcheck_keccak(klens[i]);
    for (int r = 0; r < 4; r++)
        xcheck_amount("ether");
    for (int r = 0; r < 2; r++)
        xcheck_amount("gwei");
    for (int r = 0; r < 3; r++)
        xcheck_dec_hex();
    printf("%d passed, %d failed\n", g_pass, g_fail);
    return g_fail ? 1 : 0;
}
