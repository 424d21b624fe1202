//! What the hub needs of one WebSocket link ([`Link`]), as the core's own
//! [`Peer`] provides it (the Godot layer provides it with its
//! `RustWebSocketPeer` objects), and the heartbeat multiplayer links use.

use crate::error::WsError;
use crate::peer::{Peer, ReadyState};
use std::net::SocketAddr;
use tungstenite::Bytes;

/// Default heartbeat of a multiplayer link, in seconds (the class's
/// `heartbeat_interval`). The engine's class sends none, so its links to a
/// vanished peer (a half-open connection, a crashed client) stay until TCP
/// gives up; pings are answered by every WebSocket peer, the engine's
/// included.
pub const LINK_HEARTBEAT_SECONDS: f64 = 10.0;

/// Default of the pings a multiplayer link may leave unanswered in a row
/// (the class's `heartbeat_misses`): with [`LINK_HEARTBEAT_SECONDS`], a peer
/// that stops polling for up to 70 s (a level load, a shader compile, a phone
/// in the background) keeps its link, and one that vanished is dropped
/// within 80 s.
pub const LINK_HEARTBEAT_MISSES: u32 = 7;

/// What the hub needs of one WebSocket link.
pub trait Link {
    /// Advances the link (handshake, reads, writes); reports its own errors.
    fn poll(&mut self);
    /// The link's ready state.
    fn state(&self) -> ReadyState;
    /// Sends one binary message.
    fn send(&mut self, data: &[u8]) -> Result<(), WsError>;
    /// The next received message, if any.
    fn pop(&mut self) -> Option<Bytes>;
    /// Starts a clean close.
    fn close(&mut self);
    /// The remote address of the link.
    fn peer_addr(&self) -> Option<SocketAddr>;
    /// Server side: the client's upgrade request is held and waits for the
    /// game's decision ([`crate::PeerConfig::hold_upgrade`]).
    fn upgrade_waiting(&self) -> bool {
        false
    }
    /// Polls, hands every received message to `out`, and returns the state
    /// after: one step for the hub's per-frame sweep (a link may do it
    /// cheaper than the three calls).
    fn poll_drain(&mut self, out: &mut dyn FnMut(Bytes)) -> ReadyState {
        self.poll();
        while let Some(data) = self.pop() {
            out(data);
        }
        self.state()
    }
}

impl Link for Peer {
    fn poll(&mut self) {
        if let Some(e) = Peer::poll(self) {
            log::warn!("multiplayer link: {e}");
        }
    }
    fn state(&self) -> ReadyState {
        self.ready_state()
    }
    fn send(&mut self, data: &[u8]) -> Result<(), WsError> {
        Peer::send(self, data, false)
    }
    fn pop(&mut self) -> Option<Bytes> {
        self.pop_packet().map(|p| p.data)
    }
    fn close(&mut self) {
        let _ = Peer::close(self, 1000, "");
    }
    fn peer_addr(&self) -> Option<SocketAddr> {
        Peer::peer_addr(self)
    }
    fn upgrade_waiting(&self) -> bool {
        Peer::upgrade_waiting(self)
    }
}
