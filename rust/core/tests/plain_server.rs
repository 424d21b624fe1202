//! The hub's plain mode (the `RustWebSocketServer` node): plain WebSocket
//! clients, no id message, text and binary kept apart, sends to one client,
//! broadcasts with exceptions and topics framed once for all receivers, and
//! the limits (max clients, a client that does not read).

mod common;

use rustws_core::{Event, Hub, HubError, Peer, PeerConfig, ReadyState, Stream, TlsClientOptions};
use std::time::{Duration, Instant};

type TestHub = Hub<Peer>;

fn linker(config: PeerConfig) -> impl FnMut(Box<dyn Stream>, bool) -> Option<Peer> {
    move |stream, tls| {
        let mut p = Peer::new(config.clone());
        p.accept_stream(stream, tls).ok()?;
        Some(p)
    }
}

fn server(max_links: usize) -> TestHub {
    let mut hub = TestHub::default();
    hub.plain = true;
    hub.max_links = max_links;
    hub.create_server(0, "127.0.0.1", None).unwrap();
    hub
}

fn client(hub: &TestHub, config: PeerConfig) -> Peer {
    let url = format!("ws://127.0.0.1:{}/", hub.local_port().unwrap());
    let mut p = Peer::new(config);
    p.connect_to_url(&url, TlsClientOptions::default()).unwrap();
    p
}

/// Polls the server and `clients` until `done` (10 s at most).
fn pump(
    hub: &mut TestHub,
    clients: &mut [&mut Peer],
    config: &PeerConfig,
    mut done: impl FnMut(&mut TestHub, &mut [&mut Peer]) -> bool,
) {
    let mut new_link = linker(config.clone());
    let start = Instant::now();
    while !done(hub, clients) {
        assert!(start.elapsed() < Duration::from_secs(10), "timed out");
        hub.poll(&mut new_link);
        for c in clients.iter_mut() {
            c.poll();
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn connected(hub: &mut TestHub) -> Vec<i32> {
    std::iter::from_fn(|| hub.next_event())
        .filter_map(|e| match e {
            Event::Connected(id) => Some(id),
            _ => None,
        })
        .collect()
}

/// Opens `n` clients; their ids in order.
fn join(hub: &mut TestHub, n: usize, config: &PeerConfig) -> (Vec<Peer>, Vec<i32>) {
    let mut clients = Vec::new();
    let mut ids = Vec::new();
    for _ in 0..n {
        let mut c = client(hub, PeerConfig::default());
        pump(hub, &mut [&mut c], config, |h, cs| {
            ids.extend(connected(h));
            cs[0].ready_state() == ReadyState::Open && ids.len() == clients.len() + 1
        });
        clients.push(c);
    }
    (clients, ids)
}

/// The next message `c` gets, as (bytes, text).
fn next(hub: &mut TestHub, c: &mut Peer, config: &PeerConfig) -> (Vec<u8>, bool) {
    let mut got = None;
    pump(hub, &mut [c], config, |_, cs| {
        got = cs[0].pop_packet();
        got.is_some()
    });
    let p = got.unwrap();
    (p.data.to_vec(), p.text)
}

#[test]
fn plain_clients_get_no_id_and_keep_text_and_binary_apart() {
    let config = PeerConfig::default();
    let mut hub = server(0);
    let (mut clients, ids) = join(&mut hub, 2, &config);
    assert_eq!(hub.link_ids().len(), 2);
    // No id message: the first thing a client gets is what the game sends.
    hub.send_to(ids[0], b"hello", true).unwrap();
    hub.send_to(ids[0], &[0, 159, 146, 150], false).unwrap();
    assert_eq!(
        next(&mut hub, &mut clients[0], &config),
        (b"hello".to_vec(), true)
    );
    assert_eq!(
        next(&mut hub, &mut clients[0], &config),
        (vec![0, 159, 146, 150], false)
    );
    assert_eq!(clients[1].available_packets(), 0);
    // What clients send keeps its kind.
    clients[1].send(b"text", true).unwrap();
    clients[1].send(b"bin", false).unwrap();
    let mut got = Vec::new();
    pump(&mut hub, &mut [&mut clients[1]], &config, |h, _| {
        got.extend(
            std::iter::from_fn(|| h.pop_packet()).map(|r| (r.from, r.data.to_vec(), r.text)),
        );
        got.len() == 2
    });
    assert_eq!(
        got,
        vec![
            (ids[1], b"text".to_vec(), true),
            (ids[1], b"bin".to_vec(), false)
        ]
    );
    // Bad input.
    assert_eq!(
        hub.send_to(12345, b"x", true),
        Err(HubError::NoSuchPeer(12345))
    );
    assert!(matches!(
        hub.send_to(ids[0], &[0xff], true),
        Err(HubError::Send(_))
    ));
    assert!(matches!(
        hub.broadcast(&[0xff], true, &[]),
        Err(HubError::Send(_))
    ));
}

#[test]
fn a_broadcast_is_framed_once_for_every_client_but_the_excepted() {
    let config = PeerConfig::default();
    let mut hub = server(0);
    let (mut clients, ids) = join(&mut hub, 5, &config);
    let before = hub.frames_built();
    assert_eq!(hub.broadcast(b"all but one", true, &[ids[2]]).unwrap(), 4);
    assert_eq!(hub.frames_built(), before + 1, "one frame for four clients");
    for (i, c) in clients.iter_mut().enumerate() {
        if i == 2 {
            continue;
        }
        assert_eq!(next(&mut hub, c, &config), (b"all but one".to_vec(), true));
    }
    pump(&mut hub, &mut [], &config, |_, _| true);
    clients[2].poll();
    assert_eq!(clients[2].available_packets(), 0);
}

#[test]
fn topics_reach_their_subscribers_once_and_forget_a_client_that_left() {
    let config = PeerConfig::default();
    let mut hub = server(0);
    let (mut clients, ids) = join(&mut hub, 3, &config);
    assert!(hub.subscribe(ids[0], "room").unwrap());
    assert!(!hub.subscribe(ids[0], "room").unwrap());
    assert!(hub.subscribe(ids[1], "room").unwrap());
    assert!(hub.subscribe(ids[1], "other").unwrap());
    let before = hub.frames_built();
    assert_eq!(hub.publish("room", &[1, 2, 3], false).unwrap(), 2);
    assert_eq!(hub.frames_built(), before + 1);
    assert_eq!(
        next(&mut hub, &mut clients[0], &config),
        (vec![1, 2, 3], false)
    );
    assert_eq!(
        next(&mut hub, &mut clients[1], &config),
        (vec![1, 2, 3], false)
    );
    assert!(hub.unsubscribe(ids[0], "room").unwrap());
    assert_eq!(hub.publish("room", b"x", true).unwrap(), 1);
    assert_eq!(hub.publish("nobody", b"x", true).unwrap(), 0);
    assert_eq!(hub.frames_built(), before + 2, "no frame for no receiver");
    // Bad names and ids.
    assert!(matches!(
        hub.subscribe(ids[0], ""),
        Err(HubError::Invalid(_))
    ));
    let huge = "t".repeat(rustws_core::MAX_TOPIC_LEN + 1);
    assert!(matches!(
        hub.publish(&huge, b"x", true),
        Err(HubError::Invalid(_))
    ));
    assert_eq!(hub.subscribe(999, "room"), Err(HubError::NoSuchPeer(999)));
    // A client that leaves is unsubscribed.
    clients[1].close(1000, "bye");
    pump(&mut hub, &mut [&mut clients[1]], &config, |h, _| {
        std::iter::from_fn(|| h.next_event()).any(|e| e == Event::Disconnected(ids[1]))
    });
    assert!(hub.subscribers("room").is_empty());
    assert_eq!(hub.topic_count(), 0);
    let _ = &mut clients[2];
}

#[test]
fn a_client_beyond_max_clients_is_closed_with_1013() {
    let config = PeerConfig::default();
    let mut hub = server(2);
    let (_clients, ids) = join(&mut hub, 2, &config);
    assert_eq!(ids.len(), 2);
    let mut third = client(&hub, PeerConfig::default());
    pump(&mut hub, &mut [&mut third], &config, |_, cs| {
        cs[0].ready_state() == ReadyState::Closed
    });
    assert_eq!(third.close_code(), rustws_core::SERVER_FULL_CODE);
    assert!(connected(&mut hub).is_empty());
    assert_eq!(hub.link_ids().len(), 2);
}

#[test]
fn a_client_that_does_not_read_a_broadcast_is_closed_with_1008_and_the_others_get_it() {
    let config = PeerConfig {
        outbound_buffer_size: 64 * 1024,
        ..PeerConfig::default()
    };
    let mut hub = server(0);
    let (mut clients, ids) = join(&mut hub, 2, &config);
    let chunk = vec![7u8; 32 * 1024];
    let mut new_link = linker(config.clone());
    let mut gone = false;
    let start = Instant::now();
    // Client 1 reads, client 0 never does, until its link is over its limit.
    while !gone {
        assert!(start.elapsed() < Duration::from_secs(10), "never closed");
        hub.broadcast(&chunk, false, &[]).unwrap();
        hub.poll(&mut new_link);
        clients[1].poll();
        while clients[1].pop_packet().is_some() {}
        while let Some(e) = hub.next_event() {
            gone |= e == Event::Disconnected(ids[0]);
            // Its link is dropped, as the Godot layer does after the signal.
            drop(hub.handled(e));
        }
    }
    // The slow one's connection ends once it reads what it was sent (its
    // close frame, behind what it did not read, may not have been written).
    let mut slow = std::mem::take(&mut clients[0]);
    pump(&mut hub, &mut [&mut slow], &config, |_, cs| {
        while cs[0].pop_packet().is_some() {}
        cs[0].ready_state() == ReadyState::Closed
    });
    assert!(
        [rustws_core::SLOW_LINK_CODE, -1].contains(&slow.close_code()),
        "{}",
        slow.close_code()
    );
    assert_eq!(hub.link_ids(), vec![ids[1]]);
}
