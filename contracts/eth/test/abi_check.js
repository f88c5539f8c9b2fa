#!/usr/bin/env node
// abi_check.js — the compiled contracts against reference.json (reference/ethereum.md
// §1): every selector, event topic, error selector, interface id, PolicyChanged key,
// well-known slot and the storage layout slot by slot; then OpenZeppelin
// upgrades-core: our implementations are upgrade-safe, and safe upgrades of proxies
// holding the upstream NEW and OLD layouts (upgrade_check.js). Ends "N passed, N failed".
'use strict';
const fs = require('fs');
const path = require('path');
const { keccak256, signature, id, artifact } = require('../tools/abi.js');

const ref = JSON.parse(fs.readFileSync(path.join(__dirname, 'reference.json'), 'utf8'));
let passed = 0;
let failed = 0;
function check(name, ok, detail) {
  if (ok) passed++;
  else {
    failed++;
    console.log(`FAIL ${name}${detail ? ': ' + detail : ''}`);
  }
}

const expand = (s) => s.replace('(T)', '(' + ref.tuple + ')');
const art = { DstackKms: artifact('DstackKms'), DstackApp: artifact('DstackApp') };
function abiBySig(contract, kind) {
  const m = new Map();
  for (const it of art[contract].abi) if (it.type === kind) m.set(signature(it), it);
  return m;
}
const outTypes = (it) => '(' + it.outputs.map((o) => require('../tools/abi.js').canonicalType(o)).join(',') + ')';

// ---------------------------------------------------------------- functions
for (const c of ['DstackKms', 'DstackApp']) {
  const fns = abiBySig(c, 'function');
  const table = { ...ref.inheritedFunctions, ...ref.functions[c] };
  for (const [s0, sel] of Object.entries(table)) {
    const s = expand(s0);
    check(`${c}.${s0} selector`, keccak256(s).slice(0, 8) === sel, keccak256(s).slice(0, 8));
    check(`${c}.${s0} in ABI`, fns.has(s));
    check(`${c}.${s0} forge methodIdentifiers`, art[c].methodIdentifiers[s] === sel, art[c].methodIdentifiers[s]);
    if (fns.has(s) && ref.returns[s0]) check(`${c}.${s0} returns`, outTypes(fns.get(s)) === ref.returns[s0], outTypes(fns.get(s)));
  }
  const sels = [...fns.values()].map(id);
  check(`${c} selectors unique`, new Set(sels).size === sels.length);
  const mut = (s) => (fns.get(expand(s)) || {}).stateMutability;
  check(`${c}.isAppAllowed is view`, mut('isAppAllowed(T)') === 'view');
  check(`${c}.upgradeToAndCall payable`, mut('upgradeToAndCall(address,bytes)') === 'payable');
}
check('DstackApp.version() pure', abiBySig('DstackApp', 'function').get('version()').stateMutability === 'pure');
check('DstackKms.isKmsAllowed view', abiBySig('DstackKms', 'function').get(expand('isKmsAllowed(T)')).stateMutability === 'view');

// ---------------------------------------------------------------- events
for (const c of ['DstackKms', 'DstackApp']) {
  const evs = abiBySig(c, 'event');
  const table = { ...ref.inheritedEvents, ...ref.events[c] };
  for (const [s, e] of Object.entries(table)) {
    const t = keccak256(s);
    check(`${c} event ${s} topic`, t.startsWith(e.topic), t);
    check(`${c} event ${s} in ABI`, evs.has(s));
    if (evs.has(s)) {
      const idx = evs.get(s).inputs.map((i) => i.indexed);
      check(`${c} event ${s} indexed`, JSON.stringify(idx) === JSON.stringify(e.indexed), JSON.stringify(idx));
    }
  }
}

// ---------------------------------------------------------------- errors
for (const [s, sel] of Object.entries({ ...ref.errors, ...ref.errorString })) {
  check(`error ${s} selector`, keccak256(s).slice(0, 8) === sel, keccak256(s).slice(0, 8));
}
for (const c of ['DstackKms', 'DstackApp']) {
  const errs = abiBySig(c, 'error');
  for (const s of Object.keys(ref.errors)) check(`${c} error ${s} in ABI`, errs.has(s));
}

// ---------------------------------------------------------------- interface ids
function interfaceId(name) {
  const a = artifact(name);
  let x = 0;
  // ERC-165 ids cover the interface's own functions, not inherited IERC165
  for (const it of a.abi) {
    if (it.type !== 'function') continue;
    if (name !== 'IERC165' && signature(it) === 'supportsInterface(bytes4)') continue;
    x ^= parseInt(id(it), 16);
  }
  return (x >>> 0).toString(16).padStart(8, '0');
}
for (const [n, v] of Object.entries(ref.interfaceIds)) check(`interface id ${n}`, interfaceId(n) === v, interfaceId(n));
for (const [c, ifaces] of Object.entries(ref.supports)) {
  const src = fs.readFileSync(path.join(__dirname, '..', 'src', c + '.sol'), 'utf8');
  for (const n of ifaces.filter((x) => x !== 'IERC165')) {
    check(`${c} supportsInterface hard-codes ${n}`, src.includes('0x' + ref.interfaceIds[n]));
  }
}

// ---------------------------------------------------------------- PolicyChanged keys
const srcAll = ['DstackKms', 'DstackApp'].map((c) => fs.readFileSync(path.join(__dirname, '..', 'src', c + '.sol'), 'utf8')).join('\n');
for (const [k, pre] of Object.entries(ref.policyKeys)) {
  check(`policy key ${k}`, keccak256(k).startsWith(pre), keccak256(k));
  check(`policy key ${k} used`, srcAll.includes(`keccak256("${k}")`));
}

// ---------------------------------------------------------------- slots
const BN = BigInt;
const hexOf = (b) => b.toString(16).padStart(64, '0');
function erc7201(nsId) {
  const inner = BN('0x' + keccak256(nsId)) - 1n;
  const outer = BN('0x' + keccak256(Buffer.from(hexOf(inner), 'hex')));
  return hexOf(outer & ~0xffn);
}
check('slot erc1967.implementation', hexOf(BN('0x' + keccak256('eip1967.proxy.implementation')) - 1n) === ref.slots['erc1967.implementation']);
for (const ns of ['openzeppelin.storage.Ownable', 'openzeppelin.storage.Ownable2Step', 'openzeppelin.storage.Initializable']) {
  check(`slot ${ns}`, erc7201(ns) === ref.slots[ns], erc7201(ns));
}
check('dstack-gov namespace constant', srcAll.includes('0x' + erc7201('dstack-gov.storage.DstackKms')));

// ---------------------------------------------------------------- storage layout
for (const c of ['DstackKms', 'DstackApp']) {
  const lay = art[c].storageLayout;
  const got = lay.storage.map((s) => ({
    label: s.label,
    slot: Number(s.slot),
    offset: s.offset,
    type: lay.types[s.type].label,
    slots: Math.ceil(Number(lay.types[s.type].numberOfBytes) / 32),
  }));
  const want = ref.storage[c];
  check(`${c} storage entry count`, got.length === want.length, `${got.length} != ${want.length}`);
  want.forEach((w, i) => {
    const g = got[i] || {};
    check(`${c} storage #${i} ${w.label}`, JSON.stringify(g) === JSON.stringify(w), JSON.stringify(g));
  });
  const last = got[got.length - 1];
  check(`${c} footprint`, last.slot + last.slots === (c === 'DstackKms' ? 60 : 53), `${last.slot + last.slots}`);
  if (c === 'DstackKms') {
    const st = lay.types[lay.storage[0].type];
    const members = st.members.map((m) => `${m.label}:${lay.types[m.type].label}`);
    check('KmsInfo members', JSON.stringify(members) === JSON.stringify(ref.storage['DstackKms.KmsInfo']), JSON.stringify(members));
  }
}

// ---------------------------------------------------------------- extensions present
const kmsFns = abiBySig('DstackKms', 'function');
for (const s of ['deregisterApp(address)', 'reinstateApp(address)', 'deregisteredApps(address)',
  'deployAndRegisterAppDeterministic(bytes32,address,bool,bool,bool,bytes32,bytes32)',
  'predictAppId(address,bytes32)', 'multicall(bytes[])']) check(`extension DstackKms.${s}`, kmsFns.has(s));
check('extension DstackApp.multicall(bytes[])', abiBySig('DstackApp', 'function').has('multicall(bytes[])'));
for (const s of ['AppDeregistered(address)', 'AppReinstated(address)']) check(`extension event ${s}`, abiBySig('DstackKms', 'event').has(s));

// ---------------------------------------------------------------- generated C tables
{
  const os = require('os');
  const { execFileSync } = require('child_process');
  const gen = path.join(__dirname, '..', 'tools', 'gen-c.js');
  const runs = [1, 2].map(() => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'dg-gen-'));
    execFileSync(process.execPath, [gen, path.join(d, 'g.h'), path.join(d, 'g.c')]);
    const r = { h: fs.readFileSync(path.join(d, 'g.h'), 'utf8'), c: fs.readFileSync(path.join(d, 'g.c'), 'utf8') };
    fs.rmSync(d, { recursive: true });
    return r;
  });
  check('gen-c output is reproducible', runs[0].h === runs[1].h && runs[0].c === runs[1].c);
  const { h, c } = runs[0];
  const rows = new Set([...c.matchAll(/\{"(\w+)", "(\w+)", "([^"]+)", "([0-9a-f]+)"\}/g)].map((m) => m.slice(1).join('|')));
  for (const ct of ['DstackKms', 'DstackApp']) {
    for (const [s0, sel] of Object.entries({ ...ref.inheritedFunctions, ...ref.functions[ct] })) {
      check(`gen-c row ${ct} ${s0}`, rows.has(`${ct}|function|${expand(s0)}|${sel}`));
    }
    for (const s of Object.keys({ ...ref.inheritedEvents, ...ref.events[ct] })) {
      check(`gen-c row ${ct} event ${s}`, rows.has(`${ct}|event|${s}|${keccak256(s)}`));
    }
    for (const s of Object.keys(ref.errors)) check(`gen-c row ${ct} error ${s}`, rows.has(`${ct}|error|${s}|${keccak256(s).slice(0, 8)}`));
  }
  const count = c.match(/\{"\w+", "(function|event|error)"/g).length;
  check('gen-c row count matches ABIs', count === ['DstackKms', 'DstackApp', 'ERC1967Proxy']
    .map((n) => artifact(n).abi.filter((x) => ['function', 'event', 'error'].includes(x.type)).length)
    .reduce((a, b) => a + b, 0));
  function arrayHex(name) {
    const m = c.match(new RegExp(`dg_gen_bytecode_${name}\\[\\] = \\{([^}]*)\\}`));
    return m ? [...m[1].matchAll(/'([0-9a-f])'/g)].map((x) => x[1]).join('') : null;
  }
  for (const n of ['DstackKms', 'DstackApp', 'ERC1967Proxy']) {
    check(`gen-c bytecode ${n} = artifact`, arrayHex(n) === artifact(n).bytecode.object.replace(/^0x/, ''));
    check(`gen-c header declares ${n}`, h.includes(`extern const char dg_gen_bytecode_${n}[];`));
  }
  check('gen-c minimal proxy prefix = 89-byte constructor + 57-byte runtime', (arrayHex('ERC1967MinimalProxy') || '').length === 2 * (89 + 57));
}

// ---------------------------------------------------------------- one artifact per source file
// Tools that find a contract by its file name (vm.getCode("DstackKms.sol"), OpenZeppelin
// Foundry Upgrades, dstack's upgrade script) fail on "multiple matching artifacts found"
// when a file declares a second top-level type: each src file gives exactly one artifact,
// named after the file.
{
  const outDir = path.join(__dirname, '..', 'out');
  for (const f of fs.readdirSync(path.join(__dirname, '..', 'src')).filter((n) => n.endsWith('.sol'))) {
    const dir = path.join(outDir, f);
    const arts = fs.existsSync(dir) ? fs.readdirSync(dir).filter((n) => n.endsWith('.json')) : [];
    check(`src/${f}: one artifact, named after the file`, arts.length === 1 && arts[0] === f.replace(/\.sol$/, '.json'),
      arts.join(', ') || 'none');
  }
}

// ---------------------------------------------------------------- upgrades-core
const up = require('./upgrade_check.js');
for (const r of up.run()) check(r.name, r.ok, r.detail);

console.log(`eth-abi: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
