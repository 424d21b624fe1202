//! A multiplayer server that runs out of file descriptors says so once, not
//! on every poll, and accepts again when descriptors are free. Alone in its
//! file: it lowers this process's descriptor limit and installs a logger.

#![cfg(unix)]

use rustws_core::Hub;
use rustws_core::{Peer, PeerConfig, Stream};
use std::sync::Mutex;

static LOGGED: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }
    fn log(&self, record: &log::Record) {
        if record.level() <= log::Level::Warn {
            LOGGED.lock().unwrap().push(record.args().to_string());
        }
    }
    fn flush(&self) {}
}

fn open_descriptors() -> u64 {
    std::fs::read_dir("/proc/self/fd")
        .or_else(|_| std::fs::read_dir("/dev/fd"))
        .map(|d| d.count() as u64)
        .unwrap()
}

fn set_soft_limit(soft: u64) -> libc::rlimit {
    // SAFETY: reads and writes one rlimit struct.
    unsafe {
        let mut old: libc::rlimit = std::mem::zeroed();
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut old), 0);
        let new = libc::rlimit {
            rlim_cur: soft as libc::rlim_t,
            rlim_max: old.rlim_max,
        };
        assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &new), 0);
        old
    }
}

#[test]
fn out_of_descriptors_is_reported_once_and_accepting_resumes() {
    log::set_logger(&Capture).unwrap();
    log::set_max_level(log::LevelFilter::Warn);
    let mut hub: Hub<Peer> = Hub::default();
    hub.create_server(0, "127.0.0.1", None).unwrap();
    let port = hub.local_port().unwrap();
    let made = std::cell::Cell::new(0);
    let mut new_link = |stream: Box<dyn Stream>, tls: bool| {
        made.set(made.get() + 1);
        let mut p = Peer::new(PeerConfig::default());
        p.accept_stream(stream, tls).ok()?;
        Some(p)
    };
    // One accepted first, so the shared readiness set exists already.
    let _first = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    while made.get() == 0 {
        hub.poll(&mut new_link);
    }
    let _waiting: Vec<_> = (0..20)
        .map(|_| std::net::TcpStream::connect(("127.0.0.1", port)).unwrap())
        .collect();
    let old = set_soft_limit(open_descriptors() + 2);
    for _ in 0..50 {
        hub.poll(&mut new_link);
    }
    let full = made.get();
    let complaints: Vec<String> = LOGGED
        .lock()
        .unwrap()
        .iter()
        .filter(|m| m.contains("cannot accept"))
        .cloned()
        .collect();
    // SAFETY: restores the limit read above.
    unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &old) };
    assert!(full < 21, "some connections had to wait ({full} accepted)");
    assert_eq!(complaints.len(), 1, "{complaints:?}");
    assert!(complaints[0].contains("ulimit"), "{}", complaints[0]);
    for _ in 0..50 {
        hub.poll(&mut new_link);
    }
    assert_eq!(
        made.get(),
        21,
        "the waiting connections are accepted afterwards"
    );
}
