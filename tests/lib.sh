# Shell helpers the test scripts share (sourced, not run): telling Godot
# builds apart, running a Windows Godot under Wine, laying out and opening
# test projects, and the per-version result lines.
# Expects $root (the repository) to be set by the script that sources it.

# True for a Godot editor build (it can open the editor, import, export).
is_editor_build() {
  # Read whole first: with pipefail, grep -q's early exit would fail the pipe.
  local help
  help=$("$1" --headless --help 2>/dev/null | sed 's/\x1b\[[0-9;]*m//g')
  [[ $help == *"this build = editor"* ]]
}

# True for a Windows Godot (run under Wine here).
is_windows_build() {
  [[ $1 == *.exe ]]
}

# "4.4.1.stable" from a Godot binary (Windows builds under Wine too).
godot_version() {
  local out
  if is_windows_build "$1"; then
    out=$(godot_under_wine "$1" 60 --headless --version 2>/dev/null)
  else
    out=$(timeout 60 "$1" --headless --version 2>/dev/null)
  fi
  echo "$out" | tr -d '\r' | grep -oE '^[0-9]+\.[0-9]+(\.[0-9]+)?\.[a-z0-9]+' | tail -n 1
}

# The Wine prefix every Windows run shares, set up once, with one
# wineserver kept up for the whole test run (a program started while the
# last one's server shuts down fails with "wine client error").
wine_up() {
  export WINEDEBUG=-all WINEPREFIX=${WINEPREFIX:-$root/tests/.tmp/wine}
  if [ -z "${WINE_IS_UP:-}" ]; then
    wineboot -i >/dev/null 2>&1
    wineserver -p
    export WINE_IS_UP=1
  fi
}

# Builds the ProcessPrng stand-in (Wine has no bcryptprimitives.dll, which
# Rust's standard library needs) into folder $1.
wine_shim() {
  [ -f "$1/bcryptprimitives.dll" ] ||
    x86_64-w64-mingw32-gcc -shared -O2 -o "$1/bcryptprimitives.dll" \
      "$root/tests/windows/bcryptprimitives_shim.c" -ladvapi32
}

# Runs a Windows Godot under Wine: godot_under_wine EXE TIMEOUT ARGS...
# The executable is copied next to the shim DLL once.
godot_under_wine() {
  local exe=$1 limit=$2
  shift 2
  wine_up
  local dir=$root/tests/.tmp/wine-godot
  mkdir -p "$dir"
  local copy=$dir/$(basename "$exe")
  [ "$copy" -nt "$exe" ] || cp "$exe" "$copy"
  wine_shim "$dir" || return 1
  timeout "$limit" wine "$copy" "$@"
}

# Copies the addon folder $1 (addons/rust_websocket as built) into project
# $2, as a user unzips it: no .godot folder, nothing registered.
install_addon() {
  mkdir -p "$2/addons"
  rm -rf "$2/addons/rust_websocket"
  cp -r "$1" "$2/addons/rust_websocket"
}

# Opens project $1 in editor $2 once, headless, as the README's install step
# says (the editor imports it, registers the extension in
# .godot/extension_list.cfg and writes the script class cache). The
# editor's output goes to $3. Settings and caches of this editor stay in
# tests/.tmp/editor-home.
open_in_editor() {
  local home=$root/tests/.tmp/editor-home
  mkdir -p "$home"
  XDG_CONFIG_HOME=$home/config XDG_DATA_HOME=$home/data XDG_CACHE_HOME=$home/cache \
    timeout 300 "$2" --headless --path "$1" --import > "$3" 2>&1
}

# Lines Godot prints that are this build's, not ours: the test builds have
# no fontconfig (and say so as an error), and the fallback text server.
build_noise='compiled without fontconfig|Some locales are not properly supported|^\s+at: (_load_system_fonts|_init|TextServer)'

# The error and warning lines of an output file that are not the build's.
errors_in() {
  tr -d '\r' < "$1" | grep -E '^(ERROR|WARNING|SCRIPT ERROR|USER ERROR|USER WARNING):' | grep -vE "$build_noise"
}

# One result of the run: record VERSION PART RESULT [DETAIL]
# (RESULT: passed, FAILED or SKIPPED). tests/run.sh prints them per version.
record() {
  printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "${4:-}" >> "$root/tests/.tmp/results.tsv"
}
