/* log.c — the decision log (one JSON line per decision) and daemon messages.
 *
 * Lines are written under one mutex into a buffered stream and flushed by a
 * small thread every 100 ms, so the hot path never waits for the disk and a
 * reader (or a test) sees a decision within a tenth of a second. SIGHUP
 * re-opens the file, for log rotation.
 *
 * Hash chain (server.decision_log_chain = "sha256"): every line gets
 * "prev" (the previous line's chain value) and then "chain" = SHA-256 of the
 * line as written up to "prev" and its closing brace, i.e. of
 *   {...,"prev":"<64 hex>"}
 * so editing, inserting, reordering or deleting a line breaks the chain at
 * that line or the next one (dstack-authd --verify-log finds where). The
 * chain continues across restarts (the last value is read back from the end
 * of the file) and across rotation (the value is kept in memory). Cutting
 * lines off the end is only detectable against a chain value recorded
 * elsewhere: the daemon logs the current value at every SIGHUP and at exit.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "authd.h"
#include "dstackgov/hash.h"
#include "dstackgov/hex.h"

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static FILE *g_out;
static int g_owned, g_dirty, g_stop;
static char g_path[512];
static int g_chain_on;
static uint8_t g_chain[32];

#define CHAIN_TAIL_LEN 76 /* ,"chain":"<64 hex>"} */
#define PREV_LEN 74       /* ,"prev":"<64 hex>" */

/* The "chain" value at the end of line l (n bytes, no newline): 1 and out,
 * or 0 when the line does not end with ,"chain":"<64 hex>"}. */
static int chain_tail(const char *l, size_t n, uint8_t out[32]) {
    return n >= CHAIN_TAIL_LEN && memcmp(l + n - CHAIN_TAIL_LEN, ",\"chain\":\"", 10) == 0 &&
           l[n - 2] == '"' && l[n - 1] == '}' && dg_hex_decode(l + n - 66, 64, out, 32, NULL);
}

/* The chain value of the last line of an existing log file: 1 found, 0 no
 * file or empty, -1 the last line has no chain value. */
static int read_last_chain(const char *path, uint8_t out[32]) {
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    char buf[16384];
    long size = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    long from = size > (long)sizeof buf ? size - (long)sizeof buf : 0;
    size_t n = 0;
    if (size > 0 && fseek(f, from, SEEK_SET) == 0) n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    if (n == 0) return 0;
    return chain_tail(buf, n, out) ? 1 : -1;
}
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

int declog_open(const char *path, int chain, dg_err *err) {
    if (!path[0]) return 1;
    g_chain_on = chain;
    if (chain && strcmp(path, "-") != 0) {
        int r = read_last_chain(path, g_chain);
        if (r < 0) {
            memset(g_chain, 0, sizeof g_chain);
            authd_msg(
                "decision log %s: its last line has no chain value; the hash chain starts here",
                path);
        }
    }
    snprintf(g_path, sizeof g_path, "%s", path);
    g_out = open_path(path, &g_owned);
    if (!g_out)
        return dg_err_set(err, DG_ERR_IO, "decision log %s: cannot open for appending", path);
    setvbuf(g_out, NULL, _IOFBF, 1 << 16);
    return 1;
}

void declog_start_flusher(void) {
    if (g_out && !g_flusher_started && pthread_create(&g_flusher, NULL, flusher, NULL) == 0)
        g_flusher_started = 1;
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

/* Write line (a JSON object) with "prev" and "chain" added. Under g_mu. */
static void write_chained(const char *line, size_t len) {
    char hex[65], prev[96];
    dg_hex_encode(g_chain, 32, hex);
    int pn = snprintf(prev, sizeof prev, ",\"prev\":\"%s\"}", hex);
    size_t body = len ? len - 1 : 0; /* the line without its closing brace */
    dg_sha256_concat(line, body, prev, (size_t)pn, g_chain);
    dg_hex_encode(g_chain, 32, hex);
    fwrite_unlocked(line, 1, body, g_out);
    fwrite_unlocked(prev, 1, (size_t)pn - 1, g_out); /* without its closing brace */
    fwrite_unlocked(",\"chain\":\"", 1, 10, g_out);
    fwrite_unlocked(hex, 1, 64, g_out);
    fwrite_unlocked("\"}\n", 1, 3, g_out);
}

void declog_write(const char *line, size_t len) {
    pthread_mutex_lock(&g_mu);
    if (g_out && g_chain_on) {
        write_chained(line, len);
        g_dirty = 1;
    } else if (g_out) {
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

int declog_chain_hex(char out[65]) {
    pthread_mutex_lock(&g_mu);
    int on = g_chain_on && g_out;
    if (on) dg_hex_encode(g_chain, 32, out);
    pthread_mutex_unlock(&g_mu);
    return on;
}

/* Check one line; prev is the expected previous value (NULL: any). */
static int verify_line(const char *l, size_t n, const uint8_t *prev, uint8_t chain[32], char *why,
                       size_t cap) {
    static const char PREV[] = ",\"prev\":\"";
    uint8_t want[32], got_prev[32];
    if (n < CHAIN_TAIL_LEN + PREV_LEN || !chain_tail(l, n, want)) {
        snprintf(why, cap, "no \"chain\" value at the end of the line");
        return 0;
    }
    size_t body = n - CHAIN_TAIL_LEN; /* ends with the "prev" value's closing quote */
    if (body < PREV_LEN || memcmp(l + body - PREV_LEN, PREV, 9) != 0 ||
        !dg_hex_decode(l + body - 65, 64, got_prev, 32, NULL)) {
        snprintf(why, cap, "no \"prev\" value before \"chain\"");
        return 0;
    }
    if (prev && memcmp(prev, got_prev, 32) != 0) {
        snprintf(why, cap,
                 "\"prev\" is not the previous line's \"chain\" (a line before it was removed, "
                 "added or reordered)");
        return 0;
    }
    dg_sha256_concat(l, body, "}", 1, chain);
    if (memcmp(chain, want, 32) != 0) {
        snprintf(why, cap, "\"chain\" does not match the line's content (the line was changed)");
        return 0;
    }
    return 1;
}

int declog_verify_text(const char *text, size_t len, int *have, uint8_t chain[32],
                       uint8_t first_prev[32], unsigned long *lines, unsigned long *bad_line,
                       char *why, size_t cap) {
    unsigned long no = 0;
    size_t off = 0;
    while (off < len) {
        const char *l = text + off;
        const char *nl = memchr(l, '\n', len - off);
        size_t n = nl ? (size_t)(nl - l) : len - off;
        off += n + (nl ? 1 : 0);
        no++;
        while (n && l[n - 1] == '\r')
            n--;
        if (!n) continue;
        uint8_t next[32];
        if (!verify_line(l, n, *have ? chain : NULL, next, why, cap)) {
            *bad_line = no;
            return 0;
        }
        if (!*have) dg_hex_decode(l + n - CHAIN_TAIL_LEN - 65, 64, first_prev, 32, NULL);
        memcpy(chain, next, 32);
        *have = 1;
        (*lines)++;
    }
    return 1;
}

int declog_verify(int nfiles, char **files) {
    uint8_t chain[32], first_prev[32];
    int have = 0;
    unsigned long lines = 0;
    for (int i = 0; i < nfiles; i++) {
        FILE *f = fopen(files[i], "rb");
        dg_buf b;
        dg_buf_init(&b);
        char chunk[65536];
        size_t k;
        if (!f) {
            fprintf(stderr, "dstack-authd: %s: cannot open\n", files[i]);
            return 1;
        }
        while ((k = fread(chunk, 1, sizeof chunk, f)) > 0)
            dg_buf_append(&b, chunk, k);
        fclose(f);
        if (b.oom) {
            fprintf(stderr, "dstack-authd: %s: out of memory\n", files[i]);
            dg_buf_free(&b);
            return 1;
        }
        char why[160];
        unsigned long bad = 0;
        int ok = declog_verify_text(b.len ? (const char *)b.data : "", b.len, &have, chain,
                                    first_prev, &lines, &bad, why, sizeof why);
        dg_buf_free(&b);
        if (!ok) {
            fprintf(stderr, "dstack-authd: %s line %lu: %s\n", files[i], bad, why);
            return 1;
        }
    }
    if (!have) {
        fprintf(stderr, "dstack-authd: no chained lines to verify\n");
        return 1;
    }
    char a[65], b[65];
    dg_hex_encode(first_prev, 32, a);
    dg_hex_encode(chain, 32, b);
    printf("decision log chain OK: %lu lines in %d file%s\nstarts after %s\nends at      %s\n",
           lines, nfiles, nfiles == 1 ? "" : "s", a, b);
    return 0;
}
