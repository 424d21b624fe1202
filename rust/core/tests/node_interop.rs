//! Our peer against Node's `ws`, the most used WebSocket library in Node:
//! client side over ws:// and wss://, server side with its client.

mod common;

use common::*;
use rustws_core::{Peer, PeerConfig, TlsClientOptions, WsError};
use std::net::TcpListener;

#[test]
fn our_client_against_node_server() {
    let (server, port) = ExtPeer::server_with(Impl::Node, &["--protocols", "b,a"]);
    let config = PeerConfig {
        supported_protocols: vec!["a".into(), "c".into()],
        inbound_buffer_size: 2 << 20,
        outbound_buffer_size: 2 << 20,
        ..PeerConfig::default()
    };
    let mut peer = Peer::new(config);
    peer.connect_to_url(
        &format!("ws://127.0.0.1:{port}/node"),
        TlsClientOptions::Default,
    )
    .unwrap();
    wait_open(&mut peer);
    assert_eq!(peer.selected_protocol(), "a");
    peer.send("ünïcödé ✓".as_bytes(), true).unwrap();
    let p = next_packet(&mut peer);
    assert!(p.text);
    assert_eq!(p.data.as_ref(), "ünïcödé ✓".as_bytes());
    let big: Vec<u8> = (0..(1 << 20)).map(|i| (i * 7 % 256) as u8).collect();
    peer.send(&big, false).unwrap();
    let p = next_packet(&mut peer);
    assert!(!p.text);
    assert_eq!(p.data.as_ref(), big.as_slice());
    peer.send(b"close:4444:node says bye", true).unwrap();
    assert!(wait_closed(&mut peer).is_empty());
    assert_eq!(
        (peer.close_code(), peer.close_reason()),
        (4444, "node says bye")
    );
    assert_eq!(server.line(), "CLOSED 4444 node says bye");

    let mut peer = Peer::new(PeerConfig {
        supported_protocols: vec!["a".into()],
        ..PeerConfig::default()
    });
    peer.connect_to_url(
        &format!("ws://127.0.0.1:{port}/"),
        TlsClientOptions::Default,
    )
    .unwrap();
    wait_open(&mut peer);
    peer.send(b"drop", true).unwrap();
    let errors = wait_closed(&mut peer);
    assert_eq!(peer.close_code(), -1);
    assert!(
        matches!(errors.as_slice(), [WsError::Dropped(_)]),
        "{errors:?}"
    );
}

#[test]
fn our_client_against_node_wss_server() {
    let (cert, key) = certificate(&["localhost"], false);
    let (_dir, paths) = write_temp(&[("cert.pem", &cert), ("key.pem", &key)]);
    let (_server, port) = ExtPeer::server_with(
        Impl::Node,
        &[
            "--cert",
            paths[0].to_str().unwrap(),
            "--key",
            paths[1].to_str().unwrap(),
        ],
    );
    let mut peer = Peer::new(PeerConfig::default());
    let opts = TlsClientOptions::Trusted {
        ca_pem: Some(cert.into_bytes()),
        common_name_override: String::new(),
    };
    peer.connect_to_url(&format!("wss://localhost:{port}/"), opts)
        .unwrap();
    wait_open(&mut peer);
    assert_eq!(peer.tls_version().as_deref(), Some("TLSv1_3"));
    peer.send(&[1, 2, 3], false).unwrap();
    assert_eq!(next_packet(&mut peer).data.as_ref(), &[1, 2, 3]);
    peer.close(1000, "done");
    assert!(wait_closed(&mut peer).is_empty());
    assert_eq!(peer.close_code(), 1000);
}

#[test]
fn node_client_against_our_server() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let client = ExtPeer::spawn_with(
        Impl::Node,
        &[
            "client",
            &format!("ws://127.0.0.1:{port}/from-node"),
            "héllo",
            "bin:deadbeef",
            "big:200000",
            "--protocols",
            "x,y",
            "--close-code",
            "4003",
            "--close-reason",
            "node leaves",
        ],
    );
    let mut server = accept_one(&listener, server_config("y"));
    assert_eq!(
        server.requested_url(),
        format!("ws://127.0.0.1:{port}/from-node")
    );
    let (echoed, errors) = echo_until_closed(&mut server);
    assert_eq!(echoed, 3);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(
        (server.close_code(), server.close_reason()),
        (4003, "node leaves")
    );
    assert_eq!(client.line(), r#"{"protocol":"y","extensions":""}"#);
    assert_eq!(client.line(), r#"{"type":"text","len":6,"text":"héllo"}"#);
    assert_eq!(client.line(), r#"{"type":"binary","len":4,"same":true}"#);
    assert_eq!(
        client.line(),
        r#"{"type":"binary","len":200000,"same":true}"#
    );
    assert_eq!(client.line(), "CLOSED 4003 node leaves");
}
