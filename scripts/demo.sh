#!/usr/bin/env bash
# demo.sh — placeholder until the contracts land; see mk/*.mk for the real demo.
set -euo pipefail
echo "demo: nothing to show yet"
