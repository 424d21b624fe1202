#!/usr/bin/env bash
# Builds the extension in release mode and lays out the addon folder
#   <dest>/addons/rust_websocket/{websocket.gdextension,bin/<library>,*.gd}
# (the GDScript files are the addon's own, kept in godot-project's copy of
# the folder), then registers it in <dest>/.godot/extension_list.cfg, as the
# editor does when it opens the project, so the project runs at once.
# Prints the addon folder.
# Usage: rust/build_addon.sh [DEST_PROJECT] [--no-register]
#   (default DEST_PROJECT: godot-project; --no-register: lay out only)
# $ADDON_FEATURES: cargo features to build with (tests/bench.sh: bench).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:-$root/godot-project}
register=${2:-}
mkdir -p "$dest"
dest=$(cd "$dest" && pwd)
cd "$root"
cargo build --release -p rust-websocket ${ADDON_FEATURES:+--features "$ADDON_FEATURES"} >&2

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) src=librust_websocket.so; lib=librust_websocket.linux.x86_64.so ;;
  Linux-aarch64) src=librust_websocket.so; lib=librust_websocket.linux.arm64.so ;;
  Darwin-*) src=librust_websocket.dylib; lib=librust_websocket.macos.dylib ;;
  MINGW*|MSYS*|CYGWIN*) src=rust_websocket.dll; lib=rust_websocket.windows.x86_64.dll ;;
  *) echo "build_addon.sh: unknown platform $(uname -s)-$(uname -m)" >&2; exit 1 ;;
esac

addon=$dest/addons/rust_websocket
scripts=$root/godot-project/addons/rust_websocket
mkdir -p "$addon/bin"
cp "$root/websocket.gdextension" "$addon/websocket.gdextension"
cp "$root/target/release/$src" "$addon/bin/$lib"
[ "$addon" -ef "$scripts" ] || cp "$scripts"/*.gd "$addon/"
if [ "$register" != "--no-register" ]; then
  # A template build of Godot loads the extensions listed here (the editor
  # writes it on import); write it so a project runs without an editor pass.
  mkdir -p "$dest/.godot"
  list=$dest/.godot/extension_list.cfg
  grep -qs "res://addons/rust_websocket/websocket.gdextension" "$list" ||
    echo "res://addons/rust_websocket/websocket.gdextension" >> "$list"
  # Without an editor pass there is no global class cache; an empty one keeps
  # Godot from printing an error about it.
  [ -f "$dest/.godot/global_script_class_cache.cfg" ] ||
    printf 'list = []\n' > "$dest/.godot/global_script_class_cache.cfg"
fi
echo "$addon"
