/* test_eth_tx.c — transactions: EIP-155 example and the ethereum/tests EIP-155
 * vectors, EIP-1559 vs `cast mktx`,
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

static void key46(void) {
    memset(KEY46, 0x46, 32);
}

static void hexcmp(const dg_buf *b, const char *want_hex) {
    char *got = malloc(2 * b->len + 3);
    dg_hex_encode_0x(b->data, b->len, got);
    CHECK_STR(got, want_hex);
    free(got);
}

/* EIP-155's example transfer without its value: nonce 9, 21000 gas, to 0x35..35,
 * chain 1; legacy at 20 gwei, or type 2 with tip 2 gwei and max fee 30 gwei. */
static void example_transfer(dg_eth_tx *tx, dg_tx_type type) {
    memset(tx, 0, sizeof *tx);
    tx->type = type;
    tx->chain_id = 1;
    tx->nonce = 9;
    if (type == DG_TX_LEGACY) {
        tx->gas_price = dg_u256_from_u64(20000000000ull);
    } else {
        tx->max_priority_fee = dg_u256_from_u64(2000000000ull);
        tx->max_fee = dg_u256_from_u64(30000000000ull);
    }
    tx->gas_limit = 21000;
    tx->has_to = 1;
    memset(tx->to, 0x35, 20);
}

/* EIP-155's own example: nonce 9, 20 gwei, 21000 gas, to 0x35..35, 1 ether, chain 1, key 0x46..46.
 */
TEST(eth_tx_eip155_example) {
    key46();
    dg_eth_tx tx;
    example_transfer(&tx, DG_TX_LEGACY);
    tx.value = dg_u256_from_u64(1000000000000000000ull);
    uint8_t h[32], want[32];
    CHECK(dg_eth_tx_signing_hash(&tx, h, NULL));
    dg_test_unhex("daf5a779ae972f972197303d7b574746c7ef83eadac0f2791ad23db92e4c8e53", want, 32);
    CHECK_MEM(h, want, 32);
    dg_buf raw;
    dg_buf_init(&raw);
    CHECK(dg_eth_tx_sign(&tx, KEY46, &raw, h, NULL));
    hexcmp(&raw,
           "0xf86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a7640000"
           "8025a028ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8997f7"
           "61aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83");
    dg_buf_free(&raw);
}

/* Same transfer as EIP-1559 type 2 (tip 2 gwei, max fee 30 gwei): bytes from `cast mktx`. */
TEST(eth_tx_eip1559_matches_cast) {
    key46();
    dg_eth_tx tx;
    example_transfer(&tx, DG_TX_EIP1559);
    tx.value = dg_u256_from_u64(1000000000000000000ull);
    dg_buf raw;
    dg_buf_init(&raw);
    CHECK(dg_eth_tx_sign(&tx, KEY46, &raw, NULL, NULL));
    hexcmp(
        &raw,
        "0x02f873010984773594008506fc23ac00825208943535353535353535353535353535353535353535880de0"
        "b6b3a764000080c080a02b03b67e070f45175ce9d07c4512720168bd468a24edb6997977a53d48c87a12a"
        "0733d775fdd689d306e08ac8ab399f34b5a0253b47ed81b8bf2d2a6ea607fcac7");
    dg_buf_free(&raw);
}

/* A contract call with calldata on chain 31337 (tip 1 wei), also from `cast mktx`. */
TEST(eth_tx_eip1559_call_matches_cast) {
    key46();
    uint8_t data[36];
    dg_test_unhex("06a3ae961111111111111111111111111111111111111111111111111111111111111111", data,
                  36);
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
    hexcmp(
        &raw,
        "0x02f88d827a6980018477359400830186a094353535353535353535353535353535353535353580a406a3ae"
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
    if (dg_eth_tx_decode(raw.data, raw.len, &back, other, NULL))
        CHECK(memcmp(other, want, 20) != 0);
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
    example_transfer(&tx, DG_TX_LEGACY);
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
                              "\"reward\":[[\"0x5\"],[\"0x1\"],[\"0x9\"]]}",
                              0, NULL);
    json_t *tip = json_string("0x2");
    json_t *gp = json_string("0x64");
    CHECK(dg_eth_fees_choose(hist, tip, gp, &f, NULL));
    CHECK_INT(f.type, DG_TX_EIP1559);
    CHECK_INT(f.base_fee.w[0], 2000000000ull); /* next block's base fee is the last entry */
    CHECK_INT(f.max_priority_fee.w[0], 2);
    CHECK_INT(f.max_fee.w[0], 4000000002ull); /* 2 * base + tip */
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

/* Intrinsic gas per the yellow paper, EIP-2028 (16 per non-zero byte),
 * EIP-3860 (init code words) and the EIP-7623 calldata floor. */
TEST(eth_intrinsic_gas) {
    uint8_t z[100] = {0}, nz[64];
    memset(nz, 0xff, sizeof nz);
    CHECK_INT(dg_eth_intrinsic_gas(NULL, 0, 0), 21000);
    /* 4 non-zero bytes: 21064 standard, floor 21000 + 10*16 = 21160 */
    CHECK_INT(dg_eth_intrinsic_gas(nz, 4, 0), 21160);
    /* 100 zero bytes: 21400 standard, floor 21000 + 10*100 = 22000 */
    CHECK_INT(dg_eth_intrinsic_gas(z, 100, 0), 22000);
    /* a creation of 64 non-zero bytes: 53000 + 64*16 + 2*2 = 54028 (above its floor) */
    CHECK_INT(dg_eth_intrinsic_gas(nz, 64, 1), 54028);
    CHECK_INT(dg_eth_intrinsic_gas(NULL, 0, 1), 53000);
    /* addOsImageHash(bytes32 0xaa..): 4-byte selector + 32 non-zero bytes, floor wins */
    uint8_t call[36];
    memcpy(call, "\x8d\x9b\xec\x51", 4);
    memset(call + 4, 0xaa, 32);
    CHECK_INT(dg_eth_intrinsic_gas(call, 36, 0), 21000 + 10 * 4 * 36);
}

TEST(eth_check_chain) {
    dg_err e = {0};
    CHECK(dg_eth_check_chain(0, NULL, 5, "http://h", &e));
    CHECK(dg_eth_check_chain(5, "--chain-id", 5, "http://h", &e));
    CHECK(!dg_eth_check_chain(11155111, "network sepolia", 31337, "http://127.0.0.1:8545", &e));
    CHECK_INT(e.code, DG_ERR_CHAIN_ID);
    CHECK_STR(e.msg, "chain id mismatch: network sepolia expects 11155111 but "
                     "http://127.0.0.1:8545 is chain 31337");
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
        "{\"transactionHash\":"
        "\"0x1111111111111111111111111111111111111111111111111111111111111111\","
        "\"status\":\"0x1\",\"blockNumber\":\"0x10\",\"gasUsed\":\"0x5208\",\"contractAddress\":"
        "null,"
        "\"logs\":[{\"address\":\"0x2222222222222222222222222222222222222222\",\"topics\":["
        "\"0xfd86d7f6962eba3b7a3bf9129c06c0b2f885e1c61ef2c9f0dbb856be0deefdee\","
        "\"0x0000000000000000000000003333333333333333333333333333333333333333\"],\"data\":"
        "\"0xabcd\","
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
    j = json_loads(
        "{\"transactionHash\":"
        "\"0x1111111111111111111111111111111111111111111111111111111111111111\","
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
    json_t *d =
        json_string("0x118cdaa700000000000000000000000070997970c51812dc3a010c7d01b50e0d17dc79c8");
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

/* ethereum/tests TransactionTests/EIP155/ttTransactionTestEip155VitaliksTests.json:
 * signed transactions of EIP-155's launch (chain 1, v = 37/38) and three older
 * ones (v = 27/28, no chain id): decode, recover the published sender, and the
 * hash of the raw bytes is the published hash. Vitalik_7 repeats Vitalik_6. */
TEST(eth_tx_eip155_vitalik_vectors) {
    static const struct {
        const char *name, *rlp, *sender, *hash;
        uint64_t chain;
    } v[] = {
        {"Vitalik_1",
         "f864808504a817c800825208943535353535353535353535353535353535353535808025a0044852b2a670ade"
         "5407e78fb2863c51de9fcb96542a07186fe3aeda6bb8a116da0044852b2a670ade5407e78fb2863c51de9fcb9"
         "6542a07186fe3aeda6bb8a116d",
         "f0f6f18bca1b28cd68e4357452947e021241e9ce",
         "b1e2188bc490908a78184e4818dca53684167507417fdb4c09c2d64d32a9896a", 1},
        {"Vitalik_2",
         "f864018504a817c80182a410943535353535353535353535353535353535353535018025a0489efdaa54c0f20"
         "c7adf612882df0950f5a951637e0307cdcb4c672f298b8bcaa0489efdaa54c0f20c7adf612882df0950f5a951"
         "637e0307cdcb4c672f298b8bc6",
         "23ef145a395ea3fa3deb533b8a9e1b4c6c25d112",
         "e62703f43b6f10d42b520941898bf710ebb66dba9df81702702b6d9bf23fef1b", 1},
        {"Vitalik_3",
         "f864028504a817c80282f618943535353535353535353535353535353535353535088025a02d7c5bef027816a"
         "800da1736444fb58a807ef4c9603b7848673f7e3a68eb14a5a02d7c5bef027816a800da1736444fb58a807ef4"
         "c9603b7848673f7e3a68eb14a5",
         "2e485e0c23b4c3c542628a5f672eeab0ad4888be",
         "1f621d7d8804723ab6fec606e504cc893ad4fe4a545d45f499caaf16a61d86dd", 1},
        {"Vitalik_4",
         "f865038504a817c803830148209435353535353535353535353535353535353535351b8025a02a80e1ef1d784"
         "2f27f2e6be0972bb708b9a135c38860dbe73c27c3486c34f4e0a02a80e1ef1d7842f27f2e6be0972bb708b9a1"
         "35c38860dbe73c27c3486c34f4de",
         "82a88539669a3fd524d669e858935de5e5410cf0",
         "99b6455776b1988840d0074c23772cb6b323eb32c5011e4a3a1d06d27b2eb425", 1},
        {"Vitalik_5",
         "f865048504a817c80483019a28943535353535353535353535353535353535353535408025a013600b294191f"
         "c92924bb3ce4b969c1e7e2bab8f4c93c3fc6d0a51733df3c063a013600b294191fc92924bb3ce4b969c1e7e2b"
         "ab8f4c93c3fc6d0a51733df3c060",
         "f9358f2538fd5ccfeb848b64a96b743fcc930554",
         "0b2b499d5a3e729bcc197e1a00f922d80890472299dd1c648988eb08b5b1ff0a", 1},
        {"Vitalik_6",
         "f865058504a817c8058301ec309435353535353535353535353535353535353535357d8025a04eebf77a833b3"
         "0520287ddd9478ff51abbdffa30aa90a8d655dba0e8a79ce0c1a04eebf77a833b30520287ddd9478ff51abbdf"
         "fa30aa90a8d655dba0e8a79ce0c1",
         "a8f7aba377317440bc5b26198a363ad22af1f3a4",
         "99a214f26aaf2804d84367ac8f33ff74b3a94e68baf820668f3641819ced1216", 1},
        {"Vitalik_8",
         "f866068504a817c80683023e3894353535353535353535353535353535353535353581d88025a06455bf8ea6e"
         "7463a1046a0b52804526e119b4bf5136279614e0b1e8e296a4e2fa06455bf8ea6e7463a1046a0b52804526e11"
         "9b4bf5136279614e0b1e8e296a4e2d",
         "f1f571dc362a0e5b2696b8e775f8491d3e50de35",
         "4ed0b4b20536cce62389c6b95ff6a517489b6045efdefeabb4ecf8707d99e15d", 1},
        {"Vitalik_9",
         "f867078504a817c807830290409435353535353535353535353535353535353535358201578025a052f1a9b32"
         "0cab38e5da8a8f97989383aab0a49165fc91c737310e4f7e9821021a052f1a9b320cab38e5da8a8f97989383a"
         "ab0a49165fc91c737310e4f7e9821021",
         "d37922162ab7cea97c97a87551ed02c9a38b7332",
         "a40eb7000de852898a385a19312284bb06f6a9b5d8d03e0b8fb5df2f07f9fe94", 1},
        {"Vitalik_10",
         "f867088504a817c8088302e2489435353535353535353535353535353535353535358202008025a064b1702d9"
         "298fee62dfeccc57d322a463ad55ca201256d01f62b45b2e1c21c12a064b1702d9298fee62dfeccc57d322a46"
         "3ad55ca201256d01f62b45b2e1c21c10",
         "9bddad43f934d313c2b79ca28a432dd2b7281029",
         "588df025c4c2d757d3e314bd3dfbfe352687324e6b8557ad1731585e96928aed", 1},
        {"Vitalik_11",
         "f867098504a817c809830334509435353535353535353535353535353535353535358202d98025a052f8f6120"
         "1b2b11a78d6e866abc9c3db2ae8631fa656bfe5cb53668255367afba052f8f61201b2b11a78d6e866abc9c3db"
         "2ae8631fa656bfe5cb53668255367afb",
         "3c24d7329e92f84f08556ceb6df1cdb0104ca49f",
         "f39c7dac06a9f3abf09faf5e30439a349d3717611b3ed337cd52b0d192bc72da", 1},
        {"Vitalik_12",
         "f8610e80830493e080809560f2ff61000080610011600039610011565b6000f31ca0a310f4d0b26207db76ba4"
         "e1e6e7cf1857ee3aa8559bcbc399a6b09bfea2d30b4a06dff38c645a1486651a717ddf3daccb4fd9a630871ec"
         "ea0758ddfcf2774f9bc6",
         "874b54a8bd152966d63f706bae1ffeb0411921e5",
         "db38325f4c7a9917a611fd09694492c23b0ec357a68ab5cbf905fc9757b9919a", 0},
        {"Vitalik_13",
         "f8660f80830493e09400000000000000000000000000000000000000c08086646f6e6b65791ba09f00c6da4f2"
         "e4b5f3316e70c7669f9df71fa21d533afa63450065731132ba7b6a03886c27a8b3515ab9e2e04492f82147186"
         "21421e92d3b6954d9e3fb409ead788",
         "874b54a8bd152966d63f706bae1ffeb0411921e5",
         "278608eba8465230d0552c8df9fbcc6fc35d2350f4feb0e49a399b2adab37e39", 0},
        {"Vitalik_14",
         "f8610f80830493e080019560f3ff61000080610011600039610011565b6000f31ba0af2944b645e280a35789a"
         "acfce7e16a8d57b43a0076dfd564bdc0395e3576324a05272a0013f198713128bb0e3da43bb03ec7224c5509d"
         "4cabbe39fd31c36b5786",
         "874b54a8bd152966d63f706bae1ffeb0411921e5",
         "d9a26fff8704b137b592b07b64a86eac555dc347c87ae7fe1d2fe824d12427e5", 0},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        uint8_t raw[256], want_from[20], want_hash[32], from[20], h[32];
        size_t n = dg_test_unhex(v[i].rlp, raw, sizeof raw);
        dg_test_unhex(v[i].sender, want_from, 20);
        dg_test_unhex(v[i].hash, want_hash, 32);
        dg_eth_tx tx;
        dg_err e = {0};
        if (!dg_eth_tx_decode(raw, n, &tx, from, &e)) {
            dg_test_fail(__FILE__, __LINE__, "%s: %s", v[i].name, e.msg);
            continue;
        }
        if (memcmp(from, want_from, 20) != 0)
            dg_test_fail(__FILE__, __LINE__, "%s: wrong sender", v[i].name);
        if (tx.chain_id != v[i].chain)
            dg_test_fail(__FILE__, __LINE__, "%s: chain id %llu", v[i].name,
                         (unsigned long long)tx.chain_id);
        dg_keccak256(raw, n, h);
        CHECK_MEM(h, want_hash, 32);
    }
}
