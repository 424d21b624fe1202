#!/usr/bin/env bash
# Runs a project's GDScript tests (res://tests/runner.gd) headless in one
# Godot and prints their output as it comes. The output also goes to a file
# that the runner reads back to see what each test printed (GODOT_TEST_LOG),
# which works on every Godot version and platform.
# A Windows Godot (a .exe) runs under Wine, with the project's paths given
# as Windows paths.
# An HTTP proxy (tinyproxy, with credentials) runs beside the suite for the
# proxy tests, which read where it is from TEST_PROXY_PORT and
# TEST_PROXY_CREDENTIALS; without tinyproxy those tests say they were
# skipped (and fail under CI).
# Usage: tests/godot/run_suite.sh PROJECT GODOT [TIMEOUT_SECONDS]
#   (environment: GODOT_TEST_FILTER, and what the tests read)
# Exit status: 0 when the runner reported no failure.
set -uo pipefail
project=$(cd "$1" && pwd)
godot=$2
limit=${3:-900}
root=$(cd "$(dirname "$0")/../.." && pwd)
source "$root/tests/lib.sh"

log=$project/.test-output.log
: > "$log"

proxy_pid=""
if command -v tinyproxy >/dev/null; then
  proxy_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  printf 'Port %s\nListen 127.0.0.1\nAllow 127.0.0.1\nTimeout 60\nMaxClients 50\nLogLevel Warning\nBasicAuth gamer let-me-in\n' \
    "$proxy_port" > "$project/.tinyproxy.conf"
  tinyproxy -d -c "$project/.tinyproxy.conf" >/dev/null 2>&1 &
  proxy_pid=$!
  trap '[ -n "$proxy_pid" ] && kill "$proxy_pid" 2>/dev/null' EXIT
  export TEST_PROXY_PORT=$proxy_port TEST_PROXY_CREDENTIALS=gamer:let-me-in
fi
if is_windows_build "$godot"; then
  GODOT_TEST_LOG=$(winepath -w "$log") godot_under_wine "$godot" "$limit" \
    --headless --path "$(winepath -w "$project")" --script res://tests/runner.gd > "$log" 2>&1 &
else
  GODOT_TEST_LOG=$log timeout "$limit" "$godot" --headless --path "$project" \
    --script res://tests/runner.gd > "$log" 2>&1 &
fi
pid=$!
tail -n +1 -f --pid=$pid "$log"
wait $pid
status=$?
summary=$(grep -aE '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1 | tr -d '\r')
if [ -z "$summary" ]; then
  echo "the runner ended without its summary line (exit status $status): crash or timeout"
  exit 1
fi
[ $status -eq 0 ] && [[ $summary == *" 0 failed"* ]]
