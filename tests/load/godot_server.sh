# Sourced by the load, browser and client tests.
# start_server_script PROJECT GODOT SCRIPT ARGS... copies tests/load/SCRIPT
# (and server_base.gd, which it extends) into PROJECT, runs it headless with ARGS after "--" and sets `server` (its
# pid), `out` (its output file) and `port` (from its "PORT <n>" line); it
# returns non-zero (after printing the output) if no port was announced.
start_server_script() {
  local project=$1 godot=$2 script=$3
  shift 3
  local here
  here=$(dirname "${BASH_SOURCE[0]}")
  cp "$here/$script" "$here/server_base.gd" "$project/"
  out=$(mktemp)
  "$godot" --headless --path "$project" --script "res://$script" -- "$@" > "$out" 2>&1 &
  server=$!
  port=""
  for _ in $(seq 200); do
    port=$(sed -n 's/^PORT \([0-9]*\)$/\1/p' "$out")
    [ -n "$port" ] && return 0
    sleep 0.1
  done
  cat "$out"
  kill "$server" 2>/dev/null
  return 1
}

# start_echo_server PROJECT GODOT LINKS LIMIT_SECONDS [compress]: the echo
# server of tests/load/load_server.gd (RustWebSocketPeer behind Godot's
# TCPServer).
start_echo_server() {
  local project=$1 godot=$2
  shift 2
  start_server_script "$project" "$godot" load_server.gd "$@"
}
