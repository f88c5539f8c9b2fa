// nemu-spawn.mjs — start nemu-rpc (the project's EMULATION of the NEAR runtime,
// not nearcore) as a child on a free loopback port, for the Node test suites.
// Resolves { srv, url } once it prints "nemu-rpc listening on <url>"; the
// caller stops it with srv.kill('SIGTERM') (its own child, by handle).
import { spawn } from 'node:child_process';

export function spawnNemu(bin, args = []) {
  const srv = spawn(bin, ['--port', '0', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    srv.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      if (m) resolve({ srv, url: m[1] });
    });
    srv.on('exit', (c) => reject(new Error(`nemu-rpc exited ${c}`)));
    setTimeout(() => reject(new Error('nemu-rpc did not start')), 5000);
  });
}
