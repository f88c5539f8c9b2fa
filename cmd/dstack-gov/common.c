/* common.c — the shared steps of every dstack-gov command.
 *
 * One idea: every transaction goes through cli_transact(), so every command
 * gets the same safety net — chain id checked against the network preset, code
 * at the target checked, the revert reason of a failing estimate reported
 * before anything is signed, the balance compared with the worst-case cost,
 * a confirmation prompt with that cost (refused without a terminal unless
 * --yes), --dry-run, and progress while waiting. Secrets (the private key, an
 * RPC URL's API key) never reach an output stream.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dstackgov/hash.h"
#include "dstackgov/hex.h"
#include "dstackgov/secp.h"
#include "dstackgov/u256.h"

/* ------------------------------------------------------------------ output */

int cli_exit_code(dg_err_code code) {
    return code == DG_OK ? 0 : 1 + (int)code;
}

int cli_fail(cli *c, const dg_err *e) {
    dg_err_code code = e->code == DG_OK ? DG_ERR_INTERNAL : e->code;
    if (c && c->json) {
        json_t *o = json_pack("{s:b,s:{s:s,s:s,s:i}}", "ok", 0, "error", "class", dg_err_name(code),
                              "message", e->msg, "exitCode", cli_exit_code(code));
        char *s = json_dumps(o, JSON_COMPACT);
        if (s) printf("%s\n", s);
        free(s);
        json_decref(o);
    } else {
        fprintf(stderr, "dstack-gov: %s\n", e->msg[0] ? e->msg : dg_err_name(code));
    }
    return cli_exit_code(code);
}

int cli_failf(cli *c, dg_err_code code, const char *fmt, ...) {
    dg_err e = {code, ""};
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e.msg, sizeof e.msg, fmt, ap);
    va_end(ap);
    return cli_fail(c, &e);
}

void cli_warn(cli *c, const char *fmt, ...) {
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "warning: %s\n", msg);
    if (c && c->json && c->out) {
        json_t *w = json_object_get(c->out, "warnings");
        if (!w) {
            w = json_array();
            json_object_set_new(c->out, "warnings", w);
        }
        json_array_append_new(w, json_string(msg));
    }
}

void cli_warn_before_send(cli *c, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->pending_warning, sizeof c->pending_warning, fmt, ap);
    va_end(ap);
}

void cli_say(cli *c, const char *fmt, ...) {
    if (c && c->json) return;
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    fflush(stdout);
}

void cli_note(cli *c, const char *fmt, ...) {
    if (c && c->json) return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void cli_json_set(cli *c, const char *key, json_t *v) {
    if (!c->out) c->out = json_object();
    json_object_set_new(c->out, key, v);
}

void cli_json_hex(cli *c, const char *key, const uint8_t *p, size_t n) {
    cli_json_set(c, key, dg_eth_json_bytes(p, n));
}

void cli_json_addr(cli *c, const char *key, const uint8_t a[20]) {
    char s[43];
    dg_address_checksum(a, s);
    cli_json_set(c, key, json_string(s));
}

int cli_finish(cli *c, int code) {
    if (c->json && code == 0) {
        if (!c->out) c->out = json_object();
        json_object_set_new(c->out, "ok", json_true());
        json_object_set_new(c->out, "command", json_string(c->invoked));
        char *s = json_dumps(c->out, JSON_COMPACT | JSON_SORT_KEYS);
        if (s) printf("%s\n", s);
        free(s);
    } else if (c->json && code == 1 && c->out) { /* a denied check still reports */
        json_object_set_new(c->out, "ok", json_true());
        json_object_set_new(c->out, "command", json_string(c->invoked));
        char *s = json_dumps(c->out, JSON_COMPACT | JSON_SORT_KEYS);
        if (s) printf("%s\n", s);
        free(s);
    }
    if (c->out) json_decref(c->out);
    c->out = NULL;
    if (c->rpc) dg_rpc_free(c->rpc);
    c->rpc = NULL;
    dg_wipe(c->key, sizeof c->key);
    fflush(stdout);
    return code;
}

/* ------------------------------------------------------------------ inputs */

int cli_parse_b32(cli *c, const char *what, const char *s, uint8_t out[32], dg_err *err) {
    (void)c;
    if (!dg_hex_decode(s, strlen(s), out, 32, err)) return dg_err_wrap(err, "%s \"%s\"", what, s);
    return 1;
}

int cli_parse_addr(const char *what, const char *s, uint8_t out[20], dg_err *err) {
    if (!dg_address_parse(s, out, err)) return dg_err_wrap(err, "%s \"%s\"", what, s);
    return 1;
}

int cli_parse_app_init(cli *c, cli_app_init *a, dg_err *err) {
    const char *os = flag_str(&c->f, "owner");
    a->ds = flag_str(&c->f, "device");
    a->hs = flag_str(&c->f, "hash");
    a->any = flag_bool(&c->f, "allow-any-device");
    a->tcb = flag_bool(&c->f, "require-tcb-up-to-date");
    a->noup = flag_bool(&c->f, "disable-upgrades");
    memcpy(a->owner, c->from, 20);
    memset(a->dev, 0, 32);
    memset(a->hash, 0, 32);
    return (!os || cli_parse_addr("--owner", os, a->owner, err)) &&
           (!a->ds || cli_parse_b32(c, "--device", a->ds, a->dev, err)) &&
           (!a->hs || cli_parse_b32(c, "--hash", a->hs, a->hash, err));
}

int cli_read_file(const char *path, dg_buf *out, size_t max, dg_err *err) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return dg_err_set(err, DG_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    uint8_t tmp[8192];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, fp)) > 0) {
        if (out->len + n > max) {
            fclose(fp);
            return dg_err_set(err, DG_ERR_INPUT, "%s is larger than %zu bytes", path, max);
        }
        if (!dg_buf_append(out, tmp, n)) {
            fclose(fp);
            return dg_err_set(err, DG_ERR_NOMEM, "out of memory reading %s", path);
        }
    }
    int bad = ferror(fp);
    fclose(fp);
    if (bad) return dg_err_set(err, DG_ERR_IO, "cannot read %s", path);
    return 1;
}

void cli_fmt_addr(const uint8_t a[20], char out[43]) {
    dg_address_checksum(a, out);
}
void cli_fmt_b32(const uint8_t b[32], char out[67]) {
    dg_hex_encode_0x(b, 32, out);
}

void cli_fmt_eth(dg_u256 wei, char *out, size_t cap) {
    char s[DG_U256_UNITS_LEN];
    dg_u256_format_units(wei, 18, s);
    snprintf(out, cap, "%s ETH", s);
}

/* ------------------------------------------------------------------ networks */

typedef struct {
    const char *name;
    const char *url;   /* needs_alchemy: ALCHEMY_API_KEY is appended */
    uint64_t chain_id; /* 0 = not checked */
    int needs_alchemy;
} network_preset;

static const network_preset presets[] = {
    {"local", "http://127.0.0.1:8545", 31337, 0},
    {"sepolia", "https://eth-sepolia.g.alchemy.com/v2/", 11155111, 1},
    {"base", "https://mainnet.base.org", 8453, 0},
    {"mainnet", "https://eth-mainnet.g.alchemy.com/v2/", 1, 1},
    {"phala", "https://rpc.phala.network", 2035, 0},
    {"test", "http://127.0.0.1:8545/", 0, 0},
    {NULL, NULL, 0, 0},
};

static int parse_u64(const char *s, uint64_t *out) {
    dg_u256 v;
    return s && *s && dg_u256_parse(s, &v, NULL) && dg_u256_to_u64(v, out);
}

const char *cli_rpc_ca_file(const cli *c) {
    /* SSL_CERT_FILE is the conventional default; CURL_CA_BUNDLE (one TLS
     * client's name) is deliberately not read: docs/ethereum.md, HTTPS. */
    const char *f = flag_str(&c->f, "rpc-ca-file");
    if (!f) f = getenv("SSL_CERT_FILE");
    return f && *f ? f : NULL;
}

static int resolve_network(cli *c, dg_err *err) {
    const char *net = flag_str(&c->f, "network");
    const char *url = flag_str(&c->f, "rpc-url");
    const network_preset *p = NULL;
    if (net) {
        for (p = presets; p->name; p++)
            if (strcmp(p->name, net) == 0) break;
        if (!p->name)
            return dg_err_set(err, DG_ERR_INPUT,
                              "unknown network \"%s\" (known: local, sepolia, base, mainnet, "
                              "phala, test; or use --rpc-url)",
                              net);
        c->network = p->name;
        if (p->chain_id) {
            c->has_expect_chain = 1;
            c->expect_chain_id = p->chain_id;
        }
    }
    if (!url) url = getenv("ETH_RPC_URL");
    if ((!url || !*url) && p && strcmp(p->name, "test") == 0) url = getenv("RPC_URL");
    if (url && *url) {
        snprintf(c->rpc_url, sizeof c->rpc_url, "%s", url);
    } else if (p) {
        if (p->needs_alchemy) {
            const char *k = getenv("ALCHEMY_API_KEY");
            if (!k || !*k)
                return dg_err_set(err, DG_ERR_CONFIG,
                                  "network %s needs ALCHEMY_API_KEY (or pass --rpc-url / set "
                                  "ETH_RPC_URL)",
                                  p->name);
            snprintf(c->rpc_url, sizeof c->rpc_url, "%s%s", p->url, k);
        } else {
            snprintf(c->rpc_url, sizeof c->rpc_url, "%s", p->url);
        }
    } else {
        snprintf(c->rpc_url, sizeof c->rpc_url, "%s", "http://127.0.0.1:8545");
    }
    c->rpc_ca_file = cli_rpc_ca_file(c);
    const char *cid = flag_str(&c->f, "chain-id");
    if (cid) {
        if (!parse_u64(cid, &c->expect_chain_id))
            return dg_err_set(err, DG_ERR_INPUT, "--chain-id \"%s\" is not a number", cid);
        c->has_expect_chain = 1;
    }
    const char *to = flag_str(&c->f, "timeout");
    c->timeout_ms = 120000;
    if (to) {
        uint64_t s;
        if (!parse_u64(to, &s) || s == 0 || s > 86400)
            return dg_err_set(err, DG_ERR_INPUT,
                              "--timeout \"%s\" is not a number of seconds "
                              "(1..86400)",
                              to);
        c->timeout_ms = (long)s * 1000;
    }
    return 1;
}

static int load_key(cli *c, dg_err *err) {
    const char *file = flag_str(&c->f, "private-key-file");
    if (!file) file = getenv("PRIVATE_KEY_FILE");
    if (file && *file) {
        if (!dg_privkey_load_file(file, c->key, err))
            return dg_err_wrap(err, "private key file %s", file);
    } else {
        const char *env = getenv("PRIVATE_KEY");
        if (!env || !*env)
            return dg_err_set(err, DG_ERR_CONFIG,
                              "no signer: set PRIVATE_KEY or pass --private-key-file FILE "
                              "(mode 0600); `eval \"$(dstack-gov devnet env)\"` sets one for "
                              "a devnet");
        if (!dg_privkey_parse(env, c->key, err)) return dg_err_wrap(err, "PRIVATE_KEY");
    }
    if (!dg_eth_address_from_priv(c->key, c->from, err)) return 0;
    c->has_key = 1;
    return 1;
}

int cli_setup(cli *c, dg_err *err) {
    unsigned needs = c->cmd->needs;
    if (needs & NEED_CHAIN)
        if (!resolve_network(c, err)) return 0;
    if (needs & (NEED_KMS | OPT_KMS)) {
        const char *k = flag_str(&c->f, "kms");
        const char *src = "--kms";
        if (!k) k = flag_str(&c->f, "address"), src = "--address";
        if (!k || !*k) k = getenv("KMS_CONTRACT_ADDRESS"), src = "KMS_CONTRACT_ADDRESS";
        if (!k || !*k) k = getenv("KMS_CONTRACT_ADDR"), src = "KMS_CONTRACT_ADDR";
        if (k && *k) {
            if (!cli_parse_addr(src, k, c->kms, err)) return 0;
            c->has_kms = 1;
        } else if (needs & NEED_KMS) {
            return dg_err_set(err, DG_ERR_CONFIG,
                              "no KMS contract: pass --kms ADDR or set KMS_CONTRACT_ADDRESS");
        }
    }
    if (needs & NEED_APP) {
        const char *a = flag_str(&c->f, "app-id");
        const char *src = "--app-id";
        if (!a) a = flag_str(&c->f, "address"), src = "--address";
        if (!a || !*a) a = getenv("APP_CONTRACT_ADDR"), src = "APP_CONTRACT_ADDR";
        if (!a || !*a) return dg_err_set(err, DG_ERR_INPUT, "no app: pass --app-id ADDR");
        if (!cli_parse_addr(src, a, c->app, err)) return 0;
        c->has_app = 1;
    }
    if (needs & NEED_KEY) {
        const char *from = flag_str(&c->f, "sender");
        if (from) {
            /* simulate as another sender, e.g. the multisig that owns the contract */
            if (!c->dry_run)
                return dg_err_set(err, DG_ERR_INPUT,
                                  "--sender only works with --dry-run (there is "
                                  "no key to sign for it)");
            if (!cli_parse_addr("--sender", from, c->from, err)) return 0;
        } else if (!load_key(c, err)) {
            return 0;
        }
    }
    return 1;
}

int cli_connect(cli *c, dg_err *err) {
    if (c->rpc) return 1;
    const char *urls[1] = {c->rpc_url};
    dg_rpc_opts o;
    memset(&o, 0, sizeof o);
    o.ca_file = c->rpc_ca_file;
    c->rpc = dg_rpc_new(urls, 1, &o, err);
    if (!c->rpc) return 0;
    snprintf(c->rpc_label, sizeof c->rpc_label, "%s", dg_rpc_endpoint_label(c->rpc, 0));
    return 1;
}

static int check_chain(cli *c, uint64_t got, dg_err *err) {
    c->chain_id = got;
    if (c->has_expect_chain && got != c->expect_chain_id)
        return dg_err_set(
            err, DG_ERR_CHAIN_ID, "chain id mismatch: %s%s expects %llu but %s is chain %llu",
            c->network ? "network " : "--chain-id", c->network ? c->network : "",
            (unsigned long long)c->expect_chain_id, c->rpc_label, (unsigned long long)got);
    return 1;
}

/* ------------------------------------------------------------------ calls */

int cli_call(cli *c, const uint8_t to[20], const dg_buf *data, dg_buf *ret, dg_err *err) {
    if (!cli_connect(c, err)) return 0;
    return dg_eth_call(c->rpc, NULL, to, data->data, data->len, "latest", ret, err);
}

int cli_call_batch(cli *c, const uint8_t (*to)[20], const dg_buf *data, size_t n, const char *block,
                   dg_buf *results, int *ok, dg_err *err) {
    if (!cli_connect(c, err)) return 0;
    dg_rpc_req *r = calloc(n + 1, sizeof *r);
    if (!r) return dg_err_set(err, DG_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "to", dg_eth_json_bytes(to[i], 20));
        json_object_set_new(o, "data", dg_eth_json_bytes(data[i].data, data[i].len));
        r[i].method = "eth_call";
        r[i].params = json_pack("[o,s]", o, block ? block : "latest");
    }
    r[n].method = "eth_chainId";
    r[n].params = json_array();
    int good = dg_eth_batch(c->rpc, r, n + 1, err);
    if (good) {
        uint64_t cid;
        if (!r[n].ok || !dg_eth_quantity_u64(r[n].result, &cid, err)) {
            dg_err_set(err, DG_ERR_RPC_RESPONSE, "%s: eth_chainId failed", c->rpc_label);
            good = 0;
        } else if (!check_chain(c, cid, err)) {
            good = 0;
        }
    }
    for (size_t i = 0; good && i < n; i++) {
        const char *s =
            r[i].ok && json_is_string(r[i].result) ? json_string_value(r[i].result) : NULL;
        ok[i] = s && dg_hex_decode_var(s, strlen(s), &results[i], NULL) && results[i].len > 0;
    }
    dg_rpc_req_clear(r, n + 1);
    free(r);
    return good;
}

/* ------------------------------------------------------------------ transactions */

static void progress(void *ctx, long elapsed_ms, uint64_t block) {
    cli *c = ctx;
    if (!c->tty_err || c->json || elapsed_ms < 1000) return; /* no flicker on fast chains */
    if (block)
        fprintf(stderr, "\r  waiting for confirmation: %ld s, latest block %llu ",
                elapsed_ms / 1000, (unsigned long long)block);
    else
        fprintf(stderr, "\r  waiting for confirmation: %ld s ", elapsed_ms / 1000);
    fflush(stderr);
}

static int confirm(cli *c, const char *label, const char *cost, dg_err *err) {
    if (c->yes || c->confirmed) return 1;
    if (!c->tty_in)
        return dg_err_set(err, DG_ERR_CANCELLED,
                          "refusing to send %s without a terminal to confirm on: pass --yes "
                          "(or --dry-run to see it)",
                          label);
    if (c->ntx_planned > 1)
        fprintf(stderr, "This command sends %u transactions; the first costs at most %s.\n",
                c->ntx_planned, cost);
    fprintf(stderr, "Send %s (at most %s)? (y/N) ", label, cost);
    fflush(stderr);
    char line[32];
    if (!fgets(line, sizeof line, stdin) || (line[0] != 'y' && line[0] != 'Y'))
        return dg_err_set(err, DG_ERR_CANCELLED, "cancelled: %s not sent", label);
    c->confirmed = 1;
    return 1;
}

/* Why did a mined transaction fail? Replay it as a call on the parent block. */
static void replay_revert(cli *c, const uint8_t *to, const dg_buf *data, uint64_t block,
                          const char *label, dg_err *err) {
    char blk[24];
    dg_buf ret;
    dg_buf_init(&ret);
    snprintf(blk, sizeof blk, "0x%llx", (unsigned long long)(block ? block - 1 : 0));
    dg_err e2 = {DG_OK, ""};
    if (to && !dg_eth_call(c->rpc, c->from, to, data->data, data->len, blk, &ret, &e2) &&
        (e2.code == DG_ERR_REVERT || e2.code == DG_ERR_NOT_OWNER)) {
        dg_err_set(err, e2.code, "%s failed on chain (block %llu): %s", label,
                   (unsigned long long)block, e2.msg);
    } else {
        dg_err_set(err, DG_ERR_REVERT,
                   "%s reverted on chain in block %llu (out of gas or a "
                   "state change since the estimate)",
                   label, (unsigned long long)block);
    }
    dg_buf_free(&ret);
}

int cli_transact(cli *c, const uint8_t *to, const dg_buf *data, const char *label,
                 dg_eth_receipt *rcpt, dg_err *err) {
    memset(rcpt, 0, sizeof *rcpt);
    if (!cli_connect(c, err)) return 0;
    dg_eth_prep p;
    if (!dg_eth_prepare(c->rpc, c->from, to, data->data, data->len, NULL, &p, err)) return 0;
    if (!check_chain(c, p.chain_id, err)) return 0;
    char to_s[43] = "(new contract)", from_s[43];
    cli_fmt_addr(c->from, from_s);
    if (to) cli_fmt_addr(to, to_s);
    /* A public RPC behind a load balancer can answer "0x" for code that was just
     * deployed (dstack#505): ask again, with backoff, before calling it missing.
     * Local devnets never lag, so they fail at once. */
    for (long wait = 500;
         to && !p.to_has_code && p.chain_id != 31337 && p.chain_id != 1337 && wait <= 2000;
         wait *= 2) {
        struct timespec ts = {wait / 1000, (wait % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        json_t *res = NULL;
        if (dg_rpc_call(c->rpc, "eth_getCode",
                        json_pack("[o,s]", dg_eth_json_bytes(to, 20), "latest"), &res, NULL)) {
            const char *code = json_is_string(res) ? json_string_value(res) : "0x";
            p.to_has_code = strcmp(code, "0x") != 0 && code[0] != '\0';
            json_decref(res);
        }
        if (p.to_has_code &&
            !dg_eth_prepare(c->rpc, c->from, to, data->data, data->len, NULL, &p, err))
            return 0;
    }
    if (to && !p.to_has_code)
        return dg_err_set(err, DG_ERR_NO_CODE,
                          "no contract code at %s on chain %llu (%s): "
                          "wrong address or wrong network?",
                          to_s, (unsigned long long)p.chain_id, label);
    if (p.estimate_failed) {
        *err = p.estimate_err;
        return dg_err_wrap(err, "%s", label);
    }
    uint64_t gas = dg_eth_gas_with_margin(p.gas_estimate, 20, 30000000);
    const char *gl = flag_str(&c->f, "gas-limit");
    if (gl) {
        dg_u256 g;
        if (!dg_u256_parse(gl, &g, err) || !dg_u256_to_u64(g, &gas))
            return dg_err_set(err, DG_ERR_INPUT, "--gas-limit \"%s\" is not a number", gl);
    }
    dg_u256 cost;
    char cost_s[100], bal_s[100];
    if (!dg_u256_mul_u64(&cost, p.fees.gas_price, gas)) memset(&cost, 0xff, sizeof cost);
    cli_fmt_eth(cost, cost_s, sizeof cost_s);
    cli_fmt_eth(p.balance, bal_s, sizeof bal_s);
    if (dg_u256_cmp(p.balance, cost) < 0)
        return dg_err_set(err, DG_ERR_FUNDS,
                          "insufficient funds: %s has %s, %s needs up to %s "
                          "(gas %llu)",
                          from_s, bal_s, label, cost_s, (unsigned long long)gas);
    if (c->pending_warning[0]) {
        cli_warn(c, "%s", c->pending_warning);
        c->pending_warning[0] = 0;
    }
    dg_eth_tx tx;
    memset(&tx, 0, sizeof tx);
    tx.type = p.fees.type;
    tx.chain_id = p.chain_id;
    tx.nonce = p.nonce;
    tx.gas_limit = gas;
    tx.gas_price = p.fees.gas_price;
    tx.max_fee = p.fees.max_fee;
    tx.max_priority_fee = p.fees.max_priority_fee;
    tx.has_to = to != NULL;
    if (to) memcpy(tx.to, to, 20);
    tx.data = data->data;
    tx.data_len = data->len;
    char fee_s[100];
    {
        char s[DG_U256_UNITS_LEN];
        dg_u256_format_units(p.fees.gas_price, 9, s);
        snprintf(fee_s, sizeof fee_s, "%s gwei", s);
    }
    if (c->dry_run) {
        if (c->json) {
            json_t *t = json_object();
            json_object_set_new(t, "from", json_string(from_s));
            if (to) json_object_set_new(t, "to", json_string(to_s));
            json_object_set_new(t, "data", dg_eth_json_bytes(data->data, data->len));
            json_object_set_new(t, "value", json_string("0"));
            json_object_set_new(t, "chainId", json_integer((json_int_t)p.chain_id));
            json_object_set_new(t, "nonce", json_integer((json_int_t)p.nonce));
            json_object_set_new(t, "gas", json_integer((json_int_t)gas));
            json_object_set_new(t, "type", json_integer(tx.type));
            json_object_set_new(t, tx.type == DG_TX_EIP1559 ? "maxFeePerGas" : "gasPrice",
                                dg_eth_json_quantity_u256(&p.fees.gas_price));
            json_object_set_new(t, "maxCostEth", json_string(cost_s));
            if (!c->out) c->out = json_object();
            json_t *arr = json_object_get(c->out, "transactions");
            if (!arr) {
                arr = json_array();
                json_object_set_new(c->out, "transactions", arr);
            }
            json_array_append_new(arr, t);
            json_object_set_new(c->out, "dryRun", json_true());
        } else {
            printf("Dry run: %s (not sent)\n", label);
            printf("  from:     %s\n  to:       %s\n  chain id: %llu\n  nonce:    %llu\n", from_s,
                   to_s, (unsigned long long)p.chain_id, (unsigned long long)p.nonce);
            printf("  gas:      %llu (estimate %llu)\n  fee:      %s (%s)\n  max cost: %s\n",
                   (unsigned long long)gas, (unsigned long long)p.gas_estimate, fee_s,
                   tx.type == DG_TX_EIP1559 ? "EIP-1559 max fee" : "legacy gas price", cost_s);
            char *hx = malloc(2 * data->len + 3);
            if (hx) {
                dg_hex_encode_0x(data->data, data->len, hx);
                printf("  data:     %s\n", hx);
                free(hx);
            }
        }
        return CLI_DRY_RUN;
    }
    if (!c->json && !c->yes)
        fprintf(stderr, "%s: from %s to %s, gas %llu at %s, at most %s (balance %s)\n", label,
                from_s, to_s, (unsigned long long)gas, fee_s, cost_s, bal_s);
    if (!confirm(c, label, cost_s, err)) return 0;
    dg_buf raw;
    uint8_t h[32];
    dg_buf_init(&raw);
    if (!dg_eth_tx_sign(&tx, c->key, &raw, h, err)) {
        dg_buf_free(&raw);
        return 0;
    }
    int ok = dg_eth_send_raw(c->rpc, raw.data, raw.len, h, err);
    dg_buf_free(&raw);
    if (!ok) return dg_err_wrap(err, "%s", label);
    char hs[67];
    cli_fmt_b32(h, hs);
    cli_say(c, "Waiting for transaction %s to be confirmed...", hs);
    ok = dg_eth_wait_receipt(c->rpc, h, c->timeout_ms, progress, c, rcpt, err);
    if (c->tty_err && !c->json) fprintf(stderr, "\r\033[K");
    if (!ok) return dg_err_wrap(err, "%s", label);
    if (!rcpt->status) {
        replay_revert(c, to, data, rcpt->block_number, label, err);
        dg_eth_receipt_free(rcpt);
        return 0;
    }
    if (c->json) {
        if (!c->out) c->out = json_object();
        json_t *arr = json_object_get(c->out, "transactions");
        if (!arr) {
            arr = json_array();
            json_object_set_new(c->out, "transactions", arr);
        }
        json_t *t = json_pack("{s:o,s:I,s:I,s:s}", "hash", dg_eth_json_bytes(h, 32), "blockNumber",
                              (json_int_t)rcpt->block_number, "gasUsed", (json_int_t)rcpt->gas_used,
                              "label", label);
        json_array_append_new(arr, t);
        json_object_set_new(c->out, "txHash", dg_eth_json_bytes(h, 32));
        json_object_set_new(c->out, "blockNumber", json_integer((json_int_t)rcpt->block_number));
        json_object_set_new(c->out, "chainId", json_integer((json_int_t)c->chain_id));
    }
    return 1;
}
