/* main.c — dstack-gov's command table and dispatcher.
 *
 * `dstack-gov <group> <command> [flags]` (kms, app, check, devnet), top-level
 * `compose-hash FILE`, and the guide's Hardhat task names (`kms:add-image`,
 * `app:add-hash`, ...) as aliases of the same entries. `dstack-gov help X [Y]`
 * prints exactly what `X [Y] --help` prints. Everything else lives in the
 * group files; this file only finds the entry, parses its flags and runs it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

const flag_spec base_flags[] = {
    {"json", FLAG_BOOL, NULL, "print one JSON object on stdout (errors too)"},
    {"help", FLAG_BOOL, NULL, "show this help"},
    {NULL, 0, NULL, NULL},
};

const flag_spec chain_flags[] = {
    {"network", FLAG_STR, "NAME",
     "local | sepolia | base | mainnet | phala | test (checks the chain id)"},
    {"rpc-url", FLAG_STR, "URL", "JSON-RPC endpoint (default: $ETH_RPC_URL, else the network's)"},
    {"rpc-ca-file", FLAG_STR, "FILE",
     "trust only these PEM CAs for an https:// endpoint (default: $SSL_CERT_FILE, else the "
     "system's)"},
    {"chain-id", FLAG_STR, "N", "refuse to act unless the endpoint is chain N"},
    {"kms", FLAG_STR, "ADDR",
     "DstackKms proxy (default: $KMS_CONTRACT_ADDRESS or $KMS_CONTRACT_ADDR)"},
    {"timeout", FLAG_STR, "SECONDS", "how long to wait for a receipt (default 120)"},
    {"json", FLAG_BOOL, NULL, "print one JSON object on stdout (errors too)"},
    {"help", FLAG_BOOL, NULL, "show this help"},
    {NULL, 0, NULL, NULL},
};

const flag_spec tx_flags[] = {
    {"private-key-file", FLAG_STR, "FILE",
     "signer key file, mode 0600 (default: $PRIVATE_KEY_FILE, $PRIVATE_KEY)"},
    {"yes", FLAG_BOOL, NULL, "do not ask for confirmation (-y)"},
    {"dry-run", FLAG_BOOL, NULL, "check and print the transaction, send nothing"},
    {"gas-limit", FLAG_STR, "N",
     "gas limit instead of the estimate + 20%; refused below the estimate or the intrinsic gas"},
    {"force-gas-limit", FLAG_BOOL, NULL,
     "send --gas-limit even below the estimate or the intrinsic gas (it will run out of gas or "
     "be dropped)"},
    {"sender", FLAG_STR, "ADDR",
     "with --dry-run: simulate as this sender (e.g. a multisig owner), no key"},
    {"safe", FLAG_STR, "ADDR",
     "the change is made by this Safe (owner): with --sign, --execute or --export FILE"},
    {"sign", FLAG_BOOL, NULL,
     "with --safe: sign the SafeTx as an owner, into --proposal FILE (else print it)"},
    {"execute", FLAG_BOOL, NULL,
     "with --safe: send execTransaction with the signatures of --proposal FILE"},
    {"proposal", FLAG_STR, "FILE", "with --safe: the proposal JSON owners sign and pass around"},
    {"export", FLAG_STR, "FILE", "with --safe: write a Safe{Wallet} Transaction Builder batch"},
    {"timelock", FLAG_STR, "ADDR",
     "the owner is this TimelockController: schedule the change (with --safe: the Safe "
     "proposes)"},
    {"delay", FLAG_STR, "SECONDS", "with --timelock: delay (default: the timelock's minimum)"},
    {"salt", FLAG_STR, "HEX32", "with --timelock: operation salt (default zero)"},
    {NULL, 0, NULL, NULL},
};

static const struct {
    const char *name;
    const cmd_spec *cmds;
    const char *summary;
} groups[] = {
    {"kms", kms_cmds, "deploy and govern the DstackKms contract"},
    {"app", app_cmds, "govern one app's DstackApp contract"},
    {"check", check_cmds, "ask the contracts whether a boot would be allowed, and why"},
    {"devnet", devnet_cmds, "a local anvil chain with the contracts deployed"},
    {"timelock", timelock_cmds,
     "status, execute or cancel an operation a --timelock change scheduled"},
    {"attest", attest_cmds, "verify a TDX quote (DCAP) and a dstack event log"},
};
#define NGROUPS (sizeof groups / sizeof groups[0])

/* Top-level commands, one table per file that defines some. */
static const cmd_spec *const top_tables[] = {top_cmds, explore_cmds};
#define NTOP (sizeof top_tables / sizeof top_tables[0])

static void print_exit_codes(FILE *out) {
    fprintf(out, "Exit codes:\n   0 success              1 boot denied (check)\n");
    for (int k = DG_ERR_INPUT; k <= DG_ERR_LAST; k++)
        fprintf(out, "  %2d %-18s%s", cli_exit_code((dg_err_code)k), dg_err_name((dg_err_code)k),
                (k % 3 == 0 || k == DG_ERR_LAST) ? "\n" : "");
    fprintf(out, "  key-file: the key file is unusable (missing, unreadable, readable by others,\n"
                 "  malformed: the message says which); tx-dropped: the node dropped the sent\n"
                 "  transaction, it will not be mined (sending again is safe); proposal: a Safe\n"
                 "  proposal does not verify (hash vs content, signatures, threshold, nonce).\n");
}

static void print_main_help(FILE *out) {
    fprintf(out, "usage: dstack-gov <group> <command> [flags]\n"
                 "       dstack-gov help <group> [<command>]\n\n"
                 "On-chain governance of the dstack KMS (DstackKms / DstackApp contracts).\n\n"
                 "Groups:\n");
    for (size_t g = 0; g < NGROUPS; g++)
        fprintf(out, "  %-14s %s\n", groups[g].name, groups[g].summary);
    fprintf(out, "  %-14s %s\n", "near",
            "NEAR: the KMS and app contracts (`dstack-gov near --help`)");
    fprintf(out, "\nCommands:\n");
    for (size_t t = 0; t < NTOP; t++)
        for (const cmd_spec *c = top_tables[t]; c->name; c++)
            fprintf(out, "  %-14s %s\n", c->name, c->summary);
    fprintf(out,
            "\nThe Hardhat task names of the dstack guide work as aliases with the same flags\n"
            "and success lines (kms:add-image, kms:create-app, app:add-hash, ...; see\n"
            "`dstack-gov help aliases`).\n\n"
            "Environment: ETH_RPC_URL, ALCHEMY_API_KEY, PRIVATE_KEY or PRIVATE_KEY_FILE,\n"
            "KMS_CONTRACT_ADDRESS (or KMS_CONTRACT_ADDR), APP_CONTRACT_ADDR, SSL_CERT_FILE.\n\n");
    print_exit_codes(out);
}

static void print_group_help(FILE *out, size_t g) {
    fprintf(out, "usage: dstack-gov %s <command> [flags]\n\n%s.\n\nCommands:\n", groups[g].name,
            groups[g].summary);
    for (const cmd_spec *c = groups[g].cmds; c->name; c++)
        fprintf(out, "  %-26s %s\n", c->name, c->summary);
    fprintf(out, "\nRun `dstack-gov %s <command> --help` for its flags.\n", groups[g].name);
}

static void print_aliases(FILE *out) {
    fprintf(out, "Hardhat task aliases (same flags, same success lines):\n");
    for (size_t g = 0; g < NGROUPS; g++)
        for (const cmd_spec *c = groups[g].cmds; c->name; c++)
            if (c->alias) fprintf(out, "  %-32s = dstack-gov %s %s\n", c->alias, c->group, c->name);
    fprintf(out, "\nNEAR (the guide's `bun cli.ts` names, same success lines):\n");
    for (const cmd_spec *c = near_cmds; c->name; c++)
        if (c->alias)
            fprintf(out, "  near %-27s = dstack-gov %s %s\n", c->alias, c->group, c->name);
}

/* ---------------------------------------------------------------- near */

static const char *const near_subgroups[][2] = {
    {"kms", "deploy and govern the NEAR KMS contract"},
    {"app", "register and govern one app's NEAR contract"},
    {"check", "ask the NEAR contracts whether a boot would be allowed, and why"},
};

static void print_near_help(FILE *out) {
    fprintf(out,
            "usage: dstack-gov near <kms|app|check> <command> [flags]\n"
            "       dstack-gov near <guide command> ...   (deploy, add-hash, add-os-image, ...)\n\n"
            "NEAR governance of the dstack KMS (the KMS contract and per-app contracts).\n");
    for (size_t g = 0; g < sizeof near_subgroups / sizeof near_subgroups[0]; g++) {
        char grp[32];
        snprintf(grp, sizeof grp, "near %s", near_subgroups[g][0]);
        fprintf(out, "\n%s: %s\n", grp, near_subgroups[g][1]);
        for (const cmd_spec *c = near_cmds; c->name; c++)
            if (strcmp(c->group, grp) == 0)
                fprintf(out, "  %-22s %s%s%s\n", c->name, c->summary, c->alias ? " [alias " : "",
                        c->alias ? c->alias : "");
    }
    fprintf(out, "\nEnvironment: NEAR_RPC_URL, NEAR_NETWORK_ID (mainnet|testnet|local), "
                 "NEAR_ACCOUNT_ID,\nNEAR_PRIVATE_KEY (or --private-key-file, or "
                 "~/.near-credentials/<network>/<account>.json),\nKMS_CONTRACT_ID.\n"
                 "Run `dstack-gov near <group> <command> --help` for flags.\n");
}

/* `near <group> <cmd>` or `near <alias>`: the entry, or NULL. *used = argv words consumed. */
static const cmd_spec *find_near(int argc, char **argv, int *used, char *invoked, size_t cap) {
    if (argc >= 3)
        for (const cmd_spec *c = near_cmds; c->name; c++)
            if (c->alias && strcmp(c->alias, argv[2]) == 0) {
                *used = 3;
                snprintf(invoked, cap, "near %s", argv[2]);
                return c;
            }
    if (argc >= 4) {
        char grp[40];
        snprintf(grp, sizeof grp, "near %s", argv[2]);
        for (const cmd_spec *c = near_cmds; c->name; c++)
            if (strcmp(c->group, grp) == 0 && strcmp(c->name, argv[3]) == 0) {
                *used = 4;
                snprintf(invoked, cap, "%s %s", grp, argv[3]);
                return c;
            }
    }
    return NULL;
}

static int is_near(const cmd_spec *cmd) {
    return cmd->group && strncmp(cmd->group, "near", 4) == 0;
}

void cli_print_cmd_help(FILE *out, const cmd_spec *cmd) {
    fprintf(out, "usage: dstack-gov %s%s%s%s%s [flags]\n", cmd->group ? cmd->group : "",
            cmd->group ? " " : "", cmd->name, cmd->args ? " " : "", cmd->args ? cmd->args : "");
    if (cmd->alias)
        fprintf(out, "alias: dstack-gov %s%s\n", is_near(cmd) ? "near " : "", cmd->alias);
    fprintf(out, "\n%s\n", cmd->summary);
    if (cmd->details) fprintf(out, "\n%s\n", cmd->details);
    if (cmd->flags && cmd->flags[0].name) {
        fprintf(out, "\nFlags:\n");
        flags_print(out, cmd->flags);
    }
    if (cmd->needs & (NEED_KEY | NEED_NEAR_KEY)) {
        fprintf(out, "\nTransaction flags:\n");
        flags_print(out, (cmd->needs & NEED_KEY) ? tx_flags : near_tx_flags);
    }
    if (cmd->needs & (NEED_CHAIN | NEED_NEAR)) {
        fprintf(out, "\nNetwork flags:\n");
        flags_print(out, (cmd->needs & NEED_CHAIN) ? chain_flags : near_chain_flags);
    } else {
        fprintf(out, "\nCommon flags:\n");
        flags_print(out, base_flags);
    }
    fprintf(out, "\n");
    print_exit_codes(out);
}

static const cmd_spec *find_alias(const char *name) {
    for (size_t g = 0; g < NGROUPS; g++)
        for (const cmd_spec *c = groups[g].cmds; c->name; c++)
            if (c->alias && strcmp(c->alias, name) == 0) return c;
    return NULL;
}

static long find_group(const char *name) {
    for (size_t g = 0; g < NGROUPS; g++)
        if (strcmp(groups[g].name, name) == 0) return (long)g;
    return -1;
}

static const cmd_spec *find_cmd(size_t g, const char *name) {
    for (const cmd_spec *c = groups[g].cmds; c->name; c++)
        if (strcmp(c->name, name) == 0) return c;
    return NULL;
}

static const cmd_spec *find_top(const char *name) {
    for (size_t t = 0; t < NTOP; t++)
        for (const cmd_spec *c = top_tables[t]; c->name; c++)
            if (strcmp(c->name, name) == 0) return c;
    return NULL;
}

static int usage_error(const char *what, const char *a, const char *b);
static int run(const cmd_spec *cmd, const char *invoked, int is_alias, int argc, char **argv);

static int near_main(int argc, char **argv) {
    if (argc < 3 || strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0) {
        print_near_help(argc < 3 ? stderr : stdout);
        return argc < 3 ? cli_exit_code(DG_ERR_INPUT) : 0;
    }
    int used = 0;
    char invoked[96];
    const cmd_spec *c = find_near(argc, argv, &used, invoked, sizeof invoked);
    if (!c) {
        if (argc == 3 || (argc >= 4 && (strcmp(argv[3], "--help") == 0)))
            for (size_t g = 0; g < sizeof near_subgroups / sizeof near_subgroups[0]; g++)
                if (strcmp(argv[2], near_subgroups[g][0]) == 0) {
                    print_near_help(stdout);
                    return argc == 3 ? cli_exit_code(DG_ERR_INPUT) : 0;
                }
        return usage_error("unknown NEAR command", argv[2], argc >= 4 ? argv[3] : NULL);
    }
    return run(c, invoked, used == 3, argc - used, argv + used);
}

static int usage_error(const char *what, const char *a, const char *b) {
    fprintf(stderr, "dstack-gov: %s \"%s%s%s\" (see `dstack-gov --help`)\n", what, a, b ? " " : "",
            b ? b : "");
    return cli_exit_code(DG_ERR_INPUT);
}

static int run(const cmd_spec *cmd, const char *invoked, int is_alias, int argc, char **argv) {
    cli c;
    dg_err err = {DG_OK, ""};
    memset(&c, 0, sizeof c);
    c.cmd = cmd;
    c.invoked = invoked;
    c.is_alias = is_alias;
    /* --json must be known before a parse error is reported */
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "--json") == 0) c.json = 1;
    const flag_spec *t2 = (cmd->needs & NEED_KEY)        ? tx_flags
                          : (cmd->needs & NEED_NEAR_KEY) ? near_tx_flags
                                                         : NULL;
    const flag_spec *t3 = (cmd->needs & NEED_CHAIN)  ? chain_flags
                          : (cmd->needs & NEED_NEAR) ? near_chain_flags
                                                     : base_flags;
    if (!flags_parse(&c.f, argc, argv, cmd->flags, t2, t3, &err)) {
        dg_err_wrap(&err, "%s", invoked);
        int code = cli_fail(&c, &err);
        if (!c.json) fprintf(stderr, "Run `dstack-gov %s --help` for usage.\n", invoked);
        return code;
    }
    if (flag_bool(&c.f, "help")) {
        cli_print_cmd_help(stdout, cmd);
        return 0;
    }
    c.json = flag_bool(&c.f, "json");
    c.yes = flag_bool(&c.f, "yes");
    c.dry_run = flag_bool(&c.f, "dry-run");
    c.tty_in = isatty(0);
    c.tty_err = isatty(2);
    if (c.f.npos < cmd->min_pos || c.f.npos > cmd->max_pos) {
        int code = cli_failf(&c, DG_ERR_INPUT, "%s: expected %s%s, got %zu argument%s", invoked,
                             cmd->args ? cmd->args : "no arguments",
                             cmd->min_pos || !cmd->args ? "" : " (optional)", c.f.npos,
                             c.f.npos == 1 ? "" : "s");
        if (!c.json) fprintf(stderr, "Run `dstack-gov %s --help` for usage.\n", invoked);
        return code;
    }
    if (c.json) c.out = json_object();
    if (!cli_setup(&c, &err)) return cli_finish(&c, cli_fail(&c, &err));
    return cli_finish(&c, cmd->fn(&c));
}

int main(int argc, char **argv) {
    if (argc < 2) {
        print_main_help(stderr);
        return cli_exit_code(DG_ERR_INPUT);
    }
    const char *a = argv[1];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
        print_main_help(stdout);
        return 0;
    }
    if (strcmp(a, "--version") == 0 || strcmp(a, "version") == 0) {
        printf("dstack-gov 0.1.0\n");
        return 0;
    }
    if (strcmp(a, "help") == 0) {
        if (argc < 3) {
            print_main_help(stdout);
            return 0;
        }
        if (strcmp(argv[2], "aliases") == 0) {
            print_aliases(stdout);
            return 0;
        }
        if (strcmp(argv[2], "near") == 0) {
            int used = 0;
            char inv[96];
            const cmd_spec *nc = find_near(argc - 1, argv + 1, &used, inv, sizeof inv);
            if (!nc) {
                print_near_help(stdout);
                return 0;
            }
            cli_print_cmd_help(stdout, nc);
            return 0;
        }
        const cmd_spec *c = find_alias(argv[2]);
        if (!c) c = find_top(argv[2]);
        long g = find_group(argv[2]);
        if (!c && g >= 0) {
            if (argc < 4) {
                print_group_help(stdout, (size_t)g);
                return 0;
            }
            c = find_cmd((size_t)g, argv[3]);
            if (!c) return usage_error("unknown command", argv[2], argv[3]);
        }
        if (!c) return usage_error("unknown command", argv[2], NULL);
        cli_print_cmd_help(stdout, c);
        return 0;
    }
    if (strchr(a, ':')) {
        const cmd_spec *c = find_alias(a);
        if (!c) return usage_error("unknown task (see `dstack-gov help aliases`)", a, NULL);
        return run(c, a, 1, argc - 2, argv + 2);
    }
    if (strcmp(a, "near") == 0) return near_main(argc, argv);
    const cmd_spec *top = find_top(a);
    if (top) return run(top, a, 0, argc - 2, argv + 2);
    long g = find_group(a);
    if (g < 0) return usage_error("unknown command", a, NULL);
    if (argc < 3 || strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0) {
        print_group_help(argc < 3 ? stderr : stdout, (size_t)g);
        return argc < 3 ? cli_exit_code(DG_ERR_INPUT) : 0;
    }
    const cmd_spec *c = find_cmd((size_t)g, argv[2]);
    if (!c) return usage_error("unknown command", a, argv[2]);
    char invoked[96];
    snprintf(invoked, sizeof invoked, "%s %s", a, argv[2]);
    return run(c, invoked, 0, argc - 3, argv + 3);
}
