//! The WebSocket peer state machine: connecting (client or server side),
//! open, closing and closed, with the engine's rules for when state changes
//! and packets become visible (only in [`Peer::poll`]), its limits, and its
//! close codes.
//!
//! Framing is tungstenite's [`WebSocketContext`]; bytes go through
//! [`Io`](crate::transport::Io); the peer never blocks.

use crate::dial::Connector;
use crate::error::WsError;
use crate::handshake::{self, MAX_HEAD_SIZE};
pub use crate::queue::Packet;
use crate::queue::PacketQueue;
use crate::readiness::Socket;
use crate::tls::{TlsClientOptions, TlsFailure, TlsStream};
use crate::transport::{is_disconnect, Io, Stream};
use crate::url::WsUrl;
use std::io::{self, Read};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tungstenite::error::{CapacityError, Error as TError};
use tungstenite::protocol::frame::coding::{CloseCode, Data as OpData, OpCode};
use tungstenite::protocol::frame::{CloseFrame, FrameHeader, Utf8Bytes};
use tungstenite::protocol::{Role, WebSocketConfig, WebSocketContext};
use tungstenite::{Bytes, Message};

/// The engine's `WebSocketPeer.State`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i32)]
pub enum ReadyState {
    /// Created or connecting; not open yet.
    Connecting = 0,
    /// Open: packets flow.
    Open = 1,
    /// A close frame was sent or received; waiting for the other side.
    Closing = 2,
    /// Closed, or could not be opened.
    Closed = 3,
}

/// The settings the engine exposes as properties; read when a connection
/// starts (`connect_to_url`/`accept_stream`), like the engine does.
#[derive(Debug, Clone, PartialEq)]
pub struct PeerConfig {
    /// Extra `Name: value` lines for the upgrade request (client) or the
    /// response (server).
    pub handshake_headers: Vec<String>,
    /// Sub-protocols offered (client) or accepted (server).
    pub supported_protocols: Vec<String>,
    /// Largest message accepted, and the budget of queued inbound bytes.
    pub inbound_buffer_size: usize,
    /// Budget of outbound bytes not yet written to the socket (0: no limit).
    pub outbound_buffer_size: usize,
    /// Most packets queued, inbound and outbound each.
    pub max_queued_packets: usize,
    /// Seconds between automatic pings (0: none).
    pub heartbeat_interval: f64,
    /// Longest time from `connect_to_url`/`accept_stream` to an open link
    /// (name lookup, connect, TLS and the upgrade); a peer that takes longer
    /// (for example a client that opens TCP and never sends its upgrade) is
    /// dropped.
    pub handshake_timeout: Duration,
    /// Longest time in `STATE_CLOSING`: a peer that does not finish the
    /// closing handshake by then is dropped.
    pub close_timeout: Duration,
}

impl Default for PeerConfig {
    fn default() -> Self {
        PeerConfig {
            handshake_headers: Vec::new(),
            supported_protocols: Vec::new(),
            inbound_buffer_size: 65535,
            outbound_buffer_size: 65535,
            max_queued_packets: 4096,
            heartbeat_interval: 0.0,
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
            close_timeout: DEFAULT_CLOSE_TIMEOUT,
        }
    }
}

/// Close codes a close frame may carry (RFC 6455 section 7.4).
pub fn is_sendable_close_code(code: i32) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

/// Longest close reason, in bytes, that fits a control frame.
pub const MAX_CLOSE_REASON: usize = 123;

/// Default for [`PeerConfig::handshake_timeout`].
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(15);

/// Default for [`PeerConfig::close_timeout`].
pub const DEFAULT_CLOSE_TIMEOUT: Duration = Duration::from_secs(10);

/// Sent data is written to the socket at the next poll()/flush(), or at
/// once when this much is waiting: many small messages leave in one write.
pub const FLUSH_AT: usize = 64 * 1024;

/// Most bytes of automatic replies (pongs) waiting for the peer to read
/// before we stop reading from it.
pub const REPLY_BACKLOG: usize = 64 * 1024;

/// Bytes one poll reads at most (or `inbound_buffer_size`, if larger), so a
/// peer sending at line rate cannot keep one poll() busy for ever.
pub const READ_BUDGET: u64 = 1024 * 1024;

/// Read chunk for the upgrade head.
const HEAD_CHUNK: usize = 1024;

/// Bounds of tungstenite's read chunk, which is a quarter of
/// `inbound_buffer_size` in between: 16 KiB by default, 64 KiB for peers
/// raised for large messages (fewer reads per MiB). An idle peer never
/// touches it (its socket is not read until it has input).
const READ_BUFFER: (usize, usize) = (4 * 1024, 64 * 1024);

/// Where the connection is.
enum Phase {
    /// Nothing (closed or never opened).
    Idle,
    /// Client: waiting for name lookup and TCP connect.
    Dialing {
        connector: Connector,
        url: WsUrl,
        tls: Option<TlsClientOptions>,
        request: String,
        key: String,
    },
    /// Client: request sent (or going out), waiting for the 101 answer.
    ClientHandshake { io: Io, key: String, head: Vec<u8> },
    /// Server: waiting for the client's upgrade request.
    ServerHandshake { io: Io, head: Vec<u8>, tls: bool },
    /// Open or closing: frames flow.
    Framing {
        io: Io,
        ctx: Box<WebSocketContext>,
        client: bool,
    },
}

/// One WebSocket connection, client or server side.
pub struct Peer {
    /// Settings; changes take effect at the next connect/accept.
    pub config: PeerConfig,
    state: ReadyState,
    phase: Phase,
    inbound: PacketQueue,
    /// Limits captured when the connection started.
    inbound_limit: usize,
    outbound_limit: usize,
    queue_limit: usize,
    heartbeat: Option<Duration>,
    last_ping: Instant,
    /// When the current connect/accept started.
    started: Instant,
    /// When the link entered `Closing`.
    closing_since: Instant,
    awaiting_pong: bool,
    close_code: i32,
    close_reason: String,
    close_received: bool,
    requested_url: String,
    selected_protocol: String,
    peer_addr: Option<SocketAddr>,
    last_was_text: bool,
    nodelay: bool,
    /// A message was written since the last poll/flush: further ones wait.
    batching: bool,
    /// Reading stopped because the inbound queue was full: frames may wait
    /// in tungstenite's buffer even if the socket has nothing new.
    unread_frames: bool,
}

impl Default for Peer {
    fn default() -> Self {
        Peer::new(PeerConfig::default())
    }
}

impl Peer {
    /// A closed peer with these settings.
    pub fn new(config: PeerConfig) -> Peer {
        Peer {
            config,
            state: ReadyState::Closed,
            phase: Phase::Idle,
            inbound: PacketQueue::default(),
            inbound_limit: 0,
            outbound_limit: 0,
            queue_limit: 0,
            heartbeat: None,
            last_ping: Instant::now(),
            started: Instant::now(),
            closing_since: Instant::now(),
            awaiting_pong: false,
            close_code: -1,
            close_reason: String::new(),
            close_received: false,
            requested_url: String::new(),
            selected_protocol: String::new(),
            peer_addr: None,
            last_was_text: false,
            nodelay: true,
            batching: false,
            unread_frames: false,
        }
    }

    /// The ready state.
    pub fn ready_state(&self) -> ReadyState {
        self.state
    }

    /// The close code received (or sent, after a protocol error), -1 when the
    /// link ended without a close frame.
    pub fn close_code(&self) -> i32 {
        self.close_code
    }

    /// The close reason that came with [`Peer::close_code`].
    pub fn close_reason(&self) -> &str {
        &self.close_reason
    }

    /// The URL given to `connect_to_url`, or the one the client asked for.
    pub fn requested_url(&self) -> &str {
        &self.requested_url
    }

    /// The sub-protocol agreed on, or empty.
    pub fn selected_protocol(&self) -> &str {
        &self.selected_protocol
    }

    /// The remote address of the connection.
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        self.peer_addr
    }

    /// The TLS version of a `wss://` connection ("TLSv1_3"...), once known.
    pub fn tls_version(&self) -> Option<String> {
        match &self.phase {
            Phase::ClientHandshake { io, .. }
            | Phase::ServerHandshake { io, .. }
            | Phase::Framing { io, .. } => io.stream().tls_version(),
            _ => None,
        }
    }

    /// Packets waiting to be read.
    pub fn available_packets(&self) -> usize {
        self.inbound.len()
    }

    /// `true` when the last packet read came in a text frame.
    pub fn was_text(&self) -> bool {
        self.last_was_text
    }

    /// Outbound bytes not yet handed to the socket.
    pub fn buffered_amount(&self) -> usize {
        match &self.phase {
            Phase::Framing { io, .. } => io.buffered(),
            _ => 0,
        }
    }

    /// Turns Nagle's algorithm off (`true`, the default) or on.
    pub fn set_nodelay(&mut self, enabled: bool) {
        self.nodelay = enabled;
        if let Some(io) = self.io_mut() {
            io.stream_mut().set_nodelay(enabled);
        }
    }

    fn io_mut(&mut self) -> Option<&mut Io> {
        match &mut self.phase {
            Phase::ClientHandshake { io, .. }
            | Phase::ServerHandshake { io, .. }
            | Phase::Framing { io, .. } => Some(io),
            _ => None,
        }
    }

    /// Forgets the previous connection and captures the settings.
    fn reset(&mut self) {
        self.started = Instant::now();
        self.phase = Phase::Idle;
        self.state = ReadyState::Closed;
        self.inbound.clear();
        self.inbound_limit = self.config.inbound_buffer_size.max(1);
        self.outbound_limit = self.config.outbound_buffer_size;
        self.queue_limit = self.config.max_queued_packets.max(1);
        self.set_heartbeat_interval(self.config.heartbeat_interval);
        self.awaiting_pong = false;
        self.unread_frames = false;
        self.batching = false;
        self.close_code = -1;
        self.close_reason.clear();
        self.close_received = false;
        self.requested_url.clear();
        self.selected_protocol.clear();
        self.peer_addr = None;
        self.last_was_text = false;
    }

    /// Sets the heartbeat, in seconds, for this link now (the engine applies
    /// it at once too) and for later ones. Zero, negative or NaN: none; too
    /// large for a `Duration`: none will ever be due either.
    pub fn set_heartbeat_interval(&mut self, seconds: f64) {
        self.config.heartbeat_interval = seconds;
        let heartbeat = (seconds > 0.0)
            .then(|| Duration::try_from_secs_f64(seconds).ok())
            .flatten();
        if heartbeat != self.heartbeat {
            self.heartbeat = heartbeat;
            self.last_ping = Instant::now();
            self.awaiting_pong = false;
        }
    }

    /// Enters `Closing` (a close frame was sent or received).
    fn start_closing(&mut self) {
        if self.state != ReadyState::Closing {
            self.state = ReadyState::Closing;
            self.closing_since = Instant::now();
        }
    }

    fn check_idle(&self) -> Result<(), WsError> {
        match self.state {
            ReadyState::Closed | ReadyState::Closing => Ok(()),
            _ => Err(WsError::AlreadyInUse),
        }
    }

    /// Starts connecting to `url`; returns at once. `tls` applies to `wss://`.
    pub fn connect_to_url(&mut self, url: &str, tls: TlsClientOptions) -> Result<(), WsError> {
        let (parsed, key, request) = self.prepare_client(url)?;
        if parsed.tls {
            // Fail early on a bad trusted chain or server name.
            tls.client_config(&parsed.host)?;
        }
        self.reset();
        let deadline = self.started.checked_add(self.config.handshake_timeout);
        let connector = Connector::start(&parsed.host, parsed.port, deadline)?;
        self.requested_url = url.to_string();
        let tls = parsed.tls.then_some(tls);
        self.phase = Phase::Dialing {
            connector,
            url: parsed,
            tls,
            request,
            key,
        };
        self.state = ReadyState::Connecting;
        Ok(())
    }

    /// The client side of the upgrade over a stream that is already
    /// connected (and already TLS, for `wss://`): for transports of your own,
    /// tests and fuzzing.
    pub fn connect_over_stream(
        &mut self,
        mut stream: Box<dyn Stream>,
        url: &str,
    ) -> Result<(), WsError> {
        let (_, key, request) = self.prepare_client(url)?;
        self.reset();
        self.requested_url = url.to_string();
        stream.set_nodelay(self.nodelay);
        self.peer_addr = stream.peer_addr();
        let mut io = Io::new(stream);
        io.queue_bytes(request.as_bytes());
        self.phase = Phase::ClientHandshake {
            io,
            key,
            head: Vec::new(),
        };
        self.state = ReadyState::Connecting;
        Ok(())
    }

    /// Checks the URL and settings; returns the parsed URL, the key and the
    /// upgrade request.
    fn prepare_client(&self, url: &str) -> Result<(WsUrl, String, String), WsError> {
        self.check_idle()?;
        let parsed = WsUrl::parse(url)?;
        handshake::validate_extra_headers(&self.config.handshake_headers)?;
        validate_protocols(&self.config.supported_protocols)?;
        let key = handshake::generate_key();
        let request = handshake::client_request(
            &parsed.path,
            &parsed.host_header(),
            &key,
            &self.config.supported_protocols,
            &self.config.handshake_headers,
        );
        Ok((parsed, key, request))
    }

    /// Starts the server side of the upgrade on an accepted stream. `tls`
    /// tells whether the stream is already TLS (for `get_requested_url`).
    pub fn accept_stream(&mut self, mut stream: Box<dyn Stream>, tls: bool) -> Result<(), WsError> {
        self.check_idle()?;
        handshake::validate_extra_headers(&self.config.handshake_headers)?;
        self.reset();
        stream.set_nodelay(self.nodelay);
        self.peer_addr = stream.peer_addr();
        self.phase = Phase::ServerHandshake {
            io: Io::new(stream),
            head: Vec::new(),
            tls,
        };
        self.state = ReadyState::Connecting;
        Ok(())
    }

    /// Sends one message; `text` sends a text frame (the bytes must be UTF-8).
    /// The first message after a [`Peer::poll`] or [`Peer::flush`] is written
    /// to the socket at once; the ones that follow it are batched and written
    /// together by the next `poll`/`flush`, or at once when [`FLUSH_AT`]
    /// bytes are waiting.
    pub fn send(&mut self, data: &[u8], text: bool) -> Result<(), WsError> {
        if self.state != ReadyState::Open {
            return Err(WsError::NotOpen);
        }
        let Phase::Framing { io, client, .. } = &mut self.phase else {
            return Err(WsError::NotOpen);
        };
        if io.queued_messages() >= self.queue_limit {
            return Err(WsError::OutboundQueueFull {
                limit: self.queue_limit,
            });
        }
        if self.outbound_limit > 0 && io.buffered() + data.len() > self.outbound_limit {
            return Err(WsError::OutboundBufferFull {
                buffered: io.buffered(),
                message: data.len(),
                limit: self.outbound_limit,
            });
        }
        if text && std::str::from_utf8(data).is_err() {
            return Err(WsError::InvalidUtf8Outbound);
        }
        let header = FrameHeader {
            opcode: OpCode::Data(if text { OpData::Text } else { OpData::Binary }),
            mask: client.then(rand::random::<[u8; 4]>),
            ..FrameHeader::default()
        };
        if self.batching {
            io.queue_frame(&header, data);
            io.end_message();
            if io.buffered() < FLUSH_AT {
                // Batched: goes out at the next poll() or flush().
                return Ok(());
            }
            return match io.flush_out() {
                Ok(()) => Ok(()),
                Err(e) => Err(self.io_failure(TError::Io(e))),
            };
        }
        // The first message since the last poll()/flush() leaves at once.
        self.batching = true;
        let written = io.write_frame(&header, data);
        io.end_message();
        match written {
            Ok(()) => Ok(()),
            Err(e) => Err(self.io_failure(TError::Io(e))),
        }
    }

    /// `true` when sent data waits in the outbound buffer for [`Peer::flush`]
    /// or [`Peer::poll`].
    pub fn has_unflushed(&self) -> bool {
        self.buffered_amount() > 0
    }

    /// Writes buffered outbound data to the socket now, as far as it takes it.
    /// Returns the failure that ended the connection, if one did.
    pub fn flush(&mut self) -> Option<WsError> {
        self.batching = false;
        let Phase::Framing { io, .. } = &mut self.phase else {
            return None;
        };
        match io.flush_out() {
            Ok(()) => None,
            Err(e) => Some(self.io_failure(TError::Io(e))),
        }
    }

    /// Takes the oldest received packet.
    pub fn pop_packet(&mut self) -> Option<Packet> {
        let p = self.inbound.pop()?;
        self.last_was_text = p.text;
        Some(p)
    }

    /// Starts the closing handshake (`code >= 0`) or drops the connection at
    /// once (`code < 0`). Returns a complaint about the arguments, if any; the
    /// close happens regardless.
    pub fn close(&mut self, code: i32, reason: &str) -> Option<WsError> {
        if code < 0 || self.state == ReadyState::Connecting {
            self.drop_connection();
            return None;
        }
        if self.state != ReadyState::Open {
            return None;
        }
        let Phase::Framing { io, ctx, .. } = &mut self.phase else {
            return None;
        };
        let mut complaint = None;
        let mut reason = reason;
        if reason.len() > MAX_CLOSE_REASON {
            let mut end = MAX_CLOSE_REASON;
            while !reason.is_char_boundary(end) {
                end -= 1;
            }
            reason = &reason[..end];
            complaint = Some(WsError::InvalidParameter(format!(
                "The close reason is longer than {MAX_CLOSE_REASON} bytes; it was cut to \"{reason}\"."
            )));
        }
        let frame = if is_sendable_close_code(code) {
            Some(CloseFrame {
                code: CloseCode::from(code as u16),
                reason: Utf8Bytes::from(reason),
            })
        } else {
            complaint = Some(WsError::InvalidParameter(format!(
                "Close code {code} may not be sent (use 1000-1003, 1007-1014 or 3000-4999); a close frame without a code was sent instead."
            )));
            None
        };
        let result = ctx
            .close(io, frame)
            .and_then(|_| io.flush_out().map_err(TError::Io));
        self.start_closing();
        if let Err(e) = result {
            if !matches!(e, TError::ConnectionClosed) {
                self.io_failure(e);
            }
        }
        complaint
    }

    /// Advances the connection: handshake, reading, writing, heartbeats and
    /// the closing handshake. Returns the failure that ended the connection
    /// during this call, if one did.
    pub fn poll(&mut self) -> Option<WsError> {
        let sent = std::mem::take(&mut self.batching);
        if self.state == ReadyState::Connecting {
            if let Err(e) = self.advance_handshake() {
                self.drop_connection();
                return Some(e);
            }
        }
        if matches!(self.state, ReadyState::Open | ReadyState::Closing) {
            let failure = self.pump_frames();
            if !sent {
                // Nothing sent since the last poll: an idle link keeps no
                // outbound capacity (a broadcast to thousands of links must
                // not pin a buffer on each).
                if let Some(io) = self.io_mut() {
                    io.trim();
                }
            }
            return failure;
        }
        None
    }

    fn ws_config(&self) -> WebSocketConfig {
        WebSocketConfig::default()
            .read_buffer_size((self.inbound_limit / 4).clamp(READ_BUFFER.0, READ_BUFFER.1))
            .write_buffer_size(0)
            .max_message_size(Some(self.inbound_limit))
            .max_frame_size(Some(self.inbound_limit))
    }

    fn advance_handshake(&mut self) -> Result<(), WsError> {
        if self.started.elapsed() > self.config.handshake_timeout {
            return Err(WsError::Handshake(format!(
                "the connection was not open after {:.1} s; dropped",
                self.config.handshake_timeout.as_secs_f64()
            )));
        }
        if let Phase::Dialing {
            connector,
            url,
            tls,
            request,
            key,
        } = &mut self.phase
        {
            let Some(sock) = connector.poll() else {
                return Ok(());
            };
            let sock = sock?;
            let mut stream: Box<dyn Stream> = match tls {
                Some(opts) => {
                    let (config, name) = opts.client_config(&url.host)?;
                    Box::new(TlsStream::new(Arc::clone(&config), name, sock)?)
                }
                None => Box::new(Socket::new(sock)),
            };
            stream.set_nodelay(self.nodelay);
            self.peer_addr = stream.peer_addr();
            let mut io = Io::new(stream);
            io.queue_bytes(request.as_bytes());
            let key = std::mem::take(key);
            self.phase = Phase::ClientHandshake {
                io,
                key,
                head: Vec::new(),
            };
        }
        match &mut self.phase {
            Phase::ClientHandshake { io, key, head } => {
                io.flush_out()
                    .map_err(|e| handshake_io_error(e, "sending the upgrade request"))?;
                let Some(end) = read_head(io, head)? else {
                    return Ok(());
                };
                let protocol = handshake::verify_response(
                    &head[..end],
                    key,
                    &self.config.supported_protocols,
                )?;
                let leftover = head.split_off(end);
                self.selected_protocol = protocol;
                self.open(leftover, Role::Client);
            }
            Phase::ServerHandshake { io, head, tls } => {
                let Some(end) = read_head(io, head).inspect_err(|e| {
                    if matches!(e, WsError::Handshake(_)) {
                        let _ = reject(io, 431, &e.to_string());
                    }
                })?
                else {
                    return Ok(());
                };
                match handshake::parse_request(&head[..end], &self.config.supported_protocols, *tls)
                {
                    Ok(accepted) => {
                        io.queue_bytes(
                            handshake::accept_response(&accepted, &self.config.handshake_headers)
                                .as_bytes(),
                        );
                        let leftover = head.split_off(end);
                        self.requested_url = accepted.requested_url;
                        self.selected_protocol = accepted.protocol;
                        self.open(leftover, Role::Server);
                        if let Phase::Framing { io, .. } = &mut self.phase {
                            io.flush_out().map_err(|e| {
                                handshake_io_error(e, "sending the upgrade response")
                            })?;
                        }
                    }
                    Err((status, err)) => {
                        let _ = reject(io, status, &err.to_string());
                        return Err(err);
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn open(&mut self, leftover: Vec<u8>, role: Role) {
        let config = self.ws_config();
        let phase = std::mem::replace(&mut self.phase, Phase::Idle);
        let io = match phase {
            Phase::ClientHandshake { io, .. }
            | Phase::ServerHandshake { io, .. }
            | Phase::Framing { io, .. } => io,
            other => {
                self.phase = other;
                return;
            }
        };
        // Frames that came with the upgrade wait in tungstenite's buffer.
        self.unread_frames = !leftover.is_empty();
        let ctx = Box::new(WebSocketContext::from_partially_read(
            leftover,
            role,
            Some(config),
        ));
        let side = if role == Role::Client {
            "client"
        } else {
            "server"
        };
        let tls = io.stream().tls_version().unwrap_or_else(|| "no TLS".into());
        log::info!(
            "{side} open: {} (sub-protocol \"{}\", {tls})",
            self.requested_url,
            self.selected_protocol
        );
        self.phase = Phase::Framing {
            io,
            ctx,
            client: role == Role::Client,
        };
        self.state = ReadyState::Open;
        self.last_ping = Instant::now();
    }

    fn pump_frames(&mut self) -> Option<WsError> {
        let Phase::Framing { io, ctx, .. } = &mut self.phase else {
            self.state = ReadyState::Closed;
            return None;
        };
        if self.state == ReadyState::Closing
            && self.closing_since.elapsed() > self.config.close_timeout
        {
            let seconds = self.config.close_timeout.as_secs_f64();
            self.drop_connection();
            return Some(WsError::Dropped(format!(
                "the closing handshake did not finish within {seconds:.1} s; dropped"
            )));
        }
        // tungstenite only has something to flush if it was used this poll
        // (replies to pings and closes, a heartbeat) or a close is under way.
        let mut used_ctx = self.state == ReadyState::Closing;
        // Heartbeat.
        if let Some(interval) = self.heartbeat {
            if self.state == ReadyState::Open && self.last_ping.elapsed() >= interval {
                if self.awaiting_pong {
                    let seconds = interval.as_secs_f64();
                    self.drop_connection();
                    return Some(WsError::HeartbeatTimeout { seconds });
                }
                self.awaiting_pong = true;
                self.last_ping = Instant::now();
                used_ctx = true;
                if let Err(e) = ctx.write(io, Message::Ping(Bytes::new())) {
                    return Some(self.io_failure(e));
                }
            }
        }
        // Read while there is room in the inbound queue. An idle socket is
        // not read at all (unless frames may wait in tungstenite's buffer).
        let mut reading = self.unread_frames || io.stream().may_have_input();
        self.unread_frames = false;
        used_ctx |= reading;
        let read_until = io.read_total() + (self.inbound_limit as u64).max(READ_BUDGET);
        while reading {
            // Stop while the inbound queue is full, while replies to the
            // peer's pings pile up unread (it floods and does not read: TCP
            // then slows it down), or when this poll has read its share.
            if !self.inbound.has_room(self.inbound_limit, self.queue_limit)
                || io.replies_pending() > REPLY_BACKLOG
                || io.read_total() > read_until
            {
                self.unread_frames = true;
                break;
            }
            match ctx.read(io) {
                Ok(Message::Text(t)) => self.inbound.push(Packet {
                    data: Bytes::from(t),
                    text: true,
                }),
                Ok(Message::Binary(b)) => self.inbound.push(Packet {
                    data: b,
                    text: false,
                }),
                Ok(Message::Pong(_)) => self.awaiting_pong = false,
                Ok(Message::Ping(_)) | Ok(Message::Frame(_)) => {}
                Ok(Message::Close(frame)) => {
                    self.close_received = true;
                    match frame {
                        Some(f) => {
                            self.close_code = i32::from(u16::from(f.code));
                            self.close_reason = f.reason.as_str().to_string();
                        }
                        None => {
                            self.close_code = 1005;
                            self.close_reason.clear();
                        }
                    }
                    if self.state != ReadyState::Closing {
                        self.state = ReadyState::Closing;
                        self.closing_since = Instant::now();
                    }
                }
                Err(TError::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => reading = false,
                Err(e) => return self.read_failure(e),
            }
        }
        // Write replies (pong, close) and anything still buffered.
        let Phase::Framing { io, ctx, .. } = &mut self.phase else {
            return None;
        };
        let flushed = if used_ctx { ctx.flush(io) } else { Ok(()) };
        let out = io.flush_out();
        match (flushed, out) {
            (Err(TError::ConnectionClosed), _) | (Err(TError::AlreadyClosed), _)
                if self.close_received =>
            {
                // Server side: close handshake done; tungstenite ends here.
                let _ = io.flush_out();
                self.finish_clean();
                return None;
            }
            (Err(TError::Io(e)), _) | (Ok(()), Err(e)) if e.kind() != io::ErrorKind::WouldBlock => {
                return Some(self.io_failure(TError::Io(e)));
            }
            (Err(e), _) if !matches!(e, TError::Io(_)) => return Some(self.io_failure(e)),
            _ => {}
        }
        if self.close_received && io.buffered() == 0 {
            self.finish_clean();
        }
        None
    }

    /// Turns a read error into the right close.
    fn read_failure(&mut self, e: TError) -> Option<WsError> {
        match e {
            TError::ConnectionClosed | TError::AlreadyClosed => {
                if self.close_received {
                    self.finish_clean();
                    None
                } else {
                    self.drop_connection();
                    Some(WsError::Dropped("the peer closed the connection".into()))
                }
            }
            TError::Capacity(CapacityError::MessageTooLong { size, .. }) => self.fail_protocol(
                1009,
                "Message too big",
                WsError::MessageTooBig {
                    size,
                    limit: self.inbound_limit,
                },
            ),
            TError::Utf8(_) => self.fail_protocol(
                1007,
                "Invalid UTF-8 in text message",
                WsError::InvalidUtf8Inbound,
            ),
            TError::Protocol(tungstenite::error::ProtocolError::ResetWithoutClosingHandshake) => {
                self.drop_connection();
                Some(WsError::Dropped(
                    "the peer closed the TCP connection without a close frame".into(),
                ))
            }
            TError::Protocol(p) => {
                let why = p.to_string();
                self.fail_protocol(
                    1002,
                    "Protocol error",
                    WsError::Protocol { code: 1002, why },
                )
            }
            other => Some(self.io_failure(other)),
        }
    }

    /// We close with `code` because the peer broke the rules: the close
    /// frame goes out if the socket takes it, and the link ends now.
    fn fail_protocol(&mut self, code: u16, reason: &str, err: WsError) -> Option<WsError> {
        if let Phase::Framing { io, ctx, .. } = &mut self.phase {
            if ctx.can_write() {
                let frame = CloseFrame {
                    code: CloseCode::from(code),
                    reason: Utf8Bytes::from(reason),
                };
                let _ = ctx.close(io, Some(frame));
            }
            let _ = io.flush_out();
        }
        self.drop_connection();
        self.close_code = i32::from(code);
        self.close_reason = reason.to_string();
        Some(err)
    }

    /// An I/O failure ends the link without a close frame.
    fn io_failure(&mut self, e: TError) -> WsError {
        let err = match e {
            TError::Io(e) => {
                if let Some(tls) = e
                    .get_ref()
                    .and_then(|inner| inner.downcast_ref::<TlsFailure>())
                {
                    WsError::Tls(tls.to_string())
                } else if is_disconnect(&e) {
                    WsError::Dropped(e.to_string())
                } else {
                    WsError::Io(e.to_string())
                }
            }
            TError::ConnectionClosed | TError::AlreadyClosed => {
                WsError::Dropped("the connection is closed".into())
            }
            other => WsError::Io(other.to_string()),
        };
        self.drop_connection();
        err
    }

    /// The closing handshake is done: the last frames go out if the socket
    /// takes them, and the link ends.
    fn finish_clean(&mut self) {
        log::debug!(
            "closed cleanly: {} ({} \"{}\")",
            self.requested_url,
            self.close_code,
            self.close_reason
        );
        if let Some(io) = self.io_mut() {
            let _ = io.flush_out();
        }
        self.phase = Phase::Idle;
        self.state = ReadyState::Closed;
    }

    /// Ends the link at once; queued inbound packets stay readable.
    fn drop_connection(&mut self) {
        self.phase = Phase::Idle;
        self.state = ReadyState::Closed;
        self.awaiting_pong = false;
    }
}

impl Drop for Peer {
    /// Batched messages still waiting are written if the socket takes them
    /// now (never blocking), so freeing a peer right after sending loses
    /// nothing the socket could carry.
    fn drop(&mut self) {
        if let Phase::Framing { io, .. } = &mut self.phase {
            let _ = io.flush_out();
        }
    }
}

fn validate_protocols(protocols: &[String]) -> Result<(), WsError> {
    for p in protocols {
        let token = !p.is_empty()
            && p.bytes()
                .all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b));
        if !token {
            return Err(WsError::InvalidParameter(format!(
                "Invalid entry in supported_protocols: \"{}\". A sub-protocol is one token without spaces or separators.",
                p.escape_debug()
            )));
        }
    }
    Ok(())
}

fn handshake_io_error(e: io::Error, what: &str) -> WsError {
    if let Some(tls) = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<TlsFailure>())
    {
        return WsError::Tls(tls.to_string());
    }
    WsError::Handshake(format!("connection lost while {what}: {e}"))
}

/// Reads into `head` until it holds a whole HTTP head; returns its end.
fn read_head(io: &mut Io, head: &mut Vec<u8>) -> Result<Option<usize>, WsError> {
    let mut chunk = [0u8; HEAD_CHUNK];
    loop {
        match io.read(&mut chunk) {
            Ok(0) => {
                return Err(WsError::Handshake(
                    "the other side closed the connection before the upgrade was complete".into(),
                ))
            }
            Ok(n) => {
                let scan_from = head.len().saturating_sub(3);
                head.extend_from_slice(&chunk[..n]);
                let end = handshake::find_head_end(&head[scan_from..]).map(|e| scan_from + e);
                if end.unwrap_or(head.len()) > MAX_HEAD_SIZE {
                    return Err(WsError::Handshake(format!(
                        "the HTTP upgrade head is larger than {MAX_HEAD_SIZE} bytes"
                    )));
                }
                if end.is_some() {
                    return Ok(end);
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(handshake_io_error(e, "reading the upgrade")),
        }
    }
}

/// Best effort: tell an HTTP client why we refuse it.
fn reject(io: &mut Io, status: u16, why: &str) -> io::Result<()> {
    io.queue_bytes(handshake::reject_response(status, why).as_bytes());
    io.flush_out()
}
