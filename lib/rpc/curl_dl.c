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
 * Loading also makes the process's one share object: TLS sessions and DNS
 * answers are shared by every easy handle of every dg_rpc (each thread owns
 * its clients, so the share is locked), so that a pool client that opens its
 * first connection resumes the session another client negotiated instead of
 * paying a full handshake. Connections themselves are not shared: libcurl
 * does not support sharing its connection cache between threads.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "rpc_internal.h"

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static dg_curl_api g_api;
static int g_loaded;
static char g_why[200];
static CURLSH *g_share;
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

static void load_once(void) {
    void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        char s[160];
        dg_rpc_sanitize(s, sizeof s, e ? e : "not found", 150);
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
    CURLSH *(*share_init)(void) = NULL;
    CURLSHcode (*share_setopt)(CURLSH *, CURLSHoption, ...) = NULL;
    void *si = dlsym(h, "curl_share_init"), *ss = dlsym(h, "curl_share_setopt");
    if (!si || !ss) {
        snprintf(g_why, sizeof g_why, "libcurl.so.4 has no curl_share_init/curl_share_setopt");
        return;
    }
    memcpy(&share_init, &si, sizeof si);
    memcpy(&share_setopt, &ss, sizeof ss);
    if (global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(g_why, sizeof g_why, "curl_global_init failed");
        return;
    }
    for (size_t i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_init(&g_share_mu[i], NULL);
    g_share = share_init();
    if (!g_share || share_setopt(g_share, CURLSHOPT_LOCKFUNC, share_lock) != CURLSHE_OK ||
        share_setopt(g_share, CURLSHOPT_UNLOCKFUNC, share_unlock) != CURLSHE_OK ||
        share_setopt(g_share, CURLSHOPT_SHARE, (long)CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK ||
        share_setopt(g_share, CURLSHOPT_SHARE, (long)CURL_LOCK_DATA_DNS) != CURLSHE_OK) {
        snprintf(g_why, sizeof g_why, "libcurl's share object could not be set up");
        return;
    }
    g_api.share = g_share;
    g_loaded = 1;
}

const dg_curl_api *dg_curl_load(dg_err *err) {
    pthread_once(&g_once, load_once);
    if (g_loaded) return &g_api;
    dg_err_set(err, DG_ERR_CONFIG,
               "https endpoints need libcurl (libcurl.so.4), which could not be loaded: %s", g_why);
    return NULL;
}
