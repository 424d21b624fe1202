#!/usr/bin/env bash
# Windows behaviour: the core's tests (unit tests and the integration tests
# that need no Python or Node peer) built for x86_64-pc-windows-gnu and run
# under Wine. These run the paths Windows users get: no epoll readiness set
# (sockets are asked directly), no socket takeover, Windows sockets.
# Skipped with one line when Wine, mingw-w64 or the Rust target is missing.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
target=x86_64-pc-windows-gnu
missing=""
command -v wine >/dev/null || missing="$missing wine"
command -v x86_64-w64-mingw32-gcc >/dev/null || missing="$missing mingw-w64"
rustup target list --installed 2>/dev/null | grep -qx "$target" || missing="$missing rustup-target-$target"
if [ -n "$missing" ]; then
  echo "SKIPPED: Windows tests under Wine (missing:$missing)"
  exit 0
fi
# Tests that start a Python or Node peer (or tinyproxy) cannot run inside Wine.
external="interop compression proxy"
exes=$(cargo test -p rustws-core --target "$target" --no-run --message-format=json 2>/dev/null |
  python3 -c '
import json, sys
for line in sys.stdin:
    try:
        m = json.loads(line)
    except ValueError:
        continue
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["profile"]["test"]:
        print(m["target"]["name"] + " " + m["executable"])')
if [ -z "$exes" ]; then
  echo "Windows build of the core tests failed:"
  cargo test -p rustws-core --target "$target" --no-run 2>&1 | tail -20
  echo "windows: 0 passed, 1 failed"
  exit 1
fi
# A renamed test file would otherwise run here and fail for want of a peer.
for name in $external; do
  echo "$exes" | grep -q "^$name " || {
    echo "tests/windows/run_wine.sh names '$name' as needing a Python/Node peer, but no such test target exists: update its list"
    echo "windows: 0 passed, 1 failed"
    exit 1
  }
done
deps=$(dirname "$(echo "$exes" | head -n 1 | cut -d' ' -f2)")
x86_64-w64-mingw32-gcc -shared -O2 -o "$deps/bcryptprimitives.dll" tests/windows/bcryptprimitives_shim.c -ladvapi32 || exit 1
export WINEDEBUG=-all WINEPREFIX=${WINEPREFIX:-$root/tests/.tmp/wine}
# One wineserver for the whole run: a fresh prefix is set up first, and the
# server stays up between tests (a test started while the server of the last
# one shuts down fails with "wine client error ... Connection reset by peer").
wineboot -i >/dev/null 2>&1
wineserver -p
trap 'wineserver -k 2>/dev/null' EXIT
passed=0
failed=0
while read -r name exe; do
  case " $external " in *" $name "*) echo "skip $name (needs a Python/Node peer)"; continue ;; esac
  log="$root/tests/.tmp/wine-$name.log"
  ok=0
  for attempt in 1 2; do
    timeout 600 wine "$exe" > "$log" 2>&1 && { ok=1; break; }
    # Only Wine's own failure to reach its server is retried, never a test.
    grep -q '^wine client error' "$log" || break
    echo "     (Wine lost its server; running $name again)"
  done
  if [ $ok -eq 1 ]; then
    passed=$((passed + 1)); echo "ok   $name ($(grep -h '^test result' "$log" | head -n 1))"
  else
    failed=$((failed + 1)); echo "FAIL $name"; tail -30 "$log"
  fi
done <<< "$exes"
echo "windows: $passed passed, $failed failed"
[ $failed -eq 0 ]
