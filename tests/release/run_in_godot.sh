#!/usr/bin/env bash
# Unzips a release zip into a fresh project, exactly as a user would, and
# runs the API-parity test there: the Linux library from the zip loads in
# Godot and registers both classes with the engine's API.
# Usage: tests/release/run_in_godot.sh ZIP GODOT
set -uo pipefail
zip_file=$1
godot=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
project=$root/tests/.tmp/release-project
rm -rf "$project"
mkdir -p "$project/tests" "$project/.godot"
printf 'config_version=5\n\n[application]\nconfig/name="release check"\n' > "$project/project.godot"
(cd "$project" && unzip -q "$zip_file") || { echo "release in Godot: 0 passed, 1 failed"; exit 1; }
# What the editor writes on the first open of the project.
echo "res://addons/rust_websocket/websocket.gdextension" > "$project/.godot/extension_list.cfg"
printf 'list = []\n' > "$project/.godot/global_script_class_cache.cfg"
cp "$root/tests/godot/runner.gd" "$root/tests/godot/error_capture.gd" "$root/tests/godot/test_api_parity.gd" "$project/tests/"
timeout 120 "$godot" --headless --path "$project" --script res://tests/runner.gd
