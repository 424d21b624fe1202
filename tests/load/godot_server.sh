# Sourced by the load and browser tests: start_echo_server PROJECT GODOT
# LINKS LIMIT_SECONDS starts tests/load/load_server.gd headless in PROJECT
# and sets `server` (its pid), `out` (its output file) and `port`; it returns
# non-zero (after printing the output) if no port was announced.
start_echo_server() {
  local project=$1 godot=$2 links=$3 limit=$4
  cp "$(dirname "${BASH_SOURCE[0]}")/load_server.gd" "$project/load_server.gd"
  out=$(mktemp)
  "$godot" --headless --path "$project" --script res://load_server.gd -- "$links" "$limit" > "$out" 2>&1 &
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
