/* metrics.c — counters for GET /metrics (Prometheus text format 0.0.4).
 *
 * Request counters and the latency histogram are relaxed atomics in fixed
 * arrays indexed by route and outcome, in one authd_metrics object the
 * server owns: recording a request is a handful of uncontended increments.
 * Everything else (cache, snapshot, per-endpoint RPC counters, the decision
 * log's state, connections) is read from its owner when /metrics is scraped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authd.h"

static const char *const ROUTE_NAMES[R_COUNT] = {"/bootAuth/app", "/bootAuth/kms", "/", "/metrics",
                                                 "other"};
static const char *const OUTCOME_NAMES[O_COUNT] = {
    "allow",    "deny", "error", "invalid", "ok", "not_found", "bad_method", "bad_content_type",
    "too_large"};
static const double BUCKETS[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                 0.05,   0.1,     0.25,   0.5,   1,      2.5,   5};
#define NB (sizeof BUCKETS / sizeof BUCKETS[0])

struct authd_metrics {
    unsigned long long req[R_COUNT][O_COUNT];
    unsigned long long hist[2][NB + 1];
    unsigned long long sum_ns[2], count[2], cached[2];
};

authd_metrics *authd_metrics_new(void) {
    return calloc(1, sizeof(authd_metrics));
}

void authd_metrics_free(authd_metrics *m) {
    free(m);
}

void authd_metrics_request(authd_metrics *m, enum authd_route r, enum authd_outcome o,
                           double seconds, int cached) {
    __atomic_add_fetch(&m->req[r][o], 1, __ATOMIC_RELAXED);
    if (r != R_APP && r != R_KMS) return;
    size_t b = 0;
    while (b < NB && seconds > BUCKETS[b])
        b++;
    __atomic_add_fetch(&m->hist[r][b], 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&m->sum_ns[r], (unsigned long long)(seconds * 1e9), __ATOMIC_RELAXED);
    __atomic_add_fetch(&m->count[r], 1, __ATOMIC_RELAXED);
    if (cached) __atomic_add_fetch(&m->cached[r], 1, __ATOMIC_RELAXED);
}

static unsigned long long ld(const unsigned long long *p) {
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}

/* The decision log's state and the connection counters. */
static void render_log_conns(dg_buf *out, authd_log *log, const dg_httpd_stats *hs) {
    authd_log_status ls;
    authd_log_get_status(log, &ls);
    dg_buf_printf(
        out,
        "# HELP authd_decision_log_lines_total Decision lines written to the log.\n"
        "# TYPE authd_decision_log_lines_total counter\n"
        "authd_decision_log_lines_total %llu\n"
        "# HELP authd_decision_log_lost_total Decision lines the log could not record.\n"
        "# TYPE authd_decision_log_lost_total counter\n"
        "authd_decision_log_lost_total %llu\n"
        "# HELP authd_decision_log_errors_total Write or open failures of the decision log.\n"
        "# TYPE authd_decision_log_errors_total counter\n"
        "authd_decision_log_errors_total %llu\n"
        "# HELP authd_decision_log_ok 1 when the decision log records (or is off), 0 while it "
        "cannot.\n"
        "# TYPE authd_decision_log_ok gauge\n"
        "authd_decision_log_ok %d\n",
        ls.lines, ls.lost, ls.errors, !ls.failing);
    if (!hs) return;
    dg_buf_printf(out,
                  "# HELP authd_connections Open HTTP connections.\n"
                  "# TYPE authd_connections gauge\n"
                  "authd_connections %d\n"
                  "# HELP authd_connections_closed_total Connections the server closed, by "
                  "cause.\n"
                  "# TYPE authd_connections_closed_total counter\n"
                  "authd_connections_closed_total{cause=\"idle_evicted\"} %llu\n"
                  "authd_connections_closed_total{cause=\"idle_timeout\"} %llu\n"
                  "authd_connections_closed_total{cause=\"request_timeout\"} %llu\n"
                  "authd_connections_closed_total{cause=\"refused\"} %llu\n",
                  hs->open, hs->evicted, hs->idle_timeouts, hs->request_timeouts, hs->refused);
}

void authd_metrics_render(authd_metrics *m, dg_buf *out, dg_policy *p, authd_log *log,
                          const dg_httpd_stats *hs) {
    dg_buf_puts(out, "# HELP authd_requests_total HTTP requests by route and outcome.\n"
                     "# TYPE authd_requests_total counter\n");
    for (int r = 0; r < R_COUNT; r++)
        for (int o = 0; o < O_COUNT; o++) {
            unsigned long long v = ld(&m->req[r][o]);
            if (v)
                dg_buf_printf(out, "authd_requests_total{route=\"%s\",outcome=\"%s\"} %llu\n",
                              ROUTE_NAMES[r], OUTCOME_NAMES[o], v);
        }
    dg_buf_puts(out, "# HELP authd_decision_seconds Latency of boot decisions.\n"
                     "# TYPE authd_decision_seconds histogram\n");
    for (int r = 0; r < 2; r++) {
        unsigned long long cum = 0;
        for (size_t b = 0; b <= NB; b++) {
            cum += ld(&m->hist[r][b]);
            if (b < NB)
                dg_buf_printf(out, "authd_decision_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n",
                              ROUTE_NAMES[r], BUCKETS[b], cum);
            else
                dg_buf_printf(out, "authd_decision_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n",
                              ROUTE_NAMES[r], cum);
        }
        dg_buf_printf(out, "authd_decision_seconds_sum{route=\"%s\"} %.9f\n", ROUTE_NAMES[r],
                      (double)ld(&m->sum_ns[r]) / 1e9);
        dg_buf_printf(out, "authd_decision_seconds_count{route=\"%s\"} %llu\n", ROUTE_NAMES[r],
                      ld(&m->count[r]));
    }
    render_log_conns(out, log, hs);
    dg_policy_stats st;
    dg_policy_get_stats(p, &st);
    dg_buf_printf(
        out,
        "# HELP authd_cache_hits_total Decisions served from the cache (including shared misses).\n"
        "# TYPE authd_cache_hits_total counter\n"
        "authd_cache_hits_total %llu\n"
        "# HELP authd_cache_misses_total Decisions that needed an RPC round trip.\n"
        "# TYPE authd_cache_misses_total counter\n"
        "authd_cache_misses_total %llu\n"
        "# HELP authd_cache_shared_total Misses that waited for an identical in-flight miss.\n"
        "# TYPE authd_cache_shared_total counter\n"
        "authd_cache_shared_total %llu\n",
        st.cache_hits, st.cache_misses, st.cache_shared);
    dg_buf_printf(out,
                  "# HELP authd_backend_info The backend in use.\n# TYPE authd_backend_info gauge\n"
                  "authd_backend_info{backend=\"%s\"} 1\n",
                  dg_policy_kind(p));
    if (dg_policy_endpoint_count(p) > 0) { /* a chain backend: eth, near */
        dg_buf_printf(
            out,
            "# HELP authd_snapshot_block Block number decisions are made at.\n"
            "# TYPE authd_snapshot_block gauge\n"
            "authd_snapshot_block %llu\n"
            "# HELP authd_snapshot_valid 1 when a fresh snapshot block is available.\n"
            "# TYPE authd_snapshot_valid gauge\n"
            "authd_snapshot_valid %d\n"
            "# HELP authd_snapshot_age_seconds Time since the snapshot was last confirmed.\n"
            "# TYPE authd_snapshot_age_seconds gauge\n"
            "authd_snapshot_age_seconds %.3f\n"
            "# HELP authd_snapshot_errors_total Failed snapshot polls.\n"
            "# TYPE authd_snapshot_errors_total counter\n"
            "authd_snapshot_errors_total %llu\n",
            (unsigned long long)st.snapshot_block, st.has_snapshot,
            st.snapshot_age_ms < 0 ? -1.0 : st.snapshot_age_ms / 1000.0, st.snapshot_errors);
        dg_buf_puts(out,
                    "# HELP authd_rpc_requests_total HTTP requests sent to each RPC endpoint.\n"
                    "# TYPE authd_rpc_requests_total counter\n");
        size_t n = dg_policy_endpoint_count(p);
        for (size_t i = 0; i < n; i++) {
            const char *label;
            unsigned long c, e;
            if (dg_policy_endpoint_stats(p, i, &label, &c, &e))
                dg_buf_printf(out, "authd_rpc_requests_total{endpoint=\"%s\"} %lu\n", label, c);
        }
        dg_buf_puts(out, "# HELP authd_rpc_errors_total Transport failures per RPC endpoint.\n"
                         "# TYPE authd_rpc_errors_total counter\n");
        for (size_t i = 0; i < n; i++) {
            const char *label;
            unsigned long c, e;
            if (dg_policy_endpoint_stats(p, i, &label, &c, &e))
                dg_buf_printf(out, "authd_rpc_errors_total{endpoint=\"%s\"} %lu\n", label, e);
        }
    }
    if (strcmp(dg_policy_kind(p), "static") == 0)
        dg_buf_printf(out,
                      "# HELP authd_policy_reloads_total Allowlist loads.\n# TYPE "
                      "authd_policy_reloads_total counter\n"
                      "authd_policy_reloads_total %llu\n"
                      "# HELP authd_policy_reload_errors_total Allowlist loads that failed (last "
                      "good kept).\n"
                      "# TYPE authd_policy_reload_errors_total "
                      "counter\nauthd_policy_reload_errors_total %llu\n",
                      st.reloads, st.reload_errors);
}
