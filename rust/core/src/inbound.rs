//! Messages out of the bytes a peer sends (RFC 6455 section 5): frames are
//! parsed with tungstenite's [`FrameHeader`], unmasked, checked (masking by
//! role, reserved bits and opcodes, control frame rules, fragment order),
//! and reassembled; text is checked as UTF-8 as it arrives, so a bad
//! sequence fails at once rather than at the end of a long message; control
//! frames come out as soon as they arrive, also between fragments; messages
//! compressed with permessage-deflate (RSV1) are inflated as their frames
//! arrive, and the size limit applies to the inflated bytes.
//!
//! The reader owns its input buffer; payloads of unfragmented, uncompressed
//! messages are handed out without a copy.

use crate::close::{self, BadClose};
use crate::deflate::{InflateError, Inflater};
use crate::transport::ReadUninit;
use bytes::{Buf, BytesMut};
use std::io::{self, Cursor};
use tungstenite::protocol::frame::coding::{Control, Data, OpCode};
use tungstenite::protocol::frame::FrameHeader;
use tungstenite::Bytes;

/// What the peer sent.
#[derive(Debug, PartialEq)]
pub enum Inbound {
    /// A whole data message.
    Message {
        data: Bytes,
        text: bool,
    },
    Ping(Bytes),
    Pong(Bytes),
    /// A close frame: its code and reason, or `None` when it carried none.
    Close(Option<(u16, String)>),
}

/// Why reading stopped for good.
#[derive(Debug)]
pub enum ReadError {
    /// The peer broke the protocol (close with 1002).
    Protocol(String),
    /// A message or frame of `size` bytes, larger than the limit (close
    /// with 1009).
    TooBig {
        size: usize,
    },
    /// Text that is not UTF-8 (close with 1007).
    InvalidUtf8,
    /// The stream ended (a clean end when a close was exchanged).
    Eof,
    Io(io::Error),
}

impl From<io::Error> for ReadError {
    fn from(e: io::Error) -> Self {
        ReadError::Io(e)
    }
}

impl From<InflateError> for ReadError {
    fn from(e: InflateError) -> Self {
        match e {
            InflateError::TooBig { size, .. } => ReadError::TooBig { size },
            InflateError::Corrupt(why) => {
                ReadError::Protocol(format!("bad compressed data: {why}"))
            }
        }
    }
}

/// A message being reassembled from its frames.
struct Partial {
    text: bool,
    compressed: bool,
    data: Vec<u8>,
    /// Bytes of `data` known to be whole, valid UTF-8.
    checked: usize,
}

/// Frames to messages, for one connection.
pub struct Reader {
    buf: BytesMut,
    /// Read size (and the least room kept for a read).
    chunk: usize,
    /// `true` on the server side: frames must be masked.
    expect_masked: bool,
    /// Largest message (and frame) accepted.
    limit: usize,
    partial: Option<Partial>,
    /// The header of a frame whose payload has not fully arrived.
    pending: Option<(FrameHeader, usize)>,
    inflater: Option<Inflater>,
    /// The last read came back short from a source where that means it was
    /// empty (a plain socket): reading again now would only find nothing, so
    /// this round of reading ends once the buffer is used up.
    drained: bool,
}

/// Most bytes one read asks for while a large frame arrives.
const MAX_READ: usize = 256 * 1024;

/// Largest control frame payload.
const MAX_CONTROL: usize = 125;

impl Reader {
    /// A reader for the server side (`expect_masked`) or the client side,
    /// starting with bytes already read past the HTTP upgrade.
    pub fn new(leftover: Vec<u8>, expect_masked: bool, limit: usize, chunk: usize) -> Reader {
        Reader {
            buf: BytesMut::from(&leftover[..]),
            chunk,
            expect_masked,
            limit,
            partial: None,
            pending: None,
            drained: false,
            inflater: None,
        }
    }

    /// Inflates messages marked compressed (RSV1), from now on.
    pub fn set_inflater(&mut self, inflater: Inflater) {
        self.inflater = Some(inflater);
    }

    /// Gives back memory an idle link does not need: the input buffer when
    /// empty. (An inflater that keeps no context between messages already
    /// gave its state back at the last message's end.)
    pub fn trim(&mut self) {
        if self.buf.is_empty() && self.pending.is_none() && self.partial.is_none() {
            self.buf = BytesMut::new();
        }
    }

    /// Starts a round of reading (one poll): the source is read again even
    /// if the last read found it drained.
    pub fn start_round(&mut self) {
        self.drained = false;
    }

    /// The next thing the peer sent, reading from `src` as needed;
    /// `Ok(None)` when `src` has nothing more for now (it said so, or a
    /// short read showed it empty: see [`ReadUninit::short_read_drains`]).
    pub fn next(&mut self, src: &mut impl ReadUninit) -> Result<Option<Inbound>, ReadError> {
        loop {
            if let Some(event) = self.next_buffered()? {
                return Ok(Some(event));
            }
            if std::mem::take(&mut self.drained) {
                return Ok(None);
            }
            match self.read_in(src) {
                Ok(0) => return Err(ReadError::Eof),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(ReadError::Io(e)),
            }
        }
    }

    /// One read from `src`, straight into the buffer's spare room (sockets
    /// need no zeroing first). Room for a whole pending frame is reserved at
    /// once (its size was checked against the limit); each read takes at
    /// most [`MAX_READ`] of it.
    fn read_in(&mut self, src: &mut impl ReadUninit) -> io::Result<usize> {
        let missing = self
            .pending
            .as_ref()
            .map_or(0, |(_, len)| len.saturating_sub(self.buf.len()));
        self.buf.reserve(missing.max(self.chunk));
        let step = missing.clamp(self.chunk, self.chunk.max(MAX_READ));
        let spare = self.buf.spare_capacity_mut();
        let step = step.min(spare.len());
        let n = src.read_uninit(&mut spare[..step])?;
        let n = n.min(step);
        self.drained = n > 0 && n < step && src.short_read_drains();
        // SAFETY: the source wrote `n` bytes at the start of the spare room.
        unsafe { self.buf.set_len(self.buf.len() + n) };
        Ok(n)
    }

    /// Handles the frames already in the buffer until one yields an event.
    fn next_buffered(&mut self) -> Result<Option<Inbound>, ReadError> {
        loop {
            let (header, len) = match self.pending.take() {
                Some(p) => p,
                None => {
                    let mut cursor = Cursor::new(&self.buf[..]);
                    let parsed = FrameHeader::parse(&mut cursor)
                        .map_err(|e| ReadError::Protocol(e.to_string()))?;
                    let Some((header, len)) = parsed else {
                        return Ok(None);
                    };
                    let used = cursor.position() as usize;
                    self.check_header(&header, len)?;
                    self.buf.advance(used);
                    (header, len as usize)
                }
            };
            if self.buf.len() < len {
                self.pending = Some((header, len));
                return Ok(None);
            }
            let mut payload = self.buf.split_to(len);
            if let Some(mask) = header.mask {
                crate::transport::apply_mask(&mut payload, mask);
            }
            if let Some(event) = self.frame(header, payload)? {
                return Ok(Some(event));
            }
        }
    }

    fn check_header(&self, h: &FrameHeader, len: u64) -> Result<(), ReadError> {
        let protocol = |why: &str| Err(ReadError::Protocol(why.to_string()));
        if h.mask.is_some() != self.expect_masked {
            return protocol(if self.expect_masked {
                "a client frame was not masked"
            } else {
                "a server frame was masked"
            });
        }
        if h.rsv2 || h.rsv3 {
            return protocol("reserved bits set");
        }
        match h.opcode {
            OpCode::Data(Data::Reserved(_)) | OpCode::Control(Control::Reserved(_)) => {
                return protocol("reserved opcode")
            }
            OpCode::Control(_) => {
                if !h.is_final {
                    return protocol("fragmented control frame");
                }
                if len > MAX_CONTROL as u64 {
                    return protocol("control frame longer than 125 bytes");
                }
                if h.rsv1 {
                    return protocol("reserved bit set on a control frame");
                }
            }
            OpCode::Data(Data::Continue) => {
                if self.partial.is_none() {
                    return protocol("continuation frame without a message to continue");
                }
                if h.rsv1 {
                    return protocol("RSV1 set on a continuation frame");
                }
            }
            OpCode::Data(_) => {
                if self.partial.is_some() {
                    return protocol("new message before the previous one ended");
                }
                if h.rsv1 && self.inflater.is_none() {
                    return protocol("RSV1 set but no compression was agreed");
                }
            }
        }
        if len > self.limit as u64 {
            return Err(ReadError::TooBig {
                size: usize::try_from(len).unwrap_or(usize::MAX),
            });
        }
        Ok(())
    }

    fn frame(
        &mut self,
        header: FrameHeader,
        payload: BytesMut,
    ) -> Result<Option<Inbound>, ReadError> {
        match header.opcode {
            OpCode::Control(Control::Ping) => Ok(Some(Inbound::Ping(payload.freeze()))),
            OpCode::Control(Control::Pong) => Ok(Some(Inbound::Pong(payload.freeze()))),
            OpCode::Control(Control::Close) => match close::parse(&payload) {
                Ok(frame) => Ok(Some(Inbound::Close(frame))),
                Err(BadClose::Protocol(why)) => Err(ReadError::Protocol(why)),
                Err(BadClose::InvalidUtf8) => Err(ReadError::InvalidUtf8),
            },
            OpCode::Control(Control::Reserved(_)) | OpCode::Data(Data::Reserved(_)) => {
                Err(ReadError::Protocol("reserved opcode".into()))
            }
            OpCode::Data(kind) => {
                let text = kind == Data::Text;
                if kind != Data::Continue && header.is_final && !header.rsv1 {
                    // A whole message in one frame: no copy.
                    if text && std::str::from_utf8(&payload).is_err() {
                        return Err(ReadError::InvalidUtf8);
                    }
                    return Ok(Some(Inbound::Message {
                        data: payload.freeze(),
                        text,
                    }));
                }
                let mut partial = match self.partial.take() {
                    Some(p) => p,
                    None => Partial {
                        text,
                        compressed: header.rsv1,
                        data: Vec::new(),
                        checked: 0,
                    },
                };
                if partial.compressed {
                    let inflater = self
                        .inflater
                        .as_mut()
                        .ok_or_else(|| ReadError::Protocol("no compression agreed".into()))?;
                    inflater.inflate(&payload, &mut partial.data, self.limit)?;
                    if header.is_final {
                        inflater.finish_message(&mut partial.data, self.limit)?;
                    }
                } else {
                    if partial.data.len() + payload.len() > self.limit {
                        return Err(ReadError::TooBig {
                            size: partial.data.len() + payload.len(),
                        });
                    }
                    partial.data.extend_from_slice(&payload);
                }
                if partial.text {
                    check_utf8(&mut partial, header.is_final)?;
                }
                if header.is_final {
                    return Ok(Some(Inbound::Message {
                        data: Bytes::from(partial.data),
                        text: partial.text,
                    }));
                }
                self.partial = Some(partial);
                Ok(None)
            }
        }
    }
}

/// Checks the UTF-8 of a text message so far: invalid bytes fail at once,
/// an incomplete last character only when the message is over.
fn check_utf8(partial: &mut Partial, last: bool) -> Result<(), ReadError> {
    match std::str::from_utf8(&partial.data[partial.checked..]) {
        Ok(_) => partial.checked = partial.data.len(),
        Err(e) => {
            if e.error_len().is_some() || last {
                return Err(ReadError::InvalidUtf8);
            }
            partial.checked += e.valid_up_to();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A frame as a client sends it (masked with key 1, 2, 3, 4).
    fn masked(first: u8, payload: &[u8]) -> Vec<u8> {
        let key = [1u8, 2, 3, 4];
        let mut f = vec![first];
        match payload.len() {
            n if n < 126 => f.push(0x80 | n as u8),
            n if n < 65536 => {
                f.push(0x80 | 126);
                f.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                f.push(0x80 | 127);
                f.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        f.extend_from_slice(&key);
        f.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        f
    }

    /// Feeds `bytes` one read of `chunk` bytes at a time; collects events.
    fn read_all(bytes: &[u8], chunk: usize) -> (Vec<Inbound>, Option<ReadError>) {
        struct Chunks<'a>(&'a [u8], usize);
        impl ReadUninit for Chunks<'_> {
            fn read_uninit(&mut self, buf: &mut [std::mem::MaybeUninit<u8>]) -> io::Result<usize> {
                crate::transport::read_zeroed(self, buf)
            }
        }
        impl io::Read for Chunks<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                if self.0.is_empty() {
                    return Err(io::ErrorKind::WouldBlock.into());
                }
                let n = buf.len().min(self.1).min(self.0.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut src = Chunks(bytes, chunk);
        let mut reader = Reader::new(Vec::new(), true, 1000, 64);
        let mut events = Vec::new();
        loop {
            match reader.next(&mut src) {
                Ok(Some(e)) => events.push(e),
                Ok(None) => return (events, None),
                Err(e) => return (events, Some(e)),
            }
        }
    }

    /// A socket-like source: hands over everything it holds in one read,
    /// counts reads, and says whether a short read means it is empty.
    struct Socketish {
        held: Vec<u8>,
        reads: usize,
        drains: bool,
    }

    impl ReadUninit for Socketish {
        fn read_uninit(&mut self, buf: &mut [std::mem::MaybeUninit<u8>]) -> io::Result<usize> {
            self.reads += 1;
            if self.held.is_empty() {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            let n = buf.len().min(self.held.len());
            for (slot, b) in buf.iter_mut().zip(self.held.drain(..n)) {
                slot.write(b);
            }
            Ok(n)
        }

        fn short_read_drains(&self) -> bool {
            self.drains
        }
    }

    /// Reads until `Ok(None)`; the messages.
    fn read_round(reader: &mut Reader, src: &mut Socketish) -> Vec<Inbound> {
        reader.start_round();
        let mut events = Vec::new();
        while let Some(e) = reader.next(src).expect("valid frames") {
            events.push(e);
        }
        events
    }

    #[test]
    fn a_short_read_from_a_socket_ends_the_round_without_reading_again() {
        let mut bytes = masked(0x82, &[1, 2, 3]);
        bytes.extend(masked(0x81, b"hi"));
        let mut src = Socketish {
            held: bytes.clone(),
            reads: 0,
            drains: true,
        };
        let mut reader = Reader::new(Vec::new(), true, 1000, 64);
        let got = read_round(&mut reader, &mut src);
        assert_eq!(got, vec![message(&[1, 2, 3], false), message(b"hi", true)]);
        assert_eq!(
            src.reads, 1,
            "one read: it came back short, so the socket was empty"
        );
        // The next round reads again, and finds what arrived since.
        src.held = masked(0x82, &[9]);
        assert_eq!(
            read_round(&mut reader, &mut src),
            vec![message(&[9], false)]
        );
        assert_eq!(src.reads, 2);
        // A source where a short read proves nothing (TLS) is read until it
        // says it would block.
        let mut tls = Socketish {
            held: bytes,
            reads: 0,
            drains: false,
        };
        let mut reader = Reader::new(Vec::new(), true, 1000, 64);
        assert_eq!(read_round(&mut reader, &mut tls).len(), 2);
        assert_eq!(tls.reads, 2);
    }

    #[test]
    fn a_read_that_fills_the_buffer_is_followed_by_another() {
        // 64-byte reads; a 100-byte message needs two, and the first is full.
        let payload = vec![7u8; 100];
        let mut src = Socketish {
            held: masked(0x82, &payload),
            reads: 0,
            drains: true,
        };
        let mut reader = Reader::new(Vec::new(), true, 1000, 64);
        assert_eq!(
            read_round(&mut reader, &mut src),
            vec![message(&payload, false)]
        );
    }

    fn message(data: &[u8], text: bool) -> Inbound {
        Inbound::Message {
            data: Bytes::copy_from_slice(data),
            text,
        }
    }

    #[test]
    fn fragments_with_a_ping_between_in_any_read_size() {
        let mut bytes = masked(0x01, "héllo ".as_bytes());
        bytes.extend(masked(0x89, b"p"));
        bytes.extend(masked(0x80, "wörld".as_bytes()));
        bytes.extend(masked(0x82, &[1, 2, 3]));
        bytes.extend(masked(0x88, &[0x03, 0xe8, b'o', b'k']));
        for chunk in [1, 2, 3, 7, 100] {
            let (events, err) = read_all(&bytes, chunk);
            assert!(err.is_none(), "chunk {chunk}: {err:?}");
            assert_eq!(
                events,
                vec![
                    Inbound::Ping(Bytes::from_static(b"p")),
                    message("héllo wörld".as_bytes(), true),
                    message(&[1, 2, 3], false),
                    Inbound::Close(Some((1000, "ok".into()))),
                ],
                "chunk {chunk}"
            );
        }
    }

    #[test]
    fn broken_frames_are_refused_with_the_right_kind() {
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (vec![0x81, 0x01, b'a'], "protocol"),        // unmasked
            (masked(0x80, b"x"), "protocol"),            // continuation first
            (masked(0x09, b""), "protocol"),             // fragmented ping
            (masked(0x83, b""), "protocol"),             // reserved opcode
            (masked(0xc1, b"a"), "protocol"),            // RSV1, nothing agreed
            (masked(0x88, &[3]), "protocol"),            // 1-byte close
            (masked(0x88, &[0x03, 0xed]), "protocol"),   // close code 1005
            (masked(0x88, &[3, 0xe8, 0xff]), "utf8"),    // bad close reason
            (masked(0x81, &[0xce, 0xba, 0xff]), "utf8"), // bad text
            (masked(0x82, &[0; 1001]), "big"),           // over the limit
        ];
        for (bytes, want) in cases {
            let (_, err) = read_all(&bytes, 1000);
            let got = match err {
                Some(ReadError::Protocol(_)) => "protocol",
                Some(ReadError::InvalidUtf8) => "utf8",
                Some(ReadError::TooBig { .. }) => "big",
                other => panic!("{bytes:?}: {other:?}"),
            };
            assert_eq!(got, want, "{bytes:?}");
        }
        // Two fragments of 600 bytes: the message is over the limit.
        let mut bytes = masked(0x02, &[0; 600]);
        bytes.extend(masked(0x80, &[0; 600]));
        assert!(matches!(
            read_all(&bytes, 1000).1,
            Some(ReadError::TooBig { .. })
        ));
        // A new message while one is unfinished.
        let mut bytes = masked(0x01, b"a");
        bytes.extend(masked(0x81, b"b"));
        assert!(matches!(
            read_all(&bytes, 1000).1,
            Some(ReadError::Protocol(_))
        ));
    }

    #[test]
    fn invalid_utf8_fails_at_the_fragment_that_has_it() {
        // The first fragment ends inside a character (fine); the second has
        // a byte that can never be valid: refused before any final frame.
        let mut bytes = masked(0x01, &[b'a', 0xe2, 0x82]);
        assert!(read_all(&bytes, 1000).1.is_none());
        bytes.extend(masked(0x00, &[0x28]));
        assert!(matches!(
            read_all(&bytes, 1000).1,
            Some(ReadError::InvalidUtf8)
        ));
    }
}
