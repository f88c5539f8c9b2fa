/* anvil.c — a private anvil for each rpc-suite test (see anvil.h).
 *
 * anvil picks its own port (--port 0) and prints it; we read it back from its
 * output file, so tests never collide on a fixed port, and stop it by PID.
 */
#include "anvil.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../test.h"

const char *dg_test_top_dir(void) {
    const char *t = getenv("DG_TOP");
    return t ? t : "..";
}

void dg_test_tool_path(char *out, size_t cap, const char *tool) {
    snprintf(out, cap, "%s/node_modules/@foundry-rs/%s-linux-amd64/bin/%s", dg_test_top_dir(), tool,
             tool);
}

int anvil_start(struct anvil *a) {
    return anvil_start_chain(a, 0);
}

int anvil_start_chain(struct anvil *a, unsigned long chain_id) {
    char bin[512], cid[24];
    snprintf(cid, sizeof cid, "%lu", chain_id ? chain_id : 31337);
    dg_test_tool_path(bin, sizeof bin, "anvil");
    snprintf(a->log, sizeof a->log, "/tmp/dg-rpc-anvil-%d-XXXXXX", (int)getpid());
    int fd = mkstemp(a->log);
    if (fd < 0) return 0;
    a->pid = fork();
    if (a->pid == 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        execl(bin, "anvil", "--host", "127.0.0.1", "--port", "0", "--chain-id", cid, (char *)NULL);
        _exit(127);
    }
    close(fd);
    for (int i = 0; i < 300; i++) { /* up to 15 s */
        FILE *f = fopen(a->log, "r");
        char line[256];
        while (f && fgets(line, sizeof line, f)) {
            const char *p = strstr(line, "Listening on 127.0.0.1:");
            if (p) {
                a->port = atoi(p + strlen("Listening on 127.0.0.1:"));
                snprintf(a->url, sizeof a->url, "http://127.0.0.1:%d", a->port);
                fclose(f);
                return 1;
            }
        }
        if (f) fclose(f);
        if (waitpid(a->pid, NULL, WNOHANG) == a->pid) break;
        usleep(50000);
    }
    dg_test_fail(__FILE__, __LINE__, "anvil (%s) did not start; see %s", bin, a->log);
    return 0;
}

void anvil_stop(struct anvil *a) {
    if (a->pid > 0) {
        kill(a->pid, SIGTERM);
        waitpid(a->pid, NULL, 0);
    }
    unlink(a->log);
}

dg_rpc *connect_anvil(const struct anvil *a) {
    const char *urls[] = {a->url};
    dg_err e = {0};
    dg_rpc_opts o = {.timeout_ms = 3000};
    dg_rpc *r = dg_rpc_new(urls, 1, &o, &e);
    if (!r) dg_test_fail(__FILE__, __LINE__, "dg_rpc_new: %s", e.msg);
    return r;
}
