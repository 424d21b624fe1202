//! What one `RustWebSocketPeer` keeps behind its lock (the Rust core and the
//! packet handed to Godot), and the operations its methods and the links of
//! `RustWebSocketMultiplayerPeer` share. Plain Rust over
//! [`rustws_core::Peer`]; failures are returned, to be reported once the
//! lock is released (a user's logger may call back into the peer).

use super::flush::{self, Batch};
use crate::binding::{Registry, Shared};
use crate::errors;
use godot::global::Error;
use rustws_core::{Bytes, Peer, Prepared, WsError};
use std::sync::Arc;

/// The class's name, for what it prints.
pub(crate) const CLASS: &str = "RustWebSocketPeer";

/// The state of one peer.
pub(crate) struct State {
    pub core: Peer,
    /// The packet handed out by the last raw `get_packet`, kept alive for
    /// Godot until the next one.
    pub held: Option<Bytes>,
    pub last_get_error: Error,
    /// Batched sends wait for the end-of-frame flush (main thread only).
    flush_scheduled: bool,
}

/// A peer's state, shared by the object and its registry entry.
pub(crate) type SharedState = Arc<Shared<State>>;

/// Every `RustWebSocketPeer`'s state by instance id.
pub(crate) static PEERS: Registry<State> = Registry::new();

/// A failure to report, with the URL it concerns.
pub(crate) type Failure = (WsError, String);

impl State {
    pub(crate) fn new() -> SharedState {
        let shared = Shared::new(State {
            core: Peer::new(crate::settings::peer_defaults()),
            held: None,
            last_get_error: Error::OK,
            flush_scheduled: false,
        });
        crate::monitors::track(&shared);
        shared
    }

    fn failure(&self, err: WsError) -> Failure {
        (err, self.core.requested_url().to_string())
    }

    /// Sends one message. On the main thread, messages after the first since
    /// a poll wait for the end of the frame (`this` joins the flush list);
    /// elsewhere they are written at once.
    pub(crate) fn send(
        &mut self,
        this: &SharedState,
        data: &[u8],
        text: bool,
    ) -> Result<(), Failure> {
        self.sent(this, |core| core.send(data, text))
    }

    /// Sends one message framed once for many links (see [`send`](Self::send)).
    pub(crate) fn send_prepared(
        &mut self,
        this: &SharedState,
        message: &Prepared,
    ) -> Result<(), Failure> {
        self.sent(this, |core| core.send_prepared(message))
    }

    /// `send` through the core, then the batch's flush arranged.
    fn sent(
        &mut self,
        this: &SharedState,
        send: impl FnOnce(&mut Peer) -> Result<(), WsError>,
    ) -> Result<(), Failure> {
        send(&mut self.core).map_err(|e| self.failure(e))?;
        if self.flush_scheduled || !self.core.has_unflushed() {
            return Ok(());
        }
        if flush::on_main_thread() {
            self.flush_scheduled = true;
            flush::at_end_of_frame(this.clone());
            return Ok(());
        }
        match self.core.flush() {
            Some(e) => Err(self.failure(e)),
            None => Ok(()),
        }
    }

    /// The end-of-frame flush of a batch (if a poll has not written it yet).
    pub(crate) fn flush_batch(&mut self) -> Option<Failure> {
        if !std::mem::take(&mut self.flush_scheduled) {
            return None;
        }
        self.core.flush().map(|e| self.failure(e))
    }

    /// Advances the connection; poll() also writes any batch waiting.
    pub(crate) fn poll(&mut self) -> Option<Failure> {
        self.flush_scheduled = false;
        self.core.poll().map(|e| self.failure(e))
    }

    /// The next received packet, noting `get_packet_error`'s answer.
    pub(crate) fn pop(&mut self) -> Option<Bytes> {
        let packet = self.core.pop_packet().map(|p| p.data);
        self.last_get_error = if packet.is_some() {
            Error::OK
        } else {
            Error::ERR_UNAVAILABLE
        };
        packet
    }

    /// `get_available_packet_count`'s answer.
    pub(crate) fn count(&self) -> i32 {
        i32::try_from(self.core.available_packets()).unwrap_or(i32::MAX)
    }

    /// `get_ready_state`'s answer (`ReadyState` has the engine's values).
    pub(crate) fn ready_state(&self) -> i32 {
        self.core.ready_state() as i32
    }

    /// Starts a close; a complaint about the arguments comes back.
    pub(crate) fn close(&mut self, code: i32, reason: &str) -> Option<Failure> {
        self.core.close(code, reason).map(|e| self.failure(e))
    }
}

impl Batch for Shared<State> {
    fn write_batch(&self) {
        let failure = self.lock().flush_batch();
        report(failure);
    }
}

/// Sends one message on `shared`, reporting a failure; the Godot `Error`
/// the engine's class returns for it.
pub(crate) fn send_message(shared: &SharedState, data: &[u8], text: bool) -> Error {
    let result = shared.lock().send(shared, data, text);
    to_godot(result)
}

/// Reports a failure returned by the operations above.
pub(crate) fn report(failure: Option<Failure>) {
    if let Some((err, url)) = failure {
        say(&err, &url);
    }
}

/// Reports `result`'s failure and returns the Godot code for it.
pub(crate) fn to_godot(result: Result<(), Failure>) -> Error {
    match result {
        Ok(()) => Error::OK,
        Err((err, url)) => {
            say(&err, &url);
            errors::code(&err)
        }
    }
}

/// Prints `err` as a Godot error (or warning, for a peer that went away),
/// prefixed with the class and, when known, the URL.
fn say(err: &WsError, url: &str) {
    let class = CLASS;
    // Never the URL as given: its query values (tokens) and user info stay
    // out of the output.
    let at = if url.is_empty() {
        String::new()
    } else {
        format!(" ({})", rustws_core::shown_url(url))
    };
    if err.is_warning() {
        crate::logger::warning!("{class}{at}: {err}");
    } else {
        crate::logger::error!("{class}{at}: {err}");
    }
}
