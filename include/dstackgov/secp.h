/* secp.h — secp256k1 keys, Ethereum signatures and addresses.
 *
 * Built on libsecp256k1 with its recovery module. Signatures are Ethereum's:
 * r || s with s in the lower half of the order (EIP-2), plus a recovery id
 * 0 or 1 (v = 27 + recid for legacy messages, recid itself in typed
 * transactions, 35 + 2*chainId + recid under EIP-155). Signing is
 * deterministic (RFC 6979), so the same key and hash give the same signature.
 *
 * Private keys pass through caller-owned 32-byte buffers; wipe them with
 * dg_wipe when done. No function here prints or logs key material, and
 * error messages never contain it.
 */
#ifndef DSTACKGOV_SECP_H
#define DSTACKGOV_SECP_H

#include <stddef.h>
#include <stdint.h>

#include "dstackgov/err.h"
#include "dstackgov/secret.h" /* dg_wipe */

/* Public key of a private key, uncompressed without the 0x04 prefix.
 * Returns: 1, or 0 if priv is not a valid key (zero or >= the group order).
 * In:  priv:  32-byte private key
 * Out: pub64: x || y, 32 bytes each, big-endian
 */
int dg_secp_pubkey(const uint8_t priv[32], uint8_t pub64[64], dg_err *err);

/* Ethereum address of a public key: the last 20 bytes of keccak256(pub64).
 * In:  pub64: x || y
 * Out: addr:  20 bytes
 */
void dg_eth_address_from_pub(const uint8_t pub64[64], uint8_t addr[20]);

/* Ethereum address of a private key.
 * Returns: 1, or 0 if priv is not a valid key.
 * Out: addr: 20 bytes
 */
int dg_eth_address_from_priv(const uint8_t priv[32], uint8_t addr[20], dg_err *err);

/* Sign a 32-byte hash (the caller hashes; nothing is hashed here).
 * Returns: 1, or 0 if priv is not a valid key (outputs untouched).
 * In:  priv:   32-byte private key
 *      hash32: the message hash
 * Out: sig64:  r || s, big-endian, s low (EIP-2)
 *      recid:  recovery id, 0 or 1
 */
int dg_secp_sign(const uint8_t priv[32], const uint8_t hash32[32], uint8_t sig64[64], int *recid,
                 dg_err *err);

/* Recover the signer's address from a hash and a signature.
 * Returns: 1, or 0 (DG_ERR_INPUT) if the signature is malformed, recid is
 *          not 0..3, s is high, or no key recovers.
 * In:  hash32, sig64 (r || s), recid
 * Out: addr: 20 bytes
 */
int dg_secp_recover_address(const uint8_t hash32[32], const uint8_t sig64[64], int recid,
                            uint8_t addr[20], dg_err *err);

/* Parse a private key written as 64 hex digits with optional 0x (surrounding
 * whitespace allowed), and check it is a valid key.
 * Returns: 1, or 0 (DG_ERR_INPUT; the message never quotes the input).
 * Out: priv: 32 bytes (untouched on failure)
 */
int dg_privkey_parse(const char *hex, uint8_t priv[32], dg_err *err);

/* Load a private key from a file holding it as hex (dg_privkey_parse format),
 * through dg_secret_file_load (secret.h): a regular file not accessible by
 * group or others, at most 4096 bytes; buffers that held the key are wiped.
 * Returns: 1, or 0 with err: DG_ERR_KEY_FILE for every reason the file is
 *          unusable (missing, unreadable, mode too open, too large, not a
 *          valid key), the message starting "key file <path>: " and saying why;
 *          DG_ERR_NOMEM.
 * Out: priv: 32 bytes (untouched on failure)
 */
int dg_privkey_load_file(const char *path, uint8_t priv[32], dg_err *err);

#endif
