/* app.c — the per-app dstack governance contract for NEAR.
 *
 * Lives at <40-hex app id>.<kms account>, created by the KMS contract's
 * register_app. Holds the app's compose-hash and device whitelists and three
 * flags; is_app_allowed answers the webhook. The only way to change the code is
 * the owner's `upgrade`, and disable_upgrades closes it for good (the account
 * has no access keys). Interface: docs/near-contracts.md.
 */
#include "rt.h"
#include "near.h"

const char nc_standard[] = "dstack-app";

static const rt_setdef app_sets[] = {
    {"compose_hash", "Compose hash cannot be empty", "compose_hash_added", "compose_hash_removed",
     'C'},
    {"device_id", "Device ID cannot be empty", "device_added", "device_removed", 'D'},
};
#define SET_COMPOSE (&app_sets[0])
#define SET_DEV (&app_sets[1])

/* Flags record "f": 3 bytes. */
enum { F_ANY = 0, F_NO_UPGRADES = 1, F_TCB = 2 };

static void app_flags(uint8_t fl[3]) {
    uint32_t n;
    const char *v = rt_get("f", 1, &n);
    for (uint32_t i = 0; i < 3; i++)
        fl[i] = (v && i < n) ? (uint8_t)v[i] : 0;
}

static void app_set_flag(int which, int on) {
    uint8_t fl[3];
    app_flags(fl);
    fl[which] = on ? 1 : 0;
    rt_put("f", 1, fl, 3);
}

/* Initial entry of `new`: null/absent → nothing; else the add logic. */
static void app_initial(uint32_t mask, uint32_t bit, const nj_str *v, const char *name,
                        const rt_setdef *d) {
    char h[64];
    if (!(mask & bit) || !v->s) return;
    if (nt_hex_body_len(v->s, v->len) == 0) rt_panic(d->empty_msg);
    rt_hex(v, 64, name, h);
    rt_set_add(d->tag, h, 64);
    rt_event_str(d->ev_add, d->field, h, 64);
}

METHOD(new) {
    nj_str owner, dev = {0, 0}, compose = {0, 0}, kms = {0, 0};
    int disable = 0, any = 0, tcb = 0;
    nj_field f[] = {
        {"owner_id", NJF_STR, 1, &owner},
        {"disable_upgrades", NJF_BOOL, 1, &disable},
        {"allow_any_device", NJF_BOOL, 1, &any},
        {"initial_device_id", NJF_STR_NULL, 0, &dev},
        {"initial_compose_hash", NJF_STR_NULL, 0, &compose},
        {"kms_contract_id", NJF_STR_NULL, 0, &kms},
        {"require_tcb_up_to_date", NJF_BOOL, 0, &tcb},
    };
    rt_init("new", 0);
    uint32_t mask = rt_args(f, sizeof f / sizeof f[0]);
    rt_account(&owner, "Invalid owner address");
    if (kms.s) {
        rt_account(&kms, "Invalid kms_contract_id");
        rt_put("k", 1, kms.s, kms.len);
    }
    rt_put("o", 1, owner.s, owner.len);
    uint8_t fl[3] = {(uint8_t)any, (uint8_t)disable, (uint8_t)tcb};
    rt_put("f", 1, fl, 3);
    app_initial(mask, 1u << 3, &dev, "initial_device_id", SET_DEV);
    app_initial(mask, 1u << 4, &compose, "initial_compose_hash", SET_COMPOSE);
}

/* Additions are paid for: the caller may attach the storage they take (the
 * excess is refunded), and the panic names the amount when it is short. */
SET_CHANGE_METHODS(add_compose_hash, remove_compose_hash, SET_COMPOSE, 1)
SET_CHANGE_METHODS(add_device, remove_device, SET_DEV, 1)
METHOD(is_compose_hash_allowed) {
    rt_m_set_is(SET_COMPOSE);
}
METHOD(is_device_allowed) {
    rt_m_set_is(SET_DEV);
}
METHOD(get_compose_hashes) {
    rt_set_list_method(SET_COMPOSE->tag);
}
METHOD(get_devices) {
    rt_set_list_method(SET_DEV->tag);
}
METHOD(get_owner) {
    rt_m_get_owner();
}
METHOD(transfer_ownership) {
    rt_m_transfer_ownership();
}

/* A flag setter. Its argument has a name (arg) and, for the guide's
 * set_allow_any_device {"allow": bool}, an alias; exactly one must be given. */
static void app_bool_setter(const char *method, const char *arg, const char *alias, int which,
                            const char *event, const char *key) {
    int v = 0, va = 0;
    nj_field f[] = {{arg, NJF_BOOL, alias ? 0 : 1, &v}, {alias ? alias : "", NJF_BOOL, 0, &va}};
    rt_owner_only(method);
    uint32_t mask = rt_args(f, alias ? 2 : 1);
    if (alias) {
        if (mask == 3) rt_panic3("Give either `", arg, "` or `allow`, not both");
        if (mask == 0)
            rt_panic3("Failed to deserialize input from JSON. Error: missing field `", arg, "`");
        if (mask == 2) v = va;
    }
    app_set_flag(which, v);
    nj_buf b;
    rt_buf(&b, 64);
    nj_puts(&b, "{\"");
    nj_puts(&b, key);
    nj_puts(&b, v ? "\":true}" : "\":false}");
    rt_event(event, b.p, b.len);
}

METHOD(set_allow_any_device) {
    app_bool_setter("set_allow_any_device", "allow_any_device", "allow", F_ANY,
                    "allow_any_device_set", "allow_any");
}

METHOD(set_require_tcb_up_to_date) {
    app_bool_setter("set_require_tcb_up_to_date", "require_tcb_up_to_date", 0, F_TCB,
                    "require_tcb_up_to_date_set", "require");
}

METHOD(disable_upgrades) {
    rt_owner_only("disable_upgrades");
    rt_args(0, 0);
    app_set_flag(F_NO_UPGRADES, 1);
    rt_event("upgrades_disabled", "{}", 2);
}

METHOD(upgrade) {
    static const char magic[8] = {0, 'a', 's', 'm', 1, 0, 0, 0};
    uint8_t fl[3];
    uint32_t n, cn;
    rt_owner_only("upgrade");
    app_flags(fl);
    if (fl[F_NO_UPGRADES]) rt_panic("Upgrades are permanently disabled");
    char *code = rt_input(&n);
    if (n < 8 || !nj_eq(code, 8, magic, 8)) rt_panic("Invalid contract code");
    const char *cur = rt_current(&cn);
    uint64_t p = near_promise_batch_create(cn, (uintptr_t)cur);
    near_promise_batch_action_deploy_contract(p, n, (uintptr_t)code);
    near_sha256(n, (uintptr_t)code, 0);
    uint8_t h[32];
    if (near_register_len(0) != 32) rt_panic("sha256 failed");
    near_read_register(0, (uintptr_t)h);
    char hex[64];
    nt_hex_encode(h, 32, hex);
    rt_event_str("upgraded", "code_hash", hex, 64);
}

METHOD(get_app_info) {
    uint8_t fl[3];
    uint32_t on, kn;
    rt_require_init();
    app_flags(fl);
    const char *o = rt_get("o", 1, &on);
    const char *k = rt_get("k", 1, &kn);
    nj_buf b;
    rt_buf(&b, 512);
    nj_puts(&b, "{\"owner_id\":");
    nj_put_str(&b, o, on);
    nj_puts(&b, ",\"kms_contract_id\":");
    if (k)
        nj_put_str(&b, k, kn);
    else
        nj_puts(&b, "null");
    nj_puts(&b, fl[F_ANY] ? ",\"allow_any_device\":true" : ",\"allow_any_device\":false");
    nj_puts(&b, fl[F_NO_UPGRADES] ? ",\"upgrades_disabled\":true" : ",\"upgrades_disabled\":false");
    nj_puts(&b,
            fl[F_TCB] ? ",\"require_tcb_up_to_date\":true" : ",\"require_tcb_up_to_date\":false");
    nj_puts(&b, ",\"compose_hash_count\":");
    nj_put_u64(&b, rt_set_len(SET_COMPOSE->tag));
    nj_puts(&b, ",\"device_count\":");
    nj_put_u64(&b, rt_set_len(SET_DEV->tag));
    nj_putc(&b, '}');
    rt_return_buf(&b);
}

METHOD(is_app_allowed) {
    rt_boot b;
    uint8_t fl[3];
    rt_require_init();
    rt_boot_info(&b);
    app_flags(fl);
    if (fl[F_TCB] && !rt_tcb_up_to_date(&b))
        rt_return_decision(0, "TCB status is not up to date");
    else if (!rt_set_has(SET_COMPOSE->tag, b.compose_hash, 64))
        rt_return_decision(0, "Compose hash not allowed");
    else if (!fl[F_ANY] && (!b.has_device || !rt_set_has(SET_DEV->tag, b.device_id, 64)))
        rt_return_decision(0, "Device not allowed");
    else
        rt_return_decision(1, "");
}
