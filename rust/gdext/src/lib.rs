//! The Godot extension: registers `RustWebSocketPeer`,
//! `RustWebSocketMultiplayerPeer` and the `RustWebSocketClient` node, and
//! routes the Rust `log` records of the WebSocket core to Godot's output.
//!
//! Layout (see ARCHITECTURE.md at the repository's root):
//! - one folder per class: [`peer`], [`multiplayer`] and [`client`] (the
//!   class, its directly bound per-message calls, its state behind a lock);
//! - [`binding`]: the binding runtime, and the only module that uses
//!   godot-rust's private API;
//! - shared pieces: the link settings as properties ([`settings`]), the
//!   stream `accept_stream` takes ([`stream`]), `TLSOptions` arguments
//!   ([`tls_args`], [`certs`]), the default trust of clients ([`trust`]), Godot error codes and reports ([`errors`]),
//!   the raw packet buffers of `PacketPeer` ([`packets`]), and the logger
//!   ([`logger`]);
//! - with the `bench` feature only, a no-I/O multiplayer peer for the
//!   benchmarks (`bench_loopback`).

use godot::init::{gdextension, ExtensionLibrary, InitStage};

#[cfg(feature = "bench")]
mod bench_loopback;
mod binding;
mod certs;
mod client;
mod errors;
mod logger;
mod monitors;
mod multiplayer;
mod packets;
mod peer;
mod server;
mod settings;
mod stream;
mod tls_args;
mod trust;

struct RustWebSocketExtension;

// SAFETY: godot-rust's entry point; this is the library's only
// `ExtensionLibrary`, and its init only registers classes and calls of ours.
#[gdextension]
unsafe impl ExtensionLibrary for RustWebSocketExtension {
    fn on_stage_init(stage: InitStage) {
        if stage == InitStage::Scene {
            peer::flush::init_main_thread();
            logger::install();
            settings::read_engine_defaults();
            trust::install();
            peer::register_enums();
            client::register_enums();
            server::register_enums();
            peer::calls::register_all();
            multiplayer::calls::register_all();
            monitors::from_project_setting();
        }
    }

    fn on_stage_deinit(stage: InitStage) {
        if stage == InitStage::Scene {
            // The thread reading the default roots calls into the engine: it
            // ends before the engine does.
            rustws_core::finish_trust_read();
        }
    }
}

#[cfg(test)]
mod docs_check;
