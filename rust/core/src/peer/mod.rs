//! The WebSocket peer state machine: connecting (client or server side),
//! open, closing and closed, with the engine's rules for when state changes
//! and packets become visible (only in [`Peer::poll`]), its limits and its
//! close codes.
//!
//! Opening is [`opening`](crate::opening); an open link's reading, answering
//! and closing handshake are in [`open`]; its frames go through a
//! [`Connection`]. The peer never blocks.

mod admit;
mod open;
mod send;
mod stats;
mod upgrade;

use crate::close::{self, is_sendable_close_code};
use crate::config::{PeerConfig, Refused};
use crate::connection::Connection;
use crate::dial::Connector;
use crate::error::{Failure, WsError};
use crate::extension;
use crate::handshake;
use crate::inbound::ReadError;
use crate::opening::{Opening, Wants};
use crate::queue::{Packet, PacketQueue};
use crate::stats::{Counters, RoundTrip};
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
    /// Pings sent since the last pong.
    unanswered: u32,
    /// Why the connection failed, if it did.
    failure: Option<WsError>,
    close_code: i32,
    close_reason: String,
    requested_url: String,
    /// The headers the other side sent in the upgrade, once open.
    handshake_headers: Vec<(String, String)>,
    selected_protocol: String,
    /// The agreed extensions, as the server's answer states them.
    extensions: String,
    peer_addr: Option<SocketAddr>,
    /// The real client behind a load balancer, once open (see `admit`).
    client_addr: Option<SocketAddr>,
    /// Server: set by the hub that accepted the link (see `admit`).
    admission: admit::Admission,
    last_was_text: bool,
    /// The current connection reached `STATE_OPEN` (it may have closed
    /// since, even within the same poll).
    has_opened: bool,
    nodelay: bool,
    /// A message was written since the last poll/flush: further ones wait.
    batching: bool,
    /// Reading stopped early (full queue, budget, pongs not read): frames
    /// may wait in the read buffer even if the socket has nothing new.
    unread_frames: bool,
    /// A read failure held back for the next poll, because a message this
    /// poll delivered came before it.
    deferred_failure: Option<ReadError>,
    /// Traffic counted as it passes (see [`Peer::statistics`]).
    counters: Counters,
    /// Round-trip times from our pings.
    rtt: RoundTrip,
    /// The clock reading of the current poll (one serves every check).
    poll_now: Instant,
    /// When the last message arrived (the poll that read it).
    last_message_at: Option<Instant>,
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
            unanswered: 0,
            failure: None,
            close_code: -1,
            close_reason: String::new(),
            requested_url: String::new(),
            handshake_headers: Vec::new(),
            selected_protocol: String::new(),
            extensions: String::new(),
            peer_addr: None,
            client_addr: None,
            admission: admit::Admission::default(),
            last_was_text: false,
            has_opened: false,
            nodelay: true,
            batching: false,
            unread_frames: false,
            deferred_failure: None,
            counters: Counters::default(),
            rtt: RoundTrip::default(),
            poll_now: Instant::now(),
            last_message_at: None,
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

    /// `true` once the current connection has opened, also after it closed
    /// (a link can open and close within one poll): tells a lost link from
    /// an attempt that failed.
    pub fn has_opened(&self) -> bool {
        self.has_opened
    }

    /// The close reason that came with [`Peer::close_code`].
    pub fn close_reason(&self) -> &str {
        &self.close_reason
    }

    /// The URL given to `connect_to_url`, or the one the client asked for
    /// (on the server: from the moment its request is read and held).
    pub fn requested_url(&self) -> &str {
        self.held_url().unwrap_or(&self.requested_url)
    }

    /// [`Peer::requested_url`] as it may be printed: no credentials, no
    /// query values (session tokens), no control characters.
    pub fn shown_url(&self) -> String {
        crate::shown::url(self.requested_url())
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

    /// The stream, once there is one.
    fn stream(&self) -> Option<&dyn Stream> {
        match &self.phase {
            Phase::Opening(o) => o.io().map(Io::stream),
            Phase::Open(c) => Some(c.stream()),
            Phase::Idle => None,
        }
    }

    /// The stream, once there is one.
    fn stream_mut(&mut self) -> Option<&mut dyn Stream> {
        match &mut self.phase {
            Phase::Opening(o) => o.io_mut().map(Io::stream_mut),
            Phase::Open(c) => Some(c.stream_mut()),
            Phase::Idle => None,
        }
    }

    /// The TLS version of a `wss://` connection ("TLSv1_3"...), once known.
    pub fn tls_version(&self) -> Option<String> {
        self.stream().and_then(|s| s.tls_version())
    }

    /// Packets waiting to be read.
    pub fn available_packets(&self) -> usize {
        self.inbound.len()
    }

    /// Bytes of memory held for received data: the packets waiting (their
    /// allocations and queue slots) and, on an open link, the read buffer
    /// and whatever frame or message is arriving. Stays within a small
    /// multiple of `inbound_buffer_size` whatever the peer sends.
    pub fn held_inbound(&self) -> usize {
        let link = match &self.phase {
            Phase::Open(c) => c.held_inbound(),
            _ => 0,
        };
        self.inbound.held().saturating_add(link)
    }

    /// `true` when the last packet read came in a text frame.
    pub fn was_text(&self) -> bool {
        self.last_was_text
    }

    /// Outbound bytes not yet handed to the socket.
    pub fn buffered_amount(&self) -> usize {
        match &self.phase {
            Phase::Open(c) => c.buffered(),
            _ => 0,
        }
    }

    /// Turns Nagle's algorithm off (`true`, the default) or on.
    pub fn set_nodelay(&mut self, enabled: bool) {
        self.nodelay = enabled;
        if let Some(stream) = self.stream_mut() {
            stream.set_nodelay(enabled);
        }
    }

    /// Sets the heartbeat, in seconds, for this link now (the engine applies
    /// it at once too) and for later ones; 0 sends none. Too large for a
    /// `Duration`: none will ever be due either.
    pub fn set_heartbeat_interval(&mut self, seconds: f64) -> Result<(), Refused> {
        self.config.set_heartbeat_interval(seconds)?;
        self.apply_heartbeat();
        Ok(())
    }

    /// Runs the heartbeat the settings ask for.
    fn apply_heartbeat(&mut self) {
        let seconds = self.config.heartbeat_interval;
        let heartbeat = (seconds > 0.0)
            .then(|| Duration::try_from_secs_f64(seconds).ok())
            .flatten();
        if heartbeat != self.heartbeat {
            self.heartbeat = heartbeat;
            self.last_ping = Instant::now();
            self.unanswered = 0;
        }
    }

    /// Forgets the previous connection and captures the settings.
    fn reset(&mut self) {
        self.started = Instant::now();
        self.has_opened = false;
        self.phase = Phase::Idle;
        self.state = ReadyState::Closed;
        self.inbound.clear();
        self.inbound_limit = self.config.inbound_buffer_size.max(1);
        self.outbound_limit = self.config.outbound_buffer_size;
        self.queue_limit = self.config.max_queued_packets.max(1);
        self.apply_heartbeat();
        self.unanswered = 0;
        self.unread_frames = false;
        self.deferred_failure = None;
        self.batching = false;
        self.closed_at = None;
        self.failure = None;
        self.close_code = -1;
        self.close_reason.clear();
        self.requested_url.clear();
        self.handshake_headers.clear();
        self.selected_protocol.clear();
        self.extensions.clear();
        self.peer_addr = None;
        self.client_addr = None;
        self.last_was_text = false;
        self.counters = Counters::default();
        self.rtt = RoundTrip::default();
        self.last_message_at = None;
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
            compression: self.config.compression(),
            nodelay: self.nodelay,
            hold: self.config.hold_upgrade,
            health_path: &self.config.health_path,
            plain_http: self.admission.by_hub,
            hold_http: self.admission.hold_http,
            draining: self.admission.draining,
        }
    }

    /// Starts connecting to `url`; returns at once. `tls` applies to `wss://`.
    pub fn connect_to_url(&mut self, url: &str, tls: TlsClientOptions) -> Result<(), WsError> {
        let (parsed, key, request) = self.prepare_client(url)?;
        if parsed.tls {
            // Fail early on a bad trusted chain or server name; the default
            // roots are read meanwhile, off this thread.
            tls.check(&parsed.host)?;
            if tls.uses_default_roots() {
                crate::trust::prefetch();
            }
        }
        self.reset();
        let deadline = self.started.checked_add(self.config.handshake_limit());
        let proxy = self.config.proxy_for(parsed.tls).cloned().map(Box::new);
        let (host, port) = match &proxy {
            Some(p) => (p.host(), p.port()),
            None => (parsed.host.as_str(), parsed.port),
        };
        let connector = Connector::start(host, port, deadline, self.config.connect_limit())?;
        self.requested_url = url.to_string();
        let tls = parsed.tls.then_some(tls);
        self.phase = Phase::Opening(Opening::Dialing {
            connector,
            url: parsed,
            tls,
            request,
            key,
            proxy,
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
            .compression()
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
        let failure = conn.flush().err().map(|e| self.io_failure(e));
        self.note(failure.as_ref());
        failure
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
        let (reason, cut) = close::fit_reason(reason);
        if cut {
            complaint = Some(WsError::InvalidParameter(format!(
                "The close reason is longer than {} bytes; it was cut to \"{reason}\".",
                close::MAX_CLOSE_REASON
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
        let written = conn.flush();
        self.start_closing();
        if let Err(e) = written {
            self.io_failure(e);
        }
        complaint
    }

    /// Advances the connection: handshake, reading, writing, heartbeats and
    /// the closing handshake. Returns the failure that ended the connection
    /// during this call, if one did (also kept: [`Peer::failure`]).
    pub fn poll(&mut self) -> Option<WsError> {
        let failure = self.advance();
        self.note(failure.as_ref());
        failure
    }

    /// Why the last connection failed or ended without a clean close, if it
    /// did; cleared by the next connect or accept.
    pub fn failure(&self) -> Option<&WsError> {
        self.failure.as_ref()
    }

    /// Keeps `err` as the connection's failure, if it is one.
    fn note(&mut self, err: Option<&WsError>) {
        if let Some(err) = err.filter(|e| e.failure() != Failure::None) {
            self.failure = Some(err.clone());
        }
    }

    fn advance(&mut self) -> Option<WsError> {
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

    /// Enters `Closing` (a close frame was sent or received).
    fn start_closing(&mut self) {
        if self.state != ReadyState::Closing {
            self.state = ReadyState::Closing;
            self.closing_since = Instant::now();
        }
    }

    /// An I/O failure ends the link without a close frame.
    fn io_failure(&mut self, e: io::Error) -> WsError {
        let err = if let Some(tls) = e
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<TlsFailure>())
        {
            crate::tls::error(&tls.0)
        } else if is_disconnect(&e) {
            WsError::Dropped(e.to_string())
        } else {
            WsError::Io(e.to_string())
        };
        self.drop_connection();
        err
    }

    /// Ends the link at once; queued inbound packets stay readable.
    fn drop_connection(&mut self) {
        self.retire_connection();
        self.phase = Phase::Idle;
        self.state = ReadyState::Closed;
        self.unanswered = 0;
    }
}

impl Drop for Peer {
    /// Batched messages still waiting are written if the socket takes them
    /// now (never blocking), so freeing a peer right after sending loses
    /// nothing the socket could carry.
    fn drop(&mut self) {
        if let Phase::Open(conn) = &mut self.phase {
            let _ = conn.flush();
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
