#!/usr/bin/env bash
# Runs every test: the Rust tests (cargo test, always) and, where a Godot 4
# binary is found ($GODOT, else `godot` on PATH), the GDScript tests headless
# in a fresh project that installs the addon the way the README says.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
status=0

echo "== Rust tests"
cargo test --workspace || status=1

godot=${GODOT:-$(command -v godot || true)}
if [ -z "$godot" ] || [ ! -x "$godot" ]; then
  echo "SKIPPED: Godot tests (no Godot binary: set \$GODOT or put godot on PATH)"
  exit $status
fi

echo "== Godot tests with $("$godot" --version 2>/dev/null | head -n 1)"
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

echo "== Demo scenes (godot-project, with the same addon layout)"
demo=$root/tests/.tmp/demo
rm -rf "$demo"
mkdir -p "$demo"
(cd "$root/godot-project" && tar --exclude=.godot --exclude=addons/rust_websocket -cf - .) | (cd "$demo" && tar -xf -)
"$root/rust/build_addon.sh" "$demo" >/dev/null || exit 1
mkdir -p "$demo/tests"
cp "$root/tests/godot/runner.gd" "$root/tests/godot/error_capture.gd" "$root"/tests/demo/*.gd "$demo/tests/"
timeout 600 "$godot" --headless --path "$demo" --script res://tests/runner.gd || status=1

echo "== Load: 1000 concurrent links from Python websockets to one Godot process"
timeout 600 bash "$root/tests/load/run_load.sh" "$project" "$godot" 1000 5 || status=1

echo "== Python and Node clients against a Godot server"
timeout 300 bash "$root/tests/peers/run_against_godot.sh" "$project" "$godot" || status=1

echo "== Browser: headless Chromium's WebSocket against a Godot server"
timeout 300 bash "$root/tests/browser/run_browser.sh" "$project" "$godot" || status=1

exit $status
