/* toml.h — a small, strict TOML subset for configuration files.
 *
 * Debian has no C TOML parser, so this is the project's own. It accepts what a
 * configuration needs and rejects everything else with a line and column:
 *
 *   - comments (#), blank lines, `[table]` and `[dotted.table]` headers;
 *   - `key = value` with bare keys (A-Za-z0-9_-), quoted keys, dotted keys;
 *   - values: basic strings "..." (escapes \b \t \n \f \r \" \\ \uXXXX
 *     \UXXXXXXXX), literal strings '...', decimal integers (optional sign,
 *     underscores between digits, no leading zeros; 64-bit), true / false, and
 *     arrays of strings (may span lines, trailing comma allowed).
 *   - a key or table defined twice is an error; so are floats, dates, inline
 *     tables, arrays of tables, multi-line strings and mixed arrays.
 *
 * The document is a flat list of entries with their full dotted key, so a
 * reader looks values up by path ("eth.rpc_urls") and can reject unknown keys
 * by walking the list.
 */
#ifndef DSTACKGOV_TOML_H
#define DSTACKGOV_TOML_H

#include <stddef.h>

#include "dstackgov/err.h"

typedef enum { DG_TOML_STRING, DG_TOML_INT, DG_TOML_BOOL, DG_TOML_ARRAY } dg_toml_type;

typedef struct {
    const char *key; /* full dotted key, e.g. "eth.rpc_urls" */
    dg_toml_type type;
    const char *str; /* DG_TOML_STRING: NUL-terminated value (may not contain NUL) */
    long long i;     /* DG_TOML_INT */
    int b;           /* DG_TOML_BOOL: 0 or 1 */
    char **items;    /* DG_TOML_ARRAY: strings */
    size_t nitems;
    int line, col;         /* where the value starts (1-based), for messages */
    int key_line, key_col; /* where the key starts */
} dg_toml_entry;

typedef struct dg_toml dg_toml;

/* Parse a document.
 *
 * Returns 1 on success (*out owns the document; free with dg_toml_free), 0 on
 * failure with err->code DG_ERR_CONFIG and err->msg "line L, column C: ...".
 * In:  text, len: the file's bytes (need not be NUL-terminated; a NUL byte is
 *      an error).
 */
int dg_toml_parse(const char *text, size_t len, dg_toml **out, dg_err *err);

/* Read and parse a file; messages are prefixed with the path. */
int dg_toml_parse_file(const char *path, dg_toml **out, dg_err *err);

/* Free a document (NULL is fine). */
void dg_toml_free(dg_toml *doc);

/* Number of entries and entry i (in file order). */
size_t dg_toml_count(const dg_toml *doc);
const dg_toml_entry *dg_toml_at(const dg_toml *doc, size_t i);

/* The entry with full dotted key `key`, or NULL. */
const dg_toml_entry *dg_toml_get(const dg_toml *doc, const char *key);

#endif
