/* json.h — the NEAR contracts' strict JSON reader and writer.
 *
 * Portable C with no libc: the same file is compiled into the wasm contracts and
 * natively into the unit tests and the fuzzer. The reader tokenizes a whole
 * document into a flat array (each token knows where its subtree ends, so a
 * skip is O(1)); strings stay escaped in the input until a caller decodes them
 * in place. Field tables turn an object into typed arguments and report the
 * near-sdk style error details (missing/unknown/duplicate field).
 */
#ifndef NC_JSON_H
#define NC_JSON_H

#include <stddef.h>
#include <stdint.h>

enum { NJ_OBJ = 1, NJ_ARR, NJ_STR, NJ_NUM, NJ_TRUE, NJ_FALSE, NJ_NULL };

#define NJ_MAX_DEPTH 32
#define NJ_MAX_INPUT (1u << 20)

/* One JSON value. start: first byte of the value (for strings: first byte after
 * the opening quote); len: raw text length (strings: escaped content length,
 * objects/arrays: number of members/items); end: index of the first token after
 * this value's subtree (object members are key token, value subtree). */
typedef struct {
    uint32_t start;
    uint32_t len;
    uint32_t end;
    uint8_t type;
} nj_tok;

/* Bounded output buffer. Writes past cap set overflow and are dropped. */
typedef struct {
    char *p;
    uint32_t len;
    uint32_t cap;
    int overflow;
} nj_buf;

/* A decoded string argument: s == NULL when the JSON value was null. */
typedef struct {
    const char *s;
    uint32_t len;
} nj_str;

/* Parse s[0..n) strictly (RFC 8259, UTF-8, depth <= NJ_MAX_DEPTH, n <=
 * NJ_MAX_INPUT) into toks[0..cap). Returns the token count (>= 1), or 0 with
 * an error detail appended to err ("syntax error at byte N", ...). */
uint32_t nj_parse(const char *s, uint32_t n, nj_tok *toks, uint32_t cap, nj_buf *err);

/* Token capacity that is always enough for an n-byte document. */
uint32_t nj_tok_cap(uint32_t n);

/* Decode string token t in place (escapes → UTF-8). Returns the decoded length;
 * the bytes start at s + t->start. Call at most once per token. */
uint32_t nj_unescape(char *s, const nj_tok *t);

/* Unsigned integer token (no sign, fraction or exponent) no larger than max. */
int nj_uint(const char *s, const nj_tok *t, uint64_t max, uint64_t *out);

/* Array of integers 0..255 at token index arr: fills out (capacity = item
 * count, toks[arr].len) and returns 1, or 0 if an item is not a byte. */
int nj_bytes(const char *s, const nj_tok *toks, uint32_t arr, uint8_t *out);

enum { NJF_STR = 1, NJF_STR_NULL, NJF_BOOL, NJF_U64, NJF_U32, NJF_OBJ, NJF_ARR };

/* One expected object member. out: nj_str* (STR, STR_NULL), int* (BOOL),
 * uint64_t* (U64), uint32_t* (U32), uint32_t* token index (OBJ, ARR). */
typedef struct {
    const char *name;
    uint8_t kind;
    uint8_t required;
    void *out;
} nj_field;

/* Match object token obj against fields[0..nf) (nf <= 32): decodes keys and
 * string values in place, rejects unknown, duplicate, missing required and
 * mistyped members. Returns a bit mask of the fields present, or -1 with the
 * detail appended to err. */
int64_t nj_fields(char *s, const nj_tok *toks, uint32_t obj, const nj_field *fields, uint32_t nf,
                  nj_buf *err);

/* Writer. */
void nj_put(nj_buf *b, const char *s, uint32_t n);
void nj_puts(nj_buf *b, const char *s);
void nj_putc(nj_buf *b, char c);
void nj_put_u64(nj_buf *b, uint64_t v);
/* A JSON string literal with quotes; escapes ", \ and control characters. */
void nj_put_str(nj_buf *b, const char *s, uint32_t n);
/* A JSON array of byte values: [1,2,3]. */
void nj_put_bytes(nj_buf *b, const uint8_t *p, uint32_t n);

/* Freestanding helpers (the wasm build has no libc). */
uint32_t nj_strlen(const char *s);
int nj_eq(const char *a, uint32_t an, const char *b, uint32_t bn);

#endif
