/* test_app.c — the App contract (build/near/app.wasm) on the emulator, and the
 * whole NEAR governance flow (KMS deploy → whitelists → register_app → app
 * policy → boot checks → upgrade → disable_upgrades → deregistration).
 *
 * App instances are created the way production creates them: by the KMS's
 * register_app, so the account has no keys and only `upgrade` changes code.
 */
#include <sodium.h>

#include "ntc.h"

#define APERM(m)                                                                                   \
    "Insufficient permissions for method " m                                                       \
    " restricted by access control. Requires one of these roles: [\"Owner\"]"

/* A KMS world with APP1 registered by alice for owner bob (no initial entries). */
static nemu *app_world(const char *extra_args) {
    nemu *w = kms_world();
    nemu_u128 dep = nt_registration_deposit(w);
    const char *args = fmt("{\"app_id\":\"%s\",\"owner_id\":\"%s\",\"disable_upgrades\":false,"
                           "\"allow_any_device\":false%s}",
                           APP1, BOB, extra_args ? extra_args : "");
    nemu_outcome *o = nemu_call(w, ALICE, KMS, "register_app", args, dep, NT_GAS);
    if (!o->ok || strcmp(nt_val(o), "true") != 0)
        dg_test_fail(__FILE__, __LINE__, "register_app failed: %s %s", nt_val(o),
                     o->error ? o->error : "");
    nemu_outcome_free(o);
    return w;
}

#define APP APP1_ACC

TEST(app_new_rules_on_a_plain_account) {
    /* `new` is not private (the KMS calls it in the batch) but runs once */
    nemu *w = kms_world_uninit();
    nemu_create_account(w, "plain.near", 10 * NEMU_NEAR);
    size_t n;
    uint8_t *code = nt_code("app", &n);
    nemu_set_code(w, "plain.near", code, n);
    free(code);
    NT_FAIL(nemu_view(w, "plain.near", "get_app_info", NULL), "The contract is not initialized");
    NT_FAIL(nt_call1(w, BOB, "plain.near", "add_device", fmt("{\"device_id\":\"%s\"}", hex64('d'))),
            "The contract is not initialized");
    const char *ok =
        "{\"owner_id\":\"" BOB "\",\"disable_upgrades\":false,\"allow_any_device\":false}";
    NT_FAIL(nemu_call(w, ALICE, "plain.near", "new", ok, 1, NT_GAS),
            "Method new doesn't accept deposit");
    NT_FAIL(nemu_call(w, ALICE, "plain.near", "new",
                      "{\"owner_id\":\"\",\"disable_upgrades\":false,\"allow_any_device\":false}",
                      0, NT_GAS),
            "Invalid owner address");
    NT_FAIL(nemu_call(w, ALICE, "plain.near", "new",
                      "{\"owner_id\":\"" BOB
                      "\",\"disable_upgrades\":false,\"allow_any_device\":false,"
                      "\"kms_contract_id\":\"K\"}",
                      0, NT_GAS),
            "Invalid kms_contract_id");
    NT_FAIL(nemu_call(w, ALICE, "plain.near", "new",
                      "{\"owner_id\":\"" BOB
                      "\",\"disable_upgrades\":false,\"allow_any_device\":false,"
                      "\"initial_compose_hash\":\"\"}",
                      0, NT_GAS),
            "Compose hash cannot be empty");
    NT_FAIL(nemu_call(w, ALICE, "plain.near", "new", "{\"owner_id\":\"" BOB "\"}", 0, NT_GAS),
            "missing field `disable_upgrades`");
    nemu_outcome *o = nemu_call(w, ALICE, "plain.near", "new", ok, 0, NT_GAS);
    CHECK(o->ok);
    CHECK_INT(nt_event_lines(o), 0);
    nemu_outcome_free(o);
    NT_FAIL(nemu_call(w, ALICE, "plain.near", "new", ok, 0, NT_GAS),
            "The contract has already been initialized");
    NT_OK(nemu_view(w, "plain.near", "get_app_info", NULL),
          "{\"owner_id\":\"" BOB "\",\"kms_contract_id\":null,\"allow_any_device\":false,"
          "\"upgrades_disabled\":false,\"require_tcb_up_to_date\":false,\"compose_hash_count\":0,"
          "\"device_count\":0}");
    nemu_free(w);
}

typedef struct {
    const char *add, *remove, *is, *list, *field, *empty_msg, *ev_add, *ev_remove;
} awl;

static const awl app_lists[] = {
    {"add_compose_hash", "remove_compose_hash", "is_compose_hash_allowed", "get_compose_hashes",
     "compose_hash", "Compose hash cannot be empty", "compose_hash_added", "compose_hash_removed"},
    {"add_device", "remove_device", "is_device_allowed", "get_devices", "device_id",
     "Device ID cannot be empty", "device_added", "device_removed"},
};

TEST(app_whitelists) {
    nemu *w = app_world(NULL);
    for (size_t i = 0; i < 2; i++) {
        const awl *l = &app_lists[i];
        char h[65], arg[128], ev[128];
        snprintf(h, sizeof h, "%s", hex64((char)('a' + i)));
        snprintf(arg, sizeof arg, "{\"%s\":\"0x%s\"}", l->field, h);
        snprintf(ev, sizeof ev, "{\"%s\":\"%s\"}", l->field, h);
        NT_FAIL(nemu_call(w, BOB, APP, l->add, arg, 0, NT_GAS),
                "Requires attached deposit of at least 1 yoctoNEAR");
        NT_FAIL(nt_call1(w, ALICE, APP, l->add, arg), fmt(APERM("%s"), l->add));
        /* the KMS does not own the app either */
        NT_FAIL(nt_call1(w, KMS, APP, l->add, arg), fmt(APERM("%s"), l->add));
        NT_FAIL(nt_call1(w, BOB, APP, l->add, fmt("{\"%s\":\"\"}", l->field)), l->empty_msg);
        NT_FAIL(nt_call1(w, BOB, APP, l->add, fmt("{\"%s\":\"12\"}", l->field)),
                fmt("Invalid %s: expected 64 hex digits", l->field));
        nemu_outcome *o = nt_call1(w, BOB, APP, l->add, arg);
        CHECK(o->ok);
        CHECK_INT(nt_event_count(o, "dstack-app", l->ev_add, ev), 1);
        nemu_outcome_free(o);
        NT_OK(nemu_view(w, APP, l->is, arg), "true");
        NT_OK(nemu_view(w, APP, l->list, "{\"offset\":0,\"limit\":5}"), fmt("[\"%s\"]", h));
        o = nt_call1(w, BOB, APP, l->remove, arg);
        CHECK(o->ok);
        CHECK_INT(nt_event_count(o, "dstack-app", l->ev_remove, ev), 1);
        nemu_outcome_free(o);
        NT_OK(nemu_view(w, APP, l->is, arg), "false");
        NT_OK(nemu_view(w, APP, l->list, NULL), "[]");
        NT_FAIL(nt_call1(w, ALICE, APP, l->remove, arg), fmt(APERM("%s"), l->remove));
    }
    /* a bigger deposit than 1 yocto comes back to the owner (gas price 0:
     * deposit arithmetic only) */
    nemu_set_gas_price(w, 0);
    nemu_u128 b0 = nemu_balance(w, BOB);
    NT_OK(nemu_call(w, BOB, APP, "add_device", fmt("{\"device_id\":\"%s\"}", hex64('e')), NEMU_NEAR,
                    NT_GAS),
          "");
    CHECK_U128(nemu_balance(w, BOB), b0 - 1);
    nemu_free(w);
}

TEST(app_flags_and_events) {
    nemu *w = app_world(NULL);
    nemu_outcome *o = nt_call1(w, BOB, APP, "set_allow_any_device", "{\"allow_any_device\":true}");
    CHECK(o->ok);
    CHECK_INT(nt_event_count(o, "dstack-app", "allow_any_device_set", "{\"allow_any\":true}"), 1);
    nemu_outcome_free(o);
    o = nt_call1(w, BOB, APP, "set_require_tcb_up_to_date", "{\"require_tcb_up_to_date\":true}");
    CHECK(o->ok);
    CHECK_INT(nt_event_count(o, "dstack-app", "require_tcb_up_to_date_set", "{\"require\":true}"),
              1);
    nemu_outcome_free(o);
    NT_OK(nemu_view(w, APP, "get_app_info", NULL),
          "{\"owner_id\":\"" BOB "\",\"kms_contract_id\":\"" KMS "\",\"allow_any_device\":true,"
          "\"upgrades_disabled\":false,\"require_tcb_up_to_date\":true,\"compose_hash_count\":0,"
          "\"device_count\":0}");
    NT_FAIL(nt_call1(w, BOB, APP, "set_allow_any_device", "{\"allow_any_device\":1}"),
            "invalid type for field `allow_any_device`");
    NT_FAIL(nt_call1(w, BOB, APP, "set_allow_any_device", "{}"),
            "missing field `allow_any_device`");
    NT_FAIL(nt_call1(w, ALICE, APP, "set_allow_any_device", "{\"allow_any_device\":false}"),
            APERM("set_allow_any_device"));
    NT_FAIL(
        nt_call1(w, ALICE, APP, "set_require_tcb_up_to_date", "{\"require_tcb_up_to_date\":false}"),
        APERM("set_require_tcb_up_to_date"));
    o = nt_call1(w, BOB, APP, "set_allow_any_device", "{\"allow_any_device\":false}");
    CHECK_INT(nt_event_count(o, "dstack-app", "allow_any_device_set", "{\"allow_any\":false}"), 1);
    nemu_outcome_free(o);
    /* ownership */
    NT_FAIL(nt_call1(w, ALICE, APP, "transfer_ownership", "{\"new_owner_id\":\"" ALICE "\"}"),
            APERM("transfer_ownership"));
    o = nt_call1(w, BOB, APP, "transfer_ownership", "{\"new_owner_id\":\"" ALICE "\"}");
    CHECK_INT(nt_event_count(o, "dstack-app", "ownership_transferred",
                             "{\"previous_owner_id\":\"" BOB "\",\"new_owner_id\":\"" ALICE "\"}"),
              1);
    nemu_outcome_free(o);
    NT_OK(nemu_view(w, APP, "get_owner", NULL), "\"" ALICE "\"");
    NT_FAIL(nt_call1(w, BOB, APP, "disable_upgrades", "{}"), APERM("disable_upgrades"));
    nemu_free(w);
}

TEST(app_is_app_allowed_reasons_in_order) {
    nemu *w = app_world(NULL);
    const char *ch = hex64('c'), *dev = hex64('d'), *mr = hex64('2'), *os = hex64('1');
    char boot_ok[1024], boot_bad_tcb[1024], boot_no_dev[1024];
    snprintf(boot_ok, sizeof boot_ok, "%s", nt_boot(APP1, ch, dev, mr, os, "UpToDate"));
    snprintf(boot_bad_tcb, sizeof boot_bad_tcb, "%s", nt_boot(APP1, ch, dev, mr, os, "OutOfDate"));
    snprintf(boot_no_dev, sizeof boot_no_dev, "%s", nt_boot(APP1, ch, "", mr, os, "UpToDate"));
    /* TCB is not checked unless required (default off, as on Ethereum) */
    NT_OK(nemu_view(w, APP, "is_app_allowed", boot_bad_tcb),
          "[false,\"Compose hash not allowed\"]");
    NT_OK(nemu_view(w, APP, "is_app_allowed", boot_ok), "[false,\"Compose hash not allowed\"]");
    NT_OK(nt_call1(w, BOB, APP, "add_compose_hash", fmt("{\"compose_hash\":\"%s\"}", ch)), "");
    NT_OK(nemu_view(w, APP, "is_app_allowed", boot_ok), "[false,\"Device not allowed\"]");
    NT_OK(nemu_view(w, APP, "is_app_allowed", boot_no_dev), "[false,\"Device not allowed\"]");
    NT_OK(nt_call1(w, BOB, APP, "add_device", fmt("{\"device_id\":\"%s\"}", dev)), "");
    NT_OK(nemu_view(w, APP, "is_app_allowed", boot_ok), "[true,\"\"]");
    NT_OK(nemu_view(w, APP, "is_app_allowed", boot_bad_tcb), "[true,\"\"]");
    NT_OK(nemu_view(w, APP, "is_app_allowed", boot_no_dev), "[false,\"Device not allowed\"]");
    /* allow_any_device skips the device check, not the compose check */
    NT_OK(nt_call1(w, BOB, APP, "set_allow_any_device", "{\"allow_any_device\":true}"), "");
    NT_OK(nemu_view(w, APP, "is_app_allowed", boot_no_dev), "[true,\"\"]");
    NT_OK(nemu_view(w, APP, "is_app_allowed", nt_boot(APP1, hex64('9'), "", mr, os, "UpToDate")),
          "[false,\"Compose hash not allowed\"]");
    /* with the TCB requirement, TCB is the first reason */
    NT_OK(nt_call1(w, BOB, APP, "set_require_tcb_up_to_date", "{\"require_tcb_up_to_date\":true}"),
          "");
    NT_OK(nemu_view(w, APP, "is_app_allowed", nt_boot(APP1, hex64('9'), "", mr, os, "OutOfDate")),
          "[false,\"TCB status is not up to date\"]");
    NT_OK(nemu_view(w, APP, "is_app_allowed", boot_bad_tcb),
          "[false,\"TCB status is not up to date\"]");
    NT_OK(nemu_view(w, APP, "is_app_allowed", boot_ok), "[true,\"\"]");
    /* malformed boot info */
    NT_FAIL(nemu_view(w, APP, "is_app_allowed", "{\"boot_info\":{}}"), "missing field `app_id`");
    NT_FAIL(nemu_view(w, APP, "is_app_allowed", nt_boot(APP1, "0xzz", dev, mr, os, "UpToDate")),
            "Invalid boot_info.compose_hash: expected 64 hex digits");
    nemu_free(w);
}

TEST(app_upgrade_before_and_after_disable_upgrades) {
    nemu *w = app_world(NULL);
    size_t pn, an;
    uint8_t *probe = nt_code("probe", &pn);
    uint8_t *app = nt_code("app", &an);
    /* owner rule and code check */
    NT_FAIL(nemu_call_bytes(w, ALICE, APP, "upgrade", probe, pn, 1, NT_GAS), APERM("upgrade"));
    NT_FAIL(nemu_call_bytes(w, BOB, APP, "upgrade", probe, pn, 0, NT_GAS),
            "Requires attached deposit of at least 1 yoctoNEAR");
    NT_FAIL(nemu_call_bytes(w, BOB, APP, "upgrade", (const uint8_t *)"{\"code\":1}", 10, 1, NT_GAS),
            "Invalid contract code");
    /* upgrading to the same code: event with its sha256, state kept */
    NT_OK(nt_call1(w, BOB, APP, "add_device", fmt("{\"device_id\":\"%s\"}", hex64('d'))), "");
    uint8_t h[32];
    char hex[65];
    crypto_hash_sha256(h, app, an);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", h[i]);
    nemu_outcome *o = nemu_call_bytes(w, BOB, APP, "upgrade", app, an, 1, NT_GAS);
    CHECK(o->ok);
    CHECK(nemu_outcome_first_error(o) == NULL);
    CHECK_INT(nt_event_count(o, "dstack-app", "upgraded", fmt("{\"code_hash\":\"%s\"}", hex)), 1);
    nemu_outcome_free(o);
    NT_OK(nemu_view(w, APP, "get_devices", NULL), fmt("[\"%s\"]", hex64('d')));
    /* disable, then every upgrade is refused and the code stays */
    o = nt_call1(w, BOB, APP, "disable_upgrades", "{}");
    CHECK(o->ok);
    CHECK_INT(nt_event_count(o, "dstack-app", "upgrades_disabled", "{}"), 1);
    nemu_outcome_free(o);
    NT_FAIL(nemu_call_bytes(w, BOB, APP, "upgrade", probe, pn, 1, NT_GAS),
            "Upgrades are permanently disabled");
    uint8_t now[32];
    CHECK(nemu_code_hash(w, APP, now));
    CHECK_MEM(now, h, 32);
    NT_OK(nemu_view(w, APP, "get_app_info", NULL),
          "{\"owner_id\":\"" BOB "\",\"kms_contract_id\":\"" KMS "\",\"allow_any_device\":false,"
          "\"upgrades_disabled\":true,\"require_tcb_up_to_date\":false,\"compose_hash_count\":0,"
          "\"device_count\":1}");
    /* disabling twice is harmless; there is no way to re-enable */
    NT_OK(nt_call1(w, BOB, APP, "disable_upgrades", NULL), "");
    NT_FAIL(nt_call1(w, BOB, APP, "disable_upgrades", "{\"enable\":true}"),
            "unknown field `enable`");
    /* and the account has no keys, so nobody can deploy around the contract */
    CHECK_INT(nemu_key_count(w, APP), 0);
    free(probe);
    free(app);
    nemu_free(w);
}

TEST(app_upgrade_replaces_the_code) {
    nemu *w = app_world(NULL);
    size_t pn;
    uint8_t *probe = nt_code("probe", &pn);
    uint8_t before[32];
    CHECK(nemu_code_hash(w, APP, before));
    /* the probe is bigger than the app: without a top-up its DeployContract
     * receipt fails the storage-staking check and the old code stays */
    nemu_outcome *o = nemu_call_bytes(w, BOB, APP, "upgrade", probe, pn, 1, NT_GAS);
    CHECK(o->ok);
    CHECK(nemu_outcome_first_error(o) && strstr(nemu_outcome_first_error(o), "cover storage"));
    nemu_outcome_free(o);
    uint8_t h[32], want[32];
    CHECK(nemu_code_hash(w, APP, h));
    CHECK_MEM(h, before, 32);
    nemu_action t = {.kind = NEMU_A_TRANSFER, .amount = NEMU_NEAR / 10};
    o = nemu_tx(w, BOB, 0, APP, &t, 1);
    CHECK(o->ok);
    nemu_outcome_free(o);
    o = nemu_call_bytes(w, BOB, APP, "upgrade", probe, pn, 1, NT_GAS);
    CHECK(o->ok);
    CHECK(nemu_outcome_first_error(o) == NULL);
    nemu_outcome_free(o);
    crypto_hash_sha256(want, probe, pn);
    CHECK(nemu_code_hash(w, APP, h));
    CHECK_MEM(h, want, 32);
    /* the new code runs on the app account */
    NT_OK(nemu_call(w, ALICE, APP, "echo", "new code", 0, NT_GAS), "new code");
    free(probe);
    nemu_free(w);
}

TEST(app_registered_with_upgrades_disabled) {
    nemu *w = kms_world();
    nemu_u128 dep = nt_registration_deposit(w);
    NT_OK(nemu_call(w, ALICE, KMS, "register_app",
                    "{\"app_id\":\"" APP1 "\",\"owner_id\":\"" BOB
                    "\",\"disable_upgrades\":true,\"allow_any_device\":false}",
                    dep, NT_GAS),
          "true");
    size_t pn;
    uint8_t *probe = nt_code("probe", &pn);
    NT_FAIL(nemu_call_bytes(w, BOB, APP, "upgrade", probe, pn, 1, NT_GAS),
            "Upgrades are permanently disabled");
    free(probe);
    nemu_free(w);
}

TEST(app_pagination) {
    nemu *w = app_world(NULL);
    /* the registration deposit covers a few entries; top up for twelve */
    nemu_action t = {.kind = NEMU_A_TRANSFER, .amount = NEMU_NEAR / 10};
    nemu_outcome *o = nemu_tx(w, BOB, 0, APP, &t, 1);
    CHECK(o->ok);
    nemu_outcome_free(o);
    char first[65] = "", last[65] = "";
    for (int i = 0; i < 12; i++) {
        char h[65];
        snprintf(h, sizeof h, "%064x", 0x100 + i);
        if (i == 0) memcpy(first, h, 65);
        if (i == 11) memcpy(last, h, 65);
        NT_OK(nt_call1(w, BOB, APP, "add_compose_hash", fmt("{\"compose_hash\":\"%s\"}", h)), "");
    }
    NT_OK(nemu_view(w, APP, "get_compose_hashes", "{\"offset\":11}"), fmt("[\"%s\"]", last));
    NT_OK(nemu_view(w, APP, "get_compose_hashes", "{\"offset\":0,\"limit\":1}"),
          fmt("[\"%s\"]", first));
    NT_OK(nemu_view(w, APP, "get_compose_hashes", "{\"offset\":12,\"limit\":1}"), "[]");
    NT_OK(nt_call1(w, BOB, APP, "remove_compose_hash", fmt("{\"compose_hash\":\"%s\"}", first)),
          "");
    NT_OK(nemu_view(w, APP, "get_compose_hashes", "{\"limit\":1}"), fmt("[\"%s\"]", last));
    NT_OK(nemu_view(w, APP, "get_app_info", NULL),
          "{\"owner_id\":\"" BOB "\",\"kms_contract_id\":\"" KMS "\",\"allow_any_device\":false,"
          "\"upgrades_disabled\":false,\"require_tcb_up_to_date\":false,\"compose_hash_count\":11,"
          "\"device_count\":0}");
    nemu_free(w);
}

/* A view's value as text (static buffer; "" on failure). */
static const char *nt_val_view(nemu *w, const char *acc, const char *method) {
    static char buf[1024];
    nemu_outcome *o = nemu_view(w, acc, method, NULL);
    snprintf(buf, sizeof buf, "%s", o->ok && o->value ? (const char *)o->value : "");
    nemu_outcome_free(o);
    return buf;
}

TEST(app_set_allow_any_device_takes_the_guides_argument) {
    /* the guide calls set_allow_any_device {"allow": true}; the current name
     * still works; both at once, or neither, is refused */
    nemu *w = app_world(NULL);
    nemu_outcome *o = nt_call1(w, BOB, APP, "set_allow_any_device", "{\"allow\":true}");
    CHECK(o->ok);
    CHECK_INT(nt_event_count(o, "dstack-app", "allow_any_device_set", "{\"allow_any\":true}"), 1);
    nemu_outcome_free(o);
    CHECK(strstr(nt_val_view(w, APP, "get_app_info"), "\"allow_any_device\":true") != NULL);
    NT_OK(nt_call1(w, BOB, APP, "set_allow_any_device", "{\"allow_any_device\":false}"), "");
    CHECK(strstr(nt_val_view(w, APP, "get_app_info"), "\"allow_any_device\":false") != NULL);
    NT_FAIL(
        nt_call1(w, BOB, APP, "set_allow_any_device", "{\"allow\":true,\"allow_any_device\":true}"),
        "not both");
    NT_FAIL(nt_call1(w, BOB, APP, "set_allow_any_device", "{}"),
            "missing field `allow_any_device`");
    nemu_free(w);
}

TEST(app_storage_stays_covered) {
    /* The registration deposit pays for the app's state and a reserve of
     * entries; past it, an addition attached with 1 yocto panics naming the
     * deposit to attach (it used to fail with LackBalanceForState after about
     * three entries, with no way forward but a transfer), attaching that much
     * works, and a larger deposit is refunded down to what storage needs. */
    nemu *w = app_world(NULL);
    int added = 0;
    nemu_outcome *o = NULL;
    char h[65];
    for (int i = 0; i < 100; i++) {
        snprintf(h, sizeof h, "%064x", 0x1000 + i);
        o = nt_call1(w, BOB, APP, "add_compose_hash", fmt("{\"compose_hash\":\"%s\"}", h));
        if (!o->ok) break;
        added++;
        nemu_outcome_free(o);
        o = NULL;
    }
    CHECK(added >= 8); /* the documented reserve */
    CHECK(o != NULL);
    const char *want = "Smart contract panicked: Not enough balance for storage: attach at least ";
    nemu_u128 need = 0;
    if (o) {
        CHECK_INT(o->err, NEMU_E_GUEST_PANIC);
        CHECK(o->error && strncmp(o->error, want, strlen(want)) == 0);
        if (o->error && strncmp(o->error, want, strlen(want)) == 0)
            for (const char *q = o->error + strlen(want); *q >= '0' && *q <= '9'; q++)
                need = need * 10 + (nemu_u128)(*q - '0');
        nemu_outcome_free(o);
    }
    /* an entry is 220 bytes of storage: about that much is missing */
    CHECK(need > 0 && need <= 220 * NEMU_YOCTO_PER_BYTE);
    if (getenv("NT_FIGURES"))
        fprintf(stderr,
                "FIGURE app entries covered by the registration deposit: %d; then attach %s "
                "yocto for the next\n",
                added, nemu_u128_str(need, (char[48]){0}));
    /* attaching what the message names (and more) works; the excess comes back */
    nemu_set_gas_price(w, 0);
    nemu_u128 b0 = nemu_balance(w, BOB);
    NT_OK(nemu_call(w, BOB, APP, "add_compose_hash", fmt("{\"compose_hash\":\"%s\"}", h),
                    need + NEMU_NEAR, NT_GAS),
          "");
    CHECK_U128(nemu_balance(w, BOB), b0 - need);
    NT_OK(nemu_view(w, APP, "is_compose_hash_allowed", fmt("{\"compose_hash\":\"%s\"}", h)),
          "true");
    CHECK((nemu_u128)nemu_storage_usage(w, APP) * NEMU_YOCTO_PER_BYTE <= nemu_balance(w, APP));
    /* devices follow the same rule */
    o = nt_call1(w, BOB, APP, "add_device", fmt("{\"device_id\":\"%s\"}", hex64('e')));
    CHECK(!o->ok && o->error && strstr(o->error, "attach at least"));
    nemu_outcome_free(o);
    nemu_free(w);
}

/* The guide's NEAR flow end to end: an operator deploys the KMS, whitelists
 * its own boot, a developer registers an app and manages its policy, the
 * webhook's two view calls decide boots, then upgrade lock and deregistration. */
TEST(governance_flow_end_to_end) {
    nemu *w = kms_world_uninit();
    const char *os = hex64('1'), *mr = hex64('2'), *kdev = hex64('3'), *kch = hex64('4');
    const char *ach = hex64('a'), *adev = hex64('b');
    char kboot[1024], aboot[1024];
    snprintf(kboot, sizeof kboot, "%s", nt_boot(APP3, kch, kdev, mr, os, "UpToDate"));
    snprintf(aboot, sizeof aboot, "%s", nt_boot(APP1, ach, adev, mr, os, "UpToDate"));
    /* 1. operator: deploy and initialize the KMS contract */
    nemu_outcome *o = nt_deploy_init(w, KMS, "kms",
                                     "{\"owner_id\":\"" OWNER "\",\"mpc_contract_id\":\"" MPC
                                     "\",\"mpc_domain_id\":2}");
    CHECK(o->ok);
    nemu_outcome_free(o);
    /* 2. operator: whitelist the KMS's own boot and the gateway */
    NT_OK(nemu_view(w, KMS, "is_kms_allowed", kboot), "[false,\"OS image is not allowed\"]");
    NT_OK(nt_call1(w, OWNER, KMS, "add_os_image_hash", fmt("{\"os_image_hash\":\"0x%s\"}", os)),
          "");
    NT_OK(nt_call1(w, OWNER, KMS, "add_kms_aggregated_mr", fmt("{\"mr_aggregated\":\"%s\"}", mr)),
          "");
    NT_OK(nt_call1(w, OWNER, KMS, "add_kms_device", fmt("{\"device_id\":\"%s\"}", kdev)), "");
    NT_OK(nt_call1(w, OWNER, KMS, "add_kms_compose_hash", fmt("{\"compose_hash\":\"%s\"}", kch)),
          "");
    NT_OK(nt_call1(w, OWNER, KMS, "set_gateway_app_id", "{\"app_id\":\"" APP2 "\"}"), "");
    NT_OK(nemu_view(w, KMS, "is_kms_allowed", kboot), "[true,\"\"]");
    NT_OK(nemu_view(w, KMS, "is_os_image_allowed", fmt("{\"os_image_hash\":\"%s\"}", os)), "true");
    /* 3. developer: register the app with its first compose hash */
    nemu_u128 dep = nt_registration_deposit(w);
    CHECK(dep < NEMU_NEAR); /* a fraction of the upstream's 30 NEAR (decision §8.7) */
    o = nemu_call(w, ALICE, KMS, "register_app",
                  fmt("{\"app_id\":\"%s\",\"owner_id\":\"%s\",\"disable_upgrades\":false,\"allow_"
                      "any_device\":false,"
                      "\"initial_compose_hash\":\"%s\"}",
                      APP1, ALICE, ach),
                  dep, NT_GAS);
    CHECK_STR(nt_val(o), "true");
    nemu_outcome_free(o);
    /* 4. webhook: KMS check + app check (the account comes from the app id) */
    NT_OK(nemu_view(w, KMS, "get_app_account", "{\"app_id\":\"" APP1 "\"}"), "\"" APP1_ACC "\"");
    NT_OK(nemu_view(w, KMS, "is_app_registered", "{\"app_id\":\"" APP1 "\"}"), "true");
    NT_OK(nemu_view(w, APP1_ACC, "is_app_allowed", aboot), "[false,\"Device not allowed\"]");
    NT_OK(nt_call1(w, ALICE, APP1_ACC, "add_device", fmt("{\"device_id\":\"%s\"}", adev)), "");
    NT_OK(nemu_view(w, KMS, "is_os_image_allowed", fmt("{\"os_image_hash\":\"%s\"}", os)), "true");
    NT_OK(nemu_view(w, APP1_ACC, "is_app_allowed", aboot), "[true,\"\"]");
    /* 5. developer: roll a new compose hash, retire the old one */
    const char *ach2 = hex64('e');
    NT_OK(nt_call1(w, ALICE, APP1_ACC, "add_compose_hash", fmt("{\"compose_hash\":\"%s\"}", ach2)),
          "");
    NT_OK(
        nt_call1(w, ALICE, APP1_ACC, "remove_compose_hash", fmt("{\"compose_hash\":\"%s\"}", ach)),
        "");
    NT_OK(nemu_view(w, APP1_ACC, "is_app_allowed", aboot), "[false,\"Compose hash not allowed\"]");
    NT_OK(nemu_view(w, APP1_ACC, "is_app_allowed", nt_boot(APP1, ach2, adev, mr, os, "UpToDate")),
          "[true,\"\"]");
    /* 6. developer: lock the code */
    NT_OK(nt_call1(w, ALICE, APP1_ACC, "disable_upgrades", "{}"), "");
    size_t pn;
    uint8_t *probe = nt_code("probe", &pn);
    NT_FAIL(nemu_call_bytes(w, ALICE, APP1_ACC, "upgrade", probe, pn, 1, NT_GAS),
            "Upgrades are permanently disabled");
    free(probe);
    /* 7. operator: retire the OS image and deregister the app */
    NT_OK(nt_call1(w, OWNER, KMS, "remove_os_image_hash", fmt("{\"os_image_hash\":\"%s\"}", os)),
          "");
    NT_OK(nemu_view(w, KMS, "is_kms_allowed", kboot), "[false,\"OS image is not allowed\"]");
    NT_OK(nt_call1(w, OWNER, KMS, "deregister_app", "{\"app_id\":\"" APP1 "\"}"), "");
    NT_OK(nemu_view(w, KMS, "is_app_registered", "{\"app_id\":\"" APP1 "\"}"), "false");
    NT_OK(nemu_view(w, KMS, "get_registered_apps", NULL), "[]");
    NT_OK(nemu_view(w, KMS, "get_gateway_app_id", NULL), "\"" APP2 "\"");
    nemu_free(w);
}

/* Every owner method of both contracts: no deposit → refused, a non-owner →
 * refused with the method's name, the owner with 2 NEAR → done and charged
 * exactly 1 yoctoNEAR (the rest is refunded in a transfer receipt). */
typedef struct {
    const char *contract, *method, *args;
} owner_call;

TEST(owner_methods_deposit_and_access_rules) {
    nemu *w = app_world(NULL);
    nemu_set_gas_price(w, 0); /* deposit arithmetic; gas is tested in emu_gas_* */
    nemu_u128 dep = nt_registration_deposit(w);
    NT_OK(nemu_call(w, ALICE, KMS, "register_app", nt_reg_args(APP2, ALICE), dep, NT_GAS), "true");
    char os[128], mr[128], dv[128], ch[128], ach[128], adv[128];
    snprintf(os, sizeof os, "{\"os_image_hash\":\"%s\"}", hex64('1'));
    snprintf(mr, sizeof mr, "{\"mr_aggregated\":\"%s\"}", hex64('2'));
    snprintf(dv, sizeof dv, "{\"device_id\":\"%s\"}", hex64('3'));
    snprintf(ch, sizeof ch, "{\"compose_hash\":\"%s\"}", hex64('4'));
    snprintf(ach, sizeof ach, "{\"compose_hash\":\"%s\"}", hex64('5'));
    snprintf(adv, sizeof adv, "{\"device_id\":\"%s\"}", hex64('6'));
    const owner_call calls[] = {
        {KMS, "add_os_image_hash", os},
        {KMS, "remove_os_image_hash", os},
        {KMS, "add_kms_aggregated_mr", mr},
        {KMS, "remove_kms_aggregated_mr", mr},
        {KMS, "add_kms_device", dv},
        {KMS, "remove_kms_device", dv},
        {KMS, "add_kms_compose_hash", ch},
        {KMS, "remove_kms_compose_hash", ch},
        {KMS, "set_gateway_app_id", "{\"app_id\":\"" APP3 "\"}"},
        {KMS, "set_kms_info",
         "{\"info\":{\"k256_pubkey\":[1],\"ca_pubkey\":[2],\"quote\":[3],\"eventlog\":[4]}}"},
        {KMS, "set_kms_quote", "{\"quote\":[5]}"},
        {KMS, "set_kms_eventlog", "{\"eventlog\":[6]}"},
        {KMS, "deregister_app", "{\"app_id\":\"" APP2 "\"}"},
        {KMS, "transfer_ownership", "{\"new_owner_id\":\"" OWNER "\"}"},
        {APP, "add_compose_hash", ach},
        {APP, "remove_compose_hash", ach},
        {APP, "add_device", adv},
        {APP, "remove_device", adv},
        {APP, "set_allow_any_device", "{\"allow_any_device\":true}"},
        {APP, "set_require_tcb_up_to_date", "{\"require_tcb_up_to_date\":true}"},
        {APP, "upgrade", NULL},
        {APP, "disable_upgrades", "{}"},
        {APP, "transfer_ownership", "{\"new_owner_id\":\"" BOB "\"}"},
    };
    size_t an;
    uint8_t *app = nt_code("app", &an);
    for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++) {
        const owner_call *c = &calls[i];
        const char *owner = strcmp(c->contract, KMS) == 0 ? OWNER : BOB;
        const char *other = strcmp(c->contract, KMS) == 0 ? BOB : OWNER;
        const uint8_t *args = c->args ? (const uint8_t *)c->args : app;
        size_t len = c->args ? strlen(c->args) : an;
        nemu_outcome *o = nemu_call_bytes(w, owner, c->contract, c->method, args, len, 0, NT_GAS);
        if (o->ok || !o->error ||
            !strstr(o->error, "Requires attached deposit of at least 1 yoctoNEAR"))
            dg_test_fail(__FILE__, __LINE__, "%s without deposit: %s", c->method,
                         o->ok ? "succeeded" : o->error);
        nemu_outcome_free(o);
        o = nemu_call_bytes(w, other, c->contract, c->method, args, len, 1, NT_GAS);
        if (o->ok || !o->error || !strstr(o->error, fmt(APERM("%s"), c->method)))
            dg_test_fail(__FILE__, __LINE__, "%s by a non-owner: %s", c->method,
                         o->ok ? "succeeded" : o->error);
        nemu_outcome_free(o);
        nemu_u128 b0 = nemu_balance(w, owner);
        o = nemu_call_bytes(w, owner, c->contract, c->method, args, len, 2 * NEMU_NEAR, NT_GAS);
        if (!o->ok || nemu_outcome_first_error(o))
            dg_test_fail(__FILE__, __LINE__, "%s by the owner: %s", c->method,
                         o->ok ? nemu_outcome_first_error(o) : o->error);
        CHECK_INT(nt_event_lines(o), 1);
        nemu_outcome_free(o);
        CHECK_U128(nemu_balance(w, owner), b0 - 1);
    }
    free(app);
    nemu_free(w);
}
