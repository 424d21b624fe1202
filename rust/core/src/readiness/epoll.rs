//! The shared readiness set on Linux: one epoll set for the process,
//! level-triggered, asked with one `epoll_wait` per refresh.

use super::pace::Pace;
use super::shared::{self, SharedSet, Slots};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::Instant;

/// The one epoll set of the process. Peers may move between threads (one
/// thread at a time each), so a socket's flag is an atomic and the set is
/// shared; a thread that finds another one refreshing simply skips.
pub struct Set {
    epfd: OwnedFd,
    pace: Pace,
    table: Mutex<Table>,
}

struct Table {
    /// The registered descriptors.
    slots: Slots<RawFd>,
    /// Scratch for `epoll_wait`.
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
                slots: Slots::new(),
                events: Vec::new(),
            }),
        })
    })
    .as_ref()
}

impl Set {
    fn table(&self) -> std::sync::MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// One `epoll_wait` with room for every registered socket (ready
    /// sockets stay ready until read, so looping could never end).
    fn ask(&self, table: &mut Table) {
        let room = table.slots.len().max(64);
        if table.events.len() < room {
            // SAFETY: zeroed epoll_event is a valid value.
            table.events.resize(room, unsafe { std::mem::zeroed() });
        }
        let max = i32::try_from(table.events.len()).unwrap_or(i32::MAX);
        // SAFETY: `events` has room for `max` entries; timeout 0 never blocks.
        let n =
            unsafe { libc::epoll_wait(self.epfd.as_raw_fd(), table.events.as_mut_ptr(), max, 0) };
        for e in table.events.iter().take(usize::try_from(n).unwrap_or(0)) {
            table.slots.raise(e.u64 as usize);
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
        self.ask(&mut table);
        self.pace.end(began.elapsed());
    }

    fn forget(&self, token: usize) {
        let mut table = self.table();
        if let Some(fd) = table.slots.remove(token) {
            // SAFETY: removing a descriptor we added; errors are harmless.
            unsafe {
                libc::epoll_ctl(
                    self.epfd.as_raw_fd(),
                    libc::EPOLL_CTL_DEL,
                    fd,
                    std::ptr::null_mut(),
                )
            };
        }
    }
}

/// A socket's (or a listener's) place in the epoll set.
pub type Registration = shared::Registration<Set>;

impl Registration {
    /// Adds `sock` to the set; `None` when there is no set or the kernel
    /// refuses it (the socket is then asked directly).
    pub fn new<S: AsRawFd>(sock: &S) -> Option<Registration> {
        let set = set()?;
        let mut table = set.table();
        let fd = sock.as_raw_fd();
        let (token, flag) = table.slots.insert(fd);
        let mut event = libc::epoll_event {
            events: (libc::EPOLLIN | libc::EPOLLRDHUP) as u32,
            u64: token as u64,
        };
        // SAFETY: valid epoll fd, valid socket fd, event initialised.
        if unsafe { libc::epoll_ctl(set.epfd.as_raw_fd(), libc::EPOLL_CTL_ADD, fd, &mut event) }
            != 0
        {
            table.slots.remove(token);
            return None;
        }
        Some(Registration { set, token, flag })
    }
}
