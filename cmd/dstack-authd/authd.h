/* authd.h — the parts of dstack-authd that talk to each other: configuration,
 * the HTTP server, metrics and the decision log. Program-internal.
 */
#ifndef DSTACK_AUTHD_H
#define DSTACK_AUTHD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dstackgov/bootinfo.h"
#include "dstackgov/err.h"
#include "dstackgov/httpd.h"
#include "dstackgov/policy.h"

#define AUTHD_MAX_RPC 8

typedef struct {
    char host[64];
    int port;
    int threads;
    char decision_log[512];         /* "-" stdout, "" off, else a file path */
    char decision_log_chain[16];    /* "" off, "sha256" hash-chained lines */
    char decision_log_on_error[16]; /* deny | continue */
    int max_connections;
    long idle_timeout_ms, request_timeout_ms;
    char backend[16]; /* eth | near | static | dev */
    /* eth and near: the chain backend's endpoints and KMS contract (eth.* or near.* keys) */
    char *rpc_urls[AUTHD_MAX_RPC];
    size_t nrpc;
    char rpc_ca_file[512]; /* "" = the system's CAs */
    int ca_from_env;       /* rpc_ca_file came from SSL_CERT_FILE */
    char kms_contract[72]; /* eth: DstackKms address; near: the KMS account */
    /* near */
    char near_network[64];  /* expected network ("" = learn at start) */
    char near_finality[16]; /* final | optimistic */
    /* eth */
    uint64_t chain_id;
    char snapshot[16]; /* latest | safe | finalized | confirmations */
    uint64_t confirmations;
    long refresh_ms, rpc_timeout_ms, deadline_ms, max_snapshot_age_ms, info_cache_ms;
    unsigned quorum;
    long cache_entries;
    /* static */
    char static_path[512];
    /* dev */
    char dev_gateway[256];
    int dev_flag; /* --dev given */
    /* where it came from */
    char config_path[512];
    int check_only;
    /* where eth.snapshot and eth.confirmations came from: 0 default, 1 file,
     * 2 environment, 3 flag (to refuse a silent change of finality) */
    int snap_src, conf_src;
    char snap_file[16];    /* eth.snapshot as the file said it */
    char flag_backend[16]; /* --backend as given (selects which chain's environment applies) */
} authd_config;

/* Defaults, then the TOML file (if any), then the environment, then flags.
 * Returns 1, 0 with err (DG_ERR_CONFIG/DG_ERR_INPUT), or 2 when --help or
 * --version was printed. */
int authd_config_load(authd_config *c, int argc, char **argv, dg_err *err);
/* Only the file + env + the flags remembered from the first load (SIGHUP). */
int authd_config_reload(const authd_config *old, authd_config *c, dg_err *err);
/* Check cross-field rules (backend needs, --dev). */
int authd_config_validate(const authd_config *c, dg_err *err);
/* Print the effective configuration as TOML (RPC URLs reduced to labels). */
void authd_config_print(const authd_config *c, FILE *out);
void authd_config_free(authd_config *c);
/* scheme://host[:port] of an URL (no path, query or user info). */
void authd_url_label(const char *url, char *out, size_t cap);

/* Build the backend the configuration describes. async: the eth backend
 * returns before its first snapshot (see dg_policy_wait_ready). */
dg_policy *authd_policy_new(const authd_config *c, int async, dg_err *err);

/* Routes and outcomes: small fixed sets (metrics, decision log). */
enum authd_route { R_APP, R_KMS, R_INFO, R_METRICS, R_OTHER, R_COUNT };
enum authd_outcome {
    O_ALLOW,
    O_DENY,
    O_ERROR,
    O_INVALID,
    O_OK,
    O_NOT_FOUND,
    O_BAD_METHOD,
    O_BAD_TYPE,
    O_TOO_LARGE,
    O_COUNT
};

/* The decision log (log.c): one JSON line per decision, written whole or
 * counted as lost; while it cannot record, decisions deny (deny = 1) or go on
 * unrecorded (deny = 0), and the gap is marked in the file on recovery. */
typedef struct authd_log authd_log;
/* The reason a decision gets while the log cannot record (deny mode). */
#define AUTHD_REASON_LOG "decision log cannot record; decisions are denied until it can"
/* path: "" off, "-" stdout, else a file (appended to; with chain, the hash
 * chain continues from its last line). NULL with err when it cannot be
 * opened. */
authd_log *authd_log_open(const char *path, int chain, int deny, dg_err *err);
/* Start the writer thread (after the first answer: not needed before). */
void authd_log_start(authd_log *l);
/* SIGHUP with the same settings: re-open the file (rotation). A failure
 * enters the failing state, retried every 100 ms. */
void authd_log_reopen(authd_log *l);
/* SIGHUP with new settings: switch to them (the new file opened first), or
 * return 0 with err and keep the running ones. Same path and chain: reopen. */
int authd_log_configure(authd_log *l, const char *path, int chain, int deny, dg_err *err);
/* Write what is queued, stop the writer, close, free. NULL is fine. */
void authd_log_close(authd_log *l);
/* 1 while decisions must deny because the log cannot record. */
int authd_log_blocks(const authd_log *l);
/* Record one decision (bi NULL for an invalid request). */
void authd_log_decision(authd_log *l, enum authd_route route, const dg_bootinfo *bi,
                        const dg_decision *d, unsigned status, double secs);
typedef struct {
    int on, chained, failing, deny;
    unsigned long long lines, lost, errors, gap_lost;
    char path[512], error[200], since[32];
} authd_log_status;
void authd_log_get_status(authd_log *l, authd_log_status *st);
/* The chain value of the last line written, as hex, if chained (1), else 0. */
int authd_log_chain_hex(authd_log *l, char out[65]);

/* dstack-authd --verify-log FILE...: check the hash chain across the files
 * in order; prints the result and the gaps the log marked; returns the exit
 * code (0 intact, 1 broken). */
int declog_verify(int nfiles, char **files);
/* The check itself, over one file's text: continues from *have/chain (the
 * previous file's end), counts good lines; 0 with *bad_line and why on the
 * first bad line. */
int declog_verify_text(const char *text, size_t len, int *have, uint8_t chain[32],
                       uint8_t first_prev[32], unsigned long *lines, unsigned long *bad_line,
                       char *why, size_t cap);
/* A daemon message to stderr with a timestamp. */
void authd_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void authd_policy_log(void *ctx, const char *msg);

/* Metrics (metrics.c): request counters and the latency histogram. */
typedef struct authd_metrics authd_metrics;
authd_metrics *authd_metrics_new(void);
void authd_metrics_free(authd_metrics *m);
void authd_metrics_request(authd_metrics *m, enum authd_route r, enum authd_outcome o,
                           double seconds, int cached);
/* Append the Prometheus text exposition to out: the counters, the backend's
 * figures, the decision log's state and the connection counters. */
void authd_metrics_render(authd_metrics *m, dg_buf *out, dg_policy *p, authd_log *log,
                          const dg_httpd_stats *hs);

/* HTTP server. */
typedef struct authd_server authd_server;
/* Listen (or take the socket of systemd socket activation: LISTEN_PID is
 * this process and LISTEN_FDS is 1) and start one worker. */
authd_server *server_start(const authd_config *c, dg_policy *p, authd_log *log, dg_err *err);
/* Start the other workers once the first request has been answered, or
 * after wait_first_ms: creating threads while the first request is being
 * decided slows it on a small machine (~1 ms on 2 cores). */
void server_start_workers(authd_server *s, long wait_first_ms);
/* "http://host:port" as bound, and whether the socket was inherited. */
const char *server_listen_url(const authd_server *s);
int server_socket_activated(const authd_server *s);
/* Swap in a new policy (SIGHUP); returns the old one, safe to free. */
dg_policy *server_swap_policy(authd_server *s, dg_policy *p);
/* The bound port (for port 0). */
int server_port(const authd_server *s);
/* Stop accepting, wait up to wait_ms for in-flight requests, stop. */
void server_stop(authd_server *s, long wait_ms);

#endif
