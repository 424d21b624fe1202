//! Harnesses shared by the fuzz targets (`rust/core/fuzz`) and the test
//! that replays saved inputs: each feeds arbitrary bytes to a peer over an
//! in-memory stream and drives it to a defined state. They must never panic.

use crate::{Peer, PeerConfig, ReadyState, Stream};
use std::cell::RefCell;
use std::io::{self, Read, Write};
use std::rc::Rc;

/// An in-memory non-blocking stream: reads hand out the input in chunks,
/// then `WouldBlock` or end of stream; writes are collected.
pub struct Memory {
    pub input: Rc<RefCell<Vec<u8>>>,
    pub output: Rc<RefCell<Vec<u8>>>,
    pub pos: usize,
    pub chunk: usize,
    pub eof: Rc<RefCell<bool>>,
}

impl Memory {
    pub fn new(chunk: usize) -> Memory {
        Memory {
            input: Rc::default(),
            output: Rc::default(),
            pos: 0,
            chunk: chunk.max(1),
            eof: Rc::default(),
        }
    }
}

impl Read for Memory {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let input = self.input.borrow();
        if self.pos >= input.len() {
            return if *self.eof.borrow() {
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
        self.output.borrow_mut().extend_from_slice(buf);
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
    stream.input.borrow_mut().extend_from_slice(rest);
    *stream.eof.borrow_mut() = chunk % 2 == 0;
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
    let request = String::from_utf8_lossy(&output.borrow()).to_string();
    let Some(key) = request
        .lines()
        .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
    else {
        return Outcome::default();
    };
    let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
    let head = format!("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n");
    input.borrow_mut().extend_from_slice(head.as_bytes());
    input.borrow_mut().extend_from_slice(frames);
    let mut out = drive(&mut peer);
    let _ = peer.send(b"x", false);
    peer.close(4000, "done");
    let _ = peer.poll();
    out.close_code = peer.close_code();
    out
}
