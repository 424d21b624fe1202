//! Engine-free WebSocket peer logic behind the Godot extension.
//!
//! Everything here is plain Rust and is tested with `cargo test`: URL parsing
//! ([`url`]), connecting on a bounded thread pool ([`dial`]), TLS with rustls
//! ([`tls`]), the HTTP upgrade on both sides ([`handshake`], [`opening`]) with
//! permessage-deflate negotiation ([`extension`]), the byte transport with its
//! outbound buffer ([`transport`]), frames to messages ([`inbound`],
//! [`deflate`]) on tungstenite's frame format, an open link's two directions
//! ([`connection`]), the inbound packet queue ([`queue`]), the peer state
//! machine that ties them together ([`peer`]) and the multiplayer star
//! network ([`multiplayer`]). The Godot layer only translates types.

pub mod connection;
pub mod deflate;
pub mod dial;
pub mod error;
pub mod extension;
#[doc(hidden)]
pub mod fuzz_support;
pub mod handshake;
pub mod inbound;
pub mod multiplayer;
pub mod opening;
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
