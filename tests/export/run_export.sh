#!/usr/bin/env bash
# An exported game, as a user's release build: the demo project (already
# opened in the editor) exported for Linux by the editor, headless, with
# the debug template as its custom template; then the exported executable
# runs the client-and-server scene until it exchanged messages
# (export_check.gd). This checks the .gdextension's library entries, the
# copy of the library next to the executable, and its loading there.
# Usage: tests/export/run_export.sh DEMO_PROJECT EDITOR TEMPLATE
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
source "$root/tests/lib.sh"
project=$root/tests/.tmp/export-project
out=$root/tests/.tmp/export-out
rm -rf "$project" "$out"
cp -r "$1" "$project"
mkdir -p "$out" "$project/tests"
cp "$root/tests/export/export_check.gd" "$project/tests/"
cat > "$project/export_presets.cfg" <<PRESETS
[preset.0]

name="Linux"
platform="Linux"
runnable=true
dedicated_server=false
custom_features=""
export_filter="all_resources"
include_filter=""
exclude_filter=""
export_path=""
encrypt_pck=false
encrypt_directory=false
script_export_mode=2

[preset.0.options]

custom_template/debug="$3"
custom_template/release=""
debug/export_console_wrapper=0
binary_format/embed_pck=false
binary_format/architecture="x86_64"
texture_format/s3tc_bptc=true
texture_format/etc2_astc=false
PRESETS
home=$root/tests/.tmp/editor-home
XDG_CONFIG_HOME=$home/config XDG_DATA_HOME=$home/data XDG_CACHE_HOME=$home/cache \
  timeout 300 "$2" --headless --path "$project" --export-debug Linux "$out/demo.x86_64" > "$out/export.log" 2>&1
status=$?
ls -l "$out"
fail() { echo "$1"; echo "exported game: 0 passed, 1 failed"; exit 1; }
[ $status -eq 0 ] || { tail -30 "$out/export.log"; fail "the export failed (exit status $status)"; }
errors=$(errors_in "$out/export.log")
[ -z "$errors" ] || { echo "$errors"; fail "the export printed errors"; }
[ -x "$out/demo.x86_64" ] && [ -f "$out/demo.pck" ] || fail "the export wrote no executable and pack"
[ -f "$out/librust_websocket.linux.x86_64.so" ] || fail "the library was not copied next to the executable"
# Run from elsewhere, as a player would: nothing of the project around it.
(cd / && timeout 120 "$out/demo.x86_64" --headless --script res://tests/export_check.gd) > "$out/run.log" 2>&1
status=$?
cat "$out/run.log" | grep -E "^exported game|timed out"
errors=$(errors_in "$out/run.log")
[ -z "$errors" ] || { echo "$errors"; fail "the exported game printed errors"; }
[ $status -eq 0 ] && grep -q "^exported game: peers are RustWebSocketPeer" "$out/run.log"
