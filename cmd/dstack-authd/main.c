/* main.c — dstack-authd: the boot-authorization webhook of a dstack KMS.
 *
 * Loads the configuration, builds the backend (eth, near, static or dev), starts
 * the HTTP server and then waits for signals in the main thread (every other
 * thread has them blocked): SIGTERM/SIGINT stop accepting, let in-flight
 * requests finish and exit; SIGHUP re-reads the configuration, builds a new
 * backend, checks it as the start does (chain reachable, network as pinned,
 * the KMS contract present and answering) and swaps it in, applies the
 * decision log's settings (or re-opens the file, for rotation); whatever
 * fails keeps the running configuration, backend and log, and says why.
 */
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authd.h"

dg_policy *authd_policy_new(const authd_config *c, int async, dg_err *err) {
    if (strcmp(c->backend, "static") == 0)
        return dg_policy_static_new(c->static_path, authd_policy_log, NULL, err);
    if (strcmp(c->backend, "dev") == 0) {
        if (!c->dev_flag) {
            dg_err_set(err, DG_ERR_CONFIG, "dev backend requires --dev");
            return NULL;
        }
        return dg_policy_dev_new(c->dev_gateway, err);
    }
    if (strcmp(c->backend, "near") == 0) {
        dg_near_policy_opts n = {.rpc_urls = (const char *const *)c->rpc_urls,
                                 .nrpc = c->nrpc,
                                 .rpc_ca_file = c->rpc_ca_file[0] ? c->rpc_ca_file : NULL,
                                 .contract_id = c->kms_contract,
                                 .network_id = c->near_network,
                                 .optimistic = strcmp(c->near_finality, "optimistic") == 0,
                                 .refresh_ms = c->refresh_ms,
                                 .rpc_timeout_ms = c->rpc_timeout_ms,
                                 .deadline_ms = c->deadline_ms,
                                 .max_snapshot_age_ms = c->max_snapshot_age_ms,
                                 .quorum = c->quorum,
                                 .cache_entries = (size_t)c->cache_entries,
                                 .info_cache_ms = c->info_cache_ms,
                                 .rpc_pool = (size_t)c->threads,
                                 .log = authd_policy_log,
                                 .async_start = async};
        return dg_policy_near_new(&n, err);
    }
    dg_eth_policy_opts o;
    memset(&o, 0, sizeof o);
    o.rpc_urls = (const char *const *)c->rpc_urls;
    o.nrpc = c->nrpc;
    o.rpc_ca_file = c->rpc_ca_file[0] ? c->rpc_ca_file : NULL;
    o.kms_contract = c->kms_contract;
    o.chain_id = c->chain_id;
    o.snapshot = strcmp(c->snapshot, "safe") == 0            ? DG_SNAP_SAFE
                 : strcmp(c->snapshot, "finalized") == 0     ? DG_SNAP_FINALIZED
                 : strcmp(c->snapshot, "confirmations") == 0 ? DG_SNAP_CONFIRMATIONS
                 : strcmp(c->snapshot, "auto") == 0          ? DG_SNAP_AUTO
                                                             : DG_SNAP_LATEST;
    o.confirmations = c->confirmations;
    o.refresh_ms = c->refresh_ms;
    o.rpc_timeout_ms = c->rpc_timeout_ms;
    o.deadline_ms = c->deadline_ms;
    o.max_snapshot_age_ms = c->max_snapshot_age_ms;
    o.quorum = c->quorum;
    o.cache_entries = (size_t)c->cache_entries;
    o.info_cache_ms = c->info_cache_ms;
    o.rpc_pool = (size_t)c->threads;
    o.log = authd_policy_log;
    o.async_start = async;
    return dg_policy_eth_new(&o, err);
}

/* What the start checks, and what a reload checks before it swaps: the
 * backend has started (for eth: the chain reachable, its id as pinned, the
 * KMS contract present with code and answering gatewayAppId()). */
static int backend_check(dg_policy *p, dg_err *err) {
    return dg_policy_wait_ready(p, err);
}

/* SIGHUP: everything or nothing of the new configuration. */
static void reload(authd_server *srv, authd_config *cfg, dg_policy **policy, authd_log *log) {
    authd_config ncfg;
    dg_err e2 = {0};
    char ch[65];
    if (authd_log_chain_hex(log, ch)) authd_msg("SIGHUP: decision log chain at %s", ch);
    if (!authd_config_reload(cfg, &ncfg, &e2)) {
        authd_log_reopen(log);
        authd_msg("SIGHUP: configuration not reloaded, keeping the running one: %s", e2.msg);
        authd_config_free(&ncfg);
        return;
    }
    if (strcmp(ncfg.host, cfg->host) != 0 || ncfg.port != cfg->port ||
        ncfg.threads != cfg->threads || ncfg.max_connections != cfg->max_connections ||
        ncfg.idle_timeout_ms != cfg->idle_timeout_ms ||
        ncfg.request_timeout_ms != cfg->request_timeout_ms)
        authd_msg("SIGHUP: host, port, threads and connection limits take effect only after a "
                  "restart");
    /* A chain id learned at start stays pinned: a reload that would move the
     * daemon to another network is refused unless eth.chain_id names it. */
    dg_policy_info oi;
    dg_err ie = {0};
    int learned = strcmp(ncfg.backend, "eth") == 0 && !ncfg.chain_id &&
                  strcmp(dg_policy_kind(*policy), "eth") == 0 &&
                  dg_policy_info_get(*policy, &oi, &ie) && oi.chain_id;
    if (learned) ncfg.chain_id = oi.chain_id;
    dg_policy *np = authd_policy_new(&ncfg, 0, &e2);
    if (np && !backend_check(np, &e2)) {
        dg_policy_free(np);
        np = NULL;
    }
    if (!np) {
        authd_log_reopen(log);
        authd_msg("SIGHUP: %s backend not started, keeping the running one: %s%s", ncfg.backend,
                  e2.msg,
                  learned && e2.code == DG_ERR_CHAIN_ID
                      ? " (the chain id learned at start stays pinned; set eth.chain_id to move "
                        "to another network)"
                      : "");
        authd_config_free(&ncfg);
        return;
    }
    if (learned) ncfg.chain_id = 0; /* as configured, for the next reload */
    if (!authd_log_configure(log, ncfg.decision_log, ncfg.decision_log_chain[0] != 0,
                             strcmp(ncfg.decision_log_on_error, "deny") == 0, &e2)) {
        dg_policy_free(np);
        authd_log_reopen(log);
        authd_msg("SIGHUP: configuration not reloaded, keeping the running one: %s", e2.msg);
        authd_config_free(&ncfg);
        return;
    }
    dg_policy *old = server_swap_policy(srv, np);
    dg_policy_free(old);
    *policy = np;
    authd_config_free(cfg);
    *cfg = ncfg;
    authd_msg("SIGHUP: configuration reloaded (backend %s)", cfg->backend);
}

int main(int argc, char **argv) {
    /* One malloc arena for all threads: per-thread arenas cost ~0.6 MiB of
     * resident memory here and bring no measurable throughput (the hit path
     * allocates little); see docs/authd.md, Performance. */
    mallopt(M_ARENA_MAX, 1);
    if (argc >= 2 && strcmp(argv[1], "--verify-log") == 0) {
        if (argc < 3) {
            fprintf(stderr, "dstack-authd: --verify-log needs at least one file\n");
            return 2;
        }
        return declog_verify(argc - 2, argv + 2);
    }
    authd_config cfg;
    dg_err err = {0};
    int r = authd_config_load(&cfg, argc, argv, &err);
    if (r == 2) return 0;
    if (!r) {
        fprintf(stderr, "dstack-authd: %s\n", err.msg);
        authd_config_free(&cfg);
        return 2;
    }
    if (cfg.check_only) {
        /* Validate the backend's own inputs without touching the network. */
        if (strcmp(cfg.backend, "static") == 0) {
            dg_policy *p = dg_policy_static_new(cfg.static_path, NULL, NULL, &err);
            if (!p) {
                fprintf(stderr, "dstack-authd: %s\n", err.msg);
                authd_config_free(&cfg);
                return 2;
            }
            dg_policy_free(p);
        }
        authd_config_print(&cfg, stdout);
        printf("# configuration OK\n");
        authd_config_free(&cfg);
        return 0;
    }

    /* Block the signals we handle before any thread starts, so they all
     * inherit the mask and only sigwait below receives them. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGXFSZ, SIG_IGN); /* a file size limit is a write error for the log, not death */

    authd_log *log = authd_log_open(cfg.decision_log, cfg.decision_log_chain[0] != 0,
                                    strcmp(cfg.decision_log_on_error, "deny") == 0, &err);
    if (!log) {
        fprintf(stderr, "dstack-authd: %s\n", err.msg);
        authd_config_free(&cfg);
        return 1;
    }
    /* A chain backend's first round trip (network, first snapshot block)
     * runs while the server starts; a request arriving first waits for it. */
    dg_policy *policy = authd_policy_new(&cfg, 1, &err);
    if (!policy) {
        fprintf(stderr, "dstack-authd: %s backend: %s\n", cfg.backend, err.msg);
        authd_log_close(log);
        authd_config_free(&cfg);
        return 1;
    }
    authd_server *srv = server_start(&cfg, policy, log, &err);
    if (!srv) {
        fprintf(stderr, "dstack-authd: %s\n", err.msg);
        dg_policy_free(policy);
        authd_log_close(log);
        authd_config_free(&cfg);
        return 1;
    }
    if (!backend_check(policy, &err)) {
        fprintf(stderr, "dstack-authd: %s backend: %s\n", cfg.backend, err.msg);
        server_stop(srv, 0);
        dg_policy_free(policy);
        authd_log_close(log);
        authd_config_free(&cfg);
        return 1;
    }
    authd_msg("listening on %s (backend %s%s%s)", server_listen_url(srv), cfg.backend,
              server_socket_activated(srv) ? ", socket from systemd socket activation" : "",
              strcmp(cfg.backend, "dev") == 0 ? ", DEV MODE: every boot is allowed" : "");

    server_start_workers(srv, 50);
    authd_log_start(log);

    for (;;) {
        int sig = 0;
        if (sigwait(&set, &sig) != 0) continue;
        if (sig == SIGHUP) {
            reload(srv, &cfg, &policy, log);
            continue;
        }
        authd_msg("%s: finishing in-flight requests and stopping",
                  sig == SIGTERM ? "SIGTERM" : "SIGINT");
        break;
    }
    server_stop(srv, 5000);
    char chain_hex[65];
    if (authd_log_chain_hex(log, chain_hex)) authd_msg("decision log chain at %s", chain_hex);
    dg_policy_free(policy);
    authd_log_close(log);
    authd_config_free(&cfg);
    return 0;
}
