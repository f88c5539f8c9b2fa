/* rpc.c — the NEAR JSON-RPC answers of rpc.h, computed on a nemu world.
 *
 * One function per method; each builds a jansson object and the dispatcher
 * wraps it as {"jsonrpc":"2.0","id":...,"result":...} or an error. View calls
 * go through nemu_view, so the same ProhibitedInView and panic rules apply as
 * in the contract tests.
 */
#include "rpc.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void nemu_base58(const unsigned char *p, size_t n, char *out) {
    static const char alphabet[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    size_t zeros = 0;
    while (zeros < n && p[zeros] == 0)
        zeros++;
    size_t cap = n * 2 + 1, len = 0;
    unsigned char *d = calloc(cap, 1);
    if (!d) abort();
    for (size_t i = zeros; i < n; i++) {
        unsigned carry = p[i];
        for (size_t j = 0; j < len; j++) {
            carry += (unsigned)d[j] << 8;
            d[j] = (unsigned char)(carry % 58);
            carry /= 58;
        }
        while (carry) {
            d[len++] = (unsigned char)(carry % 58);
            carry /= 58;
        }
    }
    size_t o = 0;
    for (size_t i = 0; i < zeros; i++)
        out[o++] = '1';
    for (size_t i = 0; i < len; i++)
        out[o++] = alphabet[d[len - 1 - i]];
    out[o] = 0;
    free(d);
}

int nemu_base58_decode(const char *s, unsigned char *out, size_t cap) {
    static const char alphabet[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    size_t zeros = 0, len = 0, n = strlen(s);
    unsigned char *d = calloc(n + 1, 1);
    if (!d) abort();
    while (s[zeros] == '1')
        zeros++;
    for (size_t i = zeros; i < n; i++) {
        const char *q = strchr(alphabet, s[i]);
        if (!q || !s[i]) {
            free(d);
            return -1;
        }
        unsigned carry = (unsigned)(q - alphabet);
        for (size_t j = 0; j < len; j++) {
            carry += (unsigned)d[j] * 58;
            d[j] = (unsigned char)carry;
            carry >>= 8;
        }
        while (carry) {
            d[len++] = (unsigned char)carry;
            carry >>= 8;
        }
    }
    if (zeros + len > cap) {
        free(d);
        return -1;
    }
    memset(out, 0, zeros);
    for (size_t i = 0; i < len; i++)
        out[zeros + i] = d[len - 1 - i];
    free(d);
    return (int)(zeros + len);
}

/* Outcomes of accepted transactions, for the `tx` method. */
typedef struct {
    char hash[64];
    char *json;
} stored_tx;

struct nemu_rpc {
    nemu *w;
    stored_tx *txs;
    size_t ntxs;
};

nemu_rpc *nemu_rpc_new(nemu *w) {
    nemu_rpc *r = calloc(1, sizeof *r);
    if (!r) abort();
    r->w = w;
    return r;
}

void nemu_rpc_free(nemu_rpc *r) {
    if (!r) return;
    for (size_t i = 0; i < r->ntxs; i++)
        free(r->txs[i].json);
    free(r->txs);
    free(r);
}

static void block_hash_at(uint64_t height, char out[64]) {
    unsigned char h[32];
    char buf[64];
    snprintf(buf, sizeof buf, "nemu block %llu", (unsigned long long)height);
    crypto_hash_sha256(h, (const unsigned char *)buf, strlen(buf));
    nemu_base58(h, 32, out);
}

static void block_hash(const nemu *w, char out[64]) {
    block_hash_at(nemu_block_height(w), out);
}

static json_t *b64(const unsigned char *p, size_t n) {
    size_t cap = sodium_base64_encoded_len(n, sodium_base64_VARIANT_ORIGINAL);
    char *s = malloc(cap);
    if (!s) abort();
    sodium_bin2base64(s, cap, p, n, sodium_base64_VARIANT_ORIGINAL);
    json_t *j = json_string(s);
    free(s);
    return j;
}

static json_t *u128_json(nemu_u128 v) {
    char b[48];
    return json_string(nemu_u128_str(v, b));
}

static int parse_u128(const char *s, nemu_u128 *out) {
    nemu_u128 v = 0;
    if (!s || !*s) return 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return 0;
        nemu_u128 nv = v * 10 + (nemu_u128)(*s - '0');
        if (nv / 10 != v) return 0;
        v = nv;
    }
    *out = v;
    return 1;
}

/* An error reply: *err gets the error object, the function returns NULL. */
static json_t *handler_error(json_t **err, const char *cause, json_t *info, const char *data) {
    *err = json_pack("{s:s, s:{s:s, s:o}, s:i, s:s, s:s}", "name", "HANDLER_ERROR", "cause", "name",
                     cause, "info", info ? info : json_object(), "code", -32000, "message",
                     "Server error", "data", data ? data : cause);
    return NULL;
}

static json_t *request_error(json_t **err, const char *cause, const char *msg) {
    *err = json_pack("{s:s, s:{s:s, s:{}}, s:i, s:s, s:s}", "name", "REQUEST_VALIDATION_ERROR",
                     "cause", "name", cause, "info", "code", -32602, "message", "Invalid params",
                     "data", msg);
    return NULL;
}

static void add_block(nemu *w, json_t *o) {
    char h[64];
    block_hash(w, h);
    json_object_set_new(o, "block_height", json_integer((json_int_t)nemu_block_height(w)));
    json_object_set_new(o, "block_hash", json_string(h));
}

static json_t *q_call_function(nemu *w, json_t *params, json_t **err) {
    const char *acc = json_string_value(json_object_get(params, "account_id"));
    const char *method = json_string_value(json_object_get(params, "method_name"));
    const char *a64 = json_string_value(json_object_get(params, "args_base64"));
    if (!acc || !method || !a64)
        return request_error(err, "PARSE_ERROR",
                             "account_id, method_name and args_base64 are required");
    size_t alen = strlen(a64);
    unsigned char *args = malloc(alen + 1);
    size_t n = 0;
    if (!args) abort();
    if (sodium_base642bin(args, alen + 1, a64, alen, NULL, &n, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0) {
        free(args);
        return request_error(err, "PARSE_ERROR", "args_base64 is not base64");
    }
    args[n] = 0;
    if (!nemu_account_exists(w, acc)) {
        free(args);
        return handler_error(err, "UNKNOWN_ACCOUNT",
                             json_pack("{s:s}", "requested_account_id", acc), NULL);
    }
    if (!nemu_code_len(w, acc)) {
        free(args);
        return handler_error(err, "NO_CONTRACT_CODE",
                             json_pack("{s:s}", "contract_account_id", acc), NULL);
    }
    /* nemu_view takes NUL-terminated args: views with a NUL byte in their input are refused */
    if (strlen((char *)args) != n) {
        free(args);
        return request_error(err, "PARSE_ERROR",
                             "emulator: binary view arguments are not supported");
    }
    nemu_outcome *o = nemu_view(w, acc, method, n ? (char *)args : NULL);
    free(args);
    json_t *logs = json_array();
    for (size_t i = 0; i < o->nreceipts; i++)
        for (size_t j = 0; j < o->receipts[i].nlogs; j++)
            json_array_append_new(logs, json_string(o->receipts[i].logs[j]));
    if (!o->ok) {
        json_t *info = json_pack("{s:s}", "vm_error", o->error ? o->error : "");
        add_block(w, info);
        json_decref(logs);
        char *msg = o->error ? strdup(o->error) : NULL;
        nemu_outcome_free(o);
        json_t *r = handler_error(err, "CONTRACT_EXECUTION_ERROR", info, msg);
        free(msg);
        return r;
    }
    json_t *bytes = json_array();
    for (size_t i = 0; i < o->value_len; i++)
        json_array_append_new(bytes, json_integer(o->value[i]));
    nemu_outcome_free(o);
    json_t *r = json_pack("{s:o, s:o}", "result", bytes, "logs", logs);
    add_block(w, r);
    return r;
}

static void code_hash_b58(nemu *w, const char *acc, char out[64]) {
    unsigned char h[32];
    if (!nemu_code_hash(w, acc, h)) memset(h, 0, 32);
    nemu_base58(h, 32, out);
}

static json_t *q_view_account(nemu *w, json_t *params, json_t **err) {
    const char *acc = json_string_value(json_object_get(params, "account_id"));
    if (!acc) return request_error(err, "PARSE_ERROR", "account_id is required");
    if (!nemu_account_exists(w, acc))
        return handler_error(err, "UNKNOWN_ACCOUNT",
                             json_pack("{s:s}", "requested_account_id", acc), NULL);
    char ch[64];
    code_hash_b58(w, acc, ch);
    json_t *r = json_pack("{s:o, s:s, s:s, s:I, s:i}", "amount", u128_json(nemu_balance(w, acc)),
                          "locked", "0", "code_hash", ch, "storage_usage",
                          (json_int_t)nemu_storage_usage(w, acc), "storage_paid_at", 0);
    add_block(w, r);
    return r;
}

static json_t *q_view_code(nemu *w, json_t *params, json_t **err) {
    const char *acc = json_string_value(json_object_get(params, "account_id"));
    if (!acc) return request_error(err, "PARSE_ERROR", "account_id is required");
    if (!nemu_account_exists(w, acc))
        return handler_error(err, "UNKNOWN_ACCOUNT",
                             json_pack("{s:s}", "requested_account_id", acc), NULL);
    if (!nemu_code_len(w, acc))
        return handler_error(err, "NO_CONTRACT_CODE",
                             json_pack("{s:s}", "contract_account_id", acc), NULL);
    /* the emulator keeps code by hash of the registry; fetch the module bytes back */
    unsigned char h[32];
    nemu_code_hash(w, acc, h);
    char ch[64];
    nemu_base58(h, 32, ch);
    char hex[65];
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", h[i]);
    for (size_t i = 0; i < nemu_nmodules; i++)
        if (strcmp(nemu_modules[i].sha256_hex, hex) == 0) {
            size_t n;
            unsigned char *code = nemu_read_file(nemu_modules[i].wasm_path, &n);
            if (!code) break;
            json_t *r = json_pack("{s:o, s:s}", "code_base64", b64(code, n), "hash", ch);
            free(code);
            add_block(w, r);
            return r;
        }
    return handler_error(err, "INTERNAL_ERROR", NULL, "emulator: code not in the registry");
}

static json_t *q_view_access_key(nemu *w, json_t *params, json_t **err);

static json_t *m_query(nemu_rpc *rc, json_t *params, json_t **err) {
    nemu *w = rc->w;
    const char *rt = json_string_value(json_object_get(params, "request_type"));
    if (!json_is_object(params) || !rt)
        return request_error(err, "PARSE_ERROR", "params.request_type is required");
    if (strcmp(rt, "call_function") == 0) return q_call_function(w, params, err);
    if (strcmp(rt, "view_account") == 0) return q_view_account(w, params, err);
    if (strcmp(rt, "view_code") == 0) return q_view_code(w, params, err);
    if (strcmp(rt, "view_access_key") == 0) return q_view_access_key(w, params, err);
    return request_error(err, "PARSE_ERROR", "emulator: unsupported request_type");
}

static json_t *m_block(nemu_rpc *rc, json_t *params, json_t **err) {
    nemu *w = rc->w;
    (void)params;
    (void)err;
    char h[64];
    block_hash(w, h);
    return json_pack("{s:{s:I, s:s, s:I}}", "header", "height", (json_int_t)nemu_block_height(w),
                     "hash", h, "timestamp",
                     (json_int_t)(1700000000ull + nemu_block_height(w)) * 1000000000);
}

static json_t *m_gas_price(nemu_rpc *rc, json_t *params, json_t **err) {
    nemu *w = rc->w;
    (void)w;
    (void)params;
    (void)err;
    return json_pack("{s:s}", "gas_price", "100000000");
}

/* "ed25519:<base58 32 bytes>" → borsh public key (tag 0 + 32 bytes). */
static int parse_pk(const char *s, uint8_t out[33]) {
    if (strncmp(s, "ed25519:", 8) != 0) return 0;
    out[0] = 0;
    return nemu_base58_decode(s + 8, out + 1, 32) == 32;
}

static char *pk_string(const uint8_t pk[33]) {
    char b[80];
    memcpy(b, "ed25519:", 8);
    nemu_base58(pk + 1, 32, b + 8);
    return strdup(b);
}

static json_t *m_create_account(nemu_rpc *rc, json_t *params, json_t **err) {
    nemu *w = rc->w;
    const char *acc = json_string_value(json_object_get(params, "account_id"));
    const char *bal = json_string_value(json_object_get(params, "balance"));
    nemu_u128 b;
    const char *pk = json_string_value(json_object_get(params, "public_key"));
    if (!acc || !bal || !parse_u128(bal, &b))
        return request_error(err, "PARSE_ERROR",
                             "account_id and balance (decimal yocto) are required");
    uint8_t key[33];
    if (pk && !parse_pk(pk, key))
        return request_error(err, "PARSE_ERROR", "public_key must be ed25519:<base58>");
    if (!(pk ? nemu_create_account_key(w, acc, b, key) : nemu_create_account(w, acc, b)))
        return request_error(err, "PARSE_ERROR", "invalid or existing account");
    return json_true();
}

static json_t *m_deploy(nemu_rpc *rc, json_t *params, json_t **err) {
    nemu *w = rc->w;
    const char *acc = json_string_value(json_object_get(params, "account_id"));
    const char *mod = json_string_value(json_object_get(params, "module"));
    size_t n;
    unsigned char *code = mod ? nemu_module_code(mod, &n) : NULL;
    if (!acc || !code) {
        free(code);
        return request_error(err, "PARSE_ERROR", "account_id and a registered module are required");
    }
    int ok = nemu_set_code(w, acc, code, n);
    free(code);
    if (!ok)
        return handler_error(err, "UNKNOWN_ACCOUNT",
                             json_pack("{s:s}", "requested_account_id", acc), NULL);
    return json_true();
}

static json_t *status_json(int ok, const unsigned char *v, size_t n, const char *error) {
    if (ok) return json_pack("{s:o}", "SuccessValue", b64(v, n));
    return json_pack("{s:{s:{s:{s:{s:s}}}}}", "Failure", "ActionError", "kind", "FunctionCallError",
                     "ExecutionError", error ? error : "");
}

static json_t *m_call(nemu_rpc *rc, json_t *params, json_t **err) {
    nemu *w = rc->w;
    const char *signer = json_string_value(json_object_get(params, "signer_id"));
    const char *recv = json_string_value(json_object_get(params, "receiver_id"));
    const char *method = json_string_value(json_object_get(params, "method_name"));
    json_t *args = json_object_get(params, "args");
    const char *dep = json_string_value(json_object_get(params, "deposit"));
    json_t *gas = json_object_get(params, "gas");
    nemu_u128 deposit = 0;
    if (!signer || !recv || !method || (dep && !parse_u128(dep, &deposit)) ||
        (gas && !json_is_integer(gas)))
        return request_error(err, "PARSE_ERROR",
                             "signer_id, receiver_id and method_name are required");
    char *a = NULL;
    if (json_is_string(args))
        a = strdup(json_string_value(args));
    else if (args)
        a = json_dumps(args, JSON_COMPACT);
    nemu_outcome *o = nemu_call(w, signer, recv, method, a, deposit,
                                gas ? (uint64_t)json_integer_value(gas) : NEMU_MAX_PREPAID_GAS);
    free(a);
    json_t *ros = json_array();
    for (size_t i = 0; i < o->nreceipts; i++) {
        const nemu_receipt_outcome *r = &o->receipts[i];
        json_t *logs = json_array();
        for (size_t j = 0; j < r->nlogs; j++)
            json_array_append_new(logs, json_string(r->logs[j]));
        json_array_append_new(ros, json_pack("{s:{s:s, s:o, s:o}}", "outcome", "executor_id",
                                             r->executor, "logs", logs, "status",
                                             status_json(r->ok, r->value, r->value_len, r->error)));
    }
    json_t *res =
        json_pack("{s:o, s:o}", "status", status_json(o->ok, o->value, o->value_len, o->error),
                  "receipts_outcome", ros);
    nemu_outcome_free(o);
    return res;
}

/* ------------------------------------------------------------ signed transactions */

typedef struct {
    const uint8_t *p;
    size_t n, off;
    int bad;
} rd;

static const uint8_t *rd_take(rd *r, size_t k) {
    if (r->bad || k > r->n - r->off) {
        r->bad = 1;
        return NULL;
    }
    const uint8_t *q = r->p + r->off;
    r->off += k;
    return q;
}
static uint64_t rd_u64(rd *r) {
    const uint8_t *q = rd_take(r, 8);
    uint64_t v = 0;
    for (int i = 7; q && i >= 0; i--)
        v = (v << 8) | q[i];
    return v;
}
static uint32_t rd_u32(rd *r) {
    const uint8_t *q = rd_take(r, 4);
    return q ? (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24
             : 0;
}
static nemu_u128 rd_u128(rd *r) {
    const uint8_t *q = rd_take(r, 16);
    nemu_u128 v = 0;
    for (int i = 15; q && i >= 0; i--)
        v = (v << 8) | q[i];
    return v;
}
static uint8_t rd_u8(rd *r) {
    const uint8_t *q = rd_take(r, 1);
    return q ? *q : 0;
}
/* A borsh string/bytes: u32 length + bytes; *len gets the length. */
static const uint8_t *rd_bytes(rd *r, size_t *len) {
    uint32_t n = rd_u32(r);
    *len = n;
    return rd_take(r, n);
}
static char *rd_string(rd *r) {
    size_t n;
    const uint8_t *q = rd_bytes(r, &n);
    if (!q) return NULL;
    char *s = malloc(n + 1);
    if (!s) abort();
    memcpy(s, q, n);
    s[n] = 0;
    if (strlen(s) != n) r->bad = 1;
    return s;
}
static void rd_pk(rd *r, uint8_t pk[33]) {
    uint8_t tag = rd_u8(r);
    const uint8_t *q = rd_take(r, 32);
    if (tag != 0) r->bad = 1; /* only ed25519 keys are emulated */
    pk[0] = 0;
    if (q) memcpy(pk + 1, q, 32);
}

typedef struct {
    char *signer, *receiver;
    uint8_t pk[33], block_hash[32];
    uint64_t nonce;
    nemu_action acts[100]; /* max_actions_per_receipt */
    size_t nacts;
    char *strs[256];
    size_t nstrs;
} tx_parsed;

static char *keep(tx_parsed *t, char *s) {
    if (s && t->nstrs < 256)
        t->strs[t->nstrs++] = s;
    else
        free(s);
    return s;
}

static void tx_free(tx_parsed *t) {
    free(t->signer);
    free(t->receiver);
    for (size_t i = 0; i < t->nstrs; i++)
        free(t->strs[i]);
}

/* Borsh TransactionV0 (reference/near.md §5.4). Returns NULL or an error name. */
static const char *parse_tx(rd *r, tx_parsed *t) {
    t->signer = rd_string(r);
    rd_pk(r, t->pk);
    t->nonce = rd_u64(r);
    t->receiver = rd_string(r);
    const uint8_t *bh = rd_take(r, 32);
    if (bh) memcpy(t->block_hash, bh, 32);
    uint32_t n = rd_u32(r);
    if (r->bad) return "Deserialization";
    if (n > 100) return "ActionsValidation: TotalNumberOfActionsExceeded";
    for (uint32_t i = 0; i < n && !r->bad; i++) {
        nemu_action *a = &t->acts[t->nacts++];
        memset(a, 0, sizeof *a);
        size_t len;
        switch (rd_u8(r)) {
        case 0:
            a->kind = NEMU_A_CREATE_ACCOUNT;
            break;
        case 1:
            a->kind = NEMU_A_DEPLOY_CONTRACT;
            a->data = rd_bytes(r, &len);
            a->len = len;
            break;
        case 2:
            a->kind = NEMU_A_FUNCTION_CALL;
            a->name = keep(t, rd_string(r));
            a->data = rd_bytes(r, &len);
            a->len = len;
            a->gas = rd_u64(r);
            a->amount = rd_u128(r);
            break;
        case 3:
            a->kind = NEMU_A_TRANSFER;
            a->amount = rd_u128(r);
            break;
        case 5: {
            a->kind = NEMU_A_ADD_KEY;
            rd_pk(r, a->pk);
            (void)rd_u64(r); /* nonce of the new key */
            uint8_t perm = rd_u8(r);
            if (perm == 0) {
                a->fc_key = 1;
                if (rd_u8(r)) a->fc_allowance = rd_u128(r);
                a->fc_receiver = keep(t, rd_string(r));
                uint32_t m = rd_u32(r);
                char *names = calloc(1, 1);
                size_t nl = 0;
                for (uint32_t k = 0; k < m && !r->bad && k < 256; k++) {
                    char *one = rd_string(r);
                    if (!one) break;
                    char *nn = realloc(names, nl + strlen(one) + 2);
                    if (!nn) abort();
                    names = nn;
                    nl += (size_t)sprintf(names + nl, "%s%s", nl ? "," : "", one);
                    free(one);
                }
                a->fc_methods = keep(t, names);
            } else if (perm != 1) {
                r->bad = 1;
            }
            break;
        }
        case 6:
            a->kind = NEMU_A_DELETE_KEY;
            rd_pk(r, a->pk);
            break;
        case 7:
            a->kind = NEMU_A_DELETE_ACCOUNT;
            a->name = keep(t, rd_string(r));
            break;
        default:
            return "emulator: unsupported action";
        }
    }
    return r->bad ? "Deserialization" : NULL;
}

static json_t *invalid_tx(json_t **err, const char *what) {
    *err = json_pack("{s:s, s:{s:s, s:{s:s}}, s:i, s:s, s:{s:{s:s}}}", "name", "HANDLER_ERROR",
                     "cause", "name", "INVALID_TRANSACTION", "info", "error", what, "code", -32000,
                     "message", "Server error", "data", "TxExecutionError", "InvalidTxError", what);
    return NULL;
}

static const char *action_kind_name(enum nemu_err e) {
    switch (e) {
    case NEMU_E_ACCOUNT_ALREADY_EXISTS:
        return "AccountAlreadyExists";
    case NEMU_E_ACCOUNT_DOES_NOT_EXIST:
        return "AccountDoesNotExist";
    case NEMU_E_CREATE_ACCOUNT_NOT_ALLOWED:
        return "CreateAccountNotAllowed";
    case NEMU_E_CREATE_ACCOUNT_ONLY_BY_REGISTRAR:
        return "CreateAccountOnlyByRegistrar";
    case NEMU_E_ONLY_IMPLICIT_ACCOUNT_CREATION_ALLOWED:
        return "OnlyImplicitAccountCreationAllowed";
    case NEMU_E_ACTOR_NO_PERMISSION:
        return "ActorNoPermission";
    case NEMU_E_LACK_BALANCE_FOR_STATE:
        return "LackBalanceForState";
    case NEMU_E_ADD_KEY_ALREADY_EXISTS:
        return "AddKeyAlreadyExists";
    case NEMU_E_DELETE_KEY_DOES_NOT_EXIST:
        return "DeleteKeyDoesNotExist";
    case NEMU_E_NEW_RECEIPT_VALIDATION:
        return "NewReceiptValidationError";
    default:
        return NULL;
    }
}

static json_t *outcome_status(int ok, const unsigned char *v, size_t n, enum nemu_err e,
                              const char *error, const char *executor) {
    if (ok) return json_pack("{s:o}", "SuccessValue", b64(v, n));
    const char *k = action_kind_name(e);
    json_t *kind =
        k ? json_pack("{s:{s:s, s:s}}", k, "account_id", executor, "message", error ? error : "")
          : json_pack("{s:{s:s}}", "FunctionCallError", "ExecutionError", error ? error : "");
    return json_pack("{s:{s:{s:i, s:o}}}", "Failure", "ActionError", "index", 0, "kind", kind);
}

static void receipt_id(const char *txhash, size_t i, char out[64]) {
    unsigned char h[32];
    char buf[128];
    snprintf(buf, sizeof buf, "%s/%zu", txhash, i);
    crypto_hash_sha256(h, (const unsigned char *)buf, strlen(buf));
    nemu_base58(h, 32, out);
}

static json_t *send_signed(nemu_rpc *rc, const char *b64tx, json_t **err) {
    nemu *w = rc->w;
    size_t l = strlen(b64tx), n = 0;
    uint8_t *raw = malloc(l + 1);
    if (!raw) abort();
    if (sodium_base642bin(raw, l + 1, b64tx, l, NULL, &n, NULL, sodium_base64_VARIANT_ORIGINAL) !=
        0) {
        free(raw);
        return request_error(err, "PARSE_ERROR", "signed_tx_base64 is not base64");
    }
    rd r = {raw, n, 0, 0};
    tx_parsed t;
    memset(&t, 0, sizeof t);
    const char *perr = parse_tx(&r, &t);
    size_t tx_len = r.off;
    uint8_t sig_tag = rd_u8(&r);
    const uint8_t *sig = rd_take(&r, 64);
    json_t *res = NULL;
    char hash[64];
    unsigned char h[32];
    crypto_hash_sha256(h, raw, tx_len);
    nemu_base58(h, 32, hash);
    if (perr || r.bad || r.off != n || sig_tag != 0 || !sig) {
        res = invalid_tx(err, perr ? perr : "Deserialization");
        goto out;
    }
    if (!nemu_account_exists(w, t.signer)) {
        res = invalid_tx(err, "SignerDoesNotExist");
        goto out;
    }
    int ki = nemu_find_key(w, t.signer, t.pk);
    if (ki < 0) {
        res = invalid_tx(err, "InvalidAccessKeyError: AccessKeyNotFound");
        goto out;
    }
    if (crypto_sign_verify_detached(sig, h, 32, t.pk + 1) != 0) {
        res = invalid_tx(err, "InvalidSignature");
        goto out;
    }
    uint64_t ak_nonce;
    int fc;
    const char *kr, *km;
    nemu_u128 allow;
    nemu_key_info(w, t.signer, ki, &ak_nonce, &fc, &kr, &km, &allow);
    if (t.nonce <= ak_nonce) {
        res = invalid_tx(err, "InvalidNonce");
        goto out;
    }
    if (t.nonce > nemu_block_height(w) * 1000000ull) {
        res = invalid_tx(err, "NonceTooLarge");
        goto out;
    }
    /* the block hash must be one of the last 100 blocks */
    char bh[64], want[64];
    nemu_base58(t.block_hash, 32, bh);
    int known = 0;
    for (uint64_t k = 0; k <= 100 && k <= nemu_block_height(w); k++) {
        block_hash_at(nemu_block_height(w) - k, want);
        if (strcmp(want, bh) == 0) known = 1;
    }
    if (!known) {
        res = invalid_tx(err, "Expired");
        goto out;
    }
    nemu_outcome *o = nemu_tx(w, t.signer, ki, t.receiver, t.acts, t.nacts);
    if (!o->ok && o->err == NEMU_E_INVALID_TX) {
        res = invalid_tx(err, o->error ? o->error : "InvalidTxError");
        nemu_outcome_free(o);
        goto out;
    }
    nemu_set_key_nonce(w, t.signer, ki, t.nonce);
    json_t *ros = json_array(), *ids = json_array();
    const char *fail_exec = t.receiver;
    for (size_t i = 0; i < o->nreceipts; i++) {
        const nemu_receipt_outcome *ro = &o->receipts[i];
        json_t *logs = json_array();
        for (size_t j = 0; j < ro->nlogs; j++)
            json_array_append_new(logs, json_string(ro->logs[j]));
        char id[64];
        receipt_id(hash, i, id);
        if (i == 0) json_array_append_new(ids, json_string(id));
        if (!ro->ok && fail_exec == t.receiver) fail_exec = ro->executor;
        json_array_append_new(
            ros, json_pack("{s:s, s:{s:s, s:o, s:o, s:I, s:s}, s:[]}", "id", id, "outcome",
                           "executor_id", ro->executor, "logs", logs, "status",
                           outcome_status(ro->ok, ro->value, ro->value_len, ro->err, ro->error,
                                          ro->executor),
                           "gas_burnt", (json_int_t)ro->gas_burnt, "tokens_burnt", "0", "proof"));
    }
    char *pks = pk_string(t.pk);
    char first[64];
    receipt_id(hash, 0, first);
    res = json_pack(
        "{s:o, s:{s:s, s:s, s:I, s:s, s:s}, s:{s:s, s:{s:s, s:[], s:o, s:{s:s}}}, s:o, s:s}",
        "status", outcome_status(o->ok, o->value, o->value_len, o->err, o->error, fail_exec),
        "transaction", "signer_id", t.signer, "public_key", pks, "nonce", (json_int_t)t.nonce,
        "receiver_id", t.receiver, "hash", hash, "transaction_outcome", "id", hash, "outcome",
        "executor_id", t.signer, "logs", "receipt_ids", ids, "status", "SuccessReceiptId", first,
        "receipts_outcome", ros, "final_execution_status", "FINAL");
    free(pks);
    nemu_outcome_free(o);
    rc->txs = realloc(rc->txs, (rc->ntxs + 1) * sizeof(stored_tx));
    if (!rc->txs) abort();
    snprintf(rc->txs[rc->ntxs].hash, sizeof rc->txs[rc->ntxs].hash, "%s", hash);
    rc->txs[rc->ntxs++].json = json_dumps(res, JSON_COMPACT);
out:
    tx_free(&t);
    free(raw);
    return res;
}

static json_t *m_send_tx(nemu_rpc *rc, json_t *params, json_t **err) {
    const char *b = json_string_value(json_object_get(params, "signed_tx_base64"));
    if (!b && json_is_array(params)) b = json_string_value(json_array_get(params, 0));
    if (!b) return request_error(err, "PARSE_ERROR", "signed_tx_base64 is required");
    return send_signed(rc, b, err);
}

static json_t *m_tx(nemu_rpc *rc, json_t *params, json_t **err) {
    const char *h = json_string_value(json_object_get(params, "tx_hash"));
    if (!h && json_is_array(params)) h = json_string_value(json_array_get(params, 0));
    if (!h) return request_error(err, "PARSE_ERROR", "tx_hash is required");
    for (size_t i = 0; i < rc->ntxs; i++)
        if (strcmp(rc->txs[i].hash, h) == 0) return json_loads(rc->txs[i].json, 0, NULL);
    return handler_error(err, "UNKNOWN_TRANSACTION",
                         json_pack("{s:s}", "requested_transaction_hash", h), NULL);
}

static json_t *q_view_access_key(nemu *w, json_t *params, json_t **err) {
    const char *acc = json_string_value(json_object_get(params, "account_id"));
    const char *pks = json_string_value(json_object_get(params, "public_key"));
    uint8_t pk[33];
    if (!acc || !pks || !parse_pk(pks, pk))
        return request_error(err, "PARSE_ERROR",
                             "account_id and public_key (ed25519:<base58>) are required");
    if (!nemu_account_exists(w, acc))
        return handler_error(err, "UNKNOWN_ACCOUNT",
                             json_pack("{s:s}", "requested_account_id", acc), NULL);
    int ki = nemu_find_key(w, acc, pk);
    if (ki < 0)
        return handler_error(err, "UNKNOWN_ACCESS_KEY", json_pack("{s:s}", "public_key", pks),
                             NULL);
    uint64_t nonce;
    int fc;
    const char *recv, *methods;
    nemu_u128 allowance;
    nemu_key_info(w, acc, ki, &nonce, &fc, &recv, &methods, &allowance);
    json_t *perm;
    if (!fc) {
        perm = json_string("FullAccess");
    } else {
        json_t *names = json_array();
        char *copy = strdup(methods);
        for (char *tok = strtok(copy, ","); tok; tok = strtok(NULL, ","))
            json_array_append_new(names, json_string(tok));
        free(copy);
        perm = json_pack("{s:{s:o, s:s, s:o}}", "FunctionCall", "allowance",
                         allowance ? u128_json(allowance) : json_null(), "receiver_id", recv,
                         "method_names", names);
    }
    json_t *r = json_pack("{s:I, s:o}", "nonce", (json_int_t)nonce, "permission", perm);
    add_block(w, r);
    return r;
}

typedef json_t *(*rpc_fn)(nemu_rpc *, json_t *, json_t **);

static const struct {
    const char *name;
    rpc_fn fn;
} methods[] = {
    {"query", m_query},
    {"block", m_block},
    {"gas_price", m_gas_price},
    {"nemu_create_account", m_create_account},
    {"nemu_deploy", m_deploy},
    {"nemu_call", m_call},
    {"send_tx", m_send_tx},
    {"broadcast_tx_commit", m_send_tx},
    {"tx", m_tx},
};

char *nemu_rpc_handle(nemu_rpc *rc, const char *body, size_t len) {
    json_error_t je;
    json_t *req = json_loadb(body, len, 0, &je);
    json_t *id = req ? json_object_get(req, "id") : NULL;
    json_t *reply = json_pack("{s:s, s:O}", "jsonrpc", "2.0", "id", id ? id : json_null());
    const char *m = req ? json_string_value(json_object_get(req, "method")) : NULL;
    json_t *err = NULL, *res = NULL;
    if (!req || !m) {
        err = json_pack("{s:i, s:s, s:s, s:{s:s}}", "code", -32700, "message", "Parse error",
                        "name", "REQUEST_VALIDATION_ERROR", "cause", "name", "PARSE_ERROR");
    } else {
        size_t i;
        for (i = 0; i < sizeof methods / sizeof methods[0]; i++)
            if (strcmp(methods[i].name, m) == 0) break;
        if (i == sizeof methods / sizeof methods[0])
            err = json_pack("{s:i, s:s, s:s, s:{s:s, s:{s:s}}}", "code", -32601, "message",
                            "Method not found", "name", "REQUEST_VALIDATION_ERROR", "cause", "name",
                            "METHOD_NOT_FOUND", "info", "method_name", m);
        else
            res = methods[i].fn(rc, json_object_get(req, "params"), &err);
    }
    if (res)
        json_object_set_new(reply, "result", res);
    else
        json_object_set_new(reply, "error", err);
    char *out = json_dumps(reply, JSON_COMPACT);
    json_decref(reply);
    json_decref(req);
    if (!out) abort();
    return out;
}
