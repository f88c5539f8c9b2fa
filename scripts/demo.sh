#!/usr/bin/env bash
# demo.sh — the dstack guide's Ethereum governance flow, with the dstack-gov CLI,
# on a private anvil chain that `dstack-gov devnet up` starts on a free loopback
# port (and `devnet down` stops by its recorded PID at the end):
#   whitelist an OS image, create an app, add the compose hash of
#   examples/app-compose.json, set the gateway app id, then `check app` for an
#   allowed boot and for a boot whose compose hash was never approved.
# Then the NEAR flow (scripts/demo-near.sh) on a local NEAR runtime emulation.
# The devnet signs with anvil's well-known TEST key (account 0), written to a
# 0600 file in the devnet's state directory; never use it anywhere real.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
case "$BUILD" in /*) G="$BUILD/dstack-gov" ;; *) G="$PWD/$BUILD/dstack-gov" ;; esac
DEMO=$(mktemp -d)
export DSTACK_GOV_DEVNET_DIR="$DEMO/devnet"
trap '"$G" devnet down >/dev/null 2>&1 || true; rm -rf "$DEMO"' EXIT
step() { printf '\n\033[1m== %s\033[0m\n$ %s\n' "$1" "${*:2}"; }
run() { step "$@"; "${@:2}"; }

run "start a local chain with DstackKms + DstackApp deployed" "$G" devnet up
eval "$("$G" devnet env)"

OS_IMAGE=0x$(printf 'dstack-os-demo' | sha256sum | cut -c1-64)
run "whitelist an OS image (kms:add-image)" "$G" kms:add-image "$OS_IMAGE" --network local --yes

step "create the app through the factory (kms:create-app)" "$G kms:create-app --network local --allow-any-device --yes"
out=$("$G" kms:create-app --network local --allow-any-device --yes 2>/dev/null)
echo "$out"
APP_ID=$(sed -n 's/^Proxy Address (App Id): //p' <<<"$out")

run "compute the compose hash of examples/app-compose.json" "$G" compose-hash examples/app-compose.json
COMPOSE_HASH=$("$G" compose-hash examples/app-compose.json)
run "approve it for the app (app:add-hash)" "$G" app:add-hash "$COMPOSE_HASH" --app-id "$APP_ID" --network local --yes

step "create the gateway app and set it as the KMS's gateway app id (kms:set-gateway)" \
  "$G kms create-app ...; $G kms:set-gateway <gateway app id>"
GATEWAY_ID=$("$G" kms create-app --allow-any-device --yes --json 2>/dev/null | jq -r .appId)
"$G" kms:set-gateway "$GATEWAY_ID" --network local --yes

bootinfo() { # compose-hash -> the BootInfo JSON the KMS would post to /bootAuth/app
  cat <<JSON
{"appId":"${APP_ID#0x}","composeHash":"${1#0x}","instanceId":"","deviceId":"$(printf 'demo-device' | sha256sum | cut -c1-64)",
 "mrAggregated":"$(printf 'demo-mr' | sha256sum | cut -c1-64)","mrSystem":"","osImageHash":"${OS_IMAGE#0x}",
 "tcbStatus":"UpToDate","advisoryIds":[],"teeVariant":"dstack-tdx"}
JSON
}
bootinfo "$COMPOSE_HASH" > "$DEMO/boot-allowed.json"
bootinfo "0x$(printf '{"name":"tampered"}' | sha256sum | cut -c1-64)" > "$DEMO/boot-denied.json"
run "would the KMS release keys to this boot? (allowed)" "$G" check app --boot-info "$DEMO/boot-allowed.json"
step "and to a boot with a compose hash nobody approved? (denied, exit 1)" \
  "$G check app --boot-info boot-denied.json"
if "$G" check app --boot-info "$DEMO/boot-denied.json"; then
  echo "demo: a tampered compose hash was allowed" >&2; exit 1
fi

# Tighten the app so the webhook demo can show every reason the chain gives:
# one allowed device instead of any, and an up-to-date TCB required. Whitelist
# the KMS's own measurement and device so its self-authorization can pass.
DEVICE_ID=$(printf 'demo-device' | sha256sum | cut -c1-64)
KMS_MR=$(printf 'demo-kms-mr' | sha256sum | cut -c1-64)
KMS_DEVICE=$(printf 'demo-kms-device' | sha256sum | cut -c1-64)
run "allow the app only on its own device (app:add-device)" \
  "$G" app:add-device "0x$DEVICE_ID" --app-id "$APP_ID" --network local --yes
run "stop allowing any device (app:set-allow-any-device, flag absent = false)" \
  "$G" app:set-allow-any-device --app-id "$APP_ID" --network local --yes
run "require an up-to-date TCB for this app" \
  "$G" app set-require-tcb-up-to-date true --app-id "$APP_ID" --yes
run "whitelist the KMS's aggregated measurement (kms:add)" "$G" kms:add "0x$KMS_MR" --network local --yes
run "and the device the KMS runs on (kms:add-device)" "$G" kms:add-device "0x$KMS_DEVICE" --network local --yes

# The dstack-authd demo: the devnet is still up; ETH_RPC_URL, KMS_CONTRACT_ADDRESS,
# APP_ID, COMPOSE_HASH, OS_IMAGE, DEVICE_ID, KMS_MR and KMS_DEVICE are set.
APP_ID=$APP_ID COMPOSE_HASH=$COMPOSE_HASH OS_IMAGE=$OS_IMAGE DEVICE_ID=$DEVICE_ID \
  KMS_MR=$KMS_MR KMS_DEVICE=$KMS_DEVICE BUILD=$BUILD scripts/demo-authd.sh

run "stop the chain (the PID devnet up recorded)" "$G" devnet down
trap 'rm -rf "$DEMO"' EXIT

# The NEAR half of the guide, on its own local chain (scripts/demo-near.sh).
BUILD=$BUILD scripts/demo-near.sh
echo
echo "demo: done"
