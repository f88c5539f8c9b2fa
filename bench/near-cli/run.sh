#!/usr/bin/env bash
# bench/near-cli — one NEAR governance call, sent and final: `dstack-gov near
# add-os-image` vs the same add_os_image_hash with near-api-js's Account under
# Node (bench/near-cli/add-image.mjs), each a fresh process per call, on the same
# nemu-rpc (`devnet up --near`: an emulation of the NEAR runtime, not nearcore).
# They run alternately, N times each (default 20); the last line gives both
# medians and ratio R = dstack-gov / near-api-js (below 1 means dstack-gov is faster).
# The key is the devnet's public TEST key, never a real one.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
case "$BUILD" in /*) G="$BUILD/dstack-gov" ;; *) G="$PWD/$BUILD/dstack-gov" ;; esac
N=${N:-20}
T=$(mktemp -d)
trap '"$G" devnet down --near --dir "$T/dn" >/dev/null 2>&1; rm -rf "$T"' EXIT
"$G" devnet up --near --dir "$T/dn" >/dev/null
eval "$("$G" devnet env --near --dir "$T/dn")"
ms() { echo "$1 $2" | awk '{printf "%.3f", ($2 - $1) * 1000}'; }
ours=(); theirs=()
"$G" near add-os-image "$(printf '%064x' 999999)" --yes >/dev/null   # warm-up each
node bench/near-cli/add-image.mjs "$(printf '%064x' 999998)" >/dev/null
for i in $(seq 1 "$N"); do
  h1=$(printf '%064x' $((2 * i))); h2=$(printf '%064x' $((2 * i + 1)))
  t0=$EPOCHREALTIME
  "$G" near add-os-image "$h1" --yes >/dev/null
  t1=$EPOCHREALTIME
  node bench/near-cli/add-image.mjs "$h2" >/dev/null
  t2=$EPOCHREALTIME
  ours+=("$(ms "$t0" "$t1")"); theirs+=("$(ms "$t1" "$t2")")
done
n=$("$G" near kms show --json | jq '.kms.osImages|length')
[ "$n" -eq $((2 * N + 2)) ] || { echo "bench: expected $((2 * N + 2)) images on chain, found $n" >&2; exit 1; }
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {if (NR % 2) print a[(NR+1)/2]; else printf "%.3f\n", (a[NR/2] + a[NR/2+1]) / 2}'; }
mo=$(median "${ours[@]}"); mt=$(median "${theirs[@]}")
echo "one add_os_image_hash, sent and final, on nemu-rpc (emulation), $N runs each, alternating:"
echo "  dstack-gov near add-os-image       median ${mo} ms"
echo "  near-api-js Account (node script)  median ${mt} ms"
echo "dstack-gov ${mo} ms, near-api-js ${mt} ms, ratio R $(echo "$mo $mt" | awk '{printf "%.3f", $1 / $2}')"
