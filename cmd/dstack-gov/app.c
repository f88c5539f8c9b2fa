/* app.c — the `app` command group: govern one app's DstackApp contract.
 *
 * The app id IS the DstackApp proxy address (--app-id). Besides the guide's
 * commands this group has the two that fix upstream's traps: `rotate-hash`
 * replaces a compose hash in ONE transaction (multicall of add + remove, so
 * the old version stops booting the moment the new one may), and warnings when
 * an add leaves the old hash bootable or a device removal changes nothing
 * because any device is allowed.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dg_contracts_gen.h"
#include "dstackgov/contracts.h"
#include "dstackgov/hex.h"

static const uint8_t ZERO20[20];

/* ------------------------------------------------------------------ deploy (standalone) */

static int cmd_deploy(cli *c) {
    dg_err err = {DG_OK, ""};
    uint8_t impl[20], proxy[20], h[32];
    cli_app_init a;
    if (!cli_parse_app_init(c, &a, &err)) return cli_fail(c, &err);
    dg_buf q, ret;
    dg_buf_init(&q);
    dg_buf_init(&ret);
    int ok = dg_contract_encode_noarg(&q, DG_SIG_APP_IMPLEMENTATION, &err) &&
             cli_call(c, c->kms, &q, &ret, &err) &&
             dg_contract_decode_address(ret.data, ret.len, impl, &err);
    dg_buf_free(&q);
    dg_buf_free(&ret);
    if (!ok) return cli_fail(c, &err);
    if (memcmp(impl, ZERO20, 20) == 0)
        return cli_failf(c, DG_ERR_INPUT,
                         "the KMS has no DstackApp implementation set (run "
                         "`dstack-gov kms set-app-implementation ADDR`)");
    dg_buf init;
    dg_buf_init(&init);
    if (!dg_app_initialize(&init, a.owner, a.noup, a.tcb, a.any, a.dev, a.hash, &err)) {
        dg_buf_free(&init);
        return cli_fail(c, &err);
    }
    c->ntx_planned = 2;
    int rc = cli_deploy_proxy(c, impl, &init, "DstackApp proxy deployment", proxy, h, &err);
    dg_buf_free(&init);
    if (rc == CLI_DRY_RUN) return 0;
    if (!rc) return cli_fail(c, &err);
    dg_buf d;
    dg_buf_init(&d);
    dg_eth_receipt r;
    rc = dg_kms_register_app(&d, proxy, &err) &&
         cli_transact(c, c->kms, &d, "registerApp", &r, &err);
    dg_buf_free(&d);
    if (!rc) return cli_fail(c, &err);
    dg_eth_receipt_free(&r);
    char ps[43], os2[43], hs2[67];
    cli_fmt_addr(proxy, ps);
    cli_fmt_addr(a.owner, os2);
    cli_fmt_b32(h, hs2);
    cli_say(c, "✅ App deployed and registered successfully!");
    cli_say(c, "App ID: %s", ps);
    cli_say(c, "Proxy Address: %s", ps);
    cli_say(c, "Owner: %s", os2);
    cli_say(c, "Transaction hash: %s", hs2);
    cli_say(c, "Deployed with %d initial device and %d initial compose hash", a.ds ? 1 : 0,
            a.hs ? 1 : 0);
    cli_json_addr(c, "appId", proxy);
    cli_json_addr(c, "owner", a.owner);
    return 0;
}

static int cmd_upgrade(cli *c) {
    return cli_upgrade(c, "DstackApp", dg_gen_bytecode_DstackApp, c->app);
}

/* ------------------------------------------------------------------ rotate-hash */

static int cmd_rotate(cli *c) {
    dg_err err = {DG_OK, ""};
    uint8_t from[32], to[32];
    const char *fs = flag_str(&c->f, "from"), *ts = flag_str(&c->f, "to");
    if (!fs || !ts)
        return cli_failf(c, DG_ERR_INPUT, "app rotate-hash needs --from OLD and --to NEW");
    if (!cli_parse_b32(c, "--from", fs, from, &err) || !cli_parse_b32(c, "--to", ts, to, &err))
        return cli_fail(c, &err);
    if (memcmp(from, to, 32) == 0)
        return cli_failf(c, DG_ERR_INPUT, "--from and --to are the same compose hash");
    dg_buf calls[2], data;
    dg_buf_init(&calls[0]);
    dg_buf_init(&calls[1]);
    dg_buf_init(&data);
    int ok = dg_app_add_compose_hash(&calls[0], to, &err) &&
             dg_app_remove_compose_hash(&calls[1], from, &err) &&
             dg_app_multicall(&data, calls, 2, &err);
    dg_buf_free(&calls[0]);
    dg_buf_free(&calls[1]);
    if (!ok) {
        dg_buf_free(&data);
        return cli_fail(c, &err);
    }
    cli_json_addr(c, "contract", c->app);
    cli_json_hex(c, "from", from, 32);
    cli_json_hex(c, "to", to, 32);
    dg_eth_receipt r;
    int rc =
        cli_transact(c, c->app, &data, "multicall(addComposeHash, removeComposeHash)", &r, &err);
    dg_buf_free(&data);
    if (rc == CLI_DRY_RUN) return 0;
    if (!rc) return cli_fail(c, &err);
    dg_eth_receipt_free(&r);
    char a[67], b[67];
    cli_fmt_b32(from, a);
    cli_fmt_b32(to, b);
    cli_say(c, "Compose hash rotated successfully: %s replaced by %s", a, b);
    return 0;
}

/* ------------------------------------------------------------------ info */

static int cmd_info(cli *c) {
    dg_err err = {DG_OK, ""};
    const char *qh = flag_str(&c->f, "hash"), *qd = flag_str(&c->f, "device");
    uint8_t hh[32], dd[32];
    memset(hh, 0, 32);
    memset(dd, 0, 32);
    if ((qh && !cli_parse_b32(c, "--hash", qh, hh, &err)) ||
        (qd && !cli_parse_b32(c, "--device", qd, dd, &err)))
        return cli_fail(c, &err);
    enum { OWNER, PENDING, ANY, TCB, VERSION, QH, QD, REG, DEREG, N };
    dg_buf q[N], ret[N];
    uint8_t to[N][20];
    int ok[N];
    for (int i = 0; i < N; i++) {
        dg_buf_init(&q[i]);
        dg_buf_init(&ret[i]);
        memcpy(to[i], c->app, 20);
    }
    dg_contract_encode_noarg(&q[OWNER], DG_SIG_OWNER, NULL);
    dg_contract_encode_noarg(&q[PENDING], DG_SIG_PENDING_OWNER, NULL);
    dg_contract_encode_noarg(&q[ANY], DG_SIG_APP_ALLOW_ANY_DEVICE, NULL);
    dg_contract_encode_noarg(&q[TCB], DG_SIG_APP_REQUIRE_TCB, NULL);
    dg_contract_encode_noarg(&q[VERSION], DG_SIG_APP_VERSION, NULL);
    dg_app_allowed_compose_hashes(&q[QH], hh, NULL);
    dg_app_allowed_device_ids(&q[QD], dd, NULL);
    size_t n = QD + 1;
    if (c->has_kms) {
        dg_kms_registered_apps(&q[REG], c->app, NULL);
        dg_kms_deregistered_apps(&q[DEREG], c->app, NULL);
        memcpy(to[REG], c->kms, 20);
        memcpy(to[DEREG], c->kms, 20);
        n = N;
    }
    uint8_t impl[20];
    int code = 0;
    if (!cli_read_impl_slot(c, c->app, impl, &err) ||
        !cli_call_batch(c, (const uint8_t(*)[20])to, q, n, "latest", ret, ok, &err)) {
        code = cli_fail(c, &err);
        goto done;
    }
    if (!ok[OWNER] || !ok[ANY]) {
        char s[43];
        cli_fmt_addr(c->app, s);
        code = cli_failf(c, DG_ERR_NO_CODE,
                         "%s on chain %llu is not a DstackApp (no answer to "
                         "owner()/allowAnyDevice()): wrong app id or network?",
                         s, (unsigned long long)c->chain_id);
        goto done;
    }
    uint8_t owner[20], pending[20];
    int any = 0, tcb = 0, v = 0;
    uint64_t version = 0;
    memset(pending, 0, 20);
    dg_contract_decode_address(ret[OWNER].data, ret[OWNER].len, owner, NULL);
    if (ok[PENDING]) dg_contract_decode_address(ret[PENDING].data, ret[PENDING].len, pending, NULL);
    dg_contract_decode_bool(ret[ANY].data, ret[ANY].len, &any, NULL);
    if (ok[TCB]) dg_contract_decode_bool(ret[TCB].data, ret[TCB].len, &tcb, NULL);
    if (ok[VERSION]) dg_contract_decode_uint64(ret[VERSION].data, ret[VERSION].len, &version, NULL);
    char s[43];
    cli_fmt_addr(c->app, s);
    cli_say(c, "App id:                 %s", s);
    cli_say(c, "Chain id:               %llu", (unsigned long long)c->chain_id);
    cli_fmt_addr(owner, s);
    cli_say(c, "Owner:                  %s", s);
    cli_json_addr(c, "appId", c->app);
    cli_json_addr(c, "owner", owner);
    cli_fmt_addr(pending, s);
    cli_say(c, "Pending owner:          %s", memcmp(pending, ZERO20, 20) ? s : "none");
    cli_fmt_addr(impl, s);
    cli_say(c, "Implementation:         %s", s);
    cli_json_addr(c, "implementation", impl);
    cli_say(c, "Version:                %llu", (unsigned long long)version);
    cli_say(c, "Allow any device:       %s", any ? "true" : "false");
    cli_say(c, "Require TCB up to date: %s", tcb ? "true" : "false");
    cli_json_set(c, "allowAnyDevice", json_boolean(any));
    cli_json_set(c, "requireTcbUpToDate", json_boolean(tcb));
    cli_json_set(c, "version", json_integer((json_int_t)version));
    cli_json_set(c, "chainId", json_integer((json_int_t)c->chain_id));
    if (qh && dg_contract_decode_bool(ret[QH].data, ret[QH].len, &v, NULL)) {
        cli_say(c, "Compose hash %s: %s", qh, v ? "allowed" : "not allowed");
        cli_json_set(c, "hashAllowed", json_boolean(v));
    }
    if (qd && dg_contract_decode_bool(ret[QD].data, ret[QD].len, &v, NULL)) {
        cli_say(c, "Device %s: %s%s", qd, v ? "allowed" : "not allowed",
                any ? " (but any device is allowed)" : "");
        cli_json_set(c, "deviceAllowed", json_boolean(v));
    }
    if (n == N && ok[REG]) {
        int reg = 0, dereg = 0;
        dg_contract_decode_bool(ret[REG].data, ret[REG].len, &reg, NULL);
        if (ok[DEREG]) dg_contract_decode_bool(ret[DEREG].data, ret[DEREG].len, &dereg, NULL);
        cli_say(c, "Registered in the KMS:  %s", reg ? "yes" : dereg ? "no (deregistered)" : "no");
        cli_json_set(c, "registered", json_boolean(reg));
        cli_json_set(c, "deregistered", json_boolean(dereg));
    }
done:
    for (int i = 0; i < N; i++) {
        dg_buf_free(&q[i]);
        dg_buf_free(&ret[i]);
    }
    return code;
}

/* ------------------------------------------------------------------ table */

static const simple_tx t_add_hash = {TARGET_APP,
                                     ARG_B32,
                                     "compose hash",
                                     dg_app_add_compose_hash,
                                     NULL,
                                     NULL,
                                     NULL,
                                     NULL,
                                     NULL,
                                     "addComposeHash",
                                     "Compose hash added successfully",
                                     WARN_ADD_HASH};
static const simple_tx t_rm_hash = {TARGET_APP,
                                    ARG_B32,
                                    "compose hash",
                                    dg_app_remove_compose_hash,
                                    NULL,
                                    NULL,
                                    NULL,
                                    NULL,
                                    NULL,
                                    "removeComposeHash",
                                    "Compose hash removed successfully",
                                    WARN_NONE};
static const simple_tx t_add_dev = {TARGET_APP,
                                    ARG_B32,
                                    "device id",
                                    dg_app_add_device,
                                    NULL,
                                    NULL,
                                    NULL,
                                    NULL,
                                    NULL,
                                    "addDevice",
                                    "Device ID added successfully",
                                    WARN_NONE};
static const simple_tx t_rm_dev = {TARGET_APP,
                                   ARG_B32,
                                   "device id",
                                   dg_app_remove_device,
                                   NULL,
                                   NULL,
                                   NULL,
                                   NULL,
                                   NULL,
                                   "removeDevice",
                                   "Device ID removed successfully",
                                   WARN_REMOVE_DEVICE};
static const simple_tx t_any = {TARGET_APP,
                                ARG_BOOL,
                                "allow any device",
                                NULL,
                                NULL,
                                dg_app_set_allow_any_device,
                                NULL,
                                NULL,
                                "allow-any-device",
                                "setAllowAnyDevice",
                                "Allow any device set successfully",
                                WARN_NONE};
static const simple_tx t_tcb = {TARGET_APP,
                                ARG_BOOL,
                                "require TCB up to date",
                                NULL,
                                NULL,
                                dg_app_set_require_tcb_up_to_date,
                                NULL,
                                NULL,
                                "require-tcb-up-to-date",
                                "setRequireTcbUpToDate",
                                "Require TCB up-to-date set successfully",
                                WARN_NONE};
static const simple_tx t_noup = {TARGET_APP,
                                 ARG_NONE,
                                 NULL,
                                 NULL,
                                 NULL,
                                 NULL,
                                 NULL,
                                 DG_SIG_APP_DISABLE_UPGRADES,
                                 NULL,
                                 "disableUpgrades",
                                 "Upgrades disabled permanently",
                                 WARN_NONE};

#define APP_ID_FLAG                                                                                \
    { "app-id", FLAG_STR, "ADDR", "the app (its DstackApp proxy address)" }
#define END_FLAGS                                                                                  \
    { NULL, 0, NULL, NULL }
static const flag_spec app_flags[] = {APP_ID_FLAG, END_FLAGS};
static const flag_spec any_flags[] = {
    APP_ID_FLAG,
    {"allow-any-device", FLAG_BOOL, NULL, "Hardhat form of `true` (absent = false)"},
    END_FLAGS};
static const flag_spec tcb_flags[] = {
    APP_ID_FLAG,
    {"require-tcb-up-to-date", FLAG_BOOL, NULL, "same as `true` (absent = false)"},
    END_FLAGS};
static const flag_spec rotate_flags[] = {APP_ID_FLAG,
                                         {"from", FLAG_STR, "OLD", "compose hash to remove"},
                                         {"to", FLAG_STR, "NEW", "compose hash to add"},
                                         END_FLAGS};
static const flag_spec info_flags[] = {
    APP_ID_FLAG,
    {"hash", FLAG_STR, "HASH", "also say whether this compose hash is allowed"},
    {"device", FLAG_STR, "ID", "also say whether this device is allowed"},
    END_FLAGS};
static const flag_spec history_flags[] = {
    APP_ID_FLAG,
    {"from-block", FLAG_STR, "N", "first block to read (default 0; providers cap the range)"},
    {"timelock", FLAG_STR, "ADDR",
     "also list this timelock's operations on the app (default: its owner, if a timelock)"},
    END_FLAGS};
static const flag_spec upgrade_flags[] = {
    APP_ID_FLAG, {"address", FLAG_STR, "ADDR", "Hardhat name of --app-id"}, END_FLAGS};
static const flag_spec deploy_flags[] = {
    {"allow-any-device", FLAG_BOOL, NULL, "allow every device"},
    {"device", FLAG_STR, "ID", "initial allowed device id (bytes32)"},
    {"hash", FLAG_STR, "HASH", "initial allowed compose hash (bytes32)"},
    {"require-tcb-up-to-date", FLAG_BOOL, NULL, "deny boots whose tcbStatus is not UpToDate"},
    {"disable-upgrades", FLAG_BOOL, NULL, "freeze the implementation forever"},
    {"owner", FLAG_STR, "ADDR", "app owner (default: the signer)"},
    END_FLAGS,
};

#define TX (NEED_CHAIN | NEED_KEY | NEED_APP)

const cmd_spec app_cmds[] = {
    {"app", "add-hash", "app:add-hash", "HASH", 1, 1, TX, app_flags,
     "allow a compose hash (sha256 of app-compose.json)",
     "The old hashes stay allowed: use rotate-hash to replace one.", cmd_simple_tx, &t_add_hash},
    {"app", "remove-hash", "app:remove-hash", "HASH", 1, 1, TX, app_flags,
     "disallow a compose hash", NULL, cmd_simple_tx, &t_rm_hash},
    {"app", "rotate-hash", NULL, NULL, 0, 0, TX, rotate_flags,
     "replace a compose hash in one transaction (add NEW, remove OLD)", NULL, cmd_rotate, NULL},
    {"app", "add-device", "app:add-device", "ID", 1, 1, TX, app_flags,
     "allow a device id (sha256 of the platform device id)", NULL, cmd_simple_tx, &t_add_dev},
    {"app", "remove-device", "app:remove-device", "ID", 1, 1, TX, app_flags, "disallow a device id",
     NULL, cmd_simple_tx, &t_rm_dev},
    {"app", "set-allow-any-device", "app:set-allow-any-device", "[true|false]", 0, 1, TX, any_flags,
     "allow any device (true) or only listed ones (false)",
     "Without an argument the value is --allow-any-device's presence, as in the Hardhat task.",
     cmd_simple_tx, &t_any},
    {"app", "set-require-tcb-up-to-date", NULL, "[true|false]", 0, 1, TX, tcb_flags,
     "deny boots whose TCB status is not UpToDate", NULL, cmd_simple_tx, &t_tcb},
    {"app", "disable-upgrades", NULL, NULL, 0, 0, TX, app_flags,
     "freeze the app contract's implementation forever (irreversible)", NULL, cmd_simple_tx,
     &t_noup},
    {"app", "info", NULL, NULL, 0, 0, NEED_CHAIN | NEED_APP | OPT_KMS, info_flags,
     "show an app's owner, flags and (with --hash/--device) entries", NULL, cmd_info, NULL},
    {"app", "history", NULL, NULL, 0, 0, NEED_CHAIN | NEED_APP, history_flags,
     "audit trail of the app's policy changes, and the hashes/devices allowed now",
     "Replays the PolicyChanged events: the only way to list what the mappings hold.", cmd_history,
     NULL},
    {"app", "upgrade", "app:upgrade", NULL, 0, 0, TX, upgrade_flags,
     "deploy a new DstackApp implementation and upgrade the app to it", NULL, cmd_upgrade, NULL},
    {"app", "deploy", "app:deploy", NULL, 0, 0, NEED_CHAIN | NEED_KEY | NEED_KMS, deploy_flags,
     "deploy a standalone app proxy and register it (two transactions)",
     "Prefer `kms create-app` (one transaction, factory).", cmd_deploy, NULL},
    {"app", "deploy-impl", "app:deploy-impl", NULL, 0, 0, NEED_CHAIN | NEED_KEY, NULL,
     "deploy a DstackApp implementation only", NULL, cli_deploy_impl, "DstackApp"},
    {"app", "transfer-ownership", NULL, "ADDR", 1, 1, TX, app_flags,
     "start an ownership transfer of the app (Ownable2Step)", NULL, cmd_simple_tx,
     &simple_transfer_ownership[TARGET_APP]},
    {"app", "accept-ownership", NULL, NULL, 0, 0, TX, app_flags,
     "accept a pending ownership transfer of the app", NULL, cmd_simple_tx,
     &simple_accept_ownership[TARGET_APP]},
    {NULL, NULL, NULL, NULL, 0, 0, 0, NULL, NULL, NULL, NULL, NULL},
};
