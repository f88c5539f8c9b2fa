/* tls.c — the TLS policy of https:// endpoints: what is checked, what is
 * trusted, and how a refusal is told.
 *
 * The one idea: verification is not a setting. Every https:// handle gets
 * peer and host name verification, TLS 1.2 or later, and a trust store that
 * is either the system's or exactly the CAs of one PEM file (a private CA
 * next to a KMS); nothing in the library's API can weaken that. When a
 * handshake is refused, libcurl's code, OpenSSL's verify result and
 * libcurl's error text are mapped, through two tables, to a message that
 * names the failed check, so an operator can tell an expired certificate
 * from a wrong host, an unknown CA or a server that does not speak TLS.
 *
 * Trust is loaded once per process: OpenSSL 3 takes ~25 ms and 1.4 MiB to
 * parse the system's bundle, and libcurl would do it for every client (each
 * has its own multi handle: dstack-authd has five). With libcurl on OpenSSL
 * 3, a dg_tls_trust holds one X509 store per CA file, handed to every TLS
 * context through CURLOPT_SSL_CTX_FUNCTION, and the share object of the
 * clients with that trust, so a TLS session is only resumed by a client that
 * trusts the same CAs. A file that changed (SIGHUP after replacing it) gets a
 * new trust; clients made before keep the old one until they are freed.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "rpc_internal.h"
#include "dstackgov/utf8.h"

#define CA_FILE_MAX (16u << 20)

static int same_file(const struct stat *a, const struct stat *b) {
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* Files that passed dg_rpc_ca_file_check, as they were then. The check runs
 * once per process and file: dstack-authd makes a client per decider thread
 * with the same CA file (nine at start), and each would open and scan it
 * again. A later call only stats the path; a file that changed since (another
 * inode, size or mtime: SIGHUP after replacing it) is checked again, and a
 * refused file is never remembered, so a refusal is always told afresh. */
#define CA_CHECKED_MAX 8
static struct {
    char *path;
    struct stat st;
} g_checked[CA_CHECKED_MAX];
static unsigned g_checked_next;
static pthread_mutex_t g_checked_mu = PTHREAD_MUTEX_INITIALIZER;

static int ca_checked(const char *path) {
    struct stat st;
    if (stat(path, &st) != 0) return 0;
    int hit = 0;
    pthread_mutex_lock(&g_checked_mu);
    for (unsigned i = 0; i < CA_CHECKED_MAX && !hit; i++)
        hit = g_checked[i].path && strcmp(g_checked[i].path, path) == 0 &&
              same_file(&g_checked[i].st, &st);
    pthread_mutex_unlock(&g_checked_mu);
    return hit;
}

static void ca_remember(const char *path, const struct stat *st) {
    pthread_mutex_lock(&g_checked_mu);
    unsigned i = 0;
    while (i < CA_CHECKED_MAX && g_checked[i].path && strcmp(g_checked[i].path, path) != 0)
        i++;
    if (i == CA_CHECKED_MAX) { /* full: replace the oldest */
        i = g_checked_next++ % CA_CHECKED_MAX;
        free(g_checked[i].path);
        g_checked[i].path = NULL;
    }
    if (!g_checked[i].path) g_checked[i].path = strdup(path); /* no memory: not remembered */
    g_checked[i].st = *st;
    pthread_mutex_unlock(&g_checked_mu);
}

int dg_rpc_ca_file_check(const char *path, dg_err *err) {
    if (!path || !*path) return dg_err_set(err, DG_ERR_CONFIG, "CA file: empty path");
    if (ca_checked(path)) return 1;
    FILE *f = fopen(path, "rb");
    if (!f) return dg_err_set(err, DG_ERR_CONFIG, "CA file %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return dg_err_set(err, DG_ERR_CONFIG, "CA file %s: not a regular file", path);
    }
    if ((unsigned long long)st.st_size > CA_FILE_MAX) {
        fclose(f);
        return dg_err_set(err, DG_ERR_CONFIG, "CA file %s: larger than 16 MiB", path);
    }
    /* Look for the PEM marker line by line (a bundle is a few hundred KiB). */
    static const char marker[] = "-----BEGIN CERTIFICATE-----";
    char line[256];
    int found = 0;
    while (!found && fgets(line, sizeof line, f))
        found = strncmp(line, marker, sizeof marker - 1) == 0;
    int rd = ferror(f);
    fclose(f);
    if (rd) return dg_err_set(err, DG_ERR_CONFIG, "CA file %s: read error", path);
    if (!found)
        return dg_err_set(err, DG_ERR_CONFIG,
                          "CA file %s: no PEM certificate in it (expected a line "
                          "\"%s\")",
                          path, marker);
    ca_remember(path, &st);
    return 1;
}

struct dg_tls_trust {
    char *path; /* the CA file */
    struct stat st;
    void *store; /* X509_STORE * */
    CURLSH *share;
    const dg_curl_api *cu;
    unsigned refs; /* under g_trust_mu; the cache's own counts as one */
    dg_tls_trust *next;
};

static pthread_mutex_t g_trust_mu = PTHREAD_MUTEX_INITIALIZER;
static dg_tls_trust *g_trusts;

static void trust_free(const dg_curl_api *cu, dg_tls_trust *t) {
    cu->ossl.store_free(t->store);
    if (t->share) cu->share_cleanup(t->share);
    free(t->path);
    free(t);
}

int dg_tls_trust_get(const dg_curl_api *cu, const char *ca_file, dg_tls_trust **out, dg_err *err) {
    *out = NULL;
    if (!cu->ossl.store_new) return 1; /* libcurl loads the CAs itself */
    const char *path = ca_file ? ca_file : cu->default_ca;
    struct stat st;
    if (stat(path, &st) != 0)
        return dg_err_set(err, DG_ERR_CONFIG, "CA file %s: %s", path, strerror(errno));
    pthread_mutex_lock(&g_trust_mu);
    dg_tls_trust **pp = &g_trusts;
    for (; *pp; pp = &(*pp)->next)
        if (strcmp((*pp)->path, path) == 0) break;
    dg_tls_trust *t = *pp;
    if (t && same_file(&t->st, &st)) {
        t->refs++;
        pthread_mutex_unlock(&g_trust_mu);
        *out = t;
        return 1;
    }
    if (t) { /* the file changed: new clients get a new trust */
        *pp = t->next;
        if (--t->refs == 0) trust_free(cu, t);
    }
    int ok = 0;
    t = calloc(1, sizeof *t);
    if (!t || !(t->path = strdup(path)) || !(t->store = cu->ossl.store_new()) ||
        !(t->share = dg_curl_share_new(cu))) {
        dg_err_set(err, DG_ERR_NOMEM, "out of memory for the CA store");
    } else if (!cu->ossl.store_load_file(t->store, path) ||
               /* The flags libcurl gives the stores it loads: a CA of the file is an
                  anchor even when it is an intermediate (X509_V_FLAG_PARTIAL_CHAIN,
                  0x80000), trusted certificates first (X509_V_FLAG_TRUSTED_FIRST, 0x8000).
                  libcurl 7.88 sets them again on this store at each new connection, after
                  set_store: set here, before any thread shares the store, those writes
                  never change it. */
               !cu->ossl.store_set_flags(t->store, 0x80000UL | 0x8000UL)) {
        cu->ossl.err_clear();
        dg_err_set(err, DG_ERR_CONFIG, "CA file %s: OpenSSL could not load its certificates", path);
    } else {
        t->st = st;
        t->cu = cu;
        t->refs = 2; /* the cache's and the caller's */
        t->next = g_trusts;
        g_trusts = t;
        *out = t;
        ok = 1;
    }
    pthread_mutex_unlock(&g_trust_mu);
    if (!ok && t) trust_free(cu, t);
    return ok;
}

void dg_tls_trust_put(const dg_curl_api *cu, dg_tls_trust *t) {
    if (!t) return;
    pthread_mutex_lock(&g_trust_mu);
    int last = --t->refs == 0;
    pthread_mutex_unlock(&g_trust_mu);
    if (last) trust_free(cu, t);
}

/* libcurl calls this with each new connection's SSL_CTX after its own
 * set-up: the context trusts exactly the trust's store. */
static CURLcode set_store(CURL *h, void *ssl_ctx, void *ud) {
    (void)h;
    const dg_tls_trust *t = ud;
    t->cu->ossl.ctx_set1_store(ssl_ctx, t->store);
    return CURLE_OK;
}

int dg_tls_setup(const dg_curl_api *cu, CURL *h, const char *ca_file, dg_tls_trust *trust,
                 char *errbuf) {
    int bad = 0;
    bad |= cu->easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK;
    bad |= cu->easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK;
    bad |= cu->easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2) != CURLE_OK;
    if (trust) {
        /* libcurl loads nothing; set_store gives every context the shared store */
        bad |= cu->easy_setopt(h, CURLOPT_CAINFO, (char *)NULL) != CURLE_OK;
        bad |= cu->easy_setopt(h, CURLOPT_CAPATH, (char *)NULL) != CURLE_OK;
        bad |= cu->easy_setopt(h, CURLOPT_SSL_CTX_FUNCTION, set_store) != CURLE_OK;
        bad |= cu->easy_setopt(h, CURLOPT_SSL_CTX_DATA, trust) != CURLE_OK;
        bad |= cu->easy_setopt(h, CURLOPT_SHARE, trust->share) != CURLE_OK;
    } else {
        if (ca_file) {
            /* only the file's CAs: the system's directory of CAs must not add to them */
            bad |= cu->easy_setopt(h, CURLOPT_CAINFO, ca_file) != CURLE_OK;
            bad |= cu->easy_setopt(h, CURLOPT_CAPATH, (char *)NULL) != CURLE_OK;
        }
        bad |= cu->easy_setopt(h, CURLOPT_SHARE, cu->share) != CURLE_OK;
    }
    bad |= cu->easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf) != CURLE_OK;
    return !bad;
}

/* OpenSSL's X509_V_ERR_* codes (stable numbers of its ABI) as the reason a
 * certificate was refused. */
static const struct {
    long code;
    const char *why;
} VERIFY[] = {
    {2, "is not signed by a trusted CA (issuer unknown)"},
    {18, "is self-signed and not trusted"},
    {19, "is not signed by a trusted CA (self-signed CA in the chain)"},
    {20, "is not signed by a trusted CA"},
    {21, "is not signed by a trusted CA (cannot verify the first certificate)"},
    {7, "has a bad signature"},
    {9, "is not valid yet"},
    {10, "has expired"},
    {23, "was revoked"},
    {24, "chain holds a certificate that is not a CA"},
    {26, "is not meant for TLS servers (key usage)"},
    {62, "is not valid for host"}, /* followed by the host */
};

/* libcurl's error text (from its TLS backend) for handshakes that failed
 * before any certificate was seen. */
static const struct {
    const char *needle;
    const char *why;
} HANDSHAKE[] = {
    {"wrong version number", "the server does not speak TLS (a plain-HTTP server on an https:// "
                             "URL?)"},
    {"packet length too long", "the server does not speak TLS (a plain-HTTP server on an "
                               "https:// URL?)"},
    {"unexpected eof", "the server closed the connection during the handshake"},
    {"unsupported protocol", "no TLS version in common (TLS 1.2 or later is required)"},
    {"no protocols available", "no TLS version in common (TLS 1.2 or later is required)"},
    {"handshake failure", "no cipher suite or key exchange in common, or the server refused"},
    {"alert", "the server refused the handshake"},
};

int dg_tls_failure(const dg_curl_api *cu, CURL *h, CURLcode cc, const char *errbuf,
                   const char *host, char *out, size_t cap) {
    char detail[200];
    dg_utf8_clean_str(detail, sizeof detail, errbuf && errbuf[0] ? errbuf : cu->easy_strerror(cc),
                      160);
    switch (cc) {
    case CURLE_PEER_FAILED_VERIFICATION: {
        long vr = 0;
        cu->easy_getinfo(h, CURLINFO_SSL_VERIFYRESULT, &vr);
        /* libcurl checks the host name itself, after the chain; its text says so */
        if (strstr(detail, "host name") || strstr(detail, "subject name")) vr = 62;
        for (size_t i = 0; i < sizeof VERIFY / sizeof VERIFY[0]; i++)
            if (VERIFY[i].code == vr) {
                snprintf(out, cap, "TLS: the server's certificate %s%s%s", VERIFY[i].why,
                         vr == 62 ? " " : "", vr == 62 ? host : "");
                return 1;
            }
        snprintf(out, cap, "TLS: the server's certificate was refused: %s", detail);
        return 1;
    }
    case CURLE_SSL_CONNECT_ERROR:
        for (size_t i = 0; i < sizeof HANDSHAKE / sizeof HANDSHAKE[0]; i++)
            if (strstr(detail, HANDSHAKE[i].needle)) {
                snprintf(out, cap, "TLS handshake failed: %s", HANDSHAKE[i].why);
                return 1;
            }
        snprintf(out, cap, "TLS handshake failed: %s", detail);
        return 1;
    case CURLE_SSL_CACERT_BADFILE:
        snprintf(out, cap, "TLS: the CA file could not be loaded: %s", detail);
        return 1;
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_USE_SSL_FAILED:
        snprintf(out, cap, "TLS: %s", detail);
        return 1;
    default:
        return 0;
    }
}
