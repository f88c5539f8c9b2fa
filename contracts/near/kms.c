/* kms.c — the dstack KMS governance contract for NEAR.
 *
 * Whitelists for KMS self-authorization (OS images, aggregated MRs, devices,
 * compose hashes), the gateway app id, the KMS info, and the registry and
 * factory of app contracts. An app with id H (40 hex digits) lives at the
 * sub-account H.<this account>; register_app creates it with the app contract
 * embedded at build time (app_wasm.c, generated) and refunds the caller if
 * anything in that batch fails. Interface: docs/near-contracts.md.
 */
#include "rt.h"
#include "near.h"

#include "dstackgov/attest.h"
#include "sha3.h" /* nettle */

const char nc_standard[] = "dstack-kms";

extern const unsigned char nc_app_wasm[];
extern const uint32_t nc_app_wasm_len;

/* Storage bytes a new app account needs besides its code (account record and
 * the contract's initial state, with headroom), the reserve it gets for
 * later whitelist entries (APP_RESERVE_ENTRIES entries of APP_ENTRY_BYTES:
 * an entry is two records of 70 bytes + 40 bytes overhead each), and the
 * bytes the KMS keeps to pay for its own registry record. register_app keeps
 * exactly this much of the attached deposit and refunds the rest. */
#define ACCOUNT_BYTES 100u
#define APP_STATE_BYTES 1000u
#define APP_ENTRY_BYTES 220u
#define APP_RESERVE_ENTRIES 8u
#define KMS_RECORD_BYTES 500u
#define MAX_KMS_ACCOUNT 23u

static const rt_setdef kms_sets[] = {
    {"os_image_hash", "OS image hash cannot be empty", "os_image_hash_added",
     "os_image_hash_removed", 'A'},
    {"mr_aggregated", "Aggregated MR cannot be empty", "kms_aggregated_mr_added",
     "kms_aggregated_mr_removed", 'B'},
    {"device_id", "Device ID cannot be empty", "kms_device_added", "kms_device_removed", 'C'},
    {"compose_hash", "Compose hash cannot be empty", "compose_hash_approved",
     "compose_hash_removed", 'D'},
};
#define SET_OS (&kms_sets[0])
#define SET_MR (&kms_sets[1])
#define SET_DEV (&kms_sets[2])
#define SET_COMPOSE (&kms_sets[3])
#define TAG_APPS 'R'
/* Gas of the call to the MPC contract (upstream's static 100 TGas). */
#define MPC_GAS (100 * TGAS)

METHOD(new) {
    nj_str owner, mpc;
    uint64_t domain;
    nj_field f[] = {
        {"owner_id", NJF_STR, 1, &owner},
        {"mpc_contract_id", NJF_STR, 1, &mpc},
        {"mpc_domain_id", NJF_U64, 1, &domain},
    };
    rt_init("new", 1);
    rt_args(f, 3);
    rt_account(&owner, "Invalid owner address");
    rt_account(&mpc, "Invalid mpc_contract_id");
    rt_put("o", 1, owner.s, owner.len);
    rt_put("m", 1, mpc.s, mpc.len);
    rt_put("d", 1, &domain, 8);
}

SET_CHANGE_METHODS(add_os_image_hash, remove_os_image_hash, SET_OS, 0)
SET_CHANGE_METHODS(add_kms_aggregated_mr, remove_kms_aggregated_mr, SET_MR, 0)
SET_CHANGE_METHODS(add_kms_device, remove_kms_device, SET_DEV, 0)
SET_CHANGE_METHODS(add_kms_compose_hash, remove_kms_compose_hash, SET_COMPOSE, 0)

METHOD(is_os_image_allowed) {
    rt_m_set_is(SET_OS);
}
METHOD(is_kms_aggregated_mr_allowed) {
    rt_m_set_is(SET_MR);
}
METHOD(is_kms_device_allowed) {
    rt_m_set_is(SET_DEV);
}
METHOD(is_kms_compose_hash_allowed) {
    rt_m_set_is(SET_COMPOSE);
}

METHOD(get_allowed_os_images) {
    rt_set_list_method(SET_OS->tag);
}
METHOD(get_kms_allowed_aggregated_mrs) {
    rt_set_list_method(SET_MR->tag);
}
METHOD(get_kms_allowed_device_ids) {
    rt_set_list_method(SET_DEV->tag);
}
METHOD(get_kms_allowed_compose_hashes) {
    rt_set_list_method(SET_COMPOSE->tag);
}
METHOD(get_registered_apps) {
    rt_set_list_method(TAG_APPS);
}

METHOD(get_owner) {
    rt_m_get_owner();
}
METHOD(transfer_ownership) {
    rt_m_transfer_ownership();
}

/* The MPC contract of `new`: its account (*mn bytes) and domain id. */
static const char *kms_mpc(uint32_t *mn, uint64_t *domain) {
    uint32_t dn;
    const char *m = rt_get("m", 1, mn);
    const char *d = rt_get("d", 1, &dn);
    *domain = 0;
    for (uint32_t i = 0; d && i < 8 && i < dn; i++)
        *domain |= (uint64_t)(unsigned char)d[i] << (8 * i);
    return m;
}

METHOD(get_mpc_config) {
    uint32_t mn;
    uint64_t domain;
    rt_require_init();
    const char *m = kms_mpc(&mn, &domain);
    nj_buf b;
    rt_buf(&b, 256);
    nj_puts(&b, "{\"mpc_contract_id\":");
    nj_put_str(&b, m, mn);
    nj_puts(&b, ",\"mpc_domain_id\":");
    nj_put_u64(&b, domain);
    nj_putc(&b, '}');
    rt_return_buf(&b);
}

/* ------------------------------------------------------------ gateway */

METHOD(set_gateway_app_id) {
    nj_str v;
    char h[40];
    nj_field f[] = {{"app_id", NJF_STR, 1, &v}};
    rt_owner_only("set_gateway_app_id");
    rt_args(f, 1);
    if (nt_hex_body_len(v.s, v.len) == 0) rt_panic("Gateway app ID cannot be empty");
    rt_hex(&v, 40, "app_id", h);
    rt_put("g", 1, h, 40);
    rt_event_str("gateway_app_id_set", "app_id", h, 40);
}

METHOD(get_gateway_app_id) {
    uint32_t n;
    rt_require_init();
    const char *g = rt_get("g", 1, &n);
    if (!g) {
        rt_return("null", 4);
        return;
    }
    nj_buf b;
    rt_buf(&b, n + 8);
    nj_put_str(&b, g, n);
    rt_return_buf(&b);
}

/* ------------------------------------------------------------ KMS info */

/* KMS info record: 4 × (u32 LE length ‖ bytes), in kms_info_fields order. */
static const char *const kms_info_fields[4] = {"k256_pubkey", "ca_pubkey", "quote", "eventlog"};

typedef struct {
    const uint8_t *p[4];
    uint32_t n[4];
} kms_info;

static int kms_info_load(kms_info *ki) {
    uint32_t rn;
    const uint8_t *r = (const uint8_t *)rt_get("i", 1, &rn);
    for (int i = 0; i < 4; i++) {
        ki->p[i] = 0;
        ki->n[i] = 0;
    }
    if (!r) return 0;
    uint32_t at = 0;
    for (int i = 0; i < 4; i++) {
        if (rn - at < 4) rt_panic("Corrupt KMS info");
        uint32_t l = (uint32_t)r[at] | (uint32_t)r[at + 1] << 8 | (uint32_t)r[at + 2] << 16 |
                     (uint32_t)r[at + 3] << 24;
        at += 4;
        if (rn - at < l) rt_panic("Corrupt KMS info");
        ki->p[i] = r + at;
        ki->n[i] = l;
        at += l;
    }
    return 1;
}

static void kms_info_store(const kms_info *ki) {
    uint32_t total = 16;
    for (int i = 0; i < 4; i++)
        total += ki->n[i];
    uint8_t *r = rt_alloc(total);
    uint32_t at = 0;
    for (int i = 0; i < 4; i++) {
        uint32_t l = ki->n[i];
        r[at] = (uint8_t)l;
        r[at + 1] = (uint8_t)(l >> 8);
        r[at + 2] = (uint8_t)(l >> 16);
        r[at + 3] = (uint8_t)(l >> 24);
        at += 4;
        for (uint32_t k = 0; k < l; k++)
            r[at + k] = ki->p[i][k];
        at += l;
    }
    rt_put("i", 1, r, total);
    nj_buf b;
    rt_buf(&b, 4 * ki->n[0] + 32);
    nj_puts(&b, "{\"k256_pubkey\":");
    nj_put_bytes(&b, ki->p[0], ki->n[0]);
    nj_putc(&b, '}');
    rt_event("kms_info_set", b.p, b.len);
}

/* Byte array token → bytes, or the near-sdk type error for field name. */
static void kms_bytes_arg(uint32_t tok, const char *name, kms_info *ki, int slot) {
    uint32_t n = rt_toks[tok].len;
    uint8_t *p = rt_alloc(n + 1);
    if (!nj_bytes(rt_json, rt_toks, tok, p))
        rt_panic3("Failed to deserialize input from JSON. Error: invalid type for field `", name,
                  "`");
    ki->p[slot] = p;
    ki->n[slot] = n;
}

METHOD(set_kms_info) {
    uint32_t info, t[4];
    kms_info ki;
    nj_field top[] = {{"info", NJF_OBJ, 1, &info}};
    nj_field f[4];
    rt_owner_only("set_kms_info");
    rt_args(top, 1);
    for (int i = 0; i < 4; i++) {
        f[i].name = kms_info_fields[i];
        f[i].kind = NJF_ARR;
        f[i].required = 1;
        f[i].out = &t[i];
    }
    rt_sub(info, f, 4);
    for (int i = 0; i < 4; i++)
        kms_bytes_arg(t[i], kms_info_fields[i], &ki, i);
    kms_info_store(&ki);
}

static void kms_set_info_part(const char *method, int slot) {
    uint32_t t;
    kms_info ki;
    nj_field f[] = {{kms_info_fields[slot], NJF_ARR, 1, &t}};
    rt_owner_only(method);
    rt_args(f, 1);
    kms_info_load(&ki);
    kms_bytes_arg(t, kms_info_fields[slot], &ki, slot);
    kms_info_store(&ki);
}

METHOD(set_kms_quote) {
    kms_set_info_part("set_kms_quote", 2);
}
METHOD(set_kms_eventlog) {
    kms_set_info_part("set_kms_eventlog", 3);
}

METHOD(get_kms_info) {
    kms_info ki;
    rt_require_init();
    if (!kms_info_load(&ki)) {
        rt_return("null", 4);
        return;
    }
    nj_buf b;
    rt_buf(&b, 4 * (ki.n[0] + ki.n[1] + ki.n[2] + ki.n[3]) + 128);
    for (int i = 0; i < 4; i++) {
        nj_puts(&b, i ? ",\"" : "{\"");
        nj_puts(&b, kms_info_fields[i]);
        nj_puts(&b, "\":");
        nj_put_bytes(&b, ki.p[i], ki.n[i]);
    }
    nj_putc(&b, '}');
    rt_return_buf(&b);
}

/* ------------------------------------------------------------ app registry */

/* "<hex>.<current account>" for a canonical 40-hex app id; *n gets the length. */
static char *kms_app_account(const char *hex, uint32_t *n) {
    uint32_t cn;
    const char *c = rt_current(&cn);
    if (cn > MAX_KMS_ACCOUNT)
        rt_panic("KMS account id is too long for app sub-accounts (max 23 characters)");
    char *a = rt_alloc(41 + cn);
    for (uint32_t i = 0; i < 40; i++)
        a[i] = hex[i];
    a[40] = '.';
    for (uint32_t i = 0; i < cn; i++)
        a[41 + i] = c[i];
    *n = 41 + cn;
    return a;
}

/* The app_id argument as an account: 40 hex digits (0x optional) map to the
 * sub-account; any other valid account id is taken as is. */
static char *kms_app_arg(uint32_t *n) {
    nj_str v;
    char h[40];
    nj_field f[] = {{"app_id", NJF_STR, 1, &v}};
    rt_args(f, 1);
    if (nt_hex_norm(v.s, v.len, 40, h)) return kms_app_account(h, n);
    rt_account(&v, "Invalid app_id: expected 40 hex digits or an account id");
    *n = v.len;
    return (char *)v.s;
}

static u128 kms_registration_deposit(void) {
    return (u128)(nc_app_wasm_len + ACCOUNT_BYTES + APP_STATE_BYTES +
                  APP_ENTRY_BYTES * APP_RESERVE_ENTRIES + KMS_RECORD_BYTES) *
           YOCTO_PER_BYTE;
}

static void kms_put_u128(nj_buf *b, u128 v) {
    char d[40];
    uint32_t n = nt_u128_dec(v, d);
    nj_put_str(b, d, n);
}

METHOD(get_registration_deposit) {
    nj_buf b;
    rt_require_init();
    rt_buf(&b, 48);
    kms_put_u128(&b, kms_registration_deposit());
    rt_return_buf(&b);
}

METHOD(get_app_account) {
    nj_str v;
    char h[40];
    nj_field f[] = {{"app_id", NJF_STR, 1, &v}};
    rt_require_init();
    rt_args(f, 1);
    rt_hex(&v, 40, "app_id", h);
    uint32_t n;
    char *a = kms_app_account(h, &n);
    rt_return_str(a, n);
}

METHOD(is_app_registered) {
    uint32_t n;
    rt_require_init();
    char *a = kms_app_arg(&n);
    rt_return_bool(rt_set_has(TAG_APPS, a, n));
}

METHOD(get_registered_apps_count) {
    nj_buf b;
    rt_require_init();
    rt_buf(&b, 16);
    nj_put_u64(&b, rt_set_len(TAG_APPS));
    rt_return_buf(&b);
}

METHOD(deregister_app) {
    uint32_t n;
    rt_owner_only("deregister_app");
    char *a = kms_app_arg(&n);
    if (!rt_set_remove(TAG_APPS, a, n)) rt_panic("App not registered");
    rt_event_str("app_deregistered", "app_id", a, n);
}

/* Optional 64-hex argument (null/absent → not written): canonical into out. */
static int kms_opt_hex(uint32_t mask, uint32_t bit, const nj_str *v, const char *name,
                       const char *empty_msg, char *out) {
    if (!(mask & bit) || !v->s) return 0;
    if (nt_hex_body_len(v->s, v->len) == 0) rt_panic(empty_msg);
    rt_hex(v, 64, name, out);
    return 1;
}

METHOD(register_app) {
    nj_str app, owner, dev = {0, 0}, compose = {0, 0};
    int disable = 0, any = 0, tcb = 0;
    nj_field f[] = {
        {"app_id", NJF_STR, 1, &app},
        {"owner_id", NJF_STR, 1, &owner},
        {"disable_upgrades", NJF_BOOL, 1, &disable},
        {"allow_any_device", NJF_BOOL, 1, &any},
        {"initial_device_id", NJF_STR_NULL, 0, &dev},
        {"initial_compose_hash", NJF_STR_NULL, 0, &compose},
        {"require_tcb_up_to_date", NJF_BOOL, 0, &tcb},
    };
    char hex[40], dh[64], ch[64];
    rt_require_init();
    uint32_t mask = rt_args(f, sizeof f / sizeof f[0]);
    if (nt_hex_body_len(app.s, app.len) == 0) rt_panic("Invalid app account ID");
    rt_hex(&app, 40, "app_id", hex);
    rt_account(&owner, "Invalid owner address");
    int has_dev =
        kms_opt_hex(mask, 1u << 4, &dev, "initial_device_id", "Device ID cannot be empty", dh);
    int has_compose = kms_opt_hex(mask, 1u << 5, &compose, "initial_compose_hash",
                                  "Compose hash cannot be empty", ch);
    uint32_t an, cn, pn;
    char *acct = kms_app_account(hex, &an);
    if (rt_set_has(TAG_APPS, acct, an)) rt_panic("App already registered");
    u128 deposit = rt_deposit(), need = kms_registration_deposit();
    if (deposit < need) {
        nj_buf m;
        rt_buf(&m, 160);
        nj_puts(&m, "Attached deposit is too small: register_app requires at least ");
        char d[40];
        nj_put(&m, d, nt_u128_dec(need, d));
        nj_puts(&m, " yoctoNEAR");
        rt_panic_buf(&m);
    }
    const char *cur = rt_current(&cn);
    const char *caller = rt_predecessor(&pn);

    nj_buf args;
    rt_buf(&args, 512);
    nj_puts(&args, "{\"owner_id\":");
    nj_put_str(&args, owner.s, owner.len);
    nj_puts(&args, disable ? ",\"disable_upgrades\":true" : ",\"disable_upgrades\":false");
    nj_puts(&args, any ? ",\"allow_any_device\":true" : ",\"allow_any_device\":false");
    nj_puts(&args, ",\"initial_device_id\":");
    if (has_dev)
        nj_put_str(&args, dh, 64);
    else
        nj_puts(&args, "null");
    nj_puts(&args, ",\"initial_compose_hash\":");
    if (has_compose)
        nj_put_str(&args, ch, 64);
    else
        nj_puts(&args, "null");
    nj_puts(&args, ",\"kms_contract_id\":");
    nj_put_str(&args, cur, cn);
    nj_puts(&args,
            tcb ? ",\"require_tcb_up_to_date\":true}" : ",\"require_tcb_up_to_date\":false}");

    /* keep what the app needs; the rest goes back to the caller at once */
    if (deposit > need) rt_transfer(caller, pn, deposit - need);
    deposit = need;
    u128 zero = 0, to_app = deposit - (u128)KMS_RECORD_BYTES * YOCTO_PER_BYTE;
    uint64_t p = near_promise_batch_create(an, (uintptr_t)acct);
    near_promise_batch_action_create_account(p);
    near_promise_batch_action_transfer(p, (uintptr_t)&to_app);
    near_promise_batch_action_deploy_contract(p, nc_app_wasm_len, (uintptr_t)nc_app_wasm);
    near_promise_batch_action_function_call(p, 3, (uintptr_t) "new", args.len, (uintptr_t)args.p,
                                            (uintptr_t)&zero, 30 * TGAS);

    nj_buf cb;
    rt_buf(&cb, 256);
    nj_puts(&cb, "{\"app_id\":");
    nj_put_str(&cb, acct, an);
    nj_puts(&cb, ",\"caller\":");
    nj_put_str(&cb, caller, pn);
    nj_puts(&cb, ",\"deposit\":");
    kms_put_u128(&cb, deposit);
    nj_putc(&cb, '}');
    static const char cb_name[] = "on_app_contract_deployed";
    uint64_t t = near_promise_then(p, cn, (uintptr_t)cur, sizeof cb_name - 1, (uintptr_t)cb_name,
                                   cb.len, (uintptr_t)cb.p, (uintptr_t)&zero, 10 * TGAS);
    near_promise_return(t);
}

METHOD(on_app_contract_deployed) {
    nj_str app, caller, dep;
    nj_field f[] = {
        {"app_id", NJF_STR, 1, &app},
        {"caller", NJF_STR, 1, &caller},
        {"deposit", NJF_STR, 1, &dep},
    };
    rt_private("on_app_contract_deployed");
    if (rt_deposit() != 0) rt_panic("Method on_app_contract_deployed doesn't accept deposit");
    rt_require_init();
    rt_args(f, 3);
    if (near_promise_results_count() == 1 && near_promise_result(0, 0) == 1) {
        rt_set_add(TAG_APPS, app.s, app.len);
        nj_buf b;
        rt_buf(&b, 256);
        nj_puts(&b, "{\"app_id\":");
        nj_put_str(&b, app.s, app.len);
        nj_puts(&b, ",\"deployer\":");
        nj_put_str(&b, caller.s, caller.len);
        nj_putc(&b, '}');
        rt_event("app_deployed", b.p, b.len);
        rt_return_bool(1);
        return;
    }
    u128 amount;
    if (!nt_u128_parse(dep.s, dep.len, &amount)) rt_panic("Invalid deposit");
    rt_transfer(caller.s, caller.len, amount);
    nj_buf b;
    rt_buf(&b, 320);
    nj_puts(&b, "{\"app_id\":");
    nj_put_str(&b, app.s, app.len);
    nj_puts(&b, ",\"refunded_to\":");
    nj_put_str(&b, caller.s, caller.len);
    nj_puts(&b, ",\"amount\":");
    nj_put_str(&b, dep.s, dep.len);
    nj_putc(&b, '}');
    rt_event("app_registration_failed", b.p, b.len);
    rt_return_bool(0);
}

/* ------------------------------------------------------------ boot checks */

METHOD(is_kms_allowed) {
    rt_boot b;
    rt_require_init();
    rt_boot_info(&b);
    if (!rt_tcb_up_to_date(&b))
        rt_return_decision(0, "TCB status is not up to date");
    else if (!rt_set_has(SET_OS->tag, b.os_image_hash, 64))
        rt_return_decision(0, "OS image is not allowed");
    else if (!rt_set_has(SET_MR->tag, b.mr_aggregated, 64))
        rt_return_decision(0, "Aggregated MR not allowed");
    else if (!b.has_device || !rt_set_has(SET_DEV->tag, b.device_id, 64))
        rt_return_decision(0, "KMS is not allowed to boot on this device");
    else
        rt_return_decision(1, "");
}

/* ------------------------------------------------------------ expected measurements */

/* The OS measurements an attested KMS must run under, governed by the owner
 * (upstream compiles them into the wasm, so an OS upgrade needs a redeploy).
 * An entry is one string of 4 × 96 canonical hex digits: MRTD ‖ RTMR0 ‖
 * RTMR1 ‖ RTMR2, kept in a set like the whitelists. */
#define TAG_MEAS 'E'
#define MEAS_HEX 96u
static const char *const meas_fields[4] = {"mrtd", "rtmr0", "rtmr1", "rtmr2"};

static void meas_arg(char out[4 * MEAS_HEX]) {
    nj_str v[4];
    nj_field f[4];
    for (int i = 0; i < 4; i++) {
        f[i].name = meas_fields[i];
        f[i].kind = NJF_STR;
        f[i].required = 1;
        f[i].out = &v[i];
    }
    rt_args(f, 4);
    for (int i = 0; i < 4; i++)
        rt_hex(&v[i], MEAS_HEX, meas_fields[i], out + i * MEAS_HEX);
}

/* {"mrtd":"..","rtmr0":"..","rtmr1":"..","rtmr2":".."} of an entry. */
static void meas_put(nj_buf *b, const char *e) {
    for (int i = 0; i < 4; i++) {
        nj_puts(b, i ? ",\"" : "{\"");
        nj_puts(b, meas_fields[i]);
        nj_puts(b, "\":");
        nj_put_str(b, e + i * MEAS_HEX, MEAS_HEX);
    }
    nj_putc(b, '}');
}

static void meas_change(const char *method, int add) {
    char e[4 * MEAS_HEX];
    rt_owner_only(method);
    meas_arg(e);
    if (add)
        rt_set_add(TAG_MEAS, e, sizeof e);
    else if (!rt_set_remove(TAG_MEAS, e, sizeof e))
        rt_panic("Measurements not found");
    nj_buf b;
    rt_buf(&b, 4 * MEAS_HEX + 64);
    meas_put(&b, e);
    rt_event(add ? "kms_measurements_added" : "kms_measurements_removed", b.p, b.len);
}

METHOD(add_kms_measurements) {
    meas_change("add_kms_measurements", 1);
}
METHOD(remove_kms_measurements) {
    meas_change("remove_kms_measurements", 0);
}
METHOD(is_kms_measurements_allowed) {
    char e[4 * MEAS_HEX];
    rt_require_init();
    meas_arg(e);
    rt_return_bool(rt_set_has(TAG_MEAS, e, sizeof e));
}
METHOD(get_kms_measurements) {
    rt_require_init();
    uint32_t n = rt_set_len(TAG_MEAS);
    nj_buf b;
    rt_buf(&b, n * (4 * MEAS_HEX + 64) + 2);
    nj_putc(&b, '[');
    for (uint32_t i = 0; i < n; i++) {
        uint32_t vn;
        const char *e = rt_set_at(TAG_MEAS, i, &vn);
        if (i) nj_putc(&b, ',');
        if (vn == 4 * MEAS_HEX) meas_put(&b, e);
    }
    nj_putc(&b, ']');
    rt_return_buf(&b);
}

/* ------------------------------------------------------------ request_kms_root_key */

#ifdef KMS_TEST_ANCHOR
/* TEST BUILD ONLY (kms-test.wasm): the owner sets the quote verifier's trust
 * anchor, so tests can sign quotes with a PKI of their own. The production
 * kms.wasm has no such method and verifies against Intel's root only
 * (contracts/near/test-wasm.sh checks that it exports none of this). */
METHOD(test_set_trust_anchor) {
    nj_str v;
    nj_field f[] = {{"root_der_hex", NJF_STR, 1, &v}};
    rt_owner_only("test_set_trust_anchor");
    rt_args(f, 1);
    uint8_t *d = rt_alloc(v.len / 2 + 1);
    if (v.len % 2 || !nt_hex_decode(v.s, v.len, d)) rt_panic("Invalid root_der_hex");
    rt_put("T", 1, d, v.len / 2);
}
#endif

/* One verification step's outcome as an event (pass or fail), so a refused
 * KMS can read why from the transaction's logs. */
static void step_event(const char *step, int passed, const char *detail) {
    nj_buf b;
    rt_buf(&b, 400);
    nj_puts(&b, "{\"step\":\"");
    nj_puts(&b, step);
    nj_puts(&b, passed ? "\",\"result\":\"passed\",\"detail\":"
                       : "\",\"result\":\"failed\",\"detail\":");
    nj_put_str(&b, detail, nj_strlen(detail));
    nj_putc(&b, '}');
    rt_event("kms_attestation_step", b.p, b.len);
}

/* Log a step; on failure the request ends with upstream's panic message. */
static void step(const char *name, int passed, const char *detail) {
    step_event(name, passed, passed ? "" : detail);
    if (!passed) rt_panic("Attestation verification failed");
}

/* Member `key` of object token obj in (tokens toks, text s), or 0. Keys are
 * compared raw: the names looked up have no escapes. */
static uint32_t obj_get(const char *s, const nj_tok *t, uint32_t obj, const char *key) {
    uint32_t k = obj + 1, kl = nj_strlen(key);
    for (uint32_t i = 0; i < t[obj].len; i++) {
        if (t[k].type == NJ_STR && nj_eq(s + t[k].start, t[k].len, key, kl)) return k + 1;
        k = t[k + 1].end;
    }
    return 0;
}

static int obj_true(const char *s, const nj_tok *t, uint32_t obj, const char *key) {
    uint32_t v = obj_get(s, t, obj, key);
    return v && t[v].type == NJ_TRUE;
}

/* The app-compose rules of upstream (reference §1.5): a manifest of version
 * 2 for docker-compose with the KMS on, public logs and sysinfo, secure time
 * not switched off. Returns NULL or the rule broken; *dc gets
 * docker_compose_file. */
static const char *compose_rules(char *s, uint32_t n, nj_str *dc) {
    uint32_t cap = nj_tok_cap(n);
    nj_tok *t = rt_alloc(cap * (uint32_t)sizeof(nj_tok));
    nj_buf err;
    rt_buf(&err, 96);
    if (!nj_parse(s, n, t, cap, &err) || t[0].type != NJ_OBJ)
        return "app_compose is not a JSON object";
    uint32_t v = obj_get(s, t, 0, "manifest_version");
    uint64_t mv;
    if (!v || t[v].type != NJ_NUM || !nj_uint(s, &t[v], 0xffffffffu, &mv) || mv != 2)
        return "app_compose manifest_version is not 2";
    v = obj_get(s, t, 0, "runner");
    if (!v || t[v].type != NJ_STR || !nj_eq(s + t[v].start, t[v].len, "docker-compose", 14))
        return "app_compose runner is not docker-compose";
    if (!obj_true(s, t, 0, "kms_enabled")) return "app_compose kms_enabled is not true";
    if (!obj_true(s, t, 0, "public_logs")) return "app_compose public_logs is not true";
    if (!obj_true(s, t, 0, "public_sysinfo")) return "app_compose public_sysinfo is not true";
    v = obj_get(s, t, 0, "secure_time");
    if (v && t[v].type == NJ_FALSE) return "app_compose secure_time is false";
    v = obj_get(s, t, 0, "docker_compose_file");
    if (!v || t[v].type != NJ_STR) return "app_compose docker_compose_file is missing";
    dc->s = s + t[v].start;
    dc->len = nj_unescape(s, &t[v]);
    return 0;
}

/* SHA3-384 from nettle (Debian's source, compiled to wasm32 by mk/near.mk). */
static void sha3_384(const uint8_t *p, uint32_t n, uint8_t out[48]) {
    struct sha3_384_ctx c;
    sha3_384_init(&c);
    sha3_384_update(&c, n, p);
    sha3_384_digest(&c, 48, out);
}

/* The parsed tcb_info argument (dstack's TcbInfo JSON). */
typedef struct {
    nj_str rtmr[4], mrtd, compose_hash, app_compose;
    uint32_t event_log; /* token of the array */
    char *text;
    nj_tok *toks;
} tcb_arg;

/* Required members; others (os_image_hash, device_id, key_provider_info, ...
 * as dstack versions add them) are ignored, as upstream's serde does. */
static int tcb_parse(const nj_str *in, tcb_arg *a) {
    static const char *const names[] = {"mrtd",  "rtmr0",        "rtmr1",      "rtmr2",
                                        "rtmr3", "compose_hash", "app_compose"};
    nj_str *out[] = {&a->mrtd,    &a->rtmr[0],      &a->rtmr[1],    &a->rtmr[2],
                     &a->rtmr[3], &a->compose_hash, &a->app_compose};
    uint32_t n = in->len, cap = nj_tok_cap(n);
    a->text = rt_alloc(n + 1);
    for (uint32_t i = 0; i < n; i++)
        a->text[i] = in->s[i];
    a->toks = rt_alloc(cap * (uint32_t)sizeof(nj_tok));
    nj_buf err;
    rt_buf(&err, 160);
    if (!nj_parse(a->text, n, a->toks, cap, &err) || a->toks[0].type != NJ_OBJ) return 0;
    for (uint32_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        uint32_t v = obj_get(a->text, a->toks, 0, names[i]);
        if (!v || a->toks[v].type != NJ_STR) return 0;
        out[i]->s = a->text + a->toks[v].start;
        out[i]->len = nj_unescape(a->text, &a->toks[v]);
    }
    a->event_log = obj_get(a->text, a->toks, 0, "event_log");
    return a->event_log && a->toks[a->event_log].type == NJ_ARR;
}

/* The collateral argument must be a JSON object with upstream's keys (the
 * verifier then checks every value). */
static int collateral_parse(const nj_str *in) {
    static const char *const keys[] = {
        "tcb_info_issuer_chain",    "tcb_info",    "tcb_info_signature",
        "qe_identity_issuer_chain", "qe_identity", "qe_identity_signature",
        "pck_crl_issuer_chain",     "root_ca_crl", "pck_crl"};
    uint32_t n = in->len, cap = nj_tok_cap(n);
    char *s = rt_alloc(n + 1);
    for (uint32_t i = 0; i < n; i++)
        s[i] = in->s[i];
    nj_tok *t = rt_alloc(cap * (uint32_t)sizeof(nj_tok));
    nj_buf err;
    rt_buf(&err, 160);
    if (!nj_parse(s, n, t, cap, &err) || t[0].type != NJ_OBJ) return 0;
    for (uint32_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        uint32_t v = obj_get(s, t, 0, keys[i]);
        if (!v || t[v].type != NJ_STR) return 0;
    }
    return 1;
}

/* Hex measurement string of the tcb_info equals the quote's bytes. */
static int meas_eq(const nj_str *hex, const uint8_t *p) {
    char h[MEAS_HEX], q[MEAS_HEX];
    if (!nt_hex_norm(hex->s, hex->len, MEAS_HEX, h)) return 0;
    nt_hex_encode(p, 48, q);
    return nj_eq(h, MEAS_HEX, q, MEAS_HEX);
}

METHOD(request_kms_root_key) {
    nj_str quote_hex, collateral, tcb_info, worker;
    nj_field f[] = {
        {"quote_hex", NJF_STR, 1, &quote_hex},
        {"collateral", NJF_STR, 1, &collateral},
        {"tcb_info", NJF_STR, 1, &tcb_info},
        {"worker_public_key", NJF_STR, 1, &worker},
    };
    rt_require_init();
    if (rt_deposit() != 1) rt_panic("Requires attached deposit of exactly 1 yoctoNEAR");
    rt_args(f, 4);

    /* 1. the arguments, in upstream's order */
    uint32_t qn = quote_hex.len / 2;
    uint8_t *quote = rt_alloc(qn + 1);
    if (quote_hex.len % 2 || !nt_hex_decode(quote_hex.s, quote_hex.len, quote))
        rt_panic("Invalid quote hex");
    if (!collateral_parse(&collateral)) rt_panic("Invalid collateral format");
    tcb_arg tcb;
    if (!tcb_parse(&tcb_info, &tcb)) rt_panic("Invalid TCB info format");
    if (worker.len == 0) rt_panic("Invalid worker public key");

    /* 2. expected report data: 00 01 ‖ SHA3-384(the signer's 32-byte ed25519 key) ‖ zeros */
    uint8_t pk[33], want_rd[64] = {0, 1};
    near_signer_account_pk(0);
    uint64_t pkn = near_register_len(0);
    int ed25519 = pkn == 33;
    if (ed25519) near_read_register(0, (uintptr_t)pk);
    ed25519 = ed25519 && pk[0] == 0;
    if (ed25519) sha3_384(pk + 1, 32, want_rd + 2);

    /* 3. the quote at block time, against Intel's root (a test build: the owner's) */
    const uint8_t *root = 0;
    uint32_t root_n = 0;
#ifdef KMS_TEST_ANCHOR
    root = (const uint8_t *)rt_get("T", 1, &root_n);
#endif
    dg_quote q;
    dg_at_verdict v;
    dg_at_err err;
    int64_t now = (int64_t)(near_block_timestamp() / 1000000000ull);
    int ok = dg_at_verify(quote, qn, collateral.s, collateral.len, now, root, root_n, &q, &v, &err);
    step("quote", ok, err.msg);
    step("td_report", q.td_version == 10, "the quote's TD report is not a TDX 1.0 report");
    step("tcb_status", v.status == DG_TCB_UP_TO_DATE && v.n_advisories == 0,
         v.status != DG_TCB_UP_TO_DATE ? "TCB status is not UpToDate" : "the TCB has advisory ids");
    step("report_data",
         ed25519 && nj_eq((const char *)q.td.report_data, 64, (const char *)want_rd, 64),
         ed25519 ? "report data is not 00 01 || SHA3-384(signer public key) || zeros"
                 : "the signer's key is not an ed25519 key");

    /* 4. MRTD and RTMR0-2: in the owner's list and equal to tcb_info's */
    char e[4 * MEAS_HEX];
    nt_hex_encode(q.td.mr_td, 48, e);
    for (int i = 0; i < 3; i++)
        nt_hex_encode(q.td.rtmr[i], 48, e + (i + 1) * MEAS_HEX);
    step("measurements", rt_set_has(TAG_MEAS, e, sizeof e),
         "MRTD and RTMR0-2 are not in the expected measurements");
    int same = meas_eq(&tcb.mrtd, q.td.mr_td);
    for (int i = 0; i < 4; i++)
        same = same && meas_eq(&tcb.rtmr[i], q.td.rtmr[i]);
    step("tcb_info", same, "tcb_info's MRTD or RTMRs differ from the quote's");

    /* 5. RTMR3 replay of the event log */
    dg_at_events ev;
    const nj_tok *lt = &tcb.toks[tcb.event_log];
    /* the array's text: from its '[' to the end of its last byte */
    uint32_t ls = lt->start, le = ls;
    {
        const char *s = tcb.text;
        int depth = 0;
        uint32_t i = ls;
        while (s[i] != '[')
            i++;
        ls = i;
        for (int in_str = 0;; i++) {
            char c = s[i];
            if (in_str) {
                if (c == '\\')
                    i++;
                else if (c == '"')
                    in_str = 0;
            } else if (c == '"')
                in_str = 1;
            else if (c == '[' || c == '{')
                depth++;
            else if ((c == ']' || c == '}') && --depth == 0)
                break;
        }
        le = i + 1;
    }
    ok = dg_at_events_parse(tcb.text + ls, le - ls, &ev, &err) &&
         dg_at_events_check_rtmr3(&ev, &q.td, &err);
    step("rtmr3", ok, err.msg);

    /* 6. app-compose: one compose-hash event = tcb_info.compose_hash = SHA-256(app_compose) */
    char ch[64], evh[64];
    ok = dg_at_events_check_compose(&ev, tcb.app_compose.s, tcb.app_compose.len, &err);
    if (ok) {
        nt_hex_encode(ev.compose_hash, 32, evh);
        if (!nt_hex_norm(tcb.compose_hash.s, tcb.compose_hash.len, 64, ch) ||
            !nj_eq(ch, 64, evh, 64)) {
            ok = 0;
            err.msg[0] = 0;
        }
    }
    step("compose_hash", ok,
         ok || err.msg[0] ? err.msg : "tcb_info compose_hash differs from the event log");
    nj_str dc;
    const char *broken = compose_rules((char *)tcb.app_compose.s, tcb.app_compose.len, &dc);
    step("app_compose", broken == 0, broken);

    /* 7. SHA-256(docker_compose_file) in the KMS's allowed compose hashes */
    near_sha256(dc.len, (uintptr_t)dc.s, 0);
    uint8_t h[32];
    near_read_register(0, (uintptr_t)h);
    char hh[64];
    nt_hex_encode(h, 32, hh);
    step("compose_hash_allowed", rt_set_has(SET_COMPOSE->tag, hh, 64),
         "SHA-256 of docker_compose_file is not an allowed KMS compose hash");

    /* 8. the MPC network derives the key for the worker; its answer is ours */
    static const char ok_msg[] = "KMS attestation verified, requesting key from MPC";
    rt_log(ok_msg, sizeof ok_msg - 1);
    uint32_t mn;
    uint64_t domain;
    const char *mpc = kms_mpc(&mn, &domain);
    nj_buf a;
    rt_buf(&a, worker.len * 2 + 160);
    nj_puts(&a, "{\"request\":{\"derivation_path\":\"kms-root-key\",\"app_public_key\":");
    nj_put_str(&a, worker.s, worker.len);
    nj_puts(&a, ",\"domain_id\":");
    nj_put_u64(&a, domain);
    nj_puts(&a, "}}");
    static const char fn[] = "request_app_private_key";
    u128 one = 1;
    uint64_t p = near_promise_create(mn, (uintptr_t)mpc, sizeof fn - 1, (uintptr_t)fn, a.len,
                                     (uintptr_t)a.p, (uintptr_t)&one, MPC_GAS);
    near_promise_return(p);
}
