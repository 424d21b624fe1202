#!/usr/bin/env bash
# Runs the coverage-guided fuzz targets (cargo fuzz / libFuzzer) for a bounded
# time each: the frame reader (client_frames, server_upgrade), both sides'
# upgrade (server_upgrade, client_upgrade), the HTTP proxy's answer
# (proxy_answer), the permessage-deflate negotiation (extensions), the PROXY
# protocol header (proxy_header) and X-Forwarded-For / Forwarded (forwarded).
# Each starts from its seed corpus in rust/core/fuzz/corpus/<target>/ (kept
# in the repository; what a run finds goes to tests/.tmp/fuzz-corpus/, not
# into the repository) and from the saved regressions.
# Needs cargo-fuzz (`cargo install cargo-fuzz`); on a stable toolchain
# RUSTC_BOOTSTRAP=1 lets it use the sanitizer flags.
# Usage: tests/fuzz.sh [SECONDS_PER_TARGET]   (default 60)
# A crash fails the run and is saved under rust/core/fuzz/artifacts/<target>/;
# copy it into rust/core/fuzz/regressions/<target>/ so `cargo test` replays it
# forever.
set -euo pipefail
seconds=${1:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root/rust/core"
targets="server_upgrade client_frames client_upgrade proxy_answer extensions proxy_header forwarded"
RUSTC_BOOTSTRAP=1 cargo fuzz build >&2
for target in $targets; do
  work=$root/tests/.tmp/fuzz-corpus/$target
  mkdir -p "$work"
  seeds=(fuzz/corpus/$target)
  [ -d "fuzz/regressions/$target" ] && seeds+=(fuzz/regressions/$target)
  echo "== fuzzing $target for ${seconds}s"
  status=0
  RUSTC_BOOTSTRAP=1 cargo fuzz run "$target" "$work" "${seeds[@]}" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 -print_final_stats=1 > "$work.log" 2>&1 || status=$?
  grep -E "^(#[0-9]+.*DONE|Done [0-9]+ runs|==[0-9]+==|SUMMARY|thread .* panicked|Test unit written)" "$work.log" || true
  if [ "$status" -ne 0 ]; then
    tail -40 "$work.log"
    echo "fuzzing $target found a crash (see rust/core/fuzz/artifacts/$target/)"
    exit 1
  fi
done
