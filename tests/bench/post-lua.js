// post-lua.js — bench/authd/post.lua under real wrk with two threads in miss
// mode must send no two equal bodies (every request a cache miss). It failed
// when post.lua declared `local tid`, which hid the per-thread id wrk sets.
'use strict';
const http = require('http');
const path = require('path');
const { spawn } = require('child_process');

let passed = 0, failed = 0;
const seen = new Map();
const srv = http.createServer((req, res) => {
  let b = '';
  req.on('data', (d) => { b += d; });
  req.on('end', () => { seen.set(b, (seen.get(b) || 0) + 1); res.end('{}'); });
});
srv.listen(0, '127.0.0.1', () => {
  const url = `http://127.0.0.1:${srv.address().port}`;
  const w = spawn('wrk', ['-t2', '-c2', '-d1s', '-s', path.join(__dirname, '../../bench/authd/post.lua'), url], {
    env: { ...process.env, BODY: '{"tcbStatus":"UpToDate"}', MISS: '1' }, stdio: ['ignore', 'ignore', 'inherit'],
  });
  w.on('exit', (code) => {
    srv.close();
    let total = 0, dup = 0;
    for (const n of seen.values()) { total += n; if (n > 1) dup += n - 1; }
    const check = (ok, what) => { if (ok) passed++; else { failed++; console.log(`FAIL: ${what}`); } };
    check(code === 0, `wrk exited ${code}`);
    check(total > 10, `wrk sent only ${total} requests`);
    check(dup === 0, `${dup} of ${total} miss-mode requests repeated an earlier body`);
    console.log(`bench-scripts: ${total} requests, ${dup} duplicate bodies`);
    console.log(`${passed} passed, ${failed} failed`);
    process.exit(failed ? 1 : 0);
  });
});
