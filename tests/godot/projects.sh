# The Godot projects tests/run.sh runs its GDScript tests in (sourced, not
# run; needs tests/lib.sh). Each is made fresh, gets the addon folder copied
# in as a user unzips it, and is opened once in the editor (when the Godot
# is an editor build), which registers the extension; that opening must
# print no error of ours.

# Opens project $1 as a user would, in Godot $2: in the editor when it is
# an editor build (and checks what the editor did), else by writing the
# extension list the editor would write.
open_project() {
  local project=$1 godot=$2
  if ! is_editor_build "$godot"; then
    mkdir -p "$project/.godot"
    echo "res://addons/rust_websocket/websocket.gdextension" > "$project/.godot/extension_list.cfg"
    echo "(not an editor build: wrote .godot/extension_list.cfg as the editor would)"
    return 0
  fi
  local log=$project/.editor-import.log ok=0
  open_in_editor "$project" "$godot" "$log" || { echo "the editor failed to open $project:"; tail -20 "$log"; ok=1; }
  grep -qx "res://addons/rust_websocket/websocket.gdextension" "$project/.godot/extension_list.cfg" 2>/dev/null ||
    { echo "the editor did not register the extension in .godot/extension_list.cfg"; ok=1; }
  local errors
  errors=$(errors_in "$log")
  if [ -n "$errors" ]; then
    echo "the editor printed errors while opening the project:"; echo "$errors"; ok=1
  fi
  [ $ok -eq 0 ] && echo "opened in the editor: extension registered, no errors printed"
  return $ok
}

# Whether editor $1 loads a new extension only after its first scan of the
# project's scripts (4.3): a script naming our classes then fails to compile
# on that first opening ("Native class ... not found"). The README's install
# step for it: open the project once with the addon alone, then add such
# scripts (first_opening does exactly that).
loads_extension_after_scan() {
  [[ $(godot_version "$1") == 4.3.* ]]
}

# first_opening PROJECT GODOT SCRIPTS...: the project's first opening as the
# README says for this Godot. On a 4.3 editor: the given scripts (files or
# folders of PROJECT naming our classes) are moved out, the project opened
# with the addon alone, the scripts put back and the project opened again;
# both openings must print no error. Elsewhere: opened once, scripts in.
first_opening() {
  local project=$1 godot=$2
  shift 2
  if ! is_editor_build "$godot" || ! loads_extension_after_scan "$godot"; then
    open_project "$project" "$godot"
    return
  fi
  local aside=$project.scripts-aside item
  rm -rf "$aside"; mkdir -p "$aside"
  for item in "$@"; do mv "$project/$item" "$aside/"; done
  echo "4.3 editor: opening the project with the addon alone first (README's install step)"
  open_project "$project" "$godot" || return 1
  for item in "$@"; do mv "$aside/$(basename "$item")" "$project/$item"; done
  rmdir "$aside"
  echo "4.3 editor: the scripts added, opening the project again"
  open_project "$project" "$godot"
}

# A project.godot for a test project named $2 in folder $1.
write_project_file() {
  cat > "$1/project.godot" <<PROJECT
config_version=5

[application]
config/name="$2"
run/flush_stdout_on_print=true
PROJECT
}

# new_test_project DEST ADDON GODOT: the GDScript tests' project, with a
# TLS certificate for 127.0.0.1 and localhost in res://certs/.
new_test_project() {
  local dest=$1
  rm -rf "$dest"
  mkdir -p "$dest/tests" "$dest/certs"
  write_project_file "$dest" "RustWebSocketPeer tests"
  install_addon "$2" "$dest"
  cp "$root"/tests/godot/*.gd "$dest/tests/"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -addext "basicConstraints=critical,CA:FALSE" \
    -keyout "$dest/certs/key.pem" -out "$dest/certs/cert.pem" 2>/dev/null || return 1
  pinning_certificates "$dest/certs" || return 1
  first_opening "$dest" "$3" tests
}

# pinning_certificates DIR: two CAs (ca_a.pem, ca_b.pem) and a server
# certificate for game.example signed by CA A (game.pem, game_key.pem), for
# the tests of a pinned chain on a server reached by address.
pinning_certificates() {
  local d=$1
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=Test CA A" \
    -addext "basicConstraints=critical,CA:TRUE" -keyout "$d/ca_a_key.pem" -out "$d/ca_a.pem" 2>/dev/null &&
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=Test CA B" \
    -addext "basicConstraints=critical,CA:TRUE" -keyout "$d/ca_b_key.pem" -out "$d/ca_b.pem" 2>/dev/null &&
  openssl req -newkey rsa:2048 -nodes -subj "/CN=game.example" \
    -keyout "$d/game_key.pem" -out "$d/game.csr" 2>/dev/null &&
  printf 'subjectAltName=DNS:game.example\nbasicConstraints=critical,CA:FALSE\n' > "$d/game.ext" &&
  openssl x509 -req -in "$d/game.csr" -CA "$d/ca_a.pem" -CAkey "$d/ca_a_key.pem" -CAcreateserial \
    -days 2 -extfile "$d/game.ext" -out "$d/game.pem" 2>/dev/null
}

# new_demo_project DEST ADDON GODOT: godot-project/ as in the repository
# (no .godot folder), the addon copied in, and the demo tests.
new_demo_project() {
  local dest=$1
  rm -rf "$dest"
  mkdir -p "$dest"
  (cd "$root/godot-project" && tar --exclude=.godot --exclude=addons/rust_websocket -cf - .) | (cd "$dest" && tar -xf -)
  install_addon "$2" "$dest"
  mkdir -p "$dest/tests"
  cp "$root/tests/godot/runner.gd" "$root"/tests/demo/*.gd "$dest/tests/"
  sed -i 's/^\[application\]$/[application]\nrun\/flush_stdout_on_print=true/' "$dest/project.godot"
  open_project "$dest" "$3"
}

# without_extension SRC DEST: a copy of project SRC whose extension is not
# loaded (its extension_list.cfg entry removed), as on a platform the addon
# has no library for.
without_extension() {
  rm -rf "$2"
  cp -r "$1" "$2"
  sed -i '\#res://addons/rust_websocket/websocket.gdextension#d' "$2/.godot/extension_list.cfg"
}

# windows_project SRC DEST ZIP: a copy of project SRC with the addon folder
# from the release zip (the Windows library a Windows user loads).
windows_project() {
  rm -rf "$2"
  cp -r "$1" "$2"
  rm -rf "$2/addons/rust_websocket"
  (cd "$2" && unzip -q "$3")
}

# run_suite VERSION PART PROJECT GODOT TIMEOUT: the GDScript tests of
# PROJECT, recorded as PART of VERSION.
run_suite() {
  local started=$SECONDS result=passed
  RUST_WEBSOCKET_LOG=info bash "$root/tests/godot/run_suite.sh" "$3" "$4" "$5" || { result=FAILED; status=1; }
  local counts
  counts=$(grep -aE '^[0-9]+ passed, [0-9]+ failed' "$3/.test-output.log" | tail -n 1 | tr -d '\r')
  record "$1" "$2" "$result" "${counts:-no summary}, $((SECONDS - started)) s"
}
