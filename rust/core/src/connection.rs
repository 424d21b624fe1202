//! An open WebSocket connection's two directions: messages in through the
//! [`Reader`], frames out through [`Io`] (data messages compressed with
//! permessage-deflate when agreed and large enough; control frames counted as
//! replies), and which close frames have passed. The peer state machine
//! (`peer`) decides what to do with what arrives; it reaches the stream and
//! the outbound buffer only through the methods here.

use crate::close;
use crate::deflate::Deflater;
use crate::extension::Agreed;
use crate::inbound::{Inbound, ReadError, Reader};
use crate::transport::{Io, Stream};
use std::io;
use tungstenite::protocol::frame::coding::{Control, Data as OpData, OpCode};
use tungstenite::protocol::frame::FrameHeader;

/// One message framed once for many server-side links: server frames are
/// not masked, so the same bytes go into every link's outbound buffer. A
/// link that compresses this message (permessage-deflate agreed and the
/// message long enough) frames it itself instead: each link's compressor
/// keeps its own window unless context takeover is off on both sides, and
/// the links of one server may have agreed different windows.
#[derive(Debug, Clone)]
pub struct Prepared {
    frame: Vec<u8>,
    header_len: usize,
    text: bool,
}

impl Prepared {
    /// Frames `data` as one unmasked, final, uncompressed frame; `text`
    /// must be UTF-8.
    pub fn new(data: &[u8], text: bool) -> Result<Prepared, crate::error::WsError> {
        if text && std::str::from_utf8(data).is_err() {
            return Err(crate::error::WsError::InvalidUtf8Outbound);
        }
        let opcode = OpCode::Data(if text { OpData::Text } else { OpData::Binary });
        let header = FrameHeader {
            is_final: true,
            opcode,
            ..FrameHeader::default()
        };
        let mut frame = Vec::with_capacity(data.len() + 14);
        // Formatting into a Vec cannot fail.
        let _ = header.format(data.len() as u64, &mut frame);
        let header_len = frame.len();
        frame.extend_from_slice(data);
        Ok(Prepared {
            frame,
            header_len,
            text,
        })
    }

    /// The message itself.
    pub fn payload(&self) -> &[u8] {
        &self.frame[self.header_len..]
    }

    /// Whether it is a text message.
    pub fn is_text(&self) -> bool {
        self.text
    }

    /// The whole frame, as it goes on the wire.
    pub fn frame(&self) -> &[u8] {
        &self.frame
    }
}

/// How an open connection was set up.
pub struct Setup {
    /// Our side: a client masks what it sends and expects unmasked frames.
    pub client: bool,
    /// Largest message accepted (after inflating).
    pub limit: usize,
    /// Read size.
    pub chunk: usize,
    /// permessage-deflate, when agreed.
    pub compression: Option<Agreed>,
    /// Messages shorter than this go out uncompressed.
    pub compress_from: usize,
}

/// One open connection.
pub struct Connection {
    io: Io,
    reader: Reader,
    client: bool,
    deflater: Option<Deflater>,
    compress_from: usize,
    /// Compressed payloads are built here (kept between messages).
    scratch: Vec<u8>,
    close_sent: bool,
    close_received: bool,
    /// The transport's totals when the link opened, less the bytes that came
    /// with the upgrade (they are frames).
    wire_in_base: u64,
    wire_out_base: u64,
}

impl Connection {
    /// Starts framing over `io`; `leftover` are bytes read past the upgrade.
    pub fn new(io: Io, leftover: Vec<u8>, setup: Setup) -> Connection {
        let leftover_len = leftover.len() as u64;
        let mut reader = Reader::new(leftover, !setup.client, setup.limit, setup.chunk);
        let server = !setup.client;
        let deflater = setup.compression.and_then(|a| a.deflater(server));
        if let Some(agreed) = setup.compression {
            reader.set_inflater(agreed.inflater(server));
        }
        let wire_in_base = io.read_total().saturating_sub(leftover_len);
        let wire_out_base = io.appended();
        Connection {
            wire_in_base,
            wire_out_base,
            io,
            reader,
            client: setup.client,
            deflater,
            compress_from: setup.compress_from,
            scratch: Vec::new(),
            close_sent: false,
            close_received: false,
        }
    }

    /// `true` on the client side.
    pub fn is_client(&self) -> bool {
        self.client
    }

    /// The stream under the frames.
    pub fn stream(&self) -> &dyn Stream {
        self.io.stream()
    }

    /// The stream under the frames.
    pub fn stream_mut(&mut self) -> &mut dyn Stream {
        self.io.stream_mut()
    }

    /// Bytes read from the stream since the link opened (frames only).
    pub fn wire_in(&self) -> u64 {
        self.io.read_total().saturating_sub(self.wire_in_base)
    }

    /// Bytes of frames queued or written since the link opened.
    pub fn wire_out(&self) -> u64 {
        self.io.appended().saturating_sub(self.wire_out_base)
    }

    /// Outbound bytes not yet handed to the socket.
    pub fn buffered(&self) -> usize {
        self.io.buffered()
    }

    /// Data messages waiting in the outbound buffer.
    pub fn queued_messages(&self) -> usize {
        self.io.queued_messages()
    }

    /// Bytes of automatic replies (pongs, close) not yet written.
    pub fn replies_pending(&self) -> usize {
        self.io.replies_pending()
    }

    /// Writes what waits in the outbound buffer, as far as the socket takes it.
    pub fn flush(&mut self) -> io::Result<()> {
        self.io.flush_out()
    }

    /// `true` once our close frame is queued.
    pub fn close_sent(&self) -> bool {
        self.close_sent
    }

    /// `true` once the peer's close frame arrived.
    pub fn close_received(&self) -> bool {
        self.close_received
    }

    /// The peer's close frame arrived: answers it with the same code and
    /// reason (RFC 6455 section 5.5.1) unless ours went first. `false` when
    /// one had already come (this one is ignored).
    pub fn receive_close(&mut self, frame: &Option<(u16, String)>) -> bool {
        if self.close_received {
            return false;
        }
        self.close_received = true;
        self.close(
            frame
                .as_ref()
                .map(|(code, reason)| (*code, reason.as_str())),
        );
        true
    }

    /// Both close frames have passed and nothing waits to be written.
    pub fn closes_exchanged(&self) -> bool {
        self.close_sent && self.close_received && self.io.buffered() == 0
    }

    /// Starts this poll's reading, which may read `budget` bytes (see
    /// [`crate::inbound::Reader::start_round`]).
    pub fn start_reading(&mut self, budget: usize) {
        self.reader.start_round(budget);
    }

    /// This poll's reading stopped at its budget: input may be left.
    pub fn reading_paused(&self) -> bool {
        self.reader.paused()
    }

    /// Bytes of memory held for received data not yet whole (the read
    /// buffer, a frame or message being received).
    pub fn held_inbound(&self) -> usize {
        self.reader.held()
    }

    /// The next thing the peer sent, if any has arrived.
    pub fn read(&mut self) -> Result<Option<Inbound>, ReadError> {
        self.reader.next(&mut self.io)
    }

    fn header(&self, opcode: OpCode, rsv1: bool) -> FrameHeader {
        FrameHeader {
            is_final: true,
            rsv1,
            opcode,
            mask: self.client.then(rand::random::<[u8; 4]>),
            ..FrameHeader::default()
        }
    }

    /// Adds one data message; `now` writes it to the socket at once (then
    /// uncompressed payloads are not copied when nothing else waits).
    pub fn send(&mut self, data: &[u8], text: bool, now: bool) -> io::Result<()> {
        let opcode = OpCode::Data(if text { OpData::Text } else { OpData::Binary });
        let compress = data.len() >= self.compress_from && self.deflater.is_some();
        let result = if compress {
            let mut packed = std::mem::take(&mut self.scratch);
            packed.clear();
            let deflated = match self.deflater.as_mut() {
                Some(d) => d.compress(data, &mut packed).map_err(io::Error::other),
                None => Ok(()),
            };
            let header = self.header(opcode, true);
            let result = deflated.and_then(|()| self.put(&header, &packed, now));
            self.scratch = packed;
            result
        } else {
            let header = self.header(opcode, false);
            self.put(&header, data, now)
        };
        self.io.end_message();
        result
    }

    /// Adds one message framed beforehand: its bytes as they are on a
    /// server-side link that does not compress it, else framed here (see
    /// [`Prepared`]). The caller checks its limits before.
    pub fn send_prepared(&mut self, message: &Prepared, now: bool) -> io::Result<()> {
        let payload = message.payload();
        if self.client || (self.deflater.is_some() && payload.len() >= self.compress_from) {
            return self.send(payload, message.text, now);
        }
        self.io.queue_bytes(&message.frame);
        self.io.end_message();
        if now {
            self.io.flush_out()
        } else {
            Ok(())
        }
    }

    fn put(&mut self, header: &FrameHeader, payload: &[u8], now: bool) -> io::Result<()> {
        if now {
            self.io.write_frame(header, payload)
        } else {
            self.io.queue_frame(header, payload);
            Ok(())
        }
    }

    /// Queues a control frame (counted as a reply until written).
    fn control(&mut self, kind: Control, payload: &[u8]) {
        let header = self.header(OpCode::Control(kind), false);
        self.io.queue_reply(&header, payload);
    }

    pub fn ping(&mut self, payload: &[u8]) {
        self.control(Control::Ping, payload);
    }

    pub fn pong(&mut self, payload: &[u8]) {
        self.control(Control::Pong, payload);
    }

    /// Queues our close frame: `code` and `reason`, or an empty one.
    pub fn close(&mut self, frame: Option<(u16, &str)>) {
        if self.close_sent {
            return;
        }
        self.control(Control::Close, &close::payload(frame));
        self.close_sent = true;
    }

    /// Gives back memory an idle link does not need.
    pub fn trim(&mut self) {
        self.io.trim();
        self.reader.trim();
        if self.scratch.capacity() > 0 {
            self.scratch = Vec::new();
        }
    }
}
