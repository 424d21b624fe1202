#!/usr/bin/env bash
# Builds the extension for every desktop platform from Linux and writes
#   dist/rust_websocket-<version>.zip      addons/rust_websocket/ with
#       websocket.gdextension, bin/<one library per platform>, LICENSE,
#       README.md: unzip into a Godot project and it loads
#   dist/rust_websocket-<version>.sha256   SHA-256 of the zip and each library
# Needs: rustup targets x86_64-pc-windows-gnu, aarch64-unknown-linux-gnu,
# aarch64-apple-darwin, x86_64-apple-darwin; mingw-w64 (Windows linker);
# zig and cargo-zigbuild (Linux arm64 and macOS linkers); zip.
# Usage: rust/release.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
out=$root/dist
stage=$root/target/release-stage
rm -rf "$stage"
addon=$stage/addons/rust_websocket
mkdir -p "$addon/bin" "$out"

build() { echo "== $*" >&2; "$@" >&2; }
build cargo build --release -p rust-websocket
build cargo build --release -p rust-websocket --target x86_64-pc-windows-gnu
build cargo zigbuild --release -p rust-websocket --target aarch64-unknown-linux-gnu
build cargo zigbuild --release -p rust-websocket --target universal2-apple-darwin

cp target/release/librust_websocket.so "$addon/bin/librust_websocket.linux.x86_64.so"
cp target/aarch64-unknown-linux-gnu/release/librust_websocket.so "$addon/bin/librust_websocket.linux.arm64.so"
cp target/x86_64-pc-windows-gnu/release/rust_websocket.dll "$addon/bin/rust_websocket.windows.x86_64.dll"
cp target/universal2-apple-darwin/release/librust_websocket.dylib "$addon/bin/librust_websocket.macos.dylib"
cp websocket.gdextension LICENSE godot-project/addons/rust_websocket/*.gd "$addon/"
cat > "$addon/README.md" <<README
# RustWebSocketPeer $version

Godot 4.3+ extension: \`RustWebSocketPeer\` and
\`RustWebSocketMultiplayerPeer\`, drop-in replacements for the engine's
\`WebSocketPeer\` and \`WebSocketMultiplayerPeer\` written in Rust (same
API; rename the class), and \`RustWebSocketClient\`, a node with signals
that reconnects by itself. This folder goes in your project as
\`addons/rust_websocket/\` (unzip the release at the project's root). Open
the project in the editor once so it registers the extension (on Godot
4.3, before adding scripts that name these classes: its editor loads a new
extension only after its first scan of the scripts; if they are already
there, open the project a second time).

Libraries: Linux x86_64 and arm64, Windows x86_64, macOS (universal: Apple
silicon and Intel; not signed: if macOS refuses to load it, run
\`xattr -dr com.apple.quarantine addons/rust_websocket\` in the project).
Documentation: the editor's help (search RustWebSocketPeer) and the
project's README.

Web, Android and iOS: Godot exports games for them without this library.
To keep one script for every platform, make peers with \`websockets.gd\`
(\`const WebSockets = preload("res://addons/rust_websocket/websockets.gd")\`,
then \`WebSockets.new_peer()\`): a RustWebSocketPeer where the library is
loaded, the engine's WebSocketPeer elsewhere. \`WebSockets.new_client()\`
does the same for the client node (its stand-in, websocket_client.gd,
runs over the engine's WebSocketPeer).
README

zip_name=rust_websocket-$version.zip
rm -f "$out/$zip_name"
(cd "$stage" && zip -qr -X "$out/$zip_name" addons)
(cd "$out" && sha256sum "$zip_name" > "rust_websocket-$version.sha256")
(cd "$stage" && sha256sum addons/rust_websocket/bin/* >> "$out/rust_websocket-$version.sha256")
echo "$out/$zip_name"
