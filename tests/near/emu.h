/* emu.h — nemu, a local emulation of the NEAR runtime for dstack-gov's tests.
 *
 * THIS IS AN EMULATION, NOT A NEAR NODE. There is no NEAR node on the build
 * machines, so contract tests run the contracts' real wasm (translated to C by
 * wasm2c, see gen-registry.sh) against C implementations of the NEAR host
 * functions (emu.c). What is modelled follows nearcore's runtime
 * (near-vm-runner logic.rs and the action/receipt rules); what is not, is
 * listed in emu.c's header comment. Tests of the emulator itself are in
 * test_emu.c.
 *
 * A world (`nemu`) holds accounts (balance, locked balance, code, storage,
 * access keys, storage usage). Transactions become receipts that are executed
 * in order, one block per round, until none is left or what is left waits for
 * a yield (promise_yield_create) to be resumed or to time out; every call
 * returns an outcome with the final status (following promise_return chains
 * like NEAR's final execution status) and every receipt that ran, with its
 * logs — or, for a transaction whose receipt tree is still open, the outcome
 * so far (pending = 1), completed later by nemu_tx_poll.
 */
#ifndef NEMU_EMU_H
#define NEMU_EMU_H

#include <stddef.h>
#include <stdint.h>

typedef unsigned __int128 nemu_u128;

#define NEMU_NEAR ((nemu_u128)1000000000000ull * 1000000000000ull) /* 10^24 yocto */
#define NEMU_YOCTO_PER_BYTE ((nemu_u128)10000000000000000000ull)   /* 10^19 */
#define NEMU_TGAS 1000000000000ull
#define NEMU_MAX_PREPAID_GAS (300 * NEMU_TGAS)
#define NEMU_GAS_PRICE 100000000ull   /* yocto per gas: NEAR's min_gas_price */
#define NEMU_HISTORY 512              /* blocks whose state views can be pinned to */
#define NEMU_MAX_YIELD_PAYLOAD 1024   /* nearcore's max_yield_payload_size */
#define NEMU_YIELD_TIMEOUT_BLOCKS 200 /* nearcore's yield_timeout_length_in_blocks */

/* Failure kinds of a receipt or a transaction (names follow nearcore's). */
enum nemu_err {
    NEMU_OK = 0,
    /* function call errors */
    NEMU_E_GUEST_PANIC, /* panic / panic_utf8 / abort */
    NEMU_E_WASM_TRAP,   /* unreachable, out-of-bounds, ... */
    NEMU_E_PROHIBITED_IN_VIEW,
    NEMU_E_GAS_EXCEEDED,
    NEMU_E_GAS_LIMIT_EXCEEDED,
    NEMU_E_BALANCE_EXCEEDED,
    NEMU_E_HOST, /* any other HostError (message says which) */
    NEMU_E_CODE_DOES_NOT_EXIST,
    NEMU_E_COMPILATION, /* code that is not a known/valid module */
    NEMU_E_METHOD_NOT_FOUND,
    NEMU_E_METHOD_INVALID_SIGNATURE,
    NEMU_E_METHOD_EMPTY_NAME,
    /* action errors */
    NEMU_E_ACCOUNT_ALREADY_EXISTS,
    NEMU_E_ACCOUNT_DOES_NOT_EXIST,
    NEMU_E_CREATE_ACCOUNT_NOT_ALLOWED,
    NEMU_E_CREATE_ACCOUNT_ONLY_BY_REGISTRAR,
    NEMU_E_ONLY_IMPLICIT_ACCOUNT_CREATION_ALLOWED,
    NEMU_E_ACTOR_NO_PERMISSION,
    NEMU_E_LACK_BALANCE_FOR_STATE,
    NEMU_E_ADD_KEY_ALREADY_EXISTS,
    NEMU_E_DELETE_KEY_DOES_NOT_EXIST,
    NEMU_E_UNSUPPORTED_ACTION,     /* Stake and newer actions: not emulated */
    NEMU_E_NEW_RECEIPT_VALIDATION, /* a promise the call made breaks ActionsValidation */
    /* transaction validation errors (the tx never becomes a receipt) */
    NEMU_E_INVALID_TX,
};

/* One action of a transaction. */
enum nemu_action_kind {
    NEMU_A_CREATE_ACCOUNT,
    NEMU_A_DEPLOY_CONTRACT,
    NEMU_A_FUNCTION_CALL,
    NEMU_A_TRANSFER,
    NEMU_A_STAKE,
    NEMU_A_ADD_KEY,
    NEMU_A_DELETE_KEY,
    NEMU_A_DELETE_ACCOUNT,
};

typedef struct {
    enum nemu_action_kind kind;
    const uint8_t *data; /* code (deploy) or args (function call) */
    size_t len;
    const char *name;        /* method (function call) or beneficiary (delete account) */
    nemu_u128 amount;        /* deposit / transfer amount */
    uint64_t gas;            /* function call gas */
    uint8_t pk[33];          /* add/delete key: borsh public key (tag 0 + 32 bytes) */
    int fc_key;              /* add key: 1 = function-call permission */
    const char *fc_receiver; /* add key with function-call permission */
    const char *fc_methods;  /* comma-separated, "" = any */
    nemu_u128 fc_allowance;  /* 0 = unlimited */
} nemu_action;

/* What one receipt did. */
typedef struct {
    char executor[65];
    char predecessor[65];
    char method[257]; /* first function call's method, or "" */
    int refund;       /* a system refund / balance return receipt */
    int ok;
    enum nemu_err err;
    char *error; /* NUL-terminated message when !ok */
    char **logs;
    size_t nlogs;
    uint8_t *value; /* return value when ok (NUL-terminated copy) */
    size_t value_len;
    uint64_t gas_burnt;
    nemu_u128 tokens_burnt;
    uint64_t id;        /* receipt id, unique in the world */
    uint64_t height;    /* the block it ran in */
    uint64_t *children; /* receipts it produced (promises, refunds), in order */
    size_t nchildren;
    uint64_t returned;    /* promise_return: the receipt whose result is this one's */
    size_t fail_index;    /* failing action, SIZE_MAX = none (e.g. LackBalanceForState) */
    nemu_u128 err_amount; /* LackBalanceForState: yoctoNEAR missing */
    char err_actor[65];   /* ActorNoPermission: the actor; CreateAccount*: predecessor */
    uint8_t err_pk[33];   /* AddKeyAlreadyExists / DeleteKeyDoesNotExist: the key */
    int gas_refund;       /* a refund receipt returning unused gas (else deposits) */
} nemu_receipt_outcome;

typedef struct {
    int pending; /* receipts of this transaction still wait (a yield): no final status yet */
    int ok;      /* final status */
    enum nemu_err err;
    char *error;    /* final failure message */
    uint8_t *value; /* final SuccessValue (NUL-terminated copy) */
    size_t value_len;
    nemu_receipt_outcome *receipts;
    size_t nreceipts;
    /* err == NEMU_E_INVALID_TX: nearcore's InvalidTxError as JSON text,
     * e.g. {"NotEnoughBalance":{"signer_id":..,"balance":"..","cost":".."}} */
    char *invalid_tx;
    uint64_t tx_height;     /* block the transaction was included in */
    uint64_t first_receipt; /* id of the receipt the transaction became */
    uint64_t tx_gas_burnt;  /* converting the transaction (send fees) */
    nemu_u128 tokens_burnt; /* everything burnt: transaction and receipts */
    nemu_u128 gas_cost;     /* what the signer paid upfront for gas (before refunds) */
} nemu_outcome;

typedef struct nemu nemu;

nemu *nemu_new(void);
void nemu_free(nemu *w);

/* Genesis: create an account with a balance and one full-access key
 * (a deterministic test key derived from the account name). Returns 1 on success. */
int nemu_create_account(nemu *w, const char *account_id, nemu_u128 balance);
/* Genesis: the same with a given full-access key (borsh: tag 0 + 32 bytes). */
int nemu_create_account_key(nemu *w, const char *account_id, nemu_u128 balance,
                            const uint8_t pk[33]);
/* Genesis: put code on an account directly (no receipt, no storage check). */
int nemu_set_code(nemu *w, const char *account_id, const uint8_t *code, size_t len);

/* Submit a transaction signed by signer's key number key_index (0 = the genesis
 * key) and run every receipt it causes. Returns an outcome to free with
 * nemu_outcome_free (never NULL). */
nemu_outcome *nemu_tx(nemu *w, const char *signer, int key_index, const char *receiver,
                      const nemu_action *actions, size_t nactions);
/* The outcome of a transaction nemu_tx returned pending (by the
 * first_receipt of that outcome): a copy of the outcome so far (pending = 1),
 * or the final outcome, after which the world forgets the transaction; NULL
 * if unknown. Free the result with nemu_outcome_free. */
nemu_outcome *nemu_tx_poll(nemu *w, uint64_t first_receipt);
/* Yields waiting to be resumed or to time out. */
size_t nemu_yields_waiting(const nemu *w);
/* One FunctionCall transaction with the genesis key. args is a NUL-terminated
 * JSON text (or NULL for empty input). */
nemu_outcome *nemu_call(nemu *w, const char *signer, const char *receiver, const char *method,
                        const char *args, nemu_u128 deposit, uint64_t gas);
/* Same with explicit argument bytes. */
nemu_outcome *nemu_call_bytes(nemu *w, const char *signer, const char *receiver, const char *method,
                              const uint8_t *args, size_t args_len, nemu_u128 deposit,
                              uint64_t gas);
/* A view call (RPC query call_function): runs the export read-only. On
 * success returns an outcome with ok=1 and the value; state never changes. */
nemu_outcome *nemu_view(nemu *w, const char *account_id, const char *method, const char *args);
void nemu_outcome_free(nemu_outcome *o);

/* Total number of log lines containing needle across all receipts. */
size_t nemu_outcome_count_logs(const nemu_outcome *o, const char *needle);
/* The first log line containing needle, or NULL. */
const char *nemu_outcome_find_log(const nemu_outcome *o, const char *needle);
/* The first failed receipt's message, or NULL if all succeeded. */
const char *nemu_outcome_first_error(const nemu_outcome *o);

/* Account queries; return 0 if the account does not exist. */
int nemu_account_exists(const nemu *w, const char *account_id);
nemu_u128 nemu_balance(const nemu *w, const char *account_id);
uint64_t nemu_storage_usage(const nemu *w, const char *account_id);
/* sha256 of the account's code into out; returns 0 if it has none. */
int nemu_code_hash(const nemu *w, const char *account_id, uint8_t out[32]);
size_t nemu_code_len(const nemu *w, const char *account_id);
/* Raw storage read: returns the value length or -1 if absent; copies up to cap. */
long nemu_storage_get(const nemu *w, const char *account_id, const uint8_t *key, size_t klen,
                      uint8_t *out, size_t cap);
size_t nemu_storage_count(const nemu *w, const char *account_id);
/* Test-only state patch (like a sandbox node's patch_state): write or, with
 * value NULL, delete one storage record, keeping storage_usage consistent. */
int nemu_storage_patch(nemu *w, const char *account_id, const uint8_t *key, size_t klen,
                       const uint8_t *value, size_t vlen);
/* Public key (borsh, 33 bytes) of key number key_index of an account. */
int nemu_account_key(const nemu *w, const char *account_id, int key_index, uint8_t out[33]);
size_t nemu_key_count(const nemu *w, const char *account_id);
/* Index of the access key pk on the account, or -1. */
int nemu_find_key(const nemu *w, const char *account_id, const uint8_t pk[33]);
/* Access key details: nonce, and for function-call keys the receiver, the
 * comma-separated methods and the allowance (0 = unlimited). Returns 0 if absent. */
int nemu_key_info(const nemu *w, const char *account_id, int key_index, uint64_t *nonce, int *fc,
                  const char **receiver, const char **methods, nemu_u128 *allowance);
/* Set a key's nonce (what a node does when it accepts a signed transaction). */
void nemu_set_key_nonce(nemu *w, const char *account_id, int key_index, uint64_t nonce);

uint64_t nemu_block_height(const nemu *w);
uint64_t nemu_block_timestamp(const nemu *w);
nemu_u128 nemu_gas_price(const nemu *w);
/* Set the gas price (0: transactions cost no gas, for arithmetic-only tests). */
void nemu_set_gas_price(nemu *w, nemu_u128 price);

/* Block history. nemu_at shows the state as it was at block `height` (the
 * last state change at or before it) to every query and view, until
 * nemu_now; it returns 0 for a future block or one older than the kept
 * history (NEMU_HISTORY state changes). Nothing may change the world
 * in between. */
int nemu_at(nemu *w, uint64_t height);
void nemu_now(nemu *w);
/* Advance the chain by n blocks (time moves 1 s per block): receipts that
 * wait for a yield run when it is resumed or times out (200 blocks after it
 * was made) in those blocks. */
void nemu_advance_blocks(nemu *w, uint64_t n);
/* Move the chain's clock forward to ns (unix nanoseconds), like a sandbox
 * node's fast-forward: for tests whose data is valid at another time than
 * nemu's genesis (2023-11-14). Returns 0 (and changes nothing) if ns is in
 * the past. */
int nemu_set_timestamp(nemu *w, uint64_t ns);

/* Wasm instruction metering (the metered modules' env.nemu_tick, see
 * tests/near/meter.mjs): instructions counted so far, the count at which the
 * running call's gas runs out, and the check called past it. */
extern uint64_t nemu_wasm_ops, nemu_wasm_ops_limit;
void nemu_wasm_ops_over(void);

/* nemu's fee table as nearcore's RuntimeFeesConfig JSON (static text). */
const char *nemu_fee_table_text(void);

/* NEAR account-ID rule (protocol, §5.6). */
int nemu_valid_account_id(const char *id);

/* Read a whole file (the wasm of a module); NULL on error. Caller frees. */
uint8_t *nemu_read_file(const char *path, size_t *len);
/* Format a u128 as decimal into buf (at least 40 bytes); returns buf. */
char *nemu_u128_str(nemu_u128 v, char *buf);

/* The compiled modules known to this build (generated registry). */
typedef struct {
    const char *name;
    void (*fn)(void *instance); /* NULL: the export has a non-() -> () signature */
} nemu_export;

typedef struct {
    const char *name;      /* module name given to wasm2c */
    const char *wasm_path; /* the wasm file it was generated from */
    const char *sha256_hex;
    void (*init_module)(void);
    size_t instance_size;
    void (*instantiate)(void *instance, void *env);
    void (*free_instance)(void *instance);
    void *(*memory)(void *instance); /* wasm_rt_memory_t * */
    const nemu_export *exports;
    size_t nexports;
} nemu_module;

extern const nemu_module nemu_modules[];
extern const size_t nemu_nmodules;
const nemu_module *nemu_module_by_name(const char *name);
/* Load the wasm bytes of a registered module (caller frees). */
uint8_t *nemu_module_code(const char *name, size_t *len);

#endif
