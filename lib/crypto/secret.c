/* secret.c — the one loader for secret files (see include/dstackgov/secret.h).
 *
 * The one idea: the file's content exists in exactly one buffer, allocated
 * once at its largest size (no realloc leaves a copy behind), handed to the
 * format's parser, and wiped before return on every path. The checks that
 * make a key file trustworthy (regular file, owner-only mode) are made on the
 * descriptor that is then read, never on the path a second time.
 */
#include "dstackgov/secret.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SECRET_MAX_CAP (1u << 20)

void dg_wipe(void *p, size_t n) {
    if (p && n) sodium_memzero(p, n);
}

static int fail(dg_err *err, const char *path, const char *fmt, const char *detail) {
    dg_err_set(err, DG_ERR_KEY_FILE, "key file %s: %s%s", path, fmt, detail ? detail : "");
    return 0;
}

/* Read the whole descriptor into buf (cap bytes, one kept for the NUL);
 * returns the length, or -1 with errno set, or -2 when it does not fit. */
static long read_all(int fd, char *buf, size_t cap) {
    size_t have = 0;
    for (;;) {
        ssize_t r = read(fd, buf + have, cap - have);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return -1;
        if (r == 0) return (long)have;
        have += (size_t)r;
        if (have == cap) return -2;
    }
}

int dg_secret_file_load(const char *path, size_t max, dg_secret_parse_fn parse, void *ctx,
                        dg_err *err) {
    if (!path || !*path) return dg_err_set(err, DG_ERR_KEY_FILE, "key file: no path given");
    if (!parse || max == 0 || max > SECRET_MAX_CAP)
        return dg_err_set(err, DG_ERR_INTERNAL, "dg_secret_file_load: bad arguments");
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) return fail(err, path, "cannot open: ", strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return fail(err, path, "cannot stat: ", strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return fail(err, path, "not a regular file", NULL);
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        close(fd);
        return dg_err_set(err, DG_ERR_KEY_FILE,
                          "key file %s: accessible by group or others (mode %04o); "
                          "run chmod 600 %s",
                          path, (unsigned)(st.st_mode & 07777), path);
    }
    size_t cap = max + 1; /* +1: a full buffer means the file is larger than max */
    char *buf = malloc(cap + 1);
    if (!buf) {
        close(fd);
        return dg_err_set(err, DG_ERR_NOMEM, "key file %s: out of memory", path);
    }
    long n = read_all(fd, buf, cap);
    int e = errno, ok = 0;
    close(fd);
    if (n == -1) {
        fail(err, path, "cannot read: ", strerror(e));
    } else if (n == -2) {
        char lim[64];
        snprintf(lim, sizeof lim, "%zu bytes", max);
        fail(err, path, "larger than ", lim);
    } else {
        buf[n] = 0;
        dg_err pe = {DG_OK, ""};
        ok = parse(ctx, buf, (size_t)n, &pe);
        if (!ok) {
            dg_err_set(err, DG_ERR_KEY_FILE, "key file %s: %s", path,
                       pe.msg[0] ? pe.msg : "malformed");
            if (pe.code == DG_ERR_NOMEM && err) err->code = DG_ERR_NOMEM;
        }
    }
    dg_wipe(buf, cap + 1);
    free(buf);
    return ok;
}
