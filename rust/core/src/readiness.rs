//! Cheap idle checks for many sockets: a [`Socket`] that has seen no input
//! for a while stops asking the kernel on every poll and instead reads a flag
//! that one shared epoll set (Linux) refreshes at most every
//! [`REFRESH_EVERY`]. A busy socket keeps asking directly (a `peek`), so
//! latency is unchanged; an idle one costs a few nanoseconds per poll.

use crate::transport::Stream;
use std::cell::Cell;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// A socket with no input for this long uses the shared readiness set.
pub const IDLE_AFTER: Duration = Duration::from_millis(50);
/// The shared set is asked at most this often.
pub const REFRESH_EVERY: Duration = Duration::from_micros(100);
/// An idle socket still asks the kernel itself this often, so no missed
/// readiness event can stall it for longer.
pub const RECHECK_EVERY: Duration = Duration::from_millis(250);

/// A TCP socket that knows when it is idle.
pub struct Socket {
    // Declared first so it leaves the set before the socket closes.
    watch: Option<imp::Registration>,
    sock: TcpStream,
    last_input: Cell<Instant>,
    last_direct_check: Cell<Instant>,
}

impl Socket {
    /// Wraps a connected, non-blocking socket.
    pub fn new(sock: TcpStream) -> Socket {
        let watch = imp::Registration::new(&sock);
        Socket {
            watch,
            sock,
            last_input: Cell::new(Instant::now()),
            last_direct_check: Cell::new(Instant::now()),
        }
    }
}

impl Read for Socket {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let result = self.sock.read(buf);
        match &result {
            Ok(n) if *n > 0 => self.last_input.set(Instant::now()),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                if let Some(w) = &self.watch {
                    w.clear();
                }
            }
            _ => {}
        }
        result
    }
}

impl Write for Socket {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.sock.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Stream for Socket {
    fn peer_addr(&self) -> Option<SocketAddr> {
        self.sock.peer_addr().ok()
    }

    fn set_nodelay(&mut self, enabled: bool) {
        let _ = self.sock.set_nodelay(enabled);
    }

    fn may_have_input(&self) -> bool {
        // One clock read serves every comparison below.
        let now = Instant::now();
        if let Some(w) = &self.watch {
            let idle = now.saturating_duration_since(self.last_input.get()) >= IDLE_AFTER;
            if idle && now.saturating_duration_since(self.last_direct_check.get()) < RECHECK_EVERY {
                return w.readable(now);
            }
        }
        self.last_direct_check.set(now);
        Stream::may_have_input(&self.sock)
    }
}

#[cfg(target_os = "linux")]
mod imp {
    use super::REFRESH_EVERY;
    use std::cell::{Cell, RefCell};
    use std::net::TcpStream;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
    use std::rc::Rc;
    use std::time::Instant;

    /// One epoll set per thread (peers live on the thread that polls them).
    struct Set {
        epfd: OwnedFd,
        flags: Vec<Option<Rc<Cell<bool>>>>,
        free: Vec<usize>,
        last_wait: Instant,
        events: Vec<libc::epoll_event>,
    }

    thread_local! {
        static SET: RefCell<Option<Set>> = const { RefCell::new(None) };
    }

    impl Set {
        /// One `epoll_wait` with room for every registered socket (ready
        /// sockets stay ready until read, so looping could never end).
        fn refresh(&mut self) {
            self.last_wait = Instant::now();
            let room = self.flags.len().max(64);
            if self.events.len() < room {
                // SAFETY: zeroed epoll_event is a valid value.
                self.events.resize(room, unsafe { std::mem::zeroed() });
            }
            let max = i32::try_from(self.events.len()).unwrap_or(i32::MAX);
            // SAFETY: `events` has room for `max` entries; timeout 0 never blocks.
            let n = unsafe {
                libc::epoll_wait(self.epfd.as_raw_fd(), self.events.as_mut_ptr(), max, 0)
            };
            for e in self.events.iter().take(usize::try_from(n).unwrap_or(0)) {
                if let Some(Some(flag)) = self.flags.get(e.u64 as usize) {
                    flag.set(true);
                }
            }
        }
    }

    /// A socket's place in the set.
    pub struct Registration {
        fd: RawFd,
        token: usize,
        flag: Rc<Cell<bool>>,
    }

    impl Registration {
        pub fn new(sock: &TcpStream) -> Option<Registration> {
            SET.with(|cell| {
                let mut slot = cell.borrow_mut();
                if slot.is_none() {
                    // SAFETY: plain syscall; the result is checked.
                    let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
                    if fd < 0 {
                        return None;
                    }
                    // SAFETY: `fd` is a new descriptor we own.
                    let epfd = unsafe { OwnedFd::from_raw_fd(fd) };
                    *slot = Some(Set {
                        epfd,
                        flags: Vec::new(),
                        free: Vec::new(),
                        last_wait: Instant::now(),
                        events: Vec::new(),
                    });
                }
                let set = slot.as_mut()?;
                let token = set.free.pop().unwrap_or(set.flags.len());
                let flag = Rc::new(Cell::new(true));
                let mut event = libc::epoll_event {
                    events: (libc::EPOLLIN | libc::EPOLLRDHUP) as u32,
                    u64: token as u64,
                };
                let fd = sock.as_raw_fd();
                // SAFETY: valid epoll fd, valid socket fd, event initialised.
                if unsafe {
                    libc::epoll_ctl(set.epfd.as_raw_fd(), libc::EPOLL_CTL_ADD, fd, &mut event)
                } != 0
                {
                    set.free.push(token);
                    return None;
                }
                if token == set.flags.len() {
                    set.flags.push(Some(flag.clone()));
                } else {
                    set.flags[token] = Some(flag.clone());
                }
                Some(Registration { fd, token, flag })
            })
        }

        /// Whether the socket may have input, per the shared set, as of `now`.
        pub fn readable(&self, now: Instant) -> bool {
            if !self.flag.get() {
                SET.with(|cell| {
                    if let Some(set) = cell.borrow_mut().as_mut() {
                        if now.saturating_duration_since(set.last_wait) >= REFRESH_EVERY {
                            set.refresh();
                        }
                    }
                });
            }
            self.flag.get()
        }

        /// The socket was read dry.
        pub fn clear(&self) {
            self.flag.set(false);
        }
    }

    impl Drop for Registration {
        fn drop(&mut self) {
            let _ = SET.try_with(|cell| {
                if let Some(set) = cell.borrow_mut().as_mut() {
                    // SAFETY: removing a descriptor we added; errors are harmless.
                    unsafe {
                        libc::epoll_ctl(
                            set.epfd.as_raw_fd(),
                            libc::EPOLL_CTL_DEL,
                            self.fd,
                            std::ptr::null_mut(),
                        )
                    };
                    set.flags[self.token] = None;
                    set.free.push(self.token);
                }
            });
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    use std::net::TcpStream;
    use std::time::Instant;

    /// No shared set here: sockets always ask the kernel directly.
    pub struct Registration;

    impl Registration {
        pub fn new(_sock: &TcpStream) -> Option<Registration> {
            None
        }
        pub fn readable(&self, _now: Instant) -> bool {
            true
        }
        pub fn clear(&self) {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    /// Polls `ours` until it reports input (fails after 5 s).
    fn wait_for_input(ours: &Socket, what: &str) {
        let start = Instant::now();
        while !ours.may_have_input() {
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "{what} never noticed"
            );
            std::thread::sleep(REFRESH_EVERY);
        }
    }

    #[test]
    fn idle_socket_notices_input_through_the_shared_set() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (sock, _) = listener.accept().unwrap();
        sock.set_nonblocking(true).unwrap();
        let mut ours = Socket::new(sock);
        let mut buf = [0u8; 16];
        assert!(matches!(ours.read(&mut buf), Err(e) if e.kind() == io::ErrorKind::WouldBlock));
        std::thread::sleep(IDLE_AFTER + Duration::from_millis(5));
        std::thread::sleep(REFRESH_EVERY);
        assert!(!ours.may_have_input(), "idle and empty");
        client.write_all(b"hi").unwrap();
        wait_for_input(&ours, "input");
        assert_eq!(ours.read(&mut buf).unwrap(), 2);
        drop(client);
        std::thread::sleep(IDLE_AFTER + REFRESH_EVERY * 2);
        wait_for_input(&ours, "the hang-up");
        assert_eq!(ours.read(&mut buf).unwrap(), 0);
    }
}

#[cfg(all(test, target_os = "linux"))]
mod many_ready {
    use super::*;
    use std::net::TcpListener;

    /// Far more ready sockets than one epoll_wait batch used to hold: the
    /// refresh must return (it once looped forever) and see all of them.
    #[test]
    fn hundreds_of_ready_idle_sockets() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut pairs = Vec::new();
        for _ in 0..300 {
            let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
            let (sock, _) = listener.accept().unwrap();
            sock.set_nonblocking(true).unwrap();
            let mut ours = Socket::new(sock);
            let mut buf = [0u8; 4];
            let _ = ours.read(&mut buf); // read dry: flag cleared
            client.write_all(b"x").unwrap();
            pairs.push((client, ours));
        }
        std::thread::sleep(IDLE_AFTER + REFRESH_EVERY * 2);
        let start = Instant::now();
        let seen = pairs
            .iter()
            .filter(|(_, ours)| ours.may_have_input())
            .count();
        assert!(start.elapsed() < Duration::from_secs(2));
        assert_eq!(seen, 300);
    }
}
