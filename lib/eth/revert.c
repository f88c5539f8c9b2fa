/* revert.c — revert data to one human sentence (see include/dstackgov/revert.h).
 *
 * The one idea: a revert is identified by its 4-byte selector, so the known
 * errors are a table of signatures with a sentence template; the selector of
 * each is computed from its signature (never typed by hand, and only once
 * per process) and its arguments are decoded with the strict ABI decoder.
 */
#include "dstackgov/revert.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "dstackgov/abi.h"
#include "dstackgov/hex.h"
#include "dstackgov/utf8.h"

/* How to show the single argument of a custom error. */
enum arg_kind { ARG_NONE, ARG_ADDRESS, ARG_BYTES32 };

static const struct {
    const char *signature;
    const char *sentence; /* printf format; %s is the argument, if any */
    enum arg_kind arg;
    dg_err_code klass;
} k_errors[] = {
    {"OwnableUnauthorizedAccount(address)", "%s is not the owner", ARG_ADDRESS, DG_ERR_NOT_OWNER},
    {"OwnableInvalidOwner(address)",
     "%s cannot be the owner (OwnableInvalidOwner: the zero address is not a valid owner)",
     ARG_ADDRESS, DG_ERR_REVERT},
    {"InvalidInitialization()", "the contract is already initialized (InvalidInitialization)",
     ARG_NONE, DG_ERR_REVERT},
    {"NotInitializing()",
     "this function may only be called while the contract is being initialized (NotInitializing)",
     ARG_NONE, DG_ERR_REVERT},
    {"UUPSUnauthorizedCallContext()",
     "upgrades must be called through the proxy, not on the implementation "
     "(UUPSUnauthorizedCallContext)",
     ARG_NONE, DG_ERR_REVERT},
    {"UUPSUnsupportedProxiableUUID(bytes32)",
     "the new implementation is not UUPS-compatible: its proxiableUUID is %s, not the "
     "ERC-1967 implementation slot (UUPSUnsupportedProxiableUUID)",
     ARG_BYTES32, DG_ERR_REVERT},
    {"ERC1967InvalidImplementation(address)",
     "%s is not a valid implementation: it has no contract code (ERC1967InvalidImplementation)",
     ARG_ADDRESS, DG_ERR_REVERT},
    {"ERC1967NonPayable()", "ether was sent to a call that does not accept it (ERC1967NonPayable)",
     ARG_NONE, DG_ERR_REVERT},
    {"FailedCall()", "a call made by the contract failed without a reason (FailedCall)", ARG_NONE,
     DG_ERR_REVERT},
    {"FailedDeployment()", "deploying a contract failed (FailedDeployment)", ARG_NONE,
     DG_ERR_REVERT},
    {"AddressEmptyCode(address)", "%s has no contract code (AddressEmptyCode)", ARG_ADDRESS,
     DG_ERR_REVERT},
    /* OpenZeppelin TimelockController and AccessControl (a KMS owned by a timelock) */
    {"TimelockUnexpectedOperationState(bytes32,bytes32)",
     "timelock operation %s is not in the state this needs: already scheduled, not ready yet, "
     "or already done (TimelockUnexpectedOperationState)",
     ARG_BYTES32, DG_ERR_REVERT},
    {"TimelockInsufficientDelay(uint256,uint256)",
     "the delay is below the timelock's minimum (TimelockInsufficientDelay)", ARG_NONE,
     DG_ERR_REVERT},
    {"TimelockUnexecutedPredecessor(bytes32)",
     "the operation's predecessor %s has not run yet (TimelockUnexecutedPredecessor)", ARG_BYTES32,
     DG_ERR_REVERT},
    {"TimelockUnauthorizedCaller(address)",
     "%s may not call this timelock function directly (TimelockUnauthorizedCaller)", ARG_ADDRESS,
     DG_ERR_NOT_OWNER},
    {"AccessControlUnauthorizedAccount(address,bytes32)",
     "%s lacks the timelock role this needs (proposer, executor or canceller: "
     "AccessControlUnauthorizedAccount)",
     ARG_ADDRESS, DG_ERR_NOT_OWNER},
};

static const struct {
    uint64_t code;
    const char *reason;
} k_panics[] = {
    {0x00, "generic compiler panic"},
    {0x01, "assertion failed"},
    {0x11, "arithmetic overflow"},
    {0x12, "division or modulo by zero"},
    {0x21, "invalid enum value"},
    {0x22, "corrupt storage byte array"},
    {0x31, "pop on an empty array"},
    {0x32, "array index out of bounds"},
    {0x41, "out of memory (too much memory allocated)"},
    {0x51, "call to an uninitialized internal function"},
};

#define N_ERRORS (sizeof k_errors / sizeof k_errors[0])

/* Selectors of Error(string), Panic(uint256) and k_errors[], in that order;
 * an entry whose signature does not parse (none does) stays unusable. */
static uint8_t k_sel[2 + N_ERRORS][4];
static int k_sel_ok[2 + N_ERRORS];
static pthread_once_t k_sel_once = PTHREAD_ONCE_INIT;

static void compute_selectors(void) {
    k_sel_ok[0] = dg_abi_selector("Error(string)", k_sel[0]);
    k_sel_ok[1] = dg_abi_selector("Panic(uint256)", k_sel[1]);
    for (size_t i = 0; i < N_ERRORS; i++)
        k_sel_ok[2 + i] = dg_abi_selector(k_errors[i].signature, k_sel[2 + i]);
}

static int selector_is(size_t k, const uint8_t *data) {
    return k_sel_ok[k] && memcmp(k_sel[k], data, 4) == 0;
}

const char *dg_revert_panic_reason(uint64_t code) {
    for (size_t i = 0; i < sizeof k_panics / sizeof k_panics[0]; i++)
        if (k_panics[i].code == code) return k_panics[i].reason;
    return NULL;
}

static int set_klass(dg_err_code *klass, dg_err_code k) {
    if (klass) *klass = k;
    return 1;
}

int dg_revert_decode(const uint8_t *data, size_t len, char *out, size_t outlen,
                     dg_err_code *klass) {
    dg_abi_value v;
    set_klass(klass, DG_ERR_REVERT);
    if (!out || outlen == 0) return 0;
    out[0] = 0;
    if (len == 0) {
        snprintf(out, outlen, "reverted without a reason");
        return 1;
    }
    if (len < 4) {
        snprintf(out, outlen, "malformed revert data (%zu bytes, less than a selector)", len);
        return 0;
    }
    pthread_once(&k_sel_once, compute_selectors);
    if (selector_is(0, data)) {
        if (!dg_abi_decode("(string)", data + 4, len - 4, &v, NULL)) {
            snprintf(out, outlen, "malformed Error(string) revert data");
            return 0;
        }
        if (v.items[0].len == 0)
            snprintf(out, outlen, "reverted with an empty reason");
        else
            dg_utf8_clean(out, outlen, (const char *)v.items[0].data, v.items[0].len);
        dg_abi_value_free(&v);
        return 1;
    }
    if (selector_is(1, data)) {
        uint64_t code;
        if (!dg_abi_decode("(uint256)", data + 4, len - 4, &v, NULL)) {
            snprintf(out, outlen, "malformed Panic(uint256) revert data");
            return 0;
        }
        char hx[DG_U256_HEX_LEN];
        int small = dg_abi_as_u64(&v.items[0], &code);
        dg_u256_to_hex(dg_abi_as_u256(&v.items[0]), hx);
        dg_abi_value_free(&v);
        const char *why = small ? dg_revert_panic_reason(code) : NULL;
        if (!why) {
            snprintf(out, outlen, "panic %s (unknown panic code)", hx);
            return 0;
        }
        snprintf(out, outlen, "panic 0x%02llx (%s)", (unsigned long long)code, why);
        return 1;
    }
    for (size_t i = 0; i < N_ERRORS; i++) {
        if (!selector_is(2 + i, data)) continue;
        /* every argument is decoded (strictly); the sentence shows the first */
        const char *types = strchr(k_errors[i].signature, '(');
        char arg[67] = "";
        if (!dg_abi_decode(types, data + 4, len - 4, &v, NULL)) {
            const char *name = k_errors[i].signature;
            snprintf(out, outlen, "malformed %s revert data", name);
            return 0;
        }
        if (k_errors[i].arg == ARG_ADDRESS)
            dg_address_checksum(dg_abi_as_address(&v.items[0]), arg);
        if (k_errors[i].arg == ARG_BYTES32) dg_hex_encode_0x(v.items[0].word, 32, arg);
        dg_abi_value_free(&v);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
        if (k_errors[i].arg == ARG_NONE)
            snprintf(out, outlen, "%s", k_errors[i].sentence);
        else
            snprintf(out, outlen, k_errors[i].sentence, arg);
#pragma GCC diagnostic pop
        set_klass(klass, k_errors[i].klass);
        return 1;
    }
    char selhex[9];
    dg_hex_encode(data, 4, selhex);
    snprintf(out, outlen, "unknown error 0x%s", selhex);
    return 0;
}

int dg_revert_decode_hex(const char *hex, char *out, size_t outlen, dg_err_code *klass) {
    dg_buf b;
    dg_buf_init(&b);
    if (!hex || !dg_hex_decode_var(hex, strlen(hex), &b, NULL)) {
        set_klass(klass, DG_ERR_REVERT);
        if (out && outlen) snprintf(out, outlen, "malformed revert data");
        dg_buf_free(&b);
        return 0;
    }
    int ok = dg_revert_decode(b.data, b.len, out, outlen, klass);
    dg_buf_free(&b);
    return ok;
}
