/* test_bootinfo.c — the strict BootInfo parser: what the KMS sends is
 * accepted, every malformed field is refused with a reason naming it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dstackgov/abi.h"
#include "dstackgov/bootinfo.h"
#include "dstackgov/hex.h"
#include "dstackgov/policy.h"
#include "../test.h"

#define H8(c) c c c c c c c c
#define H64(c) H8(c) H8(c) H8(c) H8(c) H8(c) H8(c) H8(c) H8(c)
#define H40(c) H8(c) H8(c) H8(c) H8(c) H8(c)

/* A body exactly as the KMS sends it (lowercase hex, no 0x, extra fields). */
static const char KMS_BODY[] =
    "{\"teeVariant\":\"dstack-tdx\",\"mrAggregated\":\"" H64("a") "\",\"osImageHash\":\"" H64("b") "\",\"mrSystem\":\"" H64("c") "\",\"appId\":\"" H40(
        "d") "\",\"composeHash\":\"" H64("e") "\",\"instanceId\":\"" H40("f") "\",\"deviceId\":"
                                                                              "\"" H64("1") "\","
                                                                                            "\"keyP"
                                                                                            "rovide"
                                                                                            "rInfo"
                                                                                            "\":"
                                                                                            "\"7b22"
                                                                                            "6e616d"
                                                                                            "65223a"
                                                                                            "226b6d"
                                                                                            "73227d"
                                                                                            "\","
                                                                                            "\"tcbS"
                                                                                            "tatus"
                                                                                            "\":"
                                                                                            "\"UpTo"
                                                                                            "Date\""
                                                                                            ","
                                                                                            "\"advi"
                                                                                            "soryId"
                                                                                            "s\":["
                                                                                            "\"INTE"
                                                                                            "L-SA-"
                                                                                            "00837"
                                                                                            "\","
                                                                                            "\"INTE"
                                                                                            "L-SA-"
                                                                                            "00615"
                                                                                            "\"]}";

/* Build a body from the KMS one with field `name` replaced by raw JSON `value`
 * (or removed when value is NULL). */
static char *with_field(const char *name, const char *value) {
    static char out[200000];
    char key[64];
    snprintf(key, sizeof key, "\"%s\":", name);
    const char *p = strstr(KMS_BODY, key);
    if (!p) {
        snprintf(out, sizeof out, "{%s%s,%s", key, value ? value : "", KMS_BODY + 1);
        return out;
    }
    const char *v = p + strlen(key);
    const char *end = v;
    if (*end == '"') {
        end++;
        while (*end != '"')
            end++;
        end++;
    } else if (*end == '[') {
        while (*end != ']')
            end++;
        end++;
    }
    size_t pre = (size_t)(p - KMS_BODY);
    if (value)
        snprintf(out, sizeof out, "%.*s%s%s%s", (int)pre, KMS_BODY, key, value, end);
    else {
        if (*end == ',')
            end++;
        else if (pre && KMS_BODY[pre - 1] == ',')
            pre--;
        snprintf(out, sizeof out, "%.*s%s", (int)pre, KMS_BODY, end);
    }
    return out;
}

static int parse(const char *s, dg_bootinfo *bi, dg_err *err) {
    return dg_bootinfo_parse(bi, s, strlen(s), err);
}

static void expect_error(const char *body, const char *msg) {
    dg_bootinfo bi;
    dg_err err = {0};
    dg_bootinfo_init(&bi);
    int ok = parse(body, &bi, &err);
    CHECK_INT(ok, 0);
    CHECK_INT(err.code, DG_ERR_INPUT);
    if (strstr(err.msg, msg) == NULL)
        dg_test_fail(__FILE__, __LINE__, "error \"%s\" lacks \"%s\"", err.msg, msg);
    CHECK_INT(bi.n_advisory, 0);
    dg_bootinfo_free(&bi);
}

TEST(bootinfo_kms_shape) {
    dg_bootinfo bi;
    dg_err err;
    uint8_t a[32];
    dg_bootinfo_init(&bi);
    CHECK(parse(KMS_BODY, &bi, &err));
    memset(a, 0xaa, 32);
    CHECK_MEM(bi.mr_aggregated, a, 32);
    memset(a, 0xdd, 20);
    CHECK_MEM(bi.app_id, a, 20);
    memset(a, 0x11, 32);
    CHECK_MEM(bi.device_id, a, 32);
    CHECK(bi.has_instance_id && bi.has_mr_system && bi.has_os_image_hash);
    CHECK_STR(bi.tcb_status, "UpToDate");
    CHECK_INT(bi.n_advisory, 2);
    CHECK_STR(dg_bootinfo_advisory(&bi, 1, NULL), "INTEL-SA-00615");
    dg_bootinfo_free(&bi);
}

TEST(bootinfo_prefix_and_case_are_equal) {
    dg_bootinfo a, b;
    dg_buf ka, kb;
    dg_err err;
    dg_bootinfo_init(&a);
    dg_bootinfo_init(&b);
    dg_buf_init(&ka);
    dg_buf_init(&kb);
    CHECK(parse(KMS_BODY, &a, &err));
    CHECK(parse(with_field("appId", "\"0x" H40("D") "\""), &b, &err));
    CHECK(dg_bootinfo_canonical(&a, &ka) && dg_bootinfo_canonical(&b, &kb));
    CHECK_INT(ka.len, kb.len);
    CHECK(ka.len == kb.len && memcmp(ka.data, kb.data, ka.len) == 0);
    CHECK(parse(with_field("composeHash", "\"0X" H64("E") "\""), &b, &err));
    dg_buf_free(&kb);
    dg_buf_init(&kb);
    CHECK(dg_bootinfo_canonical(&b, &kb));
    CHECK(ka.len == kb.len && memcmp(ka.data, kb.data, ka.len) == 0);
    /* a different tcbStatus is a different key */
    CHECK(parse(with_field("tcbStatus", "\"OutOfDate\""), &b, &err));
    dg_buf_free(&kb);
    dg_buf_init(&kb);
    CHECK(dg_bootinfo_canonical(&b, &kb));
    CHECK(!(ka.len == kb.len && memcmp(ka.data, kb.data, ka.len) == 0));
    dg_buf_free(&ka);
    dg_buf_free(&kb);
    dg_bootinfo_free(&a);
    dg_bootinfo_free(&b);
}

TEST(bootinfo_empty_allowed_only_where_kms_sends_empty) {
    dg_bootinfo bi;
    dg_err err;
    uint8_t z[32] = {0};
    dg_bootinfo_init(&bi);
    CHECK(parse(with_field("instanceId", "\"\""), &bi, &err));
    CHECK_INT(bi.has_instance_id, 0);
    CHECK_MEM(bi.instance_id, z, 20);
    CHECK(parse(with_field("osImageHash", "\"\""), &bi, &err));
    CHECK_INT(bi.has_os_image_hash, 0);
    CHECK_MEM(bi.os_image_hash, z, 32);
    CHECK(parse(with_field("mrSystem", "\"\""), &bi, &err));
    CHECK(parse(with_field("mrSystem", NULL), &bi, &err));
    CHECK_INT(bi.has_mr_system, 0);
    CHECK(parse(with_field("tcbStatus", NULL), &bi, &err));
    CHECK_INT(bi.tcb_len, 0);
    CHECK(parse(with_field("advisoryIds", NULL), &bi, &err));
    CHECK_INT(bi.n_advisory, 0);
    CHECK(parse(with_field("instanceId", "\"0x\""), &bi, &err));
    dg_bootinfo_free(&bi);
    expect_error(with_field("composeHash", "\"\""), "composeHash: must not be empty");
    expect_error(with_field("appId", "\"\""), "appId: must not be empty");
    expect_error(with_field("deviceId", "\"0x\""), "deviceId: must not be empty");
    expect_error(with_field("mrAggregated", "\"\""), "mrAggregated: must not be empty");
}

TEST(bootinfo_lengths_are_exact) {
    expect_error(with_field("composeHash", "\"" H40("e") "\""),
                 "composeHash: expected 64 hex digits, got 40");
    expect_error(with_field("composeHash", "\"0x" H64("e") "ee\""),
                 "composeHash: expected 64 hex digits, got 66");
    expect_error(with_field("osImageHash", "\"1234\""),
                 "osImageHash: expected 64 hex digits, got 4");
    expect_error(with_field("appId", "\"" H64("d") "\""), "appId: expected 40 hex digits, got 64");
    expect_error(with_field("instanceId", "\"abc\""), "instanceId: expected 40 hex digits, got 3");
    expect_error(with_field("mrSystem", "\"00\""), "mrSystem: expected 64 hex digits, got 2");
    expect_error(with_field("deviceId", "\"" H64("g") "\""),
                 "deviceId: invalid hex digit 'g' at position 0");
    expect_error(with_field("appId", "\"0x0x" H40("1") "\""),
                 "appId: expected 40 hex digits, got 42");
}

TEST(bootinfo_types_and_missing) {
    expect_error(with_field("appId", NULL), "appId: missing");
    expect_error(with_field("instanceId", NULL), "instanceId: missing");
    expect_error(with_field("osImageHash", NULL), "osImageHash: missing");
    expect_error(with_field("composeHash", "null"), "composeHash: expected a string, got null");
    expect_error(with_field("deviceId", "12"), "deviceId: expected a string, got a number");
    expect_error(with_field("tcbStatus", "true"), "tcbStatus: expected a string, got a boolean");
    expect_error(with_field("advisoryIds", "\"INTEL-SA-1\""),
                 "advisoryIds: expected an array of strings, got a string");
    expect_error(with_field("advisoryIds", "[1]"),
                 "advisoryIds[0]: expected a string, got a number");
    expect_error("[]", "body: expected a JSON object");
    expect_error("", "body: expected a JSON object");
    expect_error("{\"appId\":", "invalid JSON");
    expect_error("{\"appId\":\"" H40("d") "\",}", "invalid JSON");
    expect_error(with_field("appId", "\"" H40("d") "\",\"appId\":\"" H40("d") "\""),
                 "appId: given twice");
}

TEST(bootinfo_limits) {
    static char body[150000];
    char big[300];
    memset(big, 'A', sizeof big);
    /* tcbStatus: 128 bytes ok, 129 refused */
    char v[200];
    snprintf(v, sizeof v, "\"%.*s\"", 128, big);
    dg_bootinfo bi;
    dg_err err;
    dg_bootinfo_init(&bi);
    CHECK(parse(with_field("tcbStatus", v), &bi, &err));
    CHECK_INT(bi.tcb_len, 128);
    snprintf(v, sizeof v, "\"%.*s\"", 129, big);
    expect_error(with_field("tcbStatus", v), "tcbStatus: longer than 128 bytes");
    /* advisoryIds: 128 entries of 256 bytes ok; 129 entries, or 257 bytes, refused */
    size_t o = 0;
    body[o++] = '[';
    for (int i = 0; i < 128; i++)
        o += (size_t)snprintf(body + o, sizeof body - o, "%s\"%.*s\"", i ? "," : "", 256, big);
    body[o++] = ']';
    body[o] = 0;
    char *b = strdup(with_field("advisoryIds", body));
    CHECK(parse(b, &bi, &err));
    CHECK_INT(bi.n_advisory, 128);
    size_t n;
    CHECK(dg_bootinfo_advisory(&bi, 127, &n) != NULL);
    CHECK_INT(n, 256);
    free(b);
    o -= 1;
    o += (size_t)snprintf(body + o, sizeof body - o, ",\"x\"]");
    expect_error(with_field("advisoryIds", body), "advisoryIds: more than 128 entries");
    snprintf(body, sizeof body, "[\"a\",\"%.*s\"]", 257, big);
    expect_error(with_field("advisoryIds", body), "advisoryIds[1]: longer than 256 bytes");
    dg_bootinfo_free(&bi);
    /* body over 64 KiB */
    char *huge = malloc(DG_BOOTINFO_BODY_MAX + 2);
    memset(huge, ' ', DG_BOOTINFO_BODY_MAX + 1);
    huge[0] = '{';
    huge[DG_BOOTINFO_BODY_MAX] = '}';
    dg_bootinfo_init(&bi);
    CHECK(!dg_bootinfo_parse(&bi, huge, DG_BOOTINFO_BODY_MAX + 1, &err));
    CHECK(strstr(err.msg, "body: larger than 65536 bytes") != NULL);
    free(huge);
}

TEST(bootinfo_json_strictness) {
    dg_bootinfo bi;
    dg_err err;
    dg_bootinfo_init(&bi);
    /* escapes are decoded, unknown nested values skipped */
    CHECK(parse(with_field("tcbStatus", "\"Up\\u0054oDate\""), &bi, &err));
    CHECK_STR(bi.tcb_status, "UpToDate");
    CHECK(parse(
        with_field("teeVariant", "{\"a\":[1,2.5e3,-0,true,false,null,{\"b\":\"\\ud83d\\ude00\"}]}"),
        &bi, &err));
    dg_bootinfo_free(&bi);
    expect_error(with_field("teeVariant", "01"), "invalid JSON");
    expect_error(with_field("teeVariant", "\"\\ud83d\""), "lone high surrogate");
    expect_error(with_field("tcbStatus", "\"a\\u0000b\""), "NUL");
    expect_error(with_field("tcbStatus", "\"\xc3\x28\""), "invalid UTF-8");
    expect_error(with_field("tcbStatus", "\"a\tb\""), "control character");
    expect_error("{} {}", "trailing data");
    char deep[200];
    memset(deep, '[', sizeof deep);
    deep[sizeof deep - 1] = 0;
    expect_error(with_field("teeVariant", deep), "nested too deeply");
}

TEST(bootinfo_to_json_roundtrip) {
    dg_bootinfo a, b;
    dg_buf j, ka, kb;
    dg_err err;
    dg_bootinfo_init(&a);
    dg_bootinfo_init(&b);
    dg_buf_init(&j);
    dg_buf_init(&ka);
    dg_buf_init(&kb);
    CHECK(parse(with_field("tcbStatus", "\"q\\\"\\\\\\n\""), &a, &err));
    CHECK(dg_bootinfo_to_json(&a, &j));
    CHECK(dg_bootinfo_parse(&b, (const char *)j.data, j.len, &err));
    CHECK(dg_bootinfo_canonical(&a, &ka) && dg_bootinfo_canonical(&b, &kb));
    CHECK(ka.len == kb.len && memcmp(ka.data, kb.data, ka.len) == 0);
    CHECK(strstr((const char *)j.data, "\"appId\":\"dddddddddddddddddddddddddddddddddddddddd\"") !=
          NULL);
    dg_buf_free(&j);
    dg_buf_free(&ka);
    dg_buf_free(&kb);
    dg_bootinfo_free(&a);
    dg_bootinfo_free(&b);
}

/* The isAppAllowed calldata against a hand-computed ABI encoding. */
TEST(bootinfo_eth_calldata_layout) {
    dg_bootinfo bi;
    dg_buf d;
    dg_err err;
    dg_bootinfo_init(&bi);
    dg_buf_init(&d);
    CHECK(parse(with_field("advisoryIds", "[\"ab\"]"), &bi, &err));
    CHECK(dg_policy_eth_calldata(&bi, DG_ROUTE_APP, &d));
    const char *s = (const char *)d.data;
    CHECK(strncmp(s, "0x1e079198", 10) == 0);
    /* words: [0] tuple offset 0x20, [1..7] statics, [8] 0x120, [9] 0x160, [10] len 8, [11]
     * "UpToDate", [12] count 1, [13] offset 0x20, [14] len 2, [15] "ab" */
    CHECK_INT(d.len, 10 + 16 * 64);
    const char *w = s + 10;
    CHECK(strncmp(w + 0 * 64, "0000000000000000000000000000000000000000000000000000000000000020",
                  64) == 0);
    CHECK(strncmp(w + 1 * 64, "000000000000000000000000dddddddddddddddddddddddddddddddddddddddd",
                  64) == 0);
    CHECK(strncmp(w + 8 * 64 + 60, "0120", 4) == 0);
    CHECK(strncmp(w + 9 * 64 + 60, "0160", 4) == 0);
    CHECK(strncmp(w + 10 * 64 + 62, "08", 2) == 0);
    CHECK(strncmp(w + 11 * 64, "5570546f44617465", 16) == 0);
    CHECK(strncmp(w + 12 * 64 + 62, "01", 2) == 0);
    CHECK(strncmp(w + 13 * 64 + 62, "20", 2) == 0);
    CHECK(strncmp(w + 14 * 64 + 62, "02", 2) == 0);
    CHECK(strncmp(w + 15 * 64, "6162000000", 10) == 0);
    dg_buf_free(&d);
    dg_buf_init(&d);
    CHECK(dg_policy_eth_calldata(&bi, DG_ROUTE_KMS, &d));
    CHECK(strncmp((const char *)d.data, "0xe067ec9d", 10) == 0);
    dg_buf_free(&d);
    dg_bootinfo_free(&bi);
}

/* The hand-written calldata of the hot path against the project's general ABI
 * encoder (lib/codec/abi.c, written independently), with advisory ids. */
TEST(bootinfo_eth_calldata_matches_abi_encoder) {
    dg_bootinfo bi;
    dg_err err;
    dg_bootinfo_init(&bi);
    CHECK(parse(
        with_field("advisoryIds",
                   "[\"INTEL-SA-00837\",\"\",\"a-much-longer-advisory-identifier-over-32-bytes\"]"),
        &bi, &err));
    for (int route = 0; route < 2; route++) {
        dg_abi_value args, *t;
        dg_buf want, got;
        dg_buf_init(&want);
        dg_buf_init(&got);
        CHECK(dg_abi_tuple(&args, 1));
        t = &args.items[0];
        CHECK(dg_abi_tuple(t, 9));
        dg_abi_address(&t->items[0], bi.app_id);
        dg_abi_bytes32(&t->items[1], bi.compose_hash);
        dg_abi_address(&t->items[2], bi.instance_id);
        dg_abi_bytes32(&t->items[3], bi.device_id);
        dg_abi_bytes32(&t->items[4], bi.mr_aggregated);
        dg_abi_bytes32(&t->items[5], bi.mr_system);
        dg_abi_bytes32(&t->items[6], bi.os_image_hash);
        CHECK(dg_abi_string(&t->items[7], bi.tcb_status));
        CHECK(dg_abi_array(&t->items[8], bi.n_advisory));
        for (size_t i = 0; i < bi.n_advisory; i++)
            CHECK(dg_abi_string(&t->items[8].items[i], dg_bootinfo_advisory(&bi, i, NULL)));
        const char *sig = route ? "isKmsAllowed((address,bytes32,address,bytes32,bytes32,bytes32,"
                                  "bytes32,string,string[]))"
                                : "isAppAllowed((address,bytes32,address,bytes32,bytes32,bytes32,"
                                  "bytes32,string,string[]))";
        CHECK(dg_abi_encode_call(&want, sig, &args, &err));
        CHECK(dg_policy_eth_calldata(&bi, route ? DG_ROUTE_KMS : DG_ROUTE_APP, &got));
        char *hex = malloc(2 * want.len + 3);
        dg_hex_encode_0x(want.data, want.len, hex);
        CHECK_STR((const char *)got.data, hex);
        free(hex);
        dg_abi_value_free(&args);
        dg_buf_free(&want);
        dg_buf_free(&got);
    }
    dg_bootinfo_free(&bi);
}
