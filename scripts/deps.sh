#!/usr/bin/env bash
# Install the Debian packages Hanse needs, and nothing when all are present.
# Idempotent: dpkg-query decides what is missing; apt runs only for those.
# Usage: scripts/deps.sh [build|test|all]   (default: build)
set -euo pipefail

build_pkgs=(build-essential cmake pkg-config libsodium-dev libsqlite3-dev
  libmicrohttpd-dev libjansson-dev liblua5.4-dev libcurl4-openssl-dev
  libuv1-dev)
test_pkgs=(libcmocka-dev clang libclang-rt-14-dev chromium nodejs npm
  sqlite3 curl)

want=("${build_pkgs[@]}")
case "${1:-build}" in
  build) ;;
  test|all) want+=("${test_pkgs[@]}") ;;
  *) echo "usage: $0 [build|test|all]" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
  # nodejs/npm may come from outside Debian on some machines: a working
  # binary counts as present.
  case "$p" in
    nodejs) command -v node >/dev/null 2>&1 && continue ;;
    npm) command -v npm >/dev/null 2>&1 && continue ;;
  esac
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
