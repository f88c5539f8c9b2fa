/* anvil.h — start a real anvil (from node_modules) for a test, and stop it.
 *
 * Each test starts its own anvil on 127.0.0.1 with --port 0 and stops it by
 * PID. Its accounts are anvil's well-known public TEST keys.
 */
#ifndef DG_TEST_ANVIL_H
#define DG_TEST_ANVIL_H

#include <stddef.h>
#include <sys/types.h>

#include "dstackgov/rpc.h"

struct anvil {
    pid_t pid;
    int port;
    char url[64];
    char log[64];
};

/* The source tree (DG_TOP, else ".."), and a Foundry tool's path in its node_modules. */
const char *dg_test_top_dir(void);
void dg_test_tool_path(char *out, size_t cap, const char *tool);
/* Start anvil; 1 with a->url set, or 0 after recording a test failure. */
int anvil_start(struct anvil *a);
/* The same with another chain id (0 = anvil's 31337). */
int anvil_start_chain(struct anvil *a, unsigned long chain_id);
void anvil_stop(struct anvil *a);
/* A client for it (3 s timeout); NULL after recording a test failure. */
dg_rpc *connect_anvil(const struct anvil *a);

#endif
