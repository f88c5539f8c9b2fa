// rootkey-fixture.mjs OUTDIR — request_kms_root_key arguments for the NEAR
// tests (tests/near/test_rootkey.c), signed by the attest suite's test PKI
// (tests/attest/pki.mjs; TEST KEYS ONLY, the production kms.wasm trusts Intel's
// root alone). Writes into OUTDIR:
//   root.json        {"root_der_hex": ...} for kms-test.wasm's test_set_trust_anchor
//   at               the unix time the collateral is valid at
//   measurements.json {mrtd, rtmr0, rtmr1, rtmr2} the quotes carry
//   allowed          SHA-256 hex of the good docker_compose_file
//   <case>.json      the method's arguments, one attested worker per case
//   workers.json     {c: {public_key, secret_key}, d: ...}: TEST KEYS of workers C, D
// Workers are NEAR accounts whose ed25519 keys are 32 bytes of 0xa1 (worker A)
// and 0xb2 (worker B) — raw bytes for the emulator's unsigned calls — and, for
// signed transactions (the MPC end-to-end test, the CLI), real key pairs from
// the seeds 32 × 0xc3 (worker C, case good-c) and 32 × 0xd4 (worker D, good-d);
// report data = 00 01 ‖ SHA3-384(key) ‖ zeros.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { baseEncode } from 'near-api-js';
import { dir, AT, base, rootPem, pemToDer, crl, pck, quote, collateral, ev, replay } from '../attest/pki.mjs';

const out = process.argv[2];
fs.mkdirSync(out, { recursive: true });
const sha256 = (b) => crypto.createHash('sha256').update(b).digest();
const KEY_A = Buffer.alloc(32, 0xa1), KEY_B = Buffer.alloc(32, 0xb2);
// an ed25519 key pair from a seed (PKCS#8 = fixed prefix ‖ seed)
function keyPair(seed) {
  const priv = crypto.createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]), format: 'der', type: 'pkcs8' });
  const pub = crypto.createPublicKey(priv).export({ format: 'der', type: 'spki' }).subarray(-32);
  return { pub, public_key: 'ed25519:' + baseEncode(pub), secret_key: 'ed25519:' + baseEncode(Buffer.concat([seed, pub])) };
}
const WORKER_C = keyPair(Buffer.alloc(32, 0xc3)), WORKER_D = keyPair(Buffer.alloc(32, 0xd4));
const reportData = (key) => Buffer.concat([Buffer.from([0, 1]), crypto.createHash('sha3-384').update(key).digest(), Buffer.alloc(14)]);
const MRTD = Buffer.alloc(48, 0x11), RTMRS = [Buffer.alloc(48, 0x20), Buffer.alloc(48, 0x21), Buffer.alloc(48, 0x22)];
const DOCKER = 'services:\n  kms:\n    image: dstack-kms@sha256:0123\n';
const composeObj = { manifest_version: 2, name: 'kms', runner: 'docker-compose', docker_compose_file: DOCKER,
  kms_enabled: true, gateway_enabled: false, public_logs: true, public_sysinfo: true, local_key_provider_enabled: false,
  secure_time: true };
const hex = (b) => b.toString('hex');
const pckCrl = crl('pckca');
const pk = pck(base);

// One case: over.quote (quote options), over.compose (app-compose changes),
// over.events (events → events), over.tcb (tcb_info → tcb_info), over.key.
function make(name, over = {}) {
  const appCompose = JSON.stringify({ ...composeObj, ...(over.compose || {}) });
  let events = [ev('app-id', Buffer.alloc(20, 7)), ev('compose-hash', sha256(Buffer.from(appCompose))),
    ev('instance-id', Buffer.alloc(20, 9)), ev('key-provider', Buffer.from('{"name":"kms","id":"00"}'))];
  const rtmr3 = replay(events);
  if (over.events) events = over.events(events);
  const p = { ...base, mrtd: MRTD, rtmrs: RTMRS, rtmr3, reportData: reportData(over.key || KEY_A), ...(over.quote || {}) };
  // the TCB level comes from the PCK certificate: its own for an older platform
  const q = quote(p, p.sgx0 === base.sgx0 ? pk : pck(p));
  let tcb = { mrtd: hex(p.mrtd), rtmr0: hex(RTMRS[0]), rtmr1: hex(RTMRS[1]), rtmr2: hex(RTMRS[2]), rtmr3: hex(rtmr3),
    os_image_hash: '00'.repeat(32), compose_hash: hex(sha256(Buffer.from(appCompose))), device_id: '00'.repeat(32),
    app_compose: appCompose, event_log: events, vm_config: '{"a member":"this contract ignores"}' };
  if (over.tcb) tcb = over.tcb(tcb);
  const args = { quote_hex: hex(q), collateral: collateral(p, pckCrl), tcb_info: JSON.stringify(tcb),
    worker_public_key: over.worker || 'bls12381g1:test-worker' };
  fs.writeFileSync(`${out}/${name}.json`, JSON.stringify(args));
}

const upToDateWithAdvisory = [{
  tcb: { sgxtcbcomponents: [9, ...Array(15).fill(0)].map((svn) => ({ svn })), pcesvn: 10,
    tdxtcbcomponents: [5, ...Array(15).fill(0)].map((svn) => ({ svn })) },
  tcbDate: '2024-03-13T00:00:00Z', tcbStatus: 'UpToDate', advisoryIDs: ['INTEL-SA-00001'] }];

make('good');
make('good-b', { key: KEY_B });
make('good-c', { key: WORKER_C.pub });
make('good-d', { key: WORKER_D.pub });
make('quote-signature', { quote: { badQuoteSig: true } });
make('tcb-out-of-date', { quote: { sgx0: 5 } });
make('tcb-advisory', { quote: { levels: upToDateWithAdvisory } });
make('report-data', { key: KEY_B }); // signed for worker B, sent by worker A
make('unknown-measurements', { quote: { mrtd: Buffer.alloc(48, 0x12) } });
make('tcb-info', { tcb: (t) => ({ ...t, rtmr1: '33'.repeat(48) }) });
make('rtmr3', { events: (e) => e.filter((x) => x.event !== 'instance-id') });
make('compose-hash', { tcb: (t) => ({ ...t, compose_hash: '44'.repeat(32) }) });
make('app-compose', { compose: { kms_enabled: false } });
make('compose-allowed', { compose: { docker_compose_file: DOCKER + '# other\n' } });
fs.writeFileSync(`${out}/root.json`, JSON.stringify({ root_der_hex: hex(pemToDer(rootPem)) }));
fs.writeFileSync(`${out}/at`, String(AT));
const pair = ({ public_key, secret_key }) => ({ public_key, secret_key });
fs.writeFileSync(`${out}/workers.json`, JSON.stringify({ c: pair(WORKER_C), d: pair(WORKER_D) }));
fs.writeFileSync(`${out}/measurements.json`, JSON.stringify({ mrtd: hex(MRTD), rtmr0: hex(RTMRS[0]), rtmr1: hex(RTMRS[1]), rtmr2: hex(RTMRS[2]) }));
fs.writeFileSync(`${out}/allowed`, hex(sha256(Buffer.from(DOCKER))));
fs.rmSync(dir, { recursive: true, force: true });
