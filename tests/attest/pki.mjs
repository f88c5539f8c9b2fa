// pki.mjs — a PKI of our own shaped like Intel's, for tests of the quote
// verifier (tests/attest/run.mjs) and of the NEAR KMS contract's
// request_kms_root_key (tests/near/rootkey-fixture.mjs). Made with the
// `openssl` CLI in a fresh temporary directory (`dir`): test root, PCK platform
// CA, PCK leaves with Intel's SGX extension, TCB signing certificate, CRLs;
// TDX v4 quotes signed by fresh attestation keys; collateral signed by our TCB
// key. TEST KEYS ONLY: nothing here is trusted outside a test.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dg-attest-'));
export const sh = (cmd, args, opts = {}) => execFileSync(cmd, args, { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'], ...opts });
export const ossl = (...a) => sh('openssl', a);
export const newKey = (name) => { ossl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`); return crypto.createPrivateKey(fs.readFileSync(`${dir}/${name}.key`)); };
export const pemToDer = (pem) => Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
let serial = 100;

// DER encoding of the SGX extension's value (test data, written to match Intel's layout).
export function der(tag, body) {
  const n = body.length;
  const len = n < 128 ? Buffer.from([n]) : n < 256 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 255]);
  return Buffer.concat([Buffer.from([tag]), len, body]);
}
const seq = (...xs) => der(0x30, Buffer.concat(xs));
const sgxOid = (...arcs) => der(0x06, Buffer.from([0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01, ...arcs]));
const int = (v) => der(0x02, v < 128 ? Buffer.from([v]) : Buffer.from([v >> 8 & 255, v & 255].filter((b, i) => i || b || v >= 32768)));
export function sgxExtension({ comps, pcesvn, fmspc, pceid }) {
  const tcb = [];
  comps.forEach((c, i) => tcb.push(seq(sgxOid(2, i + 1), int(c))));
  tcb.push(seq(sgxOid(2, 17), int(pcesvn)));
  tcb.push(seq(sgxOid(2, 18), der(0x04, Buffer.from(comps))));
  return seq(
    seq(sgxOid(1), der(0x04, Buffer.alloc(16, 0xaa))),
    seq(sgxOid(2), seq(...tcb)),
    seq(sgxOid(3), der(0x04, Buffer.from(pceid, 'hex'))),
    seq(sgxOid(4), der(0x04, Buffer.from(fmspc, 'hex'))),
    seq(sgxOid(5), der(0x0a, Buffer.from([0]))));
}

// A certificate: subject CN, signed by issuer {name,key file,cert file} (self when null).
export function cert(name, cn, issuer, { ca = false, days = 3650, ext = null, key = null } = {}) {
  if (!key) newKey(name);
  const extLines = ca ? ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign,cRLSign']
    : ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature,nonRepudiation'];
  if (ext) extLines.push(`1.2.840.113741.1.13.1=DER:${ext.toString('hex')}`);
  fs.writeFileSync(`${dir}/${name}.ext`,
    `[req]\ndistinguished_name=dn\n[dn]\n[v]\n${extLines.join('\n')}\nsubjectKeyIdentifier=hash\n`);
  const k = key || `${name}.key`;
  if (!issuer) {
    ossl('req', '-x509', '-new', '-key', k, '-subj', `/CN=${cn}/O=dstack-gov test`, '-days', String(days),
      '-sha256', '-set_serial', String(serial++), '-config', `${name}.ext`, '-extensions', 'v', '-out', `${name}.pem`);
  } else {
    ossl('req', '-new', '-key', k, '-subj', `/CN=${cn}/O=dstack-gov test`, '-config', `${name}.ext`, '-out', `${name}.csr`);
    ossl('x509', '-req', '-in', `${name}.csr`, '-CA', `${issuer}.pem`, '-CAkey', `${issuer}.key`, '-sha256',
      '-set_serial', String(serial++), '-days', String(days), '-extfile', `${name}.ext`, '-extensions', 'v', '-out', `${name}.pem`);
  }
  return fs.readFileSync(`${dir}/${name}.pem`, 'utf8');
}

// A CRL of CA `ca` revoking `revoked` (cert names), valid `days` days.
export function crl(ca, revoked = [], days = 30) {
  const db = `${ca}.db`;
  const lines = revoked.map((r) => {
    const s = ossl('x509', '-in', `${r}.pem`, '-noout', '-serial').toString().trim().split('=')[1];
    return `R\t491231235959Z\t240101000000Z\t${s}\tunknown\t/CN=${r}`;
  });
  fs.writeFileSync(`${dir}/${db}`, lines.join('\n') + (lines.length ? '\n' : ''));
  fs.writeFileSync(`${dir}/${ca}.crlnum`, '01\n');
  fs.writeFileSync(`${dir}/${ca}.cnf`, `[ca]\ndefault_ca=c\n[c]\ndatabase=${db}\ncrlnumber=${ca}.crlnum\ndefault_md=sha256\n`);
  ossl('ca', '-gencrl', '-config', `${ca}.cnf`, '-keyfile', `${ca}.key`, '-cert', `${ca}.pem`, '-crldays', String(days), '-out', `${ca}.crl.pem`);
  return pemToDer(fs.readFileSync(`${dir}/${ca}.crl.pem`, 'utf8'));
}

export const NOW = Math.floor(Date.now() / 1000);
export const AT = NOW + 3600;
export const iso = (t) => new Date(t * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
export const FMSPC = '00906ed50000', PCEID = '0000';
export const QE_MRSIGNER = 'dc9e2a7c6f948f17474e34a7fc43ed030f7c1563f1babddf6340c82e0e54a8c5';
const zeros16 = Array(16).fill(0);
const lvl = (sgx0, pcesvn, tdx0, status, adv) => ({
  tcb: {
    sgxtcbcomponents: [sgx0, ...zeros16.slice(1)].map((svn) => ({ svn })),
    pcesvn,
    tdxtcbcomponents: [tdx0, ...zeros16.slice(1)].map((svn) => ({ svn })),
  },
  tcbDate: '2024-03-13T00:00:00Z', tcbStatus: status, ...(adv ? { advisoryIDs: adv } : {}),
});
// every TCB status Intel defines, one level each, best first (as Intel orders them)
export const LEVELS = [
  lvl(9, 10, 5, 'UpToDate'),
  lvl(8, 10, 5, 'SWHardeningNeeded', ['INTEL-SA-00615']),
  lvl(7, 10, 5, 'ConfigurationNeeded', ['INTEL-SA-00657']),
  lvl(6, 10, 5, 'ConfigurationAndSWHardeningNeeded', ['INTEL-SA-00615', 'INTEL-SA-00657']),
  lvl(5, 10, 5, 'OutOfDate', ['INTEL-SA-00837']),
  lvl(4, 10, 5, 'OutOfDateConfigurationNeeded', ['INTEL-SA-00837', 'INTEL-SA-00657']),
  lvl(3, 10, 5, 'Revoked', ['INTEL-SA-00001']),
];

// --- the base PKI (one per run)
export const rootPem = cert('root', 'Test SGX Root CA', null, { ca: true });
export const caPem = cert('pckca', 'Test SGX PCK Platform CA', 'root', { ca: true });
export const tcbPem = cert('tcbsign', 'Test SGX TCB Signing', 'root');
export const rootCrl = crl('root');
export const base = { sgx0: 9, pcesvn: 10, tdx0: 5, qeSvn: 4, fmspc: FMSPC, pceid: PCEID };

let pckCount = 0;
export function pck(p) {
  const name = `pck${pckCount++}`;
  const pem = cert(name, 'Test SGX PCK Certificate', p.pckIssuer || 'pckca', {
    days: p.pckDays || 3650,
    ext: sgxExtension({ comps: [p.sgx0, ...zeros16.slice(1)], pcesvn: p.pcesvn, fmspc: p.fmspc, pceid: p.pceid }),
  });
  return { name, pem, key: crypto.createPrivateKey(fs.readFileSync(`${dir}/${name}.key`)) };
}
export const sign = (key, msg) => crypto.sign('sha256', msg, { key, dsaEncoding: 'ieee-p1363' });
export const u16 = (v) => { const b = Buffer.alloc(2); b.writeUInt16LE(v); return b; };
export const u32 = (v) => { const b = Buffer.alloc(4); b.writeUInt32LE(v); return b; };

// A TDX quote v4 signed by a fresh attestation key, its QE report by the PCK key.
export function quote(p, pk) {
  const header = Buffer.concat([u16(4), u16(2), u32(0x81), u16(0), u16(p.pcesvn),
    Buffer.from('939a7233f79c4ca9940a0db3957f0607', 'hex'), Buffer.alloc(20)]);
  const td = Buffer.alloc(584);
  td[0] = p.tdx0; // tee_tcb_svn
  const tdAttr = Buffer.alloc(8);
  tdAttr[3] = 0x10; // SEPT_VE_DISABLE
  if (p.debugTd) tdAttr[0] = 1;
  tdAttr.copy(td, 16 + 48 + 48 + 8);
  (p.mrtd || crypto.randomBytes(48)).copy(td, 136); // MRTD
  (p.rtmrs || []).forEach((r, i) => r.copy(td, 136 + 48 * 4 + 48 * i)); // RTMR0-2
  (p.rtmr3 || Buffer.alloc(48)).copy(td, 136 + 48 * 4 + 48 * 3); // RTMR3
  (p.reportData || Buffer.from('dstack-gov test report data')).copy(td, 520);
  const att = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = att.publicKey.export({ format: 'jwk' });
  const attKey = Buffer.concat([Buffer.from(jwk.x, 'base64url'), Buffer.from(jwk.y, 'base64url')]);
  const auth = Buffer.from([...Array(32).keys()]);
  const qe = Buffer.alloc(384);
  qe.writeUInt32LE(0, 16);
  qe[48] = p.qeDebug ? 0x13 : 0x11;
  Buffer.from(p.qeMrsigner || QE_MRSIGNER, 'hex').copy(qe, 128);
  qe.writeUInt16LE(2, 256);
  qe.writeUInt16LE(p.qeSvn, 258);
  const binding = crypto.createHash('sha256').update(Buffer.concat([attKey, auth])).digest();
  if (p.badBinding) binding[0] ^= 1;
  binding.copy(qe, 320);
  const qeSig = sign(p.qeSigner || pk.key, qe);
  const chain = Buffer.from(pk.pem + (p.pckIssuerPem || caPem) + rootPem);
  const inner = Buffer.concat([qe, qeSig, u16(auth.length), auth, u16(5), u32(chain.length), chain]);
  const body = Buffer.concat([header, td]);
  let sig = sign(att.privateKey, body);
  if (p.badQuoteSig) sig = sign(att.privateKey, Buffer.concat([body, Buffer.from([0])]));
  const authData = Buffer.concat([sig, attKey, u16(6), u32(inner.length), inner]);
  return Buffer.concat([body, u32(authData.length), authData]);
}

export function collateral(p, pckCrl) {
  const tcbInfo = JSON.stringify({
    id: p.tcbId || 'TDX', version: 3, issueDate: iso(p.tcbIssue ?? NOW - 86400), nextUpdate: iso(p.tcbNext ?? NOW + 30 * 86400),
    fmspc: (p.tcbFmspc || FMSPC).toUpperCase(), pceId: PCEID, tcbType: 0, tcbEvaluationDataNumber: 17,
    tcbLevels: p.levels || LEVELS,
  });
  const qeId = JSON.stringify({
    id: 'TD_QE', version: 2, issueDate: iso(p.qeIssue ?? NOW - 86400), nextUpdate: iso(p.qeNext ?? NOW + 30 * 86400),
    tcbEvaluationDataNumber: 17, miscselect: '00000000', miscselectMask: 'FFFFFFFF',
    attributes: '11000000000000000000000000000000', attributesMask: 'FBFFFFFFFFFFFFFF0000000000000000',
    mrsigner: QE_MRSIGNER.toUpperCase(), isvprodid: 2,
    tcbLevels: [
      { tcb: { isvsvn: 4 }, tcbDate: '2024-03-13T00:00:00Z', tcbStatus: 'UpToDate' },
      { tcb: { isvsvn: 2 }, tcbDate: '2023-08-09T00:00:00Z', tcbStatus: 'OutOfDate', advisoryIDs: ['INTEL-SA-00837', 'INTEL-SA-00999'] },
    ],
  });
  const tcbKey = crypto.createPrivateKey(fs.readFileSync(`${dir}/${p.tcbSigner || 'tcbsign'}.key`));
  const tsig = sign(tcbKey, Buffer.from(p.tcbInfoSigned || tcbInfo));
  const qsig = sign(tcbKey, Buffer.from(qeId));
  if (p.badQeIdSig) qsig[5] ^= 1;
  const tcbChain = (p.tcbChainPem || tcbPem) + rootPem;
  return JSON.stringify({
    pck_crl_issuer_chain: caPem + rootPem,
    root_ca_crl: (p.rootCrl || rootCrl).toString('hex'),
    pck_crl: pckCrl.toString('hex'),
    tcb_info_issuer_chain: tcbChain,
    tcb_info: tcbInfo,
    tcb_info_signature: tsig.toString('hex'),
    qe_identity_issuer_chain: tcbChain,
    qe_identity: qeId,
    qe_identity_signature: qsig.toString('hex'),
  });
}

// A dstack event (imr 3, type 0x08000001) with its digest.
export function ev(name, payload) {
  const type = 0x08000001, t = Buffer.alloc(4);
  t.writeUInt32LE(type);
  const digest = crypto.createHash('sha384').update(Buffer.concat([t, Buffer.from(`:${name}:`), payload])).digest();
  return { imr: 3, event_type: type, digest: digest.toString('hex'), event: name, event_payload: payload.toString('hex') };
}
// RTMR3 replayed from a list of events.
export function replay(events) {
  let rtmr = Buffer.alloc(48);
  for (const e of events) rtmr = crypto.createHash('sha384').update(Buffer.concat([rtmr, Buffer.from(e.digest, 'hex')])).digest();
  return rtmr;
}
