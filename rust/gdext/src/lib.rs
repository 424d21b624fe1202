//! The Godot extension: registers `RustWebSocketPeer` and
//! `RustWebSocketMultiplayerPeer`, and routes the Rust
//! `log` records of the WebSocket core to Godot's output.

use godot::init::{gdextension, ExtensionLibrary, InitStage};

mod certs;
mod errors;
mod logger;
mod multiplayer;
mod packets;
mod peer;
mod stream;

struct RustWebSocketExtension;

#[gdextension]
unsafe impl ExtensionLibrary for RustWebSocketExtension {
    fn on_stage_init(stage: InitStage) {
        if stage == InitStage::Scene {
            logger::install();
            peer::register_enums();
        }
    }
}

#[cfg(test)]
mod docs_check;
