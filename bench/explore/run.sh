#!/usr/bin/env bash
# bench/explore/run.sh — `dstack-gov explore` with N apps (default 1000) on a local devnet.
#
# Creates N real DstackApps through the KMS factory (deployAndRegisterApp, one
# compose hash each) in a few blocks — the transactions go to anvil's unlocked
# TEST account 0 in one JSON-RPC batch with automine off — then starts
# `dstack-gov explore --port 0` and prints: the snapshot time (every read of the
# whole governance at one block), its size, the RPC reads per new block, and the
# first full page in headless chromium (from navigation start, fresh profile).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
N=${N:-1000}
case "$BUILD" in /*) G="$BUILD/dstack-gov" ;; *) G="$PWD/$BUILD/dstack-gov" ;; esac
T=$(mktemp -d)
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; "$G" devnet down --dir "$T/dn" >/dev/null 2>&1; rm -rf "$T"; }
trap cleanup EXIT
"$G" devnet up --dir "$T/dn" >/dev/null
eval "$("$G" devnet env --dir "$T/dn")"
rpc() { curl -s -H 'content-type: application/json' -d "$1" "$ETH_RPC_URL"; }
FROM=0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266   # anvil TEST account 0 (unlocked)
# deployAndRegisterApp(owner, false, false, true, 0, 0x11..11)
SEL=$(cast sig 'deployAndRegisterApp(address,bool,bool,bytes32,bytes32)')
ARGS=$(cast abi-encode 'f(address,bool,bool,bytes32,bytes32)' "$FROM" false true 0x0000000000000000000000000000000000000000000000000000000000000000 0x1111111111111111111111111111111111111111111111111111111111111111)
DATA=$SEL${ARGS#0x}
rpc '{"jsonrpc":"2.0","id":1,"method":"evm_setAutomine","params":[false]}' >/dev/null
NONCE=$(( $(rpc '{"jsonrpc":"2.0","id":1,"method":"eth_getTransactionCount","params":["'$FROM'","latest"]}' | jq -r .result) ))
jq -nc --arg from "$FROM" --arg to "$KMS_CONTRACT_ADDRESS" --arg data "$DATA" --argjson n "$N" --argjson nonce "$NONCE" '
  def hex: if . < 16 then "0123456789abcdef"[.:.+1] else ((./16|floor)|hex) + ("0123456789abcdef"[(.%16):(.%16)+1]) end;
  [range($n) as $i | {jsonrpc:"2.0",id:$i,method:"eth_sendTransaction",
    params:[{from:$from,to:$to,data:$data,gas:"0x61a80",nonce:("0x"+(($nonce+$i)|hex))}]}]' >"$T/batch.json"
curl -s -H "content-type: application/json" --data-binary @"$T/batch.json" "$ETH_RPC_URL" >"$T/sent.json"
jq -e "[.[]|select(.error)]|length==0" "$T/sent.json" >/dev/null || { echo "bench: eth_sendTransaction failed: $(jq -c "[.[]|select(.error)][0]" "$T/sent.json")"; exit 1; }
for _ in $(seq 200); do
  rpc '{"jsonrpc":"2.0","id":1,"method":"evm_mine","params":[]}' >/dev/null
  [ "$(rpc '{"jsonrpc":"2.0","id":1,"method":"txpool_status","params":[]}' | jq -r .result.pending)" = 0x0 ] && break
done
rpc '{"jsonrpc":"2.0","id":1,"method":"evm_setAutomine","params":[true]}' >/dev/null
"$G" explore --port 0 --poll-ms 200 >"$T/out" 2>"$T/err" & PID=$!
for _ in $(seq 600); do grep -q 'http://' "$T/out" && break; sleep 0.05; done
URL=$(grep -o 'http://127.0.0.1:[0-9]*/' "$T/out")
APPS=$(curl -s "${URL}api/state" | jq '.apps|length')
SIZE=$(curl -s -o /dev/null -w '%{size_download}' "${URL}api/state")
echo "explore bench: $APPS apps registered"
echo "snapshot (whole governance at one block): $(curl -s "${URL}api/head" | jq .lastSnapshotMs) ms, /api/state $SIZE bytes"
H0=$(curl -s "${URL}api/head")
"$G" kms add-image 0x$(printf 'a%.0s' $(seq 64)) --yes >/dev/null
for _ in $(seq 100); do H1=$(curl -s "${URL}api/head"); [ "$(jq .snapshots <<<"$H1")" != "$(jq .snapshots <<<"$H0")" ] && break; sleep 0.1; done
echo "after one new block: $(( $(jq .snapshots <<<"$H1") - $(jq .snapshots <<<"$H0") )) snapshot, $(jq .lastSnapshotMs <<<"$H1") ms (eth_blockNumber + 2 eth_getLogs + 2 batches)"
node --input-type=module -e '
import { chromium } from "playwright-core";
import { mkdtempSync } from "node:fs";
const [url, dir] = process.argv.slice(1);
const b = await chromium.launchPersistentContext(mkdtempSync(dir + "/c-"), { executablePath: "/usr/bin/chromium", headless: true,
  args: ["--headless","--no-sandbox","--disable-gpu","--disable-background-networking","--disable-component-update","--disable-sync","--no-first-run"] });
const p = b.pages()[0] || await b.newPage();
for (const run of ["cold", "warm"]) {
  if (run === "cold") await p.goto(url); else await p.reload();
  await p.waitForFunction(() => document.body.dataset.firstRenderMs);
  const ms = await p.evaluate(() => Number(document.body.dataset.firstRenderMs));
  const rows = await p.locator("#app-rows tr.app").count();
  console.log(`first full page (${run} browser): ${ms.toFixed(0)} ms from navigation start (${rows} app rows shown)`);
}
await b.close();
' "$URL" "$T"
