#!/usr/bin/env bash
# test-wasm.sh BUILD_DIR — suite `near-wasm`: checks on the built NEAR modules
# that need no runtime: exports match the reference method names and the docs,
# the import/feature check rejects what NEAR would reject, sizes are within
# target, and the KMS embeds exactly the built app.wasm. Ends with
# "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
out=${1:-build}/near
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
ko() { fail=$((fail + 1)); echo "FAIL $1"; }
exports() { wasm-objdump -x -j Export "$1" | sed -n 's/^ - func\[[0-9]*\] .* -> "\(.*\)"$/\1/p' | sort; }

# Method names of reference/near.md §1.3 and §2 must be exported under
# exactly these names.
kms_ref="new add_os_image_hash remove_os_image_hash add_kms_aggregated_mr remove_kms_aggregated_mr
add_kms_device remove_kms_device add_kms_compose_hash remove_kms_compose_hash set_gateway_app_id
set_kms_info set_kms_quote set_kms_eventlog register_app on_app_contract_deployed
is_app_registered get_registered_apps get_gateway_app_id get_kms_info get_allowed_os_images
get_kms_allowed_aggregated_mrs get_kms_allowed_device_ids get_kms_allowed_compose_hashes
is_os_image_allowed is_kms_aggregated_mr_allowed is_kms_device_allowed
is_kms_compose_hash_allowed is_kms_allowed request_kms_root_key"
app_ref="new add_compose_hash remove_compose_hash add_device remove_device set_allow_any_device
disable_upgrades is_app_allowed"
for pair in "kms:$kms_ref" "app:$app_ref"; do
  name=${pair%%:*}; want=${pair#*:}
  have=$(exports "$out/$name.wasm")
  missing=$(comm -23 <(tr -s ' \n' '\n' <<<"$want" | sed '/^$/d' | sort) <(echo "$have") | tr '\n' ' ')
  if [ -z "$missing" ]; then ok "$name.wasm exports every reference method"; else ko "$name.wasm lacks: $missing"; fi
  # every export is documented as a method row in docs/near-contracts.md
  documented=$(sed -n 's/^| `\([a-z_0-9]*\)` |.*/\1/p' docs/near-contracts.md | sort -u)
  undoc=$(comm -23 <(echo "$have") <(echo "$documented") | tr '\n' ' ')
  if [ -z "$undoc" ]; then ok "$name.wasm exports are all documented"; else ko "$name.wasm undocumented: $undoc"; fi
  if contracts/near/check-wasm.sh "$out/$name.wasm"; then ok "$name.wasm is MVP with NEAR imports only"; else ko "$name.wasm check"; fi
done

# The test trust anchor exists in the test build only.
if exports "$out/kms.wasm" | grep -q '^test_'; then ko "kms.wasm exports a test method"
else ok "kms.wasm has no test methods"; fi
if exports "$out/kms-test.wasm" | grep -qx 'test_set_trust_anchor'; then ok "kms-test.wasm has test_set_trust_anchor"
else ko "kms-test.wasm lacks test_set_trust_anchor"; fi

# The checker must reject a foreign import and a post-MVP instruction.
tmp=$(mktemp -d)
cat >"$tmp/bad_import.wat" <<'W'
(module (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
  (memory 1) (export "memory" (memory 0)))
W
cat >"$tmp/bad_name.wat" <<'W'
(module (import "env" "not_a_near_function" (func (param i64)))
  (memory 1) (export "memory" (memory 0)))
W
cat >"$tmp/bad_memory.wat" <<'W'
(module (import "env" "memory" (memory 1)) (import "env" "input" (func (param i64))))
W
cat >"$tmp/bulk.wat" <<'W'
(module (memory 1) (export "memory" (memory 0))
  (func (export "go") (memory.fill (i32.const 0) (i32.const 0) (i32.const 8))))
W
cat >"$tmp/signext.wat" <<'W'
(module (memory 1) (export "memory" (memory 0))
  (func (export "go") (result i64) (i64.extend8_s (i64.const 1))))
W
for t in bad_import bad_name bad_memory bulk signext; do
  # wabt >= 1.0.30 enables bulk memory and sign-extension by default
  if ! wat2wasm "$tmp/$t.wat" -o "$tmp/$t.wasm"; then ko "cannot build test module $t"; continue; fi
  if contracts/near/check-wasm.sh "$tmp/$t.wasm" 2>/dev/null; then ko "check-wasm accepts $t"; else ok "check-wasm rejects $t"; fi
done
rm -rf "$tmp"

# Sizes within target; the KMS embeds the app byte for byte.
if bench/near-size "$out" >/dev/null; then ok "sizes within target"; else ko "sizes over target"; fi
# Rebuild the KMS's initial memory from its data segments (wasm-opt splits
# them around zero runs) and look for app.wasm in it.
mem_hex() {
  wasm-objdump -x -j Data "$1" | awk '
    function hexnum(h,   v, i) { v = 0; for (i = 1; i <= length(h); i++) v = v * 16 + index("0123456789abcdef", substr(h, i, 1)) - 1; return v }
    /^  - [0-9a-f]+: / {
      c = index($0, ": ")
      addr = hexnum(substr($0, 5, c - 5))
      h = substr($0, c + 2, 39); gsub(/ /, "", h)
      for (k = 1; k < length(h); k += 2) m[addr++] = substr(h, k, 2)
      if (addr > hi) hi = addr
    }
    END { for (a = 0; a < hi; a++) printf "%s", (a in m) ? m[a] : "00"; print "" }'
}
app_hex=$(od -An -v -tx1 "$out/app.wasm" | tr -d ' \n')
if mem_hex "$out/kms.wasm" | grep -q "$app_hex"; then
  ok "kms.wasm embeds app.wasm"
else
  ko "kms.wasm does not contain app.wasm"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
