#!/usr/bin/env bash
# demo-near.sh — the dstack guide's NEAR governance flow with dstack-gov, on a
# local NEAR chain: `dstack-gov devnet up --near` starts nemu-rpc (this
# project's EMULATION of the NEAR runtime running the contracts' real wasm; not
# nearcore) on a free loopback port, and `devnet down --near` stops it by its
# recorded PID at the end. KMS deploy, OS image, app, compose hash, gateway,
# devices, then `near check` allowed and denied for each reason, and the same
# boots asked of dstack-authd --backend near as the KMS asks it.
# The devnet signs with a PUBLIC TEST key (seed "test.near"); never use it anywhere real.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
case "$BUILD" in /*) G="$BUILD/dstack-gov" ;; *) G="$PWD/$BUILD/dstack-gov" ;; esac
DEMO=$(mktemp -d)
export DSTACK_GOV_DEVNET_DIR="$DEMO/devnet"
trap '"$G" devnet down --near >/dev/null 2>&1 || true; rm -rf "$DEMO"' EXIT
step() { printf '\n\033[1m== NEAR: %s\033[0m\n$ %s\n' "$1" "${*:2}"; }
run() { step "$@"; "${@:2}"; }
h() { printf '%s' "$1" | sha256sum | cut -c1-"${2:-64}"; }

run "start a local NEAR chain (nemu-rpc, an emulation) with the KMS deployed" "$G" devnet up --near
eval "$("$G" devnet env --near)"

OS_IMAGE=$(h dstack-os-demo); KMS_MR=$(h demo-kms-mr); KMS_DEVICE=$(h demo-kms-device)
run "whitelist an OS image (bun cli.ts add-os-image)" "$G" near add-os-image "0x$OS_IMAGE" --yes
run "whitelist the KMS's aggregated MR (add-mr)" "$G" near add-mr "0x$KMS_MR" --yes
run "and the device the KMS runs on (add-device)" "$G" near add-device "0x$KMS_DEVICE" --yes

COMPOSE_HASH=$("$G" compose-hash examples/app-compose.json)
APP_ID=$(h demo-near-app 40); DEVICE_ID=$(h demo-device); GATEWAY_ID=$(h demo-gateway 40)
run "register the app with the guide's --deposit 30 (deploy; all but the registration deposit is refunded)" \
  "$G" near deploy "$APP_ID" "$NEAR_ACCOUNT_ID" --compose-hash "$COMPOSE_HASH" --deposit 30 --yes
run "allow the app on its device (app add-device)" "$G" near app add-device "$APP_ID" "0x$DEVICE_ID" --yes
run "set the gateway app id (set_gateway_app_id)" "$G" near kms set-gateway "$GATEWAY_ID" --yes
run "what the KMS contract holds, at one block" "$G" near kms show

boot() { # compose os device tcb -> BootInfo JSON
  printf '{"appId":"%s","composeHash":"%s","instanceId":"%s","deviceId":"%s","mrAggregated":"%s","mrSystem":"","osImageHash":"%s","tcbStatus":"%s","advisoryIds":[]}\n' \
    "$APP_ID" "${1#0x}" "$(h demo-instance 40)" "$3" "$KMS_MR" "$2" "$4"
}
boot "$COMPOSE_HASH" "$OS_IMAGE" "$DEVICE_ID" UpToDate > "$DEMO/ok.json"
run "would the app boot? (allowed)" "$G" near check app --boot-info "$DEMO/ok.json"
denied() { # title file kind
  step "$1 (denied, exit 1)" "$G near check $3 --boot-info $(basename "$2")"
  if "$G" near check "$3" --boot-info "$2"; then echo "demo: $1 was allowed" >&2; exit 1; fi
}
boot "$(h tampered)" "$OS_IMAGE" "$DEVICE_ID" UpToDate > "$DEMO/b1.json"
denied "a compose hash nobody approved" "$DEMO/b1.json" app
boot "$COMPOSE_HASH" "$OS_IMAGE" "$(h other-device)" UpToDate > "$DEMO/b2.json"
denied "a device the app does not allow" "$DEMO/b2.json" app
boot "$COMPOSE_HASH" "$(h old-os)" "$DEVICE_ID" UpToDate > "$DEMO/b3.json"
denied "an OS image not whitelisted" "$DEMO/b3.json" app
sed "s/$APP_ID/$(h unregistered 40)/" "$DEMO/ok.json" > "$DEMO/b4.json"
denied "an app the KMS never registered" "$DEMO/b4.json" app

boot "$COMPOSE_HASH" "$OS_IMAGE" "$KMS_DEVICE" UpToDate > "$DEMO/kms.json"
run "would a KMS instance be allowed? (allowed)" "$G" near check kms --boot-info "$DEMO/kms.json"
boot "$COMPOSE_HASH" "$OS_IMAGE" "$KMS_DEVICE" OutOfDate > "$DEMO/k1.json"
denied "a KMS with an out-of-date TCB" "$DEMO/k1.json" kms
boot "$COMPOSE_HASH" "$OS_IMAGE" "$(h other-device)" UpToDate > "$DEMO/k2.json"
denied "a KMS on a device not whitelisted" "$DEMO/k2.json" kms
sed "s/$KMS_MR/$(h other-mr)/" "$DEMO/kms.json" > "$DEMO/k3.json"
denied "a KMS with another aggregated MR" "$DEMO/k3.json" kms

# dstack-authd answering the KMS from the same chain: the webhook the KMS's
# [core.auth_api.near] url points at, started from the devnet's environment.
case "$BUILD" in /*) AUTHD="$BUILD/dstack-authd" ;; *) AUTHD="$PWD/$BUILD/dstack-authd" ;; esac
port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
step "start dstack-authd --backend near on 127.0.0.1:$port (environment of devnet env --near)" \
  "NEAR_RPC_URL=$NEAR_RPC_URL KMS_CONTRACT_ID=$KMS_CONTRACT_ID dstack-authd --backend near --port $port"
"$AUTHD" --backend near --host 127.0.0.1 --port "$port" --decision-log "$DEMO/decisions.log" 2>"$DEMO/authd.err" &
AUTHD_PID=$!
trap 'kill "$AUTHD_PID" 2>/dev/null || true; "$G" devnet down --near >/dev/null 2>&1 || true; rm -rf "$DEMO"' EXIT
for _ in $(seq 250); do curl -sf "http://127.0.0.1:$port/" >/dev/null 2>&1 && break; sleep 0.02; done
step "GET / (what the KMS reads: chainId is a number)" "curl -s http://127.0.0.1:$port/"
curl -sf "http://127.0.0.1:$port/"; echo
# ask ROUTE FILE EXPECTED: POST the BootInfo as the KMS does and check the verdict
ask() {
  local out
  out=$(curl -sf -X POST -H 'content-type: application/json' --data-binary @"$2" "http://127.0.0.1:$port/bootAuth/$1")
  printf '  POST /bootAuth/%s %-8s -> %s\n' "$1" "$(basename "$2" .json)" "$out"
  case "$out" in *"\"isAllowed\":$3"*) ;; *) echo "demo: expected isAllowed $3" >&2; exit 1 ;; esac
}
step "KMS-shaped boot requests: the same answers as near check, from the webhook" "curl -X POST .../bootAuth/{app,kms}"
# the snapshot is the last final block: wait until it holds the app's last change
for _ in $(seq 250); do
  case "$(curl -sf -X POST -H 'content-type: application/json' --data-binary @"$DEMO/ok.json" "http://127.0.0.1:$port/bootAuth/app")" in
    *'"isAllowed":true'*) break ;;
  esac
  sleep 0.02
done
ask app "$DEMO/ok.json" true
for f in b1 b2 b3 b4; do ask app "$DEMO/$f.json" false; done
ask kms "$DEMO/kms.json" true
for f in k1 k2 k3; do ask kms "$DEMO/$f.json" false; done
kill "$AUTHD_PID"; wait "$AUTHD_PID" 2>/dev/null || true

run "stop the NEAR chain (the PID devnet up --near recorded)" "$G" devnet down --near
trap 'rm -rf "$DEMO"' EXIT
echo
echo "demo-near: done"
