#!/usr/bin/env bash
# The help pages as a user sees them in the editor: a copy of the (already
# opened) test project gets a test-only editor plugin (help_check.gd) that
# opens each class's page in the editor's help viewer and checks its text.
# Usage: tests/editor/run_help_check.sh PROJECT EDITOR
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
source "$root/tests/lib.sh"
project=$root/tests/.tmp/help-project
rm -rf "$project"
cp -r "$1" "$project"
mkdir -p "$project/addons/help_check"
cp "$root"/tests/editor/plugin.cfg "$root"/tests/editor/help_check.gd "$project/addons/help_check/"
printf '\n[editor_plugins]\n\nenabled=PackedStringArray("res://addons/help_check/plugin.cfg")\n' >> "$project/project.godot"
out=$project/help-check.txt
home=$root/tests/.tmp/editor-home
HELP_CHECK_OUT=$out XDG_CONFIG_HOME=$home/config XDG_DATA_HOME=$home/data XDG_CACHE_HOME=$home/cache \
  timeout 300 "$2" --headless --editor --path "$project" > "$project/editor.log" 2>&1
status=$?
if [ ! -f "$out" ]; then
  echo "the help check wrote no result (editor exit status $status):"; tail -30 "$project/editor.log"
  echo "help pages: 0 passed, 1 failed"
  exit 1
fi
cat "$out"
errors=$(errors_in "$project/editor.log")
[ -z "$errors" ] || { echo "the editor printed errors:"; echo "$errors"; exit 1; }
grep -q '^[0-9]* passed, 0 failed$' "$out"
