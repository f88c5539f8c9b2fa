#!/usr/bin/env bash
# forge-test.sh — run the forge tests of contracts/eth offline and end with the
# project's closing line "N passed, N failed" (converted from forge's summary).
set -uo pipefail
cd "$(dirname "$0")/.."
FORGE=../../node_modules/@foundry-rs/forge-linux-amd64/bin/forge
log=$(mktemp)
"$FORGE" test --offline "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
# "Ran 7 test suites in 1.2s (...): 80 tests passed, 0 failed, 0 skipped (80 total tests)"
line=$(grep -E 'tests passed, [0-9]+ failed' "$log" | tail -n 1)
rm -f "$log"
if [ -z "$line" ]; then
  echo "eth-forge: 0 passed, 1 failed (forge produced no summary, exit $rc)"
  exit 1
fi
p=$(sed -E 's/.*: ([0-9]+) tests passed, ([0-9]+) failed.*/\1/' <<<"$line")
f=$(sed -E 's/.*: ([0-9]+) tests passed, ([0-9]+) failed.*/\2/' <<<"$line")
[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
echo "eth-forge: $p passed, $f failed"
[ "$f" -eq 0 ]
