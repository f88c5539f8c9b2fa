#!/usr/bin/env bash
# run.sh — the `scripts` suite: the verdict runner scripts give a test suite
# (scripts/suite-lib.sh). A suite that reports a failure, dies without its
# closing line, or exits non-zero must fail, whatever its other signs say.
# `make test-tsan` passed with "196 passed, 1 failed" before this was shared.
set -u
cd "$(dirname "$0")/../.."
. scripts/suite-lib.sh
PASS=0; FAIL=0
ok()  { PASS=$((PASS+1)); }
bad() { FAIL=$((FAIL+1)); echo "FAIL $1"; }
# expect NAME WANT(0 pass, 1 fail) CMD...
expect() {
    local name=$1 want=$2
    shift 2
    status=0
    run_suite "$name" "$@" >/dev/null 2>&1
    if [ "$status" -eq "$want" ]; then ok; else bad "$name: status $status, expected $want"; fi
}
expect "all passed, exit 0" 0 sh -c 'echo "3 passed, 0 failed"'
expect "prefixed line passes" 0 sh -c 'echo "cli: 10 passed, 0 failed"'
expect "a failure counted, exit 0 (the TSan case)" 1 sh -c 'echo "196 passed, 1 failed"; exit 0'
expect "ten failures counted" 1 sh -c 'echo "5 passed, 10 failed"; exit 0'
expect "exit 1 with a clean line" 1 sh -c 'echo "3 passed, 0 failed"; exit 1'
expect "died without a closing line" 1 sh -c 'echo "starting"; exit 0'
expect "killed" 1 sh -c 'echo "1 passed, 0 failed"; kill -9 $$'
expect "the last closing line counts" 1 sh -c 'echo "3 passed, 0 failed"; echo "4 passed, 2 failed"'
# the pipe bug itself: a pipe into tail reports tail's status
if (sh -c 'echo "1 passed, 1 failed"; exit 1' | tail -1) >/dev/null; then ok; else bad "a pipe into tail hides the exit status (shell changed?)"; fi
echo "scripts: $PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
