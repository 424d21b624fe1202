//! The memory a link holds for what a peer sends, measured by the allocator
//! itself (this test binary counts every live byte): it stays within a small
//! multiple of `inbound_buffer_size` however the peer sends it. A raw client
//! socket plays the peer; our server side receives and the game does not
//! read (a loading screen).
//!
//! One test function runs the cases in turn, so no other test's memory
//! shows in the count.

mod common;

use common::*;
use rustws_core::{Peer, PeerConfig, ReadyState};
use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

#[global_allocator]
static ALLOC: common::counting::Counting = common::counting::Counting;

fn live() -> isize {
    common::counting::live()
}

/// Our server side, open, with a raw client socket on the other end.
fn open_server(config: PeerConfig) -> (Peer, TcpStream) {
    let (peer, raw, _) = open_server_and_raw_client(config);
    (peer, raw)
}

/// A masked binary frame header (mask key 0: the payload goes as it is).
fn header(len: u64) -> Vec<u8> {
    let mut h = vec![0x82];
    if len < 126 {
        h.push(0x80 | len as u8);
    } else if len < 65536 {
        h.push(0x80 | 126);
        h.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        h.push(0x80 | 127);
        h.extend_from_slice(&len.to_be_bytes());
    }
    h.extend_from_slice(&[0, 0, 0, 0]);
    h
}

/// Polls for up to `wait` or until `n` packets wait.
fn poll_for(peer: &mut Peer, n: usize, wait: Duration) {
    let start = Instant::now();
    while peer.available_packets() < n && start.elapsed() < wait {
        assert!(peer.poll().is_none(), "the link failed");
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// 2,000 one-byte messages, each written alone and read alone (the game
/// polls between them) while the game reads none: the link keeps what it
/// has room for, holds about `inbound_buffer_size`, and loses nothing.
fn trickle() {
    const MESSAGES: usize = 2000;
    let config = PeerConfig::default();
    let budget = config.inbound_buffer_size;
    let (mut peer, mut raw) = open_server(config);
    let before = live();
    let mut frame = header(1);
    frame.push(b'x');
    let mut stalled = false;
    for i in 0..MESSAGES {
        raw.write_all(&frame).unwrap();
        if !stalled {
            poll_for(&mut peer, i + 1, Duration::from_millis(100));
            stalled = peer.available_packets() <= i;
        }
    }
    poll_for(&mut peer, MESSAGES, Duration::from_millis(200));
    let grown = live() - before;
    let queued = peer.available_packets();
    let held = peer.held_inbound();
    println!(
        "trickle: {queued} of {MESSAGES} queued, {grown} bytes allocated, {held} held by the count, inbound_buffer_size {budget}"
    );
    assert!(
        grown < (3 * budget) as isize,
        "{queued} one-byte messages took {grown} bytes (inbound_buffer_size {budget})"
    );
    assert!(
        held as isize >= grown / 2 && held <= 3 * budget,
        "the link's count ({held}) is what it holds ({grown})"
    );
    // Nothing was lost: the rest waited in the socket.
    let mut got = 0;
    let start = Instant::now();
    while got < MESSAGES {
        assert!(start.elapsed() < WAIT, "{got} of {MESSAGES} arrived");
        assert!(peer.poll().is_none());
        while let Some(p) = peer.pop_packet() {
            assert_eq!(&p.data[..], b"x");
            got += 1;
        }
    }
    assert_eq!(peer.ready_state(), ReadyState::Open);
}

/// A frame header declaring a frame as large as the limit (raised to
/// 256 MiB) reserves nothing like it: what is held grows with the bytes
/// that arrive, about twice as many at most.
fn header_alone() {
    let limit = 256 << 20;
    let config = PeerConfig {
        inbound_buffer_size: limit,
        ..PeerConfig::default()
    };
    let (mut peer, mut raw) = open_server(config);
    let before = live();
    raw.write_all(&header(limit as u64)).unwrap();
    for _ in 0..20 {
        assert!(peer.poll().is_none());
        std::thread::sleep(Duration::from_millis(2));
    }
    let grown = live() - before;
    println!("a 14-byte header of a {limit}-byte frame: {grown} bytes allocated");
    assert!(
        grown < 256 * 1024,
        "a 14-byte header made the link take {grown} bytes"
    );
    // 1 MiB of its payload: about that much more, not the declared size.
    let part = vec![7u8; 1 << 20];
    raw.write_all(&part).unwrap();
    drop(part);
    let start = Instant::now();
    let mut grown = 0;
    while start.elapsed() < Duration::from_millis(500) {
        assert!(peer.poll().is_none());
        grown = live() - before;
        std::thread::sleep(Duration::from_millis(2));
    }
    println!("after 1 MiB of it: {grown} bytes allocated");
    assert!(
        grown > (1 << 20) && grown < (3 << 20),
        "1 MiB of a frame took {grown} bytes"
    );
    assert_eq!(peer.ready_state(), ReadyState::Open);
}

#[test]
fn what_a_peer_sends_holds_memory_within_a_multiple_of_the_inbound_budget() {
    trickle();
    header_alone();
}
