/* common.c — the shared steps of every dstack-gov command.
 *
 * One idea: every transaction goes through cli_transact(), which is the
 * library's send flow (eth.h: plan, submit, wait) with the program's part
 * around it — flags turned into send options, the plan printed (--dry-run) or
 * shown with its worst-case cost in a confirmation prompt (refused without a
 * terminal unless --yes), progress on a terminal, the result printed. The
 * checks themselves (chain id, code at the target, a failing estimate's
 * revert, the gas limit, funds, a dropped or reverted transaction) are the
 * library's, so a KMS linking it behaves the same. With --safe or --timelock
 * the call goes to owner.c instead, which proposes or schedules it. Secrets (the private key,
 * an RPC URL's API key) never reach an output stream.
 */
#include "cli.h"
#include "dstackgov/gov.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

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
    const char *os = flag_str(&c->f, "owner"), *src = "--owner", *env = getenv("APP_OWNER");
    if (!os && env && *env) os = env, src = "APP_OWNER"; /* a devnet --safe: new apps to the Safe */
    a->ds = flag_str(&c->f, "device");
    a->hs = flag_str(&c->f, "hash");
    a->any = flag_bool(&c->f, "allow-any-device");
    a->tcb = flag_bool(&c->f, "require-tcb-up-to-date");
    a->noup = flag_bool(&c->f, "disable-upgrades");
    memcpy(a->owner, c->from, 20);
    memset(a->dev, 0, 32);
    memset(a->hash, 0, 32);
    return (!os || cli_parse_addr(src, os, a->owner, err)) &&
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
        /* the message already names the file and the reason (class key-file) */
        if (!dg_privkey_load_file(file, c->key, err)) return 0;
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
        } else if (flag_str(&c->f, "safe") && flag_str(&c->f, "export")) {
            /* a Transaction Builder file is signed in the web app: no key here */
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

int cli_check_chain(cli *c, uint64_t got, dg_err *err) {
    c->chain_id = got;
    if (!c->has_expect_chain) return 1;
    snprintf(c->expect_source, sizeof c->expect_source, "%s%s",
             c->network ? "network " : "--chain-id", c->network ? c->network : "");
    return dg_eth_check_chain(c->expect_chain_id, c->expect_source, got, c->rpc_label, err);
}

/* ------------------------------------------------------------------ calls */

int cli_call(cli *c, const uint8_t to[20], const dg_buf *data, dg_buf *ret, dg_err *err) {
    if (!cli_connect(c, err)) return 0;
    return dg_eth_call(c->rpc, NULL, to, data->data, data->len, "latest", ret, err);
}

int cli_call_batch(cli *c, const uint8_t (*to)[20], const dg_buf *data, size_t n, const char *block,
                   dg_buf *results, int *ok, dg_err *err) {
    uint64_t cid;
    return cli_connect(c, err) &&
           dg_eth_call_batch(c->rpc, to, data, n, block, results, ok, &cid, err) &&
           cli_check_chain(c, cid, err);
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

int cli_ask(cli *c, const char *question, const char *what, dg_err *err) {
    if (c->yes || c->confirmed) return 1;
    if (!c->tty_in)
        return dg_err_set(err, DG_ERR_CANCELLED,
                          "refusing to send %s without a terminal to confirm on: pass --yes "
                          "(or --dry-run to see it)",
                          what);
    fprintf(stderr, "%s (y/N) ", question);
    fflush(stderr);
    char line[32];
    if (!fgets(line, sizeof line, stdin) || (line[0] != 'y' && line[0] != 'Y'))
        return dg_err_set(err, DG_ERR_CANCELLED, "cancelled: %s not sent", what);
    c->confirmed = 1;
    return 1;
}

int cli_confirm(cli *c, const char *label, const char *cost, dg_err *err) {
    if (c->yes || c->confirmed) return 1;
    if (c->tty_in && c->ntx_planned > 1)
        fprintf(stderr, "This command sends %u transactions; the first costs at most %s.\n",
                c->ntx_planned, cost);
    char q[400];
    snprintf(q, sizeof q, "Send %s (at most %s)?", label, cost);
    return cli_ask(c, q, label, err);
}

/* The library's send options from the flags (--gas-limit, --force-gas-limit,
 * --timeout, the network's chain id); progress on a terminal. */
static int send_opts(cli *c, dg_eth_send_opts *o, dg_err *err) {
    memset(o, 0, sizeof *o);
    if (c->has_expect_chain) {
        o->expect_chain_id = c->expect_chain_id;
        snprintf(c->expect_source, sizeof c->expect_source, "%s%s",
                 c->network ? "network " : "--chain-id", c->network ? c->network : "");
        o->expect_source = c->expect_source;
    }
    const char *gl = flag_str(&c->f, "gas-limit");
    if (gl) {
        dg_u256 g;
        if (!dg_u256_parse(gl, &g, NULL) || !dg_u256_to_u64(g, &o->gas_limit) || !o->gas_limit)
            return dg_err_set(err, DG_ERR_INPUT, "--gas-limit \"%s\" is not a positive number", gl);
    }
    o->force_gas_limit = flag_bool(&c->f, "force-gas-limit");
    if (o->force_gas_limit && !gl)
        return dg_err_set(err, DG_ERR_INPUT, "--force-gas-limit needs --gas-limit N");
    o->timeout_ms = c->timeout_ms;
    o->progress = progress;
    o->progress_ctx = c;
    return 1;
}

static void json_transactions_append(cli *c, json_t *t) {
    if (!c->out) c->out = json_object();
    json_t *arr = json_object_get(c->out, "transactions");
    if (!arr) {
        arr = json_array();
        json_object_set_new(c->out, "transactions", arr);
    }
    json_array_append_new(arr, t);
}

/* --dry-run: the plan, nothing signed. */
static void print_plan(cli *c, const dg_eth_plan *p, const char *from_s, const char *to_s,
                       const char *fee_s, const char *cost_s) {
    const dg_eth_tx *tx = &p->tx;
    if (c->json) {
        json_t *t = json_object();
        json_object_set_new(t, "from", json_string(from_s));
        if (tx->has_to) json_object_set_new(t, "to", json_string(to_s));
        json_object_set_new(t, "data", dg_eth_json_bytes(tx->data, tx->data_len));
        json_object_set_new(t, "value", json_string("0"));
        json_object_set_new(t, "chainId", json_integer((json_int_t)tx->chain_id));
        json_object_set_new(t, "nonce", json_integer((json_int_t)tx->nonce));
        json_object_set_new(t, "gas", json_integer((json_int_t)tx->gas_limit));
        json_object_set_new(t, "gasEstimate", json_integer((json_int_t)p->prep.gas_estimate));
        json_object_set_new(t, "type", json_integer(tx->type));
        json_object_set_new(t, tx->type == DG_TX_EIP1559 ? "maxFeePerGas" : "gasPrice",
                            dg_eth_json_quantity_u256(&p->prep.fees.gas_price));
        json_object_set_new(t, "maxCostEth", json_string(cost_s));
        json_transactions_append(c, t);
        json_object_set_new(c->out, "dryRun", json_true());
        return;
    }
    printf("Dry run: %s (not sent)\n", p->label);
    printf("  from:     %s\n  to:       %s\n  chain id: %llu\n  nonce:    %llu\n", from_s, to_s,
           (unsigned long long)tx->chain_id, (unsigned long long)tx->nonce);
    printf("  gas:      %llu (estimate %llu)\n  fee:      %s (%s)\n  max cost: %s\n",
           (unsigned long long)tx->gas_limit, (unsigned long long)p->prep.gas_estimate, fee_s,
           tx->type == DG_TX_EIP1559 ? "EIP-1559 max fee" : "legacy gas price", cost_s);
    char *hx = malloc(2 * tx->data_len + 3);
    if (hx) {
        dg_hex_encode_0x(tx->data, tx->data_len, hx);
        printf("  data:     %s\n", hx);
        free(hx);
    }
}

int cli_plan(cli *c, const uint8_t *to, const dg_buf *data, const char *label, dg_eth_plan *p,
             dg_err *err) {
    dg_eth_send_opts o;
    if (!send_opts(c, &o, err) || !cli_connect(c, err) ||
        !dg_eth_plan_prepare(c->rpc, &o, c->from, to, data->data, data->len, NULL, label, p, err))
        return 0;
    c->chain_id = p->tx.chain_id;
    return 1;
}

int cli_transact(cli *c, const uint8_t *to, const dg_buf *data, const char *label,
                 dg_eth_receipt *rcpt, dg_err *err) {
    memset(rcpt, 0, sizeof *rcpt);
    if (cli_owner_mode(c)) return cli_owner_transact(c, to, data, label, rcpt, err);
    return cli_send_direct(c, to, data, label, rcpt, err);
}

int cli_send_direct(cli *c, const uint8_t *to, const dg_buf *data, const char *label,
                    dg_eth_receipt *rcpt, dg_err *err) {
    memset(rcpt, 0, sizeof *rcpt);
    dg_eth_send_opts o;
    dg_eth_plan p;
    if (!send_opts(c, &o, err) || !cli_plan(c, to, data, label, &p, err)) return 0;
    char to_s[43] = "(new contract)", from_s[43], cost_s[100], bal_s[100], fee_s[100];
    cli_fmt_addr(c->from, from_s);
    if (to) cli_fmt_addr(to, to_s);
    cli_fmt_eth(p.max_cost, cost_s, sizeof cost_s);
    cli_fmt_eth(p.prep.balance, bal_s, sizeof bal_s);
    {
        char s[DG_U256_UNITS_LEN];
        dg_u256_format_units(p.prep.fees.gas_price, 9, s);
        snprintf(fee_s, sizeof fee_s, "%s gwei", s);
    }
    if (c->pending_warning[0]) {
        cli_warn(c, "%s", c->pending_warning);
        c->pending_warning[0] = 0;
    }
    if (p.gas_limit_forced)
        cli_warn(c,
                 "%s: gas limit %llu forced below what it needs (estimate %llu, intrinsic gas "
                 "%llu): it will run out of gas or be dropped",
                 label, (unsigned long long)p.tx.gas_limit, (unsigned long long)p.prep.gas_estimate,
                 (unsigned long long)p.intrinsic_gas);
    if (c->dry_run) {
        print_plan(c, &p, from_s, to_s, fee_s, cost_s);
        return CLI_DRY_RUN;
    }
    if (!c->json && !c->yes)
        fprintf(stderr, "%s: from %s to %s, gas %llu at %s, at most %s (balance %s)\n", label,
                from_s, to_s, (unsigned long long)p.tx.gas_limit, fee_s, cost_s, bal_s);
    if (!cli_confirm(c, label, cost_s, err)) return 0;
    uint8_t h[32];
    if (!dg_eth_plan_submit(c->rpc, &p, c->key, h, err)) return 0;
    char hs[67];
    cli_fmt_b32(h, hs);
    cli_say(c, "Waiting for transaction %s to be confirmed...", hs);
    int ok = dg_eth_plan_wait(c->rpc, &p, &o, h, rcpt, err);
    if (c->tty_err && !c->json) fprintf(stderr, "\r\033[K");
    if (!ok) return 0;
    if (c->json) {
        json_transactions_append(c,
                                 json_pack("{s:o,s:I,s:I,s:s}", "hash", dg_eth_json_bytes(h, 32),
                                           "blockNumber", (json_int_t)rcpt->block_number, "gasUsed",
                                           (json_int_t)rcpt->gas_used, "label", label));
        json_object_set_new(c->out, "txHash", dg_eth_json_bytes(h, 32));
        json_object_set_new(c->out, "blockNumber", json_integer((json_int_t)rcpt->block_number));
        json_object_set_new(c->out, "chainId", json_integer((json_int_t)c->chain_id));
    }
    return 1;
}
