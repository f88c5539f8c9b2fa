/* cli.h — what every dstack-gov command shares: the command table entry, the
 * per-run context (flags, network, RPC client, signer), and the steps of a
 * governance change (connect, prepare, confirm, sign, send, wait, report).
 *
 * Handlers return the process exit code: 0 on success, 1 for a denied boot
 * (`check`), otherwise cli_fail()'s code, 1 + the dg_err class (listed in
 * `dstack-gov --help`).
 */
#ifndef DSTACK_GOV_CLI_H
#define DSTACK_GOV_CLI_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "dstackgov/buf.h"
#include "dstackgov/err.h"
#include "dstackgov/eth.h"
#include "dstackgov/rpc.h"
#include "flags.h"

/* What a command needs before its handler runs. */
enum {
    NEED_CHAIN = 1,    /* an RPC endpoint (network flags) */
    NEED_KEY = 2,      /* a signer (sends transactions: --yes, --dry-run) */
    NEED_KMS = 4,      /* the KMS contract address (--kms or env) */
    NEED_APP = 8,      /* an app id (--app-id) */
    OPT_KMS = 16,      /* the KMS address is used when known */
    NEED_NEAR = 32,    /* a NEAR endpoint (NEAR network flags; near.c does its own setup) */
    NEED_NEAR_KEY = 64 /* a NEAR signer (NEAR transaction flags) */
};

typedef struct cli cli;

typedef struct cmd_spec {
    const char *group; /* "kms"; NULL for top-level commands */
    const char *name;  /* "add-image" */
    const char *alias; /* Hardhat task name ("kms:add-image") or NULL */
    const char *args;  /* positional usage, e.g. "HASH" */
    unsigned min_pos, max_pos;
    unsigned needs;
    const flag_spec *flags; /* command-specific flags (NULL-terminated) or NULL */
    const char *summary;    /* one line */
    const char *details;    /* more help text or NULL */
    int (*fn)(cli *c);
    const void *data; /* handler parameters */
} cmd_spec;

struct cli {
    const cmd_spec *cmd;
    const char *invoked; /* how the user named it: "kms add-image" or "kms:add-image" */
    int is_alias;
    dg_flags f;
    int json, yes, dry_run, tty_in, tty_err, confirmed;
    const char *network;     /* preset name or NULL */
    char rpc_url[1024];      /* never printed: may hold an API key */
    char rpc_label[160];     /* scheme://host[:port] */
    const char *rpc_ca_file; /* --rpc-ca-file or $SSL_CERT_FILE, else NULL (system's CAs) */
    int has_expect_chain;
    uint64_t expect_chain_id;
    char expect_source[64]; /* "network sepolia" or "--chain-id", for the mismatch message */
    long timeout_ms;        /* receipt wait */
    dg_rpc *rpc;
    int has_key;
    uint8_t key[32];
    uint8_t from[20];
    int has_kms;
    uint8_t kms[20];
    int has_app;
    uint8_t app[20];
    json_t *out;               /* --json result object */
    uint64_t chain_id;         /* known after the first prepare */
    unsigned ntx_planned;      /* for the confirmation text of multi-transaction commands */
    char pending_warning[600]; /* cli_warn_before_send: shown once the next transaction passes its
                                  checks */
};

/* ---- the command table (main.c) and group tables */
extern const cmd_spec kms_cmds[];
extern const cmd_spec app_cmds[];
extern const cmd_spec check_cmds[];
extern const cmd_spec devnet_cmds[];
extern const cmd_spec attest_cmds[];
extern const cmd_spec top_cmds[];
extern const cmd_spec explore_cmds[];   /* explore.c */
extern const cmd_spec explore_near_cmd; /* explore.c: `explore --near` */
extern const cmd_spec near_cmds[];      /* group "near kms" / "near app" / "near check" (near.c) */

/* Common flag tables. */
extern const flag_spec chain_flags[];
extern const flag_spec tx_flags[];
extern const flag_spec base_flags[];
extern const flag_spec near_chain_flags[]; /* near.c */
/* near.c: --network/--rpc-url/--kms and NEAR_* environment, connected (c->rpc);
 * the KMS account into kms (65 bytes). Returns 1, or 0 with err. */
int near_explore_setup(cli *c, char *kms, dg_err *err);
extern const flag_spec near_tx_flags[];

/* ---- output and errors */
int cli_fail(cli *c, const dg_err *e); /* print, return the exit code */
int cli_failf(cli *c, dg_err_code code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int cli_exit_code(dg_err_code code);
void cli_warn(cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A warning about the change the next cli_transact makes: printed (as
 * cli_warn) only once that transaction passed its checks (chain id, code,
 * estimate, funds), before the plan or the prompt, so a command that fails
 * prints its one error line and no advice about a change that cannot happen. */
void cli_warn_before_send(cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cli_say(cli *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3))); /* stdout unless --json */
void cli_note(cli *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));             /* stderr unless --json */
void cli_json_set(cli *c, const char *key, json_t *v); /* steals v */
void cli_json_hex(cli *c, const char *key, const uint8_t *p, size_t n);
void cli_json_addr(cli *c, const char *key, const uint8_t a[20]);
int cli_finish(cli *c, int code); /* print the JSON object when ok, free everything */

/* ---- inputs */
int cli_parse_b32(cli *c, const char *what, const char *s, uint8_t out[32], dg_err *err);
int cli_parse_addr(const char *what, const char *s, uint8_t out[20], dg_err *err);
int cli_read_file(const char *path, dg_buf *out, size_t max, dg_err *err);
/* The flags that set up a new DstackApp, shared by `app deploy` and `kms
 * create-app`: --owner (default: the signer), --device, --hash (zero when
 * absent; ds/hs keep their text, NULL when absent), --allow-any-device,
 * --require-tcb-up-to-date, --disable-upgrades. */
typedef struct {
    uint8_t owner[20], dev[32], hash[32];
    const char *ds, *hs;
    int any, tcb, noup;
} cli_app_init;
int cli_parse_app_init(cli *c, cli_app_init *a, dg_err *err);
void cli_fmt_addr(const uint8_t a[20], char out[43]);
void cli_fmt_b32(const uint8_t b[32], char out[67]);
void cli_fmt_eth(dg_u256 wei, char *out, size_t cap); /* "0.0123 ETH" */

/* Ask "Send <label> (at most <cost>)? (y/N)" on the terminal once per run;
 * --yes skips it; without a terminal it refuses (DG_ERR_CANCELLED). */
int cli_confirm(cli *c, const char *label, const char *cost, dg_err *err);

/* ---- chain steps */
/* The CA file for an https:// endpoint: --rpc-ca-file, else $SSL_CERT_FILE,
 * else NULL (the system's store). For dg_rpc_opts.ca_file, any chain. */
const char *cli_rpc_ca_file(const cli *c);
int cli_setup(cli *c, dg_err *err);   /* resolve network, key, addresses from flags/env */
int cli_connect(cli *c, dg_err *err); /* RPC client (idempotent) */
/* Record the chain id the endpoint reported; fails (DG_ERR_CHAIN_ID) when
 * --network or --chain-id expects another. */
int cli_check_chain(cli *c, uint64_t got, dg_err *err);
/* eth_call; the return data is appended to ret. */
int cli_call(cli *c, const uint8_t to[20], const dg_buf *data, dg_buf *ret, dg_err *err);
/* A batch of eth_calls at one block ("latest" when block == NULL); results[i]
 * receives call i's return data; ok[i] = 0 when that call failed (reverted or
 * no code). Returns 0 only on transport failure. */
int cli_call_batch(cli *c, const uint8_t (*to)[20], const dg_buf *data, size_t n, const char *block,
                   dg_buf *results, int *ok, dg_err *err);
/* The whole transaction flow. `to` NULL = contract creation. With --dry-run
 * returns 2 (nothing sent, plan printed) — callers then return 0. Fills rcpt. */
int cli_transact(cli *c, const uint8_t *to, const dg_buf *data, const char *label,
                 dg_eth_receipt *rcpt, dg_err *err);
/* CLI_DRY_RUN also means "not applied yet": a Safe proposal signed or
 * exported, a timelock operation scheduled. */
#define CLI_DRY_RUN 2
/* cli_transact without the --safe / --timelock routing: from the signer. */
int cli_send_direct(cli *c, const uint8_t *to, const dg_buf *data, const char *label,
                    dg_eth_receipt *rcpt, dg_err *err);
/* owner.c: 1 when --safe or --timelock routes transactions through an owner
 * contract; cli_owner_transact is then what cli_transact does. */
int cli_owner_mode(const cli *c);
int cli_owner_transact(cli *c, const uint8_t *to, const dg_buf *data, const char *label,
                       dg_eth_receipt *rcpt, dg_err *err);
extern const cmd_spec timelock_cmds[];
/* The plan of a transaction from the signer (the library's checks, with the
 * flags' options), nothing sent; sets c->chain_id. For commands that show an
 * estimate before their first transaction (kms deploy). */
int cli_plan(cli *c, const uint8_t *to, const dg_buf *data, const char *label, dg_eth_plan *p,
             dg_err *err);
/* Ask `question` followed by " (y/N) " on the terminal, once per run: returns 1
 * when --yes, already confirmed, or answered y/Y; else 0 with DG_ERR_CANCELLED
 * (no terminal: "refusing to send <what> without a terminal ..."). */
int cli_ask(cli *c, const char *question, const char *what, dg_err *err);

/* ---- one-argument transactions shared by the kms and app groups (simple.c) */
enum { ARG_NONE, ARG_B32, ARG_ADDR, ARG_BOOL, ARG_STRING };
enum { TARGET_KMS, TARGET_APP };
enum { WARN_NONE, WARN_REMOVE_DEVICE, WARN_ADD_HASH, WARN_ARG_APP_CODE, WARN_ARG_IMPL_CODE };
typedef struct {
    int target;       /* TARGET_KMS or TARGET_APP */
    int arg;          /* ARG_* kind of the positional argument */
    const char *what; /* the argument's name in messages, e.g. "OS image hash" */
    int (*b32)(dg_buf *, const uint8_t *, dg_err *);
    int (*addr)(dg_buf *, const uint8_t *, dg_err *);
    int (*boolean)(dg_buf *, int, dg_err *);
    int (*str)(dg_buf *, const char *, dg_err *);
    const char *noarg_sig;
    const char *bool_flag; /* ARG_BOOL: the Hardhat flag that means true when no positional */
    const char *label;     /* contract function, e.g. "addOsImageHash" */
    const char *success;   /* the success line, verbatim from the guide */
    int warn;              /* WARN_* */
} simple_tx;
int cmd_simple_tx(cli *c);
/* transferOwnership / acceptOwnership (Ownable2Step): the same on both
 * contracts, indexed by TARGET_KMS / TARGET_APP. */
extern const simple_tx simple_transfer_ownership[2], simple_accept_ownership[2];

/* Deploy creation code (hex, no 0x) + constructor args; returns 1 with the new
 * address, CLI_DRY_RUN, or 0 with err. */
int cli_deploy(cli *c, const char *code_hex, const dg_buf *ctor_args, const char *label,
               uint8_t addr[20], uint8_t tx_hash[32], dg_err *err);
/* Deploy an ERC1967Proxy for impl with init calldata (kms.c). */
int cli_deploy_proxy(cli *c, const uint8_t impl[20], const dg_buf *init, const char *label,
                     uint8_t proxy[20], uint8_t tx_hash[32], dg_err *err);
/* Deploy a new implementation from creation code and upgrade the proxy to it,
 * after a preflight of the upgrade as the signer (kms.c). Returns an exit code. */
int cli_upgrade(cli *c, const char *name, const char *code, const uint8_t proxy[20]);
/* `deploy-impl` of either group: c->cmd->data names the contract, "DstackKms"
 * or "DstackApp" (kms.c). */
int cli_deploy_impl(cli *c);
/* The implementation behind an ERC-1967 proxy (its storage slot). */
int cli_read_impl_slot(cli *c, const uint8_t proxy[20], uint8_t impl[20], dg_err *err);
/* Balance of the signer. */
int cli_balance(cli *c, dg_u256 *out, dg_err *err);
/* Parse "true/false/1/0/yes/no". */
int cli_parse_bool(const char *s, int *out);

/* `kms history` / `app history` (history.c): PolicyChanged audit trail and current lists. */
int cmd_history(cli *c);

/* `check` output (check.c), shared by `check` and `near check`: one line per
 * rule ("[ok]", "[DENY]", "[--]" for ok 1, 0, -1) appended to the JSON array
 * checks; then the verdict lines (steals checks; returns 0 allowed, 1 denied). */
void cli_rule(cli *c, json_t *checks, int ok, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
int cli_decision(cli *c, json_t *checks, int allowed, const char *reason, const char *gw);

/* Help. */
void cli_print_cmd_help(FILE *out, const cmd_spec *cmd);

#endif
