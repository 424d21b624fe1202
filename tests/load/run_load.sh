#!/usr/bin/env bash
# Load test: one headless Godot process serves LINKS concurrent
# RustWebSocketPeer links on 127.0.0.1 to a Python load generator, each link
# echoing numbered messages for SECONDS. Fails if anything was lost,
# reordered or not closed cleanly; prints memory per link.
# Usage: tests/load/run_load.sh PROJECT_DIR GODOT [LINKS=1000] [SECONDS=5]
set -euo pipefail
project=$1
godot=$2
links=${3:-1000}
seconds=${4:-5}
here=$(cd "$(dirname "$0")" && pwd)
ulimit -n 16384 2>/dev/null || ulimit -n "$(ulimit -Hn)"
. "$here/godot_server.sh"
start_echo_server "$project" "$godot" "$links" 180 || exit 1
status=0
python3 "$here/load_client.py" "$port" "$links" "$seconds" || status=1
wait $server || status=1
grep '^{' "$out" || { tail -20 "$out"; status=1; }
rm -f "$out"
if [ $status -eq 0 ]; then echo "load: 1 passed, 0 failed"; else echo "load: 0 passed, 1 failed"; fi
exit $status
