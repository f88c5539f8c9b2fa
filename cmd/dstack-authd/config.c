/* config.c — dstack-authd's configuration: defaults, a TOML file, the
 * upstream environment variables, then flags, in that order of precedence.
 *
 * Every key is listed once in a table with its type and where it lives in
 * authd_config, so the TOML reader, the unknown-key check and
 * --check-config's printout cannot drift apart.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "authd.h"
#include "dstackgov/hex.h"
#include "dstackgov/near.h"
#include "dstackgov/rpc.h"
#include "dstackgov/toml.h"

enum kind { K_STR, K_INT, K_U64, K_UINT, K_LONG, K_URLS };

struct key {
    const char *toml; /* dotted key in the file */
    enum kind kind;
    size_t off;
    size_t cap; /* K_STR buffer size */
    long long min, max;
    const char *flag; /* --flag name, or NULL */
    const char *help;
};

#define F(m) offsetof(authd_config, m), sizeof(((authd_config *)0)->m)
#define N(m) offsetof(authd_config, m), 0
static const struct key KEYS[] = {
    {"backend", K_STR, F(backend), 0, 0, "backend", "eth | near | static | dev"},
    {"server.host", K_STR, F(host), 0, 0, "host", "address to listen on (env HOST)"},
    {"server.port", K_INT, N(port), 0, 65535, "port", "port to listen on, 0 = any (env PORT)"},
    {"server.threads", K_INT, N(threads), 1, 64, "threads", "HTTP worker threads"},
    {"server.decision_log", K_STR, F(decision_log), 0, 0, "decision-log",
     "\"-\" stdout, \"\" off, or a file"},
    {"server.decision_log_chain", K_STR, F(decision_log_chain), 0, 0, "decision-log-chain",
     "\"\" off, or sha256: hash-chain the lines"},
    {"server.decision_log_on_error", K_STR, F(decision_log_on_error), 0, 0, "decision-log-on-error",
     "deny | continue: decisions while the log cannot record"},
    {"server.max_connections", K_INT, N(max_connections), 1, 100000, "max-connections",
     "open connections; at the limit idle ones are closed to make room"},
    {"server.idle_timeout_ms", K_LONG, N(idle_timeout_ms), 100, 3600000, "idle-timeout-ms",
     "how long an idle keep-alive connection is kept"},
    {"server.request_timeout_ms", K_LONG, N(request_timeout_ms), 100, 600000, "request-timeout-ms",
     "a request (head and body) must arrive within this"},
    {"eth.rpc_urls", K_URLS, N(rpc_urls), 0, 0, "rpc-url",
     "RPC endpoint (repeat for failover; env ETH_RPC_URL, comma-separated)"},
    {"eth.rpc_ca_file", K_STR, F(rpc_ca_file), 0, 0, "rpc-ca-file",
     "trust only these PEM CAs for https:// RPC (default: env SSL_CERT_FILE, else the system's)"},
    {"eth.kms_contract", K_STR, F(kms_contract), 0, 0, "kms-contract",
     "DstackKms proxy address (env KMS_CONTRACT_ADDR)"},
    {"eth.chain_id", K_U64, N(chain_id), 0, 0, "chain-id",
     "expected chain id, 0 = learn at start (env ETH_CHAIN_ID)"},
    {"eth.snapshot", K_STR, F(snapshot), 0, 0, "snapshot",
     "auto | latest | safe | finalized | confirmations"},
    {"eth.confirmations", K_U64, N(confirmations), 0, 0, "confirmations",
     "N for snapshot = confirmations (env ETH_FINALITY_CONFIRMATIONS)"},
    {"eth.refresh_ms", K_LONG, N(refresh_ms), 10, 60000, "refresh-ms", "snapshot poll interval"},
    {"eth.rpc_timeout_ms", K_LONG, N(rpc_timeout_ms), 10, 60000, "rpc-timeout-ms",
     "timeout of one RPC request"},
    {"eth.deadline_ms", K_LONG, N(deadline_ms), 10, 60000, "deadline-ms",
     "deadline of a whole decision"},
    {"eth.max_snapshot_age_ms", K_LONG, N(max_snapshot_age_ms), 100, 600000, "max-snapshot-age-ms",
     "deny when the snapshot is older"},
    {"eth.info_cache_ms", K_LONG, N(info_cache_ms), 1, 600000, "info-cache-ms",
     "how long GET / is cached"},
    {"eth.quorum", K_UINT, N(quorum), 0, AUTHD_MAX_RPC, "quorum",
     "k identical answers required (0/1 = failover)"},
    {"eth.cache_entries", K_LONG, N(cache_entries), 1, 1 << 20, "cache-entries",
     "decision cache slots"},
    {"near.rpc_urls", K_URLS, N(rpc_urls), 0, 0, NULL,
     "NEAR RPC endpoints (--rpc-url; env NEAR_RPC_URL, comma-separated)"},
    {"near.contract_id", K_STR, F(kms_contract), 0, 0, NULL,
     "the KMS contract account (--kms-contract; env KMS_CONTRACT_ID)"},
    {"near.rpc_ca_file", K_STR, F(rpc_ca_file), 0, 0, NULL,
     "trust only these PEM CAs for https:// RPC (--rpc-ca-file; default: env SSL_CERT_FILE)"},
    {"near.network_id", K_STR, F(near_network), 0, 0, "network-id",
     "expected network (the node's chain id), \"\" = learn at start (env NEAR_NETWORK_ID)"},
    {"near.finality", K_STR, F(near_finality), 0, 0, "finality", "final | optimistic"},
    {"near.refresh_ms", K_LONG, N(refresh_ms), 10, 60000, NULL, "snapshot poll interval"},
    {"near.rpc_timeout_ms", K_LONG, N(rpc_timeout_ms), 10, 60000, NULL,
     "timeout of one RPC request"},
    {"near.deadline_ms", K_LONG, N(deadline_ms), 10, 60000, NULL, "deadline of a whole decision"},
    {"near.max_snapshot_age_ms", K_LONG, N(max_snapshot_age_ms), 100, 600000, NULL,
     "deny when the snapshot is older"},
    {"near.info_cache_ms", K_LONG, N(info_cache_ms), 1, 600000, NULL, "how long GET / is cached"},
    {"near.quorum", K_UINT, N(quorum), 0, AUTHD_MAX_RPC, NULL,
     "k identical answers required (0/1 = failover)"},
    {"near.cache_entries", K_LONG, N(cache_entries), 1, 1 << 20, NULL, "decision cache slots"},
    {"static.path", K_STR, F(static_path), 0, 0, "static-file", "allowlist JSON file"},
    {"dev.gateway_app_id", K_STR, F(dev_gateway), 0, 0, "gateway-app-id",
     "gateway app id the dev backend returns"},
};
#define NKEYS (sizeof KEYS / sizeof KEYS[0])

static void defaults(authd_config *c) {
    memset(c, 0, sizeof *c);
    snprintf(c->host, sizeof c->host, "127.0.0.1");
    c->port = 8000;
    c->threads = 4;
    snprintf(c->decision_log, sizeof c->decision_log, "-");
    snprintf(c->decision_log_on_error, sizeof c->decision_log_on_error, "deny");
    c->max_connections = 1000;
    c->idle_timeout_ms = 30000;
    c->request_timeout_ms = 5000;
    snprintf(c->backend, sizeof c->backend, "eth");
    snprintf(c->snapshot, sizeof c->snapshot, "auto");
    snprintf(c->near_finality, sizeof c->near_finality, "final");
    c->refresh_ms = 250;
    c->rpc_timeout_ms = 1000;
    c->deadline_ms = 3000;
    c->max_snapshot_age_ms = 10000;
    c->info_cache_ms = 1000;
    c->cache_entries = 1024;
    snprintf(c->dev_gateway, sizeof c->dev_gateway, "any");
}

void authd_config_free(authd_config *c) {
    for (size_t i = 0; i < c->nrpc; i++)
        free(c->rpc_urls[i]);
    c->nrpc = 0;
}

static int set_urls_list(authd_config *c, const char *csv, const char *where, dg_err *err) {
    authd_config_free(c);
    const char *p = csv;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        while (n && (*p == ' '))
            p++, n--;
        while (n && p[n - 1] == ' ')
            n--;
        if (n) {
            if (c->nrpc == AUTHD_MAX_RPC)
                return dg_err_set(err, DG_ERR_CONFIG, "%s: more than %d RPC URLs", where,
                                  AUTHD_MAX_RPC);
            if (!(c->rpc_urls[c->nrpc] = strndup(p, n)))
                return dg_err_set(err, DG_ERR_NOMEM, "out of memory");
            c->nrpc++;
        }
        if (!e) break;
        p = e + 1;
    }
    return 1;
}

/* Parse an integer value given as text (env, flag). */
static int parse_num(const struct key *k, const char *s, authd_config *c, const char *where,
                     dg_err *err) {
    char *end;
    errno = 0;
    if (!*s || *s == '-' || *s == '+' || *s == ' ')
        return dg_err_set(err, DG_ERR_CONFIG, "%s: \"%s\" is not a non-negative integer", where, s);
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return dg_err_set(err, DG_ERR_CONFIG, "%s: \"%s\" is not a non-negative integer", where, s);
    if (k->kind != K_U64 &&
        ((long long)v < k->min || (long long)v > k->max || v > (unsigned long long)k->max))
        return dg_err_set(err, DG_ERR_CONFIG, "%s: %llu is out of range %lld..%lld", where, v,
                          k->min, k->max);
    void *dst = (char *)c + k->off;
    switch (k->kind) {
    case K_INT:
        *(int *)dst = (int)v;
        break;
    case K_UINT:
        *(unsigned *)dst = (unsigned)v;
        break;
    case K_LONG:
        *(long *)dst = (long)v;
        break;
    default:
        *(uint64_t *)dst = (uint64_t)v;
        break;
    }
    return 1;
}

static int set_text(const struct key *k, const char *v, authd_config *c, const char *where,
                    dg_err *err) {
    if (k->kind == K_URLS) return set_urls_list(c, v, where, err);
    if (k->kind != K_STR) return parse_num(k, v, c, where, err);
    if (strlen(v) >= k->cap)
        return dg_err_set(err, DG_ERR_CONFIG, "%s: longer than %zu bytes", where, k->cap - 1);
    snprintf((char *)c + k->off, k->cap, "%s", v);
    return 1;
}

static const struct key *key_by_toml(const char *name) {
    for (size_t i = 0; i < NKEYS; i++)
        if (strcmp(KEYS[i].toml, name) == 0) return &KEYS[i];
    return NULL;
}

static const struct key *key_by_flag(const char *name, size_t n) {
    for (size_t i = 0; i < NKEYS; i++)
        if (KEYS[i].flag && strlen(KEYS[i].flag) == n && strncmp(KEYS[i].flag, name, n) == 0)
            return &KEYS[i];
    return NULL;
}

static int apply_toml(authd_config *c, const char *path, dg_err *err) {
    dg_toml *doc;
    if (!dg_toml_parse_file(path, &doc, err)) return 0;
    int ok = 1, file_snapshot = 0, file_confirmations = 0;
    const char *chain_key[2] = {NULL, NULL}; /* an eth.* / near.* key seen */
    for (size_t i = 0; ok && i < dg_toml_count(doc); i++) {
        const dg_toml_entry *e = dg_toml_at(doc, i);
        const struct key *k = key_by_toml(e->key);
        int chain = strncmp(e->key, "eth.", 4) == 0 ? 0 : strncmp(e->key, "near.", 5) == 0 ? 1 : -1;
        if (k && chain >= 0) {
            chain_key[chain] = e->key;
            if (chain_key[!chain]) {
                ok = dg_err_set(err, DG_ERR_CONFIG,
                                "%s: line %d: %s and %s: one daemon serves one chain; keep the "
                                "[eth] or the [near] section",
                                path, e->key_line, chain_key[0], chain_key[1]);
                break;
            }
        }
        if (k && k->off == offsetof(authd_config, snapshot)) file_snapshot = 1;
        if (k && k->off == offsetof(authd_config, confirmations)) file_confirmations = 1;
        char where[700];
        snprintf(where, sizeof where, "%s: line %d, column %d: %s", path, e->line, e->col, e->key);
        if (!k) {
            ok = dg_err_set(err, DG_ERR_CONFIG, "%s: line %d, column %d: unknown key \"%s\"", path,
                            e->key_line, e->key_col, e->key);
            break;
        }
        if (k->kind == K_URLS) {
            if (e->type != DG_TOML_ARRAY) {
                ok = dg_err_set(err, DG_ERR_CONFIG, "%s: expected an array of strings", where);
                break;
            }
            authd_config_free(c);
            for (size_t j = 0; j < e->nitems; j++) {
                if (c->nrpc == AUTHD_MAX_RPC) {
                    ok = dg_err_set(err, DG_ERR_CONFIG, "%s: more than %d URLs", where,
                                    AUTHD_MAX_RPC);
                    break;
                }
                c->rpc_urls[c->nrpc++] = strdup(e->items[j]);
            }
        } else if (k->kind == K_STR) {
            if (e->type != DG_TOML_STRING)
                ok = dg_err_set(err, DG_ERR_CONFIG, "%s: expected a string", where);
            else
                ok = set_text(k, e->str, c, where, err);
        } else {
            char num[32];
            if (e->type != DG_TOML_INT) {
                ok = dg_err_set(err, DG_ERR_CONFIG, "%s: expected an integer", where);
                break;
            }
            if (e->i < 0) {
                ok = dg_err_set(err, DG_ERR_CONFIG, "%s: must not be negative", where);
                break;
            }
            snprintf(num, sizeof num, "%lld", e->i);
            ok = parse_num(k, num, c, where, err);
        }
    }
    /* As with ETH_FINALITY_CONFIRMATIONS and --confirmations, setting eth.confirmations
     * selects snapshot = "confirmations" unless the file names a snapshot itself
     * (otherwise the N would be silently ignored and decisions would use `latest`). */
    if (ok && file_confirmations && !file_snapshot)
        snprintf(c->snapshot, sizeof c->snapshot, "confirmations");
    if (file_snapshot) {
        c->snap_src = 1;
        snprintf(c->snap_file, sizeof c->snap_file, "%s", c->snapshot);
    }
    if (file_confirmations) c->conf_src = 1;
    dg_toml_free(doc);
    return ok;
}

/* The upstream webhooks' environment variables (auth-eth, auth-near): a
 * chain's variables apply only when that chain's backend is selected, so a
 * NEAR daemon ignores an ETH_RPC_URL left in its environment and vice versa. */
static int apply_env(authd_config *c, dg_err *err) {
    static const struct {
        const char *env, *key, *backend;
    } ENV[] = {
        {"ETH_RPC_URL", "eth.rpc_urls", "eth"},
        {"KMS_CONTRACT_ADDR", "eth.kms_contract", "eth"},
        {"ETH_CHAIN_ID", "eth.chain_id", "eth"},
        {"ETH_FINALITY_CONFIRMATIONS", "eth.confirmations", "eth"},
        {"NEAR_RPC_URL", "near.rpc_urls", "near"},
        {"KMS_CONTRACT_ID", "near.contract_id", "near"},
        {"NEAR_NETWORK_ID", "near.network_id", "near"},
        {"PORT", "server.port", NULL},
        {"HOST", "server.host", NULL},
    };
    const char *backend = c->flag_backend[0] ? c->flag_backend : c->backend;
    for (size_t i = 0; i < sizeof ENV / sizeof ENV[0]; i++) {
        const char *v = getenv(ENV[i].env);
        char where[64];
        if (!v || !*v) continue;
        if (ENV[i].backend && strcmp(ENV[i].backend, backend) != 0) continue;
        snprintf(where, sizeof where, "environment %s", ENV[i].env);
        if (!set_text(key_by_toml(ENV[i].key), v, c, where, err)) return 0;
        if (strcmp(ENV[i].env, "ETH_FINALITY_CONFIRMATIONS") == 0) {
            snprintf(c->snapshot, sizeof c->snapshot, "confirmations");
            c->conf_src = 2;
        }
    }
    return 1;
}

static void usage(FILE *out) {
    fprintf(
        out,
        "usage: dstack-authd [--config FILE] [--check-config] [--dev] [flags]\n"
        "\n"
        "The boot-authorization webhook of a dstack KMS: GET /, POST /bootAuth/app,\n"
        "POST /bootAuth/kms, GET /metrics. Precedence: flags > environment > file > defaults.\n"
        "\n"
        "  --config FILE            TOML configuration file\n"
        "  --check-config           validate, print the effective configuration, exit\n"
        "  --dev                    allow the dev backend (allows every boot)\n"
        "  --verify-log FILE...     check a hash-chained decision log (files in order), exit\n");
    for (size_t i = 0; i < NKEYS; i++) {
        char l[64];
        if (!KEYS[i].flag) continue; /* a near.* key sharing its flag with eth.* */
        snprintf(l, sizeof l, "--%s %s", KEYS[i].flag,
                 KEYS[i].kind == K_STR || KEYS[i].kind == K_URLS ? "VALUE" : "N");
        fprintf(out, "  %-24s %s [%s]\n", l, KEYS[i].help, KEYS[i].toml);
    }
    fprintf(
        out,
        "\n"
        "systemd socket activation: with LISTEN_PID = this process and LISTEN_FDS=1 it serves\n"
        "descriptor 3 instead of binding host:port. Signals: SIGHUP reloads, SIGTERM stops\n"
        "after in-flight requests.\n"
        "\n"
        "With --backend near, --rpc-url and --kms-contract name the NEAR endpoints and the KMS\n"
        "account; in the file the chain keys are near.* (near.rpc_urls, near.contract_id,\n"
        "near.quorum, near.deadline_ms, ... as eth.*); environment NEAR_RPC_URL,\n"
        "NEAR_NETWORK_ID, KMS_CONTRACT_ID. Guide: docs/authd.md.\n");
}

/* Flags in two passes: first find --config/--help, then apply the rest after
 * the file and the environment. */
static int apply_flags(authd_config *c, int argc, char **argv, int pass, dg_err *err) {
    int urls_reset = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0)
            return dg_err_set(err, DG_ERR_INPUT, "unexpected argument \"%s\"", a);
        a += 2;
        const char *eq = strchr(a, '=');
        size_t n = eq ? (size_t)(eq - a) : strlen(a);
        if ((n == 4 && !strncmp(a, "help", 4)) || (n == 7 && !strncmp(a, "version", 7))) {
            if (pass == 0) {
                if (a[0] == 'h')
                    usage(stdout);
                else
                    printf("dstack-authd 0.1.0\n");
            }
            return 2;
        }
        if (n == 3 && !strncmp(a, "dev", 3) && !eq) {
            c->dev_flag = 1;
            continue;
        }
        if (n == 12 && !strncmp(a, "check-config", 12) && !eq) {
            c->check_only = 1;
            continue;
        }
        const struct key *k = key_by_flag(a, n);
        int is_config = n == 6 && !strncmp(a, "config", 6);
        if (!k && !is_config)
            return dg_err_set(err, DG_ERR_INPUT, "unknown flag --%.*s (see --help)", (int)n, a);
        const char *v = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
        if (!v) return dg_err_set(err, DG_ERR_INPUT, "--%.*s needs a value", (int)n, a);
        if (is_config) {
            if (strlen(v) >= sizeof c->config_path)
                return dg_err_set(err, DG_ERR_INPUT, "--config: path too long");
            snprintf(c->config_path, sizeof c->config_path, "%s", v);
            continue;
        }
        if (pass == 0) {
            if (k->off == offsetof(authd_config, backend))
                snprintf(c->flag_backend, sizeof c->flag_backend, "%.15s", v);
            continue;
        }
        char where[64];
        snprintf(where, sizeof where, "--%s", k->flag);
        if (k->kind == K_URLS) {
            /* Repeated --rpc-url flags accumulate. */
            if (!urls_reset) authd_config_free(c), urls_reset = 1;
            if (c->nrpc == AUTHD_MAX_RPC)
                return dg_err_set(err, DG_ERR_INPUT, "more than %d --rpc-url", AUTHD_MAX_RPC);
            if (!(c->rpc_urls[c->nrpc] = strdup(v)))
                return dg_err_set(err, DG_ERR_NOMEM, "out of memory");
            c->nrpc++;
            continue;
        }
        if (!set_text(k, v, c, where, err)) return 0;
        if (k->off == offsetof(authd_config, snapshot)) c->snap_src = 3;
        if (k->off == offsetof(authd_config, confirmations)) {
            c->conf_src = 3;
            if (c->snap_src != 3) snprintf(c->snapshot, sizeof c->snapshot, "confirmations");
        }
    }
    return 1;
}

/* eth.snapshot names the finality; a confirmations count selects head - N.
 * Given both, an explicit choice must not be replaced silently: --snapshot
 * always wins over the environment and the file, but --snapshot X with
 * --confirmations N, or ETH_FINALITY_CONFIRMATIONS over a file's explicit
 * snapshot, is refused (the environment would otherwise quietly weaken, say,
 * "finalized" to head - 0). Within the file an explicit snapshot wins. */
static int check_finality(const authd_config *c, dg_err *err) {
    if (c->snap_src == 3 && c->conf_src == 3 && strcmp(c->snapshot, "confirmations") != 0)
        return dg_err_set(err, DG_ERR_CONFIG,
                          "--snapshot %s and --confirmations %llu conflict: give one "
                          "(--confirmations selects head minus N)",
                          c->snapshot, (unsigned long long)c->confirmations);
    if (c->conf_src == 2 && c->snap_src == 1 && strcmp(c->snap_file, "confirmations") != 0)
        return dg_err_set(err, DG_ERR_CONFIG,
                          "environment ETH_FINALITY_CONFIRMATIONS=%llu conflicts with eth.snapshot "
                          "= \"%s\" in %s: it would "
                          "replace the file's finality with head minus %llu; unset one of them, or "
                          "pass --snapshot",
                          (unsigned long long)c->confirmations, c->snap_file, c->config_path,
                          (unsigned long long)c->confirmations);
    return 1;
}

/* SSL_CERT_FILE, the conventional variable, is a default like the system's
 * store: it never replaces a CA file the file or a flag names.
 * CURL_CA_BUNDLE (one TLS client's name) is deliberately not read. */
static int apply_ca_default(authd_config *c, dg_err *err) {
    const char *v = getenv("SSL_CERT_FILE");
    if (c->rpc_ca_file[0] || !v || !*v) return 1;
    if (!set_text(key_by_toml("eth.rpc_ca_file"), v, c, "environment SSL_CERT_FILE", err)) return 0;
    c->ca_from_env = 1;
    return 1;
}

static int load(authd_config *c, int argc, char **argv, dg_err *err) {
    int r = apply_flags(c, argc, argv, 0, err);
    if (r != 1) return r;
    if (c->config_path[0] && !apply_toml(c, c->config_path, err)) return 0;
    if (!apply_env(c, err)) return 0;
    r = apply_flags(c, argc, argv, 1, err);
    if (r != 1) return r;
    if (!apply_ca_default(c, err)) return 0;
    return check_finality(c, err);
}

static int g_argc;
static char **g_argv;

int authd_config_load(authd_config *c, int argc, char **argv, dg_err *err) {
    defaults(c);
    g_argc = argc;
    g_argv = argv;
    int r = load(c, argc, argv, err);
    if (r != 1) return r;
    return authd_config_validate(c, err);
}

int authd_config_reload(const authd_config *old, authd_config *c, dg_err *err) {
    (void)old;
    defaults(c);
    int r = load(c, g_argc, g_argv, err);
    if (r != 1) return r == 2 ? dg_err_set(err, DG_ERR_CONFIG, "unexpected --help") : 0;
    return authd_config_validate(c, err);
}

/* The authority of an http(s) URL (after "scheme://"): [userinfo@]host[:port], host
 * non-empty (an IPv6 literal in brackets), port, if any, 1..65535. */
static int url_authority_ok(const char *url) {
    const char *a = strstr(url, "://");
    if (!a) return 0;
    a += 3;
    size_t n = strcspn(a, "/?#");
    const char *at = memchr(a, '@', n);
    while (at) { /* the last '@' ends the userinfo */
        const char *next = memchr(at + 1, '@', n - (size_t)(at + 1 - a));
        if (!next) break;
        at = next;
    }
    if (at) n -= (size_t)(at + 1 - a), a = at + 1;
    const char *end = a + n, *port = NULL;
    if (a < end && *a == '[') {
        const char *rb = memchr(a, ']', n);
        if (!rb || rb == a + 1) return 0;
        if (rb + 1 < end) {
            if (rb[1] != ':') return 0;
            port = rb + 2;
        }
    } else {
        const char *colon = memchr(a, ':', n);
        if ((colon ? colon : end) == a) return 0;
        if (colon) port = colon + 1;
    }
    if (port && port < end) {
        unsigned long v = 0;
        for (const char *p = port; p < end; p++) {
            if (*p < '0' || *p > '9') return 0;
            v = v * 10 + (unsigned long)(*p - '0');
            if (v > 65535) return 0;
        }
        if (v == 0) return 0;
    }
    return 1;
}

/* What both chain backends need: endpoints, quorum, timeouts (keys named
 * after the chain, "eth" or "near"). */
static int check_chain_common(const authd_config *c, const char *chain, dg_err *err) {
    if (!c->nrpc)
        return dg_err_set(err, DG_ERR_CONFIG,
                          "%s backend: no RPC URL (%s.rpc_urls, %s or --rpc-url)", chain, chain,
                          chain[0] == 'e' ? "ETH_RPC_URL" : "NEAR_RPC_URL");
    for (size_t i = 0; i < c->nrpc; i++) {
        char l[160];
        authd_url_label(c->rpc_urls[i], l, sizeof l);
        if (strncmp(c->rpc_urls[i], "http://", 7) != 0 &&
            strncmp(c->rpc_urls[i], "https://", 8) != 0)
            return dg_err_set(err, DG_ERR_CONFIG,
                              "%s.rpc_urls[%zu] (%s): only http:// and https:// are supported",
                              chain, i, l);
        if (!url_authority_ok(c->rpc_urls[i]))
            return dg_err_set(
                err, DG_ERR_CONFIG,
                "%s.rpc_urls[%zu] (%s): expected scheme://host[:port] with a port of 1..65535",
                chain, i, l);
    }
    if (c->rpc_ca_file[0] && !dg_rpc_ca_file_check(c->rpc_ca_file, err))
        return dg_err_wrap(err, "%s.rpc_ca_file%s", chain,
                           c->ca_from_env ? " (from environment SSL_CERT_FILE)" : "");
    if (c->quorum > c->nrpc)
        return dg_err_set(err, DG_ERR_CONFIG, "%s.quorum %u is larger than the %zu RPC URLs", chain,
                          c->quorum, c->nrpc);
    if (c->rpc_timeout_ms > c->deadline_ms)
        return dg_err_set(err, DG_ERR_CONFIG, "%s.rpc_timeout_ms %ld exceeds %s.deadline_ms %ld",
                          chain, c->rpc_timeout_ms, chain, c->deadline_ms);
    return 1;
}

int authd_config_validate(const authd_config *c, dg_err *err) {
    struct in6_addr ip;
    if (inet_pton(AF_INET, c->host, &ip) != 1 && inet_pton(AF_INET6, c->host, &ip) != 1)
        return dg_err_set(err, DG_ERR_CONFIG,
                          "server.host \"%s\": expected an IPv4 or IPv6 address (no host names)",
                          c->host);
    if (c->decision_log_chain[0] && strcmp(c->decision_log_chain, "sha256") != 0)
        return dg_err_set(err, DG_ERR_CONFIG,
                          "server.decision_log_chain: \"%s\": expected \"\" (off) or \"sha256\"",
                          c->decision_log_chain);
    if (strcmp(c->decision_log_on_error, "deny") != 0 &&
        strcmp(c->decision_log_on_error, "continue") != 0)
        return dg_err_set(err, DG_ERR_CONFIG,
                          "server.decision_log_on_error: \"%s\": expected \"deny\" or \"continue\"",
                          c->decision_log_on_error);
    int eth = strcmp(c->backend, "eth") == 0, near = strcmp(c->backend, "near") == 0;
    if ((eth || near) && !check_chain_common(c, eth ? "eth" : "near", err)) return 0;
    if (near) {
        dg_err e;
        if (!c->kms_contract[0])
            return dg_err_set(err, DG_ERR_CONFIG,
                              "near backend: no KMS contract account (near.contract_id, "
                              "KMS_CONTRACT_ID or --kms-contract)");
        if (!dg_near_account_id_check(c->kms_contract, &e))
            return dg_err_set(err, DG_ERR_CONFIG, "near.contract_id \"%s\": %s", c->kms_contract,
                              e.msg);
        if (strcmp(c->near_finality, "final") != 0 && strcmp(c->near_finality, "optimistic") != 0)
            return dg_err_set(err, DG_ERR_CONFIG,
                              "near.finality \"%s\": expected final or optimistic",
                              c->near_finality);
    } else if (eth) {
        uint8_t a[20];
        dg_err e;
        if (!c->kms_contract[0])
            return dg_err_set(err, DG_ERR_CONFIG,
                              "eth backend: no KMS contract (eth.kms_contract, KMS_CONTRACT_ADDR "
                              "or --kms-contract)");
        if (!dg_address_parse(c->kms_contract, a, &e))
            return dg_err_set(err, DG_ERR_CONFIG, "eth.kms_contract \"%s\": %s", c->kms_contract,
                              e.msg);
        if (strcmp(c->snapshot, "auto") != 0 && strcmp(c->snapshot, "latest") != 0 &&
            strcmp(c->snapshot, "safe") != 0 && strcmp(c->snapshot, "finalized") != 0 &&
            strcmp(c->snapshot, "confirmations") != 0)
            return dg_err_set(
                err, DG_ERR_CONFIG,
                "eth.snapshot \"%s\": expected auto, latest, safe, finalized or confirmations",
                c->snapshot);
    } else if (strcmp(c->backend, "static") == 0) {
        if (!c->static_path[0])
            return dg_err_set(err, DG_ERR_CONFIG, "static backend: no static.path (--static-file)");
    } else if (strcmp(c->backend, "dev") == 0) {
        if (!c->dev_flag)
            return dg_err_set(err, DG_ERR_CONFIG,
                              "dev backend allows every boot; refusing to start without --dev on "
                              "the command line");
    } else
        return dg_err_set(err, DG_ERR_CONFIG, "backend \"%s\": expected eth, near, static or dev",
                          c->backend);
    return 1;
}

void authd_url_label(const char *url, char *out, size_t cap) {
    const char *s = strstr(url, "://");
    if (!s) {
        snprintf(out, cap, "configured");
        return;
    }
    const char *h = s + 3;
    const char *end = h + strcspn(h, "/?#");
    for (const char *p = h; p < end;
         p++) /* user info ends at the last '@', as the transport reads it */
        if (*p == '@') h = p + 1;
    snprintf(out, cap, "%.*s%.*s", (int)(s + 3 - url), url, (int)(end - h), h);
}

static void print_str(FILE *out, const char *k, const char *v, const char *comment) {
    fprintf(out, "%s = \"", k);
    for (; *v; v++) {
        if (*v == '"' || *v == '\\') fputc('\\', out);
        fputc(*v, out);
    }
    fprintf(out, "\"%s%s\n", comment[0] ? "  # " : "", comment);
}

void authd_config_print(const authd_config *c, FILE *out) {
    const char *section = "";
    size_t secl = 0;
    if (c->config_path[0])
        fprintf(out,
                "# dstack-authd effective configuration (file %s, then environment, then flags)\n",
                c->config_path);
    else
        fprintf(
            out,
            "# dstack-authd effective configuration (defaults, then environment, then flags)\n");
    int near = strcmp(c->backend, "near") == 0;
    for (size_t i = 0; i < NKEYS; i++) {
        const struct key *k = &KEYS[i];
        const char *dot = strchr(k->toml, '.');
        const char *name = k->toml;
        /* the chain section in use: [near] for the near backend, else [eth] as before */
        if (strncmp(k->toml, near ? "eth." : "near.", near ? 4 : 5) == 0) continue;
        if (dot) {
            size_t sl = (size_t)(dot - k->toml);
            if (secl != sl || strncmp(section, k->toml, sl) != 0) {
                fprintf(out, "\n[%.*s]\n", (int)sl, k->toml);
                section = k->toml;
                secl = sl;
            }
            name = dot + 1;
        }
        const void *p = (const char *)c + k->off;
        switch (k->kind) {
        case K_STR:
            print_str(out, name, (const char *)p,
                      k->off != offsetof(authd_config, rpc_ca_file) ? ""
                      : c->ca_from_env    ? "from environment SSL_CERT_FILE"
                      : c->rpc_ca_file[0] ? "only these CAs are trusted for https://"
                                          : "the system's CA store");
            break;
        case K_INT:
            fprintf(out, "%s = %d\n", name, *(const int *)p);
            break;
        case K_UINT:
            fprintf(out, "%s = %u\n", name, *(const unsigned *)p);
            break;
        case K_LONG:
            fprintf(out, "%s = %ld\n", name, *(const long *)p);
            break;
        case K_U64:
            fprintf(out, "%s = %llu\n", name, (unsigned long long)*(const uint64_t *)p);
            break;
        case K_URLS:
            fprintf(out, "%s = [", name);
            for (size_t j = 0; j < c->nrpc; j++) {
                char l[160];
                authd_url_label(c->rpc_urls[j], l, sizeof l);
                fprintf(out, "%s\"%s\"", j ? ", " : "", l);
            }
            fprintf(out,
                    "]  # scheme://host[:port] only; paths and queries (API keys) are not shown\n");
            break;
        }
    }
}
