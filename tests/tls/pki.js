// pki.js — a throwaway PKI and TLS terminators for the `tls` suite and the
// HTTPS benchmarks: a test CA, a second (untrusted) CA and server
// certificates made with the openssl CLI (EC P-256), and terminator.js
// processes (started here, stopped by the caller by PID) that forward TLS
// on a free loopback port to a plain port (anvil).
'use strict';
const fs = require('fs');
const path = require('path');
const { spawn, spawnSync } = require('child_process');

// Make the PKI in dir. Returns paths: ca, otherca, ica (an intermediate under
// ca; PEM), key (the servers' key), and cert(name) for name in good | expired |
// wronghost | untrusted | chained (leaf under ica, followed by ica).
function makePki(dir) {
  const f = (n) => path.join(dir, n);
  const openssl = (args) => {
    const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error('openssl ' + args.join(' ') + ': ' + r.stderr);
  };
  const makeCa = (name) => openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', f(name + '.key'), '-out', f(name + '.pem'), '-days', '2', '-subj', '/CN=dstack-gov test ' + name]);
  // a server certificate for san, signed by ca, valid for days (-1: expired yesterday)
  const makeCert = (name, ca, san, days) => {
    fs.writeFileSync(f(name + '.ext'), `subjectAltName=${san}\nextendedKeyUsage=serverAuth\n`);
    openssl(['x509', '-req', '-in', f('server.csr'), '-CA', f(ca + '.pem'), '-CAkey', f(ca + '.key'), '-days', String(days),
      '-extfile', f(name + '.ext'), '-out', f(name + '.pem')]);
  };
  makeCa('ca');
  makeCa('otherca');
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f('server.key'),
    '-out', f('server.csr'), '-subj', '/CN=127.0.0.1']);
  makeCert('good', 'ca', 'IP:127.0.0.1,DNS:localhost', 2);
  makeCert('expired', 'ca', 'IP:127.0.0.1,DNS:localhost', -1);
  makeCert('wronghost', 'ca', 'DNS:rpc.wrong.example', 2);
  makeCert('untrusted', 'otherca', 'IP:127.0.0.1,DNS:localhost', 2);
  // an intermediate CA under ca, and a server that sends its leaf with the intermediate
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f('ica.key'),
    '-out', f('ica.csr'), '-subj', '/CN=dstack-gov test intermediate']);
  fs.writeFileSync(f('ica.ext'), 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n');
  openssl(['x509', '-req', '-in', f('ica.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-days', '2',
    '-extfile', f('ica.ext'), '-out', f('ica.pem')]);
  makeCert('leaf', 'ica', 'IP:127.0.0.1,DNS:localhost', 2);
  fs.writeFileSync(f('chained.pem'), fs.readFileSync(f('leaf.pem'), 'utf8') + fs.readFileSync(f('ica.pem'), 'utf8'));
  return { ca: f('ca.pem'), otherca: f('otherca.pem'), ica: f('ica.pem'), key: f('server.key'), cert: (n) => f(n + '.pem') };
}

// Start a terminator with cert/key in front of 127.0.0.1:toPort (cert "-": a
// plain TCP proxy, url http://). Resolves to
// { proc, port, url, all(), full(), log() }: all() counts handshakes so far,
// full() those that did not resume a session.
function startTerminator(cert, key, toPort) {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [path.join(__dirname, 'terminator.js'), cert, key, String(toPort)],
      { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    const t = { proc: p, log: () => out, full: () => (out.match(/^handshake \d+ resumed 0$/mg) || []).length,
      all: () => (out.match(/^handshake /mg) || []).length };
    p.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/^listening (\d+)$/m);
      if (m && !t.url) { t.port = +m[1]; t.url = `${cert === '-' ? 'http' : 'https'}://127.0.0.1:${m[1]}`; resolve(t); }
    });
    p.on('exit', (c) => { if (!t.url) reject(new Error('terminator exited ' + c)); });
  });
}

module.exports = { makePki, startTerminator };
