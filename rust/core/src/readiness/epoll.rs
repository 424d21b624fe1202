//! The shared readiness set on Linux: one epoll set for the process,
//! level-triggered, asked with one `epoll_wait` per refresh.

use super::pace::Pace;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Instant;

/// The one epoll set of the process. Peers may move between threads (one
/// thread at a time each), so a socket's flag is an atomic and the set is
/// shared; a thread that finds another one refreshing simply skips.
struct Set {
    epfd: OwnedFd,
    /// When it was asked, and when next.
    pace: Pace,
    table: Mutex<Table>,
}

struct Table {
    flags: Vec<Option<Arc<AtomicBool>>>,
    free: Vec<usize>,
    events: Vec<libc::epoll_event>,
}

fn set() -> Option<&'static Set> {
    static SET: OnceLock<Option<Set>> = OnceLock::new();
    SET.get_or_init(|| {
        // SAFETY: plain syscall; the result is checked.
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        (fd >= 0).then(|| Set {
            // SAFETY: `fd` is a new descriptor we own.
            epfd: unsafe { OwnedFd::from_raw_fd(fd) },
            pace: Pace::new(),
            table: Mutex::new(Table {
                flags: Vec::new(),
                free: Vec::new(),
                events: Vec::new(),
            }),
        })
    })
    .as_ref()
}

impl Set {
    /// One `epoll_wait` with room for every registered socket (ready
    /// sockets stay ready until read, so looping could never end).
    /// Skipped when another thread is refreshing right now.
    fn refresh(&self, now: Instant) {
        let Ok(mut table) = self.table.try_lock() else {
            return;
        };
        self.pace.begin(now);
        let began = Instant::now();
        self.ask(&mut table);
        self.pace.end(began.elapsed());
    }

    fn ask(&self, table: &mut Table) {
        let room = table.flags.len().max(64);
        if table.events.len() < room {
            // SAFETY: zeroed epoll_event is a valid value.
            table.events.resize(room, unsafe { std::mem::zeroed() });
        }
        let max = i32::try_from(table.events.len()).unwrap_or(i32::MAX);
        // SAFETY: `events` has room for `max` entries; timeout 0 never blocks.
        let n =
            unsafe { libc::epoll_wait(self.epfd.as_raw_fd(), table.events.as_mut_ptr(), max, 0) };
        for e in table.events.iter().take(usize::try_from(n).unwrap_or(0)) {
            if let Some(Some(flag)) = table.flags.get(e.u64 as usize) {
                flag.store(true, Ordering::Relaxed);
            }
        }
    }
}

/// A socket's (or a listener's) place in the set.
pub struct Registration {
    set: &'static Set,
    fd: RawFd,
    token: usize,
    flag: Arc<AtomicBool>,
}

impl Registration {
    pub fn new<S: AsRawFd>(sock: &S) -> Option<Registration> {
        let set = set()?;
        let mut table = set.table.lock().unwrap_or_else(PoisonError::into_inner);
        let token = table.free.pop().unwrap_or(table.flags.len());
        let flag = Arc::new(AtomicBool::new(true));
        let mut event = libc::epoll_event {
            events: (libc::EPOLLIN | libc::EPOLLRDHUP) as u32,
            u64: token as u64,
        };
        let fd = sock.as_raw_fd();
        // SAFETY: valid epoll fd, valid socket fd, event initialised.
        if unsafe { libc::epoll_ctl(set.epfd.as_raw_fd(), libc::EPOLL_CTL_ADD, fd, &mut event) }
            != 0
        {
            table.free.push(token);
            return None;
        }
        if token == table.flags.len() {
            table.flags.push(Some(flag.clone()));
        } else {
            table.flags[token] = Some(flag.clone());
        }
        Some(Registration {
            set,
            fd,
            token,
            flag,
        })
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

impl Drop for Registration {
    fn drop(&mut self) {
        let mut table = self
            .set
            .table
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        // SAFETY: removing a descriptor we added; errors are harmless.
        unsafe {
            libc::epoll_ctl(
                self.set.epfd.as_raw_fd(),
                libc::EPOLL_CTL_DEL,
                self.fd,
                std::ptr::null_mut(),
            )
        };
        if let Some(slot) = table.flags.get_mut(self.token) {
            *slot = None;
            table.free.push(self.token);
        }
    }
}
