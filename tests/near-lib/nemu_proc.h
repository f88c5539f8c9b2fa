/* nemu_proc.h — start build/near-test/nemu-rpc (the local NEAR runtime
 * emulation, not nearcore) as a child on a free loopback port, talk to it
 * with lib/rpc, stop it by PID. Shared by the lib/near tests. */
#ifndef NEMU_PROC_H
#define NEMU_PROC_H

#include <sys/types.h>

#include "dstackgov/near.h"

typedef struct {
    pid_t pid;
    char url[64];
    dg_rpc *rpc;
} nemu_proc;

/* Start nemu-rpc (path from $NEMU_RPC, else build/near-test/nemu-rpc relative
 * to the repository root). Returns 1, or 0 with a message on stderr. */
int nemu_proc_start(nemu_proc *p);
/* The same with more nemu-rpc arguments (NULL-terminated, at most 12). */
int nemu_proc_start_args(nemu_proc *p, const char *const *extra);
void nemu_proc_stop(nemu_proc *p);

/* The emulator's set-up methods (nemu_create_account, nemu_deploy,
 * nemu_call): params as JSON text. Returns the result (new reference) or NULL. */
json_t *nemu_proc_call(nemu_proc *p, const char *method, const char *params_json);

#endif
