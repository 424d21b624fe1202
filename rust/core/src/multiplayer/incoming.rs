//! The hub's queue of received packets, tagged by sender, and its bound: it
//! takes packets from a link only while it holds fewer than its limits (see
//! [`crate::PeerConfig::hub_queue_bytes`]); the rest wait in their link,
//! whose own queue then fills and stops reading, so TCP makes a peer that
//! sends faster than the game reads wait. The engine's class moves every
//! packet of every peer into its queue on each poll, without a bound.

use super::link::Inbox;
use super::Received;
use std::collections::VecDeque;

/// A queue this empty gives its slots back (as a link's own queue does).
const IDLE_SLOTS: usize = 256;
use tungstenite::Bytes;

/// What one queued packet costs beyond its payload, as counted against the
/// byte limit: its entry, and the shared buffer's header behind its bytes.
pub const PACKET_OVERHEAD: usize = 64;

/// Received packets waiting for the game, with what they hold.
pub(super) struct Incoming {
    queue: VecDeque<Received>,
    /// Payload bytes plus [`PACKET_OVERHEAD`] per packet.
    held: usize,
    pub max_packets: usize,
    pub max_bytes: usize,
}

impl Incoming {
    pub fn new(max_packets: usize, max_bytes: usize) -> Incoming {
        Incoming {
            queue: VecDeque::new(),
            held: 0,
            max_packets,
            max_bytes,
        }
    }

    /// Whether one more packet is taken from a link now.
    pub fn has_room(&self) -> bool {
        self.queue.len() < self.max_packets && self.held < self.max_bytes
    }

    /// Queues a packet from `from` (empty ones carry nothing and are not
    /// delivered, as in the engine).
    pub fn push(&mut self, from: i32, data: Bytes, text: bool) {
        if !data.is_empty() {
            self.held = self.held.saturating_add(data.len() + PACKET_OVERHEAD);
            self.queue.push_back(Received { from, data, text });
        }
    }

    pub fn pop(&mut self) -> Option<Received> {
        let packet = self.queue.pop_front()?;
        self.held = self
            .held
            .saturating_sub(packet.data.len() + PACKET_OVERHEAD);
        // The slots of a burst (all the packets of links that left at once)
        // are given back once it has been read.
        if self.queue.is_empty() && self.queue.capacity() > IDLE_SLOTS {
            self.queue = VecDeque::new();
        }
        Some(packet)
    }

    pub fn front(&self) -> Option<&Received> {
        self.queue.front()
    }

    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// Payload bytes plus [`PACKET_OVERHEAD`] per packet.
    pub fn held(&self) -> usize {
        self.held
    }

    /// Whether a packet of `id` waits.
    pub fn has_from(&self, id: i32) -> bool {
        self.queue.iter().any(|p| p.from == id)
    }

    pub fn clear(&mut self) {
        self.queue = VecDeque::new();
        self.held = 0;
    }
}

/// A link's way into [`Incoming`]: its packets tagged with its id.
pub(super) struct Tagged<'a> {
    pub incoming: &'a mut Incoming,
    pub from: i32,
    /// Take every packet, room or not (a link that ended: what it still
    /// held is delivered, and it holds no more than its own limits).
    pub all: bool,
}

impl Inbox for Tagged<'_> {
    fn has_room(&self) -> bool {
        self.all || self.incoming.has_room()
    }
    fn take(&mut self, data: Bytes, text: bool) {
        self.incoming.push(self.from, data, text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_emptied_queue_gives_its_slots_back() {
        let mut q = Incoming::new(usize::MAX, usize::MAX);
        for i in 0..10_000 {
            q.queue.push_back(Received {
                from: i,
                data: Bytes::from_static(b"x"),
                text: false,
            });
        }
        while q.pop().is_some() {}
        assert!(q.queue.capacity() <= IDLE_SLOTS, "{}", q.queue.capacity());
    }
}
