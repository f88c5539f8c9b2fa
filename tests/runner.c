/* runner.c — runs the tests registered with TEST() and prints one closing line.
 *
 * Usage: unit [SUBSTRING]   runs every test, or those whose name contains SUBSTRING.
 * Exit status is 0 only when no test failed and at least one ran.
 */
#include "test.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_TESTS 4096

struct test_case {
    const char *name;
    const char *file;
    dg_test_fn fn;
};

static struct test_case g_tests[MAX_TESTS];
static size_t g_ntests;
static int g_current_failed;
static const char *g_current_name;

void dg_test_register(const char *name, const char *file, dg_test_fn fn) {
    if (g_ntests == MAX_TESTS) {
        fprintf(stderr, "runner: too many tests (max %d)\n", MAX_TESTS);
        abort();
    }
    g_tests[g_ntests++] = (struct test_case){name, file, fn};
}

void dg_test_fail(const char *file, int line, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "FAIL %s (%s:%d): ", g_current_name, file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    g_current_failed = 1;
}

const char *dg_test_data_dir(void) {
    const char *d = getenv("DG_TEST_DATA");
    return d ? d : "data";
}

char *dg_test_slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *b = NULL;
    long len = -1;
    if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (b = malloc((size_t)len + 1)) != NULL && fread(b, 1, (size_t)len, f) != (size_t)len) {
        free(b);
        b = NULL;
    }
    fclose(f);
    if (!b) return NULL;
    b[len] = 0;
    *n = (size_t)len;
    return b;
}

size_t dg_test_unhex(const char *hex, uint8_t *out, size_t cap) {
    size_t n = 0;
    while (hex[0] && hex[1] && n < cap) {
        unsigned v;
        if (sscanf(hex, "%2x", &v) != 1) break;
        out[n++] = (uint8_t)v;
        hex += 2;
    }
    return n;
}

void dg_test_write_file(const char *path, const char *text, unsigned mode) {
    unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0);
    if (fd < 0) return;
    CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    CHECK(fchmod(fd, (mode_t)mode) == 0);
    close(fd);
}

static int cmp_tests(const void *a, const void *b) {
    const struct test_case *x = a, *y = b;
    int c = strcmp(x->file, y->file);
    return c ? c : strcmp(x->name, y->name);
}

int main(int argc, char **argv) {
    const char *filter = argc > 1 ? argv[1] : NULL;
    int passed = 0, failed = 0;
    /* tests read vectors from the data directory: without it they would
     * fail on NULL data, or crash, far from the cause */
    struct stat st;
    if (stat(dg_test_data_dir(), &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr,
                "test data directory \"%s\" not found: run from tests/ (make test-unit) or set "
                "DG_TEST_DATA\n",
                dg_test_data_dir());
        return 2;
    }
    qsort(g_tests, g_ntests, sizeof g_tests[0], cmp_tests);
    for (size_t i = 0; i < g_ntests; i++) {
        if (filter && !strstr(g_tests[i].name, filter)) continue;
        g_current_name = g_tests[i].name;
        g_current_failed = 0;
        g_tests[i].fn();
        if (g_current_failed)
            failed++;
        else
            passed++;
    }
    printf("%d passed, %d failed\n", passed, failed);
    return (failed == 0 && passed > 0) ? 0 : 1;
}
