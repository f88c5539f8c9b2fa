/* probe.c — a test contract for the emulator's self-tests (test_emu.c).
 *
 * Each export exercises one protocol fact: host functions, storage, logs,
 * promises and callbacks, deposits, views. Arguments are plain text (not
 * JSON) to keep this module tiny; numbers are decimal. Built like the real
 * contracts: clang --target=wasm32 -mcpu=mvp -nostdlib -ffreestanding.
 */
typedef unsigned long long u64;
typedef unsigned int u32;
typedef unsigned char u8;
typedef unsigned __int128 u128;

#define IMPORT(name) __attribute__((import_module("env"), import_name(#name)))
#define EXPORT(name) __attribute__((export_name(#name))) void name(void)

IMPORT(read_register) void read_register(u64, u64);
IMPORT(register_len) u64 register_len(u64);
IMPORT(write_register) void write_register(u64, u64, u64);
IMPORT(current_account_id) void current_account_id(u64);
IMPORT(signer_account_id) void signer_account_id(u64);
IMPORT(signer_account_pk) void signer_account_pk(u64);
IMPORT(predecessor_account_id) void predecessor_account_id(u64);
IMPORT(input) void input(u64);
IMPORT(block_index) u64 block_index(void);
IMPORT(storage_usage) u64 storage_usage(void);
IMPORT(account_balance) void account_balance(u64);
IMPORT(attached_deposit) void attached_deposit(u64);
IMPORT(prepaid_gas) u64 prepaid_gas(void);
IMPORT(sha256) void sha256(u64, u64, u64);
IMPORT(keccak256) void keccak256(u64, u64, u64);
IMPORT(keccak512) void keccak512(u64, u64, u64);
IMPORT(ripemd160) void ripemd160(u64, u64, u64);
IMPORT(ed25519_verify) u64 ed25519_verify(u64, u64, u64, u64, u64, u64);
IMPORT(ecrecover) u64 ecrecover(u64, u64, u64, u64, u64, u64, u64);
IMPORT(value_return) void value_return(u64, u64);
IMPORT(panic) void panic(void);
IMPORT(panic_utf8) void panic_utf8(u64, u64);
IMPORT(log_utf8) void log_utf8(u64, u64);
IMPORT(log_utf16) void log_utf16(u64, u64);
IMPORT(promise_create) u64 promise_create(u64, u64, u64, u64, u64, u64, u64, u64);
IMPORT(promise_then) u64 promise_then(u64, u64, u64, u64, u64, u64, u64, u64, u64);
IMPORT(promise_and) u64 promise_and(u64, u64);
IMPORT(promise_batch_create) u64 promise_batch_create(u64, u64);
IMPORT(promise_batch_then) u64 promise_batch_then(u64, u64, u64);
IMPORT(promise_batch_action_create_account) void promise_batch_action_create_account(u64);
IMPORT(promise_batch_action_deploy_contract)
void promise_batch_action_deploy_contract(u64, u64, u64);
IMPORT(promise_batch_action_function_call)
void promise_batch_action_function_call(u64, u64, u64, u64, u64, u64, u64);
IMPORT(promise_batch_action_function_call_weight)
void promise_batch_action_function_call_weight(u64, u64, u64, u64, u64, u64, u64, u64);
IMPORT(promise_batch_action_transfer) void promise_batch_action_transfer(u64, u64);
IMPORT(promise_batch_action_add_key_with_full_access)
void promise_batch_action_add_key_with_full_access(u64, u64, u64, u64);
IMPORT(promise_batch_action_delete_account) void promise_batch_action_delete_account(u64, u64, u64);
IMPORT(promise_results_count) u64 promise_results_count(void);
IMPORT(promise_result) u64 promise_result(u64, u64);
IMPORT(promise_return) void promise_return(u64);
IMPORT(promise_yield_create) u64 promise_yield_create(u64, u64, u64, u64, u64, u64, u64);
IMPORT(promise_yield_resume) u32 promise_yield_resume(u64, u64, u64, u64);
IMPORT(storage_write) u64 storage_write(u64, u64, u64, u64, u64);
IMPORT(storage_read) u64 storage_read(u64, u64, u64);
IMPORT(storage_remove) u64 storage_remove(u64, u64, u64);
IMPORT(storage_has_key) u64 storage_has_key(u64, u64);

#define P(x) ((u64)(unsigned long)(x))
#define TGAS 1000000000000ull

static u8 in[1 << 20]; /* input */
static u64 in_len;
static char out[4096];
static u64 out_len;

void *memcpy(void *d, const void *s, unsigned long n);
void *memcpy(void *d, const void *s, unsigned long n) {
    u8 *a = d;
    const u8 *b = s;
    while (n--)
        *a++ = *b++;
    return d;
}
void *memset(void *d, int c, unsigned long n);
void *memset(void *d, int c, unsigned long n) {
    u8 *a = d;
    while (n--)
        *a++ = (u8)c;
    return d;
}

static u64 slen(const char *s) {
    u64 n = 0;
    while (s[n])
        n++;
    return n;
}
static void read_input(void) {
    input(0);
    in_len = register_len(0);
    read_register(0, P(in));
    in[in_len] = 0;
}
static void put(const char *s, u64 n) {
    for (u64 i = 0; i < n && out_len < sizeof out; i++)
        out[out_len++] = s[i];
}
static void puts_(const char *s) {
    put(s, slen(s));
}
static void put_u128(u128 v) {
    char t[48];
    int i = 0;
    do {
        t[i++] = (char)('0' + (int)(v % 10));
        v /= 10;
    } while (v);
    while (i)
        put(&t[--i], 1);
}
static void put_reg(u64 r) {
    u64 n = register_len(r);
    if (n == (u64)-1) return;
    read_register(r, P(out + out_len));
    out_len += n;
}
static void put_hex_reg(u64 r) {
    static u8 b[64];
    u64 n = register_len(r);
    read_register(r, P(b));
    for (u64 i = 0; i < n; i++) {
        out[out_len++] = "0123456789abcdef"[b[i] >> 4];
        out[out_len++] = "0123456789abcdef"[b[i] & 15];
    }
}
static void ret(void) {
    value_return(out_len, P(out));
}
static void fail(const char *m) {
    panic_utf8(slen(m), P(m));
}

/* Parse "a b c ..." fields separated by single spaces. */
static char *field(int i, u64 *len) {
    char *p = (char *)in;
    while (i--) {
        while (*p && *p != ' ')
            p++;
        if (*p) p++;
    }
    char *e = p;
    while (*e && *e != ' ')
        e++;
    *len = (u64)(e - p);
    return p;
}
static u128 num(int i) {
    u64 n;
    char *p = field(i, &n);
    u128 v = 0;
    for (u64 k = 0; k < n; k++)
        v = v * 10 + (u128)(p[k] - '0');
    return v;
}
static u128 amount_buf;

/* value_return(input) */
EXPORT(echo) {
    read_input();
    value_return(in_len, P(in));
}
/* nothing at all: returns no value */
EXPORT(noop) {}
/* "key value": storage_write; returns "1:<old>" if overwritten else "0" */
EXPORT(set) {
    read_input();
    u64 kl, vl;
    char *k = field(0, &kl), *v = field(1, &vl);
    if (storage_write(kl, P(k), vl, P(v), 1)) {
        puts_("1:");
        put_reg(1);
    } else {
        puts_("0");
    }
    ret();
}
/* "key": storage_read → value or "null" */
EXPORT(get) {
    read_input();
    if (storage_read(in_len, P(in), 2))
        put_reg(2);
    else
        puts_("null");
    ret();
}
EXPORT(has) {
    read_input();
    puts_(storage_has_key(in_len, P(in)) ? "true" : "false");
    ret();
}
/* "key": storage_remove → old value or "null" */
EXPORT(del) {
    read_input();
    if (storage_remove(in_len, P(in), 3))
        put_reg(3);
    else
        puts_("null");
    ret();
}
/* "key N": writes N bytes of 'x' */
EXPORT(fill) {
    read_input();
    u64 kl;
    char *k = field(0, &kl);
    static char big[1 << 16];
    u64 n = (u64)num(1);
    for (u64 i = 0; i < n; i++)
        big[i] = 'x';
    storage_write(kl, P(k), n, P(big), 1);
}
/* key from register: write_register then storage_write with len u64::MAX */
EXPORT(set_from_register) {
    read_input();
    write_register(7, in_len, P(in));
    storage_write((u64)-1, 7, 3, P("reg"), 1);
}
/* "key value" then panic: the write must not persist */
EXPORT(set_then_panic) {
    read_input();
    u64 kl, vl;
    char *k = field(0, &kl), *v = field(1, &vl);
    storage_write(kl, P(k), vl, P(v), 1);
    log_utf8(12, P("before panic"));
    fail("after write");
}
EXPORT(panic_msg) {
    read_input();
    panic_utf8(in_len, P(in));
}
EXPORT(panic_plain) {
    panic();
}
EXPORT(trap) {
    __builtin_trap();
}
EXPORT(oob) {
    volatile u8 *p = (u8 *)0x7ffffff0u;
    out[0] = (char)p[0];
    ret();
}
EXPORT(mem_pages) {
    put_u128(__builtin_wasm_memory_size(0));
    ret();
}
EXPORT(grow_past_max) {
    put_u128((u32)__builtin_wasm_memory_grow(0, 1025));
    ret();
}
EXPORT(log) {
    read_input();
    log_utf8(in_len, P(in));
}
EXPORT(log_n) {
    read_input();
    u64 n = (u64)num(0);
    for (u64 i = 0; i < n; i++)
        log_utf8(4, P("line"));
}
EXPORT(log_bad_utf8) {
    log_utf8(2, P("\xc3\x28"));
}
EXPORT(log_cstr) {
    log_utf8((u64)-1, P("nul terminated"));
}
EXPORT(log16) {
    static const unsigned short s[] = {'h', 'i', 0x00e9, 0};
    log_utf16(6, P(s));
}
EXPORT(whoami) {
    current_account_id(0);
    put_reg(0);
    puts_("|");
    predecessor_account_id(0);
    put_reg(0);
    puts_("|");
    signer_account_id(0);
    put_reg(0);
    ret();
}
EXPORT(signer_pk) {
    signer_account_pk(0);
    put_hex_reg(0);
    ret();
}
EXPORT(current) {
    current_account_id(0);
    put_reg(0);
    ret();
}
EXPORT(deposit) {
    attached_deposit(P(&amount_buf));
    put_u128(amount_buf);
    ret();
}
EXPORT(balance) {
    account_balance(P(&amount_buf));
    put_u128(amount_buf);
    ret();
}
EXPORT(usage) {
    put_u128(storage_usage());
    ret();
}
EXPORT(gas_left) {
    put_u128(prepaid_gas());
    ret();
}
EXPORT(height) {
    put_u128(block_index());
    ret();
}
EXPORT(sha) {
    read_input();
    sha256(in_len, P(in), 0);
    put_hex_reg(0);
    ret();
}
EXPORT(keccak) {
    read_input();
    keccak256(in_len, P(in), 0);
    put_hex_reg(0);
    ret();
}
EXPORT(keccak5) {
    read_input();
    keccak512(in_len, P(in), 0);
    put_hex_reg(0);
    ret();
}
EXPORT(ripemd) {
    read_input();
    ripemd160(in_len, P(in), 0);
    put_hex_reg(0);
    ret();
}
/* input: sig(64) ‖ pk(32) ‖ message */
EXPORT(ed_verify) {
    read_input();
    puts_(ed25519_verify(64, P(in), in_len - 96, P(in + 96), 32, P(in + 64)) ? "1" : "0");
    ret();
}
/* input: hash(32) ‖ sig(64) ‖ v(1) ‖ malleability flag(1) → hex of the 64-byte key or "fail" */
EXPORT(ec_recover) {
    read_input();
    if (ecrecover(32, P(in), 64, P(in + 32), in[96], in[97], 0))
        put_hex_reg(0);
    else
        puts_("fail");
    ret();
}
EXPORT(bad_register) {
    read_register(42, P(out));
}
/* "account amount": transfer from this contract */
EXPORT(xfer) {
    read_input();
    u64 al;
    char *a = field(0, &al);
    amount_buf = num(1);
    u64 p = promise_batch_create(al, P(a));
    promise_batch_action_transfer(p, P(&amount_buf));
}
/* "account method args gas_tgas": call, then self.on_result; return the callback */
EXPORT(call_then) {
    read_input();
    u64 al, ml, gl;
    char *a = field(0, &al), *m = field(1, &ml), *g = field(2, &gl);
    (void)g;
    u64 args_l;
    char *args = field(2, &args_l);
    u64 gas = (u64)num(3) * TGAS;
    amount_buf = 0;
    u64 p = promise_create(al, P(a), ml, P(m), args_l, P(args), P(&amount_buf), gas);
    current_account_id(0);
    static char me[64];
    u64 mel = register_len(0);
    read_register(0, P(me));
    u64 t = promise_then(p, mel, P(me), 9, P("on_result"), 0, P(""), P(&amount_buf), 10 * TGAS);
    promise_return(t);
}
EXPORT(on_result) {
    u64 n = promise_results_count();
    put_u128(n);
    for (u64 i = 0; i < n; i++) {
        u64 r = promise_result(i, 5);
        puts_(r == 1 ? ":ok=" : ":failed");
        if (r == 1) put_reg(5);
    }
    ret();
}
/* "a1 a2": call echo on both, join with promise_and, then on_result */
EXPORT(and_then) {
    read_input();
    u64 al, bl;
    char *a = field(0, &al), *b = field(1, &bl);
    amount_buf = 0;
    u64 p[2];
    p[0] = promise_create(al, P(a), 4, P("echo"), 5, P("first"), P(&amount_buf), 10 * TGAS);
    p[1] = promise_create(bl, P(b), 10, P("panic_msg"), 6, P("second"), P(&amount_buf), 10 * TGAS);
    u64 j = promise_and(P(p), 2);
    current_account_id(0);
    static char me[64];
    u64 mel = register_len(0);
    read_register(0, P(me));
    u64 t = promise_then(j, mel, P(me), 9, P("on_result"), 0, P(""), P(&amount_buf), 10 * TGAS);
    promise_return(t);
}
EXPORT(return_joint) {
    amount_buf = 0;
    u64 p[2];
    current_account_id(0);
    static char me[64];
    u64 mel = register_len(0);
    read_register(0, P(me));
    p[0] = promise_create(mel, P(me), 4, P("noop"), 0, P(""), P(&amount_buf), 5 * TGAS);
    p[1] = promise_create(mel, P(me), 4, P("noop"), 0, P(""), P(&amount_buf), 5 * TGAS);
    promise_return(promise_and(P(p), 2));
}
/* "account args": promise_return of account.echo(args) */
EXPORT(forward) {
    read_input();
    u64 al, xl;
    char *a = field(0, &al), *x = field(1, &xl);
    amount_buf = 0;
    promise_return(promise_create(al, P(a), 4, P("echo"), xl, P(x), P(&amount_buf), 10 * TGAS));
}
/* The input after the first n space-separated fields. */
static char *rest(int n, u64 *len) {
    u64 l;
    char *f = field(n, &l);
    *len = in_len - (u64)(f - (char *)in);
    return f;
}
/* "account method args...": promise_return(account.method(args)) */
EXPORT(fwd) {
    read_input();
    u64 al, ml, rl;
    char *a = field(0, &al), *m = field(1, &ml), *r = rest(2, &rl);
    amount_buf = 0;
    /* no static gas: all unused gas goes on, by weight */
    u64 p = promise_batch_create(al, P(a));
    promise_batch_action_function_call_weight(p, ml, P(m), rl, P(r), P(&amount_buf), 0, 1);
    promise_return(p);
}
/* "account method args...": account.method(args) then self.on_result */
EXPORT(then_fwd) {
    read_input();
    u64 al, ml, rl;
    char *a = field(0, &al), *m = field(1, &ml), *r = rest(2, &rl);
    amount_buf = 0;
    u64 p = promise_create(al, P(a), ml, P(m), rl, P(r), P(&amount_buf), 100 * TGAS);
    current_account_id(0);
    static char me[64];
    u64 mel = register_len(0);
    read_register(0, P(me));
    promise_return(
        promise_then(p, mel, P(me), 9, P("on_result"), 0, P(""), P(&amount_buf), 10 * TGAS));
}
/* never returns: must end when its gas runs out (instruction metering) */
EXPORT(spin) {
    for (volatile u64 i = 0;; i++)
        ;
}
/* attach more gas than prepaid */
EXPORT(gas_hog) {
    amount_buf = 0;
    promise_create(5, P("alice"), 4, P("echo"), 0, P(""), P(&amount_buf), 400 * TGAS);
}
/* "account amount": promise with a deposit bigger than the balance */
EXPORT(overspend) {
    read_input();
    u64 al;
    char *a = field(0, &al);
    amount_buf = num(1);
    u64 p = promise_batch_create(al, P(a));
    promise_batch_action_transfer(p, P(&amount_buf));
}
/* self.gas_left with weight 1 and no static gas */
EXPORT(weighted) {
    amount_buf = 0;
    current_account_id(0);
    static char me[64];
    u64 mel = register_len(0);
    read_register(0, P(me));
    u64 p = promise_batch_create(mel, P(me));
    promise_batch_action_function_call_weight(p, 8, P("gas_left"), 0, P(""), P(&amount_buf), 0, 1);
    promise_return(p);
}
EXPORT(bad_promise) {
    promise_return(7);
}
EXPORT(bad_account) {
    promise_batch_create(5, P("A..b!"));
}
/* Input: "<sub> <amount> <init-method-or-'-'>\n<code bytes>": creates <sub>.<self>,
 * transfers amount, deploys the code, optionally calls the init method, then
 * self.on_result reports the outcome. */
EXPORT(make_child) {
    read_input();
    u64 nl = 0;
    while (nl < in_len && in[nl] != '\n')
        nl++;
    in[nl] = 0;
    u64 sl, ml;
    char *sub = field(0, &sl);
    amount_buf = num(1);
    char *method = field(2, &ml);
    current_account_id(0);
    static char me[64], child[128];
    u64 mel = register_len(0);
    read_register(0, P(me));
    u64 cl = 0;
    for (u64 i = 0; i < sl; i++)
        child[cl++] = sub[i];
    child[cl++] = '.';
    for (u64 i = 0; i < mel; i++)
        child[cl++] = me[i];
    u64 p = promise_batch_create(cl, P(child));
    promise_batch_action_create_account(p);
    promise_batch_action_transfer(p, P(&amount_buf));
    promise_batch_action_deploy_contract(p, in_len - nl - 1, P(in + nl + 1));
    if (!(ml == 1 && method[0] == '-')) {
        static u128 zero;
        promise_batch_action_function_call(p, ml, P(method), 0, P(""), P(&zero), 20 * TGAS);
    }
    static u128 zero2;
    u64 t = promise_then(p, mel, P(me), 9, P("on_result"), 0, P(""), P(&zero2), 10 * TGAS);
    promise_return(t);
}
/* "account": CreateAccount of an arbitrary account id (permission tests) */
EXPORT(create_any) {
    read_input();
    u64 p = promise_batch_create(in_len, P(in));
    promise_batch_action_create_account(p);
    amount_buf = 0;
    current_account_id(0);
    static char me[64];
    u64 mel = register_len(0);
    read_register(0, P(me));
    promise_return(
        promise_then(p, mel, P(me), 9, P("on_result"), 0, P(""), P(&amount_buf), 10 * TGAS));
}
/* "account": deploy our own input to another account (ActorNoPermission) */
EXPORT(deploy_other) {
    read_input();
    u64 p = promise_batch_create(in_len, P(in));
    promise_batch_action_deploy_contract(p, 8, P("\0asm\1\0\0\0"));
}
/* "beneficiary": delete this account */
EXPORT(self_destruct) {
    read_input();
    current_account_id(0);
    static char me[64];
    u64 mel = register_len(0);
    read_register(0, P(me));
    u64 p = promise_batch_create(mel, P(me));
    promise_batch_action_delete_account(p, in_len, P(in));
}
/* "beneficiary": DeleteAccount followed by another action (invalid batch) */
EXPORT(delete_not_last) {
    read_input();
    current_account_id(0);
    static char me[64];
    u64 mel = register_len(0);
    read_register(0, P(me));
    u64 p = promise_batch_create(mel, P(me));
    promise_batch_action_delete_account(p, in_len, P(in));
    amount_buf = 1;
    promise_batch_action_transfer(p, P(&amount_buf));
}
/* "n": a batch of n transfers of 1 yocto to self */
EXPORT(many_actions) {
    read_input();
    u64 n = (u64)num(0);
    current_account_id(0);
    static char me[64];
    u64 mel = register_len(0);
    read_register(0, P(me));
    u64 p = promise_batch_create(mel, P(me));
    amount_buf = 1;
    for (u64 i = 0; i < n; i++)
        promise_batch_action_transfer(p, P(&amount_buf));
}
/* add a full-access key (33 bytes borsh: tag 0 + 32 x 0x11) to self */
EXPORT(add_key) {
    static u8 pk[33];
    pk[0] = 0;
    for (int i = 1; i < 33; i++)
        pk[i] = 0x11;
    current_account_id(0);
    static char me[64];
    u64 mel = register_len(0);
    read_register(0, P(me));
    u64 p = promise_batch_create(mel, P(me));
    promise_batch_action_add_key_with_full_access(p, 33, P(pk), 0);
}
/* a second init-like method used by make_child: writes "inited" */
EXPORT(init) {
    storage_write(6, P("inited"), 3, P("yes"), 1);
    log_utf8(11, P("init called"));
}
EXPORT(init_fail) {
    fail("init refused");
}
/* "<what> <n>": push one host limit to n. key: storage_write with an n-byte
 * key; value: an n-byte value; return: value_return of n bytes; code: deploy
 * n bytes to self; promises: n promise_batch_create; deps: promise_and over n
 * promises. The big buffers are untouched zero memory at 8 MiB (NEAR gives a
 * contract 64 MiB), so the module stays small. */
static int word_is(const char *p, u64 n, const char *w) {
    u64 k = slen(w);
    if (n != k) return 0;
    for (u64 i = 0; i < n; i++)
        if (p[i] != w[i]) return 0;
    return 1;
}
EXPORT(limit) {
    read_input();
    u64 wl;
    char *what = field(0, &wl);
    u64 n = (u64)num(1);
    const u64 big = 8u << 20;
    current_account_id(0);
    static char me[64];
    u64 mel = register_len(0);
    read_register(0, P(me));
    if (word_is(what, wl, "key")) {
        storage_write(n, big, 1, P("v"), 1);
    } else if (word_is(what, wl, "value")) {
        storage_write(1, P("k"), n, big, 1);
    } else if (word_is(what, wl, "return")) {
        value_return(n, big);
    } else if (word_is(what, wl, "code")) {
        promise_batch_action_deploy_contract(promise_batch_create(mel, P(me)), n, big);
    } else if (word_is(what, wl, "promises")) {
        for (u64 i = 0; i < n; i++)
            promise_batch_create(mel, P(me));
    } else if (word_is(what, wl, "deps")) {
        static u64 ids[256];
        for (u64 i = 0; i < n && i < 256; i++)
            ids[i] = promise_batch_create(mel, P(me));
        promise_and(P(ids), n);
    } else {
        fail("unknown limit");
    }
}
/* An export with a non-() -> () signature: NEAR refuses to call it. */
__attribute__((export_name("takes_arg"))) void takes_arg(int x) {
    (void)x;
}

/* yield/resume (NEP-519). The data id of the last yield is kept under "yid". */
/* "<gas in TGas>": yields a callback to yield_done and returns it (so the
 * transaction's value is the callback's); a second word "keep" returns nothing */
EXPORT(yield_wait) {
    read_input();
    static const char m[] = "yield_done";
    u64 idx = promise_yield_create(sizeof m - 1, P(m), 3, P("arg"), (u64)num(0) * TGAS, 0, 5);
    storage_write(3, P("yid"), (u64)-1, 5, 6);
    u64 n;
    field(1, &n);
    if (!n) promise_return(idx);
}
/* the yield's callback: "resumed:<payload>|<args>", or a panic when it timed out */
EXPORT(yield_done) {
    if (promise_results_count() != 1) fail("expected one promise result");
    if (promise_result(0, 7) != 1) fail("yield timed out");
    puts_("resumed:");
    put_reg(7);
    puts_("|");
    input(8);
    put_reg(8);
    ret();
}
/* payload text: resumes the last yield (or, with a 64-hex-digit data id and a
 * space first, that one); returns "1" or "0" */
EXPORT(resume) {
    read_input();
    static u8 id[32];
    u8 *p = in;
    u64 n = in_len;
    if (in_len >= 65 && in[64] == ' ') {
        for (int i = 0; i < 32; i++) {
            u8 h = in[2 * i], l = in[2 * i + 1];
            id[i] = (u8)(((h <= '9' ? h - '0' : h - 'a' + 10) << 4) |
                         (l <= '9' ? l - '0' : l - 'a' + 10));
        }
        p = in + 65;
        n = in_len - 65;
    } else if (!storage_read(3, P("yid"), 9)) {
        fail("no yield");
    } else {
        read_register(9, P(id));
    }
    puts_(promise_yield_resume(32, P(id), n, P(p)) ? "1" : "0");
    ret();
}
/* resume, then panic: the resume must not take effect */
EXPORT(resume_then_panic) {
    static u8 id[32];
    if (!storage_read(3, P("yid"), 9)) fail("no yield");
    read_register(9, P(id));
    promise_yield_resume(32, P(id), 2, P("no"));
    fail("after resume");
}
/* a data id of the wrong length */
EXPORT(resume_bad_id) {
    promise_yield_resume(5, P("short"), 0, P(""));
}
/* yield and resume in one call, then resume again: "1 0", the callback's value */
EXPORT(yield_and_resume) {
    static const char m[] = "yield_done";
    u64 idx = promise_yield_create(sizeof m - 1, P(m), 0, P(""), 10 * TGAS, 0, 5);
    static u8 id[32];
    read_register(5, P(id));
    u32 a = promise_yield_resume(32, P(id), 4, P("same")),
        b = promise_yield_resume(32, P(id), 1, P("x"));
    puts_(a ? "1" : "0");
    puts_(b ? " 1" : " 0");
    log_utf8(out_len, P(out));
    promise_return(idx);
}
