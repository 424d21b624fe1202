//! Our peer against Python `websockets`, a WebSocket implementation nobody
//! here wrote: client side over ws:// and wss://, server side with its client.

mod common;

use common::*;
use rustws_core::{Peer, PeerConfig, ReadyState, TlsClientOptions, WsError};
use std::net::TcpListener;

fn client(config: PeerConfig, url: &str, tls: TlsClientOptions) -> Peer {
    let mut peer = Peer::new(config);
    peer.connect_to_url(url, tls).expect("connect_to_url");
    assert_eq!(peer.ready_state(), ReadyState::Connecting);
    peer
}

#[test]
fn echo_text_binary_unicode_big_and_ordered() {
    let (server, port) = PyPeer::server(&[]);
    let config = PeerConfig {
        inbound_buffer_size: 2 << 20,
        outbound_buffer_size: 2 << 20,
        ..PeerConfig::default()
    };
    let mut peer = client(
        config,
        &format!("ws://127.0.0.1:{port}/echo?x=1"),
        TlsClientOptions::Default,
    );
    wait_open(&mut peer);
    assert_eq!(
        peer.requested_url(),
        format!("ws://127.0.0.1:{port}/echo?x=1")
    );
    assert_eq!(peer.peer_addr().map(|a| a.port()), Some(port));

    peer.send("héllo wörld ✓ 🎮".as_bytes(), true).unwrap();
    let p = next_packet(&mut peer);
    assert!(p.text && peer.was_text());
    assert_eq!(std::str::from_utf8(&p.data).unwrap(), "héllo wörld ✓ 🎮");

    peer.send(&[0, 1, 2, 255], false).unwrap();
    let p = next_packet(&mut peer);
    assert!(!p.text && !peer.was_text());
    assert_eq!(p.data.as_ref(), &[0, 1, 2, 255]);

    let big: Vec<u8> = (0..(1 << 20)).map(|i| (i % 251) as u8).collect();
    peer.send(&big, false).unwrap();
    assert_eq!(next_packet(&mut peer).data.as_ref(), big.as_slice());

    for i in 0..1000u32 {
        loop {
            match peer.send(&i.to_le_bytes(), false) {
                Ok(()) => break,
                Err(WsError::OutboundQueueFull { .. })
                | Err(WsError::OutboundBufferFull { .. }) => {
                    peer.poll();
                }
                Err(e) => panic!("{e}"),
            }
        }
    }
    for i in 0..1000u32 {
        assert_eq!(next_packet(&mut peer).data.as_ref(), &i.to_le_bytes());
    }

    assert!(peer.close(4000, "done here").is_none());
    assert_eq!(peer.ready_state(), ReadyState::Closing);
    let errors = wait_closed(&mut peer);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(
        (peer.close_code(), peer.close_reason()),
        (4000, "done here")
    );
    assert_eq!(server.line(), "CLOSED 4000 done here");
}

#[test]
fn server_close_code_reason_and_abrupt_drop() {
    let (_server, port) = PyPeer::server(&[]);
    let url = format!("ws://127.0.0.1:{port}/");
    let mut peer = client(PeerConfig::default(), &url, TlsClientOptions::Default);
    wait_open(&mut peer);
    peer.send(b"close:4321:bye now \xc3\xa9", true).unwrap();
    let errors = wait_closed(&mut peer);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(
        (peer.close_code(), peer.close_reason()),
        (4321, "bye now é")
    );

    // The same peer object reconnects, then the server drops TCP.
    peer.connect_to_url(&url, TlsClientOptions::Default)
        .unwrap();
    wait_open(&mut peer);
    assert_eq!(peer.close_code(), -1);
    peer.send(b"drop", true).unwrap();
    let errors = wait_closed(&mut peer);
    assert_eq!(peer.close_code(), -1);
    assert!(
        matches!(errors.as_slice(), [WsError::Dropped(_)]),
        "{errors:?}"
    );
}

#[test]
fn oversized_inbound_message_closes_with_1009_and_says_which_limit() {
    let (server, port) = PyPeer::server(&[]);
    let config = PeerConfig {
        outbound_buffer_size: 1 << 20,
        ..PeerConfig::default()
    };
    let mut peer = client(
        config,
        &format!("ws://127.0.0.1:{port}/"),
        TlsClientOptions::Default,
    );
    wait_open(&mut peer);
    peer.send(&vec![7u8; 70_000], false).unwrap();
    let errors = wait_closed(&mut peer);
    assert_eq!(peer.close_code(), 1009);
    match errors.as_slice() {
        [e @ WsError::MessageTooBig { limit: 65535, .. }] => {
            assert!(e.to_string().contains("inbound_buffer_size"))
        }
        other => panic!("{other:?}"),
    }
    assert!(server.line().starts_with("CLOSED 1009"));
}

#[test]
fn outbound_limits_refuse_with_a_reason() {
    let (_server, port) = PyPeer::server(&[]);
    let mut peer = client(
        PeerConfig::default(),
        &format!("ws://127.0.0.1:{port}/"),
        TlsClientOptions::Default,
    );
    assert_eq!(peer.send(b"early", false), Err(WsError::NotOpen));
    wait_open(&mut peer);
    match peer.send(&vec![0u8; 70_000], false) {
        Err(e @ WsError::OutboundBufferFull { .. }) => {
            assert!(e.to_string().contains("outbound_buffer_size"))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        peer.send(&[0xff, 0xfe], true),
        Err(WsError::InvalidUtf8Outbound)
    );
    assert_eq!(peer.ready_state(), ReadyState::Open);
}

#[test]
fn subprotocol_is_negotiated_and_mismatch_is_refused() {
    let (_server, port) = PyPeer::server(&["--protocols", "chat,json"]);
    let url = format!("ws://127.0.0.1:{port}/");
    let config = PeerConfig {
        supported_protocols: vec!["json".into()],
        ..PeerConfig::default()
    };
    let mut peer = client(config, &url, TlsClientOptions::Default);
    wait_open(&mut peer);
    assert_eq!(peer.selected_protocol(), "json");

    let config = PeerConfig {
        supported_protocols: vec!["xml".into()],
        ..PeerConfig::default()
    };
    let mut peer = client(config, &url, TlsClientOptions::Default);
    let errors = wait_closed(&mut peer);
    assert!(
        matches!(errors.as_slice(), [WsError::Handshake(_)]),
        "{errors:?}"
    );
}

#[test]
fn wss_negotiates_tls13_with_a_trusted_chain() {
    let (cert, key) = certificate(&["localhost"], false);
    let (_dir, paths) = write_temp(&[("cert.pem", &cert), ("key.pem", &key)]);
    let (_server, port) = PyPeer::server(&[
        "--cert",
        paths[0].to_str().unwrap(),
        "--key",
        paths[1].to_str().unwrap(),
    ]);
    let url = format!("wss://localhost:{port}/secure");
    let opts = TlsClientOptions::Trusted {
        ca_pem: Some(cert.into_bytes()),
        common_name_override: String::new(),
    };
    let mut peer = client(PeerConfig::default(), &url, opts);
    wait_open(&mut peer);
    assert_eq!(peer.tls_version().as_deref(), Some("TLSv1_3"));
    peer.send("secure ✓".as_bytes(), true).unwrap();
    assert_eq!(next_packet(&mut peer).data.as_ref(), "secure ✓".as_bytes());
    peer.close(1000, "");
    assert!(wait_closed(&mut peer).is_empty());
    assert_eq!(peer.close_code(), 1000);
}

fn tls_failure(
    cert_names: &[&str],
    expired: bool,
    host: &str,
    opts: impl FnOnce(&str) -> TlsClientOptions,
) -> Vec<WsError> {
    let (cert, key) = certificate(cert_names, expired);
    let (_dir, paths) = write_temp(&[("cert.pem", &cert), ("key.pem", &key)]);
    let (_server, port) = PyPeer::server(&[
        "--cert",
        paths[0].to_str().unwrap(),
        "--key",
        paths[1].to_str().unwrap(),
    ]);
    let mut peer = client(
        PeerConfig::default(),
        &format!("wss://{host}:{port}/"),
        opts(&cert),
    );
    let errors = wait_closed(&mut peer);
    assert_eq!(peer.close_code(), -1);
    errors
}

fn assert_tls_error(errors: &[WsError], needle: &str) {
    match errors {
        [WsError::Tls(why)] => assert!(why.contains(needle), "{why}"),
        other => panic!("expected one TLS error with {needle:?}, got {other:?}"),
    }
}

#[test]
fn wss_refuses_bad_certificates_with_the_cause() {
    let errors = tls_failure(&["localhost"], false, "localhost", |_| {
        TlsClientOptions::Default
    });
    assert_tls_error(&errors, "not signed by a trusted authority");
    let trusted = |cert: &str| TlsClientOptions::Trusted {
        ca_pem: Some(cert.as_bytes().to_vec()),
        common_name_override: String::new(),
    };
    let errors = tls_failure(&["localhost"], true, "localhost", trusted);
    assert_tls_error(&errors, "expired");
    let errors = tls_failure(&["game.example"], false, "localhost", trusted);
    assert_tls_error(&errors, "not valid for this host name");
}

#[test]
fn wss_accepts_with_override_or_unsafe() {
    let (cert, key) = certificate(&["game.example"], false);
    let (_dir, paths) = write_temp(&[("cert.pem", &cert), ("key.pem", &key)]);
    let (_server, port) = PyPeer::server(&[
        "--cert",
        paths[0].to_str().unwrap(),
        "--key",
        paths[1].to_str().unwrap(),
    ]);
    let url = format!("wss://127.0.0.1:{port}/");
    let opts = TlsClientOptions::Trusted {
        ca_pem: Some(cert.clone().into_bytes()),
        common_name_override: "game.example".into(),
    };
    let mut peer = client(PeerConfig::default(), &url, opts);
    wait_open(&mut peer);
    let mut peer = client(PeerConfig::default(), &url, TlsClientOptions::Unsafe);
    wait_open(&mut peer);
    peer.send(b"x", false).unwrap();
    assert_eq!(next_packet(&mut peer).data.as_ref(), b"x");
}

/// Our server side, Python's client: accept on a std listener and echo.
#[test]
fn python_client_against_our_server() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let client = PyPeer::spawn(&[
        "client",
        &format!("ws://127.0.0.1:{port}/lobby?room=1"),
        "hi ✓",
        "bin:00ff10",
        "big:300000",
        "--protocols",
        "v2,v1",
        "--close-code",
        "4002",
        "--close-reason",
        "see you",
    ]);
    let mut server = accept_one(&listener, server_config("v1"));
    assert_eq!(
        server.requested_url(),
        format!("ws://127.0.0.1:{port}/lobby?room=1")
    );
    assert_eq!(server.selected_protocol(), "v1");
    assert_eq!(client.line(), r#"{"protocol": "v1", "extensions": null}"#);
    let (echoed, errors) = echo_until_closed(&mut server);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(echoed, 3);
    assert_eq!(
        (server.close_code(), server.close_reason()),
        (4002, "see you")
    );
    assert_eq!(
        client.line(),
        r#"{"type": "text", "len": 6, "text": "hi \u2713"}"#
    );
    assert_eq!(
        client.line(),
        r#"{"type": "binary", "len": 3, "same": true}"#
    );
    assert_eq!(
        client.line(),
        r#"{"type": "binary", "len": 300000, "same": true}"#
    );
    assert_eq!(client.line(), "CLOSED 4002 see you");
}
