// terminator.js — a TLS terminator for the `tls` suite: accepts TLS on a free
// loopback port with the given certificate and key and forwards the plain
// bytes to 127.0.0.1:<to> (anvil). Started and stopped by PID by the suite.
// Prints "listening <port>" once, then one line per handshake
// ("handshake <n> resumed <0|1>"), so the suite can count how many full
// handshakes a client paid. Usage: node terminator.js CERT KEY TO_PORT;
// CERT "-" forwards plain TCP (the benchmarks' baseline: the same proxy hop
// without TLS).
'use strict';
const fs = require('fs');
const net = require('net');
const tls = require('tls');

const [cert, key, to] = process.argv.slice(2);
let n = 0;
const plain = cert === '-';
const srv = plain ? net.createServer() : tls.createServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key), minVersion: 'TLSv1.2' });
srv.on(plain ? 'connection' : 'secureConnection', (s) => {
  n++;
  process.stdout.write(`handshake ${n} resumed ${!plain && s.isSessionReused() ? 1 : 0}\n`);
  const up = net.connect(+to, '127.0.0.1');
  // no Nagle on either side: a proxy hop must not add delayed-ACK stalls to the figures
  s.setNoDelay(true);
  up.setNoDelay(true);
  s.pipe(up);
  up.pipe(s);
  s.on('error', () => up.destroy());
  up.on('error', () => s.destroy());
  s.on('close', () => up.destroy());
  up.on('close', () => s.destroy());
});
srv.on('tlsClientError', (e) => process.stdout.write(`refused ${e.code || e.message}\n`));
srv.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${srv.address().port}\n`));
