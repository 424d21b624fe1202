//! The default roots are read off the caller's thread: with a trust source
//! that takes 400 ms (a slow disk, a large store), no `connect_to_url` or
//! `poll` of a `wss://` client waits for it (the game's thread holds the
//! object's lock meanwhile), and the TLS handshake starts once the roots
//! are there.

use rustws_core::{
    set_default_trust, Peer, PeerConfig, ReadyState, TlsClientOptions, TrustSources,
};
use std::io::Read;
use std::net::TcpListener;
use std::time::{Duration, Instant};

#[test]
fn a_slow_trust_store_never_blocks_a_poll() {
    const READ_TAKES: Duration = Duration::from_millis(400);
    set_default_trust(|| {
        std::thread::sleep(READ_TAKES);
        TrustSources::default()
    });
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let start = Instant::now();
    let mut peer = Peer::new(PeerConfig::default());
    peer.connect_to_url(
        &format!("wss://127.0.0.1:{port}/"),
        TlsClientOptions::Default,
    )
    .unwrap();
    let mut longest = start.elapsed();
    let (mut server, _) = listener.accept().unwrap();
    server.set_nonblocking(true).unwrap();
    let mut hello = Vec::new();
    let mut hello_at = None;
    while start.elapsed() < Duration::from_secs(5) && hello_at.is_none() {
        let polled = Instant::now();
        peer.poll();
        longest = longest.max(polled.elapsed());
        let mut buf = [0u8; 4096];
        if let Ok(n) = server.read(&mut buf) {
            if n > 0 {
                hello.extend_from_slice(&buf[..n]);
                hello_at = Some(start.elapsed());
            }
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let hello_at = hello_at.expect("the TLS handshake never started");
    assert_eq!(hello.first(), Some(&0x16), "a TLS handshake record");
    assert!(
        hello_at >= READ_TAKES - Duration::from_millis(50),
        "{hello_at:?}"
    );
    assert!(
        longest < Duration::from_millis(100),
        "a call waited {longest:?}"
    );
    assert_eq!(peer.ready_state(), ReadyState::Connecting);
    // What the embedder does before it goes away: the reader is done.
    rustws_core::finish_trust_read();
}
