// harness.js — what the dstack-authd suites share (tests/authd/run.js for the
// eth backend, tests/authd/near.js for the near backend): counting checks,
// a KMS-shaped BootInfo and POST, polling, metrics, and the daemons started
// (killed at the end whatever happens). A suite calls suite(name, main): it
// prints "N passed, N failed" and exits non-zero on any failure.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { httpReq, startAuthd } = require('./chain');

const counts = { passed: 0, failed: 0 };
function check(name, cond, detail) {
  if (cond) counts.passed++;
  else {
    counts.failed++;
    console.log(`FAIL ${name}${detail !== undefined ? ': ' + (typeof detail === 'string' ? detail : JSON.stringify(detail)) : ''}`);
  }
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A BootInfo exactly as the KMS sends it: lowercase hex, no 0x, extra fields.
const OS = '11'.repeat(32), HASH = '22'.repeat(32), DEV = '33'.repeat(32), MR = '44'.repeat(32);
function boot(over = {}) {
  return {
    teeVariant: 'dstack-tdx', mrAggregated: MR, osImageHash: OS, mrSystem: '77'.repeat(32), appId: 'fe'.repeat(20),
    composeHash: HASH, instanceId: '', deviceId: DEV, keyProviderInfo: '7b7d', tcbStatus: 'UpToDate',
    advisoryIds: [], ...over,
  };
}
function post(url, route, body, headers = { 'content-type': 'application/json' }) {
  return httpReq(url + '/bootAuth/' + route, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), headers });
}
async function until(fn, ms) {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v || Date.now() - t0 > ms) return { ok: !!v, ms: Date.now() - t0 };
    await sleep(20);
  }
}
function metric(text, name) {
  const line = text.split('\n').find((l) => l.startsWith(name + ' ') || l.startsWith(name + '{') && l.includes(name));
  return line ? Number(line.split(' ').pop()) : NaN;
}

const procs = [];
async function authd(args, opts) {
  const a = await startAuthd(args, opts);
  if (a.proc) procs.push(a.proc);
  return a;
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'authd-test-'));

// name, when given, prefixes the closing line ("soak: N passed, N failed").
function suite(main, name) {
  process.on('uncaughtException', (e) => { counts.failed++; console.log('FAIL uncaught exception: ' + (e.stack || e)); });
  main().catch((e) => { counts.failed++; console.log('FAIL suite aborted: ' + (e.stack || e)); })
    .finally(async () => {
      for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
      fs.rmSync(tmp, { recursive: true, force: true });
      console.log(`${name ? name + ': ' : ''}${counts.passed} passed, ${counts.failed} failed`);
      process.exit(counts.failed ? 1 : 0);
    });
}

module.exports = { check, sleep, boot, post, until, metric, authd, procs, tmp, suite, OS, HASH, DEV, MR };
