#!/usr/bin/env bash
# Runs the coverage-guided fuzz targets (cargo fuzz / libFuzzer) for a bounded
# time each. Needs cargo-fuzz (`cargo install cargo-fuzz`); on a stable
# toolchain RUSTC_BOOTSTRAP=1 lets it use the sanitizer flags.
# Usage: tests/fuzz.sh [SECONDS_PER_TARGET]   (default 60)
# A crash is saved under rust/core/fuzz/artifacts/<target>/; copy it into
# rust/core/fuzz/regressions/<target>/ so `cargo test` replays it forever.
set -euo pipefail
seconds=${1:-60}
cd "$(dirname "$0")/../rust/core"
for target in server_upgrade client_frames; do
  echo "== fuzzing $target for ${seconds}s"
  RUSTC_BOOTSTRAP=1 cargo fuzz run "$target" -- -max_total_time="$seconds" -rss_limit_mb=2048
done
