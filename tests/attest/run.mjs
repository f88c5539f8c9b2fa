// run.mjs — suite `attest`: the TDX quote verifier end to end, through
// `dstack-gov attest verify`, cross-checked with @phala/dcap-qvl.
//
// 1. The real vectors (tests/data/attest): the verdict, status and advisory ids
//    of dstack-gov and of dcap-qvl must be the same.
// 2. A PKI of our own made with `openssl` (test root, PCK platform CA, PCK
//    leaf with Intel's SGX extension, TCB signing certificate, root and PCK
//    CRLs), quotes signed with our keys, TCB info and QE identity signed by
//    our TCB key; then one mutation per check, each expected to fail with
//    exactly its reason — and dcap-qvl must give the same verdict, status and
//    advisory ids, except where dstack-gov is stricter by design (listed in
//    STRICTER with the reason; dcap-qvl must then accept, so the list stays true).
// Usage: node tests/attest/run.mjs BUILD/dstack-gov
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { dir, ossl, pemToDer, NOW, AT, iso, LEVELS, rootPem, base, cert, crl, pck, quote, collateral, ev, replay } from './pki.mjs';

const require = createRequire(import.meta.url);
const { QuoteVerifier } = require('@phala/dcap-qvl/src/verify');
const { Quote } = require('@phala/dcap-qvl/src/quote');

const cli = path.resolve(process.argv[2] || 'build/dstack-gov');
const data = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../data/attest');
let passed = 0, failed = 0;
const fail = (name, msg) => { failed++; console.log(`FAIL ${name}: ${msg}`); };
const ok = (name) => { passed++; if (process.env.ATTEST_VERBOSE) console.log(`ok   ${name}`); };

// dcap-qvl's error messages → our reason names (the first failing check).
const QVL_REASON = [
  [/TCBInfo (expired|issue date)/, 'tcb-info-time'],
  [/QE Identity (expired|issue date)/, 'qe-identity-time'],
  [/Certificate is revoked/, 'revoked'],
  [/Signature is invalid for tcb_info/, 'tcb-info-signature'],
  [/Signature is invalid for qe_identity/, 'qe-identity-signature'],
  [/Unsupported QE Identity/, 'qe-identity-kind'],
  [/certificate chain|Certificate is expired|CaUsedAsEndEntity|too short/, 'chain'],
  [/Signature is invalid for qe_report/, 'qe-report-signature'],
  [/QE report hash mismatch/, 'qe-report-binding'],
  [/QE (MRSIGNER|ISVPRODID|MISCSELECT|ATTRIBUTES)/, 'qe-identity-mismatch'],
  [/QE ISVSVN/, 'qe-tcb'],
  [/ISV enclave report signature/, 'quote-signature'],
  [/Fmspc mismatch/, 'fmspc'],
  [/non-TDX TCB info/, 'tcb-info-kind'],
  [/No matching TCB level/, 'no-tcb-level'],
  [/TCB status is invalid/, 'tcb-revoked'],
  [/Debug mode/, 'debug'], // the same words for a debug QE and a debug TD
  [/Reserved bits|SEPT_VE_DISABLE|mr service td/, 'td-attributes'],
  [/decode quote|Unsupported DCAP/, 'quote-format'],
];
const CHAIN_REASONS = new Set(['tcb-chain', 'qe-identity-chain', 'pck-chain', 'crl']);
function qvlReason(e) {
  const m = String(e && e.message);
  for (const [re, r] of QVL_REASON) if (re.test(m)) return r;
  return `unmapped: ${m}`;
}
const sameReason = (ours, qvl) =>
  ours === qvl || (qvl === 'chain' && CHAIN_REASONS.has(ours)) ||
  (qvl === 'debug' && (ours === 'qe-identity-mismatch' || ours === 'td-attributes')) ||
  (qvl === 'quote-format' && (ours === 'quote-format' || ours === 'quote-unsupported'));

function ours(files, at) {
  const args = ['attest', 'verify', '--quote', files.quote, '--collateral', files.collateral,
    '--at', new Date(at * 1000).toISOString().replace(/\.\d+Z$/, 'Z'), '--json'];
  if (files.root) args.push('--test-root-ca', files.root);
  const r = spawnSync(cli, args, { encoding: 'utf8' });
  let j;
  try { j = JSON.parse(r.stdout); } catch { j = { parseError: r.stdout + r.stderr }; }
  return { code: r.status, j };
}

function theirs(files, at) {
  const quote = fs.readFileSync(files.quote);
  const col = JSON.parse(fs.readFileSync(files.collateral, 'utf8'));
  const v = files.rootDer ? QuoteVerifier.newWithRootCa(files.rootDer) : QuoteVerifier.newProd();
  try {
    const r = v.verify(quote, col, at);
    return { verified: true, status: r.status, advisories: r.advisory_ids };
  } catch (e) {
    return { verified: false, reason: qvlReason(e), message: String(e.message) };
  }
}

// Compare one case: expect = {reason} (a failure) or {status, advisories}.
function check(name, files, at, expect, stricter) {
  const o = ours(files, at), t = theirs(files, at);
  const j = o.j;
  if (expect.reason) {
    if (o.code !== 1 || j.verified !== false || j.reason !== expect.reason)
      return fail(name, `dstack-gov: exit ${o.code}, reason ${j.reason} (${j.message || j.parseError}), expected ${expect.reason}`);
    if (stricter) {
      if (!t.verified) return fail(name, `listed as stricter than dcap-qvl, but dcap-qvl refused too: ${t.message}`);
    } else if (t.verified || !sameReason(expect.reason, t.reason)) {
      return fail(name, `dcap-qvl: ${t.verified ? 'verified ' + t.status : t.reason + ' (' + t.message + ')'}, dstack-gov: ${expect.reason}`);
    }
  } else {
    if (o.code !== 0 || j.verified !== true)
      return fail(name, `dstack-gov: exit ${o.code}, ${j.reason}: ${j.message || j.parseError}`);
    const adv = JSON.stringify(j.advisoryIds || []);
    if (j.status !== expect.status || adv !== JSON.stringify(expect.advisories || []))
      return fail(name, `dstack-gov: ${j.status} ${adv}, expected ${expect.status} ${JSON.stringify(expect.advisories || [])}`);
    if (!t.verified) return fail(name, `dcap-qvl refused: ${t.message}`);
    if (t.status !== j.status || JSON.stringify(t.advisories) !== adv)
      return fail(name, `dcap-qvl: ${t.status} ${JSON.stringify(t.advisories)}, dstack-gov: ${j.status} ${adv}`);
  }
  ok(name);
}

// ------------------------------------------------------------ real vectors
const T_REAL = Date.parse('2025-07-01T00:00:00Z') / 1000;
const T_OUT = Date.parse('2026-03-01T00:00:00Z') / 1000;
check('real tdx_quote UpToDate', { quote: `${data}/tdx_quote`, collateral: `${data}/tdx_quote_collateral.json` },
  T_REAL, { status: 'UpToDate', advisories: [] });
check('real tdx_quote_outdated: no TCB level', { quote: `${data}/tdx_quote_outdated`, collateral: `${data}/tdx_quote_outdated_collateral.json` },
  T_OUT, { reason: 'no-tcb-level' });
check('real tdx_quote after tcb_info nextUpdate', { quote: `${data}/tdx_quote`, collateral: `${data}/tdx_quote_collateral.json` },
  Date.parse('2025-07-20T00:00:00Z') / 1000, { reason: 'tcb-info-time' });
{
  const q = Buffer.from(fs.readFileSync(`${data}/tdx_quote`));
  q[48 + 136] ^= 1; // MRTD
  fs.writeFileSync(`${dir}/real-mrtd`, q);
  check('real tdx_quote with MRTD changed', { quote: `${dir}/real-mrtd`, collateral: `${data}/tdx_quote_collateral.json` },
    T_REAL, { reason: 'quote-signature' });
}

// ------------------------------------------------------------ our own PKI
let caseNo = 0;
function runCase(name, over, expect, { at = AT, stricter = false } = {}) {
  const p = { ...base, ...over };
  const pk = pck(p);
  const pckCrl = crl('pckca', p.revokePck ? [pk.name] : [], p.pckCrlDays || 30);
  const n = caseNo++;
  const files = { quote: `${dir}/case${n}.quote`, collateral: `${dir}/case${n}.json`, root: `${dir}/root.pem`, rootDer: pemToDer(rootPem) };
  fs.writeFileSync(files.quote, quote(p, pk));
  fs.writeFileSync(files.collateral, collateral(p, pckCrl));
  check(name, files, at, expect, stricter);
}

// success, and every TCB level and status
runCase('own PKI: UpToDate', {}, { status: 'UpToDate', advisories: [] });
for (const [i, l] of LEVELS.entries()) {
  if (i === 0) continue;
  const expect = l.tcbStatus === 'Revoked' ? { reason: 'tcb-revoked' } : { status: l.tcbStatus, advisories: l.advisoryIDs };
  runCase(`own PKI: TCB level ${l.tcbStatus}`, { sgx0: l.tcb.sgxtcbcomponents[0].svn }, expect);
}
runCase('own PKI: PCESVN below every level', { pcesvn: 9 }, { reason: 'no-tcb-level' });
runCase('own PKI: TDX module SVN below every level', { tdx0: 4 }, { reason: 'no-tcb-level' });
runCase('own PKI: SGX components below every level', { sgx0: 2 }, { reason: 'no-tcb-level' });
// QE identity: its TCB status merges with the platform's (worse status, union of advisories)
runCase('own PKI: QE OutOfDate merges', { qeSvn: 3 }, { status: 'OutOfDate', advisories: ['INTEL-SA-00837', 'INTEL-SA-00999'] });
runCase('own PKI: QE OutOfDate with platform SWHardeningNeeded', { qeSvn: 2, sgx0: 8 },
  { status: 'OutOfDate', advisories: ['INTEL-SA-00615', 'INTEL-SA-00837', 'INTEL-SA-00999'] });
runCase('own PKI: QE ISVSVN below every level', { qeSvn: 1 }, { reason: 'qe-tcb' });
runCase('own PKI: QE MRSIGNER differs', { qeMrsigner: '11'.repeat(32) }, { reason: 'qe-identity-mismatch' });
runCase('own PKI: QE in debug mode', { qeDebug: true }, { reason: 'qe-identity-mismatch' });
// each signature
runCase('own PKI: quote signature', { badQuoteSig: true }, { reason: 'quote-signature' });
runCase('own PKI: QE report signed by another key', { qeSigner: crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey }, { reason: 'qe-report-signature' });
runCase('own PKI: QE report data does not bind the attestation key', { badBinding: true }, { reason: 'qe-report-binding' });
runCase('own PKI: tcb_info signature over other text', { tcbInfoSigned: '{}' }, { reason: 'tcb-info-signature' });
runCase('own PKI: qe_identity signature', { badQeIdSig: true }, { reason: 'qe-identity-signature' });
// each chain link
cert('rogueca', 'Test SGX PCK Platform CA', 'root', { ca: true }); // same name, other key
runCase('own PKI: PCK signed by another CA key', { pckIssuer: 'rogueca' }, { reason: 'pck-chain' });
cert('otherroot', 'Test SGX Root CA', null, { ca: true });
const strayCa = cert('strayca', 'Test SGX PCK Platform CA', 'otherroot', { ca: true, key: 'pckca.key' });
runCase('own PKI: PCK CA not signed by the root', { pckIssuerPem: strayCa }, { reason: 'pck-chain' });
const strayTcb = cert('straytcb', 'Test SGX TCB Signing', 'otherroot', { key: 'tcbsign.key' });
runCase('own PKI: TCB signing cert not signed by the root', { tcbChainPem: strayTcb }, { reason: 'tcb-chain' });
runCase('own PKI: PCK certificate expired', { pckDays: 1 }, { reason: 'pck-chain' }, { at: NOW + 2 * 86400 });
runCase('own PKI: revoked PCK', { revokePck: true }, { reason: 'revoked' });
// collateral validity
runCase('own PKI: tcb_info expired', { tcbNext: NOW + 60 }, { reason: 'tcb-info-time' });
runCase('own PKI: tcb_info not yet valid', { tcbIssue: NOW + 7200 }, { reason: 'tcb-info-time' });
runCase('own PKI: qe_identity expired', { qeNext: NOW + 60 }, { reason: 'qe-identity-time' });
runCase('own PKI: qe_identity not yet valid', { qeIssue: NOW + 7200 }, { reason: 'qe-identity-time' });
runCase('own PKI: FMSPC differs', { tcbFmspc: '00906ed50001' }, { reason: 'fmspc' });
runCase('own PKI: SGX TCB info for a TDX quote', { tcbId: 'SGX' }, { reason: 'tcb-info-kind' });
runCase('own PKI: debug TD', { debugTd: true }, { reason: 'td-attributes' });
// stricter than dcap-qvl by design (dcap-qvl does not check CRL signatures or validity)
runCase('own PKI: PCK CRL past nextUpdate (stricter)', { pckCrlDays: 1 }, { reason: 'crl' }, { at: NOW + 2 * 86400, stricter: true });
runCase('own PKI: root CRL signed by another root (stricter)', { rootCrl: crl('otherroot') }, { reason: 'crl' }, { stricter: true });

// ------------------------------------------------------------ event log through the CLI
{
  const compose = Buffer.from('{"manifest_version":2,"name":"test","runner":"docker-compose"}');
  const events = [ev('app-id', Buffer.alloc(20, 7)), ev('compose-hash', crypto.createHash('sha256').update(compose).digest()),
    ev('instance-id', Buffer.alloc(20, 9)), ev('key-provider', Buffer.from('{"name":"kms","id":"00"}'))];
  const rtmr = replay(events);
  const p = { ...base, rtmr3: rtmr };
  const pk = pck(p);
  const pckCrl = crl('pckca');
  fs.writeFileSync(`${dir}/ev.quote`, quote(p, pk));
  fs.writeFileSync(`${dir}/ev.json`, collateral(p, pckCrl));
  fs.writeFileSync(`${dir}/ev.log`, JSON.stringify(events));
  fs.writeFileSync(`${dir}/app-compose.json`, compose);
  const run = (extra) => spawnSync(cli, ['attest', 'verify', '--quote', `${dir}/ev.quote`, '--collateral', `${dir}/ev.json`,
    '--test-root-ca', `${dir}/root.pem`, '--at', iso(AT), '--event-log', `${dir}/ev.log`, '--json', ...extra], { encoding: 'utf8' });
  let r = run(['--app-compose', `${dir}/app-compose.json`]);
  let j = JSON.parse(r.stdout);
  if (r.status === 0 && j.eventLog.rtmr3Matches && j.eventLog.appComposeMatches && j.eventLog.appId === '07'.repeat(20) &&
      j.eventLog.rtmr3 === rtmr.toString('hex')) ok('event log: replay, facts and app-compose');
  else fail('event log: replay, facts and app-compose', r.stdout + r.stderr);
  fs.writeFileSync(`${dir}/other-compose.json`, Buffer.concat([compose, Buffer.from(' ')]));
  r = run(['--app-compose', `${dir}/other-compose.json`]);
  j = JSON.parse(r.stdout);
  if (r.status === 1 && j.verified && j.eventLog.appComposeMatches === false) ok('event log: another app-compose is refused');
  else fail('event log: another app-compose is refused', r.stdout);
  const broken = events.slice();
  broken.splice(1, 1); // a dropped event: every digest is right, the replay is not
  fs.writeFileSync(`${dir}/ev.log`, JSON.stringify(broken));
  r = run([]);
  j = JSON.parse(r.stdout);
  if (r.status === 1 && j.eventLog.rtmr3Matches === false) ok('event log: a dropped event breaks the replay');
  else fail('event log: a dropped event breaks the replay', r.stdout);
  broken.splice(1, 0, { ...events[1], event_payload: '00'.repeat(32) }); // payload no longer matches its digest
  fs.writeFileSync(`${dir}/ev.log`, JSON.stringify(broken));
  r = run([]);
  j = JSON.parse(r.stdout);
  if (r.status === 1 && /listed digest/.test(j.eventLogError || '')) ok('event log: a payload that does not match its digest');
  else fail('event log: a payload that does not match its digest', r.stdout);
  // no collateral: parsed and replayed only, its own exit code
  r = spawnSync(cli, ['attest', 'verify', '--quote', `${dir}/ev.quote`, '--event-log', `${dir}/ev.json`], { encoding: 'utf8' });
  r = spawnSync(cli, ['attest', 'verify', '--quote', `${dir}/ev.quote`], { encoding: 'utf8' });
  if (r.status === 20 && /NOT VERIFIED: no --collateral/.test(r.stdout)) ok('no collateral: exit 20 and says so');
  else fail('no collateral: exit 20 and says so', `exit ${r.status}: ${r.stdout}`);
  // Intel's root is the default: our test chain must not verify without --test-root-ca
  r = spawnSync(cli, ['attest', 'verify', '--quote', `${dir}/ev.quote`, '--collateral', `${dir}/ev.json`, '--at', iso(AT), '--json'], { encoding: 'utf8' });
  j = JSON.parse(r.stdout);
  if (r.status === 1 && j.reason === 'crl') ok('production anchor refuses the test PKI');
  else fail('production anchor refuses the test PKI', r.stdout);
}

fs.rmSync(dir, { recursive: true, force: true });
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
