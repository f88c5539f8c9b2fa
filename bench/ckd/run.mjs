// bench/ckd/run.mjs — time of tests/near/ckd.mjs's operations (@noble/curves
// BLS12-381 in Node): what the emulated MPC network and the KMS side cost a test.
// Usage: node bench/ckd/run.mjs [N]   (make bench-ckd). Master secret: TEST VALUE.
import * as ckd from '../../tests/near/ckd.mjs';

const N = Number(process.argv[2] || 20);
const msk = 0x1234567890abcdefn;
const mpk = ckd.mpkFromMsk(msk);
const id = ckd.appId('kms.test.near', 'kms-root-key');
const time = (fn) => {
  const t = performance.now();
  const out = fn();
  return [out, (performance.now() - t) / N];
};
const [eph, tE] = time(() => Array.from({ length: N }, () => ckd.ephemeral()));
const [res, tR] = time(() => eph.map((e) => ckd.respond({ msk, appId: id, appPublicKey: e.publicKey })));
const [, tD] = time(() => eph.map((e, i) => ckd.derive({ a: e.a, ...res[i], mpk, appId: id })));
console.log(`ckd (mean of ${N}): ephemeral ${tE.toFixed(1)} ms, respond ${tR.toFixed(1)} ms, ` +
  `derive incl. pairing check ${tD.toFixed(1)} ms`);
