#!/usr/bin/env bash
# tests/explore/run.sh — `dstack-gov explore` on a real anvil devnet.
#
# Sets up governance with the CLI (images, measurements, devices, gateway, three
# apps with different flags, one deregistered), starts `dstack-gov explore --port 0`,
# then checks over real HTTP that the JSON API says what the chain says (compared
# with the CLI's own --json reads), that the boot check answers exactly as
# `dstack-gov check` does, that a governance transaction shows up in the API, and
# that the page is the embedded one. tests/explore/near.sh does the same for
# `explore --near` on `devnet up --near`. Then tests/explore/browser.mjs drives the page
# in headless Debian chromium (npm playwright-core). Last line: "N passed, N failed".
#
# Keys: anvil's PUBLIC TEST key of account 0 (devnet default); test keys only.
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
case "$BUILD" in /*) G="$BUILD/dstack-gov" ;; *) G="$PWD/$BUILD/dstack-gov" ;; esac
T=$(mktemp -d)
PASS=0; FAIL=0
EXPLORE_PID=
cleanup() {
  [ -n "$EXPLORE_PID" ] && kill "$EXPLORE_PID" 2>/dev/null && wait "$EXPLORE_PID" 2>/dev/null
  "$G" devnet down --dir "$T/dn" >/dev/null 2>&1
  rm -rf "$T"
}
trap cleanup EXIT

ok()  { PASS=$((PASS+1)); echo "ok   $1"; }
bad() { FAIL=$((FAIL+1)); echo "FAIL $1"; [ -n "${2:-}" ] && echo "     $2" | head -c 2000 && echo; }
eq()  { if [ "$2" = "$3" ]; then ok "$1"; else bad "$1: '$2' != '$3'"; fi; }
run() { "$@" </dev/null >"$T/out" 2>"$T/err" || { bad "setup: $*" "$(cat "$T/err")"; return 1; }; }

b32() { printf '0x'; printf "$1%.0s" $(seq 64); }
IMG=$(b32 a); IMG2=$(b32 e); MR=$(b32 c); DEV=$(b32 b); CH=$(b32 1); CH2=$(b32 2); CH3=$(b32 3)
Z40=0x0000000000000000000000000000000000000000

# ------------------------------------------------------------------ governance on a devnet
run "$G" devnet up --dir "$T/dn" || exit 1
eval "$("$G" devnet env --dir "$T/dn")"
KMS=$KMS_CONTRACT_ADDRESS
run "$G" kms add-image "$IMG" --yes
run "$G" kms add-image "$IMG2" --yes
run "$G" kms remove-image "$IMG2" --yes
run "$G" kms add-mr "$MR" --yes
run "$G" kms add-device "$DEV" --yes
run "$G" kms set-gateway gw-explore --yes
run "$G" kms create-app --hash "$CH" --device "$DEV" --yes --json && APP1=$(jq -r .appId "$T/out")
run "$G" kms create-app --hash "$CH2" --allow-any-device --require-tcb-up-to-date --disable-upgrades --yes --json && APP2=$(jq -r .appId "$T/out")
run "$G" kms create-app --hash "$CH3" --yes --json && APP3=$(jq -r .appId "$T/out")
run "$G" kms deregister-app "$APP3" --yes

# ------------------------------------------------------------------ start explore
"$G" explore --port 70000 >/dev/null 2>"$T/err"; RC=$?
eq "bad --port: input error" "$RC $(cat "$T/err")" '2 dstack-gov: --port "70000": expected a number from 0 to 65535'
"$G" explore --port 0 --kms 0x0000000000000000000000000000000000000001 >"$T/out" 2>"$T/err"; RC=$?
if [ "$RC" -gt 2 ] && grep -q 'does not answer owner()' "$T/err" && [ ! -s "$T/out" ]; then
  ok "no KMS at --kms: fails before listening"; else bad "no KMS at --kms: fails before listening" "rc $RC $(cat "$T/err" "$T/out")"; fi
"$G" explore --port 0 --poll-ms 200 >"$T/explore.out" 2>"$T/explore.err" &
EXPLORE_PID=$!
URL=
for _ in $(seq 100); do
  URL=$(grep -o 'http://127.0.0.1:[0-9]*/' "$T/explore.out" 2>/dev/null | head -1)
  [ -n "$URL" ] && break
  sleep 0.05
done
if [ -n "$URL" ]; then ok "explore prints its loopback URL"; else bad "explore prints its URL" "$(cat "$T/explore.err")"; exit 1; fi

get() { curl -s -o "$T/body" -w '%{http_code} %{content_type}' "$@"; }
S=$(curl -s "${URL}api/state")
"$G" kms info --json >"$T/info.json"
eq "state: KMS address" "$(jq -r '.kms.address|ascii_downcase' <<<"$S")" "${KMS,,}"
eq "state: chain id" "$(jq -r .chainId <<<"$S")" 31337
HEAD=$(curl -s -H 'content-type: application/json' -d '{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}' "$ETH_RPC_URL" | jq -r .result)
eq "state: block = chain head" "$(jq -r .block <<<"$S")" "$((HEAD))"
eq "state: owner = kms info" "$(jq -r .kms.owner.address <<<"$S")" "$(jq -r .owner "$T/info.json")"
eq "state: owner is an EOA" "$(jq -r .kms.owner.kind <<<"$S")" eoa
eq "state: implementation = kms info" "$(jq -r .kms.implementation <<<"$S")" "$(jq -r .implementation "$T/info.json")"
eq "state: app implementation = kms info" "$(jq -r .kms.appImplementation <<<"$S")" "$(jq -r .appImplementation "$T/info.json")"
eq "state: gateway app id" "$(jq -r .kms.gatewayAppId <<<"$S")" gw-explore
eq "state: OS images (removed one gone)" "$(jq -c .kms.osImages <<<"$S")" "[\"$IMG\"]"
eq "state: KMS measurements" "$(jq -c .kms.kmsMeasurements <<<"$S")" "[\"$MR\"]"
eq "state: KMS devices" "$(jq -c .kms.kmsDevices <<<"$S")" "[\"$DEV\"]"
eq "state: three apps" "$(jq '.apps|length' <<<"$S")" 3
A1=$(jq -c --arg a "$APP1" '.apps[]|select(.appId==$a)' <<<"$S")
A2=$(jq -c --arg a "$APP2" '.apps[]|select(.appId==$a)' <<<"$S")
A3=$(jq -c --arg a "$APP3" '.apps[]|select(.appId==$a)' <<<"$S")
eq "app1: compose hashes" "$(jq -c .composeHashes <<<"$A1")" "[\"$CH\"]"
eq "app1: devices" "$(jq -c .devices <<<"$A1")" "[\"$DEV\"]"
eq "app1: flags" "$(jq -c '[.registered,.deregistered,.allowAnyDevice,.requireTcbUpToDate,.upgradesDisabled]' <<<"$A1")" "[true,false,false,false,false]"
eq "app2: flags" "$(jq -c '[.registered,.allowAnyDevice,.requireTcbUpToDate,.upgradesDisabled]' <<<"$A2")" "[true,true,true,true]"
eq "app3: deregistered" "$(jq -c '[.registered,.deregistered]' <<<"$A3")" "[false,true]"
eq "app owner = app info" "$(jq -r .owner.address <<<"$A1")" "$("$G" app info --app-id "$APP1" --json | jq -r .owner)"
"$G" kms history --json >"$T/hist.json"
eq "history: the KMS's events = kms history" "$(jq '[.history[]|select(.target=="kms")]|length' <<<"$S")" "$(jq '.events|length' "$T/hist.json")"
eq "history: app1's events = app history" "$(jq --arg a "$APP1" '[.history[]|select(.contract==$a)]|length' <<<"$S")" "$("$G" app history --app-id "$APP1" --json | jq '.events|length')"
eq "history: in chain order" "$(jq -c '[.history[].block]|. == sort' <<<"$S")" true
eq "history: tx and actor" "$(jq -r '.history[0]|(.tx|length|tostring)+" "+.actor' <<<"$S")" "66 $(jq -r .owner "$T/info.json")"

eq "api/app/<id>: found" "$(curl -s "${URL}api/app/$APP1" | jq -r .appId)" "$APP1"
eq "api/app/<id>: case-insensitive" "$(curl -s "${URL}api/app/${APP1,,}" | jq -r .appId)" "$APP1"
eq "api/app/<unknown>: 404" "$(get "${URL}api/app/$Z40")" "404 application/json"
eq "GET / is the embedded page" "$(get "$URL")" "200 text/html; charset=utf-8"
if grep -q '<title>dstack-gov explore</title>' "$T/body" && ! grep -qE 'src="https?:|href="https?:' "$T/body"; then
  ok "page has no external resource"; else bad "page is the embedded one, no external resource"; fi
eq "unknown path: 404" "$(get "${URL}nope")" "404 application/json"
eq "GET /api/check/app: 405" "$(get "${URL}api/check/app")" "405 application/json"
eq "bad BootInfo: 400" "$(get -X POST -d '{"appId":"0x12"}' "${URL}api/check/app")" "400 application/json"
eq "bad BootInfo names the field" "$(jq -r .error "$T/body")" "appId: expected 40 hex digits, got 2"

# ------------------------------------------------------------------ boot check = dstack-gov check
bootinfo() { # app compose device os tcb mr
  printf '{"appId":"%s","composeHash":"%s","instanceId":"%s","deviceId":"%s","mrAggregated":"%s","mrSystem":"%s","osImageHash":"%s","tcbStatus":"%s","advisoryIds":[]}' \
    "$1" "$2" "$Z40" "$3" "$6" "$6" "$4" "$5"
}
same_as_cli() { # name route bootinfo-json
  printf '%s' "$3" >"$T/bi.json"
  local api cli
  api=$(curl -s -X POST --data-binary @"$T/bi.json" "${URL}api/check/$2")
  cli=$("$G" check "$2" --boot-info "$T/bi.json" --json)
  eq "check $1: verdict = dstack-gov check" "$(jq -c '[.allowed,.reason,.rules]' <<<"$api")" \
    "$(jq -c '[.isAllowed,.reason,[.checks[]|{rule,ok,detail}]]' <<<"$cli")"
  API=$api
}
same_as_cli "allowed" app "$(bootinfo "$APP1" "$CH" "$DEV" "$IMG" UpToDate "$MR")"
eq "allowed: no failing rule" "$(jq -c '[.allowed,.firstFailing]' <<<"$API")" "[true,null]"
same_as_cli "compose hash" app "$(bootinfo "$APP1" "$CH2" "$DEV" "$IMG" UpToDate "$MR")"
eq "compose hash: first failing rule" "$(jq -r .firstFailing <<<"$API")" compose-hash
eq "compose hash: the hashes the app allows" "$(jq -c .allowedComposeHashes <<<"$API")" "[\"$CH\"]"
eq "compose hash: the command that allows it" "$(jq -r .fix <<<"$API")" "dstack-gov app add-hash $CH2 --app-id $APP1"
same_as_cli "os image" app "$(bootinfo "$APP1" "$CH" "$DEV" "$IMG2" UpToDate "$MR")"
eq "os image: first failing rule" "$(jq -r .firstFailing <<<"$API")" os-image
same_as_cli "device" app "$(bootinfo "$APP1" "$CH" "$IMG" "$IMG" UpToDate "$MR")"
eq "device: first failing rule" "$(jq -r .firstFailing <<<"$API")" device
same_as_cli "tcb" app "$(bootinfo "$APP2" "$CH2" "$DEV" "$IMG" OutOfDate "$MR")"
eq "tcb: first failing rule" "$(jq -r .firstFailing <<<"$API")" tcb
same_as_cli "deregistered" app "$(bootinfo "$APP3" "$CH3" "$DEV" "$IMG" UpToDate "$MR")"
eq "deregistered: first failing rule" "$(jq -r .firstFailing <<<"$API")" registered
same_as_cli "kms allowed" kms "$(bootinfo "$Z40" "$CH" "$DEV" "$IMG" UpToDate "$MR")"
same_as_cli "kms mr" kms "$(bootinfo "$Z40" "$CH" "$DEV" "$IMG" UpToDate "$IMG")"
eq "kms mr: first failing rule" "$(jq -r .firstFailing <<<"$API")" mr-aggregated

# ------------------------------------------------------------------ follows the chain
B0=$(jq -r .block <<<"$S")
run "$G" app add-hash "$CH2" --app-id "$APP1" --yes
S2=
for _ in $(seq 50); do
  S2=$(curl -s "${URL}api/state")
  [ "$(jq -r .block <<<"$S2")" != "$B0" ] && break
  sleep 0.1
done
eq "a governance tx appears in the API" "$(jq -c --arg a "$APP1" '.apps[]|select(.appId==$a)|.composeHashes' <<<"$S2")" "[\"$CH\",\"$CH2\"]"
eq "... and in the history" "$(jq -r '.history[-1]|.policy+" "+.value' <<<"$S2")" "compose-hash $CH2"
H=$(curl -s "${URL}api/head")
eq "one snapshot per new block" "$(jq -r '.snapshots' <<<"$H")" 2

# ------------------------------------------------------------------ the page in chromium
export KMS_CONTRACT_ADDRESS APP1 APP2 APP3 IMG IMG2 MR DEV CH CH2 CH3
if node tests/explore/browser.mjs "$URL" "$G" "$T" >"$T/browser.out" 2>&1; then :; fi
cat "$T/browser.out"
BP=$(sed -n 's/^browser: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p' "$T/browser.out")
BF=$(sed -n 's/^browser: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p' "$T/browser.out")
if [ -z "$BP" ]; then bad "browser suite ran"; else PASS=$((PASS+BP)); FAIL=$((FAIL+BF)); fi

kill "$EXPLORE_PID" 2>/dev/null; wait "$EXPLORE_PID" 2>/dev/null; RC=$?
EXPLORE_PID=
eq "explore stops cleanly on SIGTERM" "$RC" 0

# ------------------------------------------------------------------ NEAR (explore --near)
"$G" devnet down --dir "$T/dn" >/dev/null 2>&1
tests/explore/near.sh >"$T/near.out" 2>&1
cat "$T/near.out"
NP=$(sed -n 's/^explore-near: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p' "$T/near.out")
NF=$(sed -n 's/^explore-near: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p' "$T/near.out")
if [ -z "$NP" ]; then bad "NEAR suite ran"; else PASS=$((PASS+NP)); FAIL=$((FAIL+NF)); fi
echo "explore: $PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
