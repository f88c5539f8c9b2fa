/* contracts.h — bindings for DstackKms and DstackApp: one function per call.
 *
 * Each binding APPENDS the ABI-encoded calldata (4-byte selector + arguments)
 * of one contract function to `out` and returns 1, or 0 with err (allocation,
 * or an argument the ABI cannot carry). Getters that take no argument share
 * dg_contract_encode_noarg() with the signature constants below. Return data
 * of views is decoded with the dg_contract_decode_* helpers. Nothing here does
 * I/O: send the calldata with eth.h (dg_eth_call for views, a signed
 * transaction for mutations), or batch many eth_calls yourself.
 *
 * Signatures follow reference/ethereum.md §1 (NEW interface) plus the
 * dstack-gov extensions of contracts/eth (deregisterApp, reinstateApp,
 * deregisteredApps, predictAppId, deployAndRegisterAppDeterministic, multicall).
 */
#ifndef DSTACKGOV_CONTRACTS_H
#define DSTACKGOV_CONTRACTS_H

#include <stddef.h>
#include <stdint.h>

#include "dstackgov/buf.h"
#include "dstackgov/err.h"

/* The AppBootInfo tuple (field order is normative, see ethereum.md §1.1). */
typedef struct {
    uint8_t app_id[20];
    uint8_t compose_hash[32];
    uint8_t instance_id[20];
    uint8_t device_id[32];
    uint8_t mr_aggregated[32];
    uint8_t mr_system[32];
    uint8_t os_image_hash[32];
    const char *tcb_status;          /* NUL-terminated, borrowed */
    const char *const *advisory_ids; /* borrowed */
    size_t n_advisory_ids;
} dg_app_boot_info;

/* DstackKms.KmsInfo. */
typedef struct {
    const uint8_t *k256_pubkey;
    size_t k256_pubkey_len;
    const uint8_t *ca_pubkey;
    size_t ca_pubkey_len;
    const uint8_t *quote;
    size_t quote_len;
    const uint8_t *eventlog;
    size_t eventlog_len;
} dg_kms_info;

/* Signatures of argument-less functions (for dg_contract_encode_noarg). */
#define DG_SIG_OWNER "owner()"
#define DG_SIG_PENDING_OWNER "pendingOwner()"
#define DG_SIG_ACCEPT_OWNERSHIP "acceptOwnership()"
#define DG_SIG_KMS_INFO "kmsInfo()"
#define DG_SIG_GATEWAY_APP_ID "gatewayAppId()"
#define DG_SIG_APP_IMPLEMENTATION "appImplementation()"
#define DG_SIG_APP_VERSION "version()"
#define DG_SIG_APP_ALLOW_ANY_DEVICE "allowAnyDevice()"
#define DG_SIG_APP_REQUIRE_TCB "requireTcbUpToDate()"
#define DG_SIG_APP_DISABLE_UPGRADES "disableUpgrades()"
#define DG_SIG_UPGRADE_INTERFACE_VERSION "UPGRADE_INTERFACE_VERSION()"

/* The ERC-1967 implementation slot (read with eth_getStorageAt). */
#define DG_ERC1967_IMPL_SLOT "0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc"

/* The generated id of a function, event or error of contract ("DstackKms",
 * "DstackApp") with canonical signature, from the tables built from the
 * compiled contracts (build/gen/dg_contracts_gen.c): 8 lowercase hex digits
 * for a function or error, 64 for an event, no 0x.
 * Returns the id (static storage), or NULL when the contract has no such item. */
const char *dg_contract_id(const char *contract, const char *signature);

/* Append the 4-byte selector of an argument-less function. */
int dg_contract_encode_noarg(dg_buf *out, const char *signature, dg_err *err);

/* ---- DstackKms: initialisation and info */
int dg_kms_initialize(dg_buf *out, const uint8_t owner[20], const uint8_t app_impl[20],
                      dg_err *err);
int dg_kms_set_kms_info(dg_buf *out, const dg_kms_info *info, dg_err *err);
int dg_kms_set_kms_quote(dg_buf *out, const uint8_t *quote, size_t len, dg_err *err);
int dg_kms_set_kms_eventlog(dg_buf *out, const uint8_t *eventlog, size_t len, dg_err *err);
int dg_kms_set_gateway_app_id(dg_buf *out, const char *gateway_app_id, dg_err *err);
int dg_kms_set_app_implementation(dg_buf *out, const uint8_t impl[20], dg_err *err);
/* ---- DstackKms: whitelists (bytes32 argument) */
int dg_kms_add_aggregated_mr(dg_buf *out, const uint8_t mr[32], dg_err *err);
int dg_kms_remove_aggregated_mr(dg_buf *out, const uint8_t mr[32], dg_err *err);
int dg_kms_add_device(dg_buf *out, const uint8_t device[32], dg_err *err);
int dg_kms_remove_device(dg_buf *out, const uint8_t device[32], dg_err *err);
int dg_kms_add_os_image(dg_buf *out, const uint8_t hash[32], dg_err *err);
int dg_kms_remove_os_image(dg_buf *out, const uint8_t hash[32], dg_err *err);
/* ---- DstackKms: apps */
int dg_kms_register_app(dg_buf *out, const uint8_t app[20], dg_err *err);
int dg_kms_deregister_app(dg_buf *out, const uint8_t app[20], dg_err *err);
int dg_kms_reinstate_app(dg_buf *out, const uint8_t app[20], dg_err *err);
/* deployAndRegisterApp(address,bool,bool,bool,bytes32,bytes32) (6-arg, NEW). */
int dg_kms_deploy_and_register_app(dg_buf *out, const uint8_t owner[20], int disable_upgrades,
                                   int require_tcb_up_to_date, int allow_any_device,
                                   const uint8_t device[32], const uint8_t compose_hash[32],
                                   dg_err *err);
/* deployAndRegisterApp(address,bool,bool,bytes32,bytes32) (legacy 5-arg). */
int dg_kms_deploy_and_register_app_legacy(dg_buf *out, const uint8_t owner[20],
                                          int disable_upgrades, int allow_any_device,
                                          const uint8_t device[32], const uint8_t compose_hash[32],
                                          dg_err *err);
/* deployAndRegisterAppDeterministic(bytes32 salt, ...6 args) (extension, CREATE2). */
int dg_kms_deploy_and_register_app_deterministic(dg_buf *out, const uint8_t salt[32],
                                                 const uint8_t owner[20], int disable_upgrades,
                                                 int require_tcb_up_to_date, int allow_any_device,
                                                 const uint8_t device[32],
                                                 const uint8_t compose_hash[32], dg_err *err);
/* ---- DstackKms: views */
int dg_kms_registered_apps(dg_buf *out, const uint8_t app[20], dg_err *err);
int dg_kms_deregistered_apps(dg_buf *out, const uint8_t app[20], dg_err *err);
int dg_kms_allowed_os_images(dg_buf *out, const uint8_t hash[32], dg_err *err);
int dg_kms_allowed_aggregated_mrs(dg_buf *out, const uint8_t mr[32], dg_err *err);
int dg_kms_allowed_device_ids(dg_buf *out, const uint8_t device[32], dg_err *err);
int dg_kms_predict_app_id(dg_buf *out, const uint8_t deployer[20], const uint8_t salt[32],
                          dg_err *err);
int dg_kms_is_app_allowed(dg_buf *out, const dg_app_boot_info *bi, dg_err *err);
/* multicall(bytes[]) on the KMS: several owner calls in one transaction. */
int dg_kms_multicall(dg_buf *out, const dg_buf *calls, size_t ncalls, dg_err *err);
int dg_kms_is_kms_allowed(dg_buf *out, const dg_app_boot_info *bi, dg_err *err);

/* ---- DstackApp (its proxy address is the app id) */
int dg_app_initialize(dg_buf *out, const uint8_t owner[20], int disable_upgrades,
                      int require_tcb_up_to_date, int allow_any_device, const uint8_t device[32],
                      const uint8_t compose_hash[32], dg_err *err);
int dg_app_add_compose_hash(dg_buf *out, const uint8_t hash[32], dg_err *err);
int dg_app_remove_compose_hash(dg_buf *out, const uint8_t hash[32], dg_err *err);
int dg_app_add_device(dg_buf *out, const uint8_t device[32], dg_err *err);
int dg_app_remove_device(dg_buf *out, const uint8_t device[32], dg_err *err);
int dg_app_set_allow_any_device(dg_buf *out, int allow, dg_err *err);
int dg_app_set_require_tcb_up_to_date(dg_buf *out, int require, dg_err *err);
int dg_app_allowed_compose_hashes(dg_buf *out, const uint8_t hash[32], dg_err *err);
int dg_app_allowed_device_ids(dg_buf *out, const uint8_t device[32], dg_err *err);
int dg_app_is_app_allowed(dg_buf *out, const dg_app_boot_info *bi, dg_err *err);
/* multicall(bytes[]): run several of this contract's calls in one transaction. */
int dg_app_multicall(dg_buf *out, const dg_buf *calls, size_t ncalls, dg_err *err);

/* ---- shared by both (OpenZeppelin) */
int dg_contract_transfer_ownership(dg_buf *out, const uint8_t new_owner[20], dg_err *err);
int dg_contract_upgrade_to_and_call(dg_buf *out, const uint8_t impl[20], const uint8_t *data,
                                    size_t len, dg_err *err);
int dg_contract_supports_interface(dg_buf *out, const uint8_t id[4], dg_err *err);

/* ---- decoding return data (strict: exact ABI, canonical bool/address) */
int dg_contract_decode_bool(const uint8_t *ret, size_t len, int *out, dg_err *err);
int dg_contract_decode_address(const uint8_t *ret, size_t len, uint8_t out[20], dg_err *err);
int dg_contract_decode_uint64(const uint8_t *ret, size_t len, uint64_t *out, dg_err *err);
/* A single `string` return; *out is malloc'd (NUL-terminated), caller frees. */
int dg_contract_decode_string(const uint8_t *ret, size_t len, char **out, dg_err *err);
/* (bool isAllowed, string reason) of isAppAllowed/isKmsAllowed; reason is
 * truncated to reason_cap-1 bytes. */
int dg_contract_decode_allowed(const uint8_t *ret, size_t len, int *allowed, char *reason,
                               size_t reason_cap, dg_err *err);
/* kmsInfo() -> (bytes,bytes,bytes,bytes): each field APPENDED to its buffer (any may be NULL). */
int dg_contract_decode_kms_info(const uint8_t *ret, size_t len, dg_buf *k256, dg_buf *ca,
                                dg_buf *quote, dg_buf *eventlog, dg_err *err);

#endif
