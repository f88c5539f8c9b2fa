/* emu.c — nemu: a faithful local EMULATION of the NEAR runtime (not a node).
 *
 * The contracts' real wasm runs here: gen-registry.sh has wasm2c turn each
 * module into C, and this file implements NEAR's host functions (module "env",
 * reference/near.md §5.1) following nearcore's near-vm-runner logic.rs and its
 * action/receipt rules. One idea to keep in mind: a receipt is all-or-nothing.
 * Its receiver account is snapshotted before its actions run and restored if
 * any action (or the storage-staking check after them) fails; promises it made
 * are then dropped and its attached deposits go back to its predecessor in a
 * refund receipt, exactly as on NEAR.
 *
 * Modelled (and tested in test_emu.c):
 *  - accounts: balance, locked balance, code, storage, access keys, storage
 *    usage counted like nearcore (100 bytes per account, key + value + 40 per
 *    data record, code length, access keys as borsh + 40);
 *  - storage staking: after a receipt's actions, balance + locked must cover
 *    storage_usage × 10^19 yocto unless usage ≤ 770 bytes (NEP-448 zero-balance
 *    accounts), else the receipt fails with LackBalanceForState;
 *  - transactions: access-key lookup, function-call keys (no deposit, receiver
 *    and method checks), 300 TGas prepaid limit, signer balance;
 *  - actions: CreateAccount (direct sub-account of the predecessor, top-level
 *    names < 32 chars only by `registrar`, no named creation of implicit ids),
 *    DeployContract, FunctionCall (deposit credited before the call), Transfer
 *    (creates 64-hex implicit accounts), AddKey, DeleteKey, DeleteAccount,
 *    actor permissions;
 *  - promises: batch create/then, promise_and, promise_return (the caller's data
 *    receivers move to the returned receipt), callbacks see promise results in
 *    order (1 success + data, 2 failed), function_call_weight shares unused gas;
 *    the receipts a call makes are validated like nearcore's ActionsValidation
 *    (DeleteAccount last, ≤ 100 actions, name/args sizes, ≤ 300 TGas);
 *  - blocks: receipts made in block N run in N+1 or later; a data receipt
 *    reaches its waiting callback in the next block, after the refund receipts
 *    the same execution produced (nearcore emits refunds before data);
 *  - host limits: logs (100 lines, 16 KiB), storage key 2 KiB / value 4 MiB,
 *    returned data 4 MiB, contract size 4 MiB, 1024 promises, 128 input deps;
 *  - views: the same exports read-only; the host functions nearcore marks
 *    ProhibitedInView fail with "<name> is not allowed in view calls";
 *  - memory: like NEAR's imported env.memory, every call starts with 1024 wasm
 *    pages (64 MiB, max 2048), data segments applied; a fresh instance per call.
 *  - gas: nearcore's action fees (send part burnt when a receipt is made,
 *    execution part prepaid and burnt when it runs), host-function costs and
 *    a per-instruction cost, charged to the signer at w->gas_price (10^8);
 *    unused prepaid gas returns to the signer in a refund receipt;
 *  - block history: the state after each change, for views pinned to a block
 *    (nemu_at / nemu_now);
 *  - yield/resume (NEP-519): promise_yield_create makes a callback receipt on
 *    the current account waiting on a data id (32 bytes, written to a
 *    register); promise_yield_resume by the same account delivers a payload
 *    (≤ 1024 bytes) and returns 1, or 0 when the id is unknown, already
 *    resumed or timed out; 200 blocks after the yield the callback runs with a
 *    failed promise result. A transaction's receipt tree stays open across
 *    later transactions and blocks until its last receipt ran (nemu_tx_poll);
 *    nemu_advance_blocks runs the receipts and timeouts those blocks bring.
 * Exact: the wasm instruction count (meter.mjs: the modules call
 * env.nemu_tick(n) per straight-line segment). Approximated: block time (1 s
 * per block).
 * Not modelled: contract rewards (30% of burnt gas), gas price changes and
 * pessimistic pricing, the refund penalty, staking and validators (stake
 * reads 0), global contracts, ETH-implicit accounts, the yield queue's
 * per-chunk limits; a second resume of one yield returns 0 once the first is
 * committed (nearcore may return 1 for it in the same block, but drops its
 * payload: the callback sees the first either way); nemu_tx checks no nonces
 * (nemu-rpc does, for signed transactions: rpc.c).
 */
#include "emu.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <nettle/ripemd160.h>
#include <nettle/sha3.h>
#include <secp256k1.h>
#include <secp256k1_recovery.h>
#include <sodium.h>

#include "host.h"
#include "wasm-rt-impl.h"
#include "wasm-rt.h"

/* ---------------------------------------------------------------- protocol constants */
#define NUM_BYTES_ACCOUNT 100
#define NUM_EXTRA_BYTES_RECORD 40
#define ZERO_BALANCE_LIMIT 770
#define MIN_TOP_LEVEL_LEN 32
#define REGISTRAR "registrar"
#define MAX_LOGS 100
#define MAX_TOTAL_LOG 16384
#define MAX_KEY_LEN 2048
#define MAX_VALUE_LEN 4194304
#define MAX_RETURN_LEN 4194304
#define MAX_CONTRACT_SIZE 4194304
#define MAX_ARGS_LEN 4194304
#define MAX_METHOD_LEN 256
#define MAX_PROMISES 1024
#define MAX_INPUT_DEPS 128
#define MAX_ACTIONS 100
#define MAX_GAS_BURNT (300 * NEMU_TGAS)
#define NEAR_PAGES 1024
#define NEAR_MAX_PAGES 2048
#define WASM_PAGE 65536u
#define MAX_YIELD_PAYLOAD NEMU_MAX_YIELD_PAYLOAD
#define YIELD_TIMEOUT_BLOCKS NEMU_YIELD_TIMEOUT_BLOCKS
/* Action and receipt fees (gas), from nearcore's parameter table
 * (core/parameters/res/runtime_configs/parameters.yaml, values current since
 * protocol 53+): {send_sir, send_not_sir, execution}. "sir" = sender is
 * receiver. The send part is burnt when the receipt is made, the execution
 * part is prepaid then and burnt when the receipt runs. */
typedef struct {
    uint64_t send_sir, send_not_sir, exec;
} fee;
#define FEE3(x)                                                                                    \
    { x, x, x }
static const fee F_RECEIPT = FEE3(108059500000ull);
static const fee F_DATA_BASE = FEE3(36486732312ull);
static const fee F_CREATE = FEE3(99607375000ull);
static const fee F_DEPLOY = FEE3(184765750000ull);
static const fee F_DEPLOY_BYTE = {6812999ull, 47683715ull, 64572944ull};
static const fee F_FC = FEE3(2319861500000ull);
static const fee F_FC_BYTE = FEE3(2235934ull);
static const fee F_TRANSFER = FEE3(115123062500ull);
static const fee F_STAKE = FEE3(141715687500ull);
static const fee F_ADD_FULL = FEE3(101765125000ull);
static const fee F_ADD_FC = FEE3(102217625000ull);
static const fee F_ADD_FC_BYTE = FEE3(1925331ull);
static const fee F_DELETE_KEY = FEE3(94946625000ull);
static const fee F_DELETE_ACCOUNT = FEE3(147489000000ull);
/* nearcore's regular_op_cost: gas per wasm instruction (see Z_envZ_nemu_tick). */
#define FEE_WASM_OP 822756ull

/* The fee table in nearcore's RuntimeFeesConfig JSON shape (for
 * EXPERIMENTAL_protocol_config). */
static void fee_put(char *b, size_t cap, size_t *n, const char *name, const fee *f) {
    *n += (size_t)snprintf(b + *n, cap - *n,
                           "\"%s\":{\"send_sir\":%llu,\"send_not_sir\":%llu,\"execution\":%llu}",
                           name, (unsigned long long)f->send_sir,
                           (unsigned long long)f->send_not_sir, (unsigned long long)f->exec);
}

static const fee F_DATA_BYTE = FEE3(17212011ull);

const char *nemu_fee_table_text(void) {
    /* each row: the JSON text before it, its name, its fee */
    static const struct {
        const char *open, *name;
        const fee *f;
    } rows[] = {
        {"{", "action_receipt_creation_config", &F_RECEIPT},
        {",\"data_receipt_creation_config\":{", "base_cost", &F_DATA_BASE},
        {",", "cost_per_byte", &F_DATA_BYTE},
        {"},\"action_creation_config\":{", "create_account_cost", &F_CREATE},
        {",", "deploy_contract_cost", &F_DEPLOY},
        {",", "deploy_contract_cost_per_byte", &F_DEPLOY_BYTE},
        {",", "function_call_cost", &F_FC},
        {",", "function_call_cost_per_byte", &F_FC_BYTE},
        {",", "transfer_cost", &F_TRANSFER},
        {",", "stake_cost", &F_STAKE},
        {",", "delete_key_cost", &F_DELETE_KEY},
        {",", "delete_account_cost", &F_DELETE_ACCOUNT},
        {",\"add_key_cost\":{", "full_access_cost", &F_ADD_FULL},
        {",", "function_call_cost", &F_ADD_FC},
        {",", "function_call_cost_per_byte", &F_ADD_FC_BYTE},
    };
    static char b[2048];
    size_t n = 0;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        n += (size_t)snprintf(b + n, sizeof b - n, "%s", rows[i].open);
        fee_put(b, sizeof b, &n, rows[i].name, rows[i].f);
    }
    snprintf(b + n, sizeof b - n,
             "}},\"storage_usage_config\":{\"num_bytes_account\":100,"
             "\"num_extra_bytes_record\":40},\"burnt_gas_reward\":[0,1],"
             "\"pessimistic_gas_price_inflation_ratio\":[1,1],\"wasm_regular_op_cost\":%llu}",
             (unsigned long long)FEE_WASM_OP);
    return b;
}

/* Host-function costs (wasm ext costs). */
#define FEE_BASE 264768111ull
#define FEE_STORAGE_WRITE 64196736000ull
#define FEE_STORAGE_READ 56356845750ull
#define FEE_LOG 3543313050ull
#define FEE_YIELD_CREATE_BASE 153411779276ull
#define FEE_YIELD_CREATE_BYTE 15643988ull
#define FEE_YIELD_RESUME_BASE 1195627285210ull
#define FEE_YIELD_RESUME_BYTE 47683715ull

/* ---------------------------------------------------------------- data model */
typedef struct {
    uint8_t *k, *v;
    size_t kl, vl;
} kv;

typedef struct {
    uint8_t pk[33];
    uint64_t nonce;
    int fc;              /* function-call permission */
    nemu_u128 allowance; /* 0 = unlimited */
    char *receiver;
    char *methods; /* comma-separated; "" = any */
} akey;

/* Contract code is immutable and shared between an account and its
 * snapshots in the block history (refcounted). */
typedef struct {
    int refs;
    size_t len;
    uint8_t data[];
} blob;

typedef struct account {
    char id[65];
    nemu_u128 amount, locked;
    blob *code;
    size_t code_len;
    int has_code;
    uint8_t code_hash[32];
    kv *kvs;
    size_t nkv, capkv;
    akey *keys;
    size_t nkeys;
    uint64_t storage_usage;
} account;

typedef struct {
    enum nemu_action_kind kind;
    uint8_t *data;
    size_t len;
    char *name;
    nemu_u128 amount;
    uint64_t gas, weight;
    akey key; /* add/delete key */
} ract;

typedef struct {
    uint64_t data_id;
    char receiver[65];
} data_recv;

typedef struct txrec txrec;

typedef struct receipt {
    uint64_t id;
    txrec *tx; /* the transaction whose receipt tree it belongs to */
    char predecessor[65], receiver[65], signer[65];
    uint8_t signer_pk[33];
    ract *actions;
    size_t nactions;
    uint64_t *inputs;
    size_t ninputs;
    data_recv *outs;
    size_t nouts;
    int refund, gas_refund;
    /* result */
    int done, ok;
    uint64_t returned; /* receipt id whose result is this one's, 0 = none */
    uint8_t *value;
    size_t value_len;
    enum nemu_err err;
    char *error;
    /* a yield callback (promise_yield_create): its input data id as the
     * contract sees it, and a resume made by the same call that created it */
    int is_yield, yield_resumed;
    uint8_t yield_id[32];
    uint8_t *yield_payload;
    size_t yield_payload_len;
} receipt;

/* A transaction until its last receipt ran: the outcome it builds up. */
struct txrec {
    nemu_outcome *o;
    uint64_t first; /* its first receipt */
    int finished;   /* o is final; kept until nemu_tx_poll collects it */
};

/* A yielded callback waiting to be resumed (or to time out). */
typedef struct {
    uint8_t id[32];
    uint64_t data_id;
    char account[65];
    uint64_t expires; /* the block at which it times out */
} yield_ent;

typedef struct {
    uint64_t id;
    int ok;
    uint8_t *bytes;
    size_t len;
    uint64_t height; /* produced in this block; usable from the next one */
} data_item;

struct nemu {
    account **accs;
    size_t naccs;
    uint64_t height, timestamp_ns;
    uint64_t next_id;
    receipt **pending;
    size_t npending;
    receipt **all; /* every receipt of the current transaction */
    size_t nall;
    data_item *data;
    size_t ndata;
    txrec **txs; /* transactions with receipts left, and finished ones not yet polled */
    size_t ntxs;
    txrec *cur_tx; /* the transaction of the receipt being applied */
    yield_ent *yields;
    size_t nyields;
    nemu_u128 gas_price;
    /* block history: the state after each block that changed it (oldest
     * first, at most NEMU_HISTORY), for views pinned to a past block */
    struct snapshot {
        uint64_t height, timestamp_ns;
        account **accs;
        size_t naccs;
    } * hist;
    size_t nhist;
    /* nemu_at: the live state while a past one is shown */
    account **live;
    size_t nlive;
    uint64_t live_height, live_ts;
    int at;
};

/* ---------------------------------------------------------------- small helpers */
static void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) abort();
    return p;
}
static void *xcalloc(size_t a, size_t b) {
    void *p = calloc(a ? a : 1, b ? b : 1);
    if (!p) abort();
    return p;
}
static void *xrealloc(void *p, size_t n) {
    p = realloc(p, n ? n : 1);
    if (!p) abort();
    return p;
}
static uint8_t *xdup(const void *src, size_t n) {
    uint8_t *p = xmalloc(n + 1);
    if (n) memcpy(p, src, n);
    p[n] = 0;
    return p;
}
static char *xstrdup(const char *s) {
    return (char *)xdup(s, strlen(s));
}

static char *xprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xprintf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

char *nemu_u128_str(nemu_u128 v, char *buf) {
    char tmp[48];
    int i = 0;
    do {
        tmp[i++] = (char)('0' + (int)(v % 10));
        v /= 10;
    } while (v);
    for (int j = 0; j < i; j++)
        buf[j] = tmp[i - 1 - j];
    buf[i] = 0;
    return buf;
}

uint8_t *nemu_read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 65536, n = 0;
    uint8_t *b = xmalloc(cap);
    size_t r;
    while ((r = fread(b + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) b = xrealloc(b, cap *= 2);
    }
    fclose(f);
    *len = n;
    return b;
}

static int is_hex_lower(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return 0;
    return 1;
}

int nemu_valid_account_id(const char *id) {
    size_t n = strlen(id);
    if (n < 2 || n > 64) return 0;
    int last_sep = 1; /* at start: a separator may not come first */
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            last_sep = 0;
        } else if (c == '-' || c == '_' || c == '.') {
            if (last_sep) return 0;
            last_sep = 1;
        } else {
            return 0;
        }
    }
    return !last_sep;
}

static int is_implicit(const char *id) {
    return strlen(id) == 64 && is_hex_lower(id, 64);
}

/* account_id is a direct sub-account of parent. */
static int is_direct_sub(const char *id, const char *parent) {
    size_t n = strlen(id), p = strlen(parent);
    if (n <= p + 1 || strcmp(id + n - p, parent) != 0 || id[n - p - 1] != '.') return 0;
    for (size_t i = 0; i + 1 < n - p; i++)
        if (id[i] == '.') return 0;
    return 1;
}

/* ---------------------------------------------------------------- accounts */
static account *find_acc(const nemu *w, const char *id) {
    for (size_t i = 0; i < w->naccs; i++)
        if (strcmp(w->accs[i]->id, id) == 0) return w->accs[i];
    return NULL;
}

static size_t akey_borsh_len(const akey *k) {
    size_t n = 8 + 1; /* nonce + permission tag */
    if (k->fc) {
        n += k->allowance ? 17 : 1;
        n += 4 + strlen(k->receiver);
        n += 4;
        const char *m = k->methods;
        while (*m) {
            const char *c = strchr(m, ',');
            size_t l = c ? (size_t)(c - m) : strlen(m);
            n += 4 + l;
            m += l + (c ? 1 : 0);
        }
    }
    return n;
}
static uint64_t akey_storage(const akey *k) {
    return NUM_EXTRA_BYTES_RECORD + 33 + akey_borsh_len(k);
}

static void akey_copy(akey *d, const akey *s) {
    *d = *s;
    d->receiver = s->receiver ? xstrdup(s->receiver) : NULL;
    d->methods = s->methods ? xstrdup(s->methods) : NULL;
}
static void akey_clear(akey *k) {
    free(k->receiver);
    free(k->methods);
    k->receiver = k->methods = NULL;
}

static account *acc_new(const char *id) {
    account *a = xcalloc(1, sizeof *a);
    snprintf(a->id, sizeof a->id, "%s", id);
    a->storage_usage = NUM_BYTES_ACCOUNT;
    return a;
}

static void blob_unref(blob *b) {
    if (b && --b->refs == 0) free(b);
}

static void acc_free(account *a) {
    if (!a) return;
    blob_unref(a->code);
    for (size_t i = 0; i < a->nkv; i++) {
        free(a->kvs[i].k);
        free(a->kvs[i].v);
    }
    free(a->kvs);
    for (size_t i = 0; i < a->nkeys; i++)
        akey_clear(&a->keys[i]);
    free(a->keys);
    free(a);
}

static account *acc_clone(const account *s) {
    account *a = xmalloc(sizeof *a);
    *a = *s;
    if (a->code) a->code->refs++;
    a->kvs = xcalloc(s->nkv, sizeof(kv));
    a->capkv = s->nkv;
    for (size_t i = 0; i < s->nkv; i++) {
        a->kvs[i].k = xdup(s->kvs[i].k, s->kvs[i].kl);
        a->kvs[i].kl = s->kvs[i].kl;
        a->kvs[i].v = xdup(s->kvs[i].v, s->kvs[i].vl);
        a->kvs[i].vl = s->kvs[i].vl;
    }
    a->keys = xcalloc(s->nkeys, sizeof(akey));
    for (size_t i = 0; i < s->nkeys; i++)
        akey_copy(&a->keys[i], &s->keys[i]);
    return a;
}

static void world_put(nemu *w, account *a) {
    for (size_t i = 0; i < w->naccs; i++)
        if (strcmp(w->accs[i]->id, a->id) == 0) {
            acc_free(w->accs[i]);
            w->accs[i] = a;
            return;
        }
    w->accs = xrealloc(w->accs, (w->naccs + 1) * sizeof *w->accs);
    w->accs[w->naccs++] = a;
}

static void world_remove(nemu *w, const char *id) {
    for (size_t i = 0; i < w->naccs; i++)
        if (strcmp(w->accs[i]->id, id) == 0) {
            acc_free(w->accs[i]);
            w->accs[i] = w->accs[--w->naccs];
            return;
        }
}

/* Binary search in the sorted key list; returns index or -(insert+1). */
static long kv_find(const account *a, const uint8_t *k, size_t kl) {
    size_t lo = 0, hi = a->nkv;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const kv *e = &a->kvs[mid];
        size_t m = e->kl < kl ? e->kl : kl;
        int c = m ? memcmp(e->k, k, m) : 0;
        if (c == 0) c = (e->kl > kl) - (e->kl < kl);
        if (c == 0) return (long)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -(long)lo - 1;
}

static void acc_set_code(account *a, const uint8_t *code, size_t len) {
    if (a->has_code) a->storage_usage -= a->code_len;
    blob_unref(a->code);
    a->code = xmalloc(sizeof(blob) + len);
    a->code->refs = 1;
    a->code->len = len;
    if (len) memcpy(a->code->data, code, len);
    a->code_len = len;
    a->has_code = 1;
    crypto_hash_sha256(a->code_hash, code, len);
    a->storage_usage += len;
}

static void acc_add_key(account *a, const akey *k) {
    a->keys = xrealloc(a->keys, (a->nkeys + 1) * sizeof(akey));
    akey_copy(&a->keys[a->nkeys++], k);
    a->storage_usage += akey_storage(k);
}

static long acc_find_key(const account *a, const uint8_t pk[33]) {
    for (size_t i = 0; i < a->nkeys; i++)
        if (memcmp(a->keys[i].pk, pk, 33) == 0) return (long)i;
    return -1;
}

static int storage_ok(const account *a, nemu_u128 *missing) {
    nemu_u128 need = (nemu_u128)a->storage_usage * NEMU_YOCTO_PER_BYTE;
    nemu_u128 have = a->amount + a->locked;
    if (have >= need || a->storage_usage <= ZERO_BALANCE_LIMIT) return 1;
    *missing = need - have;
    return 0;
}

/* ---------------------------------------------------------------- world */
nemu *nemu_new(void) {
    static int rt_ready;
    if (!rt_ready) {
        wasm_rt_init();
        if (sodium_init() < 0) abort();
        rt_ready = 1;
    }
    nemu *w = xcalloc(1, sizeof *w);
    w->height = 100;
    w->timestamp_ns = 1700000000ull * 1000000000ull;
    w->next_id = 1;
    w->gas_price = NEMU_GAS_PRICE;
    return w;
}

static void snapshot_free(struct snapshot *s) {
    for (size_t i = 0; i < s->naccs; i++)
        acc_free(s->accs[i]);
    free(s->accs);
}

/* Record the state as it is at the current height (replacing a record of the
 * same height). Accounts are cloned; their code is shared. */
static void record_state(nemu *w) {
    if (w->at) abort(); /* state never changes while a past block is shown */
    if (w->nhist && w->hist[w->nhist - 1].height == w->height) {
        snapshot_free(&w->hist[--w->nhist]);
    } else if (w->nhist == NEMU_HISTORY) {
        snapshot_free(&w->hist[0]);
        memmove(w->hist, w->hist + 1, (w->nhist - 1) * sizeof *w->hist);
        w->nhist--;
    }
    w->hist = xrealloc(w->hist, (w->nhist + 1) * sizeof *w->hist);
    struct snapshot *s = &w->hist[w->nhist++];
    s->height = w->height;
    s->timestamp_ns = w->timestamp_ns;
    s->naccs = w->naccs;
    s->accs = xcalloc(w->naccs, sizeof(account *));
    for (size_t i = 0; i < w->naccs; i++)
        s->accs[i] = acc_clone(w->accs[i]);
}

int nemu_at(nemu *w, uint64_t height) {
    if (w->at || height > w->height) return 0;
    const struct snapshot *best = NULL;
    for (size_t i = 0; i < w->nhist; i++)
        if (w->hist[i].height <= height) best = &w->hist[i];
    /* nothing recorded at or before height: the empty genesis, or pruned */
    if (!best && w->nhist == NEMU_HISTORY) return 0;
    w->live = w->accs;
    w->nlive = w->naccs;
    w->live_height = w->height;
    w->live_ts = w->timestamp_ns;
    w->accs = best ? best->accs : NULL;
    w->naccs = best ? best->naccs : 0;
    w->timestamp_ns -= (w->height - height) * 1000000000ull;
    w->height = height;
    w->at = 1;
    return 1;
}

void nemu_now(nemu *w) {
    if (!w->at) return;
    w->accs = w->live;
    w->naccs = w->nlive;
    w->height = w->live_height;
    w->timestamp_ns = w->live_ts;
    w->at = 0;
}

static void receipt_free(receipt *r) {
    if (!r) return;
    for (size_t i = 0; i < r->nactions; i++) {
        free(r->actions[i].data);
        free(r->actions[i].name);
        akey_clear(&r->actions[i].key);
    }
    free(r->actions);
    free(r->inputs);
    free(r->outs);
    free(r->value);
    free(r->error);
    free(r->yield_payload);
    free(r);
}

static void data_clear(nemu *w) {
    for (size_t i = 0; i < w->ndata; i++)
        free(w->data[i].bytes);
    free(w->data);
    w->data = NULL;
    w->ndata = 0;
}

void nemu_free(nemu *w) {
    if (!w) return;
    nemu_now(w);
    for (size_t i = 0; i < w->naccs; i++)
        acc_free(w->accs[i]);
    free(w->accs);
    for (size_t i = 0; i < w->nall; i++)
        receipt_free(w->all[i]);
    free(w->all);
    free(w->pending);
    data_clear(w);
    for (size_t i = 0; i < w->ntxs; i++) {
        nemu_outcome_free(w->txs[i]->o);
        free(w->txs[i]);
    }
    free(w->txs);
    free(w->yields);
    for (size_t i = 0; i < w->nhist; i++)
        snapshot_free(&w->hist[i]);
    free(w->hist);
    free(w);
}

static void genesis_key(const char *id, uint8_t pk[33], int index) {
    uint8_t h[32];
    char buf[128];
    snprintf(buf, sizeof buf, "nemu test key %d for %s", index, id);
    crypto_hash_sha256(h, (const uint8_t *)buf, strlen(buf));
    pk[0] = 0;
    memcpy(pk + 1, h, 32);
}

int nemu_create_account(nemu *w, const char *id, nemu_u128 balance) {
    if (!nemu_valid_account_id(id) || find_acc(w, id)) return 0;
    account *a = acc_new(id);
    a->amount = balance;
    akey k = {0};
    genesis_key(id, k.pk, 0);
    acc_add_key(a, &k);
    world_put(w, a);
    record_state(w);
    return 1;
}

int nemu_create_account_key(nemu *w, const char *id, nemu_u128 balance, const uint8_t pk[33]) {
    if (!nemu_valid_account_id(id) || find_acc(w, id)) return 0;
    account *a = acc_new(id);
    a->amount = balance;
    akey k = {0};
    memcpy(k.pk, pk, 33);
    acc_add_key(a, &k);
    world_put(w, a);
    record_state(w);
    return 1;
}

int nemu_set_code(nemu *w, const char *id, const uint8_t *code, size_t len) {
    account *a = find_acc(w, id);
    if (!a) return 0;
    acc_set_code(a, code, len);
    record_state(w);
    return 1;
}

int nemu_account_exists(const nemu *w, const char *id) {
    return find_acc(w, id) != NULL;
}
nemu_u128 nemu_balance(const nemu *w, const char *id) {
    const account *a = find_acc(w, id);
    return a ? a->amount : 0;
}
uint64_t nemu_storage_usage(const nemu *w, const char *id) {
    const account *a = find_acc(w, id);
    return a ? a->storage_usage : 0;
}
int nemu_code_hash(const nemu *w, const char *id, uint8_t out[32]) {
    const account *a = find_acc(w, id);
    if (!a || !a->has_code) return 0;
    memcpy(out, a->code_hash, 32);
    return 1;
}
size_t nemu_code_len(const nemu *w, const char *id) {
    const account *a = find_acc(w, id);
    return a && a->has_code ? a->code_len : 0;
}
long nemu_storage_get(const nemu *w, const char *id, const uint8_t *key, size_t klen, uint8_t *out,
                      size_t cap) {
    const account *a = find_acc(w, id);
    if (!a) return -1;
    long i = kv_find(a, key, klen);
    if (i < 0) return -1;
    const kv *e = &a->kvs[i];
    if (out) memcpy(out, e->v, e->vl < cap ? e->vl : cap);
    return (long)e->vl;
}
int nemu_storage_patch(nemu *w, const char *id, const uint8_t *key, size_t klen,
                       const uint8_t *value, size_t vlen) {
    account *a = find_acc(w, id);
    if (!a) return 0;
    long i = kv_find(a, key, klen);
    if (i >= 0) {
        kv x = a->kvs[i];
        a->storage_usage -= x.kl + x.vl + NUM_EXTRA_BYTES_RECORD;
        memmove(a->kvs + i, a->kvs + i + 1, (a->nkv - (size_t)i - 1) * sizeof(kv));
        a->nkv--;
        free(x.k);
        free(x.v);
        i = kv_find(a, key, klen);
    }
    if (!value) {
        record_state(w);
        return 1;
    }
    size_t pos = (size_t)(-i - 1);
    if (a->nkv == a->capkv) {
        a->capkv = a->capkv ? a->capkv * 2 : 16;
        a->kvs = xrealloc(a->kvs, a->capkv * sizeof(kv));
    }
    memmove(a->kvs + pos + 1, a->kvs + pos, (a->nkv - pos) * sizeof(kv));
    a->kvs[pos] = (kv){xdup(key, klen), xdup(value, vlen), klen, vlen};
    a->nkv++;
    a->storage_usage += klen + vlen + NUM_EXTRA_BYTES_RECORD;
    record_state(w);
    return 1;
}

size_t nemu_storage_count(const nemu *w, const char *id) {
    const account *a = find_acc(w, id);
    return a ? a->nkv : 0;
}
int nemu_account_key(const nemu *w, const char *id, int index, uint8_t out[33]) {
    const account *a = find_acc(w, id);
    if (!a || index < 0 || (size_t)index >= a->nkeys) return 0;
    memcpy(out, a->keys[index].pk, 33);
    return 1;
}
int nemu_find_key(const nemu *w, const char *id, const uint8_t pk[33]) {
    const account *a = find_acc(w, id);
    return a ? (int)acc_find_key(a, pk) : -1;
}

int nemu_key_info(const nemu *w, const char *id, int index, uint64_t *nonce, int *fc,
                  const char **receiver, const char **methods, nemu_u128 *allowance) {
    const account *a = find_acc(w, id);
    if (!a || index < 0 || (size_t)index >= a->nkeys) return 0;
    const akey *k = &a->keys[index];
    *nonce = k->nonce;
    *fc = k->fc;
    *receiver = k->receiver ? k->receiver : "";
    *methods = k->methods ? k->methods : "";
    *allowance = k->allowance;
    return 1;
}

void nemu_set_key_nonce(nemu *w, const char *id, int index, uint64_t nonce) {
    account *a = find_acc(w, id);
    if (a && index >= 0 && (size_t)index < a->nkeys) {
        a->keys[index].nonce = nonce;
        record_state(w);
    }
}

size_t nemu_key_count(const nemu *w, const char *id) {
    const account *a = find_acc(w, id);
    return a ? a->nkeys : 0;
}
uint64_t nemu_block_height(const nemu *w) {
    return w->height;
}
uint64_t nemu_block_timestamp(const nemu *w) {
    return w->timestamp_ns;
}
nemu_u128 nemu_gas_price(const nemu *w) {
    return w->gas_price;
}
void nemu_set_gas_price(nemu *w, nemu_u128 price) {
    w->gas_price = price;
}
int nemu_set_timestamp(nemu *w, uint64_t ns) {
    if (ns < w->timestamp_ns) return 0;
    w->timestamp_ns = ns;
    return 1;
}

/* ---------------------------------------------------------------- modules */
const nemu_module *nemu_module_by_name(const char *name) {
    for (size_t i = 0; i < nemu_nmodules; i++)
        if (strcmp(nemu_modules[i].name, name) == 0) return &nemu_modules[i];
    return NULL;
}

uint8_t *nemu_module_code(const char *name, size_t *len) {
    const nemu_module *m = nemu_module_by_name(name);
    return m ? nemu_read_file(m->wasm_path, len) : NULL;
}

static const nemu_module *module_by_hash(const uint8_t h[32]) {
    char hex[65];
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", h[i]);
    for (size_t i = 0; i < nemu_nmodules; i++)
        if (strcmp(nemu_modules[i].sha256_hex, hex) == 0) return &nemu_modules[i];
    return NULL;
}

/* ---------------------------------------------------------------- VM context */
typedef struct {
    int used;
    uint8_t *data;
    size_t len;
} reg;

typedef struct {
    int joint;
    size_t receipt; /* index into vm->newr when !joint */
    size_t *deps;   /* receipt indexes when joint */
    size_t ndeps;
} promise;

typedef struct {
    int ok;
    const uint8_t *data;
    size_t len;
} presult;

typedef struct vmctx {
    nemu *w;
    account *acc;
    const receipt *r;
    int view;
    const uint8_t *input;
    size_t input_len;
    nemu_u128 deposit, balance;
    uint64_t storage_usage;
    uint64_t prepaid, burnt, used;
    reg *regs;
    size_t nregs;
    char **logs;
    size_t nlogs, total_log;
    int ret_kind; /* 0 none, 1 value, 2 receipt */
    uint8_t *ret;
    size_t ret_len;
    size_t ret_receipt;
    promise *promises;
    size_t npromises;
    receipt **newr;
    size_t nnewr;
    const presult *results;
    size_t nresults;
    wasm_rt_memory_t *mem;
    enum nemu_err err;
    char *error;
    uint64_t ops_seen; /* nemu_wasm_ops already charged */
    /* promise_yield_resume calls of this execution, committed if it succeeds */
    struct resume {
        uint8_t id[32];
        uint8_t *payload;
        size_t len;
    } * resumes;
    size_t nresumes;
} vmctx;

#define VM(e) ((vmctx *)(void *)(e))

static void herr(vmctx *c, enum nemu_err k, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 3, 4)));
static void herr(vmctx *c, enum nemu_err k, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    free(c->error);
    c->error = xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(c->error, (size_t)n + 1, fmt, ap);
    va_end(ap);
    c->err = k;
    wasm_rt_trap(WASM_RT_TRAP_UNREACHABLE);
}

static void gas_raw(vmctx *c, uint64_t g) {
    c->burnt += g;
    c->used += g;
    if (c->burnt > MAX_GAS_BURNT && !c->view)
        herr(c, NEMU_E_GAS_LIMIT_EXCEEDED,
             "Exceeded the maximum amount of gas allowed to burn per contract.");
    if (c->used > c->prepaid) herr(c, NEMU_E_GAS_EXCEEDED, "Exceeded the prepaid gas.");
}

/* Wasm instruction gas: the metered modules (tests/near/meter.mjs) call
 * env.nemu_tick(n) before each straight-line segment of n instructions, so
 * nemu_wasm_ops is the exact count of instructions executed (as NEAR charges
 * them); nemu_wasm_ops_over() runs once it passes nemu_wasm_ops_limit, which
 * is where the call's gas would run out. */
uint64_t nemu_wasm_ops, nemu_wasm_ops_limit = UINT64_MAX;
static vmctx *cur_vm;

static void sync_ops(vmctx *c) {
    uint64_t d = nemu_wasm_ops - c->ops_seen;
    c->ops_seen = nemu_wasm_ops;
    if (d) gas_raw(c, d > UINT64_MAX / FEE_WASM_OP ? UINT64_MAX / 2 : d * FEE_WASM_OP);
    uint64_t left = c->prepaid > c->used ? c->prepaid - c->used : 0;
    if (!c->view) {
        uint64_t burn = MAX_GAS_BURNT > c->burnt ? MAX_GAS_BURNT - c->burnt : 0;
        if (burn < left) left = burn;
    }
    nemu_wasm_ops_limit = nemu_wasm_ops + left / FEE_WASM_OP + 1;
}

void Z_envZ_nemu_tick(struct Z_env_instance_t *e, uint64_t n) {
    (void)e;
    if ((nemu_wasm_ops += n) > nemu_wasm_ops_limit) nemu_wasm_ops_over();
}

void nemu_wasm_ops_over(void) {
    if (cur_vm) sync_ops(cur_vm);
}

static void gas(vmctx *c, uint64_t g) {
    sync_ops(c);
    gas_raw(c, g);
}
static void prepay(vmctx *c, uint64_t g) {
    c->used += g;
    if (c->used > c->prepaid || c->used < g)
        herr(c, NEMU_E_GAS_EXCEEDED, "Exceeded the prepaid gas.");
}

/* The fee of an action (base + n × per byte) added to receipt r by the running
 * contract: the send part is burnt now, the execution part prepaid. */
static void action_fee(vmctx *c, const receipt *r, const fee *base, const fee *per, uint64_t n) {
    int sir = strcmp(r->receiver, c->acc->id) == 0;
    uint64_t send = sir ? base->send_sir : base->send_not_sir;
    if (per) send += n * (sir ? per->send_sir : per->send_not_sir);
    gas(c, send);
    prepay(c, base->exec + (per ? n * per->exec : 0));
}

static void no_view(vmctx *c, const char *name) {
    if (c->view) herr(c, NEMU_E_PROHIBITED_IN_VIEW, "%s is not allowed in view calls", name);
}

static uint8_t *mem_at(vmctx *c, uint64_t ptr, uint64_t len) {
    if (ptr > c->mem->size || len > c->mem->size - ptr)
        herr(c, NEMU_E_HOST, "Accessed memory outside the bounds.");
    return c->mem->data + ptr;
}

static reg *reg_get(vmctx *c, uint64_t id) {
    if (id < c->nregs && c->regs[id].used) return &c->regs[id];
    return NULL;
}

static void reg_set(vmctx *c, uint64_t id, const uint8_t *d, size_t n) {
    if (id > 100000) herr(c, NEMU_E_HOST, "Accessed memory outside the bounds.");
    if (id >= c->nregs) {
        c->regs = xrealloc(c->regs, (id + 1) * sizeof(reg));
        memset(c->regs + c->nregs, 0, (id + 1 - c->nregs) * sizeof(reg));
        c->nregs = id + 1;
    }
    uint8_t *copy = xdup(d, n); /* d may point into the old value */
    free(c->regs[id].data);
    c->regs[id] = (reg){1, copy, n};
}

/* nearcore get_memory_or_register: len == u64::MAX means "ptr is a register id". */
static const uint8_t *mem_or_reg(vmctx *c, uint64_t ptr, uint64_t len, size_t *out) {
    if (len == UINT64_MAX) {
        reg *r = reg_get(c, ptr);
        if (!r)
            herr(c, NEMU_E_HOST, "%llu does not correspond to existing registers",
                 (unsigned long long)ptr);
        *out = r->len;
        return r->data;
    }
    *out = (size_t)len;
    return mem_at(c, ptr, len);
}

static nemu_u128 get_u128(vmctx *c, uint64_t ptr) {
    const uint8_t *p = mem_at(c, ptr, 16);
    nemu_u128 v = 0;
    for (int i = 15; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}
static void set_u128(vmctx *c, uint64_t ptr, nemu_u128 v) {
    uint8_t *p = mem_at(c, ptr, 16);
    for (int i = 0; i < 16; i++) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

static int utf8_valid(const uint8_t *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint8_t b = s[i];
        size_t k;
        uint32_t cp;
        if (b < 0x80) {
            i++;
            continue;
        } else if ((b & 0xe0) == 0xc0) {
            k = 1;
            cp = b & 0x1f;
        } else if ((b & 0xf0) == 0xe0) {
            k = 2;
            cp = b & 0x0f;
        } else if ((b & 0xf8) == 0xf0) {
            k = 3;
            cp = b & 0x07;
        } else {
            return 0;
        }
        if (i + k >= n) return 0;
        for (size_t j = 1; j <= k; j++) {
            if (i + j >= n || (s[i + j] & 0xc0) != 0x80) return 0;
            cp = (cp << 6) | (s[i + j] & 0x3f);
        }
        if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
            cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += k + 1;
    }
    return 1;
}

/* nearcore get_utf8_string: len == u64::MAX means NUL-terminated. */
static char *get_utf8(vmctx *c, uint64_t len, uint64_t ptr) {
    uint64_t max = MAX_TOTAL_LOG - (c->total_log < MAX_TOTAL_LOG ? c->total_log : MAX_TOTAL_LOG);
    const uint8_t *p;
    size_t n;
    if (len != UINT64_MAX) {
        if (len > max)
            herr(c, NEMU_E_HOST, "The length of the logs %llu exceeds the limit %d",
                 (unsigned long long)(c->total_log + len), MAX_TOTAL_LOG);
        p = mem_at(c, ptr, len);
        n = (size_t)len;
    } else {
        p = mem_at(c, ptr, 1);
        n = 0;
        for (;;) {
            const uint8_t *q = mem_at(c, ptr + n, 1);
            if (*q == 0) break;
            if (n == max)
                herr(c, NEMU_E_HOST, "The length of the logs exceeds the limit %d", MAX_TOTAL_LOG);
            n++;
        }
    }
    if (!utf8_valid(p, n)) herr(c, NEMU_E_HOST, "String encoding is bad UTF-8 sequence.");
    return (char *)xdup(p, n);
}

static void push_log(vmctx *c, char *msg) {
    size_t n = strlen(msg);
    c->total_log += n;
    if (c->total_log > MAX_TOTAL_LOG) {
        free(msg);
        herr(c, NEMU_E_HOST, "The length of the logs %zu exceeds the limit %d", c->total_log,
             MAX_TOTAL_LOG);
    }
    c->logs = xrealloc(c->logs, (c->nlogs + 1) * sizeof(char *));
    c->logs[c->nlogs++] = msg;
}

static void check_log_count(vmctx *c) {
    if (c->nlogs >= MAX_LOGS)
        herr(c, NEMU_E_HOST, "The number of logs will exceed the limit %d", MAX_LOGS);
}

/* Host errors unwind with longjmp, so nothing here allocates before its checks. */
static void read_account_id(vmctx *c, uint64_t len, uint64_t ptr, char out[65]) {
    size_t n;
    const uint8_t *p = mem_or_reg(c, ptr, len, &n);
    if (!utf8_valid(p, n)) herr(c, NEMU_E_HOST, "String encoding is bad UTF-8 sequence.");
    if (n > 64) herr(c, NEMU_E_HOST, "VM Logic returned an invalid account id");
    memcpy(out, p, n);
    out[n] = 0;
    if (!nemu_valid_account_id(out))
        herr(c, NEMU_E_HOST, "VM Logic returned an invalid account id");
}

/* ---------------------------------------------------------------- host: registers */
void Z_envZ_read_register(struct Z_env_instance_t *e, uint64_t id, uint64_t ptr) {
    vmctx *c = VM(e);
    gas(c, FEE_BASE);
    reg *r = reg_get(c, id);
    if (!r)
        herr(c, NEMU_E_HOST, "%llu does not correspond to existing registers",
             (unsigned long long)id);
    if (r->len) memcpy(mem_at(c, ptr, r->len), r->data, r->len);
}
uint64_t Z_envZ_register_len(struct Z_env_instance_t *e, uint64_t id) {
    vmctx *c = VM(e);
    gas(c, FEE_BASE);
    reg *r = reg_get(c, id);
    return r ? r->len : UINT64_MAX;
}
void Z_envZ_write_register(struct Z_env_instance_t *e, uint64_t id, uint64_t len, uint64_t ptr) {
    vmctx *c = VM(e);
    gas(c, FEE_BASE);
    const uint8_t *p = mem_at(c, ptr, len);
    reg_set(c, id, p, (size_t)len);
}

/* ---------------------------------------------------------------- host: context */
void Z_envZ_current_account_id(struct Z_env_instance_t *e, uint64_t id) {
    vmctx *c = VM(e);
    gas(c, FEE_BASE);
    reg_set(c, id, (const uint8_t *)c->acc->id, strlen(c->acc->id));
}
void Z_envZ_signer_account_id(struct Z_env_instance_t *e, uint64_t id) {
    vmctx *c = VM(e);
    gas(c, FEE_BASE);
    no_view(c, "signer_account_id");
    reg_set(c, id, (const uint8_t *)c->r->signer, strlen(c->r->signer));
}
void Z_envZ_signer_account_pk(struct Z_env_instance_t *e, uint64_t id) {
    vmctx *c = VM(e);
    gas(c, FEE_BASE);
    no_view(c, "signer_account_pk");
    reg_set(c, id, c->r->signer_pk, 33);
}
void Z_envZ_predecessor_account_id(struct Z_env_instance_t *e, uint64_t id) {
    vmctx *c = VM(e);
    gas(c, FEE_BASE);
    no_view(c, "predecessor_account_id");
    reg_set(c, id, (const uint8_t *)c->r->predecessor, strlen(c->r->predecessor));
}
void Z_envZ_input(struct Z_env_instance_t *e, uint64_t id) {
    vmctx *c = VM(e);
    gas(c, FEE_BASE);
    reg_set(c, id, c->input, c->input_len);
}
uint64_t Z_envZ_block_index(struct Z_env_instance_t *e) {
    gas(VM(e), FEE_BASE);
    return VM(e)->w->height;
}
uint64_t Z_envZ_block_timestamp(struct Z_env_instance_t *e) {
    gas(VM(e), FEE_BASE);
    return VM(e)->w->timestamp_ns;
}
uint64_t Z_envZ_epoch_height(struct Z_env_instance_t *e) {
    gas(VM(e), FEE_BASE);
    return VM(e)->w->height / 43200;
}
uint64_t Z_envZ_storage_usage(struct Z_env_instance_t *e) {
    gas(VM(e), FEE_BASE);
    return VM(e)->storage_usage;
}

/* ---------------------------------------------------------------- host: economics */
void Z_envZ_account_balance(struct Z_env_instance_t *e, uint64_t ptr) {
    vmctx *c = VM(e);
    gas(c, FEE_BASE);
    set_u128(c, ptr, c->balance);
}
void Z_envZ_account_locked_balance(struct Z_env_instance_t *e, uint64_t ptr) {
    vmctx *c = VM(e);
    gas(c, FEE_BASE);
    set_u128(c, ptr, c->acc->locked);
}
void Z_envZ_attached_deposit(struct Z_env_instance_t *e, uint64_t ptr) {
    /* nearcore's logic.rs no longer rejects this in views (the deposit is 0 there). */
    vmctx *c = VM(e);
    gas(c, FEE_BASE);
    set_u128(c, ptr, c->deposit);
}
uint64_t Z_envZ_prepaid_gas(struct Z_env_instance_t *e) {
    vmctx *c = VM(e);
    gas(c, FEE_BASE);
    no_view(c, "prepaid_gas");
    return c->prepaid;
}
uint64_t Z_envZ_used_gas(struct Z_env_instance_t *e) {
    vmctx *c = VM(e);
    gas(c, FEE_BASE);
    no_view(c, "used_gas");
    return c->used;
}

/* ---------------------------------------------------------------- host: math */
void Z_envZ_random_seed(struct Z_env_instance_t *e, uint64_t id) {
    vmctx *c = VM(e);
    gas(c, FEE_BASE);
    uint8_t h[32];
    char buf[64];
    snprintf(buf, sizeof buf, "nemu random seed %llu", (unsigned long long)c->w->height);
    crypto_hash_sha256(h, (const uint8_t *)buf, strlen(buf));
    reg_set(c, id, h, 32);
}
static void keccak(const uint8_t *p, size_t n, size_t rate, uint8_t *out, size_t outlen) {
    struct sha3_state st;
    memset(&st, 0, sizeof st);
    uint8_t block[200];
    for (;;) {
        size_t take = n < rate ? n : rate;
        memset(block, 0, rate);
        memcpy(block, p, take);
        int last = take < rate;
        if (last) {
            block[take] ^= 0x01;
            block[rate - 1] ^= 0x80;
        }
        for (size_t i = 0; i < rate / 8; i++) {
            uint64_t lane = 0;
            for (int b = 7; b >= 0; b--)
                lane = (lane << 8) | block[i * 8 + (size_t)b];
            st.a[i] ^= lane;
        }
        sha3_permute(&st);
        if (last) break;
        p += take;
        n -= take;
    }
    for (size_t i = 0; i < outlen; i++)
        out[i] = (uint8_t)(st.a[i / 8] >> (8 * (i % 8)));
}

/* The hash host functions differ only in their fee and their digest: charge,
 * read the input (memory, or a register when len is u64::MAX), hash into
 * register id. */
typedef void (*digest_fn)(const uint8_t *p, size_t n, uint8_t *out);

static void hash_to_register(struct Z_env_instance_t *e, uint64_t cost, uint64_t len, uint64_t ptr,
                             uint64_t id, digest_fn digest, size_t outlen) {
    vmctx *c = VM(e);
    gas(c, FEE_BASE + cost);
    size_t n;
    const uint8_t *p = mem_or_reg(c, ptr, len, &n);
    uint8_t h[64];
    digest(p, n, h);
    reg_set(c, id, h, outlen);
}

static void sha256_digest(const uint8_t *p, size_t n, uint8_t *out) {
    crypto_hash_sha256(out, p, n);
}
static void keccak256_digest(const uint8_t *p, size_t n, uint8_t *out) {
    keccak(p, n, 136, out, 32);
}
static void keccak512_digest(const uint8_t *p, size_t n, uint8_t *out) {
    keccak(p, n, 72, out, 64);
}
static void ripemd160_of(const uint8_t *p, size_t n, uint8_t *out) {
    struct ripemd160_ctx ctx;
    ripemd160_init(&ctx);
    ripemd160_update(&ctx, n, p);
    ripemd160_digest(&ctx, 20, out);
}

void Z_envZ_sha256(struct Z_env_instance_t *e, uint64_t len, uint64_t ptr, uint64_t id) {
    hash_to_register(e, 4540970250ull, len, ptr, id, sha256_digest, 32);
}
void Z_envZ_keccak256(struct Z_env_instance_t *e, uint64_t len, uint64_t ptr, uint64_t id) {
    hash_to_register(e, 5879491275ull, len, ptr, id, keccak256_digest, 32);
}
void Z_envZ_keccak512(struct Z_env_instance_t *e, uint64_t len, uint64_t ptr, uint64_t id) {
    hash_to_register(e, 5811388236ull, len, ptr, id, keccak512_digest, 64);
}
void Z_envZ_ripemd160(struct Z_env_instance_t *e, uint64_t len, uint64_t ptr, uint64_t id) {
    hash_to_register(e, 853675086ull, len, ptr, id, ripemd160_of, 20);
}

uint64_t Z_envZ_ecrecover(struct Z_env_instance_t *e, uint64_t hash_len, uint64_t hash_ptr,
                          uint64_t sig_len, uint64_t sig_ptr, uint64_t v, uint64_t malleability,
                          uint64_t id) {
    vmctx *c = VM(e);
    gas(c, FEE_BASE + 278821988457ull);
    size_t hn, sn;
    const uint8_t *h = mem_or_reg(c, hash_ptr, hash_len, &hn);
    if (hn != 32)
        herr(c, NEMU_E_HOST, "ECRecoverError { msg: \"The input hash is not 32 bytes\" }");
    uint8_t hash[32];
    memcpy(hash, h, 32);
    const uint8_t *s = mem_or_reg(c, sig_ptr, sig_len, &sn);
    if (sn != 64)
        herr(c, NEMU_E_HOST, "ECRecoverError { msg: \"The input signature is not 64 bytes\" }");
    uint8_t sig[64];
    memcpy(sig, s, 64);
    if (v >= 4)
        herr(c, NEMU_E_HOST,
             "ECRecoverError { msg: \"V recovery byte 0 through 3 are valid but was %llu\" }",
             (unsigned long long)v);
    if (malleability > 1)
        herr(c, NEMU_E_HOST, "ECRecoverError { msg: \"Malleability flag needs to be 0 or 1\" }");
    /* s must be in the lower half of the order when the flag is set */
    static const uint8_t half[32] = {0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                     0x5d, 0x57, 0x6e, 0x73, 0x57, 0xa4, 0x50, 0x1d,
                                     0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0};
    if (malleability && memcmp(sig + 32, half, 32) > 0) return 0;
    static secp256k1_context *ctx;
    if (!ctx) ctx = secp256k1_context_create(SECP256K1_CONTEXT_VERIFY);
    secp256k1_ecdsa_recoverable_signature rs;
    secp256k1_pubkey pk;
    if (!secp256k1_ecdsa_recoverable_signature_parse_compact(ctx, &rs, sig, (int)v)) return 0;
    if (!secp256k1_ecdsa_recover(ctx, &pk, &rs, hash)) return 0;
    uint8_t out[65];
    size_t olen = 65;
    secp256k1_ec_pubkey_serialize(ctx, out, &olen, &pk, SECP256K1_EC_UNCOMPRESSED);
    reg_set(c, id, out + 1, 64);
    return 1;
}

uint64_t Z_envZ_ed25519_verify(struct Z_env_instance_t *e, uint64_t sig_len, uint64_t sig_ptr,
                               uint64_t msg_len, uint64_t msg_ptr, uint64_t pk_len,
                               uint64_t pk_ptr) {
    vmctx *c = VM(e);
    gas(c, FEE_BASE + 210000000000ull);
    size_t sn, mn, pn;
    const uint8_t *s = mem_or_reg(c, sig_ptr, sig_len, &sn);
    if (sn != 64)
        herr(c, NEMU_E_HOST, "Ed25519VerifyInvalidInput { msg: \"invalid signature length\" }");
    uint8_t sig[64];
    memcpy(sig, s, 64);
    if (sig[63] & 0xe0) return 0;
    const uint8_t *m = mem_or_reg(c, msg_ptr, msg_len, &mn);
    const uint8_t *p = mem_or_reg(c, pk_ptr, pk_len, &pn);
    if (pn != 32)
        herr(c, NEMU_E_HOST, "Ed25519VerifyInvalidInput { msg: \"invalid public key length\" }");
    return crypto_sign_verify_detached(sig, m, mn, p) == 0 ? 1 : 0;
}

/* ---------------------------------------------------------------- host: misc */
void Z_envZ_value_return(struct Z_env_instance_t *e, uint64_t len, uint64_t ptr) {
    vmctx *c = VM(e);
    gas(c, FEE_BASE);
    size_t n;
    const uint8_t *p = mem_or_reg(c, ptr, len, &n);
    if (n > MAX_RETURN_LEN)
        herr(c, NEMU_E_HOST, "The length of a returned value %zu exceeds the limit %d", n,
             MAX_RETURN_LEN);
    free(c->ret);
    c->ret = xdup(p, n);
    c->ret_len = n;
    c->ret_kind = 1;
}
void Z_envZ_panic(struct Z_env_instance_t *e) {
    vmctx *c = VM(e);
    gas(c, FEE_BASE);
    herr(c, NEMU_E_GUEST_PANIC, "Smart contract panicked: explicit guest panic");
}
void Z_envZ_panic_utf8(struct Z_env_instance_t *e, uint64_t len, uint64_t ptr) {
    vmctx *c = VM(e);
    gas(c, FEE_BASE);
    char *m = get_utf8(c, len, ptr);
    char *msg = xprintf("Smart contract panicked: %s", m);
    free(m);
    free(c->error);
    c->error = msg;
    c->err = NEMU_E_GUEST_PANIC;
    wasm_rt_trap(WASM_RT_TRAP_UNREACHABLE);
}
void Z_envZ_log_utf8(struct Z_env_instance_t *e, uint64_t len, uint64_t ptr) {
    vmctx *c = VM(e);
    gas(c, FEE_BASE);
    check_log_count(c);
    gas(c, FEE_LOG);
    char *m = get_utf8(c, len, ptr);
    push_log(c, m);
}

/* UTF-16LE → UTF-8; returns NULL if malformed. */
static char *utf16_to_utf8(const uint8_t *p, size_t n) {
    if (n % 2) return NULL;
    char *out = xmalloc(n * 2 + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i += 2) {
        uint32_t u = (uint32_t)p[i] | ((uint32_t)p[i + 1] << 8);
        if (u >= 0xd800 && u <= 0xdbff) {
            if (i + 3 >= n) goto bad;
            uint32_t l = (uint32_t)p[i + 2] | ((uint32_t)p[i + 3] << 8);
            if (l < 0xdc00 || l > 0xdfff) goto bad;
            u = 0x10000 + ((u - 0xd800) << 10) + (l - 0xdc00);
            i += 2;
        } else if (u >= 0xdc00 && u <= 0xdfff) {
            goto bad;
        }
        if (u < 0x80) {
            out[o++] = (char)u;
        } else if (u < 0x800) {
            out[o++] = (char)(0xc0 | (u >> 6));
            out[o++] = (char)(0x80 | (u & 0x3f));
        } else if (u < 0x10000) {
            out[o++] = (char)(0xe0 | (u >> 12));
            out[o++] = (char)(0x80 | ((u >> 6) & 0x3f));
            out[o++] = (char)(0x80 | (u & 0x3f));
        } else {
            out[o++] = (char)(0xf0 | (u >> 18));
            out[o++] = (char)(0x80 | ((u >> 12) & 0x3f));
            out[o++] = (char)(0x80 | ((u >> 6) & 0x3f));
            out[o++] = (char)(0x80 | (u & 0x3f));
        }
    }
    out[o] = 0;
    return out;
bad:
    free(out);
    return NULL;
}

static char *get_utf16(vmctx *c, uint64_t len, uint64_t ptr) {
    uint64_t max = MAX_TOTAL_LOG - (c->total_log < MAX_TOTAL_LOG ? c->total_log : MAX_TOTAL_LOG);
    if (len == UINT64_MAX) {
        len = 0;
        for (;;) {
            const uint8_t *q = mem_at(c, ptr + len, 2);
            if (q[0] == 0 && q[1] == 0) break;
            len += 2;
            if (len > max)
                herr(c, NEMU_E_HOST, "The length of the logs exceeds the limit %d", MAX_TOTAL_LOG);
        }
    }
    const uint8_t *p = mem_at(c, ptr, len);
    if (len > max)
        herr(c, NEMU_E_HOST, "The length of the logs exceeds the limit %d", MAX_TOTAL_LOG);
    char *s = utf16_to_utf8(p, (size_t)len);
    if (!s) herr(c, NEMU_E_HOST, "String encoding is bad UTF-16 sequence.");
    return s;
}

void Z_envZ_log_utf16(struct Z_env_instance_t *e, uint64_t len, uint64_t ptr) {
    vmctx *c = VM(e);
    gas(c, FEE_BASE);
    check_log_count(c);
    gas(c, FEE_LOG);
    char *m = get_utf16(c, len, ptr);
    push_log(c, m);
}

void Z_envZ_abort(struct Z_env_instance_t *e, uint32_t msg_ptr, uint32_t file_ptr, uint32_t line,
                  uint32_t col) {
    vmctx *c = VM(e);
    gas(c, FEE_BASE);
    if (msg_ptr < 4 || file_ptr < 4)
        herr(c, NEMU_E_HOST, "String encoding is bad UTF-16 sequence.");
    check_log_count(c);
    const uint8_t *ml = mem_at(c, msg_ptr - 4, 4), *fl = mem_at(c, file_ptr - 4, 4);
    uint32_t mlen =
        (uint32_t)ml[0] | (uint32_t)ml[1] << 8 | (uint32_t)ml[2] << 16 | (uint32_t)ml[3] << 24;
    uint32_t flen =
        (uint32_t)fl[0] | (uint32_t)fl[1] << 8 | (uint32_t)fl[2] << 16 | (uint32_t)fl[3] << 24;
    char *m = get_utf16(c, mlen, msg_ptr);
    char *f = get_utf16(c, flen, file_ptr);
    char *msg = xprintf("%s, filename: \"%s\" line: %u col: %u", m, f, line, col);
    free(m);
    free(f);
    push_log(c, xprintf("ABORT: %s", msg));
    free(c->error);
    c->error = xprintf("Smart contract panicked: %s", msg);
    free(msg);
    c->err = NEMU_E_GUEST_PANIC;
    wasm_rt_trap(WASM_RT_TRAP_UNREACHABLE);
}

/* ---------------------------------------------------------------- host: promises */
static receipt *new_receipt(nemu *w, const char *pred, const char *recv, const char *signer,
                            const uint8_t signer_pk[33]) {
    receipt *r = xcalloc(1, sizeof *r);
    r->id = w->next_id++;
    snprintf(r->predecessor, sizeof r->predecessor, "%s", pred);
    snprintf(r->receiver, sizeof r->receiver, "%s", recv);
    snprintf(r->signer, sizeof r->signer, "%s", signer);
    if (signer_pk) memcpy(r->signer_pk, signer_pk, 33);
    return r;
}

static ract *add_action(receipt *r) {
    r->actions = xrealloc(r->actions, (r->nactions + 1) * sizeof(ract));
    ract *a = &r->actions[r->nactions++];
    memset(a, 0, sizeof *a);
    return a;
}

static uint64_t push_promise(vmctx *c, promise p) {
    c->promises = xrealloc(c->promises, (c->npromises + 1) * sizeof(promise));
    c->promises[c->npromises++] = p;
    if (c->npromises > MAX_PROMISES)
        herr(c, NEMU_E_HOST, "Exceeded the maximum number of promises %d", MAX_PROMISES);
    return c->npromises - 1;
}

static receipt *promise_receipt(vmctx *c, uint64_t idx) {
    if (idx >= c->npromises)
        herr(c, NEMU_E_HOST, "%llu does not correspond to existing promises",
             (unsigned long long)idx);
    if (c->promises[idx].joint)
        herr(c, NEMU_E_HOST, "Actions can only be appended to non-joint promise.");
    return c->newr[c->promises[idx].receipt];
}

uint64_t Z_envZ_promise_batch_create(struct Z_env_instance_t *e, uint64_t len, uint64_t ptr) {
    vmctx *c = VM(e);
    gas(c, FEE_BASE);
    no_view(c, "promise_batch_create");
    char id[65];
    read_account_id(c, len, ptr, id);
    receipt *r = new_receipt(c->w, c->acc->id, id, c->r->signer, c->r->signer_pk);
    c->newr = xrealloc(c->newr, (c->nnewr + 1) * sizeof(receipt *));
    c->newr[c->nnewr++] = r;
    action_fee(c, r, &F_RECEIPT, NULL, 0);
    return push_promise(c, (promise){0, c->nnewr - 1, NULL, 0});
}

static uint64_t data_id_next(vmctx *c) {
    return c->w->next_id++;
}

uint64_t Z_envZ_promise_batch_then(struct Z_env_instance_t *e, uint64_t idx, uint64_t len,
                                   uint64_t ptr) {
    vmctx *c = VM(e);
    gas(c, FEE_BASE);
    no_view(c, "promise_batch_then");
    char id[65];
    read_account_id(c, len, ptr, id);
    if (idx >= c->npromises) {
        herr(c, NEMU_E_HOST, "%llu does not correspond to existing promises",
             (unsigned long long)idx);
    }
    promise p = c->promises[idx];
    size_t one = p.receipt;
    const size_t *deps = p.joint ? p.deps : &one;
    size_t ndeps = p.joint ? p.ndeps : 1;
    receipt *r = new_receipt(c->w, c->acc->id, id, c->r->signer, c->r->signer_pk);
    c->newr = xrealloc(c->newr, (c->nnewr + 1) * sizeof(receipt *));
    c->newr[c->nnewr++] = r;
    action_fee(c, r, &F_RECEIPT, NULL, 0);
    /* a data receipt has no receipt of its own here: burn both its parts now */
    gas(c, ndeps * (F_DATA_BASE.send_not_sir + F_DATA_BASE.exec));
    r->inputs = xcalloc(ndeps, sizeof(uint64_t));
    for (size_t i = 0; i < ndeps; i++) {
        receipt *d = c->newr[deps[i]];
        uint64_t did = data_id_next(c);
        d->outs = xrealloc(d->outs, (d->nouts + 1) * sizeof(data_recv));
        d->outs[d->nouts].data_id = did;
        snprintf(d->outs[d->nouts].receiver, 65, "%s", r->receiver);
        d->nouts++;
        r->inputs[r->ninputs++] = did;
    }
    return push_promise(c, (promise){0, c->nnewr - 1, NULL, 0});
}

uint64_t Z_envZ_promise_and(struct Z_env_instance_t *e, uint64_t ptr, uint64_t count) {
    vmctx *c = VM(e);
    gas(c, FEE_BASE);
    no_view(c, "promise_and");
    if (count > UINT64_MAX / 8) herr(c, NEMU_E_HOST, "Integer overflow.");
    const uint8_t *p = mem_at(c, ptr, count * 8);
    size_t *deps = NULL, nd = 0;
    for (uint64_t i = 0; i < count; i++) {
        uint64_t idx = 0;
        for (int b = 7; b >= 0; b--)
            idx = (idx << 8) | p[i * 8 + (uint64_t)b];
        if (idx >= c->npromises) {
            free(deps);
            herr(c, NEMU_E_HOST, "%llu does not correspond to existing promises",
                 (unsigned long long)idx);
        }
        promise q = c->promises[idx];
        size_t add = q.joint ? q.ndeps : 1;
        deps = xrealloc(deps, (nd + add) * sizeof(size_t));
        if (q.joint)
            memcpy(deps + nd, q.deps, q.ndeps * sizeof(size_t));
        else
            deps[nd] = q.receipt;
        nd += add;
        if (nd > MAX_INPUT_DEPS) {
            free(deps);
            herr(c, NEMU_E_HOST, "Exceeded the maximum number of input data dependencies %d",
                 MAX_INPUT_DEPS);
        }
    }
    return push_promise(c, (promise){1, 0, deps, nd});
}

static void add_fc(vmctx *c, receipt *r, uint64_t mlen, uint64_t mptr, uint64_t alen, uint64_t aptr,
                   uint64_t amount_ptr, uint64_t g, uint64_t weight) {
    nemu_u128 amount = get_u128(c, amount_ptr);
    size_t mn, an;
    const uint8_t *m = mem_or_reg(c, mptr, mlen, &mn);
    if (mn == 0) herr(c, NEMU_E_HOST, "Method name is empty in contract call");
    const uint8_t *a = mem_or_reg(c, aptr, alen, &an);
    action_fee(c, r, &F_FC, &F_FC_BYTE, mn + an);
    prepay(c, g);
    if (amount > c->balance) herr(c, NEMU_E_BALANCE_EXCEEDED, "Exceeded the account balance.");
    c->balance -= amount;
    uint8_t *mcopy = xdup(m, mn);
    uint8_t *acopy = xdup(a, an);
    ract *x = add_action(r);
    x->kind = NEMU_A_FUNCTION_CALL;
    x->name = (char *)mcopy;
    x->data = acopy;
    x->len = an;
    x->amount = amount;
    x->gas = g;
    x->weight = weight;
}

uint64_t Z_envZ_promise_create(struct Z_env_instance_t *e, uint64_t alen, uint64_t aptr,
                               uint64_t mlen, uint64_t mptr, uint64_t arglen, uint64_t argptr,
                               uint64_t amount_ptr, uint64_t g) {
    uint64_t idx = Z_envZ_promise_batch_create(e, alen, aptr);
    vmctx *c = VM(e);
    gas(c, FEE_BASE);
    add_fc(c, promise_receipt(c, idx), mlen, mptr, arglen, argptr, amount_ptr, g, 0);
    return idx;
}

uint64_t Z_envZ_promise_then(struct Z_env_instance_t *e, uint64_t pidx, uint64_t alen,
                             uint64_t aptr, uint64_t mlen, uint64_t mptr, uint64_t arglen,
                             uint64_t argptr, uint64_t amount_ptr, uint64_t g) {
    uint64_t idx = Z_envZ_promise_batch_then(e, pidx, alen, aptr);
    vmctx *c = VM(e);
    gas(c, FEE_BASE);
    add_fc(c, promise_receipt(c, idx), mlen, mptr, arglen, argptr, amount_ptr, g, 0);
    return idx;
}

void Z_envZ_promise_batch_action_create_account(struct Z_env_instance_t *e, uint64_t idx) {
    vmctx *c = VM(e);
    gas(c, FEE_BASE);
    no_view(c, "promise_batch_action_create_account");
    receipt *r = promise_receipt(c, idx);
    action_fee(c, r, &F_CREATE, NULL, 0);
    add_action(r)->kind = NEMU_A_CREATE_ACCOUNT;
}

void Z_envZ_promise_batch_action_deploy_contract(struct Z_env_instance_t *e, uint64_t idx,
                                                 uint64_t len, uint64_t ptr) {
    vmctx *c = VM(e);
    gas(c, FEE_BASE);
    no_view(c, "promise_batch_action_deploy_contract");
    size_t n;
    const uint8_t *p = mem_or_reg(c, ptr, len, &n);
    if (n > MAX_CONTRACT_SIZE)
        herr(c, NEMU_E_HOST, "Contract size %zu exceeds the limit %d", n, MAX_CONTRACT_SIZE);
    receipt *r = promise_receipt(c, idx);
    action_fee(c, r, &F_DEPLOY, &F_DEPLOY_BYTE, n);
    uint8_t *code = xdup(p, n);
    ract *a = add_action(r);
    a->kind = NEMU_A_DEPLOY_CONTRACT;
    a->data = code;
    a->len = n;
}

void Z_envZ_promise_batch_action_function_call(struct Z_env_instance_t *e, uint64_t idx,
                                               uint64_t mlen, uint64_t mptr, uint64_t alen,
                                               uint64_t aptr, uint64_t amount_ptr, uint64_t g) {
    Z_envZ_promise_batch_action_function_call_weight(e, idx, mlen, mptr, alen, aptr, amount_ptr, g,
                                                     0);
}

void Z_envZ_promise_batch_action_function_call_weight(struct Z_env_instance_t *e, uint64_t idx,
                                                      uint64_t mlen, uint64_t mptr, uint64_t alen,
                                                      uint64_t aptr, uint64_t amount_ptr,
                                                      uint64_t g, uint64_t weight) {
    vmctx *c = VM(e);
    gas(c, FEE_BASE);
    no_view(c, "promise_batch_action_function_call");
    add_fc(c, promise_receipt(c, idx), mlen, mptr, alen, aptr, amount_ptr, g, weight);
}

void Z_envZ_promise_batch_action_transfer(struct Z_env_instance_t *e, uint64_t idx,
                                          uint64_t amount_ptr) {
    vmctx *c = VM(e);
    gas(c, FEE_BASE);
    no_view(c, "promise_batch_action_transfer");
    nemu_u128 amount = get_u128(c, amount_ptr);
    receipt *r = promise_receipt(c, idx);
    action_fee(c, r, &F_TRANSFER, NULL, 0);
    if (amount > c->balance) herr(c, NEMU_E_BALANCE_EXCEEDED, "Exceeded the account balance.");
    c->balance -= amount;
    ract *a = add_action(r);
    a->kind = NEMU_A_TRANSFER;
    a->amount = amount;
}

void Z_envZ_promise_batch_action_stake(struct Z_env_instance_t *e, uint64_t idx,
                                       uint64_t amount_ptr, uint64_t pklen, uint64_t pkptr) {
    vmctx *c = VM(e);
    gas(c, FEE_BASE);
    no_view(c, "promise_batch_action_stake");
    nemu_u128 amount = get_u128(c, amount_ptr);
    size_t n;
    const uint8_t *p = mem_or_reg(c, pkptr, pklen, &n);
    if (n != 33 || p[0] != 0) herr(c, NEMU_E_HOST, "VM Logic provided an invalid public key");
    receipt *r = promise_receipt(c, idx);
    action_fee(c, r, &F_STAKE, NULL, 0);
    ract *a = add_action(r);
    a->kind = NEMU_A_STAKE;
    a->amount = amount;
}

static void read_pk(vmctx *c, uint64_t len, uint64_t ptr, uint8_t out[33]) {
    size_t n;
    const uint8_t *p = mem_or_reg(c, ptr, len, &n);
    if (n != 33 || p[0] != 0) herr(c, NEMU_E_HOST, "VM Logic provided an invalid public key");
    memcpy(out, p, 33);
}

void Z_envZ_promise_batch_action_add_key_with_full_access(struct Z_env_instance_t *e, uint64_t idx,
                                                          uint64_t pklen, uint64_t pkptr,
                                                          uint64_t nonce) {
    vmctx *c = VM(e);
    gas(c, FEE_BASE);
    no_view(c, "promise_batch_action_add_key_with_full_access");
    uint8_t pk[33];
    read_pk(c, pklen, pkptr, pk);
    receipt *r = promise_receipt(c, idx);
    action_fee(c, r, &F_ADD_FULL, NULL, 0);
    ract *a = add_action(r);
    a->kind = NEMU_A_ADD_KEY;
    memcpy(a->key.pk, pk, 33);
    a->key.nonce = nonce;
}

void Z_envZ_promise_batch_action_add_key_with_function_call(
    struct Z_env_instance_t *e, uint64_t idx, uint64_t pklen, uint64_t pkptr, uint64_t nonce,
    uint64_t allowance_ptr, uint64_t rlen, uint64_t rptr, uint64_t mlen, uint64_t mptr) {
    vmctx *c = VM(e);
    gas(c, FEE_BASE);
    no_view(c, "promise_batch_action_add_key_with_function_call");
    uint8_t pk[33];
    read_pk(c, pklen, pkptr, pk);
    nemu_u128 allowance = get_u128(c, allowance_ptr);
    char recv[65];
    read_account_id(c, rlen, rptr, recv);
    size_t n;
    const uint8_t *m = mem_or_reg(c, mptr, mlen, &n);
    receipt *r = promise_receipt(c, idx);
    action_fee(c, r, &F_ADD_FC, &F_ADD_FC_BYTE, n);
    char *methods = (char *)xdup(m, n);
    ract *a = add_action(r);
    a->kind = NEMU_A_ADD_KEY;
    memcpy(a->key.pk, pk, 33);
    a->key.nonce = nonce;
    a->key.fc = 1;
    a->key.allowance = allowance;
    a->key.receiver = xstrdup(recv);
    a->key.methods = methods;
}

void Z_envZ_promise_batch_action_delete_key(struct Z_env_instance_t *e, uint64_t idx,
                                            uint64_t pklen, uint64_t pkptr) {
    vmctx *c = VM(e);
    gas(c, FEE_BASE);
    no_view(c, "promise_batch_action_delete_key");
    uint8_t pk[33];
    read_pk(c, pklen, pkptr, pk);
    receipt *r = promise_receipt(c, idx);
    action_fee(c, r, &F_DELETE_KEY, NULL, 0);
    ract *a = add_action(r);
    a->kind = NEMU_A_DELETE_KEY;
    memcpy(a->key.pk, pk, 33);
}

void Z_envZ_promise_batch_action_delete_account(struct Z_env_instance_t *e, uint64_t idx,
                                                uint64_t len, uint64_t ptr) {
    vmctx *c = VM(e);
    gas(c, FEE_BASE);
    no_view(c, "promise_batch_action_delete_account");
    char b[65];
    read_account_id(c, len, ptr, b);
    receipt *r = promise_receipt(c, idx);
    action_fee(c, r, &F_DELETE_ACCOUNT, NULL, 0);
    ract *a = add_action(r);
    a->kind = NEMU_A_DELETE_ACCOUNT;
    a->name = xstrdup(b);
}

uint64_t Z_envZ_promise_results_count(struct Z_env_instance_t *e) {
    vmctx *c = VM(e);
    gas(c, FEE_BASE);
    no_view(c, "promise_results_count");
    return c->nresults;
}

uint64_t Z_envZ_promise_result(struct Z_env_instance_t *e, uint64_t i, uint64_t id) {
    vmctx *c = VM(e);
    gas(c, FEE_BASE);
    no_view(c, "promise_result");
    if (i >= c->nresults)
        herr(c, NEMU_E_HOST, "%llu does not correspond to existing promise results",
             (unsigned long long)i);
    if (!c->results[i].ok) return 2;
    reg_set(c, id, c->results[i].data, c->results[i].len);
    return 1;
}

void Z_envZ_promise_return(struct Z_env_instance_t *e, uint64_t idx) {
    vmctx *c = VM(e);
    gas(c, FEE_BASE);
    no_view(c, "promise_return");
    if (idx >= c->npromises)
        herr(c, NEMU_E_HOST, "%llu does not correspond to existing promises",
             (unsigned long long)idx);
    if (c->promises[idx].joint)
        herr(c, NEMU_E_HOST, "Returning joint promise is currently prohibited.");
    c->ret_kind = 2;
    c->ret_receipt = c->promises[idx].receipt;
}

/* ---------------------------------------------------------------- host: yield/resume */
/* The data id a contract sees for internal id n: nearcore's data ids are
 * 32-byte hashes. */
static void yield_id_of(uint64_t n, uint8_t out[32]) {
    char buf[48];
    snprintf(buf, sizeof buf, "nemu yield data id %llu", (unsigned long long)n);
    crypto_hash_sha256(out, (const uint8_t *)buf, strlen(buf));
}

/* nearcore logic.rs promise_yield_create: a function call receipt to the
 * current account whose single input is resolved by promise_yield_resume or
 * by the timeout; the data id goes to register_id. */
uint64_t Z_envZ_promise_yield_create(struct Z_env_instance_t *e, uint64_t mlen, uint64_t mptr,
                                     uint64_t alen, uint64_t aptr, uint64_t g, uint64_t weight,
                                     uint64_t register_id) {
    vmctx *c = VM(e);
    gas(c, FEE_BASE);
    gas(c, FEE_YIELD_CREATE_BASE);
    no_view(c, "promise_yield_create");
    size_t mn, an;
    const uint8_t *m = mem_or_reg(c, mptr, mlen, &mn);
    if (mn == 0) herr(c, NEMU_E_HOST, "Method name is empty in contract call");
    const uint8_t *a = mem_or_reg(c, aptr, alen, &an);
    gas(c, (uint64_t)(mn + an) * FEE_YIELD_CREATE_BYTE);
    prepay(c, g);
    receipt *r = new_receipt(c->w, c->acc->id, c->acc->id, c->r->signer, c->r->signer_pk);
    c->newr = xrealloc(c->newr, (c->nnewr + 1) * sizeof(receipt *));
    c->newr[c->nnewr++] = r;
    action_fee(c, r, &F_RECEIPT, NULL, 0);
    uint64_t did = data_id_next(c);
    r->inputs = xcalloc(1, sizeof(uint64_t));
    r->inputs[r->ninputs++] = did;
    r->is_yield = 1;
    yield_id_of(did, r->yield_id);
    uint64_t idx = push_promise(c, (promise){0, c->nnewr - 1, NULL, 0});
    /* the call itself: function call fees like promise_batch_action_function_call */
    action_fee(c, r, &F_FC, &F_FC_BYTE, mn + an);
    ract *x = add_action(r);
    x->kind = NEMU_A_FUNCTION_CALL;
    x->name = (char *)xdup(m, mn);
    x->data = xdup(a, an);
    x->len = an;
    x->gas = g;
    x->weight = weight;
    reg_set(c, register_id, r->yield_id, 32);
    return idx;
}

static yield_ent *yield_find(nemu *w, const char *acc_id, const uint8_t id[32]) {
    for (size_t i = 0; i < w->nyields; i++)
        if (strcmp(w->yields[i].account, acc_id) == 0 && memcmp(w->yields[i].id, id, 32) == 0)
            return &w->yields[i];
    return NULL;
}

/* nearcore logic.rs promise_yield_resume: 1 if a yield of this account with
 * this data id waits (created earlier, or by this very call), else 0. The
 * payload reaches the callback only if this execution succeeds. */
uint32_t Z_envZ_promise_yield_resume(struct Z_env_instance_t *e, uint64_t dlen, uint64_t dptr,
                                     uint64_t plen, uint64_t pptr) {
    vmctx *c = VM(e);
    gas(c, FEE_BASE);
    gas(c, FEE_YIELD_RESUME_BASE);
    if (plen > UINT64_MAX / FEE_YIELD_RESUME_BYTE) herr(c, NEMU_E_HOST, "Integer overflow.");
    gas(c, plen * FEE_YIELD_RESUME_BYTE);
    no_view(c, "promise_yield_resume");
    size_t dn, pn;
    const uint8_t *d = mem_or_reg(c, dptr, dlen, &dn);
    uint8_t id[32];
    const uint8_t *p = mem_or_reg(c, pptr, plen, &pn);
    if (pn > MAX_YIELD_PAYLOAD)
        herr(c, NEMU_E_HOST, "Yield resume payload is %zu bytes which exceeds the %d byte limit",
             pn, MAX_YIELD_PAYLOAD);
    if (dn != 32) herr(c, NEMU_E_HOST, "yield resumption token is malformed");
    memcpy(id, d, 32);
    for (size_t i = 0; i < c->nresumes; i++)
        if (memcmp(c->resumes[i].id, id, 32) == 0) return 0;
    for (size_t i = 0; i < c->nnewr; i++) {
        receipt *r = c->newr[i];
        if (r->is_yield && memcmp(r->yield_id, id, 32) == 0) {
            if (r->yield_resumed) return 0;
            r->yield_resumed = 1;
            r->yield_payload = xdup(p, pn);
            r->yield_payload_len = pn;
            return 1;
        }
    }
    if (!yield_find(c->w, c->acc->id, id)) return 0;
    uint8_t *copy = xdup(p, pn);
    c->resumes = xrealloc(c->resumes, (c->nresumes + 1) * sizeof *c->resumes);
    memcpy(c->resumes[c->nresumes].id, id, 32);
    c->resumes[c->nresumes].payload = copy;
    c->resumes[c->nresumes].len = pn;
    c->nresumes++;
    return 1;
}

/* ---------------------------------------------------------------- host: storage */
static const uint8_t *read_key(vmctx *c, uint64_t len, uint64_t ptr, size_t *n) {
    const uint8_t *k = mem_or_reg(c, ptr, len, n);
    if (*n > MAX_KEY_LEN)
        herr(c, NEMU_E_HOST, "The length of a storage key %zu exceeds the limit %d", *n,
             MAX_KEY_LEN);
    return k;
}

uint64_t Z_envZ_storage_write(struct Z_env_instance_t *e, uint64_t klen, uint64_t kptr,
                              uint64_t vlen, uint64_t vptr, uint64_t id) {
    vmctx *c = VM(e);
    gas(c, FEE_BASE);
    no_view(c, "storage_write");
    size_t kn, vn;
    const uint8_t *k = read_key(c, klen, kptr, &kn);
    const uint8_t *v = mem_or_reg(c, vptr, vlen, &vn);
    if (vn > MAX_VALUE_LEN)
        herr(c, NEMU_E_HOST, "The length of a storage value %zu exceeds the limit %d", vn,
             MAX_VALUE_LEN);
    gas(c, FEE_STORAGE_WRITE);
    uint8_t *kc = xdup(k, kn);
    uint8_t *vc = xdup(v, vn);
    account *a = c->acc;
    long i = kv_find(a, kc, kn);
    if (i >= 0) {
        kv *x = &a->kvs[i];
        c->storage_usage = c->storage_usage - x->vl + vn;
        uint8_t *old = x->v;
        size_t oldn = x->vl;
        x->v = vc;
        x->vl = vn;
        free(kc);
        reg_set(c, id, old, oldn);
        free(old);
        return 1;
    }
    size_t pos = (size_t)(-i - 1);
    if (a->nkv == a->capkv) {
        a->capkv = a->capkv ? a->capkv * 2 : 16;
        a->kvs = xrealloc(a->kvs, a->capkv * sizeof(kv));
    }
    memmove(a->kvs + pos + 1, a->kvs + pos, (a->nkv - pos) * sizeof(kv));
    a->kvs[pos] = (kv){kc, vc, kn, vn};
    a->nkv++;
    c->storage_usage += kn + vn + NUM_EXTRA_BYTES_RECORD;
    return 0;
}

uint64_t Z_envZ_storage_read(struct Z_env_instance_t *e, uint64_t klen, uint64_t kptr,
                             uint64_t id) {
    vmctx *c = VM(e);
    gas(c, FEE_BASE);
    size_t kn;
    const uint8_t *k = read_key(c, klen, kptr, &kn);
    gas(c, FEE_STORAGE_READ);
    long i = kv_find(c->acc, k, kn);
    if (i < 0) return 0;
    reg_set(c, id, c->acc->kvs[i].v, c->acc->kvs[i].vl);
    return 1;
}

uint64_t Z_envZ_storage_remove(struct Z_env_instance_t *e, uint64_t klen, uint64_t kptr,
                               uint64_t id) {
    vmctx *c = VM(e);
    gas(c, FEE_BASE);
    no_view(c, "storage_remove");
    size_t kn;
    const uint8_t *k = read_key(c, klen, kptr, &kn);
    account *a = c->acc;
    long i = kv_find(a, k, kn);
    if (i < 0) return 0;
    kv x = a->kvs[i];
    memmove(a->kvs + i, a->kvs + i + 1, (a->nkv - (size_t)i - 1) * sizeof(kv));
    a->nkv--;
    c->storage_usage -= x.kl + x.vl + NUM_EXTRA_BYTES_RECORD;
    reg_set(c, id, x.v, x.vl);
    free(x.k);
    free(x.v);
    return 1;
}

uint64_t Z_envZ_storage_has_key(struct Z_env_instance_t *e, uint64_t klen, uint64_t kptr) {
    vmctx *c = VM(e);
    gas(c, FEE_BASE);
    size_t kn;
    const uint8_t *k = read_key(c, klen, kptr, &kn);
    return kv_find(c->acc, k, kn) >= 0;
}

void Z_envZ_validator_stake(struct Z_env_instance_t *e, uint64_t len, uint64_t ptr,
                            uint64_t stake_ptr) {
    vmctx *c = VM(e);
    gas(c, FEE_BASE);
    char id[65];
    read_account_id(c, len, ptr, id);
    set_u128(c, stake_ptr, 0);
}
void Z_envZ_validator_total_stake(struct Z_env_instance_t *e, uint64_t stake_ptr) {
    vmctx *c = VM(e);
    gas(c, FEE_BASE);
    set_u128(c, stake_ptr, 0);
}

/* ---------------------------------------------------------------- running a method */
static void vm_release(vmctx *c) {
    for (size_t i = 0; i < c->nregs; i++)
        free(c->regs[i].data);
    free(c->regs);
    for (size_t i = 0; i < c->nlogs; i++)
        free(c->logs[i]);
    free(c->logs);
    free(c->ret);
    for (size_t i = 0; i < c->npromises; i++)
        free(c->promises[i].deps);
    free(c->promises);
    for (size_t i = 0; i < c->nnewr; i++)
        receipt_free(c->newr[i]);
    free(c->newr);
    free(c->error);
    for (size_t i = 0; i < c->nresumes; i++)
        free(c->resumes[i].payload);
    free(c->resumes);
}

static const char *trap_text(wasm_rt_trap_t t) {
    switch (t) {
    case WASM_RT_TRAP_OOB:
        return "WebAssembly trap: Memory out of bounds trap.";
    case WASM_RT_TRAP_INT_OVERFLOW:
        return "WebAssembly trap: Integer overflow.";
    case WASM_RT_TRAP_DIV_BY_ZERO:
        return "WebAssembly trap: An arithmetic exception, e.g. divided by zero.";
    case WASM_RT_TRAP_INVALID_CONVERSION:
        return "WebAssembly trap: Invalid conversion.";
    case WASM_RT_TRAP_UNREACHABLE:
        return "WebAssembly trap: An `unreachable` opcode was executed.";
    case WASM_RT_TRAP_CALL_INDIRECT:
        return "WebAssembly trap: Call indirect incorrect signature trap.";
    case WASM_RT_TRAP_EXHAUSTION:
        return "WebAssembly trap: Stack overflow.";
    default:
        return "WebAssembly trap.";
    }
}

/* Runs c->acc's code, method `method`. Returns 1 on success; on failure c->err/c->error. */
static int vm_run(vmctx *c, const char *method) {
    account *a = c->acc;
    if (!a->has_code) {
        c->err = NEMU_E_CODE_DOES_NOT_EXIST;
        c->error = xprintf("cannot find contract code for account %s", a->id);
        return 0;
    }
    const nemu_module *m = module_by_hash(a->code_hash);
    if (!m) {
        c->err = NEMU_E_COMPILATION;
        if (a->code_len < 8 || memcmp(a->code->data, "\0asm\1\0\0\0", 8) != 0) {
            c->error = xstrdup("CompilationError(PrepareError(Deserialization))");
        } else {
            c->error = xprintf("emulator: no compiled module for the code of %s (a wasm module not "
                               "listed in the emulator's registry)",
                               a->id);
            fprintf(stderr, "nemu: %s\n", c->error);
        }
        return 0;
    }
    if (!*method) {
        c->err = NEMU_E_METHOD_EMPTY_NAME;
        c->error = xstrdup("MethodResolveError(MethodEmptyName)");
        return 0;
    }
    const nemu_export *x = NULL;
    for (size_t i = 0; i < m->nexports; i++)
        if (strcmp(m->exports[i].name, method) == 0) x = &m->exports[i];
    if (!x) {
        c->err = NEMU_E_METHOD_NOT_FOUND;
        c->error = xstrdup("MethodResolveError(MethodNotFound)");
        return 0;
    }
    if (!x->fn) {
        c->err = NEMU_E_METHOD_INVALID_SIGNATURE;
        c->error = xstrdup("MethodResolveError(MethodInvalidSignature)");
        return 0;
    }
    static unsigned char inited[64];
    size_t mi = (size_t)(m - nemu_modules);
    if (mi < sizeof inited && !inited[mi]) {
        m->init_module();
        inited[mi] = 1;
    }
    void *inst = xcalloc(1, m->instance_size);
    cur_vm = c;
    c->ops_seen = nemu_wasm_ops;
    wasm_rt_trap_t t = (wasm_rt_trap_t)wasm_rt_impl_try();
    if (t == WASM_RT_TRAP_NONE) {
        sync_ops(c);
        m->instantiate(inst, c); /* memory: see wasm_rt_allocate_memory below */
        c->mem = m->memory(inst);
        x->fn(inst);
    }
    /* the instructions since the last host call or limit check */
    uint64_t d = nemu_wasm_ops - c->ops_seen;
    c->burnt += d * FEE_WASM_OP;
    c->used += d * FEE_WASM_OP;
    if (c->used > c->prepaid) c->used = c->prepaid;
    cur_vm = NULL;
    nemu_wasm_ops_limit = UINT64_MAX;
    m->free_instance(inst);
    free(inst);
    if (t != WASM_RT_TRAP_NONE) {
        if (!c->err) {
            c->err = NEMU_E_WASM_TRAP;
            c->error = xstrdup(trap_text(t));
        }
        return 0;
    }
    return 1;
}

/* ---------------------------------------------------------------- linear memory */
/* NEAR removes a module's own memory and gives it env.memory: 1024 pages at
 * start, at most 2048. The build compiles wasm-rt-impl.c with its three memory
 * functions renamed, so these replace them for every module: the whole 2048
 * pages are reserved with one anonymous mapping (zero-filled, touched lazily),
 * which makes a fresh instance per call cheap, also under AddressSanitizer. */
void wasm_rt_allocate_memory(wasm_rt_memory_t *mem, uint32_t initial_pages, uint32_t max_pages) {
    (void)max_pages;
    size_t bytes = (size_t)NEAR_MAX_PAGES * WASM_PAGE;
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    if (p == MAP_FAILED) abort();
    mem->data = p;
    mem->pages = initial_pages > NEAR_PAGES ? initial_pages : NEAR_PAGES;
    if (mem->pages > NEAR_MAX_PAGES) mem->pages = NEAR_MAX_PAGES;
    mem->max_pages = NEAR_MAX_PAGES;
    mem->size = mem->pages * WASM_PAGE;
}

uint32_t wasm_rt_grow_memory(wasm_rt_memory_t *mem, uint32_t delta) {
    uint32_t old = mem->pages;
    if (delta > mem->max_pages - old) return UINT32_MAX;
    mem->pages = old + delta;
    mem->size = mem->pages * WASM_PAGE;
    return old;
}

void wasm_rt_free_memory(wasm_rt_memory_t *mem) {
    if (mem->data) munmap(mem->data, (size_t)NEAR_MAX_PAGES * WASM_PAGE);
    mem->data = NULL;
}

/* ---------------------------------------------------------------- receipts */
static data_item *data_find(nemu *w, uint64_t id) {
    for (size_t i = 0; i < w->ndata; i++)
        if (w->data[i].id == id) return &w->data[i];
    return NULL;
}

static void data_put(nemu *w, uint64_t id, int ok, const uint8_t *b, size_t n) {
    w->data = xrealloc(w->data, (w->ndata + 1) * sizeof(data_item));
    w->data[w->ndata++] = (data_item){id, ok, ok ? xdup(b, n) : NULL, ok ? n : 0, w->height};
}

static int receipt_ready(nemu *w, const receipt *r) {
    /* a data receipt produced in block N reaches its receiver in block N+1 */
    for (size_t i = 0; i < r->ninputs; i++) {
        const data_item *d = data_find(w, r->inputs[i]);
        if (!d || d->height >= w->height) return 0;
    }
    return 1;
}

static void enqueue(nemu *w, receipt *r) {
    if (!r->tx) r->tx = w->cur_tx;
    w->pending = xrealloc(w->pending, (w->npending + 1) * sizeof(receipt *));
    w->pending[w->npending++] = r;
    w->all = xrealloc(w->all, (w->nall + 1) * sizeof(receipt *));
    w->all[w->nall++] = r;
}

static receipt *refund_receipt(nemu *w, const char *to, nemu_u128 amount) {
    receipt *r = new_receipt(w, "system", to, "system", NULL);
    r->refund = 1;
    ract *a = add_action(r);
    a->kind = NEMU_A_TRANSFER;
    a->amount = amount;
    return r;
}

static nemu_receipt_outcome *outcome_add(nemu_outcome *o, const receipt *r) {
    o->receipts = xrealloc(o->receipts, (o->nreceipts + 1) * sizeof(nemu_receipt_outcome));
    nemu_receipt_outcome *ro = &o->receipts[o->nreceipts++];
    memset(ro, 0, sizeof *ro);
    snprintf(ro->executor, sizeof ro->executor, "%s", r->receiver);
    snprintf(ro->predecessor, sizeof ro->predecessor, "%s", r->predecessor);
    for (size_t i = 0; i < r->nactions; i++)
        if (r->actions[i].kind == NEMU_A_FUNCTION_CALL) {
            snprintf(ro->method, sizeof ro->method, "%s", r->actions[i].name);
            break;
        }
    ro->refund = r->refund;
    ro->gas_refund = r->gas_refund;
    ro->id = r->id;
    ro->fail_index = SIZE_MAX;
    return ro;
}

/* The ActionsValidation rules nearcore applies to receipts made by a contract. */
static const char *validate_new_receipts(receipt *const *rs, size_t n) {
    for (size_t i = 0; i < n; i++) {
        const receipt *r = rs[i];
        uint64_t gas_total = 0;
        if (r->nactions > MAX_ACTIONS) return "TotalNumberOfActionsExceeded";
        for (size_t k = 0; k < r->nactions; k++) {
            const ract *a = &r->actions[k];
            if (a->kind == NEMU_A_DELETE_ACCOUNT && k + 1 != r->nactions)
                return "DeleteActionMustBeFinal";
            if (a->kind == NEMU_A_FUNCTION_CALL) {
                if (strlen(a->name) > MAX_METHOD_LEN) return "FunctionCallMethodNameLengthExceeded";
                if (a->len > MAX_ARGS_LEN) return "FunctionCallArgumentsLengthExceeded";
                gas_total += a->gas;
            }
        }
        if (gas_total > NEMU_MAX_PREPAID_GAS) return "TotalPrepaidGasExceeded";
    }
    return NULL;
}

/* Unused prepaid gas goes back to the receipt's signer (nearcore: a refund
 * receipt from "system", free of fees). */
static void gas_refund(nemu *w, const receipt *r, uint64_t unused) {
    if (r->refund || !unused || !w->gas_price) return;
    receipt *g = refund_receipt(w, r->signer, (nemu_u128)unused * w->gas_price);
    g->gas_refund = 1;
    enqueue(w, g);
}

/* The receipts enqueued since index all0 of the transaction's receipts. */
static void receipt_children(nemu *w, size_t all0, nemu_receipt_outcome *ro) {
    ro->nchildren = w->nall - all0;
    ro->children = xcalloc(ro->nchildren, sizeof(uint64_t));
    for (size_t i = 0; i < ro->nchildren; i++)
        ro->children[i] = w->all[all0 + i]->id;
}

/* The fee table entry of an action and its byte count. */
static const fee *fee_for(enum nemu_action_kind k, int fc_key, const fee **per) {
    *per = NULL;
    switch (k) {
    case NEMU_A_CREATE_ACCOUNT:
        return &F_CREATE;
    case NEMU_A_DEPLOY_CONTRACT:
        *per = &F_DEPLOY_BYTE;
        return &F_DEPLOY;
    case NEMU_A_FUNCTION_CALL:
        *per = &F_FC_BYTE;
        return &F_FC;
    case NEMU_A_TRANSFER:
        return &F_TRANSFER;
    case NEMU_A_STAKE:
        return &F_STAKE;
    case NEMU_A_ADD_KEY:
        if (fc_key) *per = &F_ADD_FC_BYTE;
        return fc_key ? &F_ADD_FC : &F_ADD_FULL;
    case NEMU_A_DELETE_KEY:
        return &F_DELETE_KEY;
    case NEMU_A_DELETE_ACCOUNT:
    default:
        return &F_DELETE_ACCOUNT;
    }
}

/* Send (sir / not sir) or execution fee of one action; n = its byte count. */
static uint64_t action_gas(enum nemu_action_kind k, int fc_key, size_t n, int part) {
    const fee *per, *base = fee_for(k, fc_key, &per);
    const uint64_t *b = part == 0 ? &base->send_sir : part == 1 ? &base->send_not_sir : &base->exec;
    uint64_t g = *b;
    if (per) g += n * (part == 0 ? per->send_sir : part == 1 ? per->send_not_sir : per->exec);
    return g;
}

static size_t ract_bytes(const ract *a) {
    if (a->kind == NEMU_A_FUNCTION_CALL) return strlen(a->name) + a->len;
    if (a->kind == NEMU_A_DEPLOY_CONTRACT) return a->len;
    if (a->kind == NEMU_A_ADD_KEY && a->key.fc) return a->key.methods ? strlen(a->key.methods) : 0;
    return 0;
}

#define FAIL(k, ...)                                                                               \
    do {                                                                                           \
        err = (k);                                                                                 \
        error = xprintf(__VA_ARGS__);                                                              \
        goto done;                                                                                 \
    } while (0)

static void apply_receipt(nemu *w, receipt *r) {
    nemu_outcome *o = r->tx->o;
    w->cur_tx = r->tx;
    size_t ro_index = o->nreceipts;
    size_t all0 = w->nall;
    outcome_add(o, r);
    /* gas: the execution fees were prepaid with the receipt and burn now; a
     * function call burns what its wasm used; the rest goes back to the signer */
    uint64_t exec_fee = 0, prepaid_total = 0;
    if (!r->refund) {
        exec_fee = F_RECEIPT.exec;
        prepaid_total = exec_fee;
        for (size_t i = 0; i < r->nactions; i++) {
            uint64_t f =
                action_gas(r->actions[i].kind, r->actions[i].key.fc, ract_bytes(&r->actions[i]), 2);
            exec_fee += f;
            prepaid_total += f;
            if (r->actions[i].kind == NEMU_A_FUNCTION_CALL) prepaid_total += r->actions[i].gas;
        }
    }
    uint64_t used = exec_fee;
    size_t at = SIZE_MAX;
    nemu_u128 err_amount = 0;
    char err_actor[65] = "";
    uint8_t err_pk[33] = {0};
    account *acc = find_acc(w, r->receiver);
    account *snap = acc ? acc_clone(acc) : NULL;
    int existed = acc != NULL, deleted = 0;
    char actor[65];
    snprintf(actor, sizeof actor, "%s", r->predecessor);
    enum nemu_err err = NEMU_OK;
    char *error = NULL;
    receipt **newr = NULL;
    size_t nnewr = 0;
    uint8_t *value = xdup("", 0);
    size_t value_len = 0;
    receipt *returned = NULL;
    uint64_t burnt = exec_fee;
    char **logs = NULL;
    size_t nlogs = 0;
    nemu_u128 total_deposit = 0;
    for (size_t i = 0; i < r->nactions; i++)
        if (r->actions[i].kind == NEMU_A_TRANSFER || r->actions[i].kind == NEMU_A_FUNCTION_CALL)
            total_deposit += r->actions[i].amount;
    struct resume *resumes = NULL;
    size_t nresumes = 0;

    for (size_t i = 0; i < r->nactions; i++) {
        ract *x = &r->actions[i];
        at = i;
        if (deleted)
            FAIL(NEMU_E_ACCOUNT_DOES_NOT_EXIST,
                 "Can't complete the action because account %s doesn't exist", r->receiver);
        if (!acc && x->kind != NEMU_A_CREATE_ACCOUNT) {
            if (x->kind == NEMU_A_TRANSFER && is_implicit(r->receiver)) {
                acc = acc_new(r->receiver);
                akey k = {0};
                k.pk[0] = 0;
                for (int b = 0; b < 32; b++) {
                    unsigned v;
                    sscanf(r->receiver + 2 * b, "%2x", &v);
                    k.pk[1 + b] = (uint8_t)v;
                }
                acc_add_key(acc, &k);
                world_put(w, acc);
            } else {
                FAIL(NEMU_E_ACCOUNT_DOES_NOT_EXIST,
                     "Can't complete the action because account %s doesn't exist", r->receiver);
            }
        }
        switch (x->kind) {
        case NEMU_A_CREATE_ACCOUNT:
            if (acc)
                FAIL(NEMU_E_ACCOUNT_ALREADY_EXISTS,
                     "Can't create a new account %s, because it already exists", r->receiver);
            if (!strchr(r->receiver, '.')) {
                if (is_implicit(r->receiver) ||
                    (r->receiver[0] == '0' && r->receiver[1] == 'x' && strlen(r->receiver) == 42))
                    FAIL(NEMU_E_ONLY_IMPLICIT_ACCOUNT_CREATION_ALLOWED,
                         "CreateAccount action is called on hex-characters account of length 64 %s",
                         r->receiver);
                if (strlen(r->receiver) < MIN_TOP_LEVEL_LEN &&
                    strcmp(r->predecessor, REGISTRAR) != 0) {
                    snprintf(err_actor, sizeof err_actor, "%s", r->predecessor);
                    FAIL(NEMU_E_CREATE_ACCOUNT_ONLY_BY_REGISTRAR,
                         "A top-level account ID %s can't be created by %s, short top-level "
                         "account IDs can only be created by %s",
                         r->receiver, r->predecessor, REGISTRAR);
                }
            } else if (!is_direct_sub(r->receiver, r->predecessor)) {
                snprintf(err_actor, sizeof err_actor, "%s", r->predecessor);
                FAIL(NEMU_E_CREATE_ACCOUNT_NOT_ALLOWED,
                     "A sub-account ID %s can't be created by account %s", r->receiver,
                     r->predecessor);
            }
            acc = acc_new(r->receiver);
            world_put(w, acc);
            snprintf(actor, sizeof actor, "%s", r->receiver);
            break;
        case NEMU_A_TRANSFER:
            acc->amount += x->amount;
            break;
        case NEMU_A_DEPLOY_CONTRACT:
            if (strcmp(actor, r->receiver) != 0 &&
                snprintf(err_actor, sizeof err_actor, "%s", actor) >= 0)
                FAIL(NEMU_E_ACTOR_NO_PERMISSION,
                     "Actor %s doesn't have permission to account %s to complete the action", actor,
                     r->receiver);
            acc_set_code(acc, x->data, x->len);
            break;
        case NEMU_A_ADD_KEY:
            if (strcmp(actor, r->receiver) != 0 &&
                snprintf(err_actor, sizeof err_actor, "%s", actor) >= 0)
                FAIL(NEMU_E_ACTOR_NO_PERMISSION,
                     "Actor %s doesn't have permission to account %s to complete the action", actor,
                     r->receiver);
            memcpy(err_pk, x->key.pk, 33);
            if (acc_find_key(acc, x->key.pk) >= 0)
                FAIL(NEMU_E_ADD_KEY_ALREADY_EXISTS,
                     "The public key is already used for an existing access key");
            /* nearcore (AccessKeyNonceRange): a new key's nonce is (height - 1) × 10^6 */
            x->key.nonce = (w->height - 1) * 1000000ull;
            acc_add_key(acc, &x->key);
            break;
        case NEMU_A_DELETE_KEY: {
            if (strcmp(actor, r->receiver) != 0 &&
                snprintf(err_actor, sizeof err_actor, "%s", actor) >= 0)
                FAIL(NEMU_E_ACTOR_NO_PERMISSION,
                     "Actor %s doesn't have permission to account %s to complete the action", actor,
                     r->receiver);
            long k = acc_find_key(acc, x->key.pk);
            memcpy(err_pk, x->key.pk, 33);
            if (k < 0)
                FAIL(NEMU_E_DELETE_KEY_DOES_NOT_EXIST,
                     "Account %s tries to remove an access key that doesn't exist", r->receiver);
            acc->storage_usage -= akey_storage(&acc->keys[k]);
            akey_clear(&acc->keys[k]);
            acc->keys[k] = acc->keys[--acc->nkeys];
            break;
        }
        case NEMU_A_DELETE_ACCOUNT: {
            if (strcmp(actor, r->receiver) != 0 &&
                snprintf(err_actor, sizeof err_actor, "%s", actor) >= 0)
                FAIL(NEMU_E_ACTOR_NO_PERMISSION,
                     "Actor %s doesn't have permission to account %s to complete the action", actor,
                     r->receiver);
            nemu_u128 all = acc->amount + acc->locked;
            if (all) {
                newr = xrealloc(newr, (nnewr + 1) * sizeof(receipt *));
                newr[nnewr++] = refund_receipt(w, x->name, all);
            }
            world_remove(w, r->receiver);
            acc = NULL;
            deleted = 1;
            break;
        }
        case NEMU_A_STAKE:
            FAIL(NEMU_E_UNSUPPORTED_ACTION, "emulator: Stake is not emulated");
        case NEMU_A_FUNCTION_CALL: {
            acc->amount += x->amount;
            vmctx c;
            memset(&c, 0, sizeof c);
            c.w = w;
            c.acc = acc;
            c.r = r;
            c.input = x->data;
            c.input_len = x->len;
            c.deposit = x->amount;
            c.balance = acc->amount;
            c.storage_usage = acc->storage_usage;
            c.prepaid = x->gas;
            presult *res = xcalloc(r->ninputs, sizeof(presult));
            for (size_t d = 0; d < r->ninputs; d++) {
                data_item *di = data_find(w, r->inputs[d]);
                res[d] = (presult){di->ok, di->bytes, di->len};
            }
            c.results = res;
            c.nresults = r->ninputs;
            int ok = vm_run(&c, x->name);
            free(res);
            if (ok) {
                /* Distribute unused gas to weighted function calls (nearcore's GasWeight). */
                uint64_t wsum = 0;
                for (size_t q = 0; q < c.nnewr; q++)
                    for (size_t z = 0; z < c.newr[q]->nactions; z++)
                        wsum += c.newr[q]->actions[z].weight;
                if (wsum && c.prepaid > c.used) {
                    uint64_t unused = c.prepaid - c.used, per = unused / wsum, given = 0;
                    ract *lastw = NULL;
                    for (size_t q = 0; q < c.nnewr; q++)
                        for (size_t z = 0; z < c.newr[q]->nactions; z++) {
                            ract *y = &c.newr[q]->actions[z];
                            if (!y->weight) continue;
                            y->gas += per * y->weight;
                            given += per * y->weight;
                            lastw = y;
                        }
                    if (lastw) lastw->gas += unused - given;
                    c.used = c.prepaid;
                }
            }
            burnt += c.burnt;
            used += c.used;
            logs = xrealloc(logs, (nlogs + c.nlogs) * sizeof(char *));
            for (size_t q = 0; q < c.nlogs; q++)
                logs[nlogs++] = c.logs[q];
            c.nlogs = 0;
            if (!ok) {
                err = c.err;
                error = c.error;
                c.error = NULL;
                vm_release(&c);
                goto done;
            }
            /* nearcore validates the receipts a call made before accepting them */
            const char *bad = validate_new_receipts(c.newr, c.nnewr);
            if (bad) {
                err = NEMU_E_NEW_RECEIPT_VALIDATION;
                error = xprintf("NewReceiptValidationError: %s", bad);
                vm_release(&c);
                goto done;
            }
            acc->amount = c.balance;
            acc->storage_usage = c.storage_usage;
            free(value);
            value = NULL;
            value_len = 0;
            returned = NULL;
            if (c.ret_kind == 1) {
                value = c.ret;
                value_len = c.ret_len;
                c.ret = NULL;
            } else {
                value = xdup("", 0);
                if (c.ret_kind == 2) returned = c.newr[c.ret_receipt];
            }
            newr = xrealloc(newr, (nnewr + c.nnewr) * sizeof(receipt *));
            for (size_t q = 0; q < c.nnewr; q++)
                newr[nnewr++] = c.newr[q];
            c.nnewr = 0;
            if (c.nresumes) {
                resumes = xrealloc(resumes, (nresumes + c.nresumes) * sizeof *resumes);
                memcpy(resumes + nresumes, c.resumes, c.nresumes * sizeof *resumes);
                nresumes += c.nresumes;
                c.nresumes = 0;
            }
            vm_release(&c);
            break;
        }
        }
    }
    at = SIZE_MAX;
    if (acc && !deleted) {
        nemu_u128 missing = 0;
        if (!storage_ok(acc, &missing)) {
            char b[48];
            err_amount = missing;
            FAIL(NEMU_E_LACK_BALANCE_FOR_STATE,
                 "The account %s wouldn't have enough balance to cover storage, required to have "
                 "%s yoctoNEAR more",
                 acc->id, nemu_u128_str(missing, b));
        }
    }
done:;
    nemu_receipt_outcome *ro = &o->receipts[ro_index];
    ro->logs = logs;
    ro->nlogs = nlogs;
    ro->gas_burnt = burnt;
    ro->tokens_burnt = (nemu_u128)burnt * w->gas_price;
    ro->height = w->height;
    o->tokens_burnt += ro->tokens_burnt;
    if (err != NEMU_OK) used = burnt; /* the receipts it made are dropped */
    uint64_t unused = prepaid_total > used ? prepaid_total - used : 0;
    r->done = 1;
    if (err != NEMU_OK) {
        /* roll back this receipt's state changes */
        if (existed)
            world_put(w, snap);
        else
            world_remove(w, r->receiver);
        snap = NULL;
        for (size_t i = 0; i < nnewr; i++)
            receipt_free(newr[i]);
        free(newr);
        newr = NULL;
        nnewr = 0;
        for (size_t i = 0; i < nresumes; i++)
            free(resumes[i].payload);
        free(resumes);
        free(value);
        r->ok = 0;
        r->err = err;
        r->error = error;
        ro->ok = 0;
        ro->err = err;
        ro->error = xstrdup(error);
        ro->fail_index = at;
        ro->err_amount = err_amount;
        snprintf(ro->err_actor, sizeof ro->err_actor, "%s", err_actor);
        memcpy(ro->err_pk, err_pk, 33);
        for (size_t i = 0; i < r->nouts; i++)
            data_put(w, r->outs[i].data_id, 0, NULL, 0);
        if (total_deposit && !r->refund)
            enqueue(w, refund_receipt(w, r->predecessor, total_deposit));
        gas_refund(w, r, unused);
        receipt_children(w, all0, ro);
        return;
    }
    acc_free(snap);
    r->ok = 1;
    ro->ok = 1;
    if (returned) {
        r->returned = returned->id;
        /* the caller's data receivers now wait for the returned receipt */
        returned->outs = xrealloc(returned->outs, (returned->nouts + r->nouts) * sizeof(data_recv));
        if (r->nouts)
            memcpy(returned->outs + returned->nouts, r->outs, r->nouts * sizeof(data_recv));
        returned->nouts += r->nouts;
        free(value);
        value = xdup("", 0);
        value_len = 0;
    } else {
        for (size_t i = 0; i < r->nouts; i++)
            data_put(w, r->outs[i].data_id, 1, value, value_len);
    }
    r->value = value;
    r->value_len = value_len;
    ro->value = xdup(value, value_len);
    ro->value_len = value_len;
    if (returned) ro->returned = returned->id;
    for (size_t i = 0; i < nnewr; i++) {
        receipt *y = newr[i];
        if (y->is_yield && y->yield_resumed) {
            data_put(w, y->inputs[0], 1, y->yield_payload, y->yield_payload_len);
        } else if (y->is_yield) {
            w->yields = xrealloc(w->yields, (w->nyields + 1) * sizeof(yield_ent));
            yield_ent *ye = &w->yields[w->nyields++];
            memcpy(ye->id, y->yield_id, 32);
            ye->data_id = y->inputs[0];
            snprintf(ye->account, sizeof ye->account, "%s", y->receiver);
            ye->expires = w->height + YIELD_TIMEOUT_BLOCKS;
        }
        enqueue(w, y);
    }
    free(newr);
    /* resumes take effect with the execution that made them */
    for (size_t i = 0; i < nresumes; i++) {
        yield_ent *ye = yield_find(w, r->receiver, resumes[i].id);
        if (ye) {
            data_put(w, ye->data_id, 1, resumes[i].payload, resumes[i].len);
            *ye = w->yields[--w->nyields];
        }
        free(resumes[i].payload);
    }
    free(resumes);
    gas_refund(w, r, unused);
    receipt_children(w, all0, ro);
}

/* Some data was produced in the current block (its receivers run in the next). */
static int data_pending(const nemu *w) {
    for (size_t i = 0; i < w->ndata; i++)
        if (w->data[i].height >= w->height) return 1;
    return 0;
}

static void data_remove(nemu *w, uint64_t id) {
    for (size_t i = 0; i < w->ndata; i++)
        if (w->data[i].id == id) {
            free(w->data[i].bytes);
            w->data[i] = w->data[--w->ndata];
            return;
        }
}

static receipt *receipt_by_id(nemu *w, uint64_t id) {
    for (size_t i = 0; i < w->nall; i++)
        if (w->all[i]->id == id) return w->all[i];
    return NULL;
}

static int tx_has_pending(const nemu *w, const txrec *t) {
    for (size_t i = 0; i < w->npending; i++)
        if (w->pending[i]->tx == t) return 1;
    return 0;
}

/* A transaction whose last receipt ran: its final status (following
 * promise_return chains like NEAR's final execution status), then its
 * receipts are freed. */
static void tx_finish(nemu *w, txrec *t) {
    nemu_outcome *o = t->o;
    receipt *f = receipt_by_id(w, t->first);
    while (f && f->done && f->ok && f->returned)
        f = receipt_by_id(w, f->returned);
    if (!f || !f->done) {
        o->err = NEMU_E_HOST;
        o->error = xstrdup("emulator: the transaction did not finish");
    } else if (f->ok) {
        o->ok = 1;
        o->value = xdup(f->value, f->value_len);
        o->value_len = f->value_len;
    } else {
        o->err = f->err;
        o->error = xstrdup(f->error);
    }
    o->pending = 0;
    size_t k = 0;
    for (size_t i = 0; i < w->nall; i++) {
        if (w->all[i]->tx == t)
            receipt_free(w->all[i]);
        else
            w->all[k++] = w->all[i];
    }
    w->nall = k;
    t->finished = 1;
}

/* Finish every transaction that has no receipt left. */
static void txs_settle(nemu *w) {
    for (size_t i = 0; i < w->ntxs; i++)
        if (!w->txs[i]->finished && !tx_has_pending(w, w->txs[i])) tx_finish(w, w->txs[i]);
}

/* One block: time moves on, yields whose time is up resolve as failed (their
 * callbacks run in the next block), and every receipt whose input data
 * arrived in an earlier block runs. Returns 1 if a receipt ran. */
static int run_block(nemu *w) {
    w->height++;
    w->timestamp_ns += 1000000000ull;
    for (size_t i = 0; i < w->nyields;) {
        if (w->yields[i].expires <= w->height) {
            data_put(w, w->yields[i].data_id, 0, NULL, 0);
            w->yields[i] = w->yields[--w->nyields];
        } else {
            i++;
        }
    }
    receipt **round = w->pending;
    size_t n = w->npending;
    w->pending = NULL;
    w->npending = 0;
    int progress = 0;
    for (size_t i = 0; i < n; i++) {
        receipt *r = round[i];
        if (receipt_ready(w, r)) {
            /* apply_receipt may enqueue: it appends to w->pending */
            apply_receipt(w, r);
            for (size_t d = 0; d < r->ninputs; d++)
                data_remove(w, r->inputs[d]);
            progress = 1;
        } else {
            w->pending = xrealloc(w->pending, (w->npending + 1) * sizeof(receipt *));
            w->pending[w->npending++] = r;
        }
    }
    free(round);
    return progress;
}

/* Run blocks while receipts can make progress; what is left waits for a
 * yield's resume or timeout. */
static void run_queue(nemu *w) {
    while (w->npending) {
        int progress = run_block(w);
        if (!progress && !data_pending(w)) break;
    }
    txs_settle(w);
}

void nemu_advance_blocks(nemu *w, uint64_t n) {
    int ran = 0;
    for (; n && (w->npending || w->nyields); n--)
        ran |= run_block(w);
    w->height += n;
    w->timestamp_ns += n * 1000000000ull;
    if (ran) {
        txs_settle(w);
        record_state(w);
    }
}

static nemu_outcome *outcome_dup(const nemu_outcome *s) {
    nemu_outcome *o = xmalloc(sizeof *o);
    *o = *s;
    o->error = s->error ? xstrdup(s->error) : NULL;
    o->invalid_tx = s->invalid_tx ? xstrdup(s->invalid_tx) : NULL;
    o->value = s->value ? xdup(s->value, s->value_len) : NULL;
    o->receipts = xcalloc(s->nreceipts, sizeof(nemu_receipt_outcome));
    for (size_t i = 0; i < s->nreceipts; i++) {
        const nemu_receipt_outcome *a = &s->receipts[i];
        nemu_receipt_outcome *b = &o->receipts[i];
        *b = *a;
        b->error = a->error ? xstrdup(a->error) : NULL;
        b->value = a->value ? xdup(a->value, a->value_len) : NULL;
        b->logs = xcalloc(a->nlogs, sizeof(char *));
        for (size_t j = 0; j < a->nlogs; j++)
            b->logs[j] = xstrdup(a->logs[j]);
        b->children = xcalloc(a->nchildren, sizeof(uint64_t));
        if (a->nchildren) memcpy(b->children, a->children, a->nchildren * sizeof(uint64_t));
    }
    return o;
}

nemu_outcome *nemu_tx_poll(nemu *w, uint64_t first_receipt) {
    for (size_t i = 0; i < w->ntxs; i++) {
        txrec *t = w->txs[i];
        if (t->first != first_receipt) continue;
        if (!t->finished) return outcome_dup(t->o);
        nemu_outcome *o = t->o;
        free(t);
        w->txs[i] = w->txs[--w->ntxs];
        return o;
    }
    return NULL;
}

size_t nemu_yields_waiting(const nemu *w) {
    return w->nyields;
}

/* An invalid transaction: o->invalid_tx is nearcore's InvalidTxError JSON. */
static nemu_outcome *invalid_tx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static nemu_outcome *invalid_tx(const char *fmt, ...) {
    nemu_outcome *o = xcalloc(1, sizeof *o);
    o->err = NEMU_E_INVALID_TX;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    o->invalid_tx = xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(o->invalid_tx, (size_t)n + 1, fmt, ap);
    va_end(ap);
    o->error = xprintf("InvalidTxError: %s", o->invalid_tx);
    return o;
}

/* s as the inside of a JSON string (method names are arbitrary text). */
static char *json_esc(const char *s) {
    char *out = xmalloc(strlen(s) * 6 + 1), *p = out;
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') {
            *p++ = '\\';
            *p++ = (char)ch;
        } else if (ch < 0x20) {
            p += sprintf(p, "\\u%04x", ch);
        } else {
            *p++ = (char)ch;
        }
    }
    *p = 0;
    return out;
}

void nemu_base58(const unsigned char *p, size_t n, char *out); /* rpc.c */

static char *pk_str(const uint8_t pk[33]) {
    char b[80];
    memcpy(b, "ed25519:", 8);
    nemu_base58(pk + 1, 32, b + 8);
    return xstrdup(b);
}

static size_t action_bytes(const nemu_action *a) {
    if (a->kind == NEMU_A_FUNCTION_CALL) return (a->name ? strlen(a->name) : 0) + a->len;
    if (a->kind == NEMU_A_DEPLOY_CONTRACT) return a->len;
    if (a->kind == NEMU_A_ADD_KEY && a->fc_key) return a->fc_methods ? strlen(a->fc_methods) : 0;
    return 0;
}

/* nearcore's ActionsValidation of a transaction's actions (NULL = valid). */
static nemu_outcome *validate_actions(const nemu_action *acts, size_t n, uint64_t *total_gas) {
    if (n > MAX_ACTIONS)
        return invalid_tx("{\"ActionsValidation\":{\"TotalNumberOfActionsExceeded\":{"
                          "\"total_number_of_actions\":%zu,\"limit\":%d}}}",
                          n, MAX_ACTIONS);
    *total_gas = 0;
    for (size_t i = 0; i < n; i++) {
        const nemu_action *a = &acts[i];
        if (a->kind == NEMU_A_FUNCTION_CALL) {
            size_t ml = a->name ? strlen(a->name) : 0;
            if (ml > MAX_METHOD_LEN)
                return invalid_tx(
                    "{\"ActionsValidation\":{\"FunctionCallMethodNameLengthExceeded\":"
                    "{\"length\":%zu,\"limit\":%d}}}",
                    ml, MAX_METHOD_LEN);
            if (a->len > MAX_ARGS_LEN)
                return invalid_tx("{\"ActionsValidation\":{\"FunctionCallArgumentsLengthExceeded\":"
                                  "{\"length\":%zu,\"limit\":%d}}}",
                                  a->len, MAX_ARGS_LEN);
            if (a->gas == 0)
                return invalid_tx("{\"ActionsValidation\":\"FunctionCallZeroAttachedGas\"}");
            *total_gas += a->gas;
        } else if (a->kind == NEMU_A_DELETE_ACCOUNT && i + 1 != n) {
            return invalid_tx("{\"ActionsValidation\":\"DeleteActionMustBeFinal\"}");
        } else if (a->kind == NEMU_A_DEPLOY_CONTRACT && a->len > MAX_CONTRACT_SIZE) {
            return invalid_tx(
                "{\"ActionsValidation\":{\"ContractSizeExceeded\":{\"size\":%zu,\"limit\":%d}}}",
                a->len, MAX_CONTRACT_SIZE);
        }
    }
    if (*total_gas > NEMU_MAX_PREPAID_GAS)
        return invalid_tx("{\"ActionsValidation\":{\"TotalPrepaidGasExceeded\":{"
                          "\"total_prepaid_gas\":%llu,\"limit\":%llu}}}",
                          (unsigned long long)*total_gas, (unsigned long long)NEMU_MAX_PREPAID_GAS);
    return NULL;
}

/* A function-call access key's rules (NULL = allowed). */
static nemu_outcome *check_fc_key(const akey *k, const char *receiver, const nemu_action *acts,
                                  size_t n) {
    if (n != 1 || acts[0].kind != NEMU_A_FUNCTION_CALL)
        return invalid_tx("{\"InvalidAccessKeyError\":\"RequiresFullAccess\"}");
    if (acts[0].amount)
        return invalid_tx("{\"InvalidAccessKeyError\":\"DepositWithFunctionCall\"}");
    if (strcmp(k->receiver, receiver) != 0)
        return invalid_tx(
            "{\"InvalidAccessKeyError\":{\"ReceiverMismatch\":{\"tx_receiver\":\"%s\","
            "\"ak_receiver\":\"%s\"}}}",
            receiver, k->receiver);
    if (!*k->methods) return NULL;
    const char *m = k->methods;
    size_t ml = strlen(acts[0].name);
    while (*m) {
        const char *c = strchr(m, ',');
        size_t l = c ? (size_t)(c - m) : strlen(m);
        if (l == ml && memcmp(m, acts[0].name, l) == 0) return NULL;
        m += l + (c ? 1 : 0);
    }
    char *e = json_esc(acts[0].name);
    nemu_outcome *o = invalid_tx(
        "{\"InvalidAccessKeyError\":{\"MethodNameMismatch\":{\"method_name\":\"%s\"}}}", e);
    free(e);
    return o;
}

nemu_outcome *nemu_tx(nemu *w, const char *signer, int key_index, const char *receiver,
                      const nemu_action *acts, size_t n) {
    account *s = find_acc(w, signer);
    if (!s) return invalid_tx("{\"SignerDoesNotExist\":{\"signer_id\":\"%s\"}}", signer);
    if (key_index < 0 || (size_t)key_index >= s->nkeys)
        return invalid_tx("{\"InvalidAccessKeyError\":{\"AccessKeyNotFound\":{\"account_id\":"
                          "\"%s\",\"public_key\":\"\"}}}",
                          signer);
    if (!nemu_valid_account_id(receiver))
        return invalid_tx("{\"InvalidReceiverId\":{\"receiver_id\":\"%s\"}}", receiver);
    uint64_t total_gas = 0;
    nemu_outcome *bad = validate_actions(acts, n, &total_gas);
    if (bad) return bad;
    akey *k = &s->keys[key_index];
    /* the cost (nearcore tx_cost): send fees burnt now, execution fees and the
     * function calls' gas prepaid, all at the gas price, plus the deposits */
    int sir = strcmp(signer, receiver) == 0;
    uint64_t send = sir ? F_RECEIPT.send_sir : F_RECEIPT.send_not_sir, exec = F_RECEIPT.exec;
    nemu_u128 total_deposit = 0;
    for (size_t i = 0; i < n; i++) {
        send += action_gas(acts[i].kind, acts[i].fc_key, action_bytes(&acts[i]), sir ? 0 : 1);
        exec += action_gas(acts[i].kind, acts[i].fc_key, action_bytes(&acts[i]), 2);
        if (acts[i].kind == NEMU_A_FUNCTION_CALL || acts[i].kind == NEMU_A_TRANSFER)
            total_deposit += acts[i].amount;
    }
    nemu_u128 gas_cost = (nemu_u128)(send + exec + total_gas) * w->gas_price;
    nemu_u128 cost = gas_cost + total_deposit;
    char b1[48], b2[48];
    if (s->amount < cost)
        return invalid_tx("{\"NotEnoughBalance\":{\"signer_id\":\"%s\",\"balance\":\"%s\","
                          "\"cost\":\"%s\"}}",
                          signer, nemu_u128_str(s->amount, b1), nemu_u128_str(cost, b2));
    if (k->fc) {
        if (k->allowance && k->allowance < gas_cost) {
            char *pk = pk_str(k->pk);
            nemu_outcome *o = invalid_tx(
                "{\"InvalidAccessKeyError\":{\"NotEnoughAllowance\":{\"account_id\":\"%s\","
                "\"public_key\":\"%s\",\"allowance\":\"%s\",\"cost\":\"%s\"}}}",
                signer, pk, nemu_u128_str(k->allowance, b1), nemu_u128_str(gas_cost, b2));
            free(pk);
            return o;
        }
        if ((bad = check_fc_key(k, receiver, acts, n))) return bad;
    }
    s->amount -= cost;
    nemu_u128 missing;
    if (!storage_ok(s, &missing)) {
        s->amount += cost;
        return invalid_tx("{\"LackBalanceForState\":{\"signer_id\":\"%s\",\"amount\":\"%s\"}}",
                          signer, nemu_u128_str(missing, b1));
    }
    if (k->fc && k->allowance) k->allowance -= gas_cost;
    receipt *r = new_receipt(w, signer, receiver, signer, k->pk);
    for (size_t i = 0; i < n; i++) {
        const nemu_action *a = &acts[i];
        ract *x = add_action(r);
        x->kind = a->kind;
        x->amount = a->amount;
        x->gas = a->gas;
        if (a->data || a->len) {
            x->data = xdup(a->data, a->len);
            x->len = a->len;
        } else if (a->kind == NEMU_A_FUNCTION_CALL) {
            x->data = xdup("", 0);
        }
        if (a->name) x->name = xstrdup(a->name);
        if (a->kind == NEMU_A_ADD_KEY || a->kind == NEMU_A_DELETE_KEY) {
            memcpy(x->key.pk, a->pk, 33);
            x->key.fc = a->fc_key;
            if (a->fc_key) {
                x->key.receiver = xstrdup(a->fc_receiver ? a->fc_receiver : "");
                x->key.methods = xstrdup(a->fc_methods ? a->fc_methods : "");
                x->key.allowance = a->fc_allowance;
            }
        }
    }
    uint64_t first = r->id;
    nemu_outcome *o = xcalloc(1, sizeof *o);
    o->first_receipt = first;
    o->tx_height = w->height + 1;
    o->tx_gas_burnt = send;
    o->gas_cost = gas_cost;
    o->tokens_burnt = (nemu_u128)send * w->gas_price;
    txrec *t = xcalloc(1, sizeof *t);
    t->o = o;
    t->first = first;
    o->pending = 1;
    w->txs = xrealloc(w->txs, (w->ntxs + 1) * sizeof(txrec *));
    w->txs[w->ntxs++] = t;
    w->cur_tx = t;
    enqueue(w, r);
    run_queue(w);
    record_state(w);
    /* a finished transaction's outcome goes to the caller; an open one's
     * stays with the world (nemu_tx_poll), the caller gets a copy */
    return t->finished ? nemu_tx_poll(w, first) : outcome_dup(o);
}

nemu_outcome *nemu_call_bytes(nemu *w, const char *signer, const char *receiver, const char *method,
                              const uint8_t *args, size_t args_len, nemu_u128 deposit, uint64_t g) {
    nemu_action a;
    memset(&a, 0, sizeof a);
    a.kind = NEMU_A_FUNCTION_CALL;
    a.name = method;
    a.data = args;
    a.len = args_len;
    a.amount = deposit;
    a.gas = g;
    return nemu_tx(w, signer, 0, receiver, &a, 1);
}

nemu_outcome *nemu_call(nemu *w, const char *signer, const char *receiver, const char *method,
                        const char *args, nemu_u128 deposit, uint64_t g) {
    return nemu_call_bytes(w, signer, receiver, method, (const uint8_t *)(args ? args : ""),
                           args ? strlen(args) : 0, deposit, g);
}

nemu_outcome *nemu_view(nemu *w, const char *id, const char *method, const char *args) {
    nemu_outcome *o = xcalloc(1, sizeof *o);
    account *a = find_acc(w, id);
    if (!a) {
        o->err = NEMU_E_ACCOUNT_DOES_NOT_EXIST;
        o->error = xprintf("account %s does not exist while viewing", id);
        return o;
    }
    receipt dummy;
    memset(&dummy, 0, sizeof dummy);
    vmctx c;
    memset(&c, 0, sizeof c);
    c.w = w;
    c.acc = a;
    c.r = &dummy;
    c.view = 1;
    c.input = (const uint8_t *)(args ? args : "");
    c.input_len = args ? strlen(args) : 0;
    c.balance = a->amount;
    c.storage_usage = a->storage_usage;
    c.prepaid = MAX_GAS_BURNT;
    int ok = vm_run(&c, method);
    o->receipts = xcalloc(1, sizeof(nemu_receipt_outcome));
    o->nreceipts = 1;
    nemu_receipt_outcome *ro = &o->receipts[0];
    snprintf(ro->executor, sizeof ro->executor, "%s", id);
    snprintf(ro->method, sizeof ro->method, "%s", method);
    ro->logs = c.logs;
    ro->nlogs = c.nlogs;
    c.logs = NULL;
    c.nlogs = 0;
    if (ok) {
        o->ok = ro->ok = 1;
        o->value = c.ret_kind == 1 ? xdup(c.ret, c.ret_len) : xdup("", 0);
        o->value_len = c.ret_kind == 1 ? c.ret_len : 0;
        ro->value = xdup(o->value, o->value_len);
        ro->value_len = o->value_len;
    } else {
        o->err = ro->err = c.err;
        o->error = xstrdup(c.error);
        ro->error = xstrdup(c.error);
    }
    vm_release(&c);
    return o;
}

void nemu_outcome_free(nemu_outcome *o) {
    if (!o) return;
    for (size_t i = 0; i < o->nreceipts; i++) {
        nemu_receipt_outcome *r = &o->receipts[i];
        for (size_t j = 0; j < r->nlogs; j++)
            free(r->logs[j]);
        free(r->logs);
        free(r->error);
        free(r->value);
        free(r->children);
    }
    free(o->receipts);
    free(o->invalid_tx);
    free(o->error);
    free(o->value);
    free(o);
}

size_t nemu_outcome_count_logs(const nemu_outcome *o, const char *needle) {
    size_t n = 0;
    for (size_t i = 0; i < o->nreceipts; i++)
        for (size_t j = 0; j < o->receipts[i].nlogs; j++)
            if (strstr(o->receipts[i].logs[j], needle)) n++;
    return n;
}

const char *nemu_outcome_find_log(const nemu_outcome *o, const char *needle) {
    for (size_t i = 0; i < o->nreceipts; i++)
        for (size_t j = 0; j < o->receipts[i].nlogs; j++)
            if (strstr(o->receipts[i].logs[j], needle)) return o->receipts[i].logs[j];
    return NULL;
}

const char *nemu_outcome_first_error(const nemu_outcome *o) {
    for (size_t i = 0; i < o->nreceipts; i++)
        if (!o->receipts[i].ok) return o->receipts[i].error;
    return NULL;
}
