/* rpc_internal.h — private helpers shared by the lib/rpc sources (not installed). */
#ifndef DSTACKGOV_RPC_INTERNAL_H
#define DSTACKGOV_RPC_INTERNAL_H

#include <stddef.h>

#include "dstackgov/rpc.h"

/* JSON text of the request(s) with ids first_id.. (malloc'd, NUL-terminated;
 * *len excludes the NUL), or NULL with err filled. params are not consumed. */
char *dg_jsonrpc_encode(dg_rpc_req *reqs, size_t n, long long first_id, int as_batch,
                        size_t *len, dg_err *err);

/* Copy at most maxlen bytes of src into dst (capacity cap), replacing control
 * characters, so text from a server is safe to put in a one-line message. */
void dg_rpc_sanitize(char *dst, size_t cap, const char *src, size_t maxlen);

#endif
