# chain.sh — sourced by bench/gas and scripts/demo.sh: start a private anvil on a free
# loopback port, deploy the forge artifacts with cast, stop anvil by its PID.
# DEPLOYER/KEY are anvil's well-known account 0 — a public TEST key, never for real use.

ETH_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
ANVIL=$ETH_TOP/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil
CAST_BIN=$ETH_TOP/node_modules/@foundry-rs/cast-linux-amd64/bin/cast
ETH_OUT=$ETH_TOP/contracts/eth/out
DEPLOYER=0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266
KEY=0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80 # anvil test key 0

cast() { "$CAST_BIN" "$@"; }

chain_start() {
  CHAIN_LOG=$(mktemp)
  "$ANVIL" --host 127.0.0.1 --port 0 >"$CHAIN_LOG" 2>&1 &
  CHAIN_PID=$!
  local port="" i
  for i in $(seq 1 100); do
    port=$(grep -oE 'Listening on 127\.0\.0\.1:[0-9]+' "$CHAIN_LOG" | head -n1 | cut -d: -f2 || true)
    [ -n "$port" ] && break
    sleep 0.05
  done
  if [ -z "$port" ]; then echo "anvil did not start:" >&2; cat "$CHAIN_LOG" >&2; return 1; fi
  RPC=http://127.0.0.1:$port
  for i in $(seq 1 100); do cast chain-id --rpc-url "$RPC" >/dev/null 2>&1 && return 0; sleep 0.05; done
  echo "anvil not answering on $RPC" >&2; return 1
}

chain_stop() {
  if [ -n "${CHAIN_PID:-}" ]; then kill "$CHAIN_PID" 2>/dev/null || true; wait "$CHAIN_PID" 2>/dev/null || true; fi
  rm -f "${CHAIN_LOG:-}"
  CHAIN_PID=""
}

# creation bytecode of a forge artifact
artifact_code() { jq -r '.bytecode.object' "$ETH_OUT/$1.sol/$1.json"; }

# deploy_contract NAME -> address
deploy_contract() {
  cast send --rpc-url "$RPC" --private-key "$KEY" --json --create "$(artifact_code "$1")" | jq -r '.contractAddress'
}

# deploy_proxy IMPL INITDATA -> "address gasUsed" (OpenZeppelin ERC1967Proxy)
deploy_proxy() {
  local args out
  args=$(cast abi-encode "constructor(address,bytes)" "$1" "$2")
  out=$(cast send --rpc-url "$RPC" --private-key "$KEY" --json --create "$(artifact_code ERC1967Proxy)${args#0x}")
  echo "$(jq -r '.contractAddress' <<<"$out") $(printf '%d' "$(jq -r '.gasUsed' <<<"$out")")"
}

# send_json TO SIG ARGS... -> receipt JSON (fails if the transaction reverted)
send_json() {
  local out
  out=$(cast send --rpc-url "$RPC" --private-key "$KEY" --json "$@")
  [ "$(jq -r '.status' <<<"$out")" = "0x1" ] || { echo "transaction failed: $*" >&2; return 1; }
  echo "$out"
}

# send_gas TO SIG ARGS... -> gas used (decimal)
send_gas() { printf '%d' "$(send_json "$@" | jq -r '.gasUsed')"; }
