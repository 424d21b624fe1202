//! The shared readiness set on Windows: the registered sockets are kept in
//! one list, and a refresh asks about all of them with a single `WSAPoll`
//! (a zero timeout: it never waits). Winsock has no registered set as
//! epoll is, so a refresh costs one call over the whole list; it is paced
//! as epoll's (`super::pace`) and skipped by a thread that finds another
//! one refreshing.

use super::pace::Pace;
use std::os::windows::io::AsRawSocket;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Instant;
use windows_sys::Win32::Networking::WinSock::{WSAPoll, POLLRDNORM, SOCKET, WSAPOLLFD};

/// The one set of the process (peers move between threads, one thread at a
/// time each, so flags are atomics).
struct Set {
    /// When it was asked, and when next.
    pace: Pace,
    table: Mutex<Table>,
}

struct Table {
    /// Registered sockets by token (`None`: a free slot).
    entries: Vec<Option<(SOCKET, Arc<AtomicBool>)>>,
    free: Vec<usize>,
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
            entries: Vec::new(),
            free: Vec::new(),
            fds: Vec::new(),
            tokens: Vec::new(),
        }),
    })
}

impl Set {
    /// One `WSAPoll` over every registered socket; a socket with anything to
    /// report (input, a hang-up, an error) is flagged, so its reader asks it.
    /// If the call itself fails, every socket is flagged: they are then read
    /// directly, as without a set.
    fn refresh(&self, now: Instant) {
        let Ok(mut table) = self.table.try_lock() else {
            return;
        };
        self.pace.begin(now);
        let began = Instant::now();
        Self::ask(&mut table);
        self.pace.end(began.elapsed());
    }

    fn ask(table: &mut Table) {
        table.fds.clear();
        table.tokens.clear();
        for (token, entry) in table.entries.iter().enumerate() {
            if let Some((sock, _)) = entry {
                table.fds.push(WSAPOLLFD {
                    fd: *sock,
                    events: POLLRDNORM,
                    revents: 0,
                });
                table.tokens.push(token);
            }
        }
        if table.fds.is_empty() {
            return;
        }
        let count = u32::try_from(table.fds.len()).unwrap_or(u32::MAX);
        // SAFETY: `fds` holds `count` initialised entries for the duration
        // of the call; a zero timeout only asks.
        let n = unsafe { WSAPoll(table.fds.as_mut_ptr(), count, 0) };
        for (fd, token) in table.fds.iter().zip(&table.tokens) {
            if n < 0 || fd.revents != 0 {
                if let Some(Some((_, flag))) = table.entries.get(*token) {
                    flag.store(true, Ordering::Relaxed);
                }
            }
        }
    }
}

/// A socket's (or a listener's) place in the set.
pub struct Registration {
    set: &'static Set,
    token: usize,
    flag: Arc<AtomicBool>,
}

impl Registration {
    pub fn new<S: AsRawSocket>(sock: &S) -> Option<Registration> {
        let set = set();
        let mut table = set.table.lock().unwrap_or_else(PoisonError::into_inner);
        let token = table.free.pop().unwrap_or(table.entries.len());
        let flag = Arc::new(AtomicBool::new(true));
        let entry = Some((sock.as_raw_socket() as SOCKET, flag.clone()));
        if token == table.entries.len() {
            table.entries.push(entry);
        } else {
            table.entries[token] = entry;
        }
        Some(Registration { set, token, flag })
    }

    /// Whether the socket may have input, per the shared set, as of `now`.
    pub fn readable(&self, now: Instant) -> bool {
        if !self.flag.load(Ordering::Relaxed) && self.set.pace.due(now) {
            self.set.refresh(now);
        }
        self.flag.load(Ordering::Relaxed)
    }

    /// The socket was read dry.
    pub fn clear(&self) {
        self.flag.store(false, Ordering::Relaxed);
    }
}

/// Leaves the list before the socket closes (the field order of `Socket`
/// and `Listener` sees to that), so no refresh names a closed handle.
impl Drop for Registration {
    fn drop(&mut self) {
        let mut table = self
            .set
            .table
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(slot) = table.entries.get_mut(self.token) {
            *slot = None;
            table.free.push(self.token);
        }
    }
}
