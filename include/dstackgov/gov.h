/* gov.h — read a KMS's whole governance (Ethereum or NEAR), and explain a
 * boot decision.
 *
 * Three reads a tool (the CLI, `dstack-gov explore`, a KMS linking the
 * library) needs beyond single views:
 *   - dg_eth_call_batch: many eth_calls pinned to one block, in one JSON-RPC
 *     batch with eth_chainId (so the caller can check the chain it read);
 *   - dg_gov_check: "would this boot be allowed?" — the contract's own
 *     isAppAllowed / isKmsAllowed and, in the same batch, every input of that
 *     decision, turned into one line per rule in the contract's order. This is
 *     what `dstack-gov check` prints; the verdict is the contract's, the rules
 *     only explain it;
 *   - dg_gov_snapshot: the whole governance at one block as a JSON document:
 *     the KMS (owner recognised as an EOA, a Safe with its threshold or a
 *     timelock with its delay; implementation; whitelists), every app the KMS
 *     registered (owner, compose hashes, devices, flags), and the history of
 *     every PolicyChanged event. Mappings cannot be listed on chain, so the
 *     lists are replayed from the events (last event per value wins), exactly
 *     as `kms history` does; the scalar settings are read from the views.
 *
 * The NEAR halves (lib/near/gov.c) have the same shape: dg_gov_near_check
 * fills the same dg_gov_verdict (what `near check` prints) and
 * dg_gov_near_snapshot the same JSON document with "chain": "near", every
 * view pinned to one block hash.
 *
 * Reads use only the calls listed in include/dstackgov/eth.h, near.h and
 * contracts.h; nothing here signs or sends.
 */
#ifndef DSTACKGOV_GOV_H
#define DSTACKGOV_GOV_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "dstackgov/bootinfo.h"
#include "dstackgov/buf.h"
#include "dstackgov/err.h"
#include "dstackgov/rpc.h"

/* Run n eth_calls (to[i], data[i]) at block ("latest" when NULL; else a
 * "0x.." quantity) plus eth_chainId, in one JSON-RPC batch.
 * Returns 1 with results[i] (appended) and ok[i] (0 when call i reverted or
 * the target has no code) and *chain_id; 0 with err on a transport failure
 * or a missing chain id. */
int dg_eth_call_batch(dg_rpc *rpc, const uint8_t (*to)[20], const dg_buf *data, size_t n,
                      const char *block, dg_buf *results, int *ok, uint64_t *chain_id, dg_err *err);

/* One rule of a boot decision: ok 1 passed, 0 denies, -1 not evaluated. */
typedef struct {
    const char *name; /* "registered", "os-image", "app-contract", "tcb", "compose-hash",
                         "device", "mr-aggregated" */
    int ok;
    char detail[400];
} dg_gov_rule;

#define DG_GOV_RULES_MAX 8

typedef struct {
    int kms_answers; /* 0: the KMS address did not answer (no DstackKms there); nothing below */
    const char *kms_probe; /* the function that did not answer, for the message */
    int allowed;           /* the contract's answer */
    char reason[300];      /* the contract's reason ("" on allow) */
    char gateway_app_id[DG_GATEWAY_MAX];
    uint64_t block_number, chain_id; /* NEAR: block height; chain_id 0 */
    char block_hash[48];             /* NEAR: the block hash (base58) every view was asked at */
    dg_gov_rule rules[DG_GOV_RULES_MAX];
    size_t nrules;
} dg_gov_verdict;

/* Would bi boot through route at the latest block of rpc's chain?
 * Returns 1 with *v filled (check v->kms_answers first), or 0 with err
 * (transport, out of memory). */
int dg_gov_check(dg_rpc *rpc, const uint8_t kms[20], const dg_bootinfo *bi, dg_route route,
                 dg_gov_verdict *v, dg_err *err);

/* Append a rule (ok, name, printf-style detail) to v; ignored past
 * DG_GOV_RULES_MAX. For the chains' check code (lib/eth, lib/near). */
void dg_gov_rule_add(dg_gov_verdict *v, int ok, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The index of the first rule that denies, or -1. */
int dg_gov_first_failing(const dg_gov_verdict *v);

/* The whole governance of the KMS at kms, read at one block (the latest):
 * one eth_blockNumber, one eth_getLogs (PolicyChanged of every contract up to
 * that block) and two batches of eth_calls pinned to that block.
 * Returns a new JSON object (docs/explore.md, "JSON API", lists its keys),
 * or NULL with err. */
json_t *dg_gov_snapshot(dg_rpc *rpc, const uint8_t kms[20], dg_err *err);

/* NEAR: would bi boot through route on the KMS contract account kms, at
 * the latest final block? Every view is asked at that block's hash: the
 * gateway app id, then (app) is_app_registered, is_os_image_allowed and the
 * app contract `<hex app id>.<kms>`'s get_app_info, is_compose_hash_allowed,
 * is_device_allowed and is_app_allowed; (KMS) is_os_image_allowed,
 * is_kms_aggregated_mr_allowed, is_kms_device_allowed and is_kms_allowed.
 * Rules in the webhook's order (registration, OS image, then the app); a
 * registered app whose contract does not answer is the rule "app-contract".
 * Returns 1 with *v (kms_answers is 1; block_number is the height and
 * block_hash is set), or 0 with err (transport; a KMS view that fails, e.g.
 * DG_ERR_NO_CODE for an account without the contract). */
int dg_gov_near_check(dg_rpc *rpc, const char *kms, const dg_bootinfo *bi, dg_route route,
                      dg_gov_verdict *v, dg_err *err);

/* NEAR: the whole governance of the KMS contract kms at the latest final
 * block: the KMS's views (owner, gateway app id, OS images, aggregated MRs,
 * devices, compose hashes, MPC config), get_registered_apps page by page,
 * and each app contract's get_app_info, get_compose_hashes and get_devices,
 * all at one block hash. Returns a new JSON object with "chain": "near",
 * "block" (height), "blockHash", "kms", "apps" and an empty "history" with
 * "historyNote" (NEAR JSON-RPC cannot list past events); docs/explore.md
 * lists the keys. NULL with err. */
json_t *dg_gov_near_snapshot(dg_rpc *rpc, const char *kms, dg_err *err);

/* The account of the app contract for app_id under kms: `<40 hex>.<kms>`.
 * Returns 1, or 0 (DG_ERR_INPUT: the name would exceed 64 characters). */
int dg_near_app_account(const char *kms, const uint8_t app_id[20], char out[65], dg_err *err);

/* The keys of PolicyChanged(actor, keccak(key), value, enabled), which both
 * contracts emit on every change. is_set: a whitelist (value added/removed),
 * else a setting; is_addr: the value is a left-padded address. */
typedef struct {
    const char *key;
    int is_set;
    int is_addr;
} dg_gov_policy_key;
extern const dg_gov_policy_key dg_gov_policy_keys[];
extern const size_t dg_gov_npolicy_keys;
/* The index in dg_gov_policy_keys of the key whose keccak is topic / whose
 * name is name; -1 when none. */
int dg_gov_policy_key_find(const uint8_t topic[32]);
int dg_gov_policy_key_find_name(const char *name);
/* A PolicyChanged value as text: an EIP-55 address for address keys, else
 * "0x" + 64 hex (key -1: unknown key, hex). */
void dg_gov_policy_value(int key, const uint8_t v[32], char out[67]);

/* The latest block number (eth_blockNumber). Returns 1, or 0 with err. */
int dg_eth_block_number(dg_rpc *rpc, uint64_t *out, dg_err *err);

#endif
