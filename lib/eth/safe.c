/* safe.c — Safe multisig transactions, proposals and TimelockController
 * operations (safe.h).
 *
 * The one idea: a proposal is trusted for nothing it states. Its SafeTx hash
 * is recomputed from its fields and every signature is recovered and compared
 * with the signer it names before anything is signed or sent, so a proposal
 * edited after signing, a forged signature or one moved to another owner's
 * entry is refused here, not by the Safe after gas was spent. Encodings use
 * the ABI codec (abi.h); the EIP-712 struct hash is built word by word since
 * every SafeTx field is a static word once `data` is hashed.
 */
#include "dstackgov/safe.h"

#include <stdlib.h>
#include <string.h>

#include "dstackgov/abi.h"
#include "dstackgov/hash.h"
#include "dstackgov/hex.h"
#include "dstackgov/secp.h"

#define SAFE_TX_TYPE                                                                               \
    "SafeTx(address to,uint256 value,bytes data,uint8 operation,uint256 safeTxGas,uint256 "        \
    "baseGas,uint256 gasPrice,address gasToken,address refundReceiver,uint256 nonce)"
#define DOMAIN_TYPE "EIP712Domain(uint256 chainId,address verifyingContract)"

void dg_safe_tx_init(dg_safe_tx *t) {
    memset(t, 0, sizeof *t);
    dg_buf_init(&t->data);
}

void dg_safe_tx_free(dg_safe_tx *t) {
    dg_buf_free(&t->data);
    memset(t, 0, sizeof *t);
}

static void word_addr(uint8_t w[32], const uint8_t a[20]) {
    memset(w, 0, 12);
    memcpy(w + 12, a, 20);
}

static void word_u64(uint8_t w[32], uint64_t v) {
    dg_u256_to_be(dg_u256_from_u64(v), w);
}

void dg_safe_tx_hash(uint64_t chain_id, const uint8_t safe[20], const dg_safe_tx *t,
                     uint8_t out[32]) {
    uint8_t dom[3][32], msg[11][32], pre[66];
    dg_keccak256(DOMAIN_TYPE, strlen(DOMAIN_TYPE), dom[0]);
    word_u64(dom[1], chain_id);
    word_addr(dom[2], safe);
    dg_keccak256(SAFE_TX_TYPE, strlen(SAFE_TX_TYPE), msg[0]);
    word_addr(msg[1], t->to);
    dg_u256_to_be(t->value, msg[2]);
    dg_keccak256(t->data.data, t->data.len, msg[3]);
    word_u64(msg[4], t->operation);
    dg_u256_to_be(t->safe_tx_gas, msg[5]);
    dg_u256_to_be(t->base_gas, msg[6]);
    dg_u256_to_be(t->gas_price, msg[7]);
    word_addr(msg[8], t->gas_token);
    word_addr(msg[9], t->refund_receiver);
    dg_u256_to_be(t->nonce, msg[10]);
    pre[0] = 0x19;
    pre[1] = 0x01;
    dg_keccak256(dom, sizeof dom, pre + 2);
    dg_keccak256(msg, sizeof msg, pre + 34);
    dg_keccak256(pre, sizeof pre, out);
}

int dg_safe_multisend(const dg_owner_call *calls, size_t n, dg_buf *out, dg_err *err) {
    dg_buf packed;
    dg_buf_init(&packed);
    int ok = 1;
    for (size_t i = 0; ok && i < n; i++) {
        uint8_t w[32];
        ok = dg_buf_push(&packed, DG_SAFE_CALL) && dg_buf_append(&packed, calls[i].to, 20);
        dg_u256_to_be(calls[i].value, w);
        ok = ok && dg_buf_append(&packed, w, 32);
        word_u64(w, calls[i].len);
        ok = ok && dg_buf_append(&packed, w, 32) &&
             dg_buf_append(&packed, calls[i].data, calls[i].len);
    }
    dg_abi_value a;
    memset(&a, 0, sizeof a);
    ok = ok && dg_abi_tuple(&a, 1) && dg_abi_bytes(&a.items[0], packed.data, packed.len);
    if (!ok) dg_err_set(err, DG_ERR_NOMEM, "out of memory");
    ok = ok && dg_abi_encode_call(out, "multiSend(bytes)", &a, err);
    dg_abi_value_free(&a);
    dg_buf_free(&packed);
    return ok;
}

int dg_safe_tx_from_calls(const dg_owner_call *calls, size_t n, const uint8_t *multisend,
                          const dg_u256 *nonce, dg_safe_tx *t, dg_err *err) {
    if (n == 0) return dg_err_set(err, DG_ERR_INPUT, "SafeTx: no call to make");
    if (n > 1 && !multisend)
        return dg_err_set(err, DG_ERR_INPUT,
                          "SafeTx: %zu calls need a MultiSendCallOnly address to batch them", n);
    dg_buf_free(&t->data);
    dg_safe_tx_init(t);
    t->nonce = *nonce;
    if (n == 1) {
        memcpy(t->to, calls[0].to, 20);
        t->value = calls[0].value;
        t->operation = DG_SAFE_CALL;
        if (!dg_buf_append(&t->data, calls[0].data, calls[0].len))
            return dg_err_set(err, DG_ERR_NOMEM, "out of memory");
        return 1;
    }
    memcpy(t->to, multisend, 20);
    t->operation = DG_SAFE_DELEGATECALL;
    return dg_safe_multisend(calls, n, &t->data, err);
}

int dg_safe_sign(const uint8_t priv[32], const uint8_t hash[32], uint8_t sig[65], dg_err *err) {
    int recid = 0;
    if (!dg_secp_sign(priv, hash, sig, &recid, err)) return 0;
    sig[64] = (uint8_t)(27 + recid);
    return 1;
}

int dg_safe_recover(const uint8_t hash[32], const uint8_t sig[65], uint8_t signer[20],
                    dg_err *err) {
    uint8_t v = sig[64], h[32];
    if (v == 27 || v == 28) {
        memcpy(h, hash, 32);
    } else if (v == 31 || v == 32) {
        static const char prefix[] = "\x19"
                                     "Ethereum Signed Message:\n32";
        dg_keccak_ctx k;
        dg_keccak_init(&k);
        dg_keccak_update(&k, prefix, sizeof prefix - 1);
        dg_keccak_update(&k, hash, 32);
        dg_keccak_final(&k, h);
        v -= 4;
    } else {
        return dg_err_set(err, DG_ERR_PROPOSAL,
                          "signature v = %u is not an owner's ECDSA signature (27/28, or 31/32 "
                          "for eth_sign); contract and approved-hash signatures are not supported",
                          (unsigned)v);
    }
    if (!dg_secp_recover_address(h, sig, v - 27, signer, err))
        return dg_err_set(err, DG_ERR_PROPOSAL, "signature does not recover to any address");
    return 1;
}

static int cmp_sig(const void *a, const void *b) {
    return memcmp(((const dg_safe_sig *)a)->signer, ((const dg_safe_sig *)b)->signer, 20);
}

int dg_safe_signatures_check(const uint8_t hash[32], const dg_safe_sig *sigs, size_t n,
                             const uint8_t (*owners)[20], size_t nowners, uint64_t threshold,
                             dg_buf *packed, dg_err *err) {
    char a[43], b[43];
    for (size_t i = 0; i < n; i++) {
        uint8_t got[20];
        dg_address_checksum(sigs[i].signer, a);
        if (!dg_safe_recover(hash, sigs[i].sig, got, err))
            return dg_err_wrap(err, "signature %zu (signer %s)", i + 1, a);
        if (memcmp(got, sigs[i].signer, 20) != 0) {
            dg_address_checksum(got, b);
            return dg_err_set(err, DG_ERR_PROPOSAL,
                              "signature %zu is not %s's signature of this SafeTx (it recovers "
                              "to %s): forged, or moved to another signer's entry",
                              i + 1, a, b);
        }
        for (size_t k = 0; k < i; k++)
            if (memcmp(sigs[k].signer, sigs[i].signer, 20) == 0)
                return dg_err_set(err, DG_ERR_PROPOSAL, "signatures %zu and %zu are both %s's",
                                  k + 1, i + 1, a);
        if (owners) {
            size_t k = 0;
            while (k < nowners && memcmp(owners[k], sigs[i].signer, 20) != 0)
                k++;
            if (k == nowners)
                return dg_err_set(err, DG_ERR_PROPOSAL,
                                  "signature %zu is by %s, who is not an owner of the Safe", i + 1,
                                  a);
        }
    }
    if (n < threshold)
        return dg_err_set(err, DG_ERR_PROPOSAL,
                          "the proposal has %zu signature%s, the Safe needs %llu", n,
                          n == 1 ? "" : "s", (unsigned long long)threshold);
    if (!packed) return 1;
    dg_safe_sig *sorted = malloc((n ? n : 1) * sizeof *sorted);
    if (!sorted) return dg_err_set(err, DG_ERR_NOMEM, "out of memory");
    if (n) memcpy(sorted, sigs, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, cmp_sig);
    int ok = 1;
    for (size_t i = 0; ok && i < n; i++)
        ok = dg_buf_append(packed, sorted[i].sig, 65);
    free(sorted);
    return ok ? 1 : dg_err_set(err, DG_ERR_NOMEM, "out of memory");
}

int dg_safe_exec_calldata(const dg_safe_tx *t, const uint8_t *sigs, size_t sigs_len, dg_buf *out,
                          dg_err *err) {
    dg_abi_value a;
    memset(&a, 0, sizeof a);
    int ok = dg_abi_tuple(&a, 10);
    if (ok) {
        dg_abi_address(&a.items[0], t->to);
        dg_abi_uint256(&a.items[1], t->value);
        ok = dg_abi_bytes(&a.items[2], t->data.data, t->data.len);
        dg_abi_uint64(&a.items[3], t->operation);
        dg_abi_uint256(&a.items[4], t->safe_tx_gas);
        dg_abi_uint256(&a.items[5], t->base_gas);
        dg_abi_uint256(&a.items[6], t->gas_price);
        dg_abi_address(&a.items[7], t->gas_token);
        dg_abi_address(&a.items[8], t->refund_receiver);
        ok = ok && dg_abi_bytes(&a.items[9], sigs, sigs_len);
    }
    if (!ok) dg_err_set(err, DG_ERR_NOMEM, "out of memory");
    ok = ok && dg_abi_encode_call(out,
                                  "execTransaction(address,uint256,bytes,uint8,uint256,uint256,"
                                  "uint256,address,address,bytes)",
                                  &a, err);
    dg_abi_value_free(&a);
    return ok;
}

/* ------------------------------------------------------------------ reading a Safe */

static json_t *call_obj(const uint8_t to[20], const char *sig) {
    uint8_t sel[4];
    dg_abi_selector(sig, sel);
    json_t *o = json_object();
    json_object_set_new(o, "to", dg_eth_json_bytes(to, 20));
    json_object_set_new(o, "data", dg_eth_json_bytes(sel, 4));
    return o;
}

static int result_bytes(const dg_rpc_req *r, dg_buf *out) {
    const char *s = r->ok && json_is_string(r->result) ? json_string_value(r->result) : NULL;
    return s && dg_hex_decode_var(s, strlen(s), out, NULL) && out->len > 0;
}

int dg_safe_read(dg_rpc *rpc, const uint8_t safe[20], dg_safe_info *out, dg_err *err) {
    static const char *const sigs[] = {"nonce()", "getThreshold()", "getOwners()"};
    memset(out, 0, sizeof *out);
    dg_rpc_req r[4];
    memset(r, 0, sizeof r);
    for (int i = 0; i < 3; i++) {
        r[i].method = "eth_call";
        r[i].params = json_pack("[o,s]", call_obj(safe, sigs[i]), "latest");
    }
    r[3].method = "eth_chainId";
    r[3].params = json_array();
    int ok = dg_eth_batch(rpc, r, 4, err);
    dg_buf b[3];
    for (int i = 0; i < 3; i++)
        dg_buf_init(&b[i]);
    dg_abi_value v;
    memset(&v, 0, sizeof v);
    char s[43];
    dg_address_checksum(safe, s);
    if (ok && !dg_eth_quantity_u64(r[3].result, &out->chain_id, err)) ok = 0;
    if (ok && (!result_bytes(&r[0], &b[0]) || !result_bytes(&r[1], &b[1]) ||
               !result_bytes(&r[2], &b[2]) || b[0].len != 32 || b[1].len != 32 ||
               !dg_abi_decode("(address[])", b[2].data, b[2].len, &v, NULL))) {
        dg_err_set(err, DG_ERR_NO_CODE,
                   "no Safe at %s on chain %llu: nonce(), getThreshold() or getOwners() did not "
                   "answer (wrong address or network?)",
                   s, (unsigned long long)out->chain_id);
        ok = 0;
    }
    if (ok && v.nitems == 1) {
        out->nonce = dg_u256_from_be(b[0].data);
        if (!dg_u256_to_u64(dg_u256_from_be(b[1].data), &out->threshold)) out->threshold = 0;
        const dg_abi_value *arr = &v.items[0];
        out->nowners = arr->nitems;
        out->owners = calloc(arr->nitems ? arr->nitems : 1, 20);
        if (!out->owners) {
            dg_err_set(err, DG_ERR_NOMEM, "out of memory");
            ok = 0;
        } else {
            for (size_t i = 0; i < arr->nitems; i++)
                memcpy(out->owners[i], dg_abi_as_address(&arr->items[i]), 20);
        }
    }
    dg_abi_value_free(&v);
    for (int i = 0; i < 3; i++)
        dg_buf_free(&b[i]);
    dg_rpc_req_clear(r, 4);
    if (!ok) dg_safe_info_free(out);
    return ok;
}

void dg_safe_info_free(dg_safe_info *i) {
    free(i->owners);
    memset(i, 0, sizeof *i);
}

int dg_safe_exec_outcome(const dg_eth_receipt *r, const uint8_t safe[20], const uint8_t hash[32],
                         dg_err *err) {
    static const struct {
        const char *event;
        int success;
    } kinds[] = {{"ExecutionSuccess(bytes32,uint256)", 1},
                 {"ExecutionFailure(bytes32,uint256)", 0}};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        uint8_t topic[32];
        dg_eth_event_topic(kinds[k].event, topic);
        size_t at = 0;
        const dg_eth_log *l;
        while ((l = dg_eth_find_log(r, topic, safe, &at)) != NULL) {
            /* 1.4.1 indexes the hash (topic 1); 1.3.0 logs it as the first data word */
            const uint8_t *h = l->ntopics >= 2 ? l->topics[1] : l->data_len >= 32 ? l->data : NULL;
            if (!h || memcmp(h, hash, 32) != 0) continue;
            if (kinds[k].success) return 1;
            return dg_err_set(err, DG_ERR_REVERT,
                              "the Safe executed the proposal but its call reverted "
                              "(ExecutionFailure; the transaction succeeded and used up the "
                              "Safe's nonce)");
        }
    }
    return dg_err_set(err, DG_ERR_RPC_RESPONSE,
                      "the execTransaction receipt has neither ExecutionSuccess nor "
                      "ExecutionFailure for this SafeTx");
}

/* ------------------------------------------------------------------ proposals */

void dg_safe_proposal_free(dg_safe_proposal *p) {
    dg_safe_tx_free(&p->tx);
    free(p->sigs);
    memset(p, 0, sizeof *p);
}

static json_t *json_addr(const uint8_t a[20]) {
    char s[43];
    dg_address_checksum(a, s);
    return json_string(s);
}

static json_t *json_dec(dg_u256 v) {
    char s[DG_U256_DEC_LEN];
    dg_u256_to_dec(v, s);
    return json_string(s);
}

json_t *dg_safe_proposal_to_json(const dg_safe_proposal *p) {
    const dg_safe_tx *t = &p->tx;
    json_t *sigs = json_array();
    for (size_t i = 0; sigs && i < p->nsigs; i++)
        json_array_append_new(sigs, json_pack("{s:o,s:o}", "signer", json_addr(p->sigs[i].signer),
                                              "signature", dg_eth_json_bytes(p->sigs[i].sig, 65)));
    json_t *tx = json_pack(
        "{s:o,s:o,s:o,s:i,s:o,s:o,s:o,s:o,s:o,s:o}", "to", json_addr(t->to), "value",
        json_dec(t->value), "data", dg_eth_json_bytes(t->data.data, t->data.len), "operation",
        (int)t->operation, "safeTxGas", json_dec(t->safe_tx_gas), "baseGas", json_dec(t->base_gas),
        "gasPrice", json_dec(t->gas_price), "gasToken", json_addr(t->gas_token), "refundReceiver",
        json_addr(t->refund_receiver), "nonce", json_dec(t->nonce));
    return json_pack("{s:i,s:I,s:o,s:s,s:o,s:o,s:o}", "version", 1, "chainId",
                     (json_int_t)p->chain_id, "safe", json_addr(p->safe), "description",
                     p->description, "tx", tx, "safeTxHash", dg_eth_json_bytes(p->hash, 32),
                     "signatures", sigs);
}

static const char *jstr(const json_t *o, const char *key, const char *where, dg_err *err) {
    const json_t *v = json_object_get(o, key);
    if (!json_is_string(v)) {
        dg_err_set(err, DG_ERR_INPUT, "proposal: %s%s is missing or not a string", where, key);
        return NULL;
    }
    return json_string_value(v);
}

static int jaddr(const json_t *o, const char *key, const char *where, uint8_t out[20],
                 dg_err *err) {
    const char *s = jstr(o, key, where, err);
    if (!s) return 0;
    if (!dg_address_parse(s, out, err)) return dg_err_wrap(err, "proposal: %s%s", where, key);
    return 1;
}

static int ju256(const json_t *o, const char *key, dg_u256 *out, dg_err *err) {
    const char *s = jstr(o, key, "tx.", err);
    if (!s) return 0;
    if (!dg_u256_parse(s, out, err)) return dg_err_wrap(err, "proposal: tx.%s", key);
    return 1;
}

static int jhex(const json_t *o, const char *key, const char *where, uint8_t *out, size_t n,
                dg_err *err) {
    const char *s = jstr(o, key, where, err);
    if (!s) return 0;
    if (!dg_hex_decode(s, strlen(s), out, n, err))
        return dg_err_wrap(err, "proposal: %s%s", where, key);
    return 1;
}

int dg_safe_proposal_from_json(const json_t *j, dg_safe_proposal *out, dg_err *err) {
    memset(out, 0, sizeof *out);
    dg_safe_tx_init(&out->tx);
    dg_safe_tx *t = &out->tx;
    const json_t *tx = json_object_get(j, "tx"), *sigs = json_object_get(j, "signatures");
    const json_t *ver = json_object_get(j, "version"), *cid = json_object_get(j, "chainId");
    const json_t *op = json_object_get(tx, "operation");
    const char *data, *desc;
    uint8_t stated[32], want[32];
    int ok = 0;
    if (!json_is_object(j)) {
        dg_err_set(err, DG_ERR_INPUT, "proposal: not a JSON object");
    } else if (!json_is_integer(ver) || json_integer_value(ver) != 1) {
        dg_err_set(err, DG_ERR_INPUT, "proposal: version is not 1");
    } else if (!json_is_integer(cid) || json_integer_value(cid) <= 0) {
        dg_err_set(err, DG_ERR_INPUT, "proposal: chainId is missing or not a positive integer");
    } else if (!json_is_object(tx)) {
        dg_err_set(err, DG_ERR_INPUT, "proposal: tx is missing or not an object");
    } else if (!json_is_integer(op) ||
               (json_integer_value(op) != 0 && json_integer_value(op) != 1)) {
        dg_err_set(err, DG_ERR_INPUT, "proposal: tx.operation is not 0 (call) or 1 (delegatecall)");
    } else if (!json_is_array(sigs)) {
        dg_err_set(err, DG_ERR_INPUT, "proposal: signatures is missing or not an array");
    } else if (jaddr(j, "safe", "", out->safe, err) && jaddr(tx, "to", "tx.", t->to, err) &&
               ju256(tx, "value", &t->value, err) && (data = jstr(tx, "data", "tx.", err)) &&
               ju256(tx, "safeTxGas", &t->safe_tx_gas, err) &&
               ju256(tx, "baseGas", &t->base_gas, err) &&
               ju256(tx, "gasPrice", &t->gas_price, err) &&
               jaddr(tx, "gasToken", "tx.", t->gas_token, err) &&
               jaddr(tx, "refundReceiver", "tx.", t->refund_receiver, err) &&
               ju256(tx, "nonce", &t->nonce, err) && jhex(j, "safeTxHash", "", stated, 32, err)) {
        ok = 1;
        if (!dg_hex_decode_var(data, strlen(data), &t->data, err))
            ok = dg_err_wrap(err, "proposal: tx.data");
    }
    if (ok) {
        out->chain_id = (uint64_t)json_integer_value(cid);
        t->operation = (uint8_t)json_integer_value(op);
        desc = json_string_value(json_object_get(j, "description"));
        snprintf(out->description, sizeof out->description, "%s", desc ? desc : "");
        dg_safe_tx_hash(out->chain_id, out->safe, t, want);
        memcpy(out->hash, want, 32);
        if (memcmp(stated, want, 32) != 0) {
            char a[67], b[67];
            dg_hex_encode_0x(stated, 32, a);
            dg_hex_encode_0x(want, 32, b);
            ok = dg_err_set(err, DG_ERR_PROPOSAL,
                            "proposal: safeTxHash %s does not match the proposal's content (%s): "
                            "edited after it was made?",
                            a, b);
        }
    }
    size_t n = ok ? json_array_size(sigs) : 0;
    if (ok && n) {
        out->sigs = calloc(n, sizeof *out->sigs);
        if (!out->sigs) ok = dg_err_set(err, DG_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; ok && i < n; i++) {
        const json_t *s = json_array_get(sigs, i);
        char where[48];
        snprintf(where, sizeof where, "signatures[%zu].", i);
        ok = json_is_object(s)
                 ? jaddr(s, "signer", where, out->sigs[i].signer, err) &&
                       jhex(s, "signature", where, out->sigs[i].sig, 65, err)
                 : dg_err_set(err, DG_ERR_INPUT, "proposal: %s is not an object", where);
        out->nsigs = i + 1;
    }
    if (ok) ok = dg_safe_signatures_check(out->hash, out->sigs, out->nsigs, NULL, 0, 0, NULL, err);
    if (!ok) dg_safe_proposal_free(out);
    return ok;
}

int dg_safe_proposal_sign(dg_safe_proposal *p, const uint8_t priv[32], dg_err *err) {
    uint8_t me[20], sig[65];
    if (!dg_eth_address_from_priv(priv, me, err) || !dg_safe_sign(priv, p->hash, sig, err))
        return 0;
    size_t i = 0;
    while (i < p->nsigs && memcmp(p->sigs[i].signer, me, 20) != 0)
        i++;
    if (i == p->nsigs) {
        dg_safe_sig *g = realloc(p->sigs, (p->nsigs + 1) * sizeof *g);
        if (!g) return dg_err_set(err, DG_ERR_NOMEM, "out of memory");
        p->sigs = g;
        p->nsigs++;
    }
    memcpy(p->sigs[i].signer, me, 20);
    memcpy(p->sigs[i].sig, sig, 65);
    return 1;
}

json_t *dg_safe_tx_builder_json(uint64_t chain_id, const uint8_t safe[20], const char *name,
                                const dg_owner_call *calls, size_t n) {
    char cid[24];
    snprintf(cid, sizeof cid, "%llu", (unsigned long long)chain_id);
    json_t *txs = json_array();
    for (size_t i = 0; txs && i < n; i++)
        json_array_append_new(txs, json_pack("{s:o,s:o,s:o,s:n,s:n}", "to", json_addr(calls[i].to),
                                             "value", json_dec(calls[i].value), "data",
                                             dg_eth_json_bytes(calls[i].data, calls[i].len),
                                             "contractMethod", "contractInputsValues"));
    return json_pack("{s:s,s:s,s:{s:s,s:s,s:o},s:o}", "version", "1.0", "chainId", cid, "meta",
                     "name", name ? name : "dstack-gov", "description",
                     "made by dstack-gov; load it in Safe{Wallet}'s Transaction Builder",
                     "createdFromSafeAddress", json_addr(safe), "transactions", txs);
}

/* ------------------------------------------------------------------ timelock */

/* (targets, values, payloads) of an operation as ABI values: scalars for one
 * call, arrays for a batch; `first` is where the three go in `args`. */
static int op_values(const dg_timelock_op *op, dg_abi_value *args, size_t first) {
    if (op->n == 1) {
        dg_abi_address(&args->items[first], op->calls[0].to);
        dg_abi_uint256(&args->items[first + 1], op->calls[0].value);
        return dg_abi_bytes(&args->items[first + 2], op->calls[0].data, op->calls[0].len);
    }
    if (!dg_abi_array(&args->items[first], op->n) ||
        !dg_abi_array(&args->items[first + 1], op->n) ||
        !dg_abi_array(&args->items[first + 2], op->n))
        return 0;
    for (size_t i = 0; i < op->n; i++) {
        dg_abi_address(&args->items[first].items[i], op->calls[i].to);
        dg_abi_uint256(&args->items[first + 1].items[i], op->calls[i].value);
        if (!dg_abi_bytes(&args->items[first + 2].items[i], op->calls[i].data, op->calls[i].len))
            return 0;
    }
    return 1;
}

/* Encode (targets, values, payloads, predecessor, salt[, extra]) with
 * `single` or `batch` as the signature (NULL: abi.encode with the types). */
static int op_encode(const dg_timelock_op *op, const char *single, const char *batch,
                     const uint64_t *extra, dg_buf *out, dg_err *err) {
    if (op->n == 0) return dg_err_set(err, DG_ERR_INPUT, "timelock: no call in the operation");
    dg_abi_value a;
    memset(&a, 0, sizeof a);
    int ok = dg_abi_tuple(&a, extra ? 6 : 5) && op_values(op, &a, 0);
    if (ok) {
        dg_abi_bytes32(&a.items[3], op->predecessor);
        dg_abi_bytes32(&a.items[4], op->salt);
        if (extra) dg_abi_uint64(&a.items[5], *extra);
    }
    if (!ok) dg_err_set(err, DG_ERR_NOMEM, "out of memory");
    const char *sig = op->n == 1 ? single : batch;
    ok = ok && (sig[0] == '(' ? dg_abi_encode_types(out, sig, &a, err)
                              : dg_abi_encode_call(out, sig, &a, err));
    dg_abi_value_free(&a);
    return ok;
}

int dg_timelock_id(const dg_timelock_op *op, uint8_t id[32], dg_err *err) {
    dg_buf b;
    dg_buf_init(&b);
    int ok = op_encode(op, "(address,uint256,bytes,bytes32,bytes32)",
                       "(address[],uint256[],bytes[],bytes32,bytes32)", NULL, &b, err);
    if (ok) dg_keccak256(b.data, b.len, id);
    dg_buf_free(&b);
    return ok;
}

int dg_timelock_schedule_calldata(const dg_timelock_op *op, uint64_t delay, dg_buf *out,
                                  dg_err *err) {
    return op_encode(op, "schedule(address,uint256,bytes,bytes32,bytes32,uint256)",
                     "scheduleBatch(address[],uint256[],bytes[],bytes32,bytes32,uint256)", &delay,
                     out, err);
}

int dg_timelock_execute_calldata(const dg_timelock_op *op, dg_buf *out, dg_err *err) {
    return op_encode(op, "execute(address,uint256,bytes,bytes32,bytes32)",
                     "executeBatch(address[],uint256[],bytes[],bytes32,bytes32)", NULL, out, err);
}

int dg_timelock_cancel_calldata(const uint8_t id[32], dg_buf *out, dg_err *err) {
    dg_abi_value a;
    memset(&a, 0, sizeof a);
    int ok = dg_abi_tuple(&a, 1);
    if (ok) dg_abi_bytes32(&a.items[0], id);
    if (!ok) dg_err_set(err, DG_ERR_NOMEM, "out of memory");
    ok = ok && dg_abi_encode_call(out, "cancel(bytes32)", &a, err);
    dg_abi_value_free(&a);
    return ok;
}

int dg_timelock_read(dg_rpc *rpc, const uint8_t timelock[20], const uint8_t id[32],
                     uint64_t *min_delay, dg_timelock_state *state, uint64_t *ready_at,
                     uint64_t *now, dg_err *err) {
    static const char *const sigs[] = {"getMinDelay()", "getOperationState(bytes32)",
                                       "getTimestamp(bytes32)"};
    dg_rpc_req r[4];
    memset(r, 0, sizeof r);
    for (int i = 0; i < 3; i++) {
        json_t *o = call_obj(timelock, sigs[i]);
        if (i > 0) {
            uint8_t d[36];
            dg_abi_selector(sigs[i], d);
            memcpy(d + 4, id, 32);
            json_object_set_new(o, "data", dg_eth_json_bytes(d, 36));
        }
        r[i].method = "eth_call";
        r[i].params = json_pack("[o,s]", o, "latest");
    }
    r[3].method = "eth_getBlockByNumber";
    r[3].params = json_pack("[s,b]", "latest", 0);
    int ok = dg_eth_batch(rpc, r, 4, err);
    dg_buf b[3];
    for (int i = 0; i < 3; i++)
        dg_buf_init(&b[i]);
    uint64_t v[3] = {0, 0, 0};
    for (int i = 0; ok && i < 3; i++) {
        if (!result_bytes(&r[i], &b[i]) || b[i].len != 32 ||
            !dg_u256_to_u64(dg_u256_from_be(b[i].data), &v[i])) {
            char s[43];
            dg_address_checksum(timelock, s);
            ok = dg_err_set(err, DG_ERR_NO_CODE,
                            "no TimelockController at %s: %s did not answer (wrong address or "
                            "network?)",
                            s, sigs[i]);
        }
    }
    uint64_t ts = 0;
    if (ok &&
        (!r[3].ok || !dg_eth_quantity_u64(json_object_get(r[3].result, "timestamp"), &ts, err)))
        ok = dg_err_set(err, DG_ERR_RPC_RESPONSE, "timelock: the latest block has no timestamp");
    if (ok) {
        if (min_delay) *min_delay = v[0];
        if (state) *state = v[1] <= DG_TL_DONE ? (dg_timelock_state)v[1] : DG_TL_UNSET;
        if (ready_at) *ready_at = v[2] > 1 ? v[2] : 0; /* 1 is OpenZeppelin's "done" mark */
        if (now) *now = ts;
    }
    for (int i = 0; i < 3; i++)
        dg_buf_free(&b[i]);
    dg_rpc_req_clear(r, 4);
    return ok;
}

const char *dg_timelock_state_name(dg_timelock_state s) {
    static const char *const names[] = {"unset", "waiting", "ready", "done"};
    return (unsigned)s < 4 ? names[s] : "unknown";
}
