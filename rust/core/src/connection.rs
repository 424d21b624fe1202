//! An open WebSocket connection's two directions: messages in through the
//! [`Reader`], frames out through [`Io`] (data messages compressed with
//! permessage-deflate when agreed and large enough; control frames counted as
//! replies), and which close frames have passed. The peer state machine
//! (`peer`) decides what to do with what arrives.

use crate::deflate::Deflater;
use crate::extension::Agreed;
use crate::inbound::{Inbound, ReadError, Reader};
use crate::transport::Io;
use std::io;
use tungstenite::protocol::frame::coding::{Control, Data as OpData, OpCode};
use tungstenite::protocol::frame::FrameHeader;

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
    pub io: Io,
    reader: Reader,
    client: bool,
    deflater: Option<Deflater>,
    compress_from: usize,
    /// Compressed payloads are built here (kept between messages).
    scratch: Vec<u8>,
    pub close_sent: bool,
    pub close_received: bool,
}

impl Connection {
    /// Starts framing over `io`; `leftover` are bytes read past the upgrade.
    pub fn new(io: Io, leftover: Vec<u8>, setup: Setup) -> Connection {
        let mut reader = Reader::new(leftover, !setup.client, setup.limit, setup.chunk);
        let server = !setup.client;
        let deflater = setup.compression.and_then(|a| a.deflater(server));
        if let Some(agreed) = setup.compression {
            reader.set_inflater(agreed.inflater(server));
        }
        Connection {
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

    /// `true` when bytes already read may hold more frames.
    pub fn has_buffered_input(&self) -> bool {
        self.reader.has_buffered()
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
        let mut payload = Vec::new();
        if let Some((code, reason)) = frame {
            payload.extend_from_slice(&code.to_be_bytes());
            payload.extend_from_slice(reason.as_bytes());
        }
        self.control(Control::Close, &payload);
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
