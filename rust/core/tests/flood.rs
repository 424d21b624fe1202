//! A multiplayer server under a flood of connections that never finish
//! opening: thousands that send nothing, and (over wss) thousands that send
//! part of a TLS ClientHello and stop. The server keeps at most
//! `max_pending_connections` of them (the oldest dropped first), so their
//! descriptors are given back; a real client that comes meanwhile joins
//! within a few seconds, and no poll takes long.

#![cfg(unix)]

mod common;

use rustws_core::{Event, Hub, Peer, PeerConfig, Status, Stream, TlsClientOptions};
use rustws_core::{ServerConfig, DEFAULT_MAX_PENDING_CONNECTIONS};
use std::io::Write;
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

/// One flood at a time: descriptors are counted for the whole process.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// A generous bound on one poll of the server, not a benchmark.
const POLL_BOUND: Duration = Duration::from_millis(50);

/// The first bytes of a TLS ClientHello: a handshake record announcing 512
/// bytes, of which only the start comes.
const PARTIAL_HELLO: [u8; 11] = [
    0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03,
];

fn server_link(stream: Box<dyn Stream>, tls: bool) -> Option<Peer> {
    let mut p = Peer::new(rustws_core::link_config());
    p.accept_stream(stream, tls).ok()?;
    Some(p)
}

fn open_descriptors() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .or_else(|_| std::fs::read_dir("/dev/fd"))
        .map(|d| d.count())
        .unwrap()
}

/// Raises this process's descriptor limit to the most allowed, and says how
/// many flood connections fit (each takes a descriptor here, and the server
/// one more for each it keeps); `None` where the limit is too low for a
/// flood worth the name.
fn flood_size(wanted: usize) -> Option<usize> {
    // SAFETY: reads and writes one rlimit struct.
    let hard = unsafe {
        let mut lim: libc::rlimit = std::mem::zeroed();
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim), 0);
        lim.rlim_cur = lim.rlim_max;
        libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim);
        lim.rlim_cur as usize
    };
    let size = wanted.min(hard.saturating_sub(DEFAULT_MAX_PENDING_CONNECTIONS + 400) / 2);
    if size < 500 {
        eprintln!("skipped: the descriptor limit ({hard}) leaves room for {size} connections");
        return None;
    }
    Some(size)
}

struct Figures {
    flood: usize,
    join: Duration,
    max_poll: Duration,
    max_pending: usize,
    max_descriptors: usize,
    idle_poll: Duration,
}

/// Opens `count` connections to `port` on a thread, each sending `first`
/// and nothing more, then holds them until `stop`; while they open and sit
/// there, a real client (`client`) joins the server, polled here.
fn flood_then_join(
    count: usize,
    first: &'static [u8],
    tls: Option<Arc<ServerConfig>>,
    client_url: impl FnOnce(u16) -> (String, TlsClientOptions),
) -> Figures {
    let mut server: Hub<Peer> = Hub::default();
    server.create_server(0, "127.0.0.1", tls).unwrap();
    let port = server.local_port().unwrap();
    let base = open_descriptors();
    let stop = Arc::new(AtomicBool::new(false));
    let (opened_tx, opened_rx) = mpsc::channel();
    let flooder = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            let mut socks = Vec::with_capacity(count);
            for _ in 0..count {
                let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
                    continue;
                };
                let _ = s.write_all(first);
                socks.push(s);
            }
            let _ = opened_tx.send(socks.len());
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };
    let (mut max_poll, mut max_pending, mut max_descriptors) = (Duration::ZERO, 0, 0);
    let mut poll = |server: &mut Hub<Peer>| {
        let t = Instant::now();
        server.poll(&mut server_link);
        max_poll = max_poll.max(t.elapsed());
        max_pending = max_pending.max(server.pending_len());
    };
    // The flood opens; the server polls as a game would.
    let opened = loop {
        poll(&mut server);
        if let Ok(n) = opened_rx.try_recv() {
            break n;
        }
        std::thread::sleep(Duration::from_millis(1));
    };
    assert!(opened * 10 >= count * 9, "{opened} of {count} opened");
    // Whatever the kernel still holds for us is taken in.
    for _ in 0..(opened / rustws_core::ACCEPTS_PER_POLL + 10) {
        poll(&mut server);
    }
    max_descriptors = max_descriptors.max(open_descriptors().saturating_sub(base + opened));

    // A real client joins while the flood sits there.
    let (url, trust) = client_url(port);
    let mut link = Peer::new(PeerConfig::default());
    link.connect_to_url(&url, trust).unwrap();
    let mut client: Hub<Peer> = Hub::default();
    client.create_client(link).unwrap();
    let asked = Instant::now();
    let joined = loop {
        poll(&mut server);
        client.poll(&mut server_link);
        if let Some(Event::Connected(id)) = server.next_event() {
            break id;
        }
        assert!(
            asked.elapsed() < Duration::from_secs(10),
            "the real client did not join (client status {:?})",
            client.status()
        );
        std::thread::sleep(Duration::from_millis(1));
    };
    while client.status() != Status::Connected {
        poll(&mut server);
        client.poll(&mut server_link);
        assert!(asked.elapsed() < Duration::from_secs(10), "no id");
    }
    let join = asked.elapsed();
    assert_eq!(client.unique_id(), joined);
    // It talks, with the flood still there.
    client.put_packet(b"hello").unwrap();
    while server.available_packets() == 0 {
        poll(&mut server);
        client.poll(&mut server_link);
        assert!(asked.elapsed() < Duration::from_secs(10), "no packet");
    }
    assert_eq!(server.pop_packet().map(|p| p.from), Some(joined));
    // The flood sitting idle: each poll is cheap.
    let idle = Instant::now();
    for _ in 0..200 {
        poll(&mut server);
    }
    let idle_poll = idle.elapsed() / 200;
    max_descriptors = max_descriptors.max(open_descriptors().saturating_sub(base + opened));
    stop.store(true, Ordering::Relaxed);
    flooder.join().unwrap();
    Figures {
        flood: opened,
        join,
        max_poll,
        max_pending,
        max_descriptors,
        idle_poll,
    }
}

fn check(what: &str, f: &Figures) {
    println!(
        "{what}: {} connections; real client joined in {:.0} ms; longest poll {:.2} ms; \
         {:.3} ms with the flood idle; at most {} still opening; server descriptors \
         at most {}",
        f.flood,
        f.join.as_secs_f64() * 1e3,
        f.max_poll.as_secs_f64() * 1e3,
        f.idle_poll.as_secs_f64() * 1e3,
        f.max_pending,
        f.max_descriptors
    );
    assert!(f.join < Duration::from_secs(3), "joined in {:?}", f.join);
    assert!(f.max_poll < POLL_BOUND, "a poll took {:?}", f.max_poll);
    assert!(f.max_pending <= DEFAULT_MAX_PENDING_CONNECTIONS);
    // The kept connections, the real client's two ends, the readiness set.
    assert!(
        f.max_descriptors <= DEFAULT_MAX_PENDING_CONNECTIONS + 16,
        "the server held {} descriptors",
        f.max_descriptors
    );
}

#[test]
fn silent_flood_leaves_room_for_a_real_client() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let Some(count) = flood_size(5000) else {
        return;
    };
    let f = flood_then_join(count, &[], None, |port| {
        (format!("ws://127.0.0.1:{port}/"), TlsClientOptions::Default)
    });
    check("silent flood, ws", &f);
}

#[test]
fn slow_client_hello_flood_over_wss_leaves_room_for_a_real_client() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let Some(count) = flood_size(3000) else {
        return;
    };
    let (cert, key) = common::certificate(&["localhost"], false);
    let config = rustws_core::server_config(cert.as_bytes(), key.as_bytes()).unwrap();
    let f = flood_then_join(count, &PARTIAL_HELLO, Some(config), |port| {
        (
            format!("wss://localhost:{port}/"),
            TlsClientOptions::Trusted {
                ca_pem: Some(cert.into_bytes()),
                common_name_override: String::new(),
            },
        )
    });
    check("partial ClientHello flood, wss", &f);
}
