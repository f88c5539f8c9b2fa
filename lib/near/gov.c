/* gov.c — a KMS's whole NEAR governance, and a boot decision explained rule
 * by rule: the NEAR halves of dg_gov_snapshot and dg_gov_check (gov.h).
 *
 * The one idea: every view is asked at one block hash, fetched once, so the
 * rules (or the snapshot) describe one state of the chain even while new
 * blocks arrive. The verdict is the contract's own (is_app_allowed /
 * is_kms_allowed with the KMS's BootInfo); the rules only explain it, in the
 * webhook's order (registration, OS image, then the app contract). NEAR's
 * JSON-RPC has no log query, so the snapshot's history is empty and says why.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "dstackgov/gov.h"
#include "dstackgov/hex.h"
#include "dstackgov/near.h"

#define PAGE 100u /* get_registered_apps' page (the contracts cap it at RT_PAGE_MAX) */

int dg_near_app_account(const char *kms, const uint8_t app_id[20], char out[65], dg_err *err) {
    char hex[41];
    dg_hex_encode(app_id, 20, hex);
    int m = snprintf(out, DG_NEAR_ACCOUNT_MAX + 1, "%s.%s", hex, kms);
    if (m < 0 || m > DG_NEAR_ACCOUNT_MAX)
        return dg_err_set(err, DG_ERR_INPUT,
                          "KMS account %s is too long for app sub-accounts (at most 23 "
                          "characters)",
                          kms);
    return 1;
}

/* Views pinned to one block. */
typedef struct {
    dg_rpc *rpc;
    char block[DG_BASE58_LEN(32)];
    uint64_t height;
} pinned;

static int pin(dg_rpc *rpc, pinned *p, dg_err *err) {
    dg_near_block_info b;
    p->rpc = rpc;
    if (!dg_near_block(rpc, "final", &b, err)) return 0;
    dg_base58_encode(b.hash, 32, p->block, sizeof p->block);
    p->height = b.height;
    return 1;
}

/* One view as JSON (new reference), or NULL with err. */
static json_t *view(const pinned *p, const char *account, const char *method, const char *args,
                    dg_err *err) {
    json_t *v = NULL;
    if (!dg_near_view_json(p->rpc, p->block, account, method, args, &v, NULL, err)) return NULL;
    return v;
}

/* A boolean view with one hex argument: 1 true, 0 false, -1 error. */
static int view_bool(const pinned *p, const char *account, const char *method, const char *arg,
                     const uint8_t *val, size_t n, dg_err *err) {
    char h[65], q[128];
    dg_hex_encode(val, n, h);
    snprintf(q, sizeof q, "{\"%s\":\"%s\"}", arg, h);
    json_t *v = view(p, account, method, q, err);
    if (!v) return -1;
    int r = json_is_true(v);
    json_decref(v);
    return r;
}

/* The KMS route: TCB, OS image, aggregated MR, device. */
static int check_kms(const pinned *p, const char *kms, const dg_bootinfo *bi, dg_gov_verdict *v,
                     dg_err *err) {
    static const struct {
        const char *method, *arg, *rule, *fix;
        size_t off;
    } t[] = {
        {"is_os_image_allowed", "os_image_hash", "os-image", "near kms add-image",
         offsetof(dg_bootinfo, os_image_hash)},
        {"is_kms_aggregated_mr_allowed", "mr_aggregated", "mr-aggregated", "near kms add-mr",
         offsetof(dg_bootinfo, mr_aggregated)},
        {"is_kms_device_allowed", "device_id", "device", "near kms add-device",
         offsetof(dg_bootinfo, device_id)},
    };
    static const char *const label[] = {"OS image", "aggregated MR", "device"};
    int up = strcmp(bi->tcb_status, "UpToDate") == 0;
    dg_gov_rule_add(v, up, "tcb", "TCB status \"%s\" %s", bi->tcb_status,
                    up ? "is UpToDate" : "is not UpToDate (required for a KMS)");
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        const uint8_t *val = (const uint8_t *)bi + t[i].off;
        int ok = view_bool(p, kms, t[i].method, t[i].arg, val, 32, err);
        if (ok < 0) return 0;
        char h[65];
        dg_hex_encode(val, 32, h);
        if (ok)
            dg_gov_rule_add(v, 1, t[i].rule, "%s %s is allowed", label[i], h);
        else
            dg_gov_rule_add(v, 0, t[i].rule, "%s %s is not allowed (%s)", label[i], h, t[i].fix);
    }
    return 1;
}

/* The app route; sets v->reason when the decision is made before the app's
 * contract is asked (the webhook's order, reference §3). Returns 1 when the
 * app contract's is_app_allowed should decide. */
static int check_app(const pinned *p, const char *kms, const dg_bootinfo *bi, dg_gov_verdict *v,
                     int *ask, dg_err *err) {
    char acct[DG_NEAR_ACCOUNT_MAX + 1], hex[41], h[65], q[200];
    *ask = 0;
    if (!dg_near_app_account(kms, bi->app_id, acct, err)) return 0;
    dg_hex_encode(bi->app_id, 20, hex);
    snprintf(q, sizeof q, "{\"app_id\":\"%s\"}", hex);
    json_t *rj = view(p, kms, "is_app_registered", q, err);
    if (!rj) return 0;
    int reg = json_is_true(rj);
    json_decref(rj);
    int os = view_bool(p, kms, "is_os_image_allowed", "os_image_hash", bi->os_image_hash, 32, err);
    if (os < 0) return 0;
    dg_hex_encode(bi->os_image_hash, 32, h);
    dg_gov_rule_add(v, reg, "registered", "app %s is %s in the KMS", acct,
                    reg ? "registered" : "not registered (near app deploy)");
    dg_gov_rule_add(v, os, "os-image", "OS image %s is %s", h,
                    os ? "allowed" : "not allowed (near kms add-image)");
    dg_err e2 = {DG_OK, ""};
    json_t *info = reg ? view(p, acct, "get_app_info", NULL, &e2) : NULL;
    if (info) {
        const char *tcb = bi->tcb_status;
        int need = json_is_true(json_object_get(info, "require_tcb_up_to_date"));
        int any = json_is_true(json_object_get(info, "allow_any_device"));
        json_decref(info);
        dg_gov_rule_add(v, !need || strcmp(tcb, "UpToDate") == 0, "tcb",
                        "TCB: app %s up-to-date TCB, boot reports \"%s\"",
                        need ? "requires" : "does not require", tcb);
        int hash = view_bool(p, acct, "is_compose_hash_allowed", "compose_hash", bi->compose_hash,
                             32, err);
        if (hash < 0) return 0;
        dg_hex_encode(bi->compose_hash, 32, h);
        dg_gov_rule_add(v, hash, "compose-hash", "compose hash %s is %s", h,
                        hash ? "allowed" : "not allowed (near app add-hash)");
        int dev = view_bool(p, acct, "is_device_allowed", "device_id", bi->device_id, 32, err);
        if (dev < 0) return 0;
        dg_hex_encode(bi->device_id, 32, h);
        dg_gov_rule_add(v, any || dev, "device", "device %s: %s", h,
                        any   ? "any device is allowed"
                        : dev ? "allowed"
                              : "not allowed (near app add-device)");
    } else if (reg) {
        dg_gov_rule_add(v, 0, "app-contract", "app contract %s: %s", acct, e2.msg);
    }
    if (!reg)
        snprintf(v->reason, sizeof v->reason, "App not registered");
    else if (!os)
        snprintf(v->reason, sizeof v->reason, "OS image is not allowed");
    else if (!info)
        snprintf(v->reason, sizeof v->reason, "app contract %s does not answer", acct);
    else
        *ask = 1;
    return 1;
}

int dg_gov_near_check(dg_rpc *rpc, const char *kms, const dg_bootinfo *bi, dg_route route,
                      dg_gov_verdict *v, dg_err *err) {
    memset(v, 0, sizeof *v);
    pinned p;
    dg_buf args;
    dg_buf_init(&args);
    json_t *gw = NULL, *verdict = NULL;
    int ok = 0, ask = 1;
    if (!pin(rpc, &p, err)) goto out;
    v->block_number = p.height;
    snprintf(v->block_hash, sizeof v->block_hash, "%s", p.block);
    if (!(gw = view(&p, kms, "get_gateway_app_id", NULL, err))) goto out;
    v->kms_answers = 1;
    snprintf(v->gateway_app_id, sizeof v->gateway_app_id, "%s",
             json_is_string(gw) ? json_string_value(gw) : "");
    /* the arguments dstack-authd's near backend sends too: the check asks what it asks */
    if (!dg_near_boot_info_args(bi, &args)) {
        dg_err_set(err, DG_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (route == DG_ROUTE_KMS) {
        if (!check_kms(&p, kms, bi, v, err)) goto out;
    } else if (!check_app(&p, kms, bi, v, &ask, err)) {
        goto out;
    }
    if (ask) {
        char acct[DG_NEAR_ACCOUNT_MAX + 1];
        if (route == DG_ROUTE_APP && !dg_near_app_account(kms, bi->app_id, acct, err)) goto out;
        verdict = view(&p, route == DG_ROUTE_KMS ? kms : acct,
                       route == DG_ROUTE_KMS ? "is_kms_allowed" : "is_app_allowed",
                       (const char *)args.data, err);
        if (!verdict) goto out;
        const char *r = json_string_value(json_array_get(verdict, 1));
        if (!json_is_array(verdict) || !r) {
            dg_err_set(err, DG_ERR_RPC_RESPONSE, "the contract's verdict is not [bool, string]");
            goto out;
        }
        v->allowed = json_is_true(json_array_get(verdict, 0));
        snprintf(v->reason, sizeof v->reason, "%s", r);
    }
    ok = 1;
out:
    json_decref(gw);
    json_decref(verdict);
    dg_buf_free(&args);
    return ok;
}

/* ------------------------------------------------------------------ snapshot */

/* A list view as a JSON array ("0x"-free strings, as the contracts keep them). */
static int put_view(const pinned *p, json_t *o, const char *key, const char *account,
                    const char *method, dg_err *err) {
    json_t *v = view(p, account, method, NULL, err);
    if (!v) return dg_err_wrap(err, "%s %s", account, method);
    json_object_set_new(o, key, v);
    return 1;
}

/* An app's entry: its id (the 40 hex before ".<kms>"), account and views. */
static json_t *app_entry(const pinned *p, const char *acct, dg_err *err) {
    const char *dot = strchr(acct, '.');
    char hex[41] = "";
    if (dot && dot - acct == 40) snprintf(hex, sizeof hex, "%.40s", acct);
    json_t *a = json_pack("{s:s,s:s,s:b,s:b}", "appId", hex[0] ? hex : acct, "account", acct,
                          "registered", 1, "deregistered", 0);
    json_t *info = view(p, acct, "get_app_info", NULL, err);
    if (!info) {
        /* registered but no contract answering: shown, not fatal */
        json_object_set_new(a, "error", json_string(err->msg));
        json_object_set_new(a, "owner", json_null());
        json_object_set_new(a, "composeHashes", json_array());
        json_object_set_new(a, "devices", json_array());
        err->code = DG_OK;
        err->msg[0] = 0;
        return a;
    }
    const char *owner = json_string_value(json_object_get(info, "owner_id"));
    json_object_set_new(a, "owner",
                        json_pack("{s:s,s:s}", "address", owner ? owner : "", "kind", "account"));
    json_object_set_new(a, "allowAnyDevice",
                        json_boolean(json_is_true(json_object_get(info, "allow_any_device"))));
    json_object_set_new(
        a, "requireTcbUpToDate",
        json_boolean(json_is_true(json_object_get(info, "require_tcb_up_to_date"))));
    json_object_set_new(a, "upgradesDisabled",
                        json_boolean(json_is_true(json_object_get(info, "upgrades_disabled"))));
    json_decref(info);
    if (!put_view(p, a, "composeHashes", acct, "get_compose_hashes", err) ||
        !put_view(p, a, "devices", acct, "get_devices", err)) {
        json_decref(a);
        return NULL;
    }
    return a;
}

json_t *dg_gov_near_snapshot(dg_rpc *rpc, const char *kms, dg_err *err) {
    static const char *const kviews[][2] = {
        {"gatewayAppId", "get_gateway_app_id"},
        {"osImages", "get_allowed_os_images"},
        {"kmsMeasurements", "get_kms_allowed_aggregated_mrs"},
        {"kmsDevices", "get_kms_allowed_device_ids"},
        {"composeHashes", "get_kms_allowed_compose_hashes"},
        {"mpc", "get_mpc_config"},
    };
    pinned p;
    if (!pin(rpc, &p, err)) return NULL;
    json_t *k = json_pack("{s:s}", "address", kms), *apps = json_array(), *owner = NULL;
    json_t *s = NULL;
    if (!(owner = view(&p, kms, "get_owner", NULL, err))) goto fail;
    json_object_set_new(k, "owner",
                        json_pack("{s:s,s:s}", "address",
                                  json_is_string(owner) ? json_string_value(owner) : "", "kind",
                                  "account"));
    for (size_t i = 0; i < sizeof kviews / sizeof kviews[0]; i++)
        if (!put_view(&p, k, kviews[i][0], kms, kviews[i][1], err)) goto fail;
    for (unsigned off = 0;; off += PAGE) {
        char q[64];
        snprintf(q, sizeof q, "{\"offset\":%u,\"limit\":%u}", off, PAGE);
        json_t *page = view(&p, kms, "get_registered_apps", q, err);
        if (!page) goto fail;
        size_t i, n = json_array_size(page);
        json_t *acct;
        json_array_foreach(page, i, acct) {
            json_t *a = json_is_string(acct) ? app_entry(&p, json_string_value(acct), err) : NULL;
            if (!a) {
                json_decref(page);
                if (!err->code)
                    dg_err_set(err, DG_ERR_RPC_RESPONSE, "a registered app is not a string");
                goto fail;
            }
            json_array_append_new(apps, a);
        }
        json_decref(page);
        if (n < PAGE) break;
    }
    s = json_pack("{s:s,s:I,s:s,s:o,s:o,s:[],s:s}", "chain", "near", "block", (json_int_t)p.height,
                  "blockHash", p.block, "kms", k, "apps", apps, "history", "historyNote",
                  "NEAR JSON-RPC has no query for past events: no history is shown");
    json_decref(owner);
    if (!s) dg_err_set(err, DG_ERR_NOMEM, "out of memory");
    return s;
fail:
    json_decref(owner);
    json_decref(k);
    json_decref(apps);
    return NULL;
}
