// soak.js — `make soak`: dstack-authd under mixed load against anvil with the
// real contracts for SOAK_SECONDS (default 60), with a governance change every
// SOAK_CHANGE_SECONDS (default 60; at least one change is made). Not part of
// `make test`: it is a long run for a release or an issue, not a gate.
//
// Load: SOAK_CLIENTS (default 4) keep-alive clients, each looping over
//   allowed   an app and compose hash the KMS allows (cache hits)
//   denied    an app the KMS never registered
//   misses    a fresh tcbStatus every time (a new cache key: an RPC round trip)
//   toggled   the compose hash the governance change adds and removes
//   invalid   a body that is not a BootInfo (400)
// Fails on: any wrong allow (denied/invalid allowed, or the toggled hash
// allowed more than 1 s after its removal was mined), any flip later than 1 s
// after a change was mined (the last old answer to a request started after
// it), any request without an answer, or RSS growth beyond SOAK_RSS_GROWTH_KB
// (default 4096) between the end of the warm-up and the end. Prints the
// figures and "soak: N passed, N failed".
'use strict';
const { startAnvil, httpReq, Chain, stopProc } = require('./chain');
const { check, sleep, boot, authd, suite, OS, HASH } = require('./harness');
const fs = require('fs');

const SECONDS = Number(process.env.SOAK_SECONDS || 60);
const CHANGE_S = Number(process.env.SOAK_CHANGE_SECONDS || 60);
const CLIENTS = Number(process.env.SOAK_CLIENTS || 4);
const RSS_BOUND_KB = Number(process.env.SOAK_RSS_GROWTH_KB || 4096);
const WARMUP_MS = 5000;
const FLIP_MS = 1000;

const TOGGLED = '66'.repeat(32);
const rssKb = (pid) => Number((fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/) || [])[1]);

async function main() {
  const anvil = await startAnvil();
  const ch = new Chain(anvil.url);
  await ch.init();
  const kms = await ch.deployGovernance();
  await ch.kmsCall('setGatewayAppId(string)', ['string'], ['gw-soak']);
  await ch.kmsCall('addOsImageHash(bytes32)', ['bytes32'], [OS]);
  const app = (await ch.createApp({ allowAnyDevice: true, hash: HASH })).slice(2);
  await ch.appCall('0x' + app, 'addComposeHash(bytes32)', ['bytes32'], ['0x' + TOGGLED]);
  const A = await authd(['--rpc-url', anvil.url, '--kms-contract', kms, '--port', '0', '--decision-log', '', '--threads', '2']);
  const pid = A.proc.pid;

  // the toggled hash: allowed until the first change; changes[] records when each was mined
  let toggledAllowed = true;
  const changes = []; // { at, allowed }
  const stats = { allowed: 0, denied: 0, misses: 0, toggled: 0, invalid: 0, errors: 0 };
  const wrong = [], lateOld = [];
  const t0 = Date.now();
  const end = t0 + SECONDS * 1000;
  let rssStart = null, rssMax = 0, seq = 0;
  const latencies = [];

  // the truth for the toggled hash at time t: { value, settled } (settled: more than FLIP_MS after the last change)
  function truthAt(t) {
    let value = true, last = -Infinity;
    for (const c of changes) if (c.at <= t) { value = c.allowed; last = c.at; }
    return { value, settled: t - last > FLIP_MS };
  }

  async function client(k) {
    const kinds = ['allowed', 'denied', 'misses', 'toggled', 'invalid'];
    let i = k;
    while (Date.now() < end) {
      const kind = kinds[i++ % kinds.length];
      const ts = Date.now();
      let body;
      if (kind === 'allowed') body = boot({ appId: app });
      else if (kind === 'denied') body = boot({ appId: '99'.repeat(20) });
      else if (kind === 'misses') body = boot({ appId: app, tcbStatus: 'M' + seq++ });
      else if (kind === 'toggled') body = boot({ appId: app, composeHash: TOGGLED });
      else body = '{"appId": "not hex"}';
      let r;
      try {
        r = await httpReq(A.url + '/bootAuth/app', { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body),
          headers: { 'content-type': 'application/json' } });
      } catch (e) { stats.errors++; continue; }
      const te = Date.now();
      latencies.push(te - ts);
      if (latencies.length > 200000) latencies.splice(0, 100000);
      stats[kind]++;
      const allowed = !!(r.json && r.json.isAllowed === true);
      if (kind === 'denied' || kind === 'invalid') {
        if (allowed) wrong.push({ kind, at: ts - t0 });
      } else if (kind === 'allowed' || kind === 'misses') {
        if (!allowed) stats.errors++; // a deny here is a backend failure, not a policy change
      } else {
        const before = truthAt(ts), after = truthAt(te);
        // the answer may come from any state between the request's start and end
        if (allowed && !before.value && before.settled && !after.value) wrong.push({ kind, at: ts - t0 });
        const lastChange = changes.length ? changes[changes.length - 1] : null;
        if (lastChange && ts >= lastChange.at && allowed !== lastChange.allowed)
          lateOld.push({ change: changes.length, after: ts - lastChange.at });
      }
    }
  }

  async function governance() {
    let next = t0 + Math.min(CHANGE_S * 1000, Math.max(WARMUP_MS + 2000, (SECONDS * 1000) / 2));
    while (Date.now() < end - 2 * FLIP_MS) {
      if (Date.now() < next) { await sleep(50); continue; }
      const add = !toggledAllowed;
      await ch.appCall('0x' + app, add ? 'addComposeHash(bytes32)' : 'removeComposeHash(bytes32)', ['bytes32'], ['0x' + TOGGLED]);
      toggledAllowed = add;
      changes.push({ at: Date.now(), allowed: add }); // mined (anvil automines; the call returns on the receipt)
      next += CHANGE_S * 1000;
    }
  }

  async function sampler() {
    while (Date.now() < end) {
      const v = rssKb(pid);
      if (Date.now() - t0 >= WARMUP_MS && rssStart === null) rssStart = v;
      rssMax = Math.max(rssMax, v);
      await sleep(500);
    }
  }

  await Promise.all([...Array.from({ length: CLIENTS }, (_, k) => client(k)), governance(), sampler()]);
  const rssEnd = rssKb(pid);
  const total = Object.entries(stats).filter(([k]) => k !== 'errors').reduce((a, [, v]) => a + v, 0);
  latencies.sort((a, b) => a - b);
  const flips = changes.map((c, i) => {
    const late = lateOld.filter((x) => x.change === i + 1);
    return late.length ? Math.max(...late.map((x) => x.after)) : 0;
  });
  console.log(`soak: ${SECONDS} s, ${CLIENTS} clients, ${total} decisions (${Math.round(total / SECONDS)}/s): ` +
    Object.entries(stats).map(([k, v]) => `${k} ${v}`).join(', '));
  console.log(`soak: latency p50 ${latencies[Math.floor(latencies.length / 2)]} ms, p99 ${latencies[Math.floor(latencies.length * 0.99)]} ms, max ${latencies[latencies.length - 1]} ms`);
  console.log(`soak: ${changes.length} governance change(s); last old answer after each (ms): ${flips.join(', ') || '-'}`);
  console.log(`soak: RSS ${rssStart} KiB after warm-up, ${rssEnd} KiB at the end, max ${rssMax} KiB (bound +${RSS_BOUND_KB} KiB)`);
  check('at least one governance change was made', changes.length >= 1, changes.length);
  check('no wrong allow', wrong.length === 0, wrong.slice(0, 5));
  check(`every decision flip within ${FLIP_MS} ms of the change being mined`, flips.every((f) => f <= FLIP_MS), flips);
  check('every request answered, no backend failure', stats.errors === 0, stats.errors);
  check('RSS growth within the bound', rssStart !== null && rssEnd - rssStart <= RSS_BOUND_KB, [rssStart, rssEnd]);
  const ex = await stopProc(A.proc);
  check('the daemon exits 0 on SIGTERM', ex && ex.code === 0, ex);
  anvil.proc.kill('SIGKILL');
}

suite(main, 'soak');
