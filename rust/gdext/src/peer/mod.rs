//! `RustWebSocketPeer`: the engine's `WebSocketPeer` API on the Rust core.
//! Each method only translates Godot types and calls into [`state`] (the
//! core behind a lock). The methods a game calls per message or per frame
//! are bound directly, in [`calls`]; a few others take `#[func(gd_self)]`
//! and reach the state through the registry (see [`crate::binding`]); the
//! rest bind the object as usual. Its settings are the core's
//! `PeerConfig`, behind the same lock (see [`crate::settings`]).

pub(crate) mod calls;
pub(crate) mod flush;
mod proxy;
pub(crate) mod state;
pub(crate) mod stats;
pub(crate) mod upgrade;

use crate::binding::{self, class_enums, direct_virtuals, Registry, Stateful};
use crate::settings::{self, HasLinkSettings};
use crate::tls_args::{self, TlsArg};
use crate::{packets, stream};
use godot::classes::{PacketPeerExtension, StreamPeer, TlsOptions};
use godot::global::Error;
use godot::prelude::*;
use godot::register::property::PhantomVar;
use rustws_core::{PeerConfig, WsError};
use state::{SharedState, State, PEERS};

/// A WebSocket connection written in Rust, a drop-in replacement for the
/// engine's [WebSocketPeer]: same methods, properties, arguments, defaults and
/// constants, so existing code works after renaming the class.
///
/// Use it as a client with [method connect_to_url] (`ws://` and `wss://`,
/// TLS 1.3 through rustls) or as the remote end of a server with
/// [method accept_stream]. Call [method poll] regularly; state changes and
/// received packets become visible only there. It is a [PacketPeer], so
/// [method PacketPeer.put_packet], [method PacketPeer.get_packet],
/// [method PacketPeer.put_var] and [method PacketPeer.get_var] work.
///
/// Differences that fix pains of the engine's class: a message larger than
/// [member inbound_buffer_size] closes the link with code 1009 and an error
/// naming the property to raise; every failure prints an error saying why;
/// packets received before a close stay readable after [constant STATE_CLOSED].
///
/// Constants (enum `State`): `STATE_CONNECTING` = 0, `STATE_OPEN` = 1,
/// `STATE_CLOSING` = 2, `STATE_CLOSED` = 3. Enum `WriteMode`:
/// `WRITE_MODE_TEXT` = 0 (UTF-8 text frames), `WRITE_MODE_BINARY` = 1.
#[derive(GodotClass)]
#[class(base = PacketPeerExtension, init, tool)]
pub struct RustWebSocketPeer {
    #[init(val = State::new())]
    shared: SharedState,
    /// The extra HTTP headers sent during the WebSocket handshake (client
    /// request, or server response), each `"Name: value"`.
    #[var(get = get_handshake_headers, set = set_handshake_headers, usage_flags = [DEFAULT])]
    handshake_headers: PhantomVar<PackedStringArray>,
    /// The interval in seconds between automatic "ping" frames; a link whose
    /// pong has not come back by the next ping is dropped. 0 sends none.
    /// Takes effect at once, also on an open link.
    #[var(get = get_heartbeat_interval, set = set_heartbeat_interval, usage_flags = [DEFAULT])]
    heartbeat_interval: PhantomVar<f64>,
    /// How many pings in a row may go unanswered: when the next one is due
    /// and this many are, the link is dropped (see [member heartbeat_interval];
    /// 1, the default, is the engine's rule). Takes effect at once.
    #[var(get = get_heartbeat_misses, set = set_heartbeat_misses, usage_flags = [DEFAULT])]
    heartbeat_misses: PhantomVar<i32>,
    /// Seconds one TCP connect attempt may take before the next address of
    /// the host is tried or the connection fails with [constant FAILURE_TIMEOUT]
    /// (10 by default; the engine's class has no such setting). Takes effect
    /// at the next connect.
    #[var(get = get_connect_timeout, set = set_connect_timeout, usage_flags = [DEFAULT])]
    connect_timeout: PhantomVar<f64>,
    /// Seconds a connection has to open, from [method connect_to_url] or
    /// [method accept_stream] to [constant STATE_OPEN] (name lookup, connect,
    /// TLS and the HTTP upgrade); a slower one is dropped with
    /// [constant FAILURE_TIMEOUT] (15 by default; the engine's class waits for
    /// ever). Takes effect at the next connect or accept.
    #[var(get = get_handshake_timeout, set = set_handshake_timeout, usage_flags = [DEFAULT])]
    handshake_timeout: PhantomVar<f64>,
    /// The largest message accepted, in bytes, and the budget of received
    /// bytes waiting to be read. A larger message closes the link with 1009.
    /// Takes effect at the next connect or accept.
    #[var(get = get_inbound_buffer_size, set = set_inbound_buffer_size, usage_flags = [DEFAULT])]
    inbound_buffer_size: PhantomVar<i32>,
    /// The most packets queued, inbound and outbound each.
    #[var(get = get_max_queued_packets, set = set_max_queued_packets, usage_flags = [DEFAULT])]
    max_queued_packets: PhantomVar<i32>,
    /// The most bytes waiting to be sent; a send beyond it returns
    /// `ERR_OUT_OF_MEMORY`. 0 means no limit.
    #[var(get = get_outbound_buffer_size, set = set_outbound_buffer_size, usage_flags = [DEFAULT])]
    outbound_buffer_size: PhantomVar<i32>,
    /// The WebSocket sub-protocols offered (client) or accepted (server).
    #[var(get = get_supported_protocols, set = set_supported_protocols, usage_flags = [DEFAULT])]
    supported_protocols: PhantomVar<PackedStringArray>,
    /// Compress messages with permessage-deflate (RFC 7692): a client offers
    /// it, a server accepts a client's offer. Off by default, so the wire is
    /// as the engine's class makes it. See [method get_negotiated_extensions]
    /// for what was agreed. Takes effect at the next connect or accept.
    #[var(get = get_compression_enabled, set = set_compression_enabled, usage_flags = [DEFAULT])]
    compression_enabled: PhantomVar<bool>,
    /// Messages shorter than this many bytes are sent uncompressed (not worth
    /// it); 0 compresses every message.
    #[var(get = get_compression_threshold, set = set_compression_threshold, usage_flags = [DEFAULT])]
    compression_threshold: PhantomVar<i32>,
    /// Keep the compression context between messages: better compression,
    /// but each link holds a zlib state per direction for its whole life.
    /// `false` asks both sides to start each message afresh, so idle links
    /// hold none (for servers with many links).
    #[var(get = get_compression_context_takeover, set = set_compression_context_takeover, usage_flags = [DEFAULT])]
    compression_context_takeover: PhantomVar<bool>,
    /// The largest compression window both sides may use, as a power of two
    /// (9-15, i.e. 512 bytes to 32 KiB): smaller saves memory per link.
    #[var(get = get_compression_window_bits, set = set_compression_window_bits, usage_flags = [DEFAULT])]
    compression_window_bits: PhantomVar<i32>,
    /// Server side: when [method poll] has read a client's valid upgrade
    /// request, keep it waiting in [constant STATE_CONNECTING] (its URL in
    /// [method get_requested_url], its headers in
    /// [method get_received_headers]) until [method accept_upgrade] or
    /// [method refuse_upgrade], instead of answering at once. For a token in
    /// the URL or an `Authorization` header, or one port serving several
    /// paths. The decision must come within [member handshake_timeout].
    /// Off by default, as the engine's class behaves.
    #[var(get = get_hold_upgrade, set = set_hold_upgrade, usage_flags = [DEFAULT])]
    hold_upgrade: PhantomVar<bool>,
    base: Base<PacketPeerExtension>,
}

class_enums! {
    class RustWebSocketPeer;

    enum State {
        /// The connection is being opened (name lookup, TCP, TLS and the HTTP
        /// upgrade); it is not open yet.
        STATE_CONNECTING = 0,
        /// The connection is open: messages can be sent and received.
        STATE_OPEN = 1,
        /// A close frame was sent or received and the closing handshake is
        /// under way; keep calling [method poll] until [constant STATE_CLOSED].
        STATE_CLOSING = 2,
        /// The connection is closed, or could not be opened. Packets received
        /// before the close can still be read.
        STATE_CLOSED = 3,
    }

    enum WriteMode {
        /// [method send] sends the message as a text frame; it must be UTF-8.
        WRITE_MODE_TEXT = 0,
        /// [method send] sends the message as a binary frame.
        WRITE_MODE_BINARY = 1,
    }

    enum Failure {
        /// Nothing failed: the connection is open, closed cleanly, or was
        /// never started.
        FAILURE_NONE = 0,
        /// The host name could not be looked up (no network, or a wrong name).
        FAILURE_NAME_LOOKUP = 1,
        /// The host refused the connection: nothing listens on that port.
        FAILURE_REFUSED = 2,
        /// No answer in time: the TCP connect ([member connect_timeout]) or the
        /// whole opening ([member handshake_timeout]).
        FAILURE_TIMEOUT = 3,
        /// The host could not be reached otherwise (network unreachable).
        FAILURE_UNREACHABLE = 4,
        /// TLS: the server's certificate is not signed by an authority this
        /// game trusts.
        FAILURE_TLS_UNKNOWN_ISSUER = 5,
        /// TLS: the server's certificate has expired, or is not valid yet
        /// (check the clock).
        FAILURE_TLS_EXPIRED = 6,
        /// TLS: the server's certificate is not for the host name connected to.
        FAILURE_TLS_WRONG_HOST = 7,
        /// Another TLS failure.
        FAILURE_TLS = 8,
        /// The server answered the upgrade with an HTTP status other than 101
        /// (401, 403, 404...): see [method get_failure_http_status].
        FAILURE_HTTP_STATUS = 9,
        /// Another failure of the HTTP upgrade (the server does not speak
        /// WebSocket, or no sub-protocol matched).
        FAILURE_HANDSHAKE = 10,
        /// The peer broke the WebSocket protocol; the link was closed with
        /// 1002, 1007 or 1009 (see [method get_close_code]).
        FAILURE_PROTOCOL = 11,
        /// The peer stopped answering pings ([member heartbeat_interval]).
        FAILURE_HEARTBEAT = 12,
        /// The connection was lost without a close frame.
        FAILURE_DROPPED = 13,
        /// The HTTP proxy ([method set_http_proxy], [method set_https_proxy])
        /// could not be reached, or refused the tunnel: its status is
        /// [method get_failure_http_status] (407: credentials missing or
        /// wrong; 403: not allowed; 502: it could not reach the server), 0
        /// when it did not answer.
        FAILURE_PROXY = 14,
    }
}

impl Stateful for RustWebSocketPeer {
    type State = State;
    fn registry() -> &'static Registry<State> {
        &PEERS
    }
    fn shared(&self) -> &SharedState {
        &self.shared
    }
}

impl HasLinkSettings for RustWebSocketPeer {
    const CLASS: &'static str = state::CLASS;
    fn with_config<R>(&self, f: impl FnOnce(&mut PeerConfig) -> R) -> R {
        f(&mut self.shared.lock().core.config)
    }

    /// An open link takes the new interval at once.
    fn set_heartbeat(&self, interval: f64) {
        let result = self.shared.lock().core.set_heartbeat_interval(interval);
        settings::report(Self::CLASS, result);
    }
}

impl RustWebSocketPeer {
    /// A new peer with these settings (a link of
    /// `RustWebSocketMultiplayerPeer`).
    pub(crate) fn configured(config: &PeerConfig) -> Gd<RustWebSocketPeer> {
        let gd = RustWebSocketPeer::new_gd();
        gd.bind().shared.lock().core.config = config.clone();
        gd
    }

    /// Connects as a client; reports failures like `connect_to_url`.
    pub(crate) fn connect(&self, url: &str, tls: Option<Gd<TlsOptions>>) -> Error {
        self.connect_to_url(GString::from(url), TlsArg(tls))
    }
}

impl Drop for RustWebSocketPeer {
    fn drop(&mut self) {
        // Messages batched on the main thread go out now, as far as the
        // socket takes them, rather than at the end of the frame (a game may
        // block after the free).
        let failure = self.shared.lock().flush_batch();
        state::report(failure);
        PEERS.remove(&self.shared);
    }
}

// The engine virtual methods behind PacketPeer's own methods (put_var,
// get_var, calls through a variable typed PacketPeer), bound directly over
// the state (see `crate::binding`).
direct_virtuals! {
    class RustWebSocketPeer;

    fn _get_packet(state, _this, r_buffer: *mut *const u8, r_buffer_size: *mut i32) -> Error {
        let mut state = state.lock();
        let packet = state.pop();
        // SAFETY: the pointers are the ones Godot passed.
        unsafe { packets::hand_out(packet, &mut state.held, r_buffer, r_buffer_size) }
    }

    fn _put_packet(state, _this, p_buffer: *const u8, p_buffer_size: i32) -> Error {
        // SAFETY: Godot passes a buffer of `p_buffer_size` readable bytes.
        match unsafe { packets::taken_in(p_buffer, p_buffer_size) } {
            Some(data) => state::send_message(state, data, false),
            None => Error::ERR_INVALID_PARAMETER,
        }
    }

    fn _get_available_packet_count(state, _this) -> i32 {
        state.lock().count()
    }

    fn _get_max_packet_size(state, _this) -> i32 {
        settings::as_int(state.lock().core.config.inbound_buffer_size)
    }
}

settings::link_settings_api! {
impl RustWebSocketPeer [common, max_queued_packets(buffer_size), connect_timeout, handshake_timeout] {
    /// Connects to the given URL (`ws://` or `wss://`). Returns at once; call
    /// [method poll] and check [method get_ready_state] to see it open or fail.
    /// `wss://` verifies the server's certificate and host name against the
    /// Mozilla roots; pass [method TLSOptions.client] to trust your own CA or
    /// override the name, or [method TLSOptions.client_unsafe] for testing.
    #[func]
    fn connect_to_url(
        &self,
        url: GString,
        #[opt(default = TlsArg(None))] tls_client_options: TlsArg,
    ) -> Error {
        let url = url.to_string();
        let result = tls_args::client_options(tls_client_options.0)
            .and_then(|tls| self.shared.lock().core.connect_to_url(&url, tls));
        state::to_godot(result.map_err(|e| (e, url)))
    }

    /// Accepts a peer connection, performing the HTTP handshake as a
    /// WebSocket server. [param stream] must be a TCP stream from
    /// [method TCPServer.take_connection] or a TLS stream accepted with
    /// [method StreamPeerTLS.accept_stream].
    #[func]
    fn accept_stream(&self, stream: Option<Gd<StreamPeer>>) -> Error {
        let Some(stream) = stream else {
            let err = WsError::InvalidParameter(
                "accept_stream needs a stream; got null. Pass TCPServer.take_connection().".into(),
            );
            return state::to_godot(Err((err, String::new())));
        };
        let mut state = self.shared.lock();
        // Checked before the stream is taken: a refused stream stays open
        // for the caller (taking it closes it when the peer lets go).
        let result = state
            .core
            .can_accept()
            .and_then(|()| stream::server_stream(stream).map_err(WsError::InvalidParameter))
            .and_then(|(s, tls)| state.core.accept_stream(s, tls));
        drop(state);
        state::to_godot(result.map_err(|e| (e, String::new())))
    }

    /// Closes the connection with [param code] and [param reason] (at most 123
    /// bytes of UTF-8). Keep polling until [constant STATE_CLOSED] for a clean
    /// close. A negative code drops the connection at once.
    #[func(gd_self)]
    fn close(
        this: Gd<Self>,
        #[opt(default = 1000)] code: i32,
        #[opt(default = "")] reason: GString,
    ) {
        let failure = binding::state(&this)
            .lock()
            .close(code, &reason.to_string());
        state::report(failure);
    }

    /// Returns the IP address of the connected peer. On a link a
    /// [RustWebSocketMultiplayerPeer] server accepted with
    /// [member RustWebSocketMultiplayerPeer.proxy_protocol] or
    /// [member RustWebSocketMultiplayerPeer.trusted_proxies] set, the real
    /// client behind the load balancer (see
    /// [method RustWebSocketMultiplayerPeer.get_peer_address]).
    #[func]
    fn get_connected_host(&self) -> GString {
        let addr = self.shared.lock().core.client_addr();
        addr.map(|a| GString::from(&a.ip().to_string()))
            .unwrap_or_default()
    }

    /// Returns the remote port of the connected peer (the real client's, as
    /// [method get_connected_host]; 0 when a forwarding header named no
    /// port).
    #[func]
    fn get_connected_port(&self) -> i32 {
        let addr = self.shared.lock().core.client_addr();
        addr.map_or(0, |a| i32::from(a.port()))
    }

    /// Returns the sub-protocol selected during the handshake, or an empty
    /// string.
    #[func]
    fn get_selected_protocol(&self) -> GString {
        GString::from(self.shared.lock().core.selected_protocol())
    }

    /// Returns the URL passed to [method connect_to_url], or, on the server
    /// side, the one the client asked for (from its request and Host header).
    #[func]
    fn get_requested_url(&self) -> GString {
        GString::from(self.shared.lock().core.requested_url())
    }

    /// Disables Nagle's algorithm on the TCP socket when [param enabled] is
    /// `true` (the default).
    #[func]
    fn set_no_delay(&self, enabled: bool) {
        self.shared.lock().core.set_nodelay(enabled);
    }

    /// Returns the close code received from the peer (or sent by us after a
    /// protocol error, such as 1009 for a message too big), or -1 when the
    /// connection ended without a close frame.
    #[func]
    fn get_close_code(&self) -> i32 {
        self.shared.lock().core.close_code()
    }

    /// Returns the close reason that came with [method get_close_code].
    #[func]
    fn get_close_reason(&self) -> GString {
        GString::from(self.shared.lock().core.close_reason())
    }

    /// Returns why the last connection failed or ended without a clean
    /// close: one of the `FAILURE_*` constants, [constant FAILURE_NONE] when
    /// nothing failed. Cleared by the next [method connect_to_url] or
    /// [method accept_stream]. The engine-compatible calls are unchanged
    /// ([method get_close_code] stays -1 after a failure).
    #[func]
    fn get_failure(&self) -> i32 {
        self.shared
            .lock()
            .core
            .failure()
            .map_or(FAILURE_NONE as i32, |e| e.failure() as i32)
    }

    /// Returns the failure of [method get_failure] as a sentence a game can
    /// show (what happened and what to do), or an empty string.
    #[func]
    fn get_failure_reason(&self) -> GString {
        let reason = self.shared.lock().core.failure().map(|e| e.to_string());
        GString::from(reason.unwrap_or_default().as_str())
    }

    /// Returns the HTTP status the server answered the upgrade with when that
    /// is why the connection failed ([constant FAILURE_HTTP_STATUS]), or the
    /// status the HTTP proxy refused the tunnel with ([constant FAILURE_PROXY]),
    /// else 0.
    #[func]
    fn get_failure_http_status(&self) -> i32 {
        let status = self
            .shared
            .lock()
            .core
            .failure()
            .and_then(|e| e.http_status());
        status.map_or(0, i32::from)
    }

    /// Returns the extensions agreed in the handshake, as the server's
    /// `Sec-WebSocket-Extensions` answer states them (for example
    /// `"permessage-deflate; client_max_window_bits=15"`), or an empty
    /// string when none was agreed (compression off, or the other side did
    /// not accept it).
    #[func]
    fn get_negotiated_extensions(&self) -> GString {
        GString::from(self.shared.lock().core.negotiated_extensions())
    }
}
}
