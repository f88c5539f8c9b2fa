// chain.js — test helpers: start anvil, talk JSON-RPC, deploy the dstack
// contracts from contracts/eth/out (A's forge build) with anvil's unlocked
// account 0 (a well-known TEST account; no key is used or printed), and
// start/stop dstack-authd processes.
'use strict';
const { spawn } = require('child_process');
const http = require('http');
const net = require('net');
const path = require('path');
const fs = require('fs');

const TOP = path.resolve(__dirname, '../..');
const ANVIL = path.join(TOP, 'node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil');
const OUT = path.join(TOP, 'contracts/eth/out');

// anvil runs --silent (its per-request log would fill a pipe nobody reads
// while a benchmark blocks the event loop) on a port picked here.
function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

async function startAnvil(extra = []) {
  const port = await freePort();
  const p = spawn(ANVIL, ['--port', String(port), '--host', '127.0.0.1', '--silent', ...extra], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  let exited = null;
  p.on('exit', (c) => { exited = c; });
  for (let i = 0; i < 1500; i++) {
    if (exited !== null) throw new Error('anvil exited with ' + exited);
    try {
      await rpc(url, 'eth_chainId');
      return { proc: p, url, port };
    } catch (e) { await new Promise((r) => setTimeout(r, 10)); }
  }
  p.kill('SIGKILL');
  throw new Error('anvil did not start');
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

function httpReq(url, { method = 'GET', body, headers = {}, timeout = 10000, agentOpt } = {}) {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const h = { ...headers };
    if (body !== undefined && h['content-length'] === undefined) h['content-length'] = Buffer.byteLength(body);
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname + u.search, method, headers: h,
      agent: agentOpt === undefined ? agent : agentOpt, timeout }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let json = null;
        try { json = JSON.parse(text); } catch (e) { /* not JSON */ }
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

let rpcId = 1;
async function rpc(url, method, params = []) {
  const r = await httpReq(url, { method: 'POST', body: JSON.stringify({ jsonrpc: '2.0', id: rpcId++, method, params }),
    headers: { 'content-type': 'application/json' } });
  if (!r.json) throw new Error(`${method}: bad answer ${r.text}`);
  if (r.json.error) throw new Error(`${method}: ${JSON.stringify(r.json.error)}`);
  return r.json.result;
}

// Contract bytecode and selectors: from the generated C tables the library is
// built with ($BUILD/gen/dg_contracts_gen.c, stable while forge rebuilds), else
// from forge's artifacts in contracts/eth/out.
function artifact(file, name) {
  const gen = path.join(TOP, process.env.BUILD || 'build', 'gen', 'dg_contracts_gen.c');
  if (fs.existsSync(gen)) {
    const text = fs.readFileSync(gen, 'utf8');
    const start = text.indexOf(`dg_gen_bytecode_${name}[] = {`);
    if (start >= 0) {
      const body = text.slice(start, text.indexOf('};', start));
      const hex = (body.match(/'([0-9a-f])'/g) || []).map((c) => c[1]).join('');
      const methodIdentifiers = {};
      const re = new RegExp(`\\{"${name}", "function", "([^"]+)", "([0-9a-f]{8})"\\}`, 'g');
      let m;
      while ((m = re.exec(text))) methodIdentifiers[m[1]] = m[2];
      if (hex.length > 100) return { bytecode: { object: hex }, methodIdentifiers };
    }
  }
  return JSON.parse(fs.readFileSync(path.join(OUT, file, name + '.json'), 'utf8'));
}

// --- tiny ABI encoder for the calls the tests make (static words + one dynamic arg)
const word = (hex) => hex.replace(/^0x/, '').toLowerCase().padStart(64, '0');
const wordRight = (hex) => hex.replace(/^0x/, '').toLowerCase().padEnd(64, '0');
function encArgs(types, values) {
  const heads = []; const tails = [];
  let dynOff = 32 * types.length;
  types.forEach((t, i) => {
    const v = values[i];
    if (t === 'address' || t === 'bytes32') heads.push(word(v));
    else if (t === 'bool') heads.push(word(v ? '1' : '0'));
    else if (t === 'uint256') heads.push(word(BigInt(v).toString(16)));
    else if (t === 'string' || t === 'bytes') {
      const data = t === 'string' ? Buffer.from(v, 'utf8').toString('hex') : v.replace(/^0x/, '');
      const n = data.length / 2;
      const tail = word(n.toString(16)) + (n ? wordRight(data).padEnd(Math.ceil(n / 32) * 64, '0') : '');
      heads.push(word(dynOff.toString(16)));
      tails.push(tail);
      dynOff += tail.length / 2;
    } else throw new Error('type ' + t);
  });
  return heads.join('') + tails.join('');
}

class Chain {
  constructor(url) { this.url = url; }
  async init() {
    this.accounts = await rpc(this.url, 'eth_accounts');
    this.from = this.accounts[0]; // anvil TEST account 0 (unlocked by anvil)
    this.chainId = parseInt(await rpc(this.url, 'eth_chainId'), 16);
  }
  async send(to, data, extra = {}) {
    const hash = await rpc(this.url, 'eth_sendTransaction', [{ from: this.from, to, data, gas: '0x1c9c380', ...extra }]);
    let rc = null;
    for (let i = 0; i < 200 && !rc; i++) {
      rc = await rpc(this.url, 'eth_getTransactionReceipt', [hash]);
      if (!rc) await new Promise((r) => setTimeout(r, 20));
    }
    if (!rc || rc.status !== '0x1') throw new Error('transaction failed: ' + JSON.stringify(rc));
    return rc;
  }
  async deploy(bytecode, ctorHex = '') {
    const rc = await this.send(undefined, '0x' + bytecode.replace(/^0x/, '') + ctorHex);
    return rc.contractAddress;
  }
  sel(art, sig) {
    const id = art.methodIdentifiers[sig];
    if (!id) throw new Error('no selector for ' + sig);
    return '0x' + id;
  }
  async call(to, art, sig, types, values) {
    return this.send(to, this.sel(art, sig) + encArgs(types, values));
  }
  async mine(n = 1) { await rpc(this.url, 'anvil_mine', ['0x' + n.toString(16)]); }
  async blockNumber() { return parseInt(await rpc(this.url, 'eth_blockNumber'), 16); }

  // Deploy DstackApp impl, DstackKms impl + ERC1967Proxy(initialize(owner, appImpl)).
  async deployGovernance() {
    this.kmsArt = artifact('DstackKms.sol', 'DstackKms');
    this.appArt = artifact('DstackApp.sol', 'DstackApp');
    const proxyArt = artifact('ERC1967Proxy.sol', 'ERC1967Proxy');
    this.appImpl = await this.deploy(this.appArt.bytecode.object);
    const kmsImpl = await this.deploy(this.kmsArt.bytecode.object);
    const init = this.sel(this.kmsArt, 'initialize(address,address)').slice(2) + encArgs(['address', 'address'], [this.from, this.appImpl]);
    this.kms = await this.deploy(proxyArt.bytecode.object, encArgs(['address', 'bytes'], [kmsImpl, init]));
    return this.kms;
  }
  kmsCall(sig, types, values) { return this.call(this.kms, this.kmsArt, sig, types, values); }
  appCall(app, sig, types, values) { return this.call(app, this.appArt, sig, types, values); }
  async createApp({ requireTcb = false, allowAnyDevice = false, device = '00'.repeat(32), hash = '00'.repeat(32) }) {
    const rc = await this.kmsCall('deployAndRegisterApp(address,bool,bool,bool,bytes32,bytes32)',
      ['address', 'bool', 'bool', 'bool', 'bytes32', 'bytes32'], [this.from, false, requireTcb, allowAnyDevice, device, hash]);
    const last = rc.logs[rc.logs.length - 1];
    return '0x' + last.topics[1].slice(26);
  }
}

// Start dstack-authd; resolves when it prints its listening line.
function startAuthd(args, { env = {}, expectFail = false } = {}) {
  return new Promise((resolve, reject) => {
    const bin = path.join(TOP, process.env.BUILD || 'build', 'dstack-authd');
    const cleanEnv = { PATH: process.env.PATH, ...env };
    const p = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env: cleanEnv });
    let err = '', out = '';
    let done = false;
    const t = setTimeout(() => { if (!done) { done = true; p.kill('SIGKILL'); reject(new Error('authd did not start: ' + err)); } }, 15000);
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => {
      err += d;
      const m = err.match(/listening on http:\/\/[^:]+:(\d+)/);
      if (m && !done) {
        done = true; clearTimeout(t);
        resolve({ proc: p, port: +m[1], url: `http://127.0.0.1:${m[1]}`, stderr: () => err, stdout: () => out });
      }
    });
    p.on('exit', (code, sig) => {
      if (!done) {
        done = true; clearTimeout(t);
        if (expectFail) resolve({ code, stderr: err, stdout: out });
        else reject(new Error(`authd exited ${code}/${sig}: ${err}`));
      }
      p._exit = { code, sig };
    });
  });
}

function stopProc(p, sig = 'SIGTERM') {
  return new Promise((resolve) => {
    if (!p || p.exitCode !== null || p.signalCode !== null) return resolve(p && { code: p.exitCode, sig: p.signalCode });
    const t = setTimeout(() => p.kill('SIGKILL'), 8000);
    p.once('exit', (code, s) => { clearTimeout(t); resolve({ code, sig: s }); });
    p.kill(sig);
  });
}

module.exports = { freePort, startAnvil, rpc, httpReq, Chain, startAuthd, stopProc, encArgs, TOP };
