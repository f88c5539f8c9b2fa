/* internal.h — what the policy backends share; not part of the public API.
 *
 * Every backend embeds `struct dg_policy` as its first member and fills its
 * ops table; policy.c dispatches through it.
 */
#ifndef DG_POLICY_INTERNAL_H
#define DG_POLICY_INTERNAL_H

#include "dstackgov/policy.h"

#include "dstackgov/utf8.h" /* dg_utf8_seq: policy.c */

struct dg_policy_ops {
    const char *kind;
    /* a backend that never waits on the chain; NULL when try_decide is set */
    void (*decide)(dg_policy *p, dg_route route, const dg_bootinfo *bi, dg_decision *out);
    int (*info)(dg_policy *p, dg_policy_info *out, dg_err *err);
    int (*reload)(dg_policy *p, dg_err *err);
    void (*stats)(dg_policy *p, dg_policy_stats *out);
    size_t (*nendpoints)(const dg_policy *p);
    int (*endpoint_stats)(dg_policy *p, size_t i, const char **label, unsigned long *calls,
                          unsigned long *errors);
    void (*destroy)(dg_policy *p);
    int (*wait_ready)(dg_policy *p, dg_err *err); /* NULL: always ready */
    /* NULL: decide never waits. Else decide with the deadline counted from
     * start_ms; with may_block 0, return 0 instead of waiting on the chain. */
    int (*try_decide)(dg_policy *p, dg_route route, const dg_bootinfo *bi, dg_decision *out,
                      long long start_ms, int may_block);
};

struct dg_policy {
    const struct dg_policy_ops *ops;
};

/* Fill a deny decision (keeps block fields). */
void dg_decision_deny(dg_decision *d, int error, const char *reason);

#endif
