/* ntc.h — fixtures for the contract tests (test_kms.c, test_app.c).
 *
 * A world with the KMS contract deployed and initialized the way an operator
 * does it (one transaction from the KMS account: DeployContract + new), test
 * accounts, hex constants, and exact NEP-297 event checks.
 */
#ifndef NTC_H
#define NTC_H

#include <stdarg.h>

#include "nt.h"

#define KMS "kms.near"
#define OWNER "owner.near"
#define ALICE "alice.near"
#define BOB "bob.near"
#define MPC "v1.signer"
#define APP1 "1111111111111111111111111111111111111111"
#define APP2 "2222222222222222222222222222222222222222"
#define APP3 "3333333333333333333333333333333333333333"
#define APP1_ACC APP1 "." KMS
#define APP2_ACC APP2 "." KMS

/* 64 copies of hex digit c (eight rotating buffers). */
static inline const char *hex64(char c) {
    static char bufs[8][65];
    static int next;
    char *b = bufs[next++ % 8];
    memset(b, c, 64);
    b[64] = 0;
    return b;
}

/* printf into one of eight rotating buffers. */
static inline const char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static inline const char *fmt(const char *f, ...) {
    static char bufs[8][8192];
    static int next;
    char *b = bufs[next++ % 8];
    va_list ap;
    va_start(ap, f);
    vsnprintf(b, sizeof bufs[0], f, ap);
    va_end(ap);
    return b;
}

/* Number of log lines exactly equal to the NEP-297 event built from the arguments. */
static inline size_t nt_event_count(const nemu_outcome *o, const char *standard, const char *event,
                                    const char *data) {
    char want[4096];
    snprintf(
        want, sizeof want,
        "EVENT_JSON:{\"standard\":\"%s\",\"version\":\"1.0.0\",\"event\":\"%s\",\"data\":[%s]}",
        standard, event, data);
    size_t n = 0;
    for (size_t i = 0; i < o->nreceipts; i++)
        for (size_t j = 0; j < o->receipts[i].nlogs; j++)
            if (strcmp(o->receipts[i].logs[j], want) == 0) n++;
    return n;
}

static inline size_t nt_event_lines(const nemu_outcome *o) {
    return nemu_outcome_count_logs(o, "EVENT_JSON:");
}

/* Call `method` with 1 yoctoNEAR (the owner-method convention). */
static inline nemu_outcome *nt_call1(nemu *w, const char *who, const char *contract,
                                     const char *method, const char *args) {
    return nemu_call(w, who, contract, method, args, 1, NT_GAS);
}

static inline uint8_t *nt_code(const char *module, size_t *n) {
    uint8_t *c = nemu_module_code(module, n);
    if (!c) {
        fprintf(stderr, "missing wasm of module %s\n", module);
        abort();
    }
    return c;
}

/* Deploy + init in one transaction from the contract account itself. */
static inline nemu_outcome *nt_deploy_init(nemu *w, const char *account, const char *module,
                                           const char *init_args) {
    size_t n;
    uint8_t *code = nt_code(module, &n);
    nemu_action a[2];
    memset(a, 0, sizeof a);
    a[0].kind = NEMU_A_DEPLOY_CONTRACT;
    a[0].data = code;
    a[0].len = n;
    a[1].kind = NEMU_A_FUNCTION_CALL;
    a[1].name = "new";
    a[1].data = (const uint8_t *)init_args;
    a[1].len = strlen(init_args);
    a[1].gas = NT_GAS;
    nemu_outcome *o = nemu_tx(w, account, 0, account, a, 2);
    free(code);
    return o;
}

static inline nemu *kms_world_uninit(void) {
    nemu *w = nemu_new();
    nemu_create_account(w, KMS, 50 * NEMU_NEAR);
    nemu_create_account(w, OWNER, 100 * NEMU_NEAR);
    nemu_create_account(w, ALICE, 100 * NEMU_NEAR);
    nemu_create_account(w, BOB, 100 * NEMU_NEAR);
    return w;
}

static inline nemu *kms_world(void) {
    nemu *w = kms_world_uninit();
    nemu_outcome *o = nt_deploy_init(w, KMS, "kms",
                                     "{\"owner_id\":\"" OWNER "\",\"mpc_contract_id\":\"" MPC
                                     "\",\"mpc_domain_id\":2}");
    if (!o->ok) fprintf(stderr, "kms init failed: %s\n", o->error);
    nemu_outcome_free(o);
    return w;
}

static inline nemu_u128 nt_registration_deposit(nemu *w) {
    nemu_outcome *o = nemu_view(w, KMS, "get_registration_deposit", NULL);
    nemu_u128 v = 0;
    const char *s = nt_val(o);
    if (*s == '"') s++;
    while (*s >= '0' && *s <= '9')
        v = v * 10 + (nemu_u128)(*s++ - '0');
    nemu_outcome_free(o);
    return v;
}

/* register_app args with the given app id and owner, no initial entries. */
static inline const char *nt_reg_args(const char *app_id, const char *owner) {
    return fmt("{\"app_id\":\"%s\",\"owner_id\":\"%s\",\"disable_upgrades\":false,"
               "\"allow_any_device\":false}",
               app_id, owner);
}

/* A boot_info argument. */
static inline const char *nt_boot(const char *app_id, const char *compose, const char *device,
                                  const char *mr, const char *os, const char *tcb) {
    return fmt("{\"boot_info\":{\"app_id\":\"%s\",\"compose_hash\":\"%s\",\"instance_id\":\"\","
               "\"device_id\":\"%s\",\"mr_aggregated\":\"%s\",\"mr_system\":\"\","
               "\"os_image_hash\":\"%s\",\"tcb_status\":\"%s\",\"advisory_ids\":[]}}",
               app_id, compose, device, mr, os, tcb);
}

#endif
