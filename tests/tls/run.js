// run.js — the `tls` suite: dstack-gov and dstack-authd over real TLS on
// loopback. A test CA, a second (untrusted) CA and server certificates are made
// here with the openssl CLI; TLS terminators (terminator.js, one per
// certificate, started and stopped by PID) forward to anvil with the real
// contracts. Checks: a private CA works through --rpc-ca-file, eth.rpc_ca_file
// and SSL_CERT_FILE; a wrong host name, an expired certificate, an untrusted CA
// and a plain-HTTP server on an https:// URL are each refused with a message
// that says which; nothing turns the checks off; a client pays one handshake
// per process and dstack-authd's cache misses pay none. The same for NEAR: the
// near CLI and dstack-authd's near backend through a terminator in front of
// `devnet up --near` (nemu-rpc, an emulation of the NEAR runtime).
// Ends with "N passed, N failed".
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const { startAnvil, rpc, httpReq, Chain, startAuthd, stopProc, TOP } = require('../authd/chain');
const { makePki, startTerminator } = require('./pki');

let passed = 0, failed = 0;
function check(name, cond, detail) {
  if (cond) { passed++; console.log(`ok   ${name}`); }
  else { failed++; console.log(`FAIL ${name}${detail !== undefined ? ': ' + (typeof detail === 'string' ? detail : JSON.stringify(detail)) : ''}`); }
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function until(fn, ms) {
  for (const t0 = Date.now(); Date.now() - t0 < ms; await sleep(20)) if (fn()) return true;
  return fn();
}
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tls-test-'));
const BUILD = process.env.BUILD || 'build';
const GOV = path.resolve(TOP, BUILD, 'dstack-gov');
const AUTHD = path.resolve(TOP, BUILD, 'dstack-authd');
// anvil's well-known TEST account 0 key (public, test chains only)
const TEST_KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';

const procs = [];
let nearDir = null; // a NEAR devnet this suite started (stopped by its recorded PID)
async function terminator(pki, name, toPort) {
  const t = await startTerminator(pki.cert(name), pki.key, toPort);
  procs.push(t.proc);
  return t;
}

function gov(args, env = {}) {
  const r = spawnSync(GOV, args, { encoding: 'utf8', env: { PATH: process.env.PATH, ...env }, timeout: 60000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
function authdOnce(args, env = {}) {
  const r = spawnSync(AUTHD, args, { encoding: 'utf8', env: { PATH: process.env.PATH, ...env }, timeout: 30000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

async function main() {
  const pki = makePki(tmp);
  const f = (n) => path.join(tmp, n);
  fs.writeFileSync(f('notpem.txt'), 'not a certificate\n');

  const anvil = await startAnvil();
  procs.push(anvil.proc);
  const ch = new Chain(anvil.url);
  await ch.init();
  const kms = await ch.deployGovernance();
  const OS = '11'.repeat(32), HASH = '22'.repeat(32), MR = '44'.repeat(32);
  await ch.kmsCall('setGatewayAppId(string)', ['string'], ['gw-tls']);
  await ch.kmsCall('addOsImageHash(bytes32)', ['bytes32'], [OS]);
  const app = (await ch.createApp({ allowAnyDevice: true, hash: HASH })).slice(2);

  const good = await terminator(pki, 'good', anvil.port);
  const expired = await terminator(pki, 'expired', anvil.port);
  const wrong = await terminator(pki, 'wronghost', anvil.port);
  const untrusted = await terminator(pki, 'untrusted', anvil.port);
  const chained = await terminator(pki, 'chained', anvil.port);
  const CA = pki.ca;

  // ------------------------------------------------------------ dstack-gov
  let h0 = good.all();
  let r = gov(['kms', 'info', '--rpc-url', good.url, '--rpc-ca-file', CA, '--kms', kms]);
  check('cli: kms info over https with --rpc-ca-file', r.code === 0 && r.out.toLowerCase().includes(kms.toLowerCase().slice(2)), r);
  await sleep(100);
  check('cli: kms info paid one handshake for all its requests', good.all() - h0 === 1, good.all() - h0);

  r = gov(['kms', 'info', '--rpc-url', good.url, '--kms', kms], { SSL_CERT_FILE: CA });
  check('cli: SSL_CERT_FILE is the default CA file', r.code === 0, r);
  r = gov(['kms', 'info', '--rpc-url', good.url.replace('127.0.0.1', 'localhost'), '--kms', kms], { SSL_CERT_FILE: CA });
  check('cli: a DNS name of the certificate works too', r.code === 0, r);
  r = gov(['kms', 'info', '--rpc-url', chained.url, '--rpc-ca-file', CA, '--kms', kms]);
  check('cli: a server sending an intermediate CA, the root in the CA file', r.code === 0, r);
  r = gov(['kms', 'info', '--rpc-url', chained.url, '--rpc-ca-file', pki.ica, '--kms', kms]);
  check('cli: the intermediate alone in the CA file is an anchor (as libcurl does)', r.code === 0, r);
  r = gov(['kms', 'info', '--rpc-url', chained.url, '--rpc-ca-file', pki.otherca, '--kms', kms]);
  check('cli: the chain under another CA is refused', r.code === 4 && r.err.includes('not signed by a trusted CA'), r);

  const IMG = '0x' + 'ab'.repeat(32);
  await sleep(100); // spawnSync blocked this loop: let the terminator's lines of the runs above arrive
  h0 = good.all();
  r = gov(['kms', 'add-image', IMG, '--rpc-url', good.url, '--rpc-ca-file', CA, '--kms', kms, '--yes'], { PRIVATE_KEY: TEST_KEY });
  check('cli: kms add-image over https', r.code === 0 && r.out.includes('Image added successfully'), r);
  await sleep(100);
  check('cli: the transaction (estimate, nonce, send, receipt) paid one handshake', good.all() - h0 === 1, good.all() - h0);
  const allowed = await rpc(anvil.url, 'eth_call', [{ to: kms, data: ch.sel(ch.kmsArt, 'allowedOsImages(bytes32)') + 'ab'.repeat(32) }, 'latest']);
  check('cli: the image is on chain', BigInt(allowed) === 1n, allowed);

  // refusals, each saying which check failed; exit code 4 = rpc-unreachable
  const refusals = [
    ['untrusted CA (the system store does not know the test CA)', good, [], 'is not signed by a trusted CA'],
    ['untrusted CA (signed by another CA than the CA file)', untrusted, ['--rpc-ca-file', CA], 'is not signed by a trusted CA'],
    ['expired certificate', expired, ['--rpc-ca-file', CA], "the server's certificate has expired"],
    ['wrong host name', wrong, ['--rpc-ca-file', CA], "the server's certificate is not valid for host 127.0.0.1"],
    ['plain-HTTP server on an https:// URL', { url: `https://127.0.0.1:${anvil.port}` }, ['--rpc-ca-file', CA],
      'TLS handshake failed: the server does not speak TLS'],
  ];
  for (const [name, t, extra, msg] of refusals) {
    r = gov(['kms', 'info', '--rpc-url', t.url, '--kms', kms, ...extra]);
    check(`cli refuses: ${name}`, r.code === 4 && r.err.includes(msg) && r.err.includes('TLS'), r);
  }
  r = gov(['kms', 'add-image', '0x' + 'cd'.repeat(32), '--rpc-url', expired.url, '--rpc-ca-file', CA, '--kms', kms, '--yes'], { PRIVATE_KEY: TEST_KEY });
  check('cli refuses: no transaction through an expired certificate', r.code === 4 && r.err.includes('has expired'), r);

  r = gov(['kms', 'info', '--rpc-url', good.url, '--rpc-ca-file', f('nope.pem'), '--kms', kms]);
  check('cli: a missing CA file is a config error naming it', r.code === 3 && r.err.includes('CA file ' + f('nope.pem') + ': No such file'), r);
  r = gov(['kms', 'info', '--rpc-url', good.url, '--rpc-ca-file', f('notpem.txt'), '--kms', kms]);
  check('cli: a CA file without a PEM certificate is refused', r.code === 3 && r.err.includes('no PEM certificate'), r);
  r = gov(['kms', 'info', '--rpc-url', good.url, '--kms', kms], { SSL_CERT_FILE: f('nope.pem') });
  check('cli: a bad SSL_CERT_FILE is refused, not ignored', r.code === 3 && r.err.includes('nope.pem'), r);

  // nothing turns verification off
  for (const flag of ['--insecure', '-k', '--no-verify', '--tls-insecure']) {
    r = gov(['kms', 'info', '--rpc-url', wrong.url, '--rpc-ca-file', CA, '--kms', kms, flag]);
    check(`cli: ${flag} is no option`, r.code === 2 && /unknown flag|unexpected argument/.test(r.err), r);
  }
  r = gov(['kms', 'info', '--rpc-url', good.url, '--kms', kms], { CURL_CA_BUNDLE: CA, SSL_CERT_DIR: tmp });
  check('cli: CURL_CA_BUNDLE and SSL_CERT_DIR do not change trust', r.code === 4 && r.err.includes('not signed by a trusted CA'), r);
  r = gov(['kms', 'info', '--rpc-url', good.url, '--rpc-ca-file', pki.otherca, '--kms', kms], { SSL_CERT_FILE: CA, SSL_CERT_DIR: tmp });
  check('cli: OpenSSL\'s own SSL_CERT_FILE / SSL_CERT_DIR cannot widen the CA file', r.code === 4 && r.err.includes('not signed by a trusted CA'), r);
  r = gov(['kms', 'info', '--help']);
  check('cli: --help documents --rpc-ca-file', r.code === 0 && r.out.includes('--rpc-ca-file'), r.out);

  // ------------------------------------------------------------ dstack-authd
  const boot = (over = {}) => ({
    teeVariant: 'dstack-tdx', mrAggregated: MR, osImageHash: OS, mrSystem: '77'.repeat(32), appId: app,
    composeHash: HASH, instanceId: '', deviceId: '33'.repeat(32), keyProviderInfo: '', tcbStatus: 'UpToDate', advisoryIds: [], ...over,
  });
  const post = (url, b) => httpReq(url + '/bootAuth/app', { method: 'POST', body: JSON.stringify(b), headers: { 'content-type': 'application/json' } });

  const base = ['--port', '0', '--kms-contract', kms, '--decision-log', ''];
  h0 = good.all();
  const A = await startAuthd(['--rpc-url', good.url, '--rpc-ca-file', CA, '--threads', '4', ...base]);
  procs.push(A.proc);
  r = await post(A.url, boot());
  check('authd: boot allowed over https (--rpc-ca-file)', r.status === 200 && r.json && r.json.isAllowed === true && r.json.gatewayAppId === 'gw-tls', r.text);
  // the poller opens its connection and then warms the 4 decision clients' (1 + 4)
  for (let t0 = Date.now(); good.all() - h0 < 5 && Date.now() - t0 < 10000;) await sleep(20);
  await sleep(100);
  const warm = good.all();
  check('authd: the poller and the 4 decision clients each opened one connection', warm - h0 === 5, warm - h0);
  check('authd: TLS sessions are shared: some of those connections resumed one', good.all() - good.full() > 0, good.log());
  // sequential misses, then concurrent misses: no new connection, no handshake
  for (let i = 1; i <= 5; i++) {
    r = await post(A.url, boot({ deviceId: i.toString(16).padStart(64, '0') }));
    if (!(r.json && r.json.isAllowed === true)) break;
  }
  check('authd: sequential misses allowed', r.json && r.json.isAllowed === true, r.text);
  const rs = await Promise.all([6, 7, 8, 9].map((i) => post(A.url, boot({ deviceId: i.toString(16).padStart(64, '0') }))));
  check('authd: concurrent misses allowed', rs.every((x) => x.json && x.json.isAllowed === true), rs.map((x) => x.text));
  await sleep(100);
  check('authd: cache misses paid no TLS handshake (kept-alive connections)', good.all() === warm, [good.all(), warm, good.log()]);
  r = await post(A.url, boot({ osImageHash: '99'.repeat(32) }));
  check('authd: a deny over https names the reason', r.json && r.json.isAllowed === false && /OS image/.test(r.json.reason), r.text);
  await stopProc(A.proc);

  // configuration: file key, SSL_CERT_FILE default, --check-config shows where it came from
  const conf = f('authd.toml');
  fs.writeFileSync(conf, `[eth]\nrpc_urls = ["${good.url}"]\nkms_contract = "${kms}"\nrpc_ca_file = "${CA}"\n`);
  r = authdOnce(['--config', conf, '--check-config']);
  check('authd: --check-config shows eth.rpc_ca_file', r.code === 0 && r.out.includes(`rpc_ca_file = "${CA}"  # only these CAs`), r);
  r = authdOnce(['--config', conf, '--check-config'], { SSL_CERT_FILE: f('otherca.pem') });
  check('authd: SSL_CERT_FILE does not replace the file\'s eth.rpc_ca_file', r.code === 0 && r.out.includes(`rpc_ca_file = "${CA}"`), r.out);
  r = authdOnce(['--rpc-url', good.url, '--kms-contract', kms, '--check-config'], { SSL_CERT_FILE: CA });
  check('authd: --check-config shows a CA file from SSL_CERT_FILE', r.code === 0 && r.out.includes(`rpc_ca_file = "${CA}"  # from environment SSL_CERT_FILE`), r.out);
  r = authdOnce(['--rpc-url', good.url, '--kms-contract', kms, '--check-config']);
  check('authd: --check-config shows the system store by default', r.code === 0 && r.out.includes('rpc_ca_file = ""  # the system\'s CA store'), r.out);
  fs.writeFileSync(f('bad.toml'), `[eth]\nrpc_urls = ["${good.url}"]\nkms_contract = "${kms}"\nrpc_ca_file = "${f('notpem.txt')}"\n`);
  r = authdOnce(['--config', f('bad.toml'), '--check-config']);
  check('authd: --check-config refuses a CA file without certificates', r.code === 2 && r.err.includes('eth.rpc_ca_file: CA file') && r.err.includes('no PEM certificate'), r);
  r = authdOnce(['--rpc-url', good.url, '--kms-contract', kms, '--check-config'], { SSL_CERT_FILE: f('nope.pem') });
  check('authd: a bad SSL_CERT_FILE is named', r.code === 2 && r.err.includes('from environment SSL_CERT_FILE'), r);
  // The start itself (not only --check-config) refuses an unusable CA file
  // once, at configuration, naming it: https:// and http:// URLs alike (a
  // reload may switch to https://; the file is checked once per process and
  // file, not by every RPC client; docs/authd.md, HTTPS).
  r = authdOnce(['--rpc-url', good.url, '--kms-contract', kms, '--port', '0'], { SSL_CERT_FILE: f('notpem.txt') });
  check('authd: start with https:// refuses a CA file from SSL_CERT_FILE without certificates', r.code === 2 &&
    r.err.includes(`CA file ${f('notpem.txt')}: no PEM certificate`) && r.err.includes('from environment SSL_CERT_FILE'), r);
  r = authdOnce(['--rpc-url', anvil.url, '--kms-contract', kms, '--port', '0'], { SSL_CERT_FILE: f('nope.pem') });
  check('authd: start with http:// only still refuses a missing SSL_CERT_FILE', r.code === 2 &&
    r.err.includes(`CA file ${f('nope.pem')}`) && r.err.includes('from environment SSL_CERT_FILE'), r);
  r = authdOnce(['--rpc-url', good.url, '--kms-contract', kms, '--check-config', '--insecure']);
  check('authd: --insecure is no option', r.code === 2 && r.err.includes('unknown flag --insecure'), r);
  r = authdOnce(['--help']);
  check('authd: --help documents --rpc-ca-file', r.code === 0 && r.out.includes('--rpc-ca-file') && r.out.includes('eth.rpc_ca_file'), r.out);

  const B = await startAuthd(['--config', conf, ...base.slice(0, 2), '--decision-log', '']);
  procs.push(B.proc);
  r = await post(B.url, boot({ deviceId: 'ee'.repeat(32) }));
  check('authd: boot allowed with eth.rpc_ca_file from the TOML file', r.json && r.json.isAllowed === true, r.text);
  await stopProc(B.proc);
  const C = await startAuthd(['--rpc-url', good.url, ...base], { env: { SSL_CERT_FILE: CA } });
  procs.push(C.proc);
  r = await post(C.url, boot({ deviceId: 'ef'.repeat(32) }));
  check('authd: boot allowed with SSL_CERT_FILE', r.json && r.json.isAllowed === true, r.text);
  await stopProc(C.proc);

  // SIGHUP re-reads a CA file that changed: the trust is loaded once per file, not forever
  const rot = f('rotating-ca.pem');
  fs.copyFileSync(CA, rot);
  const D = await startAuthd(['--rpc-url', good.url, '--rpc-ca-file', rot, ...base]);
  procs.push(D.proc);
  fs.copyFileSync(pki.otherca, rot);
  D.proc.kill('SIGHUP');
  let u = await until(() => /SIGHUP: eth backend not started, keeping the running one: .*not signed by a trusted CA/.test(D.stderr()), 8000);
  check('authd: SIGHUP with the CA file replaced by another CA refuses the new backend', u, D.stderr());
  r = await post(D.url, boot({ deviceId: 'f0'.repeat(32) }));
  check('authd: ... and keeps deciding with the running one', r.json && r.json.isAllowed === true, r.text);
  fs.writeFileSync(rot, fs.readFileSync(CA, 'utf8') + '\n');
  D.proc.kill('SIGHUP');
  u = await until(() => /SIGHUP: configuration reloaded/.test(D.stderr()), 8000);
  check('authd: SIGHUP with the right CA back in the file reloads', u, D.stderr());
  await stopProc(D.proc);

  // refusals at start: the daemon does not start (exit 1) and says why
  const startRefusals = [
    ['untrusted CA', good, [], 'is not signed by a trusted CA'],
    ['expired certificate', expired, ['--rpc-ca-file', CA], 'has expired'],
    ['wrong host name', wrong, ['--rpc-ca-file', CA], 'is not valid for host 127.0.0.1'],
    ['plain-HTTP server on an https:// URL', { url: `https://127.0.0.1:${anvil.port}` }, ['--rpc-ca-file', CA], 'does not speak TLS'],
  ];
  for (const [name, t, extra, msg] of startRefusals) {
    r = await startAuthd(['--rpc-url', t.url, ...extra, ...base], { expectFail: true });
    check(`authd refuses at start: ${name}`, r.code === 1 && r.stderr.includes(msg), r);
  }

  // ------------------------------------------------------------ NEAR over TLS
  // The local NEAR chain of `devnet up --near` (nemu-rpc: this project's
  // EMULATION of the NEAR runtime, not nearcore) behind the same terminator
  // kind: the near CLI and dstack-authd's near backend through https.
  nearDir = f('neardn');
  r = gov(['devnet', 'up', '--near', '--dir', nearDir]);
  check('near: devnet up --near (local chain for the TLS checks)', r.code === 0, r);
  const nenv = {};
  for (const m of gov(['devnet', 'env', '--near', '--dir', nearDir]).out.matchAll(/^export (\w+)=(.*)$/mg))
    nenv[m[1]] = m[2].replace(/^'(.*)'$/, '$1');
  const nport = +((nenv.NEAR_RPC_URL || '').match(/:(\d+)/) || [])[1];
  const ngood = await terminator(pki, 'good', nport);
  const nexp = await terminator(pki, 'expired', nport);
  const nenvTls = { NEAR_NETWORK_ID: 'local', KMS_CONTRACT_ID: nenv.KMS_CONTRACT_ID, NEAR_RPC_URL: ngood.url };
  h0 = ngood.all();
  r = gov(['near', 'kms', 'show', '--rpc-ca-file', CA, '--json'], nenvTls);
  check('near cli: kms show over https with --rpc-ca-file', r.code === 0 && r.out.includes(nenv.KMS_CONTRACT_ID), r);
  await sleep(100); // the terminator reports a handshake on its own stdout
  check('near cli: one handshake for the whole command', ngood.all() - h0 === 1, ngood.all() - h0);
  r = gov(['near', 'kms', 'show'], { ...nenvTls, SSL_CERT_FILE: CA });
  check('near cli: SSL_CERT_FILE trusts the private CA', r.code === 0, r);
  r = gov(['near', 'kms', 'show'], nenvTls);
  check('near cli: untrusted CA refused, named', r.code === 4 && r.err.includes('is not signed by a trusted CA'), r);
  r = gov(['near', 'kms', 'show', '--rpc-ca-file', CA], { ...nenvTls, NEAR_RPC_URL: nexp.url });
  check('near cli: expired certificate refused, named', r.code === 4 && r.err.includes('has expired'), r);
  r = gov(['near', 'kms', 'show', '--rpc-ca-file', CA], { ...nenvTls, NEAR_RPC_URL: `https://127.0.0.1:${nport}` });
  check('near cli: plain-HTTP NEAR node on an https:// URL refused, named', r.code === 4 && r.err.includes('does not speak TLS'), r);
  const nbase = ['--backend', 'near', '--kms-contract', nenv.KMS_CONTRACT_ID, '--network-id', '', '--port', '0', '--decision-log', ''];
  const N = await startAuthd(['--rpc-url', ngood.url, '--rpc-ca-file', CA, ...nbase]);
  procs.push(N.proc);
  r = await httpReq(N.url + '/');
  check('authd near: GET / over https names the KMS account and chain 397', r.status === 200 && r.json && r.json.kmsContractAddr === nenv.KMS_CONTRACT_ID && r.json.chainId === 397, r.text);
  r = await post(N.url, boot({}));
  check('authd near: a boot decided over https (not registered: denied with the contract reason)', r.status === 200 && r.json && r.json.isAllowed === false && r.json.reason === 'App not registered', r.text);
  await stopProc(N.proc);
  r = await startAuthd(['--rpc-url', ngood.url, ...nbase], { expectFail: true });
  check('authd near refuses at start: untrusted CA', r.code === 1 && r.stderr.includes('is not signed by a trusted CA'), r);
}

main().catch((e) => { failed++; console.log('FAIL suite: ' + (e.stack || e)); }).finally(async () => {
  for (const p of procs) await stopProc(p); // each by its own PID
  if (nearDir) gov(['devnet', 'down', '--near', '--dir', nearDir]);
  fs.rmSync(tmp, { recursive: true, force: true });
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
});
