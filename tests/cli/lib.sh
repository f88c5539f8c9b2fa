# tests/cli/lib.sh — the checks the dstack-gov suites share (sourced; needs $T,
# a scratch directory, and PASS/FAIL counters set to 0 by the caller).
ok()   { PASS=$((PASS+1)); echo "ok   $1"; }
bad()  { FAIL=$((FAIL+1)); echo "FAIL $1"; [ -n "${2:-}" ] && echo "     $2" | head -c 2000 && echo; }
# expect NAME CODE CMD...  — run CMD (stdin not a terminal), check its exit code; output in $OUT/$ERR
expect() {
  local name=$1 code=$2; shift 2
  OUT=$("$@" 2>"$T/err" </dev/null); local rc=$?
  ERR=$(cat "$T/err")
  if [ "$rc" -eq "$code" ]; then ok "$name"; else bad "$name (exit $rc, want $code)" "$OUT $ERR"; fi
}
# has NAME TEXT — the last command's stdout contains TEXT (fixed string)
has()  { if grep -qF -- "$2" <<<"$OUT"; then ok "$1"; else bad "$1: stdout lacks '$2'" "$OUT"; fi; }
errhas() { if grep -qF -- "$2" <<<"$ERR"; then ok "$1"; else bad "$1: stderr lacks '$2'" "$ERR"; fi; }
eq()   { if [ "$2" = "$3" ]; then ok "$1"; else bad "$1: '$2' != '$3'"; fi; }
b32() { printf '0x'; printf "$1%.0s" $(seq 64); }   # b32 a -> 0xaaaa...
