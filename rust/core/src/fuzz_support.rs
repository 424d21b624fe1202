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

/// A client over a [`Memory`] stream, its request sent.
struct MemoryClient {
    peer: Peer,
    /// What the "server" sends it.
    input: Shared<Vec<u8>>,
    /// The stream ends once `input` is read.
    eof: Shared<bool>,
    /// The `Sec-WebSocket-Accept` value that answers its key.
    accept: String,
}

/// A client connected over a [`Memory`] stream reading `chunk` bytes at a
/// time, its request sent.
fn memory_client(chunk: u8, config: PeerConfig) -> Option<MemoryClient> {
    let stream = Memory::new(chunk as usize);
    let (input, output, eof) = (
        stream.input.clone(),
        stream.output.clone(),
        stream.eof.clone(),
    );
    let mut peer = Peer::new(config);
    peer.connect_over_stream(Box::new(stream), "ws://fuzz.test/")
        .ok()?;
    let _ = peer.poll();
    let request = String::from_utf8_lossy(&lock(&output)).to_string();
    let key = request
        .lines()
        .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))?;
    let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
    Some(MemoryClient {
        peer,
        input,
        eof,
        accept,
    })
}

/// Drives a client to its end: what arrived, then a message and a close of
/// ours.
fn finish_client(mut peer: Peer) -> Outcome {
    let mut out = drive(&mut peer);
    let _ = peer.send(b"x", false);
    peer.close(4000, "done");
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
    let config = PeerConfig {
        inbound_buffer_size: 4096,
        ..PeerConfig::default()
    };
    let Some(MemoryClient {
        peer,
        input,
        accept,
        ..
    }) = memory_client(chunk, config)
    else {
        return Outcome::default();
    };
    let head = format!("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n");
    lock(&input).extend_from_slice(head.as_bytes());
    lock(&input).extend_from_slice(frames);
    finish_client(peer)
}

/// Client side, the upgrade: `data[0]` picks the chunk size (odd: the
/// stream ends after the input); the rest is the server's answer and what
/// follows it, where `@ACCEPT@` stands for the right `Sec-WebSocket-Accept`
/// value, so inputs get past it to the sub-protocol and extension checks
/// and the frames. The client offers compression and two sub-protocols.
pub fn client_upgrade(data: &[u8]) -> Outcome {
    let Some((&chunk, answer)) = data.split_first() else {
        return Outcome::default();
    };
    let config = PeerConfig {
        inbound_buffer_size: 4096,
        supported_protocols: vec!["chat".into(), "v2".into()],
        compression_enabled: true,
        ..PeerConfig::default()
    };
    let Some(MemoryClient {
        peer,
        input,
        eof,
        accept,
    }) = memory_client(chunk, config)
    else {
        return Outcome::default();
    };
    let mut bytes = Vec::with_capacity(answer.len() + accept.len());
    let mut rest = answer;
    while let Some(at) = rest.windows(8).position(|w| w == b"@ACCEPT@") {
        bytes.extend_from_slice(&rest[..at]);
        bytes.extend_from_slice(accept.as_bytes());
        rest = &rest[at + 8..];
    }
    bytes.extend_from_slice(rest);
    lock(&input).extend_from_slice(&bytes);
    *lock(&eof) = chunk % 2 == 1;
    finish_client(peer)
}

/// An HTTP proxy's answer to `CONNECT` (the head as it came): whether it
/// opens the tunnel. Never panics; whatever the answer, the error it makes
/// prints as one line.
pub fn proxy_answer(data: &[u8]) -> bool {
    let Ok(Some(proxy)) = crate::proxy::Proxy::parse("user:pass@proxy.test", 3128) else {
        return false;
    };
    match crate::proxy::check_answer(data, &proxy, "game.test:443") {
        Ok(()) => true,
        Err(e) => {
            assert!(!e.to_string().contains(['\n', '\r']), "one line: {e}");
            false
        }
    }
}

/// permessage-deflate negotiation, both sides: the text as a client's
/// offers to our server (with `data[0]` picking the server's window and
/// context takeover), and as a server's answer to our client's offer; an
/// agreement either side reaches must be one the codec can run. Whether
/// either side agreed.
pub fn extensions(data: &[u8]) -> bool {
    let Some((&pick, text)) = data.split_first() else {
        return false;
    };
    let text = String::from_utf8_lossy(text);
    let config = crate::DeflateConfig {
        context_takeover: pick & 1 == 0,
        max_window_bits: 8 + (pick >> 1) % 9,
    };
    let served = crate::extension::accept(&text, &config);
    if let Some(agreed) = served {
        let _ = agreed.deflater(true);
        let _ = agreed.inflater(true);
        let _ = agreed.header_value();
    }
    let answered = crate::extension::verify(Some(&text), Some(&config))
        .ok()
        .flatten();
    if let Some(agreed) = answered {
        let _ = agreed.deflater(false);
        let _ = agreed.inflater(false);
    }
    served.is_some() || answered.is_some()
}

/// A PROXY protocol header, fed to the parser as a reader would feed it
/// (only as many bytes as it asks for each time, `data[0]` capping the
/// step): it never asks for bytes past the header, and agrees with a parse
/// of the whole input. The header's length when one is whole.
pub fn proxy_header(data: &[u8]) -> Option<usize> {
    use crate::proxy_protocol::{parse, Parsed};
    let (&step, data) = data.split_first()?;
    let step = usize::from(step).max(1);
    let mut have = 0;
    let outcome = loop {
        match parse(&data[..have]) {
            Ok(Parsed::Done(h)) => break Ok(h),
            Ok(Parsed::Incomplete(n)) => {
                assert!(n >= 1, "asks for nothing");
                if have + n > data.len() {
                    return None;
                }
                have += n.min(step);
            }
            Err(e) => break Err(e),
        }
    };
    match outcome {
        Ok(h) => {
            assert_eq!(h.len, have, "the header ends where the reads stopped");
            assert!(h.len <= 16 + crate::proxy_protocol::V2_MAX_LEN);
            assert_eq!(
                parse(data),
                Ok(Parsed::Done(h.clone())),
                "same on the whole input"
            );
            Some(h.len)
        }
        Err(e) => {
            assert!(!e.to_string().contains(['\n', '\r']), "one line: {e}");
            None
        }
    }
}

/// A forwarding header (`data[0]`: bit 0 picks `Forwarded` or
/// `X-Forwarded-For`, bit 1 one of two trusted lists) from a trusted peer:
/// the client it names is never itself a trusted proxy. The client, if any.
pub fn forwarded(data: &[u8]) -> Option<std::net::SocketAddr> {
    use crate::forwarded::{forwarded_client, TrustedProxies};
    let (&pick, rest) = data.split_first()?;
    let value = String::from_utf8_lossy(rest).into_owned();
    let name = if pick & 1 == 0 {
        "forwarded"
    } else {
        "x-forwarded-for"
    };
    let list: &[&str] = if pick & 2 == 0 {
        &["127.0.0.1", "10.0.0.0/8"]
    } else {
        &["::1", "fd00::/8", "0.0.0.0/1"]
    };
    let trusted = TrustedProxies::parse(list).ok()?;
    let peer = trusted.entries().first()?.split('/').next()?.parse().ok()?;
    let client = forwarded_client(peer, &[(name.to_string(), value)], &trusted);
    if let Some(c) = client {
        assert!(
            !trusted.contains(c.ip()),
            "a trusted proxy named as the client"
        );
    }
    client
}
