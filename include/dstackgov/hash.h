/* hash.h — Keccak-256 (Ethereum's hash) and SHA-256.
 *
 * Keccak-256 is the original Keccak submission used by Ethereum: rate 136
 * bytes, padding byte 0x01 (not SHA3-256's 0x06), so the two differ on every
 * input. Both are built on nettle. No function here can fail.
 */
#ifndef DSTACKGOV_HASH_H
#define DSTACKGOV_HASH_H

#include <stddef.h>
#include <stdint.h>

/* Incremental Keccak-256 state. Treat the fields as private. */
typedef struct {
    uint64_t lanes[25]; /* sponge state, lane i = bytes 8i..8i+7 little-endian */
    uint8_t block[136]; /* pending input not yet absorbed */
    size_t used;        /* bytes in block */
} dg_keccak_ctx;

/* One-shot Keccak-256.
 * Args: p:   input bytes (may be NULL when n == 0)
 *       n:   input length
 * Out:  out: 32-byte digest
 */
void dg_keccak256(const void *p, size_t n, uint8_t out[32]);

/* Start an incremental Keccak-256.
 * Out: ctx: initialised state
 */
void dg_keccak_init(dg_keccak_ctx *ctx);

/* Absorb more input; any split of the input gives the one-shot digest.
 * Args: ctx: state from dg_keccak_init
 * In:   p, n: input bytes
 */
void dg_keccak_update(dg_keccak_ctx *ctx, const void *p, size_t n);

/* Finish and write the digest; the context is wiped and must be
 * re-initialised before reuse.
 * Out: out: 32-byte digest
 */
void dg_keccak_final(dg_keccak_ctx *ctx, uint8_t out[32]);

/* One-shot SHA-256 (FIPS 180-4).
 * Args: p, n: input bytes
 * Out:  out:  32-byte digest
 */
void dg_sha256(const void *p, size_t n, uint8_t out[32]);

/* SHA-256 of a || b, without joining them first (e.g. a line and a suffix). */
void dg_sha256_concat(const void *a, size_t an, const void *b, size_t bn, uint8_t out[32]);

#endif
