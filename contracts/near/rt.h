/* rt.h — the contracts' runtime layer on top of the NEAR host API.
 *
 * One contract call is one fresh wasm instance, so memory comes from a bump
 * allocator that is never freed. Helpers here implement the near-sdk
 * conventions the contracts follow (docs/near-contracts.md, "Common
 * conventions"): init once, owner methods with the 1-yocto rule and refund of
 * the excess, non-payable and private methods, strict JSON arguments, canonical
 * hex, IterableSet-like sets in storage, and NEP-297 events.
 */
#ifndef NC_RT_H
#define NC_RT_H

#include "json.h"
#include "text.h"

typedef nt_u128 u128;

/* An exported contract method `name`, callable as a NEAR function call. */
#define METHOD(name)                                                                               \
    void name(void);                                                                               \
    __attribute__((export_name(#name))) void name(void)

#define NORETURN __attribute__((noreturn))
#define TGAS 1000000000000ull
#define YOCTO_PER_BYTE ((u128)10000000000000000000ull) /* 10^19: NEAR storage price */

/* Each contract defines its NEP-297 standard name ("dstack-kms", "dstack-app"). */
extern const char nc_standard[];

/* Memory. */
void *rt_alloc(uint32_t n);
void rt_buf(nj_buf *b, uint32_t cap);

/* Panics (the receipt fails with "Smart contract panicked: <msg>"). */
NORETURN void rt_panic(const char *msg);
NORETURN void rt_panic3(const char *a, const char *b, const char *c);
NORETURN void rt_panic_buf(const nj_buf *b);

/* Context. Strings are not NUL-terminated; lengths come back in *n. */
char *rt_input(uint32_t *n);
const char *rt_current(uint32_t *n);
const char *rt_predecessor(uint32_t *n);
u128 rt_deposit(void);

/* Results and logs. */
void rt_return(const char *s, uint32_t n);
void rt_return_buf(const nj_buf *b);
/* s[0..n) as a JSON string. */
void rt_return_str(const char *s, uint32_t n);
void rt_return_bool(int v);
void rt_log(const char *s, uint32_t n);

/* Storage. rt_get returns NULL when the key is absent. */
char *rt_get(const void *k, uint32_t kn, uint32_t *vn);
void rt_put(const void *k, uint32_t kn, const void *v, uint32_t vn);
int rt_del(const void *k, uint32_t kn);
int rt_has(const void *k, uint32_t kn);

/* Promises. */
void rt_transfer(const char *to, uint32_t ton, u128 amount);

/* Conventions. */
void rt_require_init(void);
/* Init method: [private], no deposit, not yet initialized; marks STATE. */
void rt_init(const char *method, int is_private);
void rt_private(const char *method);
/* Owner method: initialized, >= 1 yocto, caller is owner; refunds the excess. */
void rt_owner_only(const char *method);
/* The same without the refund: for methods that may keep part of the deposit. */
void rt_owner_only_keep(const char *method);
/* After a change that may have grown the account's storage: keep of the
 * attached deposit only what storage needs (at least 1 yocto) and refund the
 * rest to the caller; if the balance cannot cover the storage, panic naming
 * the deposit to attach. */
void rt_pay_storage(void);

/* Arguments: parse the input as a JSON object and match fields (empty input
 * counts as {}); panics with the near-sdk deserialization message. rt_sub
 * matches a nested object token. Returns the present-field mask. */
uint32_t rt_args(const nj_field *f, uint32_t nf);
uint32_t rt_sub(uint32_t obj, const nj_field *f, uint32_t nf);
extern char *rt_json;
extern nj_tok *rt_toks;

/* Canonical hex of v into out (digits chars) or panic "Invalid <what>: expected
 * <digits> hex digits". */
void rt_hex(const nj_str *v, uint32_t digits, const char *what, char *out);
/* Valid account id or panic msg. */
void rt_account(const nj_str *v, const char *msg);

/* Sets of strings under a one-byte tag (layout in docs/near-contracts.md). */
uint32_t rt_set_len(char tag);
int rt_set_has(char tag, const char *v, uint32_t n);
int rt_set_add(char tag, const char *v, uint32_t n);
int rt_set_remove(char tag, const char *v, uint32_t n);
/* The i-th value (i < rt_set_len(tag)) of a set; *n gets its length. */
char *rt_set_at(char tag, uint32_t i, uint32_t *n);
/* Optional {offset, limit} arguments → JSON array of the set's values. */
void rt_set_list_method(char tag);

/* NEP-297 event with `data` = [ <object text> ]. */
void rt_event(const char *event, const char *obj, uint32_t n);
/* Event whose data object is {"<key>":"<value>"}. */
void rt_event_str(const char *event, const char *key, const char *v, uint32_t n);

/* A whitelist of hex values with its methods' shared bodies. */
typedef struct {
    const char *field;     /* argument name, e.g. "os_image_hash" */
    const char *empty_msg; /* upstream panic for "" */
    const char *ev_add;
    const char *ev_remove;
    char tag;
} rt_setdef;
void rt_m_set_change(const char *method, const rt_setdef *d, int add);
/* The same, where an addition is paid by the caller's deposit (rt_pay_storage). */
void rt_m_set_change_paid(const char *method, const rt_setdef *d, int add);
void rt_m_set_is(const rt_setdef *d);
/* The exported add/remove pair of whitelist set; paid: additions take the
 * caller's deposit (rt_m_set_change_paid). The method names are the panics'. */
#define SET_CHANGE_METHODS(add, remove, set, paid)                                                 \
    METHOD(add) {                                                                                  \
        (paid ? rt_m_set_change_paid : rt_m_set_change)(#add, set, 1);                             \
    }                                                                                              \
    METHOD(remove) {                                                                               \
        rt_m_set_change(#remove, set, 0);                                                          \
    }

/* Owner management shared by both contracts. */
void rt_m_get_owner(void);
void rt_m_transfer_ownership(void);

/* BootInfo argument {"boot_info": {...}} (docs/near-contracts.md). */
typedef struct {
    char app_id[40];
    char compose_hash[64];
    char instance_id[40];
    char device_id[64];
    char mr_aggregated[64];
    char mr_system[64];
    char os_image_hash[64];
    uint8_t has_device;
    nj_str tcb_status;
} rt_boot;
void rt_boot_info(rt_boot *b);
int rt_tcb_up_to_date(const rt_boot *b);
/* Result [ok, "reason"]. */
void rt_return_decision(int ok, const char *reason);

#endif
