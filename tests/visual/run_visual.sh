#!/usr/bin/env bash
# The demo as a user sees it: every scene of godot-project in a real window
# (Xvfb, Mesa's software OpenGL) at 960x600 and 640x480; fails when a
# visible button, text field or label is outside the window or squeezed, and
# saves screenshots (to docs/screenshots with --docs). Needs a Godot built
# with the X11 display server and the GL driver, and xvfb-run; skipped with
# one line otherwise.
# Usage: tests/visual/run_visual.sh DEMO_PROJECT_DIR GODOT [--docs]
set -uo pipefail
project=$1
godot=$2
docs=${3:-}
root=$(cd "$(dirname "$0")/../.." && pwd)
if ! command -v xvfb-run >/dev/null; then
  echo "SKIPPED: visual test (no xvfb-run; apt-get install xvfb)"
  exit 0
fi
out=$root/tests/.tmp/visual
rm -rf "$out"
mkdir -p "$out"
cp "$root/tests/visual/visual.gd" "$project/visual.gd"
# A Godot without a windowing display server exits at once with a message.
probe=$(timeout 60 xvfb-run -a -s "-screen 0 1280x1024x24" "$godot" --path "$project" --display-driver x11 \
  --rendering-driver opengl3 --quit 2>&1)
if echo "$probe" | grep -qiE "display driver .*not|Unable to create DisplayServer|Invalid display driver"; then
  echo "SKIPPED: visual test (this Godot has no X11 display server; build it with x11=yes opengl3=yes)"
  exit 0
fi
LIBGL_ALWAYS_SOFTWARE=1 timeout 300 xvfb-run -a -s "-screen 0 1280x1024x24" "$godot" --path "$project" \
  --display-driver x11 --rendering-driver opengl3 --script res://visual.gd -- "$out" 2>&1 | grep -vE "^\s*(at:|GDScript backtrace|\[[0-9]+\])" 
status=${PIPESTATUS[0]}
if [ "$docs" = "--docs" ] && [ "$status" -eq 0 ]; then
  mkdir -p "$root/docs/screenshots"
  cp "$out"/*.png "$root/docs/screenshots/"
fi
exit "$status"
