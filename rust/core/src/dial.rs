//! Name lookup and TCP connect off the caller's thread, on a small pool of
//! worker threads shared by the whole process.
//!
//! A [`Connector`] is one connect job. Its owner polls it for the socket
//! without waiting, and dropping it (the peer was closed, or gave up) cancels
//! the job: a queued job is never started and a running one stops within
//! 50 ms (on Unix; elsewhere it tries no further address). Every job has a deadline (the peer's handshake timeout): no
//! attempt runs past it, so a worker is never held longer than that by a
//! host whose addresses do not answer, and a reconnect loop cannot pile up
//! threads: at most [`MAX_WORKERS`] exist, and idle ones end after
//! [`WORKER_IDLE`].

use crate::error::{ConnectCause, WsError};
use std::collections::VecDeque;
use std::io;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
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
    /// Longest one attempt may take before the next address is tried.
    attempt_limit: Duration,
    cancelled: AtomicBool,
    result: Mutex<Option<Outcome>>,
}

impl Job {
    fn finish(&self, outcome: Outcome) {
        *lock(&self.result) = Some(outcome);
    }

    fn remaining(&self) -> Option<Duration> {
        self.deadline
            .map(|d| d.saturating_duration_since(Instant::now()))
    }

    /// Cancelled, or past its deadline: nothing more may be tried.
    fn given_up(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed) || self.remaining() == Some(Duration::ZERO)
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

/// One name lookup and TCP connect, run by the pool.
pub struct Connector {
    job: Arc<Job>,
}

impl Connector {
    /// Queues resolving `host` and connecting to `port`: each address tried
    /// for at most `attempt_limit`, and no attempt starts or runs after
    /// `deadline`.
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
        let (mutex, ready) = pool();
        let mut pool = lock(mutex);
        pool.queue.push_back(job.clone());
        if pool.idle == 0 && pool.workers < MAX_WORKERS {
            let spawned = std::thread::Builder::new()
                .name("ws-connect".into())
                .spawn(work);
            if let Err(e) = spawned {
                if pool.workers == 0 {
                    job.cancelled.store(true, Ordering::Relaxed);
                    return Err(WsError::Connect {
                        host: host.to_string(),
                        port,
                        why: format!("cannot start a connect thread: {e}"),
                        cause: ConnectCause::Other,
                    });
                }
                // The workers alive will get to it.
            } else {
                pool.workers += 1;
            }
        } else {
            ready.notify_one();
        }
        Ok(Connector { job })
    }

    /// The connected socket (non-blocking, no-delay) once there is one.
    pub fn poll(&mut self) -> Option<Outcome> {
        lock(&self.job.result).take()
    }
}

impl Drop for Connector {
    fn drop(&mut self) {
        self.job.cancelled.store(true, Ordering::Relaxed);
    }
}

/// A worker: runs queued jobs until it has been idle for [`WORKER_IDLE`].
fn work() {
    let (mutex, ready) = pool();
    let mut pool = lock(mutex);
    loop {
        if let Some(job) = pool.queue.pop_front() {
            drop(pool);
            if !job.cancelled.load(Ordering::Relaxed) {
                let outcome = connect(&job);
                job.finish(outcome);
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

fn timed_out(job: &Job) -> WsError {
    WsError::Connect {
        host: job.host.clone(),
        port: job.port,
        why: "no connection before the handshake timeout".into(),
        cause: ConnectCause::TimedOut,
    }
}

fn connect(job: &Job) -> Outcome {
    if job.given_up() {
        return Err(timed_out(job));
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
    let mut last: Option<(String, ConnectCause)> = None;
    for addr in addrs {
        if job.given_up() {
            return Err(match last {
                None => timed_out(job),
                Some((why, cause)) => connect_error(job, why, cause),
            });
        }
        let limit = job
            .remaining()
            .map_or(job.attempt_limit, |r| r.min(job.attempt_limit));
        match attempt(job, addr, limit) {
            Ok(sock) => {
                sock.set_nonblocking(true)
                    .map_err(|e| WsError::Io(e.to_string()))?;
                let _ = sock.set_nodelay(true);
                return Ok(sock);
            }
            Err(e) => {
                let cause = match e.kind() {
                    io::ErrorKind::ConnectionRefused => ConnectCause::Refused,
                    io::ErrorKind::TimedOut => ConnectCause::TimedOut,
                    _ => ConnectCause::Other,
                };
                last = Some((format!("{addr}: {e}"), cause));
            }
        }
    }
    let (why, cause) = last.unwrap_or_else(|| ("no address to try".into(), ConnectCause::Other));
    Err(connect_error(job, why, cause))
}

/// One connect attempt of at most `limit`. On Unix it is non-blocking and
/// watched in short slices, so a cancelled job lets go of its worker at once;
/// elsewhere it is one blocking attempt (still bounded by `limit`).
#[cfg(unix)]
fn attempt(job: &Job, addr: SocketAddr, limit: Duration) -> io::Result<TcpStream> {
    use socket2::{Domain, Protocol, Socket, Type};
    use std::os::fd::AsRawFd;
    const SLICE: Duration = Duration::from_millis(50);
    let sock = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    sock.set_nonblocking(true)?;
    match sock.connect(&addr.into()) {
        Ok(()) => return Ok(sock.into()),
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
        Err(e) => return Err(e),
    }
    let end = Instant::now() + limit;
    loop {
        if job.cancelled.load(Ordering::Relaxed) {
            return Err(io::Error::other("cancelled"));
        }
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::ErrorKind::TimedOut.into());
        }
        let mut fds = libc::pollfd {
            fd: sock.as_raw_fd(),
            events: libc::POLLOUT,
            revents: 0,
        };
        let wait = left.min(SLICE).as_millis().max(1) as libc::c_int;
        // SAFETY: one valid pollfd for the duration of the call.
        let n = unsafe { libc::poll(&mut fds, 1, wait) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(e);
            }
        } else if n > 0 {
            return match sock.take_error()? {
                Some(e) => Err(e),
                None => Ok(sock.into()),
            };
        }
    }
}

#[cfg(not(unix))]
fn attempt(_job: &Job, addr: SocketAddr, limit: Duration) -> io::Result<TcpStream> {
    TcpStream::connect_timeout(&addr, limit)
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

    #[test]
    fn a_job_past_its_deadline_is_not_tried() {
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
