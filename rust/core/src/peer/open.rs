//! What [`Peer::poll`] does once the link is up: the upgrade's outcome
//! becomes a [`Connection`], and then each poll of an open or closing link
//! checks its timers (the closing handshake's limit, the heartbeat), reads
//! and answers what arrived (within a budget), writes what waits, and ends
//! the closing handshake.

use super::{Peer, Phase, ReadyState, CLIENT_CLOSE_WAIT, READ_BUDGET, READ_CHUNK, REPLY_BACKLOG};
use crate::connection::{Connection, Setup};
use crate::error::WsError;
use crate::inbound::{Inbound, ReadError};
use crate::opening::{Opened, Step};
use crate::queue::Packet;
use std::ops::ControlFlow;
use std::time::Instant;

impl Peer {
    /// Advances the opening; once upgraded, the link is open.
    pub(super) fn advance_opening(&mut self) -> Result<(), WsError> {
        if self.started.elapsed() > self.config.handshake_limit() {
            if let Phase::Opening(o) = &mut self.phase {
                o.answer_timeout();
            }
            return Err(WsError::Timeout {
                seconds: self.config.handshake_timeout,
            });
        }
        let Phase::Opening(opening) = std::mem::replace(&mut self.phase, Phase::Idle) else {
            return Ok(());
        };
        match opening.advance(&self.wants())? {
            Step::Waiting(opening) => {
                if self.peer_addr.is_none() {
                    self.peer_addr = opening.io().and_then(|io| io.stream().peer_addr());
                }
                self.phase = Phase::Opening(opening);
            }
            Step::Open(opened) => self.open(opened),
            Step::Done => self.drop_connection(),
        }
        Ok(())
    }

    /// The upgrade is done: frames flow from now on.
    fn open(&mut self, opened: Opened) {
        if self.peer_addr.is_none() {
            self.peer_addr = opened.io.stream().peer_addr();
        }
        self.client_addr = self.real_client(opened.io.stream(), &opened.headers);
        if let Some(url) = opened.requested_url {
            self.requested_url = url;
        }
        self.selected_protocol = opened.protocol;
        self.handshake_headers = opened.headers;
        self.extensions = opened
            .compression
            .map(|a| a.header_value())
            .unwrap_or_default();
        let setup = Setup {
            client: opened.client,
            limit: self.inbound_limit,
            chunk: (self.inbound_limit / 4).clamp(READ_CHUNK.0, READ_CHUNK.1),
            compression: opened.compression,
            compress_from: self.config.compression_threshold,
        };
        // Frames that came with the upgrade wait in the read buffer.
        self.unread_frames = !opened.leftover.is_empty();
        let conn = Connection::new(opened.io, opened.leftover, setup);
        log::info!(
            "{} open: {} (sub-protocol \"{}\", {}, extensions \"{}\")",
            if opened.client { "client" } else { "server" },
            self.shown_url(),
            crate::shown::printable(&self.selected_protocol),
            conn.stream().tls_version().as_deref().unwrap_or("no TLS"),
            crate::shown::printable(&self.extensions)
        );
        self.phase = Phase::Open(Box::new(conn));
        self.state = ReadyState::Open;
        self.has_opened = true;
        self.last_ping = Instant::now();
    }

    /// Reads, answers and writes on an open or closing link.
    pub(super) fn pump(&mut self) -> Option<WsError> {
        if !matches!(self.phase, Phase::Open(_)) {
            self.state = ReadyState::Closed;
            return None;
        }
        // One clock reading serves every check of this poll.
        let now = Instant::now();
        self.poll_now = now;
        if let Some(failure) = self.check_timers(now) {
            return Some(failure);
        }
        let Phase::Open(conn) = &self.phase else {
            return None;
        };
        // An idle socket is not read at all (unless frames may wait in the
        // read buffer); with nothing to write either, there is nothing to do.
        let reading = self.unread_frames || conn.stream().may_have_input(now);
        if !reading && conn.buffered() == 0 {
            return None;
        }
        self.unread_frames = false;
        if reading {
            if let ControlFlow::Break(outcome) = self.read_frames() {
                return outcome;
            }
        }
        self.write_out()
    }

    /// The closing handshake's time limit, and the heartbeat: a ping when
    /// one is due, or the end of a link whose last ping went unanswered.
    fn check_timers(&mut self, now: Instant) -> Option<WsError> {
        if self.state == ReadyState::Closing
            && now.saturating_duration_since(self.closing_since) > self.config.close_timeout
        {
            let seconds = self.config.close_timeout.as_secs_f64();
            self.drop_connection();
            return Some(WsError::Dropped(format!(
                "the closing handshake did not finish within {seconds:.1} s; dropped"
            )));
        }
        let interval = self.heartbeat?;
        if self.state != ReadyState::Open
            || now.saturating_duration_since(self.last_ping) < interval
        {
            return None;
        }
        // Reading is held back while the game leaves the queue full (a
        // loading screen): the peer's pong may wait unread behind what it
        // sent, and a peer that filled the queue is alive.
        if !self.inbound.has_room(self.inbound_limit, self.queue_limit) {
            self.unanswered = 0;
        }
        if self.unanswered >= self.config.heartbeat_misses.max(1) {
            let misses = self.unanswered;
            self.drop_connection();
            return Some(WsError::HeartbeatTimeout {
                seconds: interval.as_secs_f64(),
                misses,
            });
        }
        self.unanswered += 1;
        self.last_ping = now;
        if let Phase::Open(conn) = &mut self.phase {
            conn.ping(&self.rtt.start(now));
        }
        None
    }

    /// Reads while there is room: stops while the inbound queue is full,
    /// while replies to the peer's pings pile up unread (it floods and does
    /// not read: TCP then slows it down), or when this poll has read its
    /// share (bytes and frames, see [`crate::inbound::Reader::start_round`]).
    /// `Break` ends the poll with its outcome (the link ended).
    ///
    /// A protocol error that follows a message this poll delivered waits for
    /// the next poll: the game sees the message first and may answer it
    /// before the link fails, as with the engine's class (Autobahn 3.2).
    fn read_frames(&mut self) -> ControlFlow<Option<WsError>> {
        if let Some(e) = self.deferred_failure.take() {
            return ControlFlow::Break(self.read_failure(e));
        }
        let Phase::Open(conn) = &mut self.phase else {
            return ControlFlow::Break(None);
        };
        conn.start_reading(
            usize::try_from(READ_BUDGET)
                .unwrap_or(usize::MAX)
                .max(self.inbound_limit),
        );
        let mut delivered = false;
        loop {
            let Phase::Open(conn) = &mut self.phase else {
                return ControlFlow::Break(None);
            };
            if !self.inbound.has_room(self.inbound_limit, self.queue_limit)
                || conn.replies_pending() > REPLY_BACKLOG
            {
                self.unread_frames = true;
                return ControlFlow::Continue(());
            }
            match conn.read() {
                Ok(Some(event)) => {
                    delivered |= matches!(event, Inbound::Message { .. });
                    self.handle(event);
                }
                Ok(None) => {
                    self.unread_frames |= conn.reading_paused();
                    return ControlFlow::Continue(());
                }
                Err(ReadError::Eof) => return ControlFlow::Break(self.end_of_stream()),
                Err(
                    e
                    @ (ReadError::Protocol(_) | ReadError::TooBig { .. } | ReadError::InvalidUtf8),
                ) if delivered => {
                    self.deferred_failure = Some(e);
                    self.unread_frames = true;
                    return ControlFlow::Continue(());
                }
                Err(e) => return ControlFlow::Break(self.read_failure(e)),
            }
        }
    }

    /// One thing the peer sent.
    fn handle(&mut self, event: Inbound) {
        let Phase::Open(conn) = &mut self.phase else {
            return;
        };
        match event {
            Inbound::Message { data, text } => {
                // Nothing the peer sends after its close counts.
                if !conn.close_received() {
                    self.counters.messages_in += 1;
                    self.counters.bytes_in += data.len() as u64;
                    self.last_message_at = Some(self.poll_now);
                    self.inbound.push(Packet { data, text });
                }
            }
            Inbound::Ping(payload) => {
                if !conn.close_sent() {
                    conn.pong(&payload);
                }
            }
            Inbound::Pong(payload) => {
                self.unanswered = 0;
                self.rtt.pong(&payload, Instant::now());
            }
            Inbound::Close(frame) => {
                if !conn.receive_close(&frame) {
                    return;
                }
                (self.close_code, self.close_reason) = match frame {
                    Some((code, reason)) => (i32::from(code), reason),
                    // RFC 6455 section 7.1.5: no status code was present.
                    None => (1005, String::new()),
                };
                self.start_closing();
            }
        }
    }

    /// The peer closed TCP: the end of a clean close, or a drop.
    fn end_of_stream(&mut self) -> Option<WsError> {
        if matches!(&self.phase, Phase::Open(conn) if conn.close_received()) {
            return self.finish_clean();
        }
        self.drop_connection();
        Some(WsError::Dropped(
            "the peer closed the TCP connection without a close frame".into(),
        ))
    }

    /// Writes what waits; once both close frames have passed, the server
    /// closes TCP, and a client gives the server a moment to do it first.
    fn write_out(&mut self) -> Option<WsError> {
        let Phase::Open(conn) = &mut self.phase else {
            return None;
        };
        if let Err(e) = conn.flush() {
            return Some(self.io_failure(e));
        }
        if conn.closes_exchanged() {
            let since = *self.closed_at.get_or_insert_with(Instant::now);
            if !conn.is_client() || since.elapsed() >= CLIENT_CLOSE_WAIT {
                return self.finish_clean();
            }
            self.unread_frames = true;
        }
        None
    }

    /// Turns a read failure into the right close.
    fn read_failure(&mut self, e: ReadError) -> Option<WsError> {
        match e {
            ReadError::TooBig { size, .. } => self.fail_protocol(
                1009,
                "Message too big",
                WsError::MessageTooBig {
                    size,
                    limit: self.inbound_limit,
                },
            ),
            ReadError::InvalidUtf8 => self.fail_protocol(
                1007,
                "Invalid UTF-8 in text message",
                WsError::InvalidUtf8Inbound,
            ),
            ReadError::Protocol(why) => self.fail_protocol(
                1002,
                "Protocol error",
                WsError::Protocol { code: 1002, why },
            ),
            ReadError::Io(e) => Some(self.io_failure(e)),
            ReadError::Eof => {
                self.drop_connection();
                Some(WsError::Dropped("the connection is closed".into()))
            }
        }
    }

    /// We close with `code` because the peer broke the rules: the close
    /// frame goes out if the socket takes it, and the link ends now.
    fn fail_protocol(&mut self, code: u16, reason: &str, err: WsError) -> Option<WsError> {
        if let Phase::Open(conn) = &mut self.phase {
            conn.close(Some((code, reason)));
            let _ = conn.flush();
        }
        self.drop_connection();
        self.close_code = i32::from(code);
        self.close_reason = reason.to_string();
        Some(err)
    }

    /// The closing handshake is done: the last frames go out if the socket
    /// takes them, and the link ends.
    fn finish_clean(&mut self) -> Option<WsError> {
        log::debug!(
            "closed cleanly: {} ({} \"{}\")",
            self.shown_url(),
            self.close_code,
            crate::shown::printable(&self.close_reason)
        );
        if let Phase::Open(conn) = &mut self.phase {
            let _ = conn.flush();
        }
        self.retire_connection();
        self.phase = Phase::Idle;
        self.state = ReadyState::Closed;
        None
    }
}
