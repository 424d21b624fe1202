//! When sent messages reach the socket: the first one after a poll()/flush()
//! at once (so a request/response loop that only polls the other side still
//! works), the ones after it together at the next poll()/flush().

mod common;

use common::*;
use rustws_core::{Peer, PeerConfig, TlsClientOptions};
use std::net::TcpListener;

fn pair() -> (Peer, Peer) {
    pair_with(PeerConfig::default())
}

/// An open client (with `config`) and server pair.
fn pair_with(config: PeerConfig) -> (Peer, Peer) {
    open_pair(config, PeerConfig::default())
}

#[test]
fn ping_pong_polling_only_the_receiver() {
    let (mut client, mut server) = pair();
    for i in 0..200u32 {
        client.send(&i.to_le_bytes(), false).unwrap();
        let p = next_packet(&mut server);
        assert_eq!(p.data.as_ref(), &i.to_le_bytes());
        server.send(&p.data, false).unwrap();
        assert_eq!(next_packet(&mut client).data.as_ref(), &i.to_le_bytes());
    }
}

#[test]
fn a_burst_is_batched_until_the_next_poll() {
    let (mut client, mut server) = pair();
    for i in 0..10u8 {
        client.send(&[i], false).unwrap();
    }
    assert!(
        client.has_unflushed(),
        "nine messages wait for the next poll"
    );
    assert!(client.buffered_amount() > 0);
    client.poll();
    assert!(!client.has_unflushed());
    let got: Vec<u8> = (0..10).map(|_| next_packet(&mut server).data[0]).collect();
    assert_eq!(got, (0..10).collect::<Vec<u8>>());
}

#[test]
fn a_peer_dropped_with_a_batch_waiting_still_sends_it() {
    let (mut client, mut server) = pair();
    for text in ["a", "b", "c"] {
        client.send(text.as_bytes(), true).unwrap();
    }
    assert!(client.has_unflushed(), "b and c wait for the next poll");
    drop(client);
    let got: Vec<Vec<u8>> = (0..3)
        .map(|_| next_packet(&mut server).data.to_vec())
        .collect();
    assert_eq!(got, vec![b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]);
}

/// A raw server that answers the upgrade and sends `frames` in the same write.
fn client_with_frames_after_101(config: PeerConfig, frames: &[u8]) -> Peer {
    use std::io::{Read, Write};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut client = Peer::new(config);
    client
        .connect_to_url(
            &format!("ws://127.0.0.1:{port}/"),
            TlsClientOptions::Default,
        )
        .unwrap();
    let (mut sock, _) = listener.accept().unwrap();
    sock.set_nonblocking(true).unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        client.poll();
        match sock.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            Ok(_) => panic!("the client hung up"),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(std::time::Duration::from_millis(1))
            }
            Err(e) => panic!("{e}"),
        }
    }
    sock.set_nonblocking(false).unwrap();
    let head = String::from_utf8(head).unwrap();
    let key = head
        .lines()
        .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
        .unwrap();
    let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
    let mut answer = format!("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n").into_bytes();
    answer.extend_from_slice(frames);
    sock.write_all(&answer).unwrap();
    // Keep the socket open (and silent) while the client reads.
    std::mem::forget(sock);
    client
}

#[test]
fn frames_that_came_with_the_101_are_read_without_new_socket_data() {
    let mut client = client_with_frames_after_101(PeerConfig::default(), &[0x82, 0x02, 7, 8]);
    assert_eq!(next_packet(&mut client).data.as_ref(), &[7, 8]);
}

#[test]
fn frames_left_behind_a_full_queue_are_read_on_later_polls() {
    let config = PeerConfig {
        max_queued_packets: 1,
        ..PeerConfig::default()
    };
    let mut client =
        client_with_frames_after_101(config, &[0x82, 0x01, 1, 0x82, 0x01, 2, 0x82, 0x01, 3]);
    let got: Vec<u8> = (0..3).map(|_| next_packet(&mut client).data[0]).collect();
    assert_eq!(got, vec![1, 2, 3]);
}

#[test]
fn a_batch_never_makes_the_limits_refuse_what_the_socket_takes() {
    // The engine's class writes each message at once, so its limits count
    // only what the socket did not take. A batch of 1,000 messages of 100
    // bytes (100 KB, past outbound_buffer_size and max_queued_packets here)
    // must all be taken, as the socket takes them.
    let (mut client, mut server) = pair_with(PeerConfig {
        outbound_buffer_size: 4096,
        max_queued_packets: 16,
        ..PeerConfig::default()
    });
    for i in 0..1000u32 {
        let mut msg = vec![0u8; 100];
        msg[..4].copy_from_slice(&i.to_le_bytes());
        client
            .send(&msg, false)
            .unwrap_or_else(|e| panic!("message {i}: {e}"));
    }
    for i in 0..1000u32 {
        assert_eq!(&next_packet(&mut server).data[..4], &i.to_le_bytes());
        let _ = client.poll();
    }
}
