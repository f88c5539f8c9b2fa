#!/usr/bin/env bash
# tsan-authd.sh — the unit tests and the dstack-authd suites (eth: authd, near:
# authd-near) under ThreadSanitizer.
#
# The Makefile has no TSan switch, but OPT goes into every compile and
# LDFLAGS_SAN into every link, so a separate tree (build-tsan) is built with
# -fsanitize=thread through them. tests/authd/run.js starts each daemon with
# a fresh environment (PATH only), so TSAN_OPTIONS would not reach it: the
# suite runs against build-tsan/run/, where dstack-authd is a wrapper that
# sets TSAN_OPTIONS and execs the real binary (same pid, descriptors kept:
# socket activation still works). The near suite's chain, nemu-rpc, is the
# normal build's (it is the test's chain, not the code under test). Every report is written to
# build-tsan/reports/; a daemon with a report exits 66, which the suite's
# "exits 0 on SIGTERM" check shows.
#
# Usage: scripts/tsan-authd.sh [unit|authd|all]   (default all)
# Ends with "tsan: N reports" (0 = no data race seen) and exits 1 if N > 0
# or a suite failed. A suite fails when it exits non-zero, when its closing
# "N passed, N failed" line is missing, or when it counts a failure: its
# status is taken from the runner itself (a pipe into tail would report
# tail's), and its failing checks are shown.
set -u
cd "$(dirname "$0")/.."
TOP=$PWD
B=build-tsan
what=${1:-all}
CC=${CC:-gcc}

make --no-print-directory BUILD=$B CC="$CC" OPT="-O1 -fsanitize=thread -fno-omit-frame-pointer" \
    LDFLAGS_SAN=-fsanitize=thread -j"$(nproc)" \
    $B/tests/unit $B/dstack-authd $B/bench/authd-ready $B/gen/dg_contracts_gen.c >/dev/null || exit 1

rep=$TOP/$B/reports
rm -rf "$rep"
mkdir -p "$rep" $B/run/bench
opts="log_path=$rep/tsan second_deadlock_stack=1 history_size=4"
status=0

. scripts/suite-lib.sh

if [ "$what" = unit ] || [ "$what" = all ]; then
    echo "== unit tests under TSan"
    run_suite unit env -C tests TSAN_OPTIONS="$opts" "$TOP/$B/tests/unit"
fi

if [ "$what" = authd ] || [ "$what" = all ]; then
    printf '#!/bin/sh\nTSAN_OPTIONS="%s" exec "%s" "$@"\n' "$opts" "$TOP/$B/dstack-authd" >$B/run/dstack-authd
    chmod +x $B/run/dstack-authd
    ln -sfn "$TOP/$B/bench/authd-ready" $B/run/bench/authd-ready
    ln -sfn "$TOP/$B/gen" $B/run/gen
    echo "== dstack-authd suite under TSan"
    run_suite authd env BUILD=$B/run node tests/authd/run.js
    make --no-print-directory build/near-test/nemu-rpc >/dev/null || exit 1
    mkdir -p $B/run/near-test
    ln -sfn "$TOP/build/near-test/nemu-rpc" $B/run/near-test/nemu-rpc
    echo "== dstack-authd near suite under TSan"
    run_suite authd-near env BUILD=$B/run node tests/authd/near.js
fi

n=$(cat "$rep"/tsan.* 2>/dev/null | grep -c '^WARNING: ThreadSanitizer')
if [ "$n" -gt 0 ]; then
    grep -h '^WARNING: ThreadSanitizer\|^SUMMARY' "$rep"/tsan.* | sort | uniq -c
    echo "reports in $rep"
    status=1
fi
echo "tsan: $n reports"
exit $status
