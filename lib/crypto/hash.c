/* hash.c — Keccak-256 and SHA-256 on nettle.
 *
 * nettle ships SHA3 but not Ethereum's pre-standard Keccak, whose only
 * difference is the padding byte (0x01 instead of 0x06). So this file drives
 * nettle's Keccak-f[1600] permutation (sha3_permute) with its own sponge:
 * absorb 136-byte blocks by XOR into the little-endian lanes, pad, squeeze 32
 * bytes. SHA-256 is nettle's as is.
 */
#include "dstackgov/hash.h"

#include <nettle/sha2.h>
#include <nettle/sha3.h>
#include <string.h>

#define RATE 136

static void absorb_block(uint64_t lanes[25], const uint8_t *blk) {
    for (size_t i = 0; i < RATE / 8; i++) {
        uint64_t w = 0;
        for (int b = 7; b >= 0; b--)
            w = (w << 8) | blk[8 * i + (size_t)b];
        lanes[i] ^= w;
    }
    struct sha3_state st;
    memcpy(st.a, lanes, sizeof st.a);
    sha3_permute(&st);
    memcpy(lanes, st.a, sizeof st.a);
}

void dg_keccak_init(dg_keccak_ctx *ctx) {
    memset(ctx, 0, sizeof *ctx);
}

void dg_keccak_update(dg_keccak_ctx *ctx, const void *p, size_t n) {
    const uint8_t *in = p;
    if (n == 0) return; /* p may be NULL then */
    if (ctx->used) {
        size_t take = RATE - ctx->used;
        if (take > n) take = n;
        memcpy(ctx->block + ctx->used, in, take);
        ctx->used += take;
        in += take;
        n -= take;
        if (ctx->used < RATE) return;
        absorb_block(ctx->lanes, ctx->block);
        ctx->used = 0;
    }
    while (n >= RATE) {
        absorb_block(ctx->lanes, in);
        in += RATE;
        n -= RATE;
    }
    if (n) {
        memcpy(ctx->block, in, n);
        ctx->used = n;
    }
}

void dg_keccak_final(dg_keccak_ctx *ctx, uint8_t out[32]) {
    memset(ctx->block + ctx->used, 0, RATE - ctx->used);
    ctx->block[ctx->used] ^= 0x01;
    ctx->block[RATE - 1] ^= 0x80;
    absorb_block(ctx->lanes, ctx->block);
    for (size_t i = 0; i < 32; i++)
        out[i] = (uint8_t)(ctx->lanes[i / 8] >> (8 * (i % 8)));
    volatile uint8_t *v = (volatile uint8_t *)ctx;
    for (size_t i = 0; i < sizeof *ctx; i++)
        v[i] = 0;
}

void dg_keccak256(const void *p, size_t n, uint8_t out[32]) {
    dg_keccak_ctx ctx;
    dg_keccak_init(&ctx);
    if (n) dg_keccak_update(&ctx, p, n);
    dg_keccak_final(&ctx, out);
}

void dg_sha256(const void *p, size_t n, uint8_t out[32]) {
    dg_sha256_concat(p, n, NULL, 0, out);
}

void dg_sha256_concat(const void *a, size_t an, const void *b, size_t bn, uint8_t out[32]) {
    struct sha256_ctx c;
    sha256_init(&c);
    if (an) sha256_update(&c, an, a);
    if (bn) sha256_update(&c, bn, b);
    sha256_digest(&c, SHA256_DIGEST_SIZE, out);
}
