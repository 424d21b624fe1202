//! The inbound packet queue: received messages wait here until the game reads
//! them, bounded by a byte budget and a packet count like the engine's
//! `inbound_buffer_size` and `max_queued_packets`.

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

/// A FIFO of received packets that tracks how many bytes it holds.
#[derive(Debug, Default)]
pub struct PacketQueue {
    packets: VecDeque<Packet>,
    bytes: usize,
}

impl PacketQueue {
    /// Appends a packet.
    pub fn push(&mut self, packet: Packet) {
        self.bytes += packet.data.len();
        self.packets.push_back(packet);
    }

    /// Takes the oldest packet.
    pub fn pop(&mut self) -> Option<Packet> {
        let p = self.packets.pop_front()?;
        self.bytes -= p.data.len();
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

    /// Payload bytes waiting.
    #[cfg(test)]
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// `true` when another message may be read without exceeding the limits:
    /// fewer than `max_packets` queued and fewer than `max_bytes` bytes.
    pub fn has_room(&self, max_bytes: usize, max_packets: usize) -> bool {
        self.packets.len() < max_packets && self.bytes < max_bytes
    }

    /// Drops everything.
    pub fn clear(&mut self) {
        self.packets = VecDeque::new();
        self.bytes = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_bytes_and_keeps_order() {
        let mut q = PacketQueue::default();
        q.push(Packet {
            data: Bytes::from_static(b"abc"),
            text: true,
        });
        q.push(Packet {
            data: Bytes::from_static(b"de"),
            text: false,
        });
        assert_eq!((q.len(), q.bytes()), (2, 5));
        assert!(q.has_room(6, 3));
        assert!(!q.has_room(5, 3));
        assert!(!q.has_room(100, 2));
        let first = q.pop().unwrap();
        assert_eq!((first.data.as_ref(), first.text), (&b"abc"[..], true));
        assert_eq!((q.len(), q.bytes()), (1, 2));
        q.clear();
        assert!(q.is_empty() && q.bytes() == 0 && q.pop().is_none());
    }
}
