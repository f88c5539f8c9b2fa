#!/usr/bin/env bash
# run-tests.sh SUITE... — run each test suite (`make test-SUITE`), show its
# output, and end with one total line "N passed, N failed".
#
# Every suite prints its own closing "N passed, N failed" line; a suite that
# exits non-zero, or ends without that line (it died, or ran nothing), counts
# as one failure at least, so nothing is lost.
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/suite-lib.sh
total_pass=0; total_fail=0; bad_suites=()
for s in "$@"; do
  echo "=== suite: $s"
  log=$(mktemp)
  start=$(date +%s)
  make --no-print-directory -s "test-$s" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  line=$(suite_line "$log")
  rm -f "$log"
  if [ -n "$line" ]; then
    p=$(sed -E 's/^([A-Za-z-]+: )?([0-9]+) passed, ([0-9]+) failed.*/\2/' <<<"$line")
    f=$(sed -E 's/^([A-Za-z-]+: )?([0-9]+) passed, ([0-9]+) failed.*/\3/' <<<"$line")
  else
    p=0; f=1; echo "=== suite $s: no closing \"N passed, N failed\" line"
  fi
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
  [ "$f" -ne 0 ] && bad_suites+=("$s")
  echo "=== suite $s: $p passed, $f failed ($(( $(date +%s) - start )) s)"
done
[ ${#bad_suites[@]} -gt 0 ] && echo "failing suites: ${bad_suites[*]}"
echo "${total_pass} passed, ${total_fail} failed"
[ "$total_fail" -eq 0 ] && [ "$total_pass" -gt 0 ]
