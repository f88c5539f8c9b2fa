/* log.c — the decision log (one JSON line per decision) and daemon messages.
 *
 * The one idea: a line reaches the file whole or is counted as lost, and the
 * log says so itself. Decision lines are queued whole in memory (the hot path
 * never waits for the disk) and written by a small thread every 100 ms, or at
 * once when 64 KiB are queued. A write that fails (a full disk, a file that
 * cannot be re-opened after rotation) is cut back to the last whole line
 * (ftruncate), the lines that did not reach the file are counted as lost, and
 * the log enters its failing state: said once on stderr, counted on /metrics,
 * shown by GET /, and — with server.decision_log_on_error = "deny", the
 * default — every decision denies, because an audit trail that cannot record
 * must not let boots through unrecorded (Vault's rule for audit devices).
 * Every 100 ms the thread tries again; the first write that succeeds is a
 * gap marker, {"time":...,"event":"decision_log_gap","since":...,"lost":N,
 * "error":...}, so the file itself shows where lines are missing and how many.
 *
 * Hash chain (server.decision_log_chain = "sha256"): every line gets "prev"
 * (the previous line's chain value) and then "chain" = SHA-256 of the line as
 * written up to "prev" and its closing brace, i.e. of
 *   {...,"prev":"<64 hex>"}
 * so editing, inserting, reordering or deleting a line breaks the chain at
 * that line or the next one (dstack-authd --verify-log finds where). The
 * chain is computed when a line is written, and after a failed write it is
 * set back to the last line that reached the file: it only ever advances
 * over lines on disk, and a gap marker is chained like any other line. The
 * chain continues across restarts (the last value is read back from the end
 * of the file) and across rotation (the value is kept in memory). Cutting
 * lines off the end is only detectable against a chain value recorded
 * elsewhere: the daemon logs the current value at every SIGHUP and at exit.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "authd.h"
#include "dstackgov/bootinfo.h"
#include "dstackgov/hash.h"
#include "dstackgov/hex.h"

#define CHAIN_TAIL_LEN 76 /* ,"chain":"<64 hex>"} */
#define PREV_LEN 74       /* ,"prev":"<64 hex>" */
#define QUEUE_FLUSH (64u * 1024u)
#define FLUSH_MS 100
#define GAP_EVENT ",\"event\":\"decision_log_gap\""

struct authd_log {
    pthread_mutex_t mu;
    pthread_cond_t cv; /* wakes the writer thread to stop */
    char path[512];    /* "" off, "-" stdout, else a file */
    int on;            /* path set: decisions are recorded (read without mu) */
    int fd, owned;     /* fd -1: not open (failing to open) */
    int chain_on;
    uint8_t chain[32]; /* the chain value of the last line in the file */
    int deny;          /* decision_log_on_error = "deny" */
    dg_buf queue;      /* whole lines, each ending '\n', unchained */
    unsigned long nqueue;
    dg_buf out; /* the chained form of the queue, as written */
    /* the failing state */
    int failing;
    int blocking; /* failing && deny: decisions deny (read without mu) */
    int cut;      /* a cut line could not be removed: the next write starts a new line */
    char error[200], since[32];
    unsigned long long gap_lost;
    /* counters, for /metrics */
    unsigned long long lines, lost, errors, gaps;
    /* the writer thread */
    pthread_t th;
    int th_started, stop;
};

static void utc_now(char out[32], int with_ms) {
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    if (with_ms)
        snprintf(out + n, 32 - n, ".%03ldZ", ts.tv_nsec / 1000000);
    else
        snprintf(out + n, 32 - n, "Z");
}

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

/* Start the chain from the file's last line (a file without one starts it
 * afresh, said on stderr). */
static void chain_from_file(authd_log *l) {
    memset(l->chain, 0, sizeof l->chain);
    if (strcmp(l->path, "-") != 0 && read_last_chain(l->path, l->chain) < 0) {
        memset(l->chain, 0, sizeof l->chain);
        authd_msg("decision log %s: its last line has no chain value; the hash chain starts here",
                  l->path);
    }
}

static int open_path(const char *path, int *owned, int *e) {
    if (strcmp(path, "-") == 0) {
        *owned = 0;
        return STDOUT_FILENO;
    }
    *owned = 1;
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
    *e = errno;
    return fd;
}

static void close_fd(authd_log *l) {
    if (l->fd >= 0 && l->owned) close(l->fd);
    l->fd = -1;
}

static void set_blocking(authd_log *l) {
    __atomic_store_n(&l->blocking, l->on && l->failing && l->deny, __ATOMIC_RELEASE);
}

/* Enter (or stay in) the failing state with the cause. */
static void fail(authd_log *l, const char *what, int e) {
    char why[200];
    snprintf(why, sizeof why, "%s: %s", what, strerror(e));
    if (!l->failing) {
        l->failing = 1;
        l->errors++;
        l->gaps++;
        utc_now(l->since, 1);
        snprintf(l->error, sizeof l->error, "%s", why);
        set_blocking(l);
        authd_msg("decision log %s: %s; %llu line%s lost; %s", l->path, why, l->gap_lost,
                  l->gap_lost == 1 ? "" : "s",
                  l->deny ? "every decision is denied until the log can record "
                            "(server.decision_log_on_error = \"deny\")"
                          : "decisions go on unrecorded (server.decision_log_on_error = "
                            "\"continue\")");
    } else if (strcmp(why, l->error) != 0) {
        l->errors++;
        snprintf(l->error, sizeof l->error, "%s", why);
        authd_msg("decision log %s: still failing: %s", l->path, why);
    }
}

/* Write buf (nlines whole lines) to the file. Returns how many lines reached
 * it; on a short write the cut line is removed and the chain set back to the
 * last line written (from before, the value at the start of buf). */
static unsigned long write_lines(authd_log *l, const char *buf, size_t len, unsigned long nlines,
                                 const uint8_t before[32], int *e) {
    size_t k = 0;
    *e = 0;
    while (k < len) {
        ssize_t w = write(l->fd, buf + k, len - k);
        if (w > 0) {
            k += (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR) continue;
        *e = w < 0 ? errno : EIO;
        break;
    }
    if (k == len) return nlines;
    size_t good = k;
    while (good && buf[good - 1] != '\n')
        good--;
    if (good < k) { /* remove the cut line: the file ends with a whole line again */
        struct stat st;
        if (fstat(l->fd, &st) != 0 || !S_ISREG(st.st_mode) ||
            ftruncate(l->fd, st.st_size - (off_t)(k - good)) != 0)
            l->cut = 1;
    }
    unsigned long n = 0;
    for (size_t i = 0; i < good; i++)
        n += buf[i] == '\n';
    if (l->chain_on) { /* back to the last line that reached the file */
        size_t s = good ? good - 1 : 0;
        while (s && buf[s - 1] != '\n')
            s--;
        if (!n || !chain_tail(buf + s, good - 1 - s, l->chain)) memcpy(l->chain, before, 32);
    }
    return n;
}

/* Append line (a JSON object, len bytes, no newline) to out with "prev" and
 * "chain" added, advancing l->chain. */
static void chain_line(authd_log *l, dg_buf *out, const char *line, size_t len) {
    char hex[65], prev[96];
    dg_hex_encode(l->chain, 32, hex);
    int pn = snprintf(prev, sizeof prev, ",\"prev\":\"%s\"}", hex);
    size_t body = len ? len - 1 : 0; /* the line without its closing brace */
    dg_sha256_concat(line, body, prev, (size_t)pn, l->chain);
    dg_hex_encode(l->chain, 32, hex);
    dg_buf_append(out, line, body);
    dg_buf_append(out, prev, (size_t)pn - 1); /* without its closing brace */
    dg_buf_puts(out, ",\"chain\":\"");
    dg_buf_append(out, hex, 64);
    dg_buf_puts(out, "\"}\n");
}

/* Write lines (whole, each ending '\n') in their final form. Returns how
 * many reached the file; e set when not all did. */
static unsigned long put_lines(authd_log *l, const char *lines, size_t len, unsigned long n,
                               int *e) {
    if (!l->chain_on) return write_lines(l, lines, len, n, l->chain, e);
    uint8_t before[32];
    memcpy(before, l->chain, 32);
    l->out.len = 0;
    dg_buf_reserve(&l->out, len + n * (PREV_LEN + CHAIN_TAIL_LEN));
    for (size_t off = 0; off < len;) {
        const char *nl = memchr(lines + off, '\n', len - off);
        size_t k = (size_t)(nl - (lines + off));
        chain_line(l, &l->out, lines + off, k);
        off += k + 1;
    }
    if (l->out.oom) {
        memcpy(l->chain, before, 32);
        dg_buf_free(&l->out);
        *e = ENOMEM;
        return 0;
    }
    unsigned long w = write_lines(l, (const char *)l->out.data, l->out.len, n, before, e);
    if (l->out.cap > 4 * QUEUE_FLUSH) dg_buf_free(&l->out);
    return w;
}

/* While failing: re-open if needed and write the gap marker; 1 when the log
 * records again. */
static int recover(authd_log *l) {
    int e = 0;
    if (l->fd < 0) {
        l->fd = open_path(l->path, &l->owned, &e);
        if (l->fd < 0) {
            fail(l, "cannot open for appending", e);
            return 0;
        }
    }
    if (l->cut) { /* end the cut line, so the marker starts a line of its own */
        if (write(l->fd, "\n", 1) != 1) {
            fail(l, "write failed", errno ? errno : EIO);
            return 0;
        }
        l->cut = 0;
    }
    char now[32], m[512];
    dg_buf mk;
    dg_buf_init(&mk);
    utc_now(now, 1);
    int n = snprintf(m, sizeof m,
                     "{\"time\":\"%s\"" GAP_EVENT ",\"since\":\"%s\",\"lost\":%llu,\"error\":", now,
                     l->since, l->gap_lost);
    dg_buf_append(&mk, m, (size_t)n);
    dg_json_put_string(&mk, l->error, strlen(l->error));
    dg_buf_puts(&mk, "}\n");
    unsigned long w = mk.oom ? 0 : put_lines(l, (const char *)mk.data, mk.len, 1, &e);
    dg_buf_free(&mk);
    if (w != 1) {
        fail(l, "write failed", e ? e : ENOMEM);
        return 0;
    }
    authd_msg("decision log %s: recording again; %llu line%s lost since %s, marked in the log",
              l->path, l->gap_lost, l->gap_lost == 1 ? "" : "s", l->since);
    l->failing = 0;
    l->gap_lost = 0;
    l->error[0] = 0;
    set_blocking(l);
    return 1;
}

/* Write the queue (under mu). While failing the queue is counted as lost:
 * the marker written on recovery says how many. */
static void flush_locked(authd_log *l) {
    if (!l->nqueue) return;
    unsigned long n = l->nqueue, w = 0;
    int e = 0;
    if (!l->failing && l->fd >= 0) {
        w = put_lines(l, (const char *)l->queue.data, l->queue.len, n, &e);
        l->lines += w;
    }
    l->queue.len = 0;
    l->nqueue = 0;
    if (l->queue.cap > 4 * QUEUE_FLUSH) dg_buf_free(&l->queue);
    if (w < n) {
        l->lost += n - w;
        l->gap_lost += n - w;
        if (!l->failing) fail(l, "write failed", e ? e : EIO);
    }
}

static void *writer_main(void *arg) {
    authd_log *l = arg;
    pthread_mutex_lock(&l->mu);
    while (!l->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += FLUSH_MS * 1000000L;
        ts.tv_sec += ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&l->cv, &l->mu, &ts);
        if (l->on && l->failing) recover(l);
        flush_locked(l);
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

authd_log *authd_log_open(const char *path, int chain, int deny, dg_err *err) {
    authd_log *l = calloc(1, sizeof *l);
    if (!l) {
        dg_err_set(err, DG_ERR_NOMEM, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    dg_buf_init(&l->queue);
    dg_buf_init(&l->out);
    l->fd = -1;
    l->deny = deny;
    if (!path[0]) return l;
    snprintf(l->path, sizeof l->path, "%s", path);
    l->chain_on = chain;
    if (chain) chain_from_file(l);
    int e = 0;
    l->fd = open_path(path, &l->owned, &e);
    if (l->fd < 0) {
        dg_err_set(err, DG_ERR_IO, "decision log %s: cannot open for appending: %s", path,
                   strerror(e));
        authd_log_close(l);
        return NULL;
    }
    l->on = 1;
    return l;
}

void authd_log_start(authd_log *l) {
    pthread_mutex_lock(&l->mu);
    if (!l->th_started && pthread_create(&l->th, NULL, writer_main, l) == 0) l->th_started = 1;
    pthread_mutex_unlock(&l->mu);
}

void authd_log_reopen(authd_log *l) {
    pthread_mutex_lock(&l->mu);
    if (l->on && l->owned) {
        flush_locked(l);
        close_fd(l);
        int e = 0;
        l->fd = open_path(l->path, &l->owned, &e);
        if (l->fd < 0)
            fail(l, "cannot open for appending", e);
        else if (l->failing)
            recover(l);
    }
    pthread_mutex_unlock(&l->mu);
}

int authd_log_configure(authd_log *l, const char *path, int chain, int deny, dg_err *err) {
    pthread_mutex_lock(&l->mu);
    int same = strcmp(path, l->path) == 0 && !chain == !l->chain_on;
    if (deny != l->deny) {
        l->deny = deny;
        set_blocking(l);
        authd_msg("decision log: on error, %s", deny ? "deny" : "continue");
    }
    pthread_mutex_unlock(&l->mu);
    if (same) {
        authd_log_reopen(l);
        return 1;
    }
    int owned = 0, e = 0, fd = -1;
    if (path[0] && (fd = open_path(path, &owned, &e)) < 0)
        return dg_err_set(err, DG_ERR_IO, "decision log %s: cannot open for appending: %s", path,
                          strerror(e));
    pthread_mutex_lock(&l->mu);
    flush_locked(l);
    close_fd(l);
    int was_failing = l->failing;
    snprintf(l->path, sizeof l->path, "%s", path);
    l->fd = fd;
    l->owned = owned;
    l->chain_on = chain;
    __atomic_store_n(&l->on, path[0] != 0, __ATOMIC_RELEASE);
    if (chain) chain_from_file(l);
    if (!path[0]) l->failing = 0;         /* off: nothing to fail */
    if (was_failing && l->on) recover(l); /* the gap is marked in the new file */
    set_blocking(l);
    authd_msg("decision log: %s%s", path[0] ? path : "off",
              path[0] && chain ? " (hash chain sha256)" : "");
    pthread_mutex_unlock(&l->mu);
    if (l->on) authd_log_start(l);
    return 1;
}

void authd_log_close(authd_log *l) {
    if (!l) return;
    pthread_mutex_lock(&l->mu);
    l->stop = 1;
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
    if (l->th_started) pthread_join(l->th, NULL);
    pthread_mutex_lock(&l->mu);
    if (l->on && l->failing) recover(l);
    flush_locked(l);
    if (l->on && l->failing) /* the gap cannot be marked in the file: say it here */
        authd_msg("decision log %s: exiting while it cannot record (%s); %llu line%s lost since %s",
                  l->path, l->error, l->gap_lost, l->gap_lost == 1 ? "" : "s", l->since);
    close_fd(l);
    pthread_mutex_unlock(&l->mu);
    dg_buf_free(&l->queue);
    dg_buf_free(&l->out);
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->cv);
    free(l);
}

int authd_log_blocks(const authd_log *l) {
    return __atomic_load_n(&l->blocking, __ATOMIC_ACQUIRE);
}

void authd_log_get_status(authd_log *l, authd_log_status *st) {
    memset(st, 0, sizeof *st);
    pthread_mutex_lock(&l->mu);
    st->on = l->on;
    st->chained = l->on && l->chain_on;
    st->failing = l->on && l->failing;
    st->deny = l->deny;
    st->lines = l->lines;
    st->lost = l->lost;
    st->errors = l->errors;
    st->gap_lost = l->gap_lost;
    snprintf(st->path, sizeof st->path, "%s", l->path);
    snprintf(st->error, sizeof st->error, "%s", l->error);
    snprintf(st->since, sizeof st->since, "%s", l->since);
    pthread_mutex_unlock(&l->mu);
}

int authd_log_chain_hex(authd_log *l, char out[65]) {
    pthread_mutex_lock(&l->mu);
    int on = l->on && l->chain_on;
    if (on) {
        flush_locked(l); /* the value of the last line in the file */
        dg_hex_encode(l->chain, 32, out);
    }
    pthread_mutex_unlock(&l->mu);
    return on;
}

/* Queue one line (a JSON object without newline). */
static void queue_line(authd_log *l, const char *line, size_t len) {
    pthread_mutex_lock(&l->mu);
    if (l->failing) { /* cannot record: counted, and told by the gap marker */
        l->lost++;
        l->gap_lost++;
    } else {
        dg_buf_append(&l->queue, line, len);
        dg_buf_push(&l->queue, '\n');
        l->nqueue++;
        if (l->queue.oom) {
            l->queue.len = 0;
            l->queue.oom = 0;
            l->lost += l->nqueue;
            l->gap_lost += l->nqueue;
            l->nqueue = 0;
            fail(l, "queue", ENOMEM);
        } else if (l->queue.len >= QUEUE_FLUSH)
            flush_locked(l);
    }
    pthread_mutex_unlock(&l->mu);
}

static void put_hex(dg_buf *b, const char *key, const uint8_t *p, size_t n) {
    char hex[65];
    dg_hex_encode(p, n, hex);
    dg_buf_puts(b, ",\"");
    dg_buf_puts(b, key);
    dg_buf_puts(b, "\":\"");
    dg_buf_append(b, hex, 2 * n);
    dg_buf_push(b, '"');
}

static void put_str(dg_buf *b, const char *key, const char *s, size_t n) {
    dg_buf_puts(b, ",\"");
    dg_buf_puts(b, key);
    dg_buf_puts(b, "\":");
    dg_json_put_string(b, s, n);
}

void authd_log_decision(authd_log *l, enum authd_route route, const dg_bootinfo *bi,
                        const dg_decision *d, unsigned status, double secs) {
    if (!__atomic_load_n(&l->on, __ATOMIC_ACQUIRE)) return;
    /* "YYYY-mm-ddTHH:MM:SS" formatted once per second per thread */
    static __thread time_t t_sec = -1;
    static __thread char t_pre[32];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (ts.tv_sec != t_sec) {
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        strftime(t_pre, sizeof t_pre, "%Y-%m-%dT%H:%M:%S", &tm);
        t_sec = ts.tv_sec;
    }
    dg_buf b;
    dg_buf_init(&b);
    dg_buf_reserve(&b, 1024);
    unsigned long long us = (unsigned long long)(secs * 1e6 + 0.5);
    dg_buf_printf(&b, "{\"time\":\"%s.%03ldZ\",\"route\":\"%s\",\"status\":%u", t_pre,
                  ts.tv_nsec / 1000000, route == R_KMS ? "kms" : "app", status);
    if (bi) {
        put_hex(&b, "appId", bi->app_id, 20);
        put_hex(&b, "composeHash", bi->compose_hash, 32);
        put_hex(&b, "deviceId", bi->device_id, 32);
        put_hex(&b, "osImageHash", bi->os_image_hash, 32);
        put_hex(&b, "mrAggregated", bi->mr_aggregated, 32);
        put_str(&b, "tcbStatus", bi->tcb_status, bi->tcb_len);
    }
    if (d->has_block) {
        dg_buf_printf(&b, ",\"block\":%llu", (unsigned long long)d->block_number);
        put_hex(&b, "blockHash", d->block_hash, 32);
    }
    if (d->endpoint[0]) put_str(&b, "endpoint", d->endpoint, strlen(d->endpoint));
    dg_buf_puts(&b, d->allowed ? ",\"isAllowed\":true" : ",\"isAllowed\":false");
    put_str(&b, "reason", d->reason, strlen(d->reason));
    if (d->detail[0]) put_str(&b, "detail", d->detail, strlen(d->detail));
    dg_buf_printf(&b, ",\"cached\":%s,\"latencyMs\":%llu.%03llu}", d->cached ? "true" : "false",
                  us / 1000, us % 1000);
    if (b.oom) { /* no memory for the line: it is lost, and said so */
        pthread_mutex_lock(&l->mu);
        l->lost++;
        l->gap_lost++;
        fail(l, "line", ENOMEM);
        pthread_mutex_unlock(&l->mu);
    } else
        queue_line(l, (const char *)b.data, b.len);
    dg_buf_free(&b);
}

void authd_msg(const char *fmt, ...) {
    char t[32], m[1024];
    va_list ap;
    utc_now(t, 0);
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s dstack-authd: %s\n", t, m);
}

void authd_policy_log(void *ctx, const char *msg) {
    (void)ctx;
    authd_msg("%s", msg);
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

/* Gap markers in text: how many, and the lines they say were lost. */
static void count_gaps(const char *text, size_t len, unsigned long *gaps,
                       unsigned long long *lost) {
    static const char LOST[] = ",\"lost\":";
    for (size_t off = 0; off < len;) {
        const char *l = text + off;
        const char *nl = memchr(l, '\n', len - off);
        size_t n = nl ? (size_t)(nl - l) : len - off;
        off += n + 1;
        /* {"time":"YYYY-mm-ddTHH:MM:SS.mmmZ","event":"decision_log_gap",... */
        const char *ev = memmem(l, n < 64 ? n : 64, GAP_EVENT, sizeof GAP_EVENT - 1);
        if (!ev) continue;
        (*gaps)++;
        const char *p = memmem(ev, n - (size_t)(ev - l), LOST, sizeof LOST - 1);
        if (p) *lost += strtoull(p + sizeof LOST - 1, NULL, 10);
    }
}

int declog_verify(int nfiles, char **files) {
    uint8_t chain[32], first_prev[32];
    int have = 0;
    unsigned long lines = 0, gaps = 0;
    unsigned long long lost = 0;
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
        const char *t = b.len ? (const char *)b.data : "";
        int ok =
            declog_verify_text(t, b.len, &have, chain, first_prev, &lines, &bad, why, sizeof why);
        if (ok) count_gaps(t, b.len, &gaps, &lost);
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
    /* a gap marker is a chained line like any other: the chain is intact, but
     * the daemon could not record everything it decided, and says how much */
    if (gaps)
        printf("gaps: %lu marked, %llu line%s lost (\"event\":\"decision_log_gap\" lines)\n", gaps,
               lost, lost == 1 ? "" : "s");
    else
        printf("gaps: none\n");
    return 0;
}
