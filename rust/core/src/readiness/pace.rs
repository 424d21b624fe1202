//! How often the shared readiness set is asked: at most every
//! [`REFRESH_EVERY`], and at most a tenth of the time (a refresh that
//! takes long, with thousands of sockets ready at once, spaces out the
//! next ones, so a poll over many idle links costs time in proportion to
//! their number, not its square). Shared by every thread.

use super::REFRESH_EVERY;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The longest wait between two refreshes, however long the last took.
const LONGEST_GAP: Duration = Duration::from_millis(5);

pub(super) struct Pace {
    /// Clock origin for `last`.
    origin: Instant,
    /// Nanoseconds since `origin` when the last refresh began.
    last: AtomicU64,
    /// Nanoseconds that must pass between two refreshes.
    gap: AtomicU64,
}

impl Pace {
    pub(super) fn new() -> Pace {
        Pace {
            origin: Instant::now(),
            last: AtomicU64::new(0),
            gap: AtomicU64::new(nanos(REFRESH_EVERY)),
        }
    }

    fn since_origin(&self, at: Instant) -> u64 {
        nanos(at.saturating_duration_since(self.origin))
    }

    /// Whether a refresh is due at `now`.
    pub(super) fn due(&self, now: Instant) -> bool {
        let since = self
            .since_origin(now)
            .saturating_sub(self.last.load(Ordering::Relaxed));
        since >= self.gap.load(Ordering::Relaxed)
    }

    /// A refresh begins at `now`.
    pub(super) fn begin(&self, now: Instant) {
        self.last.store(self.since_origin(now), Ordering::Relaxed);
    }

    /// The refresh took `took`: the next one waits ten times as long (at
    /// least [`REFRESH_EVERY`], at most [`LONGEST_GAP`]: a refresh that was
    /// slow because its thread was preempted must not hold every idle
    /// socket's next input back for long).
    pub(super) fn end(&self, took: Duration) {
        let gap = nanos(took)
            .saturating_mul(10)
            .clamp(nanos(REFRESH_EVERY), nanos(LONGEST_GAP));
        self.gap.store(gap, Ordering::Relaxed);
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slow_refresh_spaces_out_the_next() {
        let pace = Pace::new();
        let t0 = Instant::now() + Duration::from_secs(1);
        assert!(pace.due(t0));
        pace.begin(t0);
        assert!(!pace.due(t0 + REFRESH_EVERY / 2));
        pace.end(Duration::from_nanos(1));
        assert!(pace.due(t0 + REFRESH_EVERY), "a quick one: the floor");
        pace.end(Duration::from_micros(300));
        assert!(!pace.due(t0 + Duration::from_micros(2_900)));
        assert!(
            pace.due(t0 + Duration::from_millis(3)),
            "ten times the last"
        );
        pace.end(Duration::from_secs(1));
        assert!(!pace.due(t0 + Duration::from_micros(4_900)));
        assert!(pace.due(t0 + LONGEST_GAP), "a preempted refresh: the cap");
    }
}
