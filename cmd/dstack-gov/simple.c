/* simple.c — the one-argument governance transactions, and contract deploys.
 *
 * Most commands of the guide are "call one owner-only function with one
 * argument and print one line" (add-image, add-hash, set-gateway, ...). They
 * share this handler, parameterised by a simple_tx record in the group
 * tables, so their parsing, warnings, JSON and errors cannot drift apart.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dstackgov/contracts.h"
#include "dstackgov/hex.h"

int cli_parse_bool(const char *s, int *out) {
    static const char *const t[] = {"true", "1", "yes", "on"}, *const f[] = {"false", "0", "no",
                                                                             "off"};
    for (size_t i = 0; i < 4; i++) {
        if (strcmp(s, t[i]) == 0) return *out = 1, 1;
        if (strcmp(s, f[i]) == 0) return *out = 0, 1;
    }
    return 0;
}

int cli_balance(cli *c, dg_u256 *out, dg_err *err) {
    json_t *res = NULL;
    if (!cli_connect(c, err)) return 0;
    if (!dg_rpc_call(c->rpc, "eth_getBalance",
                     json_pack("[o,s]", dg_eth_json_bytes(c->from, 20), "latest"), &res, err))
        return 0;
    int ok = dg_eth_quantity_u256(res, out, err);
    json_decref(res);
    return ok;
}

int cli_read_impl_slot(cli *c, const uint8_t proxy[20], uint8_t impl[20], dg_err *err) {
    json_t *res = NULL;
    if (!cli_connect(c, err)) return 0;
    if (!dg_rpc_call(
            c->rpc, "eth_getStorageAt",
            json_pack("[o,s,s]", dg_eth_json_bytes(proxy, 20), DG_ERC1967_IMPL_SLOT, "latest"),
            &res, err))
        return 0;
    uint8_t w[32];
    const char *s = json_is_string(res) ? json_string_value(res) : "";
    int ok = dg_hex_decode(s, strlen(s), w, 32, NULL);
    json_decref(res);
    if (!ok) return dg_err_set(err, DG_ERR_RPC_RESPONSE, "malformed storage word");
    memcpy(impl, w + 12, 20);
    return 1;
}

int cli_deploy(cli *c, const char *code_hex, const dg_buf *ctor_args, const char *label,
               uint8_t addr[20], uint8_t tx_hash[32], dg_err *err) {
    dg_buf init;
    dg_buf_init(&init);
    if (!dg_hex_decode_var(code_hex, strlen(code_hex), &init, err)) {
        dg_buf_free(&init);
        return dg_err_wrap(err, "embedded bytecode of %s", label);
    }
    if (ctor_args) dg_buf_append(&init, ctor_args->data, ctor_args->len);
    dg_eth_receipt r;
    int rc = cli_transact(c, NULL, &init, label, &r, err);
    dg_buf_free(&init);
    if (rc != 1) return rc;
    memcpy(addr, r.contract_address, 20); /* the send flow checked it is there, with code */
    if (tx_hash) memcpy(tx_hash, r.tx_hash, 32);
    dg_eth_receipt_free(&r);
    return 1;
}

static int warn_remove_device(cli *c, const uint8_t dev[32]) {
    dg_buf d, ret;
    dg_err e = {DG_OK, ""};
    dg_buf_init(&d);
    dg_buf_init(&ret);
    int any = 0;
    if (dg_contract_encode_noarg(&d, DG_SIG_APP_ALLOW_ANY_DEVICE, &e) &&
        cli_call(c, c->app, &d, &ret, &e) && dg_contract_decode_bool(ret.data, ret.len, &any, &e) &&
        any) {
        char a[43], h[67];
        cli_fmt_addr(c->app, a);
        cli_fmt_b32(dev, h);
        cli_warn_before_send(
            c,
            "app %s allows any device (allowAnyDevice = true): removing device %s changes "
            "no boot decision until you run `dstack-gov app set-allow-any-device false`",
            a, h);
    }
    dg_buf_free(&d);
    dg_buf_free(&ret);
    return 1;
}

/* An address argument that should be a contract (an app to register, an app
 * implementation) but has no code: the change goes through on chain and
 * achieves nothing, so say so. Best effort: an RPC failure here is left to the
 * transaction's own checks. */
static void warn_arg_no_code(cli *c, const uint8_t a[20], int warn) {
    json_t *code = NULL, *cid = NULL;
    dg_err e = {DG_OK, ""};
    uint64_t chain = 0;
    if (cli_connect(c, &e) &&
        dg_rpc_call(c->rpc, "eth_getCode", json_pack("[o,s]", dg_eth_json_bytes(a, 20), "latest"),
                    &code, &e) &&
        json_is_string(code) && strcmp(json_string_value(code), "0x") == 0 &&
        dg_rpc_call(c->rpc, "eth_chainId", json_array(), &cid, &e) &&
        dg_eth_quantity_u64(cid, &chain, &e)) {
        char s[43];
        cli_fmt_addr(a, s);
        cli_warn_before_send(
            c, "%s has no contract code on chain %llu: %s", s, (unsigned long long)chain,
            warn == WARN_ARG_APP_CODE
                ? "the KMS's isAppAllowed denies every boot of it with \"App not deployed or "
                  "invalid address\", so registering it lets nothing boot (wrong app id or "
                  "network?)"
                : "apps the factory creates would have no implementation behind their proxy "
                  "(wrong address or network?)");
    }
    json_decref(code);
    json_decref(cid);
}

int cmd_simple_tx(cli *c) {
    const simple_tx *s = c->cmd->data;
    dg_err err = {DG_OK, ""};
    dg_buf data;
    dg_buf_init(&data);
    uint8_t b32[32], addr[20];
    int flag = 0, ok = 0;
    const char *argv0 = c->f.npos ? c->f.pos[0] : NULL;
    const uint8_t *target = s->target == TARGET_KMS ? c->kms : c->app;
    switch (s->arg) {
    case ARG_NONE:
        ok = dg_contract_encode_noarg(&data, s->noarg_sig, &err);
        break;
    case ARG_B32:
        ok = cli_parse_b32(c, s->what, argv0, b32, &err) && s->b32(&data, b32, &err);
        if (ok) cli_json_hex(c, "value", b32, 32);
        break;
    case ARG_ADDR:
        ok = cli_parse_addr(s->what, argv0, addr, &err) && s->addr(&data, addr, &err);
        if (ok) cli_json_addr(c, "value", addr);
        break;
    case ARG_BOOL:
        if (argv0) {
            if (!cli_parse_bool(argv0, &flag)) {
                dg_err_set(&err, DG_ERR_INPUT, "%s: expected true or false, got \"%s\"", s->what,
                           argv0);
                break;
            }
        } else {
            flag = s->bool_flag && flag_bool(&c->f, s->bool_flag);
        }
        ok = s->boolean(&data, flag, &err);
        if (ok) cli_json_set(c, "value", json_boolean(flag));
        break;
    case ARG_STRING:
        ok = s->str(&data, argv0, &err);
        if (ok) cli_json_set(c, "value", json_string(argv0));
        break;
    }
    if (!ok) {
        dg_buf_free(&data);
        return cli_fail(c, &err);
    }
    cli_json_addr(c, "contract", target);
    cli_json_set(c, "function", json_string(s->label));
    if (s->warn == WARN_REMOVE_DEVICE) warn_remove_device(c, b32);
    if (s->warn == WARN_ARG_APP_CODE || s->warn == WARN_ARG_IMPL_CODE)
        warn_arg_no_code(c, addr, s->warn);
    if (s->warn == WARN_ADD_HASH)
        cli_warn_before_send(
            c, "adding a compose hash does not remove the old one: every version still "
               "allowed can boot and gets the same keys; to replace a version use "
               "`dstack-gov app rotate-hash --from OLD --to NEW` (one transaction)");
    dg_eth_receipt r;
    int rc = cli_transact(c, target, &data, s->label, &r, &err);
    dg_buf_free(&data);
    if (rc == CLI_DRY_RUN) return 0;
    if (!rc) return cli_fail(c, &err);
    dg_eth_receipt_free(&r);
    cli_say(c, "%s", s->success);
    return 0;
}

#define TRANSFER_OWNERSHIP(t)                                                                      \
    {                                                                                              \
        .target = t, .arg = ARG_ADDR, .what = "new owner", .addr = dg_contract_transfer_ownership, \
        .label = "transferOwnership",                                                              \
        .success = "Ownership transfer started: the new owner must run accept-ownership",          \
        .warn = WARN_NONE                                                                          \
    }
#define ACCEPT_OWNERSHIP(t)                                                                        \
    {                                                                                              \
        .target = t, .arg = ARG_NONE, .noarg_sig = DG_SIG_ACCEPT_OWNERSHIP,                        \
        .label = "acceptOwnership", .success = "Ownership accepted successfully",                  \
        .warn = WARN_NONE                                                                          \
    }
const simple_tx simple_transfer_ownership[2] = {
    [TARGET_KMS] = TRANSFER_OWNERSHIP(TARGET_KMS), [TARGET_APP] = TRANSFER_OWNERSHIP(TARGET_APP)};
const simple_tx simple_accept_ownership[2] = {
    [TARGET_KMS] = ACCEPT_OWNERSHIP(TARGET_KMS), [TARGET_APP] = ACCEPT_OWNERSHIP(TARGET_APP)};
