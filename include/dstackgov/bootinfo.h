/* bootinfo.h — the BootInfo a dstack KMS sends to its auth webhook.
 *
 * The KMS posts one JSON object per boot (reference/ethereum.md §3.2): hex
 * fields as lowercase digits without 0x, plus strings for the TCB status and
 * advisory ids, plus fields this daemon ignores (teeVariant, keyProviderInfo).
 * The parser here is strict and allocation-free for the common case:
 *
 *   - bytes32 fields (composeHash, deviceId, mrAggregated, mrSystem,
 *     osImageHash) must be exactly 64 hex digits, appId and instanceId exactly
 *     40, with an optional 0x/0X prefix, any case. A short value is rejected,
 *     never padded. Only instanceId, osImageHash and mrSystem may be empty
 *     ("" or absent for mrSystem), which reads as all zero bytes, exactly as
 *     the contracts see it.
 *   - tcbStatus at most 128 bytes, advisoryIds at most 128 strings of at most
 *     256 bytes each (sizes after JSON unescaping; strings must be UTF-8).
 *   - unknown fields are skipped (they must still be valid JSON); a known
 *     field given twice is an error.
 *
 * On failure the error message names the field and the problem, e.g.
 * "composeHash: expected 64 hex digits, got 62"; the daemon sends it back as
 * the deny reason.
 */
#ifndef DSTACKGOV_BOOTINFO_H
#define DSTACKGOV_BOOTINFO_H

#include <stddef.h>
#include <stdint.h>

#include "dstackgov/buf.h"
#include "dstackgov/err.h"

/* Which webhook a BootInfo came to: /bootAuth/app or /bootAuth/kms. */
typedef enum { DG_ROUTE_APP = 0, DG_ROUTE_KMS = 1 } dg_route;

/* Bounds of the answer to a BootInfo: the reason text and gatewayAppId. */
#define DG_REASON_MAX 512
#define DG_GATEWAY_MAX 1024

#define DG_BOOTINFO_TCB_MAX 128     /* bytes in tcbStatus */
#define DG_BOOTINFO_ADV_MAX 128     /* entries in advisoryIds */
#define DG_BOOTINFO_ADV_LEN_MAX 256 /* bytes per advisory id */
#define DG_BOOTINFO_BODY_MAX 65536  /* bytes in a request body */

/* A parsed, normalized BootInfo. Byte fields hold the decoded bytes (zero when
 * the request sent an empty value; see the has_* flags). */
typedef struct {
    uint8_t app_id[20];
    uint8_t compose_hash[32];
    uint8_t instance_id[20];
    uint8_t device_id[32];
    uint8_t mr_aggregated[32];
    uint8_t mr_system[32];
    uint8_t os_image_hash[32];
    int has_instance_id;                      /* 0 when the request sent "" */
    int has_mr_system;                        /* 0 when "" or absent */
    int has_os_image_hash;                    /* 0 when "" */
    char tcb_status[DG_BOOTINFO_TCB_MAX + 1]; /* NUL-terminated (may contain no NUL itself) */
    size_t tcb_len;
    size_t n_advisory;
    uint16_t adv_off[DG_BOOTINFO_ADV_MAX]; /* offset of entry i in adv.data */
    uint16_t
        adv_len[DG_BOOTINFO_ADV_MAX]; /* its length in bytes (entries are NUL-terminated too) */
    dg_buf adv;                       /* storage of the advisory ids (allocated only if any) */
} dg_bootinfo;

/* Initialise an empty BootInfo (no allocation). */
void dg_bootinfo_init(dg_bootinfo *bi);

/* Release the memory a parsed BootInfo holds and reset it. Safe on an
 * initialised or parsed value, and twice. */
void dg_bootinfo_free(dg_bootinfo *bi);

/* Parse a request body.
 *
 * Returns 1 on success, 0 on failure (err->code DG_ERR_INPUT, err->msg the
 * reason, naming the field). On failure *bi is left initialised and empty.
 * Args:    bi:   an initialised BootInfo (previous content is released).
 * In:      json: the body bytes (need not be NUL-terminated), len: its length
 *                (over DG_BOOTINFO_BODY_MAX is rejected).
 */
int dg_bootinfo_parse(dg_bootinfo *bi, const char *json, size_t len, dg_err *err);

/* Advisory id i (0 <= i < n_advisory), NUL-terminated; *len (may be NULL)
 * receives its length. */
const char *dg_bootinfo_advisory(const dg_bootinfo *bi, size_t i, size_t *len);

/* Append the canonical binary form of bi to out: every field in a fixed order
 * with explicit lengths, so two BootInfos have the same form iff the
 * contracts see the same input. Used as the decision-cache key.
 * Returns 1, or 0 on allocation failure. */
int dg_bootinfo_canonical(const dg_bootinfo *bi, dg_buf *out);

/* Append bi to out as a JSON object in the KMS's own shape (lowercase hex
 * without 0x, empty strings where the request was empty). Returns 1 or 0 on
 * allocation failure. */
int dg_bootinfo_to_json(const dg_bootinfo *bi, dg_buf *out);

/* Append s (n bytes) to out as a JSON string literal with quotes, escaping
 * what JSON requires. Returns 1 or 0 on allocation failure. */
int dg_json_put_string(dg_buf *out, const char *s, size_t n);

#endif
