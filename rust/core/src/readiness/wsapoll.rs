//! The shared readiness set on Windows: the registered sockets are kept in
//! one list, and a refresh asks about all of them with a single `WSAPoll`
//! (a zero timeout: it never waits). Winsock has no registered set as
//! epoll is, so a refresh costs one call over the whole list; it is paced
//! as epoll's (`super::pace`) and skipped by a thread that finds another
//! one refreshing.

use super::pace::Pace;
use super::shared::{self, SharedSet, Slots};
use std::os::windows::io::AsRawSocket;
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::Instant;
use windows_sys::Win32::Networking::WinSock::{WSAPoll, POLLRDNORM, SOCKET, WSAPOLLFD};

/// The one set of the process (peers move between threads, one thread at a
/// time each, so flags are atomics).
pub struct Set {
    pace: Pace,
    table: Mutex<Table>,
}

struct Table {
    /// The registered sockets.
    slots: Slots<SOCKET>,
    /// Scratch for a refresh: the list handed to `WSAPoll` and, for each
    /// entry, its token.
    fds: Vec<WSAPOLLFD>,
    tokens: Vec<usize>,
}

fn set() -> &'static Set {
    static SET: OnceLock<Set> = OnceLock::new();
    SET.get_or_init(|| Set {
        pace: Pace::new(),
        table: Mutex::new(Table {
            slots: Slots::new(),
            fds: Vec::new(),
            tokens: Vec::new(),
        }),
    })
}

impl Set {
    fn table(&self) -> std::sync::MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// One `WSAPoll` over every registered socket; a socket with anything to
    /// report (input, a hang-up, an error) is flagged, so its reader asks it.
    /// If the call itself fails, every socket is flagged: they are then read
    /// directly, as without a set.
    fn ask(table: &mut Table) {
        let Table { slots, fds, tokens } = table;
        fds.clear();
        tokens.clear();
        for (token, sock) in slots.iter() {
            fds.push(WSAPOLLFD {
                fd: *sock,
                events: POLLRDNORM,
                revents: 0,
            });
            tokens.push(token);
        }
        if fds.is_empty() {
            return;
        }
        let count = u32::try_from(fds.len()).unwrap_or(u32::MAX);
        // SAFETY: `fds` holds `count` initialised entries for the duration
        // of the call; a zero timeout only asks.
        let n = unsafe { WSAPoll(fds.as_mut_ptr(), count, 0) };
        for (fd, token) in fds.iter().zip(tokens.iter()) {
            if n < 0 || fd.revents != 0 {
                slots.raise(*token);
            }
        }
    }
}

impl SharedSet for Set {
    fn pace(&self) -> &Pace {
        &self.pace
    }

    fn refresh(&self, now: Instant) {
        let Ok(mut table) = self.table.try_lock() else {
            return;
        };
        self.pace.begin(now);
        let began = Instant::now();
        Self::ask(&mut table);
        self.pace.end(began.elapsed());
    }

    fn forget(&self, token: usize) {
        self.table().slots.remove(token);
    }
}

/// A socket's (or a listener's) place in the list.
pub type Registration = shared::Registration<Set>;

impl Registration {
    /// Adds `sock` to the list.
    pub fn new<S: AsRawSocket>(sock: &S) -> Option<Registration> {
        let set = set();
        let (token, flag) = set.table().slots.insert(sock.as_raw_socket() as SOCKET);
        Some(Registration { set, token, flag })
    }
}
