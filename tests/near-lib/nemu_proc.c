/* nemu_proc.c — nemu-rpc as a child process for tests (see nemu_proc.h).
 * The child's stdout line "nemu-rpc listening on http://127.0.0.1:<port>"
 * tells the port it picked; the child is stopped by its PID only. */
#include "nemu_proc.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

int nemu_proc_start(nemu_proc *p) {
    return nemu_proc_start_args(p, NULL);
}

int nemu_proc_start_args(nemu_proc *p, const char *const *extra) {
    memset(p, 0, sizeof *p);
    const char *bin = getenv("NEMU_RPC");
    if (!bin) bin = "../build/near-test/nemu-rpc";
    int fds[2];
    if (pipe(fds) != 0) return 0;
    pid_t pid = fork();
    if (pid < 0) return 0;
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM); /* never outlive a test that crashed */
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        const char *argv[16] = {bin, "--port", "0"};
        for (int i = 0; extra && extra[i] && i < 12; i++)
            argv[3 + i] = extra[i];
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    close(fds[1]);
    p->pid = pid;
    FILE *f = fdopen(fds[0], "r");
    char line[200] = "";
    if (!f || !fgets(line, sizeof line, f)) {
        fprintf(stderr, "nemu_proc: %s did not start\n", bin);
        if (f) fclose(f);
        nemu_proc_stop(p);
        return 0;
    }
    fclose(f);
    const char *u = strstr(line, "http://");
    if (!u) {
        nemu_proc_stop(p);
        return 0;
    }
    snprintf(p->url, sizeof p->url, "%.*s", (int)strcspn(u, "\r\n"), u);
    const char *urls[1] = {p->url};
    p->rpc = dg_rpc_new(urls, 1, NULL, NULL);
    return p->rpc != NULL;
}

void nemu_proc_stop(nemu_proc *p) {
    dg_rpc_free(p->rpc);
    p->rpc = NULL;
    if (p->pid > 0) {
        kill(p->pid, SIGTERM);
        waitpid(p->pid, NULL, 0);
        p->pid = 0;
    }
}

json_t *nemu_proc_call(nemu_proc *p, const char *method, const char *params_json) {
    json_t *params = json_loads(params_json, 0, NULL);
    json_t *res = NULL;
    dg_err e = {0};
    if (!params || !dg_rpc_call(p->rpc, method, params, &res, &e)) {
        fprintf(stderr, "nemu_proc: %s failed: %s\n", method, e.msg);
        return NULL;
    }
    return res;
}
