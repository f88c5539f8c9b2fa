/* rlp.h — Ethereum's Recursive Length Prefix encoding (Yellow Paper, app. B).
 *
 * Encoding appends to a dg_buf; a list is written by remembering a mark,
 * appending the items, then letting dg_rlp_list_end insert the header:
 *
 *     size_t m = dg_rlp_list_begin(&b);
 *     dg_rlp_put_uint(&b, nonce); ...
 *     dg_rlp_list_end(&b, m);
 *
 * Decoding is strict and zero-copy: an item points into the input. Every
 * non-canonical form is rejected (a single byte < 0x80 wrapped in a string
 * header, a long header for a short payload, a length with leading zero
 * bytes, trailing bytes), so one value has exactly one accepted encoding.
 * Integers must have no leading zero byte (zero is the empty string).
 */
#ifndef DSTACKGOV_RLP_H
#define DSTACKGOV_RLP_H

#include <stddef.h>
#include <stdint.h>

#include "dstackgov/buf.h"
#include "dstackgov/err.h"
#include "dstackgov/u256.h"

/* Append a byte string. Returns 1, or 0 if the buffer cannot grow (oom). */
int dg_rlp_put_bytes(dg_buf *b, const uint8_t *p, size_t n);

/* Append an integer as its minimal big-endian byte string (0 -> 0x80).
 * Returns 1, or 0 on oom. */
int dg_rlp_put_uint(dg_buf *b, uint64_t v);

/* Same for a 256-bit integer. Returns 1, or 0 on oom. */
int dg_rlp_put_u256(dg_buf *b, dg_u256 v);

/* Append bytes that are already an RLP item (no header added).
 * Returns 1, or 0 on oom. */
int dg_rlp_put_raw(dg_buf *b, const uint8_t *p, size_t n);

/* Start a list: returns the mark to pass to dg_rlp_list_end. */
size_t dg_rlp_list_begin(dg_buf *b);

/* Close the list started at `mark`: everything appended since becomes the
 * list's payload and its header is inserted before it.
 * Returns 1, or 0 on oom or if mark is past the end of the buffer. */
int dg_rlp_list_end(dg_buf *b, size_t mark);

/* A decoded item: a byte string (is_list = 0) or a list (is_list = 1) whose
 * payload is the concatenation of its items' encodings. `payload` points into
 * the decoded input, which must outlive the item. */
typedef struct {
    int is_list;
    const uint8_t *payload;
    size_t len;
} dg_rlp_item;

/* Decode the item at the start of `in`.
 *
 * Returns 1 on success; 0 (DG_ERR_INPUT) on a truncated or non-canonical
 * encoding, with a message naming the byte offset and the problem.
 * Args: err:      error out (may be NULL).
 * Out:  item:     the item (payload points into in).
 *       consumed: if non-NULL, the item's total encoded size; if NULL, the
 *                 item must span exactly inlen bytes (trailing bytes are an
 *                 error).
 * In:   in, inlen: the encoding.
 */
int dg_rlp_decode(const uint8_t *in, size_t inlen, dg_rlp_item *item, size_t *consumed,
                  dg_err *err);

/* Read the next child of a list.
 *
 * Returns 1 when a child was read (*offset advances past it); 0 at the end of
 * the list (err: DG_ERR_INPUT "end of list") or when the child is malformed or
 * runs past the list's payload. So `while (dg_rlp_next(...))` stops on both.
 * Args: err:    error out (may be NULL).
 * Out:  child:  the child item.
 * In:   list:   a list item (is_list = 1; a string is an error).
 *       offset: in/out position inside list->payload; start with 0.
 */
int dg_rlp_next(const dg_rlp_item *list, size_t *offset, dg_rlp_item *child, dg_err *err);

/* Decode all children of a list into items[0..*n).
 * Returns 1 on success; 0 if the list is malformed or has more than max
 * children (message says how many were expected at most).
 */
int dg_rlp_list_items(const dg_rlp_item *list, dg_rlp_item *items, size_t max, size_t *n,
                      dg_err *err);

/* Read a canonical integer (a string without leading zero bytes) into a
 * uint64_t / dg_u256. Returns 1, or 0 (DG_ERR_INPUT) for a list, a leading
 * zero byte, or a value too large for the type. */
int dg_rlp_to_u64(const dg_rlp_item *item, uint64_t *out, dg_err *err);
int dg_rlp_to_u256(const dg_rlp_item *item, dg_u256 *out, dg_err *err);

#endif
