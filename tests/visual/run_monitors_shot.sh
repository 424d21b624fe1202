#!/usr/bin/env bash
# The README's picture of the editor's Monitors tab: the editor (Xvfb,
# Mesa's software OpenGL) runs the multiplayer demo with the project setting
# network/rust_websocket/performance_monitors on, and a test-only editor
# plugin (monitors_shot.gd) ticks our monitors and saves the window to
# docs/screenshots/monitors.png. Needs what run_visual.sh needs.
# Usage: tests/visual/run_monitors_shot.sh DEMO_PROJECT_DIR GODOT_EDITOR
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
command -v xvfb-run >/dev/null || { echo "SKIPPED: monitors picture (no xvfb-run)"; exit 0; }
project=$root/tests/.tmp/monitors-project
rm -rf "$project"
cp -r "$1" "$project"
rm -rf "$project/tests"
mkdir -p "$project/addons/monitors_shot"
cp "$root/tests/visual/monitors_shot.gd" "$project/addons/monitors_shot/"
printf '[plugin]\n\nname="monitors_shot"\ndescription=""\nauthor=""\nversion="1"\nscript="monitors_shot.gd"\n' > "$project/addons/monitors_shot/plugin.cfg"
printf '\n[editor_plugins]\n\nenabled=PackedStringArray("res://addons/monitors_shot/plugin.cfg")\n\n[network]\n\nrust_websocket/performance_monitors=true\n' >> "$project/project.godot"
home=$root/tests/.tmp/monitors-home
out=$root/tests/.tmp/monitors.png
rm -f "$out"
(cd "$project" && MONSHOT_OUT=$out XDG_CONFIG_HOME=$home/config XDG_DATA_HOME=$home/data XDG_CACHE_HOME=$home/cache \
  LIBGL_ALWAYS_SOFTWARE=1 timeout 240 xvfb-run -a -s "-screen 0 1280x900x24" "$2" --editor --path . \
  --display-driver x11 --rendering-driver opengl3 > "$project/editor.log" 2>&1)
[ -f "$out" ] || { echo "no picture; the editor's output:"; tail -30 "$project/editor.log"; exit 1; }
mkdir -p "$root/docs/screenshots"
cp "$out" "$root/docs/screenshots/monitors.png"
echo "docs/screenshots/monitors.png"
