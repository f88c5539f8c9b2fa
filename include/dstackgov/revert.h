/* revert.h — turn a contract's revert data into one human sentence.
 *
 * A reverted call returns bytes: `Error(string)` (a require message),
 * `Panic(uint256)` (an assert, overflow, bad index, ...), or a custom error
 * `Name(args)` (OpenZeppelin's OwnableUnauthorizedAccount, ...). The CLI
 * prints the sentence and maps the class to its exit code.
 */
#ifndef DSTACKGOV_REVERT_H
#define DSTACKGOV_REVERT_H

#include <stddef.h>
#include <stdint.h>

#include "dstackgov/err.h"

/* Describe revert data.
 *
 *   Error(string)                         -> the string itself (control
 *                                            characters shown as '?')
 *   Panic(uint256)                        -> "panic 0x11 (arithmetic overflow)"
 *   OwnableUnauthorizedAccount(address)   -> "0x<checksummed> is not the owner",
 *                                            klass DG_ERR_NOT_OWNER
 *   the other OpenZeppelin errors of reference/ethereum.md §1.2, and every
 *   other error in the contracts' ABIs (AddressEmptyCode, FailedDeployment)
 *                                         -> a sentence naming the error
 *   no data                               -> "reverted without a reason"
 *   anything else                         -> "unknown error 0x<selector>"
 *
 * Returns 1 if the data was recognised and well-formed, 0 otherwise (unknown
 * selector, too short, malformed arguments); out is filled in both cases.
 * Out: out:   the sentence, NUL-terminated, truncated to outlen-1 bytes.
 *      klass: (may be NULL) DG_ERR_NOT_OWNER for OwnableUnauthorizedAccount,
 *             DG_ERR_REVERT for everything else.
 * In:  data, len: the revert data (may be NULL when len is 0).
 *      outlen:    size of out (>= 1).
 */
int dg_revert_decode(const uint8_t *data, size_t len, char *out, size_t outlen, dg_err_code *klass);

/* Same, from revert data as JSON-RPC error data gives it: "0x" + hex.
 * Malformed hex yields "malformed revert data" and returns 0. */
int dg_revert_decode_hex(const char *hex, char *out, size_t outlen, dg_err_code *klass);

/* The meaning of a Solidity panic code ("arithmetic overflow", ...), or NULL
 * for a code the compiler does not define. */
const char *dg_revert_panic_reason(uint64_t code);

#endif
