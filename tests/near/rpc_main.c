/* rpc_main.c — nemu-rpc: NEAR JSON-RPC on loopback, backed by nemu, an
 * EMULATION of the NEAR runtime (not nearcore, not a node).
 *
 * Prints "nemu-rpc listening on http://127.0.0.1:<port>" and serves until
 * SIGINT/SIGTERM. The chain starts empty: tests create accounts, deploy the
 * registry's modules (kms, app, probe) and call methods with the nemu_*
 * methods of rpc.h, then use it like a NEAR node. --help says what is
 * emulated and what is approximated.
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

static const char usage[] =
    "usage: nemu-rpc [--port N] [--block-ms MS] [--validity-blocks N] [--chain-id ID]\n"
    "                [--tx-timeout-ms MS]\n"
    "\n"
    "NEAR JSON-RPC on 127.0.0.1 over nemu, an EMULATION of the NEAR runtime for\n"
    "tests of NEAR clients. It is not nearcore and not a node: one process, one\n"
    "shard, no validators, no network, state in memory only.\n"
    "\n"
    "  --port N             listen on port N (default 0: any free port)\n"
    "  --block-ms MS        produce a block every MS ms of wall time (default 1000;\n"
    "                       0 = blocks only advance when receipts run)\n"
    "  --validity-blocks N  transaction_validity_period (default 100, nearcore localnet)\n"
    "  --chain-id ID        chain_id reported by status (default localnet)\n"
    "  --tx-timeout-ms MS   how long send_tx / tx wait for an unfinished transaction\n"
    "                       before TIMEOUT_ERROR (default 10000, nearcore's)\n"
    "\n"
    "Emulated like nearcore: the contracts' real wasm (translated by wasm2c) on\n"
    "NEAR's host functions; receipts, promises, callbacks, refunds, storage\n"
    "staking; yield/resume (a transaction stays open until its yield is resumed\n"
    "or times out after 200 blocks); signed transactions (borsh, ed25519, nonces,\n"
    "expiry); action fees\n"
    "from nearcore's fee table charged to the signer at a gas price of 10^8\n"
    "yocto, with unused gas refunded; views pinned to a block (block_id or\n"
    "finality; `final` is the head minus 2 blocks) over the last 512 state\n"
    "changes; nearcore's reply and error shapes.\n"
    "Exact: the wasm instruction count x nearcore's regular_op_cost.\n"
    "Approximated: block timestamps (1 s per block), no contract rewards, no\n"
    "gas price changes, no refund penalty, no Stake, no global contracts, no\n"
    "state proofs.\n"
    "Test-only methods nemu_create_account, nemu_deploy, nemu_call,\n"
    "nemu_advance_blocks (fast-forward) and nemu_set_time set up state without\n"
    "signing (tests/near/README.md).\n";

static int num_arg(const char *flag, const char *v, unsigned long long max,
                   unsigned long long *out) {
    char *end;
    unsigned long long n = v ? strtoull(v, &end, 10) : 0;
    if (!v || !*v || *end || n > max || *v == '-') {
        fprintf(stderr, "nemu-rpc: %s: expected a number up to %llu, got '%s'\n", flag, max,
                v ? v : "");
        return 0;
    }
    *out = n;
    return 1;
}

int main(int argc, char **argv) {
    unsigned long long port = 0, block_ms = 1000, validity = NEMU_VALIDITY_BLOCKS,
                       tx_timeout = NEMU_TX_TIMEOUT_MS;
    nemu_rpc_opts opts = {0};
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage, stdout);
            return 0;
        } else if (strcmp(argv[i], "--port") == 0) {
            if (!num_arg("--port", v, 65535, &port)) return 2;
        } else if (strcmp(argv[i], "--block-ms") == 0) {
            if (!num_arg("--block-ms", v, 3600000, &block_ms)) return 2;
        } else if (strcmp(argv[i], "--validity-blocks") == 0) {
            if (!num_arg("--validity-blocks", v, 1000000000, &validity) || !validity) return 2;
        } else if (strcmp(argv[i], "--tx-timeout-ms") == 0) {
            if (!num_arg("--tx-timeout-ms", v, 3600000, &tx_timeout) || !tx_timeout) return 2;
        } else if (strcmp(argv[i], "--chain-id") == 0 && v) {
            opts.chain_id = v;
        } else {
            fprintf(stderr, "nemu-rpc: unknown argument '%s'\n%s", argv[i], usage);
            return 2;
        }
        i++;
    }
    opts.block_ms = (unsigned)block_ms;
    opts.validity_blocks = validity;
    opts.tx_timeout_ms = (unsigned)tx_timeout;
    nemu *w = nemu_new();
    nemu_server *s = nemu_server_start(w, (int)port, &opts);
    if (!s) {
        fprintf(stderr, "nemu-rpc: cannot listen on 127.0.0.1:%llu\n", port);
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
