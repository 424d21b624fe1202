//! The multiplayer hub: a server and clients in one thread, over ws:// and
//! wss://, with ids, targets, broadcasts, disconnects and timeouts.

mod common;

use rustws_core::{Event, Hub, HubError, Status, SERVER_ID};
use rustws_core::{Peer, PeerConfig, Stream, TlsClientOptions};
use std::time::{Duration, Instant};

type TestHub = Hub<Peer>;

fn server_link(stream: Box<dyn Stream>, tls: bool) -> Option<Peer> {
    let mut p = Peer::new(PeerConfig::default());
    p.accept_stream(stream, tls).ok()?;
    Some(p)
}

fn client(url: &str, tls: TlsClientOptions) -> TestHub {
    let mut link = Peer::new(PeerConfig::default());
    link.connect_to_url(url, tls).expect("connect_to_url");
    let mut hub = TestHub::default();
    hub.create_client(link).expect("create_client");
    hub
}

/// Polls everything until `done` holds (or fails after 10 s).
fn pump(
    server: &mut TestHub,
    clients: &mut [&mut TestHub],
    mut done: impl FnMut(&TestHub, &[&mut TestHub]) -> bool,
) {
    let start = Instant::now();
    while !done(server, clients) {
        assert!(start.elapsed() < Duration::from_secs(10), "timed out");
        server.poll(&mut server_link);
        for c in clients.iter_mut() {
            c.poll(&mut server_link);
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn events(hub: &mut TestHub) -> Vec<Event> {
    std::iter::from_fn(|| hub.next_event()).collect()
}

fn received(hub: &mut TestHub) -> Vec<(i32, Vec<u8>)> {
    std::iter::from_fn(|| hub.pop_packet())
        .map(|r| (r.from, r.data.to_vec()))
        .collect()
}

#[test]
fn clients_get_ids_and_messages_reach_their_targets() {
    let mut server = TestHub::default();
    server.create_server(0, "127.0.0.1", None).unwrap();
    assert_eq!(server.unique_id(), SERVER_ID);
    assert_eq!(server.status(), Status::Connected);
    assert_eq!(
        server.create_server(0, "127.0.0.1", None),
        Err(HubError::AlreadyInUse)
    );
    let url = format!("ws://127.0.0.1:{}/", server.local_port().unwrap());
    let mut a = client(&url, TlsClientOptions::Default);
    let mut b = client(&url, TlsClientOptions::Default);
    assert_eq!(a.status(), Status::Connecting);
    assert_eq!(a.put_packet(b"early"), Err(HubError::NotConnected));
    pump(&mut server, &mut [&mut a, &mut b], |_, c| {
        c.iter().all(|h| h.status() == Status::Connected)
    });
    let (ida, idb) = (a.unique_id(), b.unique_id());
    assert!(ida > 1 && idb > 1 && ida != idb);
    assert_eq!(events(&mut a), vec![Event::Connected(SERVER_ID)]);
    pump(&mut server, &mut [&mut a, &mut b], |s, _| {
        s.link(ida).is_some() && s.link(idb).is_some()
    });
    let mut seen = events(&mut server);
    seen.sort_by_key(|e| match e {
        Event::Connected(id)
        | Event::Disconnected(id)
        | Event::UpgradeWaiting(id)
        | Event::HttpRequest(id) => *id,
        Event::Drained => 0,
    });
    let mut want = vec![Event::Connected(ida), Event::Connected(idb)];
    want.sort_by_key(|e| match e {
        Event::Connected(id)
        | Event::Disconnected(id)
        | Event::UpgradeWaiting(id)
        | Event::HttpRequest(id) => *id,
        Event::Drained => 0,
    });
    assert_eq!(seen, want);

    // Clients always send to the server, which knows who sent what.
    a.put_packet(b"from a").unwrap();
    b.put_packet(b"from b").unwrap();
    pump(&mut server, &mut [&mut a, &mut b], |s, _| {
        s.available_packets() == 2
    });
    let mut got = received(&mut server);
    got.sort();
    let mut want = vec![(ida, b"from a".to_vec()), (idb, b"from b".to_vec())];
    want.sort();
    assert_eq!(got, want);

    // Broadcast, one target, everyone but one.
    server.target = 0;
    server.put_packet(b"all").unwrap();
    server.target = idb;
    server.put_packet(b"only b").unwrap();
    server.target = -idb;
    server.put_packet(b"not b").unwrap();
    server.target = 12345;
    assert_eq!(server.put_packet(b"x"), Err(HubError::NoSuchPeer(12345)));
    pump(&mut server, &mut [&mut a, &mut b], |_, c| {
        c[0].available_packets() == 2 && c[1].available_packets() == 2
    });
    assert_eq!(a.next_packet_peer(), SERVER_ID);
    assert_eq!(
        received(&mut a),
        vec![(1, b"all".to_vec()), (1, b"not b".to_vec())]
    );
    assert_eq!(
        received(&mut b),
        vec![(1, b"all".to_vec()), (1, b"only b".to_vec())]
    );

    // The server drops b: b sees the server go, the server sees b go.
    server.disconnect_peer(idb, false).unwrap();
    pump(&mut server, &mut [&mut a, &mut b], |s, c| {
        c[1].status() == Status::Disconnected && s.link(idb).is_none()
    });
    assert_eq!(
        events(&mut b),
        vec![Event::Connected(SERVER_ID), Event::Disconnected(SERVER_ID)]
    );
    assert_eq!(events(&mut server), vec![Event::Disconnected(idb)]);
    assert_eq!(b.unique_id(), 0);

    // A client leaving is seen by the server.
    a.disconnect_peer(SERVER_ID, false).unwrap();
    pump(&mut server, &mut [&mut a], |s, _| s.link(ida).is_none());
    assert_eq!(events(&mut server), vec![Event::Disconnected(ida)]);
    assert_eq!(
        server.disconnect_peer(ida, true),
        Err(HubError::NoSuchPeer(ida))
    );
}

#[test]
fn wss_server_from_pem() {
    let (cert, key) = common::certificate(&["localhost"], false);
    let config = rustws_core::server_config(cert.as_bytes(), key.as_bytes()).unwrap();
    let mut server = TestHub::default();
    server.create_server(0, "127.0.0.1", Some(config)).unwrap();
    let url = format!("wss://localhost:{}/", server.local_port().unwrap());
    let trust = TlsClientOptions::Trusted {
        ca_pem: Some(cert.into_bytes()),
        common_name_override: String::new(),
    };
    let mut a = client(&url, trust);
    pump(&mut server, &mut [&mut a], |s, c| {
        c[0].status() == Status::Connected && s.link(c[0].unique_id()).is_some()
    });
    a.put_packet(&[7u8; 100_000]).unwrap_err(); // over the default 64 KiB
    a.put_packet(&[7u8; 1000]).unwrap();
    pump(&mut server, &mut [&mut a], |s, _| {
        s.available_packets() == 1
    });
    let got = server.pop_packet().unwrap();
    assert_eq!((got.from, got.data.len()), (a.unique_id(), 1000));
    let tls = server.link(a.unique_id()).and_then(|l| l.tls_version());
    assert_eq!(tls.as_deref(), Some("TLSv1_3"));
}

#[test]
fn bad_server_key_and_bind_address_are_reported() {
    let (cert, _) = common::certificate(&["localhost"], false);
    let (_, other_key) = common::certificate(&["localhost"], false);
    match rustws_core::server_config(cert.as_bytes(), other_key.as_bytes()) {
        Err(e) => assert!(e.to_string().contains("key"), "{e}"),
        Ok(_) => panic!("a key that does not suit the certificate was accepted"),
    }
    let mut server = TestHub::default();
    match server.create_server(0, "not an ip", None) {
        Err(HubError::Listen(why)) => assert!(why.contains("not an IP"), "{why}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(server.status(), Status::Disconnected);
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    assert!(matches!(
        server.create_server(port, "127.0.0.1", None),
        Err(HubError::AddressInUse(_))
    ));
}

#[test]
fn a_server_that_sends_no_id_times_out_the_client() {
    // A plain WebSocket echo server never sends an id.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    let mut hub = client(&url, TlsClientOptions::Default);
    hub.handshake_timeout = Duration::from_millis(300);
    let (sock, _) = listener.accept().unwrap();
    sock.set_nonblocking(true).unwrap();
    let mut server = server_link(Box::new(sock), false).unwrap();
    let start = Instant::now();
    while hub.status() != Status::Disconnected {
        assert!(start.elapsed() < Duration::from_secs(5), "never gave up");
        hub.poll(&mut server_link);
        let _ = server.poll();
        std::thread::sleep(Duration::from_millis(2));
    }
    assert!(events(&mut hub).is_empty(), "never connected, so no signal");
}

#[test]
fn refusing_new_connections_keeps_the_old_ones() {
    let mut server = TestHub::default();
    server.create_server(0, "127.0.0.1", None).unwrap();
    let url = format!("ws://127.0.0.1:{}/", server.local_port().unwrap());
    let mut a = client(&url, TlsClientOptions::Default);
    pump(&mut server, &mut [&mut a], |s, c| {
        c[0].status() == Status::Connected && s.link(c[0].unique_id()).is_some()
    });
    server.refuse_new = true;
    let mut b = client(&url, TlsClientOptions::Default);
    b.handshake_timeout = Duration::from_millis(500);
    pump(&mut server, &mut [&mut a, &mut b], |_, c| {
        c[1].status() == Status::Disconnected
    });
    assert_eq!(a.status(), Status::Connected);
    a.put_packet(b"still here").unwrap();
    pump(&mut server, &mut [&mut a], |s, _| {
        s.available_packets() == 1
    });
}

#[test]
fn a_first_message_that_is_not_an_id_ends_the_session() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    let mut hub = client(&url, TlsClientOptions::Default);
    let (sock, _) = listener.accept().unwrap();
    sock.set_nonblocking(true).unwrap();
    let mut server = server_link(Box::new(sock), false).unwrap();
    let start = Instant::now();
    let mut sent = false;
    while hub.status() != Status::Disconnected {
        assert!(start.elapsed() < Duration::from_secs(5), "kept a bad id");
        hub.poll(&mut server_link);
        let _ = server.poll();
        if !sent && server.ready_state() == rustws_core::ReadyState::Open {
            server.send(&[1, 2, 3], false).unwrap(); // three bytes, not four
            sent = true;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    assert!(sent);
    assert_eq!(hub.unique_id(), 0);
    assert!(events(&mut hub).is_empty(), "never connected, so no signal");
}

/// A server and `n` connected clients.
fn server_and_clients(n: usize) -> (TestHub, Vec<TestHub>) {
    let mut server = TestHub::default();
    server.create_server(0, "127.0.0.1", None).unwrap();
    let url = format!("ws://127.0.0.1:{}/", server.local_port().unwrap());
    let mut clients: Vec<TestHub> = (0..n)
        .map(|_| client(&url, TlsClientOptions::Default))
        .collect();
    let mut refs: Vec<&mut TestHub> = clients.iter_mut().collect();
    pump(&mut server, &mut refs, |s, c| {
        c.iter()
            .all(|h| h.status() == Status::Connected && s.link(h.unique_id()).is_some())
    });
    for c in clients.iter_mut() {
        events(c);
    }
    events(&mut server);
    (server, clients)
}

#[test]
fn packets_sent_just_before_a_close_are_delivered_before_the_disconnect() {
    let (mut server, mut clients) = server_and_clients(1);
    let mut a = clients.remove(0);
    let ida = a.unique_id();
    // The server says why, then drops the client in the same frame.
    server.target = ida;
    server.put_packet(b"kicked: cheating").unwrap();
    server.disconnect_peer(ida, false).unwrap();
    // The client gets the message while still connected (SceneMultiplayer
    // reads packets only then), and the disconnect at a later poll.
    pump(&mut server, &mut [&mut a], |_, c| {
        c[0].available_packets() > 0
    });
    assert_eq!(a.status(), Status::Connected);
    assert!(
        events(&mut a).is_empty(),
        "no disconnect before the packet is read"
    );
    assert_eq!(
        received(&mut a),
        vec![(SERVER_ID, b"kicked: cheating".to_vec())]
    );
    pump(&mut server, &mut [&mut a], |_, c| {
        c[0].status() == Status::Disconnected
    });
    assert_eq!(events(&mut a), vec![Event::Disconnected(SERVER_ID)]);

    // The other way: a client's last words reach the server before its
    // disconnect.
    let (mut server, mut clients) = server_and_clients(1);
    let mut b = clients.remove(0);
    let idb = b.unique_id();
    b.put_packet(b"bye").unwrap();
    b.disconnect_peer(SERVER_ID, false).unwrap();
    pump(&mut server, &mut [&mut b], |s, _| s.available_packets() > 0);
    assert!(events(&mut server).is_empty());
    assert_eq!(received(&mut server), vec![(idb, b"bye".to_vec())]);
    pump(&mut server, &mut [&mut b], |s, _| s.link(idb).is_none());
    let start = Instant::now();
    let mut seen = Vec::new();
    while seen.is_empty() && start.elapsed() < Duration::from_secs(5) {
        server.poll(&mut server_link);
        seen = events(&mut server);
    }
    assert_eq!(seen, vec![Event::Disconnected(idb)]);
}

#[test]
fn a_broadcast_a_link_cannot_take_closes_that_link() {
    let mut server = TestHub::default();
    server.create_server(0, "127.0.0.1", None).unwrap();
    let url = format!("ws://127.0.0.1:{}/", server.local_port().unwrap());
    let mut a = client(&url, TlsClientOptions::Default);
    // Server-side links that take at most 1,000 bytes at a time.
    let mut small_link = |stream: Box<dyn Stream>, tls: bool| {
        let mut p = Peer::new(PeerConfig {
            outbound_buffer_size: 1000,
            ..PeerConfig::default()
        });
        p.accept_stream(stream, tls).ok()?;
        Some(p)
    };
    let start = Instant::now();
    while !(a.status() == Status::Connected && server.link(a.unique_id()).is_some()) {
        assert!(start.elapsed() < Duration::from_secs(10));
        server.poll(&mut small_link);
        a.poll(&mut server_link);
    }
    let ida = a.unique_id();
    events(&mut server);
    server.target = 0;
    assert_eq!(server.put_packet(&[1u8; 2000]), Ok(()));
    pump(&mut server, &mut [&mut a], |s, c| {
        c[0].status() == Status::Disconnected && s.link(ida).is_none()
    });
    assert_eq!(events(&mut server), vec![Event::Disconnected(ida)]);
}

#[test]
fn target_extremes_and_a_cleared_hub_keep_no_stale_events() {
    let (mut server, _clients) = server_and_clients(2);
    // "Everyone but peer i32::MIN" used to overflow.
    server.target = i32::MIN;
    assert_eq!(server.put_packet(b"all"), Ok(()));
    server.target = i32::MAX;
    assert_eq!(server.put_packet(b"x"), Err(HubError::NoSuchPeer(i32::MAX)));
    // Events of a session that ended are gone with it.
    let url = format!("ws://127.0.0.1:{}/", server.local_port().unwrap());
    let mut c = client(&url, TlsClientOptions::Default);
    pump(&mut server, &mut [&mut c], |s, _| {
        s.available_packets() == 0 && s.links_len() == 3
    });
    server.clear();
    assert_eq!(server.next_event(), None);
}

#[test]
fn a_burst_of_connections_is_accepted_a_bounded_number_per_poll() {
    let mut server = TestHub::default();
    server.create_server(0, "127.0.0.1", None).unwrap();
    let port = server.local_port().unwrap();
    let waiting: Vec<std::net::TcpStream> = (0..200)
        .map(|_| std::net::TcpStream::connect(("127.0.0.1", port)).unwrap())
        .collect();
    let mut made = 0;
    server.poll(&mut |stream: Box<dyn Stream>, tls: bool| {
        made += 1;
        server_link(stream, tls)
    });
    // At most the cap; fewer only where accepting is slow (the time
    // budget), and never fewer than the floor.
    assert!(
        (rustws_core::ACCEPTS_BEFORE_BUDGET..=rustws_core::ACCEPTS_PER_POLL).contains(&made),
        "{made} accepted in one poll"
    );
    let start = Instant::now();
    while made < waiting.len() {
        assert!(start.elapsed() < Duration::from_secs(5), "{made} accepted");
        server.poll(&mut |stream: Box<dyn Stream>, tls: bool| {
            made += 1;
            server_link(stream, tls)
        });
    }
}

#[test]
fn the_wildcard_address_takes_ipv4_and_ipv6_clients() {
    let mut server = TestHub::default();
    server.create_server(0, "*", None).unwrap();
    let port = server.local_port().unwrap();
    let listener = rustws_core::listen_socket_of(&server).unwrap();
    if listener.local_addr().unwrap().is_ipv6() {
        let sock = socket2::SockRef::from(listener);
        assert_eq!(sock.only_v6().ok(), Some(false), "IPV6_V6ONLY must be off");
    }
    for url in [
        format!("ws://127.0.0.1:{port}/"),
        format!("ws://[::1]:{port}/"),
    ] {
        if url.contains("::1") && std::net::TcpStream::connect(("::1", port)).is_err() {
            continue; // no IPv6 loopback on this machine
        }
        let mut c = client(&url, TlsClientOptions::Default);
        pump(&mut server, &mut [&mut c], |_, c| {
            c[0].status() == Status::Connected
        });
    }
}

fn held_link(stream: Box<dyn Stream>, tls: bool) -> Option<Peer> {
    let mut p = Peer::new(PeerConfig {
        hold_upgrade: true,
        ..PeerConfig::default()
    });
    p.accept_stream(stream, tls).ok()?;
    Some(p)
}

/// A server holding each joining client's request decides by its URL: the
/// accepted one joins with the id announced, the refused one never does
/// and reads the status.
#[test]
fn a_held_join_is_announced_once_and_decided_by_the_game() {
    let mut server = TestHub::default();
    server.create_server(0, "127.0.0.1", None).unwrap();
    let port = server.local_port().unwrap();
    let mut good = client(
        &format!("ws://127.0.0.1:{port}/?token=good"),
        TlsClientOptions::Default,
    );
    let mut bad = client(
        &format!("ws://127.0.0.1:{port}/?token=bad"),
        TlsClientOptions::Default,
    );
    let mut waiting = Vec::new();
    let start = Instant::now();
    while waiting.len() < 2 {
        assert!(start.elapsed() < Duration::from_secs(10), "timed out");
        server.poll(&mut held_link);
        good.poll(&mut server_link);
        bad.poll(&mut server_link);
        waiting.extend(events(&mut server).into_iter().map(|e| match e {
            Event::UpgradeWaiting(id) => id,
            other => panic!("only held requests expected, got {other:?}"),
        }));
        std::thread::sleep(Duration::from_millis(1));
    }
    // Polled again while undecided: not announced twice, nobody joins.
    for _ in 0..20 {
        server.poll(&mut held_link);
        std::thread::sleep(Duration::from_millis(1));
    }
    assert!(events(&mut server).is_empty());
    assert_eq!(server.pending_link(12345).map(|_| ()), None);
    let mut accepted = None;
    for id in waiting {
        let link = server.pending_link_mut(id).expect("a waiting link");
        assert!(link.upgrade_waiting());
        if link.requested_url().ends_with("token=good") {
            link.accept_upgrade().unwrap();
            accepted = Some(id);
        } else {
            link.refuse_upgrade(403, "bad token").unwrap();
        }
    }
    let accepted = accepted.expect("the good client was held");
    pump(&mut server, &mut [&mut good, &mut bad], |_, c| {
        c[0].status() == Status::Connected && c[1].status() == Status::Disconnected
    });
    assert_eq!(
        good.unique_id(),
        accepted,
        "the id announced is the id it gets"
    );
    assert_eq!(events(&mut server), vec![Event::Connected(accepted)]);
}

#[test]
fn the_link_of_a_peer_that_left_is_found_while_its_disconnect_is_handled() {
    let (mut server, mut clients) = server_and_clients(1);
    let mut a = clients.remove(0);
    let ida = a.unique_id();
    a.link_mut(SERVER_ID).unwrap().close(4001, "bye now");
    let start = Instant::now();
    let mut event = None;
    while event.is_none() {
        assert!(start.elapsed() < Duration::from_secs(10), "timed out");
        server.poll(&mut server_link);
        a.poll(&mut server_link);
        event = server.next_event();
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(event, Some(Event::Disconnected(ida)));
    // As the engine's get_peer inside peer_disconnected: the closed link,
    // with the code and reason the client gave.
    let link = server
        .link(ida)
        .expect("the link while its event is handled");
    assert_eq!(link.close_code(), 4001);
    assert_eq!(link.close_reason(), "bye now");
    assert_eq!(server.links_len(), 0, "not a connected peer any more");
    // Still there for a nested poll, gone once the event is handled.
    server.poll(&mut server_link);
    assert_eq!(server.next_event(), None);
    assert!(server.link(ida).is_some());
    assert!(server.handled(Event::Disconnected(ida)).is_some());
    assert!(server.link(ida).is_none());
}
