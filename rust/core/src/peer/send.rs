//! Sending: one message (or one framed once for many links), with the
//! outbound limits and the batching of [`Peer::send`].

use super::{Peer, Phase, ReadyState, FLUSH_AT};
use crate::connection::{Connection, Prepared};
use crate::error::WsError;
use std::io;

impl Peer {
    /// Sends one message; `text` sends a text frame (the bytes must be UTF-8).
    /// The first message after a [`Peer::poll`] or [`Peer::flush`] is written
    /// to the socket at once; the ones that follow it are batched and written
    /// together by the next `poll`/`flush`, or at once when [`FLUSH_AT`]
    /// bytes are waiting.
    pub fn send(&mut self, data: &[u8], text: bool) -> Result<(), WsError> {
        self.send_by(data.len(), text.then_some(data), |conn, now| {
            conn.send(data, text, now)
        })
    }

    /// Sends one message framed beforehand for many links ([`Prepared`]),
    /// with the same limits and batching as [`Peer::send`]: on a server-side
    /// link that does not compress it, its frame's bytes are appended as
    /// they are.
    pub fn send_prepared(&mut self, message: &Prepared) -> Result<(), WsError> {
        self.send_by(message.payload().len(), None, |conn, now| {
            conn.send_prepared(message, now)
        })
    }

    /// The checks and batching of a send of `len` bytes (`text`: the bytes
    /// to check as UTF-8), then `write` of the message.
    fn send_by(
        &mut self,
        len: usize,
        text: Option<&[u8]>,
        write: impl FnOnce(&mut Connection, bool) -> io::Result<()>,
    ) -> Result<(), WsError> {
        if self.state != ReadyState::Open {
            return Err(WsError::NotOpen);
        }
        // The limits are on what the socket has not taken yet. A batch that
        // waits for the end of the frame is handed to the socket first, so
        // a send the engine's class (which writes each message at once)
        // would take is never refused here.
        if self.over_limits(len) {
            if let Some(failure) = self.flush() {
                return Err(failure);
            }
        }
        let Phase::Open(conn) = &mut self.phase else {
            return Err(WsError::NotOpen);
        };
        if conn.queued_messages() >= self.queue_limit {
            return Err(WsError::OutboundQueueFull {
                limit: self.queue_limit,
            });
        }
        let buffered = conn.buffered();
        if self.outbound_limit > 0 && buffered + len > self.outbound_limit {
            return Err(WsError::OutboundBufferFull {
                buffered,
                message: len,
                limit: self.outbound_limit,
            });
        }
        if text.is_some_and(|data| std::str::from_utf8(data).is_err()) {
            return Err(WsError::InvalidUtf8Outbound);
        }
        // The first message since the last poll()/flush() leaves at once;
        // the next ones wait, unless much is waiting already.
        let now = !self.batching;
        self.batching = true;
        let mut result = write(conn, now);
        if result.is_ok() {
            self.counters.messages_out += 1;
            self.counters.bytes_out += len as u64;
        }
        if result.is_ok() && !now && conn.buffered() >= FLUSH_AT {
            result = conn.flush();
        }
        result.map_err(|e| {
            let failure = self.io_failure(e);
            self.note(Some(&failure));
            failure
        })
    }

    /// Why a message could never be sent on a link opened with the current
    /// settings, whatever waits: text that is not UTF-8, or more bytes than
    /// [`PeerConfig::outbound_buffer_size`](crate::PeerConfig) allows. A
    /// sender that keeps messages for a link not open yet asks this first,
    /// so what it keeps can go out once one opens.
    pub fn unsendable(&self, data: &[u8], text: bool) -> Option<WsError> {
        let limit = self.config.outbound_buffer_size;
        if limit > 0 && data.len() > limit {
            return Some(WsError::OutboundBufferFull {
                buffered: 0,
                message: data.len(),
                limit,
            });
        }
        if text && std::str::from_utf8(data).is_err() {
            return Some(WsError::InvalidUtf8Outbound);
        }
        None
    }

    /// `true` when a message of `len` bytes would pass the outbound limits.
    fn over_limits(&self, len: usize) -> bool {
        let Phase::Open(conn) = &self.phase else {
            return false;
        };
        conn.queued_messages() >= self.queue_limit
            || (self.outbound_limit > 0 && conn.buffered() + len > self.outbound_limit)
    }
}
