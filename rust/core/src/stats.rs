//! What a link counts about its traffic ([`Statistics`]) and its round-trip
//! time, measured with its own pings ([`RoundTrip`]).
//!
//! Counting is plain integer additions where a message passes (no clock
//! reading, no allocation); the bytes on the wire come from the transport's
//! own totals. The round-trip time comes only from pongs that answer one of
//! our pings: each ping carries 8 random bytes, a pong is matched by them,
//! and at most [`PINGS_IN_FLIGHT`] pings are remembered, so a peer's
//! unsolicited or forged pongs neither change the figures nor cost memory.

use std::time::{Duration, Instant};

/// Pings remembered while their pongs are awaited; a newer ping replaces the
/// oldest.
pub const PINGS_IN_FLIGHT: usize = 4;

/// Bytes of the payload of our pings.
pub const PING_PAYLOAD: usize = 8;

/// A link's figures at one moment (see [`crate::Peer::statistics`]). Counts
/// cover the current connection (cleared when the next one starts) and stay
/// readable after it ends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Statistics {
    /// Whole messages received (queued for the game).
    pub messages_in: u64,
    /// Whole messages sent.
    pub messages_out: u64,
    /// Payload bytes of the messages received (after inflating).
    pub bytes_in: u64,
    /// Payload bytes of the messages sent (before compressing).
    pub bytes_out: u64,
    /// Bytes read from the connection once open: frame headers, control
    /// frames and compressed payloads as they came.
    pub wire_in: u64,
    /// Bytes framed for the connection once open: frame headers (and masks),
    /// control frames and compressed payloads.
    pub wire_out: u64,
    /// Received packets waiting for the game now.
    pub queued_in: u64,
    /// Sent messages not yet fully handed to the socket now.
    pub queued_out: u64,
    /// Outbound bytes not yet handed to the socket now.
    pub buffered_out: u64,
    /// Pings we sent (heartbeat and [`crate::Peer::ping`]).
    pub pings_sent: u64,
    /// Pongs that answered one of our pings.
    pub pongs_received: u64,
    /// The last round-trip time measured.
    pub rtt_latest: Option<Duration>,
    /// The round-trip time smoothed over the samples (weight 1/8 for the
    /// newest, as TCP's estimate).
    pub rtt_smoothed: Option<Duration>,
    /// The lowest round-trip time measured.
    pub rtt_lowest: Option<Duration>,
    /// Time since the last message arrived (as of the last poll that
    /// received one).
    pub since_last_message: Option<Duration>,
}

impl Statistics {
    /// The figures of several links together: counts added; the latest and
    /// smoothed round-trip times averaged over the links that have one, the
    /// lowest the lowest; the time since the last message the shortest.
    pub fn total(links: impl IntoIterator<Item = Statistics>) -> Statistics {
        let mut t = Statistics::default();
        let (mut latest, mut smoothed, mut timed) = (Duration::ZERO, Duration::ZERO, 0u32);
        for s in links {
            t.messages_in += s.messages_in;
            t.messages_out += s.messages_out;
            t.bytes_in += s.bytes_in;
            t.bytes_out += s.bytes_out;
            t.wire_in += s.wire_in;
            t.wire_out += s.wire_out;
            t.queued_in += s.queued_in;
            t.queued_out += s.queued_out;
            t.buffered_out += s.buffered_out;
            t.pings_sent += s.pings_sent;
            t.pongs_received += s.pongs_received;
            if let (Some(l), Some(m)) = (s.rtt_latest, s.rtt_smoothed) {
                latest = latest.saturating_add(l);
                smoothed = smoothed.saturating_add(m);
                timed = timed.saturating_add(1);
            }
            t.rtt_lowest = min_of(t.rtt_lowest, s.rtt_lowest);
            t.since_last_message = min_of(t.since_last_message, s.since_last_message);
        }
        if timed > 0 {
            t.rtt_latest = Some(latest / timed);
            t.rtt_smoothed = Some(smoothed / timed);
        }
        t
    }
}

fn min_of(a: Option<Duration>, b: Option<Duration>) -> Option<Duration> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The counters a link keeps as messages pass.
#[derive(Debug, Clone, Copy, Default)]
pub struct Counters {
    pub messages_in: u64,
    pub messages_out: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// Wire bytes of connections that ended (an open one adds its own).
    pub wire_in: u64,
    pub wire_out: u64,
}

/// Round-trip times from our own pings and the pongs that answer them.
#[derive(Debug, Clone, Default)]
pub struct RoundTrip {
    /// Pings awaiting their pong: payload and when it was queued.
    in_flight: [Option<(u64, Instant)>; PINGS_IN_FLIGHT],
    next: usize,
    pub sent: u64,
    pub answered: u64,
    pub latest: Option<Duration>,
    pub smoothed: Option<Duration>,
    pub lowest: Option<Duration>,
}

impl RoundTrip {
    /// Remembers a new ping sent at `now`; returns its payload.
    pub fn start(&mut self, now: Instant) -> [u8; PING_PAYLOAD] {
        let token = rand::random::<u64>();
        self.in_flight[self.next] = Some((token, now));
        self.next = (self.next + 1) % PINGS_IN_FLIGHT;
        self.sent += 1;
        token.to_be_bytes()
    }

    /// A pong arrived at `now`: returns the round-trip time when it answers
    /// one of our pings (that ping is then forgotten), `None` otherwise.
    pub fn pong(&mut self, payload: &[u8], now: Instant) -> Option<Duration> {
        let token = u64::from_be_bytes(payload.try_into().ok()?);
        let slot = self
            .in_flight
            .iter_mut()
            .find(|s| matches!(s, Some((t, _)) if *t == token))?;
        let (_, sent) = slot.take()?;
        let rtt = now.saturating_duration_since(sent);
        self.answered += 1;
        self.latest = Some(rtt);
        self.lowest = Some(self.lowest.map_or(rtt, |l| l.min(rtt)));
        self.smoothed = Some(match self.smoothed {
            None => rtt,
            Some(s) => (s * 7 + rtt) / 8,
        });
        Some(rtt)
    }

    /// Forgets the pings in flight (the connection ended).
    pub fn forget_pings(&mut self) {
        self.in_flight = Default::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_pongs_that_answer_our_pings_count() {
        let t0 = Instant::now();
        let mut rt = RoundTrip::default();
        let payload = rt.start(t0);
        // Unsolicited, forged and malformed pongs change nothing.
        for bad in [&[][..], &[1, 2, 3], &[0; 8], &[0xff; 9]] {
            if bad != payload {
                assert_eq!(rt.pong(bad, t0 + Duration::from_millis(1)), None);
            }
        }
        assert_eq!(rt.latest, None);
        let rtt = rt.pong(&payload, t0 + Duration::from_millis(30));
        assert_eq!(rtt, Some(Duration::from_millis(30)));
        // The same pong again (a replay) is not a second answer.
        assert_eq!(rt.pong(&payload, t0 + Duration::from_millis(40)), None);
        assert_eq!((rt.sent, rt.answered), (1, 1));
        let p2 = rt.start(t0 + Duration::from_millis(100));
        rt.pong(&p2, t0 + Duration::from_millis(110));
        assert_eq!(rt.latest, Some(Duration::from_millis(10)));
        assert_eq!(rt.lowest, Some(Duration::from_millis(10)));
        // (30 * 7 + 10) / 8
        assert_eq!(rt.smoothed, Some(Duration::from_micros(27_500)));
    }

    #[test]
    fn totals_add_counts_and_average_round_trips() {
        let ms = Duration::from_millis;
        let a = Statistics {
            messages_in: 2,
            wire_out: 10,
            rtt_latest: Some(ms(10)),
            rtt_smoothed: Some(ms(20)),
            rtt_lowest: Some(ms(5)),
            ..Statistics::default()
        };
        let b = Statistics {
            messages_in: 3,
            wire_out: 7,
            rtt_latest: Some(ms(30)),
            rtt_smoothed: Some(ms(40)),
            rtt_lowest: Some(ms(3)),
            since_last_message: Some(ms(100)),
            ..Statistics::default()
        };
        let t = Statistics::total([a, b, Statistics::default()]);
        assert_eq!((t.messages_in, t.wire_out), (5, 17));
        assert_eq!((t.rtt_latest, t.rtt_smoothed), (Some(ms(20)), Some(ms(30))));
        assert_eq!(
            (t.rtt_lowest, t.since_last_message),
            (Some(ms(3)), Some(ms(100)))
        );
        assert_eq!(Statistics::total([]), Statistics::default());
    }

    #[test]
    fn pings_in_flight_are_bounded() {
        let t0 = Instant::now();
        let mut rt = RoundTrip::default();
        let payloads: Vec<_> = (0..PINGS_IN_FLIGHT + 2).map(|_| rt.start(t0)).collect();
        // The two oldest were replaced; the others still match.
        assert_eq!(rt.pong(&payloads[0], t0), None);
        assert_eq!(rt.pong(&payloads[1], t0), None);
        for p in &payloads[2..] {
            assert!(rt.pong(p, t0).is_some());
        }
        assert_eq!(rt.in_flight.iter().flatten().count(), 0);
    }
}
