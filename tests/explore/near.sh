#!/usr/bin/env bash
# tests/explore/near.sh — `dstack-gov explore --near` on `devnet up --near`
# (nemu-rpc: this project's EMULATION of the NEAR runtime, not nearcore).
#
# Sets governance up with `dstack-gov near ...` (an OS image, an aggregated MR, a
# KMS device, the gateway, an app with a compose hash and a device), starts
# `explore --near --port 0`, and checks over real HTTP that /api/state says what
# `near kms show --json` / `near app show --json` say, that /api/check/{app,kms}
# give exactly `near check --json`'s verdict and rules for an allowed boot and each
# deny reason, that a governance transaction appears in the API, and
# (tests/explore/browser-near.mjs) the page in headless chromium.
# Run by tests/explore/run.sh; last line "explore-near: N passed, N failed".
#
# Key: the devnet's PUBLIC TEST key (seed "test.near"), test key only.
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
case "$BUILD" in /*) G="$BUILD/dstack-gov" ;; *) G="$PWD/$BUILD/dstack-gov" ;; esac
T=$(mktemp -d)
PASS=0; FAIL=0
EXPLORE_PID=
cleanup() {
  [ -n "$EXPLORE_PID" ] && kill "$EXPLORE_PID" 2>/dev/null && wait "$EXPLORE_PID" 2>/dev/null
  "$G" devnet down --near --dir "$T/dn" >/dev/null 2>&1
  rm -rf "$T"
}
trap cleanup EXIT

. tests/cli/lib.sh   # ok, bad, eq
run() { "$@" </dev/null >"$T/out" 2>"$T/err" || { bad "setup: $*" "$(cat "$T/err")"; return 1; }; }
hx() { printf "$1%.0s" $(seq "$2"); }   # hx ab 32 -> abab...
IMG=$(hx 1a 32); DEV=$(hx 2b 32); MR=$(hx 3c 32); GW=$(hx 5e 20)
APP=$(hx 6f 20); CH=$(hx 7a 32); CH2=$(hx 7b 32); ADEV=$(hx 8b 32); BAD=$(hx ee 32)

# ------------------------------------------------------------------ governance
run "$G" devnet up --near --dir "$T/dn" || { echo "explore-near: $PASS passed, $((FAIL)) failed"; exit 1; }
eval "$("$G" devnet env --near --dir "$T/dn")"
KMS=$KMS_CONTRACT_ID
run "$G" near kms add-image "$IMG" --yes
run "$G" near kms add-mr "$MR" --yes
run "$G" near kms add-device "$DEV" --yes
run "$G" near kms set-gateway "$GW" --yes
run "$G" near app deploy "$APP" test.near --compose-hash "$CH" --device-id "$ADEV" --yes
APP2=$(hx 6e 20)
run "$G" near app deploy "$APP2" test.near --compose-hash "$CH" --allow-any-device --yes

# ------------------------------------------------------------------ start
"$G" explore --near --port 0 --kms nobody.test.near >"$T/out" 2>"$T/err"; RC=$?
if [ "$RC" -gt 2 ] && [ -s "$T/err" ] && [ ! -s "$T/out" ]; then
  ok "no KMS contract at --kms: fails before listening"; else bad "no KMS at --kms: fails before listening" "rc $RC $(cat "$T/err" "$T/out")"; fi
"$G" explore --near --port 0 --poll-ms 200 >"$T/explore.out" 2>"$T/explore.err" &
EXPLORE_PID=$!
URL=
for _ in $(seq 100); do
  URL=$(grep -o 'http://127.0.0.1:[0-9]*/' "$T/explore.out" 2>/dev/null | head -1)
  [ -n "$URL" ] && break
  sleep 0.05
done
if [ -n "$URL" ]; then ok "explore --near prints its loopback URL"; else bad "explore --near prints its URL" "$(cat "$T/explore.err")"; echo "explore-near: $PASS passed, $FAIL failed"; exit 1; fi
grep -q "NEAR KMS $KMS" "$T/explore.out" && ok "explore --near names the KMS account" || bad "explore --near names the KMS account" "$(cat "$T/explore.out")"

# ------------------------------------------------------------------ state = near kms/app show
S=$(curl -s "${URL}api/state")
"$G" near kms show --json >"$T/kms.json"
"$G" near app show "$APP" --json >"$T/app.json"
eq "state: chain near" "$(jq -r .chain <<<"$S")" near
eq "state: KMS account" "$(jq -r .kms.address <<<"$S")" "$KMS"
eq "state: owner = kms show" "$(jq -r .kms.owner.address <<<"$S")" "$(jq -r .kms.owner "$T/kms.json")"
eq "state: gateway = kms show" "$(jq -r .kms.gatewayAppId <<<"$S")" "$(jq -r .kms.gatewayAppId "$T/kms.json")"
eq "state: OS images = kms show" "$(jq -c .kms.osImages <<<"$S")" "$(jq -c .kms.osImages "$T/kms.json")"
eq "state: aggregated MRs = kms show" "$(jq -c .kms.kmsMeasurements <<<"$S")" "$(jq -c .kms.aggregatedMrs "$T/kms.json")"
eq "state: KMS devices = kms show" "$(jq -c .kms.kmsDevices <<<"$S")" "$(jq -c .kms.devices "$T/kms.json")"
eq "state: KMS compose hashes = kms show" "$(jq -c .kms.composeHashes <<<"$S")" "$(jq -c .kms.composeHashes "$T/kms.json")"
eq "state: the values set" "$(jq -c '[.kms.osImages,.kms.kmsMeasurements,.kms.kmsDevices]' <<<"$S")" "[[\"$IMG\"],[\"$MR\"],[\"$DEV\"]]"
eq "state: two apps" "$(jq '.apps|length' <<<"$S")" 2
eq "state: apps = registered apps" "$(jq -c '[.apps[].account]' <<<"$S")" "$(jq -c .kms.registeredApps "$T/kms.json")"
A=$(jq -c --arg a "$APP" '.apps[]|select(.appId==$a)' <<<"$S")
eq "app: account <hex>.<kms>" "$(jq -r .account <<<"$A")" "$APP.$KMS"
eq "app: owner = app show" "$(jq -r .owner.address <<<"$A")" "$(jq -r .app.info.owner_id "$T/app.json")"
eq "app: compose hashes = app show" "$(jq -c .composeHashes <<<"$A")" "$(jq -c .app.composeHashes "$T/app.json")"
eq "app: devices = app show" "$(jq -c .devices <<<"$A")" "$(jq -c .app.devices "$T/app.json")"
eq "app: flags = app show" "$(jq -c '[.registered,.allowAnyDevice,.requireTcbUpToDate,.upgradesDisabled]' <<<"$A")" \
  "$(jq -c '.app|[.registered,.info.allow_any_device,.info.require_tcb_up_to_date,.info.upgrades_disabled]' "$T/app.json")"
eq "app2: allow any device" "$(jq -c --arg a "$APP2" '.apps[]|select(.appId==$a)|[.allowAnyDevice,.devices]' <<<"$S")" "[true,[]]"
eq "history: empty, with the reason" "$(jq -c '[(.history|length),(.historyNote|test("no query for past events"))]' <<<"$S")" "[0,true]"
eq "api/app/<hex>" "$(curl -s "${URL}api/app/$APP" | jq -r .account)" "$APP.$KMS"
H=$(curl -s "$NEAR_RPC_URL" -H content-type:application/json -d '{"jsonrpc":"2.0","id":1,"method":"block","params":{"finality":"final"}}' | jq -r .result.header.height)
B=$(jq -r .block <<<"$S")
if [ "$B" -gt 0 ] && [ "$B" -le "$H" ]; then ok "state: block is a final height"; else bad "state: block $B vs final $H"; fi

echo "figure: NEAR snapshot, 2 apps: $(curl -s "${URL}api/head" | jq -r .lastSnapshotMs) ms (nemu-rpc, sequential views)"

# ------------------------------------------------------------------ boot check = near check
boot() { # tcb os mr dev compose app
  printf '{"appId":"%s","composeHash":"%s","instanceId":"%s","deviceId":"%s","mrAggregated":"%s","mrSystem":"","osImageHash":"%s","tcbStatus":"%s","advisoryIds":[]}' \
    "${6:-$APP}" "$5" "$(hx 12 20)" "$4" "$3" "$2" "$1"
}
same() { # name route bootinfo
  printf '%s' "$3" >"$T/bi.json"
  local cli
  API=$(curl -s -X POST --data-binary @"$T/bi.json" "${URL}api/check/$2")
  cli=$("$G" near check "$2" --boot-info "$T/bi.json" --json)
  eq "check $1: verdict = near check --json" "$(jq -c '[.allowed,.reason,.gatewayAppId,.rules]' <<<"$API")" \
    "$(jq -c '[.isAllowed,.reason,.gatewayAppId,[.checks[]|{rule,ok,detail}]]' <<<"$cli")"
}
same "app allowed" app "$(boot UpToDate "$IMG" "$MR" "$ADEV" "$CH")"
eq "app allowed: allowed, nothing failing" "$(jq -c '[.allowed,.firstFailing]' <<<"$API")" "[true,null]"
same "compose hash" app "$(boot UpToDate "$IMG" "$MR" "$ADEV" "$BAD")"
eq "compose hash: first failing, the hashes allowed" "$(jq -c '[.firstFailing,.allowedComposeHashes]' <<<"$API")" "[\"compose-hash\",[\"$CH\"]]"
eq "compose hash: the near command" "$(jq -r .fix <<<"$API")" "dstack-gov near app add-hash $APP.$KMS $BAD"
same "app device" app "$(boot UpToDate "$IMG" "$MR" "$BAD" "$CH")"
eq "app device: first failing" "$(jq -r .firstFailing <<<"$API")" device
same "app2 any device" app "$(boot UpToDate "$IMG" "$MR" "$BAD" "$CH" "$APP2")"
eq "app2 any device: allowed" "$(jq -c '[.allowed,(.rules[]|select(.rule=="device")|.detail)]' <<<"$API")" "[true,\"device $BAD: any device is allowed\"]"
same "app os image" app "$(boot UpToDate "$BAD" "$MR" "$ADEV" "$CH")"
eq "app os image: first failing" "$(jq -r .firstFailing <<<"$API")" os-image
same "not registered" app "$(boot UpToDate "$IMG" "$MR" "$ADEV" "$CH" "$(hx 99 20)")"
eq "not registered: reason" "$(jq -c '[.reason,.firstFailing]' <<<"$API")" '["App not registered","registered"]'
same "kms allowed" kms "$(boot UpToDate "$IMG" "$MR" "$DEV" "$CH")"
eq "kms allowed: allowed" "$(jq -r .allowed <<<"$API")" true
same "kms tcb" kms "$(boot OutOfDate "$IMG" "$MR" "$DEV" "$CH")"
eq "kms tcb: first failing" "$(jq -r .firstFailing <<<"$API")" tcb
same "kms os image" kms "$(boot UpToDate "$BAD" "$MR" "$DEV" "$CH")"
same "kms mr" kms "$(boot UpToDate "$IMG" "$BAD" "$DEV" "$CH")"
eq "kms mr: first failing, the near command" "$(jq -c '[.firstFailing,.fix]' <<<"$API")" "[\"mr-aggregated\",\"dstack-gov near kms add-mr $BAD\"]"
same "kms device" kms "$(boot UpToDate "$IMG" "$MR" "$BAD" "$CH")"
eq "kms device: first failing" "$(jq -r .firstFailing <<<"$API")" device

# ------------------------------------------------------------------ follows new final blocks
run "$G" near app add-hash "$APP" "$CH2" --yes
S2=
for _ in $(seq 100); do
  S2=$(curl -s "${URL}api/state")
  [ "$(jq -c --arg a "$APP" '.apps[]|select(.appId==$a)|.composeHashes|length' <<<"$S2")" = 2 ] && break
  sleep 0.1
done
eq "a governance tx appears in the API" "$(jq -c --arg a "$APP" '.apps[]|select(.appId==$a)|.composeHashes|sort' <<<"$S2")" "$(jq -cn --arg a "$CH" --arg b "$CH2" '[$a,$b]|sort')"
if [ "$(jq -r .block <<<"$S2")" -gt "$B" ]; then ok "the snapshot moved to a newer block"; else bad "snapshot block did not move"; fi

# ------------------------------------------------------------------ the page in chromium
export KMS_CONTRACT_ID APP APP2 IMG MR DEV CH ADEV BAD
node tests/explore/browser-near.mjs "$URL" "$G" "$T" >"$T/browser.out" 2>&1
cat "$T/browser.out"
BP=$(sed -n 's/^browser-near: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p' "$T/browser.out")
BF=$(sed -n 's/^browser-near: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p' "$T/browser.out")
if [ -z "$BP" ]; then bad "browser-near suite ran"; else PASS=$((PASS+BP)); FAIL=$((FAIL+BF)); fi

kill "$EXPLORE_PID" 2>/dev/null; wait "$EXPLORE_PID" 2>/dev/null; RC=$?
EXPLORE_PID=
eq "explore --near stops cleanly on SIGTERM" "$RC" 0
echo "explore-near: $PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
