// mpc-e2e.mjs — suite near-mpc: request_kms_root_key end to end on nemu-rpc
// (an EMULATION of the NEAR runtime, not nearcore), through the emulated MPC
// network: the KMS test build (kms-test.wasm, test trust anchor) asks the MPC
// TEST DOUBLE (mpc-test.wasm), whose request yields until mpc-responder.mjs,
// playing the MPC nodes with a test master secret, answers with real
// BLS12-381 math (ckd.mjs, @noble/curves). Two attested workers with their
// own signer keys and ephemeral BLS keys each derive the root key on the KMS
// side and must get the same 32 bytes; a refused worker makes no MPC request;
// without an answer the request fails after NEAR's 200-block yield timeout.
// Transactions are signed by near-api-js with the workers' TEST keys (the
// fixture's workers C and D). Usage: node mpc-e2e.mjs <nemu-rpc> <fixture dir>
// Prints one line per check and "N passed, N failed".
import { readFileSync } from 'node:fs';
import { Account, JsonRpcProvider, KeyPair, KeyPairSigner, actions } from 'near-api-js';
import { appId, derive, ephemeral, mpkFromMsk } from './ckd.mjs';
import { startResponder } from './mpc-responder.mjs';
import { spawnNemu } from './nemu-spawn.mjs';

let passed = 0, failed = 0;
function check(name, ok, detail) {
  if (ok) { passed++; console.log(`ok   ${name}`); }
  else { failed++; console.log(`FAIL ${name}${detail ? ': ' + detail : ''}`); }
}

const [bin, fix] = process.argv.slice(2);
const { srv, url } = await spawnNemu(bin, ['--block-ms', '20']);

async function rpc(method, params) {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 'e2e', method, params }) });
  const j = await r.json();
  if (j.error) throw new Error(`${method}: ${JSON.stringify(j.error)}`);
  return j.result;
}
const view = async (account, method, args = {}) => JSON.parse(Buffer.from((await rpc('query', {
  request_type: 'call_function', finality: 'optimistic', account_id: account, method_name: method,
  args_base64: Buffer.from(JSON.stringify(args)).toString('base64') })).result).toString());
const setup = async (signer_id, receiver_id, method_name, args, deposit = '0') => {
  const r = await rpc('nemu_call', { signer_id, receiver_id, method_name, args, deposit });
  if (!r.status.SuccessValue && r.status.SuccessValue !== '') throw new Error(`${method_name}: ${JSON.stringify(r.status)}`);
};

const NEAR = 10n ** 24n, TGAS = 10n ** 12n;
const KMS = 'kms.test', OWNER = 'ops.test', MPC = 'v1.signer', RESPONDER = 'responder.test';
const MSK = 0x1d2c3b4a59687766554433221100ffeeddccbbaa99887766554433221100ffeen; // TEST master secret
const MPK = mpkFromMsk(MSK);
const fx = (name) => readFileSync(`${fix}/${name}`, 'utf8');
const workers = JSON.parse(fx('workers.json')); // TEST keys of workers C and D

try {
  await rpc('nemu_set_time', { unix_seconds: Number(fx('at')) });
  for (const [id, pk] of [[KMS], [OWNER], [MPC], [RESPONDER, 'r'], ['worker-c.test', workers.c.public_key],
    ['worker-d.test', workers.d.public_key]]) {
    if (pk === 'r') continue;
    await rpc('nemu_create_account', { account_id: id, balance: (100n * NEAR).toString(), ...(pk ? { public_key: pk } : {}) });
  }
  const responderKey = KeyPair.fromRandom('ed25519');
  await rpc('nemu_create_account', { account_id: RESPONDER, balance: (100n * NEAR).toString(),
    public_key: responderKey.getPublicKey().toString() });
  await rpc('nemu_deploy', { account_id: KMS, module: 'kmstest' });
  await setup(KMS, KMS, 'new', { owner_id: OWNER, mpc_contract_id: MPC, mpc_domain_id: 2 });
  await setup(OWNER, KMS, 'test_set_trust_anchor', JSON.parse(fx('root.json')), '1');
  await setup(OWNER, KMS, 'add_kms_measurements', JSON.parse(fx('measurements.json')), '1');
  await setup(OWNER, KMS, 'add_kms_compose_hash', { compose_hash: fx('allowed').trim() }, '1');
  await rpc('nemu_deploy', { account_id: MPC, module: 'mpctest' });
  await setup(MPC, MPC, 'new', { public_key: MPK, responder: RESPONDER });
  check('the MPC double publishes the test master public key', (await view(MPC, 'public_key', { domain_id: 2 })) === MPK);

  const provider = new JsonRpcProvider({ url });
  const worker = (name) => new Account(`worker-${name}.test`, provider,
    new KeyPairSigner(KeyPair.fromString(workers[name].secret_key)));
  const request = (acct, fixtureCase, workerPublicKey) => {
    const args = { ...JSON.parse(fx(`${fixtureCase}.json`)), worker_public_key: workerPublicKey };
    return acct.signAndSendTransaction({ receiverId: KMS, waitUntil: 'FINAL', throwOnFailure: false,
      actions: [actions.functionCall('request_kms_root_key', args, 300n * TGAS, 1n)] });
  };
  const value = (o) => o?.status?.SuccessValue !== undefined
    ? JSON.parse(Buffer.from(o.status.SuccessValue, 'base64').toString()) : undefined;
  const failure = (o) => JSON.stringify(o?.status?.Failure ?? null);

  // 1. two attested workers, two ephemeral keys, one root key
  const responder = startResponder({ url, mpc: MPC, responder: RESPONDER, secretKey: responderKey.toString(), msk: MSK });
  const eC = ephemeral(), eD = ephemeral();
  const [oC, oD] = await Promise.all([request(worker('c'), 'good-c', eC.publicKey), request(worker('d'), 'good-d', eD.publicKey)]);
  const vC = value(oC), vD = value(oD);
  check('worker C gets {big_y, big_c} as its transaction result', vC?.big_y && vC?.big_c, failure(oC));
  check('worker D gets {big_y, big_c} as its transaction result', vD?.big_y && vD?.big_c, failure(oD));
  const id = appId(KMS, 'kms-root-key');
  let kC, kD;
  try {
    kC = derive({ a: eC.a, ...vC, mpk: MPK, appId: id });
    kD = derive({ a: eD.a, ...vD, mpk: MPK, appId: id });
  } catch (e) { check('both answers pass the pairing check against the MPC public key', false, e.message); }
  check('both workers derive the same 32-byte root key', kC && kD && kC.length === 32 &&
    Buffer.from(kC).equals(Buffer.from(kD)), `${kC && Buffer.from(kC).toString('hex')} vs ${kD && Buffer.from(kD).toString('hex')}`);
  check('the answers differ (each is encrypted to its worker)', vC && vD && vC.big_c !== vD.big_c);
  const asked = responder.answered;
  check('the MPC was asked twice', asked.length === 2, JSON.stringify(asked));
  for (const [name, e] of [['C', eC], ['D', eD]]) {
    const r = asked.find((x) => x.app_public_key === e.publicKey);
    check(`worker ${name}'s MPC request: derivation_path kms-root-key, its key, domain 2, from the KMS, 1 yocto`,
      r && r.derivation_path === 'kms-root-key' && r.domain_id === 2 && r.predecessor_id === KMS && r.deposit === '1',
      JSON.stringify(r));
  }
  check('the responder made no errors', responder.errors.length === 0, responder.errors.map(String).join('; '));

  // 2. a worker whose quote fails a check: no MPC request at all, its yoctoNEAR back
  const balance = async (a) => BigInt((await provider.viewAccount({ accountId: a, finality: 'optimistic' })).amount);
  const burnt = (o) => (o?.receipts_outcome ?? []).reduce((a, r) => a + BigInt(r.outcome.tokens_burnt), 0n) +
    BigInt(o?.transaction_outcome?.outcome?.tokens_burnt ?? 0);
  const c0 = await balance('worker-c.test');
  const bad = await request(worker('c'), 'good-d', ephemeral().publicKey); // D's quote, C's key
  check('a refused worker\'s request fails its attestation', failure(bad).includes('Attestation verification failed'), failure(bad));
  const c1 = await balance('worker-c.test');
  check('a refused worker pays the gas burnt only: its yoctoNEAR comes back', c0 - c1 === burnt(bad), `${c0 - c1} vs ${burnt(bad)}`);
  await new Promise((res) => setTimeout(res, 200));
  check('a refused worker makes no MPC request', responder.answered.length === 2 &&
    (await view(MPC, 'pending_ckd_requests')).length === 0);
  responder.stop();

  // 3. no answer: NEAR's yield timeout (200 blocks, fast-forwarded) fails the request
  const late = request(worker('d'), 'good-d', ephemeral().publicKey);
  for (let i = 0; i < 100 && (await view(MPC, 'pending_ckd_requests')).length === 0; i++)
    await new Promise((res) => setTimeout(res, 20));
  check('the unanswered request is pending at the MPC', (await view(MPC, 'pending_ckd_requests')).length === 1);
  await rpc('nemu_advance_blocks', { blocks: 205 });
  const d0 = await balance('worker-d.test');
  const t = await late;
  check('the request fails with the MPC timeout message', failure(t).includes('CKD request timed out'), failure(t));
  // the yoctoNEAR went on to the MPC contract with its (successful) request, as on NEAR
  const mpcReceipt = (t?.receipts_outcome ?? []).find((r) => r.outcome.executor_id === MPC &&
    r.outcome.status?.SuccessReceiptId);
  check('on a timeout the MPC request itself succeeded (its yield failed later)', !!mpcReceipt);
  check('the timed-out worker is charged nothing more after the wait', (await balance('worker-d.test')) >= d0);
  check('after the timeout nothing is pending', (await view(MPC, 'pending_ckd_requests')).length === 0);
} catch (e) {
  check('the end-to-end flow runs', false, e.stack ?? String(e));
} finally {
  srv.kill('SIGTERM');
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
