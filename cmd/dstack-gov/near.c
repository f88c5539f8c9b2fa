/* near.c — `dstack-gov near ...`: the NEAR half of the dstack governance
 * guide (KMS deploy, OS images, KMS devices / aggregated MRs / compose
 * hashes, the gateway app id, app registration and its whitelists, and
 * `near check`), with the guide's `bun cli.ts` names as aliases.
 *
 * The one idea: the same safety as the Ethereum commands, from the same
 * library shape. lib/near plans a transaction (nonce, recent block, gas price,
 * balance, receiver code, maximum cost) without the key; this file prints the
 * plan, asks (or honours --yes / --dry-run), signs through the library and
 * prints one result — the guide's success lines, or one JSON object. Values
 * are normalized before anything is sent (0x stripped, lowercase, exact
 * lengths; an app as `<40 hex>.<kms>` or its hex id), so the contracts store
 * what the KMS compares. Secrets come from a file (mode checked), the
 * environment or near-cli's credential file, and are never printed.
 */
#include <ctype.h>
#include <limits.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"
#include "dstackgov/bootinfo.h"
#include "dstackgov/gov.h"
#include "dstackgov/hash.h"
#include "dstackgov/hex.h"
#include "dstackgov/near.h"
#include "dstackgov/secret.h"

#define OWNER_GAS (100 * DG_NEAR_TGAS) /* the guide's gas for owner calls */
/* request_kms_root_key: the quote verification (~147 TGas) and the MPC call (100 TGas) */
#define ROOT_KEY_GAS (300 * DG_NEAR_TGAS)
/* request-root-key's default wait: past NEAR's yield timeout (200 blocks ~ 4 min) */
#define ROOT_KEY_WAIT_MS 300000L
#define REGISTER_GAS (300 * DG_NEAR_TGAS)
#define INIT_GAS (100 * DG_NEAR_TGAS)

/* ------------------------------------------------------------------ flags */

const flag_spec near_chain_flags[] = {
    {"network", FLAG_STR, "NAME", "mainnet | testnet | local (default: $NEAR_NETWORK_ID, testnet)"},
    {"rpc-url", FLAG_STR, "URL",
     "NEAR JSON-RPC endpoint (default: $NEAR_RPC_URL, else the network's)"},
    {"rpc-ca-file", FLAG_STR, "FILE",
     "PEM CA file trusted for an https:// endpoint (default: $SSL_CERT_FILE, else the system's)"},
    {"kms", FLAG_STR, "ACCOUNT", "the KMS contract account (default: $KMS_CONTRACT_ID)"},
    {"timeout", FLAG_STR, "SECONDS",
     "how long to wait for a final outcome (default 120; request-root-key: 300)"},
    {"json", FLAG_BOOL, NULL, "print one JSON object on stdout (errors too)"},
    {"help", FLAG_BOOL, NULL, "show this help"},
    {NULL, 0, NULL, NULL},
};

const flag_spec near_tx_flags[] = {
    {"account-id", FLAG_STR, "ACCOUNT", "the signer (default: $NEAR_ACCOUNT_ID)"},
    {"private-key-file", FLAG_STR, "FILE",
     "signer key file, mode 0600: \"ed25519:...\" or a near-cli credential JSON (default: "
     "$NEAR_PRIVATE_KEY, else ~/.near-credentials/<network>/<account>.json)"},
    {"yes", FLAG_BOOL, NULL, "do not ask for confirmation (-y)"},
    {"dry-run", FLAG_BOOL, NULL, "check and print the transaction, send nothing"},
    {NULL, 0, NULL, NULL},
};

/* ------------------------------------------------------------------ context */

typedef struct {
    const char *name, *rpc, *mpc;
} near_net;

/* The guide's defaults (reference/near.md §4); `local` is nearcore's RPC port. */
static const near_net nets[] = {
    {"mainnet", "https://rpc.near.org", "v1.signer"},
    {"testnet", "https://rpc.testnet.near.org", "v1.signer-prod.testnet"},
    {"local", "http://127.0.0.1:3030", "v1.signer"},
};

typedef struct {
    const near_net *net;
    char rpc_url[1024]; /* never printed: may hold an API key */
    char account[DG_NEAR_ACCOUNT_MAX + 1];
    char kms[DG_NEAR_ACCOUNT_MAX + 1];
    int has_key;
    dg_near_key key;
    long timeout_ms;
} nctx;

static const char *env(const char *name) {
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

static int load_key(cli *c, nctx *n, dg_err *err) {
    const char *file = flag_str(&c->f, "private-key-file");
    if (!file) file = env("NEAR_PRIVATE_KEY_FILE");
    char acc[DG_NEAR_ACCOUNT_MAX + 1] = "";
    if (file) {
        if (!dg_near_key_load_file(file, &n->key, acc, err)) return 0;
    } else if (env("NEAR_PRIVATE_KEY")) {
        if (!dg_near_key_parse(env("NEAR_PRIVATE_KEY"), &n->key, err))
            return dg_err_wrap(err, "NEAR_PRIVATE_KEY");
    } else {
        char path[PATH_MAX];
        struct stat st;
        if (!n->account[0] || !env("HOME") ||
            !dg_near_credentials_path(env("HOME"), n->net->name, n->account, path, sizeof path,
                                      NULL) ||
            stat(path, &st) != 0)
            return dg_err_set(err, DG_ERR_CONFIG,
                              "no NEAR signer: set NEAR_PRIVATE_KEY, pass --private-key-file FILE "
                              "(mode 0600), or keep near-cli's "
                              "~/.near-credentials/%s/<account>.json; `eval \"$(dstack-gov devnet "
                              "env --near)\"` sets one for a local devnet",
                              n->net->name);
        if (!dg_near_key_load_file(path, &n->key, acc, err)) return 0;
    }
    if (!n->account[0] && acc[0]) snprintf(n->account, sizeof n->account, "%s", acc);
    if (acc[0] && strcmp(acc, n->account) != 0)
        cli_warn(c, "the key file names account %s, signing as %s", acc, n->account);
    if (!n->account[0])
        return dg_err_set(err, DG_ERR_CONFIG,
                          "no NEAR account: set NEAR_ACCOUNT_ID or pass --account-id");
    n->has_key = 1;
    return 1;
}

/* Network, endpoint, KMS, signer from flags and the guide's environment. */
static int near_setup(cli *c, nctx *n, int need_kms, dg_err *err) {
    memset(n, 0, sizeof *n);
    const char *net = flag_str(&c->f, "network");
    if (!net) net = env("NEAR_NETWORK_ID");
    if (!net) net = env("NEAR_ENV");
    if (!net) net = "testnet";
    int found = 0;
    n->net = &nets[1];
    for (size_t i = 0; i < sizeof nets / sizeof nets[0]; i++)
        if (strcmp(nets[i].name, net) == 0) n->net = &nets[i], found = 1;
    if (!found)
        return dg_err_set(err, DG_ERR_INPUT,
                          "unknown NEAR network \"%.40s\" (mainnet, testnet or local)", net);
    const char *url = flag_str(&c->f, "rpc-url");
    if (!url) url = env("NEAR_RPC_URL");
    snprintf(n->rpc_url, sizeof n->rpc_url, "%s", url ? url : n->net->rpc);
    const char *to = flag_str(&c->f, "timeout");
    n->timeout_ms = 120000;
    if (to) {
        char *end;
        long s = strtol(to, &end, 10);
        if (*end || s < 1 || s > 86400)
            return dg_err_set(err, DG_ERR_INPUT,
                              "--timeout \"%s\" is not a number of seconds (1..86400)", to);
        n->timeout_ms = s * 1000;
    }
    const char *kms = flag_str(&c->f, "kms");
    const char *ksrc = "--kms";
    if (!kms) kms = env("KMS_CONTRACT_ID"), ksrc = "KMS_CONTRACT_ID";
    if (kms) {
        if (!dg_near_account_id_check(kms, err)) return dg_err_wrap(err, "%s", ksrc);
        snprintf(n->kms, sizeof n->kms, "%s", kms);
    } else if (need_kms) {
        return dg_err_set(err, DG_ERR_CONFIG,
                          "no KMS contract: pass --kms ACCOUNT or set KMS_CONTRACT_ID");
    }
    if (c->cmd->needs & NEED_NEAR_KEY) {
        const char *acc = flag_str(&c->f, "account-id");
        const char *asrc = "--account-id";
        if (!acc) acc = env("NEAR_ACCOUNT_ID"), asrc = "NEAR_ACCOUNT_ID";
        if (acc) {
            if (!dg_near_account_id_check(acc, err)) return dg_err_wrap(err, "%s", asrc);
            snprintf(n->account, sizeof n->account, "%s", acc);
        }
        if (!load_key(c, n, err)) return 0;
    }
    c->timeout_ms = n->timeout_ms;
    return 1;
}

static int near_connect(cli *c, nctx *n, dg_err *err) {
    if (c->rpc) return 1;
    const char *urls[1] = {n->rpc_url};
    dg_rpc_opts o;
    memset(&o, 0, sizeof o);
    o.ca_file = cli_rpc_ca_file(c);
    c->rpc = dg_rpc_new(urls, 1, &o, err);
    if (!c->rpc) return 0;
    snprintf(c->rpc_label, sizeof c->rpc_label, "%s", dg_rpc_endpoint_label(c->rpc, 0));
    /* a public network must be the one named: a testnet key never signs for mainnet */
    if (strcmp(n->net->name, "local") != 0) {
        dg_near_status st;
        if (!dg_near_node_status(c->rpc, &st, err)) return 0;
        if (strcmp(st.chain_id, n->net->name) != 0)
            return dg_err_set(err, DG_ERR_CHAIN_ID,
                              "chain id mismatch: network %s expected but %s is chain \"%s\"",
                              n->net->name, c->rpc_label, st.chain_id);
    }
    return 1;
}

/* For `explore --near`: the NEAR flags and environment, connected; the KMS
 * account into kms. */
int near_explore_setup(cli *c, char *kms, dg_err *err) {
    nctx n;
    if (!near_setup(c, &n, 1, err) || !near_connect(c, &n, err)) return 0;
    snprintf(kms, DG_NEAR_ACCOUNT_MAX + 1, "%s", n.kms);
    return 1;
}

static int near_end(nctx *n, int code) {
    dg_near_key_wipe(&n->key);
    return code;
}

/* ------------------------------------------------------------------ values */

/* A hex value of exactly nbytes: 0x optional, any case -> lowercase, no 0x. */
static int norm_hex(const char *what, const char *s, size_t nbytes, char *out, dg_err *err) {
    uint8_t b[48];
    if (!s || nbytes > sizeof b) return dg_err_set(err, DG_ERR_INPUT, "missing %s", what);
    if (!dg_hex_decode(s, strlen(s), b, nbytes, err))
        return dg_err_wrap(err, "%s \"%.80s\"", what, s);
    dg_hex_encode(b, nbytes, out);
    return 1;
}

/* An app: its 40-hex id (0x optional) or its account `<hex>.<kms>`. */
static int app_account(const nctx *n, const char *s, char out[DG_NEAR_ACCOUNT_MAX + 1],
                       char hex[41], dg_err *err) {
    size_t len = strlen(s), body = len;
    const char *p = s;
    if (len > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) p += 2, body -= 2;
    int is_hex = body == 40;
    for (size_t i = 0; is_hex && i < 40; i++)
        is_hex = (p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f') ||
                 (p[i] >= 'A' && p[i] <= 'F');
    if (is_hex) {
        if (!n->kms[0])
            return dg_err_set(err, DG_ERR_CONFIG,
                              "app id %s needs the KMS account: pass --kms or set KMS_CONTRACT_ID",
                              s);
        norm_hex("app id", s, 20, hex, err);
        if (41 + strlen(n->kms) > DG_NEAR_ACCOUNT_MAX)
            return dg_err_set(err, DG_ERR_INPUT,
                              "KMS account %s is too long for app sub-accounts (at most 23 "
                              "characters)",
                              n->kms);
        int m = snprintf(out, DG_NEAR_ACCOUNT_MAX + 1, "%.40s.%.23s", hex, n->kms);
        if (m < 0 || m > DG_NEAR_ACCOUNT_MAX)
            return dg_err_set(err, DG_ERR_INPUT, "app account for %s is too long", hex);
        return 1;
    }
    if (!dg_near_account_id_check(s, err)) return dg_err_wrap(err, "app");
    snprintf(out, DG_NEAR_ACCOUNT_MAX + 1, "%s", s);
    hex[0] = 0;
    const char *dot = strchr(s, '.');
    if (dot && dot - s == 40) snprintf(hex, 41, "%.40s", s);
    return 1;
}

static void fmt_near(dg_u256 v, char out[DG_NEAR_AMOUNT_LEN]) {
    dg_near_format_amount(v, out);
}

/* ------------------------------------------------------------------ sending */

static void json_tx(cli *c, const char *label, const dg_near_outcome *o) {
    char h[DG_BASE58_LEN(32)];
    dg_base58_encode(o->tx_hash, 32, h, sizeof h);
    if (!c->out) c->out = json_object();
    json_t *arr = json_object_get(c->out, "transactions");
    if (!arr) {
        arr = json_array();
        json_object_set_new(c->out, "transactions", arr);
    }
    char tb[DG_U256_DEC_LEN];
    dg_u256_to_dec(o->tokens_burnt, tb);
    json_array_append_new(arr, json_pack("{s:s,s:s,s:I,s:s,s:O}", "hash", h, "label", label,
                                         "gasBurnt", (json_int_t)o->gas_burnt, "tokensBurnt", tb,
                                         "events", o->events ? o->events : json_array()));
    json_object_set_new(c->out, "txHash", json_string(h));
}

static void print_dry_run(cli *c, const dg_near_plan *p) {
    char cost[DG_NEAR_AMOUNT_LEN], dep[DG_NEAR_AMOUNT_LEN], bal[DG_NEAR_AMOUNT_LEN];
    fmt_near(p->max_cost, cost);
    fmt_near(p->deposit, dep);
    fmt_near(p->balance, bal);
    static const char *const kinds[] = {"CreateAccount", "DeployContract", "FunctionCall",
                                        "Transfer",      "Stake",          "AddKey",
                                        "DeleteKey"};
    if (c->json) {
        json_t *acts = json_array();
        for (size_t i = 0; i < p->tx.nactions; i++) {
            const dg_near_action *a = &p->tx.actions[i];
            json_t *o = json_pack("{s:s}", "type", kinds[a->kind]);
            if (a->kind == DG_NEAR_FUNCTION_CALL) {
                json_object_set_new(o, "method", json_string(a->method));
                json_object_set_new(o, "args", json_stringn((const char *)a->args, a->args_len));
                json_object_set_new(o, "gas", json_integer((json_int_t)a->gas));
            }
            if (a->kind == DG_NEAR_FUNCTION_CALL || a->kind == DG_NEAR_TRANSFER) {
                char d[DG_U256_DEC_LEN];
                dg_u256_to_dec(a->deposit, d);
                json_object_set_new(o, "deposit", json_string(d));
            }
            if (a->kind == DG_NEAR_DEPLOY_CONTRACT)
                json_object_set_new(o, "codeBytes", json_integer((json_int_t)a->code_len));
            json_array_append_new(acts, o);
        }
        if (!c->out) c->out = json_object();
        json_t *arr = json_object_get(c->out, "transactions");
        if (!arr) {
            arr = json_array();
            json_object_set_new(c->out, "transactions", arr);
        }
        json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:I,s:o,s:s,s:s}", "label", p->label,
                                             "signerId", p->signer_id, "receiverId", p->receiver_id,
                                             "nonce", (json_int_t)p->tx.nonce, "actions", acts,
                                             "maxCost", cost, "balance", bal));
        json_object_set_new(c->out, "dryRun", json_true());
        return;
    }
    printf("Dry run: %s (not sent)\n  signer:   %s\n  receiver: %s\n  nonce:    %llu\n", p->label,
           p->signer_id, p->receiver_id, (unsigned long long)p->tx.nonce);
    for (size_t i = 0; i < p->tx.nactions; i++) {
        const dg_near_action *a = &p->tx.actions[i];
        printf("  action %zu: %s", i, kinds[a->kind]);
        if (a->kind == DG_NEAR_FUNCTION_CALL)
            printf(" %s %.*s (gas %llu TGas)", a->method,
                   (int)(a->args_len > 400 ? 400 : a->args_len), (const char *)a->args,
                   (unsigned long long)(a->gas / DG_NEAR_TGAS));
        if (a->kind == DG_NEAR_DEPLOY_CONTRACT) printf(" (%zu bytes)", a->code_len);
        if (a->kind == DG_NEAR_FUNCTION_CALL || a->kind == DG_NEAR_TRANSFER) {
            char d[DG_NEAR_AMOUNT_LEN];
            fmt_near(a->deposit, d);
            printf(", deposit %s", d);
        }
        printf("\n");
    }
    printf("  deposit:  %s\n  max cost: %s (balance %s)\n", dep, cost, bal);
}

/* A refused request_kms_root_key logs which verification step failed
 * (event kms_attestation_step): add it to the error, so the operator needs no
 * explorer to see why. */
static void add_failed_steps(const dg_near_outcome *o, dg_err *err) {
    size_t i;
    json_t *e;
    json_array_foreach(o->events, i, e) {
        json_t *d = json_array_get(json_object_get(e, "data"), 0);
        const char *res = json_string_value(json_object_get(d, "result"));
        if (!res || strcmp(res, "failed") != 0) continue;
        const char *step = json_string_value(json_object_get(d, "step"));
        const char *det = json_string_value(json_object_get(d, "detail"));
        size_t n = strlen(err->msg);
        snprintf(err->msg + n, sizeof err->msg - n, "; step %s failed: %s", step ? step : "?",
                 det ? det : "");
    }
}

/* Plan, show, confirm, sign, send, wait. Returns 1 (o filled), CLI_DRY_RUN,
 * or 0 with err (o freed). signer NULL = the configured account. */
static int near_send(cli *c, nctx *n, const char *signer, const char *receiver,
                     const dg_near_action *a, size_t na, const char *label, dg_near_outcome *o,
                     dg_err *err) {
    memset(o, 0, sizeof *o);
    if (!near_connect(c, n, err)) return 0;
    dg_near_plan p;
    if (!dg_near_plan_prepare(c->rpc, signer ? signer : n->account, n->key.pk, receiver, a, na,
                              label, &p, err))
        return 0;
    if (c->pending_warning[0]) {
        cli_warn(c, "%s", c->pending_warning);
        c->pending_warning[0] = 0;
    }
    if (c->dry_run) {
        print_dry_run(c, &p);
        return CLI_DRY_RUN;
    }
    char cost[DG_NEAR_AMOUNT_LEN], bal[DG_NEAR_AMOUNT_LEN], dep[DG_NEAR_AMOUNT_LEN];
    fmt_near(p.max_cost, cost);
    fmt_near(p.balance, bal);
    fmt_near(p.deposit, dep);
    if (!c->json && !c->yes)
        fprintf(stderr, "%s: %s -> %s, %zu action%s, deposit %s, at most %s (balance %s)\n", label,
                p.signer_id, p.receiver_id, na, na == 1 ? "" : "s", dep, cost, bal);
    if (!cli_confirm(c, label, cost, err)) return 0;
    dg_near_send_opts so = {.timeout_ms = n->timeout_ms};
    if (!dg_near_plan_submit(c->rpc, &so, &p, &n->key, o, err)) {
        add_failed_steps(o, err);
        dg_near_outcome_free(o);
        return 0;
    }
    if (c->json) json_tx(c, label, o);
    return 1;
}

/* A function call with JSON args (built by the caller) and a deposit. */
static dg_near_action fcall(const char *method, const dg_buf *args, uint64_t gas, dg_u256 deposit) {
    dg_near_action a;
    memset(&a, 0, sizeof a);
    a.kind = DG_NEAR_FUNCTION_CALL;
    a.method = method;
    a.args = args->data;
    a.args_len = args->len;
    a.gas = gas;
    a.deposit = deposit;
    return a;
}

static void tx_hash_text(const dg_near_outcome *o, char out[DG_BASE58_LEN(32)]) {
    dg_base58_encode(o->tx_hash, 32, out, DG_BASE58_LEN(32));
}

/* "... attach at least N yoctoNEAR" in a storage panic: N, or 0 when absent. */
static int storage_ask(const char *msg, dg_u256 *need) {
    const char *p = strstr(msg, "attach at least ");
    if (!p) return 0;
    char num[80];
    size_t k = 0;
    for (p += 16; *p >= '0' && *p <= '9' && k + 1 < sizeof num; p++)
        num[k++] = *p;
    num[k] = 0;
    return k && dg_u256_parse(num, need, NULL);
}

/* ------------------------------------------------------------------ simple calls */

enum { T_KMS, T_APP };
enum { V_B32, V_APPID, V_BOOL, V_NONE };

typedef struct {
    int target, kind;
    const char *method, *arg; /* the contract method and its JSON argument */
    const char *thing;        /* "OS image hash" */
    const char *detail;       /* "OS Image Hash" (the guide's detail line) */
    const char *verb;         /* "Adding" */
    const char *success;      /* the guide's success line */
    int pays_storage;         /* an addition: attach what the contract asks for */
} near_simple;

static int cmd_simple(cli *c) {
    const near_simple *s = c->cmd->data;
    nctx n;
    dg_err err = {DG_OK, ""};
    if (!near_setup(c, &n, s->target == T_KMS, &err)) return near_end(&n, cli_fail(c, &err));
    char target[DG_NEAR_ACCOUNT_MAX + 1], hex[41], val[65] = "";
    size_t pi = 0;
    if (s->target == T_APP) {
        if (!app_account(&n, c->f.pos[0], target, hex, &err))
            return near_end(&n, cli_fail(c, &err));
        pi = 1;
    } else {
        snprintf(target, sizeof target, "%s", n.kms);
    }
    dg_buf args;
    dg_buf_init(&args);
    const char *v = pi < c->f.npos ? c->f.pos[pi] : NULL;
    int ok = 1;
    switch (s->kind) {
    case V_B32:
        ok = norm_hex(s->thing, v, 32, val, &err);
        if (ok) dg_buf_printf(&args, "{\"%s\":\"%s\"}", s->arg, val);
        break;
    case V_APPID:
        ok = norm_hex(s->thing, v, 20, val, &err);
        if (ok) dg_buf_printf(&args, "{\"%s\":\"%s\"}", s->arg, val);
        break;
    case V_BOOL: {
        int b = 1;
        if (v && !cli_parse_bool(v, &b))
            ok = dg_err_set(&err, DG_ERR_INPUT, "%s \"%s\" is not true or false", s->thing, v);
        snprintf(val, sizeof val, "%s", b ? "true" : "false");
        dg_buf_printf(&args, "{\"%s\":%s}", s->arg, val);
        break;
    }
    case V_NONE:
        dg_buf_puts(&args, "{}");
        break;
    }
    if (!ok) {
        dg_buf_free(&args);
        return near_end(&n, cli_fail(c, &err));
    }
    cli_say(c, "%s %s...", s->verb, s->thing);
    cli_say(c, s->target == T_APP ? "  App Account: %s" : "  KMS Contract: %s", target);
    if (s->kind != V_NONE) cli_say(c, "  %s: %s", s->detail, val);
    cli_json_set(c, s->target == T_APP ? "appAccount" : "kmsContractId", json_string(target));
    if (s->kind != V_NONE) cli_json_set(c, s->arg, json_string(val));
    dg_near_action a = fcall(s->method, &args, OWNER_GAS, dg_u256_from_u64(1));
    dg_near_outcome o;
    int r = near_send(c, &n, NULL, target, &a, 1, s->method, &o, &err);
    dg_u256 need;
    if (!r && s->pays_storage && err.code == DG_ERR_REVERT && storage_ask(err.msg, &need)) {
        /* the app account's reserve is used up: attach what the contract names (it keeps only
         * the entry's storage and refunds the rest) */
        char amt[DG_NEAR_AMOUNT_LEN];
        fmt_near(need, amt);
        cli_note(c,
                 "The app account needs storage for this entry: attaching %s (the contract "
                 "refunds what it does not use).",
                 amt);
        a.deposit = need;
        c->confirmed = 0;
        char nd[DG_U256_DEC_LEN];
        dg_u256_to_dec(need, nd);
        cli_json_set(c, "storageDeposit", json_string(nd));
        r = near_send(c, &n, NULL, target, &a, 1, s->method, &o, &err);
    }
    dg_buf_free(&args);
    if (r == CLI_DRY_RUN) return near_end(&n, 0);
    if (!r) {
        const char *fv = strcmp(s->verb, "Adding") == 0     ? "add"
                         : strcmp(s->verb, "Removing") == 0 ? "remove"
                                                            : "set";
        if (!c->json) fprintf(stderr, "❌ Failed to %s %s: %s\n", fv, s->thing, err.msg);
        return near_end(&n, cli_fail(c, &err));
    }
    char h[DG_BASE58_LEN(32)];
    tx_hash_text(&o, h);
    cli_say(c, "%s", s->success);
    cli_say(c, "   Transaction: %s", h);
    dg_near_outcome_free(&o);
    return near_end(&n, 0);
}

/* ------------------------------------------------------------------ measurements */

static const char *const meas_names[4] = {"mrtd", "rtmr0", "rtmr1", "rtmr2"};

/* add-measurements / remove-measurements: the KMS's expected MRTD and RTMR0-2
 * (c->cmd->data: the contract method). */
static int cmd_measurements(cli *c) {
    const char *method = c->cmd->data;
    nctx n;
    dg_err err = {DG_OK, ""};
    if (!near_setup(c, &n, 1, &err)) return near_end(&n, cli_fail(c, &err));
    char val[4][97];
    dg_buf args;
    dg_buf_init(&args);
    dg_buf_puts(&args, "{");
    for (int i = 0; i < 4; i++) {
        char what[16];
        snprintf(what, sizeof what, "--%s", meas_names[i]);
        if (!norm_hex(what, flag_str(&c->f, meas_names[i]), 48, val[i], &err)) {
            dg_buf_free(&args);
            return near_end(&n, cli_fail(c, &err));
        }
        dg_buf_printf(&args, "%s\"%s\":\"%s\"", i ? "," : "", meas_names[i], val[i]);
        cli_json_set(c, meas_names[i], json_string(val[i]));
    }
    dg_buf_puts(&args, "}");
    int add = strncmp(method, "add", 3) == 0;
    cli_say(c, "%s KMS measurements...", add ? "Adding" : "Removing");
    cli_say(c, "  KMS Contract: %s", n.kms);
    for (int i = 0; i < 4; i++)
        cli_say(c, "  %-5s: %s", meas_names[i], val[i]);
    cli_json_set(c, "kmsContractId", json_string(n.kms));
    dg_near_action a = fcall(method, &args, OWNER_GAS, dg_u256_from_u64(1));
    dg_near_outcome o;
    int r = near_send(c, &n, NULL, n.kms, &a, 1, method, &o, &err);
    dg_buf_free(&args);
    if (r == CLI_DRY_RUN) return near_end(&n, 0);
    if (!r) {
        if (!c->json)
            fprintf(stderr, "❌ Failed to %s KMS measurements: %s\n", add ? "add" : "remove",
                    err.msg);
        return near_end(&n, cli_fail(c, &err));
    }
    char h[DG_BASE58_LEN(32)];
    tx_hash_text(&o, h);
    cli_say(c, "✅ KMS measurements %s successfully!", add ? "added" : "removed");
    cli_say(c, "   Transaction: %s", h);
    dg_near_outcome_free(&o);
    return near_end(&n, 0);
}

/* ------------------------------------------------------------------ request-root-key */

/* A quote file: hex text (what dstack prints) or the raw bytes, into hex. */
static int quote_hex(const char *path, dg_buf *out, dg_err *err) {
    dg_buf f;
    dg_buf_init(out);
    dg_buf_init(&f);
    if (!cli_read_file(path, &f, (size_t)1 << 20, err)) {
        dg_buf_free(&f);
        return dg_err_wrap(err, "--quote");
    }
    size_t n = f.len;
    while (n && (f.data[n - 1] == '\n' || f.data[n - 1] == '\r' || f.data[n - 1] == ' '))
        n--;
    size_t k = 0;
    const char *t = (const char *)f.data;
    if (n > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X')) k = 2;
    int is_hex = n > k && (n - k) % 2 == 0;
    for (size_t i = k; is_hex && i < n; i++)
        is_hex = isxdigit((unsigned char)t[i]) != 0;
    if (is_hex) {
        for (size_t i = k; i < n; i++)
            dg_buf_printf(out, "%c", tolower((unsigned char)t[i]));
    } else {
        char *h = malloc(2 * f.len + 1);
        if (!h) {
            dg_buf_free(&f);
            return dg_err_set(err, DG_ERR_IO, "--quote: out of memory");
        }
        dg_hex_encode(f.data, f.len, h);
        dg_buf_puts(out, h);
        free(h);
    }
    dg_buf_free(&f);
    return 1;
}

/* A JSON file's text, checked to be JSON (the contract takes it as a string). */
static int json_text(const char *flag, const char *path, dg_buf *out, dg_err *err) {
    dg_buf_init(out);
    if (!path) return dg_err_set(err, DG_ERR_INPUT, "missing %s FILE", flag);
    if (!cli_read_file(path, out, (size_t)1 << 20, err)) return dg_err_wrap(err, "%s", flag);
    json_error_t je;
    json_t *j = json_loadb((const char *)out->data, out->len, 0, &je);
    if (!json_is_object(j)) {
        json_decref(j);
        return dg_err_set(err, DG_ERR_INPUT, "%s %s: not a JSON object (%s)", flag, path, je.text);
    }
    json_decref(j);
    return 1;
}

static int cmd_request_root_key(cli *c) {
    nctx n;
    dg_err err = {DG_OK, ""};
    if (!near_setup(c, &n, 1, &err)) return near_end(&n, cli_fail(c, &err));
    const char *qp = flag_str(&c->f, "quote"), *wk = flag_str(&c->f, "worker-public-key");
    if (!qp || !wk) {
        dg_err_set(&err, DG_ERR_INPUT, "missing %s",
                   !qp ? "--quote FILE" : "--worker-public-key KEY");
        return near_end(&n, cli_fail(c, &err));
    }
    dg_buf q, col, tcb;
    dg_buf_init(&q);
    dg_buf_init(&col);
    dg_buf_init(&tcb);
    if (!quote_hex(qp, &q, &err) ||
        !json_text("--collateral", flag_str(&c->f, "collateral"), &col, &err) ||
        !json_text("--tcb-info", flag_str(&c->f, "tcb-info"), &tcb, &err)) {
        dg_buf_free(&q);
        dg_buf_free(&col);
        dg_buf_free(&tcb);
        return near_end(&n, cli_fail(c, &err));
    }
    json_t *a = json_pack("{s:s%,s:s%,s:s%,s:s}", "quote_hex", (const char *)q.data, q.len,
                          "collateral", (const char *)col.data, col.len, "tcb_info",
                          (const char *)tcb.data, tcb.len, "worker_public_key", wk);
    char *text = a ? json_dumps(a, JSON_COMPACT) : NULL;
    json_decref(a);
    dg_buf_free(&q);
    dg_buf_free(&col);
    dg_buf_free(&tcb);
    if (!text) {
        dg_err_set(&err, DG_ERR_INPUT, "--collateral/--tcb-info: not UTF-8 text");
        return near_end(&n, cli_fail(c, &err));
    }
    dg_buf args;
    dg_buf_init(&args);
    dg_buf_puts(&args, text);
    free(text);
    cli_say(c, "Requesting the KMS root key...");
    cli_say(c, "  KMS Contract: %s", n.kms);
    cli_say(c, "  Worker Public Key: %s", wk);
    cli_json_set(c, "kmsContractId", json_string(n.kms));
    /* the MPC network answers through a yield: by default wait past NEAR's
     * yield timeout (200 blocks), so the chain's own verdict arrives first */
    if (!flag_str(&c->f, "timeout")) n.timeout_ms = c->timeout_ms = ROOT_KEY_WAIT_MS;
    dg_near_action act = fcall("request_kms_root_key", &args, ROOT_KEY_GAS, dg_u256_from_u64(1));
    dg_near_outcome o;
    int r = near_send(c, &n, NULL, n.kms, &act, 1, "request_kms_root_key", &o, &err);
    dg_buf_free(&args);
    if (r == CLI_DRY_RUN) return near_end(&n, 0);
    if (!r && err.code == DG_ERR_RPC_TIMEOUT) {
        char was[sizeof err.msg];
        snprintf(was, sizeof was, "%s", err.msg);
        dg_err_set(&err, DG_ERR_RPC_TIMEOUT,
                   "no answer from the MPC network within %ld s: %.300s; the request stays open "
                   "on chain until the MPC network answers or NEAR's yield timeout (200 blocks) "
                   "fails it",
                   n.timeout_ms / 1000, was);
    }
    if (!r) {
        if (!c->json) fprintf(stderr, "❌ Failed to request the KMS root key: %s\n", err.msg);
        return near_end(&n, cli_fail(c, &err));
    }
    char h[DG_BASE58_LEN(32)];
    tx_hash_text(&o, h);
    json_t *v = json_loadb((const char *)o.value, o.value_len, 0, NULL);
    cli_say(c, "✅ The MPC network answered:");
    const char *by = json_string_value(json_object_get(v, "big_y"));
    const char *bc = json_string_value(json_object_get(v, "big_c"));
    cli_say(c, "   big_y: %s", by ? by : "(missing)");
    cli_say(c, "   big_c: %s", bc ? bc : "(missing)");
    cli_say(c, "   Transaction: %s", h);
    if (v) cli_json_set(c, "mpcResponse", v);
    dg_near_outcome_free(&o);
    return near_end(&n, 0);
}

#define SIMPLE(t, k, m, a, th, de, ve, su, st)                                                     \
    static const near_simple m##_s = {t, k, #m, a, th, de, ve, su, st};
SIMPLE(T_KMS, V_B32, add_os_image_hash, "os_image_hash", "OS image hash", "OS Image Hash", "Adding",
       "✅ OS image hash added successfully!", 0)
SIMPLE(T_KMS, V_B32, remove_os_image_hash, "os_image_hash", "OS image hash", "OS Image Hash",
       "Removing", "✅ OS image hash removed successfully!", 0)
SIMPLE(T_KMS, V_B32, add_kms_device, "device_id", "KMS device ID", "Device ID", "Adding",
       "✅ KMS device ID added successfully!", 0)
SIMPLE(T_KMS, V_B32, remove_kms_device, "device_id", "KMS device ID", "Device ID", "Removing",
       "✅ KMS device ID removed successfully!", 0)
SIMPLE(T_KMS, V_B32, add_kms_aggregated_mr, "mr_aggregated", "KMS aggregated MR", "Aggregated MR",
       "Adding", "✅ KMS aggregated MR added successfully!", 0)
SIMPLE(T_KMS, V_B32, remove_kms_aggregated_mr, "mr_aggregated", "KMS aggregated MR",
       "Aggregated MR", "Removing", "✅ KMS aggregated MR removed successfully!", 0)
SIMPLE(T_KMS, V_B32, add_kms_compose_hash, "compose_hash", "KMS compose hash", "Compose Hash",
       "Adding", "✅ KMS compose hash added successfully!", 0)
SIMPLE(T_KMS, V_B32, remove_kms_compose_hash, "compose_hash", "KMS compose hash", "Compose Hash",
       "Removing", "✅ KMS compose hash removed successfully!", 0)
SIMPLE(T_KMS, V_APPID, set_gateway_app_id, "app_id", "gateway app ID", "Gateway App ID", "Setting",
       "✅ Gateway App ID set successfully!", 0)
SIMPLE(T_APP, V_B32, add_compose_hash, "compose_hash", "compose hash", "Compose Hash", "Adding",
       "✅ Compose hash added successfully!", 1)
SIMPLE(T_APP, V_B32, remove_compose_hash, "compose_hash", "compose hash", "Compose Hash",
       "Removing", "✅ Compose hash removed successfully!", 0)
SIMPLE(T_APP, V_B32, add_device, "device_id", "device ID", "Device ID", "Adding",
       "✅ Device ID added successfully!", 1)
SIMPLE(T_APP, V_B32, remove_device, "device_id", "device ID", "Device ID", "Removing",
       "✅ Device ID removed successfully!", 0)
SIMPLE(T_APP, V_BOOL, set_allow_any_device, "allow", "allow any device", "Allow Any Device",
       "Setting", "✅ Allow any device set successfully!", 0)
SIMPLE(T_APP, V_NONE, disable_upgrades, "", "upgrades disabled", "", "Setting",
       "✅ Upgrades disabled permanently!", 0)

/* ------------------------------------------------------------------ kms deploy */

static int read_wasm(cli *c, dg_buf *code, char *path, size_t cap, dg_err *err) {
    const char *w = flag_str(&c->f, "wasm");
    if (w) {
        snprintf(path, cap, "%s", w);
    } else {
        /* next to the program: build/dstack-gov -> build/near/kms.wasm */
        char exe[PATH_MAX];
        ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (k <= 0) return dg_err_set(err, DG_ERR_IO, "cannot find kms.wasm: pass --wasm FILE");
        exe[k] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) *slash = 0;
        int m = snprintf(path, cap, "%s/near/kms.wasm", exe);
        if (m < 0 || (size_t)m >= cap)
            return dg_err_set(err, DG_ERR_IO, "path too long: pass --wasm");
    }
    if (!cli_read_file(path, code, 4u << 20, err)) return dg_err_wrap(err, "KMS wasm");
    if (code->len < 8 || memcmp(code->data, "\0asm", 4) != 0)
        return dg_err_set(err, DG_ERR_INPUT, "%s is not a wasm module", path);
    return 1;
}

static int cmd_kms_deploy(cli *c) {
    nctx n;
    dg_err err = {DG_OK, ""};
    if (!near_setup(c, &n, 1, &err)) return near_end(&n, cli_fail(c, &err));
    const char *owner = flag_str(&c->f, "owner");
    const char *mpc = flag_str(&c->f, "mpc-contract");
    const char *dom = flag_str(&c->f, "mpc-domain");
    const char *bal = flag_str(&c->f, "initial-balance");
    int create = flag_bool(&c->f, "create");
    if (!owner) owner = n.account;
    if (!mpc) mpc = n.net->mpc;
    unsigned long domain = 2;
    dg_u256 initial;
    dg_near_parse_amount("5", &initial, NULL);
    char *end = NULL;
    if (dom && ((domain = strtoul(dom, &end, 10)), !*dom || *end))
        return near_end(&n, cli_failf(c, DG_ERR_INPUT, "--mpc-domain \"%s\" is not a number", dom));
    if (!dg_near_account_id_check(owner, &err) || !dg_near_account_id_check(mpc, &err) ||
        (bal && !dg_near_parse_amount(bal, &initial, &err)))
        return near_end(&n, cli_fail(c, &err));
    if (strlen(n.kms) > 23)
        cli_warn(c,
                 "KMS account %s is longer than 23 characters: apps (<40 hex>.%s) will not fit "
                 "NEAR's 64-character limit",
                 n.kms, n.kms);
    char path[PATH_MAX];
    dg_buf code, args;
    dg_buf_init(&code);
    dg_buf_init(&args);
    if (!read_wasm(c, &code, path, sizeof path, &err)) {
        dg_buf_free(&code);
        return near_end(&n, cli_fail(c, &err));
    }
    dg_buf_printf(&args, "{\"owner_id\":\"%s\",\"mpc_contract_id\":\"%s\",\"mpc_domain_id\":%lu}",
                  owner, mpc, domain);
    cli_say(c, "Deploying the KMS contract...");
    cli_say(c, "  KMS Contract: %s", n.kms);
    cli_say(c, "  Owner: %s", owner);
    cli_say(c, "  Code: %s (%zu bytes)", path, code.len);
    cli_json_set(c, "kmsContractId", json_string(n.kms));
    cli_json_set(c, "owner", json_string(owner));
    int r = 1;
    dg_near_outcome o;
    memset(&o, 0, sizeof o);
    if (create) {
        /* CreateAccount must target a sub-account of the signer; the new account gets the
         * signer's key, so the second transaction can be signed by the KMS account itself */
        size_t al = strlen(n.account), kl = strlen(n.kms);
        if (kl <= al + 1 || strcmp(n.kms + kl - al, n.account) != 0 || n.kms[kl - al - 1] != '.')
            r = dg_err_set(&err, DG_ERR_INPUT,
                           "--create makes %s from %s: it must be a sub-account (<name>.%s)", n.kms,
                           n.account, n.account);
        dg_near_action ca[3];
        memset(ca, 0, sizeof ca);
        ca[0].kind = DG_NEAR_CREATE_ACCOUNT;
        ca[1].kind = DG_NEAR_TRANSFER;
        ca[1].deposit = initial;
        ca[2].kind = DG_NEAR_ADD_KEY;
        memcpy(ca[2].public_key, n.key.pk, 32);
        c->ntx_planned = 2;
        if (r) r = near_send(c, &n, NULL, n.kms, ca, 3, "create the KMS account", &o, &err);
        if (r == 1) dg_near_outcome_free(&o);
    }
    /* `new` is private (its predecessor must be the KMS itself): deploy and initialise in one
     * transaction signed by the KMS account */
    dg_near_action da[2];
    memset(da, 0, sizeof da);
    da[0].kind = DG_NEAR_DEPLOY_CONTRACT;
    da[0].code = code.data;
    da[0].code_len = code.len;
    da[1] = fcall("new", &args, INIT_GAS, dg_u256_from_u64(0));
    if (r == 1)
        r = near_send(c, &n, n.kms, n.kms, da, 2, "deploy and initialise the KMS", &o, &err);
    else if (r == CLI_DRY_RUN && !c->json)
        printf("(then: deploy %s and call new, signed by %s)\n", path, n.kms);
    dg_buf_free(&code);
    dg_buf_free(&args);
    if (r == CLI_DRY_RUN) return near_end(&n, 0);
    if (!r) return near_end(&n, cli_fail(c, &err));
    char h[DG_BASE58_LEN(32)];
    tx_hash_text(&o, h);
    dg_near_outcome_free(&o);
    cli_say(c, "✅ KMS contract deployed successfully!");
    cli_say(c, "   KMS Contract: %s", n.kms);
    cli_say(c, "   Transaction: %s", h);
    return near_end(&n, 0);
}

/* ------------------------------------------------------------------ app deploy */

static int cmd_app_deploy(cli *c) {
    nctx n;
    dg_err err = {DG_OK, ""};
    if (!near_setup(c, &n, 1, &err)) return near_end(&n, cli_fail(c, &err));
    const char *app_in = c->f.npos == 2 ? c->f.pos[0] : NULL;
    const char *owner = c->f.pos[c->f.npos - 1];
    const char *dev = flag_str(&c->f, "device-id");
    const char *hash = flag_str(&c->f, "compose-hash");
    const char *dep = flag_str(&c->f, "deposit");
    char hex[41], acct[DG_NEAR_ACCOUNT_MAX + 1], dh[65], ch[65];
    if (!dg_near_account_id_check(owner, &err) ||
        (dev && !norm_hex("--device-id", dev, 32, dh, &err)) ||
        (hash && !norm_hex("--compose-hash", hash, 32, ch, &err)))
        return near_end(&n, cli_fail(c, &err));
    if (app_in) {
        if (!norm_hex("app id", app_in, 20, hex, &err)) return near_end(&n, cli_fail(c, &err));
    } else {
        /* reference §8.1: a fresh id from the KMS, the owner and a random salt */
        uint8_t salt[16], h[32];
        randombytes_buf(salt, sizeof salt);
        dg_buf b;
        dg_buf_init(&b);
        dg_buf_printf(&b, "%s|%s|", n.kms, owner);
        dg_buf_append(&b, salt, sizeof salt);
        dg_sha256(b.data, b.len, h);
        dg_buf_free(&b);
        dg_hex_encode(h, 20, hex);
    }
    if (!app_account(&n, hex, acct, hex, &err)) return near_end(&n, cli_fail(c, &err));
    if (!near_connect(c, &n, &err)) return near_end(&n, cli_fail(c, &err));
    json_t *need_j = NULL;
    dg_u256 need, deposit;
    if (!dg_near_view_json(c->rpc, "optimistic", n.kms, "get_registration_deposit", NULL, &need_j,
                           NULL, &err) ||
        !dg_near_json_amount(need_j, &need, &err)) {
        json_decref(need_j);
        return near_end(&n, cli_fail(c, &err));
    }
    json_decref(need_j);
    deposit = need;
    if (dep && !dg_near_parse_amount(dep, &deposit, &err)) return near_end(&n, cli_fail(c, &err));
    char need_s[DG_NEAR_AMOUNT_LEN], dep_s[DG_NEAR_AMOUNT_LEN];
    fmt_near(need, need_s);
    fmt_near(deposit, dep_s);
    if (dg_u256_cmp(deposit, need) < 0)
        return near_end(&n, cli_failf(c, DG_ERR_INPUT,
                                      "--deposit %s is below the registration deposit %s (the app "
                                      "account's code, state and entry reserve)",
                                      dep_s, need_s));
    dg_buf args;
    dg_buf_init(&args);
    dg_buf_printf(&args,
                  "{\"app_id\":\"%s\",\"owner_id\":\"%s\",\"disable_upgrades\":%s,"
                  "\"allow_any_device\":%s,\"initial_device_id\":",
                  hex, owner, flag_bool(&c->f, "disable-upgrades") ? "true" : "false",
                  flag_bool(&c->f, "allow-any-device") ? "true" : "false");
    dg_buf_printf(&args, dev ? "\"%s\"" : "null", dh);
    dg_buf_puts(&args, ",\"initial_compose_hash\":");
    dg_buf_printf(&args, hash ? "\"%s\"" : "null", ch);
    dg_buf_puts(&args, "}");
    cli_say(c, "Deploying app contract...");
    cli_say(c, "  KMS Contract: %s", n.kms);
    cli_say(c, "  App ID: %s", hex);
    cli_say(c, "  App Account: %s", acct);
    cli_say(c, "  Owner: %s", owner);
    cli_say(c,
            "  Registration costs %s (kept by the app account for its code, state and later "
            "entries)%s",
            need_s,
            dg_u256_cmp(deposit, need) > 0 ? "; the KMS refunds the rest of the deposit" : "");
    if (dg_u256_cmp(deposit, need) > 0) {
        dg_u256 back;
        char back_s[DG_NEAR_AMOUNT_LEN];
        dg_u256_sub(&back, deposit, need);
        fmt_near(back, back_s);
        cli_say(c, "  Deposit attached: %s, of which %s is refunded", dep_s, back_s);
    }
    cli_json_set(c, "appId", json_string(hex));
    cli_json_set(c, "appAccount", json_string(acct));
    cli_json_set(c, "owner", json_string(owner));
    char nd[DG_U256_DEC_LEN];
    dg_u256_to_dec(need, nd);
    cli_json_set(c, "registrationDeposit", json_string(nd));
    dg_near_action a = fcall("register_app", &args, REGISTER_GAS, deposit);
    dg_near_outcome o;
    int r = near_send(c, &n, NULL, n.kms, &a, 1, "register_app", &o, &err);
    dg_buf_free(&args);
    if (r == CLI_DRY_RUN) return near_end(&n, 0);
    if (!r) {
        if (!c->json) fprintf(stderr, "❌ Failed to deploy app contract: %s\n", err.msg);
        return near_end(&n, cli_fail(c, &err));
    }
    char h[DG_BASE58_LEN(32)];
    tx_hash_text(&o, h);
    dg_near_outcome_free(&o);
    cli_say(c, "✅ App contract deployed successfully!");
    cli_say(c, "   App Account: %s", acct);
    cli_say(c, "   Transaction: %s", h);
    return near_end(&n, 0);
}

/* ------------------------------------------------------------------ show */

/* Views pinned to one block: fetch it once, then ask every view at its hash. */
typedef struct {
    cli *c;
    char block[DG_BASE58_LEN(32)];
    json_t *obj;
} pinned;

static int pin(cli *c, nctx *n, pinned *p, dg_err *err) {
    p->c = c;
    p->obj = json_object();
    if (!near_connect(c, n, err)) return 0;
    dg_near_block_info b;
    if (!dg_near_block(c->rpc, "final", &b, err)) return 0;
    dg_base58_encode(b.hash, 32, p->block, sizeof p->block);
    json_object_set_new(p->obj, "blockHeight", json_integer((json_int_t)b.height));
    json_object_set_new(p->obj, "blockHash", json_string(p->block));
    return 1;
}

/* One view into p->obj[key] (JSON), or 0 with err. */
static int view(pinned *p, const char *account, const char *method, const char *args,
                const char *key, dg_err *err) {
    json_t *v = NULL;
    if (!dg_near_view_json(p->c->rpc, p->block, account, method, args, &v, NULL, err)) return 0;
    json_object_set_new(p->obj, key, v);
    return 1;
}

static void show_list(cli *c, const char *title, const json_t *arr) {
    cli_say(c, "%s (%zu):", title, json_array_size(arr));
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const json_t *v = json_array_get(arr, i);
        if (json_is_string(v)) cli_say(c, "  %s", json_string_value(v));
    }
}

static int cmd_kms_show(cli *c) {
    nctx n;
    dg_err err = {DG_OK, ""};
    pinned p = {0};
    if (!near_setup(c, &n, 1, &err) || !pin(c, &n, &p, &err)) goto fail;
    static const char *const v[][2] = {
        {"get_owner", "owner"},
        {"get_mpc_config", "mpc"},
        {"get_gateway_app_id", "gatewayAppId"},
        {"get_allowed_os_images", "osImages"},
        {"get_kms_allowed_aggregated_mrs", "aggregatedMrs"},
        {"get_kms_allowed_device_ids", "devices"},
        {"get_kms_allowed_compose_hashes", "composeHashes"},
        {"get_registration_deposit", "registrationDeposit"},
        {"get_registered_apps_count", "registeredAppsCount"},
        {"get_kms_info", "kmsInfo"},
        {"get_kms_measurements", "measurements"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        if (!view(&p, n.kms, v[i][0], NULL, v[i][1], &err)) goto fail;
    if (!view(&p, n.kms, "get_registered_apps", "{\"offset\":0,\"limit\":100}", "registeredApps",
              &err))
        goto fail;
    json_t *o = p.obj;
    cli_say(c, "KMS contract %s at block %lld (%s):", n.kms,
            (long long)json_integer_value(json_object_get(o, "blockHeight")), p.block);
    cli_say(c, "Owner: %s", json_string_value(json_object_get(o, "owner")));
    json_t *mpc = json_object_get(o, "mpc");
    cli_say(c, "MPC: %s, domain %lld", json_string_value(json_object_get(mpc, "mpc_contract_id")),
            (long long)json_integer_value(json_object_get(mpc, "mpc_domain_id")));
    json_t *gw = json_object_get(o, "gatewayAppId");
    cli_say(c, "Gateway App ID: %s", json_is_string(gw) ? json_string_value(gw) : "(not set)");
    show_list(c, "Allowed OS images", json_object_get(o, "osImages"));
    show_list(c, "Allowed KMS aggregated MRs", json_object_get(o, "aggregatedMrs"));
    show_list(c, "Allowed KMS devices", json_object_get(o, "devices"));
    show_list(c, "Allowed KMS compose hashes", json_object_get(o, "composeHashes"));
    show_list(c, "Registered apps", json_object_get(o, "registeredApps"));
    dg_u256 rd;
    if (dg_near_json_amount(json_object_get(o, "registrationDeposit"), &rd, NULL)) {
        char s[DG_NEAR_AMOUNT_LEN];
        fmt_near(rd, s);
        cli_say(c, "Registration deposit: %s", s);
    }
    cli_say(c, "KMS info: %s", json_is_null(json_object_get(o, "kmsInfo")) ? "(not set)" : "set");
    json_object_set_new(o, "kmsContractId", json_string(n.kms));
    cli_json_set(c, "kms", o);
    return near_end(&n, 0);
fail:
    json_decref(p.obj);
    return near_end(&n, cli_fail(c, &err));
}

static int cmd_app_show(cli *c) {
    nctx n;
    dg_err err = {DG_OK, ""};
    pinned p = {0};
    char acct[DG_NEAR_ACCOUNT_MAX + 1], hex[41], q[200];
    if (!near_setup(c, &n, 0, &err) || !app_account(&n, c->f.pos[0], acct, hex, &err) ||
        !pin(c, &n, &p, &err) || !view(&p, acct, "get_app_info", NULL, "info", &err) ||
        !view(&p, acct, "get_compose_hashes", NULL, "composeHashes", &err) ||
        !view(&p, acct, "get_devices", NULL, "devices", &err))
        goto fail;
    snprintf(q, sizeof q, "{\"app_id\":\"%s\"}", acct);
    if (n.kms[0] && !view(&p, n.kms, "is_app_registered", q, "registered", &err)) goto fail;
    json_t *o = p.obj, *info = json_object_get(o, "info");
    cli_say(c, "App contract %s at block %lld:", acct,
            (long long)json_integer_value(json_object_get(o, "blockHeight")));
    cli_say(c, "Owner: %s", json_string_value(json_object_get(info, "owner_id")));
    json_t *reg = json_object_get(o, "registered");
    if (reg) cli_say(c, "Registered in %s: %s", n.kms, json_is_true(reg) ? "yes" : "NO");
    cli_say(c, "Allow any device: %s",
            json_is_true(json_object_get(info, "allow_any_device")) ? "yes" : "no");
    cli_say(c, "Requires an up-to-date TCB: %s",
            json_is_true(json_object_get(info, "require_tcb_up_to_date")) ? "yes" : "no");
    cli_say(c, "Upgrades disabled: %s",
            json_is_true(json_object_get(info, "upgrades_disabled")) ? "yes" : "no");
    show_list(c, "Allowed compose hashes", json_object_get(o, "composeHashes"));
    show_list(c, "Allowed devices", json_object_get(o, "devices"));
    json_object_set_new(o, "appAccount", json_string(acct));
    cli_json_set(c, "app", o);
    return near_end(&n, 0);
fail:
    json_decref(p.obj);
    return near_end(&n, cli_fail(c, &err));
}

/* ------------------------------------------------------------------ check */

/* The rules and the verdict come from dg_gov_near_check (lib/near/gov.c),
 * which `dstack-gov explore --near` calls too; this prints them. */
static int cmd_check(cli *c) {
    int is_app = c->cmd->data != NULL;
    nctx n;
    dg_err err = {DG_OK, ""};
    dg_bootinfo bi;
    dg_bootinfo_init(&bi);
    dg_buf file;
    dg_buf_init(&file);
    dg_gov_verdict v;
    int code;
    const char *path = flag_str(&c->f, "boot-info");
    char hex[41];
    if (!near_setup(c, &n, 1, &err)) goto fail;
    if (!path) {
        dg_err_set(&err, DG_ERR_INPUT,
                   "near check needs --boot-info FILE (the BootInfo JSON the "
                   "KMS sends)");
        goto fail;
    }
    if (!cli_read_file(path, &file, DG_BOOTINFO_BODY_MAX, &err) ||
        !dg_bootinfo_parse(&bi, (const char *)file.data, file.len, &err)) {
        dg_err_wrap(&err, "%s", path);
        goto fail;
    }
    if (!near_connect(c, &n, &err) ||
        !dg_gov_near_check(c->rpc, n.kms, &bi, is_app ? DG_ROUTE_APP : DG_ROUTE_KMS, &v, &err))
        goto fail;
    dg_hex_encode(bi.app_id, 20, hex);
    if (is_app)
        cli_say(c, "Boot of app %s at block %llu (KMS %s):", hex,
                (unsigned long long)v.block_number, n.kms);
    else
        cli_say(c, "Boot of a KMS instance at block %llu (KMS %s):",
                (unsigned long long)v.block_number, n.kms);
    json_t *checks = json_array();
    for (size_t i = 0; i < v.nrules; i++)
        cli_rule(c, checks, v.rules[i].ok, v.rules[i].name, "%s", v.rules[i].detail);
    cli_json_set(c, "blockHeight", json_integer((json_int_t)v.block_number));
    cli_json_set(c, "blockHash", json_string(v.block_hash));
    code = cli_decision(c, checks, v.allowed, v.reason, v.gateway_app_id);
    goto out;
fail:
    code = cli_fail(c, &err);
out:
    dg_buf_free(&file);
    dg_bootinfo_free(&bi);
    return near_end(&n, code);
}

/* ------------------------------------------------------------------ table */

static const flag_spec deploy_kms_flags[] = {
    {"create", FLAG_BOOL, NULL, "first create the KMS account as a sub-account of the signer"},
    {"initial-balance", FLAG_STR, "NEAR",
     "with --create: NEAR moved to the new account (default 5)"},
    {"owner", FLAG_STR, "ACCOUNT", "the KMS owner (default: the signer)"},
    {"mpc-contract", FLAG_STR, "ACCOUNT", "MPC signer contract (default: the network's)"},
    {"mpc-domain", FLAG_STR, "N", "MPC domain id (default 2)"},
    {"wasm", FLAG_STR, "FILE", "the KMS contract (default: near/kms.wasm next to dstack-gov)"},
    {NULL, 0, NULL, NULL},
};

static const flag_spec deploy_app_flags[] = {
    {"allow-any-device", FLAG_BOOL, NULL, "let the app boot on any device"},
    {"device-id", FLAG_STR, "HEX", "first allowed device (64 hex digits)"},
    {"compose-hash", FLAG_STR, "HEX", "first allowed compose hash (64 hex digits)"},
    {"deposit", FLAG_STR, "NEAR",
     "deposit (default: the registration deposit; the rest is refunded)"},
    {"disable-upgrades", FLAG_BOOL, NULL, "the app contract can never be upgraded"},
    {NULL, 0, NULL, NULL},
};

static const flag_spec meas_flags[] = {
    {"mrtd", FLAG_STR, "HEX", "MRTD (96 hex digits, 0x optional)"},
    {"rtmr0", FLAG_STR, "HEX", "RTMR0"},
    {"rtmr1", FLAG_STR, "HEX", "RTMR1"},
    {"rtmr2", FLAG_STR, "HEX", "RTMR2"},
    {NULL, 0, NULL, NULL},
};

static const flag_spec root_key_flags[] = {
    {"quote", FLAG_STR, "FILE", "the KMS's TDX quote (hex text or raw bytes)"},
    {"collateral", FLAG_STR, "FILE", "its collateral (JSON: tcb_info, qe_identity, CRLs, chains)"},
    {"tcb-info", FLAG_STR, "FILE", "dstack's TcbInfo JSON (measurements, event log, app_compose)"},
    {"worker-public-key", FLAG_STR, "KEY", "the KMS's ephemeral BLS key, bls12381g1:<base58>"},
    {NULL, 0, NULL, NULL},
};

static const flag_spec check_flags[] = {
    {"boot-info", FLAG_STR, "FILE", "the BootInfo JSON, as the KMS posts it to /bootAuth/*"},
    {NULL, 0, NULL, NULL},
};

#define TX (NEED_NEAR | NEED_NEAR_KEY)
#define HEXARG "64 hex digits, 0x optional, any case; stored lowercase without 0x."
#define APPARG "APP is the app's 40-hex id (0x optional) or its account <40 hex>.<kms>."

const cmd_spec near_cmds[] = {
    {"near kms", "deploy", NULL, NULL, 0, 0, TX, deploy_kms_flags,
     "deploy kms.wasm to the KMS account and call new (optionally creating the account)",
     "The KMS account is --kms / KMS_CONTRACT_ID. `new` is private, so the deployment and `new` "
     "are one transaction signed by the KMS account itself; with --create, a first transaction "
     "from the signer creates it as <name>.<signer> and adds the signer's key to it.",
     cmd_kms_deploy, NULL},
    {"near kms", "add-image", "add-os-image", "HASH", 1, 1, TX, NULL,
     "allow an OS image (add_os_image_hash)", HEXARG, cmd_simple, &add_os_image_hash_s},
    {"near kms", "remove-image", "remove-os-image", "HASH", 1, 1, TX, NULL,
     "disallow an OS image (remove_os_image_hash)", HEXARG, cmd_simple, &remove_os_image_hash_s},
    {"near kms", "add-device", "add-device", "DEVICE_ID", 1, 1, TX, NULL,
     "allow a KMS device (add_kms_device)", HEXARG, cmd_simple, &add_kms_device_s},
    {"near kms", "remove-device", "remove-device", "DEVICE_ID", 1, 1, TX, NULL,
     "disallow a KMS device (remove_kms_device)", HEXARG, cmd_simple, &remove_kms_device_s},
    {"near kms", "add-mr", "add-mr", "MR", 1, 1, TX, NULL,
     "allow a KMS aggregated MR (add_kms_aggregated_mr)", HEXARG, cmd_simple,
     &add_kms_aggregated_mr_s},
    {"near kms", "remove-mr", "remove-mr", "MR", 1, 1, TX, NULL,
     "disallow a KMS aggregated MR (remove_kms_aggregated_mr)", HEXARG, cmd_simple,
     &remove_kms_aggregated_mr_s},
    {"near kms", "add-compose-hash", NULL, "HASH", 1, 1, TX, NULL,
     "allow a KMS compose hash (add_kms_compose_hash)", HEXARG, cmd_simple,
     &add_kms_compose_hash_s},
    {"near kms", "remove-compose-hash", NULL, "HASH", 1, 1, TX, NULL,
     "disallow a KMS compose hash (remove_kms_compose_hash)", HEXARG, cmd_simple,
     &remove_kms_compose_hash_s},
    {"near kms", "set-gateway", "set-gateway-app-id", "APP_ID", 1, 1, TX, NULL,
     "set the gateway's app id (set_gateway_app_id)",
     "APP_ID is the gateway's 40-hex dstack app id (what the KMS compares).", cmd_simple,
     &set_gateway_app_id_s},
    {"near kms", "add-measurements", NULL, NULL, 0, 0, TX, meas_flags,
     "expect an OS (MRTD, RTMR0-2) in request_kms_root_key (add_kms_measurements)",
     "Each of --mrtd --rtmr0 --rtmr1 --rtmr2 is 96 hex digits (48 bytes), as in dstack's "
     "tcb_info; stored lowercase without 0x.",
     cmd_measurements, "add_kms_measurements"},
    {"near kms", "remove-measurements", NULL, NULL, 0, 0, TX, meas_flags,
     "stop expecting an OS (remove_kms_measurements)", NULL, cmd_measurements,
     "remove_kms_measurements"},
    {"near kms", "request-root-key", NULL, NULL, 0, 0, TX, root_key_flags,
     "send request_kms_root_key and print the MPC network's answer {big_y, big_c}",
     "The KMS normally sends this itself, signed by its own key: the quote's report data must "
     "be 00 01 || SHA3-384(the signer's ed25519 key) || zeros. Attaches 1 yoctoNEAR and 300 "
     "TGas. A refusal names the verification step that failed. The MPC network answers "
     "through NEAR's yield/resume: the command waits for it (default 300 s, past NEAR's "
     "200-block yield timeout; --timeout to change) and says so when none came.",
     cmd_request_root_key, NULL},
    {"near kms", "show", NULL, NULL, 0, 0, NEED_NEAR, NULL,
     "everything the KMS contract holds, read at one block", NULL, cmd_kms_show, NULL},
    {"near app", "deploy", "deploy", "[APP_ID] OWNER", 1, 2, TX, deploy_app_flags,
     "register an app: the KMS deploys its contract at <app id>.<kms> (register_app)",
     "APP_ID is 40 hex digits (default: a fresh one, printed). The command states the "
     "registration deposit before it sends; a larger --deposit (the guide's 30) is refunded "
     "above it.",
     cmd_app_deploy, NULL},
    {"near app", "register", NULL, "[APP_ID] OWNER", 1, 2, TX, deploy_app_flags,
     "the same as `near app deploy`", NULL, cmd_app_deploy, NULL},
    {"near app", "add-hash", "add-hash", "APP HASH", 2, 2, TX, NULL,
     "allow a compose hash for an app (add_compose_hash)",
     APPARG " Past the registration's entry reserve, the storage the contract asks for is "
            "attached (the excess is refunded).",
     cmd_simple, &add_compose_hash_s},
    {"near app", "remove-hash", "remove-hash", "APP HASH", 2, 2, TX, NULL,
     "disallow a compose hash for an app (remove_compose_hash)", APPARG, cmd_simple,
     &remove_compose_hash_s},
    {"near app", "add-device", "add-app-device", "APP DEVICE_ID", 2, 2, TX, NULL,
     "allow a device for an app (add_device)", APPARG, cmd_simple, &add_device_s},
    {"near app", "remove-device", "remove-app-device", "APP DEVICE_ID", 2, 2, TX, NULL,
     "disallow a device for an app (remove_device)", APPARG, cmd_simple, &remove_device_s},
    {"near app", "set-allow-any-device", NULL, "APP [true|false]", 1, 2, TX, NULL,
     "let an app boot on any device, or not (set_allow_any_device)", APPARG, cmd_simple,
     &set_allow_any_device_s},
    {"near app", "disable-upgrades", NULL, "APP", 1, 1, TX, NULL,
     "block every upgrade of an app's contract for good (disable_upgrades)", APPARG, cmd_simple,
     &disable_upgrades_s},
    {"near app", "show", NULL, "APP", 1, 1, NEED_NEAR, NULL,
     "an app contract's owner, flags and whitelists, read at one block", APPARG, cmd_app_show,
     NULL},
    {"near check", "app", NULL, NULL, 0, 0, NEED_NEAR, check_flags,
     "would the KMS let this app boot? (the webhook's checks, explained rule by rule)",
     "Exit status 0 when allowed, 1 when denied.", cmd_check, "app"},
    {"near check", "kms", NULL, NULL, 0, 0, NEED_NEAR, check_flags,
     "would this KMS instance be allowed? (is_kms_allowed, explained rule by rule)",
     "Exit status 0 when allowed, 1 when denied.", cmd_check, NULL},
    {NULL, NULL, NULL, NULL, 0, 0, 0, NULL, NULL, NULL, NULL, NULL},
};
