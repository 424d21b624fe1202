//! The Godot extension: registers `RustWebSocketPeer` and
//! `RustWebSocketMultiplayerPeer`, and routes the Rust
//! `log` records of the WebSocket core to Godot's output.

use godot::init::{gdextension, ExtensionLibrary, InitStage};

mod certs;
mod direct;
mod errors;
mod flush;
mod link;
mod logger;
mod multiplayer;
mod multiplayer_calls;
mod packets;
mod peer;
mod peer_calls;
mod shared;
mod stream;
mod tls_args;

struct RustWebSocketExtension;

#[gdextension]
unsafe impl ExtensionLibrary for RustWebSocketExtension {
    fn on_stage_init(stage: InitStage) {
        if stage == InitStage::Scene {
            flush::init_main_thread();
            logger::install();
            peer::register_enums();
            peer_calls::register_all();
            multiplayer_calls::register_all();
        }
    }
}

#[cfg(test)]
mod docs_check;
