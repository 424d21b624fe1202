#!/usr/bin/env bash
# The Autobahn TestSuite (all 517 cases) in both roles, for RustWebSocketPeer
# (compression on, so cases 12.* and 13.* run) and, beside it, the engine's
# WebSocketPeer:
#   server role: `wstest -m fuzzingclient` against tests/autobahn/echo_server.gd
#   client role: tests/autobahn/fuzzing_client.gd against `wstest -m fuzzingserver`
# Fails on any FAILED case of ours, and on any case where ours is NON-STRICT
# (or UNIMPLEMENTED) and the engine's class is OK (report.py).
# Writes the table to tests/.tmp/autobahn/autobahn.md; with --docs also to
# docs/autobahn.md.
# Usage: tests/autobahn/run.sh PROJECT_DIR GODOT [--docs]
# $AUTOBAHN_CASES: the cases to run, as wstest patterns separated by commas
# (default all, "*"; e.g. "3.*,4.*,5.15,6.4.*").
# wstest runs on Python 2.7 (pyenv's on these machines): set $PYTHON2, and
# $AUTOBAHN_LIB to the folder `pip install --target` put autobahntestsuite in
# (default tests/.tmp/autobahn-lib, where .ci/run installs it).
set -uo pipefail
project=$1
godot=$2
docs=${3:-}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# A Python 2.7 that runs (pyenv's shim may exist without a version selected).
py2=${PYTHON2:-}
for candidate in "$HOME"/.pyenv/versions/2.7*/bin/python2.7 "$(command -v python2.7 || true)"; do
  [ -z "$py2" ] && [ -x "$candidate" ] && "$candidate" -c pass 2>/dev/null && py2=$candidate
done
lib=${AUTOBAHN_LIB:-$root/tests/.tmp/autobahn-lib}
if [ -z "$py2" ] || [ ! -d "$lib/autobahntestsuite" ]; then
  echo "SKIPPED: Autobahn TestSuite (needs Python 2.7 and autobahntestsuite in $lib; .ci/run installs them)"
  exit 0
fi
wstest=(env PYTHONPATH="$lib" "$py2" -m autobahntestsuite.wstest)
cases=$(python3 -c 'import json, sys; print(json.dumps([c.strip() for c in sys.argv[1].split(",") if c.strip()]))' "${AUTOBAHN_CASES:-*}")
out=$root/tests/.tmp/autobahn
rm -rf "$out"
mkdir -p "$out"
cp "$here"/echo_server.gd "$here"/fuzzing_client.gd "$project/"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
status=0

# server_role AGENT CLASS [compress]
server_role() {
  local agent=$1 cls=$2 flag=${3:-}
  local log=$out/server-$agent.log failed=0
  "$godot" --headless --path "$project" --script res://echo_server.gd -- "$cls" $flag > "$log" 2>&1 &
  local pid=$! port=""
  for _ in $(seq 100); do
    port=$(sed -n 's/^PORT \([0-9]*\)$/\1/p' "$log"); [ -n "$port" ] && break; sleep 0.1
  done
  if [ -z "$port" ]; then cat "$log"; kill $pid 2>/dev/null; return 1; fi
  cat > "$out/client-spec-$agent.json" <<SPEC
{"outdir": "$out/server-role-$agent", "servers": [{"agent": "$agent", "url": "ws://127.0.0.1:$port"}],
 "cases": $cases, "exclude-cases": [], "exclude-agent-cases": {}}
SPEC
  local started=$SECONDS
  (cd "$out" && timeout 2400 "${wstest[@]}" -m fuzzingclient -s "client-spec-$agent.json" > "$out/wstest-client-$agent.log" 2>&1) || {
    echo "wstest fuzzingclient failed for $agent:"; tail -20 "$out/wstest-client-$agent.log"; failed=1; }
  echo "server role, $agent: $((SECONDS - started)) s"
  kill $pid 2>/dev/null; wait $pid 2>/dev/null
  return $failed
}

# client_role AGENT CLASS [compress]
client_role() {
  local agent=$1 cls=$2 flag=${3:-}
  local port failed=0; port=$(free_port)
  cat > "$out/server-spec-$agent.json" <<SPEC
{"url": "ws://127.0.0.1:$port", "outdir": "$out/client-role-$agent",
 "cases": $cases, "exclude-cases": [], "exclude-agent-cases": {}}
SPEC
  (cd "$out" && exec "${wstest[@]}" -m fuzzingserver -s "server-spec-$agent.json" -u 0) > "$out/wstest-server-$agent.log" 2>&1 &
  local ws=$!
  for _ in $(seq 100); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null && break; sleep 0.2
  done
  local started=$SECONDS
  timeout 2400 "$godot" --headless --path "$project" --script res://fuzzing_client.gd -- "$port" "$agent" "$cls" $flag \
    > "$out/client-$agent.log" 2>&1 || { echo "the Godot client failed for $agent:"; tail -20 "$out/client-$agent.log"; failed=1; }
  echo "client role, $agent: $((SECONDS - started)) s"
  kill $ws 2>/dev/null; wait $ws 2>/dev/null
  return $failed
}

# Both roles of one class at once: wstest (single-threaded Python) is the
# bottleneck, and there are two cores.
for pair in "RustWebSocketPeer compress" "WebSocketPeer"; do
  set -- $pair
  server_role "$1" "$1" ${2:-} > "$out/run-server-$1.log" 2>&1 &
  s=$!
  client_role "$1" "$1" ${2:-} > "$out/run-client-$1.log" 2>&1 &
  c=$!
  wait $s || status=1
  wait $c || status=1
  cat "$out/run-server-$1.log" "$out/run-client-$1.log"
done

python3 "$here/report.py" "$out" "$out/autobahn.md" RustWebSocketPeer || status=1
if [ "$docs" = "--docs" ]; then cp "$out/autobahn.md" "$root/docs/autobahn.md"; fi
if [ $status -eq 0 ]; then echo "autobahn: 1 passed, 0 failed"; else echo "autobahn: 0 passed, 1 failed"; fi
exit $status
