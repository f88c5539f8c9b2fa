/* rpc_main.c — nemu-rpc: a NEAR JSON-RPC endpoint backed by the emulator.
 *
 * Usage: nemu-rpc [--port N]   (default 0: any free port)
 * Prints "nemu-rpc listening on http://127.0.0.1:<port>" and serves until
 * SIGINT/SIGTERM. The chain starts empty: tests create accounts, deploy the
 * registry's modules (kms, app, probe) and call methods with the nemu_*
 * methods of rpc.h, then query it like a NEAR node. This is an emulation for
 * tests of NEAR clients, not a NEAR node.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rpc_http.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig) {
    (void)sig;
    stop = 1;
}

int main(int argc, char **argv) {
    int port = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
            port = atoi(argv[++i]);
        } else {
            fprintf(stderr, "usage: nemu-rpc [--port N]\n");
            return 2;
        }
    }
    nemu *w = nemu_new();
    nemu_server *s = nemu_server_start(w, port);
    if (!s) {
        fprintf(stderr, "nemu-rpc: cannot listen on 127.0.0.1:%d\n", port);
        return 1;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    printf("nemu-rpc listening on http://127.0.0.1:%d\n", nemu_server_port(s));
    fflush(stdout);
    while (!stop)
        pause();
    nemu_server_stop(s);
    nemu_free(w);
    return 0;
}
