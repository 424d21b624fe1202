#!/usr/bin/env bash
# Runs every test, printing a line for each part it had to skip, and at the
# end one result line per Godot version (and for the Rust side).
#
# Always: the Rust tests and lints, the fuzz targets for a bounded time
# (FUZZ_SECONDS each, default 20), the core's tests built for Windows and
# run under Wine, the release zip (built for every platform and checked).
# With Godot, named by these variables (.ci/run sets them all):
#   GODOT          the Godot every test runs on (else `godot` on PATH). When
#                  it is an editor build, projects are opened in it first as
#                  the README's install step says, and the editor, help-page
#                  and export tests run.
#   GODOT_TEMPLATE its debug export template, for the export test
#   GODOT_EXTRA    further Godot builds (space-separated) that run the
#                  GDScript tests and the demo scenes
#   GODOT_EXTRA_EDITORS  editors of versions in GODOT_EXTRA: for such a
#                  version, fresh projects are opened in its editor (as the
#                  README's install steps for it say) and its help pages
#                  checked, and that version's tests run on those projects
#   GODOT_WINDOWS  a Windows Godot (.exe), run under Wine: the GDScript
#                  tests on the Windows library from the release zip
# With CI set, a missing Godot, template or Windows Godot fails the run.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
source tests/lib.sh
trap '[ -n "${WINE_IS_UP:-}" ] && wineserver -k 2>/dev/null' EXIT
tmp=$root/tests/.tmp
mkdir -p "$tmp"
rm -f "$tmp/results.tsv"
status=0
SECONDS=0
part() { echo; echo "== $1 (at ${SECONDS}s)"; part_started=$SECONDS; }
# done_part VERSION PART STATUS: records a part's result and its time.
done_part() {
  local result=passed
  [ "$3" -eq 0 ] || { result=FAILED; status=1; }
  record "$1" "$2" "$result" "$((SECONDS - part_started)) s"
}
# missing VERSION PART WHY: a part that cannot run here; under CI, a failure.
missing() {
  if [ -n "${CI:-}" ]; then
    echo "FAILED: $2 ($3; CI must run it)"; record "$1" "$2" FAILED "$3"; status=1
  else
    echo "SKIPPED: $2 ($3)"; record "$1" "$2" SKIPPED "$3"
  fi
}

part "Rust tests"
cargo test --workspace
done_part Rust "cargo test" $?

part "Rust lints: rustfmt and clippy (warnings are errors)"
cargo fmt --all --check && cargo clippy --workspace --all-targets --all-features -- -D warnings
done_part Rust "fmt and clippy" $?

part "Fuzzing: each parser for ${FUZZ_SECONDS:-20} s from the corpus in the repository"
if command -v cargo-fuzz >/dev/null; then
  bash tests/fuzz.sh "${FUZZ_SECONDS:-20}"
  done_part Rust "fuzzing" $?
else
  missing Rust "fuzzing" "needs cargo-fuzz (cargo install cargo-fuzz); .ci/run installs it"
fi

part "Windows: the core's tests under Wine"
bash tests/windows/run_wine.sh
done_part Rust "core tests under Wine" $?

part "Release zip for every platform"
zip_file=""
if command -v cargo-zigbuild >/dev/null && python3 -m ziglang version >/dev/null 2>&1 && command -v zip >/dev/null; then
  if zip_file=$(bash rust/release.sh 2> "$tmp/release.log" | tail -n 1); then
    python3 tests/release/check_release.py "$zip_file"
    done_part Rust "release zip" $?
  else
    tail -30 "$tmp/release.log"; zip_file=""
    done_part Rust "release zip" 1
  fi
else
  missing Rust "release zip" "needs cargo-zigbuild, pip's ziglang and zip; .ci/run installs them"
fi

godot=${GODOT:-$(command -v godot || true)}
if [ -z "$godot" ] || [ ! -x "$godot" ]; then
  missing Godot "Godot tests" "no Godot binary: set \$GODOT or put godot on PATH"
  bash tests/godot/summary.sh "$tmp/results.tsv"
  exit $status
fi
version=$(godot_version "$godot")

# The addon as built for this machine, then every project gets a copy.
part "Build the addon"
rm -rf "$tmp/addon-build"
addon=$("$root/rust/build_addon.sh" "$tmp/addon-build" --no-register)
done_part "$version" "build the addon" $?
[ -d "$addon" ] || { bash tests/godot/summary.sh "$tmp/results.tsv"; exit 1; }

source tests/godot/projects.sh

part "Godot $version: GDScript tests in a fresh project"
project=$tmp/project
new_test_project "$project" "$addon" "$godot"
done_part "$version" "project opened in the editor" $?
run_suite "$version" "GDScript tests" "$project" "$godot" 900

part "Godot $version: which certificates wss:// clients trust by default"
bash tests/trust/run_trust.sh "$project" "$godot"
done_part "$version" "default trust (system bundle, bundle override, none)" $?

part "Godot $version: the demo project (godot-project/), opened as a user would"
demo=$tmp/demo
new_demo_project "$demo" "$addon" "$godot"
done_part "$version" "demo project opened in the editor" $?
DEMO_EXPECT_NATIVE=1 run_suite "$version" "demo scenes" "$demo" "$godot" 600

part "Godot $version: the demo scenes without the extension (the engine's classes)"
bare=$tmp/demo-without-extension
without_extension "$demo" "$bare"
DEMO_EXPECT_NATIVE=0 run_suite "$version" "demo scenes without the extension" "$bare" "$godot" 600

if is_editor_build "$godot"; then
  part "Godot $version: help pages as the editor shows them"
  bash tests/editor/run_help_check.sh "$project" "$godot"
  done_part "$version" "help pages in the editor" $?

  part "Godot $version: the demo exported for Linux and run"
  if [ -n "${GODOT_TEMPLATE:-}" ] && [ -x "$GODOT_TEMPLATE" ]; then
    bash tests/export/run_export.sh "$demo" "$godot" "$GODOT_TEMPLATE"
    done_part "$version" "exported game" $?
  else
    missing "$version" "exported game" "no export template: set \$GODOT_TEMPLATE"
  fi
else
  missing "$version" "editor, help-page and export tests" "$godot is not an editor build"
fi

part "Godot $version: demo scenes in a real window (960x600 and 640x480)"
timeout 600 bash tests/visual/run_visual.sh "$demo" "$godot"
done_part "$version" "demo in a window" $?

part "Godot $version: load, 1000 concurrent links to one Godot process, and a burst of 1000"
timeout 900 bash tests/load/run_load.sh "$project" "$godot" 1000 5
done_part "$version" "load and burst" $?

part "Godot $version: HAProxy in front of three servers (the node, then the multiplayer class), 300 client nodes: drain, kill, restart"
# The servers and clients run on the export template when there is one (as
# a game's dedicated servers do), else on the Godot above.
lb_godot=$godot
[ -n "${GODOT_TEMPLATE:-}" ] && [ -x "$GODOT_TEMPLATE" ] && lb_godot=$GODOT_TEMPLATE
for lb_server in node multiplayer; do
  if [ -n "$(command -v haproxy || true)" ] || [ -x /usr/sbin/haproxy ]; then
    part_started=$SECONDS
    timeout 300 bash tests/lb/run_lb.sh "$project" "$lb_godot" -- --server $lb_server
    done_part "$version" "load balancer (HAProxy), servers: $lb_server" $?
  else
    missing "$version" "load balancer (HAProxy), servers: $lb_server" "needs haproxy (Debian package haproxy); .ci/run installs it"
  fi
done

part "Godot $version: nginx (http mode, X-Forwarded-For) in front of three servers, 60 client nodes: drain"
if [ -n "$(command -v nginx || true)" ] || [ -x /usr/sbin/nginx ]; then
  part_started=$SECONDS
  timeout 120 bash tests/lb/run_lb.sh "$project" "$lb_godot" -- --balancer nginx --clients 60
  done_part "$version" "load balancer (nginx)" $?
else
  missing "$version" "load balancer (nginx)" "needs nginx (Debian package nginx); .ci/run installs it"
fi

part "Godot $version: Python and Node clients against a Godot server"
timeout 300 bash tests/peers/run_against_godot.sh "$project" "$godot"
done_part "$version" "Python and Node clients" $?

part "Godot $version: headless Chromium's WebSocket against a Godot server"
timeout 300 bash tests/browser/run_browser.sh "$project" "$godot"
done_part "$version" "browser" $?

part "Godot $version: the release zip's Linux library"
if [ -n "$zip_file" ]; then
  timeout 300 bash tests/release/run_in_godot.sh "$zip_file" "$godot"
  done_part "$version" "release zip in Godot" $?
else
  missing "$version" "release zip in Godot" "no zip was built above"
fi

part "Godot $version: Autobahn TestSuite, both roles"
timeout 3000 bash tests/autobahn/run.sh "$project" "$godot"
done_part "$version" "Autobahn TestSuite" $?

for extra in ${GODOT_EXTRA:-}; do
  v=$(godot_version "$extra")
  x_project=$project x_demo=$demo x_bare=$bare x_editor=""
  for e in ${GODOT_EXTRA_EDITORS:-}; do
    [ "$(godot_version "$e")" = "$v" ] && x_editor=$e
  done
  if [ -n "$x_editor" ]; then
    # This version's editor: fresh projects opened in it as its user
    # would (README's install steps), its help pages, and the tests below
    # on those projects.
    part "Godot $v: a fresh project and the demo opened in its editor"
    x_project=$tmp/project-$v x_demo=$tmp/demo-$v x_bare=$tmp/demo-without-extension-$v
    new_test_project "$x_project" "$addon" "$x_editor"
    done_part "$v" "project opened in the editor" $?
    new_demo_project "$x_demo" "$addon" "$x_editor"
    done_part "$v" "demo project opened in the editor" $?
    without_extension "$x_demo" "$x_bare"
    part "Godot $v: help pages as its editor shows them"
    bash tests/editor/run_help_check.sh "$x_project" "$x_editor"
    done_part "$v" "help pages in the editor" $?
  fi
  part "Godot $v: GDScript tests"
  run_suite "$v" "GDScript tests" "$x_project" "$extra" 900
  part "Godot $v: which certificates wss:// clients trust by default"
  bash tests/trust/run_trust.sh "$x_project" "$extra"
  done_part "$v" "default trust (system bundle, bundle override, none)" $?
  part "Godot $v: HAProxy in front of three servers (the node), 300 client nodes: drain, kill, restart"
  if [ -n "$(command -v haproxy || true)" ] || [ -x /usr/sbin/haproxy ]; then
    timeout 300 bash tests/lb/run_lb.sh "$x_project" "$extra" -- --server node
    done_part "$v" "load balancer (HAProxy), servers: node" $?
  else
    missing "$v" "load balancer (HAProxy), servers: node" "needs haproxy (Debian package haproxy); .ci/run installs it"
  fi
  part "Godot $v: demo scenes, with and without the extension"
  DEMO_EXPECT_NATIVE=1 run_suite "$v" "demo scenes" "$x_demo" "$extra" 600
  DEMO_EXPECT_NATIVE=0 run_suite "$v" "demo scenes without the extension" "$x_bare" "$extra" 600
done

part "Windows Godot under Wine: GDScript tests on the Windows library"
if [ -z "${GODOT_WINDOWS:-}" ] || [ ! -f "$GODOT_WINDOWS" ]; then
  missing "Windows" "GDScript tests under Wine" "no Windows Godot: set \$GODOT_WINDOWS"
elif [ -z "$zip_file" ]; then
  missing "Windows" "GDScript tests under Wine" "no release zip with the Windows library"
else
  wv="$(godot_version "$GODOT_WINDOWS") Windows (Wine)"
  windows_project "$project" "$tmp/project-windows" "$zip_file"
  run_suite "$wv" "GDScript tests, Windows library" "$tmp/project-windows" "$GODOT_WINDOWS" 1200
  part "Windows Godot under Wine: which certificates wss:// clients trust by default"
  bash tests/trust/run_trust.sh "$project" "$godot" "$GODOT_WINDOWS" "$tmp/project-windows"
  done_part "$wv" "default trust (the Windows store, through Wine)" $?
fi

echo
echo "All tests done in ${SECONDS}s"
bash tests/godot/summary.sh "$tmp/results.tsv"
exit $status
