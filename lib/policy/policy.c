/* policy.c — the backend-independent part of boot decisions, and the dev
 * backend.
 *
 * dg_policy_decide is the single entry the daemon calls: it clears the
 * decision, dispatches to the backend and guarantees a reason on every deny,
 * so a backend bug can produce a deny but never an unexplained or accidental
 * allow.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "dstackgov/utf8.h"

long long dg_policy_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *dg_route_name(dg_route route) {
    return route == DG_ROUTE_KMS ? "kms" : "app";
}

void dg_decision_deny(dg_decision *d, int error, const char *reason) {
    d->allowed = 0;
    d->error = error;
    dg_utf8_clean(d->reason, sizeof d->reason, reason, strlen(reason));
}

/* Decide with the deadline counted from start_ms; may_block 0 returns -1
 * where the backend would wait on the chain. Else returns out->allowed. */
static int decide(dg_policy *p, dg_route route, const dg_bootinfo *bi, dg_decision *out,
                  long long start_ms, int may_block) {
    memset(out, 0, sizeof *out);
    if (!p || !bi || (route != DG_ROUTE_APP && route != DG_ROUTE_KMS)) {
        dg_decision_deny(out, 1, DG_REASON_UNAVAILABLE);
        return 0;
    }
    if (!p->ops->try_decide)
        p->ops->decide(p, route, bi, out); /* a backend that never waits */
    else if (!p->ops->try_decide(p, route, bi, out, start_ms, may_block)) {
        memset(out, 0, sizeof *out);
        if (!may_block) return -1;
        dg_decision_deny(out, 1,
                         DG_REASON_UNAVAILABLE); /* a backend must decide when it may block */
    }
    if (out->allowed != 1) {
        out->allowed = 0;
        if (!out->reason[0]) dg_decision_deny(out, 1, DG_REASON_UNAVAILABLE);
    }
    return out->allowed;
}

int dg_policy_decide(dg_policy *p, dg_route route, const dg_bootinfo *bi, dg_decision *out) {
    return decide(p, route, bi, out, dg_policy_now_ms(), 1);
}

int dg_policy_decide_since(dg_policy *p, dg_route route, const dg_bootinfo *bi, long long start_ms,
                           dg_decision *out) {
    return decide(p, route, bi, out, start_ms, 1);
}

int dg_policy_try_decide(dg_policy *p, dg_route route, const dg_bootinfo *bi, dg_decision *out) {
    return decide(p, route, bi, out, dg_policy_now_ms(), 0) >= 0;
}

int dg_policy_info_get(dg_policy *p, dg_policy_info *out, dg_err *err) {
    memset(out, 0, sizeof *out);
    out->backend = p->ops->kind;
    return p->ops->info(p, out, err);
}

const char *dg_policy_kind(const dg_policy *p) {
    return p->ops->kind;
}

int dg_policy_reload(dg_policy *p, dg_err *err) {
    return p->ops->reload ? p->ops->reload(p, err) : 1;
}

void dg_policy_get_stats(dg_policy *p, dg_policy_stats *out) {
    memset(out, 0, sizeof *out);
    out->snapshot_age_ms = -1;
    if (p->ops->stats) p->ops->stats(p, out);
}

size_t dg_policy_endpoint_count(const dg_policy *p) {
    return p->ops->nendpoints ? p->ops->nendpoints(p) : 0;
}

int dg_policy_endpoint_stats(dg_policy *p, size_t i, const char **label, unsigned long *calls,
                             unsigned long *errors) {
    if (!p->ops->endpoint_stats) return 0;
    return p->ops->endpoint_stats(p, i, label, calls, errors);
}

void dg_policy_free(dg_policy *p) {
    if (p) p->ops->destroy(p);
}

int dg_policy_wait_ready(dg_policy *p, dg_err *err) {
    return p->ops->wait_ready ? p->ops->wait_ready(p, err) : 1;
}

/* ---------------------------------------------------------------- dev */

#define DEV_REASON "dev backend (dstack-authd --dev): allowed without any policy check"

typedef struct {
    struct dg_policy base;
    char gateway[DG_GATEWAY_MAX];
} dev_policy;

static void dev_decide(dg_policy *p, dg_route route, const dg_bootinfo *bi, dg_decision *out) {
    dev_policy *d = (dev_policy *)p;
    (void)route;
    (void)bi;
    out->allowed = 1;
    snprintf(out->reason, sizeof out->reason, "%s", DEV_REASON);
    snprintf(out->gateway_app_id, sizeof out->gateway_app_id, "%s", d->gateway);
}

static int dev_info(dg_policy *p, dg_policy_info *out, dg_err *err) {
    dev_policy *d = (dev_policy *)p;
    (void)err;
    snprintf(out->gateway_app_id, sizeof out->gateway_app_id, "%s", d->gateway);
    snprintf(out->kms_contract, sizeof out->kms_contract,
             "0x0000000000000000000000000000000000000000");
    snprintf(out->app_implementation, sizeof out->app_implementation,
             "0x0000000000000000000000000000000000000000");
    return 1;
}

static void dev_destroy(dg_policy *p) {
    free(p);
}

static const struct dg_policy_ops DEV_OPS = {
    .kind = "dev",
    .decide = dev_decide,
    .info = dev_info,
    .destroy = dev_destroy,
};

dg_policy *dg_policy_dev_new(const char *gateway_app_id, dg_err *err) {
    if (!gateway_app_id) gateway_app_id = "";
    if (strlen(gateway_app_id) >= DG_GATEWAY_MAX) {
        dg_err_set(err, DG_ERR_CONFIG, "dev gateway app id longer than %d bytes",
                   DG_GATEWAY_MAX - 1);
        return NULL;
    }
    dev_policy *d = calloc(1, sizeof *d);
    if (!d) {
        dg_err_set(err, DG_ERR_NOMEM, "out of memory");
        return NULL;
    }
    d->base.ops = &DEV_OPS;
    snprintf(d->gateway, sizeof d->gateway, "%s", gateway_app_id);
    return &d->base;
}
