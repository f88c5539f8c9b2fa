#!/usr/bin/env bash
# fuzz.sh SECONDS [TARGET...] — build every libFuzzer target in fuzz/
# (fuzz_*.c), or only the named ones, with the library's sources compiled in,
# and run each for SECONDS (0: build only). Seeds come from
# fuzz/seeds/<target>/ when present. A crash fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
shift || true
out=build-fuzz
mkdir -p "$out"
pkgs="libsecp256k1 libsodium nettle jansson"
# -O2: -fsanitize=fuzzer marks every function "optimise for fuzzing", which
# keeps some comparisons the optimiser would otherwise fold, so libFuzzer's
# comparison signal survives (LLVM D44798, which moved libFuzzer's own tests
# to -O2); ASan checks every access that remains. At -O1 fuzz_abi missed 10^7
# runs in ten minutes (docs/fuzzing.md). FUZZ_OPT=-O1 builds as before.
opt=${FUZZ_OPT:--O2}
cflags="-std=c17 -D_DEFAULT_SOURCE -D_GNU_SOURCE -g $opt -Iinclude -Ibuild/gen $(pkg-config --cflags $pkgs libcurl)"
libs="$(pkg-config --libs $pkgs) -ldl -lpthread -lm"
# lib/attest needs mbed TLS (built from Debian's source, mk/attest.mk) and the
# contracts' JSON reader: only targets marked "fuzz-attest" link it.
# build/gen: the C tables generated from the contracts (make $(GEN_HEADERS)), which lib/eth uses.
lib_srcs="$(ls lib/*/*.c 2>/dev/null | grep -v "^lib/attest/" || true) $(ls build/gen/*.c 2>/dev/null || true)"
mbed=build/src/mbedtls
br=build/src/bearssl
br_srcs=$(make -s --no-print-directory print-BR_SRCS 2>/dev/null || true)
mbed_srcs="asn1parse asn1write base64 bignum constant_time ecdsa ecp ecp_curves md oid pem pk pk_wrap pkparse platform platform_util sha256 sha512 x509 x509_crt x509_crl"
# ASan keeps freed memory in a quarantine (256 MiB by default) to catch use
# after free; for a fuzzer that allocates a tree per input it means a page
# fault for nearly every allocation (fuzz_abi: 3x slower). One input's use
# after free is caught by a quarantine far smaller than 16 MiB.
# malloc_context_size=0: ASan stops unwinding and storing the stack of every
# allocation (fuzz_abi: ~12% of its CPU time). Every error is still detected;
# only the "allocated/freed by" stacks are left out of a report, so re-run a
# crash file with ASAN_OPTIONS=quarantine_size_mb=16 to see them.
export ASAN_OPTIONS="${ASAN_OPTIONS:-quarantine_size_mb=16:malloc_context_size=0}"
fail=0; n=0
targets=$(ls fuzz/fuzz_*.c)
[ $# -eq 0 ] || targets=$(for t in "$@"; do echo "fuzz/$t.c"; done)
for f in $targets; do
  [ -e "$f" ] || { echo "fuzz: no target $f"; fail=$((fail+1)); continue; }
  name=$(basename "$f" .c)
  extra=""
  # a target may name extra sources it needs: /* fuzz-sources: path ... */
  extra=$(sed -n 's|.*fuzz-sources:\(.*\)\*/.*|\1|p' "$f" | head -1)
  tcflags=""
  if grep -q 'fuzz-attest' "$f"; then
    [ -f "$mbed/.dg-unpacked" ] || scripts/debian-src.sh mbedtls "$mbed"
    [ -f "$br/.dg-unpacked" ] || scripts/debian-src.sh bearssl "$br"
    tcflags="-I$mbed/include -I$br/inc -I$br/src -Ilib/attest -DMBEDTLS_CONFIG_FILE=\"mbedtls_config.h\""
    extra="$extra lib/attest/*.c contracts/near/json.c contracts/near/text.c $(for m in $mbed_srcs; do echo "$mbed/library/$m.c"; done)"
    extra="$extra $(for m in $br_srcs; do echo "$br/src/$m.c"; done)"
  fi
  echo "fuzz: building $name"
  clang $cflags $tcflags -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -o "$out/$name" "$f" $lib_srcs $extra $libs
  [ "$secs" != 0 ] || { n=$((n+1)); continue; }
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
