/* flags.h — the one flag parser every dstack-gov command uses.
 *
 * A command declares its flags in a table (name, kind, metavar, help); the
 * parser fills a dg_flags with the values and the positional arguments, and
 * prints usage in one format for every command, so `--help`, errors and
 * defaults look the same everywhere (the git way). Flags are `--name VALUE`,
 * `--name=VALUE` or `--name` for booleans; `--` ends flags.
 */
#ifndef DSTACK_GOV_FLAGS_H
#define DSTACK_GOV_FLAGS_H

#include <stddef.h>
#include <stdio.h>

#include "dstackgov/err.h"

enum { FLAG_BOOL = 0, FLAG_STR = 1 };

typedef struct {
    const char *name;    /* without the leading "--"; NULL ends a table */
    int kind;            /* FLAG_BOOL or FLAG_STR */
    const char *metavar; /* e.g. "ADDR" (FLAG_STR only) */
    const char *help;    /* one line */
} flag_spec;

#define FLAGS_MAX 48
#define FLAGS_MAX_POS 8

typedef struct {
    const flag_spec *spec[FLAGS_MAX];
    const char *val[FLAGS_MAX]; /* FLAG_STR: value, FLAG_BOOL: "1" when given */
    size_t n;
    const char *pos[FLAGS_MAX_POS];
    size_t npos;
} dg_flags;

/* Parse argv against up to three flag tables (any may be NULL).
 * Returns 1, or 0 with err (DG_ERR_INPUT) naming the unknown flag, the missing
 * value or the extra argument. A repeated string flag keeps the last value. */
int flags_parse(dg_flags *f, int argc, char **argv, const flag_spec *t1, const flag_spec *t2,
                const flag_spec *t3, dg_err *err);

/* Value of a string flag, or NULL when not given. */
const char *flag_str(const dg_flags *f, const char *name);
/* 1 if a boolean flag was given. */
int flag_bool(const dg_flags *f, const char *name);

/* Print "  --name METAVAR   help" lines for a table. */
void flags_print(FILE *out, const flag_spec *t);

#endif
