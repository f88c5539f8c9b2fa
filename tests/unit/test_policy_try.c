/* test_policy_try.c — dg_policy_try_decide and dg_policy_decide_since on the
 * backends that never wait on a chain (static, dev): they always decide, the
 * same way dg_policy_decide does, whatever the start time given; a missing
 * policy or a bad route is a decided deny. (The eth backend's "needs a round
 * trip" answers are covered over real HTTP in tests/authd.) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../test.h"
#include "dstackgov/policy.h"

#define H8(c) c c c c c c c c
#define H64(c) H8(c) H8(c) H8(c) H8(c) H8(c) H8(c) H8(c) H8(c)
#define H40(c) H8(c) H8(c) H8(c) H8(c) H8(c)

static const char ALLOWLIST[] = "{\"gatewayAppId\":\"gw-1\",\"osImages\":[\"0x" H64(
    "1") "\"],"
         "\"kms\":{\"mrAggregated\":[\"" H64(
             "a") "\"],\"allowAnyDevice\":true},"
                  "\"apps\":{\"" H40("e") "\":{\"composeHashes\":[\"" H64(
                      "3") "\"],\"allowAnyDevice\":true}}}";

static void bi_make(dg_bootinfo *bi, char app, char hash) {
    char body[1024];
    char a[41], h[65];
    memset(a, app, 40);
    a[40] = 0;
    memset(h, hash, 64);
    h[64] = 0;
    snprintf(body, sizeof body,
             "{\"mrAggregated\":\"" H64("a") "\",\"osImageHash\":\"" H64(
                 "1") "\",\"appId\":\"%s\","
                      "\"composeHash\":\"%s\",\"instanceId\":\"\",\"deviceId\":\"" H64(
                          "9") "\","
                               "\"tcbStatus\":\"UpToDate\",\"advisoryIds\":[]}",
             a, h);
    dg_err err;
    dg_bootinfo_init(bi);
    if (!dg_bootinfo_parse(bi, body, strlen(body), &err))
        dg_test_fail(__FILE__, __LINE__, "parse: %s", err.msg);
}

static dg_policy *static_policy(char *path, size_t cap) {
    snprintf(path, cap, "/tmp/dg_try_XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0) return NULL;
    ssize_t k = write(fd, ALLOWLIST, sizeof ALLOWLIST - 1);
    close(fd);
    CHECK_INT(k, sizeof ALLOWLIST - 1);
    dg_err err = {0};
    dg_policy *p = dg_policy_static_new(path, NULL, NULL, &err);
    if (!p) dg_test_fail(__FILE__, __LINE__, "static backend: %s", err.msg);
    return p;
}

/* The three entry points agree on (route, app, hash); try always decides. */
static void agree(dg_policy *p, dg_route r, char app, char hash, int allowed, const char *reason,
                  int line) {
    dg_bootinfo bi;
    bi_make(&bi, app, hash);
    dg_decision d0, d1, d2, d3;
    memset(&d1, 0x5a, sizeof d1); /* every field is (re)written */
    memset(&d2, 0x5a, sizeof d2);
    memset(&d3, 0x5a, sizeof d3);
    int r0 = dg_policy_decide(p, r, &bi, &d0);
    int r1 = dg_policy_try_decide(p, r, &bi, &d1);
    /* a start long past (a request queued for minutes) or in the future:
     * neither backend waits, so neither changes the verdict */
    int r2 = dg_policy_decide_since(p, r, &bi, dg_policy_now_ms() - 600000, &d2);
    int r3 = dg_policy_decide_since(p, r, &bi, dg_policy_now_ms() + 600000, &d3);
    if (r0 != allowed || r1 != 1 || r2 != allowed || r3 != allowed)
        dg_test_fail(__FILE__, line,
                     "decide %d, try %d, since(past) %d, since(future) %d; expected %d/1/%d/%d", r0,
                     r1, r2, r3, allowed, allowed, allowed);
    const dg_decision *ds[] = {&d0, &d1, &d2, &d3};
    for (int i = 0; i < 4; i++) {
        if (ds[i]->allowed != allowed || !strstr(ds[i]->reason, reason) ||
            ds[i]->error != d0.error || strcmp(ds[i]->gateway_app_id, d0.gateway_app_id) != 0 ||
            ds[i]->cached != 0)
            dg_test_fail(
                __FILE__, line,
                "decision %d: allowed %d error %d cached %d reason \"%.60s\" gateway \"%.60s\"", i,
                ds[i]->allowed, ds[i]->error, ds[i]->cached, ds[i]->reason, ds[i]->gateway_app_id);
    }
    dg_bootinfo_free(&bi);
}

TEST(policy_try_decide_static) {
    char path[64];
    dg_policy *p = static_policy(path, sizeof path);
    if (!p) {
        unlink(path);
        return;
    }
    agree(p, DG_ROUTE_APP, 'e', '3', 1, "", __LINE__);
    agree(p, DG_ROUTE_APP, 'e', '4', 0, "compose hash not allowed", __LINE__);
    agree(p, DG_ROUTE_APP, 'f', '3', 0, "app not registered", __LINE__);
    agree(p, DG_ROUTE_KMS, 'e', '3', 1, "", __LINE__);
    /* a bad route: a decided deny, never "needs a round trip" */
    dg_bootinfo bi;
    dg_decision d;
    bi_make(&bi, 'e', '3');
    CHECK_INT(dg_policy_try_decide(p, (dg_route)42, &bi, &d), 1);
    CHECK_INT(d.allowed, 0);
    CHECK_STR(d.reason, DG_REASON_UNAVAILABLE);
    CHECK_INT(dg_policy_decide_since(p, (dg_route)42, &bi, dg_policy_now_ms(), &d), 0);
    CHECK_STR(d.reason, DG_REASON_UNAVAILABLE);
    dg_bootinfo_free(&bi);
    dg_policy_free(p);
    unlink(path);
}

TEST(policy_try_decide_dev) {
    dg_err err = {0};
    dg_policy *p = dg_policy_dev_new("0xgateway", &err);
    CHECK(p != NULL);
    if (!p) return;
    agree(p, DG_ROUTE_APP, 'f', '7', 1, "dev backend", __LINE__);
    agree(p, DG_ROUTE_KMS, 'f', '7', 1, "dev backend", __LINE__);
    dg_bootinfo bi;
    dg_decision d;
    bi_make(&bi, 'f', '7');
    CHECK_INT(dg_policy_try_decide(p, DG_ROUTE_APP, &bi, &d), 1);
    CHECK_STR(d.gateway_app_id, "0xgateway");
    dg_bootinfo_free(&bi);
    dg_policy_free(p);
}

TEST(policy_try_decide_null) {
    dg_decision d;
    dg_bootinfo bi;
    dg_bootinfo_init(&bi);
    /* no policy: decided (a deny), so a caller never queues it for a decider */
    memset(&d, 0x5a, sizeof d);
    CHECK_INT(dg_policy_try_decide(NULL, DG_ROUTE_APP, &bi, &d), 1);
    CHECK_INT(d.allowed, 0);
    CHECK_INT(d.error, 1);
    CHECK_STR(d.reason, DG_REASON_UNAVAILABLE);
    memset(&d, 0x5a, sizeof d);
    CHECK_INT(dg_policy_decide_since(NULL, DG_ROUTE_KMS, &bi, dg_policy_now_ms(), &d), 0);
    CHECK_INT(d.allowed, 0);
    CHECK_STR(d.reason, DG_REASON_UNAVAILABLE);
    /* no boot info */
    dg_err err = {0};
    dg_policy *p = dg_policy_dev_new("gw", &err);
    if (p) {
        CHECK_INT(dg_policy_try_decide(p, DG_ROUTE_APP, NULL, &d), 1);
        CHECK_INT(d.allowed, 0);
        CHECK_INT(dg_policy_decide_since(p, DG_ROUTE_APP, NULL, 0, &d), 0);
        CHECK_INT(d.allowed, 0);
        dg_policy_free(p);
    }
    dg_bootinfo_free(&bi);
}

TEST(policy_now_ms_is_monotonic) {
    long long a = dg_policy_now_ms();
    usleep(20000);
    long long b = dg_policy_now_ms();
    CHECK(a > 0);
    if (b - a < 15 || b - a > 1000)
        dg_test_fail(__FILE__, __LINE__, "20 ms sleep measured as %lld ms", b - a);
}
