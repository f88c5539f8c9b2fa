/* secret.h — secrets read from files, for every chain's keys.
 *
 * One loader for every key file the programs read (an Ethereum hex key, a NEAR
 * `ed25519:` key, a near-cli credential JSON): it opens the file, refuses it
 * unless it is a regular file that group and others can neither read nor write
 * (checked with fstat on the opened descriptor, so a swap after the check is
 * impossible), reads it whole into one buffer, hands the text to the caller's
 * parser, and wipes the buffer before returning. Every failure — missing,
 * unreadable, mode too open, too large, malformed — has ONE class,
 * DG_ERR_KEY_FILE ("the key file is unusable"), and a message that starts with
 * "key file <path>: " and says why. No message ever quotes the file's content.
 */
#ifndef DSTACKGOV_SECRET_H
#define DSTACKGOV_SECRET_H

#include <stddef.h>

#include "dstackgov/err.h"

/* Parse the text of a secret file (the caller's format). Called once, with the
 * whole content: text[0..len) followed by a NUL (text[len] == 0); the buffer is
 * wiped after the call, so copy out only the parsed secret, never a pointer.
 * Returns 1, or 0 with err saying what is malformed (without quoting the
 * secret); the loader prefixes "key file <path>: " and sets DG_ERR_KEY_FILE.
 */
typedef int (*dg_secret_parse_fn)(void *ctx, const char *text, size_t len, dg_err *err);

/* Read a secret file and parse it.
 * Returns: 1 when parse returned 1, or 0 with err (DG_ERR_KEY_FILE, or
 *          DG_ERR_NOMEM when the buffer cannot be allocated). Messages:
 *          "key file k.hex: cannot open: No such file or directory",
 *          "key file k.hex: accessible by group or others (mode 0644); run chmod 600 k.hex",
 *          "key file k.hex: not a regular file", "key file k.hex: larger than 4096 bytes",
 *          "key file k.hex: <parse's message>".
 * Args: err:   error out (may be NULL).
 * In:   path:  the file (named in messages; it is not a secret),
 *       max:   the largest content accepted, in bytes (1..1 MiB),
 *       parse: the format's parser (see dg_secret_parse_fn), ctx: passed to it.
 */
int dg_secret_file_load(const char *path, size_t max, dg_secret_parse_fn parse, void *ctx,
                        dg_err *err);

/* Zero n bytes in a way the compiler may not remove (p may be NULL when n is 0). */
void dg_wipe(void *p, size_t n);

#endif
