/* mpc-test.c — a TEST DOUBLE of NEAR's MPC contract (`v1.signer`), for tests only.
 *
 * Never deployed: the real MPC contract is run by the MPC network, whose
 * nodes answer confidential key derivation (CKD) requests off chain. This
 * double keeps the one interface the KMS contract uses — request_app_private_key
 * {request: {derivation_path, app_public_key, domain_id}} (deposit >= 1 yocto,
 * excess refunded; prepaid gas >= 10 TGas, as the real contract refuses less)
 * answered with {big_y, big_c} — and the mechanism behind it:
 * the request yields (promise_yield_create) and the answer resumes it
 * (promise_yield_resume), so the caller's transaction stays open until a
 * responder, standing in for the MPC nodes (tests/near/mpc-responder.mjs),
 * calls respond_ckd, or until NEAR's yield timeout (200 blocks) fails it.
 * The double does no cryptography: the responder computes the answer.
 *
 * Storage: "k" the public key, "r" the responder, "d" the domain id (u64 LE),
 * the set 'q' of pending request ids (64 hex digits: the yield's data id) and
 * "R<id>" each request as the JSON object pending_ckd_requests lists.
 */
#include "near.h"
#include "rt.h"

const char nc_standard[] = "mpc-test";

#define YIELD_TIMEOUT_BLOCKS 200 /* nearcore's yield_timeout_length_in_blocks */
#define CALLBACK_GAS (5 * TGAS)  /* plus all gas left (weight 1) */
#define REQUEST_GAS                                                                                \
    (10 * TGAS) /* the least request_app_private_key accepts (reference/near.md §5.8) */
#define SET_PENDING 'q'

static const char cb_name[] = "return_ck_and_clean_state_on_success";

static uint64_t domain_id(void) {
    uint32_t n;
    const char *d = rt_get("d", 1, &n);
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | (uint8_t)d[i];
    return v;
}

static void check_domain(uint64_t d) {
    if (d == domain_id()) return;
    char t[24];
    nj_buf b = {t, 0, sizeof t, 0};
    nj_put_u64(&b, d);
    nj_putc(&b, 0);
    rt_panic3("Unknown domain_id ", t, ": this MPC test double has one CKD domain");
}

static void require_prefix(const nj_str *v, const char *prefix, const char *msg) {
    uint32_t n = nj_strlen(prefix);
    if (!v->s || v->len <= n || !nj_eq(v->s, n, prefix, n)) rt_panic(msg);
}

static char *record_key(const char *id) {
    char *k = rt_alloc(65);
    k[0] = 'R';
    for (int i = 0; i < 64; i++)
        k[i + 1] = id[i];
    return k;
}

METHOD(new) {
    nj_str pk, responder;
    uint64_t domain = 2; /* the CKD domain upstream's scripts use */
    nj_field f[] = {
        {"public_key", NJF_STR, 1, &pk},
        {"responder", NJF_STR, 1, &responder},
        {"domain_id", NJF_U64, 0, &domain},
    };
    rt_init("new", 1);
    rt_args(f, 3);
    require_prefix(&pk, "bls12381g2:", "Invalid public_key: expected bls12381g2:<base58>");
    rt_account(&responder, "Invalid responder account");
    rt_put("k", 1, pk.s, pk.len);
    rt_put("r", 1, responder.s, responder.len);
    rt_put("d", 1, &domain, 8);
}

/* view: the domain's public key (the MPC network's master public key) */
METHOD(public_key) {
    uint64_t d = 0;
    nj_field f[] = {{"domain_id", NJF_U64, 0, &d}};
    rt_require_init();
    if (!(rt_args(f, 1) & 1)) d = domain_id();
    check_domain(d);
    uint32_t n;
    const char *pk = rt_get("k", 1, &n);
    rt_return_str(pk, n);
}

METHOD(request_app_private_key) {
    uint32_t req;
    nj_str path, app_pk;
    uint64_t d;
    nj_field f[] = {{"request", NJF_OBJ, 1, &req}};
    nj_field rf[] = {
        {"derivation_path", NJF_STR, 1, &path},
        {"app_public_key", NJF_STR, 1, &app_pk},
        {"domain_id", NJF_U64, 1, &d},
    };
    rt_require_init();
    u128 deposit = rt_deposit();
    if (deposit < 1) rt_panic("Attached deposit is lower than required. Attached: 0, Required: 1");
    uint64_t gas = near_prepaid_gas();
    if (gas < REQUEST_GAS) { /* a caller that attaches too little fails here, not in the callback */
        char t[24];
        nj_buf b = {t, 0, sizeof t, 0};
        nj_put_u64(&b, gas);
        nj_putc(&b, 0);
        rt_panic3("Provided gas is lower than required. Provided: ", t,
                  ", Required: 10000000000000 (10 TGas)");
    }
    rt_args(f, 1);
    rt_sub(req, rf, 3);
    check_domain(d);
    require_prefix(&app_pk, "bls12381g1:",
                   "Invalid app_public_key: expected bls12381g1:<base58> (48-byte G1 point)");
    uint32_t pn;
    const char *pred = rt_predecessor(&pn);
    if (deposit > 1) rt_transfer(pred, pn, deposit - 1);
    /* the yield: its data id names the request; respond_ckd forgets the
     * request, so the callback needs no arguments */
    uint8_t id[32];
    char hex[64];
    uint64_t p = near_promise_yield_create(sizeof cb_name - 1, (uintptr_t)cb_name, 2,
                                           (uintptr_t) "{}", CALLBACK_GAS, 1, 1);
    near_read_register(1, (uintptr_t)id);
    nt_hex_encode(id, 32, hex);
    nj_buf r;
    rt_buf(&r, path.len * 6 + app_pk.len * 6 + pn + 256);
    nj_puts(&r, "{\"request_id\":");
    nj_put_str(&r, hex, 64);
    nj_puts(&r, ",\"predecessor_id\":");
    nj_put_str(&r, pred, pn);
    nj_puts(&r, ",\"derivation_path\":");
    nj_put_str(&r, path.s, path.len);
    nj_puts(&r, ",\"app_public_key\":");
    nj_put_str(&r, app_pk.s, app_pk.len);
    nj_puts(&r, ",\"domain_id\":");
    nj_put_u64(&r, d);
    nj_puts(&r, ",\"deposit\":\"");
    char dep[40];
    nj_put(&r, dep, nt_u128_dec(deposit, dep));
    nj_puts(&r, "\",\"block_height\":");
    nj_put_u64(&r, near_block_index());
    nj_putc(&r, '}');
    if (r.overflow) rt_panic("request too large");
    rt_put(record_key(hex), 65, r.p, r.len);
    rt_set_add(SET_PENDING, hex, 64);
    near_promise_return(p);
}

/* view: the requests waiting for an answer (not yet timed out), oldest first */
METHOD(pending_ckd_requests) {
    rt_require_init();
    uint32_t n = rt_set_len(SET_PENDING);
    uint64_t now = near_block_index();
    nj_buf b;
    rt_buf(&b, 64 + n * 1024);
    nj_putc(&b, '[');
    int first = 1;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t hn, vn;
        const char *id = rt_set_at(SET_PENDING, i, &hn);
        const char *v = rt_get(record_key(id), 65, &vn);
        if (!v) continue;
        /* its block height is the record's last member */
        uint32_t k = vn - 1;
        while (k && v[k - 1] >= '0' && v[k - 1] <= '9')
            k--;
        uint64_t h = 0;
        for (uint32_t j = k; j + 1 < vn; j++)
            h = h * 10 + (uint64_t)(v[j] - '0');
        if (now >= h + YIELD_TIMEOUT_BLOCKS) continue;
        if (!first) nj_putc(&b, ',');
        first = 0;
        nj_put(&b, v, vn);
    }
    nj_putc(&b, ']');
    rt_return_buf(&b);
}

static void forget(const char *hex) {
    rt_del(record_key(hex), 65);
    rt_set_remove(SET_PENDING, hex, 64);
}

/* The responder's answer: resumes the request's yield with {big_y, big_c}.
 * Returns true, or false (and forgets the request) when its yield is no
 * longer waiting (timed out). */
METHOD(respond_ckd) {
    nj_str id, big_y, big_c;
    uint32_t resp;
    nj_field f[] = {{"request_id", NJF_STR, 1, &id}, {"response", NJF_OBJ, 1, &resp}};
    nj_field rf[] = {{"big_y", NJF_STR, 1, &big_y}, {"big_c", NJF_STR, 1, &big_c}};
    rt_require_init();
    uint32_t rn, pn;
    const char *responder = rt_get("r", 1, &rn);
    const char *pred = rt_predecessor(&pn);
    if (!nj_eq(responder, rn, pred, pn)) rt_panic("Only the responder may answer CKD requests");
    rt_args(f, 2);
    rt_sub(resp, rf, 2);
    char hex[64];
    rt_hex(&id, 64, "request_id", hex);
    if (!rt_set_has(SET_PENDING, hex, 64)) rt_panic("Unknown request_id: no such CKD request");
    require_prefix(&big_y, "bls12381g1:", "Invalid response: big_y must be bls12381g1:<base58>");
    require_prefix(&big_c, "bls12381g1:", "Invalid response: big_c must be bls12381g1:<base58>");
    nj_buf pl;
    rt_buf(&pl, big_y.len * 6 + big_c.len * 6 + 32);
    nj_puts(&pl, "{\"big_y\":");
    nj_put_str(&pl, big_y.s, big_y.len);
    nj_puts(&pl, ",\"big_c\":");
    nj_put_str(&pl, big_c.s, big_c.len);
    nj_putc(&pl, '}');
    uint8_t raw[32];
    nt_hex_decode(hex, 64, raw);
    uint32_t ok = near_promise_yield_resume(32, (uintptr_t)raw, pl.len, (uintptr_t)pl.p);
    forget(hex);
    if (!ok) {
        static const char m[] = "CKD request is no longer waiting (timed out): forgotten";
        rt_log(m, sizeof m - 1);
    }
    rt_return_bool(ok != 0);
}

/* The yield's callback: the answer becomes the request's result, or the
 * request fails when no answer came within NEAR's yield timeout. */
METHOD(return_ck_and_clean_state_on_success) {
    rt_private(cb_name);
    if (near_promise_results_count() != 1) rt_panic("expected one promise result");
    if (near_promise_result(0, 2) != 1)
        rt_panic("CKD request timed out: no response from the MPC network within 200 blocks");
    uint64_t n = near_register_len(2);
    char *v = rt_alloc((uint32_t)n + 1);
    near_read_register(2, (uintptr_t)v);
    rt_return(v, (uint32_t)n);
}
