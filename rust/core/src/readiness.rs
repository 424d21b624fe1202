//! Cheap idle checks for many sockets: a [`Socket`] that has seen no input
//! for a while stops asking the kernel on every poll and instead reads a flag
//! that one shared epoll set (Linux) refreshes at most every
//! [`REFRESH_EVERY`]. A busy socket is read on every poll (a read that
//! finds nothing costs what asking would), so latency is unchanged; an idle
//! one costs a few nanoseconds per poll.
//! The set serves every thread: a peer may be polled on one thread and then
//! handed to another.

use crate::transport::Stream;
use std::cell::Cell;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

/// A socket with no input for this long uses the shared readiness set.
pub const IDLE_AFTER: Duration = Duration::from_millis(50);
/// The shared set is asked at most this often.
pub const REFRESH_EVERY: Duration = Duration::from_micros(100);
/// An idle socket still asks the kernel itself this often, so no missed
/// readiness event can stall it for longer. (The set is level-triggered, so
/// this is a safety net; each check is a syscall per idle link.)
pub const RECHECK_EVERY: Duration = Duration::from_secs(1);

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

/// Ends the connection for everyone who holds it: a socket taken over from
/// the engine is a duplicate, and closing ours alone would send no FIN
/// while the game keeps its `StreamPeerTCP` (the client would wait).
impl Drop for Socket {
    fn drop(&mut self) {
        let _ = self.sock.shutdown(std::net::Shutdown::Both);
    }
}

/// A listening socket that asks, as an idle [`Socket`] does, whether a
/// connection waits before trying to accept one: a server polled every
/// frame makes no `accept` call while nobody is connecting.
pub struct Listener {
    // Declared first so it leaves the set before the socket closes.
    watch: Option<imp::Registration>,
    sock: TcpListener,
    last_direct_check: Cell<Instant>,
}

impl Listener {
    /// Wraps a listening, non-blocking socket.
    pub fn new(sock: TcpListener) -> Listener {
        Listener {
            watch: imp::Registration::new(&sock),
            sock,
            last_direct_check: Cell::new(Instant::now()),
        }
    }

    /// The socket itself (its address and options).
    pub fn socket(&self) -> &TcpListener {
        &self.sock
    }

    /// Whether a connection may be waiting, per the shared set; without one,
    /// and once every [`RECHECK_EVERY`] anyway, the answer is yes, so
    /// `accept` asks the kernel itself.
    pub fn may_have_connection(&self, now: Instant) -> bool {
        per_set(self.watch.as_ref(), &self.last_direct_check, now).unwrap_or(true)
    }

    /// Accepts a waiting connection; `WouldBlock` when none waits.
    pub fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let result = self.sock.accept();
        if let (Err(e), Some(w)) = (&result, &self.watch) {
            if e.kind() == io::ErrorKind::WouldBlock {
                w.clear();
            }
        }
        result
    }
}

/// What the shared set says of a registered socket or listener; `None` when
/// the kernel must be asked directly instead: no set, or the check due every
/// [`RECHECK_EVERY`] (recorded in `last_direct_check`).
fn per_set(
    watch: Option<&imp::Registration>,
    last_direct_check: &Cell<Instant>,
    now: Instant,
) -> Option<bool> {
    if let Some(w) = watch {
        if now.saturating_duration_since(last_direct_check.get()) < RECHECK_EVERY {
            return Some(w.readable(now));
        }
    }
    last_direct_check.set(now);
    None
}

impl Socket {
    /// Notes what a read came to: input seen, or the socket read dry.
    fn note(&self, result: &io::Result<usize>) {
        match result {
            Ok(n) if *n > 0 => self.last_input.set(Instant::now()),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                if let Some(w) = &self.watch {
                    w.clear();
                }
            }
            _ => {}
        }
    }
}

impl Read for Socket {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let result = self.sock.read(buf);
        self.note(&result);
        result
    }
}

impl Write for Socket {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.sock.write(buf)
    }

    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        self.sock.write_vectored(bufs)
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

    #[cfg(unix)]
    fn read_uninit<'a>(
        &mut self,
        buf: &'a mut [std::mem::MaybeUninit<u8>],
    ) -> io::Result<&'a mut [u8]> {
        use std::os::fd::AsRawFd;
        // SAFETY: recv writes at most `buf.len()` bytes into `buf`, which is
        // valid for writes; it needs no initialized memory.
        let n = unsafe { libc::recv(self.sock.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
        let result = if n < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok((n as usize).min(buf.len()))
        };
        self.note(&result);
        let n = result?;
        // SAFETY: recv initialized the first `n` bytes of `buf` (at most its
        // length); the slice borrows `buf` mutably for as long as it lives.
        Ok(unsafe { std::slice::from_raw_parts_mut(buf.as_mut_ptr().cast::<u8>(), n) })
    }

    fn may_have_input(&self, now: Instant) -> bool {
        let idle = now.saturating_duration_since(self.last_input.get()) >= IDLE_AFTER;
        if !idle {
            // A busy socket is read directly: a read that finds nothing
            // costs what a peek would, and one that finds data saves it.
            return true;
        }
        per_set(self.watch.as_ref(), &self.last_direct_check, now)
            .unwrap_or_else(|| Stream::may_have_input(&self.sock, now))
    }

    fn short_read_drains(&self) -> bool {
        true
    }
}

#[cfg(target_os = "linux")]
mod imp {
    use super::REFRESH_EVERY;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::sync::{Arc, Mutex, OnceLock, PoisonError};
    use std::time::Instant;

    /// The one epoll set of the process. Peers may move between threads (one
    /// thread at a time each), so a socket's flag is an atomic and the set is
    /// shared; a thread that finds another one refreshing simply skips.
    struct Set {
        epfd: OwnedFd,
        /// Clock origin for `last_wait`.
        origin: Instant,
        /// Nanoseconds since `origin` of the last `epoll_wait`.
        last_wait: AtomicU64,
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
                origin: Instant::now(),
                last_wait: AtomicU64::new(0),
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
        fn nanos(&self, at: Instant) -> u64 {
            u64::try_from(at.saturating_duration_since(self.origin).as_nanos()).unwrap_or(u64::MAX)
        }

        /// One `epoll_wait` with room for every registered socket (ready
        /// sockets stay ready until read, so looping could never end).
        /// Skipped when another thread is refreshing right now.
        fn refresh(&self, now: Instant) {
            let Ok(mut table) = self.table.try_lock() else {
                return;
            };
            self.last_wait.store(self.nanos(now), Ordering::Relaxed);
            let room = table.flags.len().max(64);
            if table.events.len() < room {
                // SAFETY: zeroed epoll_event is a valid value.
                table.events.resize(room, unsafe { std::mem::zeroed() });
            }
            let max = i32::try_from(table.events.len()).unwrap_or(i32::MAX);
            // SAFETY: `events` has room for `max` entries; timeout 0 never blocks.
            let n = unsafe {
                libc::epoll_wait(self.epfd.as_raw_fd(), table.events.as_mut_ptr(), max, 0)
            };
            let table = &*table;
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
            if !self.flag.load(Ordering::Relaxed) {
                let since = self
                    .set
                    .nanos(now)
                    .saturating_sub(self.set.last_wait.load(Ordering::Relaxed));
                if since >= REFRESH_EVERY.as_nanos() as u64 {
                    self.set.refresh(now);
                }
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
}

#[cfg(not(target_os = "linux"))]
mod imp {
    use std::time::Instant;

    /// No shared set here: sockets always ask the kernel directly.
    pub struct Registration;

    impl Registration {
        pub fn new<S>(_sock: &S) -> Option<Registration> {
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
        while !ours.may_have_input(Instant::now()) {
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
        assert!(!ours.may_have_input(Instant::now()), "idle and empty");
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
            .filter(|(_, ours)| ours.may_have_input(Instant::now()))
            .count();
        assert!(start.elapsed() < Duration::from_secs(2));
        assert_eq!(seen, 300);
    }
}

#[cfg(all(test, target_os = "linux"))]
mod listening {
    use super::*;

    /// A server polled every frame makes no accept call while nobody is
    /// connecting, and still notices a client that does.
    #[test]
    fn listener_notices_a_connection_through_the_shared_set() {
        let sock = TcpListener::bind("127.0.0.1:0").unwrap();
        sock.set_nonblocking(true).unwrap();
        let addr = sock.local_addr().unwrap();
        let ours = Listener::new(sock);
        assert!(ours.may_have_connection(Instant::now()), "asks at first");
        assert!(matches!(ours.accept(), Err(e) if e.kind() == io::ErrorKind::WouldBlock));
        std::thread::sleep(REFRESH_EVERY * 2);
        assert!(
            !ours.may_have_connection(Instant::now()),
            "nobody is connecting"
        );
        let _client = TcpStream::connect(addr).unwrap();
        let start = Instant::now();
        while !ours.may_have_connection(Instant::now()) {
            assert!(start.elapsed() < Duration::from_secs(5), "never noticed");
            std::thread::sleep(REFRESH_EVERY);
        }
        assert!(ours.accept().is_ok());
    }
}
