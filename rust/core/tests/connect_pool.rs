//! Connect threads are bounded: a host that never answers holds a worker
//! only until the peer's handshake timeout, a closed peer lets go of its
//! worker, and a reconnect loop never piles up threads.

use rustws_core::{live_workers, Connector, MAX_WORKERS};
use rustws_core::{ConnectCause, Failure, Peer, PeerConfig, ReadyState, TlsClientOptions, WsError};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// A listener on 127.0.0.1 whose accept queue is full (backlog 0, one
/// connection waiting, never accepted): connects to it hang, as to a host
/// that drops SYNs.
fn tar_pit() -> (socket2::Socket, TcpStream, u16) {
    use socket2::{Domain, Socket, Type};
    let listener = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    listener.bind(&addr.into()).unwrap();
    listener.listen(0).unwrap();
    let port = listener.local_addr().unwrap().as_socket().unwrap().port();
    let filler = TcpStream::connect(("127.0.0.1", port)).unwrap();
    (listener, filler, port)
}

/// Threads of this process named "ws-connect" (Linux), as `top` would show
/// them; elsewhere the pool's own count.
fn connect_threads() -> usize {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return live_workers();
    };
    tasks
        .flatten()
        .filter(|t| {
            std::fs::read_to_string(t.path().join("comm")).is_ok_and(|c| c.trim() == "ws-connect")
        })
        .count()
}

fn wait_all(connectors: &mut [Connector], within: Duration) -> Vec<String> {
    let start = Instant::now();
    let mut results = vec![None; connectors.len()];
    while results.iter().any(Option::is_none) {
        let alive = connect_threads();
        assert!(alive <= MAX_WORKERS, "{alive} connect threads alive");
        for (c, r) in connectors.iter_mut().zip(results.iter_mut()) {
            if r.is_none() {
                *r = c.poll().map(|o| match o {
                    Ok(_) => "connected".to_string(),
                    Err(e) => e.to_string(),
                });
            }
        }
        assert!(
            start.elapsed() < within,
            "{} of {} connects still running after {within:?}",
            results.iter().filter(|r| r.is_none()).count(),
            results.len()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    results.into_iter().flatten().collect()
}

#[test]
fn connects_to_a_silent_host_end_at_the_deadline_with_few_threads() {
    let (_listener, _filler, port) = tar_pit();
    let deadline = Instant::now() + Duration::from_millis(800);
    let mut connectors: Vec<Connector> = (0..100)
        .map(|_| {
            Connector::start("127.0.0.1", port, Some(deadline), Duration::from_secs(10)).unwrap()
        })
        .collect();
    let results = wait_all(&mut connectors, Duration::from_secs(4));
    assert!(
        results.iter().all(|r| r.contains("127.0.0.1")),
        "all fail and say where: {results:?}"
    );
    // A good address still connects at once afterwards.
    let good = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let good_port = good.local_addr().unwrap().port();
    let mut c =
        vec![Connector::start("127.0.0.1", good_port, None, Duration::from_secs(10)).unwrap()];
    assert_eq!(wait_all(&mut c, Duration::from_secs(2)), vec!["connected"]);
}

#[test]
fn a_reconnect_loop_on_a_silent_host_frees_its_threads() {
    let (_listener, _filler, port) = tar_pit();
    let url = format!("ws://127.0.0.1:{port}/");
    let mut peer = Peer::new(PeerConfig::default());
    // Connect and give up 200 times, as a game retrying every frame would.
    for _ in 0..200 {
        peer.connect_to_url(&url, TlsClientOptions::Default)
            .unwrap();
        peer.poll();
        assert_eq!(peer.ready_state(), ReadyState::Connecting);
        peer.close(-1, "");
        let alive = connect_threads();
        assert!(alive <= MAX_WORKERS, "{alive} connect threads alive");
    }
    // Cancelled attempts let go within a poll slice: a good address gets a
    // worker promptly even though every attempt above was to a silent host.
    let good = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let good_port = good.local_addr().unwrap().port();
    let mut c =
        vec![Connector::start("127.0.0.1", good_port, None, Duration::from_secs(10)).unwrap()];
    assert_eq!(wait_all(&mut c, Duration::from_secs(1)), vec!["connected"]);
}

#[test]
fn the_handshake_timeout_bounds_a_peer_connect() {
    let (_listener, _filler, port) = tar_pit();
    let mut peer = Peer::new(PeerConfig {
        handshake_timeout: 0.3,
        ..PeerConfig::default()
    });
    let start = Instant::now();
    peer.connect_to_url(
        &format!("ws://127.0.0.1:{port}/"),
        TlsClientOptions::Default,
    )
    .unwrap();
    while peer.ready_state() != ReadyState::Closed {
        peer.poll();
        assert!(start.elapsed() < Duration::from_secs(3), "still connecting");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn the_connect_timeout_bounds_one_attempt_and_says_so() {
    let (_listener, _filler, port) = tar_pit();
    let mut peer = Peer::new(PeerConfig {
        connect_timeout: 0.3,
        ..PeerConfig::default()
    });
    let start = Instant::now();
    peer.connect_to_url(
        &format!("ws://127.0.0.1:{port}/"),
        TlsClientOptions::Default,
    )
    .unwrap();
    let mut errors = Vec::new();
    while peer.ready_state() != ReadyState::Closed {
        errors.extend(peer.poll());
        assert!(start.elapsed() < Duration::from_secs(5), "still connecting");
        std::thread::sleep(Duration::from_millis(5));
    }
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(300), "{took:?}");
    assert!(
        matches!(
            errors.as_slice(),
            [WsError::Connect {
                cause: ConnectCause::TimedOut,
                ..
            }]
        ),
        "{errors:?}"
    );
    assert_eq!(peer.failure().map(WsError::failure), Some(Failure::Timeout));
}

/// "Never" timeouts (1e300 s, as good as never) to a host that does not
/// answer: a normal peer dialing a local server still opens, however many
/// such connects wait (before, each of them panicked its worker on an
/// Instant overflow, and after 16 none was left).
#[test]
fn never_timeouts_neither_panic_nor_starve_other_connects() {
    let (_listener, _filler, port) = tar_pit();
    let never = PeerConfig {
        handshake_timeout: 1e300,
        connect_timeout: 1e300,
        ..PeerConfig::default()
    };
    let mut waiting: Vec<Peer> = (0..MAX_WORKERS + 4)
        .map(|_| {
            let mut peer = Peer::new(never.clone());
            peer.connect_to_url(
                &format!("ws://127.0.0.1:{port}/"),
                TlsClientOptions::Default,
            )
            .unwrap();
            peer.poll();
            peer
        })
        .collect();
    // Named hosts too (their lookup goes through the worker pool).
    waiting.extend((0..MAX_WORKERS + 4).map(|_| {
        let mut peer = Peer::new(never.clone());
        peer.connect_to_url(
            &format!("ws://localhost:{port}/"),
            TlsClientOptions::Default,
        )
        .unwrap();
        peer.poll();
        peer
    }));
    std::thread::sleep(Duration::from_millis(200));
    let server = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let server_port = server.local_addr().unwrap().port();
    let accepting = std::thread::spawn(move || {
        let (sock, _) = server.accept().unwrap();
        sock.set_nonblocking(true).unwrap();
        let mut peer = Peer::new(PeerConfig::default());
        peer.accept_stream(Box::new(sock), false).unwrap();
        let start = Instant::now();
        while peer.ready_state() == ReadyState::Connecting
            && start.elapsed() < Duration::from_secs(6)
        {
            peer.poll();
            std::thread::sleep(Duration::from_millis(2));
        }
        peer
    });
    let mut normal = Peer::new(never.clone());
    normal
        .connect_to_url(
            &format!("ws://localhost:{server_port}/"),
            TlsClientOptions::Default,
        )
        .unwrap();
    let start = Instant::now();
    while normal.ready_state() == ReadyState::Connecting {
        normal.poll();
        for w in &mut waiting {
            w.poll();
        }
        assert!(
            start.elapsed() < Duration::from_secs(6),
            "the normal peer is still connecting"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    assert_eq!(normal.ready_state(), ReadyState::Open);
    let _server_side = accepting.join().expect("no panic");
    assert!(waiting
        .iter()
        .all(|w| w.ready_state() == ReadyState::Connecting));
    assert!(live_workers() <= MAX_WORKERS);
}
