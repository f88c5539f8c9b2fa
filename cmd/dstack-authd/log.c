/* log.c — the decision log (one JSON line per decision) and daemon messages.
 *
 * Lines are written under one mutex into a buffered stream and flushed by a
 * small thread every 100 ms, so the hot path never waits for the disk and a
 * reader (or a test) sees a decision within a tenth of a second. SIGHUP
 * re-opens the file, for log rotation.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "authd.h"

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static FILE *g_out;
static int g_owned, g_dirty, g_stop;
static char g_path[512];
static pthread_t g_flusher;
static int g_flusher_started;

static void *flusher(void *arg) {
    (void)arg;
    for (;;) {
        struct timespec ts = {0, 100 * 1000000};
        nanosleep(&ts, NULL);
        pthread_mutex_lock(&g_mu);
        if (g_out && g_dirty) {
            fflush(g_out);
            g_dirty = 0;
        }
        int stop = g_stop;
        pthread_mutex_unlock(&g_mu);
        if (stop) return NULL;
    }
}

static FILE *open_path(const char *path, int *owned) {
    if (strcmp(path, "-") == 0) {
        *owned = 0;
        return stdout;
    }
    *owned = 1;
    return fopen(path, "a");
}

int declog_open(const char *path, dg_err *err) {
    if (!path[0]) return 1;
    snprintf(g_path, sizeof g_path, "%s", path);
    g_out = open_path(path, &g_owned);
    if (!g_out) return dg_err_set(err, DG_ERR_IO, "decision log %s: cannot open for appending", path);
    setvbuf(g_out, NULL, _IOFBF, 1 << 16);
    return 1;
}

void declog_start_flusher(void) {
    if (g_out && !g_flusher_started && pthread_create(&g_flusher, NULL, flusher, NULL) == 0) g_flusher_started = 1;
}

void declog_reopen(void) {
    pthread_mutex_lock(&g_mu);
    if (g_out && g_owned) {
        fclose(g_out);
        int owned;
        g_out = open_path(g_path, &owned);
        if (g_out) setvbuf(g_out, NULL, _IOFBF, 1 << 16);
    }
    pthread_mutex_unlock(&g_mu);
}

void declog_write(const char *line, size_t len) {
    pthread_mutex_lock(&g_mu);
    if (g_out) {
        /* our mutex already serialises writers: skip stdio's own lock */
        fwrite_unlocked(line, 1, len, g_out);
        putc_unlocked('\n', g_out);
        g_dirty = 1;
    }
    pthread_mutex_unlock(&g_mu);
}

void declog_flush(void) {
    pthread_mutex_lock(&g_mu);
    if (g_out) fflush(g_out);
    g_dirty = 0;
    pthread_mutex_unlock(&g_mu);
}

void declog_close(void) {
    pthread_mutex_lock(&g_mu);
    g_stop = 1;
    pthread_mutex_unlock(&g_mu);
    if (g_flusher_started) pthread_join(g_flusher, NULL);
    g_flusher_started = 0;
    pthread_mutex_lock(&g_mu);
    if (g_out) {
        fflush(g_out);
        if (g_owned) fclose(g_out);
    }
    g_out = NULL;
    pthread_mutex_unlock(&g_mu);
}

void authd_msg(const char *fmt, ...) {
    char t[32], m[1024];
    struct timespec ts;
    struct tm tm;
    va_list ap;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(t, sizeof t, "%Y-%m-%dT%H:%M:%SZ", &tm);
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s dstack-authd: %s\n", t, m);
}

void authd_policy_log(void *ctx, const char *msg) {
    (void)ctx;
    authd_msg("%s", msg);
}
