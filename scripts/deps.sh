#!/usr/bin/env bash
# Install the Debian packages Hanse needs, and nothing when all are present.
# Idempotent: dpkg-query decides what is missing; apt runs only for those.
# Usage: scripts/deps.sh [build|test|bench|all]   (default: build)
set -euo pipefail

build_pkgs=(build-essential cmake pkg-config libsodium-dev libsqlite3-dev
  libmicrohttpd-dev libjansson-dev liblua5.4-dev libcurl4-openssl-dev
  libuv1-dev libqrencode-dev libpng-dev libxml2-dev libmimalloc-dev libssl-dev)
test_pkgs=(libcmocka-dev clang libclang-rt-14-dev chromium nodejs npm
  sqlite3 curl zbar-tools
  hledger)
# `make bench` only: the PostgreSQL baseline of the ledger benchmark.
bench_pkgs=(postgresql postgresql-client)

want=("${build_pkgs[@]}")
case "${1:-build}" in
  build) ;;
  test) want+=("${test_pkgs[@]}") ;;
  bench) want+=("${bench_pkgs[@]}") ;;
  all) want+=("${test_pkgs[@]}" "${bench_pkgs[@]}") ;;
  *) echo "usage: $0 [build|test|bench|all]" >&2; exit 2 ;;
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

# Raft consensus: libraft-dev 0.22 from Debian 12's bookworm-backports
# suite (main has 0.15, which crashes on a leader's in-flight writes; see
# docs/DEPENDENCIES.md). Present when the installed version is 0.22 or later.
need_raft=0
raft_version=$(dpkg-query -W -f='${Version}' libraft-dev 2>/dev/null || true)
if [ -z "$raft_version" ] || dpkg --compare-versions "$raft_version" lt 0.22; then
  need_raft=1
fi

if [ ${#missing[@]} -eq 0 ] && [ $need_raft -eq 0 ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive

if [ $need_raft -eq 1 ]; then
  # The backports suite, on the mirror this machine already uses.
  list=/etc/apt/sources.list.d/hanse-bookworm-backports.list
  if ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
    uri=$(awk '/^URIs:/ && $2 ~ /debian\/?$/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
    if [ -z "$uri" ]; then
      uri=$(awk '$1 == "deb" && $3 == "bookworm" {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
    fi
    if [ -z "$uri" ]; then
      echo "deps: cannot find the Debian mirror in the apt sources to add bookworm-backports" >&2
      exit 1
    fi
    echo "deps: adding bookworm-backports from $uri"
    echo "deb $uri bookworm-backports main" | $SUDO tee "$list" >/dev/null
  fi
fi

what="${missing[*]}"
if [ $need_raft -eq 1 ]; then what="$what libraft-dev (bookworm-backports)"; fi
echo "deps: installing ${what# }"
$SUDO apt-get update -qq
if [ ${#missing[@]} -gt 0 ]; then
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
if [ $need_raft -eq 1 ]; then
  $SUDO apt-get install -y -qq --no-install-recommends -t bookworm-backports libraft-dev
fi
