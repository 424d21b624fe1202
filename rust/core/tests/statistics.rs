//! A link's statistics against a scripted exchange whose every byte is
//! known (messages, payload and wire bytes, with and without compression),
//! and the round-trip time from our own pings: matched by payload, so a
//! peer's unsolicited or replayed pongs change nothing.

mod common;

use common::*;
use rustws_core::{Peer, PeerConfig, ReadyState, Statistics};
use std::io::{Read, Write};
use std::time::Duration;

/// An open client (with `config`) and server pair.
fn pair_with(config: PeerConfig, server_config: PeerConfig) -> (Peer, Peer) {
    open_pair(config, server_config)
}

/// Polls both until `done` holds.
fn poll_both(
    client: &mut Peer,
    server: &mut Peer,
    what: &str,
    done: impl Fn(&Peer, &Peer) -> bool,
) {
    poll_until(client, what, |c| {
        server.poll();
        done(c, server)
    });
}

/// The counts a statistics snapshot gives, without the times.
fn counts(s: &Statistics) -> [u64; 6] {
    [
        s.messages_in,
        s.messages_out,
        s.bytes_in,
        s.bytes_out,
        s.wire_in,
        s.wire_out,
    ]
}

#[test]
fn a_scripted_exchange_is_counted_exactly() {
    let (mut client, mut server) = pair_with(PeerConfig::default(), PeerConfig::default());
    assert_eq!(counts(&client.statistics()), [0; 6]);
    assert_eq!(client.statistics().since_last_message, None);
    let big = vec![7u8; 200];
    for _ in 0..3 {
        client.send(b"hello", true).unwrap();
    }
    client.send(&big, false).unwrap();
    let sent = client.statistics();
    assert_eq!(sent.queued_out + sent.messages_out, 4 + sent.queued_out);
    poll_both(&mut client, &mut server, "4 messages", |_, s| {
        s.available_packets() == 4
    });
    let s = server.statistics();
    assert_eq!(s.queued_in, 4);
    // Client frames are masked: 2 + 4 + 5 for each "hello", 2 + 2 + 4 + 200
    // for the binary message (16-bit length).
    assert_eq!(counts(&s), [4, 0, 215, 0, 33 + 208, 0]);
    assert!(s
        .since_last_message
        .is_some_and(|d| d < Duration::from_secs(5)));
    while let Some(p) = server.pop_packet() {
        server.send(&p.data, p.text).unwrap();
    }
    poll_both(&mut client, &mut server, "4 echoes", |c, _| {
        c.available_packets() == 4
    });
    // Server frames are not masked: 2 + 5, and 2 + 2 + 200.
    assert_eq!(
        counts(&server.statistics()),
        [4, 4, 215, 215, 241, 21 + 204]
    );
    assert_eq!(counts(&client.statistics()), [4, 4, 215, 215, 225, 241]);
    assert_eq!(server.statistics().queued_in, 0);
    assert_eq!(client.statistics().rtt_latest, None);
    // The figures stay readable after the link ends (close frames: the
    // client's 2 + 4 + 2, the server's answer 2 + 2).
    client.close(1000, "");
    poll_both(&mut client, &mut server, "closed", |c, s| {
        c.ready_state() == ReadyState::Closed && s.ready_state() == ReadyState::Closed
    });
    assert_eq!(counts(&client.statistics()), [4, 4, 215, 215, 229, 249]);
    assert_eq!(counts(&server.statistics()), [4, 4, 215, 215, 249, 229]);
}

#[test]
fn compression_shows_as_fewer_bytes_on_the_wire_than_in_payload() {
    let mut config = PeerConfig {
        compression_enabled: true,
        ..PeerConfig::default()
    };
    config.set_compression_threshold(0).unwrap();
    let server_config = PeerConfig {
        compression_enabled: true,
        ..PeerConfig::default()
    };
    let (mut client, mut server) = pair_with(config, server_config);
    let text = "the same words again and again. ".repeat(128);
    for _ in 0..5 {
        client.send(text.as_bytes(), true).unwrap();
    }
    poll_both(&mut client, &mut server, "5 messages", |_, s| {
        s.available_packets() == 5
    });
    let (c, s) = (client.statistics(), server.statistics());
    assert_eq!((c.messages_out, c.bytes_out), (5, 5 * 4096));
    assert_eq!((s.messages_in, s.bytes_in), (5, 5 * 4096));
    assert_eq!(s.wire_in, c.wire_out);
    assert!(c.wire_out * 10 < c.bytes_out, "{c:?}");
}

#[test]
fn ping_measures_the_round_trip_and_counts_its_frames() {
    let (mut client, mut server) = pair_with(PeerConfig::default(), PeerConfig::default());
    assert!(
        Peer::default().ping().is_err(),
        "a closed peer has no link to ping"
    );
    for n in 1..=3u64 {
        client.ping().unwrap();
        poll_both(&mut client, &mut server, "the pong", |c, _| {
            c.pongs_received() == n
        });
    }
    let s = client.statistics();
    assert_eq!((s.pings_sent, s.pongs_received), (3, 3));
    let (latest, smoothed, lowest) = (
        s.rtt_latest.unwrap(),
        s.rtt_smoothed.unwrap(),
        s.rtt_lowest.unwrap(),
    );
    assert!(latest < Duration::from_secs(1), "loopback: {latest:?}");
    assert!(lowest <= latest && lowest <= smoothed);
    assert_eq!(client.round_trip_time(), Some(latest));
    // Pings are not messages; their frames are on the wire: 2 + 4 + 8 out,
    // 2 + 8 back.
    assert_eq!(counts(&s), [0, 0, 0, 0, 3 * 10, 3 * 14]);
    assert_eq!(server.statistics().rtt_latest, None);
}

#[test]
fn a_heartbeat_measures_the_round_trip_too() {
    let mut config = PeerConfig::default();
    config.set_heartbeat_interval(0.05).unwrap();
    let (mut client, mut server) = pair_with(config, PeerConfig::default());
    poll_both(&mut client, &mut server, "two heartbeat pongs", |c, _| {
        c.pongs_received() >= 2
    });
    assert!(client.round_trip_time().is_some());
}

/// A masked client frame (mask key 0: payload unchanged).
fn masked(first: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![first, 0x80 | payload.len() as u8, 0, 0, 0, 0];
    f.extend_from_slice(payload);
    f
}

#[test]
fn unsolicited_and_replayed_pongs_do_not_fake_the_round_trip() {
    let (mut server, mut raw, _) = open_server_and_raw_client(PeerConfig::default());
    // Thousands of pongs nobody asked for, of every length a ping of ours
    // could have, then one message to know they were all read.
    let mut flood = Vec::new();
    for i in 0..5_000u64 {
        flood.extend(masked(0x8A, &i.to_be_bytes()));
    }
    flood.extend(masked(0x8A, &[]));
    flood.extend(masked(0x81, b"done"));
    raw.write_all(&flood).unwrap();
    let _ = next_packet(&mut server);
    let s = server.statistics();
    assert_eq!((s.pongs_received, s.rtt_latest), (0, None));
    assert_eq!(s.messages_in, 1);
    assert_eq!(s.wire_in, flood.len() as u64);
    // Our ping: the raw client reads it and answers late, twice (a replay).
    server.ping().unwrap();
    let mut ping = [0u8; 10];
    raw.read_exact(&mut ping).unwrap();
    assert_eq!(&ping[..2], &[0x89, 8]);
    std::thread::sleep(Duration::from_millis(40));
    let pong = masked(0x8A, &ping[2..]);
    raw.write_all(&pong).unwrap();
    raw.write_all(&pong).unwrap();
    raw.write_all(&masked(0x81, b"after")).unwrap();
    let _ = next_packet(&mut server);
    let s = server.statistics();
    assert_eq!((s.pings_sent, s.pongs_received), (1, 1));
    let rtt = s.rtt_latest.unwrap();
    assert!(rtt >= Duration::from_millis(40), "{rtt:?}");
    assert!(rtt < Duration::from_secs(5), "{rtt:?}");
}
