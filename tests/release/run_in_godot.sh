#!/usr/bin/env bash
# Unzips a release zip into a fresh project, exactly as a user would, opens
# it (in the editor, when GODOT is an editor build) and runs the API-parity
# test there: the Linux library from the zip loads in Godot and registers
# both classes with the engine's API.
# Usage: tests/release/run_in_godot.sh ZIP GODOT
set -uo pipefail
zip_file=$1
godot=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
source "$root/tests/lib.sh"
source "$root/tests/godot/projects.sh"
project=$root/tests/.tmp/release-project
rm -rf "$project"
mkdir -p "$project/tests"
write_project_file "$project" "release check"
(cd "$project" && unzip -q "$zip_file") || { echo "release in Godot: 0 passed, 1 failed"; exit 1; }
cp "$root/tests/godot/runner.gd" "$root/tests/godot/test_api_parity.gd" "$project/tests/"
open_project "$project" "$godot" || exit 1
bash "$root/tests/godot/run_suite.sh" "$project" "$godot" 120
