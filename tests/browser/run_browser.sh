#!/usr/bin/env bash
# Headless Chromium's built-in WebSocket against a Godot server using
# RustWebSocketPeer: the page (served from 127.0.0.1) sends text and binary,
# checks the echoes and closes with 4000 if all matched. The Godot server
# reports the close codes it received. Runs twice: with compression off, and
# with compression_enabled on the server through a recording proxy, which
# checks on the wire that permessage-deflate was agreed and that both sides
# sent compressed (RSV1) frames. A third run holds each upgrade request:
# the page's socket without a token is refused with 403 (the browser must
# not open it), the one with the token is accepted and echoes.
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
python3 -m http.server 0 --bind 127.0.0.1 --directory "$here" > "$project/http.log" 2>&1 &
http=$!
http_port=""
for _ in $(seq 100); do
  http_port=$(sed -n 's/.*port \([0-9]*\).*/\1/p' "$project/http.log" | head -n 1)
  [ -n "$http_port" ] && break
  sleep 0.1
done
status=0

# browse PORT DEFLATE: opens the page against the server on PORT.
browse() {
  local profile; profile=$(mktemp -d)
  timeout 60 "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$profile" "http://127.0.0.1:$http_port/index.html?port=$1&deflate=$2" > /dev/null 2>&1 &
  browser=$!
}

# Compression off.
start_echo_server "$project" "$godot" 1 60 || { kill $http; echo "browser: 0 passed, 1 failed"; exit 1; }
browse "$port" 0
wait $server || status=1
kill $browser 2>/dev/null; wait $browser 2>/dev/null
result=$(grep '^{' "$out"); echo "$result"
echo "$result" | grep -q '"closes":{"4000":1}' || { status=1; tail -20 "$out"; }
echo "$result" | grep -q '"compressed_links":0' || status=1

# Compression on, through the recording proxy.
start_echo_server "$project" "$godot" 1 60 compress || { kill $http; echo "browser: 0 passed, 1 failed"; exit 1; }
wire=$(mktemp)
python3 "$here/wire_proxy.py" "$port" > "$wire" 2>&1 &
proxy=$!
proxy_port=""
for _ in $(seq 100); do
  proxy_port=$(sed -n 's/^PORT \([0-9]*\)$/\1/p' "$wire"); [ -n "$proxy_port" ] && break; sleep 0.1
done
browse "$proxy_port" 1
wait $server || status=1
wait $proxy 2>/dev/null
kill $browser 2>/dev/null; wait $browser 2>/dev/null
result=$(grep '^{' "$out"); echo "$result"
echo "$result" | grep -q '"closes":{"4000":1}' || { status=1; tail -20 "$out"; }
echo "$result" | grep -q '"compressed_links":1' || status=1
seen=$(grep '^{' "$wire"); echo "on the wire: $seen"
python3 - "$seen" <<'CHECK' || status=1
import json, sys
w = json.loads(sys.argv[1])
ok = (w["answer_extensions"] or "").startswith("permessage-deflate") \
    and w["client_rsv1_frames"] > 0 and w["server_rsv1_frames"] > 0
sys.exit(0 if ok else 1)
CHECK
# Held requests: one refused, one accepted.
start_echo_server "$project" "$godot" 2 60 hold || { kill $http; echo "browser: 0 passed, 1 failed"; exit 1; }
browse "$port" "0&hold=1"
wait $server || status=1
kill $browser 2>/dev/null; wait $browser 2>/dev/null
result=$(grep '^{' "$out"); echo "$result"
echo "$result" | grep -q '"closes":{"-1":1,"4000":1}' || { status=1; tail -20 "$out"; }
echo "$result" | grep -q '"held":2' || status=1
echo "$result" | grep -q '"refused":1' || status=1

kill $http 2>/dev/null; wait $http 2>/dev/null
rm -f "$out" "$wire" "$project/http.log"
if [ $status -eq 0 ]; then echo "browser: 1 passed, 0 failed"; else echo "browser: 0 passed, 1 failed"; fi
exit $status
