/* contracts.c — DstackKms / DstackApp calldata encoders and return decoders.
 *
 * Every binding is a one-liner over a few shapes (bytes32 argument, address
 * argument, bool argument, ...): the signature string is the whole contract,
 * and dg_abi_encode_call checks the values against it. Keeping the signatures
 * as literal text makes them greppable against reference/ethereum.md.
 */
#include "dstackgov/contracts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dg_contracts_gen.h"
#include "dstackgov/abi.h"

static const char T_BOOTINFO[] =
    "(address,bytes32,address,bytes32,bytes32,bytes32,bytes32,string,string[])";

const char *dg_contract_id(const char *contract, const char *signature) {
    for (size_t i = 0; i < dg_gen_abi_count; i++)
        if (strcmp(dg_gen_abi[i].contract, contract) == 0 &&
            strcmp(dg_gen_abi[i].signature, signature) == 0)
            return dg_gen_abi[i].id;
    return NULL;
}

static int call1(dg_buf *out, const char *sig, dg_abi_value *args, dg_err *err) {
    int ok = dg_abi_encode_call(out, sig, args, err);
    dg_abi_value_free(args);
    return ok;
}

int dg_contract_encode_noarg(dg_buf *out, const char *signature, dg_err *err) {
    dg_abi_value a;
    memset(&a, 0, sizeof a);
    if (!dg_abi_tuple(&a, 0)) return dg_err_set(err, DG_ERR_NOMEM, "out of memory");
    return call1(out, signature, &a, err);
}

static int enc_b32(dg_buf *out, const char *sig, const uint8_t v[32], dg_err *err) {
    dg_abi_value a;
    memset(&a, 0, sizeof a);
    if (!dg_abi_tuple(&a, 1)) return dg_err_set(err, DG_ERR_NOMEM, "out of memory");
    dg_abi_bytes32(&a.items[0], v);
    return call1(out, sig, &a, err);
}

static int enc_addr(dg_buf *out, const char *sig, const uint8_t v[20], dg_err *err) {
    dg_abi_value a;
    memset(&a, 0, sizeof a);
    if (!dg_abi_tuple(&a, 1)) return dg_err_set(err, DG_ERR_NOMEM, "out of memory");
    dg_abi_address(&a.items[0], v);
    return call1(out, sig, &a, err);
}

static int enc_bool(dg_buf *out, const char *sig, int v, dg_err *err) {
    dg_abi_value a;
    memset(&a, 0, sizeof a);
    if (!dg_abi_tuple(&a, 1)) return dg_err_set(err, DG_ERR_NOMEM, "out of memory");
    dg_abi_bool(&a.items[0], v);
    return call1(out, sig, &a, err);
}

static int enc_bytes(dg_buf *out, const char *sig, const uint8_t *p, size_t n, dg_err *err) {
    dg_abi_value a;
    memset(&a, 0, sizeof a);
    if (!dg_abi_tuple(&a, 1) || !dg_abi_bytes(&a.items[0], p, n)) {
        dg_abi_value_free(&a);
        return dg_err_set(err, DG_ERR_NOMEM, "out of memory");
    }
    return call1(out, sig, &a, err);
}

#define B32(fn, sig)                                                                               \
    int fn(dg_buf *out, const uint8_t v[32], dg_err *err) {                                        \
        return enc_b32(out, sig, v, err);                                                          \
    }
#define ADDR(fn, sig)                                                                              \
    int fn(dg_buf *out, const uint8_t v[20], dg_err *err) {                                        \
        return enc_addr(out, sig, v, err);                                                         \
    }
#define BOOL(fn, sig)                                                                              \
    int fn(dg_buf *out, int v, dg_err *err) {                                                      \
        return enc_bool(out, sig, v, err);                                                         \
    }

B32(dg_kms_add_aggregated_mr, "addKmsAggregatedMr(bytes32)")
B32(dg_kms_remove_aggregated_mr, "removeKmsAggregatedMr(bytes32)")
B32(dg_kms_add_device, "addKmsDevice(bytes32)")
B32(dg_kms_remove_device, "removeKmsDevice(bytes32)")
B32(dg_kms_add_os_image, "addOsImageHash(bytes32)")
B32(dg_kms_remove_os_image, "removeOsImageHash(bytes32)")
B32(dg_kms_allowed_os_images, "allowedOsImages(bytes32)")
B32(dg_kms_allowed_aggregated_mrs, "kmsAllowedAggregatedMrs(bytes32)")
B32(dg_kms_allowed_device_ids, "kmsAllowedDeviceIds(bytes32)")
B32(dg_app_add_compose_hash, "addComposeHash(bytes32)")
B32(dg_app_remove_compose_hash, "removeComposeHash(bytes32)")
B32(dg_app_add_device, "addDevice(bytes32)")
B32(dg_app_remove_device, "removeDevice(bytes32)")
B32(dg_app_allowed_compose_hashes, "allowedComposeHashes(bytes32)")
B32(dg_app_allowed_device_ids, "allowedDeviceIds(bytes32)")
ADDR(dg_kms_set_app_implementation, "setAppImplementation(address)")
ADDR(dg_kms_register_app, "registerApp(address)")
ADDR(dg_kms_deregister_app, "deregisterApp(address)")
ADDR(dg_kms_reinstate_app, "reinstateApp(address)")
ADDR(dg_kms_registered_apps, "registeredApps(address)")
ADDR(dg_kms_deregistered_apps, "deregisteredApps(address)")
ADDR(dg_contract_transfer_ownership, "transferOwnership(address)")
BOOL(dg_app_set_allow_any_device, "setAllowAnyDevice(bool)")
BOOL(dg_app_set_require_tcb_up_to_date, "setRequireTcbUpToDate(bool)")

int dg_kms_set_kms_quote(dg_buf *out, const uint8_t *quote, size_t len, dg_err *err) {
    return enc_bytes(out, "setKmsQuote(bytes)", quote, len, err);
}

int dg_kms_set_kms_eventlog(dg_buf *out, const uint8_t *eventlog, size_t len, dg_err *err) {
    return enc_bytes(out, "setKmsEventlog(bytes)", eventlog, len, err);
}

int dg_kms_initialize(dg_buf *out, const uint8_t owner[20], const uint8_t app_impl[20],
                      dg_err *err) {
    dg_abi_value a;
    memset(&a, 0, sizeof a);
    if (!dg_abi_tuple(&a, 2)) return dg_err_set(err, DG_ERR_NOMEM, "out of memory");
    dg_abi_address(&a.items[0], owner);
    dg_abi_address(&a.items[1], app_impl);
    return call1(out, "initialize(address,address)", &a, err);
}

int dg_kms_set_kms_info(dg_buf *out, const dg_kms_info *info, dg_err *err) {
    dg_abi_value a;
    memset(&a, 0, sizeof a);
    int ok = dg_abi_tuple(&a, 1) && dg_abi_tuple(&a.items[0], 4) &&
             dg_abi_bytes(&a.items[0].items[0], info->k256_pubkey, info->k256_pubkey_len) &&
             dg_abi_bytes(&a.items[0].items[1], info->ca_pubkey, info->ca_pubkey_len) &&
             dg_abi_bytes(&a.items[0].items[2], info->quote, info->quote_len) &&
             dg_abi_bytes(&a.items[0].items[3], info->eventlog, info->eventlog_len);
    if (!ok) {
        dg_abi_value_free(&a);
        return dg_err_set(err, DG_ERR_NOMEM, "out of memory");
    }
    return call1(out, "setKmsInfo((bytes,bytes,bytes,bytes))", &a, err);
}

int dg_kms_set_gateway_app_id(dg_buf *out, const char *gateway_app_id, dg_err *err) {
    dg_abi_value a;
    memset(&a, 0, sizeof a);
    if (!dg_abi_tuple(&a, 1) || !dg_abi_string(&a.items[0], gateway_app_id)) {
        dg_abi_value_free(&a);
        return dg_err_set(err, DG_ERR_NOMEM, "out of memory");
    }
    return call1(out, "setGatewayAppId(string)", &a, err);
}

/* The six initializer/factory arguments, written from item `at` on. */
static void put_app_args(dg_abi_value *items, const uint8_t owner[20], int disable_upgrades,
                         int require_tcb, int allow_any, const uint8_t device[32],
                         const uint8_t hash[32]) {
    dg_abi_address(&items[0], owner);
    dg_abi_bool(&items[1], disable_upgrades);
    dg_abi_bool(&items[2], require_tcb);
    dg_abi_bool(&items[3], allow_any);
    dg_abi_bytes32(&items[4], device);
    dg_abi_bytes32(&items[5], hash);
}

int dg_kms_deploy_and_register_app(dg_buf *out, const uint8_t owner[20], int disable_upgrades,
                                   int require_tcb_up_to_date, int allow_any_device,
                                   const uint8_t device[32], const uint8_t compose_hash[32],
                                   dg_err *err) {
    dg_abi_value a;
    memset(&a, 0, sizeof a);
    if (!dg_abi_tuple(&a, 6)) return dg_err_set(err, DG_ERR_NOMEM, "out of memory");
    put_app_args(a.items, owner, disable_upgrades, require_tcb_up_to_date, allow_any_device, device,
                 compose_hash);
    return call1(out, "deployAndRegisterApp(address,bool,bool,bool,bytes32,bytes32)", &a, err);
}

int dg_kms_deploy_and_register_app_legacy(dg_buf *out, const uint8_t owner[20],
                                          int disable_upgrades, int allow_any_device,
                                          const uint8_t device[32], const uint8_t compose_hash[32],
                                          dg_err *err) {
    dg_abi_value a;
    memset(&a, 0, sizeof a);
    if (!dg_abi_tuple(&a, 5)) return dg_err_set(err, DG_ERR_NOMEM, "out of memory");
    dg_abi_address(&a.items[0], owner);
    dg_abi_bool(&a.items[1], disable_upgrades);
    dg_abi_bool(&a.items[2], allow_any_device);
    dg_abi_bytes32(&a.items[3], device);
    dg_abi_bytes32(&a.items[4], compose_hash);
    return call1(out, "deployAndRegisterApp(address,bool,bool,bytes32,bytes32)", &a, err);
}

int dg_kms_deploy_and_register_app_deterministic(dg_buf *out, const uint8_t salt[32],
                                                 const uint8_t owner[20], int disable_upgrades,
                                                 int require_tcb_up_to_date, int allow_any_device,
                                                 const uint8_t device[32],
                                                 const uint8_t compose_hash[32], dg_err *err) {
    dg_abi_value a;
    memset(&a, 0, sizeof a);
    if (!dg_abi_tuple(&a, 7)) return dg_err_set(err, DG_ERR_NOMEM, "out of memory");
    dg_abi_bytes32(&a.items[0], salt);
    put_app_args(a.items + 1, owner, disable_upgrades, require_tcb_up_to_date, allow_any_device,
                 device, compose_hash);
    return call1(
        out, "deployAndRegisterAppDeterministic(bytes32,address,bool,bool,bool,bytes32,bytes32)",
        &a, err);
}

int dg_app_initialize(dg_buf *out, const uint8_t owner[20], int disable_upgrades,
                      int require_tcb_up_to_date, int allow_any_device, const uint8_t device[32],
                      const uint8_t compose_hash[32], dg_err *err) {
    dg_abi_value a;
    memset(&a, 0, sizeof a);
    if (!dg_abi_tuple(&a, 6)) return dg_err_set(err, DG_ERR_NOMEM, "out of memory");
    put_app_args(a.items, owner, disable_upgrades, require_tcb_up_to_date, allow_any_device, device,
                 compose_hash);
    return call1(out, "initialize(address,bool,bool,bool,bytes32,bytes32)", &a, err);
}

int dg_kms_predict_app_id(dg_buf *out, const uint8_t deployer[20], const uint8_t salt[32],
                          dg_err *err) {
    dg_abi_value a;
    memset(&a, 0, sizeof a);
    if (!dg_abi_tuple(&a, 2)) return dg_err_set(err, DG_ERR_NOMEM, "out of memory");
    dg_abi_address(&a.items[0], deployer);
    dg_abi_bytes32(&a.items[1], salt);
    return call1(out, "predictAppId(address,bytes32)", &a, err);
}

static int enc_bootinfo(dg_buf *out, const char *name, const dg_app_boot_info *bi, dg_err *err) {
    char sig[160];
    dg_abi_value a;
    memset(&a, 0, sizeof a);
    snprintf(sig, sizeof sig, "%s(%s)", name, T_BOOTINFO);
    int ok = dg_abi_tuple(&a, 1) && dg_abi_tuple(&a.items[0], 9);
    if (ok) {
        dg_abi_value *t = a.items[0].items;
        dg_abi_address(&t[0], bi->app_id);
        dg_abi_bytes32(&t[1], bi->compose_hash);
        dg_abi_address(&t[2], bi->instance_id);
        dg_abi_bytes32(&t[3], bi->device_id);
        dg_abi_bytes32(&t[4], bi->mr_aggregated);
        dg_abi_bytes32(&t[5], bi->mr_system);
        dg_abi_bytes32(&t[6], bi->os_image_hash);
        ok = dg_abi_string(&t[7], bi->tcb_status ? bi->tcb_status : "") &&
             dg_abi_array(&t[8], bi->n_advisory_ids);
        for (size_t i = 0; ok && i < bi->n_advisory_ids; i++)
            ok = dg_abi_string(&t[8].items[i], bi->advisory_ids[i]);
    }
    if (!ok) {
        dg_abi_value_free(&a);
        return dg_err_set(err, DG_ERR_NOMEM, "out of memory");
    }
    return call1(out, sig, &a, err);
}

int dg_kms_is_app_allowed(dg_buf *out, const dg_app_boot_info *bi, dg_err *err) {
    return enc_bootinfo(out, "isAppAllowed", bi, err);
}

int dg_kms_is_kms_allowed(dg_buf *out, const dg_app_boot_info *bi, dg_err *err) {
    return enc_bootinfo(out, "isKmsAllowed", bi, err);
}

int dg_app_is_app_allowed(dg_buf *out, const dg_app_boot_info *bi, dg_err *err) {
    return enc_bootinfo(out, "isAppAllowed", bi, err);
}

int dg_app_multicall(dg_buf *out, const dg_buf *calls, size_t ncalls, dg_err *err) {
    dg_abi_value a;
    memset(&a, 0, sizeof a);
    int ok = dg_abi_tuple(&a, 1) && dg_abi_array(&a.items[0], ncalls);
    for (size_t i = 0; ok && i < ncalls; i++)
        ok = dg_abi_bytes(&a.items[0].items[i], calls[i].data, calls[i].len);
    if (!ok) {
        dg_abi_value_free(&a);
        return dg_err_set(err, DG_ERR_NOMEM, "out of memory");
    }
    return call1(out, "multicall(bytes[])", &a, err);
}

int dg_kms_multicall(dg_buf *out, const dg_buf *calls, size_t ncalls, dg_err *err) {
    return dg_app_multicall(out, calls, ncalls, err); /* same OpenZeppelin Multicall */
}

int dg_contract_upgrade_to_and_call(dg_buf *out, const uint8_t impl[20], const uint8_t *data,
                                    size_t len, dg_err *err) {
    dg_abi_value a;
    memset(&a, 0, sizeof a);
    if (!dg_abi_tuple(&a, 2) || !dg_abi_bytes(&a.items[1], data, len)) {
        dg_abi_value_free(&a);
        return dg_err_set(err, DG_ERR_NOMEM, "out of memory");
    }
    dg_abi_address(&a.items[0], impl);
    return call1(out, "upgradeToAndCall(address,bytes)", &a, err);
}

int dg_contract_supports_interface(dg_buf *out, const uint8_t id[4], dg_err *err) {
    dg_abi_value a;
    memset(&a, 0, sizeof a);
    if (!dg_abi_tuple(&a, 1) || !dg_abi_fixed_bytes(&a.items[0], id, 4)) {
        dg_abi_value_free(&a);
        return dg_err_set(err, DG_ERR_NOMEM, "out of memory");
    }
    return call1(out, "supportsInterface(bytes4)", &a, err);
}

/* ------------------------------------------------------------------ decoding */

int dg_contract_decode_bool(const uint8_t *ret, size_t len, int *out, dg_err *err) {
    dg_abi_value v;
    memset(&v, 0, sizeof v);
    if (!dg_abi_decode("(bool)", ret, len, &v, err)) return 0;
    *out = v.items[0].word[31] != 0;
    dg_abi_value_free(&v);
    return 1;
}

int dg_contract_decode_address(const uint8_t *ret, size_t len, uint8_t out[20], dg_err *err) {
    dg_abi_value v;
    memset(&v, 0, sizeof v);
    if (!dg_abi_decode("(address)", ret, len, &v, err)) return 0;
    memcpy(out, dg_abi_as_address(&v.items[0]), 20);
    dg_abi_value_free(&v);
    return 1;
}

int dg_contract_decode_uint64(const uint8_t *ret, size_t len, uint64_t *out, dg_err *err) {
    dg_abi_value v;
    memset(&v, 0, sizeof v);
    if (!dg_abi_decode("(uint256)", ret, len, &v, err)) return 0;
    int ok = dg_abi_as_u64(&v.items[0], out);
    dg_abi_value_free(&v);
    if (!ok) return dg_err_set(err, DG_ERR_RPC_RESPONSE, "returned number does not fit 64 bits");
    return 1;
}

int dg_contract_decode_string(const uint8_t *ret, size_t len, char **out, dg_err *err) {
    dg_abi_value v;
    memset(&v, 0, sizeof v);
    if (!dg_abi_decode("(string)", ret, len, &v, err)) return 0;
    char *s = malloc(v.items[0].len + 1);
    if (!s) {
        dg_abi_value_free(&v);
        return dg_err_set(err, DG_ERR_NOMEM, "out of memory");
    }
    if (v.items[0].len) memcpy(s, v.items[0].data, v.items[0].len);
    s[v.items[0].len] = '\0';
    dg_abi_value_free(&v);
    *out = s;
    return 1;
}

int dg_contract_decode_allowed(const uint8_t *ret, size_t len, int *allowed, char *reason,
                               size_t reason_cap, dg_err *err) {
    dg_abi_value v;
    memset(&v, 0, sizeof v);
    if (!dg_abi_decode("(bool,string)", ret, len, &v, err)) return 0;
    *allowed = v.items[0].word[31] != 0;
    if (reason_cap) {
        size_t n = v.items[1].len < reason_cap - 1 ? v.items[1].len : reason_cap - 1;
        if (n) memcpy(reason, v.items[1].data, n);
        reason[n] = '\0';
    }
    dg_abi_value_free(&v);
    return 1;
}

int dg_contract_decode_kms_info(const uint8_t *ret, size_t len, dg_buf *k256, dg_buf *ca,
                                dg_buf *quote, dg_buf *eventlog, dg_err *err) {
    dg_abi_value v;
    memset(&v, 0, sizeof v);
    if (!dg_abi_decode("(bytes,bytes,bytes,bytes)", ret, len, &v, err)) return 0;
    dg_buf *outs[4] = {k256, ca, quote, eventlog};
    int ok = 1;
    for (int i = 0; i < 4; i++)
        if (outs[i] && !dg_buf_append(outs[i], v.items[i].data, v.items[i].len)) ok = 0;
    dg_abi_value_free(&v);
    if (!ok) return dg_err_set(err, DG_ERR_NOMEM, "out of memory");
    return 1;
}
