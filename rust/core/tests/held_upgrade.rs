//! A server that holds the upgrade request (`hold_upgrade`): it reads the
//! URL and headers the client sent while connecting, then accepts (the link
//! opens) or refuses with an HTTP status (the client reads the status).

mod common;

use common::*;
use rustws_core::{Peer, PeerConfig, ReadyState, Stream, TlsClientOptions, WsError};
use std::net::TcpListener;

/// Our client with a token in the query and a header, and a held server
/// side polled until the request waits for a decision.
fn held_pair() -> (Peer, Peer) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut client = Peer::new(PeerConfig {
        handshake_headers: vec!["Authorization: Bearer abc".into()],
        ..PeerConfig::default()
    });
    client
        .connect_to_url(
            &format!("ws://127.0.0.1:{port}/game?token=42"),
            TlsClientOptions::Default,
        )
        .unwrap();
    let (sock, _) = listener.accept().unwrap();
    sock.set_nonblocking(true).unwrap();
    let mut server = Peer::new(PeerConfig {
        hold_upgrade: true,
        ..PeerConfig::default()
    });
    let stream: Box<dyn Stream> = Box::new(sock);
    server.accept_stream(stream, false).unwrap();
    poll_until(&mut server, "the held request", |s| {
        client.poll();
        s.upgrade_waiting()
    });
    (client, server)
}

fn header<'a>(peer: &'a Peer, name: &str) -> Option<&'a str> {
    peer.handshake_headers()
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

#[test]
fn held_request_shows_url_and_headers_then_opens_when_accepted() {
    let (mut client, mut server) = held_pair();
    assert_eq!(server.ready_state(), ReadyState::Connecting);
    assert_eq!(
        server.requested_url(),
        format!("ws://{}/game?token=42", header(&server, "host").unwrap())
    );
    assert_eq!(header(&server, "authorization"), Some("Bearer abc"));
    // Still held: polling does not answer it.
    for _ in 0..20 {
        assert!(server.poll().is_none());
        client.poll();
    }
    assert_eq!(client.ready_state(), ReadyState::Connecting);
    server.accept_upgrade().unwrap();
    assert!(!server.upgrade_waiting());
    poll_until(&mut client, "both open", |c| {
        server.poll();
        c.ready_state() == ReadyState::Open && server.ready_state() == ReadyState::Open
    });
    assert_eq!(
        header(&server, "authorization"),
        Some("Bearer abc"),
        "kept once open"
    );
    assert_eq!(
        header(&client, "upgrade"),
        Some("websocket"),
        "the client sees the answer's headers"
    );
    client.send(b"hi", true).unwrap();
    let packet = next_packet(&mut server);
    assert_eq!(&packet.data[..], b"hi");
}

#[test]
fn refused_request_gives_the_client_the_status() {
    let (mut client, mut server) = held_pair();
    server.refuse_upgrade(401, "bad token").unwrap();
    let server_errors = wait_closed(&mut server);
    assert!(
        server_errors
            .iter()
            .any(|e| e.to_string().contains("401 Unauthorized: bad token")),
        "{server_errors:?}"
    );
    let errors = wait_closed(&mut client);
    assert!(
        errors
            .iter()
            .any(|e| matches!(e, WsError::UpgradeRefused { status: 401, .. })),
        "{errors:?}"
    );
    assert_eq!(client.close_code(), -1);
}

#[test]
fn decisions_are_checked() {
    let (_client, mut server) = held_pair();
    assert!(matches!(
        server.refuse_upgrade(200, ""),
        Err(WsError::InvalidParameter(_))
    ));
    assert!(matches!(
        server.refuse_upgrade(403, "two\nlines"),
        Err(WsError::InvalidParameter(_))
    ));
    server.refuse_upgrade(403, "").unwrap();
    assert!(
        matches!(server.accept_upgrade(), Err(WsError::InvalidParameter(_))),
        "one decision only"
    );
    // Without hold_upgrade nothing waits for a decision.
    let mut idle = Peer::new(PeerConfig::default());
    assert!(matches!(
        idle.accept_upgrade(),
        Err(WsError::InvalidParameter(_))
    ));
}

#[test]
fn a_client_that_hangs_up_while_held_is_noticed_before_the_timeout() {
    let (client, mut server) = held_pair();
    drop(client);
    let errors = wait_closed(&mut server);
    assert!(
        matches!(&errors[..], [WsError::Handshake(why)] if why.contains("while its upgrade request was held")),
        "{errors:?}"
    );
    assert!(!server.upgrade_waiting());
}
