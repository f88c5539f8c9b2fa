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
table=$(wasm-objdump -x -j Import "$wasm")
imports=$(sed -n 's/^ - .* <- \(.*\)$/\1/p' <<<"$table")
bad=0
allowed=$(grep -v '^#' "$here/host-api.txt" | sed 's/^/env./')
unknown=$(grep -vxF -f <(echo "$allowed") <<<"$imports" || true)
for imp in $unknown; do
  echo "check-wasm: $wasm imports $imp, which is not in the NEAR host API" >&2
  bad=1
done
if grep -q ' - \(memory\|table\|global\)' <<<"$table"; then
  echo "check-wasm: $wasm imports a memory, table or global" >&2
  bad=1
fi
exit $bad
