// meter.mjs — exact wasm instruction metering, shared by nemu (this file's
// command line) and bench/attest/wasm-count.mjs.
//
// NEAR charges gas per executed wasm instruction. Each function body (in
// wasm2wat's flat text form, one instruction per line) is cut into
// straight-line segments that end at a control instruction (block, loop, if,
// else, end, br, br_if, br_table, return, unreachable) or at the function's
// end; every branch target starts such a segment. Each segment begins with a
// bump of its length, so the bumps sum to the exact number of original
// instructions executed (control instructions included, as NEAR counts them).
//
// Usage (nemu, mk/near-test.mk): node meter.mjs IN.wat OUT.wat — the bump is
// a call of the host function env.nemu_tick(n) (tests/near/emu.c), which ends
// the call with "Exceeded the prepaid gas." once the gas runs out. The metered
// copy is what nemu runs; the registry still names the original bytes.
import fs from 'node:fs';

const CTRL = new Set(['block', 'loop', 'if', 'else', 'end', 'br', 'br_if', 'br_table', 'return', 'unreachable']);
const balance = (s) => { const code = s.split(';;')[0]; return (code.match(/\(/g) || []).length - (code.match(/\)/g) || []).length; };

// Instrument the function bodies of a module's lines: bump(n) gives the lines
// that count n instructions; other lines go through onOther(line, out).
export function meterBodies(lines, bump, onOther = (line, out) => out.push(line)) {
  const out = [];
  let inFunc = false, seg = [], depth = 0;
  const flush = () => { if (seg.length) { out.push(bump(seg.length)); out.push(...seg); seg = []; } };
  for (const line of lines) {
    if (!inFunc) {
      if (/^  \(func /.test(line)) {
        inFunc = true;
        depth = balance(line);
        out.push(line);
        if (depth <= 0) inFunc = false; // an empty function on one line
        continue;
      }
      onOther(line, out);
      continue;
    }
    const t = line.trim();
    const b = balance(line);
    if (t.startsWith('(local')) { out.push(line); depth += b; continue; }
    seg.push(line);
    depth += b;
    const op = t.split(/\s/)[0].replace(/\)+$/, '');
    if (depth <= 0) { flush(); inFunc = false; continue; }
    if (CTRL.has(op)) flush();
  }
  return out;
}

if (process.argv[1] && process.argv[1].endsWith('meter.mjs')) {
  const [,, inFile, outFile] = process.argv;
  const lines = fs.readFileSync(inFile, 'utf8').split('\n');
  if (!/^\(module/.test(lines[0])) throw new Error('meter: not a module in wasm2wat text form');
  // wasm2wat --generate-names: every reference is by name, so a new import
  // (function index 0) shifts nothing
  const out = meterBodies(lines.slice(1), (n) => `    i64.const ${n}\n    call $nemu_tick`);
  fs.writeFileSync(outFile, [lines[0], '  (import "env" "nemu_tick" (func $nemu_tick (param i64)))', ...out].join('\n'));
}
