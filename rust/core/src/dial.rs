//! Name lookup and TCP connect without blocking the caller's thread.
//!
//! A [`Connector`] is one connect. A host name is looked up on a small pool
//! of worker threads shared by the whole process (a literal address needs
//! none); the TCP connect itself is non-blocking and checked each time the
//! owner polls, so a host that never answers holds no thread at all and any
//! number of such connects cannot starve the others.
//!
//! Every limit holds, whatever the settings: each step (the lookup, each
//! address tried) ends at `attempt_limit` (the peer's connect timeout) and
//! nothing runs past `deadline` (its handshake timeout); a limit too far to
//! compute (a "never" timeout such as 1e300 s) simply has no end. Dropping a
//! `Connector` (the peer was closed, or gave up) cancels it: a queued lookup
//! is never started. A slow resolver holds at most [`MAX_WORKERS`] threads
//! (idle ones end after [`WORKER_IDLE`]) while each connect waiting on it
//! still fails at its own limit, and a worker that panics fails its job, not
//! the pool.

use crate::error::{ConnectCause, WsError};
use std::collections::VecDeque;
use std::io;
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant};

/// Most connect threads alive at once in the process.
pub const MAX_WORKERS: usize = 16;
/// A worker with nothing to do for this long ends.
pub const WORKER_IDLE: Duration = Duration::from_secs(5);

type Outcome = Result<TcpStream, WsError>;

struct Job {
    host: String,
    port: u16,
    deadline: Option<Instant>,
    /// Longest one step (the lookup, one address) may take.
    attempt_limit: Duration,
    cancelled: AtomicBool,
    /// What the lookup found.
    result: Mutex<Option<Result<Vec<SocketAddr>, WsError>>>,
}

impl Job {
    fn remaining(&self) -> Option<Duration> {
        self.deadline
            .map(|d| d.saturating_duration_since(Instant::now()))
    }

    /// Cancelled, or past its deadline: nothing more may be tried.
    fn given_up(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed) || self.remaining() == Some(Duration::ZERO)
    }

    /// When a step started now must end: its limit or the deadline,
    /// whichever is sooner; `None` when neither can be computed (never).
    fn step_end(&self, now: Instant) -> Option<Instant> {
        let limit = now.checked_add(self.attempt_limit);
        match (limit, self.deadline) {
            (Some(l), Some(d)) => Some(l.min(d)),
            (l, d) => l.or(d),
        }
    }
}

#[derive(Default)]
struct Pool {
    queue: VecDeque<Arc<Job>>,
    workers: usize,
    idle: usize,
}

fn pool() -> &'static (Mutex<Pool>, Condvar) {
    static POOL: OnceLock<(Mutex<Pool>, Condvar)> = OnceLock::new();
    POOL.get_or_init(Default::default)
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Connect threads alive now (for tests and diagnostics).
pub fn live_workers() -> usize {
    lock(&pool().0).workers
}

/// Where a connect stands.
enum Stage {
    /// A worker looks the name up; it must be done by `until`.
    Worker { until: Option<Instant> },
    /// Trying the addresses one after the other, without a thread.
    Trying(Box<Trying>),
    /// Over before the first poll (an address that answered or refused at
    /// once), waiting to be reported.
    Ready(Box<Outcome>),
    /// Reported.
    Done,
}

/// One lookup and TCP connect.
pub struct Connector {
    job: Arc<Job>,
    stage: Stage,
}

impl Connector {
    /// Starts resolving `host` and connecting to `port`: the lookup and
    /// each address tried take at most `attempt_limit`, and nothing starts
    /// or runs after `deadline`.
    pub fn start(
        host: &str,
        port: u16,
        deadline: Option<Instant>,
        attempt_limit: Duration,
    ) -> Result<Connector, WsError> {
        let job = Arc::new(Job {
            host: host.to_string(),
            port,
            deadline,
            attempt_limit,
            cancelled: AtomicBool::new(false),
            result: Mutex::new(None),
        });
        // A literal address needs no lookup.
        if let Some(ip) = literal(host) {
            let trying = Trying::new(vec![SocketAddr::new(ip, port)]);
            let mut connector = Connector {
                job,
                stage: Stage::Trying(Box::new(trying)),
            };
            // The connect starts now, not at the first poll: the caller
            // may wait for the server side to accept before polling.
            if let Some(outcome) = connector.poll() {
                connector.stage = Stage::Ready(Box::new(outcome));
            }
            return Ok(connector);
        }
        let until = job.step_end(Instant::now());
        queue(&job)?;
        Ok(Connector {
            job,
            stage: Stage::Worker { until },
        })
    }

    /// The connected socket (non-blocking, no-delay) once there is one, or
    /// why there is none; `None` while it is still on its way.
    pub fn poll(&mut self) -> Option<Outcome> {
        let outcome = match &mut self.stage {
            Stage::Done => return None,
            Stage::Ready(_) => match std::mem::replace(&mut self.stage, Stage::Done) {
                Stage::Ready(outcome) => return Some(*outcome),
                _ => return None,
            },
            Stage::Worker { until } => match take(&self.job.result) {
                Some(Ok(addrs)) => {
                    self.stage = Stage::Trying(Box::new(Trying::new(addrs)));
                    return self.poll();
                }
                Some(Err(e)) => Err(e),
                None if until.is_some_and(|u| Instant::now() >= u) => {
                    self.job.cancelled.store(true, Ordering::Relaxed);
                    Err(step_timed_out(&self.job))
                }
                None => return None,
            },
            Stage::Trying(trying) => trying.poll(&self.job)?,
        };
        self.stage = Stage::Done;
        Some(outcome)
    }
}

impl Drop for Connector {
    fn drop(&mut self) {
        self.job.cancelled.store(true, Ordering::Relaxed);
    }
}

fn take<T>(m: &Mutex<Option<T>>) -> Option<T> {
    lock(m).take()
}

/// The address a host string names literally (`127.0.0.1`, `::1`, `[::1]`).
fn literal(host: &str) -> Option<IpAddr> {
    host.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
        .parse()
        .ok()
}

/// Hands `job` to the pool, starting a worker unless an idle one is left
/// for every job waiting (a woken worker stays counted as idle until it
/// runs, so two jobs queued at once must not share one).
fn queue(job: &Arc<Job>) -> Result<(), WsError> {
    let (mutex, ready) = pool();
    let mut pool = lock(mutex);
    // Jobs given up while they waited (cancelled, past their deadline)
    // leave the queue now rather than pile up behind a stuck resolver.
    pool.queue.retain(|j| !j.given_up());
    pool.queue.push_back(job.clone());
    if pool.queue.len() > pool.idle && pool.workers < MAX_WORKERS {
        let spawned = std::thread::Builder::new()
            .name("ws-connect".into())
            .spawn(work);
        match spawned {
            Ok(_) => pool.workers += 1,
            Err(e) if pool.workers == 0 => {
                job.cancelled.store(true, Ordering::Relaxed);
                return Err(connect_error(
                    job,
                    format!("cannot start a connect thread: {e}"),
                    ConnectCause::Other,
                ));
            }
            // The workers alive will get to it.
            Err(_) => {}
        }
    } else {
        ready.notify_one();
    }
    Ok(())
}

/// A worker: runs queued jobs until it has been idle for [`WORKER_IDLE`].
fn work() {
    let (mutex, ready) = pool();
    let mut pool = lock(mutex);
    loop {
        if let Some(job) = pool.queue.pop_front() {
            drop(pool);
            if !job.given_up() {
                // A bug that panics fails this job, never the pool: the
                // worker stays, and so does its slot in the count.
                let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| resolve(&job)))
                    .unwrap_or_else(|_| {
                        Err(connect_error(
                            &job,
                            "the connect thread failed unexpectedly".into(),
                            ConnectCause::Other,
                        ))
                    });
                *lock(&job.result) = Some(outcome);
            }
            pool = lock(mutex);
            continue;
        }
        pool.idle += 1;
        let (guard, waited) = ready
            .wait_timeout(pool, WORKER_IDLE)
            .unwrap_or_else(PoisonError::into_inner);
        pool = guard;
        pool.idle -= 1;
        if waited.timed_out() && pool.queue.is_empty() {
            pool.workers -= 1;
            return;
        }
    }
}

/// The lookup (tests: a host under `slow.invalid` takes two seconds).
fn resolve(job: &Job) -> Result<Vec<SocketAddr>, WsError> {
    #[cfg(test)]
    if job.host.ends_with(".slow.invalid") {
        std::thread::sleep(Duration::from_secs(2));
    }
    let addrs: Vec<SocketAddr> = (job.host.as_str(), job.port)
        .to_socket_addrs()
        .map_err(|e| WsError::Resolve {
            host: job.host.clone(),
            why: e.to_string(),
        })?
        .collect();
    if addrs.is_empty() {
        return Err(WsError::Resolve {
            host: job.host.clone(),
            why: "no address found".into(),
        });
    }
    Ok(addrs)
}

/// The addresses of one connect, tried in turn with non-blocking sockets
/// checked at each poll.
struct Trying {
    addrs: VecDeque<SocketAddr>,
    current: Option<(socket2::Socket, SocketAddr, Option<Instant>)>,
    last: Option<(String, ConnectCause)>,
}

impl Trying {
    fn new(addrs: Vec<SocketAddr>) -> Trying {
        Trying {
            addrs: addrs.into(),
            current: None,
            last: None,
        }
    }

    /// Advances the attempts: the socket, a final failure, or `None`.
    fn poll(&mut self, job: &Job) -> Option<Outcome> {
        loop {
            if job.given_up() {
                return Some(Err(self.failure(job)));
            }
            let Some((sock, addr, until)) = &self.current else {
                let addr = self.addrs.pop_front()?;
                match start_connect(addr) {
                    Ok((sock, true)) => return Some(ready(sock.into())),
                    Ok((sock, false)) => {
                        self.current = Some((sock, addr, job.step_end(Instant::now())))
                    }
                    Err(e) => self.last = Some((format!("{addr}: {e}"), cause_of(&e))),
                }
                if self.current.is_none() && self.addrs.is_empty() {
                    return Some(Err(self.failure(job)));
                }
                continue;
            };
            let failed = match connect_done(sock) {
                Some(Ok(())) => {
                    let (sock, _, _) = self.current.take()?;
                    return Some(ready(sock.into()));
                }
                Some(Err(e)) => e,
                None if until.is_some_and(|u| Instant::now() >= u) => {
                    io::ErrorKind::TimedOut.into()
                }
                None => return None,
            };
            self.last = Some((format!("{addr}: {failed}"), cause_of(&failed)));
            self.current = None;
            if self.addrs.is_empty() {
                return Some(Err(self.failure(job)));
            }
        }
    }

    fn failure(&mut self, job: &Job) -> WsError {
        match self.last.take() {
            None => step_timed_out(job),
            Some((why, cause)) => connect_error(job, why, cause),
        }
    }
}

/// A non-blocking connect to `addr` started: the socket, and whether it is
/// connected already.
fn start_connect(addr: SocketAddr) -> io::Result<(socket2::Socket, bool)> {
    use socket2::{Domain, Protocol, Socket, Type};
    let sock = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    sock.set_nonblocking(true)?;
    match sock.connect(&addr.into()) {
        Ok(()) => Ok((sock, true)),
        Err(e) if in_progress(&e) => Ok((sock, false)),
        Err(e) => Err(e),
    }
}

#[cfg(unix)]
fn in_progress(e: &io::Error) -> bool {
    e.raw_os_error() == Some(libc::EINPROGRESS)
}

#[cfg(not(unix))]
fn in_progress(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::WouldBlock
}

/// Whether a connect in progress on `sock` is over, asked without waiting:
/// `Some(Ok)` connected, `Some(Err)` failed, `None` still on its way.
#[cfg(unix)]
fn connect_done(sock: &socket2::Socket) -> Option<io::Result<()>> {
    use std::os::fd::AsRawFd;
    let mut fds = libc::pollfd {
        fd: sock.as_raw_fd(),
        events: libc::POLLOUT,
        revents: 0,
    };
    // SAFETY: one valid pollfd for the duration of the call; a zero timeout
    // only asks.
    let n = unsafe { libc::poll(&mut fds, 1, 0) };
    if n > 0 {
        return Some(match sock.take_error() {
            Ok(None) => Ok(()),
            Ok(Some(e)) | Err(e) => Err(e),
        });
    }
    let e = io::Error::last_os_error();
    (n < 0 && e.kind() != io::ErrorKind::Interrupted).then_some(Err(e))
}

/// Windows: `select` with a zero timeout (a failed connect shows in the
/// exception set, where `SO_ERROR` then says why).
#[cfg(windows)]
fn connect_done(sock: &socket2::Socket) -> Option<io::Result<()>> {
    use std::os::windows::io::AsRawSocket;
    use windows_sys::Win32::Networking::WinSock::{select, FD_SET, SOCKET, SOCKET_ERROR, TIMEVAL};
    let raw = sock.as_raw_socket() as SOCKET;
    let one = || {
        let mut set = FD_SET {
            fd_count: 1,
            fd_array: [0; 64],
        };
        set.fd_array[0] = raw;
        set
    };
    let (mut write, mut except) = (one(), one());
    let now = TIMEVAL {
        tv_sec: 0,
        tv_usec: 0,
    };
    // SAFETY: the sets and the timeout are valid for the call and hold one
    // open socket each; the first argument is ignored on Windows.
    let n = unsafe { select(0, std::ptr::null_mut(), &mut write, &mut except, &now) };
    if n == SOCKET_ERROR {
        return Some(Err(io::Error::last_os_error()));
    }
    if n == 0 {
        return None;
    }
    Some(match sock.take_error() {
        Ok(Some(e)) | Err(e) => Err(e),
        Ok(None) if except.fd_count > 0 => Err(io::ErrorKind::ConnectionRefused.into()),
        Ok(None) => Ok(()),
    })
}

/// A connected socket set up as the link wants it.
fn ready(sock: TcpStream) -> Outcome {
    sock.set_nonblocking(true)
        .map_err(|e| WsError::Io(e.to_string()))?;
    let _ = sock.set_nodelay(true);
    Ok(sock)
}

fn cause_of(e: &io::Error) -> ConnectCause {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => ConnectCause::Refused,
        io::ErrorKind::TimedOut => ConnectCause::TimedOut,
        _ => ConnectCause::Other,
    }
}

/// A step that ran out of time: the lookup, or an attempt that saw no
/// answer before the connect or handshake timeout.
fn step_timed_out(job: &Job) -> WsError {
    if job.remaining() == Some(Duration::ZERO) {
        return connect_error(
            job,
            "no connection before the handshake timeout".into(),
            ConnectCause::TimedOut,
        );
    }
    match literal(&job.host) {
        Some(_) => connect_error(
            job,
            "no answer before the connect timeout".into(),
            ConnectCause::TimedOut,
        ),
        None => WsError::Resolve {
            host: job.host.clone(),
            why: "the name lookup took longer than the connect timeout".into(),
        },
    }
}

fn connect_error(job: &Job, why: String, cause: ConnectCause) -> WsError {
    WsError::Connect {
        host: job.host.clone(),
        port: job.port,
        why,
        cause,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pool is shared by the process: tests that fill it or time it
    /// run one at a time.
    fn serial() -> MutexGuard<'static, ()> {
        static SERIAL: Mutex<()> = Mutex::new(());
        lock(&SERIAL)
    }

    fn wait(c: &mut Connector) -> Outcome {
        let start = Instant::now();
        loop {
            if let Some(r) = c.poll() {
                return r;
            }
            assert!(start.elapsed() < Duration::from_secs(20), "no result");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn reports_refused_and_unresolvable() {
        let _serial = serial();
        // A port nothing listens on: bind, learn the port, close.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let result =
            wait(&mut Connector::start("127.0.0.1", port, None, Duration::from_secs(10)).unwrap());
        assert!(
            matches!(
                result,
                Err(WsError::Connect {
                    cause: ConnectCause::Refused,
                    ..
                })
            ),
            "{result:?}"
        );
        let result = wait(
            &mut Connector::start("no-such-host.invalid", 80, None, Duration::from_secs(10))
                .unwrap(),
        );
        assert!(matches!(result, Err(WsError::Resolve { .. })), "{result:?}");
    }

    #[test]
    fn connects_and_hands_over_a_non_blocking_socket() {
        let _serial = serial();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let deadline = Instant::now() + Duration::from_secs(5);
        let sock = wait(
            &mut Connector::start("127.0.0.1", port, Some(deadline), Duration::from_secs(10))
                .unwrap(),
        )
        .unwrap();
        let mut buf = [0u8; 1];
        let err = std::io::Read::read(&mut &sock, &mut buf).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::WouldBlock);
    }

    /// A resolver that does not answer holds no connect past its connect
    /// timeout, and a literal address needs no lookup at all: connects to
    /// one go through while every worker waits on the resolver.
    #[test]
    fn a_slow_lookup_ends_at_the_connect_timeout_and_blocks_no_one() {
        let _serial = serial();
        let start = Instant::now();
        let mut slow: Vec<Connector> = (0..MAX_WORKERS + 4)
            .map(|i| {
                Connector::start(
                    &format!("host{i}.slow.invalid"),
                    80,
                    None,
                    Duration::from_millis(300),
                )
                .unwrap()
            })
            .collect();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut good = Connector::start("127.0.0.1", port, None, Duration::from_secs(10)).unwrap();
        assert!(wait(&mut good).is_ok());
        assert!(
            start.elapsed() < Duration::from_millis(300),
            "{:?}",
            start.elapsed()
        );
        // Every worker is stuck now: a name waits for one (and fails at its
        // own limit, not later); a literal address still goes through.
        let named_start = Instant::now();
        let mut named =
            Connector::start("localhost", port, None, Duration::from_millis(200)).unwrap();
        assert!(matches!(wait(&mut named), Err(WsError::Resolve { .. })));
        assert!(named_start.elapsed() < Duration::from_millis(600));
        for c in &mut slow {
            match wait(c) {
                Err(WsError::Resolve { why, .. }) => {
                    assert!(why.contains("connect timeout"), "{why}")
                }
                other => panic!("{other:?}"),
            }
        }
        assert!(
            start.elapsed() < Duration::from_millis(1500),
            "{:?}",
            start.elapsed()
        );
        // The stuck lookups end before the next test needs the pool.
        std::thread::sleep(Duration::from_millis(2200).saturating_sub(start.elapsed()));
    }

    /// Two lookups started at once with one idle worker each get a worker:
    /// a name is not looked up behind a slow one.
    #[test]
    fn lookups_started_together_run_side_by_side() {
        let _serial = serial();
        // Leave an idle worker behind.
        let mut warm = Connector::start("localhost", 9, None, Duration::from_secs(5)).unwrap();
        let _ = wait(&mut warm);
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let start = Instant::now();
        let mut slow =
            Connector::start("first.slow.invalid", 80, None, Duration::from_secs(5)).unwrap();
        let mut quick =
            Connector::start("localhost", port, None, Duration::from_millis(700)).unwrap();
        assert!(
            wait(&mut quick).is_ok(),
            "the second name waited behind the first"
        );
        assert!(
            start.elapsed() < Duration::from_millis(700),
            "{:?}",
            start.elapsed()
        );
        drop(slow.poll());
    }

    #[test]
    fn only_one_pair_of_brackets_makes_an_address() {
        let _serial = serial();
        assert_eq!(literal("[::1]"), "::1".parse().ok());
        assert_eq!(literal("::1"), "::1".parse().ok());
        assert_eq!(literal("127.0.0.1"), "127.0.0.1".parse().ok());
        assert_eq!(literal("[[::1]]"), None);
        assert_eq!(literal("localhost"), None);
    }

    #[test]
    fn a_job_past_its_deadline_is_not_tried() {
        let _serial = serial();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let past = Instant::now() - Duration::from_millis(1);
        let result = wait(
            &mut Connector::start("127.0.0.1", port, Some(past), Duration::from_secs(10)).unwrap(),
        );
        assert!(
            matches!(&result, Err(WsError::Connect { why, .. }) if why.contains("handshake timeout")),
            "{result:?}"
        );
    }
}
