#!/usr/bin/env bash
# debian-src.sh NAME DEST — fetch Debian bookworm's source package NAME and
# unpack it (Debian patches applied) into DEST, once.
#
# Used for C libraries the project compiles itself (for wasm32, where Debian
# ships no build). apt fetches through its own lists in a private directory, so
# the system's package lists are never touched; apt checks the downloaded files
# against the signed archive index and dpkg-source checks them against the
# .dsc checksums. Nothing fetched here is ever committed. The downloaded files
# are kept in $DG_DEBSRC_CACHE (default ~/.cache/dstack-gov/debian-src), so a
# `make clean` does not fetch again.
set -euo pipefail
name=$1
dest=$2
[ -f "$dest/.dg-unpacked" ] && exit 0
cache=${DG_DEBSRC_CACHE:-$HOME/.cache/dstack-gov/debian-src}
mkdir -p "$cache/lists/partial" "$cache/apt/archives/partial" "$cache/pool"
# one fetch at a time (make -j runs one per package; apt locks its lists)
exec 9>"$cache/.lock"
flock 9
[ -f "$dest/.dg-unpacked" ] && exit 0
echo 'deb-src http://deb.debian.org/debian bookworm main' >"$cache/sources.list"
opts=(-o "Dir::Etc::SourceList=$cache/sources.list" -o Dir::Etc::SourceParts=/dev/null
  -o "Dir::State::Lists=$cache/lists" -o "Dir::Cache=$cache/apt" -o APT::Sandbox::User=root -qq)
dsc=$(ls "$cache/pool/${name}_"*.dsc 2>/dev/null | tail -1 || true)
if [ -z "$dsc" ]; then
  echo "debian-src: fetching the Debian source package $name"
  apt-get "${opts[@]}" update
  (cd "$cache/pool" && apt-get "${opts[@]}" source --download-only "$name")
  dsc=$(ls "$cache/pool/${name}_"*.dsc | tail -1)
fi
rm -rf "$dest.tmp"
mkdir -p "$(dirname "$dest")"
# (the .dsc's inline signature needs debian-keyring, which is not installed;
# the checksums are what matter and dpkg-source fails if one differs)
dpkg-source -x "$dsc" "$dest.tmp" >"$dest.log" 2>&1 || { cat "$dest.log" >&2; exit 1; }
rm -rf "$dest"
mv "$dest.tmp" "$dest"
touch "$dest/.dg-unpacked"
