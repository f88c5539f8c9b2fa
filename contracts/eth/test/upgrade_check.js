// upgrade_check.js — upgrade safety with @openzeppelin/upgrades-core, from forge's
// build-info: each implementation passes the validator, and upgrading a proxy whose
// storage holds the upstream NEW or OLD layout (contracts in test/layout/) to ours is
// safe. A deliberately broken layout must be rejected, so the check can fail.
'use strict';
const path = require('path');
const { root } = require('../tools/abi.js');
const { validateUpgradeSafety } = require(path.join(root, 'node_modules', '@openzeppelin', 'upgrades-core'));

const buildInfo = path.join(__dirname, '..', 'out', 'build-info');
let buildInfoDir = buildInfo;

async function one(contract, reference, opts) {
  const report = await validateUpgradeSafety(buildInfoDir, contract, reference, opts || {});
  return { ok: report.ok, detail: report.ok ? '' : report.explain() };
}

const CASES = [
  // [name, contract, reference, expected ok]
  ['upgrades-core: DstackKms is upgrade-safe', 'src/DstackKms.sol:DstackKms', undefined, true],
  ['upgrades-core: DstackApp is upgrade-safe', 'src/DstackApp.sol:DstackApp', undefined, true],
  // Our gatewayAppId carries upstream's `@custom:oz-renamed-from tproxyAppId` (for proxies
  // older than the rename); against a proxy that already says gatewayAppId that
  // annotation reads as a rename, so this one case allows renames.
  ['upgrades-core: upstream NEW DstackKms -> DstackKms', 'src/DstackKms.sol:DstackKms', 'test/layout/UpstreamLayouts.sol:UpstreamDstackKms', true, { unsafeAllowRenames: true }],
  ['upgrades-core: pre-rename (tproxyAppId) DstackKms -> DstackKms', 'src/DstackKms.sol:DstackKms', 'test/layout/UpstreamLayouts.sol:UpstreamTproxyDstackKms', true],
  ['upgrades-core: upstream NEW DstackApp -> DstackApp', 'src/DstackApp.sol:DstackApp', 'test/layout/UpstreamLayouts.sol:UpstreamDstackApp', true],
  ['upgrades-core: upstream OLD DstackApp -> DstackApp', 'src/DstackApp.sol:DstackApp', 'test/layout/UpstreamLayouts.sol:UpstreamOldDstackApp', true],
  ['upgrades-core: broken layout is rejected (negative control)', 'test/layout/UpstreamLayouts.sol:BrokenDstackApp', 'test/layout/UpstreamLayouts.sol:UpstreamDstackApp', false],
];

function run() {
  // validateUpgradeSafety is async; run the cases synchronously via a child process so
  // abi_check.js stays a simple sequential script.
  const { execFileSync } = require('child_process');
  // stderr (upgrades-core's notes about the test mocks' reinitializers) is dropped;
  // every verdict comes back in the JSON on stdout.
  const out = execFileSync(process.execPath, [__filename, '--child'], {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return JSON.parse(out);
}

// The newest build-info that holds a complete compilation of everything validated here
// (incremental forge builds add partial ones next to it), alone in a temp directory.
function completeBuildInfo() {
  const fs = require('fs');
  const os = require('os');
  const need = ['src/DstackKms.sol', 'src/DstackApp.sol', 'test/layout/UpstreamLayouts.sol'];
  const files = fs.readdirSync(buildInfo)
    .filter((f) => f.endsWith('.json'))
    .map((f) => path.join(buildInfo, f))
    .sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
  for (const f of files) {
    const j = JSON.parse(fs.readFileSync(f, 'utf8'));
    const have = Object.keys((j.output && j.output.contracts) || {});
    if (need.every((n) => have.includes(n))) {
      const d = fs.mkdtempSync(path.join(os.tmpdir(), 'dg-buildinfo-'));
      fs.copyFileSync(f, path.join(d, path.basename(f)));
      return d;
    }
  }
  return null;
}

async function child() {
  const res = [];
  const dir = completeBuildInfo();
  if (!dir) {
    res.push({ name: 'upgrades-core: a complete build-info', ok: false,
      detail: `none in ${buildInfo}; run: make -B eth-build` });
    require('fs').writeSync(1, JSON.stringify(res));
    return;
  }
  buildInfoDir = dir;
  for (const [name, c, r, want, opts] of CASES) {
    let got;
    try {
      got = await one(c, r, opts);
    } catch (e) {
      got = { ok: false, detail: String(e && e.message ? e.message : e) };
    }
    res.push({ name, ok: got.ok === want, detail: got.ok === want ? '' : `expected ok=${want}: ${got.detail}` });
  }
  require('fs').rmSync(dir, { recursive: true });
  require('fs').writeSync(1, JSON.stringify(res));
}

if (process.argv[2] === '--child') child();
module.exports = { run };
