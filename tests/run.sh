#!/usr/bin/env bash
# Runs every test: the Rust tests (cargo test, always), the core's tests
# built for Windows and run under Wine, the release zip (built for every
# platform and checked), and, where a Godot 4 binary is found ($GODOT, else
# `godot` on PATH), the GDScript tests headless in a fresh project that
# installs the addon the way the README says, the demo scenes (headless and
# in a real window), load and burst tests, foreign clients, a browser, the
# Autobahn TestSuite, and the release zip's Linux library in Godot.
# Each part prints one line when it was skipped, and why.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
mkdir -p tests/.tmp
status=0
SECONDS=0
part() { echo; echo "== $1 (at ${SECONDS}s)"; }

part "Rust tests"
cargo test --workspace || status=1

part "Windows: the core's tests under Wine"
bash tests/windows/run_wine.sh || status=1

part "Release zip for every platform"
zip_file=""
if command -v cargo-zigbuild >/dev/null && python3 -m ziglang version >/dev/null 2>&1 && command -v zip >/dev/null; then
  if zip_file=$(bash rust/release.sh 2> tests/.tmp/release.log | tail -n 1); then
    python3 tests/release/check_release.py "$zip_file" || status=1
  else
    tail -30 tests/.tmp/release.log; echo "release: 0 passed, 1 failed"; status=1; zip_file=""
  fi
else
  echo "SKIPPED: release zip (needs cargo-zigbuild, pip's ziglang and zip; .ci/run installs them)"
fi

godot=${GODOT:-$(command -v godot || true)}
if [ -z "$godot" ] || [ ! -x "$godot" ]; then
  echo "SKIPPED: Godot tests (no Godot binary: set \$GODOT or put godot on PATH)"
  exit $status
fi

part "Godot tests with $("$godot" --version 2>/dev/null | head -n 1)"
project=$root/tests/.tmp/project
rm -rf "$project"
mkdir -p "$project/tests" "$project/certs"
cat > "$project/project.godot" <<'PROJECT'
config_version=5

[application]
config/name="RustWebSocketPeer tests"
PROJECT
"$root/rust/build_addon.sh" "$project" >/dev/null || exit 1
cp "$root"/tests/godot/*.gd "$project/tests/"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=localhost" \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -addext "basicConstraints=critical,CA:FALSE" \
  -keyout "$project/certs/key.pem" -out "$project/certs/cert.pem" 2>/dev/null || status=1

RUST_WEBSOCKET_LOG=info WS_TEST_CERT="$project/certs/cert.pem" WS_TEST_KEY="$project/certs/key.pem" \
  timeout 900 "$godot" --headless --path "$project" --script res://tests/runner.gd || status=1

part "Demo scenes (godot-project, with the same addon layout)"
demo=$root/tests/.tmp/demo
rm -rf "$demo"
mkdir -p "$demo"
(cd "$root/godot-project" && tar --exclude=.godot --exclude=addons/rust_websocket -cf - .) | (cd "$demo" && tar -xf -)
"$root/rust/build_addon.sh" "$demo" >/dev/null || exit 1
mkdir -p "$demo/tests"
cp "$root/tests/godot/runner.gd" "$root/tests/godot/error_capture.gd" "$root"/tests/demo/*.gd "$demo/tests/"
timeout 600 "$godot" --headless --path "$demo" --script res://tests/runner.gd || status=1

part "Demo scenes in a real window (960x600 and 640x480)"
timeout 600 bash "$root/tests/visual/run_visual.sh" "$demo" "$godot" || status=1

part "Load: 1000 concurrent links to one Godot process, and a burst of 1000"
timeout 900 bash "$root/tests/load/run_load.sh" "$project" "$godot" 1000 5 || status=1

part "Python and Node clients against a Godot server"
timeout 300 bash "$root/tests/peers/run_against_godot.sh" "$project" "$godot" || status=1

part "Browser: headless Chromium's WebSocket against a Godot server"
timeout 300 bash "$root/tests/browser/run_browser.sh" "$project" "$godot" || status=1

part "The release zip's Linux library in Godot"
if [ -n "$zip_file" ]; then
  timeout 300 bash "$root/tests/release/run_in_godot.sh" "$zip_file" "$godot" || status=1
else
  echo "SKIPPED: release zip in Godot (no zip was built above)"
fi

part "Autobahn TestSuite, both roles"
timeout 3000 bash "$root/tests/autobahn/run.sh" "$project" "$godot" || status=1

echo
echo "All tests done in ${SECONDS}s; $([ $status -eq 0 ] && echo passed || echo FAILED)"
exit $status
