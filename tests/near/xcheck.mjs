// xcheck.mjs — nemu-rpc against an independent NEAR implementation (near-api-js).
//
// near-api-js builds, borsh-encodes and signs the transactions and parses the
// replies with its own JsonRpcProvider; nemu-rpc (the emulator behind NEAR
// JSON-RPC) must accept what it sends and answer in shapes it understands.
// Keys are random, made for this run only. Usage: node xcheck.mjs <nemu-rpc binary>
// Prints one line per check and a closing "N passed, N failed". A client that
// throws where a check expects success (or crashes while parsing an error it
// should understand) is a FAILURE: every check asserts behaviour.
import { createHash } from "node:crypto";
import {
  JsonRpcProvider, KeyPair, actions, createTransaction, encodeTransaction, SignedTransaction,
  Signature, baseDecode, baseEncode, Account, KeyPairSigner,
} from "near-api-js";
import { readFileSync } from "node:fs";
import { spawnNemu } from "./nemu-spawn.mjs";

let passed = 0, failed = 0;
const js = (v) => JSON.stringify(v, (_, x) => (typeof x === "bigint" ? x.toString() : x));
function check(name, ok, detail) {
  if (ok) { passed++; console.log(`ok   ${name}`); }
  else { failed++; console.log(`FAIL ${name}${detail ? ": " + detail : ""}`); }
}

const bin = process.argv[2];
const wasmDir = process.argv[3];
// blocks every 50 ms and a short validity period, so expiry is seen in a second
const { srv, url } = await spawnNemu(bin, ["--block-ms", "50", "--validity-blocks", "20"]);

async function rpc(method, params) {
  const r = await fetch(url, {
    method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: "x", method, params }),
  });
  return r.json();
}

const provider = new JsonRpcProvider({ url });

// step: an awaited client call that must succeed; a throw is a FAILURE
async function step(name, fn, ok = () => true) {
  try {
    const v = await fn();
    const good = await ok(v);
    check(name, good, good ? "" : js(v));
    return v;
  } catch (e) {
    check(name, false, `client threw: ${e.stack ?? e}`);
    return undefined;
  }
}
// fails: a call that must throw an error whose message contains `want`
async function fails(name, fn, want) {
  try { const v = await fn(); check(name, false, `no error: ${js(v)}`); }
  catch (e) { const m = String(e.message ?? e); check(name, m.includes(want) && !m.includes("Cannot use"), m); }
}

// The guide's NEAR flow with near-api-js's Account, unmodified, on nemu-rpc.
async function guideFlow() {
  const NEARn = 10n ** 24n;
  const hex = (c, n) => c.repeat(n);
  const opsKey = KeyPair.fromRandom("ed25519"), kmsKey = KeyPair.fromRandom("ed25519");
  await rpc("nemu_create_account", { account_id: "ops.test", balance: (1000n * NEARn).toString(),
                                      public_key: opsKey.getPublicKey().toString() });
  const ops = new Account("ops.test", provider, new KeyPairSigner(opsKey));
  const kmsId = "kms.ops.test";
  await step("create the KMS account (CreateAccount + Transfer + AddKey)", () =>
    ops.createSubAccount({ accountOrPrefix: kmsId, publicKey: kmsKey.getPublicKey(), nearToTransfer: 5n * NEARn }));
  const kms = new Account(kmsId, provider, new KeyPairSigner(kmsKey));
  await step("deploy kms.wasm", () => kms.deployContract(readFileSync(`${wasmDir}/kms.wasm`)));
  await step("new", () => kms.callFunction({ contractId: kmsId, methodName: "new",
    args: { owner_id: "ops.test", mpc_contract_id: "v1.signer", mpc_domain_id: 2 }, gas: 30n * TGAS }));
  const os = hex("a", 64), dev = hex("d", 64), mr = hex("e", 64), compose = hex("c", 64);
  const pinned = await provider.viewBlock({ finality: "optimistic" });
  const bal0 = BigInt((await provider.viewAccount({ accountId: "ops.test" })).amount);
  const r = await step("add OS image (1 yocto)", () => ops.callFunctionRaw({ contractId: kmsId,
    methodName: "add_os_image_hash", args: { os_image_hash: os }, deposit: 1n, gas: 30n * TGAS }));
  const bal1 = BigInt((await provider.viewAccount({ accountId: "ops.test" })).amount);
  const burnt = (r?.receipts_outcome ?? []).reduce((a, x) => a + BigInt(x.outcome.tokens_burnt), 0n) +
                BigInt(r?.transaction_outcome?.outcome?.tokens_burnt ?? 0);
  check("gas is charged: the signer paid 1 yocto plus exactly the tokens burnt", burnt > 0n &&
        bal0 - bal1 === burnt + 1n, `${bal0 - bal1} vs ${burnt}`);
  await step("views pinned to a block hash see that block's state", async () => [
    await provider.callFunction({ contractId: kmsId, method: "is_os_image_allowed", args: { os_image_hash: os },
                                  blockQuery: { blockId: pinned.header.hash } }),
    await provider.callFunction({ contractId: kmsId, method: "is_os_image_allowed", args: { os_image_hash: os } })],
    (v) => v[0] === false && v[1] === true);
  for (const [m, a] of [["add_kms_device", { device_id: dev }], ["add_kms_aggregated_mr", { mr_aggregated: mr }],
                        ["add_kms_compose_hash", { compose_hash: compose }], ["set_gateway_app_id", { app_id: hex("9", 40) }]])
    await step(`${m}`, () => ops.callFunction({ contractId: kmsId, methodName: m, args: a, deposit: 1n, gas: 30n * TGAS }));
  const appId = hex("1", 40), appAcc = `${appId}.${kmsId}`;
  const before = BigInt((await provider.viewAccount({ accountId: "ops.test" })).amount);
  await step("register app with the guide's --deposit 30", () => ops.callFunction({ contractId: kmsId,
    methodName: "register_app", args: { app_id: appId, owner_id: "ops.test", disable_upgrades: false,
    allow_any_device: false, initial_device_id: null, initial_compose_hash: compose },
    deposit: 30n * NEARn, gas: 150n * TGAS }), (v) => v === true);
  const after = BigInt((await provider.viewAccount({ accountId: "ops.test" })).amount);
  check("registration kept well under 1 NEAR of the 30 attached", before - after < NEARn / 2n,
        `${before - after}`);
  await step("app add_compose_hash", () => ops.callFunction({ contractId: appAcc, methodName: "add_compose_hash",
    args: { compose_hash: hex("b", 64) }, deposit: 1n, gas: 30n * TGAS }));
  await step("app add_device", () => ops.callFunction({ contractId: appAcc, methodName: "add_device",
    args: { device_id: dev }, deposit: 1n, gas: 30n * TGAS }));
  await step("app set_allow_any_device {allow}", () => ops.callFunction({ contractId: appAcc,
    methodName: "set_allow_any_device", args: { allow: false }, deposit: 1n, gas: 30n * TGAS }));
  const boot = (d) => ({ boot_info: { app_id: appId, compose_hash: compose, instance_id: "", device_id: d,
    mr_aggregated: mr, mr_system: "", os_image_hash: os, tcb_status: "UpToDate", advisory_ids: [] } });
  await step("views: is_app_registered, is_app_allowed, is_kms_allowed, gateway", async () => [
    await provider.callFunction({ contractId: kmsId, method: "is_app_registered", args: { app_id: appId } }),
    await provider.callFunction({ contractId: appAcc, method: "is_app_allowed", args: boot(dev) }),
    await provider.callFunction({ contractId: appAcc, method: "is_app_allowed", args: boot(hex("f", 64)) }),
    await provider.callFunction({ contractId: kmsId, method: "is_kms_allowed", args: boot(dev) }),
    await provider.callFunction({ contractId: kmsId, method: "get_gateway_app_id", args: {} })],
    (v) => js(v) === js([true, [true, ""], [false, "Device not allowed"], [true, ""], hex("9", 40)]));
  await fails("a failing call is a proper error (contract panic text)", () => ops.callFunction({
    contractId: kmsId, methodName: "add_os_image_hash", args: { os_image_hash: "0x12" }, deposit: 1n,
    gas: 30n * TGAS }), "Invalid os_image_hash: expected 64 hex digits");
  await fails("a failing view is a proper error", () => provider.callFunction({ contractId: appAcc,
    method: "is_app_allowed", args: {} }), "missing field `boot_info`");
  let ename = "";
  try { await ops.addFullAccessKey(opsKey.getPublicKey()); } catch (e) { ename = `${e.constructor.name}: ${e.message}`; }
  check("an action error parses into near-api-js's typed error (AddKeyAlreadyExists)",
        ename.startsWith("AddKeyAlreadyExists"), ename);
  // stale nonce: a second client uses the key meanwhile; near-api-js recovers on its own
  const other = new Account("ops.test", provider, new KeyPairSigner(opsKey));
  await step("a second client sends with the same key", async () => {
    await other.transfer({ receiverId: kmsId, amount: 1n });
    return other.transfer({ receiverId: kmsId, amount: 1n });
  });
  await step("near-api-js recovers from its stale nonce (InvalidNonce, retry)", () =>
    ops.transfer({ receiverId: kmsId, amount: 1n }), (v) => v?.status?.SuccessValue === "");
  const st = await step("status: chain_id, genesis hash, latest block", () => provider.viewNodeStatus(),
    (v) => v.chain_id === "localnet" && v.genesis_hash?.length >= 32 && v.sync_info?.latest_block_height > 0);
  await step("EXPERIMENTAL_protocol_config", () => provider.experimental_protocolConfig({ finality: "final" }),
    (v) => v.transaction_validity_period === 20 && v.runtime_config?.storage_amount_per_byte === "10000000000000000000");
  const h = r?.transaction_outcome?.id;
  await step("EXPERIMENTAL_tx_status lists the receipts", () => provider.viewTransactionStatusWithReceipts({
    txHash: h, accountId: "ops.test", waitUntil: "FINAL" }),
    (v) => v.final_execution_status === "FINAL" && Array.isArray(v.receipts) && v.receipts.length > 0);
  // expiry: a transaction naming a block older than transaction_validity_period
  const old = await provider.viewBlock({ finality: "optimistic" });
  await new Promise((res) => setTimeout(res, 1500));
  const akv = await provider.viewAccessKey({ accountId: "ops.test", publicKey: opsKey.getPublicKey().toString() });
  const tx = createTransaction("ops.test", opsKey.getPublicKey(), kmsId, BigInt(akv.nonce) + 1n,
                               [actions.transfer(1n)], baseDecode(old.header.hash));
  const hash = createHash("sha256").update(encodeTransaction(tx)).digest();
  const sg = opsKey.sign(new Uint8Array(hash));
  const stx = new SignedTransaction({ transaction: tx, signature: new Signature({ keyType: 0,
    data: sg instanceof Uint8Array ? sg : sg.signature }) });
  await fails("an expired transaction is refused (Expired)", () => provider.sendTransaction(stx), "xpired");
  const a = await rpc("broadcast_tx_async", [Buffer.from(encodeTransaction(stx)).toString("base64")]);
  check("broadcast_tx_async answers the hash", a.result === baseEncode(hash), js(a));
  void st;
}
const NEAR = 10n ** 24n;
const TGAS = 10n ** 12n;

try {
  const kp = KeyPair.fromRandom("ed25519");
  const pk = kp.getPublicKey();
  await rpc("nemu_create_account", { account_id: "signer.test", balance: (10n * NEAR).toString(), public_key: pk.toString() });
  await rpc("nemu_create_account", { account_id: "probe.test", balance: (10n * NEAR).toString() });
  const dep = await rpc("nemu_deploy", { account_id: "probe.test", module: "probe" });
  check("setup over the test methods", dep.result === true, js(dep));

  const ak = await provider.viewAccessKey({ accountId: "signer.test", publicKey: pk.toString() });
  check("viewAccessKey parses (nonce 0, FullAccess)", ak.nonce == 0 && ak.permission === "FullAccess", js(ak));
  // blocks advance with time, by height and hash
  const b1 = await provider.viewBlock({ finality: "optimistic" });
  await new Promise((r) => setTimeout(r, 200));
  const bf = await provider.viewBlock({ finality: "final" });
  const b2 = await provider.viewBlock({ finality: "optimistic" });
  const bh = await provider.viewBlock({ blockId: b1.header.hash });
  check("blocks advance with time; final lags optimistic by 2; block by hash",
        b2.header.height > b1.header.height && b2.header.height - bf.header.height >= 2 &&
        b2.header.height - bf.header.height <= 3 &&
        bh.header.height === b1.header.height, js([b1.header, b2.header, bf.header.height]));

  const acct = await provider.viewAccount({ accountId: "probe.test" });
  check("viewAccount parses", BigInt(acct.amount) === 10n * NEAR && acct.storage_usage > 0, js(acct));

  let nonce = 0n;
  async function send(actionList, receiver = "probe.test", key = kp, keyNonce = null) {
    const blk = await rpc("block", { finality: "final" });
    const n = keyNonce ?? ++nonce;
    const tx = createTransaction("signer.test", key.getPublicKey(), receiver, n, actionList, baseDecode(blk.result.header.hash));
    const bytes = encodeTransaction(tx);
    const hash = createHash("sha256").update(bytes).digest();
    const signed = key.sign(new Uint8Array(hash));
    const data = signed instanceof Uint8Array ? signed : signed.signature;
    const stx = new SignedTransaction({ transaction: tx, signature: new Signature({ keyType: 0, data }) });
    const b64 = Buffer.from(encodeTransaction(stx)).toString("base64");
    const reply = await rpc("send_tx", { signed_tx_base64: b64, wait_until: "FINAL" });
    return { reply, hash: baseEncode(hash) };
  }

  let { reply, hash } = await send([actions.functionCall("set", new TextEncoder().encode("k v"), 30n * TGAS, 0n)]);
  check("a near-api-js FunctionCall is accepted and runs", reply.result?.status?.SuccessValue === "MA==", js(reply));
  check("the tx hash is sha256 of near-api-js's borsh", reply.result?.transaction?.hash === hash,
        `${reply.result?.transaction?.hash} vs ${hash}`);

  const v = await provider.callFunction({ contractId: "probe.test", method: "get", args: new TextEncoder().encode("k") });
  check("callFunction reads what the transaction wrote", v === "v" || (v && new TextDecoder().decode(v) === "v") || String(v) === "v",
        js(v));

  ({ reply } = await send([actions.transfer(NEAR)], "probe.test"));
  const after = await provider.viewAccount({ accountId: "probe.test" });
  check("a Transfer action moves the balance", reply.result && BigInt(after.amount) === 11n * NEAR, js(after));

  // AddKey with a function-call permission, decoded from near-api-js's borsh
  const fkp = KeyPair.fromRandom("ed25519");
  ({ reply } = await send([actions.addFunctionCallAccessKey(fkp.getPublicKey(), "probe.test", ["echo"], NEAR)], "signer.test"));
  const fak = await provider.viewAccessKey({ accountId: "signer.test", publicKey: fkp.getPublicKey().toString() });
  const perm = fak.permission?.FunctionCall;
  check("AddKey(FunctionCall) round-trips", perm && perm.receiver_id === "probe.test" && perm.method_names?.[0] === "echo" &&
        BigInt(perm.allowance) === NEAR, js(fak));

  // like a real client: the new key's nonce comes from view_access_key ((height - 1) × 10^6 on NEAR)
  const fnonce = BigInt(fak.nonce);
  check("a new key's nonce follows the block height", fnonce > 0n && fnonce % 1000000n === 0n, String(fak.nonce));
  ({ reply } = await send([actions.functionCall("echo", new TextEncoder().encode("x"), 30n * TGAS, 1n)], "probe.test", fkp, fnonce + 1n));
  check("a function-call key cannot attach a deposit", js(reply.error ?? {}).includes("DepositWithFunctionCall"),
        js(reply));
  ({ reply } = await send([actions.functionCall("echo", new TextEncoder().encode("x"), 30n * TGAS, 0n)], "probe.test", fkp, fnonce + 2n));
  check("a function-call key calls its method", reply.result?.status?.SuccessValue === Buffer.from("x").toString("base64"),
        js(reply));

  check("outcomes carry receipt ids, block hash, gas and tokens burnt, metadata, actions, signature",
        Array.isArray(reply.result?.receipts_outcome?.[0]?.outcome?.receipt_ids) &&
        reply.result?.transaction_outcome?.block_hash?.length >= 32 &&
        BigInt(reply.result?.transaction_outcome?.outcome?.tokens_burnt ?? 0) > 0n &&
        reply.result?.transaction_outcome?.outcome?.metadata?.version === 1 &&
        reply.result?.transaction?.actions?.[0]?.FunctionCall?.method_name === "echo" &&
        reply.result?.transaction?.signature?.startsWith("ed25519:"), js(reply.result));
  ({ reply } = await send([actions.functionCall("panic_msg", new TextEncoder().encode("boom"), 30n * TGAS, 0n)]));
  check("a panic is an ExecutionError",
        reply.result?.status?.Failure?.ActionError?.kind?.FunctionCallError?.ExecutionError === "Smart contract panicked: boom",
        js(reply));

  // near-api-js's own sendTransaction with a reused nonce: the node's InvalidNonce
  ({ reply } = await send([actions.transfer(1n)], "probe.test", kp, 1n));
  check("a reused nonce is refused with nearcore's InvalidNonce",
        reply.error?.cause?.name === "INVALID_TRANSACTION" &&
        reply.error?.data?.TxExecutionError?.InvalidTxError?.InvalidNonce?.tx_nonce === 1, js(reply));

  let msg = "";
  try { await provider.callFunction({ contractId: "probe.test", method: "panic_msg", args: new TextEncoder().encode("view boom") }); }
  catch (e) { msg = String(e.message ?? e); }
  check("a failing view surfaces the VM error through near-api-js", msg.includes("view boom") &&
        !msg.includes("Cannot use"), msg);

  await guideFlow();
} catch (e) {
  check("no client exception", false, e.stack ?? String(e));
} finally {
  srv.kill("SIGTERM");
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
