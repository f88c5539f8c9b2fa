/* rpc.h — Ethereum JSON-RPC over HTTP(S): timeouts, retries, batches,
 * failover and quorum across several endpoints.
 *
 * A dg_rpc holds one connection per endpoint and keeps it alive between
 * calls, so a call to a local node costs one request on an already-open
 * socket. http:// endpoints use the library's own HTTP/1.1 client; https://
 * endpoints use libcurl, loaded at run time (dlopen "libcurl.so.4") by the
 * first dg_rpc_new given an https:// URL — a process with only http://
 * endpoints never loads it, and dg_rpc_new fails with DG_ERR_CONFIG when it
 * is needed but cannot be loaded. JSON values are jansson `json_t *`.
 *
 * TLS (https://): TLS 1.2 or later; the server's certificate chain is
 * verified against the system's CA store, or only against the CAs of
 * opts.ca_file when one is given (a private CA), and its name against the
 * URL's host. Neither check can be turned off. The CAs are parsed once per
 * process and file (again when the file changed), and TLS sessions are shared
 * by the dg_rpc objects that trust the same CAs, so a new connection resumes
 * a session. A
 * refused handshake fails like an unreachable endpoint (DG_ERR_RPC_UNREACHABLE)
 * with a message that says which check failed, e.g. "rpc https://h:443: TLS:
 * the server's certificate has expired", "... is not valid for host h",
 * "... is not signed by a trusted CA", "TLS handshake failed: the server
 * does not speak TLS (a plain-HTTP server on an https:// URL?)".
 *
 * How a call picks endpoints:
 *  - quorum 0 or 1: endpoints are tried in the order given; the first that
 *    answers wins. A transport failure (unreachable, timeout, HTTP status other
 *    than 2xx, a body that is not a JSON-RPC response) moves on to the next.
 *  - quorum k > 1: k endpoints are asked in parallel; the call succeeds when k
 *    of them return identical JSON (json_equal on the whole answer, result or
 *    error, of every request of a batch). More endpoints are asked, in order,
 *    while k identical answers are still possible. Otherwise the call fails
 *    with DG_ERR_DISAGREE "RPC endpoints disagree".
 *  - A JSON-RPC error object is an answer, not a transport failure: it is not
 *    retried and does not fail over.
 *  - Reads (see dg_rpc_method_is_read) are retried after a transport failure
 *    on every endpoint: up to opts.retries more rounds over the endpoints that
 *    failed, sleeping backoff_ms, 2*backoff_ms, ... between rounds. Anything
 *    else (eth_sendRawTransaction) is sent once per endpoint and fails over
 *    only when the connection could not be opened, because a request that
 *    may have reached a node must not be repeated blindly.
 *  - Every HTTP request is bounded by opts.timeout_ms and by the absolute
 *    deadline (dg_rpc_set_deadline) if one is set, including backoff sleeps.
 *
 * Errors name the endpoint by its label scheme://host[:port] only — never its
 * path, query or user info, where providers put API keys — e.g.
 * "rpc http://127.0.0.1:8545: connection refused". Classes: DG_ERR_RPC_UNREACHABLE
 * (could not connect), DG_ERR_RPC_TIMEOUT (timeout or deadline passed),
 * DG_ERR_RPC_RESPONSE (HTTP error, garbage, or a JSON-RPC error object),
 * DG_ERR_DISAGREE (quorum not reached), DG_ERR_INPUT/DG_ERR_CONFIG (bad
 * arguments), DG_ERR_NOMEM.
 *
 * Thread safety: a dg_rpc is NOT thread-safe. Use one per thread, or hold a
 * lock around every call on a shared one. Different dg_rpc objects may be
 * used from different threads at the same time.
 */
#ifndef DSTACKGOV_RPC_H
#define DSTACKGOV_RPC_H

#include <jansson.h>
#include <stddef.h>

#include "dstackgov/err.h"

typedef struct dg_rpc dg_rpc;

typedef struct {
    long timeout_ms; /* per HTTP request; 0 = default 5000 */
    int retries;     /* extra rounds for reads after transport failures; -1 = none, 0 = default 2 */
    long backoff_ms; /* first backoff sleep, doubled each round; 0 = default 50 */
    unsigned quorum; /* 0/1 = first answer wins, failover in order; k = k identical answers */
    const char *ca_file; /* PEM file of the CA certificates trusted for https:// endpoints,
                            instead of the system's store; NULL = the system's store. Checked
                            (dg_rpc_ca_file_check) and copied by dg_rpc_new. Chain-neutral: any
                            backend passes its own setting (eth.rpc_ca_file, near.rpc_ca_file). */
} dg_rpc_opts;

/* Check that a CA file can be used as dg_rpc_opts.ca_file: a readable
 * regular file of at most 16 MiB holding at least one PEM certificate
 * ("-----BEGIN CERTIFICATE-----"). No network, no TLS library needed.
 * Returns: 1, or 0 with err (DG_ERR_CONFIG) naming the path and the problem.
 */
int dg_rpc_ca_file_check(const char *path, dg_err *err);

/* Create a client for one or more endpoints.
 * Returns: the client, or NULL with err filled (DG_ERR_CONFIG for a bad URL,
 *          a scheme other than http/https, nurls == 0, quorum > nurls, or a
 *          CA file that dg_rpc_ca_file_check refuses).
 * Args: urls:  nurls endpoint URLs (http:// or https://; may carry an API key in
 *              the path or query — it is used for requests and never shown)
 *       opts:  options, or NULL for the defaults
 */
dg_rpc *dg_rpc_new(const char *const *urls, size_t nurls, const dg_rpc_opts *opts, dg_err *err);

/* Close connections and free the client. NULL is allowed. */
void dg_rpc_free(dg_rpc *rpc);

/* Make one JSON-RPC call.
 * Returns: 1 with *result set (a new reference; may be JSON null), or 0 with
 *          err filled. For a JSON-RPC error object the message is
 *          "rpc <label>: <method>: <message> (code <n>)" with class
 *          DG_ERR_RPC_RESPONSE, and its `data` (revert data, "0x...") stays
 *          readable with dg_rpc_last_error_data until the next call.
 * Args: method: e.g. "eth_call"
 *       params: a JSON array, or NULL for []; the reference is stolen
 *                (released even on failure)
 * Out:  result: the `result` member of the answer
 */
int dg_rpc_call(dg_rpc *rpc, const char *method, json_t *params, json_t **result, dg_err *err);

/* One request of a batch. Fill method and params; the rest is output. */
typedef struct {
    const char *method;
    json_t *params;     /* array or NULL; stolen by dg_rpc_batch (set to NULL) */
    json_t *result;     /* out: new reference, NULL on error */
    int ok;             /* out: 1 when result is set */
    char error[256];    /* out: when !ok, "<method>: <message> (code <n>)" */
    json_t *error_data; /* out: new reference to the JSON-RPC error's data, or NULL */
    long error_code;    /* out: the JSON-RPC error code when !ok (0 if none) */
    json_t *error_obj;  /* out: new reference to the whole JSON-RPC error object, or NULL
                           (NEAR nodes put a structured `cause` beside code and message) */
} dg_rpc_req;

/* Send n requests as one JSON-RPC batch: one HTTP round trip per endpoint
 * asked. Failover, retries and quorum apply to the batch as a whole (it is a
 * read if every method in it is).
 * Returns: 1 when an endpoint (or a quorum) answered every request — each
 *          request then has ok=1 and a result, or ok=0 and its own error;
 *          0 with err filled when no usable answer came (then every
 *          request has ok=0 and error holds err's message).
 * Args: reqs, n: the requests (n >= 1); release outputs with dg_rpc_req_clear
 */
int dg_rpc_batch(dg_rpc *rpc, dg_rpc_req *reqs, size_t n, dg_err *err);

/* Release result, error_data, error_obj and params of n requests and zero them. */
void dg_rpc_req_clear(dg_rpc_req *reqs, size_t n);

/* Number of endpoints. */
size_t dg_rpc_endpoint_count(const dg_rpc *rpc);

/* Label of endpoint i: "scheme://host[:port]" — never path, query or user info.
 * Returns: the label (owned by rpc), or "?" when i is out of range. */
const char *dg_rpc_endpoint_label(const dg_rpc *rpc, size_t i);

/* Index of the endpoint whose answer the last successful call used (for
 * quorum, the first endpoint of the agreeing group), or (size_t)-1. */
size_t dg_rpc_last_endpoint(const dg_rpc *rpc);

/* Set an absolute deadline for the following calls, in milliseconds of
 * dg_rpc_now_ms (CLOCK_MONOTONIC). A call that reaches it fails with
 * DG_ERR_RPC_TIMEOUT "deadline passed". 0 removes the deadline.
 * Returns: 1. */
int dg_rpc_set_deadline(dg_rpc *rpc, long long deadline_ms_monotonic);

/* Milliseconds of CLOCK_MONOTONIC, the clock of dg_rpc_set_deadline. */
long long dg_rpc_now_ms(void);

/* Per-endpoint counters for metrics: HTTP requests sent, and those that
 * failed at transport level (unreachable, timeout, HTTP error, garbage).
 * JSON-RPC error answers are not counted as errors.
 * Returns: 1, or 0 if i is out of range (outputs untouched).
 * Out: calls, errors (either may be NULL) */
int dg_rpc_stats(const dg_rpc *rpc, size_t i, unsigned long *calls, unsigned long *errors);

/* The `data` of the last dg_rpc_call's JSON-RPC error as a string ("0x..."
 * revert data for reverts), or NULL. Valid until the next call on rpc. */
const char *dg_rpc_last_error_data(const dg_rpc *rpc);

/* The whole JSON-RPC error object of the last dg_rpc_call, or NULL when it
 * did not fail with one. Borrowed: valid until the next call on rpc. */
const json_t *dg_rpc_last_error(const dg_rpc *rpc);

/* The code of the last dg_rpc_call's JSON-RPC error (e.g. 3 or -32000), 0 if
 * the last call did not fail with a JSON-RPC error object. */
long dg_rpc_last_error_code(const dg_rpc *rpc);

/* Whether a method is a read that may be retried and repeated on another
 * endpoint (eth_call, eth_getBalance, eth_blockNumber, ...).
 * Returns: 1 for a read, 0 otherwise (eth_sendRawTransaction, unknown). */
int dg_rpc_method_is_read(const char *method);

/* Decode a JSON-RPC response body (no network; used by dg_rpc_call/batch,
 * exposed for tests and fuzzing). The request had ids first_id .. first_id+n-1;
 * as_batch says whether it was sent as a batch (array) or a single object.
 * Returns: 1 when body is a well-formed answer to every request (each
 *          reqs[i] then holds its result or its own error), 0 otherwise
 *          (err: DG_ERR_RPC_RESPONSE naming the problem; reqs untouched).
 * Args: body, len: the HTTP body (need not be NUL-terminated)
 * Out:  reqs[0..n): result/ok/error/error_data/error_code (method is read
 *       for messages and may be NULL)
 */
int dg_jsonrpc_decode(const char *body, size_t len, long long first_id, int as_batch,
                      dg_rpc_req *reqs, size_t n, dg_err *err);

#endif
