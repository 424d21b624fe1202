//! Our peer against WebSocket implementations nobody here wrote: Python
//! `websockets` and Node `ws` (tests/peers), each test run against both.
//! Client side over ws:// and wss:// (messages of every kind, limits,
//! sub-protocols, closes and drops, certificates good and bad), and server
//! side with their clients.

mod common;

use common::*;
use rustws_core::{Failure, Peer, PeerConfig, ReadyState, TlsClientOptions, WsError};
use std::net::TcpListener;

/// Each named scenario as a test against Python and one against Node.
macro_rules! against_both {
    ($($scenario:ident),+ $(,)?) => {
        mod python {
            $(#[test]
            fn $scenario() {
                super::$scenario(super::Impl::Python)
            })+
        }
        mod node {
            $(#[test]
            fn $scenario() {
                super::$scenario(super::Impl::Node)
            })+
        }
    };
}

against_both!(
    echo_text_binary_unicode_big_and_ordered,
    server_close_code_reason_and_abrupt_drop,
    oversized_inbound_message_closes_with_1009_and_says_which_limit,
    outbound_limits_refuse_with_a_reason,
    subprotocol_is_negotiated_and_mismatch_is_refused,
    wss_negotiates_tls13_with_a_trusted_chain,
    wss_refuses_bad_certificates_with_the_cause,
    wss_accepts_with_override_or_unsafe,
    their_client_against_our_server,
    their_client_is_held_then_refused_with_the_status,
    their_client_is_held_then_accepted,
);

fn echo_text_binary_unicode_big_and_ordered(imp: Impl) {
    let (server, port) = ExtPeer::server_with(imp, &[]);
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

fn server_close_code_reason_and_abrupt_drop(imp: Impl) {
    let (_server, port) = ExtPeer::server_with(imp, &[]);
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

fn oversized_inbound_message_closes_with_1009_and_says_which_limit(imp: Impl) {
    let (server, port) = ExtPeer::server_with(imp, &[]);
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

fn outbound_limits_refuse_with_a_reason(imp: Impl) {
    let (_server, port) = ExtPeer::server_with(imp, &[]);
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

fn subprotocol_is_negotiated_and_mismatch_is_refused(imp: Impl) {
    let (_server, port) = ExtPeer::server_with(imp, &["--protocols", "chat,json"]);
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
    // Python's server refuses the upgrade (400); Node's opens without a
    // sub-protocol, which we refuse.
    let errors = wait_closed(&mut peer);
    assert!(
        matches!(
            errors.as_slice(),
            [WsError::Handshake(_) | WsError::UpgradeRefused { status: 400, .. }]
        ),
        "{errors:?}"
    );
}

fn wss_negotiates_tls13_with_a_trusted_chain(imp: Impl) {
    let (cert, key) = certificate(&["localhost"], false);
    let (_server, port, _files) = tls_server(imp, &cert, &key);
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
    imp: Impl,
    cert_names: &[&str],
    expired: bool,
    host: &str,
    opts: impl FnOnce(&str) -> TlsClientOptions,
) -> Vec<WsError> {
    let (cert, key) = certificate(cert_names, expired);
    let (_server, port, _files) = tls_server(imp, &cert, &key);
    let mut peer = client(
        PeerConfig::default(),
        &format!("wss://{host}:{port}/"),
        opts(&cert),
    );
    let errors = wait_closed(&mut peer);
    assert_eq!(peer.close_code(), -1);
    errors
}

/// One refused certificate, of the `failure` a game reads, saying `needle`.
fn assert_certificate_refused(errors: &[WsError], failure: Failure, needle: &str) {
    match errors {
        [e @ WsError::Certificate { why, .. }] => {
            assert!(why.contains(needle), "{why}");
            assert_eq!(e.failure(), failure);
        }
        other => panic!("expected a refused certificate ({needle:?}), got {other:?}"),
    }
}

fn wss_refuses_bad_certificates_with_the_cause(imp: Impl) {
    let errors = tls_failure(imp, &["localhost"], false, "localhost", |_| {
        TlsClientOptions::Default
    });
    assert_certificate_refused(
        &errors,
        Failure::TlsUnknownIssuer,
        "not signed by a trusted authority",
    );
    let trusted = |cert: &str| TlsClientOptions::Trusted {
        ca_pem: Some(cert.as_bytes().to_vec()),
        common_name_override: String::new(),
    };
    let errors = tls_failure(imp, &["localhost"], true, "localhost", trusted);
    assert_certificate_refused(&errors, Failure::TlsExpired, "expired");
    let errors = tls_failure(imp, &["game.example"], false, "localhost", trusted);
    assert_certificate_refused(
        &errors,
        Failure::TlsWrongHost,
        "not valid for this host name",
    );
}

fn wss_accepts_with_override_or_unsafe(imp: Impl) {
    let (cert, key) = certificate(&["game.example"], false);
    let (_server, port, _files) = tls_server(imp, &cert, &key);
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

/// Our server side, their client: accept on a std listener and echo; the
/// client reports what it got back, line by line.
fn their_client_against_our_server(imp: Impl) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let url = format!("ws://127.0.0.1:{port}/lobby?room=1");
    let client = ExtPeer::spawn_with(
        imp,
        &[
            "client",
            &url,
            "hi ✓",
            "bin:00ff10",
            "big:300000",
            "--protocols",
            "v2,v1",
            "--close-code",
            "4002",
            "--close-reason",
            "see you",
        ],
    );
    let mut server = accept_one(&listener, server_config("v1"));
    assert_eq!(server.requested_url(), url);
    assert_eq!(server.selected_protocol(), "v1");
    assert_eq!(client.line(), r#"{"protocol":"v1","extensions":""}"#);
    let (echoed, errors) = echo_until_closed(&mut server);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(echoed, 3);
    assert_eq!(
        (server.close_code(), server.close_reason()),
        (4002, "see you")
    );
    assert_eq!(client.line(), r#"{"type":"text","len":6,"text":"hi ✓"}"#);
    assert_eq!(client.line(), r#"{"type":"binary","len":3,"same":true}"#);
    assert_eq!(
        client.line(),
        r#"{"type":"binary","len":300000,"same":true}"#
    );
    assert_eq!(client.line(), "CLOSED 4002 see you");
}

/// Their client, with its `X-Test` header, to a URL with a token; our server
/// holds the request until it has read both.
fn held_by_our_server(imp: Impl, path: &str, messages: &[&str]) -> (ExtPeer, Peer, String) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let url = format!("ws://127.0.0.1:{port}{path}");
    let mut args = vec!["client", url.as_str()];
    args.extend_from_slice(messages);
    let client = ExtPeer::spawn_with(imp, &args);
    let mut server = accept_connecting(
        &listener,
        PeerConfig {
            hold_upgrade: true,
            ..PeerConfig::default()
        },
    );
    poll_until(&mut server, "the held request", |s| s.upgrade_waiting());
    assert_eq!(server.requested_url(), url);
    let sent_by = match imp {
        Impl::Python => "python",
        Impl::Node => "node",
    };
    let header = server
        .handshake_headers()
        .iter()
        .find(|(n, _)| n == "x-test")
        .map(|(_, v)| v.clone());
    assert_eq!(header.as_deref(), Some(sent_by), "their client's header");
    (client, server, url)
}

fn their_client_is_held_then_refused_with_the_status(imp: Impl) {
    let (client, mut server, _) = held_by_our_server(imp, "/join?token=bad", &["hi"]);
    server.refuse_upgrade(403, "bad token").unwrap();
    let errors = wait_closed(&mut server);
    assert!(
        errors
            .iter()
            .any(|e| e.to_string().contains("403 Forbidden")),
        "{errors:?}"
    );
    let line = client.line();
    assert!(
        line.starts_with("ERROR") && line.contains("403"),
        "their client should fail with the status: {line}"
    );
}

fn their_client_is_held_then_accepted(imp: Impl) {
    let (client, mut server, _) = held_by_our_server(imp, "/join?token=good", &["hi"]);
    server.accept_upgrade().unwrap();
    wait_open(&mut server);
    let (echoed, errors) = echo_until_closed(&mut server);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(echoed, 1);
    assert_eq!(client.line(), r#"{"protocol":"","extensions":""}"#);
    assert_eq!(client.line(), r#"{"type":"text","len":2,"text":"hi"}"#);
    assert_eq!(client.line(), "CLOSED 1000 ");
}
