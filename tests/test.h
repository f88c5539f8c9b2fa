/* test.h — the project's tiny test framework.
 *
 * A test is a function declared with TEST(name) in any file under tests/unit; it
 * registers itself at load time and the runner (tests/runner.c) runs every
 * registered test, or those whose name contains argv[1]. CHECK* macros record
 * a failure with file and line and let the test continue, so one run shows
 * every broken assertion. The runner ends with one line "N passed, N failed".
 */
#ifndef DG_TEST_H
#define DG_TEST_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef void (*dg_test_fn)(void);

void dg_test_register(const char *name, const char *file, dg_test_fn fn);
void dg_test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Directory of test data (tests/data), usable in paths. */
const char *dg_test_data_dir(void);

#define TEST(name)                                                                                 \
    static void test_##name(void);                                                                 \
    __attribute__((constructor)) static void test_reg_##name(void) {                               \
        dg_test_register(#name, __FILE__, test_##name);                                            \
    }                                                                                              \
    static void test_##name(void)

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) dg_test_fail(__FILE__, __LINE__, "CHECK(%s)", #cond);                         \
    } while (0)

#define CHECK_INT(a, b)                                                                            \
    do {                                                                                           \
        long long va_ = (long long)(a), vb_ = (long long)(b);                                      \
        if (va_ != vb_)                                                                            \
            dg_test_fail(__FILE__, __LINE__, "%s == %lld, expected %s == %lld", #a, va_, #b, vb_); \
    } while (0)

#define CHECK_STR(a, b)                                                                            \
    do {                                                                                           \
        const char *sa_ = (a), *sb_ = (b);                                                         \
        if (!sa_ || !sb_ || strcmp(sa_, sb_) != 0)                                                 \
            dg_test_fail(__FILE__, __LINE__, "%s == \"%s\", expected \"%s\"", #a,                  \
                         sa_ ? sa_ : "(null)", sb_ ? sb_ : "(null)");                              \
    } while (0)

#define CHECK_MEM(a, b, n)                                                                         \
    do {                                                                                           \
        if (memcmp((a), (b), (n)) != 0)                                                            \
            dg_test_fail(__FILE__, __LINE__, "%s differs from %s (%zu bytes)", #a, #b,             \
                         (size_t)(n));                                                             \
    } while (0)

/* Read a whole file into a NUL-terminated malloc'd buffer (length in *n), or
 * NULL. Test helper only. */
char *dg_test_slurp(const char *path, size_t *n);

/* Write text to path (replacing it) with the given mode, checked. */
void dg_test_write_file(const char *path, const char *text, unsigned mode);

/* Parse a hex string (no 0x) into out; returns the byte count. Test helper only. */
size_t dg_test_unhex(const char *hex, uint8_t *out, size_t cap);

#endif
