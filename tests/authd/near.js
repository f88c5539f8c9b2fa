// near.js — the `authd-near` suite: dstack-authd --backend near over real
// HTTP on loopback, against nemu-rpc (tests/near: a local EMULATION of the
// NEAR runtime running the real KMS and app contract wasm, not a NEAR node),
// plus fake RPC endpoints (fakerpc.js, NEAR table) that fail in every way the
// daemon must survive. Ends with "N passed, N failed".
'use strict';
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { httpReq, stopProc, TOP } = require('./chain');
const { FakeRpc, NEAR, faultMatrix } = require('./fakerpc');
const { startNemu, NearWorld } = require('./nemu');
const { check, sleep, boot, post, until, metric, authd, procs, tmp, suite, OS, HASH, DEV, MR } = require('./harness');

const GW = 'ab'.repeat(20);           // the gateway's hex app id (decision §8.6)
const KMSDEV = '55'.repeat(32), HASH2 = '66'.repeat(32), OTHER = '88'.repeat(32);
const APP = 'a1'.repeat(20), APP_TCB = 'a2'.repeat(20), APP_ANY = 'a3'.repeat(20), UNREG = 'a9'.repeat(20);

async function main() {
  const t0 = Date.now();
  const nemu = await startNemu();
  procs.push(nemu.proc);
  const W = new NearWorld(nemu.url);
  await W.init();
  await W.owned('set_gateway_app_id', { app_id: GW });
  await W.owned('add_os_image_hash', { os_image_hash: OS });
  await W.owned('add_kms_aggregated_mr', { mr_aggregated: MR });
  await W.owned('add_kms_device', { device_id: KMSDEV });
  const appAcc = await W.createApp(APP, { device: DEV, hash: HASH });
  await W.createApp(APP_TCB, { hash: HASH, allowAnyDevice: true, requireTcb: true });
  const anyAcc = await W.createApp(APP_ANY, { hash: HASH2, allowAnyDevice: true });

  const common = ['--backend', 'near', '--port', '0', '--refresh-ms', '50', '--info-cache-ms', '10'];
  const logFile = path.join(tmp, 'near-decisions.log');
  // the auth-near environment: NEAR_RPC_URL, KMS_CONTRACT_ID; an ETH_RPC_URL left over is ignored
  const A = await authd([...common, '--decision-log', logFile],
    { env: { NEAR_RPC_URL: nemu.url, KMS_CONTRACT_ID: W.kms, ETH_RPC_URL: 'http://127.0.0.1:1' } });
  const U = A.url;

  // ------------------------------------------------------------ GET /
  let r = await httpReq(U + '/');
  const j = r.json || {};
  check('GET / fields: status, KMS account, gateway id, numeric chainId, backend, snapshot',
    r.status === 200 && j.status === 'ok' && j.kmsContractAddr === W.kms && j.gatewayAppId === GW &&
    j.chainId === 397 && typeof j.chainId === 'number' && j.backend === 'near' && j.snapshot === 'final' &&
    Number.isInteger(j.snapshotBlock) && typeof j.networkId === 'string' && j.networkId.length > 0, r.text);

  // ------------------------------------------------------------ every reason, app route
  const appCases = [
    ['allowed', boot({ appId: APP }), true, ''],
    ['allowed (any device)', boot({ appId: APP_ANY, composeHash: HASH2, deviceId: OTHER }), true, ''],
    ['not registered', boot({ appId: UNREG }), false, 'App not registered'],
    ['OS image not allowed', boot({ appId: APP, osImageHash: OTHER }), false, 'OS image is not allowed'],
    ['compose hash not allowed', boot({ appId: APP, composeHash: HASH2 }), false, 'Compose hash not allowed'],
    ['device not allowed', boot({ appId: APP, deviceId: OTHER }), false, 'Device not allowed'],
    ['TCB required and not up to date', boot({ appId: APP_TCB, tcbStatus: 'OutOfDate' }), false, 'TCB status is not up to date'],
    ['TCB not required', boot({ appId: APP, tcbStatus: 'OutOfDate' }), true, ''],
  ];
  for (const [name, b, allowed, reason] of appCases) {
    r = await post(U, 'app', b);
    check(`app: ${name}`, r.status === 200 && r.json && r.json.isAllowed === allowed && r.json.reason === reason &&
      r.json.gatewayAppId === GW && Object.keys(r.json).length === 3, r.text);
  }
  const kmsCases = [
    ['allowed', boot({ deviceId: KMSDEV }), true, ''],
    ['TCB not up to date', boot({ deviceId: KMSDEV, tcbStatus: 'OutOfDate' }), false, 'TCB status is not up to date'],
    ['OS image not allowed', boot({ deviceId: KMSDEV, osImageHash: OTHER }), false, 'OS image is not allowed'],
    ['aggregated MR not allowed', boot({ deviceId: KMSDEV, mrAggregated: OTHER }), false, 'Aggregated MR not allowed'],
    ['device not allowed', boot({ deviceId: DEV }), false, 'KMS is not allowed to boot on this device'],
  ];
  for (const [name, b, allowed, reason] of kmsCases) {
    r = await post(U, 'kms', b);
    check(`kms: ${name}`, r.status === 200 && r.json && r.json.isAllowed === allowed && r.json.reason === reason &&
      r.json.gatewayAppId === GW, r.text);
  }
  r = await post(U, 'app', boot({ appId: APP, composeHash: '22'.repeat(31) }));
  check('invalid body: 400 naming the field', r.status === 400 && r.json && r.json.isAllowed === false && /composeHash/.test(r.json.reason), r.text);
  // a block every 100 ms here: a pair of requests inside one block is a miss then a hit
  const hit = await until(async () => {
    await post(U, 'app', boot({ appId: APP }));
    const x = await post(U, 'app', boot({ appId: APP }));
    const mm = await httpReq(U + '/metrics');
    return x.json && x.json.isAllowed === true && metric(mm.text, 'authd_cache_hits_total') >= 1;
  }, 3000);
  check('a repeated decision in one block is a cache hit', hit.ok, hit);
  const mt = (await httpReq(U + '/metrics')).text;
  check('metrics: backend, snapshot block and per-endpoint RPC counters', /authd_backend_info\{backend="near"\} 1/.test(mt) &&
    metric(mt, 'authd_snapshot_block') > 0 && metric(mt, 'authd_snapshot_valid') === 1 &&
    /authd_rpc_requests_total\{endpoint="http:\/\/127\.0\.0\.1:\d+"\} [1-9]/.test(mt), mt);

  // ------------------------------------------------------------ revocation on the next final block
  const b0 = boot({ appId: APP, tcbStatus: 'Revoke' });
  r = await post(U, 'app', b0);
  check('revocation: allowed before', r.json && r.json.isAllowed === true, r.text);
  await W.app(appAcc, 'remove_compose_hash', { compose_hash: HASH });
  const rev = await until(async () => { const x = await post(U, 'app', b0); return x.json && x.json.isAllowed === false && x.json.reason === 'Compose hash not allowed'; }, 5000);
  check('revocation reaches decisions once its block is final', rev.ok, rev);
  await W.app(appAcc, 'add_compose_hash', { compose_hash: HASH });
  await W.owned('deregister_app', { app_id: APP_ANY });
  const dereg = await until(async () => {
    const x = await post(U, 'app', boot({ appId: APP_ANY, composeHash: HASH2, deviceId: OTHER }));
    return x.json && x.json.isAllowed === false && x.json.reason === 'App not registered' && x.json.gatewayAppId === GW;
  }, 5000);
  check('deregistration: "App not registered" (with the gateway id)', dereg.ok, dereg);
  const back = await until(async () => { const x = await post(U, 'app', b0); return x.json && x.json.isAllowed === true; }, 5000);
  check('re-added compose hash: allowed again', back.ok, back);

  // decision log: the block of every decision, the endpoint
  await sleep(150);
  const lines = fs.readFileSync(logFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const allow = lines.find((l) => l.isAllowed && l.route === 'app');
  check('decision log: block, block hash, endpoint', allow && Number.isInteger(allow.block) && /^[0-9a-f]{64}$/.test(allow.blockHash) &&
    allow.endpoint === nemu.url, allow);

  // ------------------------------------------------------------ one block per decision, parallel views
  const F = await new FakeRpc(nemu.url, NEAR).start();
  const P = await authd(['--backend', 'near', '--rpc-url', F.url, '--kms-contract', W.kms, '--port', '0', '--refresh-ms', '50',
    '--deadline-ms', '800', '--rpc-timeout-ms', '500', '--info-cache-ms', '10', '--decision-log', '']);
  const PU = P.url;
  r = await post(PU, 'app', boot({ appId: APP }));
  check('via fake: allowed', r.json && r.json.isAllowed === true, r.text);
  F.logging = true; F.log = [];
  r = await post(PU, 'app', boot({ appId: APP, tcbStatus: 'OneBlock' }));
  const views = F.log.filter(([meth, p]) => meth === 'query' && p.request_type === 'call_function');
  const blocks = new Set(views.map(([, p]) => p.block_id));
  check('a miss: its views all name one block hash, none a finality', views.length >= 3 && blocks.size === 1 &&
    views.every(([, p]) => typeof p.block_id === 'string' && p.finality === undefined), views);
  F.logging = false;
  // parallel: with every view delayed 200 ms, a miss of three or four views takes about one delay
  // (the helper threads start one refresh, 50 ms here, after the start; until then views run in turn)
  await sleep(100);
  F.mode = 'slowCalls'; F.delay = 200;
  let t = Date.now();
  r = await post(PU, 'app', boot({ appId: APP, tcbStatus: 'Parallel' }));
  let ms = Date.now() - t;
  check('the views of a miss run in parallel', r.json && r.json.isAllowed === true && ms < 2 * 200, [r.text, ms]);
  // straddling: the policy view is held while the compose hash is removed; the decision still reads one block
  F.slowIf = (q) => q.method === 'query' && q.params && q.params.method_name === 'is_app_allowed';
  F.delay = 400;
  const held = post(PU, 'app', boot({ appId: APP, tcbStatus: 'Straddle' }));
  await sleep(100);
  await W.app(appAcc, 'remove_compose_hash', { compose_hash: HASH });
  await W.app(appAcc, 'add_compose_hash', { compose_hash: HASH2 });
  r = await held;
  check('a decision whose views straddle a change reads one block (allowed, as at its block)', r.json && r.json.isAllowed === true, r.text);
  F.mode = 'pass'; F.slowIf = null;
  const after = await until(async () => { const x = await post(PU, 'app', boot({ appId: APP, tcbStatus: 'Straddle' })); return x.json && x.json.reason === 'Compose hash not allowed'; }, 5000);
  check('...and the change reaches the next decision at a later block', after.ok, after);
  await W.app(appAcc, 'add_compose_hash', { compose_hash: HASH });

  // ------------------------------------------------------------ fault matrix
  const failures = faultMatrix(F, ['another network', 'authorization backend network mismatch']);
  let n = 0;
  for (const [name, set, reason] of failures) {
    set();
    await sleep(120); // the snapshot thread sees it too
    t = Date.now();
    const fb = boot({ appId: APP, tcbStatus: 'F' + n++ });
    r = await post(PU, 'app', fb);
    ms = Date.now() - t;
    check(`${name}: deny "${reason}"`, r.status === 200 && r.json && r.json.isAllowed === false && r.json.reason === reason, r.text);
    check(`${name}: answered within the deadline`, ms < 800 + 300, ms);
    const info = await httpReq(PU + '/');
    check(`${name}: GET / is 500`, info.status === 500 && info.json && info.json.status === 'error', info.text);
    F.mode = 'pass';
    const w = await until(async () => { const x = await post(PU, 'app', fb); return x.json && x.json.isAllowed === true; }, 3000);
    check(`${name}: recovers (the failure was not cached)`, w.ok, w);
  }
  check('daemon survived every failure', P.proc.exitCode === null);

  // ------------------------------------------------------------ quorum
  const F2 = await new FakeRpc(nemu.url, NEAR).start();
  const Q = await authd(['--backend', 'near', '--rpc-url', F.url, '--rpc-url', F2.url, '--quorum', '2', '--kms-contract', W.kms,
    '--port', '0', '--refresh-ms', '50', '--decision-log', '']);
  r = await post(Q.url, 'app', boot({ appId: APP }));
  check('quorum 2/2 agree: allowed', r.json && r.json.isAllowed === true, r.text);
  F2.mode = 'flip';
  r = await post(Q.url, 'app', boot({ appId: APP, tcbStatus: 'Q1' }));
  check('quorum: endpoints disagree -> deny', r.json && r.json.isAllowed === false && r.json.reason === 'RPC endpoints disagree', r.text);
  F2.mode = 'pass';
  r = await post(Q.url, 'app', boot({ appId: APP, tcbStatus: 'Q2' }));
  check('quorum: recovers', r.json && r.json.isAllowed === true, r.text);
  F2.mode = 'down';
  r = await post(Q.url, 'app', boot({ appId: APP, tcbStatus: 'Q3' }));
  check('quorum: an endpoint down -> deny', r.json && r.json.isAllowed === false, r.text);
  F2.mode = 'pass';
  // failover without quorum: the first endpoint dead, the second answers
  const FO = await authd(['--backend', 'near', '--rpc-url', 'http://127.0.0.1:1', '--rpc-url', nemu.url, '--kms-contract', W.kms,
    '--port', '0', '--decision-log', '']);
  r = await post(FO.url, 'app', boot({ appId: APP }));
  check('failover: the second endpoint answers', r.json && r.json.isAllowed === true, r.text);

  // ------------------------------------------------------------ configuration
  const bad = await authd(['--backend', 'near', '--rpc-url', nemu.url, '--kms-contract', W.kms, '--network-id', 'othernet', '--port', '0'],
    { expectFail: true });
  check('a pinned network the node does not report: the daemon refuses to start', bad.code === 1 && /network/.test(bad.stderr), bad);
  const noKms = await authd(['--backend', 'near', '--rpc-url', nemu.url, '--kms-contract', 'nosuch.test', '--port', '0'], { expectFail: true });
  check('a KMS account that does not exist: the daemon refuses to start naming it', noKms.code === 1 && /KMS contract nosuch\.test/.test(noKms.stderr), noKms);
  const notKms = await authd(['--backend', 'near', '--rpc-url', nemu.url, '--kms-contract', 'dev.test', '--port', '0'], { expectFail: true });
  check('an account without the KMS contract: refused too', notKms.code === 1 && /KMS contract dev\.test/.test(notKms.stderr), notKms);
  const local = await authd(['--backend', 'near', '--port', '0', '--decision-log', ''],
    { env: { NEAR_RPC_URL: nemu.url, KMS_CONTRACT_ID: W.kms, NEAR_NETWORK_ID: 'local' } });
  r = await httpReq(local.url + '/');
  check('NEAR_NETWORK_ID=local (dstack-gov devnet env): the local chain\'s id is learned and shown', r.json && r.json.networkId === 'localnet', r.text);
  const opt = await authd(['--backend', 'near', '--rpc-url', nemu.url, '--kms-contract', W.kms, '--finality', 'optimistic', '--port', '0',
    '--decision-log', '']);
  r = await httpReq(opt.url + '/');
  check('--finality optimistic: GET / says so', r.json && r.json.snapshot === 'optimistic', r.text);
  r = await post(opt.url, 'app', boot({ appId: APP }));
  check('optimistic: decisions work', r.json && r.json.isAllowed === true, r.text);
  const noContract = await authd(['--backend', 'near', '--rpc-url', nemu.url, '--port', '0'], { expectFail: true });
  check('near without a KMS account: exit 2 naming the key', noContract.code === 2 && /near\.contract_id|KMS_CONTRACT_ID/.test(noContract.stderr), noContract);
  const badAcc = await authd(['--backend', 'near', '--rpc-url', nemu.url, '--kms-contract', 'Not_An.Account', '--port', '0'], { expectFail: true });
  check('near with an invalid account: exit 2', badAcc.code === 2 && /near\.contract_id/.test(badAcc.stderr), badAcc);
  const both = path.join(tmp, 'both.toml');
  fs.writeFileSync(both, `backend = "near"\n[eth]\nrpc_urls = ["${nemu.url}"]\n[near]\ncontract_id = "${W.kms}"\n`);
  const bothR = await authd(['--config', both], { expectFail: true });
  check('a file with [eth] and [near] keys is refused', bothR.code === 2 && /one chain/.test(bothR.stderr), bothR);
  const file = path.join(tmp, 'near.toml');
  fs.writeFileSync(file, `backend = "near"\n[server]\nport = 0\ndecision_log = ""\n[near]\nrpc_urls = ["${nemu.url}"]\ncontract_id = "${W.kms}"\nfinality = "final"\nquorum = 1\ndeadline_ms = 2000\n`);
  const C = await authd(['--config', file]);
  r = await post(C.url, 'kms', boot({ deviceId: KMSDEV }));
  check('TOML [near] section: kms allowed', r.json && r.json.isAllowed === true, r.text);

  // systemd socket activation through bench/authd/ready.c: the socket is fd 3
  const bodyFile = path.join(tmp, 'near-boot.json');
  fs.writeFileSync(bodyFile, JSON.stringify(boot({ appId: APP })));
  const sa = spawnSync(path.join(TOP, process.env.BUILD || 'build', 'bench', 'authd-ready'), ['--socket-activation', '1', bodyFile, '--',
    path.join(TOP, process.env.BUILD || 'build', 'dstack-authd'), '--backend', 'near', '--rpc-url', nemu.url, '--kms-contract', W.kms,
    '--decision-log', ''], { encoding: 'utf8', timeout: 30000, env: { PATH: process.env.PATH } });
  check('socket activation: a 200 over the inherited socket', sa.status === 0 &&
    /exec to first answer over 1 runs \(socket activation\)/.test(sa.stdout), sa.stdout + sa.stderr);

  // SIGHUP reload and SIGTERM
  C.proc.kill('SIGHUP');
  await sleep(300);
  r = await post(C.url, 'app', boot({ appId: APP }));
  check('SIGHUP: still answering after a reload', r.json && r.json.isAllowed === true && /reloaded \(backend near\)/.test(C.stderr()), C.stderr());
  const codes = [];
  for (const p of procs.slice(1)) {
    if (p.exitCode !== null || p.signalCode !== null) continue;
    const e = await stopProc(p);
    codes.push(e && e.code);
  }
  check('every daemon exits 0 on SIGTERM', codes.length >= 5 && codes.every((c) => c === 0), codes);
  await F.stop(); await F2.stop();
  await stopProc(nemu.proc);
  console.log(`authd-near suite took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

suite(main);
