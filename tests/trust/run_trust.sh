#!/usr/bin/env bash
# Which certificates a wss:// client trusts when the game names none, for
# the engine's classes and ours side by side (tests/trust/trust_check.gd),
# with a server certificate from a private CA that is:
#   1. in the system's bundle (a private mount namespace bind-mounts a
#      bundle with the CA over /etc/ssl/certs/ca-certificates.crt, the file
#      the engine reads first on Linux; the machine's own file is untouched):
#      every client must open;
#   2. in the bundle the project names (network/tls/certificate_bundle_override):
#      every client must open;
#   3. nowhere: every client must be refused.
# With a Windows Godot and project (the Windows library in it) as third and
# fourth arguments, cases 1 and 3 run in it too, under Wine, whose
# certificate store takes the host's bundle: the Windows library reads the
# Windows store as the engine does.
# Usage: tests/trust/run_trust.sh PROJECT GODOT [WINDOWS_GODOT WINDOWS_PROJECT]
set -uo pipefail
project=$1
godot=$2
windows_godot=${3:-}
windows_project=${4:-}
root=$(cd "$(dirname "$0")/../.." && pwd)
source "$root/tests/lib.sh"
work=$root/tests/.tmp/trust
rm -rf "$work"
mkdir -p "$work"
system_bundle=/etc/ssl/certs/ca-certificates.crt

# A private CA and a certificate for localhost signed by it.
(cd "$work" &&
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=Test private CA" \
    -addext "basicConstraints=critical,CA:TRUE" -keyout ca.key -out ca.crt &&
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout server.key -out server.csr &&
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\n' > ext.cnf &&
  openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
    -extfile ext.cnf -out server.crt) > "$work/openssl.log" 2>&1 ||
  { cat "$work/openssl.log"; echo "trust: 0 passed, 1 failed"; exit 1; }

# trust_project NAME [OVERRIDE]: a copy of PROJECT with the server's
# certificate (and, with OVERRIDE, the CA named as the bundle override).
trust_project() {
  local dest=$work/$1
  cp -r "$project" "$dest"
  mkdir -p "$dest/trust"
  cp "$work/server.crt" "$work/server.key" "$work/ca.crt" "$dest/trust/"
  cp "$root/tests/trust/trust_check.gd" "$dest/"
  if [ -n "${2:-}" ]; then
    printf '\n[network]\n\ntls/certificate_bundle_override="res://trust/ca.crt"\n' >> "$dest/project.godot"
  fi
  echo "$dest"
}

status=0
# case NAME EXPECT PROJECT COMMAND...: runs trust_check.gd and reports.
case_() {
  local name=$1 expect=$2 dir=$3
  shift 3
  echo "-- $name (expect: $expect)"
  "$@" --headless --path "$dir" --script res://trust_check.gd -- "$expect" > "$work/$name.log" 2>&1
  local rc=$?
  grep -aE "^(ok |FAIL)" "$work/$name.log"
  if [ $rc -ne 0 ] || ! grep -aq "^trust: 1 passed" "$work/$name.log"; then
    tail -20 "$work/$name.log"; status=1
  fi
}

if [ "$(id -u)" -ne 0 ] || ! unshare -m true 2>/dev/null; then
  echo "the system-bundle case needs a private mount namespace (root and unshare)"
  status=1
else
  plain=$(trust_project plain)
  cat "$system_bundle" "$work/ca.crt" > "$work/bundle-with-ca.crt"
  case_ "CA in the system bundle" open "$plain" \
    unshare -m --propagation private sh -c \
      "mount --bind '$work/bundle-with-ca.crt' '$system_bundle' && exec timeout 120 \"\$0\" \"\$@\"" "$godot"
  if [ -n "$windows_godot" ]; then
    wplain=$work/windows
    cp -r "$windows_project" "$wplain"
    mkdir -p "$wplain/trust"
    cp "$work/server.crt" "$work/server.key" "$work/ca.crt" "$wplain/trust/"
    cp "$root/tests/trust/trust_check.gd" "$wplain/"
    wine_up
    # Each case in a fresh Wine session inside its own namespace, so Wine's
    # certificate store is read from the host's bundle of that case.
    wineserver -k 2>/dev/null
    for windows_case in "nowhere fail $system_bundle" "in-system-bundle open $work/bundle-with-ca.crt"; do
      read -r where expect bundle <<< "$windows_case"
      case_ "Windows library in Windows Godot (Wine), CA $where" "$expect" "$(winepath -w "$wplain")" \
        unshare -m --propagation private sh -c \
          "mount --bind '$bundle' '$system_bundle' && export WINEPREFIX='$WINEPREFIX' WINEDEBUG=-all && root='$root' && . '$root/tests/lib.sh' && godot_under_wine \"\$0\" 120 \"\$@\"; rc=\$?; wineserver -k; exit \$rc" "$windows_godot"
    done
  fi
  case_ "CA nowhere" fail "$plain" timeout 120 "$godot"
fi
override=$(trust_project override yes)
case_ "CA in the project's bundle override" open "$override" timeout 120 "$godot"

if [ $status -eq 0 ]; then echo "trust: 1 passed, 0 failed"; else echo "trust: 0 passed, 1 failed"; fi
exit $status
