// xcheck.mjs — nemu-rpc against an independent NEAR implementation (near-api-js).
//
// near-api-js builds, borsh-encodes and signs the transactions and parses the
// replies with its own JsonRpcProvider; nemu-rpc (the emulator behind NEAR
// JSON-RPC) must accept what it sends and answer in shapes it understands.
// Keys are random, made for this run only. Usage: node xcheck.mjs <nemu-rpc binary>
// Prints one line per check and a closing "N passed, N failed".
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import {
  JsonRpcProvider, KeyPair, actions, createTransaction, encodeTransaction, SignedTransaction,
  Signature, baseDecode, baseEncode,
} from "near-api-js";

let passed = 0, failed = 0;
const js = (v) => JSON.stringify(v, (_, x) => (typeof x === "bigint" ? x.toString() : x));
function check(name, ok, detail) {
  if (ok) { passed++; console.log(`ok   ${name}`); }
  else { failed++; console.log(`FAIL ${name}${detail ? ": " + detail : ""}`); }
}

const bin = process.argv[2];
const srv = spawn(bin, ["--port", "0"], { stdio: ["ignore", "pipe", "inherit"] });
const url = await new Promise((resolve, reject) => {
  let out = "";
  srv.stdout.on("data", (d) => {
    out += d;
    const m = out.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
    if (m) resolve(m[1]);
  });
  srv.on("exit", (c) => reject(new Error(`nemu-rpc exited ${c}`)));
  setTimeout(() => reject(new Error("nemu-rpc did not start")), 5000);
});

async function rpc(method, params) {
  const r = await fetch(url, {
    method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: "x", method, params }),
  });
  return r.json();
}

const provider = new JsonRpcProvider({ url });
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

  ({ reply } = await send([actions.functionCall("panic_msg", new TextEncoder().encode("boom"), 30n * TGAS, 0n)]));
  check("a panic is an ExecutionError",
        reply.result?.status?.Failure?.ActionError?.kind?.FunctionCallError?.ExecutionError === "Smart contract panicked: boom",
        js(reply));

  // near-api-js's own sendTransaction with a reused nonce: the node's InvalidNonce
  ({ reply } = await send([actions.transfer(1n)], "probe.test", kp, 1n));
  check("a reused nonce is refused", js(reply.error ?? {}).includes("InvalidNonce"), js(reply));

  let threw = false;
  try { await provider.callFunction({ contractId: "probe.test", method: "panic_msg", args: new TextEncoder().encode("view boom") }); }
  catch (e) { threw = String(e.message ?? e).includes("view boom"); }
  check("a failing view surfaces the VM error through near-api-js", threw);
} catch (e) {
  check("no exception", false, e.stack ?? String(e));
} finally {
  srv.kill("SIGTERM");
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
