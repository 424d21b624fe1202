//! The WebSocket peer state machine: connecting (client or server side),
//! open, closing and closed, with the engine's rules for when state changes
//! and packets become visible (only in [`Peer::poll`]), its limits, its
//! close codes and the closing handshake.
//!
//! Opening is [`opening`](crate::opening); an open link's frames go through
//! a [`Connection`]; the peer never blocks.

use crate::connection::{Connection, Setup};
use crate::dial::Connector;
use crate::error::WsError;
use crate::extension::{self, DeflateConfig};
use crate::handshake;
use crate::inbound::{Inbound, ReadError};
use crate::opening::{Opening, Step, Wants};
pub use crate::queue::Packet;
use crate::queue::PacketQueue;
use crate::tls::{TlsClientOptions, TlsFailure};
use crate::transport::{is_disconnect, Io, Stream};
use crate::url::WsUrl;
use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

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
    /// permessage-deflate to offer (client) or accept (server); `None`: the
    /// wire stays as the engine's.
    pub compression: Option<DeflateConfig>,
    /// Messages shorter than this go out uncompressed.
    pub compression_threshold: usize,
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
            compression: None,
            compression_threshold: DEFAULT_COMPRESSION_THRESHOLD,
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

/// Default for [`PeerConfig::compression_threshold`] (as Node's `ws`).
pub const DEFAULT_COMPRESSION_THRESHOLD: usize = 1024;

/// A client that has exchanged close frames waits this long for the server
/// to close TCP first (RFC 6455 section 7.1.1), then closes it itself.
pub const CLIENT_CLOSE_WAIT: Duration = Duration::from_secs(1);

/// Sent data is written to the socket at the next poll()/flush(), or at
/// once when this much is waiting: many small messages leave in one write.
pub const FLUSH_AT: usize = 64 * 1024;

/// Most bytes of automatic replies (pongs) waiting for the peer to read
/// before we stop reading from it.
pub const REPLY_BACKLOG: usize = 64 * 1024;

/// Bytes one poll reads at most (or `inbound_buffer_size`, if larger), so a
/// peer sending at line rate cannot keep one poll() busy for ever.
pub const READ_BUDGET: u64 = 1024 * 1024;

/// Bounds of the read size, which is a quarter of `inbound_buffer_size` in
/// between: 16 KiB by default, 64 KiB for peers raised for large messages
/// (fewer reads per MiB). An idle peer holds no read buffer.
const READ_CHUNK: (usize, usize) = (4 * 1024, 64 * 1024);

/// Where the connection is.
enum Phase {
    /// Nothing (closed or never opened).
    Idle,
    /// Connecting and upgrading.
    Opening(Opening),
    /// Open or closing: frames flow.
    Open(Box<Connection>),
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
    /// When both close frames had passed (a client then waits for the
    /// server to close TCP).
    closed_at: Option<Instant>,
    awaiting_pong: bool,
    close_code: i32,
    close_reason: String,
    requested_url: String,
    selected_protocol: String,
    /// The agreed extensions, as the server's answer states them.
    extensions: String,
    peer_addr: Option<SocketAddr>,
    last_was_text: bool,
    nodelay: bool,
    /// A message was written since the last poll/flush: further ones wait.
    batching: bool,
    /// Reading stopped early (full queue, budget, pongs not read): frames
    /// may wait in the read buffer even if the socket has nothing new.
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
            closed_at: None,
            awaiting_pong: false,
            close_code: -1,
            close_reason: String::new(),
            requested_url: String::new(),
            selected_protocol: String::new(),
            extensions: String::new(),
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

    /// The extensions agreed for the link, as the server's
    /// `Sec-WebSocket-Extensions` answer states them; empty when none.
    pub fn negotiated_extensions(&self) -> &str {
        &self.extensions
    }

    fn io(&self) -> Option<&Io> {
        match &self.phase {
            Phase::Opening(o) => o.io(),
            Phase::Open(c) => Some(&c.io),
            Phase::Idle => None,
        }
    }

    fn io_mut(&mut self) -> Option<&mut Io> {
        match &mut self.phase {
            Phase::Opening(o) => o.io_mut(),
            Phase::Open(c) => Some(&mut c.io),
            Phase::Idle => None,
        }
    }

    /// The TLS version of a `wss://` connection ("TLSv1_3"...), once known.
    pub fn tls_version(&self) -> Option<String> {
        self.io().and_then(|io| io.stream().tls_version())
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
            Phase::Open(c) => c.io.buffered(),
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
        self.closed_at = None;
        self.close_code = -1;
        self.close_reason.clear();
        self.requested_url.clear();
        self.selected_protocol.clear();
        self.extensions.clear();
        self.peer_addr = None;
        self.last_was_text = false;
    }

    fn check_idle(&self) -> Result<(), WsError> {
        match self.state {
            ReadyState::Closed | ReadyState::Closing => Ok(()),
            _ => Err(WsError::AlreadyInUse),
        }
    }

    fn wants(&self) -> Wants<'_> {
        Wants {
            protocols: &self.config.supported_protocols,
            headers: &self.config.handshake_headers,
            compression: self.config.compression,
            nodelay: self.nodelay,
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
        self.phase = Phase::Opening(Opening::Dialing {
            connector,
            url: parsed,
            tls,
            request,
            key,
        });
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
        self.phase = Phase::Opening(Opening::Client {
            io,
            key,
            head: Vec::new(),
        });
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
        let offer = self
            .config
            .compression
            .as_ref()
            .map(extension::client_offer);
        let request = handshake::client_request(
            &parsed.path,
            &parsed.host_header(),
            &key,
            &self.config.supported_protocols,
            &self.config.handshake_headers,
            offer.as_deref(),
        );
        Ok((parsed, key, request))
    }

    /// Whether [`Peer::accept_stream`] would take a stream now (idle, valid
    /// headers): callers check first, so a refused stream stays theirs.
    pub fn can_accept(&self) -> Result<(), WsError> {
        self.check_idle()?;
        handshake::validate_extra_headers(&self.config.handshake_headers)
    }

    /// Starts the server side of the upgrade on an accepted stream. `tls`
    /// tells whether the stream is already TLS (for `get_requested_url`).
    pub fn accept_stream(&mut self, mut stream: Box<dyn Stream>, tls: bool) -> Result<(), WsError> {
        self.can_accept()?;
        self.reset();
        stream.set_nodelay(self.nodelay);
        self.peer_addr = stream.peer_addr();
        self.phase = Phase::Opening(Opening::Server {
            io: Io::new(stream),
            head: Vec::new(),
            tls,
        });
        self.state = ReadyState::Connecting;
        Ok(())
    }

    /// Sends one message; `text` sends a text frame (the bytes must be UTF-8).
    /// The first message after a [`Peer::poll`] or [`Peer::flush`] is written
    /// to the socket at once; the ones that follow it are batched and written
    /// together by the next `poll`/`flush`, or at once when [`FLUSH_AT`]
    /// bytes are waiting.
    pub fn send(&mut self, data: &[u8], text: bool) -> Result<(), WsError> {
        let Phase::Open(conn) = &mut self.phase else {
            return Err(WsError::NotOpen);
        };
        if self.state != ReadyState::Open {
            return Err(WsError::NotOpen);
        }
        if conn.io.queued_messages() >= self.queue_limit {
            return Err(WsError::OutboundQueueFull {
                limit: self.queue_limit,
            });
        }
        let buffered = conn.io.buffered();
        if self.outbound_limit > 0 && buffered + data.len() > self.outbound_limit {
            return Err(WsError::OutboundBufferFull {
                buffered,
                message: data.len(),
                limit: self.outbound_limit,
            });
        }
        if text && std::str::from_utf8(data).is_err() {
            return Err(WsError::InvalidUtf8Outbound);
        }
        // The first message since the last poll()/flush() leaves at once;
        // the next ones wait, unless much is waiting already.
        let now = !self.batching;
        self.batching = true;
        let mut result = conn.send(data, text, now);
        if result.is_ok() && !now && conn.io.buffered() >= FLUSH_AT {
            result = conn.io.flush_out();
        }
        result.map_err(|e| self.io_failure(e))
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
        let Phase::Open(conn) = &mut self.phase else {
            return None;
        };
        conn.io.flush_out().err().map(|e| self.io_failure(e))
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
            Some((code as u16, reason))
        } else {
            complaint = Some(WsError::InvalidParameter(format!(
                "Close code {code} may not be sent (use 1000-1003, 1007-1014 or 3000-4999); a close frame without a code was sent instead."
            )));
            None
        };
        let Phase::Open(conn) = &mut self.phase else {
            return complaint;
        };
        conn.close(frame);
        let written = conn.io.flush_out();
        self.start_closing();
        if let Err(e) = written {
            self.io_failure(e);
        }
        complaint
    }

    /// Advances the connection: handshake, reading, writing, heartbeats and
    /// the closing handshake. Returns the failure that ended the connection
    /// during this call, if one did.
    pub fn poll(&mut self) -> Option<WsError> {
        let sent = std::mem::take(&mut self.batching);
        if self.state == ReadyState::Connecting {
            if let Err(e) = self.advance_opening() {
                self.drop_connection();
                return Some(e);
            }
        }
        if matches!(self.state, ReadyState::Open | ReadyState::Closing) {
            let failure = self.pump();
            if !sent {
                // Nothing sent since the last poll: an idle link keeps no
                // buffers (a broadcast to thousands of links must not pin
                // one on each).
                if let Phase::Open(conn) = &mut self.phase {
                    conn.trim();
                }
            }
            return failure;
        }
        None
    }

    fn advance_opening(&mut self) -> Result<(), WsError> {
        if self.started.elapsed() > self.config.handshake_timeout {
            return Err(WsError::Handshake(format!(
                "the connection was not open after {:.1} s; dropped",
                self.config.handshake_timeout.as_secs_f64()
            )));
        }
        let Phase::Opening(opening) = std::mem::replace(&mut self.phase, Phase::Idle) else {
            return Ok(());
        };
        let opened = match opening.advance(&self.wants())? {
            Step::Waiting(opening) => {
                if self.peer_addr.is_none() {
                    self.peer_addr = opening.io().and_then(|io| io.stream().peer_addr());
                }
                self.phase = Phase::Opening(opening);
                return Ok(());
            }
            Step::Open(opened) => opened,
        };
        if self.peer_addr.is_none() {
            self.peer_addr = opened.io.stream().peer_addr();
        }
        if let Some(url) = opened.requested_url {
            self.requested_url = url;
        }
        self.selected_protocol = opened.protocol;
        self.extensions = opened
            .compression
            .map(|a| a.header_value())
            .unwrap_or_default();
        let setup = Setup {
            client: opened.client,
            limit: self.inbound_limit,
            chunk: (self.inbound_limit / 4).clamp(READ_CHUNK.0, READ_CHUNK.1),
            compression: opened.compression,
            compress_from: self.config.compression_threshold,
        };
        // Frames that came with the upgrade wait in the read buffer.
        self.unread_frames = !opened.leftover.is_empty();
        let conn = Connection::new(opened.io, opened.leftover, setup);
        let side = if opened.client { "client" } else { "server" };
        let tls = conn
            .io
            .stream()
            .tls_version()
            .unwrap_or_else(|| "no TLS".into());
        log::info!(
            "{side} open: {} (sub-protocol \"{}\", {tls}, extensions \"{}\")",
            self.requested_url,
            self.selected_protocol,
            self.extensions
        );
        self.phase = Phase::Open(Box::new(conn));
        self.state = ReadyState::Open;
        self.last_ping = Instant::now();
        Ok(())
    }

    /// Enters `Closing` (a close frame was sent or received).
    fn start_closing(&mut self) {
        if self.state != ReadyState::Closing {
            self.state = ReadyState::Closing;
            self.closing_since = Instant::now();
        }
    }

    /// Reads, answers and writes on an open or closing link.
    fn pump(&mut self) -> Option<WsError> {
        let Phase::Open(conn) = &mut self.phase else {
            self.state = ReadyState::Closed;
            return None;
        };
        // One clock reading serves every check of this poll.
        let now = Instant::now();
        if self.state == ReadyState::Closing
            && now.saturating_duration_since(self.closing_since) > self.config.close_timeout
        {
            let seconds = self.config.close_timeout.as_secs_f64();
            self.drop_connection();
            return Some(WsError::Dropped(format!(
                "the closing handshake did not finish within {seconds:.1} s; dropped"
            )));
        }
        if let Some(interval) = self.heartbeat {
            if self.state == ReadyState::Open
                && now.saturating_duration_since(self.last_ping) >= interval
            {
                if self.awaiting_pong {
                    let seconds = interval.as_secs_f64();
                    self.drop_connection();
                    return Some(WsError::HeartbeatTimeout { seconds });
                }
                self.awaiting_pong = true;
                self.last_ping = now;
                conn.ping(&[]);
            }
        }
        // Read while there is room. An idle socket is not read at all
        // (unless frames may wait in the read buffer).
        let mut reading = self.unread_frames || conn.io.stream().may_have_input(now);
        if !reading && conn.io.buffered() == 0 {
            // Idle: nothing to read, nothing to write.
            return None;
        }
        self.unread_frames = false;
        let read_until = conn.io.read_total() + (self.inbound_limit as u64).max(READ_BUDGET);
        while reading {
            // Stop while the inbound queue is full, while replies to the
            // peer's pings pile up unread (it floods and does not read: TCP
            // then slows it down), or when this poll has read its share.
            if !self.inbound.has_room(self.inbound_limit, self.queue_limit)
                || conn.io.replies_pending() > REPLY_BACKLOG
                || conn.io.read_total() > read_until
            {
                self.unread_frames = true;
                break;
            }
            match conn.read() {
                Ok(Some(Inbound::Message { data, text })) => {
                    if !conn.close_received {
                        self.inbound.push(Packet { data, text });
                    }
                }
                Ok(Some(Inbound::Ping(payload))) => {
                    if !conn.close_sent {
                        conn.pong(&payload);
                    }
                }
                Ok(Some(Inbound::Pong(_))) => self.awaiting_pong = false,
                Ok(Some(Inbound::Close(frame))) => {
                    if conn.close_received {
                        continue;
                    }
                    conn.close_received = true;
                    match &frame {
                        Some((code, reason)) => {
                            self.close_code = i32::from(*code);
                            self.close_reason.clone_from(reason);
                        }
                        None => {
                            self.close_code = 1005;
                            self.close_reason.clear();
                        }
                    }
                    // Answer with the same code and reason (RFC 6455 5.5.1).
                    conn.close(
                        frame
                            .as_ref()
                            .map(|(code, reason)| (*code, reason.as_str())),
                    );
                    if self.state != ReadyState::Closing {
                        self.state = ReadyState::Closing;
                        self.closing_since = Instant::now();
                    }
                }
                Ok(None) => reading = false,
                Err(ReadError::Eof) => {
                    if conn.close_received {
                        return self.finish_clean();
                    }
                    self.drop_connection();
                    return Some(WsError::Dropped(
                        "the peer closed the TCP connection without a close frame".into(),
                    ));
                }
                Err(e) => return self.read_failure(e),
            }
        }
        let Phase::Open(conn) = &mut self.phase else {
            return None;
        };
        if let Err(e) = conn.io.flush_out() {
            return Some(self.io_failure(e));
        }
        if conn.close_sent && conn.close_received && conn.io.buffered() == 0 {
            // Both close frames have passed. The server closes TCP now; a
            // client gives the server a moment to do it first.
            let since = *self.closed_at.get_or_insert_with(Instant::now);
            if !conn.is_client() || since.elapsed() >= CLIENT_CLOSE_WAIT {
                return self.finish_clean();
            }
            self.unread_frames = true;
        }
        None
    }

    /// Turns a read failure into the right close.
    fn read_failure(&mut self, e: ReadError) -> Option<WsError> {
        match e {
            ReadError::TooBig { size, .. } => self.fail_protocol(
                1009,
                "Message too big",
                WsError::MessageTooBig {
                    size,
                    limit: self.inbound_limit,
                },
            ),
            ReadError::InvalidUtf8 => self.fail_protocol(
                1007,
                "Invalid UTF-8 in text message",
                WsError::InvalidUtf8Inbound,
            ),
            ReadError::Protocol(why) => self.fail_protocol(
                1002,
                "Protocol error",
                WsError::Protocol { code: 1002, why },
            ),
            ReadError::Io(e) => Some(self.io_failure(e)),
            ReadError::Eof => {
                self.drop_connection();
                Some(WsError::Dropped("the connection is closed".into()))
            }
        }
    }

    /// We close with `code` because the peer broke the rules: the close
    /// frame goes out if the socket takes it, and the link ends now.
    fn fail_protocol(&mut self, code: u16, reason: &str, err: WsError) -> Option<WsError> {
        if let Phase::Open(conn) = &mut self.phase {
            conn.close(Some((code, reason)));
            let _ = conn.io.flush_out();
        }
        self.drop_connection();
        self.close_code = i32::from(code);
        self.close_reason = reason.to_string();
        Some(err)
    }

    /// An I/O failure ends the link without a close frame.
    fn io_failure(&mut self, e: io::Error) -> WsError {
        let err = if let Some(tls) = e
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<TlsFailure>())
        {
            WsError::Tls(tls.to_string())
        } else if is_disconnect(&e) {
            WsError::Dropped(e.to_string())
        } else {
            WsError::Io(e.to_string())
        };
        self.drop_connection();
        err
    }

    /// The closing handshake is done: the last frames go out if the socket
    /// takes them, and the link ends.
    fn finish_clean(&mut self) -> Option<WsError> {
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
        None
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
        if let Phase::Open(conn) = &mut self.phase {
            let _ = conn.io.flush_out();
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
