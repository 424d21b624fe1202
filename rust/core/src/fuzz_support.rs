//! Harnesses shared by the fuzz targets (`rust/core/fuzz`) and the test
//! that replays saved inputs: each feeds arbitrary bytes to a peer over an
//! in-memory stream and drives it to a defined state. They must never panic.

use crate::{Peer, PeerConfig, ReadyState, Stream};
use std::io::{self, Read, Write};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// State shared between a [`Memory`] stream and the harness driving it.
pub type Shared<T> = Arc<Mutex<T>>;

/// Locks shared harness state (a poisoned lock still holds usable bytes).
pub fn lock<T>(shared: &Shared<T>) -> MutexGuard<'_, T> {
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

/// An in-memory non-blocking stream: reads hand out the input in chunks,
/// then `WouldBlock` or end of stream; writes are collected.
pub struct Memory {
    pub input: Shared<Vec<u8>>,
    pub output: Shared<Vec<u8>>,
    pub pos: usize,
    pub chunk: usize,
    pub eof: Shared<bool>,
}

impl Memory {
    pub fn new(chunk: usize) -> Memory {
        Memory {
            input: Shared::default(),
            output: Shared::default(),
            pos: 0,
            chunk: chunk.max(1),
            eof: Shared::default(),
        }
    }
}

impl Read for Memory {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let input = lock(&self.input);
        if self.pos >= input.len() {
            return if *lock(&self.eof) {
                Ok(0)
            } else {
                Err(io::ErrorKind::WouldBlock.into())
            };
        }
        let n = buf.len().min(self.chunk).min(input.len() - self.pos);
        buf[..n].copy_from_slice(&input[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

impl Write for Memory {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        lock(&self.output).extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Stream for Memory {}

/// What a harness run ended with.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The peer was seen open, or delivered a packet (it can open and close
    /// within one poll).
    pub opened: bool,
    /// Payloads received, in order.
    pub packets: Vec<Vec<u8>>,
    /// The close code at the end.
    pub close_code: i32,
}

/// Polls up to 64 times (until closed), collecting what arrives.
fn drive(peer: &mut Peer) -> Outcome {
    let mut out = Outcome::default();
    for _ in 0..64 {
        let _ = peer.poll();
        while let Some(p) = peer.pop_packet() {
            out.packets.push(p.data.to_vec());
        }
        out.opened |= peer.ready_state() == ReadyState::Open || !out.packets.is_empty();
        if peer.ready_state() == ReadyState::Closed {
            break;
        }
    }
    out
}

/// Server side: `data[0]` picks the read chunk size and whether the stream
/// ends; the rest is the client's upgrade request and frames.
pub fn server_upgrade(data: &[u8]) -> Outcome {
    let Some((&chunk, rest)) = data.split_first() else {
        return Outcome::default();
    };
    let stream = Memory::new(chunk as usize);
    lock(&stream.input).extend_from_slice(rest);
    *lock(&stream.eof) = chunk % 2 == 0;
    let mut peer = Peer::new(PeerConfig {
        inbound_buffer_size: 4096,
        supported_protocols: vec!["chat".into()],
        ..PeerConfig::default()
    });
    if peer.accept_stream(Box::new(stream), false).is_err() {
        return Outcome::default();
    }
    let mut out = drive(&mut peer);
    let _ = peer.send(b"reply", true);
    peer.close(1000, "bye");
    let _ = peer.poll();
    out.close_code = peer.close_code();
    out
}

/// Client side after a valid upgrade: `data[0]` picks the chunk size; the rest
/// is what the server sends after its 101 answer.
pub fn client_frames(data: &[u8]) -> Outcome {
    let Some((&chunk, frames)) = data.split_first() else {
        return Outcome::default();
    };
    let stream = Memory::new(chunk as usize);
    let (input, output) = (stream.input.clone(), stream.output.clone());
    let mut peer = Peer::new(PeerConfig {
        inbound_buffer_size: 4096,
        ..PeerConfig::default()
    });
    if peer
        .connect_over_stream(Box::new(stream), "ws://fuzz.test/")
        .is_err()
    {
        return Outcome::default();
    }
    let _ = peer.poll();
    let request = String::from_utf8_lossy(&lock(&output)).to_string();
    let Some(key) = request
        .lines()
        .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
    else {
        return Outcome::default();
    };
    let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
    let head = format!("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n");
    lock(&input).extend_from_slice(head.as_bytes());
    lock(&input).extend_from_slice(frames);
    let mut out = drive(&mut peer);
    let _ = peer.send(b"x", false);
    peer.close(4000, "done");
    let _ = peer.poll();
    out.close_code = peer.close_code();
    out
}
