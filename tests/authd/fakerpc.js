// fakerpc.js — a JSON-RPC endpoint that forwards to a chain (anvil, or
// nemu-rpc for NEAR) and misbehaves on demand, to test how dstack-authd
// fails: down, slow, garbage, JSON-RPC errors, another chain id / network, or
// decisions flipped (for quorum disagreement). What is chain-specific — which
// requests are contract calls, how to report another chain, how to flip a
// decision — is in the ETH and NEAR tables; the failure modes are shared.
'use strict';
const http = require('http');
const { httpReq } = require('./chain');

const DECISION_SELECTORS = ['0x1e079198', '0xe067ec9d'];

const ETH = {
  isCall: (q) => q.method === 'eth_call',
  // 'chain': report chain id 1
  otherChain: (q, a) => { if (q.method === 'eth_chainId') a.result = '0x1'; },
  // 'flip': invert isAppAllowed/isKmsAllowed's bool
  flip: (q, a) => {
    if (q.method === 'eth_call' && typeof a.result === 'string' &&
        DECISION_SELECTORS.includes(String(q.params[0].data).slice(0, 10))) {
      const last = a.result[65];
      a.result = a.result.slice(0, 65) + (last === '1' ? '0' : '1') + a.result.slice(66);
    }
  },
};

const NEAR_DECISIONS = ['is_app_allowed', 'is_kms_allowed'];
const NEAR = {
  isCall: (q) => q.method === 'query' && q.params && q.params.request_type === 'call_function',
  // 'chain': the node says it is on another network
  otherChain: (q, a) => { if (q.method === 'status' && a.result) a.result.chain_id = 'othernet'; },
  // 'flip': [true,""] <-> [false,"flipped"] in the result bytes of a decision view
  flip: (q, a) => {
    if (!NEAR.isCall(q) || !NEAR_DECISIONS.includes(q.params.method_name) || !a.result || !Array.isArray(a.result.result)) return;
    const v = JSON.parse(Buffer.from(a.result.result).toString());
    const flipped = v[0] ? [false, 'flipped'] : [true, ''];
    a.result.result = [...Buffer.from(JSON.stringify(flipped))];
  },
};

class FakeRpc {
  constructor(target, chain = ETH) {
    this.target = target;
    this.chain = chain;
    this.mode = 'pass';
    this.delay = 0;          // for 'slow' (every request) and 'slowCalls' (requests with a contract call)
    this.slowIf = null;      // for 'slowCalls': a predicate on the request, else chain.isCall
    this.requests = 0;       // HTTP requests received
    this.callBatches = 0;    // HTTP requests that carried a contract call
    this.log = [];           // NEAR: [method, params] of every request when logging
    this.logging = false;
    this.holding = [];       // 'holdCalls': requests with a contract call wait here for release()
    this.onHold = null;      // resolved when a request is held
  }
  // Resolves once a request with a contract call is held ('holdCalls' mode):
  // the daemon's request is then in flight at the chain, whatever the timing.
  // Resolves false after ms when nothing was held (the suite goes on).
  held(ms = 5000) {
    return new Promise((r) => {
      if (this.holding.length) return r(true);
      const t = setTimeout(() => { this.onHold = null; r(false); }, ms);
      this.onHold = () => { clearTimeout(t); r(true); };
    });
  }
  release() { const h = this.holding; this.holding = []; h.forEach((r) => r()); }
  start() {
    this.server = http.createServer((req, res) => {
      req.on('error', () => {});
      res.on('error', () => {});
      this.handle(req, res).catch(() => req.socket.destroy());
    });
    this.server.on('clientError', (e, sock) => sock.destroy());
    this.server.keepAliveTimeout = 60000;
    return new Promise((resolve) => this.server.listen(0, '127.0.0.1', () => {
      this.url = `http://127.0.0.1:${this.server.address().port}`;
      resolve(this);
    }));
  }
  stop() {
    this.server.closeAllConnections && this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
  async handle(req, res) {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = Buffer.concat(chunks).toString();
    this.requests++;
    let parsed = null;
    try { parsed = JSON.parse(body); } catch (e) { /* forwarded as is */ }
    const list = Array.isArray(parsed) ? parsed : parsed ? [parsed] : [];
    const hasCall = list.some(this.chain.isCall);
    if (hasCall) this.callBatches++;
    if (this.logging) for (const q of list) this.log.push([q.method, q.params]);
    const mode = this.mode;
    if (mode === 'down') { req.socket.destroy(); return; }
    const slowOne = mode === 'slowCalls' && list.some(this.slowIf || this.chain.isCall);
    if (mode === 'slow' || slowOne) await new Promise((r) => setTimeout(r, this.delay));
    if (mode === 'holdCalls' && hasCall) {
      await new Promise((r) => {
        this.holding.push(r);
        if (this.onHold) { this.onHold(); this.onHold = null; }
      });
    }
    if (mode === 'garbage') { res.writeHead(200, { 'content-type': 'application/json' }); res.end('<html>this is not JSON-RPC</html>'); return; }
    if (mode === 'error') {
      const errs = list.map((r) => ({ jsonrpc: '2.0', id: r.id, error: { code: -32000, message: 'fake upstream failure' } }));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(Array.isArray(parsed) ? errs : errs[0]));
      return;
    }
    let up;
    try {
      up = await httpReq(this.target, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    } catch (e) { req.socket.destroy(); return; }
    let out = up.text;
    if ((mode === 'chain' || mode === 'flip') && up.json) {
      const answers = Array.isArray(up.json) ? up.json : [up.json];
      for (const a of answers) {
        const q = list.find((r) => r.id === a.id);
        if (!q) continue;
        if (mode === 'chain') this.chain.otherChain(q, a);
        if (mode === 'flip') this.chain.flip(q, a);
      }
      out = JSON.stringify(up.json);
    }
    res.writeHead(up.status, { 'content-type': 'application/json' });
    res.end(out);
  }
}

// The fault matrix both dstack-authd suites run through a FakeRpc F:
// [name, put F in that mode, the deny reason expected].
function faultMatrix(F, [otherChainName, otherChainReason]) {
  const unavailable = 'authorization backend unavailable';
  return [
    ['down', () => { F.mode = 'down'; }, unavailable],
    ['slow past the deadline', () => { F.mode = 'slow'; F.delay = 2000; }, unavailable],
    ['garbage', () => { F.mode = 'garbage'; }, unavailable],
    ['JSON-RPC errors', () => { F.mode = 'error'; }, unavailable],
    [otherChainName, () => { F.mode = 'chain'; }, otherChainReason],
  ];
}

module.exports = { FakeRpc, ETH, NEAR, faultMatrix };
