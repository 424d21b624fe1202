//! Engine-free WebSocket peer logic behind the Godot extension.
//!
//! Everything here is plain Rust and is tested with `cargo test`: URL parsing
//! ([`url`]), the HTTP upgrade on both sides ([`handshake`]), TLS with rustls
//! ([`tls`]), the byte transport with its outbound buffer ([`transport`]), the
//! inbound packet queue ([`queue`]) and the peer state machine that ties them to
//! tungstenite's framing ([`peer`]). The Godot layer only translates types.

pub mod dial;
pub mod error;
#[doc(hidden)]
pub mod fuzz_support;
pub mod handshake;
pub mod multiplayer;
pub mod peer;
pub mod private_dir;
pub mod queue;
pub mod readiness;
pub mod takeover;
pub mod tls;
pub mod transport;
pub mod url;

pub use error::{ErrorKind, WsError};
pub use peer::{Packet, Peer, PeerConfig, ReadyState};
pub use readiness::Socket;
pub use tls::TlsClientOptions;
pub use transport::Stream;
pub use tungstenite::Bytes;
