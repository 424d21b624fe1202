//! One `RustWebSocketClient`'s link over time: the `RustWebSocketPeer` it
//! drives, what a poll came to as signals to emit ([`Event`]), and the
//! core's reconnect decisions and outbox applied to it. The class emits the
//! events once this returns, with nothing borrowed (a handler may call back
//! into the node).

use crate::peer::{state, RustWebSocketPeer};
use godot::global::Error;
use godot::prelude::*;
use rustws_core::{Backoff, Ending, Outbox, ReadyState, Reconnector, TlsClientOptions, WsError};
use std::time::Instant;

/// A signal to emit.
pub(crate) enum Event {
    Connected,
    /// A `String` or a `PackedByteArray`.
    Message(Variant),
    Closed(i64, String),
    Reconnecting(u32, f64),
    Dropped(usize),
    /// A pong answered one of our pings: the round-trip time, in ms.
    Pong(f64),
}

pub(crate) struct Session {
    peer: Gd<RustWebSocketPeer>,
    shared: state::SharedState,
    reconnector: Reconnector,
    outbox: Outbox,
    /// An attempt or a link of ours is under way: its end is still to come.
    active: bool,
    /// The current attempt opened.
    was_open: bool,
    /// The game closed the current link.
    closing_here: bool,
    /// Messages dropped since the last poll, to report.
    dropped: usize,
    /// Counts the attempts started: events of an older one are not emitted.
    generation: u64,
    /// What the last failed attempt printed, while attempts keep failing:
    /// the same failure again is not printed again.
    last_said: Option<String>,
    /// Attempts started by the reconnect logic (not by the game).
    reconnects: u64,
    /// The outbox's next message did not fit at the last try (said once).
    outbox_stalled: bool,
}

impl Session {
    pub(crate) fn new() -> Session {
        let peer = RustWebSocketPeer::new_gd();
        let shared = crate::binding::state(&peer);
        Session {
            peer,
            shared,
            reconnector: Reconnector::new(Backoff::default(), true),
            outbox: Outbox::new(0),
            active: false,
            was_open: false,
            closing_here: false,
            dropped: 0,
            generation: 0,
            last_said: None,
            reconnects: 0,
            outbox_stalled: false,
        }
    }

    pub(crate) fn peer(&self) -> Gd<RustWebSocketPeer> {
        self.peer.clone()
    }

    pub(crate) fn ready_state(&self) -> ReadyState {
        self.shared.lock().core.ready_state()
    }

    pub(crate) fn waiting(&self) -> bool {
        self.reconnector.waiting()
    }

    pub(crate) fn attempt(&self) -> u32 {
        self.reconnector.attempt()
    }

    /// The attempt under way (see [`Session::poll`]).
    pub(crate) fn generation(&self) -> u64 {
        self.generation
    }

    /// Attempts started by the reconnect logic since the node was made.
    pub(crate) fn reconnects(&self) -> u64 {
        self.reconnects
    }

    /// The peer's state (for its statistics).
    pub(crate) fn shared(&self) -> &state::SharedState {
        &self.shared
    }

    pub(crate) fn queued(&self) -> usize {
        self.outbox.len()
    }

    /// The game connects anew: no attempt is pending any more.
    pub(crate) fn restart(&mut self) {
        self.reconnector.cancel();
        self.closing_here = false;
    }

    /// No further attempt; what waits is dropped.
    pub(crate) fn give_up(&mut self) {
        self.reconnector.cancel();
        self.dropped += self.outbox.clear();
        self.outbox_stalled = false;
    }

    /// Starts an attempt, closing (silently) whatever is under way.
    pub(crate) fn connect(
        &mut self,
        url: &str,
        tls: Result<TlsClientOptions, WsError>,
        protocols: Vec<String>,
        headers: Vec<String>,
    ) -> Error {
        let result = tls.and_then(|tls| {
            let mut s = self.shared.lock();
            if s.core.ready_state() != ReadyState::Closed {
                s.core.close(-1, "");
            }
            s.core.config.set_supported_protocols(protocols);
            s.core.config.handshake_headers = headers;
            s.core.connect_to_url(url, tls)
        });
        let err = state::to_godot(result.map_err(|e| (e, url.to_string())));
        self.generation += 1;
        self.active = err == Error::OK;
        self.was_open = false;
        self.closing_here = false;
        self.outbox_stalled = false;
        err
    }

    /// Sends now when open, else keeps the message for the next link.
    pub(crate) fn send(&mut self, data: &[u8], text: bool, limit: usize) -> Error {
        self.outbox.limit = limit;
        let state = self.ready_state();
        if state == ReadyState::Open && self.outbox.is_empty() {
            return state::send_message(&self.shared, data, text);
        }
        let coming = (self.active && matches!(state, ReadyState::Connecting | ReadyState::Open))
            || self.reconnector.waiting()
            || self.closing_for_another_attempt(state);
        if !coming {
            crate::logger::error!("RustWebSocketClient: cannot send: not connected, and no attempt is coming (call connect_to_url()).");
            return Error::FAILED;
        }
        // What could never go out is refused now, not kept to block the
        // messages behind it.
        let never = {
            let s = self.shared.lock();
            s.core
                .unsendable(data, text)
                .map(|e| (e, s.core.requested_url().to_string()))
        };
        if let Some(failure) = never {
            return state::to_godot(Err(failure));
        }
        if self.outbox.push(data, text) {
            return Error::OK;
        }
        self.dropped += 1;
        crate::logger::error!(
            "RustWebSocketClient: {limit} messages already wait for the link to open (queue_limit); this one was dropped."
        );
        Error::ERR_OUT_OF_MEMORY
    }

    /// The server is closing the link (its close frame read, the connection
    /// not ended yet) in a way that brings another attempt (1012, 1013, a
    /// lost link, as the setting allows): a message sent now waits for it,
    /// as it would a moment later, instead of failing.
    /// The same holds once the link has ended but this node's poll has not
    /// seen it yet (a send or the end-of-frame flush that found the
    /// connection gone ends it at once).
    fn closing_for_another_attempt(&self, state: ReadyState) -> bool {
        if !self.active || !matches!(state, ReadyState::Closing | ReadyState::Closed) {
            return false;
        }
        let ending = {
            let s = self.shared.lock();
            self.ending(s.core.failure().is_some(), s.core.close_code())
        };
        self.reconnector.would_reconnect(ending, Instant::now())
    }

    /// How the current link ends, from whether it failed and the close code
    /// it has (-1: none).
    fn ending(&self, failed: bool, code: i32) -> Ending {
        match (self.closing_here, failed, u16::try_from(code)) {
            (true, _, _) => Ending::ClosedHere,
            (false, false, Ok(code)) if self.was_open => Ending::ClosedByServer(code),
            _ => Ending::Lost,
        }
    }

    /// The game closes: no reconnect; what waits is dropped.
    pub(crate) fn close_here(&mut self, code: i64, reason: &str) {
        self.give_up();
        if self.active {
            self.closing_here = true;
            let code = i32::try_from(code).unwrap_or(-1);
            let complaint = self.shared.lock().close(code, reason);
            state::report(complaint);
        }
    }

    /// The node leaves the tree: close as going away.
    pub(crate) fn leave(&mut self) {
        self.close_here(1001, "");
    }

    /// Polls the peer: the signals to emit, in order (those of the attempt
    /// [`Session::generation`] names once this returns), and whether the
    /// next attempt is due now. With `enabled` off, an attempt planned is
    /// called off.
    pub(crate) fn poll(&mut self, backoff: Backoff, enabled: bool) -> (Vec<Event>, bool) {
        let mut events = Vec::new();
        self.reconnector.backoff = backoff;
        self.reconnector.enabled = enabled;
        if !enabled && self.reconnector.waiting() {
            self.give_up();
        }
        if self.dropped > 0 {
            events.push(Event::Dropped(std::mem::take(&mut self.dropped)));
        }
        if !self.active {
            let due = self.reconnector.due(Instant::now());
            self.reconnects += u64::from(due);
            return (events, due);
        }
        let (mut failure, pongs) = {
            let mut s = self.shared.lock();
            let pongs = s.core.pongs_received();
            (s.poll(), pongs)
        };
        let mut s = self.shared.lock();
        if s.core.pongs_received() > pongs {
            let rtt = crate::peer::stats::millis(s.core.round_trip_time());
            events.push(Event::Pong(rtt));
        }
        let now = s.core.ready_state();
        if now != ReadyState::Closed {
            // Printed once the lock is released (see `crate::logger`).
            state::report(failure.take());
        }
        if !self.was_open && s.core.has_opened() {
            self.was_open = true;
            self.last_said = None;
            self.reconnector.opened(Instant::now());
            self.outbox_stalled = false;
            events.push(Event::Connected);
        }
        // What waited goes out in order once the link is open (also what a
        // full outbound buffer held back at the last poll).
        // A message that does not fit waits for the next poll; its failure
        // is said once, not every poll.
        if now == ReadyState::Open {
            while let Some((data, text)) = self.outbox.pop() {
                if let Err(failure) = s.send(&self.shared, &data, text) {
                    self.outbox.unpop((data, text));
                    if !std::mem::replace(&mut self.outbox_stalled, true) {
                        drop(s);
                        state::report(Some(failure));
                        s = self.shared.lock();
                    }
                    break;
                }
                self.outbox_stalled = false;
            }
        }
        while let Some(packet) = s.core.pop_packet() {
            let message = if packet.text {
                GString::from(String::from_utf8_lossy(&packet.data).as_ref()).to_variant()
            } else {
                PackedByteArray::from(packet.data.as_ref()).to_variant()
            };
            events.push(Event::Message(message));
        }
        if now == ReadyState::Closed {
            self.active = false;
            let code = s.core.close_code();
            let failed = s.core.failure().map(|e| e.to_string());
            let reason = match (s.core.close_reason(), &failed) {
                ("", Some(why)) => why.clone(),
                (reason, _) => reason.to_string(),
            };
            drop(s);
            let ending = self.ending(failed.is_some(), code);
            events.push(Event::Closed(i64::from(code), reason));
            match self.reconnector.ended_now(ending) {
                // An attempt the game asked for failed and another comes:
                // the reason is on `closed`; it is printed only when it is
                // not the one the attempt before printed (a certificate
                // refused, a 403, a host down: said once, not every retry).
                Some((attempt, delay)) => {
                    let said = failure.as_ref().map(|(e, _)| e.to_string());
                    if said.is_some() && said != self.last_said {
                        self.last_said = said;
                        state::report(failure);
                    }
                    events.push(Event::Reconnecting(attempt, delay));
                }
                None => {
                    state::report(failure);
                    let dropped = self.outbox.clear();
                    if dropped > 0 {
                        events.push(Event::Dropped(dropped));
                    }
                }
            }
        }
        (events, false)
    }
}
