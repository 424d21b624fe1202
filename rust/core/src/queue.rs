//! The inbound packet queue: received messages wait here until the game reads
//! them, bounded by a byte budget and a packet count like the engine's
//! `inbound_buffer_size` and `max_queued_packets`.
//!
//! The byte budget counts the memory a packet holds, not its payload: the
//! allocation of its bytes (each received message is one allocation of
//! exactly its length, see `inbound`) as the allocator rounds it, plus its
//! slot here. A peer that sends many tiny messages fills the budget as fast
//! as the memory they take.

use std::collections::VecDeque;
use tungstenite::Bytes;

/// One received WebSocket message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    /// The payload.
    pub data: Bytes,
    /// `true` when it came in a text frame.
    pub text: bool,
}

/// Memory a payload of `len` bytes takes from the allocator when it is an
/// allocation of exactly that length: a header word, rounded up to 16
/// bytes, at least 32 (glibc's malloc; other allocators are close).
pub fn allocation(len: usize) -> usize {
    if len == 0 {
        return 0;
    }
    len.saturating_add(8 + 15)
        .saturating_div(16)
        .saturating_mul(16)
        .max(32)
}

/// What one queued packet of `len` bytes holds: its payload's allocation and
/// its slot in the queue.
fn cost(len: usize) -> usize {
    allocation(len).saturating_add(std::mem::size_of::<Packet>())
}

/// A queue this empty gives its slots back when a burst is over.
const IDLE_SLOTS: usize = 256;

/// A FIFO of received packets that tracks the memory it holds.
#[derive(Debug, Default)]
pub struct PacketQueue {
    packets: VecDeque<Packet>,
    /// The sum of [`cost`] over the packets.
    held: usize,
}

impl PacketQueue {
    /// Appends a packet.
    pub fn push(&mut self, packet: Packet) {
        self.held = self.held.saturating_add(cost(packet.data.len()));
        self.packets.push_back(packet);
    }

    /// Takes the oldest packet.
    pub fn pop(&mut self) -> Option<Packet> {
        let p = self.packets.pop_front()?;
        self.held = self.held.saturating_sub(cost(p.data.len()));
        if self.packets.is_empty() && self.packets.capacity() > IDLE_SLOTS {
            self.packets = VecDeque::new();
        }
        Some(p)
    }

    /// Number of packets waiting.
    pub fn len(&self) -> usize {
        self.packets.len()
    }

    /// `true` when no packet waits.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.packets.is_empty()
    }

    /// Bytes of memory the queue holds: its packets' allocations and all of
    /// its slots (also the free ones).
    pub fn held(&self) -> usize {
        self.held.saturating_add(
            (self.packets.capacity() - self.packets.len())
                .saturating_mul(std::mem::size_of::<Packet>()),
        )
    }

    /// `true` when another message may be read without exceeding the limits:
    /// fewer than `max_packets` queued and less than `max_bytes` held.
    pub fn has_room(&self, max_bytes: usize, max_packets: usize) -> bool {
        self.packets.len() < max_packets && self.held < max_bytes
    }

    /// Drops everything.
    pub fn clear(&mut self) {
        self.packets = VecDeque::new();
        self.held = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_held_memory_and_keeps_order() {
        let slot = std::mem::size_of::<Packet>();
        let mut q = PacketQueue::default();
        q.push(Packet {
            data: Bytes::from_static(b"abc"),
            text: true,
        });
        q.push(Packet {
            data: Bytes::from(vec![0u8; 100]),
            text: false,
        });
        // 3 bytes take the allocator's least (32); 100 take 112.
        let held = 32 + 112 + 2 * slot;
        assert_eq!(q.len(), 2);
        assert!(q.held() >= held);
        assert!(q.has_room(held + 1, 3));
        assert!(!q.has_room(held, 3));
        assert!(!q.has_room(usize::MAX, 2));
        let first = q.pop().unwrap();
        assert_eq!((first.data.as_ref(), first.text), (&b"abc"[..], true));
        assert!(q.has_room(112 + slot + 1, 2) && !q.has_room(112 + slot, 2));
        q.clear();
        assert!(q.is_empty() && q.held() == 0 && q.pop().is_none());
    }

    #[test]
    fn a_burst_of_tiny_packets_fills_the_budget_by_their_memory() {
        let mut q = PacketQueue::default();
        while q.has_room(64 * 1024, 4096) {
            q.push(Packet {
                data: Bytes::from(vec![1u8]),
                text: false,
            });
        }
        // 64 KiB of budget: far fewer than 4,096 one-byte packets.
        assert!(q.len() < 1100, "{}", q.len());
        assert!(q.held() < 2 * 64 * 1024);
        while q.pop().is_some() {}
        assert_eq!(q.held(), 0, "the slots are given back once empty");
    }
}
