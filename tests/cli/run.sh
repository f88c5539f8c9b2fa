#!/usr/bin/env bash
# tests/cli/run.sh — integration tests of `dstack-gov` on a real anvil chain.
#
# Starts a devnet with `dstack-gov devnet up` (its own state dir, free port),
# then runs every command, every Hardhat alias and every error class, the
# guide's flow end to end, and the same flow with --json parsed by jq. Each
# check prints "ok"/"FAIL"; the last line is "N passed, N failed".
#
# Keys used here are anvil's PUBLIC TEST keys (accounts 0 and 1) and the key
# 0x..01 (an unfunded account): test keys only, never for real funds.
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
case "$BUILD" in /*) G="$BUILD/dstack-gov" ;; *) G="$PWD/$BUILD/dstack-gov" ;; esac
T=$(mktemp -d)
PASS=0; FAIL=0
PROXY_PID=
cleanup() {
  [ -n "$PROXY_PID" ] && kill "$PROXY_PID" 2>/dev/null
  "$G" devnet down --dir "$T/dn" >/dev/null 2>&1
  "$G" devnet down --dir "$T/dnb" >/dev/null 2>&1
  "$G" devnet down --dir "$T/walk" >/dev/null 2>&1
  rm -rf "$T"
}
trap cleanup EXIT

. tests/cli/lib.sh
IMG=$(b32 a); IMG2=$(b32 e); MR=$(b32 c); DEV=$(b32 b); DEV2=$(b32 d)
ACCT1_KEY=0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d   # anvil TEST key 1
ACCT1=0x70997970C51812dc3A010C7d01b50e0d17dc79C8
POOR_KEY=0x0000000000000000000000000000000000000000000000000000000000000001   # TEST key, unfunded
printf '%s' "$ACCT1_KEY" > "$T/k1"; chmod 600 "$T/k1"
printf '%s' "$POOR_KEY" > "$T/kpoor"; chmod 600 "$T/kpoor"
printf '%s' "$ACCT1_KEY" > "$T/kopen"; chmod 644 "$T/kopen"

# ------------------------------------------------------------------ devnet, help
expect "devnet up" 0 "$G" devnet up --dir "$T/dn"
has "devnet up prints the KMS" "KMS contract:"
expect "devnet up twice is refused" 3 "$G" devnet up --dir "$T/dn"
expect "devnet env" 0 "$G" devnet env --dir "$T/dn"
has "devnet env exports the RPC URL" "export ETH_RPC_URL=http://127.0.0.1:"
if grep -q ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80 <<<"$OUT"; then bad "devnet env prints no key"; else ok "devnet env prints no key"; fi
eval "$OUT"
expect "devnet env --json" 0 "$G" devnet env --dir "$T/dn" --json
eq "devnet env --json has the KMS" "$(jq -r .KMS_CONTRACT_ADDRESS <<<"$OUT")" "$KMS_CONTRACT_ADDRESS"
KMS=$KMS_CONTRACT_ADDRESS

H1=$("$G" help kms add-image); H2=$("$G" kms add-image --help)
eq "help X == X --help" "$H1" "$H2"
expect "--help lists exit codes" 0 "$G" --help
has "exit codes listed" "not-owner"
has "exit code 17 listed" "17 key-file"
has "exit code 18 listed" "18 tx-dropped"
has "key-file explained in --help" "key-file: the key file is unusable"
expect "help aliases" 0 "$G" help aliases
has "aliases listed" "kms:create-app"
expect "unknown command" 2 "$G" kms frobnicate
expect "unknown flag" 2 "$G" kms add-image "$IMG" --frob
expect "missing argument" 2 "$G" kms add-image --yes

# ------------------------------------------------------------------ compose-hash
printf '{"manifest_version":2,"name":"demo"}' > "$T/app-compose.json"
expect "compose-hash" 0 "$G" compose-hash "$T/app-compose.json"
eq "compose-hash = sha256sum" "$OUT" "0x$(sha256sum "$T/app-compose.json" | cut -d' ' -f1)"
CH=$OUT
expect "compose-hash missing file" 13 "$G" compose-hash "$T/nope.json"

# ------------------------------------------------------------------ kms whitelist commands + aliases
expect "kms add-image" 0 "$G" kms add-image "$IMG" --yes
has "kms add-image success line" "Image added successfully"
has "tx wait line" "Waiting for transaction 0x"
expect "kms info --image" 0 "$G" kms info --image "$IMG"
has "image is allowed" "OS image $IMG: allowed"
expect "kms:add-image alias" 0 "$G" kms:add-image "$IMG2" --network local --rpc-url "$ETH_RPC_URL" --chain-id 31337 --yes
has "alias success line" "Image added successfully"
expect "kms:remove-image alias" 0 "$G" kms:remove-image "$IMG2" --yes
has "remove-image success" "Image removed successfully"
expect "kms info after remove" 0 "$G" kms info --image "$IMG2"
has "image removed" "not allowed"
expect "kms remove-image" 0 "$G" kms remove-image "$IMG2" --yes
expect "kms add-mr" 0 "$G" kms add-mr "$MR" --yes
has "add-mr success" "KMS aggregated MR added successfully"
expect "kms:add alias" 0 "$G" kms:add "$IMG2" --yes
expect "kms:remove alias" 0 "$G" kms:remove "$IMG2" --yes
has "kms:remove success" "KMS aggregated MR removed successfully"
expect "kms remove-mr" 0 "$G" kms remove-mr "$IMG2" --yes
expect "kms add-device" 0 "$G" kms add-device "$DEV" --yes
has "kms add-device success (sic)" "Device compose hash added successfully"
expect "kms:add-device alias" 0 "$G" kms:add-device "$DEV2" --yes
expect "kms:remove-device alias" 0 "$G" kms:remove-device "$DEV2" --yes
has "kms remove-device success" "Device ID removed successfully"
expect "kms remove-device" 0 "$G" kms remove-device "$DEV2" --yes
expect "kms info --mr --device" 0 "$G" kms info --mr "$MR" --device "$DEV" --json
eq "mr allowed (json)" "$(jq -r .mrAllowed <<<"$OUT")" true
eq "device allowed (json)" "$(jq -r .deviceAllowed <<<"$OUT")" true
expect "kms set-gateway" 0 "$G" kms set-gateway "0x1234567890123456789012345678901234567890" --yes
has "set-gateway success" "Gateway App ID set successfully"
expect "kms:set-gateway alias" 0 "$G" kms:set-gateway gw-demo --yes
expect "info:gateway alias" 0 "$G" info:gateway
eq "info:gateway line" "$OUT" "Gateway App ID: gw-demo"
expect "kms gateway" 0 "$G" kms gateway --json
eq "gateway json" "$(jq -r .gatewayAppId <<<"$OUT")" gw-demo
printf '{"k256Pubkey":"0x02aa","caPubkey":"0xbb","quote":"0xcc"}' > "$T/kmsinfo.json"
expect "kms set-info" 0 "$G" kms set-info "$T/kmsinfo.json" --yes
has "set-info success" "KMS info set successfully"
printf '{"k256Pubkey":"0x02ab","caPubkey":"0xbb","quote":"0xcd","eventlog":"0x"}' > "$T/kmsinfo2.json"
expect "kms:set-info alias" 0 "$G" kms:set-info "$T/kmsinfo2.json" --yes
expect "info:kms alias" 0 "$G" info:kms
eq "info:kms line" "$OUT" "KMS Info: { k256Pubkey: '0x02ab', caPubkey: '0xbb', quote: '0xcd' }"
expect "kms show-info" 0 "$G" kms show-info
printf '0xc0ffee\n' > "$T/quote.hex"
expect "kms set-quote (hex file)" 0 "$G" kms set-quote "$T/quote.hex" --yes
has "set-quote success" "KMS quote set successfully (3 bytes)"
printf 'raw log' > "$T/eventlog.bin"
expect "kms set-eventlog (raw file)" 0 "$G" kms set-eventlog "$T/eventlog.bin" --yes
has "set-eventlog success" "KMS event log set successfully (7 bytes)"
expect "quote visible" 0 "$G" kms show-info --json
eq "quote replaced, key kept" "$(jq -r '.quote + " " + .k256Pubkey' <<<"$OUT")" "0xc0ffee 0x02ab"
printf '{"k256Pubkey":"0x0"}' > "$T/badinfo.json"
expect "set-info bad hex" 2 "$G" kms set-info "$T/badinfo.json" --yes
expect "kms get-app-implementation" 0 "$G" kms get-app-implementation
eq "get-app-implementation line" "$OUT" "DstackApp implementation: $APP_IMPLEMENTATION"
expect "kms:get-app-implementation alias" 0 "$G" kms:get-app-implementation
expect "kms deploy-impl" 0 "$G" kms deploy-impl --yes
has "kms deploy-impl line" "✅ DstackKms implementation deployed to: 0x"
expect "kms:deploy-impl alias" 0 "$G" kms:deploy-impl --yes
expect "app deploy-impl" 0 "$G" app deploy-impl --yes
has "app deploy-impl line" "✅ DstackApp implementation deployed to: 0x"
APPIMPL2=$(sed -n 's/.*deployed to: //p' <<<"$OUT")
expect "app:deploy-impl alias" 0 "$G" app:deploy-impl --yes
expect "kms set-app-implementation" 0 "$G" kms set-app-implementation "$APPIMPL2" --yes
has "set-app-implementation success" "DstackApp implementation set successfully"
expect "kms:set-app-implementation alias" 0 "$G" kms:set-app-implementation "$APP_IMPLEMENTATION" --yes
expect "app implementation restored" 0 "$G" kms get-app-implementation
eq "app implementation value" "$OUT" "DstackApp implementation: $APP_IMPLEMENTATION"

I4=$(b32 4); I5=$(b32 5); M6=$(b32 6)
expect "kms setup (one multicall)" 0 "$G" kms setup --gateway gw-setup --images "$I4,$I5" --mrs "$M6" --devices "$M6" --yes
has "setup success" "KMS setup applied: 5 changes in one transaction"
expect "setup applied" 0 "$G" kms info --image "$I5" --mr "$M6" --device "$M6" --json
eq "setup: image" "$(jq -r .imageAllowed <<<"$OUT")" true
eq "setup: mr" "$(jq -r .mrAllowed <<<"$OUT")" true
eq "setup: device" "$(jq -r .deviceAllowed <<<"$OUT")" true
eq "setup: gateway" "$(jq -r .gatewayAppId <<<"$OUT")" gw-setup
expect "setup with a bad entry sends nothing" 2 "$G" kms setup --images "$I4,0x12" --yes
expect "setup with nothing to do" 2 "$G" kms setup --yes
expect "setup by a non-owner" 9 "$G" kms setup --images "$I4" --private-key-file "$T/k1" --yes
expect "gateway restored" 0 "$G" kms set-gateway gw-demo --yes

# ------------------------------------------------------------------ create-app, app commands
expect "kms create-app" 0 "$G" kms create-app --hash "$CH" --device "$DEV" --yes
has "create-app app id line" "Proxy Address (App Id): 0x"
has "create-app counts" "Deployed with 1 initial device and 1 initial compose hash"
APP=$(sed -n 's/^Proxy Address (App Id): //p' <<<"$OUT")
expect "create-app --require-tcb-up-to-date (6-arg factory)" 0 "$G" kms create-app --require-tcb-up-to-date --allow-any-device --dry-run
has "6-arg factory selector" "data:     0x9cb9c31f"
expect "create-app without TCB flag (5-arg factory)" 0 "$G" kms create-app --allow-any-device --dry-run
has "5-arg factory selector" "data:     0x8618169d"
expect "kms:create-app alias" 0 "$G" kms:create-app --allow-any-device --network local --rpc-url "$ETH_RPC_URL" --yes
has "alias create-app counts" "Deployed with 0 initial device and 0 initial compose hash"
errhas "create-app without hash warns" "no --hash"
APP_ANY=$(sed -n 's/^Proxy Address (App Id): //p' <<<"$OUT")
expect "create-app --salt --dry-run predicts" 0 "$G" kms create-app --salt demo-1 --hash "$CH" --dry-run
PRED=$(sed -n 's/^Predicted App Id (salt demo-1): //p' <<<"$OUT")
expect "create-app --salt" 0 "$G" kms create-app --salt demo-1 --hash "$CH" --require-tcb-up-to-date --disable-upgrades --owner "$ACCT1" --yes
eq "salted app id = prediction" "$(sed -n 's/^Proxy Address (App Id): //p' <<<"$OUT")" "$PRED"
expect "salted app info" 0 "$G" app info --app-id "$PRED" --json
eq "salted app owner" "$(jq -r .owner <<<"$OUT")" "$ACCT1"
eq "salted app tcb flag" "$(jq -r .requireTcbUpToDate <<<"$OUT")" true
expect "same salt again reverts" 8 "$G" kms create-app --salt demo-1 --yes

expect "app info" 0 "$G" app info --app-id "$APP" --hash "$CH" --device "$DEV"
has "app info hash" "Compose hash $CH: allowed"
has "app info device" "Device $DEV: allowed"
has "app info registered" "Registered in the KMS:  yes"
NEWCH=$(b32 f)
expect "app add-hash" 0 "$G" app add-hash "$NEWCH" --app-id "$APP" --yes
has "add-hash success" "Compose hash added successfully"
errhas "add-hash warns about the old hash" "does not remove the old one"
expect "app:remove-hash alias" 0 "$G" app:remove-hash "$NEWCH" --app-id "$APP" --yes
has "remove-hash success" "Compose hash removed successfully"
expect "app:add-hash alias" 0 "$G" app:add-hash "$NEWCH" --app-id "$APP" --network local --yes
expect "app remove-hash" 0 "$G" app remove-hash "$NEWCH" --app-id "$APP" --yes
expect "app rotate-hash" 0 "$G" app rotate-hash --from "$CH" --to "$NEWCH" --app-id "$APP" --yes
has "rotate success" "Compose hash rotated successfully"
expect "after rotate" 0 "$G" app info --app-id "$APP" --hash "$CH" --json
eq "old hash gone after rotate" "$(jq -r .hashAllowed <<<"$OUT")" false
expect "after rotate (new)" 0 "$G" app info --app-id "$APP" --hash "$NEWCH" --json
eq "new hash allowed after rotate" "$(jq -r .hashAllowed <<<"$OUT")" true
expect "rotate back" 0 "$G" app rotate-hash --from "$NEWCH" --to "$CH" --app-id "$APP" --yes
expect "rotate same hash refused" 2 "$G" app rotate-hash --from "$CH" --to "$CH" --app-id "$APP" --yes
expect "app add-device" 0 "$G" app add-device "$DEV2" --app-id "$APP" --yes
has "app add-device success" "Device ID added successfully"
expect "app:remove-device alias" 0 "$G" app:remove-device "$DEV2" --app-id "$APP" --yes
has "app remove-device success" "Device ID removed successfully"
expect "app:add-device alias" 0 "$G" app:add-device "$DEV2" --app-id "$APP" --yes
expect "app:set-allow-any-device alias (flag)" 0 "$G" app:set-allow-any-device --app-id "$APP" --allow-any-device --yes
has "allow-any success" "Allow any device set successfully"
expect "app remove-device while any" 0 "$G" app remove-device "$DEV2" --app-id "$APP" --yes
errhas "remove-device warns under allowAnyDevice" "changes no boot decision"
expect "app set-allow-any-device false" 0 "$G" app set-allow-any-device false --app-id "$APP" --yes
expect "allow any is false" 0 "$G" app info --app-id "$APP" --json
eq "allowAnyDevice false" "$(jq -r .allowAnyDevice <<<"$OUT")" false
expect "set-allow-any-device bad value" 2 "$G" app set-allow-any-device maybe --app-id "$APP" --yes
expect "app set-require-tcb-up-to-date" 0 "$G" app set-require-tcb-up-to-date true --app-id "$APP_ANY" --yes
expect "tcb flag set" 0 "$G" app info --app-id "$APP_ANY" --json
eq "requireTcbUpToDate true" "$(jq -r .requireTcbUpToDate <<<"$OUT")" true

# ------------------------------------------------------------------ check app / kms
cat > "$T/boot.json" <<JSON
{"appId":"${APP#0x}","composeHash":"${CH#0x}","instanceId":"","deviceId":"${DEV#0x}","mrAggregated":"${MR#0x}","mrSystem":"","osImageHash":"${IMG#0x}","tcbStatus":"UpToDate","advisoryIds":[],"teeVariant":"dstack-tdx"}
JSON
expect "check app allowed" 0 "$G" check app --boot-info "$T/boot.json"
has "check app says allowed" "Is Allowed: true"
has "check app gateway" "Gateway App ID: gw-demo"
has "check app sees IAppAuth" "implements IAppAuth (ERC-165 0x1e079198)"
sed "s/${DEV#0x}/${DEV2#0x}/" "$T/boot.json" > "$T/boot-dev.json"
expect "check app denied (device)" 1 "$G" check app --boot-info "$T/boot-dev.json"
has "check app device reason" "Reason: Device not allowed"
has "check explains the device rule" "[DENY] device"
expect "check kms allowed" 0 "$G" check kms --boot-info "$T/boot.json"
has "check kms says allowed" "Is Allowed: true"
sed 's/"UpToDate"/"OutOfDate"/' "$T/boot.json" > "$T/boot-tcb.json"
expect "check kms denied (tcb)" 1 "$G" check kms --boot-info "$T/boot-tcb.json" --json
eq "check kms reason (json)" "$(jq -r .reason <<<"$OUT")" "TCB status is not up to date"
sed 's/"composeHash":"[0-9a-f]*"/"composeHash":"1234"/' "$T/boot.json" > "$T/boot-short.json"
expect "check rejects a short hash" 2 "$G" check app --boot-info "$T/boot-short.json"
errhas "short hash error names the field" "composeHash"

# ------------------------------------------------------------------ app deploy (standalone), upgrades
expect "app:deploy alias" 0 "$G" app:deploy --hash "$CH" --allow-any-device --yes
has "app:deploy success" "✅ App deployed and registered successfully!"
SAPP=$(sed -n 's/^App ID: //p' <<<"$OUT")
expect "standalone app registered" 0 "$G" kms info --app "$SAPP" --json
eq "standalone registered" "$(jq -r .appRegistered <<<"$OUT")" true
expect "app deploy" 0 "$G" app deploy --yes
expect "app upgrade --dry-run" 0 "$G" app upgrade --app-id "$APP" --dry-run
has "app upgrade dry-run data" "Upgrade transaction data: 0x4f1ef286"
expect "app:upgrade alias" 0 "$G" app:upgrade --address "$APP" --yes
has "app upgraded line" "DstackApp upgraded at proxy address: $APP"
expect "kms upgrade --dry-run" 0 "$G" kms upgrade --dry-run
has "kms upgrade dry-run mode" "Mode: Dry Run (simulation only)"
expect "kms:upgrade alias" 0 "$G" kms:upgrade --address "$KMS" --yes
has "kms upgraded line" "DstackKms upgraded at proxy address: $KMS"
expect "state survives the upgrade" 0 "$G" kms info --image "$IMG"
has "image still allowed" "OS image $IMG: allowed"
expect "app disable-upgrades" 0 "$G" app disable-upgrades --app-id "$SAPP" --yes
expect "upgrade after disable is refused before deploying" 8 "$G" app upgrade --app-id "$SAPP" --yes
errhas "revert reason shown" "Upgrades are permanently disabled"
if grep -q "Waiting for transaction" <<<"$OUT"; then bad "nothing sent for a doomed upgrade"; else ok "nothing sent for a doomed upgrade"; fi
expect "kms upgrade by a non-owner is refused" 9 "$G" kms upgrade --private-key-file "$T/k1" --yes

# ------------------------------------------------------------------ registration, ownership
expect "kms deregister-app" 0 "$G" kms deregister-app "$SAPP" --yes
has "deregister success" "App deregistered successfully"
expect "deregistered shows" 0 "$G" kms info --app "$SAPP"
has "deregistered state" "deregistered"
expect "register after deregister reverts" 8 "$G" kms register-app "$SAPP" --yes
errhas "reason App deregistered" "App deregistered"
expect "kms reinstate-app" 0 "$G" kms reinstate-app "$SAPP" --yes
expect "kms register-app" 0 "$G" kms register-app "$SAPP" --yes
has "register success" "App registered successfully"
eq "register-app of a contract: no warning" "$ERR" ""
expect "kms register-app of an address without code (dry run)" 0 "$G" kms register-app 0x000000000000000000000000000000000000dEaD --dry-run
errhas "register-app warns: no code" "0x000000000000000000000000000000000000dEaD has no contract code on chain 31337"
errhas "register-app no code: says the KMS denies, quoting the contract" "isAppAllowed denies every boot of it with \"App not deployed or invalid address\""
expect "kms set-app-implementation without code (dry run)" 0 "$G" kms set-app-implementation 0x000000000000000000000000000000000000dEaD --dry-run
errhas "set-app-implementation warns: no code" "0x000000000000000000000000000000000000dEaD has no contract code on chain 31337"
expect "app transfer-ownership" 0 "$G" app transfer-ownership "$ACCT1" --app-id "$APP_ANY" --yes
expect "app accept-ownership (new owner)" 0 "$G" app accept-ownership --app-id "$APP_ANY" --private-key-file "$T/k1" --yes
expect "app owner changed" 0 "$G" app info --app-id "$APP_ANY" --json
eq "app new owner" "$(jq -r .owner <<<"$OUT")" "$ACCT1"
expect "kms transfer-ownership" 0 "$G" kms transfer-ownership "$ACCT1" --yes
expect "kms pending owner" 0 "$G" kms info --json
eq "pending owner" "$(jq -r .pendingOwner <<<"$OUT")" "$ACCT1"
expect "kms accept-ownership" 0 "$G" kms accept-ownership --private-key-file "$T/k1" --yes
expect "kms hand back" 0 "$G" kms transfer-ownership 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266 --private-key-file "$T/k1" --yes
expect "kms accept back" 0 "$G" kms accept-ownership --yes

# ------------------------------------------------------------------ error classes
expect "bad hex" 2 "$G" kms add-image "0x$(printf 'g%.0s' $(seq 64))" --yes
errhas "bad hex message" "OS image hash"
expect "wrong length" 2 "$G" kms add-image 0x1234 --yes
errhas "wrong length message" "expected 64 hex digits, got 4"
expect "bad checksum address" 2 "$G" kms register-app 0x75537828F2ce51be7289709686A69CbFDbB714F1 --yes
expect "bad --kms" 2 "$G" kms info --kms 0x1234
expect "no code at address" 11 "$G" kms add-image "$IMG" --kms 0x0000000000000000000000000000000000000001 --yes
errhas "no code message" "no contract code at 0x0000000000000000000000000000000000000001"
expect "no code (read)" 11 "$G" app info --app-id 0x000000000000000000000000000000000000dEaD
expect "chain id mismatch (preset)" 7 "$G" kms add-image "$IMG" --network sepolia --rpc-url "$ETH_RPC_URL" --yes
errhas "chain id message" "expects 11155111"
expect "chain id mismatch (--chain-id)" 7 "$G" kms info --chain-id 1
expect "not the owner" 9 "$G" kms add-image "$IMG" --private-key-file "$T/k1" --yes
errhas "not owner message" "is not the owner"
expect "not the app owner" 9 "$G" app add-hash "$CH" --app-id "$APP" --private-key-file "$T/k1" --yes
eq "not the app owner: one line, no warning for a change that cannot happen" "$(wc -l <<<"$ERR")" 1
expect "add-hash to an address without code" 11 "$G" app add-hash "$CH" --app-id 0x000000000000000000000000000000000000dEaD --yes
eq "no code: one line, no warning first" "$ERR" "dstack-gov: no contract code at 0x000000000000000000000000000000000000dEaD on chain 31337 (addComposeHash): wrong address or wrong network?"
expect "insufficient funds" 10 "$G" kms register-app "$APP" --private-key-file "$T/kpoor" --yes
errhas "funds message" "insufficient funds"
# --gas-limit is checked before anything is sent (issue 15): below the estimate, or below the
# intrinsic gas, refused unless --force-gas-limit; a forced limit that runs out of gas says so,
# and a transaction the node drops is reported as dropped within seconds, not after --timeout.
nonce() { curl -s -H 'content-type: application/json' -d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_getTransactionCount\",\"params\":[\"$1\",\"pending\"]}" "$ETH_RPC_URL" | jq -r .result; }
OWNER=0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266
IMG8=$(b32 8); N0=$(nonce $OWNER)
expect "gas limit below the estimate: refused" 2 "$G" kms add-image "$IMG8" --gas-limit 30000 --yes
errhas "below-estimate message" "addOsImageHash: gas limit 30000 is below the estimate"
errhas "below-estimate names the flag" "--force-gas-limit"
expect "gas limit below the intrinsic gas: refused" 2 "$G" kms add-image "$IMG8" --gas-limit 21000 --yes
errhas "below-intrinsic message" "gas limit 21000 is below the intrinsic gas (21000 + data)"
eq "refused limits sent nothing" "$(nonce $OWNER)" "$N0"
expect "--force-gas-limit needs --gas-limit" 2 "$G" kms add-image "$IMG8" --force-gas-limit --yes
expect "gas limit not a number" 2 "$G" kms add-image "$IMG8" --gas-limit lots --yes
expect "forced low limit: out of gas on chain" 8 "$G" kms add-image "$IMG8" --gas-limit 30000 --force-gas-limit --yes
errhas "forced limit warns before sending" "warning: addOsImageHash: gas limit 30000 forced below what it needs"
errhas "out of gas is named" "out of gas — gas limit 30000"
S0=$(date +%s%N)
expect "forced limit below intrinsic gas: dropped (exit 18)" 18 "$G" kms add-image "$IMG8" --gas-limit 21000 --force-gas-limit --timeout 60 --yes
S1=$(date +%s%N)
errhas "dropped message" "was dropped by the node: neither mined nor pending"
if [ $(( (S1 - S0) / 1000000 )) -lt 10000 ]; then ok "dropped reported within 10 s"; else bad "dropped took $(( (S1 - S0) / 1000000 )) ms"; fi
expect "dropped --json: class tx-dropped" 18 "$G" kms add-image "$IMG8" --gas-limit 21000 --force-gas-limit --yes --json
eq "dropped --json class" "$(jq -r .error.class <<<"$OUT")" "tx-dropped"
expect "a limit at the estimate is used as given" 0 "$G" kms add-image "$IMG8" --gas-limit 200000 --dry-run --json
eq "dry run shows the given gas" "$(jq -r '.transactions[0].gas' <<<"$OUT")" 200000
expect "rpc unreachable" 4 "$G" kms add-image "$IMG" --rpc-url http://127.0.0.1:9 --yes
errhas "unreachable names the endpoint" "127.0.0.1:9"
# every way a key file is unusable has one exit class (17, key-file), the reason in the message
expect "key file world-readable: key-file class" 17 "$G" kms add-image "$IMG" --private-key-file "$T/kopen" --yes
eq "key file mode: one line naming file and reason" "$ERR" "dstack-gov: key file $T/kopen: accessible by group or others (mode 0644); run chmod 600 $T/kopen"
expect "key file missing: key-file class" 17 "$G" kms add-image "$IMG" --private-key-file "$T/nosuchkey" --yes
errhas "key file missing: reason" "key file $T/nosuchkey: cannot open: No such file or directory"
printf 'not a key\n' > "$T/kbad"; chmod 600 "$T/kbad"
expect "key file malformed: key-file class" 17 "$G" kms add-image "$IMG" --private-key-file "$T/kbad" --yes
errhas "key file malformed: reason" "key file $T/kbad: private key must be 64 hex digits"
expect "key file malformed via PRIVATE_KEY_FILE: key-file class" 17 env PRIVATE_KEY_FILE="$T/kbad" "$G" kms add-image "$IMG" --yes
expect "key file malformed, --json: class key-file" 17 "$G" kms add-image "$IMG" --private-key-file "$T/kbad" --yes --json
eq "key file --json class" "$(jq -r .error.class <<<"$OUT")" "key-file"
expect "no signer" 3 env -u PRIVATE_KEY_FILE -u PRIVATE_KEY "$G" kms add-image "$IMG" --yes
expect "no kms address" 3 env -u KMS_CONTRACT_ADDRESS -u KMS_CONTRACT_ADDR "$G" kms info
expect "unknown network" 2 "$G" kms info --network nowhere
expect "sepolia needs a key" 3 env -u ETH_RPC_URL -u ALCHEMY_API_KEY "$G" kms info --network sepolia
expect "no terminal, no --yes" 15 "$G" kms add-image "$IMG"
errhas "refusal says --yes" "pass --yes"
# the confirmation prompt on a terminal (script(1) gives the command a pty)
OUT=$(printf 'n\n' | script -qec "$G kms add-image $IMG2" /dev/null 2>&1); rc=$?
eq "prompt: 'n' cancels (exit 15)" "$rc" 15
has "prompt shows the cost" "(at most "
has "prompt asks y/N" "? (y/N)"
OUT=$(printf 'y\n' | script -qec "$G kms add-image $(b32 9)" /dev/null 2>&1); rc=$?
eq "prompt: 'y' sends (exit 0)" "$rc" 0
has "prompt then success" "Image added successfully"
expect "dry run sends nothing" 0 "$G" kms add-image "$IMG2" --dry-run
has "dry run prints data" "data:     0x06a3ae96"
expect "dry run left state" 0 "$G" kms info --image "$IMG2" --json
eq "image2 still not allowed" "$(jq -r .imageAllowed <<<"$OUT")" false
expect "dry run as another sender (--sender)" 9 env -u PRIVATE_KEY_FILE "$G" kms add-image "$IMG2" --dry-run --sender "$ACCT1"
errhas "--sender simulates that sender" "$ACCT1 is not the owner"
expect "dry run --from the owner, no key" 0 env -u PRIVATE_KEY_FILE "$G" kms add-image "$IMG2" --dry-run --json --sender 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266
eq "unsigned tx for a multisig" "$(jq -r '.transactions[0].data[0:10]' <<<"$OUT")" 0x06a3ae96
expect "--sender without --dry-run" 2 "$G" kms add-image "$IMG2" --sender "$ACCT1" --yes
expect "compose-hash --app-id (allowed)" 0 "$G" compose-hash "$T/app-compose.json" --app-id "$APP"
has "compose-hash says allowed" "allowed by app"
printf '{"name":"other"}' > "$T/other-compose.json"
expect "compose-hash --app-id (not allowed)" 1 "$G" compose-hash "$T/other-compose.json" --app-id "$APP"
has "compose-hash says not allowed" "NOT allowed by app"
rpc() { curl -s -H 'content-type: application/json' -d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$1\",\"params\":$2}" "$ETH_RPC_URL" >/dev/null; }
rpc evm_setAutomine '[false]'
expect "receipt timeout" 5 "$G" kms add-image "$IMG2" --timeout 1 --yes
errhas "timeout message" "not mined after 1 s"
rpc evm_setAutomine '[true]'; rpc evm_mine '[]'
expect "mined later" 0 "$G" kms info --image "$IMG2" --json
eq "timed-out tx mined later" "$(jq -r .imageAllowed <<<"$OUT")" true
expect "json error object" 11 "$G" app info --app-id 0x000000000000000000000000000000000000dEaD --json
eq "json error class" "$(jq -r .error.class <<<"$OUT")" "no-code"
if grep -rq ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80 "$T"/err; then bad "stderr never shows the key"; else ok "stderr never shows the key"; fi

# ------------------------------------------------------------------ the guide's flow with --json, parsed
J() { "$G" "$@" --json --yes </dev/null 2>/dev/null; }
IMG3=$(b32 7)
OUTJ=$(J kms add-image "$IMG3"); eq "json add-image ok" "$(jq -r .ok <<<"$OUTJ")" true
eq "json add-image tx hash" "$(jq -r '.txHash | length' <<<"$OUTJ")" 66
OUTJ=$(J kms create-app --hash "$CH" --device "$DEV"); JAPP=$(jq -r .appId <<<"$OUTJ")
eq "json create-app app id" "${#JAPP}" 42
OUTJ=$(J app add-hash "$NEWCH" --app-id "$JAPP"); eq "json add-hash warns" "$(jq -r '.warnings | length' <<<"$OUTJ")" 1
OUTJ=$(J kms set-gateway "$JAPP"); eq "json set-gateway" "$(jq -r .value <<<"$OUTJ")" "$JAPP"
sed "s/${APP#0x}/${JAPP#0x}/; s/${IMG#0x}/${IMG3#0x}/" "$T/boot.json" > "$T/boot-j.json"
OUTJ=$("$G" check app --boot-info "$T/boot-j.json" --json); eq "json check allowed" "$(jq -r .isAllowed <<<"$OUTJ")" true
eq "json check gateway" "$(jq -r .gatewayAppId <<<"$OUTJ")" "$JAPP"
eq "json check rules" "$(jq -r '[.checks[].ok] | all' <<<"$OUTJ")" true
OUTJ=$(J app remove-hash "$CH" --app-id "$JAPP")
OUTJ=$("$G" check app --boot-info "$T/boot-j.json" --json); eq "json check denied after remove" "$(jq -r .reason <<<"$OUTJ")" "Compose hash not allowed"

OUTJ=$("$G" app history --app-id "$JAPP" --json); eq "history: hashes allowed now" "$(jq -c '.current["compose-hash"]' <<<"$OUTJ")" "[\"$NEWCH\"]"
eq "history: events recorded" "$(jq -r '[.events[] | select(.policy == "compose-hash")] | length' <<<"$OUTJ")" 3
OUTJ=$(J kms deregister-app "$JAPP")
OUTJ=$("$G" kms history --json)
eq "history: deregistered app not registered" "$(jq -r --arg a "$JAPP" '.current["registered-app"] | index($a)' <<<"$OUTJ")" null
eq "history: deregistered app listed" "$(jq -r --arg a "$JAPP" '.current["deregistered-app"] | index($a) != null' <<<"$OUTJ")" true
eq "history: reinstated app registered" "$(jq -r --arg a "$SAPP" '.current["registered-app"] | index($a) != null' <<<"$OUTJ")" true
eq "history: image list" "$(jq -r --arg a "$IMG" '.current["os-image"] | index($a) != null' <<<"$OUTJ")" true
expect "kms history (text)" 0 "$G" kms history
has "history shows removals" "os-image                 removed"
# the gateway app id was set last to "$JAPP" (json section), earlier to gw-demo
has "history names the current gateway id behind its keccak" "(keccak of \"$JAPP\", the current gateway app id)"
GWK=$(cast keccak gw-demo 2>/dev/null || echo 0x)
has "history marks an older gateway id as a keccak" "$GWK (keccak of an earlier gateway app id)"
HEAD=$(curl -s -H 'content-type: application/json' -d '{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}' "$ETH_RPC_URL" | jq -r .result)
expect "history --from-block (last block only)" 0 "$G" kms history --from-block "$HEAD" --json
eq "only the last change" "$(jq -c '[.events[].policy]' <<<"$OUT")" '["deregistered-app"]'

# ------------------------------------------------------------------ legacy fees (chain without a base fee)
expect "devnet up --base-fee 0 --chain-id 8453" 0 "$G" devnet up --dir "$T/dnb" --base-fee 0 --chain-id 8453 --json
BURL=$(jq -r .rpcUrl <<<"$OUT"); BKMS=$(jq -r .kmsContractAddress <<<"$OUT")
eq "devnet chain id" "$(jq -r .chainId <<<"$OUT")" 8453
expect "preset chain id matches" 0 "$G" kms info --network base --rpc-url "$BURL" --kms "$BKMS"
expect "no code on a non-devnet chain (after retries)" 11 "$G" kms add-image "$IMG" --rpc-url "$BURL" --kms 0x000000000000000000000000000000000000dEaD --yes
expect "legacy dry run" 0 "$G" kms add-image "$IMG" --rpc-url "$BURL" --kms "$BKMS" --dry-run
has "legacy gas price chosen" "legacy gas price"
expect "legacy add-image" 0 "$G" kms add-image "$IMG" --rpc-url "$BURL" --kms "$BKMS" --yes
has "legacy add-image success" "Image added successfully"
expect "legacy devnet down" 0 "$G" devnet down --dir "$T/dnb"

# ------------------------------------------------------------------ an endpoint that refuses batches
node tests/cli/nobatch-proxy.js "$ETH_RPC_URL" > "$T/proxy.out" 2>&1 &
PROXY_PID=$!
for _ in $(seq 100); do grep -q '^port ' "$T/proxy.out" && break; sleep 0.05; done
PURL="http://127.0.0.1:$(sed -n 's/^port //p' "$T/proxy.out")"
expect "no-batch endpoint: read" 0 "$G" kms info --rpc-url "$PURL" --image "$IMG" --json
eq "no-batch endpoint: answer" "$(jq -r .imageAllowed <<<"$OUT")" true
expect "no-batch endpoint: transaction" 0 "$G" kms add-image "$(b32 8)" --rpc-url "$PURL" --yes
has "no-batch endpoint: success" "Image added successfully"
expect "no-batch endpoint: revert still classified" 9 "$G" kms add-image "$IMG" --rpc-url "$PURL" --private-key-file "$T/k1" --yes
expect "no-batch endpoint: check app" 0 "$G" check app --boot-info "$T/boot.json" --rpc-url "$PURL"
kill "$PROXY_PID" 2>/dev/null; wait "$PROXY_PID" 2>/dev/null

# ------------------------------------------------------------------ kms deploy (fresh), devnet down
expect "kms deploy (no app impl)" 0 "$G" kms deploy --yes
has "kms deploy lines" "Deployment completed successfully"
# every line of the guide's Hardhat output (issue 13), in its order
HH_ORDER=$(grep -oE "^(Deploying with account|Account balance|Step 2: Deploying DstackKms|Starting DstackKms deployment process\\.\\.\\.|Network: \{ name: '[a-z]+', chainId: '31337', rpcUrl: 'http://127\.0\.0\.1:[0-9]+' \}|Getting contract factory\\.\\.\\.|Estimating deployment costs\\.\\.\\.|Deployment details: \{ estimatedGas: '[0-9]+', gasPrice: '[0-9.]+ gwei', estimatedCost: '[0-9.]+ ETH' \}|Estimated deployment cost: [0-9.]+ ETH|Deploying proxy\\.\\.\\.|Waiting for deployment\\.\\.\\.|DstackKms Proxy deployed to: 0x[0-9a-fA-F]{40}|Implementation deployed to: 0x[0-9a-fA-F]{40}|Deployment completed successfully|Transaction hash: 0x[0-9a-f]{64})" <<<"$OUT" | sed -E 's/[:{].*//' | tr '\n' '|')
eq "kms deploy prints the Hardhat lines in order" "$HH_ORDER" "Deploying with account|Account balance|Step 2|Starting DstackKms deployment process...|Network|Getting contract factory...|Estimating deployment costs...|Deployment details|Estimated deployment cost|Deploying proxy...|Waiting for deployment...|DstackKms Proxy deployed to|Implementation deployed to|Deployment completed successfully|Transaction hash|"
N0=$(nonce $OWNER)
OUT=$(printf 'n\n' | script -qec "$G kms deploy" /dev/null 2>&1); rc=$?
eq "kms deploy prompt: 'n' cancels (exit 15)" "$rc" 15
has "kms deploy asks as the guide" "Do you want to proceed with deployment? (y/N)"
has "kms deploy says cancelled" "Deployment cancelled"
eq "cancelled deploy sent nothing" "$(nonce $OWNER)" "$N0"
expect "kms deploy --json: proxy gas within the estimate's allowance" 0 "$G" kms deploy --app-implementation "$APP_IMPLEMENTATION" --yes --json
if [ "$(jq '.transactions[1].gasUsed' <<<"$OUT")" -le 206053 ]; then ok "proxy deployment gas <= 206053"; else bad "proxy gas $(jq '.transactions[1].gasUsed' <<<"$OUT") > allowance 206053"; fi
expect "kms:deploy alias --app-implementation" 0 "$G" kms:deploy --app-implementation "$APP_IMPLEMENTATION" --yes
has "kms deploy uses impl" "Setting DstackApp implementation during initialization: $APP_IMPLEMENTATION"
expect "kms deploy --dry-run" 0 "$G" kms deploy --with-app-impl --dry-run
expect "deploy flags exclusive" 2 "$G" kms deploy --with-app-impl --app-implementation "$APP_IMPLEMENTATION" --yes
PID=$(cat "$T/dn/anvil.pid")
expect "devnet down" 0 "$G" devnet down --dir "$T/dn"
has "down names the pid" "stopped anvil pid $PID"
if kill -0 "$PID" 2>/dev/null && ! grep -q '^State:.*Z' /proc/$PID/status 2>/dev/null; then bad "anvil stopped"; else ok "anvil stopped"; fi
expect "devnet down again" 3 "$G" devnet down --dir "$T/dn"

# ------------------------------------------------------------------ docs/ethereum.md's walkthrough, as written
# Every "$ dstack-gov ..." line of the walkthrough (continuations joined), pasted in order
# from the repository's top directory into a clean shell on a fresh devnet: each must
# exit as the guide says (the second `check app` is the denied boot) and print its line.
sed -n '/^## Walkthrough/,/^## On a public chain/p' docs/ethereum.md |
  awk '/^ *\$ /{sub(/^ *\$ /,""); c=$0; while (c ~ /\\$/ && (getline l) > 0) {sub(/\\$/,"",c); sub(/^ */,"",l); c=c l}
       print c "; echo \"rc=$?\""}' > "$T/walk.sh"
WALK_N=$(grep -c . "$T/walk.sh")
WALK=$(env -i PATH="$(dirname "$G"):/usr/bin:/bin" HOME="$T" DSTACK_GOV_DEVNET_DIR="$T/walk" bash "$T/walk.sh" 2>&1)
"$G" devnet down --dir "$T/walk" >/dev/null 2>&1
eq "walkthrough: every command ran" "$WALK_N" 11
eq "walkthrough: exit codes as the guide says" "$(grep -o '^rc=[0-9]*' <<<"$WALK" | tr '\n' ' ')" \
  "rc=0 rc=0 rc=0 rc=0 rc=0 rc=0 rc=0 rc=0 rc=0 rc=1 rc=0 "
OUT=$WALK
has "walkthrough: app id as printed" "Proxy Address (App Id): 0x75537828f2ce51be7289709686A69CbFDbB714F1"
has "walkthrough: rotated" "Compose hash rotated successfully"
has "walkthrough: history replays the new hash" "  compose-hash       0xfb04dcb6970e4c3d1873de51fd5a50d7bb46b3383113602665c350ec40b5f990"

echo "cli: $PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
