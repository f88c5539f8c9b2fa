/* nt.h — helpers shared by the NEAR test files (emulator and contract tests).
 *
 * Small wrappers over emu.h that turn outcomes into test checks: a call that
 * must succeed with a given JSON value, a call that must fail with a given
 * panic message, and a world with the usual accounts.
 */
#ifndef NT_H
#define NT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu.h"
#include "test.h"

#define NT_GAS (300 * NEMU_TGAS)
#define NT_YOCTO ((nemu_u128)1)

/* The value of an outcome as a string ("" if none); valid until the outcome is freed. */
static inline const char *nt_val(const nemu_outcome *o) {
    return o->ok && o->value ? (const char *)o->value : "";
}

/* Check a successful outcome whose value equals `want` (NULL: any value). Frees o. */
#define NT_OK(o, want)                                                                             \
    do {                                                                                           \
        nemu_outcome *o_ = (o);                                                                    \
        if (!o_->ok) {                                                                             \
            dg_test_fail(__FILE__, __LINE__, "expected success, got: %s",                          \
                         o_->error ? o_->error : "?");                                             \
        } else if ((want) != NULL) {                                                               \
            CHECK_STR(nt_val(o_), (want));                                                         \
        }                                                                                          \
        nemu_outcome_free(o_);                                                                     \
    } while (0)

/* Check a failed outcome whose error message contains `needle`. Frees o. */
#define NT_FAIL(o, needle)                                                                         \
    do {                                                                                           \
        nemu_outcome *o_ = (o);                                                                    \
        if (o_->ok) {                                                                              \
            dg_test_fail(__FILE__, __LINE__, "expected failure \"%s\", got value %s", (needle),    \
                         nt_val(o_));                                                              \
        } else if (!o_->error || !strstr(o_->error, (needle))) {                                   \
            dg_test_fail(__FILE__, __LINE__, "error \"%s\" lacks \"%s\"",                          \
                         o_->error ? o_->error : "(null)", (needle));                              \
        }                                                                                          \
        nemu_outcome_free(o_);                                                                     \
    } while (0)

#define CHECK_U128(a, b)                                                                           \
    do {                                                                                           \
        nemu_u128 a_ = (a), b_ = (b);                                                              \
        if (a_ != b_) {                                                                            \
            char sa_[48], sb_[48];                                                                 \
            dg_test_fail(__FILE__, __LINE__, "%s == %s, expected %s", #a, nemu_u128_str(a_, sa_),  \
                         nemu_u128_str(b_, sb_));                                                  \
        }                                                                                          \
    } while (0)

#endif
