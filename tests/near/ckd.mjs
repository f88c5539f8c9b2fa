// ckd.mjs — NEAR MPC confidential key derivation (CKD), both sides, for tests.
//
// The MPC network holds a master secret msk (public key mpk = msk·G2). An app
// sends an ephemeral G1 key A = a·G1; the nodes answer with an ElGamal-style
// encryption of the app's key S = msk·H(mpk ‖ app_id) under A:
//   big_y = y·G1,  big_c = S + y·A         (respond: what the MPC nodes compute)
//   S = big_c − a·big_y                    (derive: what dstack's KMS computes)
// S is the same for every ephemeral key, so every attested KMS derives the same
// root key = HKDF-SHA256(ikm = compressed S); the pairing check
// e(S, G2) == e(H(mpk ‖ app_id), mpk) proves S came from msk without revealing it.
// Facts (prefix, DST, encodings) after near/mpc and dstack's kms ckd.rs; see
// /work/shared/reference/near.md §1.5 and §5.8.
//
// Why JavaScript: the KMS-side derivation belongs to dstack's KMS (Rust, ckd.rs),
// not to dstack-gov's C library; our tests still need it to show that the root
// key the emulated MPC network releases is usable. Debian ships no BLS12-381
// library (`apt-cache search blst`, `mcl`, `relic`: nothing; Debian's `mcl` is
// the Markov cluster tool) and hand-written pairing code is not acceptable, so
// the math comes from @noble/curves (audited, pinned in package.json) and
// base58 from near-api-js. TEST CODE: the master secret lives in the test.
//
// Strict decoding: a "bls12381g1:" / "bls12381g2:" string must have that
// prefix, canonical base58 of exactly 48 / 96 bytes, the canonical compressed
// encoding (coordinates < p) of a point on the curve in the prime-order
// subgroup, and not the identity; otherwise an Error whose message starts
// with the field's name.
import { bls12_381 as bls } from '@noble/curves/bls12-381.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { sha3_256 } from '@noble/hashes/sha3.js';
import { concatBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { baseDecode, baseEncode } from 'near-api-js';

const G1 = bls.G1.Point;
const G2 = bls.G2.Point;
const Fr = G1.Fn;

export const APP_ID_PREFIX = 'near-mpc v0.1.0 app_id derivation:';
export const CKD_DST = 'NEAR BLS12381G1_XMD:SHA-256_SSWU_RO_';

// prefix, compressed size, point class per key kind
const KINDS = {
  g1: { prefix: 'bls12381g1:', size: 48, Point: G1 },
  g2: { prefix: 'bls12381g2:', size: 96, Point: G2 },
};

function encode(kind, field, P) {
  if (P.is0()) throw new Error(`${field}: the identity point is not a key`);
  return KINDS[kind].prefix + baseEncode(P.toBytes(true));
}

function decode(kind, field, s) {
  const { prefix, size, Point } = KINDS[kind];
  if (typeof s !== 'string') throw new Error(`${field}: expected a "${prefix}..." string`);
  if (!s.startsWith(prefix)) throw new Error(`${field}: expected prefix "${prefix}"`);
  const text = s.slice(prefix.length);
  let bytes;
  try {
    bytes = baseDecode(text);
  } catch {
    throw new Error(`${field}: invalid base58`);
  }
  // the one spelling of these bytes: no other string names the same key
  if (text.length === 0 || baseEncode(bytes) !== text) throw new Error(`${field}: invalid base58`);
  if (bytes.length !== size) throw new Error(`${field}: expected ${size} bytes, got ${bytes.length}`);
  let P;
  try {
    P = Point.fromBytes(bytes); // noble checks field range, curve and subgroup
  } catch (e) {
    throw new Error(`${field}: not a point of the prime-order subgroup (${e.message})`);
  }
  if (P.is0()) throw new Error(`${field}: the identity point is not a key`);
  // noble reduces a coordinate >= p modulo p (blst and zkcrypto refuse it):
  // only the canonical spelling of a key is accepted
  const canon = P.toBytes(true);
  if (canon.some((v, i) => v !== bytes[i])) throw new Error(`${field}: non-canonical point encoding`);
  return P;
}

export const encodeG1 = (P, field = 'point') => encode('g1', field, P);
export const encodeG2 = (P, field = 'point') => encode('g2', field, P);
export const decodeG1 = (s, field = 'point') => decode('g1', field, s);
export const decodeG2 = (s, field = 'point') => decode('g2', field, s);

function scalar(field, v) {
  if (typeof v !== 'bigint' || v <= 0n || v >= Fr.ORDER) {
    throw new Error(`${field}: expected a bigint scalar in [1, r-1]`);
  }
  return v;
}

function checkAppId(appId) {
  if (!(appId instanceof Uint8Array) || appId.length !== 32) {
    throw new Error('app_id: expected a Uint8Array of 32 bytes');
  }
  return appId;
}

function randomScalar() {
  for (;;) {
    const k = Fr.fromBytes(bls.utils.randomSecretKey());
    if (k !== 0n) return k;
  }
}

/** RFC 9380 hash to G1 (suite BLS12381G1_XMD:SHA-256_SSWU_RO_), NEAR's DST unless given. */
export function hashToG1(msg, dst = CKD_DST) {
  return bls.G1.hashToCurve(msg, { DST: dst });
}

// H(mpk_compressed96 ‖ app_id)
const hashPoint = (mpk, appId) => hashToG1(concatBytes(mpk.toBytes(true), appId));

/** SHA3-256(prefix ‖ predecessor ‖ "," ‖ derivationPath), as the MPC contract derives it. */
export function appId(predecessor, derivationPath) {
  if (typeof predecessor !== 'string' || predecessor === '') throw new Error('predecessor: expected an account id');
  if (typeof derivationPath !== 'string') throw new Error('derivation_path: expected a string');
  return sha3_256(utf8ToBytes(`${APP_ID_PREFIX}${predecessor},${derivationPath}`));
}

/** The MPC public key "bls12381g2:<base58 96>" of master secret msk. */
export function mpkFromMsk(msk) {
  return encodeG2(G2.BASE.multiply(scalar('msk', msk)), 'mpk');
}

/** A fresh ephemeral app key: { a, publicKey: "bls12381g1:<base58 48>" }. */
export function ephemeral() {
  const a = randomScalar();
  return { a, publicKey: encodeG1(G1.BASE.multiply(a), 'app_public_key') };
}

/** The MPC nodes' answer { big_y, big_c } to a CKD request (y random unless given). */
export function respond({ msk, appId: id, appPublicKey, y }) {
  scalar('msk', msk);
  checkAppId(id);
  const A = decodeG1(appPublicKey, 'app_public_key');
  const yy = y === undefined ? randomScalar() : scalar('y', y);
  const mpk = G2.BASE.multiply(msk);
  const S = hashPoint(mpk, id).multiply(msk);
  return {
    big_y: encodeG1(G1.BASE.multiply(yy), 'big_y'),
    big_c: encodeG1(S.add(A.multiply(yy)), 'big_c'),
  };
}

/** The KMS side: unmask, verify against mpk, and derive the 32-byte root key. */
export function derive({ a, big_y, big_c, mpk, appId: id }) {
  scalar('a', a);
  checkAppId(id);
  const Y = decodeG1(big_y, 'big_y');
  const C = decodeG1(big_c, 'big_c');
  const PK = decodeG2(mpk, 'mpk');
  const S = C.subtract(Y.multiply(a));
  // e(S, G2) · e(−H, mpk) == 1  ⇔  e(S, G2) == e(H, mpk)
  const product = bls.pairingBatch([
    { g1: S, g2: G2.BASE },
    { g1: hashPoint(PK, id).negate(), g2: PK },
  ]);
  if (S.is0() || !bls.fields.Fp12.eql(product, bls.fields.Fp12.ONE)) {
    throw new Error('CKD pairing check failed');
  }
  return hkdf(sha256, S.toBytes(true), undefined, new Uint8Array(0), 32);
}
