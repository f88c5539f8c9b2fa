#!/usr/bin/env bash
# demo.sh — the Ethereum governance flow on a private anvil chain this script starts
# on a free loopback port and stops (by PID) at the end:
#   deploy DstackApp + DstackKms (behind an ERC1967Proxy), whitelist an OS image,
#   create an app through the factory with one compose hash, then ask the KMS
#   isAppAllowed for an allowed boot and for a boot with another compose hash.
# Uses anvil's well-known TEST key (account 0); never use it anywhere real.
# (Temporary: a CLI-driven demo replaces this once dstack-gov's CLI exists.)
set -euo pipefail
cd "$(dirname "$0")/.."
. contracts/eth/tools/chain.sh

make -s --no-print-directory eth-build >/dev/null
chain_start
trap chain_stop EXIT
echo "anvil on $RPC (pid $CHAIN_PID)"

app_impl=$(deploy_contract DstackApp)
kms_impl=$(deploy_contract DstackKms)
out=$(deploy_proxy "$kms_impl" "$(cast calldata "initialize(address,address)" "$DEPLOYER" "$app_impl")")
kms=${out%% *}
echo "DstackApp implementation: $app_impl"
echo "DstackKms proxy:          $kms"

os_image=0x$(printf 'dstack-os-demo' | sha256sum | cut -c1-64)
compose=0x$(printf '{"manifest_version":2,"name":"demo"}' | sha256sum | cut -c1-64)
other=0x$(printf '{"manifest_version":2,"name":"tampered"}' | sha256sum | cut -c1-64)
device=0x$(printf 'demo-device' | sha256sum | cut -c1-64)
zero=0x0000000000000000000000000000000000000000000000000000000000000000

send_json "$kms" "addOsImageHash(bytes32)" "$os_image" >/dev/null
echo "OS image whitelisted:     $os_image"
rcpt=$(send_json "$kms" "deployAndRegisterApp(address,bool,bool,bool,bytes32,bytes32)" \
  "$DEPLOYER" false false true "$zero" "$compose")
app=0x$(jq -r '.logs[-1].topics[1]' <<<"$rcpt" | cut -c27-)
echo "App created (app id):     $app  (compose hash $compose)"

ask() { # compose-hash label
  local t="(address,bytes32,address,bytes32,bytes32,bytes32,bytes32,string,string[])"
  local res
  res=$(cast call --rpc-url "$RPC" "$kms" "isAppAllowed($t)(bool,string)" \
    "($app,$1,0x0000000000000000000000000000000000000000,$device,$zero,$zero,$os_image,UpToDate,[])")
  echo "isAppAllowed [$2]: $(tr '\n' ' ' <<<"$res")"
}
ask "$compose" "allowed compose hash"
ask "$other" "unknown compose hash"
