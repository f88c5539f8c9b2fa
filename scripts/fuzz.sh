#!/usr/bin/env bash
# fuzz.sh SECONDS — build every libFuzzer target in fuzz/ (fuzz_*.c) with the
# library's sources compiled in, and run each for SECONDS. Seeds come from
# fuzz/seeds/<target>/ when present. A crash fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
out=build-fuzz
mkdir -p "$out"
pkgs="libsecp256k1 libsodium nettle jansson"
cflags="-std=c17 -D_DEFAULT_SOURCE -D_GNU_SOURCE -g -O1 -Iinclude -Ibuild/gen $(pkg-config --cflags $pkgs libcurl)"
libs="$(pkg-config --libs $pkgs) -ldl -lpthread -lm"
lib_srcs=$(ls lib/*/*.c 2>/dev/null || true)
# ASan keeps freed memory in a quarantine (256 MiB by default) to catch use
# after free; for a fuzzer that allocates a tree per input it means a page
# fault for nearly every allocation (fuzz_abi: 3x slower). One input's use
# after free is caught by a quarantine far smaller than 16 MiB.
export ASAN_OPTIONS="${ASAN_OPTIONS:-quarantine_size_mb=16}"
fail=0; n=0
for f in fuzz/fuzz_*.c; do
  [ -e "$f" ] || continue
  name=$(basename "$f" .c)
  extra=""
  # a target may name extra sources it needs: /* fuzz-sources: path ... */
  extra=$(sed -n 's|.*fuzz-sources:\(.*\)\*/.*|\1|p' "$f" | head -1)
  echo "fuzz: building $name"
  clang $cflags -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -o "$out/$name" "$f" $lib_srcs $extra $libs
  corpus="$out/corpus-$name"; mkdir -p "$corpus"
  seeds="fuzz/seeds/$name"; [ -d "$seeds" ] || seeds=""
  echo "fuzz: running $name for ${secs}s"
  if "$out/$name" -max_total_time="$secs" -print_final_stats=0 "$corpus" $seeds >"$out/$name.log" 2>&1; then
    n=$((n+1)); tail -n 2 "$out/$name.log"
  else
    fail=$((fail+1)); echo "fuzz: $name FAILED"; tail -n 40 "$out/$name.log"
  fi
done
echo "fuzz: $n passed, $fail failed"
[ "$fail" -eq 0 ]
