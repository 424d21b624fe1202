#!/usr/bin/env bash
# Prints the results tests/run.sh recorded: one line per Godot version (and
# one for the Rust side) with its parts' counts and the parts that failed or
# were skipped, with why; then each part with what it took.
# Usage: tests/godot/summary.sh RESULTS_TSV
set -uo pipefail
[ -f "$1" ] || exit 0
echo "Results:"
awk -F'\t' '
  !($1 in seen) { seen[$1] = 1; order[++n] = $1 }
  { count[$1, $3]++; if ($3 != "passed") notes[$1] = notes[$1] "\n    " $3 ": " $2 " (" $4 ")" }
  END {
    for (i = 1; i <= n; i++) {
      v = order[i]
      printf "  %-34s %d passed, %d failed, %d skipped%s\n", v ":", count[v, "passed"], count[v, "FAILED"], count[v, "SKIPPED"], notes[v]
    }
  }' "$1"
echo "Time per part:"
awk -F'\t' '{ printf "  %-34s %-50s %s\n", $1, $2, $4 }' "$1"
