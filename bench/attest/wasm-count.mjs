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
import { meterBodies } from '../../tests/near/meter.mjs';

const [,, inFile, outFile] = process.argv;
const lines = fs.readFileSync(inFile, 'utf8').split('\n');
let insertedGlobal = false, insertedFunc = false, insertedExport = false;
const bump = (n) => `    global.get $dg_cnt\n    i64.const ${n}\n    i64.add\n    global.set $dg_cnt`;
// the segmentation is nemu's meter (tests/near/meter.mjs); here the bump is a global
const out = meterBodies(lines, bump, (line, o) => {
  if (!insertedFunc && /^  \((table|memory|global|export|elem|data) /.test(line)) {
    o.push('  (func $dg_count (result i64) global.get $dg_cnt)');
    insertedFunc = true;
  }
  if (!insertedGlobal && /^  \((export|elem|data) /.test(line)) {
    o.push('  (global $dg_cnt (mut i64) (i64.const 0))');
    insertedGlobal = true;
  }
  // after the module's own exports, so wasm-interp --run-all-exports reads it last
  if (!insertedExport && /^  \((elem|data) /.test(line)) {
    o.push('  (export "dg_count" (func $dg_count))');
    insertedExport = true;
  }
  o.push(line);
});
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
