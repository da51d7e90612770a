#!/usr/bin/env bash
# Browser tests of the explorer and the consumer page: start a demo node on
# a free port in a temp data dir, run explorer.test.mjs and product.test.mjs
# against it, and always stop the node.
# The demo serves three chains; the test submits on the open one (any key
# may) and looks at the alliance as an outsider (public blocks, members-only
# transactions).
#
# Usage: tests/browser/run.sh [path/to/hanse]   (default: $HANSE, else build/hanse)
# Environment: HANSE_CHAIN (default open: a chain without a policy),
#              HANSE_MEMBERS_CHAIN (default alliance: public blocks, signed reads),
#              CHROMIUM (default /usr/bin/chromium),
#              HANSE_NODE_WAIT seconds to wait for the node (default 60).
# Worst case (npm ci 180 s + node start 60 s + test 250 s) stays under the
# ctest TIMEOUT in CMakeLists.txt.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
hanse=${1:-${HANSE:-$root/build/hanse}}
chain=${HANSE_CHAIN:-open}
members_chain=${HANSE_MEMBERS_CHAIN:-alliance}
wait_s=${HANSE_NODE_WAIT:-60}
export CHROMIUM=${CHROMIUM:-/usr/bin/chromium}

die() { echo "run.sh: $*" >&2; exit 1; }
[ -x "$hanse" ] || die "no hanse binary at $hanse (build it first)"
hanse=$(cd "$(dirname "$hanse")" && pwd)/$(basename "$hanse")
command -v node >/dev/null || die "node is missing (scripts/deps.sh test installs it)"
[ -x "$CHROMIUM" ] || die "no chromium at $CHROMIUM (scripts/deps.sh test installs it)"

# playwright-core only: the browser is Debian's chromium, nothing is downloaded.
if [ ! -d "$here/node_modules/playwright-core" ]; then
  command -v npm >/dev/null || die "npm is missing (scripts/deps.sh test installs it)"
  (cd "$here" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 timeout 180 npm ci --no-audit --no-fund)
fi

port=$(node -e '
  const s = require("net").createServer();
  s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });')
dir=$(mktemp -d "${TMPDIR:-/tmp}/hanse-browser.XXXXXX")
node_pid=""
test_pid=""

cleanup() {
  local rc=$?
  set +e
  trap '' PIPE   # a closed stdout/stderr must not stop the cleanup
  if [ -n "$test_pid" ] && kill -0 "$test_pid" 2>/dev/null; then
    kill -TERM "$test_pid" 2>/dev/null
    wait "$test_pid" 2>/dev/null
  fi
  if [ -n "$node_pid" ] && kill -0 "$node_pid" 2>/dev/null; then
    kill -TERM "$node_pid" 2>/dev/null || true
    for _ in $(seq 50); do
      kill -0 "$node_pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$node_pid" 2>/dev/null; then
      echo "run.sh: node $node_pid ignored SIGTERM; killing it" >&2
      kill -KILL "$node_pid" 2>/dev/null || true
    fi
    wait "$node_pid" 2>/dev/null || true
  fi
  if [ "$rc" -ne 0 ] && [ -s "$dir/node.log" ]; then
    echo "---- node log (last 40 lines) ----" >&2
    tail -n 40 "$dir/node.log" >&2
  fi
  rm -rf "$dir"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

url="http://127.0.0.1:$port"
echo "run.sh: $hanse demo --data $dir/data --port $port"
"$hanse" demo --data "$dir/data" --port "$port" >"$dir/node.log" 2>&1 &
node_pid=$!

healthy() {
  if command -v curl >/dev/null; then
    curl -fsS --max-time 2 "$url/v1/health" 2>/dev/null | grep -q '"ok" *: *true'
  else
    node -e 'fetch(process.argv[1]).then(r => r.json()).then(j => process.exit(j.ok === true ? 0 : 1), () => process.exit(1))' \
      "$url/v1/health"
  fi
}
deadline=$((SECONDS + wait_s))
until healthy; do
  kill -0 "$node_pid" 2>/dev/null || die "the node exited before serving $url/v1/health"
  [ "$SECONDS" -lt "$deadline" ] || die "the node did not serve $url/v1/health within ${wait_s} s"
  sleep 0.2
done
echo "run.sh: node $node_pid serves $url"

# Bounded so that run.sh, not ctest's timeout, ends a hung test: the trap
# then still stops the node.
# In the background so that a SIGTERM to run.sh runs the trap at once.
timeout --kill-after=10 240 \
  node "$here/explorer.test.mjs" --url "$url" --chain "$chain" \
    --members-chain "$members_chain" --hanse "$hanse" &
test_pid=$!
wait "$test_pid"
# The consumer page of the e-bike the demo publishes, with Anna's key.
timeout --kill-after=10 120 \
  node "$here/product.test.mjs" --url "$url" \
    --consumer-key "$dir/data/keys/consumer.json" &
test_pid=$!
wait "$test_pid"
