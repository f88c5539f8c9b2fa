// mpc-responder.mjs — plays NEAR's MPC nodes for the MPC TEST DOUBLE
// (contracts/near/test/mpc-test.c) on nemu-rpc, an EMULATION of the NEAR runtime.
//
// The real MPC network watches its contract for CKD requests and answers each
// with {big_y, big_c} computed from its shared master secret. This responder
// does the same with one test master secret msk: it polls the double's view
// pending_ckd_requests over JSON-RPC, computes the answer with the CKD math of
// ckd.mjs (@noble/curves BLS12-381: big_y = y·G1, big_c = msk·H(mpk ‖ app_id)
// + y·A, app_id from the request's predecessor and derivation path) and sends
// respond_ckd, signed by the responder account's key with near-api-js.
// TEST CODE: the master secret is a test value; nothing here is for production.
//
// As a module: startResponder({url, mpc, responder, secretKey, msk}) → {stop, answered}.
// As a program (the CLI suite runs it next to dstack-gov):
//   MPC_MSK=<hex> RESPONDER_SECRET_KEY=ed25519:... node mpc-responder.mjs URL MPC_ACCOUNT RESPONDER_ACCOUNT
// (secrets from the environment, never in argv); prints "responder: answered <id>"
// per answer and runs until SIGTERM.
import { Account, JsonRpcProvider, KeyPair, KeyPairSigner } from 'near-api-js';
import { appId, respond } from './ckd.mjs';

async function view(url, account, method, args) {
  const r = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      jsonrpc: '2.0', id: 'responder', method: 'query',
      params: { request_type: 'call_function', finality: 'optimistic', account_id: account,
        method_name: method, args_base64: Buffer.from(JSON.stringify(args)).toString('base64') },
    }),
  });
  const j = await r.json();
  if (j.error || j.result?.error) throw new Error(`view ${method}: ${JSON.stringify(j.error ?? j.result.error)}`);
  return JSON.parse(Buffer.from(j.result.result).toString());
}

/** Answer every CKD request of the MPC double at `mpc` until stop(). */
export function startResponder({ url, mpc, responder, secretKey, msk, intervalMs = 50, log = () => {} }) {
  const provider = new JsonRpcProvider({ url });
  const account = new Account(responder, provider, new KeyPairSigner(KeyPair.fromString(secretKey)));
  const seen = new Set();
  const state = { answered: [], errors: [] };
  let stopped = false, timer;
  async function once() {
    const pending = await view(url, mpc, 'pending_ckd_requests', {});
    for (const req of pending) {
      if (seen.has(req.request_id)) continue;
      seen.add(req.request_id);
      const response = respond({ msk, appId: appId(req.predecessor_id, req.derivation_path),
        appPublicKey: req.app_public_key });
      // EXECUTED_OPTIMISTIC: the answer resumes the yield; the requester's
      // transaction finishes in the blocks after
      await account.callFunction({ contractId: mpc, methodName: 'respond_ckd',
        args: { request_id: req.request_id, response }, gas: 30n * 10n ** 12n,
        waitUntil: 'EXECUTED_OPTIMISTIC' });
      state.answered.push(req);
      log(`responder: answered ${req.request_id}`);
    }
  }
  async function loop() {
    if (stopped) return;
    try {
      await once();
    } catch (e) {
      state.errors.push(e);
      log(`responder: ${e.message ?? e}`);
    }
    if (!stopped) timer = setTimeout(loop, intervalMs);
  }
  loop();
  return {
    get answered() { return state.answered; },
    get errors() { return state.errors; },
    stop() { stopped = true; clearTimeout(timer); },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [url, mpc, responder] = process.argv.slice(2);
  const mskHex = process.env.MPC_MSK, secretKey = process.env.RESPONDER_SECRET_KEY;
  if (!url || !mpc || !responder || !mskHex || !secretKey) {
    console.error('usage: MPC_MSK=<hex> RESPONDER_SECRET_KEY=ed25519:... node mpc-responder.mjs URL MPC_ACCOUNT RESPONDER_ACCOUNT');
    process.exit(2);
  }
  const r = startResponder({ url, mpc, responder, secretKey, msk: BigInt('0x' + mskHex), log: (m) => console.log(m) });
  process.on('SIGTERM', () => { r.stop(); process.exit(0); });
}
