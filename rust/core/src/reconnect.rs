//! What a client that reconnects by itself decides, with no engine and no
//! socket in it: whether the way a link ended calls for another attempt
//! ([`Ending`]), when that attempt starts (exponential backoff with jitter,
//! [`Backoff`], kept by [`Reconnector`]), and the messages a game sends
//! while the link is down ([`Outbox`]). The Godot node `RustWebSocketClient`
//! drives a `Peer` with these.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// How long to wait before each attempt: `min_delay`, doubled for every
/// attempt in a row up to `max_delay`, less a random part of up to
/// `jitter` of it (so clients that lost the same server do not all come
/// back at the same moment).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    /// Seconds before the first attempt (greater than 0).
    pub min_delay: f64,
    /// Longest wait, in seconds.
    pub max_delay: f64,
    /// The part of each wait that is random, from 0 (none) to 1.
    pub jitter: f64,
    /// Attempts in a row before giving up; 0 tries for ever.
    pub max_attempts: u32,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            min_delay: 0.5,
            max_delay: 30.0,
            jitter: 0.5,
            max_attempts: 0,
        }
    }
}

/// Shortest wait between two attempts, whatever the settings: a server
/// that refuses at once cannot make a client spin.
pub const FLOOR_DELAY: f64 = 0.05;

/// How long, in seconds, a link must stay open for the attempts to count
/// from 1 again: a server that accepts and drops at once (or closes with
/// 1012/1013 each time) gets ever longer waits, not an attempt every
/// [`FLOOR_DELAY`].
pub const STABLE_OPEN: f64 = 5.0;

/// Longest wait, whatever the settings (a year): longer ones, up to an
/// infinite `max_delay`, are as good as never and must still make a
/// `Duration`.
const CEILING_DELAY: f64 = 365.0 * 24.0 * 3600.0;

impl Backoff {
    /// The wait before attempt `attempt` (1 for the first after an
    /// ending), in seconds; `draw` is a random number in `[0, 1)`.
    pub fn delay(&self, attempt: u32, draw: f64) -> f64 {
        let min = self.min_delay.max(FLOOR_DELAY);
        let max = self.max_delay.max(min);
        // Past 2^60 every wait is the longest anyway.
        let doublings = attempt.saturating_sub(1).min(60) as i32;
        let base = (min * 2f64.powi(doublings)).min(max);
        let jitter = self.jitter.clamp(0.0, 1.0) * draw.clamp(0.0, 1.0);
        let delay = base * (1.0 - jitter);
        // NaN settings (the engine lets a float property be NaN) fall back
        // to the shortest wait rather than to no `Duration` at all.
        if delay.is_nan() {
            FLOOR_DELAY
        } else {
            delay.clamp(FLOOR_DELAY, CEILING_DELAY)
        }
    }
}

/// How a link (or an attempt to open one) ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The game closed it.
    ClosedHere,
    /// The server closed it with this code.
    ClosedByServer(u16),
    /// It failed or was lost: an attempt that did not open, a drop, a
    /// heartbeat timeout, a protocol error.
    Lost,
}

impl Ending {
    /// `true` when another attempt is in order: the link was lost, or the
    /// server said to come back (1012 service restart, 1013 try again
    /// later). A close the game or the server asked for otherwise stays
    /// closed.
    pub fn calls_for_reconnect(self) -> bool {
        match self {
            Ending::ClosedHere => false,
            Ending::ClosedByServer(code) => matches!(code, 1012 | 1013),
            Ending::Lost => true,
        }
    }
}

/// Counts attempts and keeps the time of the next one.
#[derive(Debug, Clone)]
pub struct Reconnector {
    /// The waits.
    pub backoff: Backoff,
    /// Reconnecting at all.
    pub enabled: bool,
    /// Attempts since a link last stayed open [`STABLE_OPEN`] seconds.
    attempt: u32,
    next_at: Option<Instant>,
    /// When the current link opened (while it is open).
    open_since: Option<Instant>,
}

impl Reconnector {
    /// Nothing counted yet.
    pub fn new(backoff: Backoff, enabled: bool) -> Reconnector {
        Reconnector {
            backoff,
            enabled,
            attempt: 0,
            next_at: None,
            open_since: None,
        }
    }

    /// The link opened at `now`. The attempts count from 1 again once it
    /// has stayed open [`STABLE_OPEN`] seconds (at its ending).
    pub fn opened(&mut self, now: Instant) {
        self.next_at = None;
        self.open_since = Some(now);
    }

    /// The link ended as `ending` at `now`: the next attempt's number and
    /// wait in seconds, when there is one (`draw` is random, in `[0, 1)`).
    pub fn ended(&mut self, ending: Ending, now: Instant, draw: f64) -> Option<(u32, f64)> {
        self.next_at = None;
        if self.stayed_open(now) {
            self.attempt = 0;
        }
        self.open_since = None;
        if !self.would_reconnect(ending, now) {
            return None;
        }
        self.attempt += 1;
        let delay = self.backoff.delay(self.attempt, draw);
        self.next_at = Some(now + Duration::from_secs_f64(delay));
        Some((self.attempt, delay))
    }

    /// Whether a link ending as `ending` now would get another attempt
    /// (the setting, the ending, the attempts left): what
    /// [`Reconnector::ended`] will decide, asked before the end is final.
    pub fn would_reconnect(&self, ending: Ending, now: Instant) -> bool {
        let attempt = if self.stayed_open(now) {
            0
        } else {
            self.attempt
        };
        let exhausted = self.backoff.max_attempts > 0 && attempt >= self.backoff.max_attempts;
        self.enabled && ending.calls_for_reconnect() && !exhausted
    }

    /// The current link has been open [`STABLE_OPEN`] seconds by `now`: the
    /// attempts count from 1 again at its end.
    fn stayed_open(&self, now: Instant) -> bool {
        self.open_since.is_some_and(|since| {
            now.saturating_duration_since(since) >= Duration::from_secs_f64(STABLE_OPEN)
        })
    }

    /// [`Reconnector::ended`] with a random draw.
    pub fn ended_now(&mut self, ending: Ending) -> Option<(u32, f64)> {
        self.ended(ending, Instant::now(), rand::random::<f64>())
    }

    /// `true` once, when the wait is over and the attempt should start.
    pub fn due(&mut self, now: Instant) -> bool {
        match self.next_at {
            Some(at) if now >= at => {
                self.next_at = None;
                true
            }
            _ => false,
        }
    }

    /// Waiting for the next attempt.
    pub fn waiting(&self) -> bool {
        self.next_at.is_some()
    }

    /// No further attempt (the game closed, or connects itself).
    pub fn cancel(&mut self) {
        self.next_at = None;
        self.attempt = 0;
        self.open_since = None;
    }

    /// Attempts since a link last stayed open; 0 while one is open.
    pub fn attempt(&self) -> u32 {
        if self.open_since.is_some() {
            0
        } else {
            self.attempt
        }
    }
}

/// Messages sent while the link is not open, kept up to a limit and sent
/// in order once it opens.
#[derive(Debug, Default)]
pub struct Outbox {
    /// Most messages kept; 0 keeps none.
    pub limit: usize,
    queue: VecDeque<(Vec<u8>, bool)>,
}

impl Outbox {
    /// An empty outbox keeping up to `limit` messages.
    pub fn new(limit: usize) -> Outbox {
        Outbox {
            limit,
            queue: VecDeque::new(),
        }
    }

    /// Keeps a message (`text` or binary); `false` when the outbox is full
    /// and it was dropped.
    pub fn push(&mut self, data: &[u8], text: bool) -> bool {
        if self.queue.len() >= self.limit {
            return false;
        }
        self.queue.push_back((data.to_vec(), text));
        true
    }

    /// The oldest message, to send now.
    pub fn pop(&mut self) -> Option<(Vec<u8>, bool)> {
        self.queue.pop_front()
    }

    /// Puts back a message that could not be sent after all, first in line.
    pub fn unpop(&mut self, message: (Vec<u8>, bool)) {
        self.queue.push_front(message);
    }

    /// Drops every message kept; how many there were.
    pub fn clear(&mut self) -> usize {
        let n = self.queue.len();
        self.queue.clear();
        n
    }

    /// Messages kept.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// No message kept.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_up_to_the_max_and_jitter_only_shortens() {
        let b = Backoff {
            min_delay: 0.5,
            max_delay: 4.0,
            jitter: 0.5,
            max_attempts: 0,
        };
        let plain: Vec<f64> = (1..=6).map(|a| b.delay(a, 0.0)).collect();
        assert_eq!(plain, [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]);
        assert_eq!(b.delay(3, 0.999_999), 2.0 * (1.0 - 0.5 * 0.999_999));
        assert_eq!(b.delay(u32::MAX, 0.0), 4.0, "no overflow far out");
        for draw in [0.0, 0.3, 0.99] {
            let d = b.delay(2, draw);
            assert!((0.5..=1.0).contains(&d), "{d}");
        }
    }

    #[test]
    fn no_setting_makes_attempts_come_back_to_back() {
        let b = Backoff {
            min_delay: 0.0,
            max_delay: 0.0,
            jitter: 1.0,
            max_attempts: 0,
        };
        for attempt in 1..10 {
            assert!(b.delay(attempt, 0.999) >= FLOOR_DELAY);
        }
    }

    #[test]
    fn any_setting_gives_a_wait_a_duration_can_hold() {
        let t0 = Instant::now();
        for (min, max, jitter) in [
            (f64::INFINITY, f64::INFINITY, 0.0),
            (1e300, 1e300, 0.5),
            (f64::NAN, f64::NAN, f64::NAN),
            (-5.0, -1.0, -1.0),
        ] {
            let backoff = Backoff {
                min_delay: min,
                max_delay: max,
                jitter,
                max_attempts: 0,
            };
            let mut r = Reconnector::new(backoff, true);
            for _ in 0..70 {
                let (_, delay) = r.ended(Ending::Lost, t0, 0.5).expect("an attempt");
                assert!((FLOOR_DELAY..=CEILING_DELAY).contains(&delay), "{delay}");
            }
        }
    }

    #[test]
    fn which_endings_reconnect() {
        assert!(Ending::Lost.calls_for_reconnect());
        assert!(!Ending::ClosedHere.calls_for_reconnect());
        assert!(!Ending::ClosedByServer(1000).calls_for_reconnect());
        assert!(!Ending::ClosedByServer(1001).calls_for_reconnect());
        assert!(Ending::ClosedByServer(1012).calls_for_reconnect());
        assert!(Ending::ClosedByServer(1013).calls_for_reconnect());
    }

    #[test]
    fn attempts_count_up_are_due_after_the_wait_and_reset_on_open() {
        let mut r = Reconnector::new(
            Backoff {
                min_delay: 1.0,
                max_delay: 8.0,
                jitter: 0.0,
                max_attempts: 3,
            },
            true,
        );
        let t0 = Instant::now();
        assert_eq!(r.ended(Ending::Lost, t0, 0.5), Some((1, 1.0)));
        assert!(r.waiting());
        assert!(!r.due(t0 + Duration::from_millis(999)));
        assert!(r.due(t0 + Duration::from_secs(1)));
        assert!(!r.due(t0 + Duration::from_secs(2)), "due once");
        assert_eq!(r.ended(Ending::Lost, t0, 0.5), Some((2, 2.0)));
        assert_eq!(r.ended(Ending::Lost, t0, 0.5), Some((3, 4.0)));
        assert_eq!(r.ended(Ending::Lost, t0, 0.5), None, "max_attempts");
        assert!(!r.waiting());
        r.opened(t0);
        assert_eq!(r.attempt(), 0, "none while open");
        let later = t0 + Duration::from_secs_f64(STABLE_OPEN);
        assert_eq!(r.ended(Ending::Lost, later, 0.5), Some((1, 1.0)));
        assert_eq!(r.ended(Ending::ClosedHere, t0, 0.5), None);
        assert!(
            !r.waiting(),
            "an ending without a reconnect cancels the wait"
        );
        let mut off = Reconnector::new(Backoff::default(), false);
        assert_eq!(off.ended(Ending::Lost, t0, 0.5), None);
    }

    #[test]
    fn a_link_that_drops_at_once_does_not_reset_the_backoff() {
        let mut r = Reconnector::new(
            Backoff {
                min_delay: 0.05,
                max_delay: 8.0,
                jitter: 0.0,
                max_attempts: 0,
            },
            true,
        );
        let mut now = Instant::now();
        let mut delays = Vec::new();
        // A server that accepts, then closes with 1012 (or drops) at once.
        for ending in [Ending::Lost, Ending::ClosedByServer(1012), Ending::Lost] {
            let (attempt, delay) = r.ended(ending, now, 0.0).expect("another attempt");
            delays.push((attempt, delay));
            now += Duration::from_secs_f64(delay);
            assert!(r.due(now));
            r.opened(now);
            now += Duration::from_millis(10);
        }
        assert_eq!(delays, [(1, 0.05), (2, 0.1), (3, 0.2)]);
        assert_eq!(r.ended(Ending::Lost, now, 0.0), Some((4, 0.4)));
        // One that stayed open long enough starts again from the shortest.
        r.opened(now);
        let stable = now + Duration::from_secs_f64(STABLE_OPEN);
        assert_eq!(r.ended(Ending::Lost, stable, 0.0), Some((1, 0.05)));
    }

    /// Asked while a link is still closing, `would_reconnect` says what
    /// `ended` then decides: per ending, with the attempts used up, and
    /// after a link that stayed open long enough to start counting again.
    #[test]
    fn would_reconnect_foretells_ended() {
        let backoff = Backoff {
            min_delay: 0.05,
            max_delay: 1.0,
            jitter: 0.0,
            max_attempts: 1,
        };
        let endings = [
            Ending::Lost,
            Ending::ClosedHere,
            Ending::ClosedByServer(1000),
            Ending::ClosedByServer(1012),
            Ending::ClosedByServer(1013),
        ];
        let t0 = Instant::now();
        for enabled in [true, false] {
            for ending in endings {
                let mut r = Reconnector::new(backoff, enabled);
                let said = r.would_reconnect(ending, t0);
                assert_eq!(said, r.ended(ending, t0, 0.0).is_some(), "{ending:?}");
                // The one attempt allowed is used: a quick drop ends it.
                let mut used = Reconnector::new(backoff, enabled);
                let _ = used.ended(Ending::Lost, t0, 0.0);
                used.opened(t0);
                let soon = t0 + Duration::from_millis(10);
                let said = used.would_reconnect(ending, soon);
                assert_eq!(said, used.clone().ended(ending, soon, 0.0).is_some());
                assert!(!said, "{ending:?}: attempts used up");
                // Open long enough: counting starts again.
                let later = t0 + Duration::from_secs_f64(STABLE_OPEN);
                let said = used.would_reconnect(ending, later);
                assert_eq!(said, used.ended(ending, later, 0.0).is_some());
                assert_eq!(said, enabled && ending.calls_for_reconnect());
            }
        }
    }

    #[test]
    fn outbox_keeps_order_up_to_its_limit() {
        let mut o = Outbox::new(2);
        assert!(o.push(b"a", true));
        assert!(o.push(b"b", false));
        assert!(!o.push(b"c", true), "full");
        assert_eq!(o.pop(), Some((b"a".to_vec(), true)));
        o.unpop((b"a".to_vec(), true));
        assert_eq!(o.len(), 2);
        assert_eq!(o.clear(), 2);
        assert!(o.is_empty());
        let mut none = Outbox::new(0);
        assert!(!none.push(b"x", true));
    }
}
