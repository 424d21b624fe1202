//! What one `RustWebSocketPeer` keeps behind its lock (the Rust core and the
//! packet handed to Godot), and the operations its methods and the links of
//! `RustWebSocketMultiplayerPeer` share. Plain Rust over
//! [`rustws_core::Peer`]; failures are returned, to be reported once the
//! lock is released (a user's Logger may call back into the peer).

use crate::flush;
use crate::shared::{Registry, Shared};
use godot::global::Error;
use rustws_core::{Bytes, Peer, WsError};
use std::sync::Arc;

/// The state of one peer.
pub struct State {
    pub core: Peer,
    /// The packet handed out by the last raw `get_packet`, kept alive for
    /// Godot until the next one.
    pub held: Option<Bytes>,
    pub last_get_error: Error,
    /// Batched sends wait for the end-of-frame flush (main thread only).
    flush_scheduled: bool,
}

/// A peer's state, shared by the object and its registry entry.
pub type SharedState = Arc<Shared<State>>;

/// Every `RustWebSocketPeer`'s state by instance id.
pub static PEERS: Registry<State> = Registry::new();

/// A failure to report, with the URL it concerns.
pub type Failure = (WsError, String);

impl State {
    pub fn new() -> SharedState {
        Shared::new(State {
            core: Peer::default(),
            held: None,
            last_get_error: Error::OK,
            flush_scheduled: false,
        })
    }

    fn failure(&self, err: WsError) -> Failure {
        (err, self.core.requested_url().to_string())
    }

    /// Sends one message. On the main thread, messages after the first since
    /// a poll wait for the end of the frame (`this` joins the flush list);
    /// elsewhere they are written at once.
    pub fn send(&mut self, this: &SharedState, data: &[u8], text: bool) -> Result<(), Failure> {
        self.core.send(data, text).map_err(|e| self.failure(e))?;
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
    pub fn flush_batch(&mut self) -> Option<Failure> {
        if !std::mem::take(&mut self.flush_scheduled) {
            return None;
        }
        self.core.flush().map(|e| self.failure(e))
    }

    /// Advances the connection; poll() also writes any batch waiting.
    pub fn poll(&mut self) -> Option<Failure> {
        self.flush_scheduled = false;
        self.core.poll().map(|e| self.failure(e))
    }

    /// The next received packet, noting `get_packet_error`'s answer.
    pub fn pop(&mut self) -> Option<Bytes> {
        let packet = self.core.pop_packet().map(|p| p.data);
        self.last_get_error = if packet.is_some() {
            Error::OK
        } else {
            Error::ERR_UNAVAILABLE
        };
        packet
    }

    /// Starts a close; a complaint about the arguments comes back.
    pub fn close(&mut self, code: i32, reason: &str) -> Option<Failure> {
        self.core.close(code, reason).map(|e| self.failure(e))
    }
}

/// Reports a failure returned by the operations above.
pub fn report(failure: Option<Failure>) {
    if let Some((err, url)) = failure {
        crate::errors::report(&err, &url);
    }
}
