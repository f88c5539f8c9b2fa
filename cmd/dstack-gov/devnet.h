/* devnet.h — what devnet.c shares with devnet_safe.c. */
#ifndef DSTACK_GOV_DEVNET_H
#define DSTACK_GOV_DEVNET_H

#include <stddef.h>
#include <stdint.h>

#include "dstackgov/err.h"

/* A readable file `rel` under the binary's source tree (walking up from the
 * binary, then the working directory, then the build's source dir): 1 with
 * its path in out, else 0. */
int devnet_find_file(const char *rel, char *out, size_t cap);

typedef struct {
    uint8_t safe[20];
    uint8_t multisend[20]; /* MultiSendCallOnly */
    char owners[9][43];
    char key_files[9][1100];
} devnet_safe;

/* Deploy a K-of-N Safe 1.4.1 on the devnet at url and hand the KMS at kms to it
 * (owners: anvil accounts 1..N, keys from anvil_log written to DIR/safe-owner-I.key). */
int devnet_safe_up(const char *url, const char *dir, const char *anvil_log, const char *kms,
                   unsigned k, unsigned n, devnet_safe *out, dg_err *err);

#endif
