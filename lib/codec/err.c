/* err.c — filling dg_err (see include/dstackgov/err.h).
 *
 * Messages are truncated, never overflowed; wrapping prepends context so the
 * final line reads outermost-first ("kms add-image: rpc http://h: timeout").
 */
#include "dstackgov/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int dg_err_set(dg_err *err, dg_err_code code, const char *fmt, ...) {
    if (!err) return 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    err->code = code;
    return 0;
}

int dg_err_wrap(dg_err *err, const char *fmt, ...) {
    if (!err) return 0;
    char prefix[256], old[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    /* assemble by hand: truncation is intended, and snprintf would warn */
    size_t n = strnlen(prefix, sizeof prefix), m = strnlen(old, sizeof old - 1);
    size_t cap = sizeof err->msg - 1, k = 0;
    for (size_t i = 0; i < n && k < cap; i++)
        err->msg[k++] = prefix[i];
    for (size_t i = 0; i < 2 && k < cap; i++)
        err->msg[k++] = ": "[i];
    for (size_t i = 0; i < m && k < cap; i++)
        err->msg[k++] = old[i];
    err->msg[k] = 0;
    return 0;
}

static const char *const g_err_names[] = {
    [DG_OK] = "ok",
    [DG_ERR_INPUT] = "input",
    [DG_ERR_CONFIG] = "config",
    [DG_ERR_RPC_UNREACHABLE] = "rpc-unreachable",
    [DG_ERR_RPC_TIMEOUT] = "rpc-timeout",
    [DG_ERR_RPC_RESPONSE] = "rpc-response",
    [DG_ERR_CHAIN_ID] = "chain-id",
    [DG_ERR_REVERT] = "revert",
    [DG_ERR_NOT_OWNER] = "not-owner",
    [DG_ERR_FUNDS] = "insufficient-funds",
    [DG_ERR_NO_CODE] = "no-code",
    [DG_ERR_DISAGREE] = "rpc-disagree",
    [DG_ERR_IO] = "io",
    [DG_ERR_NOMEM] = "nomem",
    [DG_ERR_CANCELLED] = "cancelled",
    [DG_ERR_INTERNAL] = "internal",
    [DG_ERR_KEY_FILE] = "key-file",
    [DG_ERR_DROPPED] = "tx-dropped",
    [DG_ERR_PROPOSAL] = "proposal",
};

const char *dg_err_name(dg_err_code code) {
    if ((unsigned)code < sizeof g_err_names / sizeof g_err_names[0] && g_err_names[code])
        return g_err_names[code];
    return "unknown";
}
