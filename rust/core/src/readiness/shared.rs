//! What the two shared sets (`epoll`, `wsapoll`) have in common: the
//! registered sockets by token with a free list ([`Slots`]), each with the
//! flag a refresh raises and a dry read lowers, and a socket's
//! [`Registration`], which reads its flag (refreshing the set first when
//! the flag is down and a refresh is due, see `super::pace`) and leaves
//! the set when dropped.

use super::pace::Pace;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// A set of the process that sockets register with.
pub(super) trait SharedSet: Sync + 'static {
    /// When it was asked, and when next.
    fn pace(&self) -> &Pace;
    /// Asks the kernel and raises the flags of the sockets it names
    /// (skipped when another thread is refreshing right now).
    fn refresh(&self, now: Instant);
    /// Takes registration `token` out of the set.
    fn forget(&self, token: usize);
}

/// The registered sockets by token (`None`: a free slot), each with what
/// the set needs of it (`T`) and its flag.
pub(super) struct Slots<T> {
    entries: Vec<Option<(T, Arc<AtomicBool>)>>,
    free: Vec<usize>,
}

impl<T> Slots<T> {
    pub(super) const fn new() -> Slots<T> {
        Slots {
            entries: Vec::new(),
            free: Vec::new(),
        }
    }

    /// Adds a socket, its flag raised (a new socket is read at once);
    /// returns its token and flag.
    pub(super) fn insert(&mut self, value: T) -> (usize, Arc<AtomicBool>) {
        let flag = Arc::new(AtomicBool::new(true));
        let entry = Some((value, flag.clone()));
        let token = match self.free.pop() {
            Some(token) => {
                self.entries[token] = entry;
                token
            }
            None => {
                self.entries.push(entry);
                self.entries.len() - 1
            }
        };
        (token, flag)
    }

    /// Removes the socket of `token`; returns what the set kept of it.
    pub(super) fn remove(&mut self, token: usize) -> Option<T> {
        let (value, _) = self.entries.get_mut(token)?.take()?;
        self.free.push(token);
        Some(value)
    }

    /// How many slots there are, taken or free (epoll's room for events).
    #[cfg_attr(windows, allow(dead_code))]
    pub(super) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Raises the flag of `token`.
    pub(super) fn raise(&self, token: usize) {
        if let Some(Some((_, flag))) = self.entries.get(token) {
            flag.store(true, Ordering::Relaxed);
        }
    }

    /// The registered sockets with their tokens (the Windows list hands
    /// them all to the kernel at each refresh; epoll keeps its own).
    #[cfg_attr(not(windows), allow(dead_code))]
    pub(super) fn iter(&self) -> impl Iterator<Item = (usize, &T)> {
        self.entries
            .iter()
            .enumerate()
            .filter_map(|(token, entry)| entry.as_ref().map(|(value, _)| (token, value)))
    }
}

/// A socket's (or a listener's) place in a set.
pub struct Registration<S: SharedSet> {
    pub(super) set: &'static S,
    pub(super) token: usize,
    pub(super) flag: Arc<AtomicBool>,
}

impl<S: SharedSet> Registration<S> {
    /// Whether the socket may have input, per the shared set, as of `now`.
    pub fn readable(&self, now: Instant) -> bool {
        if !self.flag.load(Ordering::Relaxed) && self.set.pace().due(now) {
            self.set.refresh(now);
        }
        self.flag.load(Ordering::Relaxed)
    }

    /// The socket was read dry.
    pub fn clear(&self) {
        self.flag.store(false, Ordering::Relaxed);
    }
}

/// Leaves the set before the socket closes (the field order of `Socket`
/// and `Listener` sees to that), so no refresh names a closed handle.
impl<S: SharedSet> Drop for Registration<S> {
    fn drop(&mut self) {
        self.set.forget(self.token);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_reused_and_flags_start_raised() {
        let mut slots = Slots::new();
        let (a, fa) = slots.insert('a');
        let (b, _) = slots.insert('b');
        assert_ne!(a, b);
        assert!(fa.load(Ordering::Relaxed), "a new socket is read at once");
        fa.store(false, Ordering::Relaxed);
        slots.raise(a);
        assert!(fa.load(Ordering::Relaxed));
        assert_eq!(slots.remove(a), Some('a'));
        assert_eq!(slots.remove(a), None, "removed once");
        slots.raise(a); // a free slot: nothing to raise
        let (c, _) = slots.insert('c');
        assert_eq!(c, a, "the free slot is taken again");
        assert_eq!(slots.len(), 2);
        assert_eq!(slots.iter().collect::<Vec<_>>(), [(a, &'c'), (b, &'b')]);
    }
}
