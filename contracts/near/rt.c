/* rt.c — runtime layer of the NEAR contracts (wasm32 only).
 *
 * The one idea: every NEAR function call runs in a fresh instance, so state
 * lives only in storage and memory can be a bump allocator that never frees.
 * Everything else is the near-sdk conventions written out by hand — see rt.h.
 * View methods only call host functions that NEAR allows in views (storage
 * reads, current account, input, value_return, log).
 */
#include "rt.h"
#include "near.h"

/* ------------------------------------------------------------ memory / libc */

/* clang may emit calls to these for struct copies; no_builtin stops it from
 * turning the loops back into calls to themselves. Weak: a contract that links
 * lib/attest gets its word-at-a-time versions (lib/attest/wasm/libc.c). */
__attribute__((no_builtin, weak)) void *memcpy(void *d, const void *s, unsigned long n) {
    unsigned char *dp = d;
    const unsigned char *sp = s;
    while (n--)
        *dp++ = *sp++;
    return d;
}

__attribute__((no_builtin, weak)) void *memset(void *d, int c, unsigned long n) {
    unsigned char *dp = d;
    while (n--)
        *dp++ = (unsigned char)c;
    return d;
}

extern unsigned char __heap_base;
static uintptr_t rt_heap;

void *rt_alloc(uint32_t n) {
    if (!rt_heap) rt_heap = (uintptr_t)&__heap_base;
    uintptr_t p = (rt_heap + 7) & ~(uintptr_t)7;
    uintptr_t end = p + n;
    if (end < p) rt_panic("Out of memory");
    uintptr_t have = (uintptr_t)__builtin_wasm_memory_size(0) * 65536u;
    if (end > have) {
        uintptr_t pages = (end - have + 65535u) / 65536u;
        if (__builtin_wasm_memory_grow(0, pages) == (uintptr_t)-1) rt_panic("Out of memory");
    }
    rt_heap = end;
    return (void *)p;
}

void rt_buf(nj_buf *b, uint32_t cap) {
    b->p = rt_alloc(cap);
    b->len = 0;
    b->cap = cap;
    b->overflow = 0;
}

/* ------------------------------------------------------------ panics, logs */

void rt_panic(const char *msg) {
    near_panic_utf8(nj_strlen(msg), (uintptr_t)msg);
}

void rt_panic3(const char *a, const char *b, const char *c) {
    nj_buf m;
    rt_buf(&m, 512);
    nj_puts(&m, a);
    nj_puts(&m, b);
    nj_puts(&m, c);
    rt_panic_buf(&m);
}

void rt_panic_buf(const nj_buf *b) {
    near_panic_utf8(b->len, (uintptr_t)b->p);
}

void rt_log(const char *s, uint32_t n) {
    near_log_utf8(n, (uintptr_t)s);
}

void rt_return(const char *s, uint32_t n) {
    near_value_return(n, (uintptr_t)s);
}

void rt_return_buf(const nj_buf *b) {
    if (b->overflow) rt_panic("Result too large");
    rt_return(b->p, b->len);
}

void rt_return_str(const char *s, uint32_t n) {
    nj_buf b;
    rt_buf(&b, 6 * n + 2); /* every byte escaped as \u00XX at worst */
    nj_put_str(&b, s, n);
    rt_return_buf(&b);
}

void rt_return_bool(int v) {
    if (v)
        rt_return("true", 4);
    else
        rt_return("false", 5);
}

/* ------------------------------------------------------------ registers */

/* Contents of register reg in fresh memory (NUL-terminated), or NULL. */
static char *rt_reg(uint64_t reg, uint32_t *n) {
    uint64_t len = near_register_len(reg);
    if (len == UINT64_MAX) return 0;
    char *p = rt_alloc((uint32_t)len + 1);
    near_read_register(reg, (uintptr_t)p);
    p[len] = 0;
    *n = (uint32_t)len;
    return p;
}

char *rt_input(uint32_t *n) {
    near_input(0);
    char *p = rt_reg(0, n);
    if (!p) {
        *n = 0;
        p = rt_alloc(1);
        p[0] = 0;
    }
    return p;
}

static const char *rt_cur;
static uint32_t rt_cur_n;

const char *rt_current(uint32_t *n) {
    if (!rt_cur) {
        near_current_account_id(0);
        rt_cur = rt_reg(0, &rt_cur_n);
    }
    *n = rt_cur_n;
    return rt_cur;
}

const char *rt_predecessor(uint32_t *n) {
    near_predecessor_account_id(0);
    return rt_reg(0, n);
}

u128 rt_deposit(void) {
    u128 d;
    near_attached_deposit((uintptr_t)&d);
    return d;
}

/* ------------------------------------------------------------ storage */

char *rt_get(const void *k, uint32_t kn, uint32_t *vn) {
    if (!near_storage_read(kn, (uintptr_t)k, 0)) return 0;
    return rt_reg(0, vn);
}

void rt_put(const void *k, uint32_t kn, const void *v, uint32_t vn) {
    near_storage_write(kn, (uintptr_t)k, vn, (uintptr_t)v, 0);
}

int rt_del(const void *k, uint32_t kn) {
    return near_storage_remove(kn, (uintptr_t)k, 0) == 1;
}

int rt_has(const void *k, uint32_t kn) {
    return near_storage_has_key(kn, (uintptr_t)k) == 1;
}

/* ------------------------------------------------------------ promises */

void rt_transfer(const char *to, uint32_t ton, u128 amount) {
    uint64_t idx = near_promise_batch_create(ton, (uintptr_t)to);
    near_promise_batch_action_transfer(idx, (uintptr_t)&amount);
}

/* ------------------------------------------------------------ conventions */

static const char rt_state_key[] = "STATE";

void rt_require_init(void) {
    if (!rt_has(rt_state_key, 5)) rt_panic("The contract is not initialized");
}

void rt_private(const char *method) {
    uint32_t pn, cn;
    const char *p = rt_predecessor(&pn);
    const char *c = rt_current(&cn);
    if (!nj_eq(p, pn, c, cn)) rt_panic3("Method ", method, " is private");
}

void rt_init(const char *method, int is_private) {
    if (is_private) rt_private(method);
    if (rt_deposit() != 0) rt_panic3("Method ", method, " doesn't accept deposit");
    if (rt_has(rt_state_key, 5)) rt_panic("The contract has already been initialized");
    rt_put(rt_state_key, 5, "\1", 1);
}

void rt_owner_only(const char *method) {
    rt_owner_only_keep(method);
    u128 d = rt_deposit();
    uint32_t pn;
    const char *p = rt_predecessor(&pn);
    if (d > 1) rt_transfer(p, pn, d - 1);
}

void rt_pay_storage(void) {
    u128 d = rt_deposit(), bal, need = (u128)near_storage_usage() * YOCTO_PER_BYTE;
    near_account_balance((uintptr_t)&bal);
    /* bal includes d; what the account had before the call is bal - d */
    u128 before = bal - d, shortfall = need > before ? need - before : 0;
    if (shortfall > d) {
        nj_buf m;
        char dec[40];
        rt_buf(&m, 200);
        nj_puts(&m, "Not enough balance for storage: attach at least ");
        nj_put(&m, dec, nt_u128_dec(shortfall, dec));
        nj_puts(&m, " yoctoNEAR");
        rt_panic_buf(&m);
    }
    u128 keep = shortfall ? shortfall : 1;
    uint32_t pn;
    const char *p = rt_predecessor(&pn);
    if (d > keep) rt_transfer(p, pn, d - keep);
}

void rt_owner_only_keep(const char *method) {
    rt_require_init();
    u128 d = rt_deposit();
    if (d == 0) rt_panic("Requires attached deposit of at least 1 yoctoNEAR");
    uint32_t pn, on;
    const char *p = rt_predecessor(&pn);
    const char *o = rt_get("o", 1, &on);
    if (!o || !nj_eq(p, pn, o, on))
        rt_panic3("Insufficient permissions for method ", method,
                  " restricted by access control. Requires one of these roles: [\"Owner\"]");
}

/* ------------------------------------------------------------ arguments */

char *rt_json;
nj_tok *rt_toks;

static NORETURN void rt_json_fail(const nj_buf *detail) {
    nj_buf m;
    rt_buf(&m, detail->len + 64);
    nj_puts(&m, "Failed to deserialize input from JSON. Error: ");
    nj_put(&m, detail->p, detail->len);
    rt_panic_buf(&m);
}

static uint32_t rt_fields(uint32_t obj, const nj_field *f, uint32_t nf) {
    nj_buf err;
    rt_buf(&err, 160);
    int64_t r = nj_fields(rt_json, rt_toks, obj, f, nf, &err);
    if (r < 0) rt_json_fail(&err);
    return (uint32_t)r;
}

uint32_t rt_args(const nj_field *f, uint32_t nf) {
    uint32_t n;
    char *in = rt_input(&n);
    nj_buf err;
    rt_buf(&err, 160);
    if (n == 0) {
        in = "{}";
        n = 2;
    }
    if (n > NJ_MAX_INPUT) {
        nj_puts(&err, "input too large");
    } else {
        /* Copy: strings are decoded in place, and "{}" above is read-only. */
        rt_json = rt_alloc(n);
        for (uint32_t i = 0; i < n; i++)
            rt_json[i] = in[i];
        uint32_t cap = nj_tok_cap(n);
        rt_toks = rt_alloc(cap * (uint32_t)sizeof(nj_tok));
        if (nj_parse(rt_json, n, rt_toks, cap, &err)) return rt_fields(0, f, nf);
    }
    rt_json_fail(&err);
}

uint32_t rt_sub(uint32_t obj, const nj_field *f, uint32_t nf) {
    return rt_fields(obj, f, nf);
}

static void rt_put_digits(nj_buf *b, uint32_t v) {
    nj_put_u64(b, v);
}

void rt_hex(const nj_str *v, uint32_t digits, const char *what, char *out) {
    if (v->s && nt_hex_norm(v->s, v->len, digits, out)) return;
    nj_buf m;
    rt_buf(&m, 160);
    nj_puts(&m, "Invalid ");
    nj_puts(&m, what);
    nj_puts(&m, ": expected ");
    rt_put_digits(&m, digits);
    nj_puts(&m, " hex digits");
    rt_panic_buf(&m);
}

void rt_account(const nj_str *v, const char *msg) {
    if (!v->s || !nt_account_valid(v->s, v->len)) rt_panic(msg);
}

/* ------------------------------------------------------------ sets */

static char *rt_key(char tag, char kind, const char *v, uint32_t n) {
    char *k = rt_alloc(n + 2);
    k[0] = tag;
    k[1] = kind;
    for (uint32_t i = 0; i < n; i++)
        k[2 + i] = v[i];
    return k;
}

static char *rt_idx_key(char tag, uint32_t idx) {
    char le[4] = {(char)idx, (char)(idx >> 8), (char)(idx >> 16), (char)(idx >> 24)};
    return rt_key(tag, 'i', le, 4);
}

static uint32_t rt_u32(const char *p) {
    const unsigned char *u = (const unsigned char *)p;
    return (uint32_t)u[0] | (uint32_t)u[1] << 8 | (uint32_t)u[2] << 16 | (uint32_t)u[3] << 24;
}

uint32_t rt_set_len(char tag) {
    char k[2] = {tag, 'n'};
    uint32_t n;
    char *v = rt_get(k, 2, &n);
    return v && n == 4 ? rt_u32(v) : 0;
}

static void rt_set_len_put(char tag, uint32_t len) {
    char k[2] = {tag, 'n'};
    char le[4] = {(char)len, (char)(len >> 8), (char)(len >> 16), (char)(len >> 24)};
    rt_put(k, 2, le, 4);
}

int rt_set_has(char tag, const char *v, uint32_t n) {
    return rt_has(rt_key(tag, 'k', v, n), n + 2);
}

int rt_set_add(char tag, const char *v, uint32_t n) {
    char *k = rt_key(tag, 'k', v, n);
    if (rt_has(k, n + 2)) return 0;
    uint32_t len = rt_set_len(tag);
    char *ik = rt_idx_key(tag, len);
    rt_put(k, n + 2, ik + 2, 4);
    rt_put(ik, 6, v, n);
    rt_set_len_put(tag, len + 1);
    return 1;
}

int rt_set_remove(char tag, const char *v, uint32_t n) {
    char *k = rt_key(tag, 'k', v, n);
    uint32_t in;
    char *iv = rt_get(k, n + 2, &in);
    if (!iv || in != 4) return 0;
    uint32_t idx = rt_u32(iv), last = rt_set_len(tag) - 1;
    char *lk = rt_idx_key(tag, last);
    if (idx != last) {
        uint32_t ln;
        char *lv = rt_get(lk, 6, &ln);
        if (!lv) rt_panic("Corrupt set");
        rt_put(rt_idx_key(tag, idx), 6, lv, ln);
        rt_put(rt_key(tag, 'k', lv, ln), ln + 2, iv, 4);
    }
    rt_del(lk, 6);
    rt_del(k, n + 2);
    rt_set_len_put(tag, last);
    return 1;
}

#define RT_PAGE_MAX 100u

char *rt_set_at(char tag, uint32_t i, uint32_t *n) {
    char *v = rt_get(rt_idx_key(tag, i), 6, n);
    if (!v) rt_panic("Corrupt set");
    return v;
}

void rt_set_list_method(char tag) {
    uint32_t offset = 0, limit = RT_PAGE_MAX;
    nj_field f[] = {{"offset", NJF_U32, 0, &offset}, {"limit", NJF_U32, 0, &limit}};
    rt_require_init();
    rt_args(f, 2);
    if (limit > RT_PAGE_MAX) limit = RT_PAGE_MAX;
    uint32_t len = rt_set_len(tag);
    nj_buf out;
    rt_buf(&out, 64 + RT_PAGE_MAX * 80);
    nj_putc(&out, '[');
    for (uint32_t i = offset; i < len && i - offset < limit; i++) {
        uint32_t vn;
        char *v = rt_get(rt_idx_key(tag, i), 6, &vn);
        if (!v) rt_panic("Corrupt set");
        if (i != offset) nj_putc(&out, ',');
        nj_put_str(&out, v, vn);
    }
    nj_putc(&out, ']');
    rt_return_buf(&out);
}

/* ------------------------------------------------------------ events */

void rt_event(const char *event, const char *obj, uint32_t n) {
    nj_buf b;
    rt_buf(&b, n + 160);
    nj_puts(&b, "EVENT_JSON:{\"standard\":\"");
    nj_puts(&b, nc_standard);
    nj_puts(&b, "\",\"version\":\"1.0.0\",\"event\":\"");
    nj_puts(&b, event);
    nj_puts(&b, "\",\"data\":[");
    nj_put(&b, obj, n);
    nj_puts(&b, "]}");
    rt_log(b.p, b.len);
}

void rt_event_str(const char *event, const char *key, const char *v, uint32_t n) {
    nj_buf b;
    rt_buf(&b, 2 * n + 96);
    nj_puts(&b, "{\"");
    nj_puts(&b, key);
    nj_puts(&b, "\":");
    nj_put_str(&b, v, n);
    nj_putc(&b, '}');
    rt_event(event, b.p, b.len);
}

/* ------------------------------------------------------------ shared methods */

/* The single hex argument of a whitelist method, canonical, into out[64]. */
static void rt_set_arg(const rt_setdef *d, char *out) {
    nj_str v;
    nj_field f[] = {{d->field, NJF_STR, 1, &v}};
    rt_args(f, 1);
    if (nt_hex_body_len(v.s, v.len) == 0) rt_panic(d->empty_msg);
    rt_hex(&v, 64, d->field, out);
}

void rt_m_set_change(const char *method, const rt_setdef *d, int add) {
    char h[64];
    rt_owner_only(method);
    rt_set_arg(d, h);
    if (add)
        rt_set_add(d->tag, h, 64);
    else
        rt_set_remove(d->tag, h, 64);
    rt_event_str(add ? d->ev_add : d->ev_remove, d->field, h, 64);
}

void rt_m_set_change_paid(const char *method, const rt_setdef *d, int add) {
    char h[64];
    if (!add) {
        rt_m_set_change(method, d, 0);
        return;
    }
    rt_owner_only_keep(method);
    rt_set_arg(d, h);
    rt_set_add(d->tag, h, 64);
    rt_event_str(d->ev_add, d->field, h, 64);
    rt_pay_storage();
}

void rt_m_set_is(const rt_setdef *d) {
    char h[64];
    rt_require_init();
    rt_set_arg(d, h);
    rt_return_bool(rt_set_has(d->tag, h, 64));
}

void rt_m_get_owner(void) {
    uint32_t n;
    rt_require_init();
    const char *o = rt_get("o", 1, &n);
    rt_return_str(o, n);
}

void rt_m_transfer_ownership(void) {
    nj_str nw;
    nj_field f[] = {{"new_owner_id", NJF_STR, 1, &nw}};
    rt_owner_only("transfer_ownership");
    rt_args(f, 1);
    rt_account(&nw, "Invalid owner address");
    uint32_t on;
    const char *old = rt_get("o", 1, &on);
    rt_put("o", 1, nw.s, nw.len);
    nj_buf b;
    rt_buf(&b, 256);
    nj_puts(&b, "{\"previous_owner_id\":");
    nj_put_str(&b, old, on);
    nj_puts(&b, ",\"new_owner_id\":");
    nj_put_str(&b, nw.s, nw.len);
    nj_putc(&b, '}');
    rt_event("ownership_transferred", b.p, b.len);
}

/* ------------------------------------------------------------ boot info */

static void rt_boot_hex(const nj_str *v, uint32_t digits, int may_be_empty, const char *name,
                        char *out, uint8_t *present) {
    if (may_be_empty && v->len == 0) {
        if (present) *present = 0;
        return;
    }
    rt_hex(v, digits, name, out);
    if (present) *present = 1;
}

void rt_boot_info(rt_boot *b) {
    uint32_t obj, adv;
    nj_str app, compose, inst, dev, mra, mrs, os;
    nj_field top[] = {{"boot_info", NJF_OBJ, 1, &obj}};
    nj_field f[] = {
        {"app_id", NJF_STR, 1, &app},        {"compose_hash", NJF_STR, 1, &compose},
        {"instance_id", NJF_STR, 1, &inst},  {"device_id", NJF_STR, 1, &dev},
        {"mr_aggregated", NJF_STR, 1, &mra}, {"mr_system", NJF_STR, 1, &mrs},
        {"os_image_hash", NJF_STR, 1, &os},  {"tcb_status", NJF_STR, 1, &b->tcb_status},
        {"advisory_ids", NJF_ARR, 1, &adv},
    };
    rt_args(top, 1);
    rt_sub(obj, f, sizeof f / sizeof f[0]);
    rt_boot_hex(&app, 40, 0, "boot_info.app_id", b->app_id, 0);
    rt_boot_hex(&compose, 64, 0, "boot_info.compose_hash", b->compose_hash, 0);
    rt_boot_hex(&inst, 40, 1, "boot_info.instance_id", b->instance_id, 0);
    rt_boot_hex(&dev, 64, 1, "boot_info.device_id", b->device_id, &b->has_device);
    rt_boot_hex(&mra, 64, 0, "boot_info.mr_aggregated", b->mr_aggregated, 0);
    rt_boot_hex(&mrs, 64, 1, "boot_info.mr_system", b->mr_system, 0);
    rt_boot_hex(&os, 64, 0, "boot_info.os_image_hash", b->os_image_hash, 0);
    /* 128: what dstack-authd accepts (and upstream auth-eth's schema), so a
     * status the webhook forwards is answered, never a panic. */
    if (b->tcb_status.len > 128) rt_panic("Invalid boot_info.tcb_status: longer than 128 bytes");
    const nj_tok *a = &rt_toks[adv];
    if (a->len > 128) rt_panic("Invalid boot_info.advisory_ids: more than 128 items");
    for (uint32_t k = adv + 1; k < a->end; k = rt_toks[k].end)
        if (rt_toks[k].type != NJ_STR || rt_toks[k].len > 256)
            rt_panic("Invalid boot_info.advisory_ids: items must be strings of at most 256 bytes");
}

int rt_tcb_up_to_date(const rt_boot *b) {
    return nj_eq(b->tcb_status.s, b->tcb_status.len, "UpToDate", 8);
}

void rt_return_decision(int ok, const char *reason) {
    nj_buf b;
    rt_buf(&b, 128);
    nj_puts(&b, ok ? "[true," : "[false,");
    nj_put_str(&b, reason, nj_strlen(reason));
    nj_putc(&b, ']');
    rt_return_buf(&b);
}
