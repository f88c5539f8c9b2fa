/* err.h — how the library reports failure.
 *
 * Library functions never print or exit. A function that can fail takes a
 * `dg_err *err` (may be NULL) and returns 1 on success, 0 on failure; on
 * failure it fills err->code with one class below and err->msg with one
 * sentence that names the thing that failed and why (never a secret, never an
 * RPC API key). Programs map the class to an exit code and print err->msg.
 */
#ifndef DSTACKGOV_ERR_H
#define DSTACKGOV_ERR_H

#include <stddef.h>

typedef enum {
    DG_OK = 0,
    DG_ERR_INPUT = 1,           /* malformed user/request input (bad hex, wrong length, bad flag) */
    DG_ERR_CONFIG = 2,          /* bad configuration file or environment */
    DG_ERR_RPC_UNREACHABLE = 3, /* could not connect to any endpoint */
    DG_ERR_RPC_TIMEOUT = 4,     /* endpoint did not answer in time / deadline passed */
    DG_ERR_RPC_RESPONSE = 5,    /* endpoint answered garbage or a JSON-RPC error */
    DG_ERR_CHAIN_ID = 6,        /* chain id differs from the expected one */
    DG_ERR_REVERT = 7,          /* the contract reverted (message holds the decoded reason) */
    DG_ERR_NOT_OWNER = 8,       /* reverted with OwnableUnauthorizedAccount */
    DG_ERR_FUNDS = 9,           /* insufficient funds for gas * price + value */
    DG_ERR_NO_CODE = 10,        /* no contract code at the address */
    DG_ERR_DISAGREE = 11,       /* RPC endpoints disagree (quorum not reached) */
    DG_ERR_IO = 12,             /* file or OS error */
    DG_ERR_NOMEM = 13,          /* allocation failed */
    DG_ERR_CANCELLED = 14,      /* user declined a confirmation */
    DG_ERR_INTERNAL = 15,       /* a bug: should not happen */
    DG_ERR_KEY_FILE = 16,       /* a key file is unusable: missing, unreadable, mode too open,
                                   malformed (the message says which) */
    DG_ERR_DROPPED = 17,        /* a sent transaction was dropped by the node: neither mined nor
                                   pending, so it will not land (safe to send again) */
    DG_ERR_PROPOSAL = 18        /* a Safe proposal does not verify: its hash does not match its
                                   content, a signature is not its signer's or not an owner's,
                                   fewer signatures than the threshold */
} dg_err_code;

/* The highest class, for tables and loops over every class. */
#define DG_ERR_LAST DG_ERR_PROPOSAL

typedef struct {
    dg_err_code code;
    char msg[512];
} dg_err;

/* Fill err (if non-NULL) with code and a printf-style message; returns 0 so
 * callers can write `return dg_err_set(err, DG_ERR_INPUT, "...")`. */
int dg_err_set(dg_err *err, dg_err_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefix the existing message with "<prefix>: " (for context); returns 0. */
int dg_err_wrap(dg_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Short stable name of a class, e.g. "input", "rpc-unreachable". */
const char *dg_err_name(dg_err_code code);

#endif
