/* gov.c — a KMS's governance read from the chain: batched views, boot checks, snapshots.
 *
 * The one idea: every read is pinned to one block. A snapshot asks the block
 * number once, then the PolicyChanged logs up to that block (whitelists are
 * mappings, so the lists are replayed from the events), then every view of
 * the KMS and of each app in one batch at that block, then the owners' code
 * and multisig/timelock parameters in a second batch. So the page, the JSON
 * and the CLI never mix two states of the chain.
 */
#include "dstackgov/gov.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dstackgov/contracts.h"
#include "dstackgov/eth.h"
#include "dstackgov/hash.h"
#include "dstackgov/hex.h"

static const uint8_t ZERO32[32];

/* ------------------------------------------------------------------ batches */

static void req_call(dg_rpc_req *r, const uint8_t to[20], const dg_buf *data, const char *block) {
    json_t *o = json_object();
    json_object_set_new(o, "to", dg_eth_json_bytes(to, 20));
    json_object_set_new(o, "data", dg_eth_json_bytes(data->data, data->len));
    r->method = "eth_call";
    r->params = json_pack("[o,s]", o, block ? block : "latest");
}

/* The bytes of a successful hex-string result; 0 when the request failed or
 * returned "0x" (no code, or a call to an account without code). */
static int req_bytes(const dg_rpc_req *r, dg_buf *out) {
    const char *s = r->ok && json_is_string(r->result) ? json_string_value(r->result) : NULL;
    return s && dg_hex_decode_var(s, strlen(s), out, NULL) && out->len > 0;
}

int dg_eth_call_batch(dg_rpc *rpc, const uint8_t (*to)[20], const dg_buf *data, size_t n,
                      const char *block, dg_buf *results, int *ok, uint64_t *chain_id,
                      dg_err *err) {
    dg_rpc_req *r = calloc(n + 1, sizeof *r);
    if (!r) return dg_err_set(err, DG_ERR_NOMEM, "out of memory for %zu calls", n);
    for (size_t i = 0; i < n; i++)
        req_call(&r[i], to[i], &data[i], block);
    r[n].method = "eth_chainId";
    r[n].params = json_array();
    int good = dg_eth_batch(rpc, r, n + 1, err);
    if (good && (!r[n].ok || !dg_eth_quantity_u64(r[n].result, chain_id, NULL))) {
        dg_err_set(err, DG_ERR_RPC_RESPONSE, "%s: eth_chainId failed",
                   dg_rpc_endpoint_label(rpc, dg_rpc_last_endpoint(rpc)));
        good = 0;
    }
    for (size_t i = 0; good && i < n; i++)
        ok[i] = req_bytes(&r[i], &results[i]);
    dg_rpc_req_clear(r, n + 1);
    free(r);
    return good;
}

int dg_eth_block_number(dg_rpc *rpc, uint64_t *out, dg_err *err) {
    json_t *res = NULL;
    if (!dg_rpc_call(rpc, "eth_blockNumber", json_array(), &res, err)) return 0;
    int ok = dg_eth_quantity_u64(res, out, err);
    json_decref(res);
    return ok;
}

/* ------------------------------------------------------------------ boot checks */

enum { CHECK_CALLS_MAX = 11 };

typedef struct {
    const dg_bootinfo *bi;
    dg_app_boot_info abi;
    const char *adv[DG_BOOTINFO_ADV_MAX];
    dg_buf q[CHECK_CALLS_MAX], ret[CHECK_CALLS_MAX];
    uint8_t to[CHECK_CALLS_MAX][20];
    int ok[CHECK_CALLS_MAX];
} check_run;

typedef struct {
    size_t n;          /* calls in the batch (every `to` defaults to the KMS) */
    size_t gw;         /* the gatewayAppId() call */
    size_t must;       /* a call the KMS must answer, else it is no DstackKms */
    const char *probe; /* the function named when it does not answer */
    int (*encode)(check_run *r, dg_err *err);
    void (*judge)(check_run *r, dg_gov_verdict *v); /* rules, allowed, reason */
} check_kind;

void dg_gov_rule_add(dg_gov_verdict *v, int ok, const char *name, const char *fmt, ...) {
    if (v->nrules >= DG_GOV_RULES_MAX) return;
    dg_gov_rule *r = &v->rules[v->nrules++];
    r->name = name;
    r->ok = ok;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->detail, sizeof r->detail, fmt, ap);
    va_end(ap);
}

static void fmt_b32(const uint8_t b[32], char out[67]) {
    dg_hex_encode_0x(b, 32, out);
}

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

static int ret_bool(const check_run *r, size_t i) {
    int b = 0;
    if (r->ok[i]) dg_contract_decode_bool(r->ret[i].data, r->ret[i].len, &b, NULL);
    return b;
}

static void judge_app(check_run *r, dg_gov_verdict *v) {
    const int *ok = r->ok;
    int reg = ret_bool(r, K_REG), dereg = ret_bool(r, K_DEREG), os = ret_bool(r, K_OS);
    int app_ok = ok[A_ANY] && ok[A_HASH];
    int tcb = ret_bool(r, A_TCB), hash = 0, any = 0, dev = 0;
    if (app_ok) {
        hash = ret_bool(r, A_HASH);
        any = ret_bool(r, A_ANY);
        dev = ret_bool(r, A_DEV);
    }
    char app_s[43], h[67];
    dg_address_checksum(r->abi.app_id, app_s);
    dg_gov_rule_add(v, reg, "registered", "app %s is %s in the KMS", app_s,
                    reg     ? "registered"
                    : dereg ? "DEREGISTERED by the KMS owner"
                            : "not registered");
    fmt_b32(r->abi.os_image_hash, h);
    dg_gov_rule_add(v, os, "os-image", "OS image %s is %s", h,
                    os ? "allowed" : "not allowed (kms add-image)");
    int iface = ret_bool(r, A_IFACE);
    dg_gov_rule_add(
        v, app_ok, "app-contract", "app contract %s",
        app_ok ? (iface ? "answers and implements IAppAuth (ERC-165 0x1e079198)"
                        : "answers, but does not declare IAppAuth (ERC-165 0x1e079198)")
        : ok[A_IFACE] && iface
            ? "implements IAppAuth but is not a DstackApp: only its own isAppAllowed decides"
            : "has no code or is not a DstackApp");
    if (app_ok) {
        int tcb_ok = !tcb || strcmp(r->bi->tcb_status, "UpToDate") == 0;
        dg_gov_rule_add(v, tcb_ok, "tcb", "TCB: app %s up-to-date TCB, boot reports \"%s\"",
                        tcb ? "requires" : "does not require", r->bi->tcb_status);
        fmt_b32(r->abi.compose_hash, h);
        dg_gov_rule_add(v, hash, "compose-hash", "compose hash %s is %s", h,
                        hash ? "allowed" : "not allowed (app add-hash)");
        fmt_b32(r->abi.device_id, h);
        dg_gov_rule_add(v, any || dev, "device", "device %s: %s", h,
                        any   ? "any device is allowed"
                        : dev ? "allowed"
                              : "not allowed (app add-device)");
    }
    v->allowed = 0;
    if (ok[K_ALLOWED])
        dg_contract_decode_allowed(r->ret[K_ALLOWED].data, r->ret[K_ALLOWED].len, &v->allowed,
                                   v->reason, sizeof v->reason, NULL);
    else
        snprintf(v->reason, sizeof v->reason,
                 "the KMS contract's isAppAllowed reverted (the app "
                 "contract reverts): a webhook reports \"authorization backend unavailable\"");
}

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

static void judge_kms(check_run *r, dg_gov_verdict *v) {
    const char *tcb = r->bi->tcb_status;
    int os = ret_bool(r, KC_OS), mr = ret_bool(r, KC_MR), dev = ret_bool(r, KC_DEV);
    int up = strcmp(tcb, "UpToDate") == 0;
    char h[67];
    dg_gov_rule_add(v, up, "tcb", "TCB status \"%s\" %s", tcb,
                    up ? "is UpToDate" : "is not UpToDate (required for a KMS)");
    fmt_b32(r->abi.os_image_hash, h);
    dg_gov_rule_add(v, os, "os-image", "OS image %s is %s", h,
                    os ? "allowed" : "not allowed (kms add-image)");
    fmt_b32(r->abi.mr_aggregated, h);
    dg_gov_rule_add(v, mr, "mr-aggregated", "aggregated MR %s is %s", h,
                    mr ? "allowed" : "not allowed (kms add-mr)");
    fmt_b32(r->abi.device_id, h);
    dg_gov_rule_add(v, dev, "device", "device %s is %s", h,
                    dev ? "allowed" : "not allowed (kms add-device)");
    v->allowed = 0;
    dg_contract_decode_allowed(r->ret[KC_ALLOWED].data, r->ret[KC_ALLOWED].len, &v->allowed,
                               v->reason, sizeof v->reason, NULL);
}

static const check_kind KINDS[2] = {
    [DG_ROUTE_APP] = {APP_CALLS, K_GW, K_GW, "gatewayAppId()", encode_app, judge_app},
    [DG_ROUTE_KMS] = {KMS_CALLS, KC_GW, KC_ALLOWED, "isKmsAllowed()", encode_kms, judge_kms},
};

int dg_gov_check(dg_rpc *rpc, const uint8_t kms[20], const dg_bootinfo *bi, dg_route route,
                 dg_gov_verdict *v, dg_err *err) {
    const check_kind *k = &KINDS[route == DG_ROUTE_KMS];
    memset(v, 0, sizeof *v);
    check_run *r = calloc(1, sizeof *r);
    if (!r) return dg_err_set(err, DG_ERR_NOMEM, "out of memory");
    r->bi = bi;
    memcpy(r->abi.app_id, bi->app_id, 20);
    memcpy(r->abi.compose_hash, bi->compose_hash, 32);
    memcpy(r->abi.instance_id, bi->instance_id, 20);
    memcpy(r->abi.device_id, bi->device_id, 32);
    memcpy(r->abi.mr_aggregated, bi->mr_aggregated, 32);
    memcpy(r->abi.mr_system, bi->mr_system, 32);
    memcpy(r->abi.os_image_hash, bi->os_image_hash, 32);
    r->abi.tcb_status = bi->tcb_status;
    for (size_t i = 0; i < bi->n_advisory; i++)
        r->adv[i] = dg_bootinfo_advisory(bi, i, NULL);
    r->abi.advisory_ids = r->adv;
    r->abi.n_advisory_ids = bi->n_advisory;
    for (size_t i = 0; i < k->n; i++) {
        dg_buf_init(&r->q[i]);
        dg_buf_init(&r->ret[i]);
        memcpy(r->to[i], kms, 20);
    }
    char blk[24];
    int good = k->encode(r, err) && dg_eth_block_number(rpc, &v->block_number, err);
    if (good) {
        snprintf(blk, sizeof blk, "0x%llx", (unsigned long long)v->block_number);
        good = dg_eth_call_batch(rpc, (const uint8_t(*)[20])r->to, r->q, k->n, blk, r->ret, r->ok,
                                 &v->chain_id, err);
    }
    if (good) {
        v->kms_probe = k->probe;
        v->kms_answers = r->ok[k->must] && r->ok[k->gw];
        char *gw = NULL;
        if (v->kms_answers &&
            dg_contract_decode_string(r->ret[k->gw].data, r->ret[k->gw].len, &gw, NULL))
            snprintf(v->gateway_app_id, sizeof v->gateway_app_id, "%s", gw);
        free(gw);
        if (v->kms_answers) k->judge(r, v);
    }
    for (size_t i = 0; i < k->n; i++) {
        dg_buf_free(&r->q[i]);
        dg_buf_free(&r->ret[i]);
    }
    free(r);
    return good;
}

int dg_gov_first_failing(const dg_gov_verdict *v) {
    for (size_t i = 0; i < v->nrules; i++)
        if (v->rules[i].ok == 0) return (int)i;
    return -1;
}

/* ------------------------------------------------------------------ policy keys */

const dg_gov_policy_key dg_gov_policy_keys[] = {
    {"os-image", 1, 0},
    {"kms-aggregated-mr", 1, 0},
    {"kms-device", 1, 0},
    {"registered-app", 1, 1},
    {"deregistered-app", 1, 1},
    {"compose-hash", 1, 0},
    {"device", 1, 0},
    {"gateway-app-id", 0, 0},
    {"kms-info", 0, 0},
    {"app-implementation", 0, 1},
    {"implementation-upgrade", 0, 1},
    {"allow-any-device", 0, 0},
    {"require-tcb-up-to-date", 0, 0},
    {"upgrades-disabled", 0, 0},
};
const size_t dg_gov_npolicy_keys = sizeof dg_gov_policy_keys / sizeof dg_gov_policy_keys[0];

static uint8_t key_hash[sizeof dg_gov_policy_keys / sizeof dg_gov_policy_keys[0]][32];
static pthread_once_t key_hash_once = PTHREAD_ONCE_INIT;

static void key_hash_init(void) {
    for (size_t i = 0; i < dg_gov_npolicy_keys; i++)
        dg_keccak256(dg_gov_policy_keys[i].key, strlen(dg_gov_policy_keys[i].key), key_hash[i]);
}

int dg_gov_policy_key_find(const uint8_t topic[32]) {
    pthread_once(&key_hash_once, key_hash_init);
    for (size_t i = 0; i < dg_gov_npolicy_keys; i++)
        if (memcmp(key_hash[i], topic, 32) == 0) return (int)i;
    return -1;
}

int dg_gov_policy_key_find_name(const char *name) {
    for (size_t k = 0; k < dg_gov_npolicy_keys; k++)
        if (strcmp(dg_gov_policy_keys[k].key, name) == 0) return (int)k;
    return -1;
}

void dg_gov_policy_value(int key, const uint8_t v[32], char out[67]) {
    if (key >= 0 && dg_gov_policy_keys[key].is_addr)
        dg_address_checksum(v + 12, out);
    else
        dg_hex_encode_0x(v, 32, out);
}

/* ------------------------------------------------------------------ snapshots */

/* The replayed state of one contract: per set key, the values whose last
 * event enabled them (in first-seen order); per setting, the last value. */
typedef struct {
    uint8_t addr[20];
    json_t *sets[16];     /* key index -> JSON array of values (NULL until used) */
    int setting_seen[16]; /* settings: last enabled flag + value */
    int setting_on[16];
} replay;

static json_t *replay_list(replay *r, size_t k) {
    if (!r->sets[k]) r->sets[k] = json_object();
    return r->sets[k];
}

/* Whitelists are JSON objects used as ordered sets (value -> true): a lookup
 * per event instead of a scan, in first-added order (jansson keeps it). */
static void replay_apply(replay *r, int k, const char *val, int enabled) {
    if (k < 0) return;
    if (!dg_gov_policy_keys[k].is_set) {
        r->setting_seen[k] = 1;
        r->setting_on[k] = enabled;
        return;
    }
    json_t *set = replay_list(r, (size_t)k);
    if (enabled)
        json_object_set_new(set, val, json_true());
    else
        json_object_del(set, val);
}

static void replay_free(replay *r) {
    for (size_t k = 0; k < 16; k++)
        if (r->sets[k]) json_decref(r->sets[k]);
}

/* The set of key as an object (the caller owns it; empty when never used). */
static json_t *replay_take_set(replay *r, const char *key) {
    int k = dg_gov_policy_key_find_name(key);
    json_t *set = k >= 0 && r->sets[k] ? r->sets[k] : json_object();
    if (k >= 0) r->sets[k] = NULL;
    return set;
}

/* The set of key as a JSON array of its values, in first-added order. */
static json_t *replay_take(replay *r, const char *key) {
    json_t *set = replay_take_set(r, key), *list = json_array(), *v;
    const char *val;
    json_object_foreach(set, val, v) {
        json_array_append_new(list, json_string(val));
    }
    json_decref(set);
    return list;
}

static json_t *addr_json(const uint8_t a[20]) {
    char s[43];
    dg_address_checksum(a, s);
    return json_string(s);
}

/* Per contract read in the first batch: these views, then the ERC-1967
 * implementation slot (eth_getStorageAt). */
static const char *const KMS_VIEWS[] = {DG_SIG_OWNER, DG_SIG_PENDING_OWNER, DG_SIG_GATEWAY_APP_ID,
                                        DG_SIG_APP_IMPLEMENTATION};
enum { KV_OWNER, KV_PENDING, KV_GATEWAY, KV_APPIMPL, KV_N };
static const char *const APP_VIEWS[] = {DG_SIG_OWNER, DG_SIG_APP_ALLOW_ANY_DEVICE,
                                        DG_SIG_APP_REQUIRE_TCB};
enum { AV_OWNER, AV_ANY, AV_TCB, AV_N };
#define APP_STRIDE (AV_N + 2) /* the views, the implementation slot, slot 1 */
/* bytes32(uint256(keccak256("eip1967.proxy.implementation")) - 1) */
static const char IMPL_SLOT[] =
    "0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc";
/* Owner kinds: a Safe answers getThreshold() and getOwners(); an
 * OpenZeppelin TimelockController answers getMinDelay(). */
enum { OW_CODE, OW_THRESHOLD, OW_OWNERS, OW_DELAY, OW_N };
static const char *const OWNER_VIEWS[] = {NULL, "getThreshold()", "getOwners()", "getMinDelay()"};

static void req_view(dg_rpc_req *r, const uint8_t to[20], const char *sig, const char *blk) {
    dg_buf d;
    dg_buf_init(&d);
    dg_contract_encode_noarg(&d, sig, NULL);
    req_call(r, to, &d, blk);
    dg_buf_free(&d);
}

/* DstackApp's slot 1, byte 0: the private _upgradesDisabled (docs/contracts.md,
 * storage layout); no view returns it and initialize() emits no event for it. */
static const char APP_FLAGS_SLOT[] = "0x1";

static void req_slot(dg_rpc_req *r, const uint8_t to[20], const char *slot, const char *blk) {
    r->method = "eth_getStorageAt";
    r->params = json_pack("[o,s,s]", dg_eth_json_bytes(to, 20), slot, blk);
}

static int get_addr(const dg_rpc_req *r, uint8_t out[20]) {
    dg_buf b;
    dg_buf_init(&b);
    int ok = req_bytes(r, &b) && dg_contract_decode_address(b.data, b.len, out, NULL);
    dg_buf_free(&b);
    if (!ok) memset(out, 0, 20);
    return ok;
}

static int get_slot_addr(const dg_rpc_req *r, uint8_t out[20]) {
    dg_buf b;
    dg_buf_init(&b);
    int ok = req_bytes(r, &b) && b.len == 32;
    if (ok) memcpy(out, b.data + 12, 20);
    dg_buf_free(&b);
    if (!ok) memset(out, 0, 20);
    return ok;
}

static json_t *get_bool(const dg_rpc_req *r) {
    dg_buf b;
    dg_buf_init(&b);
    int v = 0, ok = req_bytes(r, &b) && dg_contract_decode_bool(b.data, b.len, &v, NULL);
    dg_buf_free(&b);
    return ok ? json_boolean(v) : json_null();
}

static int get_u64(const dg_rpc_req *r, uint64_t *v) {
    dg_buf b;
    dg_buf_init(&b);
    int ok = req_bytes(r, &b) && dg_contract_decode_uint64(b.data, b.len, v, NULL);
    dg_buf_free(&b);
    return ok;
}

/* What kind of account owns a contract, as the page shows it. */
static json_t *owner_json(const uint8_t owner[20], const dg_rpc_req *q) {
    json_t *o = json_object();
    json_object_set_new(o, "address", addr_json(owner));
    dg_buf code;
    dg_buf_init(&code);
    int has_code = req_bytes(&q[OW_CODE], &code);
    dg_buf_free(&code);
    uint64_t thr = 0, delay = 0;
    if (memcmp(owner, ZERO32, 20) == 0) {
        json_object_set_new(o, "kind", json_string("none"));
    } else if (!has_code) {
        json_object_set_new(o, "kind", json_string("eoa"));
    } else if (get_u64(&q[OW_THRESHOLD], &thr)) {
        json_object_set_new(o, "kind", json_string("safe"));
        json_object_set_new(o, "threshold", json_integer((json_int_t)thr));
        /* getOwners() returns address[]: offset word, length word, items */
        dg_buf b;
        dg_buf_init(&b);
        if (req_bytes(&q[OW_OWNERS], &b) && b.len >= 64) {
            uint64_t n = 0;
            if (dg_contract_decode_uint64(b.data + 32, 32, &n, NULL) && b.len >= 64 + 32 * n) {
                json_t *l = json_array();
                for (uint64_t i = 0; i < n; i++)
                    json_array_append_new(l, addr_json(b.data + 64 + 32 * i + 12));
                json_object_set_new(o, "owners", l);
            }
        }
        dg_buf_free(&b);
    } else if (get_u64(&q[OW_DELAY], &delay)) {
        json_object_set_new(o, "kind", json_string("timelock"));
        json_object_set_new(o, "delaySeconds", json_integer((json_int_t)delay));
    } else {
        json_object_set_new(o, "kind", json_string("contract"));
    }
    return o;
}

typedef struct {
    dg_rpc *rpc;
    const uint8_t *kms;
    char blk[24];
    uint64_t block, chain_id;
    dg_eth_log *logs;
    size_t nlogs;
    replay *contracts; /* [0] the KMS, then the apps */
    size_t ncontracts;
    json_t *history;
} snap;

static replay *find_contract(snap *s, const uint8_t a[20]) {
    for (size_t i = 0; i < s->ncontracts; i++)
        if (memcmp(s->contracts[i].addr, a, 20) == 0) return &s->contracts[i];
    return NULL;
}

/* Replay logs[0..n) into the contracts they belong to; record the history. */
static void replay_logs(snap *s, const dg_eth_log *logs, size_t n) {
    for (size_t i = 0; i < n; i++) {
        const dg_eth_log *l = &logs[i];
        replay *r = find_contract(s, l->address);
        if (!r || l->ntopics != 4 || l->data_len != 32) continue;
        int k = dg_gov_policy_key_find(l->topics[2]);
        int enabled = l->data[31] != 0;
        char val[67], tx[67];
        dg_gov_policy_value(k, l->topics[3], val);
        replay_apply(r, k, val, enabled);
        /* deregisterApp also clears the registration, without its own event */
        if (k >= 0 && strcmp(dg_gov_policy_keys[k].key, "deregistered-app") == 0 && enabled)
            replay_apply(r, dg_gov_policy_key_find_name("registered-app"), val, 0);
        dg_hex_encode_0x(l->tx_hash, 32, tx);
        json_array_append_new(
            s->history,
            json_pack("{s:I,s:I,s:s,s:o,s:s,s:s,s:s,s:b,s:o}", "block", (json_int_t)l->block_number,
                      "logIndex", (json_int_t)l->log_index, "tx", tx, "contract",
                      addr_json(l->address), "target", r == s->contracts ? "kms" : "app", "policy",
                      k >= 0 ? dg_gov_policy_keys[k].key : "unknown", "value", val, "enabled",
                      enabled, "actor", addr_json(l->topics[1] + 12)));
    }
}

static int read_logs(snap *s, const uint8_t (*addrs)[20], size_t n, dg_err *err) {
    uint8_t topic[32];
    dg_eth_event_topic("PolicyChanged(address,bytes32,bytes32,bool)", topic);
    dg_eth_log *logs = NULL;
    size_t nl = 0;
    if (!dg_eth_get_logs_multi(s->rpc, addrs, n, topic, 0, s->blk, &logs, &nl, err)) return 0;
    replay_logs(s, logs, nl);
    dg_eth_logs_free(logs, nl);
    return 1;
}

static json_t *build(snap *s, dg_err *err) {
    size_t napps = s->ncontracts - 1;
    /* batch 1: KMS views + slot, each app's views + slot, eth_chainId */
    size_t n1 = KV_N + 1 + napps * APP_STRIDE + 1;
    dg_rpc_req *q = calloc(n1, sizeof *q);
    if (!q) return dg_err_set(err, DG_ERR_NOMEM, "out of memory"), NULL;
    for (size_t i = 0; i < KV_N; i++)
        req_view(&q[i], s->kms, KMS_VIEWS[i], s->blk);
    req_slot(&q[KV_N], s->kms, IMPL_SLOT, s->blk);
    for (size_t a = 0; a < napps; a++) {
        dg_rpc_req *b = &q[KV_N + 1 + a * APP_STRIDE];
        for (size_t i = 0; i < AV_N; i++)
            req_view(&b[i], s->contracts[1 + a].addr, APP_VIEWS[i], s->blk);
        req_slot(&b[AV_N], s->contracts[1 + a].addr, IMPL_SLOT, s->blk);
        req_slot(&b[AV_N + 1], s->contracts[1 + a].addr, APP_FLAGS_SLOT, s->blk);
    }
    q[n1 - 1].method = "eth_chainId";
    q[n1 - 1].params = json_array();
    json_t *out = NULL;
    dg_rpc_req *q2 = NULL;
    size_t n2 = 0, *oidx = NULL;
    uint8_t(*distinct)[20] = NULL;
    uint8_t(*owners)[20] = calloc(1 + napps, 20);
    if (!owners) {
        dg_err_set(err, DG_ERR_NOMEM, "out of memory");
        goto done;
    }
    if (!dg_eth_batch(s->rpc, q, n1, err)) goto done;
    if (!q[n1 - 1].ok || !dg_eth_quantity_u64(q[n1 - 1].result, &s->chain_id, err)) {
        dg_err_set(err, DG_ERR_RPC_RESPONSE, "eth_chainId failed");
        goto done;
    }
    if (!get_addr(&q[KV_OWNER], owners[0])) {
        char ks[43];
        dg_address_checksum(s->kms, ks);
        dg_err_set(err, DG_ERR_NO_CODE,
                   "%s on chain %llu does not answer owner(): no contract there, or not a "
                   "DstackKms",
                   ks, (unsigned long long)s->chain_id);
        goto done;
    }
    for (size_t a = 0; a < napps; a++)
        get_addr(&q[KV_N + 1 + a * APP_STRIDE + AV_OWNER], owners[1 + a]);
    /* batch 2: what each distinct owner is (code, Safe threshold/owners, timelock
     * delay); apps mostly share a few owners */
    oidx = calloc(1 + napps, sizeof *oidx);
    distinct = calloc(1 + napps, 20);
    if (!oidx || !distinct) {
        dg_err_set(err, DG_ERR_NOMEM, "out of memory");
        goto done;
    }
    size_t nd = 0;
    for (size_t i = 0; i <= napps; i++) {
        size_t j = 0;
        while (j < nd && memcmp(distinct[j], owners[i], 20) != 0)
            j++;
        if (j == nd) memcpy(distinct[nd++], owners[i], 20);
        oidx[i] = j;
    }
    n2 = nd * OW_N;
    q2 = calloc(n2, sizeof *q2);
    if (!q2) {
        dg_err_set(err, DG_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < nd; i++) {
        dg_rpc_req *b = &q2[i * OW_N];
        b[OW_CODE].method = "eth_getCode";
        b[OW_CODE].params = json_pack("[o,s]", dg_eth_json_bytes(distinct[i], 20), s->blk);
        for (size_t k = 1; k < OW_N; k++)
            req_view(&b[k], distinct[i], OWNER_VIEWS[k], s->blk);
    }
    if (!dg_eth_batch(s->rpc, q2, n2, err)) goto done;

    out = json_object();
    json_object_set_new(out, "chainId", json_integer((json_int_t)s->chain_id));
    json_object_set_new(out, "block", json_integer((json_int_t)s->block));
    replay *kr = &s->contracts[0];
    json_t *k = json_object();
    uint8_t a20[20];
    json_object_set_new(k, "address", addr_json(s->kms));
    json_object_set_new(k, "owner", owner_json(owners[0], &q2[oidx[0] * OW_N]));
    get_addr(&q[KV_PENDING], a20);
    json_object_set_new(k, "pendingOwner", memcmp(a20, ZERO32, 20) ? addr_json(a20) : json_null());
    get_slot_addr(&q[KV_N], a20);
    json_object_set_new(k, "implementation", addr_json(a20));
    /* UUPS: the owner upgrades; once ownership is renounced nobody can */
    json_object_set_new(k, "upgradeable", json_boolean(memcmp(owners[0], ZERO32, 20) != 0));
    char *gw = NULL;
    dg_buf b;
    dg_buf_init(&b);
    if (req_bytes(&q[KV_GATEWAY], &b)) dg_contract_decode_string(b.data, b.len, &gw, NULL);
    dg_buf_free(&b);
    json_object_set_new(k, "gatewayAppId", json_string(gw ? gw : ""));
    free(gw);
    get_addr(&q[KV_APPIMPL], a20);
    json_object_set_new(k, "appImplementation", addr_json(a20));
    json_object_set_new(k, "osImages", replay_take(kr, "os-image"));
    json_object_set_new(k, "kmsMeasurements", replay_take(kr, "kms-aggregated-mr"));
    json_object_set_new(k, "kmsDevices", replay_take(kr, "kms-device"));
    json_t *reg = replay_take_set(kr, "registered-app");
    json_t *dereg = replay_take_set(kr, "deregistered-app");
    json_object_set_new(out, "kms", k);
    json_t *apps = json_array();
    for (size_t a = 0; a < napps; a++) {
        replay *ar = &s->contracts[1 + a];
        const dg_rpc_req *b1 = &q[KV_N + 1 + a * APP_STRIDE];
        char id[43];
        dg_address_checksum(ar->addr, id);
        int is_reg = json_object_get(reg, id) != NULL;
        int is_dereg = json_object_get(dereg, id) != NULL;
        json_t *o = json_object();
        json_object_set_new(o, "appId", json_string(id));
        json_object_set_new(o, "owner", owner_json(owners[1 + a], &q2[oidx[1 + a] * OW_N]));
        json_object_set_new(o, "registered", json_boolean(is_reg));
        json_object_set_new(o, "deregistered", json_boolean(is_dereg));
        json_t *any = get_bool(&b1[AV_ANY]);
        json_object_set_new(o, "isDstackApp", json_boolean(!json_is_null(any)));
        json_object_set_new(o, "allowAnyDevice", any);
        json_object_set_new(o, "requireTcbUpToDate", get_bool(&b1[AV_TCB]));
        dg_buf fl;
        dg_buf_init(&fl);
        int noup = req_bytes(&b1[AV_N + 1], &fl) && fl.len == 32 && fl.data[31] != 0;
        dg_buf_free(&fl);
        json_object_set_new(o, "upgradesDisabled", json_boolean(noup));
        get_slot_addr(&b1[AV_N], a20);
        json_object_set_new(o, "implementation",
                            memcmp(a20, ZERO32, 20) ? addr_json(a20) : json_null());
        json_object_set_new(o, "composeHashes", replay_take(ar, "compose-hash"));
        json_object_set_new(o, "devices", replay_take(ar, "device"));
        json_array_append_new(apps, o);
    }
    json_decref(reg);
    json_decref(dereg);
    json_object_set_new(out, "apps", apps);
    json_object_set_new(out, "history", json_incref(s->history));
done:
    dg_rpc_req_clear(q, n1);
    free(q);
    if (q2) {
        dg_rpc_req_clear(q2, n2);
        free(q2);
    }
    free(owners);
    free(oidx);
    free(distinct);
    return out;
}

static json_int_t ev_pos(const json_t *e) {
    return json_integer_value(json_object_get(e, "block")) * 1000000 +
           json_integer_value(json_object_get(e, "logIndex"));
}

static int ev_cmp(const void *a, const void *b) {
    json_int_t x = ev_pos(*(json_t *const *)a), y = ev_pos(*(json_t *const *)b);
    return (x > y) - (x < y);
}

/* The KMS's events and the apps' come from two eth_getLogs: merge them in
 * chain order (block, then log index). */
static void sort_history(json_t *h) {
    size_t n = json_array_size(h);
    json_t **v = n ? malloc(n * sizeof(json_t *)) : NULL;
    if (!v) return;
    for (size_t i = 0; i < n; i++)
        v[i] = json_incref(json_array_get(h, i));
    qsort(v, n, sizeof(json_t *), ev_cmp);
    json_array_clear(h);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(h, v[i]);
    free(v);
}

json_t *dg_gov_snapshot(dg_rpc *rpc, const uint8_t kms[20], dg_err *err) {
    snap s;
    memset(&s, 0, sizeof s);
    s.rpc = rpc;
    s.kms = kms;
    s.history = json_array();
    json_t *out = NULL;
    s.contracts = calloc(1, sizeof *s.contracts);
    if (!s.contracts || !dg_eth_block_number(rpc, &s.block, err)) goto done;
    snprintf(s.blk, sizeof s.blk, "0x%llx", (unsigned long long)s.block);
    memcpy(s.contracts[0].addr, kms, 20);
    s.ncontracts = 1;
    if (!read_logs(&s, (const uint8_t(*)[20])kms, 1, err)) goto done;
    /* the apps: every address the KMS ever registered or deregistered */
    json_t *lists[2] = {s.contracts[0].sets[dg_gov_policy_key_find_name("registered-app")],
                        s.contracts[0].sets[dg_gov_policy_key_find_name("deregistered-app")]};
    size_t cap = 1;
    for (int j = 0; j < 2; j++)
        cap += lists[j] ? json_object_size(lists[j]) : 0;
    replay *c = realloc(s.contracts, cap * sizeof *c);
    if (!c) {
        dg_err_set(err, DG_ERR_NOMEM, "out of memory");
        goto done;
    }
    s.contracts = c;
    for (int j = 0; j < 2; j++) {
        const char *str;
        json_t *e;
        if (!lists[j]) continue;
        json_object_foreach(lists[j], str, e) {
            dg_buf ab;
            dg_buf_init(&ab);
            if (dg_hex_decode_var(str, strlen(str), &ab, NULL) && ab.len == 20 &&
                !find_contract(&s, ab.data)) {
                memset(&s.contracts[s.ncontracts], 0, sizeof *c);
                memcpy(s.contracts[s.ncontracts++].addr, ab.data, 20);
            }
            dg_buf_free(&ab);
        }
    }
    size_t napps = s.ncontracts - 1;
    uint8_t(*addrs)[20] = napps ? calloc(napps, 20) : NULL;
    for (size_t i = 0; addrs && i < napps; i++)
        memcpy(addrs[i], s.contracts[1 + i].addr, 20);
    /* the KMS history came first; the apps' events are merged in chain order below */
    int ok = !napps || (addrs && read_logs(&s, (const uint8_t(*)[20])addrs, napps, err));
    free(addrs);
    if (!ok) goto done;
    sort_history(s.history);
    out = build(&s, err);
done:
    if (!s.contracts && err && !err->code) dg_err_set(err, DG_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < s.ncontracts; i++)
        replay_free(&s.contracts[i]);
    free(s.contracts);
    json_decref(s.history);
    return out;
}
