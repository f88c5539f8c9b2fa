#!/usr/bin/env bash
# tests/cli-near/run.sh — `dstack-gov near ...` on the local NEAR chain.
#
# Starts `dstack-gov devnet up --near` (nemu-rpc: this project's EMULATION of the
# NEAR runtime running the contracts' real wasm, not nearcore; own state dir, free
# port), then runs every NEAR command and alias, every error class, --json, and the
# walkthrough of docs/near.md exactly as written. Each check prints "ok"/"FAIL"; the
# last line is "N passed, N failed".
#
# The key used is the devnet's PUBLIC TEST key (seed "test.near"): test key only.
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
case "$BUILD" in /*) B="$BUILD" ;; *) B="$PWD/$BUILD" ;; esac
G="$B/dstack-gov"
T=$(mktemp -d)
PASS=0; FAIL=0
cleanup() {
  "$G" devnet down --near --dir "$T/dn" >/dev/null 2>&1
  "$G" devnet down --near --dir "$T/walk" >/dev/null 2>&1
  rm -rf "$T"
}
trap cleanup EXIT

ok()   { PASS=$((PASS+1)); echo "ok   $1"; }
bad()  { FAIL=$((FAIL+1)); echo "FAIL $1"; [ -n "${2:-}" ] && echo "     $2" | head -c 2000 && echo; }
ALL_OUT=$T/all-output
expect() {
  local name=$1 code=$2; shift 2
  OUT=$("$@" 2>"$T/err" </dev/null); local rc=$?
  ERR=$(cat "$T/err")
  printf '%s\n%s\n' "$OUT" "$ERR" >> "$ALL_OUT"
  if [ "$rc" -eq "$code" ]; then ok "$name"; else bad "$name (exit $rc, want $code)" "$OUT $ERR"; fi
}
has()    { if grep -qF -- "$2" <<<"$OUT"; then ok "$1"; else bad "$1: stdout lacks '$2'" "$OUT"; fi; }
errhas() { if grep -qF -- "$2" <<<"$ERR"; then ok "$1"; else bad "$1: stderr lacks '$2'" "$ERR"; fi; }
eq()     { if [ "$2" = "$3" ]; then ok "$1"; else bad "$1: '$2' != '$3'"; fi; }
hx() { printf "$1%.0s" $(seq "$2"); }   # hx ab 32 -> abab...
IMG=$(hx 1a 32); DEV=$(hx 2b 32); MR=$(hx 3c 32); KCH=$(hx 4d 32); GW=$(hx 5e 20)
APP=$(hx 6f 20); CH=$(hx 7a 32); ADEV=$(hx 8b 32)

# ------------------------------------------------------------------ devnet
expect "devnet up --near" 0 "$G" devnet up --near --dir "$T/dn"
has "devnet up names the emulation" "not nearcore"
expect "devnet up --near twice is refused" 3 "$G" devnet up --near --dir "$T/dn"
expect "devnet env --near" 0 "$G" devnet env --near --dir "$T/dn"
has "devnet env exports NEAR_RPC_URL" "export NEAR_RPC_URL=http://127.0.0.1:"
has "devnet env labels the test key" "PUBLIC TEST KEY"
for v in NEAR_NETWORK_ID=local KMS_CONTRACT_ID=kms.test.near NEAR_ACCOUNT_ID=test.near NEAR_PRIVATE_KEY=ed25519:; do
  has "devnet env exports ${v%%=*}" "export $v"
done
eval "$OUT"
KEY=$NEAR_PRIVATE_KEY
expect "devnet env --near --json" 0 "$G" devnet env --near --dir "$T/dn" --json
eq "devnet env --json has the KMS" "$(jq -r .KMS_CONTRACT_ID <<<"$OUT")" kms.test.near
if grep -qF "${KEY#ed25519:}" <<<"$OUT"; then bad "devnet env --json prints no key"; else ok "devnet env --json prints no key"; fi
: > "$ALL_OUT"   # from here on, no output may contain the key

# ------------------------------------------------------------------ help
expect "near --help" 0 "$G" near --help
has "near --help lists kms add-image" "add-image"
H1=$("$G" help near kms add-image); H2=$("$G" near kms add-image --help)
eq "help near X == near X --help" "$H1" "$H2"
expect "help aliases lists the guide's names" 0 "$G" help aliases
has "aliases: near add-os-image" "near add-os-image"
expect "unknown near command" 2 "$G" near kms frobnicate
expect "unknown flag" 2 "$G" near add-os-image "$IMG" --frob
expect "missing argument" 2 "$G" near add-os-image --yes

# ------------------------------------------------------------------ KMS commands and aliases
expect "near add-os-image (alias)" 0 "$G" near add-os-image "0X$(tr a-f A-F <<<"$IMG")" --yes
has "guide's success line" "✅ OS image hash added successfully!"
has "guide's detail line" "  OS Image Hash: $IMG"
has "transaction line" "   Transaction: "
expect "near kms add-image" 0 "$G" near kms add-image "$(hx 1b 32)" --yes
expect "near kms remove-image" 0 "$G" near kms remove-image "$(hx 1b 32)" --yes
has "remove success line" "✅ OS image hash removed successfully!"
expect "near remove-os-image (alias)" 0 "$G" near remove-os-image "$(hx 1b 32)" --yes
expect "near add-device (alias: KMS device)" 0 "$G" near add-device "$DEV" --yes
has "KMS device line" "✅ KMS device ID added successfully!"
expect "near kms add-device" 0 "$G" near kms add-device "$(hx 2c 32)" --yes
expect "near kms remove-device" 0 "$G" near kms remove-device "$(hx 2c 32)" --yes
expect "near remove-device (alias)" 0 "$G" near remove-device "$(hx 2c 32)" --yes
expect "near add-mr (alias)" 0 "$G" near add-mr "$MR" --yes
has "MR line" "✅ KMS aggregated MR added successfully!"
expect "near kms add-mr" 0 "$G" near kms add-mr "$(hx 3d 32)" --yes
expect "near kms remove-mr" 0 "$G" near kms remove-mr "$(hx 3d 32)" --yes
expect "near remove-mr (alias)" 0 "$G" near remove-mr "$(hx 3d 32)" --yes
expect "near kms add-compose-hash" 0 "$G" near kms add-compose-hash "$KCH" --yes
expect "near kms remove-compose-hash" 0 "$G" near kms remove-compose-hash "$(hx 4e 32)" --yes
expect "near kms set-gateway" 0 "$G" near kms set-gateway "0x$GW" --yes
has "gateway line" "✅ Gateway App ID set successfully!"
expect "near kms show --json" 0 "$G" near kms show --json
eq "show: the image stored lowercase without 0x" "$(jq -r '.kms.osImages|join(",")' <<<"$OUT")" "$IMG"
eq "show: devices" "$(jq -r '.kms.devices|join(",")' <<<"$OUT")" "$DEV"
eq "show: MRs" "$(jq -r '.kms.aggregatedMrs|join(",")' <<<"$OUT")" "$MR"
eq "show: KMS compose hashes" "$(jq -r '.kms.composeHashes|join(",")' <<<"$OUT")" "$KCH"
eq "show: gateway" "$(jq -r '.kms.gatewayAppId' <<<"$OUT")" "$GW"
eq "show: owner" "$(jq -r '.kms.owner' <<<"$OUT")" test.near
expect "near kms show" 0 "$G" near kms show
has "show prints the registration deposit" "Registration deposit: 0."

# ------------------------------------------------------------------ measurements, request-root-key
M=(--mrtd "0x$(hx A1 48)" --rtmr0 "$(hx a2 48)" --rtmr1 "$(hx a3 48)" --rtmr2 "$(hx a4 48)")
expect "near kms add-measurements" 0 "$G" near kms add-measurements "${M[@]}" --yes
has "measurements success line" "✅ KMS measurements added successfully!"
has "measurements detail, lowercase" "  mrtd : $(hx a1 48)"
expect "near kms add-measurements: short rtmr1" 2 "$G" near kms add-measurements --mrtd "$(hx a1 48)" \
  --rtmr0 "$(hx a2 48)" --rtmr1 "$(hx a3 47)" --rtmr2 "$(hx a4 48)" --yes
errhas "short rtmr1 is named" "--rtmr1"
expect "near kms show --json: measurements" 0 "$G" near kms show --json
eq "show: measurements" "$(jq -r '.kms.measurements[0].rtmr2' <<<"$OUT")" "$(hx a4 48)"
expect "near kms remove-measurements" 0 "$G" near kms remove-measurements "${M[@]}" --yes
expect "near kms remove-measurements: absent" 8 "$G" near kms remove-measurements "${M[@]}" --yes
errhas "absent measurements" "Measurements not found"
# a quote of the attest suite's test PKI: the production kms.wasm trusts Intel's root only
node tests/near/rootkey-fixture.mjs "$T/fx" >/dev/null
jq -r .quote_hex "$T/fx/good.json" > "$T/quote.hex"
jq -r .collateral "$T/fx/good.json" > "$T/collateral.json"
jq -r .tcb_info "$T/fx/good.json" > "$T/tcb.json"
RK=(--quote "$T/quote.hex" --collateral "$T/collateral.json" --tcb-info "$T/tcb.json" --worker-public-key bls12381g1:x)
expect "near kms request-root-key: test PKI refused" 8 "$G" near kms request-root-key "${RK[@]}" --yes
errhas "refusal names the step" "step quote failed"
errhas "refusal is upstream's panic" "Attestation verification failed"
expect "near kms request-root-key --json" 8 "$G" near kms request-root-key "${RK[@]}" --yes --json
if jq -r .error.message <<<"$OUT" | grep -qF "step quote failed"; then ok "--json: the failed step in the message"
else bad "--json: the failed step in the message" "$OUT"; fi
xxd -r -p "$T/quote.hex" > "$T/quote.bin"
expect "near kms request-root-key: binary quote, --dry-run" 0 "$G" near kms request-root-key \
  --quote "$T/quote.bin" --collateral "$T/collateral.json" --tcb-info "$T/tcb.json" --worker-public-key k --dry-run
expect "near kms request-root-key: collateral not JSON" 2 "$G" near kms request-root-key \
  --quote "$T/quote.hex" --collateral "$T/quote.hex" --tcb-info "$T/tcb.json" --worker-public-key k --yes
errhas "collateral named" "--collateral"
expect "near kms request-root-key: no worker key" 2 "$G" near kms request-root-key --quote "$T/quote.hex" \
  --collateral "$T/collateral.json" --tcb-info "$T/tcb.json" --yes

# ------------------------------------------------------------------ apps
BAL0=$("$G" near kms show --json >/dev/null; curl -s "$NEAR_RPC_URL" -H content-type:application/json \
  -d '{"jsonrpc":"2.0","id":1,"method":"query","params":{"request_type":"view_account","finality":"optimistic","account_id":"test.near"}}' | jq -r .result.amount)
expect "near deploy (alias) with the guide's --deposit 30" 0 "$G" near deploy "0x$APP" test.near \
  --compose-hash "$CH" --device-id "$ADEV" --deposit 30 --yes
has "deploy: guide's first line" "Deploying app contract..."
has "deploy: app account" "  App Account: $APP.kms.test.near"
has "deploy: states the registration cost" "Registration costs 0."
has "deploy: says what is refunded" "is refunded"
has "deploy: success line" "✅ App contract deployed successfully!"
BAL1=$(curl -s "$NEAR_RPC_URL" -H content-type:application/json \
  -d '{"jsonrpc":"2.0","id":1,"method":"query","params":{"request_type":"view_account","finality":"optimistic","account_id":"test.near"}}' | jq -r .result.amount)
SPENT=$(node -e "console.log(((BigInt('$BAL0')-BigInt('$BAL1'))*1000n/10n**24n).toString())")
if [ "$SPENT" -lt 1000 ]; then ok "--deposit 30 costs under 1 NEAR (spent $SPENT milliNEAR)"; else bad "--deposit 30 cost $SPENT milliNEAR"; fi
expect "near app register without an app id" 0 "$G" near app register test.near --yes --json
NEWAPP=$(jq -r .appId <<<"$OUT")
if [[ "$NEWAPP" =~ ^[0-9a-f]{40}$ ]]; then ok "a fresh app id is printed ($NEWAPP)"; else bad "fresh app id: $NEWAPP"; fi
expect "near app deploy: --deposit below the registration deposit" 2 "$G" near app deploy "$(hx 99 20)" test.near --deposit 0.01 --yes
errhas "names the registration deposit" "below the registration deposit"
expect "near app deploy twice: the contract's panic" 8 "$G" near app deploy "$APP" test.near --yes
errhas "panic text" "App already registered"
expect "near add-hash (alias) with <hex>.<kms>" 0 "$G" near add-hash "$APP.kms.test.near" "$(hx 7b 32)" --yes
has "compose hash line" "✅ Compose hash added successfully!"
expect "near app add-hash with the hex id" 0 "$G" near app add-hash "$APP" "$(hx 7c 32)" --yes
expect "near app remove-hash" 0 "$G" near app remove-hash "$APP" "$(hx 7c 32)" --yes
expect "near remove-hash (alias)" 0 "$G" near remove-hash "$APP" "$(hx 7b 32)" --yes
expect "near app add-device" 0 "$G" near app add-device "$APP" "$(hx 8c 32)" --yes
expect "near app remove-device" 0 "$G" near app remove-device "$APP" "$(hx 8c 32)" --yes
expect "near app set-allow-any-device true" 0 "$G" near app set-allow-any-device "$APP" true --yes
expect "near app set-allow-any-device false" 0 "$G" near app set-allow-any-device "$APP" false --yes
# entries past the registration's reserve: the CLI attaches the storage the contract asks for
STORAGE=0
for i in $(seq 10 21); do
  OUT=$("$G" near app add-hash "$APP" "$(hx "$i" 32)" --yes --json </dev/null 2>>"$ALL_OUT"); rc=$?
  [ $rc -ne 0 ] && { bad "add-hash entry $i (exit $rc)" "$OUT"; break; }
  [ "$(jq -r '.storageDeposit // empty' <<<"$OUT")" != "" ] && STORAGE=$((STORAGE+1))
done
if [ "$STORAGE" -gt 0 ]; then ok "storage attached when the contract asked ($STORAGE of 12 additions)"; else bad "no storage deposit was ever attached"; fi
expect "near app show --json" 0 "$G" near app show "$APP" --json
eq "app show: registered" "$(jq -r .app.registered <<<"$OUT")" true
eq "app show: 13 compose hashes" "$(jq -r '.app.composeHashes|length' <<<"$OUT")" 13
eq "app show: allow any device" "$(jq -r .app.info.allow_any_device <<<"$OUT")" false

# ------------------------------------------------------------------ near check
boot() {  # boot FILE tcb os mr dev compose
  cat > "$1" <<J
{"appId":"$APP","composeHash":"$6","instanceId":"$(hx 12 20)","deviceId":"$5","mrAggregated":"$4","mrSystem":"","osImageHash":"$3","tcbStatus":"$2","advisoryIds":[]}
J
}
boot "$T/ok.json" UpToDate "$IMG" "$MR" "$ADEV" "$CH"
expect "check app: allowed" 0 "$G" near check app --boot-info "$T/ok.json"
has "check app: verdict" "Is Allowed: true"
has "check app: gateway" "Gateway App ID: $GW"
expect "check kms: allowed" 1 "$G" near check kms --boot-info "$T/ok.json"   # ADEV is no KMS device
boot "$T/kms.json" UpToDate "$IMG" "$MR" "$DEV" "$CH"
expect "check kms: allowed" 0 "$G" near check kms --boot-info "$T/kms.json"
expect "check kms --json" 0 "$G" near check kms --boot-info "$T/kms.json" --json
eq "check kms --json isAllowed" "$(jq -r .isAllowed <<<"$OUT")" true
eq "check kms --json 4 rules" "$(jq -r '.checks|length' <<<"$OUT")" 4
boot "$T/b.json" OutOfDate "$IMG" "$MR" "$DEV" "$CH"
expect "check kms: TCB denied" 1 "$G" near check kms --boot-info "$T/b.json"
has "reason: TCB" "Reason: TCB status is not up to date"
boot "$T/b.json" UpToDate "$(hx ee 32)" "$MR" "$DEV" "$CH"
expect "check kms: OS image denied" 1 "$G" near check kms --boot-info "$T/b.json"
has "reason: OS image" "Reason: OS image is not allowed"
boot "$T/b.json" UpToDate "$IMG" "$(hx ee 32)" "$DEV" "$CH"
expect "check kms: MR denied" 1 "$G" near check kms --boot-info "$T/b.json"
has "reason: MR" "Reason: Aggregated MR not allowed"
boot "$T/b.json" UpToDate "$IMG" "$MR" "$(hx ee 32)" "$CH"
expect "check kms: device denied" 1 "$G" near check kms --boot-info "$T/b.json"
has "reason: KMS device" "Reason: KMS is not allowed to boot on this device"
boot "$T/b.json" UpToDate "$IMG" "$MR" "$ADEV" "$(hx ee 32)"
expect "check app: compose hash denied" 1 "$G" near check app --boot-info "$T/b.json"
has "reason: compose hash" "Reason: Compose hash not allowed"
has "rule line: compose hash" "[DENY] compose hash"
boot "$T/b.json" UpToDate "$IMG" "$MR" "$(hx ee 32)" "$CH"
expect "check app: device denied" 1 "$G" near check app --boot-info "$T/b.json"
has "reason: device" "Reason: Device not allowed"
boot "$T/b.json" UpToDate "$(hx ee 32)" "$MR" "$ADEV" "$CH"
expect "check app: OS image denied" 1 "$G" near check app --boot-info "$T/b.json"
has "reason: app OS image" "Reason: OS image is not allowed"
sed "s/$APP/$(hx 99 20)/" "$T/ok.json" > "$T/b.json"
expect "check app: not registered" 1 "$G" near check app --boot-info "$T/b.json"
has "reason: not registered" "Reason: App not registered"
echo '{"appId":"12"}' > "$T/bad.json"
expect "check: malformed BootInfo" 2 "$G" near check app --boot-info "$T/bad.json"

# ------------------------------------------------------------------ error classes
expect "input: a short hash" 2 "$G" near add-os-image "$(hx ab 31)" --yes
errhas "input: names the field" "OS image hash"
expect "input: bad account id" 2 "$G" near add-os-image "$IMG" --account-id Test.Near --yes
expect "config: no key" 3 env -u NEAR_PRIVATE_KEY HOME="$T/nohome" "$G" near add-os-image "$IMG" --yes
errhas "config: says how to set one" "NEAR_PRIVATE_KEY"
expect "config: no KMS" 3 env -u KMS_CONTRACT_ID "$G" near add-os-image "$IMG" --yes
expect "config: unknown network" 2 "$G" near add-os-image "$IMG" --network moonnet --yes
printf '%s' "$KEY" > "$T/key"; chmod 644 "$T/key"
expect "key-file: mode too open" 17 env -u NEAR_PRIVATE_KEY "$G" near add-os-image "$IMG" --private-key-file "$T/key" --yes
errhas "key-file: chmod hint" "chmod 600"
chmod 600 "$T/key"
expect "key file 0600 works" 0 env -u NEAR_PRIVATE_KEY "$G" near add-os-image "$IMG" --private-key-file "$T/key" --yes
mkdir -p "$T/home/.near-credentials/local"
PUB=$(node -e "
const A='123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
const s='${KEY#ed25519:}';let n=0n;for(const ch of s)n=n*58n+BigInt(A.indexOf(ch));
let h=n.toString(16).padStart(128,'0');const b=Buffer.from(h,'hex').subarray(32);
let m=BigInt('0x'+b.toString('hex')),o='';while(m>0n){o=A[Number(m%58n)]+o;m/=58n}console.log('ed25519:'+o)")
printf '{"account_id":"test.near","public_key":"%s","private_key":"%s"}' "$PUB" "$KEY" > "$T/home/.near-credentials/local/test.near.json"
chmod 600 "$T/home/.near-credentials/local/test.near.json"
expect "near-cli credential file" 0 env -u NEAR_PRIVATE_KEY HOME="$T/home" "$G" near kms add-image "$IMG" --yes
chmod 640 "$T/home/.near-credentials/local/test.near.json"
expect "credential file mode checked" 17 env -u NEAR_PRIVATE_KEY HOME="$T/home" "$G" near kms add-image "$IMG" --yes
expect "rpc-unreachable" 4 "$G" near add-os-image "$IMG" --rpc-url http://127.0.0.1:1 --yes
expect "chain-id: testnet asked, the endpoint is not testnet" 7 "$G" near add-os-image "$IMG" --network testnet --rpc-url "$NEAR_RPC_URL" --yes
expect "no-code: unknown KMS account" 11 "$G" near add-os-image "$IMG" --kms nokms.test.near --yes
expect "not-owner: the KMS account itself is not the owner" 9 "$G" near add-os-image "$IMG" --account-id kms.test.near --yes
errhas "not-owner: the contract's words" "Insufficient permissions"
expect "funds: a deposit above the balance" 10 "$G" near deploy "$(hx 98 20)" test.near --deposit 100000000 --yes
errhas "funds: both amounts" "needs up to"
expect "cancelled: no terminal, no --yes" 15 "$G" near add-os-image "$(hx 1c 32)"
errhas "cancelled: says --yes" "--yes"
expect "--dry-run sends nothing" 0 "$G" near add-os-image "$(hx 1c 32)" --dry-run
has "dry run printed" "Dry run: add_os_image_hash (not sent)"
expect "--dry-run --json" 0 "$G" near add-os-image "$(hx 1c 32)" --dry-run --json
eq "dry run JSON" "$(jq -r '.dryRun, .transactions[0].actions[0].method' <<<"$OUT" | tr '\n' ' ')" "true add_os_image_hash "
expect "after the dry run the image is not there" 0 "$G" near kms show --json
if jq -e --arg h "$(hx 1c 32)" '.kms.osImages|index($h)' <<<"$OUT" >/dev/null; then bad "dry run sent"; else ok "dry run sent nothing"; fi
expect "--json error object" 9 "$G" near add-os-image "$IMG" --account-id kms.test.near --yes --json
eq "error class in JSON" "$(jq -r '.ok, .error.class, .error.exitCode' <<<"$OUT" | tr '\n' ' ')" "false not-owner 9 "
expect "--json success object" 0 "$G" near add-os-image "$(hx 1d 32)" --yes --json
eq "JSON: event of the outcome" "$(jq -r '.transactions[0].events[0].event' <<<"$OUT")" os_image_hash_added
if [[ "$(jq -r .txHash <<<"$OUT")" =~ ^[1-9A-HJ-NP-Za-km-z]{43,44}$ ]]; then ok "JSON: base58 tx hash"; else bad "JSON tx hash"; fi
expect "near kms deploy on an existing account (dry run)" 0 "$G" near kms deploy --kms kms.test.near --account-id kms.test.near --dry-run
has "kms deploy dry run: DeployContract" "DeployContract"
expect "near kms deploy --create" 0 "$G" near kms deploy --create --kms kms2.test.near --yes
has "kms deploy success" "✅ KMS contract deployed successfully!"
expect "near kms deploy --create: not a sub-account" 2 "$G" near kms deploy --create --kms other.near --yes
expect "secrets: no output contained the key" 0 true
if grep -qF "${KEY#ed25519:}" "$ALL_OUT"; then bad "the private key appeared in an output"; else ok "the private key never appeared in any output"; fi

# ------------------------------------------------------------------ request-root-key through the emulated MPC network
# The KMS test build (module kmstest: the test PKI's trust anchor) at kmst.test, the MPC
# TEST DOUBLE (module mpctest) at v1.signer and tests/near/mpc-responder.mjs playing the
# MPC nodes with a TEST master secret; worker C of the fixture signs with its TEST key.
rpcq() { curl -s "$NEAR_RPC_URL" -H content-type:application/json \
  -d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$1\",\"params\":$2}"; }
js() { node --input-type=module -e "import * as ckd from '$PWD/tests/near/ckd.mjs'; import * as near from 'near-api-js'; $1"; }
MSK=3a2b1c0d4e5f60718293a4b5c6d7e8f90123456789abcdef0123456789abcdef   # TEST master secret
MPK=$(js "console.log(ckd.mpkFromMsk(0x${MSK}n))")
read -r RKEY_SK RKEY_PK < <(js "const k = near.KeyPair.fromRandom('ed25519'); console.log(k.toString(), k.getPublicKey().toString())")
read -r EPH_A EPH_PK < <(js "const e = ckd.ephemeral(); console.log(e.a.toString(16), e.publicKey)")
WC_SK=$(jq -r .c.secret_key "$T/fx/workers.json"); WC_PK=$(jq -r .c.public_key "$T/fx/workers.json")
N100=100000000000000000000000000
rpcq nemu_set_time "{\"unix_seconds\":$(cat "$T/fx/at")}" >/dev/null
rpcq nemu_create_account "{\"account_id\":\"kmst.test\",\"balance\":\"$N100\"}" >/dev/null
rpcq nemu_create_account "{\"account_id\":\"v1.signer\",\"balance\":\"$N100\"}" >/dev/null
rpcq nemu_create_account "{\"account_id\":\"responder.test\",\"balance\":\"$N100\",\"public_key\":\"$RKEY_PK\"}" >/dev/null
rpcq nemu_create_account "{\"account_id\":\"worker-c.test\",\"balance\":\"$N100\",\"public_key\":\"$WC_PK\"}" >/dev/null
rpcq nemu_deploy '{"account_id":"kmst.test","module":"kmstest"}' >/dev/null
rpcq nemu_call '{"signer_id":"kmst.test","receiver_id":"kmst.test","method_name":"new","args":{"owner_id":"test.near","mpc_contract_id":"v1.signer","mpc_domain_id":2}}' >/dev/null
rpcq nemu_call "{\"signer_id\":\"test.near\",\"receiver_id\":\"kmst.test\",\"method_name\":\"test_set_trust_anchor\",\"deposit\":\"1\",\"args\":$(cat "$T/fx/root.json")}" >/dev/null
rpcq nemu_deploy '{"account_id":"v1.signer","module":"mpctest"}' >/dev/null
rpcq nemu_call "{\"signer_id\":\"v1.signer\",\"receiver_id\":\"v1.signer\",\"method_name\":\"new\",\"args\":{\"public_key\":\"$MPK\",\"responder\":\"responder.test\"}}" >/dev/null
expect "near kms add-measurements (test KMS)" 0 "$G" near kms add-measurements --kms kmst.test \
  $(jq -r '"--mrtd \(.mrtd) --rtmr0 \(.rtmr0) --rtmr1 \(.rtmr1) --rtmr2 \(.rtmr2)"' "$T/fx/measurements.json") --yes
expect "near kms add-compose-hash (test KMS)" 0 "$G" near kms add-compose-hash --kms kmst.test "$(cat "$T/fx/allowed")" --yes
jq -r .quote_hex "$T/fx/good-c.json" > "$T/qc.hex"
jq -r .collateral "$T/fx/good-c.json" > "$T/colc.json"
jq -r .tcb_info "$T/fx/good-c.json" > "$T/tcbc.json"
RKC=(--kms kmst.test --account-id worker-c.test --quote "$T/qc.hex" --collateral "$T/colc.json" --tcb-info "$T/tcbc.json" --worker-public-key "$EPH_PK")
# no MPC answer: a bounded wait and a message that says what happened
expect "request-root-key: no MPC answer within --timeout" 5 env NEAR_PRIVATE_KEY="$WC_SK" \
  "$G" near kms request-root-key "${RKC[@]}" --timeout 2 --yes
errhas "timeout: says no answer came from the MPC network" "no answer from the MPC network within 2 s"
errhas "timeout: says the request stays open" "yield timeout (200 blocks)"
rpcq nemu_advance_blocks '{"blocks":205}' >/dev/null   # test-only fast-forward: that request times out
MPC_MSK=$MSK RESPONDER_SECRET_KEY=$RKEY_SK node tests/near/mpc-responder.mjs "$NEAR_RPC_URL" v1.signer responder.test \
  > "$T/responder.log" 2>&1 &
RESP_PID=$!
expect "request-root-key: the MPC network's answer" 0 env NEAR_PRIVATE_KEY="$WC_SK" \
  "$G" near kms request-root-key "${RKC[@]}" --yes
has "prints the answer" "✅ The MPC network answered:"
BY=$(sed -n 's/^ *big_y: //p' <<<"$OUT"); BC=$(sed -n 's/^ *big_c: //p' <<<"$OUT")
RK1=$(js "console.log(Buffer.from(ckd.derive({a: 0x${EPH_A}n, big_y: '$BY', big_c: '$BC', mpk: '$MPK', appId: ckd.appId('kmst.test', 'kms-root-key')})).toString('hex'))" 2>&1)
if [[ "$RK1" =~ ^[0-9a-f]{64}$ ]]; then ok "the answer derives a 32-byte root key (pairing check passed)"; else bad "derive" "$RK1"; fi
read -r EPH_A2 EPH_PK2 < <(js "const e = ckd.ephemeral(); console.log(e.a.toString(16), e.publicKey)")
RKC[${#RKC[@]}-1]=$EPH_PK2
expect "request-root-key --json: a second ephemeral key" 0 env NEAR_PRIVATE_KEY="$WC_SK" \
  "$G" near kms request-root-key "${RKC[@]}" --yes --json
RK2=$(R=$OUT js "const r = JSON.parse(process.env.R).mpcResponse; console.log(Buffer.from(ckd.derive({a: 0x${EPH_A2}n, ...r, mpk: '$MPK', appId: ckd.appId('kmst.test', 'kms-root-key')})).toString('hex'))" 2>&1)
eq "the same root key from another ephemeral key (--json mpcResponse)" "$RK2" "$RK1"
kill "$RESP_PID" 2>/dev/null; wait "$RESP_PID" 2>/dev/null
if grep -q "answered" "$T/responder.log"; then ok "the responder answered"; else bad "responder" "$(cat "$T/responder.log")"; fi

# ------------------------------------------------------------------ docs/near.md walkthrough, as written
mkdir -p "$T/w"
awk '/<!-- walkthrough:begin -->/{on=1;next} /<!-- walkthrough:end -->/{on=0} on && !/^```/' docs/near.md > "$T/w/walk.sh"
if [ "$(wc -l < "$T/w/walk.sh")" -gt 20 ]; then ok "walkthrough extracted from docs/near.md"; else bad "walkthrough not found in docs/near.md"; fi
OUT=$(cd "$T/w" && env -u NEAR_PRIVATE_KEY -u NEAR_RPC_URL -u KMS_CONTRACT_ID -u NEAR_ACCOUNT_ID \
  DSTACK_GOV_DEVNET_DIR="$T/walk" PATH="$B:$PATH" bash -e walk.sh 2>&1 </dev/null); rc=$?
if [ $rc -eq 0 ]; then ok "docs/near.md walkthrough runs as written"; else bad "walkthrough (exit $rc)" "$(tail -5 <<<"$OUT")"; fi
has "walkthrough: the app is allowed" "Is Allowed: true"
has "walkthrough: deposit refunded" "is refunded"

expect "devnet down --near" 0 "$G" devnet down --near --dir "$T/dn"
has "devnet down stopped nemu-rpc" "stopped nemu-rpc pid"
expect "devnet down --near again" 3 "$G" devnet down --near --dir "$T/dn"

echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
