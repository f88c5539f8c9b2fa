/* devnet_safe.c — `devnet up --safe K/N`: a real Safe 1.4.1 owning the devnet's KMS.
 *
 * One idea: the devnet's Safe is the production one, not a stand-in. The
 * contracts are the compiled artifacts of the pinned npm package
 * @safe-global/safe-contracts (Safe singleton, SafeProxyFactory,
 * MultiSendCallOnly, CompatibilityFallbackHandler), deployed with the
 * library's send flow; the KMS is handed over the way an operator does it —
 * transferOwnership to the Safe, then acceptOwnership as a SafeTx signed by
 * K of the N owners and sent with execTransaction. The owners are anvil's
 * accounts 1..N: their PUBLIC TEST keys are read from anvil's own start-up
 * listing and written to mode-0600 files.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "devnet.h"
#include "dstackgov/hex.h"
#include "dstackgov/safe.h"
#include "dstackgov/secp.h"

#define ARTIFACTS "node_modules/@safe-global/safe-contracts/build/artifacts/contracts/"

/* Anvil account i's key from its log's "Private Keys" listing: "(i) 0x<64 hex>". */
static int anvil_key(const char *log, unsigned i, uint8_t priv[32], dg_err *err) {
    const char *p = strstr(log, "Private Keys");
    char tag[16];
    snprintf(tag, sizeof tag, "(%u) 0x", i);
    p = p ? strstr(p, tag) : NULL;
    if (!p || !dg_hex_decode(p + strlen(tag) - 2, 66, priv, 32, NULL))
        return dg_err_set(err, DG_ERR_INTERNAL, "anvil's log lists no private key %u", i);
    return 1;
}

static int deploy_artifact(dg_rpc *rpc, const uint8_t key[32], const char *name, uint8_t out[20],
                           dg_err *err) {
    char rel[256], path[PATH_MAX];
    snprintf(rel, sizeof rel, ARTIFACTS "%s", name);
    if (!devnet_find_file(rel, path, sizeof path))
        return dg_err_set(err, DG_ERR_CONFIG, "%s not found: run `make deps`", rel);
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    const char *hex = j ? json_string_value(json_object_get(j, "bytecode")) : NULL;
    dg_buf code;
    dg_buf_init(&code);
    int ok = hex && dg_hex_decode_var(hex, strlen(hex), &code, err);
    if (!ok && !err->code) dg_err_set(err, DG_ERR_CONFIG, "%s: no bytecode", path);
    dg_eth_receipt r;
    memset(&r, 0, sizeof r);
    ok =
        ok && dg_eth_transact(rpc, NULL, key, NULL, code.data, code.len, NULL, name, NULL, &r, err);
    if (ok) memcpy(out, r.contract_address, 20);
    if (ok) dg_eth_receipt_free(&r);
    dg_buf_free(&code);
    json_decref(j);
    return ok;
}

static int send_call(dg_rpc *rpc, const uint8_t key[32], const uint8_t to[20], const dg_buf *data,
                     const char *label, dg_eth_receipt *r, dg_err *err) {
    return dg_eth_transact(rpc, NULL, key, to, data->data, data->len, NULL, label, NULL, r, err);
}

int devnet_safe_up(const char *url, const char *dir, const char *anvil_log, const char *kms_s,
                   unsigned k, unsigned n, devnet_safe *out, dg_err *err) {
    const char *urls[1] = {url};
    dg_rpc *rpc = dg_rpc_new(urls, 1, NULL, err);
    if (!rpc) return 0;
    uint8_t deployer[32], owners[9][20], keys[9][32], kms[20], single[20], factory[20], handler[20];
    dg_buf data;
    dg_buf_init(&data);
    dg_abi_value a;
    memset(&a, 0, sizeof a);
    dg_eth_receipt r;
    memset(&r, 0, sizeof r);
    dg_safe_tx t;
    dg_safe_tx_init(&t);
    int ok = anvil_key(anvil_log, 0, deployer, err) && dg_address_parse(kms_s, kms, err);
    for (unsigned i = 0; ok && i < n; i++) {
        ok = anvil_key(anvil_log, i + 1, keys[i], err) &&
             dg_eth_address_from_priv(keys[i], owners[i], err);
        snprintf(out->key_files[i], sizeof out->key_files[i], "%s/safe-owner-%u.key", dir, i + 1);
        char hex[67];
        dg_hex_encode_0x(keys[i], 32, hex);
        int fd = ok ? open(out->key_files[i], O_WRONLY | O_CREAT | O_TRUNC, 0600) : -1;
        if (ok && (fd < 0 || write(fd, hex, 66) != 66 || fchmod(fd, 0600) != 0))
            ok = dg_err_set(err, DG_ERR_IO, "cannot write %s", out->key_files[i]);
        if (fd >= 0) close(fd);
        dg_address_checksum(owners[i], out->owners[i]);
    }
    ok = ok && deploy_artifact(rpc, deployer, "Safe.sol/Safe.json", single, err) &&
         deploy_artifact(rpc, deployer, "proxies/SafeProxyFactory.sol/SafeProxyFactory.json",
                         factory, err) &&
         deploy_artifact(rpc, deployer, "libraries/MultiSendCallOnly.sol/MultiSendCallOnly.json",
                         out->multisend, err) &&
         deploy_artifact(
             rpc, deployer,
             "handler/CompatibilityFallbackHandler.sol/CompatibilityFallbackHandler.json", handler,
             err);
    /* setup(owners, threshold, to, data, fallbackHandler, paymentToken, payment, receiver) */
    uint8_t zero[20] = {0};
    if (ok) ok = dg_abi_tuple(&a, 8) && dg_abi_array(&a.items[0], n);
    if (ok) {
        for (unsigned i = 0; i < n; i++)
            dg_abi_address(&a.items[0].items[i], owners[i]);
        dg_abi_uint64(&a.items[1], k);
        dg_abi_address(&a.items[2], zero);
        ok = dg_abi_bytes(&a.items[3], NULL, 0);
        dg_abi_address(&a.items[4], handler);
        dg_abi_address(&a.items[5], zero);
        dg_abi_uint64(&a.items[6], 0);
        dg_abi_address(&a.items[7], zero);
    }
    dg_buf init;
    dg_buf_init(&init);
    ok = ok && dg_abi_encode_call(&init,
                                  "setup(address[],uint256,address,bytes,address,address,uint256,"
                                  "address)",
                                  &a, err);
    dg_abi_value_free(&a);
    if (ok) ok = dg_abi_tuple(&a, 3);
    if (ok) {
        dg_abi_address(&a.items[0], single);
        ok = dg_abi_bytes(&a.items[1], init.data, init.len);
        dg_abi_uint64(&a.items[2], 0);
    }
    ok = ok && dg_abi_encode_call(&data, "createProxyWithNonce(address,bytes,uint256)", &a, err) &&
         send_call(rpc, deployer, factory, &data, "createProxyWithNonce", &r, err);
    dg_abi_value_free(&a);
    dg_buf_free(&init);
    if (ok) {
        uint8_t topic[32];
        size_t at = 0;
        dg_eth_event_topic("ProxyCreation(address,address)", topic);
        const dg_eth_log *l = dg_eth_find_log(&r, topic, factory, &at);
        if (!l || l->ntopics < 2)
            ok = dg_err_set(err, DG_ERR_RPC_RESPONSE,
                            "createProxyWithNonce logged no ProxyCreation");
        else
            memcpy(out->safe, l->topics[1] + 12, 20);
        dg_eth_receipt_free(&r);
    }
    /* hand the KMS over: transferOwnership, then acceptOwnership as a K-of-N SafeTx */
    dg_buf_free(&data);
    if (ok) ok = dg_abi_tuple(&a, 1);
    if (ok) dg_abi_address(&a.items[0], out->safe);
    ok = ok && dg_abi_encode_call(&data, "transferOwnership(address)", &a, err) &&
         send_call(rpc, deployer, kms, &data, "transferOwnership", &r, err);
    dg_abi_value_free(&a);
    if (ok) dg_eth_receipt_free(&r);
    dg_safe_info info;
    memset(&info, 0, sizeof info);
    dg_buf accept, sigs, exec;
    dg_buf_init(&accept);
    dg_buf_init(&sigs);
    dg_buf_init(&exec);
    dg_safe_sig s[9];
    uint8_t h[32];
    if (ok) {
        uint8_t sel[4];
        dg_abi_selector("acceptOwnership()", sel);
        ok = dg_buf_append(&accept, sel, 4) && dg_safe_read(rpc, out->safe, &info, err);
    }
    dg_owner_call call = {{0}, {{0}}, accept.data, accept.len};
    memcpy(call.to, kms, 20);
    ok = ok && dg_safe_tx_from_calls(&call, 1, NULL, &info.nonce, &t, err);
    if (ok) dg_safe_tx_hash(info.chain_id, out->safe, &t, h);
    for (unsigned i = 0; ok && i < k; i++) {
        memcpy(s[i].signer, owners[i], 20);
        ok = dg_safe_sign(keys[i], h, s[i].sig, err);
    }
    ok = ok &&
         dg_safe_signatures_check(h, s, k, (const uint8_t(*)[20])info.owners, info.nowners,
                                  info.threshold, &sigs, err) &&
         dg_safe_exec_calldata(&t, sigs.data, sigs.len, &exec, err) &&
         send_call(rpc, deployer, out->safe, &exec, "execTransaction (acceptOwnership)", &r, err);
    if (ok) {
        ok = dg_safe_exec_outcome(&r, out->safe, h, err);
        dg_eth_receipt_free(&r);
    }
    dg_safe_info_free(&info);
    dg_safe_tx_free(&t);
    dg_buf_free(&accept);
    dg_buf_free(&sigs);
    dg_buf_free(&exec);
    dg_buf_free(&data);
    memset(keys, 0, sizeof keys);
    memset(deployer, 0, sizeof deployer);
    dg_rpc_free(rpc);
    return ok;
}
