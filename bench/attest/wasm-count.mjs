// wasm-count.mjs IN.wat OUT.wat — add an executed-instruction counter to a
// module in wasm2wat's flat text form, for measuring what NEAR would charge.
//
// Each function body is cut into straight-line segments that end at a
// control instruction (block, loop, if, else, end, br, br_if, br_table,
// return, unreachable) or at the function's end; every branch target is the
// start of such a segment. Each segment begins with `cnt += <its length>`, so
// `cnt` ends as the exact number of original instructions executed (control
// instructions included, as NEAR's per-op charge counts them). The export
// `dg_count` (no parameters, i64) reads it.
import fs from 'node:fs';

const [,, inFile, outFile] = process.argv;
const CTRL = new Set(['block', 'loop', 'if', 'else', 'end', 'br', 'br_if', 'br_table', 'return', 'unreachable']);
const lines = fs.readFileSync(inFile, 'utf8').split('\n');
const out = [];
let inFunc = false, seg = [], insertedGlobal = false, insertedFunc = false, insertedExport = false;
const bump = (n) => `    global.get $dg_cnt\n    i64.const ${n}\n    i64.add\n    global.set $dg_cnt`;
const flush = () => { if (seg.length) { out.push(bump(seg.length)); out.push(...seg); seg = []; } };
const balance = (s) => { const code = s.split(';;')[0]; return (code.match(/\(/g) || []).length - (code.match(/\)/g) || []).length; };
let depth = 0;
for (const line of lines) {
  if (!inFunc) {
    if (/^  \(func /.test(line)) {
      inFunc = true;
      depth = balance(line);
      out.push(line);
      if (depth <= 0) inFunc = false; // an empty function on one line
      continue;
    }
    if (!insertedFunc && /^  \((table|memory|global|export|elem|data) /.test(line)) {
      out.push('  (func $dg_count (result i64) global.get $dg_cnt)');
      insertedFunc = true;
    }
    if (!insertedGlobal && /^  \((export|elem|data) /.test(line)) {
      out.push('  (global $dg_cnt (mut i64) (i64.const 0))');
      insertedGlobal = true;
    }
    // after the module's own exports, so wasm-interp --run-all-exports reads it last
    if (!insertedExport && /^  \((elem|data) /.test(line)) {
      out.push('  (export "dg_count" (func $dg_count))');
      insertedExport = true;
    }
    out.push(line);
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
if (!insertedGlobal || !insertedExport) {
  // a module without elem/data: add them before the module's closing paren
  while (out.length && !out[out.length - 1].trim()) out.pop();
  const last = out.pop();
  out.push(last.slice(0, last.lastIndexOf(')')));
  if (!insertedGlobal) out.push('  (global $dg_cnt (mut i64) (i64.const 0))');
  out.push('  (export "dg_count" (func $dg_count)))');
  insertedGlobal = insertedExport = true;
}
if (!insertedFunc) throw new Error('wasm-count: no place for the counter');
fs.writeFileSync(outFile, out.join('\n'));
