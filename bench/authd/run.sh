#!/usr/bin/env bash
# run.sh — build figures for dstack-authd (see bench.js). BENCH_SECONDS=N per run.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v wrk >/dev/null || { echo "bench-authd: wrk is not installed (scripts/deps.sh)"; exit 1; }
exec node bench/authd/bench.js
