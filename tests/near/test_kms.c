/* test_kms.c — the KMS contract (build/near/kms.wasm) on the emulator.
 *
 * Every method of docs/near-contracts.md: success, the owner rule and its
 * check order (initialized → deposit → owner → arguments), deposit refunds,
 * each panic message, is_kms_allowed reasons in order, exact NEP-297 events,
 * register_app success and failure (the caller gets the deposit back),
 * deregistration, pagination, and malformed JSON arguments.
 */
#include <sodium.h>

#include "ntc.h"

#define PERM(m)                                                                                    \
    "Insufficient permissions for method " m                                                       \
    " restricted by access control. Requires one of these roles: [\"Owner\"]"

TEST(kms_new_rules) {
    nemu *w = kms_world_uninit();
    const char *args =
        "{\"owner_id\":\"" OWNER "\",\"mpc_contract_id\":\"" MPC "\",\"mpc_domain_id\":2}";
    size_t n;
    uint8_t *code = nt_code("kms", &n);
    nemu_set_code(w, KMS, code, n);
    free(code);
    /* before init every method refuses, views included */
    NT_FAIL(nemu_view(w, KMS, "get_owner", NULL),
            "Smart contract panicked: The contract is not initialized");
    NT_FAIL(
        nt_call1(w, OWNER, KMS, "add_os_image_hash", fmt("{\"os_image_hash\":\"%s\"}", hex64('a'))),
        "The contract is not initialized");
    /* new is private and takes no deposit */
    NT_FAIL(nemu_call(w, ALICE, KMS, "new", args, 0, NT_GAS),
            "Smart contract panicked: Method new is private");
    NT_FAIL(nemu_call(w, KMS, KMS, "new", args, 1, NT_GAS), "Method new doesn't accept deposit");
    NT_FAIL(nemu_call(w, KMS, KMS, "new",
                      "{\"owner_id\":\"Bad\",\"mpc_contract_id\":\"" MPC "\",\"mpc_domain_id\":2}",
                      0, NT_GAS),
            "Invalid owner address");
    NT_FAIL(nemu_call(w, KMS, KMS, "new",
                      "{\"owner_id\":\"" OWNER "\",\"mpc_contract_id\":\"x\",\"mpc_domain_id\":2}",
                      0, NT_GAS),
            "Invalid mpc_contract_id");
    NT_FAIL(nemu_call(w, KMS, KMS, "new",
                      "{\"owner_id\":\"" OWNER "\",\"mpc_contract_id\":\"" MPC "\"}", 0, NT_GAS),
            "Failed to deserialize input from JSON. Error: missing field `mpc_domain_id`");
    NT_OK(nemu_call(w, KMS, KMS, "new", args, 0, NT_GAS), "");
    NT_FAIL(nemu_call(w, KMS, KMS, "new", args, 0, NT_GAS),
            "The contract has already been initialized");
    NT_OK(nemu_view(w, KMS, "get_owner", NULL), "\"" OWNER "\"");
    NT_OK(nemu_view(w, KMS, "get_mpc_config", "{}"),
          "{\"mpc_contract_id\":\"" MPC "\",\"mpc_domain_id\":2}");
    nemu_free(w);
}

/* The four KMS whitelists share one implementation; test each through its own methods. */
typedef struct {
    const char *add, *remove, *is, *list, *field, *empty_msg, *ev_add, *ev_remove;
} wl;

static const wl kms_lists[] = {
    {"add_os_image_hash", "remove_os_image_hash", "is_os_image_allowed", "get_allowed_os_images",
     "os_image_hash", "OS image hash cannot be empty", "os_image_hash_added",
     "os_image_hash_removed"},
    {"add_kms_aggregated_mr", "remove_kms_aggregated_mr", "is_kms_aggregated_mr_allowed",
     "get_kms_allowed_aggregated_mrs", "mr_aggregated", "Aggregated MR cannot be empty",
     "kms_aggregated_mr_added", "kms_aggregated_mr_removed"},
    {"add_kms_device", "remove_kms_device", "is_kms_device_allowed", "get_kms_allowed_device_ids",
     "device_id", "Device ID cannot be empty", "kms_device_added", "kms_device_removed"},
    {"add_kms_compose_hash", "remove_kms_compose_hash", "is_kms_compose_hash_allowed",
     "get_kms_allowed_compose_hashes", "compose_hash", "Compose hash cannot be empty",
     "compose_hash_approved", "compose_hash_removed"},
};

TEST(kms_whitelists_add_remove_events_and_rules) {
    for (size_t i = 0; i < sizeof kms_lists / sizeof kms_lists[0]; i++) {
        const wl *l = &kms_lists[i];
        nemu *w = kms_world();
        char h[65], arg[128], ev[128];
        snprintf(h, sizeof h, "%s", hex64('a'));
        snprintf(arg, sizeof arg, "{\"%s\":\"%s\"}", l->field, h);
        snprintf(ev, sizeof ev, "{\"%s\":\"%s\"}", l->field, h);
        /* success with the exact event */
        nemu_outcome *o = nt_call1(w, OWNER, KMS, l->add, arg);
        CHECK(o->ok);
        CHECK_INT(nt_event_count(o, "dstack-kms", l->ev_add, ev), 1);
        CHECK_INT(nt_event_lines(o), 1);
        nemu_outcome_free(o);
        NT_OK(nemu_view(w, KMS, l->is, arg), "true");
        NT_OK(nemu_view(w, KMS, l->list, "{}"), fmt("[\"%s\"]", h));
        /* 0x prefix and upper case are normalized; adding twice keeps one entry */
        const char *upper = "0xAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        NT_OK(nt_call1(w, OWNER, KMS, l->add, fmt("{\"%s\":\"%s\"}", l->field, upper)), "");
        NT_OK(nemu_view(w, KMS, l->list, NULL), fmt("[\"%s\"]", h));
        NT_OK(nemu_view(w, KMS, l->is, fmt("{\"%s\":\"%s\"}", l->field, upper)), "true");
        /* owner rule, check order: deposit before owner before arguments */
        NT_FAIL(nemu_call(w, OWNER, KMS, l->add, arg, 0, NT_GAS),
                "Requires attached deposit of at least 1 yoctoNEAR");
        NT_FAIL(nemu_call(w, ALICE, KMS, l->add, "{}", 0, NT_GAS),
                "Requires attached deposit of at least 1 yoctoNEAR");
        NT_FAIL(nt_call1(w, ALICE, KMS, l->add, arg),
                fmt("Smart contract panicked: " PERM("%s"), l->add));
        NT_FAIL(nt_call1(w, ALICE, KMS, l->remove, "garbage"), fmt(PERM("%s"), l->remove));
        /* argument errors */
        NT_FAIL(nt_call1(w, OWNER, KMS, l->add, fmt("{\"%s\":\"\"}", l->field)), l->empty_msg);
        NT_FAIL(nt_call1(w, OWNER, KMS, l->add, fmt("{\"%s\":\"0x\"}", l->field)), l->empty_msg);
        NT_FAIL(nt_call1(w, OWNER, KMS, l->add, fmt("{\"%s\":\"abcd\"}", l->field)),
                fmt("Invalid %s: expected 64 hex digits", l->field));
        NT_FAIL(nt_call1(w, OWNER, KMS, l->add, fmt("{\"%s\":\"%.63sg\"}", l->field, h)),
                fmt("Invalid %s: expected 64 hex digits", l->field));
        NT_FAIL(nt_call1(w, OWNER, KMS, l->add, fmt("{\"%s\":\"%s0\"}", l->field, h)),
                fmt("Invalid %s: expected 64 hex digits", l->field));
        NT_FAIL(nt_call1(w, OWNER, KMS, l->add, "{}"),
                fmt("Failed to deserialize input from JSON. Error: missing field `%s`", l->field));
        NT_FAIL(nt_call1(w, OWNER, KMS, l->add, fmt("{\"%s\":7}", l->field)),
                fmt("invalid type for field `%s`", l->field));
        NT_FAIL(nemu_view(w, KMS, l->is, "{\"x\":1}"), "unknown field `x`");
        /* remove: event, then gone; removing an absent value still emits */
        o = nt_call1(w, OWNER, KMS, l->remove, arg);
        CHECK(o->ok);
        CHECK_INT(nt_event_count(o, "dstack-kms", l->ev_remove, ev), 1);
        nemu_outcome_free(o);
        NT_OK(nemu_view(w, KMS, l->is, arg), "false");
        NT_OK(nemu_view(w, KMS, l->list, NULL), "[]");
        o = nt_call1(w, OWNER, KMS, l->remove, arg);
        CHECK(o->ok);
        CHECK_INT(nt_event_count(o, "dstack-kms", l->ev_remove, ev), 1);
        nemu_outcome_free(o);
        nemu_free(w);
    }
}

TEST(kms_owner_deposit_above_one_yocto_is_refunded) {
    nemu *w = kms_world();
    nemu_set_gas_price(w, 0); /* deposit arithmetic; gas is tested in emu_gas_* */
    nemu_u128 b0 = nemu_balance(w, OWNER), k0 = nemu_balance(w, KMS);
    nemu_outcome *o =
        nemu_call(w, OWNER, KMS, "add_os_image_hash", fmt("{\"os_image_hash\":\"%s\"}", hex64('b')),
                  5 * NEMU_NEAR, NT_GAS);
    CHECK(o->ok);
    nemu_outcome_free(o);
    CHECK_U128(nemu_balance(w, OWNER), b0 - 1);
    /* the KMS keeps 1 yocto, minus nothing else (its new record is covered by its balance) */
    CHECK_U128(nemu_balance(w, KMS), k0 + 1);
    /* a failed owner call returns the whole deposit */
    o = nemu_call(w, OWNER, KMS, "add_os_image_hash", "{\"os_image_hash\":\"\"}", 5 * NEMU_NEAR,
                  NT_GAS);
    CHECK(!o->ok);
    nemu_outcome_free(o);
    CHECK_U128(nemu_balance(w, OWNER), b0 - 1);
    nemu_free(w);
}

TEST(kms_gateway_app_id) {
    nemu *w = kms_world();
    NT_OK(nemu_view(w, KMS, "get_gateway_app_id", "{}"), "null");
    nemu_outcome *o = nt_call1(w, OWNER, KMS, "set_gateway_app_id",
                               "{\"app_id\":\"0xABCDEFABCDEFABCDEFABCDEFABCDEFABCDEFABCD\"}");
    CHECK(o->ok);
    CHECK_INT(nt_event_count(o, "dstack-kms", "gateway_app_id_set",
                             "{\"app_id\":\"abcdefabcdefabcdefabcdefabcdefabcdefabcd\"}"),
              1);
    nemu_outcome_free(o);
    NT_OK(nemu_view(w, KMS, "get_gateway_app_id", NULL),
          "\"abcdefabcdefabcdefabcdefabcdefabcdefabcd\"");
    NT_FAIL(nt_call1(w, OWNER, KMS, "set_gateway_app_id", "{\"app_id\":\"\"}"),
            "Gateway app ID cannot be empty");
    NT_FAIL(nt_call1(w, OWNER, KMS, "set_gateway_app_id", "{\"app_id\":\"gateway.near\"}"),
            "Invalid app_id: expected 40 hex digits");
    NT_FAIL(nt_call1(w, ALICE, KMS, "set_gateway_app_id", "{\"app_id\":\"" APP1 "\"}"),
            PERM("set_gateway_app_id"));
    NT_FAIL(nemu_call(w, OWNER, KMS, "set_gateway_app_id", "{\"app_id\":\"" APP1 "\"}", 0, NT_GAS),
            "Requires attached deposit of at least 1 yoctoNEAR");
    nemu_free(w);
}

TEST(kms_info_set_get_and_partial_setters) {
    nemu *w = kms_world();
    NT_OK(nemu_view(w, KMS, "get_kms_info", NULL), "null");
    /* set_kms_quote on an empty info creates one with empty other fields */
    nemu_outcome *o = nt_call1(w, OWNER, KMS, "set_kms_quote", "{\"quote\":[1,2,3]}");
    CHECK(o->ok);
    CHECK_INT(nt_event_count(o, "dstack-kms", "kms_info_set", "{\"k256_pubkey\":[]}"), 1);
    nemu_outcome_free(o);
    NT_OK(nemu_view(w, KMS, "get_kms_info", NULL),
          "{\"k256_pubkey\":[],\"ca_pubkey\":[],\"quote\":[1,2,3],\"eventlog\":[]}");
    o = nt_call1(
        w, OWNER, KMS, "set_kms_info",
        "{\"info\":{\"k256_pubkey\":[2,255],\"ca_pubkey\":[9],\"quote\":[],\"eventlog\":[0]}}");
    CHECK(o->ok);
    CHECK_INT(nt_event_count(o, "dstack-kms", "kms_info_set", "{\"k256_pubkey\":[2,255]}"), 1);
    nemu_outcome_free(o);
    NT_OK(nemu_view(w, KMS, "get_kms_info", NULL),
          "{\"k256_pubkey\":[2,255],\"ca_pubkey\":[9],\"quote\":[],\"eventlog\":[0]}");
    NT_OK(nt_call1(w, OWNER, KMS, "set_kms_eventlog", "{\"eventlog\":[7,7]}"), "");
    NT_OK(nemu_view(w, KMS, "get_kms_info", NULL),
          "{\"k256_pubkey\":[2,255],\"ca_pubkey\":[9],\"quote\":[],\"eventlog\":[7,7]}");
    NT_FAIL(nt_call1(
                w, OWNER, KMS, "set_kms_info",
                "{\"info\":{\"k256_pubkey\":[256],\"ca_pubkey\":[],\"quote\":[],\"eventlog\":[]}}"),
            "invalid type for field `k256_pubkey`");
    NT_FAIL(nt_call1(w, OWNER, KMS, "set_kms_info", "{\"info\":{\"k256_pubkey\":[]}}"),
            "missing field `ca_pubkey`");
    NT_FAIL(nt_call1(w, ALICE, KMS, "set_kms_quote", "{\"quote\":[]}"), PERM("set_kms_quote"));
    NT_FAIL(nt_call1(w, ALICE, KMS, "set_kms_info", "{}"), PERM("set_kms_info"));
    NT_FAIL(nt_call1(w, ALICE, KMS, "set_kms_eventlog", "{}"), PERM("set_kms_eventlog"));
    nemu_free(w);
}

TEST(kms_transfer_ownership) {
    nemu *w = kms_world();
    NT_FAIL(nt_call1(w, ALICE, KMS, "transfer_ownership", "{\"new_owner_id\":\"" ALICE "\"}"),
            PERM("transfer_ownership"));
    NT_FAIL(nt_call1(w, OWNER, KMS, "transfer_ownership", "{\"new_owner_id\":\"A\"}"),
            "Invalid owner address");
    nemu_outcome *o =
        nt_call1(w, OWNER, KMS, "transfer_ownership", "{\"new_owner_id\":\"" ALICE "\"}");
    CHECK(o->ok);
    CHECK_INT(nt_event_count(o, "dstack-kms", "ownership_transferred",
                             "{\"previous_owner_id\":\"" OWNER "\",\"new_owner_id\":\"" ALICE
                             "\"}"),
              1);
    nemu_outcome_free(o);
    NT_OK(nemu_view(w, KMS, "get_owner", NULL), "\"" ALICE "\"");
    NT_FAIL(nt_call1(w, OWNER, KMS, "add_kms_device", fmt("{\"device_id\":\"%s\"}", hex64('d'))),
            PERM("add_kms_device"));
    NT_OK(nt_call1(w, ALICE, KMS, "add_kms_device", fmt("{\"device_id\":\"%s\"}", hex64('d'))), "");
    nemu_free(w);
}

TEST(kms_is_kms_allowed_reasons_in_order) {
    nemu *w = kms_world();
    const char *os = hex64('1'), *mr = hex64('2'), *dev = hex64('3'), *ch = hex64('4');
    /* everything wrong: TCB comes first */
    NT_OK(nemu_view(w, KMS, "is_kms_allowed", nt_boot(APP1, ch, dev, mr, os, "OutOfDate")),
          "[false,\"TCB status is not up to date\"]");
    NT_OK(nemu_view(w, KMS, "is_kms_allowed", nt_boot(APP1, ch, dev, mr, os, "UpToDate")),
          "[false,\"OS image is not allowed\"]");
    NT_OK(nt_call1(w, OWNER, KMS, "add_os_image_hash", fmt("{\"os_image_hash\":\"%s\"}", os)), "");
    /* OS allowed, TCB still decides first */
    NT_OK(
        nemu_view(w, KMS, "is_kms_allowed", nt_boot(APP1, ch, dev, mr, os, "ConfigurationNeeded")),
        "[false,\"TCB status is not up to date\"]");
    NT_OK(nemu_view(w, KMS, "is_kms_allowed", nt_boot(APP1, ch, dev, mr, os, "UpToDate")),
          "[false,\"Aggregated MR not allowed\"]");
    NT_OK(nt_call1(w, OWNER, KMS, "add_kms_aggregated_mr", fmt("{\"mr_aggregated\":\"%s\"}", mr)),
          "");
    NT_OK(nemu_view(w, KMS, "is_kms_allowed", nt_boot(APP1, ch, dev, mr, os, "UpToDate")),
          "[false,\"KMS is not allowed to boot on this device\"]");
    NT_OK(nt_call1(w, OWNER, KMS, "add_kms_device", fmt("{\"device_id\":\"%s\"}", dev)), "");
    NT_OK(nemu_view(w, KMS, "is_kms_allowed", nt_boot(APP1, ch, dev, mr, os, "UpToDate")),
          "[true,\"\"]");
    /* an empty device id is never allowed; compose hash and app id are not checked */
    NT_OK(nemu_view(w, KMS, "is_kms_allowed", nt_boot(APP1, ch, "", mr, os, "UpToDate")),
          "[false,\"KMS is not allowed to boot on this device\"]");
    NT_OK(nemu_view(w, KMS, "is_kms_allowed",
                    nt_boot(APP2, hex64('9'), fmt("0X%s", dev), mr, os, "UpToDate")),
          "[true,\"\"]");
    /* removing the OS image turns it off again */
    NT_OK(nt_call1(w, OWNER, KMS, "remove_os_image_hash", fmt("{\"os_image_hash\":\"%s\"}", os)),
          "");
    NT_OK(nemu_view(w, KMS, "is_kms_allowed", nt_boot(APP1, ch, dev, mr, os, "UpToDate")),
          "[false,\"OS image is not allowed\"]");
    nemu_free(w);
}

TEST(kms_is_kms_allowed_rejects_malformed_boot_info) {
    nemu *w = kms_world();
    const char *os = hex64('1'), *mr = hex64('2'), *dev = hex64('3'), *ch = hex64('4');
    /* the upstream webhook's flat shape (reference §6.1) */
    NT_FAIL(nemu_view(w, KMS, "is_kms_allowed", fmt("{\"app_id\":\"%s\"}", APP1)),
            "unknown field `app_id`");
    NT_FAIL(nemu_view(w, KMS, "is_kms_allowed", "{}"), "missing field `boot_info`");
    NT_FAIL(nemu_view(w, KMS, "is_kms_allowed", "{\"boot_info\":{\"app_id\":\"" APP1 "\"}}"),
            "missing field `compose_hash`");
    NT_FAIL(nemu_view(w, KMS, "is_kms_allowed", nt_boot("app.near", ch, dev, mr, os, "UpToDate")),
            "Invalid boot_info.app_id: expected 40 hex digits");
    NT_FAIL(nemu_view(w, KMS, "is_kms_allowed", nt_boot(APP1, ch, dev, mr, "00", "UpToDate")),
            "Invalid boot_info.os_image_hash: expected 64 hex digits");
    NT_FAIL(nemu_view(w, KMS, "is_kms_allowed", nt_boot(APP1, ch, "zz", mr, os, "UpToDate")),
            "Invalid boot_info.device_id: expected 64 hex digits");
    NT_FAIL(nemu_view(w, KMS, "is_kms_allowed", nt_boot(APP1, ch, dev, "", os, "UpToDate")),
            "Invalid boot_info.mr_aggregated: expected 64 hex digits");
    /* tcb_status: up to 128 bytes, the limit dstack-authd (and upstream's
     * auth-eth schema) accepts, so every status the webhook forwards gets an
     * answer rather than a panic */
    char big[200];
    memset(big, 'x', 128);
    big[128] = 0;
    NT_OK(nemu_view(w, KMS, "is_kms_allowed", nt_boot(APP1, ch, dev, mr, os, big)),
          "[false,\"TCB status is not up to date\"]");
    big[128] = 'x';
    big[129] = 0;
    NT_FAIL(nemu_view(w, KMS, "is_kms_allowed", nt_boot(APP1, ch, dev, mr, os, big)),
            "Invalid boot_info.tcb_status: longer than 128 bytes");
    const char *extra =
        fmt("{\"boot_info\":{\"app_id\":\"%s\",\"compose_hash\":\"%s\",\"instance_id\":\"\","
            "\"device_id\":\"%s\",\"mr_aggregated\":\"%s\",\"mr_system\":\"\","
            "\"os_image_hash\":\"%s\",\"tcb_status\":\"UpToDate\",\"advisory_ids\":[1]}}",
            APP1, ch, dev, mr, os);
    NT_FAIL(nemu_view(w, KMS, "is_kms_allowed", extra), "Invalid boot_info.advisory_ids");
    nemu_free(w);
}

TEST(kms_malformed_and_oversized_json) {
    nemu *w = kms_world();
    const char *P = "Smart contract panicked: Failed to deserialize input from JSON. Error: ";
    NT_FAIL(nt_call1(w, OWNER, KMS, "add_os_image_hash", "{\"os_image_hash\":"),
            fmt("%ssyntax error at byte", P));
    NT_FAIL(nemu_view(w, KMS, "is_os_image_allowed", "{\"os_image_hash\":\"aa\",}"),
            fmt("%ssyntax error at byte", P));
    NT_FAIL(nemu_view(w, KMS, "is_os_image_allowed", "[1]"), fmt("%sexpected an object", P));
    NT_FAIL(nemu_view(w, KMS, "is_os_image_allowed",
                      "{\"os_image_hash\":\"a\",\"os_image_hash\":\"b\"}"),
            fmt("%sduplicate field `os_image_hash`", P));
    NT_FAIL(nemu_view(w, KMS, "is_os_image_allowed", "{\"os_image_hash\":\"a\"} x"),
            "syntax error at byte");
    NT_FAIL(nemu_view(w, KMS, "is_os_image_allowed", "{\"os_image_hash\":\"\\ud800\"}"),
            "Failed to deserialize input");
    NT_FAIL(nemu_view(w, KMS, "get_registered_apps", "{\"offset\":-1}"),
            "invalid type for field `offset`");
    NT_FAIL(nemu_view(w, KMS, "get_registered_apps", "{\"limit\":4294967296}"),
            "invalid type for field `limit`");
    NT_FAIL(nemu_view(w, KMS, "get_registered_apps", "{\"limit\":1.5}"),
            "Failed to deserialize input");
    /* nesting deeper than 32 */
    char deep[200];
    size_t k = 0;
    deep[k++] = '{';
    memcpy(deep + k, "\"os_image_hash\":", 16);
    k += 16;
    for (int i = 0; i < 40; i++)
        deep[k++] = '[';
    for (int i = 0; i < 40; i++)
        deep[k++] = ']';
    deep[k++] = '}';
    deep[k] = 0;
    NT_FAIL(nemu_view(w, KMS, "is_os_image_allowed", deep), "nesting too deep");
    /* bad UTF-8 in the input */
    NT_FAIL(nemu_view(w, KMS, "is_os_image_allowed", "{\"os_image_hash\":\"\xff\"}"),
            "Failed to deserialize input");
    /* input above 1 MiB */
    size_t n = (1u << 20) + 10;
    char *big = malloc(n + 1);
    memset(big, ' ', n);
    big[0] = '{';
    big[n - 1] = '}';
    big[n] = 0;
    NT_FAIL(nemu_call(w, OWNER, KMS, "add_os_image_hash", big, 1, NT_GAS),
            fmt("%sinput too large", P));
    free(big);
    /* empty input is {} */
    NT_OK(nemu_view(w, KMS, "get_allowed_os_images", NULL), "[]");
    nemu_free(w);
}

TEST(kms_pagination_and_swap_remove) {
    nemu *w = kms_world();
    for (int i = 0; i < 105; i++) {
        char h[65];
        snprintf(h, sizeof h, "%064x", i);
        nemu_outcome *o =
            nt_call1(w, OWNER, KMS, "add_os_image_hash", fmt("{\"os_image_hash\":\"%s\"}", h));
        CHECK(o->ok);
        nemu_outcome_free(o);
    }
    /* default limit and the cap are 100 */
    nemu_outcome *o = nemu_view(w, KMS, "get_allowed_os_images", NULL);
    CHECK(o->ok);
    size_t commas = 0;
    for (const char *p = nt_val(o); *p; p++)
        commas += *p == ',';
    CHECK_INT(commas, 99);
    nemu_outcome_free(o);
    o = nemu_view(w, KMS, "get_allowed_os_images", "{\"offset\":0,\"limit\":1000}");
    commas = 0;
    for (const char *p = nt_val(o); *p; p++)
        commas += *p == ',';
    CHECK_INT(commas, 99);
    nemu_outcome_free(o);
    char h0[65], h1[65], h2[65], h103[65], h104[65];
    snprintf(h0, 65, "%064x", 0);
    snprintf(h1, 65, "%064x", 1);
    snprintf(h2, 65, "%064x", 2);
    snprintf(h103, 65, "%064x", 103);
    snprintf(h104, 65, "%064x", 104);
    NT_OK(nemu_view(w, KMS, "get_allowed_os_images", "{\"offset\":1,\"limit\":2}"),
          fmt("[\"%s\",\"%s\"]", h1, h2));
    NT_OK(nemu_view(w, KMS, "get_allowed_os_images", "{\"offset\":103}"),
          fmt("[\"%s\",\"%s\"]", h103, h104));
    NT_OK(nemu_view(w, KMS, "get_allowed_os_images", "{\"offset\":105}"), "[]");
    NT_OK(nemu_view(w, KMS, "get_allowed_os_images", "{\"offset\":4000000000,\"limit\":5}"), "[]");
    NT_OK(nemu_view(w, KMS, "get_allowed_os_images", "{\"limit\":0}"), "[]");
    /* removing the first entry moves the last one into its place */
    NT_OK(nt_call1(w, OWNER, KMS, "remove_os_image_hash", fmt("{\"os_image_hash\":\"%s\"}", h0)),
          "");
    NT_OK(nemu_view(w, KMS, "get_allowed_os_images", "{\"limit\":2}"),
          fmt("[\"%s\",\"%s\"]", h104, h1));
    NT_OK(nemu_view(w, KMS, "get_allowed_os_images", "{\"offset\":103}"), fmt("[\"%s\"]", h103));
    nemu_free(w);
}

/* ------------------------------------------------------------ register_app */

TEST(kms_register_app_success) {
    nemu *w = kms_world();
    nemu_set_gas_price(w, 0); /* deposit arithmetic; gas is tested in emu_gas_* */
    nemu_u128 dep = nt_registration_deposit(w);
    size_t app_len;
    free(nt_code("app", &app_len));
    /* the deposit covers the app code, account, app state and the KMS record */
    CHECK_U128(dep, (nemu_u128)(app_len + 100 + 1000 + 8 * 220 + 500) * NEMU_YOCTO_PER_BYTE);
    NT_OK(nemu_view(w, KMS, "get_app_account", "{\"app_id\":\"0x" APP1 "\"}"), "\"" APP1_ACC "\"");
    nemu_u128 a0 = nemu_balance(w, ALICE), k0 = nemu_balance(w, KMS);
    const char *args = fmt(
        "{\"app_id\":\"0x%s\",\"owner_id\":\"%s\",\"disable_upgrades\":false,"
        "\"allow_any_device\":true,\"initial_device_id\":\"0X%s\","
        "\"initial_compose_hash\":\"%s\",\"require_tcb_up_to_date\":true}",
        APP1, BOB, "DDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDD", hex64('c'));
    /* anyone may register (decision §8.4): alice is not the KMS owner */
    nemu_outcome *o = nemu_call(w, ALICE, KMS, "register_app", args, dep, NT_GAS);
    CHECK(o->ok);
    CHECK_STR(nt_val(o), "true");
    CHECK_INT(nt_event_count(o, "dstack-kms", "app_deployed",
                             "{\"app_id\":\"" APP1_ACC "\",\"deployer\":\"" ALICE "\"}"),
              1);
    CHECK_INT(
        nt_event_count(o, "dstack-app", "device_added", fmt("{\"device_id\":\"%s\"}", hex64('d'))),
        1);
    CHECK_INT(nt_event_count(o, "dstack-app", "compose_hash_added",
                             fmt("{\"compose_hash\":\"%s\"}", hex64('c'))),
              1);
    CHECK(nemu_outcome_first_error(o) == NULL);
    nemu_outcome_free(o);
    /* money: alice paid exactly the deposit; the app got it minus the KMS record fee */
    nemu_u128 fee = (nemu_u128)500 * NEMU_YOCTO_PER_BYTE;
    CHECK_U128(nemu_balance(w, ALICE), a0 - dep);
    CHECK_U128(nemu_balance(w, APP1_ACC), dep - fee);
    CHECK_U128(nemu_balance(w, KMS), k0 + fee);
    /* the app account: the embedded app code, no access keys, storage covered */
    uint8_t h1[32], h2[32];
    CHECK(nemu_code_hash(w, APP1_ACC, h1));
    size_t n;
    uint8_t *code = nt_code("app", &n);
    crypto_hash_sha256(h2, code, n);
    CHECK_INT(nemu_code_len(w, APP1_ACC), n);
    free(code);
    CHECK_MEM(h1, h2, 32);
    CHECK_INT(nemu_key_count(w, APP1_ACC), 0);
    CHECK((nemu_u128)nemu_storage_usage(w, APP1_ACC) * NEMU_YOCTO_PER_BYTE <=
          nemu_balance(w, APP1_ACC));
    /* its state */
    NT_OK(nemu_view(w, APP1_ACC, "get_app_info", NULL),
          "{\"owner_id\":\"" BOB "\",\"kms_contract_id\":\"" KMS "\",\"allow_any_device\":true,"
          "\"upgrades_disabled\":false,\"require_tcb_up_to_date\":true,\"compose_hash_count\":1,"
          "\"device_count\":1}");
    NT_OK(nemu_view(w, APP1_ACC, "get_devices", NULL), fmt("[\"%s\"]", hex64('d')));
    /* the registry */
    NT_OK(nemu_view(w, KMS, "is_app_registered", "{\"app_id\":\"" APP1 "\"}"), "true");
    NT_OK(nemu_view(w, KMS, "is_app_registered", "{\"app_id\":\"" APP1_ACC "\"}"), "true");
    NT_OK(nemu_view(w, KMS, "is_app_registered", "{\"app_id\":\"" APP2 "\"}"), "false");
    NT_OK(nemu_view(w, KMS, "get_registered_apps", NULL), "[\"" APP1_ACC "\"]");
    NT_OK(nemu_view(w, KMS, "get_registered_apps_count", NULL), "1");
    /* registering the same app again */
    a0 = nemu_balance(w, ALICE);
    NT_FAIL(nemu_call(w, ALICE, KMS, "register_app", nt_reg_args(APP1, ALICE), dep, NT_GAS),
            "App already registered");
    CHECK_U128(nemu_balance(w, ALICE), a0);
    nemu_free(w);
}

TEST(kms_register_app_keeps_only_what_the_app_needs) {
    /* the guide's --deposit 30: the app account keeps the registration deposit
     * (code, state, reserve for entries) minus the KMS record fee; the caller
     * gets the rest back in the same transaction (upstream: all 30 NEAR stayed
     * on a key-less account) */
    nemu *w = kms_world();
    nemu_u128 dep = nt_registration_deposit(w), fee = (nemu_u128)500 * NEMU_YOCTO_PER_BYTE;
    nemu_u128 a0 = nemu_balance(w, ALICE), k0 = nemu_balance(w, KMS);
    nemu_outcome *o =
        nemu_call(w, ALICE, KMS, "register_app", nt_reg_args(APP1, ALICE), 30 * NEMU_NEAR, NT_GAS);
    CHECK(o->ok);
    CHECK_STR(nt_val(o), "true");
    /* alice paid the registration deposit and the gas burnt, nothing else */
    nemu_u128 burnt = o->tokens_burnt;
    CHECK(burnt > 0);
    if (getenv("NT_FIGURES")) {
        uint64_t gas = o->tx_gas_burnt;
        for (size_t i = 0; i < o->nreceipts; i++)
            gas += o->receipts[i].gas_burnt;
        fprintf(stderr, "FIGURE register_app: %llu gas burnt = %s yocto; deposit kept %s yocto\n",
                (unsigned long long)gas, nemu_u128_str(burnt, (char[48]){0}),
                nemu_u128_str(dep, (char[48]){0}));
    }
    nemu_outcome_free(o);
    CHECK_U128(nemu_balance(w, ALICE), a0 - dep - burnt);
    CHECK_U128(nemu_balance(w, APP1_ACC), dep - fee);
    CHECK_U128(nemu_balance(w, KMS), k0 + fee);
    CHECK(dep < NEMU_NEAR / 4);
    nemu_free(w);
}

TEST(kms_register_app_failure_refunds_the_caller) {
    nemu *w = kms_world();
    nemu_set_gas_price(w, 0); /* deposit arithmetic; gas is tested in emu_gas_* */
    nemu_u128 dep = nt_registration_deposit(w);
    /* the sub-account already exists, so the batch's CreateAccount fails */
    CHECK(nemu_create_account(w, APP1_ACC, NEMU_NEAR));
    nemu_u128 a0 = nemu_balance(w, ALICE), k0 = nemu_balance(w, KMS),
              x0 = nemu_balance(w, APP1_ACC);
    nemu_outcome *o =
        nemu_call(w, ALICE, KMS, "register_app", nt_reg_args(APP1, ALICE), dep + 123, NT_GAS);
    CHECK(o->ok);
    CHECK_STR(nt_val(o), "false");
    CHECK(nemu_outcome_first_error(o) && strstr(nemu_outcome_first_error(o), "already exists"));
    /* the 123 above the registration deposit went back at once; the rest now */
    char amount[48];
    nemu_u128_str(dep, amount);
    CHECK_INT(nt_event_count(o, "dstack-kms", "app_registration_failed",
                             fmt("{\"app_id\":\"" APP1_ACC "\",\"refunded_to\":\"" ALICE
                                 "\",\"amount\":\"%s\"}",
                                 amount)),
              1);
    CHECK_INT(nt_event_count(o, "dstack-kms", "app_deployed",
                             "{\"app_id\":\"" APP1_ACC "\",\"deployer\":\"" ALICE "\"}"),
              0);
    nemu_outcome_free(o);
    /* the refund reaches the caller; the KMS ends where it started */
    CHECK_U128(nemu_balance(w, ALICE), a0);
    CHECK_U128(nemu_balance(w, KMS), k0);
    CHECK_U128(nemu_balance(w, APP1_ACC), x0);
    CHECK_INT(nemu_code_len(w, APP1_ACC), 0);
    NT_OK(nemu_view(w, KMS, "is_app_registered", "{\"app_id\":\"" APP1 "\"}"), "false");
    NT_OK(nemu_view(w, KMS, "get_registered_apps_count", NULL), "0");
    nemu_free(w);
}

TEST(kms_register_app_argument_checks_in_order) {
    nemu *w = kms_world();
    nemu_set_gas_price(w, 0); /* deposit arithmetic; gas is tested in emu_gas_* */
    nemu_u128 dep = nt_registration_deposit(w);
    nemu_u128 a0 = nemu_balance(w, ALICE);
    NT_FAIL(nemu_call(w, ALICE, KMS, "register_app", nt_reg_args("", ALICE), dep, NT_GAS),
            "Invalid app account ID");
    NT_FAIL(nemu_call(w, ALICE, KMS, "register_app", nt_reg_args("0x", ALICE), dep, NT_GAS),
            "Invalid app account ID");
    NT_FAIL(nemu_call(w, ALICE, KMS, "register_app", nt_reg_args("myapp", ALICE), dep, NT_GAS),
            "Invalid app_id: expected 40 hex digits");
    NT_FAIL(nemu_call(w, ALICE, KMS, "register_app", nt_reg_args(APP1, ""), dep, NT_GAS),
            "Invalid owner address");
    NT_FAIL(nemu_call(w, ALICE, KMS, "register_app", nt_reg_args("myapp", ""), dep, NT_GAS),
            "Invalid app_id: expected 40 hex digits");
    NT_FAIL(nemu_call(w, ALICE, KMS, "register_app",
                      "{\"app_id\":\"" APP1 "\",\"owner_id\":\"" ALICE
                      "\",\"disable_upgrades\":false}",
                      dep, NT_GAS),
            "missing field `allow_any_device`");
    const char *base = "{\"app_id\":\"" APP1 "\",\"owner_id\":\"" ALICE
                       "\",\"disable_upgrades\":false,\"allow_any_device\":false";
    NT_FAIL(nemu_call(w, ALICE, KMS, "register_app", fmt("%s,\"initial_device_id\":\"\"}", base),
                      dep, NT_GAS),
            "Device ID cannot be empty");
    NT_FAIL(nemu_call(w, ALICE, KMS, "register_app", fmt("%s,\"initial_device_id\":\"12\"}", base),
                      dep, NT_GAS),
            "Invalid initial_device_id: expected 64 hex digits");
    NT_FAIL(nemu_call(w, ALICE, KMS, "register_app", fmt("%s,\"initial_compose_hash\":\"\"}", base),
                      dep, NT_GAS),
            "Compose hash cannot be empty");
    NT_FAIL(nemu_call(w, ALICE, KMS, "register_app",
                      fmt("%s,\"initial_compose_hash\":\"xyz\"}", base), dep, NT_GAS),
            "Invalid initial_compose_hash: expected 64 hex digits");
    NT_FAIL(nemu_call(w, ALICE, KMS, "register_app", fmt("%s,\"extra\":1}", base), dep, NT_GAS),
            "unknown field `extra`");
    char need[48];
    nemu_u128_str(dep, need);
    NT_FAIL(
        nemu_call(w, ALICE, KMS, "register_app", nt_reg_args(APP1, ALICE), dep - 1, NT_GAS),
        fmt("Attached deposit is too small: register_app requires at least %s yoctoNEAR", need));
    NT_FAIL(nemu_call(w, ALICE, KMS, "register_app", nt_reg_args(APP1, ALICE), 0, NT_GAS),
            "Attached deposit is too small");
    /* every failed call gave the deposit back */
    CHECK_U128(nemu_balance(w, ALICE), a0);
    /* null initial values are accepted */
    NT_OK(nemu_call(w, ALICE, KMS, "register_app",
                    fmt("%s,\"initial_device_id\":null,\"initial_compose_hash\":null}", base), dep,
                    NT_GAS),
          "true");
    /* the callback is private */
    NT_FAIL(nemu_call(w, ALICE, KMS, "on_app_contract_deployed",
                      "{\"app_id\":\"" APP2_ACC "\",\"caller\":\"" ALICE "\",\"deposit\":\"1\"}", 0,
                      NT_GAS),
            "Method on_app_contract_deployed is private");
    /* even from the KMS account itself it takes no deposit */
    NT_FAIL(nemu_call(w, KMS, KMS, "on_app_contract_deployed",
                      "{\"app_id\":\"" APP2_ACC "\",\"caller\":\"" ALICE "\",\"deposit\":\"1\"}", 1,
                      NT_GAS),
            "Method on_app_contract_deployed doesn't accept deposit");
    nemu_free(w);
}

TEST(kms_register_app_needs_a_short_kms_account) {
    nemu *w = nemu_new();
    nemu_set_gas_price(w, 0); /* deposit arithmetic; gas is tested in emu_gas_* */
    const char *longkms = "a-very-long-kms-account.near"; /* 28 characters */
    nemu_create_account(w, longkms, 50 * NEMU_NEAR);
    nemu_create_account(w, ALICE, 100 * NEMU_NEAR);
    nemu_outcome *o = nt_deploy_init(w, longkms, "kms",
                                     "{\"owner_id\":\"" ALICE "\",\"mpc_contract_id\":\"" MPC
                                     "\",\"mpc_domain_id\":2}");
    CHECK(o->ok);
    nemu_outcome_free(o);
    NT_FAIL(nemu_call(w, ALICE, longkms, "register_app", nt_reg_args(APP1, ALICE), 10 * NEMU_NEAR,
                      NT_GAS),
            "KMS account id is too long for app sub-accounts (max 23 characters)");
    CHECK_U128(nemu_balance(w, ALICE), 100 * NEMU_NEAR);
    nemu_free(w);
}

TEST(kms_deregister_app) {
    nemu *w = kms_world();
    nemu_u128 dep = nt_registration_deposit(w);
    NT_OK(nemu_call(w, ALICE, KMS, "register_app", nt_reg_args(APP1, ALICE), dep, NT_GAS), "true");
    NT_OK(nemu_call(w, BOB, KMS, "register_app", nt_reg_args(APP2, BOB), dep, NT_GAS), "true");
    NT_OK(nemu_call(w, BOB, KMS, "register_app", nt_reg_args(APP3, BOB), dep, NT_GAS), "true");
    NT_OK(nemu_view(w, KMS, "get_registered_apps", "{\"offset\":1,\"limit\":1}"),
          "[\"" APP2_ACC "\"]");
    NT_FAIL(nt_call1(w, ALICE, KMS, "deregister_app", "{\"app_id\":\"" APP1 "\"}"),
            PERM("deregister_app"));
    NT_FAIL(nemu_call(w, OWNER, KMS, "deregister_app", "{\"app_id\":\"" APP1 "\"}", 0, NT_GAS),
            "Requires attached deposit of at least 1 yoctoNEAR");
    nemu_outcome *o = nt_call1(w, OWNER, KMS, "deregister_app", "{\"app_id\":\"" APP1 "\"}");
    CHECK(o->ok);
    CHECK_INT(nt_event_count(o, "dstack-kms", "app_deregistered", "{\"app_id\":\"" APP1_ACC "\"}"),
              1);
    nemu_outcome_free(o);
    NT_OK(nemu_view(w, KMS, "is_app_registered", "{\"app_id\":\"" APP1 "\"}"), "false");
    NT_OK(nemu_view(w, KMS, "get_registered_apps", NULL),
          "[\"" APP3 "." KMS "\",\"" APP2_ACC "\"]");
    NT_FAIL(nt_call1(w, OWNER, KMS, "deregister_app", "{\"app_id\":\"" APP1_ACC "\"}"),
            "App not registered");
    NT_FAIL(nt_call1(w, OWNER, KMS, "deregister_app", "{\"app_id\":\"Not An Account\"}"),
            "Invalid app_id: expected 40 hex digits or an account id");
    /* by full account id */
    NT_OK(nt_call1(w, OWNER, KMS, "deregister_app", "{\"app_id\":\"" APP2_ACC "\"}"), "");
    NT_OK(nemu_view(w, KMS, "get_registered_apps_count", NULL), "1");
    /* the app contract itself keeps working: deregistration is a KMS-side decision */
    NT_OK(nemu_view(w, APP1_ACC, "get_owner", NULL), "\"" ALICE "\"");
    /* and the app can be registered again only after its account is gone: it still exists */
    o = nemu_call(w, ALICE, KMS, "register_app", nt_reg_args(APP1, ALICE), dep, NT_GAS);
    CHECK_STR(nt_val(o), "false");
    nemu_outcome_free(o);
    nemu_free(w);
}

TEST(kms_views_are_real_views) {
    /* every KMS view method runs through nemu_view, which rejects predecessor,
     * signer, gas, storage writes and promises like an RPC node would */
    nemu *w = kms_world();
    static const char *const views[][2] = {
        {"get_owner", NULL},
        {"get_mpc_config", NULL},
        {"get_gateway_app_id", NULL},
        {"get_kms_info", NULL},
        {"get_registration_deposit", NULL},
        {"get_registered_apps", "{\"offset\":0,\"limit\":10}"},
        {"get_registered_apps_count", NULL},
        {"get_allowed_os_images", NULL},
        {"get_kms_allowed_aggregated_mrs", NULL},
        {"get_kms_allowed_device_ids", NULL},
        {"get_kms_allowed_compose_hashes", NULL},
        {"is_app_registered", "{\"app_id\":\"" APP1 "\"}"},
        {"get_app_account", "{\"app_id\":\"" APP1 "\"}"},
    };
    for (size_t i = 0; i < sizeof views / sizeof views[0]; i++)
        NT_OK(nemu_view(w, KMS, views[i][0], views[i][1]), NULL);
    /* change methods fail as views (the deposit check comes first: 0 in a view) */
    nemu_outcome *o =
        nemu_view(w, KMS, "add_os_image_hash", fmt("{\"os_image_hash\":\"%s\"}", hex64('a')));
    CHECK(!o->ok);
    nemu_outcome_free(o);
    o = nemu_view(w, KMS, "register_app", nt_reg_args(APP1, ALICE));
    CHECK(!o->ok);
    nemu_outcome_free(o);
    NT_OK(nemu_view(w, KMS, "get_allowed_os_images", NULL), "[]");
    nemu_free(w);
}

TEST(kms_not_initialized_comes_before_the_deposit_check) {
    nemu *w = kms_world_uninit();
    size_t n;
    uint8_t *code = nt_code("kms", &n);
    nemu_set_code(w, KMS, code, n);
    free(code);
    NT_FAIL(nemu_call(w, ALICE, KMS, "add_os_image_hash", "{}", 0, NT_GAS),
            "The contract is not initialized");
    NT_FAIL(nemu_call(w, ALICE, KMS, "register_app", nt_reg_args(APP1, ALICE), 0, NT_GAS),
            "The contract is not initialized");
    NT_FAIL(nemu_view(w, KMS, "is_kms_allowed", "{}"), "The contract is not initialized");
    NT_FAIL(nemu_view(w, KMS, "get_registration_deposit", NULL), "The contract is not initialized");
    nemu_free(w);
}

TEST(kms_boot_info_advisory_limits) {
    nemu *w = kms_world();
    const char *os = hex64('1'), *mr = hex64('2'), *dev = hex64('3'), *ch = hex64('4');
    /* 128 advisory ids of 256 bytes are fine; 129 items or 257 bytes are not */
    size_t cap = 129 * 262 + 2048;
    char *adv = malloc(cap), *arg = malloc(cap + 1024);
    char item[258];
    memset(item, 'a', 257);
    for (int items = 128; items <= 129; items++) {
        size_t k = 0;
        adv[k++] = '[';
        for (int i = 0; i < items; i++) {
            k += (size_t)snprintf(adv + k, cap - k, "%s\"%.256s\"", i ? "," : "", item);
        }
        adv[k++] = ']';
        adv[k] = 0;
        snprintf(arg, cap + 1024,
                 "{\"boot_info\":{\"app_id\":\"%s\",\"compose_hash\":\"%s\",\"instance_id\":\"\","
                 "\"device_id\":\"%s\","
                 "\"mr_aggregated\":\"%s\",\"mr_system\":\"\",\"os_image_hash\":\"%s\",\"tcb_"
                 "status\":\"UpToDate\","
                 "\"advisory_ids\":%s}}",
                 APP1, ch, dev, mr, os, adv);
        if (items == 128)
            NT_OK(nemu_view(w, KMS, "is_kms_allowed", arg), "[false,\"OS image is not allowed\"]");
        else
            NT_FAIL(nemu_view(w, KMS, "is_kms_allowed", arg),
                    "Invalid boot_info.advisory_ids: more than 128 items");
    }
    item[257] = 0;
    snprintf(arg, cap + 1024,
             "{\"boot_info\":{\"app_id\":\"%s\",\"compose_hash\":\"%s\",\"instance_id\":\"\","
             "\"device_id\":\"%s\","
             "\"mr_aggregated\":\"%s\",\"mr_system\":\"\",\"os_image_hash\":\"%s\",\"tcb_status\":"
             "\"UpToDate\","
             "\"advisory_ids\":[\"%s\"]}}",
             APP1, ch, dev, mr, os, item);
    NT_FAIL(nemu_view(w, KMS, "is_kms_allowed", arg),
            "Invalid boot_info.advisory_ids: items must be strings of at most 256 bytes");
    snprintf(arg, cap + 1024,
             "{\"boot_info\":{\"app_id\":\"%s\",\"compose_hash\":\"%s\",\"instance_id\":\"\","
             "\"device_id\":\"%s\","
             "\"mr_aggregated\":\"%s\",\"mr_system\":\"\",\"os_image_hash\":\"%s\",\"tcb_status\":"
             "\"UpToDate\","
             "\"advisory_ids\":[null]}}",
             APP1, ch, dev, mr, os);
    NT_FAIL(nemu_view(w, KMS, "is_kms_allowed", arg),
            "Invalid boot_info.advisory_ids: items must be strings of at most 256 bytes");
    free(adv);
    free(arg);
    nemu_free(w);
}

TEST(kms_register_app_out_of_gas_refunds) {
    nemu *w = kms_world();
    nemu_set_gas_price(w, 0); /* deposit arithmetic; gas is tested in emu_gas_* */
    nemu_u128 dep = nt_registration_deposit(w);
    nemu_u128 a0 = nemu_balance(w, ALICE);
    /* register_app attaches 30 + 10 TGas to its promises: 35 TGas cannot pay for that */
    nemu_outcome *o =
        nemu_call(w, ALICE, KMS, "register_app", nt_reg_args(APP1, ALICE), dep, 35 * NEMU_TGAS);
    CHECK(!o->ok);
    CHECK_INT(o->err, NEMU_E_GAS_EXCEEDED);
    nemu_outcome_free(o);
    CHECK_U128(nemu_balance(w, ALICE), a0);
    CHECK(!nemu_account_exists(w, APP1_ACC));
    NT_OK(nemu_call(w, ALICE, KMS, "register_app", nt_reg_args(APP1, ALICE), dep, 100 * NEMU_TGAS),
          "true");
    nemu_free(w);
}

TEST(kms_corrupt_state_is_reported) {
    nemu *w = kms_world();
    /* a set whose length says 1 but whose element is missing */
    NT_OK(
        nt_call1(w, OWNER, KMS, "add_os_image_hash", fmt("{\"os_image_hash\":\"%s\"}", hex64('a'))),
        "");
    static const uint8_t idx0[6] = {'A', 'i', 0, 0, 0, 0};
    CHECK(nemu_storage_get(w, KMS, idx0, 6, NULL, 0) == 64);
    CHECK(nemu_storage_patch(w, KMS, idx0, 6, NULL, 0));
    NT_FAIL(nemu_view(w, KMS, "get_allowed_os_images", NULL), "Corrupt set");
    /* a KMS info record cut short */
    NT_OK(nt_call1(w, OWNER, KMS, "set_kms_quote", "{\"quote\":[1,2,3]}"), "");
    CHECK(nemu_storage_patch(w, KMS, (const uint8_t *)"i", 1, (const uint8_t *)"\x05\0\0\0ab", 6));
    NT_FAIL(nemu_view(w, KMS, "get_kms_info", NULL), "Corrupt KMS info");
    nemu_free(w);
}

TEST(kms_json_syntax_error_offsets) {
    nemu *w = kms_world();
    NT_FAIL(nemu_view(w, KMS, "is_os_image_allowed", "{\"os_image_hash\":"),
            "Failed to deserialize input from JSON. Error: syntax error at byte 17");
    NT_FAIL(nemu_view(w, KMS, "is_os_image_allowed", "{\"os_image_hash\" \"x\"}"),
            "Failed to deserialize input from JSON. Error: syntax error at byte 17");
    NT_FAIL(nemu_view(w, KMS, "is_os_image_allowed", "nul"), "syntax error at byte");
    nemu_free(w);
}

TEST(kms_json_escapes_and_whitespace_are_json) {
    nemu *w = kms_world();
    /* the same value written with escapes and whitespace is the same value */
    const char *h = hex64('a');
    NT_OK(nt_call1(w, OWNER, KMS, "add_os_image_hash",
                   fmt(" {\n\t\"os_image_\\u0068ash\" : \"\\u0041%.63s\" } ", h)),
          "");
    NT_OK(nemu_view(w, KMS, "get_allowed_os_images", "{}"), fmt("[\"%s\"]", h));
    NT_OK(nemu_view(w, KMS, "is_os_image_allowed", fmt("{\"os_image_hash\":\"0X%s\"}", h)), "true");
    NT_FAIL(nemu_view(w, KMS, "get_app_account", "{\"app_id\":\"" APP1 "0\"}"),
            "Invalid app_id: expected 40 hex digits");
    NT_OK(nemu_view(w, KMS, "is_app_registered", "{\"app_id\":\"" APP1 ".other.near\"}"), "false");
    nemu_free(w);
}
