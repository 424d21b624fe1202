//! The multiplayer hub's queue of received packets is bounded: a client
//! that sends as fast as it can while the game does not read (a loading
//! screen) makes the packets wait in its link, and TCP makes the client
//! wait, instead of the hub's queue growing with everything it sent. Heap
//! bytes are counted exactly by a counting allocator. Alone in its file: the
//! allocator counts the whole process.

mod common;

use rustws_core::{Event, Hub, Peer, PeerConfig, ReadyState, Stream, TlsClientOptions};
use rustws_core::{DEFAULT_BUFFER_SIZE, HUB_QUEUE_FACTOR, PACKET_OVERHEAD};
use std::time::{Duration, Instant};

#[global_allocator]
static ALLOC: common::counting::Counting = common::counting::Counting;

/// Heap bytes in use now.
fn live() -> usize {
    usize::try_from(common::counting::live()).unwrap_or(0)
}

const MESSAGE: usize = 1000;
/// What the client tries to send: 32 MB, far past every limit.
const TO_SEND: usize = 32_000;

fn server_link(stream: Box<dyn Stream>, tls: bool) -> Option<Peer> {
    let mut p = Peer::new(rustws_core::link_config());
    p.accept_stream(stream, tls).ok()?;
    Some(p)
}

#[test]
fn a_client_flooding_an_unread_hub_is_held_back_by_its_link() {
    let mut server: Hub<Peer> = Hub::default();
    server.create_server(0, "127.0.0.1", None).unwrap();
    let url = format!("ws://127.0.0.1:{}/", server.local_port().unwrap());
    let mut client = common::client(PeerConfig::default(), &url, TlsClientOptions::Default);
    let start = Instant::now();
    let id = loop {
        assert!(start.elapsed() < common::WAIT, "the client never joined");
        server.poll(&mut server_link);
        client.poll();
        if let Some(Event::Connected(id)) = server.next_event() {
            break id;
        }
        std::thread::sleep(Duration::from_millis(1));
    };
    common::wait_open(&mut client);
    let before = live();

    // The client sends as fast as the server takes; the game reads nothing.
    let (mut sent, mut peak_heap, mut peak_queue) = (0usize, 0usize, 0usize);
    let flood = Instant::now();
    while sent < TO_SEND && flood.elapsed() < Duration::from_secs(3) {
        while sent < TO_SEND
            && client
                .send(&(sent as u32).to_le_bytes().repeat(250), false)
                .is_ok()
        {
            sent += 1;
        }
        client.poll();
        server.poll(&mut server_link);
        peak_queue = peak_queue.max(server.incoming_held());
        peak_heap = peak_heap.max(live().saturating_sub(before));
    }
    let queued = server.available_packets();
    println!(
        "client sent {sent} messages of {MESSAGE} bytes; the unread hub queued {queued} \
         ({peak_queue} bytes counted at most); heap grew by {peak_heap} bytes at most"
    );
    assert!(
        sent < TO_SEND,
        "the client was made to wait (TCP backpressure)"
    );
    let queue_bound = DEFAULT_BUFFER_SIZE * HUB_QUEUE_FACTOR + MESSAGE + PACKET_OVERHEAD;
    assert!(peak_queue <= queue_bound, "{peak_queue} > {queue_bound}");
    // The hub's queue, the link's own (64 KiB) with its read chunks, the
    // client's outbound buffer (64 KiB): a few hundred KiB, not what was sent.
    assert!(
        peak_heap < 2 << 20,
        "{peak_heap} bytes held for {sent} messages sent"
    );

    // Nothing was lost: reading now delivers every message, in order.
    let mut got = 0usize;
    let deadline = Instant::now() + common::WAIT;
    while got < sent {
        assert!(Instant::now() < deadline, "{got} of {sent} delivered");
        client.poll();
        server.poll(&mut server_link);
        while let Some(p) = server.pop_packet() {
            assert_eq!(p.from, id);
            assert_eq!(p.data.len(), MESSAGE);
            assert_eq!(p.data[..4], (got as u32).to_le_bytes(), "in order");
            got += 1;
        }
    }
    assert_eq!(client.ready_state(), ReadyState::Open);
}
