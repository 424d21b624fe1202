//! Memory a link keeps after one large message: a 60 KB broadcast to many
//! links must not pin a 64 KiB buffer on each of them once they are idle
//! again. Heap bytes are counted exactly by a counting allocator (the
//! process's resident size would hide frees that malloc keeps for reuse).

mod common;

use common::*;
use rustws_core::PeerConfig;
use std::net::TcpListener;

#[global_allocator]
static ALLOC: common::counting::Counting = common::counting::Counting;

/// Heap bytes in use now.
fn live() -> usize {
    usize::try_from(common::counting::live()).unwrap_or(0)
}

const LINKS: usize = 300;

#[test]
fn idle_links_give_back_the_buffer_of_a_large_broadcast() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut pairs = Vec::new();
    for _ in 0..LINKS {
        let (client, server) =
            open_pair_on(&listener, PeerConfig::default(), PeerConfig::default());
        pairs.push((client, server));
    }
    // Two sends per link: the second waits in the buffer for the next poll,
    // as messages after the first in a frame do.
    let message = vec![7u8; 60_000];
    let before = live();
    for (_, server) in pairs.iter_mut() {
        server.send(&message, false).unwrap();
        server.send(&message[..30_000], false).unwrap();
    }
    let during = live();
    // The game goes on: every link is polled a few frames with nothing new.
    for _ in 0..3 {
        for (_, server) in pairs.iter_mut() {
            assert!(server.poll().is_none());
        }
    }
    let after = live();
    let kept_per_link = after.saturating_sub(before) / LINKS;
    assert!(
        during.saturating_sub(before) / LINKS >= 20_000,
        "the batched sends were buffered"
    );
    assert!(
        kept_per_link < 4 * 1024,
        "each idle link still holds {kept_per_link} bytes after the broadcast"
    );
    // And the clients got everything.
    for (client, _) in pairs.iter_mut().take(5) {
        assert_eq!(next_packet(client).data.len(), 60_000);
        assert_eq!(next_packet(client).data.len(), 30_000);
    }
}
