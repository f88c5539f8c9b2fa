// bench.js — dstack-authd figures, printed side by side with dstack's own
// webhooks: requests/s and p50/p99 on cache hits (wrk 2 threads / 16
// connections), one-connection latency on misses against anvil, peak RSS,
// and the time from exec to the first answer. Loopback only.
'use strict';
const { spawn, spawnSync } = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const { startAnvil, Chain, httpReq, stopProc, rpc, TOP } = require('../../tests/authd/chain');
const { startNemu, NearWorld } = require('../../tests/authd/nemu');
const { makePki, startTerminator } = require('../../tests/tls/pki');

const BIN = path.join(TOP, process.env.BUILD || 'build', 'dstack-authd');
const READY = path.join(TOP, process.env.BUILD || 'build', 'bench', 'authd-ready');
const SECS = process.env.BENCH_SECONDS || '5';
const OS = '11'.repeat(32), HASH = '22'.repeat(32), DEV = '33'.repeat(32);

function freePort() {
  return new Promise((resolve) => { const s = net.createServer(); s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); }); });
}
// Send one raw request on a fresh connection; resolves true on an HTTP 200.
function tryOnce(port, body) {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    let got = '';
    sock.on('connect', () => sock.write(`POST /bootAuth/app HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`));
    sock.on('data', (d) => { got += d; });
    sock.on('end', () => resolve(/^HTTP\/1\.1 200/.test(got)));
    sock.on('error', () => resolve(false));
  });
}
function wrk(args, env) {
  const r = spawnSync('wrk', args, { env: { ...process.env, ...env }, encoding: 'utf8' });
  const out = r.stdout || '';
  const rps = Number((out.match(/Requests\/sec:\s+([\d.]+)/) || [])[1]);
  const toMs = (s) => { const m = s.match(/([\d.]+)(us|ms|s)/); if (!m) return NaN; return +m[1] * (m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1); };
  const p50 = toMs((out.match(/^\s+50%\s+(\S+)/m) || [])[1] || '');
  const p99 = toMs((out.match(/^\s+99%\s+(\S+)/m) || [])[1] || '');
  const non2xx = Number((out.match(/Non-2xx or 3xx responses: (\d+)/) || [0, 0])[1]);
  return { rps, p50, p99, non2xx, out };
}
function rssKiB(pid) {
  const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const r = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  return { hwm: +(s.match(/VmHWM:\s+(\d+)/) || [])[1], rss: +(s.match(/VmRSS:\s+(\d+)/) || [])[1],
    anon: +(r.match(/Anonymous:\s+(\d+)/) || [])[1], shared: +(r.match(/Shared_Clean:\s+(\d+)/) || [])[1] };
}

// bench/authd/ready.c on the daemon with args `daemon`: [best, median] ms.
function readyRunner(bodyFile, logFile) {
  return (pre, post, daemon) => {
    const r = spawnSync(READY, [...pre, bodyFile, '--', BIN, ...daemon, '--decision-log', logFile, ...post], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error('authd-ready failed: ' + r.stderr + r.stdout);
    const m = r.stdout.match(/best ([\d.]+) ms, median ([\d.]+) ms/);
    return [Number(m[1]), Number(m[2])];
  };
}

// The boot request of the benchmarks (app allowed, a cache miss at first).
function bootBody(appId) {
  return JSON.stringify({ teeVariant: 'dstack-tdx', mrAggregated: '44'.repeat(32), osImageHash: OS, mrSystem: '55'.repeat(32),
    appId, composeHash: HASH, instanceId: '', deviceId: DEV, keyProviderInfo: '7b7d', tcbStatus: 'UpToDate', advisoryIds: [] });
}
// anvil with the real contracts: an OS image allowed, one app with one device and hash.
async function ethWorld() {
  const anvil = await startAnvil();
  const ch = new Chain(anvil.url);
  await ch.init();
  const kms = await ch.deployGovernance();
  await ch.kmsCall('setGatewayAppId(string)', ['string'], ['gw-bench']);
  await ch.kmsCall('addOsImageHash(bytes32)', ['bytes32'], [OS]);
  const app = (await ch.createApp({ device: DEV, hash: HASH })).slice(2);
  return { anvil, ch, kms, body: bootBody(app) };
}
// The same on nemu-rpc (1 s blocks, as nearcore's) with the real contract wasm.
async function nearWorld() {
  const nemu = await startNemu([]);
  const W = new NearWorld(nemu.url);
  await W.init();
  await W.owned('set_gateway_app_id', { app_id: 'ab'.repeat(20) });
  await W.owned('add_os_image_hash', { os_image_hash: OS });
  const APP = 'a1'.repeat(20);
  await W.createApp(APP, { device: DEV, hash: HASH });
  return { nemu, W, APP, body: bootBody(APP) };
}

// The NEAR backend on nemu-rpc (1 s blocks, as nearcore's): the same figures,
// and nemu's own time for the views one miss reads, asked directly.
// ethHit: when given, one eth-backend hit run (wrk) whose daemon is still up;
// the NEAR hit runs then alternate with it (order swapped each round), so both
// backends are measured under the same load on this shared machine.
async function benchNear(readyRun, bodyFile, logFile, ethHit) {
  const { nemu, W, APP, body } = await nearWorld();
  fs.writeFileSync(bodyFile, body);
  const daemon = ['--backend', 'near', '--rpc-url', nemu.url, '--kms-contract', W.kms];
  const rport = await freePort();
  readyRun(['3', String(rport)], ['--port', String(rport)], daemon);
  const starts = [...readyRun(['11', String(rport)], ['--port', String(rport)], daemon), ...readyRun(['--socket-activation', '11'], [], daemon)];

  const port = await freePort();
  const p = spawn(BIN, [...daemon, '--port', String(port), '--threads', '2', '--decision-log', logFile], { stdio: 'ignore' });
  while (!(await tryOnce(port, body))) await new Promise((r) => setTimeout(r, 5));
  const url = `http://127.0.0.1:${port}`;
  const hitRuns = [], ethRuns = [];
  const nearHit = () => hitRuns.push(wrk(['-t2', '-c16', `-d${SECS}s`, '--latency', '-s', path.join(__dirname, 'post.lua'), url], { BODY: body }));
  for (let i = 0; i < 3; i++) {
    if (ethHit && i % 2) ethRuns.push(ethHit());
    nearHit();
    if (ethHit && !(i % 2)) ethRuns.push(ethHit());
  }
  const alt = { near: hitRuns.reduce((a, r) => a + r.rps, 0), eth: ethRuns.reduce((a, r) => a + r.rps, 0), n: ethRuns.length };
  hitRuns.sort((a, b) => a.rps - b.rps);
  const rss = rssKiB(p.pid);

  // nemu's own answer time for the views of one miss, pinned to one final
  // block as the daemon asks: one connection cycling through the three views
  // (p50 x 3). Misses and views are measured in alternation, three rounds, on
  // this shared machine; the median round is reported.
  const fin = (await rpc(nemu.url, 'block', { finality: 'final' })).header.hash;
  const bootArgs = JSON.stringify({ boot_info: { app_id: APP, compose_hash: HASH, instance_id: '', device_id: DEV, mr_aggregated: '44'.repeat(32),
    mr_system: '55'.repeat(32), os_image_hash: OS, tcb_status: 'Miss-0-1', advisory_ids: [] } });
  const view = (account, method, args) => JSON.stringify({ jsonrpc: '2.0', id: 'dontcare', method: 'query', params: {
    request_type: 'call_function', block_id: fin, account_id: account, method_name: method, args_base64: Buffer.from(args).toString('base64') } });
  const bodies = [view(W.kms, 'is_app_registered', `{"app_id":"${APP}.${W.kms}"}`), view(W.kms, 'is_os_image_allowed', `{"os_image_hash":"${OS}"}`),
    view(`${APP}.${W.kms}`, 'is_app_allowed', bootArgs)].join('\n');
  const rounds = [];
  for (let i = 0; i < 3; i++) {
    const miss = wrk(['-t1', '-c1', `-d${SECS}s`, '--latency', '-s', path.join(__dirname, 'post.lua'), url], { BODY: body, MISS: '1' });
    const views = wrk(['-t1', '-c1', `-d${SECS}s`, '--latency', '-s', path.join(__dirname, 'post.lua'), nemu.url], { BODIES: bodies, TARGET: '/' });
    rounds.push({ miss, viewSum: 3 * views.p50, view: views.p50 });
  }
  rounds.sort((x, y) => (x.miss.p50 - x.viewSum) - (y.miss.p50 - y.viewSum));
  const { miss, viewSum } = rounds[1];
  await stopProc(p);
  await stopProc(nemu.proc);
  return { alt, hits: hitRuns[1], hitBest: hitRuns[2].rps, hitNon2xx: hitRuns.reduce((a, r) => a + r.non2xx, 0), miss, rss, starts,
    viewSum, rounds: rounds.map((r) => [r.miss.p50, r.viewSum]) };
}

function printNear(near, ethHits) {
  const f = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
  console.log('dstack-authd --backend near (loopback, nemu-rpc: the local NEAR runtime emulation, real contract wasm; decision log on)');
  console.log(`  cache hits  (wrk -t2 -c16 ${SECS}s, median of 3): ${f(near.hits.rps, 0)} req/s (best ${f(near.hitBest, 0)}), p50 ${f(near.hits.p50, 3)} ms, p99 ${f(near.hits.p99, 3)} ms, non-2xx ${near.hitNon2xx}   (the eth backend's run above, at another moment: ${f(ethHits, 0)}; compare the interleaved line)`);
  if (near.alt.n)
    console.log(`  interleaved with the eth backend (same load; 3 rounds each, order swapped every round): near ${f(near.alt.near / 3, 0)} req/s vs eth ${f(near.alt.eth / near.alt.n, 0)} req/s mean, ratio ${f(near.alt.near / 3 / (near.alt.eth / near.alt.n))}   target >= 1 (within noise)`);
  console.log(`  cache misses (wrk -t1 -c1 ${SECS}s; 3 views each: is_app_registered, is_os_image_allowed, is_app_allowed): ${f(near.miss.rps, 0)} req/s, p50 ${f(near.miss.p50, 3)} ms, p99 ${f(near.miss.p99, 3)} ms, non-2xx ${near.miss.non2xx}`);
  console.log(`  nemu-rpc's own answer time for the same 3 views (one connection cycling through them, p50 x 3): ${f(near.viewSum, 3)} ms; the miss adds ${f(near.miss.p50 - near.viewSum, 3)} ms   target <= 0.3 ms`);
  console.log(`    (3 alternating rounds, miss p50 / views: ${near.rounds.map(([a, b]) => `${f(a, 3)}/${f(b, 3)}`).join(', ')}; the median round above)`);
  console.log(`  peak RSS: ${f(near.rss.hwm / 1024)} MiB (now ${f(near.rss.rss / 1024)} MiB)   target <= 6 MiB`);
  console.log(`  exec to first answer (11 fresh processes, the first request a miss served from nemu-rpc): own port best ${f(near.starts[0])} ms, median ${f(near.starts[1])} ms; socket activation best ${f(near.starts[2])} ms, median ${f(near.starts[3])} ms   target <= 8 ms`);
}

// BENCH_ONLY=start: exec to first answer alone, for both backends and socket
// activation, for one or more daemon binaries (BENCH_BINS=a:b, default the
// build's) measured in alternation: ROUNDS rounds (BENCH_ROUNDS, default 3) of
// 11 fresh processes per binary and way, the binaries' order swapped every
// round, so a before/after pair sees the same machine load. Best and median
// are over all runs of a binary and way (ROUNDS x 11).
async function benchStart() {
  const bins = (process.env.BENCH_BINS || BIN).split(':');
  const rounds = Number(process.env.BENCH_ROUNDS || 3);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'authd-bench-start-'));
  const logFile = path.join(tmp, 'decisions.log');
  const { anvil, kms, body: eb } = await ethWorld();
  const { nemu, W, body: nb } = await nearWorld();
  const ethBody = path.join(tmp, 'eth.json'), nearBody = path.join(tmp, 'near.json');
  fs.writeFileSync(ethBody, eb);
  fs.writeFileSync(nearBody, nb);
  const rport = await freePort();
  const ways = [
    ['eth, own port', ethBody, ['11', String(rport)], ['--port', String(rport)], ['--rpc-url', anvil.url, '--kms-contract', kms]],
    ['eth, socket activation', ethBody, ['--socket-activation', '11'], [], ['--rpc-url', anvil.url, '--kms-contract', kms]],
    ['near, own port', nearBody, ['11', String(rport)], ['--port', String(rport)], ['--backend', 'near', '--rpc-url', nemu.url, '--kms-contract', W.kms]],
    ['near, socket activation', nearBody, ['--socket-activation', '11'], [], ['--backend', 'near', '--rpc-url', nemu.url, '--kms-contract', W.kms]],
  ];
  const runOnce = (bin, [, body, pre, post, daemon]) => {
    const r = spawnSync(READY, [...pre, body, '--', bin, ...daemon, '--decision-log', logFile, ...post], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`authd-ready failed (${bin}): ` + r.stderr + r.stdout);
    return [...r.stdout.matchAll(/^run \d+: ([\d.]+) ms \(cpu ([\d.]+) ms, (\d+) minor faults\)$/gm)]
      .map((m) => ({ wall: Number(m[1]), cpu: Number(m[2]), faults: Number(m[3]) }));
  };
  for (const w of ways) for (const b of bins) runOnce(b, [w[0], w[1], w[2][0] === '11' ? ['3', String(rport)] : ['--socket-activation', '3'], w[3], w[4]]); // warm-up
  const times = bins.map(() => ways.map(() => []));
  for (let r = 0; r < rounds; r++) {
    const order = bins.map((_, i) => i);
    if (r % 2) order.reverse();
    ways.forEach((w, wi) => order.forEach((bi) => times[bi][wi].push(...runOnce(bins[bi], w))));
  }
  await stopProc(nemu.proc);
  await stopProc(anvil.proc);
  fs.rmSync(tmp, { recursive: true, force: true });
  console.log(`dstack-authd exec to first answer (bench/authd/ready.c; the first request a miss served from anvil / nemu-rpc; ${rounds} rounds x 11 fresh processes per binary and way, binaries alternated)`);
  console.log(`  load average now: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} (2 cores; CPU time and faults move little with it, wall time does)`);
  bins.forEach((b, bi) => {
    console.log(`  ${b}`);
    ways.forEach(([name], wi) => {
      const col = (k) => times[bi][wi].map((x) => x[k]).sort((x, y) => x - y);
      const t = col('wall'), med = (a) => a[a.length >> 1];
      console.log(`    ${name.padEnd(24)} best ${t[0].toFixed(2)} ms, median ${med(t).toFixed(2)} ms   target <= 8 ms;` +
        ` its own CPU time to the answer median ${med(col('cpu')).toFixed(2)} ms, minor faults median ${med(col('faults'))}`);
    });
  });
}

(async () => {
  if (process.env.BENCH_ONLY === 'start') return benchStart();
  if (process.env.BENCH_ONLY === 'near') { // the NEAR figures alone
    const bodyFile = path.join(os.tmpdir(), `authd-bench-body-${process.pid}.json`), logFile = path.join(os.tmpdir(), `authd-bench-${process.pid}.log`);
    printNear(await benchNear(readyRunner(bodyFile, logFile), bodyFile, logFile), NaN);
    fs.rmSync(bodyFile, { force: true });
    fs.rmSync(logFile, { force: true });
    return;
  }
  const { anvil, kms, body } = await ethWorld();
  const logFile = path.join(os.tmpdir(), `authd-bench-${process.pid}.log`);

  // Exec to first answer: bench/authd/ready.c forks and execs the daemon and
  // sends one POST /bootAuth/app (a cache miss: one batch to anvil) until it
  // is answered 200; 11 fresh processes each, best and median. Two ways: the
  // daemon binds its own port (the harness connects every 50 us), and systemd
  // socket activation (the socket is handed over, the request queued before exec).
  const bodyFile = path.join(os.tmpdir(), `authd-bench-body-${process.pid}.json`);
  fs.writeFileSync(bodyFile, body);
  const readyRun = (pre, post, rpcArgs = ['--rpc-url', anvil.url]) => {
    const r = spawnSync(READY, [...pre, bodyFile, '--', BIN, ...rpcArgs, '--kms-contract', kms,
      '--decision-log', logFile, ...post], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error('authd-ready failed: ' + r.stderr + r.stdout);
    const m = r.stdout.match(/best ([\d.]+) ms, median ([\d.]+) ms/);
    return [Number(m[1]), Number(m[2])];
  };
  const rport = await freePort();
  readyRun(['3', String(rport)], ['--port', String(rport)]); // warm-up (anvil's first calls), not counted
  const starts = [...readyRun(['11', String(rport)], ['--port', String(rport)]), ...readyRun(['--socket-activation', '11'], [])];

  // HTTPS: the same daemon against https:// through a TLS terminator in front
  // of anvil (tests/tls/terminator.js, a test CA made here), and, to tell the
  // cost of TLS from the cost of the extra hop, through the same proxy
  // without TLS. Start, cache-miss latency on kept-alive connections, RSS.
  const pkiDir = fs.mkdtempSync(path.join(os.tmpdir(), 'authd-bench-pki-'));
  const pki = makePki(pkiDir);
  // the test CA appended to the system's bundle: the daemon parses as many CAs
  // as with the system's store (what an operator on a public provider runs)
  const bundle = path.join(pkiDir, 'bundle.pem');
  fs.writeFileSync(bundle, fs.readFileSync('/etc/ssl/certs/ca-certificates.crt', 'utf8') + fs.readFileSync(pki.ca, 'utf8'));
  const tlsT = await startTerminator(pki.cert('good'), pki.key, anvil.port);
  const plainT = await startTerminator('-', '-', anvil.port);
  const viaTls = ['--rpc-url', tlsT.url, '--rpc-ca-file', bundle];
  const viaPlain = ['--rpc-url', plainT.url];
  readyRun(['3', String(rport)], ['--port', String(rport)], viaTls); // warm-up
  const startsTls = readyRun(['11', String(rport)], ['--port', String(rport)], viaTls);
  const startsPlain = readyRun(['11', String(rport)], ['--port', String(rport)], viaPlain);
  fs.rmSync(bodyFile, { force: true });
  // A long-running daemon: misses on one connection (wrk -c1), RSS after.
  const missRun = async (rpcArgs, t) => {
    const mp = await freePort();
    const d = spawn(BIN, [...rpcArgs, '--kms-contract', kms, '--port', String(mp), '--threads', '2', '--decision-log', logFile], { stdio: 'ignore' });
    while (!(await tryOnce(mp, body))) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 300)); // the decision clients' connections are open
    const h0 = t.all();
    const w = wrk(['-t1', '-c1', `-d${SECS}s`, '--latency', '-s', path.join(__dirname, 'post.lua'), `http://127.0.0.1:${mp}`], { BODY: body, MISS: '1' });
    const handshakes = t.all() - h0;
    const rs = rssKiB(d.pid);
    await stopProc(d);
    return { ...w, rss: rs, handshakes };
  };
  const missTls = await missRun(viaTls, tlsT);
  const missPlain = await missRun(viaPlain, plainT);
  await stopProc(tlsT.proc);
  await stopProc(plainT.proc);
  fs.rmSync(pkiDir, { recursive: true, force: true });

  const port = await freePort();
  const p = spawn(BIN, ['--rpc-url', anvil.url, '--kms-contract', kms, '--port', String(port), '--threads', '2', '--decision-log', logFile], { stdio: 'ignore' });
  while (!(await tryOnce(port, body))) await new Promise((r) => setTimeout(r, 5));
  const url = `http://127.0.0.1:${port}`;
  // Three runs (the machine is shared): report the median run and the best.
  const hitRuns = [];
  for (let i = 0; i < 3; i++) hitRuns.push(wrk(['-t2', '-c16', `-d${SECS}s`, '--latency', '-s', path.join(__dirname, 'post.lua'), url], { BODY: body }));
  hitRuns.sort((a, b) => a.rps - b.rps);
  const hits = hitRuns[1];
  const miss = wrk(['-t1', '-c1', `-d${SECS}s`, '--latency', '-s', path.join(__dirname, 'post.lua'), url], { BODY: body, MISS: '1' });
  const m = await httpReq(url + '/metrics');
  const misses = Number((m.text.match(/authd_cache_misses_total (\d+)/) || [])[1]);
  const rss = rssKiB(p.pid);
  const ethHit = () => wrk(['-t2', '-c16', `-d${SECS}s`, '--latency', '-s', path.join(__dirname, 'post.lua'), url], { BODY: body });
  const near = await benchNear(readyRunner(bodyFile, logFile), bodyFile, logFile, ethHit);
  await stopProc(p);
  await stopProc(anvil.proc);
  fs.rmSync(bodyFile, { force: true });
  // anvil alone, one eth_call per request, for scale
  fs.rmSync(logFile, { force: true });

  const f = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
  console.log('dstack-authd benchmark (loopback, anvil, wrk; decision log on)');
  console.log(`  cache hits  (wrk -t2 -c16 ${SECS}s, median of 3): ${f(hits.rps, 0)} req/s (best ${f(hitRuns[2].rps, 0)}), p50 ${f(hits.p50, 3)} ms, p99 ${f(hits.p99, 3)} ms, non-2xx ${hitRuns.reduce((a, r) => a + r.non2xx, 0)}   target >= 35000 req/s`);
  console.log(`  load average during the run: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} (2 cores: wrk, anvil and dstack-authd share them)`);
  console.log(`  cache misses (wrk -t1 -c1 ${SECS}s): ${f(miss.rps, 0)} req/s, p50 ${f(miss.p50, 3)} ms, p99 ${f(miss.p99, 3)} ms, non-2xx ${miss.non2xx}   target p50 <= 0.5 ms`);
  console.log(`  misses served from the chain: ${misses}`);
  console.log(`  peak RSS: ${f(rss.hwm / 1024)} MiB (now ${f(rss.rss / 1024)} MiB: ${f(rss.anon / 1024)} MiB the daemon's own memory, ${f(rss.shared / 1024)} MiB shared library pages)   target <= 6 MiB`);
  console.log(`  exec to first answer (bench/authd/ready.c, 11 fresh processes, the first request a miss served from anvil):`);
  console.log(`    binding its own port (harness connects every 50 us): best ${f(starts[0])} ms, median ${f(starts[1])} ms   target <= 8 ms`);
  console.log(`    systemd socket activation (request queued before exec): best ${f(starts[2])} ms, median ${f(starts[3])} ms   target <= 8 ms`);
  console.log('  https:// (TLS terminator in front of anvil; --rpc-ca-file = the system bundle + the test CA; libcurl + OpenSSL loaded on first use):');
  console.log(`    exec to first answer (binding its own port, 11 runs): https best ${f(startsTls[0])} ms, median ${f(startsTls[1])} ms;` +
    ` same proxy without TLS best ${f(startsPlain[0])} ms, median ${f(startsPlain[1])} ms`);
  console.log(`    cache misses (wrk -t1 -c1 ${SECS}s): https p50 ${f(missTls.p50, 3)} ms, p99 ${f(missTls.p99, 3)} ms (${f(missTls.rps, 0)} req/s, non-2xx ${missTls.non2xx});` +
    ` same proxy without TLS p50 ${f(missPlain.p50, 3)} ms, p99 ${f(missPlain.p99, 3)} ms (${f(missPlain.rps, 0)} req/s)`);
  console.log(`    TLS handshakes during those ${f(missTls.rps * SECS, 0)} misses: ${missTls.handshakes} (connections kept alive)`);
  console.log(`    RSS after the misses: https ${f(missTls.rss.rss / 1024)} MiB (peak ${f(missTls.rss.hwm / 1024)}: ${f(missTls.rss.anon / 1024)} MiB own,` +
    ` ${f(missTls.rss.shared / 1024)} MiB shared library pages); without TLS ${f(missPlain.rss.rss / 1024)} MiB (peak ${f(missPlain.rss.hwm / 1024)})`);
  console.log('  for scale (same machine class, issue 4): Node auth-eth 558 req/s, p50 28 ms, 123 MiB, 338 ms; Bun 3543 req/s, p50 4.3 ms, 64 MiB, 84 ms');
  printNear(near, hits.rps);
})().catch((e) => { console.error('bench failed:', e); process.exit(1); });
