#!/usr/bin/env bash
# Headless Chromium's built-in WebSocket against a Godot server using
# RustWebSocketPeer: the page (served from 127.0.0.1) sends text and binary,
# checks the echoes and closes with 4000 if all matched. The Godot server
# reports the close codes it received.
# Usage: tests/browser/run_browser.sh PROJECT_DIR GODOT
set -uo pipefail
project=$1
godot=$2
here=$(cd "$(dirname "$0")" && pwd)
chromium=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$chromium" ]; then
  echo "SKIPPED: browser test (no chromium; apt-get install chromium)"
  exit 0
fi
. "$here/../load/godot_server.sh"
start_echo_server "$project" "$godot" 1 60 || { echo "browser: 0 passed, 1 failed"; exit 1; }
python3 -m http.server 0 --bind 127.0.0.1 --directory "$here" > "$out.http" 2>&1 &
http=$!
http_port=""
for _ in $(seq 100); do
  http_port=$(sed -n 's/.*port \([0-9]*\).*/\1/p' "$out.http" | head -n 1)
  [ -n "$http_port" ] && break
  sleep 0.1
done
profile=$(mktemp -d)
timeout 60 "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$profile" "http://127.0.0.1:$http_port/index.html?port=$port" > /dev/null 2>&1 &
browser=$!
status=0
wait $server || status=1
kill $browser $http 2>/dev/null
wait $browser $http 2>/dev/null
result=$(grep '^{' "$out")
echo "$result"
echo "$result" | grep -q '"closes":{"4000":1}' || { status=1; tail -20 "$out"; }
rm -rf "$out" "$out.http" "$profile"
if [ $status -eq 0 ]; then echo "browser: 1 passed, 0 failed"; else echo "browser: 0 passed, 1 failed"; fi
exit $status
