#!/usr/bin/env bash
# check-wasm.sh MODULE.wasm — fail unless MODULE is MVP wasm that imports only
# NEAR host functions (contracts/near/host-api.txt) from module "env".
set -euo pipefail
wasm=$1
here=$(dirname "$0")
wasm-validate --disable-mutable-globals --disable-sign-extension \
  --disable-saturating-float-to-int --disable-multi-value --disable-bulk-memory \
  --disable-reference-types --disable-simd "$wasm"
# Import lines look like: " - func[3] sig=2 <env.input> <- env.input"
imports=$(wasm-objdump -x -j Import "$wasm" | sed -n 's/^ - .* <- \(.*\)$/\1/p')
bad=0
for imp in $imports; do
  mod=${imp%%.*}; name=${imp#*.}
  if [ "$mod" != env ] || ! grep -qx "$name" "$here/host-api.txt"; then
    echo "check-wasm: $wasm imports $imp, which is not in the NEAR host API" >&2
    bad=1
  fi
done
if wasm-objdump -x -j Import "$wasm" | grep -q ' - \(memory\|table\|global\)'; then
  echo "check-wasm: $wasm imports a memory, table or global" >&2
  bad=1
fi
exit $bad
