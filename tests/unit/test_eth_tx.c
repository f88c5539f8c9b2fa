/* test_eth_tx.c — transactions: EIP-155 example, EIP-1559 vs `cast mktx`,
 * decoding with sender recovery, CREATE/CREATE2 addresses, fee choice, gas
 * margin, JSON quantities and receipt parsing. */
#include <stdlib.h>
#include <string.h>

#include "../test.h"
#include "dstackgov/eth.h"
#include "dstackgov/hash.h"
#include "dstackgov/hex.h"
#include "dstackgov/secp.h"

static uint8_t KEY46[32];

static void key46(void) { memset(KEY46, 0x46, 32); }

static void hexcmp(const dg_buf *b, const char *want_hex) {
    char *got = malloc(2 * b->len + 3);
    dg_hex_encode_0x(b->data, b->len, got);
    CHECK_STR(got, want_hex);
    free(got);
}

/* EIP-155's own example: nonce 9, 20 gwei, 21000 gas, to 0x35..35, 1 ether, chain 1, key 0x46..46. */
TEST(eth_tx_eip155_example) {
    key46();
    dg_eth_tx tx;
    memset(&tx, 0, sizeof tx);
    tx.type = DG_TX_LEGACY;
    tx.chain_id = 1;
    tx.nonce = 9;
    tx.gas_price = dg_u256_from_u64(20000000000ull);
    tx.gas_limit = 21000;
    tx.has_to = 1;
    memset(tx.to, 0x35, 20);
    tx.value = dg_u256_from_u64(1000000000000000000ull);
    uint8_t h[32], want[32];
    CHECK(dg_eth_tx_signing_hash(&tx, h, NULL));
    dg_test_unhex("daf5a779ae972f972197303d7b574746c7ef83eadac0f2791ad23db92e4c8e53", want, 32);
    CHECK_MEM(h, want, 32);
    dg_buf raw;
    dg_buf_init(&raw);
    CHECK(dg_eth_tx_sign(&tx, KEY46, &raw, h, NULL));
    hexcmp(&raw, "0xf86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a7640000"
                 "8025a028ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8997f7"
                 "61aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83");
    dg_buf_free(&raw);
}

/* Same transfer as EIP-1559 type 2 (tip 2 gwei, max fee 30 gwei): bytes from `cast mktx`. */
TEST(eth_tx_eip1559_matches_cast) {
    key46();
    dg_eth_tx tx;
    memset(&tx, 0, sizeof tx);
    tx.type = DG_TX_EIP1559;
    tx.chain_id = 1;
    tx.nonce = 9;
    tx.max_priority_fee = dg_u256_from_u64(2000000000ull);
    tx.max_fee = dg_u256_from_u64(30000000000ull);
    tx.gas_limit = 21000;
    tx.has_to = 1;
    memset(tx.to, 0x35, 20);
    tx.value = dg_u256_from_u64(1000000000000000000ull);
    dg_buf raw;
    dg_buf_init(&raw);
    CHECK(dg_eth_tx_sign(&tx, KEY46, &raw, NULL, NULL));
    hexcmp(&raw, "0x02f873010984773594008506fc23ac00825208943535353535353535353535353535353535353535880de0"
                 "b6b3a764000080c080a02b03b67e070f45175ce9d07c4512720168bd468a24edb6997977a53d48c87a12a"
                 "0733d775fdd689d306e08ac8ab399f34b5a0253b47ed81b8bf2d2a6ea607fcac7");
    dg_buf_free(&raw);
}

/* A contract call with calldata on chain 31337 (tip 1 wei), also from `cast mktx`. */
TEST(eth_tx_eip1559_call_matches_cast) {
    key46();
    uint8_t data[36];
    dg_test_unhex("06a3ae961111111111111111111111111111111111111111111111111111111111111111", data, 36);
    dg_eth_tx tx;
    memset(&tx, 0, sizeof tx);
    tx.type = DG_TX_EIP1559;
    tx.chain_id = 31337;
    tx.nonce = 0;
    tx.max_priority_fee = dg_u256_from_u64(1);
    tx.max_fee = dg_u256_from_u64(2000000000ull);
    tx.gas_limit = 100000;
    tx.has_to = 1;
    memset(tx.to, 0x35, 20);
    tx.data = data;
    tx.data_len = sizeof data;
    dg_buf raw;
    dg_buf_init(&raw);
    uint8_t h[32];
    CHECK(dg_eth_tx_sign(&tx, KEY46, &raw, h, NULL));
    hexcmp(&raw, "0x02f88d827a6980018477359400830186a094353535353535353535353535353535353535353580a406a3ae"
                 "961111111111111111111111111111111111111111111111111111111111111111c080a0ca60f6dbaa5a5a"
                 "56f4ecdac00cb85dac55972d1b21a201c6e521091a10d1617ca05dcb086939e8a4f41b36b771b71a5332"
                 "c1cf797eb085268155db0234b73f0c05");
    /* decode it back, recover the sender */
    dg_eth_tx back;
    uint8_t from[20], want[20];
    CHECK(dg_eth_tx_decode(raw.data, raw.len, &back, from, NULL));
    CHECK(dg_eth_address_from_priv(KEY46, want, NULL));
    CHECK_MEM(from, want, 20);
    CHECK_INT(back.type, DG_TX_EIP1559);
    CHECK_INT(back.chain_id, 31337);
    CHECK_INT(back.gas_limit, 100000);
    CHECK_INT(back.data_len, 36);
    CHECK_MEM(back.data, data, 36);
    CHECK(dg_u256_cmp(back.max_fee, tx.max_fee) == 0);
    /* flip one byte of s: recovers someone else (or fails) */
    raw.data[raw.len - 1] ^= 1;
    uint8_t other[20];
    if (dg_eth_tx_decode(raw.data, raw.len, &back, other, NULL)) CHECK(memcmp(other, want, 20) != 0);
    dg_buf_free(&raw);
}

TEST(eth_tx_decode_rejects_garbage) {
    uint8_t junk[] = {0x02, 0xc1, 0x80};
    dg_eth_tx t;
    dg_err e;
    CHECK(!dg_eth_tx_decode(junk, sizeof junk, &t, NULL, &e));
    CHECK_INT(e.code, DG_ERR_INPUT);
    uint8_t typed3[] = {0x03, 0xc0};
    CHECK(!dg_eth_tx_decode(typed3, sizeof typed3, &t, NULL, &e));
    CHECK(!dg_eth_tx_decode(NULL, 0, &t, NULL, &e));
}

TEST(eth_tx_legacy_roundtrip_recovers_sender) {
    key46();
    dg_eth_tx tx;
    memset(&tx, 0, sizeof tx);
    tx.type = DG_TX_LEGACY;
    tx.chain_id = 1;
    tx.nonce = 9;
    tx.gas_price = dg_u256_from_u64(20000000000ull);
    tx.gas_limit = 21000;
    tx.has_to = 1;
    memset(tx.to, 0x35, 20);
    dg_buf raw;
    dg_buf_init(&raw);
    CHECK(dg_eth_tx_sign(&tx, KEY46, &raw, NULL, NULL));
    dg_eth_tx back;
    uint8_t from[20], want[20];
    CHECK(dg_eth_tx_decode(raw.data, raw.len, &back, from, NULL));
    CHECK(dg_eth_address_from_priv(KEY46, want, NULL));
    CHECK_MEM(from, want, 20);
    CHECK_INT(back.chain_id, 1);
    CHECK_INT(back.nonce, 9);
    dg_buf_free(&raw);
}

TEST(eth_create_addresses) {
    uint8_t s[20], a[20], want[20];
    dg_test_unhex("6ac7ea33f8831ea9dcc53393aaa88b25a785dbf0", s, 20);
    dg_eth_create_address(s, 0, a);
    dg_test_unhex("cd234a471b72ba2f1ccf0a70fcaba648a5eecd8d", want, 20);
    CHECK_MEM(a, want, 20);
    dg_eth_create_address(s, 1, a);
    dg_test_unhex("343c43a37d37dff08ae8c4a11544c718abb4fcf8", want, 20);
    CHECK_MEM(a, want, 20);
    /* anvil account 0 at nonce 0 deploys to 0x5FbDB2315678afecb367f032d93F642f64180aa3 */
    dg_test_unhex("f39fd6e51aad88f6f4ce6ab8827279cfffb92266", s, 20);
    dg_eth_create_address(s, 0, a);
    dg_test_unhex("5fbdb2315678afecb367f032d93f642f64180aa3", want, 20);
    CHECK_MEM(a, want, 20);
}

/* EIP-1014 example 0 and 1. */
TEST(eth_create2_eip1014) {
    uint8_t dep[20] = {0}, salt[32] = {0}, code = 0x00, h[32], a[20], want[20];
    dg_keccak256(&code, 1, h);
    dg_eth_create2_address(dep, salt, h, a);
    dg_test_unhex("4d1a2e2bb4f88f0250f26ffff098b0b30b26bf38", want, 20);
    CHECK_MEM(a, want, 20);
    dg_test_unhex("deadbeef00000000000000000000000000000000", dep, 20);
    dg_eth_create2_address(dep, salt, h, a);
    dg_test_unhex("b928f69bb1d91cd65274e3c79d8986362984fda3", want, 20);
    CHECK_MEM(a, want, 20);
}

TEST(eth_fees_choose) {
    dg_eth_fees f;
    json_t *hist = json_loads("{\"baseFeePerGas\":[\"0x3b9aca00\",\"0x77359400\"],"
                              "\"reward\":[[\"0x5\"],[\"0x1\"],[\"0x9\"]]}", 0, NULL);
    json_t *tip = json_string("0x2");
    json_t *gp = json_string("0x64");
    CHECK(dg_eth_fees_choose(hist, tip, gp, &f, NULL));
    CHECK_INT(f.type, DG_TX_EIP1559);
    CHECK_INT(f.base_fee.w[0], 2000000000ull);      /* next block's base fee is the last entry */
    CHECK_INT(f.max_priority_fee.w[0], 2);
    CHECK_INT(f.max_fee.w[0], 4000000002ull);       /* 2 * base + tip */
    /* without eth_maxPriorityFeePerGas: median reward */
    CHECK(dg_eth_fees_choose(hist, NULL, gp, &f, NULL));
    CHECK_INT(f.max_priority_fee.w[0], 5);
    /* no base fee (pre-London chain): legacy with eth_gasPrice */
    json_t *old = json_loads("{\"oldestBlock\":\"0x1\"}", 0, NULL);
    CHECK(dg_eth_fees_choose(old, tip, gp, &f, NULL));
    CHECK_INT(f.type, DG_TX_LEGACY);
    CHECK_INT(f.gas_price.w[0], 100);
    /* zero base fee (anvil --hardfork berlin answers feeHistory with zeros): legacy */
    json_t *zero = json_loads("{\"baseFeePerGas\":[\"0x0\",\"0x0\"]}", 0, NULL);
    CHECK(dg_eth_fees_choose(zero, tip, gp, &f, NULL));
    CHECK_INT(f.type, DG_TX_LEGACY);
    json_decref(zero);
    dg_err e;
    CHECK(!dg_eth_fees_choose(NULL, NULL, NULL, &f, &e));
    CHECK_INT(e.code, DG_ERR_RPC_RESPONSE);
    json_decref(hist);
    json_decref(tip);
    json_decref(gp);
    json_decref(old);
}

TEST(eth_gas_margin) {
    CHECK_INT(dg_eth_gas_with_margin(100000, 20, 0), 121000);
    CHECK_INT(dg_eth_gas_with_margin(21000, 0, 0), 22000);
    CHECK_INT(dg_eth_gas_with_margin(29000000, 20, 30000000), 30000000);
}

TEST(eth_quantities) {
    uint64_t v;
    dg_u256 u;
    json_t *j = json_string("0x1a");
    CHECK(dg_eth_quantity_u64(j, &v, NULL));
    CHECK_INT(v, 26);
    json_decref(j);
    const char *bad[] = {"1a", "0x", "0xzz", "0x10000000000000000"};
    for (size_t i = 0; i < 4; i++) {
        j = json_string(bad[i]);
        CHECK(!dg_eth_quantity_u64(j, &v, NULL));
        json_decref(j);
    }
    j = json_string("0x21e19e0c9bab2400000"); /* 10000 ether */
    CHECK(dg_eth_quantity_u256(j, &u, NULL));
    json_t *back = dg_eth_json_quantity_u256(&u);
    CHECK_STR(json_string_value(back), "0x21e19e0c9bab2400000");
    json_decref(back);
    json_decref(j);
    back = dg_eth_json_quantity_u64(0);
    CHECK_STR(json_string_value(back), "0x0");
    json_decref(back);
}

TEST(eth_receipt_parse_and_logs) {
    const char *js =
        "{\"transactionHash\":\"0x1111111111111111111111111111111111111111111111111111111111111111\","
        "\"status\":\"0x1\",\"blockNumber\":\"0x10\",\"gasUsed\":\"0x5208\",\"contractAddress\":null,"
        "\"logs\":[{\"address\":\"0x2222222222222222222222222222222222222222\",\"topics\":["
        "\"0xfd86d7f6962eba3b7a3bf9129c06c0b2f885e1c61ef2c9f0dbb856be0deefdee\","
        "\"0x0000000000000000000000003333333333333333333333333333333333333333\"],\"data\":\"0xabcd\","
        "\"logIndex\":\"0x2\"}]}";
    json_t *j = json_loads(js, 0, NULL);
    dg_eth_receipt r;
    CHECK(dg_eth_receipt_parse(j, &r, NULL));
    CHECK_INT(r.status, 1);
    CHECK_INT(r.block_number, 16);
    CHECK_INT(r.gas_used, 21000);
    CHECK_INT(r.has_contract_address, 0);
    CHECK_INT(r.nlogs, 1);
    CHECK_INT(r.logs[0].data_len, 2);
    CHECK_INT(r.logs[0].log_index, 2);
    uint8_t t0[32], addr[20];
    dg_test_unhex("fd86d7f6962eba3b7a3bf9129c06c0b2f885e1c61ef2c9f0dbb856be0deefdee", t0, 32);
    memset(addr, 0x22, 20);
    size_t at = 0;
    CHECK(dg_eth_find_log(&r, t0, addr, &at) == &r.logs[0]);
    CHECK(dg_eth_find_log(&r, t0, addr, &at) == NULL);
    memset(addr, 0x44, 20);
    CHECK(dg_eth_find_log(&r, t0, addr, NULL) == NULL);
    dg_eth_receipt_free(&r);
    json_decref(j);
    /* a log topic of the wrong length is rejected */
    j = json_loads("{\"transactionHash\":\"0x1111111111111111111111111111111111111111111111111111111111111111\","
                   "\"status\":\"0x0\",\"blockNumber\":\"0x1\",\"gasUsed\":\"0x1\",\"logs\":[{\"address\":"
                   "\"0x2222222222222222222222222222222222222222\",\"topics\":[\"0x12\"],\"data\":\"0x\"}]}",
                   0, NULL);
    dg_err e;
    CHECK(!dg_eth_receipt_parse(j, &r, &e));
    json_decref(j);
}

TEST(eth_event_topic_known) {
    uint8_t t[32], want[32];
    dg_eth_event_topic("AppDeployedViaFactory(address,address)", t);
    /* reference prefix 0xfd86d7f6 */
    dg_test_unhex("fd86d7f6", want, 4);
    CHECK_MEM(t, want, 4);
}

TEST(eth_classify_error) {
    dg_err e;
    /* OwnableUnauthorizedAccount(0x70997970c51812dc3a010c7d01b50e0d17dc79c8) */
    json_t *d = json_string("0x118cdaa700000000000000000000000070997970c51812dc3a010c7d01b50e0d17dc79c8");
    dg_eth_classify_error("addOsImageHash", "execution reverted", d, &e);
    CHECK_INT(e.code, DG_ERR_NOT_OWNER);
    json_decref(d);
    dg_eth_classify_error("send", "insufficient funds for gas * price + value", NULL, &e);
    CHECK_INT(e.code, DG_ERR_FUNDS);
    /* Error(string) "App deregistered" */
    d = json_string("0x08c379a00000000000000000000000000000000000000000000000000000000000000020"
                    "0000000000000000000000000000000000000000000000000000000000000010"
                    "417070206465726567697374657265640000000000000000000000000000000000");
    dg_eth_classify_error("registerApp", "execution reverted", d, &e);
    CHECK_INT(e.code, DG_ERR_REVERT);
    CHECK(strstr(e.msg, "App deregistered") != NULL);
    json_decref(d);
    dg_eth_classify_error("x", "nonce too low", NULL, &e);
    CHECK_INT(e.code, DG_ERR_RPC_RESPONSE);
}

TEST(eth_log_decode) {
    /* GatewayAppIdSet(string "gw"): offset 0x20, length 2, "gw" padded */
    uint8_t d[96] = {0};
    d[31] = 0x20;
    d[63] = 2;
    d[64] = 'g';
    d[65] = 'w';
    dg_eth_log l;
    memset(&l, 0, sizeof l);
    l.data = d;
    l.data_len = sizeof d;
    dg_abi_value v;
    memset(&v, 0, sizeof v);
    CHECK(dg_eth_log_decode(&l, "(string)", &v, NULL));
    CHECK_INT(v.nitems, 1);
    if (v.nitems == 1) {
        CHECK_INT(v.items[0].len, 2);
        CHECK_MEM(v.items[0].data, "gw", 2);
    }
    dg_abi_value_free(&v);
    dg_err e;
    l.data_len = 65; /* truncated inside the string */
    CHECK(!dg_eth_log_decode(&l, "(string)", &v, &e));
    CHECK_INT(e.code, DG_ERR_RPC_RESPONSE);
}
