#!/usr/bin/env bash
# Python `websockets` and Node `ws` clients against a Godot server built on
# RustWebSocketPeer (tests/load/load_server.gd, an echo server): text,
# unicode, binary and a 60 KB message each (under the default 64 KiB limit), then a clean close with a code
# and reason that the server must report.
# Usage: tests/peers/run_against_godot.sh PROJECT_DIR GODOT
set -uo pipefail
project=$1
godot=$2
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../load/godot_server.sh"
start_echo_server "$project" "$godot" 2 60 || { echo "clients: 0 passed, 1 failed"; exit 1; }
status=0
expect() {  # expect NAME OUTPUT: the lines every client must print (both
  # peers print them alike: compact JSON, text as is)
  local name=$1 got=$2
  local want
  want=$(printf '%s\n' \
    '{"protocol":"","extensions":""}' \
    '{"type":"text","len":10,"text":"héllo ✓"}' \
    '{"type":"binary","len":3,"same":true}' \
    '{"type":"binary","len":60000,"same":true}' \
    'CLOSED 4005 bye')
  if [ "$got" != "$want" ]; then
    echo "$name client against the Godot server printed:"; printf '%s\n' "$got"
    status=1
  fi
}
args=("ws://127.0.0.1:$port/interop" "héllo ✓" "bin:00ff10" "big:60000" --close-code 4005 --close-reason bye)
expect python "$(timeout 60 python3 "$here/ws_peer.py" client "${args[@]}")"
expect node "$(timeout 60 node "$here/ws_peer.js" client "${args[@]}")"
wait "$server" || status=1
grep -q '"closes":{"4005":2}' "$out" || { echo "server saw:"; cat "$out" | grep '^{'; status=1; }
rm -f "$out"
if [ $status -eq 0 ]; then echo "clients: 1 passed, 0 failed"; else echo "clients: 0 passed, 1 failed"; fi
exit $status
