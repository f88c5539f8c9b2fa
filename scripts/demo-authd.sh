#!/usr/bin/env bash
# demo-authd.sh — dstack-authd answering the KMS, on loopback.
#
# Takes the devnet from the environment (what `eval "$(dstack-gov devnet env)"`
# sets, plus APP_ID, COMPOSE_HASH, OS_IMAGE and optionally DEVICE_ID, as
# scripts/demo.sh has them); without ETH_RPC_URL it starts its own throwaway
# anvil chain (tests/authd/devnet.js) and stops it by PID at the end.
# It starts dstack-authd on a free loopback port, sends boot requests shaped
# exactly as the dstack KMS sends them (lowercase hex without 0x, teeVariant,
# keyProviderInfo), one allowed and denied ones for each reason the chain
# gives, prints each answer and what the KMS makes of it, and stops the
# daemon by its PID.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
case "$BUILD" in /*) AUTHD="$BUILD/dstack-authd" ;; *) AUTHD="$PWD/$BUILD/dstack-authd" ;; esac
WORK=$(mktemp -d)
AUTHD_PID="" ANVIL_PID=""
cleanup() {
  [ -n "$AUTHD_PID" ] && kill "$AUTHD_PID" 2>/dev/null && wait "$AUTHD_PID" 2>/dev/null || true
  [ -n "$ANVIL_PID" ] && kill "$ANVIL_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
bold() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
sha() { printf '%s' "$1" | sha256sum | cut -c1-64; }
lower() { tr 'A-F' 'a-f' <<<"${1#0x}"; }

KMS_WHITELISTED=${KMS_MR:+1}
if [ -z "${ETH_RPC_URL:-}" ]; then
  bold "no devnet in the environment: starting a throwaway anvil chain with the contracts"
  eval "$(node tests/authd/devnet.js)"
  KMS_WHITELISTED=1
fi
KMS_CONTRACT_ADDR=${KMS_CONTRACT_ADDR:-${KMS_CONTRACT_ADDRESS:-}}
: "${ETH_RPC_URL:?}" "${KMS_CONTRACT_ADDR:?}" "${APP_ID:?}" "${COMPOSE_HASH:?}" "${OS_IMAGE:?}"
DEVICE_ID=${DEVICE_ID:-$(sha demo-device)}
KMS_MR=${KMS_MR:-$(sha demo-kms-mr)}
KMS_DEVICE=${KMS_DEVICE:-$(sha demo-kms-device)}

port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
bold "start dstack-authd on 127.0.0.1:$port (eth backend, snapshot = latest block)"
echo "\$ ETH_RPC_URL=$ETH_RPC_URL KMS_CONTRACT_ADDR=$KMS_CONTRACT_ADDR dstack-authd --port $port --decision-log $WORK/decisions.log"
ETH_RPC_URL=$ETH_RPC_URL KMS_CONTRACT_ADDR=$KMS_CONTRACT_ADDR \
  "$AUTHD" --host 127.0.0.1 --port "$port" --decision-log "$WORK/decisions.log" 2>"$WORK/authd.err" &
AUTHD_PID=$!
for _ in $(seq 200); do curl -sf "http://127.0.0.1:$port/" >/dev/null 2>&1 && break; sleep 0.02; done
URL="http://127.0.0.1:$port"

bold "GET / — what the KMS reads for GetMeta"
curl -s "$URL/" | jq .

# boot ROUTE LABEL field=value...  — post a KMS-shaped BootInfo and show the answer.
boot() {
  local route=$1 label=$2; shift 2
  local app=$(lower "$APP_ID") hash=$(lower "$COMPOSE_HASH") os=$(lower "$OS_IMAGE") dev=$DEVICE_ID
  local mr=$(sha demo-app-mr) tcb=UpToDate
  [ "$route" = kms ] && mr=$KMS_MR dev=$KMS_DEVICE
  for kv in "$@"; do
    case "$kv" in
      appId=*) app=${kv#*=} ;; composeHash=*) hash=${kv#*=} ;; osImageHash=*) os=${kv#*=} ;;
      deviceId=*) dev=${kv#*=} ;; mrAggregated=*) mr=${kv#*=} ;; tcbStatus=*) tcb=${kv#*=} ;;
    esac
  done
  local body
  body=$(jq -cn --arg app "$app" --arg hash "$hash" --arg os "$os" --arg dev "$dev" --arg mr "$mr" --arg tcb "$tcb" \
    --arg kpi "$(printf '{"type":"kms","id":"demo"}' | od -An -tx1 | tr -d ' \n')" \
    '{teeVariant:"dstack-tdx",mrAggregated:$mr,osImageHash:$os,mrSystem:"",appId:$app,composeHash:$hash,
      instanceId:"",deviceId:$dev,keyProviderInfo:$kpi,tcbStatus:$tcb,advisoryIds:[]}')
  printf '\n\033[1m-- %s\033[0m\nPOST /bootAuth/%s %s\n' "$label" "$route" "$(jq -c '{appId,composeHash,osImageHash,deviceId,mrAggregated,tcbStatus}' <<<"$body")"
  local out status
  out=$(curl -s -w '\n%{http_code}' -H 'Content-Type: application/json' -H 'User-Agent: dstack-kms/demo' -d "$body" "$URL/bootAuth/$route")
  status=${out##*$'\n'}; out=${out%$'\n'*}
  echo "<- $status $out"
  if [ "$status" != 200 ]; then echo "KMS: auth api returned $status: the request fails (closed)"
  elif [ "$(jq -r .isAllowed <<<"$out")" = true ]; then echo "KMS: allowed; gateway app id for the CVM: $(jq -r .gatewayAppId <<<"$out")"
  elif [ "$route" = kms ]; then echo "KMS: KMS is not allowed: $(jq -r .reason <<<"$out")"
  else echo "KMS: Boot denied: $(jq -r .reason <<<"$out")"; fi
}

bold "app boots (POST /bootAuth/app), as GetAppKey sends them"
boot app "the approved app on a whitelisted image"
boot app "an app id the KMS never registered" appId="$(sha unknown-app | cut -c1-40)"
boot app "an OS image nobody whitelisted" osImageHash="$(sha other-os)"
boot app "a compose hash nobody approved (tampered app-compose.json)" composeHash="$(sha '{"name":"tampered"}')"
boot app "a device the app does not allow" deviceId="$(sha other-device)"
boot app "a host whose TCB is out of date (the app requires UpToDate)" tcbStatus=OutOfDate
boot app "a compose hash 31 bytes long (rejected, never padded)" composeHash="$(lower "$COMPOSE_HASH" | cut -c1-62)"

bold "KMS self-authorization (POST /bootAuth/kms)"
if [ -n "$KMS_WHITELISTED" ]; then
  boot kms "the whitelisted KMS measurement on its device"
  boot kms "a KMS whose TCB is out of date" tcbStatus=OutOfDate
fi
boot kms "a KMS measurement nobody whitelisted" mrAggregated="$(sha other-kms)"
boot kms "a KMS on another device" deviceId="$(sha other-device)"
boot kms "a KMS on an OS image nobody whitelisted" osImageHash="$(sha other-os)"

bold "the decision log (one JSON line per decision)"
sleep 0.2
head -n 2 "$WORK/decisions.log" | jq -c '{route,appId,block,isAllowed,reason,cached,latencyMs}'
echo "... $(wc -l <"$WORK/decisions.log") lines"

bold "stop dstack-authd (SIGTERM to PID $AUTHD_PID)"
kill "$AUTHD_PID"; wait "$AUTHD_PID" || true; AUTHD_PID=""
cat "$WORK/authd.err"
