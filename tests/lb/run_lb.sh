#!/usr/bin/env bash
# Many game servers behind a real load balancer: HAProxy (tests/lb/haproxy.cfg,
# the configuration the README shows) in front of three headless Godot
# processes running the RustWebSocketServer node, with the PROXY protocol v2
# and health checks on the game port, and CLIENTS RustWebSocketClient nodes
# connecting through it. Draining, killing and restarting servers; see
# lb_run.py for the checks. Prints every figure and one result line.
# Usage: tests/lb/run_lb.sh [PROJECT_DIR GODOT] [-- lb_run.py options]
#   Without a project: builds the addon and a project in tests/.tmp/project-lb,
#   run on $GODOT (else godot on PATH).
# HAProxy: $HAPROXY, else haproxy on PATH or in /usr/sbin. With
# "-- --balancer nginx": nginx (tests/lb/nginx.conf, http mode with
# X-Forwarded-For, the drain only), $NGINX, else nginx on PATH or in
# /usr/sbin. With CI set, a missing balancer or Godot fails the test;
# otherwise it is skipped.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
source "$root/tests/lib.sh"
ulimit -n 16384 2>/dev/null || ulimit -n "$(ulimit -Hn)"

skip() {
  if [ -n "${CI:-}" ]; then echo "FAILED: $1 (CI must run the load balancer test)"; echo "lb: 0 passed, 1 failed"; exit 1; fi
  echo "SKIPPED: $1"; exit 0
}

if [[ " $* " == *" --balancer nginx "* ]]; then
  nginx=${NGINX:-$(command -v nginx || true)}
  [ -z "$nginx" ] && [ -x /usr/sbin/nginx ] && nginx=/usr/sbin/nginx
  [ -n "$nginx" ] && [ -x "$nginx" ] || skip "no nginx (Debian package nginx; .ci/run installs it)"
  set -- "$@" --nginx "$nginx"
else
  haproxy=${HAPROXY:-$(command -v haproxy || true)}
  [ -z "$haproxy" ] && [ -x /usr/sbin/haproxy ] && haproxy=/usr/sbin/haproxy
  [ -n "$haproxy" ] && [ -x "$haproxy" ] || skip "no HAProxy (Debian package haproxy; .ci/run installs it)"
fi

project="" godot=""
if [ $# -ge 2 ] && [ "$1" != "--" ]; then project=$1 godot=$2; shift 2; fi
[ "${1:-}" = "--" ] && shift
if [ -z "$project" ]; then
  godot=${GODOT:-$(command -v godot || true)}
  [ -n "$godot" ] && [ -x "$godot" ] || skip "no Godot binary: set \$GODOT or put godot on PATH"
  source "$root/tests/godot/projects.sh"
  addon=$("$root/rust/build_addon.sh" "$root/tests/.tmp/addon-build" --no-register) || exit 1
  project=$root/tests/.tmp/project-lb
  rm -rf "$project"; mkdir -p "$project"
  write_project_file "$project" "Load balancer test"
  install_addon "$addon" "$project"
  open_project "$project" "$godot" || exit 1
fi
[ -x "$godot" ] || skip "no Godot binary ($godot)"
cp "$here"/lb_*.gd "$project/"
exec python3 "$here/lb_run.py" "$project" "$godot" "$@"
