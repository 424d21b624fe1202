//! What one `RustWebSocketMultiplayerPeer` keeps behind its lock: the core's
//! [`Hub`] over links that are `RustWebSocketPeer` objects ([`Linked`]), the
//! settings new links get, and the packet handed to Godot.

use crate::binding::{Registry, Shared};
use crate::peer::state::{report, SharedState};
use crate::peer::RustWebSocketPeer;
use godot::classes::multiplayer_peer::TransferMode;
use godot::global::Error;
use godot::obj::Gd;
use rustws_core::{
    Bytes, HttpRequest, Hub, HubError, Inbox, Link, Packet, PeerConfig, Prepared, ReadyState,
    Status, WsError,
};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// The class's name, for what it prints.
pub(crate) const CLASS: &str = "RustWebSocketMultiplayerPeer";

/// A link of the hub: a `RustWebSocketPeer` object (what `get_peer()` hands
/// out) and its state, which the hub uses directly.
pub(crate) struct Linked(pub Gd<RustWebSocketPeer>, pub SharedState);

// SAFETY: `Send` lets the hub (inside the multiplayer state's `Mutex`) hold
// its links and be reached from whichever thread calls the multiplayer
// peer. Why that is sound:
// - The `Gd<RustWebSocketPeer>` is only cloned (for `get_peer`, atomic
//   reference count: `RustWebSocketPeer` is `RefCounted`) and dropped, and
//   both happen with the multiplayer state's lock held or after the link
//   left the hub; the hub never calls a method of the object through it
//   (`create_client` calls `connect` once, before the link enters the hub,
//   with no lock held).
// - All the link's work goes through `SharedState`, the peer's own state
//   behind its own `Mutex` (an `Arc`, itself `Send`), which is what a game
//   holding the same object from `get_peer` reaches too: the two are
//   serialized by that lock, and every method of the class takes `&self`.
unsafe impl Send for Linked {}

impl Linked {
    /// A new link object with `config`.
    pub(crate) fn new(config: &PeerConfig) -> Linked {
        let peer = RustWebSocketPeer::configured(config);
        let shared = crate::binding::state(&peer);
        Linked(peer, shared)
    }
}

impl Link for Linked {
    fn poll(&mut self) {
        // As the class's own poll: reports its errors like any peer.
        let failure = self.1.lock().poll();
        report(failure);
    }
    fn state(&self) -> ReadyState {
        self.1.lock().core.ready_state()
    }
    fn send_message(&mut self, data: &[u8], text: bool) -> Result<(), WsError> {
        self.1.lock().send(&self.1, data, text).map_err(|(e, _)| e)
    }
    fn send_prepared(&mut self, message: &Prepared) -> Result<(), WsError> {
        self.1
            .lock()
            .send_prepared(&self.1, message)
            .map_err(|(e, _)| e)
    }
    fn pop(&mut self) -> Option<Packet> {
        self.1.lock().core.pop_packet()
    }
    fn close(&mut self) {
        let failure = self.1.lock().close(1000, "");
        report(failure);
    }
    fn upgrade_waiting(&self) -> bool {
        self.1.lock().core.upgrade_waiting()
    }
    fn peer_addr(&self) -> Option<SocketAddr> {
        self.1.lock().core.peer_addr()
    }
    fn may_have_input(&self, now: Instant) -> bool {
        self.1.lock().core.opening_may_have_input(now)
    }
    fn client_addr(&self) -> Option<SocketAddr> {
        self.1.lock().core.client_addr()
    }
    fn admit(&mut self, hold_http: bool, draining: bool) {
        self.1.lock().core.set_admission(hold_http, draining);
    }
    fn http_waiting(&self) -> bool {
        self.1.lock().core.http_request().is_some()
    }
    fn http_request(&self) -> Option<HttpRequest> {
        self.1.lock().core.http_request().cloned()
    }
    fn answer_http(&mut self, status: i64, headers: &[String], body: &[u8]) -> Result<(), WsError> {
        self.1.lock().core.answer_http(status, headers, body)
    }
    fn close_with(&mut self, code: i32, reason: &str) {
        let failure = self.1.lock().close(code, reason);
        report(failure);
    }
    fn poll_drain(&mut self, inbox: &mut dyn Inbox) -> ReadyState {
        let (failure, state) = {
            let mut link = self.1.lock();
            let failure = link.poll();
            while inbox.has_room() {
                let Some(p) = link.core.pop_packet() else {
                    break;
                };
                inbox.take(p.data, p.text);
            }
            (failure, link.core.ready_state())
        };
        report(failure);
        state
    }
}

/// The state of one `RustWebSocketMultiplayerPeer`.
pub(crate) struct MpState {
    pub hub: Hub<Linked>,
    /// The settings each new link gets (the class's properties).
    pub config: PeerConfig,
    /// The packet handed out by the last raw `get_packet`, kept alive for
    /// Godot until the next one.
    pub held: Option<Bytes>,
    /// What `get_packet_error` answers.
    pub last_get_error: Error,
    /// `MultiplayerPeer.transfer_channel` (kept; the engine's class has one
    /// channel too).
    pub transfer_channel: i32,
    /// `MultiplayerPeer.transfer_mode` (kept; WebSocket is always reliable).
    pub transfer_mode: TransferMode,
    /// When connections still opening were last said to be dropped.
    pub dropped_said: Option<Instant>,
    /// Connections dropped since that warning, still to say.
    pub dropped_unsaid: u64,
}

/// Every `RustWebSocketMultiplayerPeer`'s state by instance id.
pub(crate) static MULTIS: Registry<MpState> = Registry::new();

impl MpState {
    pub(crate) fn new() -> std::sync::Arc<Shared<MpState>> {
        Shared::new(MpState {
            hub: Hub::default(),
            config: crate::settings::multiplayer_defaults(),
            held: None,
            last_get_error: Error::OK,
            transfer_channel: 0,
            transfer_mode: TransferMode::RELIABLE,
            dropped_said: None,
            dropped_unsaid: 0,
        })
    }

    /// The next received packet, noting `get_packet_error`'s answer:
    /// `ERR_UNCONFIGURED` when not connected, `ERR_UNAVAILABLE` when none.
    pub(crate) fn pop(&mut self) -> Result<Bytes, Error> {
        let packet = if self.hub.status() != Status::Connected {
            Err(Error::ERR_UNCONFIGURED)
        } else {
            self.hub
                .pop_packet()
                .map(|p| p.data)
                .ok_or(Error::ERR_UNAVAILABLE)
        };
        self.last_get_error = packet.as_ref().err().copied().unwrap_or(Error::OK);
        packet
    }

    /// `get_available_packet_count`'s answer.
    pub(crate) fn count(&self) -> i32 {
        i32::try_from(self.hub.available_packets()).unwrap_or(i32::MAX)
    }

    /// Sends to the target peer, reporting a failure.
    pub(crate) fn put(shared: &Shared<MpState>, data: &[u8]) -> Error {
        let result = shared.lock().hub.put_packet(data);
        match result {
            Ok(()) => Error::OK,
            Err(e) => hub_error(e),
        }
    }
}

/// How often, at most, dropping connections still opening is said.
const DROPPED_EVERY: Duration = Duration::from_secs(10);

/// Says, at most every [`DROPPED_EVERY`] and with the lock released, that
/// connections still opening were dropped for newer ones (a flood of
/// connections that never finish opening, or `max_pending_connections`
/// too low for the clients joining at once).
pub(crate) fn report_dropped_pending(shared: &Shared<MpState>) {
    let said = {
        let mut state = shared.lock();
        let dropped = state.hub.take_pending_dropped();
        state.dropped_unsaid = state.dropped_unsaid.saturating_add(dropped);
        let now = Instant::now();
        let due = state
            .dropped_said
            .map_or(true, |t| now.saturating_duration_since(t) >= DROPPED_EVERY);
        if state.dropped_unsaid == 0 || !due {
            None
        } else {
            state.dropped_said = Some(now);
            let unsaid = std::mem::take(&mut state.dropped_unsaid);
            Some((unsaid, state.config.max_pending_connections))
        }
    };
    if let Some((dropped, max)) = said {
        crate::logger::warning!(
            "{CLASS}: {dropped} connections still opening were dropped for newer ones \
             (max_pending_connections is {max}): many connections that do not finish opening"
        );
    }
}

/// Reports a hub failure; the Godot `Error` the engine's class returns for it.
pub(crate) fn hub_error(err: HubError) -> Error {
    let code = crate::errors::hub_code(&err);
    crate::logger::error!("{CLASS}: {err}");
    code
}
