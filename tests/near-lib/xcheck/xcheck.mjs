// xcheck.mjs — lib/near's signed transactions against near-api-js's, byte for
// byte: fixed cases (every action the governance flow uses, several actions
// in one transaction, edge values) and random ones, same inputs on both
// sides. Keys are random seeds made for this run (test keys only).
// Usage: node xcheck.mjs <txsign binary> [random cases]
// Prints one line per failing case and a closing "N passed, N failed".
import { spawn } from "node:child_process";
import { createHash, createPrivateKey, createPublicKey, randomBytes } from "node:crypto";
import { createInterface } from "node:readline";
import {
  KeyPair, actions, createTransaction, encodeTransaction, SignedTransaction, Signature, baseEncode,
} from "near-api-js";

const bin = process.argv[2];
const nrandom = Number(process.argv[3] ?? 200);
let passed = 0, failed = 0;

const U128MAX = (1n << 128n) - 1n, U64MAX = (1n << 64n) - 1n;
const rnd = (n) => randomBytes(n);
const rint = (n) => Math.floor(Math.random() * n);
const hex = (b) => Buffer.from(b).toString("hex");
const alnum = "abcdefghijklmnopqrstuvwxyz0123456789";
function word(len) { let s = ""; for (let i = 0; i < len; i++) s += alnum[rint(alnum.length)]; return s; }
function account() {
  const parts = 1 + rint(3), out = [];
  for (let i = 0; i < parts; i++) out.push(word(2 + rint(8)) + (rint(4) === 0 ? "-" + word(1 + rint(4)) : ""));
  return out.join(".");
}
function bigrand(bits) { return BigInt("0x" + hex(rnd(Math.ceil(bits / 8)))) & ((1n << BigInt(bits)) - 1n); }

// one case: the JSON for txsign and the near-api-js actions
function makeAction(kind) {
  switch (kind) {
    case "create": return [{ t: "create" }, actions.createAccount()];
    case "transfer": { const d = [0n, 1n, U128MAX, bigrand(128)][rint(4)]; return [{ t: "transfer", deposit: d.toString() }, actions.transfer(d)]; }
    case "deploy": { const c = rnd(1 + rint(300)); /* lib/near refuses empty code */ return [{ t: "deploy", code: hex(c) }, actions.deployContract(new Uint8Array(c))]; }
    case "call": {
      const m = ["new", "add_os_image_hash", "register_app", word(1 + rint(30))][rint(4)];
      const a = Buffer.from(JSON.stringify({ x: word(rint(40)) }));
      const g = [0n, 300n * 10n ** 12n, U64MAX, bigrand(64)][rint(4)], d = [0n, 1n, U128MAX, bigrand(128)][rint(4)];
      return [{ t: "call", method: m, args: hex(a), gas: g.toString(), deposit: d.toString() }, actions.functionCall(m, new Uint8Array(a), g, d)];
    }
    case "add_full": { const k = KeyPair.fromRandom("ed25519").getPublicKey(); return [{ t: "add_key", pk: hex(k.data) }, actions.addFullAccessKey(k)]; }
    case "add_fc": {
      const k = KeyPair.fromRandom("ed25519").getPublicKey(), r = account();
      const ms = Array.from({ length: rint(4) }, () => word(1 + rint(12)));
      const al = rint(2) ? bigrand(128) : undefined;
      return [{ t: "add_key", pk: hex(k.data), fc: { receiver: r, methods: ms, allowance: al === undefined ? null : al.toString() } },
              actions.addFunctionCallAccessKey(k, r, ms, al)];
    }
    case "delete": { const k = KeyPair.fromRandom("ed25519").getPublicKey(); return [{ t: "delete_key", pk: hex(k.data) }, actions.deleteKey(k)]; }
  }
}
const KINDS = ["create", "transfer", "deploy", "call", "add_full", "add_fc", "delete"];

function makeCase(kinds) {
  const seed = rnd(32);
  const kp = KeyPair.fromString("ed25519:" + baseEncode(Buffer.concat([seed, publicOf(seed)])));
  const signer = account(), receiver = account();
  const nonce = [0n, 1n, U64MAX, bigrand(64)][rint(4)], bh = rnd(32);
  const pairs = kinds.map(makeAction);
  const tx = createTransaction(signer, kp.getPublicKey(), receiver, nonce, pairs.map((p) => p[1]), new Uint8Array(bh));
  const bytes = encodeTransaction(tx);
  const hash = createHash("sha256").update(bytes).digest();
  const s = kp.sign(new Uint8Array(hash));
  const data = s instanceof Uint8Array ? s : s.signature;
  const stx = new SignedTransaction({ transaction: tx, signature: new Signature({ keyType: 0, data }) });
  return {
    input: JSON.stringify({ seed: hex(seed), signer, receiver, nonce: nonce.toString(), block_hash: hex(bh), actions: pairs.map((p) => p[0]) }),
    want: Buffer.from(encodeTransaction(stx)).toString("base64"),
    what: `${kinds.join("+")} ${signer}->${receiver}`,
  };
}

// the ed25519 public key of a seed, through Node's OpenSSL (a third implementation)
function publicOf(seed) {
  const der = Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), seed]);
  const pub = createPublicKey(createPrivateKey({ key: der, format: "der", type: "pkcs8" }));
  return pub.export({ format: "der", type: "spki" }).subarray(-32);
}

const cases = [
  // the governance flow's transactions
  makeCase(["create", "transfer", "add_full"]),
  makeCase(["deploy", "call"]),
  makeCase(["call"]),
  makeCase(["transfer"]),
  makeCase(["add_fc"]),
  makeCase(["delete"]),
  makeCase(KINDS),
];
for (let i = 0; i < nrandom; i++) cases.push(makeCase(Array.from({ length: 1 + rint(5) }, () => KINDS[rint(KINDS.length)])));

const child = spawn(bin, [], { stdio: ["pipe", "pipe", "inherit"] });
const rl = createInterface({ input: child.stdout });
const answers = [];
rl.on("line", (l) => answers.push(l));
for (const c of cases) child.stdin.write(c.input + "\n");
child.stdin.end();
await new Promise((r) => child.on("exit", r));
cases.forEach((c, i) => {
  if (answers[i] === c.want) passed++;
  else { failed++; console.log(`FAIL ${c.what}: ${answers[i]?.slice(0, 120)} vs ${c.want.slice(0, 120)}`); }
});
console.log(`near-lib-xcheck: ${cases.length} signed transactions compared with near-api-js`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
