#!/usr/bin/env bash
# tests/cli/safe.sh — the cli-safe suite: a KMS and an app governed through a
# real Safe 1.4.1 (npm @safe-global/safe-contracts artifacts: Safe singleton,
# SafeProxyFactory, MultiSendCallOnly, CompatibilityFallbackHandler) and a real
# OpenZeppelin TimelockController (compiled by forge from the pinned package),
# on anvil. A 2-of-3 Safe takes the KMS over (transfer + accept through a
# proposal), adds an OS image, rotates an app's compose hash; proposals with
# too few, forged, reordered or edited signatures are refused before anything
# is sent; then the Safe hands the KMS to a timelock: a change cannot run
# before its delay (anvil's evm_increaseTime) and runs after it; the Safe
# proposes a schedule; cancel; every error class.
#
# Keys: anvil's PUBLIC TEST keys 0-3, written to mode-0600 files. Contracts
# are deployed by anvil's unlocked account 0 through `cast send --unlocked`,
# so no key is on any command line.
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
case "$BUILD" in /*) G="$BUILD/dstack-gov" ;; *) G="$PWD/$BUILD/dstack-gov" ;; esac
CAST="$PWD/node_modules/.bin/cast"
ART="$PWD/node_modules/@safe-global/safe-contracts/build/artifacts/contracts"
TLART="$PWD/contracts/eth/out/TimelockController.sol/TimelockController.json"
T=$(mktemp -d)
PASS=0; FAIL=0
cleanup() {
  "$G" devnet down --dir "$T/dn" >/dev/null 2>&1
  "$G" devnet down --dir "$T/dns" >/dev/null 2>&1
  rm -rf "$T"
}
trap cleanup EXIT

. tests/cli/lib.sh

# TEST keys and their addresses: anvil's PUBLIC keys 0-2 and the key 0x..02
# (owners 1-3 of the Safe sign only, so owner 3 needs no funds)
K=(0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80
   0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d
   0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a
   0x0000000000000000000000000000000000000000000000000000000000000002)
A=(0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266 0x70997970C51812dc3A010C7d01b50e0d17dc79C8
   0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC 0x2B5AD5c4795c026514f8317c7a215E218DcCD6cF)
for i in 0 1 2 3; do printf '%s' "${K[$i]}" > "$T/k$i"; chmod 600 "$T/k$i"; done

expect "devnet up" 0 "$G" devnet up --dir "$T/dn"
expect "devnet env" 0 "$G" devnet env --dir "$T/dn"
eval "$OUT"
KMS=$KMS_CONTRACT_ADDRESS
R=(--rpc-url "$ETH_RPC_URL")
create() {  # create ARTIFACT_JSON [ctor sig + args] -> address
  local art=$1; shift
  local code; code=$(jq -r 'if (.bytecode|type) == "string" then .bytecode else .bytecode.object end' "$art")
  "$CAST" send "${R[@]}" --unlocked --from "${A[0]}" --json --create "$code" "$@" | jq -r .contractAddress
}
call() { "$CAST" call "${R[@]}" "$@"; }
nonce0() { "$CAST" nonce "${R[@]}" "${A[0]}"; }

# ------------------------------------------------------------------ a real Safe 1.4.1, 2 of 3
SINGLETON=$(create "$ART/Safe.sol/Safe.json")
FACTORY=$(create "$ART/proxies/SafeProxyFactory.sol/SafeProxyFactory.json")
MULTI=$(create "$ART/libraries/MultiSendCallOnly.sol/MultiSendCallOnly.json")
HANDLER=$(create "$ART/handler/CompatibilityFallbackHandler.sol/CompatibilityFallbackHandler.json")
Z=0x0000000000000000000000000000000000000000
INIT=$("$CAST" calldata "setup(address[],uint256,address,bytes,address,address,uint256,address)" \
  "[${A[1]},${A[2]},${A[3]}]" 2 $Z 0x "$HANDLER" $Z 0 $Z)
SAFE=$(call "$FACTORY" "createProxyWithNonce(address,bytes,uint256)(address)" "$SINGLETON" "$INIT" 7)
"$CAST" send "${R[@]}" --unlocked --from "${A[0]}" "$FACTORY" "createProxyWithNonce(address,bytes,uint256)" "$SINGLETON" "$INIT" 7 >/dev/null
eq "Safe deployed, threshold 2" "$(call "$SAFE" 'getThreshold()(uint256)')" 2
[ -n "$MULTI" ] && ok "MultiSendCallOnly deployed" || bad "MultiSendCallOnly deployed"

# the Safe's own getTransactionHash agrees with the library's SafeTx hash
IMG=$(b32 a); IMG2=$(b32 b); IMG3=$(b32 c); IMG4=$(b32 d)
expect "transfer the KMS to the Safe" 0 "$G" kms transfer-ownership "$SAFE" --yes
P="$T/accept.json"
expect "owner 1 signs accept-ownership" 0 "$G" kms accept-ownership --safe "$SAFE" --sign --proposal "$P" --private-key-file "$T/k1"
has "1 of 2 signatures" "1 of 2 signatures in $P"
D=$(jq -r .tx.data "$P"); N=$(jq -r .tx.nonce "$P")
WANT=$(call "$SAFE" "getTransactionHash(address,uint256,bytes,uint8,uint256,uint256,uint256,address,address,uint256)(bytes32)" "$KMS" 0 "$D" 0 0 0 0 $Z $Z "$N")
eq "SafeTx hash = the Safe's getTransactionHash" "$(jq -r .safeTxHash "$P")" "$WANT"
expect "execute with 1 of 2 signatures is refused" 19 "$G" kms accept-ownership --safe "$SAFE" --execute --proposal "$P" --yes
errhas "too few: says so" "has 1 signature, the Safe needs 2"
expect "owner 2 signs" 0 "$G" kms accept-ownership --safe "$SAFE" --sign --proposal "$P" --private-key-file "$T/k2"
has "ready" "Ready: run the same command with --execute"
expect "execute accept-ownership (any sender)" 0 "$G" kms accept-ownership --safe "$SAFE" --execute --proposal "$P" --yes
eq "the Safe owns the KMS" "$(call "$KMS" 'owner()(address)')" "$SAFE"
expect "executing the same proposal again is refused" 19 "$G" kms accept-ownership --safe "$SAFE" --execute --proposal "$P" --yes
errhas "used nonce" "already used this proposal's nonce"

# ------------------------------------------------------------------ add an OS image through the Safe
P="$T/img.json"
expect "the old owner can no longer add an image" 9 "$G" kms add-image "$IMG" --yes
expect "owner 3 signs add-image" 0 "$G" kms add-image "$IMG" --safe "$SAFE" --sign --proposal "$P" --private-key-file "$T/k3"
expect "a non-owner cannot sign" 9 "$G" kms add-image "$IMG" --safe "$SAFE" --sign --proposal "$P" --private-key-file "$T/k0"
errhas "non-owner named" "is not an owner of the Safe"
expect "owner 1 signs add-image" 0 "$G" kms add-image "$IMG" --safe "$SAFE" --sign --proposal "$P" --private-key-file "$T/k1"
# tampered copies, each refused before anything is sent
jq '.tx.data = (.tx.data[:-1] + "b")' "$P" > "$T/edited.json"
jq '.signatures[0].signature as $a | .signatures[1].signature as $b | .signatures[0].signature = $b | .signatures[1].signature = $a' "$P" > "$T/swapped.json"
jq '.signatures[1].signature = (.signatures[1].signature[:-4] + "1b1c")' "$P" > "$T/forged.json"
jq '.signatures[1] = .signatures[0]' "$P" > "$T/dup.json"
B=$(nonce0)
expect "edited content is refused" 19 "$G" kms add-image "$IMG" --safe "$SAFE" --execute --proposal "$T/edited.json" --yes
errhas "edited: hash mismatch" "does not match the proposal's content"
expect "reordered (swapped) signatures are refused" 19 "$G" kms add-image "$IMG" --safe "$SAFE" --execute --proposal "$T/swapped.json" --yes
errhas "swapped: names the signer" "moved to another signer's entry"
expect "a forged signature is refused" 19 "$G" kms add-image "$IMG" --safe "$SAFE" --execute --proposal "$T/forged.json" --yes
expect "a duplicated signer is refused" 19 "$G" kms add-image "$IMG" --safe "$SAFE" --execute --proposal "$T/dup.json" --yes
expect "a proposal for another change is refused" 19 "$G" kms add-image "$IMG2" --safe "$SAFE" --execute --proposal "$P" --yes
errhas "another change: says so" "is a proposal for another change"
eq "nothing was sent by the refusals" "$(nonce0)" "$B"
expect "execute add-image" 0 "$G" kms add-image "$IMG" --safe "$SAFE" --execute --proposal "$P" --yes
has "success line" "added successfully"
eq "image allowed" "$(call "$KMS" 'allowedOsImages(bytes32)(bool)' "$IMG")" true
expect "export for the Transaction Builder (no key)" 0 env -u PRIVATE_KEY -u PRIVATE_KEY_FILE "$G" kms add-image "$IMG2" --safe "$SAFE" --export "$T/tb.json"
eq "builder file: safe" "$(jq -r .meta.createdFromSafeAddress "$T/tb.json")" "$SAFE"
eq "builder file: one call to the KMS" "$(jq -r '.transactions[0].to' "$T/tb.json")" "$KMS"

# ------------------------------------------------------------------ an app owned by the Safe: rotate-hash
OLD=$(b32 1); NEW=$(b32 2)
expect "create an app owned by the Safe" 0 "$G" kms create-app --hash "$OLD" --owner "$SAFE" --json --yes
APP=$(jq -r .appId <<<"$OUT")
P="$T/rot.json"
for k in 1 2; do
  expect "owner $k signs rotate-hash" 0 "$G" app rotate-hash --from "$OLD" --to "$NEW" --app-id "$APP" --safe "$SAFE" --sign --proposal "$P" --private-key-file "$T/k$k"
done
expect "execute rotate-hash" 0 "$G" app rotate-hash --from "$OLD" --to "$NEW" --app-id "$APP" --safe "$SAFE" --execute --proposal "$P" --yes
eq "new hash allowed" "$(call "$APP" 'allowedComposeHashes(bytes32)(bool)' "$NEW")" true
eq "old hash gone" "$(call "$APP" 'allowedComposeHashes(bytes32)(bool)' "$OLD")" false

# ------------------------------------------------------------------ error classes of the flags
expect "--safe without a mode" 2 "$G" kms add-image "$IMG2" --safe "$SAFE" --yes
expect "--execute without --proposal" 2 "$G" kms add-image "$IMG2" --safe "$SAFE" --execute --yes
expect "--safe with --dry-run" 2 "$G" kms add-image "$IMG2" --safe "$SAFE" --sign --dry-run
expect "--safe at an address without a Safe" 11 "$G" kms add-image "$IMG2" --safe "$KMS" --sign --private-key-file "$T/k1"
errhas "no Safe: says so" "no Safe at"
expect "create an app owned by account 0" 0 "$G" kms create-app --hash "$OLD" --json --yes
APP0=$(jq -r .appId <<<"$OUT")
expect "a change the Safe may not make is refused before signing" 9 "$G" app add-hash "$NEW" --app-id "$APP0" --safe "$SAFE" --sign --private-key-file "$T/k1"
errhas "not owner: as the Safe" "as the Safe"

# ------------------------------------------------------------------ the Safe hands the KMS to a timelock
TL=$(create "$TLART" "constructor(uint256,address[],address[],address)" 3600 "[$SAFE,${A[0]}]" "[$Z]" $Z)
[ -n "$TL" ] && ok "TimelockController deployed (delay 3600 s)" || bad "TimelockController deployed"
P="$T/to-tl.json"
for k in 1 3; do
  expect "owner $k signs transfer to the timelock" 0 "$G" kms transfer-ownership "$TL" --safe "$SAFE" --sign --proposal "$P" --private-key-file "$T/k$k"
done
expect "execute transfer to the timelock" 0 "$G" kms transfer-ownership "$TL" --safe "$SAFE" --execute --proposal "$P" --yes
expect "schedule accept-ownership by the timelock" 0 "$G" kms accept-ownership --timelock "$TL" --yes
has "prints when it can run" "can run from"
ID=$(grep -o 'operation 0x[0-9a-f]*' <<<"$OUT" | head -1 | cut -d' ' -f2)
expect "timelock status: waiting" 0 "$G" timelock status "$ID" --timelock "$TL"
has "waiting" "waiting: ready in"
expect "execute before the delay is refused" 2 "$G" timelock execute "$ID" --timelock "$TL" --yes
errhas "not ready: says how long" "is not ready"
"$CAST" rpc "${R[@]}" evm_increaseTime 3601 >/dev/null && "$CAST" rpc "${R[@]}" evm_mine >/dev/null
expect "execute after the delay" 0 "$G" timelock execute "$ID" --timelock "$TL" --yes
eq "the timelock owns the KMS" "$(call "$KMS" 'owner()(address)' | tr A-F a-f)" "$(tr A-F a-f <<<"$TL")"
expect "timelock status: done" 0 "$G" timelock status "$ID" --timelock "$TL" --json
eq "status done" "$(jq -r .state <<<"$OUT")" done

# a timelocked change, scheduled by the Safe (both flags)
P="$T/sched.json"
for k in 2 3; do
  expect "owner $k signs a Safe-proposed schedule" 0 "$G" kms add-image "$IMG3" --timelock "$TL" --safe "$SAFE" --sign --proposal "$P" --private-key-file "$T/k$k"
done
expect "the Safe schedules add-image" 0 "$G" kms add-image "$IMG3" --timelock "$TL" --safe "$SAFE" --execute --proposal "$P" --yes
ID=$(grep -o 'operation 0x[0-9a-f]*' <<<"$OUT" | head -1 | cut -d' ' -f2)
eq "not applied yet" "$(call "$KMS" 'allowedOsImages(bytes32)(bool)' "$IMG3")" false
"$CAST" rpc "${R[@]}" evm_increaseTime 3601 >/dev/null && "$CAST" rpc "${R[@]}" evm_mine >/dev/null
expect "anyone executes it after the delay" 0 "$G" timelock execute "$ID" --timelock "$TL" --yes
eq "image allowed through Safe + timelock" "$(call "$KMS" 'allowedOsImages(bytes32)(bool)' "$IMG3")" true

# the Safe's call would revert by the time it runs: someone else scheduled the same operation
P="$T/dupsched.json"
for k in 1 2; do
  expect "owner $k signs a schedule" 0 "$G" kms add-image "$IMG4" --timelock "$TL" --safe "$SAFE" --sign --proposal "$P" --private-key-file "$T/k$k"
done
expect "another proposer schedules the same operation first" 0 "$G" kms add-image "$IMG4" --timelock "$TL" --yes
ID=$(grep -o 'operation 0x[0-9a-f]*' <<<"$OUT" | head -1 | cut -d' ' -f2)
B=$(nonce0)
expect "the Safe's call would revert: reported before sending" 8 "$G" kms add-image "$IMG4" --timelock "$TL" --safe "$SAFE" --execute --proposal "$P" --yes
errhas "inner revert: the reason" "schedule (addOsImageHash) as the Safe: call reverted: timelock operation 0x"
errhas "inner revert: the error named" "(TimelockUnexpectedOperationState)"
expect "a signer without the proposer role is refused" 9 "$G" kms add-image "$(b32 f)" --timelock "$TL" --private-key-file "$T/k1" --yes
errhas "role: named" "lacks the timelock role"
eq "nothing was sent" "$(nonce0)" "$B"

# cancel
expect "cancel it" 0 "$G" timelock cancel "$ID" --timelock "$TL" --yes
expect "status after cancel" 0 "$G" timelock status "$ID" --timelock "$TL" --json
eq "cancelled = unset" "$(jq -r .state <<<"$OUT")" unset
expect "execute a cancelled operation is refused" 2 "$G" timelock execute "$ID" --timelock "$TL" --yes
expect "kms history shows the timelock's operations (owner detected)" 0 "$G" kms history
has "history: scheduled" "timelock scheduled"
has "history: executed" "timelock executed"
has "history: cancelled" "timelock cancelled"
has "history: the PolicyChanged events too" "os-image"
expect "kms history --json" 0 "$G" kms history --json
eq "history --json: executed add-image ops" "$(jq '[.timelockOperations[] | select(.operation == "executed")] | length' <<<"$OUT")" 2
expect "app history --timelock (none on the app)" 0 "$G" app history --app-id "$APP" --timelock "$TL"
has "app history: zero operations" "Timelock operations on it by"
expect "a direct change by the old owner is refused" 9 "$G" kms add-image "$IMG4" --yes
expect "timelock status of a wrong timelock" 11 "$G" timelock status "$ID" --timelock "$KMS"

# ------------------------------------------------------------------ devnet up --safe K/N
expect "devnet up --safe 5/3 is refused" 2 "$G" devnet up --safe 5/3 --dir "$T/dns"
expect "devnet up --safe 2/3" 0 "$G" devnet up --safe 2/3 --dir "$T/dns"
has "prints the Safe" "Safe (2 of 3):"
expect "devnet env" 0 "$G" devnet env --dir "$T/dns"
(
  eval "$OUT"; R=(--rpc-url "$ETH_RPC_URL")
  eq "devnet Safe owns the KMS" "$(call "$KMS_CONTRACT_ADDRESS" 'owner()(address)')" "$SAFE_ADDRESS"
  eq "devnet Safe: threshold 2" "$(call "$SAFE_ADDRESS" 'getThreshold()(uint256)')" 2
  eq "owner key files are mode 0600" "$(stat -c %a "$SAFE_OWNER_KEY_FILE_1" "$SAFE_OWNER_KEY_FILE_3" | sort -u)" 600
  expect "devnet: a new app belongs to the Safe" 0 "$G" kms create-app --hash "$(b32 9)" --json --yes
  eq "app owner = Safe" "$(call "$(jq -r .appId <<<"$OUT")" 'owner()(address)')" "$SAFE_ADDRESS"
  for k in 1 3; do
    expect "devnet owner $k signs" 0 "$G" kms add-image "$(b32 8)" --safe "$SAFE_ADDRESS" --sign --proposal "$T/dn.json" --private-key-file "$(eval echo \$SAFE_OWNER_KEY_FILE_$k)"
  done
  expect "devnet: execute" 0 "$G" kms add-image "$(b32 8)" --safe "$SAFE_ADDRESS" --execute --proposal "$T/dn.json" --yes
  eq "devnet: image allowed" "$(call "$KMS_CONTRACT_ADDRESS" 'allowedOsImages(bytes32)(bool)' "$(b32 8)")" true
  echo "$PASS $FAIL" > "$T/sub"
)
read PASS FAIL < "$T/sub"

echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
