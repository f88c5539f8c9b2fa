/* test_safe.c — Safe and TimelockController encodings against independent
 * vectors: the EIP-712 SafeTx signature from `cast wallet sign --data` (cast
 * computes the typed-data digest itself from the JSON types), hashOperation /
 * hashOperationBatch ids and multiSend calldata from `cast abi-encode` /
 * `cast calldata` over `cast abi-encode --packed`; proposals: round trip, and every refusal (edited
 * content, forged, moved, duplicate and non-owner signatures, too few). The key is anvil's
 * well-known test key 0. */
#include <stdlib.h>
#include <string.h>

#include "../test.h"
#include "dstackgov/hash.h"
#include "dstackgov/hex.h"
#include "dstackgov/safe.h"
#include "dstackgov/secp.h"

static const char *ANVIL0 = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
static const char *ANVIL1 = "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

/* The SafeTx of /tmp/safetx.json in the commit that added this test. */
static void vector_tx(dg_safe_tx *t, uint8_t safe[20]) {
    dg_safe_tx_init(t);
    memset(safe, 0x11, 20);
    memset(t->to, 0x22, 20);
    t->value = dg_u256_from_u64(1000);
    static const uint8_t d[] = {0xde, 0xad, 0xbe, 0xef, 0x00};
    dg_buf_append(&t->data, d, sizeof d);
    t->operation = 1;
    t->safe_tx_gas = dg_u256_from_u64(7);
    t->base_gas = dg_u256_from_u64(8);
    t->gas_price = dg_u256_from_u64(9);
    memset(t->gas_token, 0x33, 20);
    memset(t->refund_receiver, 0x44, 20);
    t->nonce = dg_u256_from_u64(42);
}

TEST(safe_tx_hash_signature_matches_cast_eip712) {
    dg_safe_tx t;
    uint8_t safe[20], h[32], priv[32], sig[65], want[65], who[20], me[20];
    vector_tx(&t, safe);
    dg_safe_tx_hash(11155111, safe, &t, h);
    CHECK(dg_privkey_parse(ANVIL0, priv, NULL));
    CHECK(dg_safe_sign(priv, h, sig, NULL));
    dg_test_unhex(
        "283b80fc6baa9114130ff0874885c37e7b774563ad7cff4f8a3ee28a88a5d0c30adc7642d661ac43c0"
        "a1cc8bc5602228734104ffbf9a9c5dc64afccc49a3210e1c",
        want, 65);
    CHECK_MEM(sig, want, 65);
    CHECK(dg_safe_recover(h, sig, who, NULL));
    CHECK(dg_eth_address_from_priv(priv, me, NULL));
    CHECK_MEM(who, me, 20);
    /* another chain or nonce is another hash */
    uint8_t h2[32];
    dg_safe_tx_hash(1, safe, &t, h2);
    CHECK(memcmp(h, h2, 32) != 0);
    dg_safe_tx_free(&t);
}

TEST(safe_recover_refuses_contract_signatures) {
    uint8_t h[32] = {1}, sig[65] = {0}, who[20];
    dg_err e = {DG_OK, ""};
    sig[64] = 1; /* approved-hash kind */
    CHECK(!dg_safe_recover(h, sig, who, &e));
    CHECK_INT(e.code, DG_ERR_PROPOSAL);
    CHECK(strstr(e.msg, "v = 1") != NULL);
}

static const uint8_t DATA_ABCD[] = {0xab, 0xcd};

static void two_calls(dg_owner_call c[2]) {
    memset(c, 0, 2 * sizeof *c);
    memset(c[0].to, 0x22, 20);
    c[0].value = dg_u256_from_u64(5);
    c[0].data = DATA_ABCD;
    c[0].len = 2;
    memset(c[1].to, 0x33, 20);
}

TEST(timelock_ids_match_cast) {
    dg_owner_call c[2];
    two_calls(c);
    dg_timelock_op op = {c, 1, {0}, {0}};
    memset(op.salt, 1, 32);
    uint8_t id[32], want[32];
    CHECK(dg_timelock_id(&op, id, NULL));
    dg_test_unhex("6f913e9751f9c59dc81b8965b949dbdd5e9cf3ba30919efc7be5235131ca5aa9", want, 32);
    CHECK_MEM(id, want, 32);
    op.n = 2;
    CHECK(dg_timelock_id(&op, id, NULL));
    dg_test_unhex("4eca1f0a1a755323375c7acfebfd58a7d22905d17bbce9ee0f3f9b4bd21d235c", want, 32);
    CHECK_MEM(id, want, 32);
    dg_buf b;
    dg_buf_init(&b);
    CHECK(dg_timelock_schedule_calldata(&op, 60, &b, NULL));
    uint8_t sel[4];
    dg_abi_selector("scheduleBatch(address[],uint256[],bytes[],bytes32,bytes32,uint256)", sel);
    CHECK_MEM(b.data, sel, 4);
    dg_buf_free(&b);
    op.n = 0;
    dg_err e = {DG_OK, ""};
    CHECK(!dg_timelock_id(&op, id, &e));
    CHECK_INT(e.code, DG_ERR_INPUT);
}

TEST(safe_multisend_matches_cast_calldata) {
    dg_owner_call c[2];
    two_calls(c);
    dg_buf b;
    dg_buf_init(&b);
    CHECK(dg_safe_multisend(c, 2, &b, NULL));
    char *hx = malloc(2 * b.len + 3);
    dg_hex_encode_0x(b.data, b.len, hx);
    CHECK_STR(hx, "0x8d80ff0a0000000000000000000000000000000000000000000000000000000000000020000000"
                  "00000000000000000000000000000000000000000000000000000000ac0022222222222222222222"
                  "22222222222222222222000000000000000000000000000000000000000000000000000000000000"
                  "00050000000000000000000000000000000000000000000000000000000000000002abcd00333333"
                  "33333333333333333333333333333333330000000000000000000000000000000000000000000000"
                  "00000000000000000000000000000000000000000000000000000000000000000000000000000000"
                  "000000000000000000000000000000000000000000");
    free(hx);
    dg_buf_free(&b);
    /* several calls without a MultiSend address: refused */
    dg_safe_tx t;
    dg_safe_tx_init(&t);
    dg_u256 n0 = dg_u256_from_u64(0);
    dg_err e = {DG_OK, ""};
    CHECK(!dg_safe_tx_from_calls(c, 2, NULL, &n0, &t, &e));
    CHECK(strstr(e.msg, "MultiSendCallOnly") != NULL);
    uint8_t ms[20];
    memset(ms, 0x55, 20);
    CHECK(dg_safe_tx_from_calls(c, 2, ms, &n0, &t, NULL));
    CHECK_INT(t.operation, DG_SAFE_DELEGATECALL);
    CHECK_MEM(t.to, ms, 20);
    dg_safe_tx_free(&t);
}

/* A proposal signed by keys 0 and 1, as JSON. */
static json_t *signed_proposal(void) {
    dg_safe_proposal p;
    memset(&p, 0, sizeof p);
    uint8_t safe[20];
    vector_tx(&p.tx, safe);
    memcpy(p.safe, safe, 20);
    p.chain_id = 11155111;
    dg_safe_tx_hash(p.chain_id, p.safe, &p.tx, p.hash);
    uint8_t k[32];
    dg_privkey_parse(ANVIL0, k, NULL);
    dg_safe_proposal_sign(&p, k, NULL);
    dg_privkey_parse(ANVIL1, k, NULL);
    dg_safe_proposal_sign(&p, k, NULL);
    dg_safe_proposal_sign(&p, k, NULL); /* again: replaces, not appends */
    json_t *j = dg_safe_proposal_to_json(&p);
    dg_safe_proposal_free(&p);
    return j;
}

static int refused(json_t *j, const char *needle, dg_err_code code) {
    dg_safe_proposal p;
    dg_err e = {DG_OK, ""};
    int ok = dg_safe_proposal_from_json(j, &p, &e);
    json_decref(j);
    if (ok) {
        dg_safe_proposal_free(&p);
        return 0;
    }
    return e.code == code && strstr(e.msg, needle) != NULL;
}

TEST(safe_proposal_round_trip_and_refusals) {
    json_t *j = signed_proposal();
    dg_safe_proposal p;
    dg_err e = {DG_OK, ""};
    CHECK(dg_safe_proposal_from_json(j, &p, &e));
    json_decref(j);
    CHECK_INT(p.nsigs, 2);
    dg_buf packed;
    dg_buf_init(&packed);
    uint8_t owners[2][20];
    memcpy(owners[0], p.sigs[0].signer, 20);
    memcpy(owners[1], p.sigs[1].signer, 20);
    CHECK(dg_safe_signatures_check(p.hash, p.sigs, 2, (const uint8_t(*)[20])owners, 2, 2, &packed,
                                   NULL));
    CHECK_INT(packed.len, 130);
    /* sorted ascending by signer: anvil 1 (0x7099..) before anvil 0 (0xf39F..) */
    CHECK_MEM(packed.data, p.sigs[1].sig, 65);
    CHECK(
        !dg_safe_signatures_check(p.hash, p.sigs, 2, (const uint8_t(*)[20])owners, 2, 3, NULL, &e));
    CHECK(strstr(e.msg, "has 2 signatures, the Safe needs 3") != NULL);
    CHECK(
        !dg_safe_signatures_check(p.hash, p.sigs, 2, (const uint8_t(*)[20])owners, 1, 2, NULL, &e));
    CHECK(strstr(e.msg, "is not an owner") != NULL);
    dg_safe_sig dup[2] = {p.sigs[0], p.sigs[0]};
    CHECK(!dg_safe_signatures_check(p.hash, dup, 2, NULL, 0, 0, NULL, &e));
    CHECK(strstr(e.msg, "both") != NULL);
    dg_buf_free(&packed);
    dg_safe_proposal_free(&p);

    /* content edited after signing */
    j = signed_proposal();
    json_object_set_new(json_object_get(j, "tx"), "nonce", json_string("43"));
    CHECK(refused(j, "does not match the proposal's content", DG_ERR_PROPOSAL));
    /* signatures moved to each other's signer */
    j = signed_proposal();
    json_t *s = json_object_get(j, "signatures");
    json_t *a = json_object_get(json_array_get(s, 0), "signature");
    json_t *b = json_object_get(json_array_get(s, 1), "signature");
    json_incref(a);
    json_incref(b);
    json_object_set_new(json_array_get(s, 0), "signature", b);
    json_object_set_new(json_array_get(s, 1), "signature", a);
    CHECK(refused(j, "forged, or moved to another signer's entry", DG_ERR_PROPOSAL));
    /* a forged signature (one bit of s flipped) */
    j = signed_proposal();
    s = json_object_get(json_array_get(json_object_get(j, "signatures"), 0), "signature");
    char forged[200];
    snprintf(forged, sizeof forged, "%s", json_string_value(s));
    forged[70] = forged[70] == '1' ? '2' : '1';
    json_object_set_new(json_array_get(json_object_get(j, "signatures"), 0), "signature",
                        json_string(forged));
    CHECK(refused(j, "signature 1", DG_ERR_PROPOSAL));
    /* a missing field is named */
    j = signed_proposal();
    json_object_del(json_object_get(j, "tx"), "gasToken");
    CHECK(refused(j, "tx.gasToken is missing", DG_ERR_INPUT));
}

/* A receipt with one Safe event for hash h (1.4.1 layout: the hash is topic 1). */
static void receipt_with(dg_eth_receipt *r, dg_eth_log *l, const char *event,
                         const uint8_t safe[20], const uint8_t h[32]) {
    memset(r, 0, sizeof *r);
    memset(l, 0, sizeof *l);
    memcpy(l->address, safe, 20);
    dg_eth_event_topic(event, l->topics[0]);
    memcpy(l->topics[1], h, 32);
    l->ntopics = 2;
    r->status = 1;
    r->logs = l;
    r->nlogs = 1;
}

TEST(safe_exec_outcome_reads_execution_failure) {
    uint8_t safe[20], other[20], h[32], h2[32];
    memset(safe, 0x11, 20);
    memset(other, 0x12, 20);
    memset(h, 0xaa, 32);
    memset(h2, 0xbb, 32);
    dg_eth_receipt r;
    dg_eth_log l;
    dg_err e = {DG_OK, ""};
    receipt_with(&r, &l, "ExecutionSuccess(bytes32,uint256)", safe, h);
    CHECK(dg_safe_exec_outcome(&r, safe, h, NULL));
    receipt_with(&r, &l, "ExecutionFailure(bytes32,uint256)", safe, h);
    CHECK(!dg_safe_exec_outcome(&r, safe, h, &e));
    CHECK_INT(e.code, DG_ERR_REVERT);
    CHECK(strstr(e.msg, "ExecutionFailure") != NULL);
    /* another SafeTx's event, or another contract's, is not this one's outcome */
    receipt_with(&r, &l, "ExecutionSuccess(bytes32,uint256)", safe, h2);
    CHECK(!dg_safe_exec_outcome(&r, safe, h, &e));
    CHECK_INT(e.code, DG_ERR_RPC_RESPONSE);
    receipt_with(&r, &l, "ExecutionSuccess(bytes32,uint256)", other, h);
    CHECK(!dg_safe_exec_outcome(&r, safe, h, &e));
}

/* eth_sign signatures (v 31/32: over "\x19Ethereum Signed Message:\n32" || hash, as hardware
 * wallets sign a SafeTx) recover to their signer; the same bytes as v 27/28 do not. */
TEST(safe_recover_eth_sign_kind) {
    uint8_t priv[32], me[20], h[32], pre[32], sig[65], who[20];
    CHECK(dg_privkey_parse(ANVIL1, priv, NULL));
    CHECK(dg_eth_address_from_priv(priv, me, NULL));
    memset(h, 0x5a, 32);
    uint8_t m[60];
    memcpy(m,
           "\x19"
           "Ethereum Signed Message:\n32",
           28);
    memcpy(m + 28, h, 32);
    dg_keccak256(m, sizeof m, pre);
    int recid = 0;
    CHECK(dg_secp_sign(priv, pre, sig, &recid, NULL));
    sig[64] = (uint8_t)(31 + recid);
    CHECK(dg_safe_recover(h, sig, who, NULL));
    CHECK_MEM(who, me, 20);
    sig[64] = (uint8_t)(27 + recid);
    CHECK(dg_safe_recover(h, sig, who, NULL));
    CHECK(memcmp(who, me, 20) != 0);
}
