/* curl_dl.c — libcurl, loaded only when an https:// endpoint needs it.
 *
 * Linking libcurl costs every process about 30 shared libraries (TLS,
 * Kerberos, LDAP, SSH, ...), several MiB of resident memory and
 * curl_global_init's start-up time, although plain http:// endpoints (a
 * local node) are served by our own transport (http.c). So the programs do
 * not link it: the first https:// endpoint opens libcurl.so.4 with dlopen
 * and resolves the few functions the RPC engine uses into a table. The
 * header is used for types and constants only. Loading happens once per
 * process, under pthread_once; the library is never unloaded.
 *
 * Share objects (dg_curl_share_new) let every easy handle of every dg_rpc
 * with the same trust share TLS sessions and DNS answers (each thread owns
 * its clients, so shares are locked): a pool client that opens its first
 * connection resumes the session another client negotiated instead of paying
 * a full handshake. Connections themselves are not shared: libcurl does not
 * support sharing its connection cache between threads. When libcurl runs on
 * OpenSSL 3 (Debian's libcurl.so.4 does), the few OpenSSL functions tls.c
 * needs to build one CA store per process are resolved from the copies
 * libcurl already loaded (RTLD_NOLOAD: nothing new is mapped).
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "rpc_internal.h"
#include "dstackgov/utf8.h"

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static dg_curl_api g_api;
static int g_loaded;
static char g_why[200];
static pthread_mutex_t g_share_mu[CURL_LOCK_DATA_LAST];

static void share_lock(CURL *h, curl_lock_data d, curl_lock_access a, void *ud) {
    (void)h, (void)a, (void)ud;
    pthread_mutex_lock(&g_share_mu[d]);
}

static void share_unlock(CURL *h, curl_lock_data d, void *ud) {
    (void)h, (void)ud;
    pthread_mutex_unlock(&g_share_mu[d]);
}

/* dlsym returns an object pointer; copying it converts without a cast that
 * ISO C leaves undefined. */
#define RESOLVE(field, name)                                                                       \
    do {                                                                                           \
        void *sym_ = dlsym(h, name);                                                               \
        if (!sym_) {                                                                               \
            snprintf(g_why, sizeof g_why, "libcurl.so.4 has no %s", name);                         \
            return;                                                                                \
        }                                                                                          \
        memcpy(&g_api.field, &sym_, sizeof sym_);                                                  \
    } while (0)

CURLSH *dg_curl_share_new(const dg_curl_api *cu) {
    CURLSH *sh = cu->share_init();
    if (!sh) return NULL;
    if (cu->share_setopt(sh, CURLSHOPT_LOCKFUNC, share_lock) != CURLSHE_OK ||
        cu->share_setopt(sh, CURLSHOPT_UNLOCKFUNC, share_unlock) != CURLSHE_OK ||
        cu->share_setopt(sh, CURLSHOPT_SHARE, (long)CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK ||
        cu->share_setopt(sh, CURLSHOPT_SHARE, (long)CURL_LOCK_DATA_DNS) != CURLSHE_OK) {
        cu->share_cleanup(sh);
        return NULL;
    }
    return sh;
}

/* The OpenSSL 3 functions of tls.c's process-wide CA stores, from the
 * libraries libcurl mapped; any missing one leaves the table empty (libcurl
 * then loads the CA file itself, once per client). */
static void load_openssl(void) {
    void *ssl = dlopen("libssl.so.3", RTLD_NOW | RTLD_NOLOAD | RTLD_LOCAL);
    void *crypto = dlopen("libcrypto.so.3", RTLD_NOW | RTLD_NOLOAD | RTLD_LOCAL);
    dg_ossl_api o;
    static const struct {
        int in_ssl;
        const char *name;
        size_t off;
    } SYMS[] = {
        {0, "X509_STORE_new", offsetof(dg_ossl_api, store_new)},
        {0, "X509_STORE_free", offsetof(dg_ossl_api, store_free)},
        {0, "X509_STORE_up_ref", offsetof(dg_ossl_api, store_up_ref)},
        {0, "X509_STORE_load_file", offsetof(dg_ossl_api, store_load_file)},
        {0, "X509_STORE_set_flags", offsetof(dg_ossl_api, store_set_flags)},
        {0, "ERR_clear_error", offsetof(dg_ossl_api, err_clear)},
        {1, "SSL_CTX_set1_cert_store", offsetof(dg_ossl_api, ctx_set1_store)},
    };
    if (!ssl || !crypto) return;
    for (size_t i = 0; i < sizeof SYMS / sizeof SYMS[0]; i++) {
        void *sym = dlsym(SYMS[i].in_ssl ? ssl : crypto, SYMS[i].name);
        if (!sym) return;
        memcpy((char *)&o + SYMS[i].off, &sym, sizeof sym);
    }
    g_api.ossl = o;
}

static void load_once(void) {
    void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        char s[160];
        dg_utf8_clean_str(s, sizeof s, e ? e : "not found", 150);
        snprintf(g_why, sizeof g_why, "%s", s);
        return;
    }
    CURLcode (*global_init)(long) = NULL;
    void *gi = dlsym(h, "curl_global_init");
    if (!gi) {
        snprintf(g_why, sizeof g_why, "libcurl.so.4 has no curl_global_init");
        return;
    }
    memcpy(&global_init, &gi, sizeof gi);
    RESOLVE(easy_init, "curl_easy_init");
    RESOLVE(easy_setopt, "curl_easy_setopt");
    RESOLVE(easy_getinfo, "curl_easy_getinfo");
    RESOLVE(easy_cleanup, "curl_easy_cleanup");
    RESOLVE(easy_strerror, "curl_easy_strerror");
    RESOLVE(multi_init, "curl_multi_init");
    RESOLVE(multi_add_handle, "curl_multi_add_handle");
    RESOLVE(multi_remove_handle, "curl_multi_remove_handle");
    RESOLVE(multi_perform, "curl_multi_perform");
    RESOLVE(multi_info_read, "curl_multi_info_read");
    RESOLVE(multi_poll, "curl_multi_poll");
    RESOLVE(multi_cleanup, "curl_multi_cleanup");
    RESOLVE(multi_strerror, "curl_multi_strerror");
    RESOLVE(slist_append, "curl_slist_append");
    RESOLVE(slist_free_all, "curl_slist_free_all");
    RESOLVE(share_init, "curl_share_init");
    RESOLVE(share_setopt, "curl_share_setopt");
    RESOLVE(share_cleanup, "curl_share_cleanup");
    curl_version_info_data *(*version_info)(CURLversion) = NULL;
    void *vi = dlsym(h, "curl_version_info");
    if (vi) memcpy(&version_info, &vi, sizeof vi);
    if (global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(g_why, sizeof g_why, "curl_global_init failed");
        return;
    }
    for (size_t i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_init(&g_share_mu[i], NULL);
    if (!(g_api.share = dg_curl_share_new(&g_api))) {
        snprintf(g_why, sizeof g_why, "libcurl's share object could not be set up");
        return;
    }
    /* libcurl's built-in CA bundle: the system's store */
    CURL *probe = g_api.easy_init();
    char *cainfo = NULL;
    if (probe && g_api.easy_getinfo(probe, CURLINFO_CAINFO, &cainfo) == CURLE_OK && cainfo)
        snprintf(g_api.default_ca, sizeof g_api.default_ca, "%s", cainfo);
    if (probe) g_api.easy_cleanup(probe);
    const curl_version_info_data *v = version_info ? version_info(CURLVERSION_NOW) : NULL;
    if (v && v->ssl_version && strncmp(v->ssl_version, "OpenSSL/3.", 10) == 0 &&
        g_api.default_ca[0])
        load_openssl();
    g_loaded = 1;
}

const dg_curl_api *dg_curl_load(dg_err *err) {
    pthread_once(&g_once, load_once);
    if (g_loaded) return &g_api;
    dg_err_set(err, DG_ERR_CONFIG,
               "https endpoints need libcurl (libcurl.so.4), which could not be loaded: %s", g_why);
    return NULL;
}
