// ckd-test.mjs — suite `near-ckd`: tests/near/ckd.mjs, the NEAR MPC confidential
// key derivation the emulated MPC network and the KMS side of the tests use.
//
// Expected values come from outside the module: the root key recomputed from
// msk with node:crypto's SHA3-256 and HKDF; app ids published by near/mpc
// (crates/near-mpc-crypto-types, snapshot derive_app_id__has_not_changed);
// NEAR keys and a CKD answer published in near/mpc's ckd-example-cli README;
// RFC 9380's BLS12381G1_XMD:SHA-256_SSWU_RO_ vectors for the hash-to-curve call.
// The master secrets below are TEST VALUES ONLY. Prints one line per check and
// a closing "N passed, N failed"; exits non-zero on any failure.
import crypto from 'node:crypto';
import { bls12_381 as bls } from '@noble/curves/bls12-381.js';
import { baseEncode } from 'near-api-js';
import * as ckd from './ckd.mjs';

let passed = 0;
let failed = 0;
function check(name, ok, detail) {
  if (ok) {
    passed++;
    console.log(`ok   ${name}`);
  } else {
    failed++;
    console.log(`FAIL ${name}${detail ? ': ' + detail : ''}`);
  }
}
// a crash still ends with the closing line (and counts as a failure)
process.on('uncaughtException', (e) => {
  failed++;
  console.log(`FAIL uncaught exception: ${e.message}`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(1);
});
// fn must throw an Error whose message matches re
function throws(name, fn, re) {
  try {
    fn();
  } catch (e) {
    check(name, re.test(e.message), `message "${e.message}" does not match ${re}`);
    return;
  }
  check(name, false, 'did not throw');
}
const hex = (b) => Buffer.from(b).toString('hex');
const eq = (a, b) => hex(a) === hex(b);

const G1 = bls.G1.Point;
const G2 = bls.G2.Point;
const { Fp, Fp2 } = bls.fields;
const r = G1.Fn.ORDER;

// ---------------------------------------------------------------- app_id
// near/mpc crates/near-mpc-crypto-types/src/snapshots/
// near_mpc_crypto_types__kdf__tests__derive_app_id__has_not_changed.snap:
// every account × path below, account-major (the snapshot lists decimal bytes).
const ACCOUNTS = ['dwefqwg', 'qfweqwgwegqw', 'fqwerijqw385', 'fnwef0942534'];
const PATHS = ['frwewegwegweg', 'fwei2.3f230', 'f23fjwef8232', 'fwefwo23fewfw'];
const APP_IDS = [
  'b8177b00468f97c337b3f921fbef7aaa959e9a49005aaa59768b795152f4c989',
  '16ac7db8b7c3ad2c5e8fe7d1a9e91ca6634cf9baf84952f85795f515e29cd275',
  'f1d47585609f34fd18fc109340e78c0822c9a010fae30b7e1ca83df48c994986',
  '55591d35775cabb829df65ae7dbd415554a7690657962952555fabf9eb8462e1',
  '2116717ccc7b1fd0053d96c975d6d2d39321012ff2cf66a328be6707f5d0f48c',
  '6042862796895d3b0e5678f5bc2da01b245fb8bf7e3515d261a7e93a963e25e3',
  '344162da86554a281123d58406ce4ba28518113fe1d66405924c9e9b1545e012',
  '90aae886b2533bd33464d922d3ccd1ed1a4d05786b39598ba79a04d0186bd2a4',
  'c26434220286c5878fac6d374492b0be520d80f08bdb2504126360e09ba082dc',
  '5ef85af87983f28e2b0bc1f2a5ce4d17c8814f86959bb4e1f2d288eafe9c337a',
  'b6c7c1cde6185ddb26eb497a2742eac4a05107ce687deaf44ef409c8ba483312',
  '086cb2e83885d66cd034010d7944e8b29e616be0f378eefa902672898df7b90c',
  'fe4c1e1948e2716f208ed94d63fa528181d8224234d0f5a22850b58580f84940',
  '55bd75937a299f9adebd9e12c095fd3479085b097c1456b393cc35a2909b1498',
  '82b56d55c9876ed6bf79af7a4a7bd21187aa16731d4c033bdb81921d698c6a5d',
  '411fbc46a494fe9a2f8c9cc9c82baee1a634df9578af381901561541ad6f32f3',
];
{
  const bad = [];
  ACCOUNTS.forEach((acc, i) =>
    PATHS.forEach((path, j) => {
      const got = hex(ckd.appId(acc, path));
      if (got !== APP_IDS[i * 4 + j]) bad.push(`${acc},${path}: ${got}`);
    }),
  );
  check('app_id: the 16 published near/mpc vectors', bad.length === 0, bad.join('; '));
  const id = ckd.appId('kms.test.near', 'kms-root-key');
  const ref = crypto.createHash('sha3-256').update('near-mpc v0.1.0 app_id derivation:kms.test.near,kms-root-key').digest();
  check('app_id: SHA3-256 of prefix ‖ account ‖ "," ‖ path (node:crypto)', id.length === 32 && eq(id, ref));
  throws('app_id: empty predecessor refused', () => ckd.appId('', 'x'), /^predecessor:/);
}

// ---------------------------------------------------------------- hash to G1
// RFC 9380 J.9.1 (suite BLS12381G1_XMD:SHA-256_SSWU_RO_, its own DST): the call
// ckd.mjs makes is the standard suite; only the DST differs for NEAR.
{
  const RFC_DST = 'QUUX-V01-CS02-with-BLS12381G1_XMD:SHA-256_SSWU_RO_';
  const RFC = [
    ['', '052926add2207b76ca4fa57a8734416c8dc95e24501772c814278700eed6d1e4e8cf62d9c09db0fac349612b759e79a1',
      '08ba738453bfed09cb546dbb0783dbb3a5f1f566ed67bb6be0e8c67e2e81a4cc68ee29813bb7994998f3eae0c9c6a265'],
    ['abc', '03567bc5ef9c690c2ab2ecdf6a96ef1c139cc0b2f284dca0a9a7943388a49a3aee664ba5379a7655d3c68900be2f6903',
      '0b9c15f3fe6e5cf4211f346271d7b01c8f3b28be689c8429c85b67af215533311f0b8dfaaa154fa6b88176c229f2885d'],
    ['abcdef0123456789', '11e0b079dea29a68f0383ee94fed1b940995272407e3bb916bbf268c263ddd57a6a27200a784cbc248e84f357ce82d98',
      '03a87ae2caf14e8ee52e51fa2ed8eefe80f02457004ba4d486d6aa1f517c0889501dc7413753f9599b099ebcbbd2d709'],
  ];
  for (const [msg, x, y] of RFC) {
    const P = ckd.hashToG1(new TextEncoder().encode(msg), RFC_DST).toAffine();
    check(`hash_to_G1: RFC 9380 vector msg="${msg}"`, P.x === BigInt('0x' + x) && P.y === BigInt('0x' + y));
  }
  const m = new Uint8Array([1, 2, 3]);
  check('hash_to_G1: NEAR DST is the default and changes the point',
    ckd.hashToG1(m).equals(ckd.hashToG1(m, ckd.CKD_DST)) && !ckd.hashToG1(m).equals(ckd.hashToG1(m, RFC_DST)));
}

// ---------------------------------------------------------------- derivation
const MSK = 0x1234567890abcdef1234567890abcdef1234567890abcdefn; // TEST VALUE
const MSK2 = 0x0fedcba987654321n; // TEST VALUE
const MPK = ckd.mpkFromMsk(MSK);
const MPK2 = ckd.mpkFromMsk(MSK2);
const KMS = 'kms.test.near';
const APP = ckd.appId(KMS, 'kms-root-key');

// the root key straight from msk, without ckd.mjs's response/unmask path:
// HKDF-SHA256(salt none, ikm = compressed msk·H(mpk ‖ app_id), info "") by node:crypto
function direct(msk, account, path) {
  const mpk = G2.BASE.multiply(msk);
  const id = crypto.createHash('sha3-256').update(`near-mpc v0.1.0 app_id derivation:${account},${path}`).digest();
  const H = bls.G1.hashToCurve(Buffer.concat([mpk.toBytes(true), id]), { DST: 'NEAR BLS12381G1_XMD:SHA-256_SSWU_RO_' });
  return new Uint8Array(crypto.hkdfSync('sha256', H.multiply(msk).toBytes(true), Buffer.alloc(0), Buffer.alloc(0), 32));
}
function roundTrip(msk, mpk, id, eph = ckd.ephemeral()) {
  const res = ckd.respond({ msk, appId: id, appPublicKey: eph.publicKey });
  return ckd.derive({ a: eph.a, big_y: res.big_y, big_c: res.big_c, mpk, appId: id });
}

const e1 = ckd.ephemeral();
const e2 = ckd.ephemeral();
const k1 = roundTrip(MSK, MPK, APP, e1);
const k2 = roundTrip(MSK, MPK, APP, e2);
check('derive: two ephemeral keys, different public keys', e1.publicKey !== e2.publicKey && e1.a !== e2.a);
check('derive: two ephemeral keys derive the same 32 bytes', k1.length === 32 && eq(k1, k2));
check('derive: equals HKDF(msk·H(mpk ‖ app_id)) computed directly', eq(k1, direct(MSK, KMS, 'kms-root-key')));
check('derive: a different predecessor gives a different key', !eq(k1, roundTrip(MSK, MPK, ckd.appId('kms2.test.near', 'kms-root-key'))));
check('derive: a different derivation path gives a different key', !eq(k1, roundTrip(MSK, MPK, ckd.appId(KMS, 'kms-root-key2'))));
{
  const k = roundTrip(MSK2, MPK2, APP);
  check('derive: a different msk gives a different key', !eq(k1, k) && eq(k, direct(MSK2, KMS, 'kms-root-key')));
}
{
  const y = 0x5555n;
  const res = ckd.respond({ msk: MSK, appId: APP, appPublicKey: e1.publicKey, y });
  const A = G1.BASE.multiply(e1.a);
  const S = bls.G1.hashToCurve(Buffer.concat([G2.BASE.multiply(MSK).toBytes(true), APP]), { DST: ckd.CKD_DST }).multiply(MSK);
  check('respond: big_y = y·G1 and big_c = msk·H + y·A',
    ckd.decodeG1(res.big_y).equals(G1.BASE.multiply(y)) && ckd.decodeG1(res.big_c).equals(S.add(A.multiply(y))));
  check('respond: a fresh y each call unless given',
    ckd.respond({ msk: MSK, appId: APP, appPublicKey: e1.publicKey }).big_y !==
      ckd.respond({ msk: MSK, appId: APP, appPublicKey: e1.publicKey }).big_y);
}

// ---------------------------------------------------------------- the pairing check
{
  const res = ckd.respond({ msk: MSK, appId: APP, appPublicKey: e1.publicKey });
  const good = { a: e1.a, big_y: res.big_y, big_c: res.big_c, mpk: MPK, appId: APP };
  const plusG = (s) => ckd.encodeG1(ckd.decodeG1(s).add(G1.BASE));
  const FAIL = /^CKD pairing check failed$/;
  throws('pairing: tampered big_c', () => ckd.derive({ ...good, big_c: plusG(res.big_c) }), FAIL);
  throws('pairing: tampered big_y', () => ckd.derive({ ...good, big_y: plusG(res.big_y) }), FAIL);
  throws('pairing: big_y and big_c swapped', () => ckd.derive({ ...good, big_y: res.big_c, big_c: res.big_y }), FAIL);
  throws('pairing: wrong mpk', () => ckd.derive({ ...good, mpk: MPK2 }), FAIL);
  throws('pairing: wrong a (another ephemeral key)', () => ckd.derive({ ...good, a: e2.a }), FAIL);
  throws('pairing: a + 1', () => ckd.derive({ ...good, a: (e1.a % (r - 1n)) + 1n }), FAIL);
  throws('pairing: another app id', () => ckd.derive({ ...good, appId: ckd.appId(KMS, 'other') }), FAIL);
  throws('pairing: answer made with another msk', () => {
    const bad = ckd.respond({ msk: MSK2, appId: APP, appPublicKey: e1.publicKey });
    ckd.derive({ ...good, ...bad });
  }, FAIL);
  check('pairing: the untouched answer still derives', eq(ckd.derive(good), k1));
}

// ---------------------------------------------------------------- encodings
{
  let ok = true;
  for (let i = 0; i < 8; i++) {
    const e = ckd.ephemeral();
    const P = G1.BASE.multiply(e.a);
    const Q = G2.BASE.multiply(e.a);
    ok &&= ckd.decodeG1(e.publicKey).equals(P) && ckd.encodeG1(P) === e.publicKey;
    ok &&= ckd.decodeG2(ckd.encodeG2(Q)).equals(Q);
    ok &&= e.publicKey === 'bls12381g1:' + baseEncode(P.toBytes(true));
  }
  check('encoding: G1/G2 round trips, "bls12381g1:" + base58(compressed 48)', ok);
  check('encoding: mpk = "bls12381g2:" + base58(compressed msk·G2, 96 bytes)',
    MPK === 'bls12381g2:' + baseEncode(G2.BASE.multiply(MSK).toBytes(true)) && ckd.decodeG2(MPK).equals(G2.BASE.multiply(MSK)));
  // keys and a CKD answer published in near/mpc crates/ckd-example-cli/README.md
  const PUBLISHED = [
    ['g2', 'bls12381g2:22AgdyBXAQor5kiToW4frjEksuAhyic1S7CWWX7LFBTXFt1MxjcXwuB73yFCQVQfwMjKQoFFtmxPSUg2fCjhNUNVCFPVdtotAFMkPpoDg9s3QWQSZ2gUfvS3Uw1gaESFCfrw'],
    ['g1', 'bls12381g1:64PJdGWrTzm5HY7wkXxWWPdaa6rtadsRuz4DxpZKK6nAVFE8xDPrQBLNbApfWM45ar'],
    ['g1', 'bls12381g1:5qzsECuw1B4oCG78dUwJQ49o5egkNBfPvGfcJLKbznEeL7fpEv4hZYyu9VRt64ucRz'],
    ['g1', 'bls12381g1:5n8Y21i4RMN7ydvDkXVPL5StUG4jkfz31sT8jW8HtJ6JaY5Vt34fsTSP443wGmXFP8'],
  ];
  for (const [kind, s] of PUBLISHED) {
    let same = false;
    try {
      same = kind === 'g1' ? ckd.encodeG1(ckd.decodeG1(s)) === s : ckd.encodeG2(ckd.decodeG2(s)) === s;
    } catch (e) {
      same = false;
    }
    check(`encoding: near/mpc published ${s.slice(0, 24)}... decodes and re-encodes`, same);
  }
}

// ---------------------------------------------------------------- strict decoding
// compressed encodings by hand (ZCash format: flags in the top 3 bits of byte 0)
function be48(x) {
  return Buffer.from(x.toString(16).padStart(96, '0'), 'hex');
}
function g1Bytes(x, flags = 0x80) {
  const b = be48(x);
  b[0] |= flags;
  return b;
}
function g2Bytes(c0, c1, flags = 0x80) {
  const b = Buffer.concat([be48(c1), be48(c0)]);
  b[0] |= flags;
  return b;
}
const isSquare = (v) => Fp.eql(Fp.pow(v, (Fp.ORDER - 1n) / 2n), Fp.ONE);
// an x on no curve point, and one on the curve outside the r-order subgroup
let xOff = 1n;
while (isSquare(Fp.add(Fp.pow(xOff, 3n), 4n))) xOff++;
let xCof = 1n;
for (;; xCof++) {
  const y2 = Fp.add(Fp.pow(xCof, 3n), 4n);
  if (!isSquare(y2)) continue;
  try {
    G1.fromBytes(g1Bytes(xCof));
  } catch (e) {
    if (/subgroup/.test(e.message)) break;
  }
}
// G2: x = (c0, 0) on E': y² = x³ + 4(1 + u)
const b2 = Fp2.fromBigTuple([4n, 4n]);
const onTwist = (c0) => {
  try {
    Fp2.sqrt(Fp2.add(Fp2.pow(Fp2.fromBigTuple([c0, 0n]), 3n), b2));
    return true;
  } catch {
    return false;
  }
};
let x2Off = 1n;
while (onTwist(x2Off)) x2Off++;
let x2Cof = 1n;
while (!onTwist(x2Cof)) x2Cof++;

// a valid subgroup point spelled with x + p (noble's fromBytes reduces mod p;
// blst and zkcrypto refuse it: two strings must not name one key)
let nonCanonical;
for (;;) {
  const P = G1.BASE.multiply(ckd.ephemeral().a);
  const x = P.toAffine().x;
  if (Fp.ORDER + x >= 1n << 381n) continue;
  nonCanonical = g1Bytes(Fp.ORDER + x, P.toBytes(true)[0] & 0xe0);
  break;
}

let nonCanonical2;
for (;;) {
  const Q = G2.BASE.multiply(ckd.ephemeral().a);
  const { c0, c1 } = Q.toAffine().x;
  if (Fp.ORDER + c1 >= 1n << 381n) continue;
  nonCanonical2 = g2Bytes(c0, Fp.ORDER + c1, Q.toBytes(true)[0] & 0xe0);
  break;
}

const b58 = (prefix, bytes) => prefix + baseEncode(bytes);
const G1P = 'bls12381g1:';
const G2P = 'bls12381g2:';
const goodG1 = e1.publicKey;
const MALFORMED_G1 = [
  ['wrong prefix (ed25519:)', 'ed25519:' + goodG1.slice(G1P.length), /expected prefix/],
  ['G2 prefix on a G1 key', G2P + goodG1.slice(G1P.length), /expected prefix/],
  ['no prefix', goodG1.slice(G1P.length), /expected prefix/],
  ['not a string', 42, /expected a "bls12381g1:/],
  ['bad base58 (0)', G1P + '0' + goodG1.slice(G1P.length + 1), /invalid base58/],
  ['bad base58 (l)', G1P + 'l' + goodG1.slice(G1P.length + 1), /invalid base58/],
  ['bad base58 (space)', goodG1 + ' ', /invalid base58/],
  ['empty base58', G1P, /invalid base58/],
  ['47 bytes', b58(G1P, g1Bytes(1n).subarray(1)), /expected 48 bytes, got 47/],
  ['49 bytes (leading zero byte)', G1P + '1' + goodG1.slice(G1P.length), /expected 48 bytes, got 49/],
  ['a G2 key (96 bytes)', G1P + MPK.slice(G2P.length), /expected 48 bytes, got 96/],
  ['x not on the curve', b58(G1P, g1Bytes(xOff)), /not a point/],
  ['x on the curve, outside the subgroup', b58(G1P, g1Bytes(xCof)), /not a point.*subgroup/],
  ['x >= p (non-canonical field element)', b58(G1P, g1Bytes(Fp.ORDER + xCof)), /not a point/],
  ['x + p for a valid point (non-canonical)', b58(G1P, nonCanonical), /non-canonical/],
  ['compression flag clear', b58(G1P, g1Bytes(ckd.decodeG1(goodG1).toAffine().x, 0)), /not a point/],
  ['identity', b58(G1P, g1Bytes(0n, 0xc0)), /identity/],
];
const MALFORMED_G2 = [
  ['wrong prefix', G1P + MPK.slice(G2P.length), /expected prefix/],
  ['bad base58 (O)', G2P + 'O' + MPK.slice(G2P.length + 1), /invalid base58/],
  ['48 bytes (a G1 key)', G2P + goodG1.slice(G1P.length), /expected 96 bytes, got 48/],
  ['x not on the curve', b58(G2P, g2Bytes(x2Off, 0n)), /not a point/],
  ['x on the curve, outside the subgroup', b58(G2P, g2Bytes(x2Cof, 0n)), /not a point.*subgroup/],
  ['identity', b58(G2P, g2Bytes(0n, 0n, 0xc0)), /identity/],
  ['x.c1 + p for a valid point (non-canonical)', b58(G2P, nonCanonical2), /non-canonical/],
];
check('strict decoding: test inputs found (x off curve, x outside subgroup)', xOff > 0n && xCof > 0n && x2Off > 0n && x2Cof > 0n);
{
  const res = ckd.respond({ msk: MSK, appId: APP, appPublicKey: e1.publicKey });
  const good = { a: e1.a, big_y: res.big_y, big_c: res.big_c, mpk: MPK, appId: APP };
  for (const [what, s, re] of MALFORMED_G1) {
    for (const field of ['big_y', 'big_c']) {
      throws(`strict decoding: ${field} ${what}`, () => ckd.derive({ ...good, [field]: s }), new RegExp(`^${field}: .*${re.source}`));
    }
    throws(`strict decoding: app_public_key ${what}`,
      () => ckd.respond({ msk: MSK, appId: APP, appPublicKey: s }), new RegExp(`^app_public_key: .*${re.source}`));
  }
  for (const [what, s, re] of MALFORMED_G2) {
    throws(`strict decoding: mpk ${what}`, () => ckd.derive({ ...good, mpk: s }), new RegExp(`^mpk: .*${re.source}`));
  }
  // the other arguments name themselves too
  throws('arguments: a = 0', () => ckd.derive({ ...good, a: 0n }), /^a: /);
  throws('arguments: a = r', () => ckd.derive({ ...good, a: r }), /^a: /);
  throws('arguments: a as a number', () => ckd.derive({ ...good, a: 5 }), /^a: /);
  throws('arguments: app_id of 31 bytes', () => ckd.derive({ ...good, appId: APP.subarray(1) }), /^app_id: /);
  throws('arguments: msk = 0', () => ckd.mpkFromMsk(0n), /^msk: /);
  throws('arguments: respond y = r', () => ckd.respond({ msk: MSK, appId: APP, appPublicKey: e1.publicKey, y: r }), /^y: /);
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
