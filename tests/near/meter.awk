# meter.awk — wasm instruction metering for nemu (wasm2c output in, metered C out).
#
# NEAR charges gas per wasm instruction; wasm2c has no instruction counter, so
# this pass adds one to the C it generates. At every function entry
# (FUNC_PROLOGUE;) and every block/loop label (w2c_B<n>:; / w2c_L<n>:) it
# inserts NEMU_TICK(n), where n is the number of C statements up to the next
# such point or the end of the function. wasm2c writes about one statement per
# wasm instruction, and a label is where control enters a straight-line region,
# so n approximates the instructions the region executes. It is an
# APPROXIMATION: a region left early by a branch is counted whole, and `if`
# arms (no labels) are counted together. emu.c turns the count into gas.
{ line[NR] = $0 }
function is_point(s) { return s ~ /^[ \t]*FUNC_PROLOGUE;[ \t]*$/ || s ~ /^[ \t]*w2c_[BL][0-9]+:;?[ \t]*$/ }
END {
  print "#include <stdint.h>"
  print "extern uint64_t nemu_wasm_ops, nemu_wasm_ops_limit;"
  print "void nemu_wasm_ops_over(void);"
  print "#define NEMU_TICK(n) do { if ((nemu_wasm_ops += (n)) > nemu_wasm_ops_limit) nemu_wasm_ops_over(); } while (0)"
  for (i = 1; i <= NR; i++) {
    if (!is_point(line[i])) { print line[i]; continue }
    n = 0
    for (j = i + 1; j <= NR; j++) {
      if (is_point(line[j]) || line[j] ~ /^}/) break
      if (line[j] ~ /;[ \t]*$/ && line[j] !~ /^[ \t]*(u32|u64|s32|s64|f32|f64|v128) w2c_/) n++
    }
    print line[i] " NEMU_TICK(" (n ? n : 1) ");"
  }
}
