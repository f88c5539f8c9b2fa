#!/usr/bin/env bash
# deps.sh — install what dstack-gov needs, idempotently.
#
# Debian packages come from apt (only when one is missing, so a ready machine
# pays one dpkg query); npm tools come from package-lock.json via `npm ci`
# (only when node_modules is missing or older than the lock file).
set -euo pipefail
cd "$(dirname "$0")/.."

DEB_PACKAGES=(
  build-essential pkg-config
  libsecp256k1-dev libsodium-dev nettle-dev
  libcurl4-openssl-dev libjansson-dev
  clang lld libclang-rt-14-dev libclang-rt-14-dev-wasm32 libfuzzer-14-dev
  binaryen wabt dpkg-dev
  nodejs npm
  wrk hyperfine jq curl
  chromium   # the explore suite's headless browser, driven by npm playwright-core
)

missing=()
for p in "${DEB_PACKAGES[@]}"; do
  # nodejs/npm may come from elsewhere on dev machines: accept any working binary
  case "$p" in
    nodejs) command -v node >/dev/null 2>&1 && continue ;;
    npm) command -v npm >/dev/null 2>&1 && continue ;;
  esac
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

stamp=node_modules/.deps-stamp
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  echo "deps: installing npm packages from package-lock.json"
  npm_config_loglevel=error npm ci --no-audit --no-fund >/dev/null
  touch "$stamp"
fi
