//! A link's statistics and round-trip time (see [`crate::stats`]): the
//! figures the game asks for, and `ping()`.

use super::{Peer, Phase, ReadyState};
use crate::error::WsError;
use crate::stats::Statistics;
use std::time::{Duration, Instant};

impl Peer {
    /// Sends a ping now (written at once if the socket takes it); its pong
    /// updates the round-trip time ([`Peer::statistics`]).
    pub fn ping(&mut self) -> Result<(), WsError> {
        if self.state != ReadyState::Open {
            return Err(WsError::NotOpen);
        }
        let Phase::Open(conn) = &mut self.phase else {
            return Err(WsError::NotOpen);
        };
        conn.ping(&self.rtt.start(Instant::now()));
        self.batching = false;
        let written = conn.flush();
        written.map_err(|e| {
            let failure = self.io_failure(e);
            self.note(Some(&failure));
            failure
        })
    }

    /// The link's figures now: traffic of the current (or last) connection,
    /// what waits, and the round-trip time.
    pub fn statistics(&self) -> Statistics {
        let c = &self.counters;
        let (wire_in, wire_out, queued_out) = match &self.phase {
            Phase::Open(conn) => (conn.wire_in(), conn.wire_out(), conn.queued_messages()),
            _ => (0, 0, 0),
        };
        Statistics {
            messages_in: c.messages_in,
            messages_out: c.messages_out,
            bytes_in: c.bytes_in,
            bytes_out: c.bytes_out,
            wire_in: c.wire_in + wire_in,
            wire_out: c.wire_out + wire_out,
            queued_in: self.inbound.len() as u64,
            queued_out: queued_out as u64,
            buffered_out: self.buffered_amount() as u64,
            pings_sent: self.rtt.sent,
            pongs_received: self.rtt.answered,
            rtt_latest: self.rtt.latest,
            rtt_smoothed: self.rtt.smoothed,
            rtt_lowest: self.rtt.lowest,
            since_last_message: self.last_message_at.map(|t| t.elapsed()),
        }
    }

    /// The last round-trip time measured, if any (cheap: for every frame).
    pub fn round_trip_time(&self) -> Option<Duration> {
        self.rtt.latest
    }

    /// Pongs that answered our pings so far on this connection: a caller
    /// that notes it before a poll sees whether the poll brought one.
    pub fn pongs_received(&self) -> u64 {
        self.rtt.answered
    }

    /// The connection's wire bytes are kept in the counters as it ends.
    pub(super) fn retire_connection(&mut self) {
        if let Phase::Open(conn) = &self.phase {
            self.counters.wire_in += conn.wire_in();
            self.counters.wire_out += conn.wire_out();
        }
        self.rtt.forget_pings();
    }
}
