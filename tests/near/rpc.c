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
#include <time.h>

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

/* Accepted transactions, for `tx` / EXPERIMENTAL_tx_status: the outcome
 * (without final_execution_status, which depends on the head) and the
 * receipts it made. A transaction whose receipt tree is still open (a yield
 * waits) keeps its signed bytes, to rebuild the outcome as receipts run. */
typedef struct {
    char hash[64];
    char signer[65];
    uint64_t last_height; /* the block of its last receipt */
    uint64_t tx_height;   /* the block it was included in */
    char *json;
    char *receipts;
    int open;       /* receipts still wait: nemu_tx_poll(first) completes it */
    uint64_t first; /* its first receipt */
    uint8_t *raw;   /* the signed transaction, while open */
    size_t raw_len;
} stored_tx;

/* A request whose answer waits for a transaction to finish (nearcore polls
 * up to its polling_timeout, then answers TIMEOUT_ERROR). */
struct nemu_rpc_wait {
    json_t *id;
    size_t st; /* index in rc->txs */
    int level, with_receipts;
    uint64_t deadline_ms;
};

struct nemu_rpc {
    nemu *w;
    nemu_rpc_opts o;
    uint64_t genesis_height;
    uint64_t t0_ms, started_ms;
    stored_tx *txs;
    size_t ntxs;
    long wait_st; /* set by a method whose answer must wait for rc->txs[wait_st] */
    int wait_level, wait_receipts;
};

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

nemu_rpc *nemu_rpc_new_opts(nemu *w, const nemu_rpc_opts *o) {
    nemu_rpc *r = calloc(1, sizeof *r);
    if (!r) abort();
    r->w = w;
    if (o) r->o = *o;
    if (!r->o.validity_blocks) r->o.validity_blocks = NEMU_VALIDITY_BLOCKS;
    if (!r->o.chain_id) r->o.chain_id = "localnet";
    if (!r->o.tx_timeout_ms) r->o.tx_timeout_ms = NEMU_TX_TIMEOUT_MS;
    r->genesis_height = 1;
    r->t0_ms = r->started_ms = now_ms();
    return r;
}

nemu_rpc *nemu_rpc_new(nemu *w) {
    return nemu_rpc_new_opts(w, NULL);
}

void nemu_rpc_free(nemu_rpc *r) {
    if (!r) return;
    for (size_t i = 0; i < r->ntxs; i++) {
        free(r->txs[i].json);
        free(r->txs[i].receipts);
        free(r->txs[i].raw);
    }
    free(r->txs);
    free(r);
}

/* Blocks advance with wall time: one per block_ms since the last one (a
 * transaction also runs its receipts in blocks of their own at once). */
void nemu_rpc_tick(nemu_rpc *rc) {
    if (!rc->o.block_ms) return;
    uint64_t n = (now_ms() - rc->t0_ms) / rc->o.block_ms;
    if (!n) return;
    nemu_advance_blocks(rc->w, n);
    rc->t0_ms += n * rc->o.block_ms;
}

static void block_hash_at(uint64_t height, char out[64]) {
    unsigned char h[32];
    char buf[64];
    snprintf(buf, sizeof buf, "nemu block %llu", (unsigned long long)height);
    crypto_hash_sha256(h, (const unsigned char *)buf, strlen(buf));
    nemu_base58(h, 32, out);
}

/* The height of a block hash (base58), or 0 if no such block. */
static uint64_t height_of_hash(nemu_rpc *rc, const char *hash) {
    char want[64];
    for (uint64_t k = nemu_block_height(rc->w); k >= rc->genesis_height; k--) {
        block_hash_at(k, want);
        if (strcmp(want, hash) == 0) return k;
    }
    return 0;
}

/* nemu's finality: `optimistic` is the head, `near-final` one block behind,
 * `final` two behind (doomslug finality on NEAR). */
static uint64_t final_height(nemu_rpc *rc) {
    uint64_t h = nemu_block_height(rc->w);
    return h >= rc->genesis_height + 2 ? h - 2 : rc->genesis_height;
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

/* s in Rust's Debug form for strings (quoted, escaped). */
static void rust_debug_str(char *out, size_t cap, const char *s) {
    size_t n = 0;
    if (cap < 3) return;
    out[n++] = '"';
    for (; *s && n + 8 < cap; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') {
            out[n++] = '\\';
            out[n++] = (char)ch;
        } else if (ch == '\n') {
            out[n++] = '\\';
            out[n++] = 'n';
        } else if (ch < 0x20) {
            n += (size_t)snprintf(out + n, cap - n, "\\u{%x}", ch);
        } else {
            out[n++] = (char)ch;
        }
    }
    out[n++] = '"';
    out[n] = 0;
}

/* A failed view's error text as nearcore writes it: "wasm execution failed
 * with error: " + the Debug form of the VM's FunctionCallError. */
static char *vm_error_text(enum nemu_err e, const char *msg) {
    static const char pfx[] = "Smart contract panicked: ", view[] = " is not allowed in view calls";
    size_t cap = strlen(msg) * 2 + 128;
    char *q = malloc(cap), *out = malloc(cap + 128);
    if (!q || !out) abort();
    const char *m = msg;
    /* the errors whose Debug form has no data */
    static const struct {
        enum nemu_err e;
        const char *text;
    } fixed[] = {
        {NEMU_E_GAS_EXCEEDED, "HostError(GasExceeded)"},
        {NEMU_E_GAS_LIMIT_EXCEEDED, "HostError(GasLimitExceeded)"},
        {NEMU_E_METHOD_NOT_FOUND, "MethodResolveError(MethodNotFound)"},
        {NEMU_E_METHOD_EMPTY_NAME, "MethodResolveError(MethodEmptyName)"},
        {NEMU_E_METHOD_INVALID_SIGNATURE, "MethodResolveError(MethodInvalidSignature)"},
        {NEMU_E_COMPILATION, "CompilationError(PrepareError(Deserialization))"},
    };
    int found = 0;
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0] && !found; i++)
        if (fixed[i].e == e) {
            snprintf(out, cap + 128, "%s", fixed[i].text);
            found = 1;
        }
    switch (found ? NEMU_OK : e) {
    case NEMU_OK:
        break;
    case NEMU_E_GUEST_PANIC:
        if (strncmp(m, pfx, sizeof pfx - 1) == 0) m += sizeof pfx - 1;
        rust_debug_str(q, cap, m);
        snprintf(out, cap + 128, "HostError(GuestPanic { panic_msg: %s })", q);
        break;
    case NEMU_E_PROHIBITED_IN_VIEW: {
        const char *v = strstr(m, view);
        snprintf(q, cap, "%.*s", v ? (int)(v - m) : (int)strlen(m), m);
        char name[300];
        rust_debug_str(name, sizeof name, q);
        snprintf(out, cap + 128, "HostError(ProhibitedInView { method_name: %s })", name);
        break;
    }
    case NEMU_E_WASM_TRAP:
        snprintf(out, cap + 128, "WasmTrap(%s)",
                 strstr(m, "out of bounds")     ? "MemoryOutOfBounds"
                 : strstr(m, "divided by zero") ? "IllegalArithmetic"
                 : strstr(m, "Stack overflow")  ? "StackOverflow"
                 : strstr(m, "indirect")        ? "IncorrectCallIndirectSignature"
                                                : "Unreachable");
        break;
    default:
        rust_debug_str(q, cap, m);
        snprintf(out, cap + 128, "HostError(%s)", q);
        break;
    }
    free(q);
    char *r = malloc(strlen(out) + 40);
    if (!r) abort();
    sprintf(r, "wasm execution failed with error: %s", out);
    free(out);
    return r;
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
    if (!o->ok) {
        /* nearcore answers a failing view in its backward-compatible form
         * (jsonrpc process_query_response): a result with `error`, the VM
         * error in Rust Debug form, and empty logs */
        char *vm = vm_error_text(o->err, o->error ? o->error : "");
        json_t *r = json_pack("{s:s, s:[]}", "error", vm, "logs");
        free(vm);
        add_block(w, r);
        nemu_outcome_free(o);
        return r;
    }
    json_t *logs = json_array();
    for (size_t i = 0; i < o->nreceipts; i++)
        for (size_t j = 0; j < o->receipts[i].nlogs; j++)
            json_array_append_new(logs, json_string(o->receipts[i].logs[j]));
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

/* The block a request names: block_id (a height, or a block hash) or
 * finality (`final` if neither). 0 with *err set if there is no such block. */
static int resolve_block(nemu_rpc *rc, json_t *params, uint64_t *height, json_t **err) {
    json_t *id = json_object_get(params, "block_id");
    const char *fin = json_string_value(json_object_get(params, "finality"));
    char data[160];
    if (id && !json_is_null(id)) {
        if (json_is_integer(id)) {
            json_int_t v = json_integer_value(id);
            if (v >= (json_int_t)rc->genesis_height && (uint64_t)v <= nemu_block_height(rc->w)) {
                *height = (uint64_t)v;
                return 1;
            }
            snprintf(data, sizeof data, "DB Not Found Error: BLOCK HEIGHT: %lld \n Cause: Unknown",
                     (long long)v);
        } else if (json_is_string(id)) {
            *height = height_of_hash(rc, json_string_value(id));
            if (*height) return 1;
            snprintf(data, sizeof data, "DB Not Found Error: BLOCK HEADER: %s",
                     json_string_value(id));
        } else {
            request_error(err, "PARSE_ERROR", "block_id must be a height or a block hash");
            return 0;
        }
        handler_error(err, "UNKNOWN_BLOCK", json_pack("{s:O}", "block_reference", params), data);
        return 0;
    }
    if (!fin || strcmp(fin, "final") == 0) {
        *height = final_height(rc);
    } else if (strcmp(fin, "optimistic") == 0) {
        *height = nemu_block_height(rc->w);
    } else if (strcmp(fin, "near-final") == 0) {
        uint64_t h = nemu_block_height(rc->w);
        *height = h > rc->genesis_height ? h - 1 : h;
    } else {
        request_error(err, "PARSE_ERROR", "finality must be optimistic, near-final or final");
        return 0;
    }
    return 1;
}

static json_t *m_query(nemu_rpc *rc, json_t *params, json_t **err) {
    nemu *w = rc->w;
    const char *rt = json_string_value(json_object_get(params, "request_type"));
    if (!json_is_object(params) || !rt)
        return request_error(err, "PARSE_ERROR", "params.request_type is required");
    uint64_t h;
    if (!resolve_block(rc, params, &h, err)) return NULL;
    if (!nemu_at(w, h)) {
        char hh[64];
        block_hash_at(h, hh);
        return handler_error(
            err, "GARBAGE_COLLECTED_BLOCK",
            json_pack("{s:I, s:s}", "block_height", (json_int_t)h, "block_hash", hh),
            "emulator: the state of this block is no longer kept");
    }
    json_t *r;
    if (strcmp(rt, "call_function") == 0)
        r = q_call_function(w, params, err);
    else if (strcmp(rt, "view_account") == 0)
        r = q_view_account(w, params, err);
    else if (strcmp(rt, "view_code") == 0)
        r = q_view_code(w, params, err);
    else if (strcmp(rt, "view_access_key") == 0)
        r = q_view_access_key(w, params, err);
    else
        r = request_error(err, "PARSE_ERROR", "emulator: unsupported request_type");
    nemu_now(w);
    return r;
}

static json_t *block_json(nemu_rpc *rc, uint64_t h) {
    char hh[64], prev[64], hex[48];
    block_hash_at(h, hh);
    block_hash_at(h > 1 ? h - 1 : 0, prev);
    uint64_t head = nemu_block_height(rc->w);
    /* virtual time: NEAR-like one second per block, counted back from the head */
    uint64_t ts = nemu_block_timestamp(rc->w) - (head - h) * 1000000000ull;
    snprintf(hex, sizeof hex, "%llu", (unsigned long long)ts);
    char gp[48];
    nemu_u128_str(nemu_gas_price(rc->w), gp);
    return json_pack("{s:s, s:{s:I, s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:I, s:s}, s:[]}",
                     "author", "nemu", "header", "height", (json_int_t)h, "hash", hh, "prev_hash",
                     prev, "timestamp", (json_int_t)ts, "timestamp_nanosec", hex, "epoch_id",
                     "11111111111111111111111111111111", "next_epoch_id",
                     "11111111111111111111111111111111", "gas_price", gp, "chunk_mask", "",
                     "latest_protocol_version", (json_int_t)NEMU_PROTOCOL_VERSION, "total_supply",
                     "0", "chunks");
}

static json_t *m_block(nemu_rpc *rc, json_t *params, json_t **err) {
    uint64_t h;
    json_t *p = json_is_object(params) ? params : NULL;
    /* legacy positional form: [height or hash] */
    json_t *tmp = NULL;
    if (json_is_array(params)) {
        tmp = json_pack("{s:O}", "block_id", json_array_get(params, 0));
        p = tmp;
    }
    if (!p) p = tmp = json_pack("{s:s}", "finality", "final");
    int ok = resolve_block(rc, p, &h, err);
    json_decref(tmp);
    return ok ? block_json(rc, h) : NULL;
}

static json_t *m_gas_price(nemu_rpc *rc, json_t *params, json_t **err) {
    (void)params;
    (void)err;
    char gp[48];
    return json_pack("{s:s}", "gas_price", nemu_u128_str(nemu_gas_price(rc->w), gp));
}

/* A block timestamp (ns) in nearcore's RFC 3339 form. */
static void rfc3339(uint64_t ns, char out[40]) {
    time_t t = (time_t)(ns / 1000000000ull);
    struct tm tm;
    gmtime_r(&t, &tm);
    size_t n = strftime(out, 40, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 40 - n, ".%09lluZ", (unsigned long long)(ns % 1000000000ull));
}

static json_t *m_status(nemu_rpc *rc, json_t *params, json_t **err) {
    (void)params;
    (void)err;
    char head[64], gen[64], when[40];
    rfc3339(nemu_block_timestamp(rc->w), when);
    uint64_t h = nemu_block_height(rc->w);
    block_hash_at(h, head);
    block_hash_at(rc->genesis_height, gen);
    return json_pack("{s:s, s:s, s:I, s:I, s:s, s:{s:s, s:I, s:s, s:s, s:b, s:s, s:I}, s:[{s:s}],"
                     " s:{s:s, s:s, s:s}, s:I}",
                     "chain_id", rc->o.chain_id, "genesis_hash", gen, "protocol_version",
                     (json_int_t)NEMU_PROTOCOL_VERSION, "latest_protocol_version",
                     (json_int_t)NEMU_PROTOCOL_VERSION, "rpc_addr", "127.0.0.1", "sync_info",
                     "latest_block_hash", head, "latest_block_height", (json_int_t)h,
                     "latest_state_root", "11111111111111111111111111111111", "latest_block_time",
                     when, "syncing", 0, "earliest_block_hash", gen, "earliest_block_height",
                     (json_int_t)rc->genesis_height, "validators", "account_id", "nemu", "version",
                     "version", "nemu (emulation of the NEAR runtime, not nearcore)", "build",
                     "nemu", "rustc_version", "", "uptime_sec",
                     (json_int_t)((now_ms() - rc->started_ms) / 1000));
}

/* The parameters of this emulation in nearcore's protocol-config shape (the
 * fee values are nemu's table in emu.c; fields nemu has no notion of are
 * left out). */
static json_t *m_protocol_config(nemu_rpc *rc, json_t *params, json_t **err) {
    uint64_t h;
    if (json_is_object(params) && !resolve_block(rc, params, &h, err)) return NULL;
    char gp[48];
    nemu_u128_str(nemu_gas_price(rc->w), gp);
    json_t *fees = json_loads(nemu_fee_table_text(), 0, NULL);
    return json_pack(
        "{s:s, s:I, s:s, s:I, s:I, s:s, s:s, s:I, s:I, s:{s:s, s:o, s:{s:{s:I, s:I, s:I, s:I, s:I, "
        "s:I, s:I, s:I}}}}",
        "chain_id", rc->o.chain_id, "protocol_version", (json_int_t)NEMU_PROTOCOL_VERSION,
        "genesis_time", "2023-11-14T22:13:20Z", "genesis_height", (json_int_t)rc->genesis_height,
        "epoch_length", (json_int_t)43200, "min_gas_price", gp, "max_gas_price", gp,
        "transaction_validity_period", (json_int_t)rc->o.validity_blocks, "gas_limit",
        (json_int_t)1000000000000000, "runtime_config", "storage_amount_per_byte",
        "10000000000000000000", "transaction_costs", fees, "wasm_config", "limit_config",
        "max_gas_burnt", (json_int_t)NEMU_MAX_PREPAID_GAS, "max_total_prepaid_gas",
        (json_int_t)NEMU_MAX_PREPAID_GAS, "max_actions_per_receipt", (json_int_t)100,
        "max_number_logs", (json_int_t)100, "max_total_log_length", (json_int_t)16384,
        "max_contract_size", (json_int_t)4194304, "max_yield_payload_size",
        (json_int_t)NEMU_MAX_YIELD_PAYLOAD, "yield_timeout_length_in_blocks",
        (json_int_t)NEMU_YIELD_TIMEOUT_BLOCKS);
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

/* The test-only methods change state like a sandbox's patch_state: the
 * chain then runs two blocks, so the change is final at once. */
static void settle(nemu *w) {
    nemu_advance_blocks(w, 2);
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
    settle(w);
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
    settle(w);
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
    /* a receipt tree still open (a yield waits): nearcore's "Started" */
    json_t *res = json_pack("{s:o, s:o}", "status",
                            o->pending ? json_string("Started")
                                       : status_json(o->ok, o->value, o->value_len, o->error),
                            "receipts_outcome", ros);
    nemu_outcome_free(o);
    settle(w);
    return res;
}

/* Test-only fast-forward (like a sandbox's fast_forward): n blocks at once,
 * with the receipts, resumes and yield timeouts they bring. */
static json_t *m_advance(nemu_rpc *rc, json_t *params, json_t **err) {
    json_t *n = json_object_get(params, "blocks");
    if (!json_is_integer(n) || json_integer_value(n) < 1 || json_integer_value(n) > 1000000)
        return request_error(err, "PARSE_ERROR", "blocks (1..1000000) is required");
    nemu_advance_blocks(rc->w, (uint64_t)json_integer_value(n));
    return json_pack("{s:I}", "block_height", (json_int_t)nemu_block_height(rc->w));
}

/* Test-only: move the chain's clock forward (data valid at another time). */
static json_t *m_set_time(nemu_rpc *rc, json_t *params, json_t **err) {
    json_t *t = json_object_get(params, "unix_seconds");
    if (!json_is_integer(t) || json_integer_value(t) < 0 ||
        !nemu_set_timestamp(rc->w, (uint64_t)json_integer_value(t) * 1000000000ull))
        return request_error(err, "PARSE_ERROR",
                             "unix_seconds (not before the chain's time) is required");
    settle(rc->w);
    return json_true();
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

/* nearcore's answer to an invalid transaction: HANDLER_ERROR /
 * INVALID_TRANSACTION, with the InvalidTxError as cause.info and as
 * data.TxExecutionError.InvalidTxError. ite is consumed. */
static json_t *tx_invalid(json_t **err, json_t *ite) {
    json_t *info = json_is_object(ite) ? json_deep_copy(ite) : json_object();
    *err = json_pack("{s:s, s:{s:s, s:o}, s:i, s:s, s:{s:{s:o}}}", "name", "HANDLER_ERROR", "cause",
                     "name", "INVALID_TRANSACTION", "info", info, "code", -32000, "message",
                     "Server error", "data", "TxExecutionError", "InvalidTxError", ite);
    return NULL;
}

static json_t *u128_json(nemu_u128 v);

static char *receipt_id_str(const char *txhash, uint64_t id) {
    unsigned char h[32];
    char buf[128], out[64];
    snprintf(buf, sizeof buf, "nemu receipt %s/%llu", txhash, (unsigned long long)id);
    crypto_hash_sha256(h, (const unsigned char *)buf, strlen(buf));
    nemu_base58(h, 32, out);
    return strdup(out);
}

static json_t *rid(const char *txhash, uint64_t id) {
    char *s = receipt_id_str(txhash, id);
    json_t *j = json_string(s);
    free(s);
    return j;
}

static json_t *pk_json(const uint8_t pk[33]) {
    char *s = pk_string(pk);
    json_t *j = json_string(s);
    free(s);
    return j;
}

/* nearcore's FunctionCallError of a failed call (transaction outcomes). */
static json_t *fc_error_json(const nemu_receipt_outcome *ro) {
    switch (ro->err) {
    case NEMU_E_METHOD_NOT_FOUND:
        return json_pack("{s:s}", "MethodResolveError", "MethodNotFound");
    case NEMU_E_METHOD_EMPTY_NAME:
        return json_pack("{s:s}", "MethodResolveError", "MethodEmptyName");
    case NEMU_E_METHOD_INVALID_SIGNATURE:
        return json_pack("{s:s}", "MethodResolveError", "MethodInvalidSignature");
    case NEMU_E_CODE_DOES_NOT_EXIST:
        return json_pack("{s:{s:{s:s}}}", "CompilationError", "CodeDoesNotExist", "account_id",
                         ro->executor);
    case NEMU_E_COMPILATION:
        return json_pack("{s:{s:s}}", "CompilationError", "PrepareError", "Deserialization");
    default:
        return json_pack("{s:s}", "ExecutionError", ro->error ? ro->error : "");
    }
}

/* ActionErrorKind of a failed receipt, with nearcore's fields. */
static json_t *action_error_kind(const nemu_receipt_outcome *ro) {
    const char *acc = ro->executor;
    char b[48];
    switch (ro->err) {
    case NEMU_E_ACCOUNT_ALREADY_EXISTS:
        return json_pack("{s:{s:s}}", "AccountAlreadyExists", "account_id", acc);
    case NEMU_E_ACCOUNT_DOES_NOT_EXIST:
        return json_pack("{s:{s:s}}", "AccountDoesNotExist", "account_id", acc);
    case NEMU_E_CREATE_ACCOUNT_NOT_ALLOWED:
        return json_pack("{s:{s:s, s:s}}", "CreateAccountNotAllowed", "account_id", acc,
                         "predecessor_id", ro->err_actor);
    case NEMU_E_CREATE_ACCOUNT_ONLY_BY_REGISTRAR:
        return json_pack("{s:{s:s, s:s, s:s}}", "CreateAccountOnlyByRegistrar", "account_id", acc,
                         "registrar_account_id", "registrar", "predecessor_id", ro->err_actor);
    case NEMU_E_ONLY_IMPLICIT_ACCOUNT_CREATION_ALLOWED:
        return json_pack("{s:{s:s}}", "OnlyImplicitAccountCreationAllowed", "account_id", acc);
    case NEMU_E_ACTOR_NO_PERMISSION:
        return json_pack("{s:{s:s, s:s}}", "ActorNoPermission", "account_id", acc, "actor_id",
                         ro->err_actor);
    case NEMU_E_LACK_BALANCE_FOR_STATE:
        return json_pack("{s:{s:s, s:s}}", "LackBalanceForState", "account_id", acc, "amount",
                         nemu_u128_str(ro->err_amount, b));
    case NEMU_E_ADD_KEY_ALREADY_EXISTS:
    case NEMU_E_DELETE_KEY_DOES_NOT_EXIST:
        return json_pack("{s:{s:s, s:o}}",
                         ro->err == NEMU_E_ADD_KEY_ALREADY_EXISTS ? "AddKeyAlreadyExists"
                                                                  : "DeleteKeyDoesNotExist",
                         "account_id", acc, "public_key", pk_json(ro->err_pk));
    case NEMU_E_NEW_RECEIPT_VALIDATION:
        return json_pack("{s:s}", "NewReceiptValidationError", ro->error ? ro->error : "");
    default:
        return json_pack("{s:o}", "FunctionCallError", fc_error_json(ro));
    }
}

static json_t *receipt_status(const char *txhash, const nemu_receipt_outcome *ro) {
    if (ro->ok && ro->returned)
        return json_pack("{s:o}", "SuccessReceiptId", rid(txhash, ro->returned));
    if (ro->ok) return json_pack("{s:o}", "SuccessValue", b64(ro->value, ro->value_len));
    json_t *index =
        ro->fail_index == SIZE_MAX ? json_null() : json_integer((json_int_t)ro->fail_index);
    return json_pack("{s:{s:{s:o, s:o}}}", "Failure", "ActionError", "index", index, "kind",
                     action_error_kind(ro));
}

/* ActionView of a transaction action (nearcore views.rs). */
static json_t *action_view(const nemu_action *a) {
    unsigned char h[32];
    switch (a->kind) {
    case NEMU_A_CREATE_ACCOUNT:
        return json_string("CreateAccount");
    case NEMU_A_DEPLOY_CONTRACT: /* nodes show the code's hash, not the code */
        crypto_hash_sha256(h, a->data ? a->data : (const uint8_t *)"", a->len);
        return json_pack("{s:{s:o}}", "DeployContract", "code", b64(h, 32));
    case NEMU_A_FUNCTION_CALL:
        return json_pack("{s:{s:s, s:o, s:I, s:o}}", "FunctionCall", "method_name", a->name, "args",
                         b64(a->data ? a->data : (const uint8_t *)"", a->len), "gas",
                         (json_int_t)a->gas, "deposit", u128_json(a->amount));
    case NEMU_A_TRANSFER:
        return json_pack("{s:{s:o}}", "Transfer", "deposit", u128_json(a->amount));
    case NEMU_A_ADD_KEY: {
        json_t *perm;
        if (a->fc_key) {
            json_t *names = json_array();
            char *copy = strdup(a->fc_methods ? a->fc_methods : "");
            for (char *tok = strtok(copy, ","); tok; tok = strtok(NULL, ","))
                json_array_append_new(names, json_string(tok));
            free(copy);
            perm =
                json_pack("{s:{s:o, s:s, s:o}}", "FunctionCall", "allowance",
                          a->fc_allowance ? u128_json(a->fc_allowance) : json_null(), "receiver_id",
                          a->fc_receiver ? a->fc_receiver : "", "method_names", names);
        } else {
            perm = json_string("FullAccess");
        }
        return json_pack("{s:{s:o, s:{s:i, s:o}}}", "AddKey", "public_key", pk_json(a->pk),
                         "access_key", "nonce", 0, "permission", perm);
    }
    case NEMU_A_DELETE_KEY:
        return json_pack("{s:{s:o}}", "DeleteKey", "public_key", pk_json(a->pk));
    case NEMU_A_DELETE_ACCOUNT:
        return json_pack("{s:{s:s}}", "DeleteAccount", "beneficiary_id", a->name);
    default:
        return json_string("Stake");
    }
}

/* The FinalExecutionOutcomeView of a transaction (without
 * final_execution_status), and its receipts as EXPERIMENTAL_tx_status lists
 * them in *receipts. */
static json_t *outcome_json(const tx_parsed *t, const char *hash, const uint8_t sig[64],
                            const nemu_outcome *o, nemu_u128 price, json_t **receipts) {
    char bh[64], sigs[120], gas_price_str[48];
    nemu_u128_str(price, gas_price_str);
    json_t *acts = json_array();
    for (size_t i = 0; i < t->nacts; i++)
        json_array_append_new(acts, action_view(&t->acts[i]));
    memcpy(sigs, "ed25519:", 8);
    nemu_base58(sig, 64, sigs + 8);
    json_t *tx =
        json_pack("{s:s, s:o, s:I, s:s, s:o, s:i, s:s, s:s}", "signer_id", t->signer, "public_key",
                  pk_json(t->pk), "nonce", (json_int_t)t->nonce, "receiver_id", t->receiver,
                  "actions", acts, "priority_fee", 0, "signature", sigs, "hash", hash);
    block_hash_at(o->tx_height, bh);
    json_t *txo = json_pack(
        "{s:[], s:s, s:s, s:{s:[], s:[o], s:I, s:o, s:s, s:{s:o}, s:{s:i, s:n}}}", "proof",
        "block_hash", bh, "id", hash, "outcome", "logs", "receipt_ids", rid(hash, o->first_receipt),
        "gas_burnt", (json_int_t)o->tx_gas_burnt, "tokens_burnt",
        u128_json((nemu_u128)o->tx_gas_burnt * price), "executor_id", t->signer, "status",
        "SuccessReceiptId", rid(hash, o->first_receipt), "metadata", "version", 1, "gas_profile");
    json_t *ros = json_array();
    *receipts = json_array();
    const nemu_receipt_outcome *fail = NULL;
    for (size_t i = 0; i < o->nreceipts; i++) {
        const nemu_receipt_outcome *ro = &o->receipts[i];
        json_t *logs = json_array(), *ids = json_array();
        for (size_t j = 0; j < ro->nlogs; j++)
            json_array_append_new(logs, json_string(ro->logs[j]));
        for (size_t j = 0; j < ro->nchildren; j++)
            json_array_append_new(ids, rid(hash, ro->children[j]));
        if (!ro->ok && !fail && o->error && ro->error && strcmp(ro->error, o->error) == 0)
            fail = ro;
        block_hash_at(ro->height, bh);
        json_array_append_new(
            ros,
            json_pack("{s:[], s:s, s:o, s:{s:o, s:o, s:I, s:o, s:s, s:o, s:{s:i, s:[]}}}", "proof",
                      "block_hash", bh, "id", rid(hash, ro->id), "outcome", "logs", logs,
                      "receipt_ids", ids, "gas_burnt", (json_int_t)ro->gas_burnt, "tokens_burnt",
                      u128_json(ro->tokens_burnt), "executor_id", ro->executor, "status",
                      receipt_status(hash, ro), "metadata", "version", 3, "gas_profile"));
        /* nearcore's ReceiptView, without the actions (nemu's outcome does not keep them) */
        json_array_append_new(
            *receipts, json_pack("{s:s, s:s, s:o, s:i, s:{s:{s:s, s:s}}}", "predecessor_id",
                                 ro->predecessor, "receiver_id", ro->executor, "receipt_id",
                                 rid(hash, ro->id), "priority", 0, "receipt", "Action", "signer_id",
                                 ro->refund ? "system" : t->signer, "gas_price", gas_price_str));
    }
    json_t *status;
    if (o->pending) {
        status = json_string("Started"); /* nearcore's FinalExecutionStatus::Started */
    } else if (o->ok) {
        status = json_pack("{s:o}", "SuccessValue", b64(o->value, o->value_len));
    } else if (fail) {
        json_t *index =
            fail->fail_index == SIZE_MAX ? json_null() : json_integer((json_int_t)fail->fail_index);
        status = json_pack("{s:{s:{s:o, s:o}}}", "Failure", "ActionError", "index", index, "kind",
                           action_error_kind(fail));
    } else {
        status = json_pack("{s:{s:{s:n, s:{s:{s:s}}}}}", "Failure", "ActionError", "index", "kind",
                           "FunctionCallError", "ExecutionError", o->error ? o->error : "");
    }
    return json_pack("{s:o, s:o, s:o, s:o}", "status", status, "transaction", tx,
                     "transaction_outcome", txo, "receipts_outcome", ros);
}

/* NEAR's wait_until levels, weakest first. */
static const char *const wait_levels[] = {"NONE",           "INCLUDED", "EXECUTED_OPTIMISTIC",
                                          "INCLUDED_FINAL", "EXECUTED", "FINAL"};

static int wait_level(json_t *params, int dflt) {
    const char *w = json_string_value(json_object_get(params, "wait_until"));
    if (!w) return dflt;
    for (int i = 0; i < 6; i++)
        if (strcmp(w, wait_levels[i]) == 0) return i;
    return -1;
}

/* The status a stored transaction has now; waiting for finality (levels
 * above EXECUTED_OPTIMISTIC) lets the chain run the blocks it takes. */
static const char *tx_status_now(nemu_rpc *rc, stored_tx *st, int level) {
    if (level > 2 && final_height(rc) < st->last_height)
        nemu_advance_blocks(rc->w, st->last_height - final_height(rc));
    return final_height(rc) >= st->last_height ? "FINAL" : "EXECUTED_OPTIMISTIC";
}

/* Store the outcome of a transaction (res and receipts are consumed). */
static void st_set(stored_tx *st, const nemu_outcome *o, json_t *res, json_t *receipts) {
    free(st->json);
    free(st->receipts);
    st->json = json_dumps(res, JSON_COMPACT);
    st->receipts = json_dumps(receipts, JSON_COMPACT);
    json_decref(res);
    json_decref(receipts);
    st->last_height = o->tx_height;
    for (size_t i = 0; i < o->nreceipts; i++)
        if (o->receipts[i].height > st->last_height) st->last_height = o->receipts[i].height;
}

/* An open transaction's outcome as it is now (blocks run its receipts, a
 * resume or a timeout lets its yields go on). */
static void st_refresh(nemu_rpc *rc, stored_tx *st) {
    if (!st->open) return;
    nemu_outcome *o = nemu_tx_poll(rc->w, st->first);
    if (!o) return;
    rd r = {st->raw, st->raw_len, 0, 0};
    tx_parsed t;
    memset(&t, 0, sizeof t);
    parse_tx(&r, &t);
    (void)rd_u8(&r);
    const uint8_t *sig = rd_take(&r, 64);
    json_t *receipts = NULL;
    json_t *res = outcome_json(&t, st->hash, sig, o, nemu_gas_price(rc->w), &receipts);
    st_set(st, o, res, receipts);
    if (!o->pending) {
        st->open = 0;
        free(st->raw);
        st->raw = NULL;
    }
    tx_free(&t);
    nemu_outcome_free(o);
}

static json_t *stored_answer(nemu_rpc *rc, stored_tx *st, int level, int with_receipts) {
    st_refresh(rc, st);
    if (st->open && level >= 2 && level != 3) {
        /* the outcome is not there yet: the answer waits (nemu_rpc_handle_async) */
        rc->wait_st = (long)(st - rc->txs);
        rc->wait_level = level;
        rc->wait_receipts = with_receipts;
        return NULL;
    }
    if (st->open && level == 3) {
        /* INCLUDED_FINAL: the outcome so far once the transaction's block is final */
        if (final_height(rc) < st->tx_height)
            nemu_advance_blocks(rc->w, st->tx_height - final_height(rc));
        st_refresh(rc, st);
    }
    if (st->open || level < 2) {
        if (level < 2)
            return json_pack("{s:s}", "final_execution_status", level ? "INCLUDED" : "NONE");
        json_t *r = json_loads(st->json, 0, NULL);
        json_object_set_new(r, "final_execution_status", json_string("INCLUDED_FINAL"));
        if (with_receipts) json_object_set_new(r, "receipts", json_loads(st->receipts, 0, NULL));
        return r;
    }
    const char *status = tx_status_now(rc, st, level);
    json_t *r = json_loads(st->json, 0, NULL);
    json_object_set_new(r, "final_execution_status", json_string(status));
    if (with_receipts) json_object_set_new(r, "receipts", json_loads(st->receipts, 0, NULL));
    return r;
}

/* Check and run a signed transaction; on success store it and return its
 * index in rc->txs (or -1 with *err set). */
static long run_signed(nemu_rpc *rc, const char *b64tx, json_t **err) {
    nemu *w = rc->w;
    size_t l = strlen(b64tx), n = 0;
    uint8_t *raw = malloc(l + 1);
    if (!raw) abort();
    if (sodium_base642bin(raw, l + 1, b64tx, l, NULL, &n, NULL, sodium_base64_VARIANT_ORIGINAL) !=
        0) {
        free(raw);
        request_error(err, "PARSE_ERROR", "signed_tx_base64 is not base64");
        return -1;
    }
    rd r = {raw, n, 0, 0};
    tx_parsed t;
    memset(&t, 0, sizeof t);
    const char *perr = parse_tx(&r, &t);
    size_t tx_len = r.off;
    uint8_t sig_tag = rd_u8(&r);
    const uint8_t *sig = rd_take(&r, 64);
    long idx = -1;
    char hash[64];
    unsigned char h[32];
    crypto_hash_sha256(h, raw, tx_len);
    nemu_base58(h, 32, hash);
    char b1[48];
    if (perr || r.bad || r.off != n || sig_tag != 0 || !sig) {
        request_error(err, "PARSE_ERROR",
                      perr && strncmp(perr, "Actions", 7) != 0
                          ? "Failed to decode transaction"
                          : (perr ? perr : "Failed to decode transaction"));
        goto out;
    }
    if (!nemu_valid_account_id(t.signer)) {
        tx_invalid(err, json_pack("{s:{s:s}}", "InvalidSignerId", "signer_id", t.signer));
        goto out;
    }
    if (crypto_sign_verify_detached(sig, h, 32, t.pk + 1) != 0) {
        tx_invalid(err, json_string("InvalidSignature"));
        goto out;
    }
    /* the block hash must name one of the last transaction_validity_period blocks */
    char bh[64];
    nemu_base58(t.block_hash, 32, bh);
    uint64_t base = height_of_hash(rc, bh);
    if (!base || nemu_block_height(w) - base > rc->o.validity_blocks) {
        tx_invalid(err, json_string("Expired"));
        goto out;
    }
    if (!nemu_account_exists(w, t.signer)) {
        tx_invalid(err, json_pack("{s:{s:s}}", "SignerDoesNotExist", "signer_id", t.signer));
        goto out;
    }
    int ki = nemu_find_key(w, t.signer, t.pk);
    if (ki < 0) {
        tx_invalid(err,
                   json_pack("{s:{s:{s:s, s:o}}}", "InvalidAccessKeyError", "AccessKeyNotFound",
                             "account_id", t.signer, "public_key", pk_json(t.pk)));
        goto out;
    }
    uint64_t ak_nonce;
    int fc;
    const char *kr, *km;
    nemu_u128 allow;
    nemu_key_info(w, t.signer, ki, &ak_nonce, &fc, &kr, &km, &allow);
    if (t.nonce <= ak_nonce) {
        tx_invalid(err, json_pack("{s:{s:I, s:I}}", "InvalidNonce", "tx_nonce", (json_int_t)t.nonce,
                                  "ak_nonce", (json_int_t)ak_nonce));
        goto out;
    }
    uint64_t upper = nemu_block_height(w) * 1000000ull;
    if (t.nonce >= upper) {
        tx_invalid(err, json_pack("{s:{s:I, s:I}}", "NonceTooLarge", "tx_nonce",
                                  (json_int_t)t.nonce, "upper_bound", (json_int_t)upper));
        goto out;
    }
    (void)b1;
    nemu_outcome *o = nemu_tx(w, t.signer, ki, t.receiver, t.acts, t.nacts);
    if (!o->ok && o->err == NEMU_E_INVALID_TX) {
        json_t *ite = o->invalid_tx ? json_loads(o->invalid_tx, 0, NULL) : NULL;
        tx_invalid(err, ite ? ite : json_string("InvalidTxError"));
        nemu_outcome_free(o);
        goto out;
    }
    nemu_set_key_nonce(w, t.signer, ki, t.nonce);
    json_t *receipts = NULL;
    json_t *res = outcome_json(&t, hash, sig, o, nemu_gas_price(w), &receipts);
    rc->txs = realloc(rc->txs, (rc->ntxs + 1) * sizeof(stored_tx));
    if (!rc->txs) abort();
    stored_tx *st = &rc->txs[rc->ntxs];
    memset(st, 0, sizeof *st);
    snprintf(st->hash, sizeof st->hash, "%s", hash);
    snprintf(st->signer, sizeof st->signer, "%s", t.signer);
    st->tx_height = o->tx_height;
    st_set(st, o, res, receipts);
    if (o->pending) {
        st->open = 1;
        st->first = o->first_receipt;
        st->raw = malloc(n);
        if (!st->raw) abort();
        memcpy(st->raw, raw, n);
        st->raw_len = n;
    }
    nemu_outcome_free(o);
    idx = (long)rc->ntxs++;
out:
    tx_free(&t);
    free(raw);
    return idx;
}

static const char *signed_tx_param(json_t *params) {
    const char *b = json_string_value(json_object_get(params, "signed_tx_base64"));
    if (!b && json_is_array(params)) b = json_string_value(json_array_get(params, 0));
    return b;
}

/* send_tx (wait_until, default EXECUTED_OPTIMISTIC) and broadcast_tx_commit
 * (the same with the default). */
static json_t *m_send_tx(nemu_rpc *rc, json_t *params, json_t **err) {
    const char *b = signed_tx_param(params);
    int level = wait_level(params, 2);
    if (!b) return request_error(err, "PARSE_ERROR", "signed_tx_base64 is required");
    if (level < 0) return request_error(err, "PARSE_ERROR", "unknown wait_until");
    long i = run_signed(rc, b, err);
    return i < 0 ? NULL : stored_answer(rc, &rc->txs[i], level, 0);
}

/* broadcast_tx_async: the transaction's hash; a client polls `tx`. An invalid
 * transaction is never found. */
static json_t *m_broadcast_async(nemu_rpc *rc, json_t *params, json_t **err) {
    const char *b = signed_tx_param(params);
    if (!b) return request_error(err, "PARSE_ERROR", "signed_tx_base64 is required");
    size_t l = strlen(b), n = 0;
    uint8_t *raw = malloc(l + 1);
    if (!raw) abort();
    if (sodium_base642bin(raw, l + 1, b, l, NULL, &n, NULL, sodium_base64_VARIANT_ORIGINAL) != 0 ||
        n < 65) {
        free(raw);
        return request_error(err, "PARSE_ERROR", "signed_tx_base64 is not a signed transaction");
    }
    unsigned char h[32];
    char hash[64];
    crypto_hash_sha256(h, raw, n - 65);
    nemu_base58(h, 32, hash);
    free(raw);
    json_t *ignored = NULL;
    run_signed(rc, b, &ignored);
    json_decref(ignored);
    return json_string(hash);
}

static json_t *tx_lookup(nemu_rpc *rc, json_t *params, json_t **err, int with_receipts) {
    const char *h = json_string_value(json_object_get(params, "tx_hash"));
    const char *who = json_string_value(json_object_get(params, "sender_account_id"));
    if (!h && json_is_array(params)) {
        h = json_string_value(json_array_get(params, 0));
        who = json_string_value(json_array_get(params, 1));
    }
    int level = wait_level(params, 2);
    if (!h) return request_error(err, "PARSE_ERROR", "tx_hash is required");
    if (level < 0) return request_error(err, "PARSE_ERROR", "unknown wait_until");
    for (size_t i = 0; i < rc->ntxs; i++)
        if (strcmp(rc->txs[i].hash, h) == 0 && (!who || strcmp(rc->txs[i].signer, who) == 0))
            return stored_answer(rc, &rc->txs[i], level, with_receipts);
    return handler_error(err, "UNKNOWN_TRANSACTION",
                         json_pack("{s:s}", "requested_transaction_hash", h), NULL);
}

static json_t *m_tx(nemu_rpc *rc, json_t *params, json_t **err) {
    return tx_lookup(rc, params, err, 0);
}
static json_t *m_tx_status(nemu_rpc *rc, json_t *params, json_t **err) {
    return tx_lookup(rc, params, err, 1);
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
    if (ki < 0) {
        /* nearcore's backward-compatible form (process_query_response) */
        char msg[160];
        snprintf(msg, sizeof msg, "access key %s does not exist while viewing", pks);
        json_t *r = json_pack("{s:s, s:[]}", "error", msg, "logs");
        add_block(w, r);
        return r;
    }
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
    {"nemu_advance_blocks", m_advance},
    {"nemu_set_time", m_set_time},
    {"send_tx", m_send_tx},
    {"broadcast_tx_commit", m_send_tx},
    {"broadcast_tx_async", m_broadcast_async},
    {"tx", m_tx},
    {"EXPERIMENTAL_tx_status", m_tx_status},
    {"status", m_status},
    {"EXPERIMENTAL_protocol_config", m_protocol_config},
};

static char *reply_text(json_t *id, json_t *res, json_t *err) {
    json_t *reply = json_pack("{s:s, s:O}", "jsonrpc", "2.0", "id", id ? id : json_null());
    if (res)
        json_object_set_new(reply, "result", res);
    else
        json_object_set_new(reply, "error", err);
    char *out = json_dumps(reply, JSON_COMPACT);
    json_decref(reply);
    if (!out) abort();
    return out;
}

/* nearcore's answer when the outcome did not come within its polling timeout */
static json_t *timeout_error(void) {
    return json_pack("{s:s, s:{s:s}, s:i, s:s, s:s}", "name", "HANDLER_ERROR", "cause", "name",
                     "TIMEOUT_ERROR", "code", -32000, "message", "Server error", "data", "Timeout");
}

char *nemu_rpc_handle_async(nemu_rpc *rc, const char *body, size_t len, nemu_rpc_wait **wait) {
    json_error_t je;
    json_t *req = json_loadb(body, len, 0, &je);
    json_t *id = req ? json_object_get(req, "id") : NULL;
    const char *m = req ? json_string_value(json_object_get(req, "method")) : NULL;
    json_t *err = NULL, *res = NULL;
    nemu_rpc_tick(rc);
    rc->wait_st = -1;
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
    if (!res && !err && rc->wait_st >= 0) {
        if (!wait) {
            err = timeout_error(); /* no way to wait: the timeout has passed at once */
        } else {
            nemu_rpc_wait *wt = calloc(1, sizeof *wt);
            if (!wt) abort();
            wt->id = json_incref(id ? id : json_null());
            wt->st = (size_t)rc->wait_st;
            wt->level = rc->wait_level;
            wt->with_receipts = rc->wait_receipts;
            wt->deadline_ms = now_ms() + rc->o.tx_timeout_ms;
            *wait = wt;
            json_decref(req);
            return NULL;
        }
    }
    char *out = reply_text(id, res, err);
    json_decref(req);
    return out;
}

char *nemu_rpc_handle(nemu_rpc *rc, const char *body, size_t len) {
    return nemu_rpc_handle_async(rc, body, len, NULL);
}

char *nemu_rpc_wait_poll(nemu_rpc *rc, nemu_rpc_wait *wt) {
    nemu_rpc_tick(rc);
    stored_tx *st = &rc->txs[wt->st];
    st_refresh(rc, st);
    json_t *res = NULL, *err = NULL;
    if (!st->open)
        res = stored_answer(rc, st, wt->level, wt->with_receipts);
    else if (now_ms() >= wt->deadline_ms)
        err = timeout_error();
    else
        return NULL;
    char *out = reply_text(wt->id, res, err);
    json_decref(wt->id);
    free(wt);
    return out;
}

void nemu_rpc_wait_free(nemu_rpc_wait *wt) {
    if (!wt) return;
    json_decref(wt->id);
    free(wt);
}
