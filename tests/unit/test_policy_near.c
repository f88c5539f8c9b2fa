/* test_policy_near.c — the near backend's pure parts: the boot_info
 * argument the contracts read (snake_case, lowercase hex without 0x, empty
 * values as the contracts expect them), the checks dg_policy_near_new makes
 * before it touches the network, and the generated-table lookup the eth
 * backend takes its selectors from. The reads themselves are tested over
 * HTTP against nemu-rpc (tests/authd/near.js).
 */
#include <string.h>

#include "../test.h"
#include "dstackgov/contracts.h"
#include "dstackgov/near.h"
#include "dstackgov/policy.h"

#define H8(c) c c c c c c c c
#define H64(c) H8(c) H8(c) H8(c) H8(c) H8(c) H8(c) H8(c) H8(c)
#define H40(c) H8(c) H8(c) H8(c) H8(c) H8(c)

static int parse(dg_bootinfo *bi, const char *body) {
    dg_err err;
    dg_bootinfo_init(bi);
    return dg_bootinfo_parse(bi, body, strlen(body), &err);
}

TEST(policy_near_boot_info_shape) {
    dg_bootinfo bi;
    /* upper case and 0x in the request; the contracts get lowercase without 0x */
    CHECK(parse(&bi,
                "{\"mrAggregated\":\"0x" H64("A") "\",\"osImageHash\":\"" H64(
                    "1") "\","
                         "\"appId\":\"" H40("E") "\",\"composeHash\":\"" H64(
                             "3") "\","
                                  "\"instanceId\":\"" H40("4") "\",\"deviceId\":\"" H64(
                                      "9") "\","
                                           "\"mrSystem\":\"" H64(
                                               "5") "\",\"tcbStatus\":\"UpToDate\","
                                                    "\"advisoryIds\":[\"INTEL-SA-1\",\"q\\\"uote\"]"
                                                    ",\"keyProviderInfo\":\"x\"}"));
    dg_buf b;
    dg_buf_init(&b);
    CHECK(dg_near_boot_info_args(&bi, &b));
    CHECK_STR(
        (const char *)b.data,
        "{\"boot_info\":{\"app_id\":\"" H40("e") "\",\"compose_hash\":\"" H64(
            "3") "\","
                 "\"instance_id\":\"" H40("4") "\",\"device_id\":\"" H64(
                     "9") "\","
                          "\"mr_aggregated\":\"" H64("a") "\",\"mr_system\":\"" H64(
                              "5") "\","
                                   "\"os_image_hash\":\"" H64(
                                       "1") "\",\"tcb_status\":\"UpToDate\","
                                            "\"advisory_ids\":[\"INTEL-SA-1\",\"q\\\"uote\"]}}");
    CHECK_INT(b.len, strlen((const char *)b.data));
    dg_buf_free(&b);
    dg_bootinfo_free(&bi);
}

TEST(policy_near_boot_info_empty_values) {
    dg_bootinfo bi;
    /* empty instanceId and mrSystem stay "" (the contracts accept it); an empty
     * osImageHash is 64 zeros, as the Ethereum contracts see it */
    CHECK(parse(&bi,
                "{\"mrAggregated\":\"" H64("a") "\",\"osImageHash\":\"\","
                                                "\"appId\":\"" H40("e") "\",\"composeHash\":\"" H64(
                                                    "3") "\","
                                                         "\"instanceId\":\"\",\"deviceId\":\"" H64(
                                                             "9") "\",\"tcbStatus\":\"\"}"));
    dg_buf b;
    dg_buf_init(&b);
    CHECK(dg_near_boot_info_args(&bi, &b));
    CHECK_STR((const char *)b.data,
              "{\"boot_info\":{\"app_id\":\"" H40("e") "\",\"compose_hash\":\"" H64(
                  "3") "\","
                       "\"instance_id\":\"\",\"device_id\":\"" H64(
                           "9") "\","
                                "\"mr_aggregated\":\"" H64(
                                    "a") "\",\"mr_system\":\"\","
                                         "\"os_image_hash\":\"" H64(
                                             "0") "\",\"tcb_status\":\"\",\"advisory_ids\":[]}}");
    dg_buf_free(&b);
    dg_bootinfo_free(&bi);
}

TEST(policy_near_new_refuses_bad_config) {
    const char *urls[] = {"http://127.0.0.1:1"};
    dg_err err;
    dg_near_policy_opts o = {.rpc_urls = urls, .nrpc = 1, .contract_id = "Kms.Test"};
    CHECK(dg_policy_near_new(&o, &err) == NULL);
    CHECK_INT(err.code, DG_ERR_CONFIG);
    CHECK(strstr(err.msg, "Kms.Test") != NULL);
    o.contract_id = "a-twenty-four-chars.near"; /* 24: <40 hex>.<kms> would be 65 */
    CHECK(dg_policy_near_new(&o, &err) == NULL);
    CHECK(strstr(err.msg, "23") != NULL);
    o.contract_id = NULL;
    CHECK(dg_policy_near_new(&o, &err) == NULL);
    CHECK(strstr(err.msg, "KMS contract account") != NULL);
    o.contract_id = "kms.test";
    o.nrpc = 0;
    CHECK(dg_policy_near_new(&o, &err) == NULL);
    CHECK(strstr(err.msg, "no RPC endpoint") != NULL);
}

TEST(policy_near_unreachable_start_fails_closed) {
    /* nothing listens on port 1: the start fails, no backend is returned */
    const char *urls[] = {"http://127.0.0.1:1"};
    dg_err err;
    dg_near_policy_opts o = {.rpc_urls = urls,
                             .nrpc = 1,
                             .contract_id = "kms.test",
                             .rpc_timeout_ms = 200,
                             .deadline_ms = 300};
    CHECK(dg_policy_near_new(&o, &err) == NULL);
    CHECK(strstr(err.msg, "first snapshot block") != NULL);
}

TEST(contract_id_from_generated_tables) {
    CHECK_STR(dg_contract_id("DstackKms", "gatewayAppId()"), "95f51931");
    CHECK_STR(dg_contract_id("DstackKms", "isAppAllowed((address,bytes32,address,bytes32,bytes32,"
                                          "bytes32,bytes32,string,string[]))"),
              "1e079198");
    CHECK(dg_contract_id("DstackKms", "noSuchFunction()") == NULL);
    CHECK(dg_contract_id("NoSuchContract", "gatewayAppId()") == NULL);
}
