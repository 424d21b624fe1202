//! A client that sends pings at line rate and never reads the pongs must not
//! grow the server's memory: the server stops reading while its replies pile
//! up, and TCP slows the flooder down. Alone in its file so the process's
//! resident memory is this test's alone.

mod common;

use common::*;
use rustws_core::REPLY_BACKLOG;
use rustws_core::{Peer, PeerConfig, ReadyState, Stream};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const UPGRADE: &str = "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

/// Resident memory of this process in KiB (Linux), else `None`.
fn rss_kib() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4)
}

#[test]
fn a_ping_flood_that_never_reads_keeps_the_server_small() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut raw = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (sock, _) = listener.accept().unwrap();
    sock.set_nonblocking(true).unwrap();
    let mut server = Peer::new(PeerConfig::default());
    let stream: Box<dyn Stream> = Box::new(sock);
    server.accept_stream(stream, false).unwrap();
    raw.write_all(UPGRADE.as_bytes()).unwrap();
    wait_open(&mut server);
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        raw.read_exact(&mut byte).unwrap();
        head.push(byte[0]);
    }

    // Masked pings with the largest payload a control frame may carry.
    let mut ping = vec![0x89, 0x80 | 125, 1, 2, 3, 4];
    ping.extend(std::iter::repeat_n(0x55, 125));
    let burst: Vec<u8> = ping.repeat(512);
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicU64::new(0));
    let flooder = {
        let (stop, sent) = (stop.clone(), sent.clone());
        std::thread::spawn(move || {
            raw.set_write_timeout(Some(Duration::from_millis(100)))
                .unwrap();
            // A write may take part of the burst: the next one goes on from
            // there, so the stream stays whole frames.
            let mut at = 0;
            while !stop.load(Ordering::Relaxed) {
                match raw.write(&burst[at..]) {
                    Ok(n) => {
                        at = (at + n) % burst.len();
                        sent.fetch_add(n as u64, Ordering::Relaxed);
                    }
                    Err(e)
                        if matches!(
                            e.kind(),
                            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                        ) => {}
                    Err(_) => break,
                }
            }
            raw
        })
    };

    let base = rss_kib();
    let mut peak = base;
    let mut most_buffered = 0;
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(3) {
        let polled = server.poll();
        assert!(polled.is_none(), "the link stays up: {polled:?}");
        most_buffered = most_buffered.max(server.buffered_amount());
        peak = peak.max(rss_kib());
    }
    stop.store(true, Ordering::Relaxed);
    let _raw = flooder.join().unwrap();
    assert_eq!(server.ready_state(), ReadyState::Open);
    let sent = sent.load(Ordering::Relaxed);
    // One pong frame can land on top of the backlog before reading stops.
    assert!(
        most_buffered <= REPLY_BACKLOG + 2 * 127,
        "{most_buffered} bytes of pongs buffered"
    );
    if let (Some(base), Some(peak)) = (base, peak) {
        let grown = peak.saturating_sub(base);
        assert!(
            grown < 32 * 1024,
            "the server grew by {grown} KiB while {sent} bytes of pings came in"
        );
    }
    // The flood was held back by TCP, not absorbed: far less than the
    // gigabytes loopback carries in 3 s got through.
    assert!(sent < 64 * 1024 * 1024, "{sent} bytes of pings accepted");
}
