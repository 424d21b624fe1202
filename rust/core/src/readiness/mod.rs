//! Cheap idle checks for many sockets: a [`Socket`] that has seen no input
//! for a while stops asking the kernel on every poll and instead reads a flag
//! that one shared set refreshes at most every [`REFRESH_EVERY`] (and at
//! most a tenth of the time, `pace`): an epoll
//! set on Linux (`epoll`), one `WSAPoll` over every registered socket on
//! Windows (`wsapoll`); elsewhere (macOS) there is no set and every check
//! asks the kernel. A busy socket is read on every poll (a read that finds
//! nothing costs what asking would), so latency is unchanged; an idle one
//! costs a few nanoseconds per poll.
//! The set serves every thread: a peer may be polled on one thread and then
//! handed to another.

use crate::transport::Stream;
use std::cell::Cell;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

/// A socket with no input for this long uses the shared readiness set.
pub const IDLE_AFTER: Duration = Duration::from_millis(50);
/// The shared set is asked at most this often. On Windows each refresh
/// hands the whole list of sockets to the kernel (`WSAPoll` has no
/// registered set), so it is asked less often there: an idle socket's first
/// input still waits at most this long on top of the game's next poll.
#[cfg(not(windows))]
pub const REFRESH_EVERY: Duration = Duration::from_micros(100);
/// The shared set is asked at most this often (see the other platforms).
#[cfg(windows)]
pub const REFRESH_EVERY: Duration = Duration::from_millis(1);
/// Whether this platform has the shared set: without it, callers holding
/// many silent sockets should space out their own direct checks.
pub const HAS_SET: bool = cfg!(any(target_os = "linux", windows));
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

#[cfg(any(target_os = "linux", windows))]
mod pace;
#[cfg(any(target_os = "linux", windows))]
mod shared;

#[cfg(target_os = "linux")]
mod epoll;
#[cfg(target_os = "linux")]
use epoll as imp;
#[cfg(windows)]
mod wsapoll;
#[cfg(windows)]
use wsapoll as imp;

#[cfg(not(any(target_os = "linux", windows)))]
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

#[cfg(all(test, any(target_os = "linux", windows)))]
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

#[cfg(all(test, any(target_os = "linux", windows)))]
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
