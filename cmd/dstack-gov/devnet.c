/* devnet.c — `devnet up|down|env`: a local chain with the contracts on it.
 *
 * `up` starts anvil (from the project's npm install, else PATH) on 127.0.0.1
 * with a free port, writes the well-known anvil TEST key to a 0600 file,
 * deploys DstackApp + DstackKms by running this same program (`kms deploy
 * --with-app-impl --json`, key passed as a file path, never in argv), and
 * writes the addresses to an env file. The state directory records the exact
 * PID started, so `down` stops that process and nothing else (it checks the
 * PID still runs anvil before signalling it).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "devnet.h"
#include "dstackgov/hex.h"
#include "dstackgov/near.h"
#include "dstackgov/secret.h"

/* Anvil's account 0 — a PUBLIC TEST KEY printed by every anvil/hardhat node.
 * Never use it for anything but a local devnet. */
static const char ANVIL_TEST_KEY[] =
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

static void state_dir(cli *c, char *out, size_t cap) {
    const char *d = flag_str(&c->f, "dir");
    if (!d) d = getenv("DSTACK_GOV_DEVNET_DIR");
    if (!d || !*d) d = ".devnet";
    char abs[PATH_MAX];
    int n;
    if (d[0] != '/' && getcwd(abs, sizeof abs))
        n = snprintf(out, cap, "%s/%s", abs, d);
    else
        n = snprintf(out, cap, "%s", d);
    if (n < 0 || (size_t)n >= cap) snprintf(out, cap, ".devnet");
}

static void path_in(const char *dir, const char *name, char *out, size_t cap) {
    int n = snprintf(out, cap, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= cap) out[0] = '\0';
}

static int read_small(const char *path, char *buf, size_t cap) {
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t n = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[n] = '\0';
    return 1;
}

/* Is pid a live (non-zombie) process running a binary named `prog`? */
static int pid_is_prog(pid_t pid, const char *prog) {
    char p[64], buf[4096];
    snprintf(p, sizeof p, "/proc/%d/stat", (int)pid);
    if (!read_small(p, buf, sizeof buf)) return 0;
    const char *rp = strrchr(buf, ')');
    if (rp && rp[1] == ' ' && (rp[2] == 'Z' || rp[2] == 'X')) return 0;
    snprintf(p, sizeof p, "/proc/%d/cmdline", (int)pid);
    if (!read_small(p, buf, sizeof buf)) return 0;
    const char *base = strrchr(buf, '/');
    base = base ? base + 1 : buf;
    return strcmp(base, prog) == 0;
}

static int pid_is_anvil(pid_t pid) {
    return pid_is_prog(pid, "anvil");
}

/* Look for node_modules/<rel> in dir and up to five parents. */
static int walk_up_mode(const char *dir, const char *rel, int mode, char *out, size_t cap) {
    char d[PATH_MAX];
    snprintf(d, sizeof d, "%s", dir);
    for (int i = 0; i < 6 && d[0]; i++) {
        int m = snprintf(out, cap, "%s/%s", d, rel);
        if (m > 0 && (size_t)m < cap && access(out, mode) == 0) return 1;
        char *slash = strrchr(d, '/');
        if (!slash) break;
        *slash = '\0';
    }
    return 0;
}

/* `rel` with access `mode` under the source tree: walking up from the binary
 * (build/dstack-gov in the tree), then from the working directory, then from
 * the tree the program was built from (BUILD=/tmp/..). */
static int find_in_tree(const char *rel, int mode, char *out, size_t cap) {
    char dir[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", dir, sizeof dir - 1);
    if (n > 0) {
        dir[n] = '\0';
        char *slash = strrchr(dir, '/');
        if (slash) *slash = '\0';
        if (walk_up_mode(dir, rel, mode, out, cap)) return 1;
    }
    if (getcwd(dir, sizeof dir) && walk_up_mode(dir, rel, mode, out, cap)) return 1;
#ifdef DG_SOURCE_DIR
    if (walk_up_mode(DG_SOURCE_DIR, rel, mode, out, cap)) return 1;
#endif
    return 0;
}

int devnet_find_file(const char *rel, char *out, size_t cap) {
    return find_in_tree(rel, R_OK, out, cap);
}

static int find_anvil(char *out, size_t cap) {
    const char *env = getenv("ANVIL");
    if (env && *env && access(env, X_OK) == 0) return snprintf(out, cap, "%s", env), 1;
    if (find_in_tree("node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil", X_OK, out, cap))
        return 1;
    const char *path = getenv("PATH");
    while (path && *path) {
        const char *colon = strchr(path, ':');
        size_t len = colon ? (size_t)(colon - path) : strlen(path);
        int m = snprintf(out, cap, "%.*s/anvil", (int)len, path);
        if (len && m > 0 && (size_t)m < cap && access(out, X_OK) == 0) return 1;
        path = colon ? colon + 1 : NULL;
    }
    return 0;
}

/* A positive decimal number from text (a PID or a port), else 0. */
static int parse_pos(const char *s) {
    char *end;
    long v = strtol(s, &end, 10);
    return (end != s && v > 0 && v < (1L << 30)) ? (int)v : 0;
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Run this program with args; capture stdout into out. Returns the exit code. */
static int run_self(char *const args[], dg_buf *out) {
    int fds[2];
    if (pipe(fds) != 0) return -1;
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execv("/proc/self/exe", args);
        _exit(127);
    }
    close(fds[1]);
    char buf[4096];
    ssize_t n;
    while ((n = read(fds[0], buf, sizeof buf)) > 0)
        dg_buf_append(out, buf, (size_t)n);
    close(fds[0]);
    dg_buf_push(out, 0);
    int st;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Start bin with argv in its own session, stdout and stderr to logf, and
 * record its PID in pidf. Returns 1 with *pid, or 0 with err. */
static int spawn_logged(const char *bin, const char *const *argv, const char *logf,
                        const char *pidf, pid_t *pid, dg_err *err) {
    int logfd = open(logf, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (logfd < 0) return dg_err_set(err, DG_ERR_IO, "cannot write %s: %s", logf, strerror(errno));
    fflush(NULL);
    pid_t p = fork();
    if (p < 0) {
        close(logfd);
        return dg_err_set(err, DG_ERR_IO, "fork: %s", strerror(errno));
    }
    if (p == 0) {
        setsid();
        int nul = open("/dev/null", O_RDONLY);
        dup2(nul, 0);
        dup2(logfd, 1);
        dup2(logfd, 2);
        for (int fd = 3; fd < 256; fd++)
            close(fd);
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    close(logfd);
    FILE *pf = fopen(pidf, "w");
    if (pf) {
        fprintf(pf, "%d\n", (int)p);
        fclose(pf);
    }
    *pid = p;
    return 1;
}

/* Wait up to 6 s for the line "...<needle>...:PORT" in logf: 1 with url, 0 when
 * the child exited, -1 on timeout. */
static int wait_listening(const char *logf, pid_t pid, const char *needle, char url[128]) {
    char buf[8192];
    for (int i = 0; i < 300; i++) {
        const char *l = read_small(logf, buf, sizeof buf) ? strstr(buf, needle) : NULL;
        const char *nl = l ? strchr(l, '\n') : NULL;
        if (nl) {
            const char *colon = nl;
            while (colon > l && *colon != ':')
                colon--;
            int p = *colon == ':' ? parse_pos(colon + 1) : 0;
            if (p > 0) {
                snprintf(url, 128, "http://127.0.0.1:%d", p);
                return 1;
            }
        }
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) return 0;
        sleep_ms(20);
    }
    return -1;
}

static int near_up(cli *c);
static int near_env(cli *c);
static int near_down(cli *c);

static int cmd_up(cli *c) {
    if (flag_bool(&c->f, "near")) return near_up(c);
    char dir[1024], pidf[PATH_MAX], logf[PATH_MAX], keyf[PATH_MAX], envf[PATH_MAX], anvil[PATH_MAX],
        buf[8192];
    state_dir(c, dir, sizeof dir);
    path_in(dir, "anvil.pid", pidf, sizeof pidf);
    path_in(dir, "anvil.log", logf, sizeof logf);
    path_in(dir, "test-key", keyf, sizeof keyf);
    path_in(dir, "env", envf, sizeof envf);
    if (read_small(pidf, buf, sizeof buf) && pid_is_anvil((pid_t)parse_pos(buf)))
        return cli_failf(c, DG_ERR_CONFIG,
                         "a devnet is already running (anvil pid %d, state in "
                         "%s): run `dstack-gov devnet down` first",
                         parse_pos(buf), dir);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return cli_failf(c, DG_ERR_IO, "cannot create %s: %s", dir, strerror(errno));
    if (!find_anvil(anvil, sizeof anvil))
        return cli_failf(c, DG_ERR_CONFIG,
                         "anvil not found: run `make deps` (npm "
                         "@foundry-rs/anvil) or put anvil on PATH");
    const char *port = flag_str(&c->f, "port");
    if (!port) port = "0";
    const char *base_fee = flag_str(&c->f, "base-fee");
    const char *chain = flag_str(&c->f, "chain-id");
    if (chain && !parse_pos(chain))
        return cli_failf(c, DG_ERR_INPUT, "--chain-id \"%s\" is not a positive number", chain);
    const char *safe_kn = flag_str(&c->f, "safe");
    unsigned sk = 0, sn = 0;
    if (safe_kn) {
        char *end = NULL;
        sk = (unsigned)strtoul(safe_kn, &end, 10);
        sn = end && *end == '/' && end[1] >= '0' && end[1] <= '9'
                 ? (unsigned)strtoul(end + 1, &end, 10)
                 : 0;
        if (!end || *end) sn = 0;
    }
    if (safe_kn && (sk < 1 || sk > sn || sn > 9))
        return cli_failf(c, DG_ERR_INPUT,
                         "--safe \"%s\": expected K/N with 1 <= K <= N <= 9 (N owners, K of them "
                         "sign)",
                         safe_kn);
    const char *argv_[12] = {"anvil", "--host", "127.0.0.1", "--port", port};
    int k = 5;
    if (base_fee) argv_[k++] = "--base-fee", argv_[k++] = base_fee; /* 0: legacy fees */
    if (chain) argv_[k++] = "--chain-id", argv_[k++] = chain;
    argv_[k] = NULL;
    pid_t pid = 0;
    dg_err err = {DG_OK, ""};
    if (!spawn_logged(anvil, argv_, logf, pidf, &pid, &err)) return cli_fail(c, &err);
    char url[128] = "";
    int w = wait_listening(logf, pid, "Listening on ", url);
    if (w <= 0) {
        if (w < 0) kill(pid, SIGTERM);
        unlink(pidf);
        return w == 0 ? cli_failf(c, DG_ERR_IO, "anvil exited at start (see %s)", logf)
                      : cli_failf(c, DG_ERR_RPC_TIMEOUT,
                                  "anvil did not start listening within 6 s (see %s)", logf);
    }
    int kfd = open(keyf, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (kfd < 0 || write(kfd, ANVIL_TEST_KEY, sizeof ANVIL_TEST_KEY - 1) < 0) {
        if (kfd >= 0) close(kfd);
        return cli_failf(c, DG_ERR_IO, "cannot write %s", keyf);
    }
    fchmod(kfd, 0600);
    close(kfd);
    char *const args[] = {
        "dstack-gov",         "kms", "deploy", "--with-app-impl", "--rpc-url", url,
        "--private-key-file", keyf,  "--yes",  "--json",          NULL};
    dg_buf out;
    dg_buf_init(&out);
    int rc = run_self(args, &out);
    json_t *j = json_loads((const char *)out.data, 0, NULL);
    dg_buf_free(&out);
    const char *kms = j ? json_string_value(json_object_get(j, "kmsProxy")) : NULL;
    const char *ai = j ? json_string_value(json_object_get(j, "appImplementation")) : NULL;
    if (rc != 0 || !kms || !ai) {
        const char *msg =
            j ? json_string_value(json_object_get(json_object_get(j, "error"), "message")) : NULL;
        if (j) json_decref(j);
        kill(pid, SIGTERM);
        unlink(pidf);
        return cli_failf(c, DG_ERR_INTERNAL, "deploying the contracts on the devnet failed: %s",
                         msg ? msg : "no output");
    }
    long long chain_id = (long long)json_integer_value(json_object_get(j, "chainId"));
    devnet_safe ds;
    memset(&ds, 0, sizeof ds);
    if (safe_kn) {
        dg_err e = {DG_OK, ""};
        static char logbuf[65536];
        if (!read_small(logf, logbuf, sizeof logbuf) ||
            !devnet_safe_up(url, dir, logbuf, kms, sk, sn, &ds, &e)) {
            json_decref(j);
            kill(pid, SIGTERM);
            unlink(pidf);
            return cli_failf(c, e.code ? e.code : DG_ERR_IO, "devnet --safe %s: %s", safe_kn,
                             e.msg[0] ? e.msg : "cannot read anvil's log");
        }
    }
    FILE *ef = fopen(envf, "w");
    if (!ef) {
        json_decref(j);
        return cli_failf(c, DG_ERR_IO, "cannot write %s", envf);
    }
    fprintf(ef,
            "# dstack-gov devnet: anvil pid %d, chain %lld.\n"
            "# PRIVATE_KEY_FILE holds anvil's public TEST key: never use it for real funds.\n"
            "export ETH_RPC_URL=%s\n"
            "export KMS_CONTRACT_ADDRESS=%s\n"
            "export KMS_CONTRACT_ADDR=%s\n"
            "export APP_IMPLEMENTATION=%s\n"
            "export PRIVATE_KEY_FILE=%s\n"
            "export DSTACK_GOV_DEVNET_DIR=%s\n",
            (int)pid, chain_id, url, kms, kms, ai, keyf, dir);
    char safe_s[43] = "", ms_s[43] = "";
    if (safe_kn) {
        dg_address_checksum(ds.safe, safe_s);
        dg_address_checksum(ds.multisend, ms_s);
        fprintf(ef,
                "# The KMS is owned by a %u-of-%u Safe; SAFE_OWNER_KEY_FILE_I hold anvil's public "
                "TEST keys 1..%u.\n"
                "export SAFE_ADDRESS=%s\nexport SAFE_MULTISEND=%s\nexport APP_OWNER=%s\n",
                sk, sn, sn, safe_s, ms_s, safe_s);
        for (unsigned i = 0; i < sn; i++)
            fprintf(ef, "export SAFE_OWNER_KEY_FILE_%u=%s\n", i + 1, ds.key_files[i]);
    }
    fclose(ef);
    cli_say(c, "Devnet up: anvil pid %d at %s (chain %lld)", (int)pid, url, chain_id);
    cli_json_set(c, "chainId", json_integer(chain_id));
    cli_say(c, "KMS contract:       %s", kms);
    cli_say(c, "App implementation: %s", ai);
    if (safe_kn) {
        cli_say(c, "Safe (%u of %u):     %s (owns the KMS; new apps: APP_OWNER)", sk, sn, safe_s);
        for (unsigned i = 0; i < sn; i++)
            cli_say(c, "  owner %u: %s, TEST key in %s", i + 1, ds.owners[i], ds.key_files[i]);
        cli_json_set(c, "safe", json_string(safe_s));
        cli_json_set(c, "safeMultiSend", json_string(ms_s));
    }
    cli_say(c, "Env file:           %s", envf);
    cli_say(c, "Load it with:       eval \"$(dstack-gov devnet env)\"");
    cli_json_set(c, "pid", json_integer(pid));
    cli_json_set(c, "rpcUrl", json_string(url));
    cli_json_set(c, "kmsContractAddress", json_string(kms));
    cli_json_set(c, "appImplementation", json_string(ai));
    cli_json_set(c, "envFile", json_string(envf));
    cli_json_set(c, "privateKeyFile", json_string(keyf));
    json_decref(j);
    return 0;
}

/* `devnet env` for either chain: the env file as written, or with --json its
 * exports as fields. The file may hold a devnet test key (NEAR_PRIVATE_KEY);
 * JSON is for logs, so it never carries one. */
static int print_env(cli *c, const char *dir, const char *what, const char *up) {
    char envf[PATH_MAX];
    path_in(dir, "env", envf, sizeof envf);
    dg_buf b;
    dg_err err = {DG_OK, ""};
    dg_buf_init(&b);
    if (!cli_read_file(envf, &b, 1 << 16, &err)) {
        dg_buf_free(&b);
        return cli_failf(c, DG_ERR_CONFIG, "no %s env file at %s: run `dstack-gov %s`", what, envf,
                         up);
    }
    if (c->json) {
        dg_buf_push(&b, 0);
        char *save = NULL;
        for (char *t = strtok_r((char *)b.data, "\n", &save); t; t = strtok_r(NULL, "\n", &save)) {
            char *eq = strncmp(t, "export ", 7) == 0 ? strchr(t + 7, '=') : NULL;
            if (!eq) continue;
            *eq = '\0';
            if (strcmp(t + 7, "NEAR_PRIVATE_KEY") == 0) continue;
            cli_json_set(c, t + 7, json_string(eq + 1));
        }
    } else {
        fwrite(b.data, 1, b.len, stdout);
    }
    dg_buf_wipe(&b);
    return 0;
}

static int cmd_env(cli *c) {
    if (flag_bool(&c->f, "near")) return near_env(c);
    char dir[1024];
    state_dir(c, dir, sizeof dir);
    return print_env(c, dir, "devnet", "devnet up");
}

/* `devnet down` for either chain: stop the node recorded in dir/pidname
 * (only if that pid still runs prog: a recycled pid is left alone) and
 * remove the state files. name: "devnet" / "NEAR devnet"; Name: capitalised. */
static int stop_devnet(cli *c, const char *dir, const char *pidname, const char *prog,
                       const char *name, const char *Name) {
    char pidf[PATH_MAX], keyf[PATH_MAX], envf[PATH_MAX], buf[64];
    path_in(dir, pidname, pidf, sizeof pidf);
    path_in(dir, "test-key", keyf, sizeof keyf);
    path_in(dir, "env", envf, sizeof envf);
    if (!read_small(pidf, buf, sizeof buf))
        return cli_failf(c, DG_ERR_CONFIG, "no %s recorded in %s (nothing to stop)", name, dir);
    pid_t pid = (pid_t)parse_pos(buf);
    int stopped = 0;
    if (pid > 1 && pid_is_prog(pid, prog)) {
        kill(pid, SIGTERM);
        for (int i = 0; i < 250 && pid_is_prog(pid, prog); i++)
            sleep_ms(20);
        if (pid_is_prog(pid, prog)) kill(pid, SIGKILL);
        stopped = 1;
    }
    unlink(pidf);
    unlink(keyf);
    unlink(envf);
    if (stopped)
        cli_say(c, "%s down: stopped %s pid %d", Name, prog, (int)pid);
    else
        cli_say(c, "%s down: %s pid %d was no longer running", Name, prog, (int)pid);
    cli_json_set(c, "pid", json_integer(pid));
    cli_json_set(c, "stopped", json_boolean(stopped));
    return 0;
}

static int cmd_down(cli *c) {
    if (flag_bool(&c->f, "near")) return near_down(c);
    char dir[1024];
    state_dir(c, dir, sizeof dir);
    return stop_devnet(c, dir, "anvil.pid", "anvil", "devnet", "Devnet");
}

/* ------------------------------------------------------------------ NEAR devnet */

/* A PUBLIC TEST KEY: ed25519 from the seed "test.near" padded with spaces to
 * 32 bytes (how nearcore's test signers derive keys from a name). Anyone can
 * derive it; never use it for anything but a local devnet. */
static void near_test_key(dg_near_key *k) {
    static const char seed[32] = "test.near"
                                 "                       "; /* 9 + 23 spaces, no NUL */
    dg_near_key_from_seed((const uint8_t *)seed, k);
}

#define NEAR_OPERATOR "test.near"
#define NEAR_KMS "kms.test.near"

static void near_dir(cli *c, char *out, size_t cap) {
    char dir[1024];
    state_dir(c, dir, sizeof dir);
    int n = snprintf(out, cap, "%s/near", dir);
    if (n < 0 || (size_t)n >= cap) snprintf(out, cap, ".devnet/near");
}

static int find_nemu(char *out, size_t cap) {
    const char *env = getenv("NEMU_RPC");
    if (env && *env && access(env, X_OK) == 0) return snprintf(out, cap, "%s", env), 1;
    char dir[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", dir, sizeof dir - 1);
    if (n > 0) {
        dir[n] = '\0';
        char *slash = strrchr(dir, '/');
        if (slash) *slash = '\0';
        int m = snprintf(out, cap, "%s/near-test/nemu-rpc", dir); /* build/dstack-gov */
        if (m > 0 && (size_t)m < cap && access(out, X_OK) == 0) return 1;
    }
#ifdef DG_SOURCE_DIR
    int m = snprintf(out, cap, "%s/build/near-test/nemu-rpc", DG_SOURCE_DIR);
    if (m > 0 && (size_t)m < cap && access(out, X_OK) == 0) return 1;
#endif
    return 0;
}

static int near_up(cli *c) {
    char dir[1024], pidf[PATH_MAX], logf[PATH_MAX], keyf[PATH_MAX], envf[PATH_MAX], nemu[PATH_MAX],
        buf[8192], top[1024];
    state_dir(c, top, sizeof top);
    near_dir(c, dir, sizeof dir);
    path_in(dir, "nemu-rpc.pid", pidf, sizeof pidf);
    path_in(dir, "nemu-rpc.log", logf, sizeof logf);
    path_in(dir, "test-key", keyf, sizeof keyf);
    path_in(dir, "env", envf, sizeof envf);
    if (read_small(pidf, buf, sizeof buf) && pid_is_prog((pid_t)parse_pos(buf), "nemu-rpc"))
        return cli_failf(c, DG_ERR_CONFIG,
                         "a NEAR devnet is already running (nemu-rpc pid %d, state in %s): run "
                         "`dstack-gov devnet down --near` first",
                         parse_pos(buf), dir);
    if ((mkdir(top, 0700) != 0 && errno != EEXIST) || (mkdir(dir, 0700) != 0 && errno != EEXIST))
        return cli_failf(c, DG_ERR_IO, "cannot create %s: %s", dir, strerror(errno));
    if (!find_nemu(nemu, sizeof nemu))
        return cli_failf(c, DG_ERR_CONFIG,
                         "nemu-rpc not found: run `make` (it builds build/near-test/nemu-rpc) or "
                         "set NEMU_RPC");
    const char *port = flag_str(&c->f, "port");
    const char *bms = flag_str(&c->f, "block-ms");
    if (!port) port = "0";
    if (bms && !parse_pos(bms) && strcmp(bms, "0") != 0)
        return cli_failf(c, DG_ERR_INPUT, "--block-ms \"%s\" is not a number", bms);
    const char *argv_[8] = {"nemu-rpc", "--port", port};
    int k = 3;
    if (bms) argv_[k++] = "--block-ms", argv_[k++] = bms;
    argv_[k] = NULL;
    pid_t pid = 0;
    dg_err err = {DG_OK, ""};
    if (!spawn_logged(nemu, argv_, logf, pidf, &pid, &err)) return cli_fail(c, &err);
    char url[128] = "";
    int w = wait_listening(logf, pid, "listening on http://", url);
    if (w == 0) {
        unlink(pidf);
        return cli_failf(c, DG_ERR_IO, "nemu-rpc exited at start (see %s)", logf);
    }
    dg_near_key nk;
    near_test_key(&nk);
    char sk[128] = "ed25519:", pks[DG_NEAR_PUBKEY_LEN];
    dg_base58_encode(nk.sk, 64, sk + 8, sizeof sk - 8);
    dg_near_pubkey_format(nk.pk, pks);
    dg_near_key_wipe(&nk);
    const char *urls[1] = {url};
    dg_rpc *rpc = url[0] ? dg_rpc_new(urls, 1, NULL, &err) : NULL;
    json_t *res = NULL;
    /* the operator account: nemu's set-up method (there is no genesis file to edit) */
    int ok = rpc && dg_rpc_call(rpc, "nemu_create_account",
                                json_pack("{s:s,s:s,s:s}", "account_id", NEAR_OPERATOR, "balance",
                                          "1000000000000000000000000000000", "public_key", pks),
                                &res, &err);
    json_decref(res);
    dg_rpc_free(rpc);
    int kfd = ok ? open(keyf, O_WRONLY | O_CREAT | O_TRUNC, 0600) : -1;
    if (kfd >= 0 && write(kfd, sk, strlen(sk)) < 0) ok = 0;
    if (kfd >= 0) close(kfd);
    if (!ok || kfd < 0) {
        kill(pid, SIGTERM);
        unlink(pidf);
        dg_wipe(sk, sizeof sk);
        return cli_failf(c, url[0] ? DG_ERR_IO : DG_ERR_RPC_TIMEOUT, "NEAR devnet: %s (see %s)",
                         url[0] ? err.msg : "nemu-rpc did not start", logf);
    }
    /* the KMS: this same program, key passed as a file path, never in argv */
    char *const args[] = {"dstack-gov",  "near",
                          "kms",         "deploy",
                          "--create",    "--network",
                          "local",       "--rpc-url",
                          url,           "--kms",
                          NEAR_KMS,      "--account-id",
                          NEAR_OPERATOR, "--private-key-file",
                          keyf,          "--initial-balance",
                          "50",          "--yes",
                          "--json",      NULL};
    dg_buf out;
    dg_buf_init(&out);
    int rc = run_self(args, &out);
    json_t *j = json_loads((const char *)out.data, 0, NULL);
    dg_buf_free(&out);
    if (rc != 0 || !json_is_true(json_object_get(j, "ok"))) {
        const char *msg =
            json_string_value(json_object_get(json_object_get(j, "error"), "message"));
        kill(pid, SIGTERM);
        unlink(pidf);
        int code = cli_failf(c, DG_ERR_INTERNAL, "deploying the NEAR KMS on the devnet failed: %s",
                             msg ? msg : "no output");
        json_decref(j);
        dg_wipe(sk, sizeof sk);
        return code;
    }
    json_decref(j);
    FILE *ef = fopen(envf, "w");
    if (!ef) {
        dg_wipe(sk, sizeof sk);
        return cli_failf(c, DG_ERR_IO, "cannot write %s", envf);
    }
    fchmod(fileno(ef), 0600);
    fprintf(ef,
            "# dstack-gov NEAR devnet: nemu-rpc pid %d, an EMULATION of the NEAR runtime (not "
            "nearcore).\n"
            "# NEAR_PRIVATE_KEY is a PUBLIC TEST KEY (seed \"test.near\"): never use it for real "
            "funds.\n"
            "export NEAR_RPC_URL=%s\n"
            "export NEAR_NETWORK_ID=local\n"
            "export KMS_CONTRACT_ID=%s\n"
            "export NEAR_ACCOUNT_ID=%s\n"
            "export NEAR_PRIVATE_KEY=%s\n"
            "export DSTACK_GOV_DEVNET_DIR=%s\n",
            (int)pid, url, NEAR_KMS, NEAR_OPERATOR, sk, top);
    fclose(ef);
    dg_wipe(sk, sizeof sk);
    cli_say(c, "NEAR devnet up: nemu-rpc pid %d at %s", (int)pid, url);
    cli_say(c, "  (nemu-rpc is this project's emulation of the NEAR runtime, not nearcore)");
    cli_say(c, "Operator account:   %s (funded; its key is a public test key)", NEAR_OPERATOR);
    cli_say(c, "KMS contract:       %s", NEAR_KMS);
    cli_say(c, "Env file:           %s", envf);
    cli_say(c, "Load it with:       eval \"$(dstack-gov devnet env --near)\"");
    cli_json_set(c, "pid", json_integer(pid));
    cli_json_set(c, "rpcUrl", json_string(url));
    cli_json_set(c, "kmsContractId", json_string(NEAR_KMS));
    cli_json_set(c, "accountId", json_string(NEAR_OPERATOR));
    cli_json_set(c, "envFile", json_string(envf));
    cli_json_set(c, "emulation",
                 json_string("nemu-rpc: an emulation of the NEAR runtime, not nearcore"));
    return 0;
}

static int near_env(cli *c) {
    char dir[1024];
    near_dir(c, dir, sizeof dir);
    return print_env(c, dir, "NEAR devnet", "devnet up --near");
}

static int near_down(cli *c) {
    char dir[1024];
    near_dir(c, dir, sizeof dir);
    return stop_devnet(c, dir, "nemu-rpc.pid", "nemu-rpc", "NEAR devnet", "NEAR devnet");
}

static const flag_spec dir_flags[] = {
    {"dir", FLAG_STR, "DIR", "state directory (default: $DSTACK_GOV_DEVNET_DIR or ./.devnet)"},
    {"near", FLAG_BOOL, NULL, "the NEAR devnet (nemu-rpc) instead of anvil"},
    {NULL, 0, NULL, NULL},
};
static const flag_spec up_flags[] = {
    {"dir", FLAG_STR, "DIR", "state directory (default: $DSTACK_GOV_DEVNET_DIR or ./.devnet)"},
    {"port", FLAG_STR, "PORT", "port on 127.0.0.1 (default: a free one)"},
    {"base-fee", FLAG_STR, "WEI", "initial base fee (0: no EIP-1559 fees, legacy transactions)"},
    {"chain-id", FLAG_STR, "N", "chain id (default 31337), e.g. to rehearse a public chain's"},
    {"safe", FLAG_STR, "K/N",
     "deploy a real K-of-N Safe 1.4.1 (owners: anvil accounts 1..N) and hand the KMS to it"},
    {"near", FLAG_BOOL, NULL,
     "a local NEAR chain instead: nemu-rpc (an emulation of the NEAR runtime, not nearcore) with "
     "the KMS deployed and an operator account funded"},
    {"block-ms", FLAG_STR, "MS", "with --near: a block every MS ms (default 1000)"},
    {NULL, 0, NULL, NULL},
};

const cmd_spec devnet_cmds[] = {
    {"devnet", "up", NULL, NULL, 0, 0, 0, up_flags,
     "start anvil on 127.0.0.1, deploy DstackApp + DstackKms with anvil's test key, write an env "
     "file",
     "Then: eval \"$(dstack-gov devnet env)\" sets ETH_RPC_URL, KMS_CONTRACT_ADDRESS and\n"
     "PRIVATE_KEY_FILE (anvil's public test key) for the other commands.\n"
     "With --near: nemu-rpc, this project's EMULATION of the NEAR runtime (not nearcore), with\n"
     "the operator test.near funded, kms.test.near deployed and initialised; then\n"
     "eval \"$(dstack-gov devnet env --near)\" sets NEAR_RPC_URL, NEAR_NETWORK_ID, "
     "KMS_CONTRACT_ID,\n"
     "NEAR_ACCOUNT_ID and NEAR_PRIVATE_KEY (a public TEST key).",
     cmd_up, NULL},
    {"devnet", "env", NULL, NULL, 0, 0, 0, dir_flags, "print the devnet's env file (export lines)",
     NULL, cmd_env, NULL},
    {"devnet", "down", NULL, NULL, 0, 0, 0, dir_flags,
     "stop the anvil (or, with --near, nemu-rpc) process `up` started (by its recorded PID)", NULL,
     cmd_down, NULL},
    {NULL, NULL, NULL, NULL, 0, 0, 0, NULL, NULL, NULL, NULL, NULL},
};
