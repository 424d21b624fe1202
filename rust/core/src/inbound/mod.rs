//! Messages out of the bytes a peer sends (RFC 6455 section 5): frames are
//! parsed with tungstenite's [`FrameHeader`], unmasked, checked (masking by
//! role, reserved bits and opcodes, control frame rules, fragment order),
//! and reassembled; text is checked as UTF-8 as it arrives, so a bad
//! sequence fails at once rather than at the end of a long message; control
//! frames come out as soon as they arrive, also between fragments; messages
//! compressed with permessage-deflate (RSV1) are inflated as their frames
//! arrive, and the size limit applies to the inflated bytes.
//!
//! What a link holds for received data is bounded by what arrived, never by
//! what a header declares: the read buffer keeps `chunk` bytes of room
//! (plus a header); a frame larger than that is read straight into an
//! allocation of its own, grown as its bytes arrive. Every message handed
//! out is an allocation of exactly its length (a small one is copied out of
//! the read buffer, which it would otherwise keep alive), so a queue of
//! them holds what it counts ([`Reader::held`] for the reader's own part).
//!
//! One round of reading (one poll) parses at most [`MAX_FRAMES_PER_ROUND`]
//! frames and reads at most its byte budget, whatever the frames are (empty
//! continuation frames included): see [`Reader::start_round`].

use crate::close::{self, BadClose};
use crate::deflate::{InflateError, Inflater};
use crate::transport::{apply_mask, extend_masked, ReadUninit};
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
    /// Bytes read and not used yet are `buf[start..]`: frame headers and
    /// frames of up to `chunk` bytes. Its capacity is `chunk` plus a header.
    buf: Vec<u8>,
    start: usize,
    /// Read size, and the largest frame read through `buf`.
    chunk: usize,
    /// `true` on the server side: frames must be masked.
    expect_masked: bool,
    /// Largest message (and frame) accepted.
    limit: usize,
    partial: Option<Partial>,
    /// The header of a frame whose payload has not fully arrived.
    pending: Option<(FrameHeader, usize)>,
    /// The payload so far of a pending frame larger than `chunk`.
    big: Vec<u8>,
    /// Of a pending text frame's payload: the bytes unmasked in place so
    /// far, and those known to be valid UTF-8 up to a character's end (so
    /// invalid text fails at the bad byte, not when its frame is whole).
    unmasked: usize,
    valid: usize,
    inflater: Option<Inflater>,
    /// The last read came back short from a source where that means it was
    /// empty (a plain socket): reading again now would only find nothing, so
    /// this round of reading ends once the buffer is used up.
    drained: bool,
    /// This round's use: frames parsed, bytes read, and the bytes it may read.
    round_frames: usize,
    round_bytes: usize,
    round_budget: usize,
    /// This round stopped at its budget; input may be left.
    paused: bool,
}

/// Most bytes one read asks for while a large frame arrives.
const MAX_READ: usize = 256 * 1024;

/// Largest control frame payload.
const MAX_CONTROL: usize = 125;

/// Longest frame header (RFC 6455 section 5.2).
const MAX_HEADER: usize = 14;

/// Most frames one round of reading parses, whatever they carry.
pub const MAX_FRAMES_PER_ROUND: usize = 4096;

impl Reader {
    /// A reader for the server side (`expect_masked`) or the client side,
    /// starting with bytes already read past the HTTP upgrade.
    pub fn new(leftover: Vec<u8>, expect_masked: bool, limit: usize, chunk: usize) -> Reader {
        let chunk = chunk.max(1);
        Reader {
            buf: leftover,
            start: 0,
            chunk,
            expect_masked,
            limit,
            partial: None,
            pending: None,
            big: Vec::new(),
            unmasked: 0,
            valid: 0,
            drained: false,
            inflater: None,
            round_frames: 0,
            round_bytes: 0,
            round_budget: usize::MAX,
            paused: false,
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
        if self.start == self.buf.len() && self.pending.is_none() && self.partial.is_none() {
            self.buf = Vec::new();
            self.start = 0;
        }
    }

    /// Bytes of memory the reader holds for what it received: the read
    /// buffer, a large frame's payload so far, and a message being
    /// reassembled (capacities, not contents).
    pub fn held(&self) -> usize {
        self.buf.capacity()
            + self.big.capacity()
            + self.partial.as_ref().map_or(0, |p| p.data.capacity())
    }

    /// Starts a round of reading (one poll) that may read `budget` bytes
    /// from the source and parse [`MAX_FRAMES_PER_ROUND`] frames: the source
    /// is read again even if the last read found it drained.
    pub fn start_round(&mut self, budget: usize) {
        self.drained = false;
        self.paused = false;
        self.round_frames = 0;
        self.round_bytes = 0;
        self.round_budget = budget;
    }

    /// The last round stopped at its budget (frames or bytes), so input may
    /// wait in the buffer or the source.
    pub fn paused(&self) -> bool {
        self.paused
    }

    /// The next thing the peer sent, reading from `src` as needed;
    /// `Ok(None)` when `src` has nothing more for now (it said so, or a
    /// short read showed it empty: see [`ReadUninit::short_read_drains`]).
    pub fn next(&mut self, src: &mut impl ReadUninit) -> Result<Option<Inbound>, ReadError> {
        loop {
            if let Some(event) = self.next_buffered()? {
                return Ok(Some(event));
            }
            if self.paused || std::mem::take(&mut self.drained) {
                return Ok(None);
            }
            if self.round_bytes >= self.round_budget {
                self.paused = true;
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

    /// One read from `src`, straight into spare room (sockets need no
    /// zeroing first): into the large pending frame's own allocation, grown
    /// as its bytes arrive (doubling, at most to the frame's length), else
    /// into the read buffer. Each read takes at most [`MAX_READ`].
    fn read_in(&mut self, src: &mut impl ReadUninit) -> io::Result<usize> {
        let big = self
            .pending
            .as_ref()
            .map(|(_, len)| *len)
            .filter(|len| *len > self.chunk);
        let into = match big {
            Some(len) => {
                let missing = len.saturating_sub(self.big.len());
                if self.big.len() == self.big.capacity() {
                    self.big
                        .reserve_exact(missing.min(self.big.len().max(self.chunk)));
                }
                &mut self.big
            }
            None => {
                if self.start > 0 {
                    self.buf.copy_within(self.start.., 0);
                    self.buf.truncate(self.buf.len() - self.start);
                    self.start = 0;
                }
                let room = self.chunk.saturating_add(MAX_HEADER);
                if self.buf.capacity() < room || self.buf.len() == self.buf.capacity() {
                    self.buf
                        .reserve_exact(room.saturating_sub(self.buf.len()).max(MAX_HEADER));
                }
                &mut self.buf
            }
        };
        let limit = big.map_or(usize::MAX, |len| len.saturating_sub(into.len()));
        let spare = into.spare_capacity_mut();
        let step = spare.len().min(limit).min(MAX_READ);
        let window = &mut spare[..step];
        let start = window.as_ptr();
        let filled = src.read_uninit(window)?;
        let n = crate::transport::filled_len(start, step, filled)?;
        // SAFETY: `filled`, a `&mut [u8]`, covered exactly the first `n`
        // bytes of the spare room (checked by `filled_len`), so they are
        // initialized.
        unsafe { into.set_len(into.len() + n) };
        self.drained = n > 0 && n < step && src.short_read_drains();
        self.round_bytes = self.round_bytes.saturating_add(n);
        Ok(n)
    }

    /// Handles the frames already in the buffer until one yields an event.
    fn next_buffered(&mut self) -> Result<Option<Inbound>, ReadError> {
        loop {
            let (header, len) = match self.pending.take() {
                Some(p) => p,
                None => {
                    if self.round_frames >= MAX_FRAMES_PER_ROUND {
                        self.paused = true;
                        return Ok(None);
                    }
                    let mut cursor = Cursor::new(&self.buf[self.start..]);
                    let parsed = FrameHeader::parse(&mut cursor)
                        .map_err(|e| ReadError::Protocol(e.to_string()))?;
                    let Some((header, len)) = parsed else {
                        return Ok(None);
                    };
                    let used = cursor.position() as usize;
                    self.check_header(&header, len)?;
                    self.start += used;
                    self.round_frames += 1;
                    (self.unmasked, self.valid) = (0, 0);
                    // Checked against the limit, which is a usize.
                    let len = usize::try_from(len).unwrap_or(usize::MAX);
                    if len > self.chunk {
                        // Its own allocation, with what already arrived.
                        let have = (self.buf.len() - self.start).min(len);
                        self.big = Vec::with_capacity(have.max(self.chunk));
                        self.big
                            .extend_from_slice(&self.buf[self.start..self.start + have]);
                        self.start += have;
                    }
                    (header, len)
                }
            };
            let arrived = if len > self.chunk {
                self.big.len()
            } else {
                self.buf.len() - self.start
            };
            if arrived < len {
                self.check_text_so_far(&header, len)?;
                self.pending = Some((header, len));
                return Ok(None);
            }
            let mask = header.mask.map(|m| mask_from(m, self.unmasked));
            let payload = if len > self.chunk {
                let mut payload = std::mem::take(&mut self.big);
                if let Some(mask) = mask {
                    apply_mask(&mut payload[self.unmasked..], mask);
                }
                payload
            } else {
                // Copied out: a small message must not keep the buffer alive.
                let bytes = &self.buf[self.start..self.start + len];
                let mut payload = Vec::with_capacity(len);
                payload.extend_from_slice(&bytes[..self.unmasked]);
                match mask {
                    Some(mask) => extend_masked(&mut payload, &bytes[self.unmasked..], mask),
                    None => payload.extend_from_slice(&bytes[self.unmasked..]),
                }
                self.start += len;
                payload
            };
            if self.start == self.buf.len() {
                self.buf.clear();
                self.start = 0;
            }
            if let Some(event) = self.frame(header, payload)? {
                return Ok(Some(event));
            }
        }
    }

    /// The part of a pending text frame that has arrived is unmasked in
    /// place and checked as UTF-8 (a frame that continues a text message
    /// too, when no character of it is left unfinished before the frame):
    /// an invalid byte fails now, as it would at a frame's end.
    fn check_text_so_far(&mut self, header: &FrameHeader, len: usize) -> Result<(), ReadError> {
        let text = match header.opcode {
            OpCode::Data(Data::Text) => !header.rsv1,
            OpCode::Data(Data::Continue) => self
                .partial
                .as_ref()
                .is_some_and(|p| p.text && !p.compressed && p.checked == p.data.len()),
            _ => false,
        };
        if !text {
            return Ok(());
        }
        let arrived = if len > self.chunk {
            &mut self.big[..]
        } else {
            let end = self.buf.len().min(self.start + len);
            &mut self.buf[self.start..end]
        };
        if let Some(mask) = header.mask {
            apply_mask(
                &mut arrived[self.unmasked..],
                mask_from(mask, self.unmasked),
            );
        }
        self.unmasked = arrived.len();
        match std::str::from_utf8(&arrived[self.valid..]) {
            Ok(_) => self.valid = arrived.len(),
            Err(e) if e.error_len().is_some() => return Err(ReadError::InvalidUtf8),
            Err(e) => self.valid += e.valid_up_to(),
        }
        Ok(())
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
        payload: Vec<u8>,
    ) -> Result<Option<Inbound>, ReadError> {
        match header.opcode {
            OpCode::Control(Control::Ping) => Ok(Some(Inbound::Ping(Bytes::from(payload)))),
            OpCode::Control(Control::Pong) => Ok(Some(Inbound::Pong(Bytes::from(payload)))),
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
                    // A whole message in one frame: no further copy.
                    if text && std::str::from_utf8(&payload).is_err() {
                        return Err(ReadError::InvalidUtf8);
                    }
                    return Ok(Some(Inbound::Message {
                        data: exact(payload),
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
                    let size = partial.data.len().saturating_add(payload.len());
                    if size > self.limit {
                        return Err(ReadError::TooBig { size });
                    }
                    if size > partial.data.capacity() {
                        // Doubling, but never past the limit.
                        let cap = size.max(partial.data.capacity().saturating_mul(2));
                        partial
                            .data
                            .reserve_exact(cap.min(self.limit) - partial.data.len());
                    }
                    partial.data.extend_from_slice(&payload);
                }
                if partial.text {
                    check_utf8(&mut partial, header.is_final)?;
                }
                if header.is_final {
                    return Ok(Some(Inbound::Message {
                        data: exact(partial.data),
                        text: partial.text,
                    }));
                }
                self.partial = Some(partial);
                Ok(None)
            }
        }
    }
}

/// The mask key as it applies from byte `offset` of a payload on.
fn mask_from(mask: [u8; 4], offset: usize) -> [u8; 4] {
    let o = offset % 4;
    [
        mask[o],
        mask[(o + 1) % 4],
        mask[(o + 2) % 4],
        mask[(o + 3) % 4],
    ]
}

/// A message as an allocation of exactly its length (shrunk if larger).
fn exact(data: Vec<u8>) -> Bytes {
    Bytes::from(data.into_boxed_slice())
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
mod tests;
