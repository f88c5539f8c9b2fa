// nobatch-proxy.js TARGET_URL — a JSON-RPC proxy on 127.0.0.1 (free port, printed
// as "port N") that forwards single requests to TARGET_URL and refuses batches
// the way some gateways do (HTTP 200, one error object). Used by tests/cli/run.sh
// to check that dstack-gov falls back to one request at a time.
'use strict';
const http = require('http');
const target = new URL(process.argv[2]);
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    let parsed = null;
    try { parsed = JSON.parse(body.toString()); } catch (_) { /* forwarded as is */ }
    if (Array.isArray(parsed)) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ jsonrpc: '2.0', id: null,
        error: { code: -32600, message: 'batch requests are not supported' } }));
      return;
    }
    const up = http.request({ host: target.hostname, port: target.port, path: target.pathname,
      method: 'POST', headers: { 'content-type': 'application/json' } }, (r) => {
      res.writeHead(r.statusCode, { 'content-type': 'application/json' });
      r.pipe(res);
    });
    up.on('error', () => { res.writeHead(502); res.end(); });
    up.end(body);
  });
});
server.listen(0, '127.0.0.1', () => { console.log('port ' + server.address().port); });
process.on('SIGTERM', () => process.exit(0));
