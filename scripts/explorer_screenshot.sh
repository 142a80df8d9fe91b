#!/usr/bin/env bash
# A screenshot of `infogan explore` for README: serves RUN on a free port, lets headless Chromium
# load the page and draw every grid, and writes OUT.png (default docs/explorer.png).
# Usage: scripts/explorer_screenshot.sh RUN [OUT.png]     (needs chromium: .ci/setup-browser)
set -euo pipefail
run=$1 out=$(realpath -m "${2:-docs/explorer.png}")
cd "$(dirname "$0")/.."
cargo build --release --quiet
log=$(mktemp)
target/release/infogan explore "$run" --no-open >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 100); do grep -q "http://" "$log" && break; sleep 0.2; done
url=$(grep -o 'http://[0-9.:]*/' "$log" | head -n 1)
profile=$(mktemp -d)
chromium --headless=new --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$profile" --window-size=1280,1040 --virtual-time-budget=20000 \
  --screenshot="$out" "$url" >/dev/null 2>&1
rm -rf "$profile"
echo "wrote $out"
