/* rpc_internal.h — private helpers shared by the lib/rpc sources (not installed). */
#ifndef DSTACKGOV_RPC_INTERNAL_H
#define DSTACKGOV_RPC_INTERNAL_H

#include <stddef.h>

#include "dstackgov/buf.h"
#include "dstackgov/rpc.h"

/* JSON text of the request(s) with ids first_id.. (malloc'd, NUL-terminated;
 * *len excludes the NUL), or NULL with err filled. params are not consumed. */
char *dg_jsonrpc_encode(dg_rpc_req *reqs, size_t n, long long first_id, int as_batch, size_t *len,
                        dg_err *err);

/* ------------------------------------------------------------ URLs (http_url.c) */

/* The parts of an endpoint URL that requests need. */
typedef struct {
    int https;      /* 1 for https://, 0 for http:// */
    char host[256]; /* lower-case; an IPv6 literal without its brackets */
    int ipv6;       /* host was [..] */
    char port[8];   /* the port given, or "" */
    char *target;   /* malloc'd: path (at least "/") and ?query, no #fragment */
    char *auth;     /* malloc'd "Basic <base64>" for user info, or NULL */
} dg_http_url;

/* Parse an endpoint URL. Returns 1, or 0 with err filled (DG_ERR_CONFIG,
 * naming the endpoint by its position idx only: a URL may hold a key).
 * Out: u (release with dg_http_url_free), label "scheme://host[:port]". */
int dg_http_url_parse(const char *url, size_t idx, dg_http_url *u, char *label, size_t cap,
                      dg_err *err);
void dg_http_url_free(dg_http_url *u);

/* ---------------------------------------------------- responses (http_parse.c) */

#define DG_HTTP_MAX_LINE 8192     /* status line, header line, chunk-size line */
#define DG_HTTP_MAX_HEADERS 16384 /* all header (and trailer) lines of a response */
#define DG_HTTP_MAX_FIELDS 100    /* header lines of a response */

/* Incremental HTTP/1.x response parser: bytes in, status and body out. */
typedef struct {
    int state;      /* private */
    int status;     /* final status code once headers are read */
    int keep_alive; /* the connection may carry another request afterwards */
    int chunked;
    int has_length;
    unsigned long long length; /* Content-Length when has_length */
    unsigned long long left;   /* private: bytes left of the body or chunk */
    size_t header_bytes, fields, line_len;
    char line[DG_HTTP_MAX_LINE];
    dg_buf *body; /* receives the body */
    size_t max_body;
    int too_big;  /* set when the body exceeded max_body */
    int nomem;    /* set when appending to body failed */
    char why[96]; /* when failed: what was wrong (no server text) */
} dg_http_resp;

enum { DG_HTTP_MORE = 0, DG_HTTP_DONE = 1, DG_HTTP_BAD = -1 };

/* Start parsing a response into body (emptied), which may grow to max_body. */
void dg_http_resp_init(dg_http_resp *r, dg_buf *body, size_t max_body);
/* Feed n bytes. Returns DG_HTTP_MORE (all consumed, want more), DG_HTTP_DONE
 * (response complete; *used bytes consumed, the rest belongs to no response)
 * or DG_HTTP_BAD (r->why says why; too_big/nomem flag those cases). */
int dg_http_resp_feed(dg_http_resp *r, const char *p, size_t n, size_t *used);
/* The server closed the connection. Returns DG_HTTP_DONE when that ends the
 * response (a body delimited by the close), DG_HTTP_BAD otherwise. */
int dg_http_resp_eof(dg_http_resp *r);
/* Whether any byte of a response has been fed. */
int dg_http_resp_started(const dg_http_resp *r);

/* --------------------------------------------------- connections (http.c) */

/* Why an exchange on a connection failed. */
typedef enum {
    DG_HTTP_OK = 0,
    DG_HTTP_E_RESOLVE,  /* host name did not resolve */
    DG_HTTP_E_REFUSED,  /* connection refused */
    DG_HTTP_E_CONNECT,  /* other connect failure */
    DG_HTTP_E_TIMEOUT,  /* deadline of the request reached */
    DG_HTTP_E_NOTHING,  /* closed without any byte of a response */
    DG_HTTP_E_IO,       /* send/recv failure or response cut short */
    DG_HTTP_E_PROTOCOL, /* malformed response (why says how) */
    DG_HTTP_E_TOO_BIG,  /* body over the cap */
    DG_HTTP_E_NOMEM
} dg_http_fail;

typedef struct dg_http_conn dg_http_conn;

/* A persistent connection to one endpoint (not connected until used). */
dg_http_conn *dg_http_conn_new(const dg_http_url *u);
void dg_http_conn_free(dg_http_conn *c);

/* Start a POST of body (application/json) on c, reusing its kept-alive
 * connection when the server has not closed it. The response body goes to
 * out (at most max_body bytes). deadline_ms is absolute (dg_rpc_now_ms).
 * may_repeat: the request may be sent again on a fresh connection when a
 * reused one turns out to be closed after the request was written (reads).
 * Returns 1, or 0 when out of memory. */
int dg_http_start(dg_http_conn *c, const char *body, size_t blen, long long deadline_ms,
                  int may_repeat, dg_buf *out, size_t max_body);
/* Make progress without blocking. Returns 0 while the exchange runs, 1 when
 * it ended (see dg_http_result). */
int dg_http_step(dg_http_conn *c);
/* The descriptor and poll events the running exchange waits for (fd -1 if
 * none), and the absolute deadline. */
void dg_http_want(const dg_http_conn *c, int *fd, short *events, long long *deadline_ms);
/* Outcome of the ended exchange: failure class, HTTP status, whether any
 * byte of the request may have reached the server, and for
 * DG_HTTP_E_PROTOCOL a short reason. */
dg_http_fail dg_http_result(const dg_http_conn *c, int *status, int *sent, const char **why);
/* Abandon a running exchange (closes the connection). */
void dg_http_abort(dg_http_conn *c);

/* ---------------------------------------------- libcurl at run time (curl_dl.c) */

#ifndef CURL_DISABLE_TYPECHECK
#define CURL_DISABLE_TYPECHECK 1
#endif
#include <curl/curl.h>

/* OpenSSL 3's functions for one CA store per process (tls.c); the types are
 * opaque here (X509_STORE *, SSL_CTX *) so no OpenSSL header is needed. */
typedef struct {
    void *(*store_new)(void);
    void (*store_free)(void *store);
    int (*store_up_ref)(void *store);
    int (*store_load_file)(void *store, const char *file);
    int (*store_set_flags)(void *store, unsigned long flags);
    void (*err_clear)(void);
    void (*ctx_set1_store)(void *ssl_ctx, void *store);
} dg_ossl_api;

/* libcurl's entry points, resolved by dlopen on first use. */
typedef struct {
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
    void (*easy_cleanup)(CURL *);
    const char *(*easy_strerror)(CURLcode);
    CURLM *(*multi_init)(void);
    CURLMcode (*multi_add_handle)(CURLM *, CURL *);
    CURLMcode (*multi_remove_handle)(CURLM *, CURL *);
    CURLMcode (*multi_perform)(CURLM *, int *);
    CURLMsg *(*multi_info_read)(CURLM *, int *);
    CURLMcode (*multi_poll)(CURLM *, struct curl_waitfd *, unsigned, int, int *);
    CURLMcode (*multi_cleanup)(CURLM *);
    const char *(*multi_strerror)(CURLMcode);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
    CURLSH *(*share_init)(void);
    CURLSHcode (*share_setopt)(CURLSH *, CURLSHoption, ...);
    CURLSHcode (*share_cleanup)(CURLSH *);
    CURLSH *share;        /* TLS sessions and DNS of the clients libcurl loads CAs for */
    char default_ca[512]; /* libcurl's built-in CA bundle (the system's store), or "" */
    dg_ossl_api ossl;     /* all NULL unless libcurl runs on OpenSSL 3 */
} dg_curl_api;

/* Load libcurl.so.4 once per process and initialise it. Returns the table,
 * or NULL with err filled (DG_ERR_CONFIG, saying why it could not be loaded). */
const dg_curl_api *dg_curl_load(dg_err *err);

/* A share object for TLS sessions and DNS answers, locked for threads, or
 * NULL. Sessions are only ever shared between clients with the same trust. */
CURLSH *dg_curl_share_new(const dg_curl_api *cu);

/* ------------------------------------------------------ TLS policy (tls.c) */

/* The trust of https:// clients: the CAs of one file (or the system's
 * store), loaded once per process and file while the file is unchanged, and
 * the share object of the clients that trust exactly those CAs. */
typedef struct dg_tls_trust dg_tls_trust;

/* Take a reference to the trust for ca_file (NULL: the system's store).
 * Returns 1 with *out set — NULL when libcurl is not on OpenSSL 3 and loads
 * the CAs itself — or 0 with err (DG_ERR_CONFIG: the file's CAs could not be
 * loaded; DG_ERR_NOMEM). */
int dg_tls_trust_get(const dg_curl_api *cu, const char *ca_file, dg_tls_trust **out, dg_err *err);
/* Drop a reference (after the easy handles using it were cleaned up). */
void dg_tls_trust_put(const dg_curl_api *cu, dg_tls_trust *t);

/* Set the TLS options of an https:// easy handle: TLS 1.2 or later, peer and
 * host name verification on, the trust (or, without one, libcurl loading the
 * CA file or its built-in bundle itself), and errbuf (CURL_ERROR_SIZE) for
 * the details of a failure. Returns 1, or 0 when libcurl refused an option. */
int dg_tls_setup(const dg_curl_api *cu, CURL *h, const char *ca_file, dg_tls_trust *trust,
                 char *errbuf);

/* Describe a failed transfer when the failure is TLS's: which check refused
 * the server (expired, wrong host, untrusted CA, not TLS at all, ...).
 * Returns 1 with the message in out, or 0 when cc is not a TLS failure. */
int dg_tls_failure(const dg_curl_api *cu, CURL *h, CURLcode cc, const char *errbuf,
                   const char *host, char *out, size_t cap);

#endif
