/* check.c — `check app|kms --boot-info FILE`: would this boot be allowed?
 *
 * Asks the contracts exactly what the KMS's webhook asks (isAppAllowed /
 * isKmsAllowed with the same BootInfo, parsed by the same strict parser as
 * dstack-authd), and, in the same JSON-RPC batch pinned to one block, every
 * input of that decision (registration, OS image, the app's TCB flag, compose
 * hash, device list). The output is the answer plus one line per rule in the
 * contract's order, so an operator sees which rule denies and what to change.
 * Exit status: 0 allowed, 1 denied, otherwise an error class.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dstackgov/bootinfo.h"
#include "dstackgov/contracts.h"
#include "dstackgov/hex.h"

typedef struct {
    json_t *checks;
} explain;

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

static int load_bootinfo(cli *c, dg_bootinfo *bi, dg_app_boot_info *abi, const char **adv,
                         dg_err *err) {
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
    memset(abi, 0, sizeof *abi);
    memcpy(abi->app_id, bi->app_id, 20);
    memcpy(abi->compose_hash, bi->compose_hash, 32);
    memcpy(abi->instance_id, bi->instance_id, 20);
    memcpy(abi->device_id, bi->device_id, 32);
    memcpy(abi->mr_aggregated, bi->mr_aggregated, 32);
    memcpy(abi->mr_system, bi->mr_system, 32);
    memcpy(abi->os_image_hash, bi->os_image_hash, 32);
    abi->tcb_status = bi->tcb_status;
    for (size_t i = 0; i < bi->n_advisory; i++)
        adv[i] = dg_bootinfo_advisory(bi, i, NULL);
    abi->advisory_ids = adv;
    abi->n_advisory_ids = bi->n_advisory;
    return 1;
}

static int pin_block(cli *c, char blk[24], uint64_t *num, dg_err *err) {
    uint64_t n;
    json_t *res = NULL;
    if (!cli_connect(c, err)) return 0;
    if (!dg_rpc_call(c->rpc, "eth_blockNumber", json_array(), &res, err)) return 0;
    int ok = dg_eth_quantity_u64(res, &n, err);
    json_decref(res);
    if (!ok) return 0;
    snprintf(blk, 24, "0x%llx", (unsigned long long)n);
    *num = n;
    cli_json_set(c, "blockNumber", json_integer((json_int_t)n));
    return 1;
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

/* One check in flight: the boot it judges and one batch of eth_calls pinned to
 * one block. Both checks share everything but their calls and their rules. */
enum { CHECK_CALLS_MAX = 11, REASON_LEN = 300 };
typedef struct {
    dg_bootinfo bi;
    dg_app_boot_info abi;
    const char *adv[DG_BOOTINFO_ADV_MAX];
    dg_buf q[CHECK_CALLS_MAX], ret[CHECK_CALLS_MAX];
    uint8_t to[CHECK_CALLS_MAX][20];
    int ok[CHECK_CALLS_MAX];
    uint64_t bnum;
    explain x;
} check_run;

typedef struct {
    size_t n;          /* calls in the batch (every `to` defaults to the KMS) */
    size_t gw;         /* the gatewayAppId() call */
    size_t must;       /* a call the KMS must answer, else it is no DstackKms */
    const char *probe; /* the function named when it does not answer */
    int (*encode)(check_run *r, dg_err *err);                    /* fill q (and to) */
    int (*judge)(cli *c, check_run *r, char reason[REASON_LEN]); /* rules; returns allowed */
} check_kind;

static int run_check(cli *c, const check_kind *k) {
    dg_err err = {DG_OK, ""};
    check_run r;
    dg_bootinfo_init(&r.bi);
    if (!load_bootinfo(c, &r.bi, &r.abi, r.adv, &err)) {
        dg_bootinfo_free(&r.bi);
        return cli_fail(c, &err);
    }
    for (size_t i = 0; i < k->n; i++) {
        dg_buf_init(&r.q[i]);
        dg_buf_init(&r.ret[i]);
        memcpy(r.to[i], c->kms, 20);
    }
    int code;
    char blk[24], *gw = NULL, reason[REASON_LEN];
    r.bnum = 0;
    r.x.checks = json_array();
    if (!k->encode(&r, &err) || !pin_block(c, blk, &r.bnum, &err) ||
        !cli_call_batch(c, (const uint8_t(*)[20])r.to, r.q, k->n, blk, r.ret, r.ok, &err)) {
        code = cli_fail(c, &err);
        json_decref(r.x.checks);
    } else if (!r.ok[k->must] || !r.ok[k->gw]) {
        char s[43];
        cli_fmt_addr(c->kms, s);
        code = cli_failf(c, DG_ERR_NO_CODE,
                         "%s on chain %llu does not answer %s: no "
                         "DstackKms there (wrong --kms or network?)",
                         s, (unsigned long long)c->chain_id, k->probe);
        json_decref(r.x.checks);
    } else {
        dg_contract_decode_string(r.ret[k->gw].data, r.ret[k->gw].len, &gw, NULL);
        int allowed = k->judge(c, &r, reason);
        code = cli_decision(c, r.x.checks, allowed, reason, gw);
    }
    free(gw);
    for (size_t i = 0; i < k->n; i++) {
        dg_buf_free(&r.q[i]);
        dg_buf_free(&r.ret[i]);
    }
    dg_bootinfo_free(&r.bi);
    return code;
}

/* ------------------------------------------------------------------ check app */

enum {
    K_ALLOWED,
    K_REG,
    K_DEREG,
    K_OS,
    K_GW,
    A_TCB,
    A_HASH,
    A_ANY,
    A_DEV,
    A_ALLOWED,
    A_IFACE,
    APP_CALLS
};
_Static_assert((int)APP_CALLS <= (int)CHECK_CALLS_MAX, "check app: batch larger than check_run");

static int encode_app(check_run *r, dg_err *err) {
    static const uint8_t IAPPAUTH[4] = {0x1e, 0x07, 0x91, 0x98};
    const dg_app_boot_info *abi = &r->abi;
    for (int i = A_TCB; i < APP_CALLS; i++)
        memcpy(r->to[i], abi->app_id, 20);
    return dg_kms_is_app_allowed(&r->q[K_ALLOWED], abi, err) &&
           dg_kms_registered_apps(&r->q[K_REG], abi->app_id, err) &&
           dg_kms_deregistered_apps(&r->q[K_DEREG], abi->app_id, err) &&
           dg_kms_allowed_os_images(&r->q[K_OS], abi->os_image_hash, err) &&
           dg_contract_encode_noarg(&r->q[K_GW], DG_SIG_GATEWAY_APP_ID, err) &&
           dg_contract_encode_noarg(&r->q[A_TCB], DG_SIG_APP_REQUIRE_TCB, err) &&
           dg_app_allowed_compose_hashes(&r->q[A_HASH], abi->compose_hash, err) &&
           dg_contract_encode_noarg(&r->q[A_ANY], DG_SIG_APP_ALLOW_ANY_DEVICE, err) &&
           dg_app_allowed_device_ids(&r->q[A_DEV], abi->device_id, err) &&
           dg_app_is_app_allowed(&r->q[A_ALLOWED], abi, err) &&
           dg_contract_supports_interface(&r->q[A_IFACE], IAPPAUTH, err);
}

static int judge_app(cli *c, check_run *r, char reason[REASON_LEN]) {
    const dg_buf *ret = r->ret;
    const int *ok = r->ok;
    int reg = 0, dereg = 0, os = 0, tcb = 0, hash = 0, any = 0, dev = 0;
    dg_contract_decode_bool(ret[K_REG].data, ret[K_REG].len, &reg, NULL);
    if (ok[K_DEREG]) dg_contract_decode_bool(ret[K_DEREG].data, ret[K_DEREG].len, &dereg, NULL);
    dg_contract_decode_bool(ret[K_OS].data, ret[K_OS].len, &os, NULL);
    int app_ok = ok[A_ANY] && ok[A_HASH];
    if (ok[A_TCB]) dg_contract_decode_bool(ret[A_TCB].data, ret[A_TCB].len, &tcb, NULL);
    if (app_ok) {
        dg_contract_decode_bool(ret[A_HASH].data, ret[A_HASH].len, &hash, NULL);
        dg_contract_decode_bool(ret[A_ANY].data, ret[A_ANY].len, &any, NULL);
        dg_contract_decode_bool(ret[A_DEV].data, ret[A_DEV].len, &dev, NULL);
    }
    char app_s[43], h[67];
    cli_fmt_addr(r->abi.app_id, app_s);
    cli_say(c, "Boot of app %s at block %llu on chain %llu:", app_s, (unsigned long long)r->bnum,
            (unsigned long long)c->chain_id);
    cli_rule(c, r->x.checks, reg, "registered", "app %s is %s in the KMS", app_s,
             reg     ? "registered"
             : dereg ? "DEREGISTERED by the KMS owner"
                     : "not registered");
    cli_fmt_b32(r->abi.os_image_hash, h);
    cli_rule(c, r->x.checks, os, "os-image", "OS image %s is %s", h,
             os ? "allowed" : "not allowed (kms add-image)");
    int iface = 0;
    if (ok[A_IFACE]) dg_contract_decode_bool(ret[A_IFACE].data, ret[A_IFACE].len, &iface, NULL);
    cli_rule(c, r->x.checks, app_ok, "app-contract", "app contract %s",
             app_ok ? (iface ? "answers and implements IAppAuth (ERC-165 0x1e079198)"
                             : "answers, but does not declare IAppAuth (ERC-165 0x1e079198)")
             : ok[A_IFACE] && iface
                 ? "implements IAppAuth but is not a DstackApp: only its own isAppAllowed decides"
                 : "has no code or is not a DstackApp");
    if (app_ok) {
        int tcb_ok = !tcb || strcmp(r->bi.tcb_status, "UpToDate") == 0;
        cli_rule(c, r->x.checks, tcb_ok, "tcb", "TCB: app %s up-to-date TCB, boot reports \"%s\"",
                 tcb ? "requires" : "does not require", r->bi.tcb_status);
        cli_fmt_b32(r->abi.compose_hash, h);
        cli_rule(c, r->x.checks, hash, "compose-hash", "compose hash %s is %s", h,
                 hash ? "allowed" : "not allowed (app add-hash)");
        cli_fmt_b32(r->abi.device_id, h);
        cli_rule(c, r->x.checks, any || dev, "device", "device %s: %s", h,
                 any   ? "any device is allowed"
                 : dev ? "allowed"
                       : "not allowed (app add-device)");
    }
    int allowed = 0;
    if (ok[K_ALLOWED]) {
        dg_contract_decode_allowed(ret[K_ALLOWED].data, ret[K_ALLOWED].len, &allowed, reason,
                                   REASON_LEN, NULL);
    } else {
        snprintf(reason, REASON_LEN,
                 "the KMS contract's isAppAllowed reverted (the app "
                 "contract reverts): a webhook reports \"authorization backend unavailable\"");
    }
    return allowed;
}

static const check_kind check_app = {APP_CALLS,        K_GW,       K_GW,
                                     "gatewayAppId()", encode_app, judge_app};

static int cmd_check_app(cli *c) {
    return run_check(c, &check_app);
}

/* ------------------------------------------------------------------ check kms */

enum { KC_ALLOWED, KC_OS, KC_MR, KC_DEV, KC_GW, KMS_CALLS };
_Static_assert((int)KMS_CALLS <= (int)CHECK_CALLS_MAX, "check kms: batch larger than check_run");

static int encode_kms(check_run *r, dg_err *err) {
    const dg_app_boot_info *abi = &r->abi;
    return dg_kms_is_kms_allowed(&r->q[KC_ALLOWED], abi, err) &&
           dg_kms_allowed_os_images(&r->q[KC_OS], abi->os_image_hash, err) &&
           dg_kms_allowed_aggregated_mrs(&r->q[KC_MR], abi->mr_aggregated, err) &&
           dg_kms_allowed_device_ids(&r->q[KC_DEV], abi->device_id, err) &&
           dg_contract_encode_noarg(&r->q[KC_GW], DG_SIG_GATEWAY_APP_ID, err);
}

static int judge_kms(cli *c, check_run *r, char reason[REASON_LEN]) {
    const dg_buf *ret = r->ret;
    const char *tcb = r->bi.tcb_status;
    int os = 0, mr = 0, dev = 0, allowed = 0;
    dg_contract_decode_bool(ret[KC_OS].data, ret[KC_OS].len, &os, NULL);
    dg_contract_decode_bool(ret[KC_MR].data, ret[KC_MR].len, &mr, NULL);
    dg_contract_decode_bool(ret[KC_DEV].data, ret[KC_DEV].len, &dev, NULL);
    char h[67];
    cli_say(c, "Boot of a KMS instance at block %llu on chain %llu:", (unsigned long long)r->bnum,
            (unsigned long long)c->chain_id);
    cli_rule(c, r->x.checks, strcmp(tcb, "UpToDate") == 0, "tcb", "TCB status \"%s\" %s", tcb,
             strcmp(tcb, "UpToDate") == 0 ? "is UpToDate" : "is not UpToDate (required for a KMS)");
    cli_fmt_b32(r->abi.os_image_hash, h);
    cli_rule(c, r->x.checks, os, "os-image", "OS image %s is %s", h,
             os ? "allowed" : "not allowed (kms add-image)");
    cli_fmt_b32(r->abi.mr_aggregated, h);
    cli_rule(c, r->x.checks, mr, "mr-aggregated", "aggregated MR %s is %s", h,
             mr ? "allowed" : "not allowed (kms add-mr)");
    cli_fmt_b32(r->abi.device_id, h);
    cli_rule(c, r->x.checks, dev, "device", "device %s is %s", h,
             dev ? "allowed" : "not allowed (kms add-device)");
    dg_contract_decode_allowed(ret[KC_ALLOWED].data, ret[KC_ALLOWED].len, &allowed, reason,
                               REASON_LEN, NULL);
    return allowed;
}

static const check_kind check_kms = {KMS_CALLS,        KC_GW,      KC_ALLOWED,
                                     "isKmsAllowed()", encode_kms, judge_kms};

static int cmd_check_kms(cli *c) {
    return run_check(c, &check_kms);
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
