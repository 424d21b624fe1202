//! Broken and hostile peers, played by a raw TCP socket the test controls:
//! every case ends closed, with the RFC's close code where it names one and
//! an error that says what happened; nothing panics.

mod common;

use common::*;
use rustws_core::MAX_HEAD_SIZE;
use rustws_core::{Failure, Peer, PeerConfig, ReadyState, Stream, TlsClientOptions, WsError};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

/// Our server peer on one end, a raw client socket on the other.
fn server_with_raw_client() -> (Peer, TcpStream) {
    server_with_raw_client_and(PeerConfig::default())
}

fn server_with_raw_client_and(config: PeerConfig) -> (Peer, TcpStream) {
    server_and_raw_client(config)
}

const UPGRADE: &str = RAW_UPGRADE;

/// Completes the upgrade from the raw client; returns the peer open.
fn open_server() -> (Peer, TcpStream) {
    open_server_with(PeerConfig::default())
}

fn open_server_with(config: PeerConfig) -> (Peer, TcpStream) {
    let (peer, raw, head) = open_server_and_raw_client(config);
    assert!(head.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
    (peer, raw)
}

/// A masked client frame (mask key 0: payload unchanged).
fn masked(first: u8, payload: &[u8]) -> Vec<u8> {
    assert!(payload.len() < 126);
    let mut f = vec![first, 0x80 | payload.len() as u8, 0, 0, 0, 0];
    f.extend_from_slice(payload);
    f
}

/// Reads the close frame the peer sent and returns its code.
fn read_close_code(raw: &mut TcpStream) -> u16 {
    let mut hdr = [0u8; 2];
    raw.read_exact(&mut hdr).unwrap();
    assert_eq!(hdr[0], 0x88, "expected a close frame");
    let mut body = vec![0u8; (hdr[1] & 0x7f) as usize];
    raw.read_exact(&mut body).unwrap();
    u16::from_be_bytes([body[0], body[1]])
}

fn expect_protocol_close(frames: &[u8], code: u16) -> Vec<WsError> {
    let (mut peer, mut raw) = open_server();
    raw.write_all(frames).unwrap();
    let errors = wait_closed(&mut peer);
    assert_eq!(peer.close_code(), i32::from(code), "errors: {errors:?}");
    assert_eq!(read_close_code(&mut raw), code);
    errors
}

#[test]
fn unmasked_client_frame_is_1002() {
    let errors = expect_protocol_close(&[0x82, 0x01, 0x41], 1002);
    assert!(
        matches!(errors.as_slice(), [WsError::Protocol { code: 1002, .. }]),
        "{errors:?}"
    );
}

#[test]
fn reserved_bits_continuation_without_start_and_bad_control_frames_are_1002() {
    expect_protocol_close(&masked(0xc2, b"x"), 1002); // RSV1 set
    expect_protocol_close(&masked(0x80, b"x"), 1002); // continuation, no start
    expect_protocol_close(&masked(0x09, b""), 1002); // fragmented ping
    let mut big_ping = vec![0x89, 0x80 | 126, 0, 200, 0, 0, 0, 0];
    big_ping.extend_from_slice(&[0u8; 200]);
    expect_protocol_close(&big_ping, 1002); // control frame over 125 bytes
}

#[test]
fn invalid_utf8_is_1007_and_oversize_is_1009() {
    let errors = expect_protocol_close(&masked(0x81, &[0xc3, 0x28]), 1007);
    assert_eq!(errors, vec![WsError::InvalidUtf8Inbound]);
    // A frame header announcing 100000 bytes is refused before its payload.
    let header = [0x82, 0x80 | 127, 0, 0, 0, 0, 0, 1, 0x86, 0xa0, 0, 0, 0, 0];
    let errors = expect_protocol_close(&header, 1009);
    assert!(
        matches!(
            errors.as_slice(),
            [WsError::MessageTooBig { limit: 65535, .. }]
        ),
        "{errors:?}"
    );
    // Fragments that add up past the limit.
    let mut frames = Vec::new();
    for i in 0..700 {
        let first = if i == 0 { 0x02 } else { 0x00 };
        frames.extend(masked(first, &[0u8; 100]));
    }
    expect_protocol_close(&frames, 1009);
}

#[test]
fn ping_flood_gets_pongs_and_link_stays_open() {
    let (mut peer, mut raw) = open_server();
    let mut flood = Vec::new();
    for _ in 0..2000 {
        flood.extend(masked(0x89, b"p"));
    }
    raw.write_all(&flood).unwrap();
    raw.write_all(&masked(0x82, b"after")).unwrap();
    let packet = next_packet(&mut peer);
    assert_eq!(packet.data.as_ref(), b"after");
    assert_eq!(peer.ready_state(), ReadyState::Open);
    // Every ping got its pong, carrying the ping's payload.
    let mut pongs = vec![0u8; 2000 * 3];
    let mut got = 0;
    while got < pongs.len() {
        peer.poll();
        match raw.read(&mut pongs[got..]) {
            Ok(0) => panic!("the server hung up"),
            Ok(n) => got += n,
            Err(e) => panic!("reading pongs: {e}"),
        }
    }
    assert!(pongs.chunks(3).all(|f| f == [0x8a, 0x01, b'p']));
}

#[test]
fn garbage_and_bad_requests_get_an_http_error() {
    for (request, status) in [
        ("\x16\x03\x01\x00\x7f garbage\r\n\r\n".to_string(), "400"),
        (
            UPGRADE.replace("Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 8"),
            "426",
        ),
        (
            UPGRADE.replace("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", ""),
            "400",
        ),
        (
            format!(
                "GET / HTTP/1.1\r\nX-Big: {}\r\n\r\n",
                "a".repeat(MAX_HEAD_SIZE + 10)
            ),
            "431",
        ),
    ] {
        let (mut peer, mut raw) = server_with_raw_client();
        raw.write_all(request.as_bytes()).unwrap();
        let errors = wait_closed(&mut peer);
        assert!(
            matches!(errors.as_slice(), [WsError::Handshake(_)]),
            "{errors:?}"
        );
        let mut answer = String::new();
        let _ = raw.read_to_string(&mut answer);
        let shown: String = request.chars().take(40).collect();
        assert!(
            answer.starts_with(&format!("HTTP/1.1 {status} ")),
            "{shown:?} -> {answer:?}"
        );
    }
}

#[test]
fn client_that_never_finishes_the_upgrade_or_hangs_up_mid_handshake() {
    let (mut peer, raw) = server_with_raw_client();
    (&raw).write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").unwrap();
    drop(raw);
    let errors = wait_closed(&mut peer);
    assert!(
        matches!(errors.as_slice(), [WsError::Handshake(why)] if why.contains("closed the connection")),
        "{errors:?}"
    );
}

/// Our client against a raw server that answers `response` to the upgrade.
fn client_against(response: impl FnOnce(&str) -> Vec<u8> + Send + 'static) -> Vec<WsError> {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut peer = Peer::new(PeerConfig::default());
    peer.connect_to_url(
        &format!("ws://127.0.0.1:{port}/"),
        TlsClientOptions::Default,
    )
    .unwrap();
    let server = std::thread::spawn(move || {
        let (mut sock, _) = listener.accept().unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            if sock.read(&mut byte).unwrap_or(0) == 0 {
                return;
            }
            head.push(byte[0]);
        }
        let _ = sock.write_all(&response(&String::from_utf8_lossy(&head)));
    });
    let errors = wait_closed(&mut peer);
    server.join().unwrap();
    assert_eq!(peer.close_code(), -1);
    errors
}

fn key_of(head: &str) -> String {
    head.lines()
        .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
        .unwrap_or_default()
        .to_string()
}

#[test]
fn client_refuses_bad_upgrade_answers() {
    type Answer = Box<dyn FnOnce(&str) -> Vec<u8> + Send>;
    let cases: Vec<(Answer, &str)> = vec![
        (
            Box::new(|_| b"HTTP/1.1 403 Forbidden\r\n\r\n".to_vec()),
            "instead of 101",
        ),
        (Box::new(|_| b"\x00\x01garbage\r\n\r\n".to_vec()), "HTTP"),
        (
            Box::new(|_| {
                b"HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: bad\r\n\r\n".to_vec()
            }),
            "Sec-WebSocket-Accept",
        ),
        (
            Box::new(|head: &str| {
                let accept = tungstenite::handshake::derive_accept_key(key_of(head).as_bytes());
                format!("HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\nSec-WebSocket-Protocol: chat\r\n\r\n").into_bytes()
            }),
            "not requested",
        ),
        (
            Box::new(|_| b"HTTP/1.1 101 Switching".to_vec()),
            "closed the connection",
        ),
        (Box::new(|_| vec![b'x'; MAX_HEAD_SIZE + 100]), "larger than"),
    ];
    for (response, needle) in cases {
        let errors = client_against(response);
        match errors.as_slice() {
            [e @ (WsError::Handshake(_) | WsError::UpgradeRefused { .. })] => {
                assert!(e.to_string().contains(needle), "{e} (wanted {needle})");
                // A status other than 101 is readable as such.
                if let WsError::UpgradeRefused { .. } = e {
                    assert_eq!(
                        (e.failure(), e.http_status()),
                        (Failure::HttpStatus, Some(403))
                    );
                }
            }
            other => panic!("wanted a handshake error with {needle:?}, got {other:?}"),
        }
    }
}

#[test]
fn peer_that_stops_reading_hits_the_outbound_limit() {
    let (mut peer, _raw) = open_server();
    let chunk = vec![0u8; 16 * 1024];
    let mut refused = None;
    for _ in 0..10_000 {
        match peer.send(&chunk, false) {
            Ok(()) => peer.poll().map_or((), |e| panic!("{e}")),
            Err(e) => {
                refused = Some(e);
                break;
            }
        }
    }
    assert!(
        matches!(
            refused,
            Some(WsError::OutboundBufferFull { limit: 65535, .. })
        ),
        "{refused:?}"
    );
    assert!(
        peer.buffered_amount() > 0 && peer.buffered_amount() <= 65535,
        "{}",
        peer.buffered_amount()
    );
    assert_eq!(peer.ready_state(), ReadyState::Open);
}

#[test]
fn client_that_never_sends_the_upgrade_is_dropped_after_the_handshake_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let silent = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (sock, _) = listener.accept().unwrap();
    sock.set_nonblocking(true).unwrap();
    let config = PeerConfig {
        handshake_timeout: 0.2,
        ..PeerConfig::default()
    };
    let mut peer = Peer::new(config);
    let stream: Box<dyn Stream> = Box::new(sock);
    peer.accept_stream(stream, false).unwrap();
    let errors = wait_closed(&mut peer);
    assert!(
        matches!(errors.as_slice(), [e @ WsError::Timeout { .. }] if e.to_string().contains("not open after 0.2 s")),
        "{errors:?}"
    );
    assert_eq!(peer.failure().map(WsError::failure), Some(Failure::Timeout));
    assert_eq!(peer.close_code(), -1);
    drop(silent);
}

#[test]
fn reserved_opcodes_are_1002() {
    expect_protocol_close(&masked(0x83, b"x"), 1002); // reserved data opcode 3
    expect_protocol_close(&masked(0x8b, b""), 1002); // reserved control opcode 11
}

#[test]
fn empty_messages_and_unsolicited_pongs() {
    let (mut peer, mut raw) = open_server();
    raw.write_all(&masked(0x8a, b"unasked")).unwrap(); // pong nobody asked for
    raw.write_all(&masked(0x81, b"")).unwrap();
    raw.write_all(&masked(0x82, b"")).unwrap();
    let text = next_packet(&mut peer);
    assert!(text.text && text.data.is_empty());
    let binary = next_packet(&mut peer);
    assert!(!binary.text && binary.data.is_empty());
    assert_eq!(peer.ready_state(), ReadyState::Open);
}

#[test]
fn invalid_close_code_is_answered_with_1002_and_bad_close_reason_with_1007() {
    let mut payload = 999u16.to_be_bytes().to_vec();
    payload.extend_from_slice(b"bad code");
    let (mut peer, mut raw) = open_server();
    raw.write_all(&masked(0x88, &payload)).unwrap();
    wait_closed(&mut peer);
    assert_eq!(read_close_code(&mut raw), 1002);
    let mut payload = 1000u16.to_be_bytes().to_vec();
    payload.extend_from_slice(&[0xc3, 0x28]);
    expect_protocol_close(&masked(0x88, &payload), 1007);
}

#[test]
fn a_peer_that_never_answers_our_close_is_dropped_after_the_close_timeout() {
    let (mut peer, _raw) = open_server_with(PeerConfig {
        close_timeout: Duration::from_millis(300),
        ..PeerConfig::default()
    });
    assert!(peer.close(1000, "bye").is_none());
    assert_eq!(peer.ready_state(), ReadyState::Closing);
    let start = std::time::Instant::now();
    let errors = wait_closed(&mut peer);
    assert!(start.elapsed() >= Duration::from_millis(300));
    assert!(
        matches!(&errors[..], [WsError::Dropped(why)] if why.contains("closing handshake")),
        "{errors:?}"
    );
}

#[test]
fn a_heartbeat_set_on_an_open_link_starts_at_once() {
    let (mut peer, mut raw) = open_server();
    peer.set_heartbeat_interval(0.05).expect("a valid interval");
    // The raw client does not answer: a ping comes, then the link is dropped
    // for the missing pong.
    let errors = poll_until(&mut peer, "the heartbeat to drop the link", |p| {
        p.ready_state() == ReadyState::Closed
    });
    assert!(
        matches!(&errors[..], [WsError::HeartbeatTimeout { .. }]),
        "{errors:?}"
    );
    // Our pings carry 8 bytes, matched against the pong for the round trip.
    let mut ping = [0u8; 10];
    raw.read_exact(&mut ping).unwrap();
    assert_eq!(ping[..2], [0x89, 0x08], "a ping came first");
}

#[test]
fn heartbeat_misses_set_how_many_unanswered_pings_end_a_link() {
    for misses in [1u32, 4] {
        let (mut peer, mut raw) = open_server_with(PeerConfig {
            heartbeat_misses: misses,
            ..PeerConfig::default()
        });
        peer.set_heartbeat_interval(0.05).expect("a valid interval");
        let errors = poll_until(&mut peer, "the heartbeat to drop the link", |p| {
            p.ready_state() == ReadyState::Closed
        });
        match &errors[..] {
            [e @ WsError::HeartbeatTimeout { misses: seen, .. }] => {
                assert_eq!(*seen, misses);
                assert_eq!(e.failure(), Failure::Heartbeat);
            }
            other => panic!("{other:?}"),
        }
        // The silent client got exactly that many pings before the drop.
        let mut pings = vec![0u8; 10 * misses as usize];
        raw.read_exact(&mut pings).unwrap();
        assert!(
            pings.chunks(10).all(|p| p[..2] == [0x89, 0x08]),
            "{pings:?}"
        );
    }
}

/// A peer that filled the queue the game does not read (a loading screen)
/// is alive even if its pong waits unread behind its messages: the
/// heartbeat does not drop it. Once the game reads, misses count again.
#[test]
fn a_full_queue_the_game_does_not_read_is_not_a_missed_heartbeat() {
    let (mut peer, mut raw) = open_server_with(PeerConfig {
        heartbeat_misses: 1,
        max_queued_packets: 8,
        ..PeerConfig::default()
    });
    peer.set_heartbeat_interval(0.05).expect("a valid interval");
    // More messages than the queue takes; the client never answers pings.
    let mut burst = Vec::new();
    for _ in 0..64 {
        burst.extend(masked(0x82, b"data"));
    }
    raw.write_all(&burst).unwrap();
    let start = std::time::Instant::now();
    while start.elapsed() < std::time::Duration::from_millis(600) {
        assert!(
            peer.poll().is_none(),
            "dropped while the game left the queue full"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert_eq!(peer.ready_state(), ReadyState::Open);
    // The game reads everything: the silent peer's misses count again.
    let errors = poll_until(&mut peer, "the heartbeat to drop the link", |p| {
        while p.pop_packet().is_some() {}
        p.ready_state() == ReadyState::Closed
    });
    assert!(
        matches!(&errors[..], [WsError::HeartbeatTimeout { .. }]),
        "{errors:?}"
    );
}

/// Autobahn 3.2's order: a valid text message, then a frame with RSV2 set
/// (and a ping), in one TCP write. The message is delivered on the poll
/// that reads it, with the link still open, so the game can echo it; the
/// link fails with 1002 on the next poll, after the echo left.
#[test]
fn a_message_before_a_protocol_error_is_delivered_before_the_close() {
    let (mut peer, mut raw) = open_server();
    let mut frames = masked(0x81, b"Hello, world!");
    frames.extend(masked(0xa1, b"Hello, world!")); // RSV2 set
    frames.extend(masked(0x89, b"")); // a ping
    raw.write_all(&frames).unwrap();
    // Let all of it arrive, so one poll reads it all.
    std::thread::sleep(Duration::from_millis(50));
    let errors = poll_until(&mut peer, "the message", |p| {
        p.available_packets() > 0 || p.ready_state() == ReadyState::Closed
    });
    assert!(
        errors.is_empty(),
        "the poll that delivers the message: {errors:?}"
    );
    assert_eq!(peer.ready_state(), ReadyState::Open);
    let packet = peer
        .pop_packet()
        .expect("the message, on the poll that read it");
    assert_eq!(&packet.data[..], b"Hello, world!");
    peer.send(&packet.data, packet.text)
        .expect("the link is open for the echo");
    let errors = wait_closed(&mut peer);
    assert!(
        matches!(errors.as_slice(), [WsError::Protocol { code: 1002, .. }]),
        "{errors:?}"
    );
    // On the wire: the echo, then the close with 1002.
    let mut echo = [0u8; 15];
    raw.read_exact(&mut echo).unwrap();
    assert_eq!(&echo[..2], &[0x81, 13], "the echo comes first");
    assert_eq!(&echo[2..], b"Hello, world!");
    assert_eq!(read_close_code(&mut raw), 1002);
}

/// A TCP stream read as TLS is (a short read does not prove it empty) that
/// counts the bytes read.
struct CountedReads {
    inner: TcpStream,
    read: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Read for CountedReads {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
        Ok(n)
    }
}

impl Write for CountedReads {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.inner.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

impl Stream for CountedReads {}

/// Empty non-final continuation frames carry nothing and end no message:
/// one poll still parses only so many of them (the per-poll budget counts
/// frames, not only messages), even over a stream that is read until it
/// would block; the next polls go on, and the message they continue
/// arrives whole.
#[test]
fn empty_continuation_frames_do_not_make_a_poll_read_without_end() {
    const FRAMES: usize = 300_000; // 1.8 MB of 6-byte frames
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut raw = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (sock, _) = listener.accept().unwrap();
    sock.set_nonblocking(true).unwrap();
    let read = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let stream: Box<dyn Stream> = Box::new(CountedReads {
        inner: sock,
        read: read.clone(),
    });
    let mut peer = Peer::new(PeerConfig::default());
    peer.accept_stream(stream, false).unwrap();
    raw.write_all(UPGRADE.as_bytes()).unwrap();
    wait_open(&mut peer);
    let mut frames = masked(0x01, b"a"); // a text message begins
    for _ in 0..FRAMES {
        frames.extend(masked(0x00, b""));
    }
    frames.extend(masked(0x80, b"b")); // and ends
    let writer = std::thread::spawn(move || {
        raw.write_all(&frames).unwrap();
        raw
    });
    // The socket's buffers fill; the writer waits for us to read.
    std::thread::sleep(Duration::from_millis(200));
    let before = read.load(std::sync::atomic::Ordering::Relaxed);
    assert!(peer.poll().is_none());
    let one_poll = read.load(std::sync::atomic::Ordering::Relaxed) - before;
    assert!(
        one_poll < 128 * 1024,
        "one poll read {one_poll} bytes of empty frames"
    );
    let text = next_packet(&mut peer);
    assert_eq!(&text.data[..], b"ab");
    assert_eq!(peer.ready_state(), ReadyState::Open);
    let _raw = writer.join().unwrap();
}
