//! Bytes in and out: the [`Stream`] a peer talks over (plain TCP, TLS, or a
//! stream the host engine hands us) and [`Io`], which owns
//! the outbound buffer that tungstenite's frames are written into and that is
//! flushed to the socket without ever blocking.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::mem::MaybeUninit;
use std::net::{SocketAddr, TcpStream};
use std::time::Instant;
use tungstenite::protocol::frame::FrameHeader;

/// A non-blocking byte stream: reads and writes return `WouldBlock` instead of
/// waiting.
pub trait Stream: Read + Write + Send {
    /// The remote address, when known.
    fn peer_addr(&self) -> Option<SocketAddr> {
        None
    }

    /// The client a load balancer named in a PROXY protocol header read
    /// before this stream's data, when there was one.
    fn proxied_source(&self) -> Option<SocketAddr> {
        None
    }

    /// The stream was refused before its first byte of data (a PROXY
    /// protocol header required and missing or invalid): the connection
    /// ends quietly, as a port scan's would.
    fn refused_quietly(&self) -> bool {
        false
    }

    /// Turns Nagle's algorithm off (`true`) or on.
    fn set_nodelay(&mut self, _enabled: bool) {}

    /// `false` only when a read would certainly find nothing new (no data, no
    /// end of stream, no error); `true` when unsure. Lets an idle peer skip
    /// the framing machinery. `now` is the caller's clock reading.
    fn may_have_input(&self, _now: Instant) -> bool {
        true
    }

    /// The TLS version in use ("TLSv1.3"...), `None` for plain streams.
    fn tls_version(&self) -> Option<String> {
        None
    }

    /// Reads into memory that need not be initialized first (sockets fill
    /// it directly) and returns the part of `buf` it filled, from its start;
    /// by default `buf` is zeroed and handed to `read`. The caller counts
    /// as read only a returned slice that is the start of `buf` (a `&mut
    /// [u8]` proves its bytes initialized), so no implementation, safe or
    /// not, can make it take uninitialized memory for data.
    fn read_uninit<'a>(&mut self, buf: &'a mut [MaybeUninit<u8>]) -> io::Result<&'a mut [u8]> {
        read_zeroed(self, buf)
    }

    /// `true` when a read that returns fewer bytes than asked has emptied
    /// the stream (a plain socket: the kernel hands over all it holds), so
    /// the reader need not read again to hear `WouldBlock`. `false` (the
    /// default) where bytes may wait behind a short read (TLS records).
    fn short_read_drains(&self) -> bool {
        false
    }
}

/// Something frames are read from without zeroing the buffer first.
pub trait ReadUninit {
    /// See [`Stream::read_uninit`].
    fn read_uninit<'a>(&mut self, buf: &'a mut [MaybeUninit<u8>]) -> io::Result<&'a mut [u8]>;

    /// See [`Stream::short_read_drains`].
    fn short_read_drains(&self) -> bool {
        false
    }
}

/// `read` into `buf` after zeroing it (for readers that need initialized
/// memory): the part it filled.
pub fn read_zeroed<'a, R: Read + ?Sized>(
    r: &mut R,
    buf: &'a mut [MaybeUninit<u8>],
) -> io::Result<&'a mut [u8]> {
    for slot in buf.iter_mut() {
        slot.write(0);
    }
    // SAFETY: every byte was initialized just above.
    let init = unsafe { &mut *(buf as *mut [MaybeUninit<u8>] as *mut [u8]) };
    let n = r.read(init)?.min(init.len());
    Ok(&mut init[..n])
}

/// How many bytes `filled`, returned by a `read_uninit` given `window`,
/// initialized at the start of `window`: its length when it is exactly
/// that place, else an error (an implementation that handed back other
/// memory).
pub fn filled_len(
    window: *const MaybeUninit<u8>,
    window_len: usize,
    filled: &[u8],
) -> io::Result<usize> {
    if filled.is_empty() {
        return Ok(0);
    }
    if filled.as_ptr() != window.cast::<u8>() || filled.len() > window_len {
        return Err(io::Error::other(
            "a stream returned bytes outside the buffer it was given",
        ));
    }
    Ok(filled.len())
}

impl Stream for TcpStream {
    fn peer_addr(&self) -> Option<SocketAddr> {
        TcpStream::peer_addr(self).ok()
    }

    fn may_have_input(&self, _now: Instant) -> bool {
        let mut probe = [0u8; 1];
        !matches!(self.peek(&mut probe), Err(e) if e.kind() == io::ErrorKind::WouldBlock)
    }

    fn set_nodelay(&mut self, enabled: bool) {
        let _ = TcpStream::set_nodelay(self, enabled);
    }

    fn short_read_drains(&self) -> bool {
        true
    }
}

/// XORs `buf` with the 4-byte `mask` (RFC 6455 section 5.3), eight bytes at
/// a time.
pub fn apply_mask(buf: &mut [u8], mask: [u8; 4]) {
    let wide = u64::from_ne_bytes([
        mask[0], mask[1], mask[2], mask[3], mask[0], mask[1], mask[2], mask[3],
    ]);
    let mut chunks = buf.chunks_exact_mut(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        chunk.copy_from_slice(&(u64::from_ne_bytes(word) ^ wide).to_ne_bytes());
    }
    for (i, b) in chunks.into_remainder().iter_mut().enumerate() {
        *b ^= mask[i % 4];
    }
}

/// Appends `payload` XORed with `mask` to `out`: one pass over the bytes,
/// eight at a time, written straight into the vector's spare capacity.
pub fn extend_masked(out: &mut Vec<u8>, payload: &[u8], mask: [u8; 4]) {
    let wide = u64::from_ne_bytes([
        mask[0], mask[1], mask[2], mask[3], mask[0], mask[1], mask[2], mask[3],
    ]);
    let start = out.len();
    out.reserve(payload.len());
    let spare = &mut out.spare_capacity_mut()[..payload.len()];
    let mut dst = spare.chunks_exact_mut(8);
    let mut src = payload.chunks_exact(8);
    for (d, s) in (&mut dst).zip(&mut src) {
        let mut word = [0u8; 8];
        word.copy_from_slice(s);
        for (slot, byte) in d
            .iter_mut()
            .zip((u64::from_ne_bytes(word) ^ wide).to_ne_bytes())
        {
            slot.write(byte);
        }
    }
    for (i, (slot, byte)) in dst
        .into_remainder()
        .iter_mut()
        .zip(src.remainder())
        .enumerate()
    {
        slot.write(byte ^ mask[i % 4]);
    }
    // SAFETY: every byte of the `payload.len()` spare bytes was written above.
    unsafe { out.set_len(start + payload.len()) };
}

/// Kinds of I/O error that mean the peer went away.
pub fn is_disconnect(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::UnexpectedEof
            | io::ErrorKind::NotConnected
    )
}

/// The stream plus its outbound buffer.
///
/// Whole frames are appended to the buffer (one `Vec`, so many small messages
/// leave in one write) and [`Io::flush_out`] moves as much as the socket
/// takes. Message boundaries are kept so the number of messages still waiting
/// can be told, as the engine's `max_queued_packets` needs. Control frames
/// (pongs, close replies, heartbeat pings) are counted apart, so a peer that
/// floods pings and never reads can be stopped ([`Io::replies_pending`]).
pub struct Io {
    stream: Box<dyn Stream>,
    out: Vec<u8>,
    out_pos: usize,
    /// Total bytes ever appended / flushed, and where each queued message ends.
    appended: u64,
    flushed: u64,
    ends: VecDeque<u64>,
    /// Where each control frame ends, and its length.
    reply_ends: VecDeque<(u64, usize)>,
    replies_pending: usize,
    /// Total bytes ever read from the stream.
    read_total: u64,
}

/// Written bytes at the front of the outbound buffer are dropped (what
/// waits moves to the front) once there are this many, and at least as many
/// as wait.
const COMPACT_AT: usize = 256 * 1024;

/// A drained outbound buffer keeps at most this much capacity when
/// [`Io::trim`] is called (an idle link).
const IDLE_OUT_CAPACITY: usize = 4 * 1024;

impl Io {
    /// Wraps a stream.
    pub fn new(stream: Box<dyn Stream>) -> Io {
        Io {
            stream,
            out: Vec::new(),
            out_pos: 0,
            appended: 0,
            flushed: 0,
            ends: VecDeque::new(),
            reply_ends: VecDeque::new(),
            replies_pending: 0,
            read_total: 0,
        }
    }

    /// The stream itself.
    pub fn stream_mut(&mut self) -> &mut dyn Stream {
        self.stream.as_mut()
    }

    /// The stream itself.
    pub fn stream(&self) -> &dyn Stream {
        self.stream.as_ref()
    }

    /// Total bytes ever appended to the outbound buffer (or written past it).
    pub fn appended(&self) -> u64 {
        self.appended
    }

    /// Total bytes ever read from the stream.
    pub fn read_total(&self) -> u64 {
        self.read_total
    }

    /// Appends raw bytes (an HTTP head) to the outbound buffer.
    pub fn queue_bytes(&mut self, bytes: &[u8]) {
        self.out.extend_from_slice(bytes);
        self.appended += bytes.len() as u64;
    }

    /// Appends one whole frame: `header`, then `payload`, masked in place
    /// when the header carries a mask. One copy of the payload, no
    /// allocation once the buffer has grown.
    pub fn queue_frame(&mut self, header: &FrameHeader, payload: &[u8]) {
        let before = self.out.len();
        // Formatting into a Vec cannot fail.
        let _ = header.format(payload.len() as u64, &mut self.out);
        match header.mask {
            Some(mask) => extend_masked(&mut self.out, payload, mask),
            None => self.out.extend_from_slice(payload),
        }
        self.appended += (self.out.len() - before) as u64;
    }

    /// Appends one control frame we answer or start (pong, close, ping); it
    /// counts in [`Io::replies_pending`] until written.
    pub fn queue_reply(&mut self, header: &FrameHeader, payload: &[u8]) {
        let before = self.appended;
        self.queue_frame(header, payload);
        let len = (self.appended - before) as usize;
        self.reply_ends.push_back((self.appended, len));
        self.replies_pending += len;
    }

    /// Writes one unmasked frame straight to the socket when nothing else is
    /// waiting, so the payload is not copied; what the socket does not take
    /// now is appended to the buffer. Otherwise the same as
    /// [`Io::queue_frame`].
    pub fn write_frame(&mut self, header: &FrameHeader, payload: &[u8]) -> io::Result<()> {
        if self.buffered() > 0 || header.mask.is_some() {
            self.queue_frame(header, payload);
            return self.flush_out();
        }
        self.out.clear();
        self.out_pos = 0;
        let mut head = Vec::with_capacity(14);
        // Formatting into a Vec cannot fail.
        let _ = header.format(payload.len() as u64, &mut head);
        let total = head.len() + payload.len();
        let mut done = 0;
        while done < total {
            let result = if done < head.len() {
                self.stream
                    .write_vectored(&[io::IoSlice::new(&head[done..]), io::IoSlice::new(payload)])
            } else {
                self.stream.write(&payload[done - head.len()..])
            };
            match result {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => done += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if done < head.len() {
            self.out.extend_from_slice(&head[done..]);
        }
        self.out
            .extend_from_slice(&payload[done.saturating_sub(head.len())..]);
        self.appended += total as u64;
        self.flushed += done as u64;
        Ok(())
    }

    /// Marks everything appended so far as the end of one message.
    pub fn end_message(&mut self) {
        self.ends.push_back(self.appended);
        self.forget_written();
    }

    /// Bytes waiting to be written to the socket.
    pub fn buffered(&self) -> usize {
        self.out.len() - self.out_pos
    }

    /// Messages not yet fully written to the socket.
    pub fn queued_messages(&self) -> usize {
        self.ends.len()
    }

    /// Bytes of control frames (pongs, close replies) not yet fully written
    /// to the socket.
    pub fn replies_pending(&self) -> usize {
        self.replies_pending
    }

    /// Gives back the capacity of a drained outbound buffer beyond a few KiB;
    /// called for links that sent nothing since their last poll, so busy
    /// links keep their buffer and idle ones hold little memory.
    pub fn trim(&mut self) {
        if self.buffered() == 0 && self.out.capacity() > IDLE_OUT_CAPACITY {
            self.out = Vec::new();
            self.out_pos = 0;
        }
    }

    /// Drops the bookkeeping of bytes already written.
    fn forget_written(&mut self) {
        while self.ends.front().is_some_and(|end| *end <= self.flushed) {
            self.ends.pop_front();
        }
        while let Some(&(end, len)) = self.reply_ends.front() {
            if end > self.flushed {
                break;
            }
            self.reply_ends.pop_front();
            self.replies_pending -= len;
        }
    }

    /// Writes as much of the outbound buffer as the socket takes now.
    pub fn flush_out(&mut self) -> io::Result<()> {
        while self.out_pos < self.out.len() {
            match self.stream.write(&self.out[self.out_pos..]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    self.out_pos += n;
                    self.flushed += n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.forget_written();
        if self.out_pos == self.out.len() {
            self.out.clear();
            self.out_pos = 0;
        } else if self.out_pos >= COMPACT_AT && self.out_pos * 2 >= self.out.len() {
            // A sender that never lets the buffer drain (deep queues) would
            // otherwise grow it without end: move what waits to the front.
            self.out.drain(..self.out_pos);
            self.out_pos = 0;
        }
        match self.stream.flush() {
            Err(e) if e.kind() != io::ErrorKind::WouldBlock => Err(e),
            _ => Ok(()),
        }
    }
}

impl Read for Io {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.stream.read(buf)?;
        self.read_total += n as u64;
        Ok(n)
    }
}

impl ReadUninit for Io {
    fn read_uninit<'a>(&mut self, buf: &'a mut [MaybeUninit<u8>]) -> io::Result<&'a mut [u8]> {
        let read = self.stream.read_uninit(buf)?;
        self.read_total += read.len() as u64;
        Ok(read)
    }

    fn short_read_drains(&self) -> bool {
        self.stream.short_read_drains()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `read_uninit` that hands back memory other than the start of the
    /// buffer it was given (allowed by its safe signature) is refused, never
    /// counted as read.
    #[test]
    fn bytes_outside_the_buffer_are_refused() {
        let mut window = [MaybeUninit::<u8>::uninit(); 8];
        let elsewhere = [1u8, 2, 3];
        let start = window.as_ptr();
        assert!(filled_len(start, window.len(), &elsewhere).is_err());
        assert_eq!(filled_len(start, window.len(), &[]).unwrap(), 0);
        let mut source: &[u8] = b"abc";
        let filled = read_zeroed(&mut source, &mut window).unwrap();
        assert_eq!(filled, b"abc");
        assert_eq!(filled_len(start, 8, filled).unwrap(), 3);
    }
    use crate::fuzz_support::{lock, Shared};

    /// A stream that accepts at most `budget` bytes, then blocks.
    struct Throttled {
        sink: Shared<Vec<u8>>,
        budget: Shared<usize>,
    }

    impl Read for Throttled {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            Err(io::ErrorKind::WouldBlock.into())
        }
    }

    impl Write for Throttled {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let mut budget = lock(&self.budget);
            if *budget == 0 {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            let n = buf.len().min(*budget);
            *budget -= n;
            lock(&self.sink).extend_from_slice(&buf[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Stream for Throttled {}

    #[test]
    fn partial_writes_keep_order_and_count_messages() {
        let sink = Shared::default();
        let budget: Shared<usize> = Shared::new(3.into());
        let mut io = Io::new(Box::new(Throttled {
            sink: sink.clone(),
            budget: budget.clone(),
        }));
        io.queue_bytes(b"hello");
        io.end_message();
        io.queue_bytes(b"world");
        io.end_message();
        assert_eq!((io.buffered(), io.queued_messages()), (10, 2));
        io.flush_out().unwrap();
        assert_eq!((io.buffered(), io.queued_messages()), (7, 2));
        *lock(&budget) = 4;
        io.flush_out().unwrap();
        assert_eq!((io.buffered(), io.queued_messages()), (3, 1));
        *lock(&budget) = 100;
        io.flush_out().unwrap();
        assert_eq!((io.buffered(), io.queued_messages()), (0, 0));
        assert_eq!(lock(&sink).as_slice(), b"helloworld");
    }

    #[test]
    fn a_queue_that_never_drains_stays_bounded() {
        // The socket takes 100 KiB per flush; 150 KiB are queued each time:
        // what waits grows, but the written front is dropped as it goes.
        let sink = Shared::default();
        let budget: Shared<usize> = Shared::new(0.into());
        let mut io = Io::new(Box::new(Throttled {
            sink: sink.clone(),
            budget: budget.clone(),
        }));
        let frame = vec![0u8; 150 * 1024];
        for _ in 0..40 {
            io.queue_bytes(&frame);
            io.end_message();
            *lock(&budget) = 100 * 1024;
            io.flush_out().unwrap();
            assert!(io.out.len() <= 2 * io.buffered() + COMPACT_AT + frame.len());
        }
        assert_eq!(lock(&sink).len(), 40 * 100 * 1024);
    }

    #[test]
    fn masked_copy_matches_masking_in_place() {
        let mask = [0x12, 0x34, 0x56, 0x78];
        for len in [0, 1, 7, 8, 9, 31, 1000] {
            let data: Vec<u8> = (0..len).map(|i| (i * 7 % 256) as u8).collect();
            let mut want = data.clone();
            apply_mask(&mut want, mask);
            let mut got = vec![9u8];
            extend_masked(&mut got, &data, mask);
            assert_eq!(&got[1..], &want[..], "len {len}");
        }
    }

    #[test]
    fn mask_matches_the_bytewise_definition() {
        let mask = [0x12, 0x34, 0x56, 0x78];
        for len in [0, 1, 7, 8, 9, 31, 1000] {
            let data: Vec<u8> = (0..len).map(|i| (i * 31 % 256) as u8).collect();
            let mut fast = data.clone();
            apply_mask(&mut fast, mask);
            let slow: Vec<u8> = data
                .iter()
                .enumerate()
                .map(|(i, b)| b ^ mask[i % 4])
                .collect();
            assert_eq!(fast, slow, "len {len}");
        }
    }
}
