// fakerpc.js — a JSON-RPC endpoint that forwards to anvil and misbehaves on
// demand, to test how dstack-authd fails: down, slow, garbage, JSON-RPC
// errors, another chain id, or decisions flipped (for quorum disagreement).
'use strict';
const http = require('http');
const { httpReq } = require('./chain');

const DECISION_SELECTORS = ['0x1e079198', '0xe067ec9d'];

class FakeRpc {
  constructor(target) {
    this.target = target;
    this.mode = 'pass';
    this.delay = 0;          // for 'slow' (every request) and 'slowCalls' (batches with eth_call)
    this.requests = 0;       // HTTP requests received
    this.callBatches = 0;    // HTTP requests that carried an eth_call
    this.holding = [];       // 'holdCalls': batches with an eth_call wait here for release()
    this.onHold = null;      // resolved when a batch is held
  }
  // Resolves once a batch with an eth_call is held ('holdCalls' mode): the
  // daemon's request is then in flight at the chain, whatever the timing.
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
    const hasCall = list.some((r) => r.method === 'eth_call');
    if (hasCall) this.callBatches++;
    const mode = this.mode;
    if (mode === 'down') { req.socket.destroy(); return; }
    if (mode === 'slow' || (mode === 'slowCalls' && hasCall)) await new Promise((r) => setTimeout(r, this.delay));
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
        if (mode === 'chain' && q.method === 'eth_chainId') a.result = '0x1';
        if (mode === 'flip' && q.method === 'eth_call' && typeof a.result === 'string' &&
            DECISION_SELECTORS.includes(String(q.params[0].data).slice(0, 10))) {
          const last = a.result[65];
          a.result = a.result.slice(0, 65) + (last === '1' ? '0' : '1') + a.result.slice(66);
        }
      }
      out = JSON.stringify(up.json);
    }
    res.writeHead(up.status, { 'content-type': 'application/json' });
    res.end(out);
  }
}

module.exports = { FakeRpc };
