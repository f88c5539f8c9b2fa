/* abi.h — the Solidity contract ABI: encode call data, decode return data.
 *
 * Values are a small tagged tree (dg_abi_value). Function arguments are a
 * TUPLE whose items are the arguments; return values decode into a TUPLE too.
 *
 *     dg_abi_value args;
 *     dg_abi_tuple(&args, 2);
 *     dg_abi_address(&args.items[0], owner);
 *     dg_abi_bytes32(&args.items[1], hash);
 *     dg_abi_encode_call(&calldata, "f(address,bytes32)", &args, &err);
 *     dg_abi_value_free(&args);
 *
 *     dg_abi_value ret;
 *     if (dg_abi_decode("(bool,string)", data, len, &ret, &err)) {
 *         int allowed = ret.items[0].word[31];
 *         const char *reason = (const char *)ret.items[1].data; // NUL-terminated
 *         dg_abi_value_free(&ret);
 *     }
 *
 * Type strings use the canonical Solidity spelling: uint8..uint256 (uint =
 * uint256), int8..int256 (int = int256), address, bool, bytes1..bytes32,
 * bytes, string, T[], T[k], and tuples (T1,T2,...). Spaces and parameter
 * names are not accepted. Nesting is limited to 32 levels.
 *
 * The decoder is strict: every offset and length is checked against the
 * data (including overflow of offset + length) before it is used, values
 * must be in range for their type (a uint8 word above 255, a bool other than
 * 0/1, an address with non-zero upper bytes, dirty bytesN padding, and a
 * bytes/string tail without its zero padding to a whole 32-byte word are all
 * errors, as every ABI encoder writes them padded), and the total number and size of decoded values
 * is bounded by the data size, so self-referencing offsets cannot make it allocate without limit.
 * Messages name the value's path (1-based at the top level, then
 * ".i" for tuple items and "[i]" for array items, both 0-based), its type and
 * byte offset: "abi: value 2 (string) at byte 0x20: offset 0x4000 is past
 * the end of the data (96 bytes)".
 */
#ifndef DSTACKGOV_ABI_H
#define DSTACKGOV_ABI_H

#include <stddef.h>
#include <stdint.h>

#include "dstackgov/buf.h"
#include "dstackgov/err.h"
#include "dstackgov/u256.h"

typedef enum {
    DG_ABI_UINT,
    DG_ABI_INT,
    DG_ABI_ADDRESS,
    DG_ABI_BOOL,
    DG_ABI_FIXED_BYTES,
    DG_ABI_BYTES,
    DG_ABI_STRING,
    DG_ABI_ARRAY,       /* T[] */
    DG_ABI_FIXED_ARRAY, /* T[k] */
    DG_ABI_TUPLE
} dg_abi_kind;

typedef struct dg_abi_value {
    dg_abi_kind kind;
    unsigned bits_or_size; /* uintN/intN: N; bytesN: N; T[k]: k (decoder fills it) */
    uint8_t word[32];      /* uint/int: 32-byte big-endian (two's complement);
                              address: right-aligned; bool: word[31];
                              bytesN: left-aligned, zero padded */
    uint8_t *data;         /* bytes/string: owned, NUL-terminated (len excludes it) */
    size_t len;
    struct dg_abi_value *items; /* array/tuple items: owned */
    size_t nitems;
    /* Set only on a tree's root by dg_abi_decode: the one memory block (a
     * short chain of them, rarely) holding every item array and byte string
     * of the tree, released as a whole by dg_abi_value_free. NULL for values
     * built with the constructors. */
    struct dg_abi_arena *arena;
} dg_abi_value;

/* ---- constructors. Each overwrites *v without freeing what it held; a
 * value built here is released with dg_abi_value_free. Those that allocate
 * return 1, or 0 on allocation failure (v is then an empty value of that
 * kind, safe to free). */

/* address (20 bytes, right-aligned in the word). */
void dg_abi_address(dg_abi_value *v, const uint8_t addr[20]);
/* bool (any non-zero b is true). */
void dg_abi_bool(dg_abi_value *v, int b);
/* uint with value x (fits any uintN slot with N >= the value's bit length). */
void dg_abi_uint64(dg_abi_value *v, uint64_t x);
/* int with value x (two's complement sign-extended to 256 bits). */
void dg_abi_int64(dg_abi_value *v, int64_t x);
/* uint256 (or any narrower uintN if the value fits). */
void dg_abi_uint256(dg_abi_value *v, dg_u256 x);
/* bytes32. */
void dg_abi_bytes32(dg_abi_value *v, const uint8_t b[32]);
/* bytesN for 1 <= n <= 32. Returns 0 if n is out of range (v becomes bytes32 zero). */
int dg_abi_fixed_bytes(dg_abi_value *v, const uint8_t *p, size_t n);
/* Dynamic bytes (copied). */
int dg_abi_bytes(dg_abi_value *v, const uint8_t *p, size_t n);
/* string (copied, NUL-terminated C string; the ABI value is its bytes;
 * NULL is the empty string). */
int dg_abi_string(dg_abi_value *v, const char *s);
/* A tuple / dynamic array T[] / fixed array T[k] of n items, each zeroed
 * (a zeroed item is uint 0); fill v->items[i] with the constructors. */
int dg_abi_tuple(dg_abi_value *v, size_t n);
int dg_abi_array(dg_abi_value *v, size_t n);
int dg_abi_fixed_array(dg_abi_value *v, size_t n);

/* Release everything a value owns (recursively) and zero it; v itself is not
 * freed. Safe on a zeroed value. A decoded tree is released only through its
 * root: its items live in the root's arena, so never free (or overwrite with
 * a constructor) an item of a decoded tree on its own. A decoded root may be
 * moved into a built tree as an item; freeing that tree releases it too. */
void dg_abi_value_free(dg_abi_value *v);

/* ---- encoding */

/* Append the ABI encoding of a tuple's items (head/tail encoding, as
 * function arguments and return values are encoded), guided by the values'
 * kinds alone.
 * Returns 1; 0 (DG_ERR_INPUT) if v is not a tuple or a value is malformed
 * (e.g. a fixed array whose items differ in being dynamic), 0 (DG_ERR_NOMEM).
 * Args: err: error out (may be NULL).
 * Out:  out: the encoding is appended.
 * In:   tuple: a DG_ABI_TUPLE value.
 */
int dg_abi_encode(dg_buf *out, const dg_abi_value *tuple, dg_err *err);

/* Append call data: the 4-byte selector of `signature` followed by the
 * encoding of args. Before encoding, the arguments are checked against the
 * signature's types: count, kinds (T[] needs an ARRAY value, T[k] a
 * FIXED_ARRAY of exactly k items, bytesN a FIXED_BYTES of size N), and
 * ranges (a uint8 argument above 255 is an error, not truncated).
 * Returns 1; 0 (DG_ERR_INPUT) with a message naming the argument, 0 (NOMEM).
 * Args: err: error out (may be NULL).
 * Out:  out: call data appended.
 * In:   signature: "name(type1,type2,...)", canonical types (see top).
 *       args:      a DG_ABI_TUPLE with one item per parameter.
 */
int dg_abi_encode_call(dg_buf *out, const char *signature, const dg_abi_value *args, dg_err *err);

/* Same as dg_abi_encode_call without the selector: check args against a
 * tuple type string such as "(address,bytes32)" and append their encoding
 * (constructor arguments appended to creation bytecode, abi.encode). */
int dg_abi_encode_types(dg_buf *out, const char *types, const dg_abi_value *args, dg_err *err);

/* ---- decoding */

/* Decode data laid out as the tuple type `types`.
 *
 * `types` is a tuple type like "(bool,string)" (the return types of a
 * function), "()" for no values, or a single type such as "uint256", which is
 * read as the one-item tuple "(uint256)". Trailing data after the encoding's
 * head is allowed (it holds the tails); every offset must stay inside `len`.
 * Returns 1 and fills *out (a TUPLE held in one allocation; free the root,
 * and only the root, with dg_abi_value_free); 0
 * (DG_ERR_INPUT) for a malformed type string, 0 (DG_ERR_RPC_RESPONSE) for
 * malformed data, with the path and byte offset of the problem; 0 (NOMEM).
 * *out is zeroed on failure.
 * Args: err:  error out (may be NULL).
 * Out:  out:  the decoded tuple.
 * In:   types: type string.  data, len: the encoded bytes (may be NULL if len 0).
 */
int dg_abi_decode(const char *types, const uint8_t *data, size_t len, dg_abi_value *out,
                  dg_err *err);

/* ---- a type parsed once, for many values */

/* A parsed tuple type (opaque). Parsing a type string costs about as much as
 * decoding a short value of it: a program that decodes or checks many values
 * of one type (answers to the same call, a fuzzer) parses it once. */
typedef struct dg_abi_type dg_abi_type;

/* Parse a type string as dg_abi_decode reads it ("(bool,string)", "()", or a
 * single type, read as a one-item tuple).
 * Returns the parsed type (free it with dg_abi_type_free), or NULL with
 * DG_ERR_INPUT (the position of the syntax error) or DG_ERR_NOMEM.
 * Args: err:   error out (may be NULL).
 * In:   types: type string.
 */
dg_abi_type *dg_abi_type_parse(const char *types, dg_err *err);

/* Release a parsed type; safe on NULL. Values decoded with it do not refer
 * to it and stay valid. */
void dg_abi_type_free(dg_abi_type *t);

/* dg_abi_decode with a parsed type: the same result, checks and errors.
 * Returns 1 and fills *out; 0 as dg_abi_decode, or DG_ERR_INPUT if types is
 * NULL. *out is zeroed on failure. The type is only read: one parsed type
 * may serve several threads at once. */
int dg_abi_decode_parsed(const dg_abi_type *types, const uint8_t *data, size_t len,
                         dg_abi_value *out, dg_err *err);

/* dg_abi_encode_types with a parsed type: check args against it, then append
 * their encoding. Returns 1; 0 as dg_abi_encode_types, or DG_ERR_INPUT if
 * types is NULL. */
int dg_abi_encode_parsed(dg_buf *out, const dg_abi_type *types, const dg_abi_value *args,
                         dg_err *err);

/* ---- signatures */

/* Canonicalize a signature "name(types)" (uint -> uint256, int -> int256)
 * and append it to out (as text, NUL-terminated in the buffer).
 * Returns 1; 0 (DG_ERR_INPUT) with the position of a syntax error. */
int dg_abi_canonical_signature(const char *signature, dg_buf *out, dg_err *err);

/* keccak256 of the canonical signature: event topic0 / error and function
 * ids are its first 4 bytes. Returns 1, or 0 (DG_ERR_INPUT) on a bad signature. */
int dg_abi_signature_hash(const char *signature, uint8_t out[32], dg_err *err);

/* The 4-byte selector of a function/error signature.
 * Returns 1, or 0 if the signature is malformed. */
int dg_abi_selector(const char *signature, uint8_t out[4]);

/* ---- reading values */

/* Returns the uint/int word as a dg_u256 (two's complement for int). */
dg_u256 dg_abi_as_u256(const dg_abi_value *v);
/* Returns 1 and *out if v is a uint that fits in 64 bits, else 0. */
int dg_abi_as_u64(const dg_abi_value *v, uint64_t *out);
/* Returns the 20 address bytes of an address value (points into v->word). */
const uint8_t *dg_abi_as_address(const dg_abi_value *v);

#endif
