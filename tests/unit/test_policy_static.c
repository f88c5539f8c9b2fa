/* test_policy_static.c — the allowlist backend (auth-simple semantics without
 * its defects) and the dev backend. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../test.h"
#include "dstackgov/hex.h"
#include "dstackgov/policy.h"

#define H8(c) c c c c c c c c
#define H64(c) H8(c) H8(c) H8(c) H8(c) H8(c) H8(c) H8(c) H8(c)
#define H40(c) H8(c) H8(c) H8(c) H8(c) H8(c)

static const char ALLOW[] = "{\"gatewayAppId\":\"gw-1\",\"kmsContractAddr\":\"0x" H40(
    "a") "\",\"chainId\":31337,"
         "\"osImages\":[\"0x" H64(
             "1") "\"],"
                  "\"allowedAdvisoryIds\":[\"INTEL-SA-1\"],"
                  "\"kms\":{\"mrAggregated\":[\"" H64("A") "\"],\"devices\":[\"" H64(
                      "2") "\"]},"
                           "\"apps\":{\"0x" H40("D") "\":{\"composeHashes\":[\"" H64(
                               "3") "\"],\"devices\":[]},"
                                    "\"" H40("e") "\":{\"composeHashes\":[\"" H64(
                                        "3") "\"],\"allowAnyDevice\":true}}}";

static void bi_make(dg_bootinfo *bi, char app, char hash, char os, char dev, const char *tcb) {
    char body[1024];
    char a[41], h[65], o[65], d[65];
    memset(a, app, 40);
    a[40] = 0;
    memset(h, hash, 64);
    h[64] = 0;
    memset(o, os, 64);
    o[64] = 0;
    memset(d, dev, 64);
    d[64] = 0;
    snprintf(
        body, sizeof body,
        "{\"mrAggregated\":\"" H64(
            "a") "\",\"osImageHash\":\"%s\",\"appId\":\"%s\",\"composeHash\":\"%s\","
                 "\"instanceId\":\"\",\"deviceId\":\"%s\",\"tcbStatus\":\"%s\",\"advisoryIds\":[]}",
        o, a, h, d, tcb);
    dg_err err;
    dg_bootinfo_init(bi);
    if (!dg_bootinfo_parse(bi, body, strlen(body), &err))
        dg_test_fail(__FILE__, __LINE__, "parse: %s", err.msg);
}

static void write_file(const char *path, const char *s) {
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    fputs(s, f);
    fclose(f);
    rename(tmp, path);
}

static const char *decide(dg_policy *p, dg_route r, char app, char hash, char os, char dev,
                          const char *tcb) {
    static dg_decision d;
    dg_bootinfo bi;
    bi_make(&bi, app, hash, os, dev, tcb);
    dg_policy_decide(p, r, &bi, &d);
    dg_bootinfo_free(&bi);
    return d.allowed ? "ALLOW" : d.reason;
}

TEST(static_policy_decisions) {
    char path[] = "/tmp/dg_static_XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    write_file(path, ALLOW);
    dg_err err;
    dg_policy *p = dg_policy_static_new(path, NULL, NULL, &err);
    CHECK(p != NULL);
    if (!p) return;
    CHECK_STR(dg_policy_kind(p), "static");
    /* app d: registered (listed with 0x and uppercase), device list empty -> no device */
    CHECK_STR(decide(p, DG_ROUTE_APP, 'd', '3', '1', '2', "UpToDate"),
              "app is not allowed to boot on this device");
    CHECK_STR(decide(p, DG_ROUTE_APP, 'e', '3', '1', '9', "UpToDate"), "ALLOW");
    CHECK_STR(decide(p, DG_ROUTE_APP, 'E', '3', '1', '9', "UpToDate"), "ALLOW");
    CHECK_STR(decide(p, DG_ROUTE_APP, 'e', '4', '1', '9', "UpToDate"), "compose hash not allowed");
    CHECK_STR(decide(p, DG_ROUTE_APP, 'f', '3', '1', '9', "UpToDate"), "app not registered");
    CHECK_STR(decide(p, DG_ROUTE_APP, 'e', '3', '5', '9', "UpToDate"), "OS image is not allowed");
    CHECK_STR(decide(p, DG_ROUTE_APP, 'e', '3', '1', '9', "OutOfDate"),
              "TCB status is not allowed");
    CHECK_STR(decide(p, DG_ROUTE_APP, 'e', '3', '1', '9', "uptodate"), "TCB status is not allowed");
    CHECK_STR(decide(p, DG_ROUTE_KMS, '0', '0', '1', '2', "UpToDate"), "ALLOW");
    CHECK_STR(decide(p, DG_ROUTE_KMS, '0', '0', '1', '7', "UpToDate"),
              "KMS is not allowed to boot on this device");
    /* gateway id on every reply, denials too */
    dg_decision d;
    dg_bootinfo bi;
    bi_make(&bi, 'f', '3', '1', '9', "UpToDate");
    dg_policy_decide(p, DG_ROUTE_APP, &bi, &d);
    CHECK_STR(d.gateway_app_id, "gw-1");
    CHECK_INT(d.error, 0);
    dg_bootinfo_free(&bi);
    dg_policy_info info;
    CHECK(dg_policy_info_get(p, &info, &err));
    CHECK_INT(info.chain_id, 31337);
    uint8_t ka[20];
    char kc[43];
    memset(ka, 0xaa, 20);
    dg_address_checksum(ka, kc);
    CHECK_STR(info.kms_contract, kc);
    CHECK_STR(info.backend, "static");

    /* A broken file keeps the last good policy, on explicit reload and on change. */
    write_file(path, "{\"osImages\": [\"0x12\"]}");
    CHECK(!dg_policy_reload(p, &err));
    CHECK(strstr(err.msg, "osImages[0]") != NULL);
    CHECK_STR(decide(p, DG_ROUTE_APP, 'e', '3', '1', '9', "UpToDate"), "ALLOW");
    usleep(250 * 1000);
    CHECK_STR(decide(p, DG_ROUTE_APP, 'e', '3', '1', '9', "UpToDate"), "ALLOW");
    dg_policy_stats st;
    dg_policy_get_stats(p, &st);
    CHECK(st.reload_errors >= 1);
    /* A good change is picked up without a signal. */
    write_file(path, "{\"osImages\":[\"" H64("1") "\"],\"apps\":{\"" H40(
                         "e") "\":{\"composeHashes\":[],\"allowAnyDevice\":true}}}");
    usleep(250 * 1000);
    CHECK_STR(decide(p, DG_ROUTE_APP, 'e', '3', '1', '9', "UpToDate"), "compose hash not allowed");
    CHECK_STR(decide(p, DG_ROUTE_KMS, '0', '0', '1', '2', "UpToDate"), "aggregated MR not allowed");
    dg_policy_free(p);
    remove(path);
    CHECK(dg_policy_static_new(path, NULL, NULL, &err) == NULL);
}

static void bad_allowlist(const char *json, const char *msg) {
    dg_err err = {0};
    CHECK(!dg_policy_static_check(json, strlen(json), &err));
    if (!strstr(err.msg, msg))
        dg_test_fail(__FILE__, __LINE__, "error \"%s\" lacks \"%s\"", err.msg, msg);
}

TEST(static_allowlist_is_strict) {
    dg_err err;
    CHECK(dg_policy_static_check(ALLOW, strlen(ALLOW), &err));
    bad_allowlist("{\"osImage\":[]}", "unknown key \"osImage\"");
    bad_allowlist("{\"kms\":{\"device\":[]}}", "kms: unknown key \"device\"");
    bad_allowlist("{\"apps\":{\"" H40("a") "\":{\"hashes\":[]}}}", "unknown key \"hashes\"");
    bad_allowlist("{\"osImages\":[\"1234\"]}", "osImages[0]");
    bad_allowlist("{\"apps\":{\"0x12\":{}}}", "apps[\"0x12\"]");
    bad_allowlist("{\"apps\":{\"" H40("a") "\":{},\"0x" H40("A") "\":{}}}", "listed twice");
    bad_allowlist("{\"kms\":{\"allowAnyDevice\":1}}", "kms.allowAnyDevice: expected true or false");
    bad_allowlist("{\"chainId\":-1}", "chainId");
    bad_allowlist("[1]", "expected a JSON object");
    bad_allowlist("{\"a\":1,\"a\":2}", "duplicate");
    bad_allowlist("{", "line 1");
}

TEST(dev_policy_says_so) {
    dg_err err;
    dg_policy *p = dg_policy_dev_new("0xgateway", &err);
    CHECK(p != NULL);
    if (!p) return;
    dg_decision d;
    dg_bootinfo bi;
    bi_make(&bi, 'f', '3', '1', '9', "OutOfDate");
    CHECK_INT(dg_policy_decide(p, DG_ROUTE_KMS, &bi, &d), 1);
    CHECK(strstr(d.reason, "dev backend") != NULL && strstr(d.reason, "--dev") != NULL);
    CHECK_STR(d.gateway_app_id, "0xgateway");
    dg_bootinfo_free(&bi);
    CHECK_STR(dg_policy_kind(p), "dev");
    dg_policy_free(p);
}

TEST(policy_decide_null_is_a_deny) {
    dg_decision d;
    dg_bootinfo bi;
    dg_bootinfo_init(&bi);
    CHECK_INT(dg_policy_decide(NULL, DG_ROUTE_APP, &bi, &d), 0);
    CHECK_STR(d.reason, DG_REASON_UNAVAILABLE);
    CHECK_INT(d.error, 1);
}
