#!/usr/bin/env bash
# Load tests, each against one headless Godot process on 127.0.0.1:
# 1. LINKS concurrent RustWebSocketPeer links (behind Godot's TCPServer) to a
#    Python load generator, each echoing numbered messages for SECONDS.
#    Fails if a link never opened, or anything was lost, reordered or not
#    closed cleanly; prints memory per link. The clients open a few at a
#    time and retry, as real ones do: TCPServer's backlog is 8.
# 2. A burst: LINKS Python clients at the same moment, no retries, against
#    RustWebSocketMultiplayerPeer (its own listener); each must get its id.
# Usage: tests/load/run_load.sh PROJECT_DIR GODOT [LINKS=1000] [SECONDS=5]
set -euo pipefail
project=$1
godot=$2
links=${3:-1000}
seconds=${4:-5}
here=$(cd "$(dirname "$0")" && pwd)
ulimit -n 16384 2>/dev/null || ulimit -n "$(ulimit -Hn)"
. "$here/godot_server.sh"

# finish NAME STATUS: collects the server's verdict and prints the result line.
finish() {
  local name=$1 status=$2
  wait "$server" || status=1
  grep '^{' "$out" || { tail -20 "$out"; status=1; }
  rm -f "$out"
  if [ "$status" -eq 0 ]; then echo "$name: 1 passed, 0 failed"; else echo "$name: 0 passed, 1 failed"; fi
  return "$status"
}

total=0
start_echo_server "$project" "$godot" "$links" 180 || exit 1
status=0
python3 "$here/load_client.py" "$port" "$links" "$seconds" || status=1
finish load $status || total=1

start_server_script "$project" "$godot" mp_burst_server.gd "$links" 90 || exit 1
status=0
python3 "$here/burst_client.py" "$port" "$links" || status=1
finish burst $status || total=1
exit $total
