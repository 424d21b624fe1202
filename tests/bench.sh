#!/usr/bin/env bash
# Benchmarks RustWebSocketPeer against the engine's WebSocketPeer in the same
# Godot binary and run, plus the Rust floor/ceiling, and writes
# docs/benchmarks.md and docs/benchmarks.png.
# Then the frame-driven benchmarks (frames.gd): the same classes polled by the
# SceneTree once a frame, as games run them, and the bound (a no-I/O peer).
# Usage: tests/bench.sh [RUNS=3] [SECONDS=2] [LINKS=10000]
#   BENCH_PARTS=tight|frames runs one half only; BENCH_PARTS=broadcast runs
#   the broadcast benchmark alone (one message to 1,000 clients a frame:
#   RustWebSocketServer, the engine's WebSocketPeer loop, the socket floor)
set -euo pipefail
runs=${1:-3}
seconds=${2:-2}
links=${3:-10000}
root=$(cd "$(dirname "$0")/.." && pwd)
godot=${GODOT:-$(command -v godot || true)}
[ -n "$godot" ] || { echo "bench.sh needs Godot: set \$GODOT or put godot on PATH" >&2; exit 1; }
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

project=$root/tests/.tmp/bench
rm -rf "$project"
mkdir -p "$project/certs"
printf 'config_version=5\n\n[application]\nconfig/name="bench"\n' > "$project/project.godot"
ADDON_FEATURES=bench "$root/rust/build_addon.sh" "$project" >/dev/null
cp "$root"/tests/bench/*.gd "$project/"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=localhost" \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -addext "basicConstraints=critical,CA:FALSE" \
  -keyout "$project/certs/key.pem" -out "$project/certs/cert.pem" 2>/dev/null

results=$project/results.jsonl
: > "$results"
(cd "$root" && cargo build --release -q -p rustws-core --example floor --example tls_sender)
# One Godot process running bench.gd; extra environment as arguments.
bench() {
  env WS_TEST_CERT="$project/certs/cert.pem" WS_TEST_KEY="$project/certs/key.pem" \
    BENCH_TLS_SENDER="$root/target/release/examples/tls_sender" "$@" \
    "$godot" --headless --path "$project" --script res://bench.gd -- "$seconds" "$links" | tee -a "$results" | grep '^{' >&2
}
# One frame-driven measurement: frames WORKLOAD CLASS MODE PARAM.
frames() {
  "$godot" --headless --path "$project" --script res://frames.gd -- "$@" "$seconds" |
    tee -a "$results" | grep '^{' >&2
}
# Each configuration runs every class in turn, so drift over the run
# touches them alike.
frame_runs() {
  local mp="WebSocketMultiplayerPeer RustWebSocketMultiplayerPeer RustLoopbackMultiplayerPeer"
  for mode in capped uncapped; do
    for w in 1 8 1024 8192; do
      for cls in $mp; do frames rpc "$cls" "$mode" "$w"; done
    done
    for cls in $mp; do frames sync "$cls" "$mode" 200; done
    for cls in $mp; do frames broadcast "$cls" "$mode" 100; done
    for k in 1 8 64; do
      for cls in WebSocketPeer RustWebSocketPeer; do frames peer "$cls" "$mode" "$k"; done
    done
  done
}
parts=${BENCH_PARTS:-tight frames}
if [[ " $parts " == *" broadcast "* ]]; then
  (cd "$root" && cargo build --release -q -p rustws-core --example broadcast_floor)
  for i in $(seq "$runs"); do
    "$godot" --headless --path "$project" --script res://broadcast.gd -- 1000 300 32 | grep '^{'
    "$root/target/release/examples/broadcast_floor" 1000 300 32
  done
  exit 0
fi
memory="many_links,mp_idle,compression_memory"
for i in $(seq "$runs"); do
  if [[ " $parts " == *" frames "* ]]; then
    echo "run $i/$runs: frame-driven" >&2
    frame_runs
  fi
  [[ " $parts " == *" tight "* ]] || continue
  echo "run $i/$runs" >&2
  bench BENCH_SKIP="$memory"
  # Memory is the growth of a fresh process: one process per class (and
  # per compression setting), so no benchmark reuses memory another freed.
  for cls in WebSocketPeer RustWebSocketPeer; do
    bench BENCH_ONLY=many_links BENCH_CLASS=$cls
  done
  for cls in WebSocketMultiplayerPeer RustWebSocketMultiplayerPeer; do
    bench BENCH_ONLY=mp_idle BENCH_CLASS=$cls
  done
  for setting in off takeover no_takeover; do
    bench BENCH_ONLY=compression_memory BENCH_SETTING=$setting
  done
  "$root/target/release/examples/floor" "$seconds" >> "$results"
done
machine="$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(uname -sr)"
version=$("$godot" --version | head -n 1)
mkdir -p "$root/docs"
python3 "$root/tests/bench/report.py" "$results" "$machine" "Godot $version" "$root/docs"
cat "$root/docs/benchmarks.md"
