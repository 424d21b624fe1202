//! What the hub needs of one WebSocket link ([`Link`]), as the core's own
//! [`Peer`] provides it (the Godot layer provides it with its
//! `RustWebSocketPeer` objects), and the heartbeat multiplayer links use.

use crate::connection::Prepared;
use crate::error::WsError;
use crate::peer::{Peer, ReadyState};
use crate::queue::Packet;
use std::net::SocketAddr;
use std::time::Instant;
use tungstenite::Bytes;

/// Where a link's received messages go (the hub's queue of received
/// packets), one at a time while it has room.
pub trait Inbox {
    /// Whether one more message is taken now; when not, the rest stay in
    /// the link.
    fn has_room(&self) -> bool;
    /// Takes one message (`text`: it came in a text frame).
    fn take(&mut self, data: Bytes, text: bool);
}

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
    /// Sends one message, text (UTF-8) or binary.
    fn send_message(&mut self, data: &[u8], text: bool) -> Result<(), WsError>;
    /// Sends one binary message.
    fn send(&mut self, data: &[u8]) -> Result<(), WsError> {
        self.send_message(data, false)
    }
    /// Sends one message framed once for many links (see [`Prepared`]).
    fn send_prepared(&mut self, message: &Prepared) -> Result<(), WsError> {
        self.send_message(message.payload(), message.is_text())
    }
    /// The next received message, if any.
    fn pop(&mut self) -> Option<Packet>;
    /// Starts a clean close.
    fn close(&mut self);
    /// The remote address of the link.
    fn peer_addr(&self) -> Option<SocketAddr>;
    /// The real client behind a load balancer ([`Peer::client_addr`]); by
    /// default the remote address.
    fn client_addr(&self) -> Option<SocketAddr> {
        self.peer_addr()
    }
    /// Server, while opening: what the hub says of the link
    /// ([`Peer::set_admission`]).
    fn admit(&mut self, _hold_http: bool, _draining: bool) {}
    /// Server, while opening: a plain HTTP request waits for
    /// [`Link::answer_http`].
    fn http_waiting(&self) -> bool {
        false
    }
    /// The held plain HTTP request ([`Peer::http_request`]).
    fn http_request(&self) -> Option<crate::http_plain::HttpRequest> {
        None
    }
    /// Answers the held plain HTTP request ([`Peer::answer_http`]).
    fn answer_http(
        &mut self,
        _status: i64,
        _headers: &[String],
        _body: &[u8],
    ) -> Result<(), WsError> {
        Err(WsError::NotOpen)
    }
    /// Starts a clean close with this code and reason; by default
    /// [`Link::close`].
    fn close_with(&mut self, _code: i32, _reason: &str) {
        self.close();
    }
    /// Server side: the client's upgrade request is held and waits for the
    /// game's decision ([`crate::PeerConfig::hold_upgrade`]).
    fn upgrade_waiting(&self) -> bool {
        false
    }
    /// While opening: `false` when a poll would certainly do nothing now
    /// (nothing received, nothing to write, no decision to carry out), so
    /// the hub skips it; `true` when unsure. `now` is the caller's clock.
    fn may_have_input(&self, _now: Instant) -> bool {
        true
    }
    /// Polls, hands received messages to `inbox` while it has room, and
    /// returns the state after: one step for the hub's per-frame sweep (a
    /// link may do it cheaper than the separate calls).
    fn poll_drain(&mut self, inbox: &mut dyn Inbox) -> ReadyState {
        self.poll();
        while inbox.has_room() {
            let Some(data) = self.pop() else {
                break;
            };
            inbox.take(data.data, data.text);
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
    fn send_message(&mut self, data: &[u8], text: bool) -> Result<(), WsError> {
        Peer::send(self, data, text)
    }
    fn send_prepared(&mut self, message: &Prepared) -> Result<(), WsError> {
        Peer::send_prepared(self, message)
    }
    fn pop(&mut self) -> Option<Packet> {
        self.pop_packet()
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
    fn may_have_input(&self, now: Instant) -> bool {
        Peer::opening_may_have_input(self, now)
    }
    fn client_addr(&self) -> Option<SocketAddr> {
        Peer::client_addr(self)
    }
    fn admit(&mut self, hold_http: bool, draining: bool) {
        self.set_admission(hold_http, draining);
    }
    fn http_waiting(&self) -> bool {
        Peer::http_request(self).is_some()
    }
    fn http_request(&self) -> Option<crate::http_plain::HttpRequest> {
        Peer::http_request(self).cloned()
    }
    fn answer_http(&mut self, status: i64, headers: &[String], body: &[u8]) -> Result<(), WsError> {
        Peer::answer_http(self, status, headers, body)
    }
    fn close_with(&mut self, code: i32, reason: &str) {
        let _ = Peer::close(self, code, reason);
    }
}
