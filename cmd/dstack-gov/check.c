/* check.c — `check app|kms --boot-info FILE`: would this boot be allowed?
 *
 * Asks the contracts exactly what the KMS's webhook asks (isAppAllowed /
 * isKmsAllowed with the same BootInfo, parsed by the same strict parser as
 * dstack-authd), and, in the same JSON-RPC batch pinned to one block, every
 * input of that decision — all in dg_gov_check (lib/eth/gov.c), which
 * `dstack-gov explore` uses too. This file prints the answer plus one line per
 * rule in the contract's order, so an operator sees which rule denies and what
 * to change. cli_rule and cli_decision print that shape for `near check` too.
 * Exit status: 0 allowed, 1 denied, otherwise an error class.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dstackgov/bootinfo.h"
#include "dstackgov/gov.h"

void cli_rule(cli *c, json_t *checks, int ok, const char *name, const char *fmt, ...) {
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cli_say(c, "  %s %s", ok > 0 ? "[ok]  " : ok == 0 ? "[DENY]" : "[--]  ", msg);
    json_array_append_new(checks,
                          json_pack("{s:s,s:o,s:s}", "rule", name, "ok",
                                    ok < 0 ? json_null() : json_boolean(ok > 0), "detail", msg));
}

int cli_decision(cli *c, json_t *checks, int allowed, const char *reason, const char *gw) {
    cli_json_set(c, "isAllowed", json_boolean(allowed));
    cli_json_set(c, "reason", json_string(reason));
    cli_json_set(c, "gatewayAppId", json_string(gw ? gw : ""));
    cli_json_set(c, "checks", checks);
    cli_say(c, "Is Allowed: %s", allowed ? "true" : "false");
    cli_say(c, "Reason: %s", reason);
    if (gw) cli_say(c, "Gateway App ID: %s", gw);
    return allowed ? 0 : 1;
}

static int load_bootinfo(cli *c, dg_bootinfo *bi, dg_err *err) {
    const char *path = flag_str(&c->f, "boot-info");
    if (!path)
        return dg_err_set(err, DG_ERR_INPUT,
                          "check needs --boot-info FILE (the BootInfo "
                          "JSON the KMS sends)");
    dg_buf file;
    dg_buf_init(&file);
    int ok = cli_read_file(path, &file, DG_BOOTINFO_BODY_MAX, err) &&
             dg_bootinfo_parse(bi, (const char *)file.data, file.len, err);
    dg_buf_free(&file);
    if (!ok) return dg_err_wrap(err, "%s", path);
    return 1;
}

static int run_check(cli *c, dg_route route) {
    dg_err err = {DG_OK, ""};
    dg_bootinfo bi;
    dg_gov_verdict v;
    dg_bootinfo_init(&bi);
    int code;
    if (!load_bootinfo(c, &bi, &err) || !cli_connect(c, &err) ||
        !dg_gov_check(c->rpc, c->kms, &bi, route, &v, &err) ||
        !cli_check_chain(c, v.chain_id, &err)) {
        code = cli_fail(c, &err);
    } else if (!v.kms_answers) {
        char s[43];
        cli_fmt_addr(c->kms, s);
        code = cli_failf(c, DG_ERR_NO_CODE,
                         "%s on chain %llu does not answer %s: no "
                         "DstackKms there (wrong --kms or network?)",
                         s, (unsigned long long)c->chain_id, v.kms_probe);
    } else {
        cli_json_set(c, "blockNumber", json_integer((json_int_t)v.block_number));
        if (route == DG_ROUTE_APP) {
            char app_s[43];
            cli_fmt_addr(bi.app_id, app_s);
            cli_say(c, "Boot of app %s at block %llu on chain %llu:", app_s,
                    (unsigned long long)v.block_number, (unsigned long long)c->chain_id);
        } else {
            cli_say(c, "Boot of a KMS instance at block %llu on chain %llu:",
                    (unsigned long long)v.block_number, (unsigned long long)c->chain_id);
        }
        json_t *checks = json_array();
        for (size_t i = 0; i < v.nrules; i++)
            cli_rule(c, checks, v.rules[i].ok, v.rules[i].name, "%s", v.rules[i].detail);
        code = cli_decision(c, checks, v.allowed, v.reason, v.gateway_app_id);
    }
    dg_bootinfo_free(&bi);
    return code;
}

static int cmd_check_app(cli *c) {
    return run_check(c, DG_ROUTE_APP);
}

static int cmd_check_kms(cli *c) {
    return run_check(c, DG_ROUTE_KMS);
}

static const flag_spec check_flags[] = {
    {"boot-info", FLAG_STR, "FILE", "the BootInfo JSON, as the KMS posts it to /bootAuth/*"},
    {NULL, 0, NULL, NULL},
};

#define BOOTINFO_HELP                                                                              \
    "FILE holds the JSON the KMS posts: {\"appId\", \"composeHash\", \"instanceId\", "             \
    "\"deviceId\",\n\"mrAggregated\", \"mrSystem\", \"osImageHash\", \"tcbStatus\", "              \
    "\"advisoryIds\"}; hex with exact lengths.\nExit status 0 when allowed, 1 when denied."

const cmd_spec check_cmds[] = {
    {"check", "app", NULL, NULL, 0, 0, NEED_CHAIN | NEED_KMS, check_flags,
     "would the KMS let this app boot? (isAppAllowed, explained rule by rule)", BOOTINFO_HELP,
     cmd_check_app, NULL},
    {"check", "kms", NULL, NULL, 0, 0, NEED_CHAIN | NEED_KMS, check_flags,
     "would this KMS instance be allowed? (isKmsAllowed, explained rule by rule)", BOOTINFO_HELP,
     cmd_check_kms, NULL},
    {NULL, NULL, NULL, NULL, 0, 0, 0, NULL, NULL, NULL, NULL, NULL},
};
