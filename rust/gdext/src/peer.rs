//! `RustWebSocketPeer`: the engine's `WebSocketPeer` API on the Rust core.
//! Each method only translates Godot types and calls into [`crate::link`]
//! (the core behind a lock). The methods a game calls per message or per
//! frame are bound directly, in [`crate::peer_calls`]; a few others take
//! `#[func(gd_self)]` and reach the state through the registry (see
//! [`crate::shared`]); the rest bind the object as usual.

use crate::direct;
use crate::errors;
use crate::link::{self, SharedState, State, PEERS};
use crate::packets;
use crate::stream;
use crate::tls_args;
pub(crate) use crate::tls_args::TlsArg;
use godot::classes::{IPacketPeerExtension, PacketPeerExtension, StreamPeer, TlsOptions};
use godot::global::{godot_error, Error};
use godot::meta::conv::RawPtr;
use godot::prelude::*;
use rustws_core::extension::DeflateConfig;
use rustws_core::multiplayer::LINK_HEARTBEAT_SECONDS;
use rustws_core::peer::DEFAULT_COMPRESSION_THRESHOLD;
use rustws_core::WsError;

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
#[class(base = PacketPeerExtension, tool)]
pub struct RustWebSocketPeer {
    shared: SharedState,
    /// The extra HTTP headers sent during the WebSocket handshake (client
    /// request, or server response), each `"Name: value"`.
    #[var(get = get_handshake_headers, set = set_handshake_headers)]
    handshake_headers: PackedStringArray,
    /// The interval in seconds between automatic "ping" frames; a link whose
    /// pong has not come back by the next ping is dropped. 0 sends none.
    /// Takes effect at once, also on an open link.
    #[var(get = get_heartbeat_interval, set = set_heartbeat_interval)]
    heartbeat_interval: f64,
    /// The largest message accepted, in bytes, and the budget of received
    /// bytes waiting to be read. A larger message closes the link with 1009.
    /// Takes effect at the next connect or accept.
    #[var(get = get_inbound_buffer_size, set = set_inbound_buffer_size)]
    inbound_buffer_size: i32,
    /// The most packets queued, inbound and outbound each.
    #[var(get = get_max_queued_packets, set = set_max_queued_packets)]
    max_queued_packets: i32,
    /// The most bytes waiting to be sent; a send beyond it returns
    /// `ERR_OUT_OF_MEMORY`. 0 means no limit.
    #[var(get = get_outbound_buffer_size, set = set_outbound_buffer_size)]
    outbound_buffer_size: i32,
    /// The WebSocket sub-protocols offered (client) or accepted (server).
    #[var(get = get_supported_protocols, set = set_supported_protocols)]
    supported_protocols: PackedStringArray,
    /// Compress messages with permessage-deflate (RFC 7692): a client offers
    /// it, a server accepts a client's offer. Off by default, so the wire is
    /// as the engine's class makes it. See [method get_negotiated_extensions]
    /// for what was agreed. Takes effect at the next connect or accept.
    #[var]
    compression_enabled: bool,
    /// Messages shorter than this many bytes are sent uncompressed (not worth
    /// it); 0 compresses every message.
    #[var(set = set_compression_threshold)]
    compression_threshold: i32,
    /// Keep the compression context between messages: better compression,
    /// but each link holds a zlib state per direction for its whole life.
    /// `false` asks both sides to start each message afresh, so idle links
    /// hold none (for servers with many links).
    #[var]
    compression_context_takeover: bool,
    /// The largest compression window both sides may use, as a power of two
    /// (9-15, i.e. 512 bytes to 32 KiB): smaller saves memory per link.
    #[var(set = set_compression_window_bits)]
    compression_window_bits: i32,
    base: Base<PacketPeerExtension>,
}

/// The `State` and `WriteMode` enums, as the engine's class has them, with
/// the text the editor's help shows for each constant.
const ENUMS: &[direct::Enum] = &[
    direct::Enum {
        name: "State",
        constants: &[
            ("STATE_CONNECTING", 0, "The connection is being opened (name lookup, TCP, TLS and the HTTP upgrade); it is not open yet."),
            ("STATE_OPEN", 1, "The connection is open: messages can be sent and received."),
            ("STATE_CLOSING", 2, "A close frame was sent or received and the closing handshake is under way; keep calling [method poll] until [constant STATE_CLOSED]."),
            ("STATE_CLOSED", 3, "The connection is closed, or could not be opened. Packets received before the close can still be read."),
        ],
    },
    direct::Enum {
        name: "WriteMode",
        constants: &[
            ("WRITE_MODE_TEXT", 0, "[method send] sends the message as a text frame; it must be UTF-8."),
            ("WRITE_MODE_BINARY", 1, "[method send] sends the message as a binary frame."),
        ],
    },
];

/// Registers the class's enums (see [`ENUMS`]).
pub fn register_enums() {
    direct::register_enums::<RustWebSocketPeer>(ENUMS);
}

pub(crate) const WRITE_MODE_TEXT: i32 = 0;

/// The settings `RustWebSocketMultiplayerPeer` gives each of its links.
#[derive(Clone)]
pub(crate) struct LinkSettings {
    pub supported_protocols: PackedStringArray,
    pub handshake_headers: PackedStringArray,
    pub inbound_buffer_size: i32,
    pub outbound_buffer_size: i32,
    pub max_queued_packets: i32,
    /// Longest time for a link to open (its connect included).
    pub handshake_timeout: std::time::Duration,
    pub compression_enabled: bool,
    pub compression_threshold: i32,
    pub compression_context_takeover: bool,
    pub compression_window_bits: i32,
}

impl RustWebSocketPeer {
    /// The state of `this`, without binding it (see [`crate::shared`]).
    fn state(this: &Gd<Self>) -> SharedState {
        PEERS.get(this.instance_id_unchecked(), || this.bind().shared.clone())
    }

    /// The state, for methods that have the object bound anyway.
    pub(crate) fn shared(&self) -> &SharedState {
        &self.shared
    }

    fn strings(list: &PackedStringArray) -> Vec<String> {
        list.as_slice().iter().map(|s| s.to_string()).collect()
    }

    /// The properties into the core's config (the setters already checked
    /// and trimmed them).
    fn sync_config(&self, state: &mut State) {
        let config = &mut state.core.config;
        config.handshake_headers = Self::strings(&self.handshake_headers);
        config.supported_protocols = Self::strings(&self.supported_protocols);
        config.inbound_buffer_size = self.inbound_buffer_size.max(1) as usize;
        config.outbound_buffer_size = self.outbound_buffer_size.max(0) as usize;
        config.max_queued_packets = self.max_queued_packets.max(1) as usize;
        config.heartbeat_interval = self.heartbeat_interval;
        config.compression = self.compression_enabled.then_some(DeflateConfig {
            context_takeover: self.compression_context_takeover,
            max_window_bits: self.compression_window_bits.clamp(9, 15) as u8,
        });
        config.compression_threshold = self.compression_threshold.max(0) as usize;
    }

    /// Sends one message on `shared`, reporting a failure.
    pub(crate) fn send_shared(shared: &SharedState, data: &[u8], text: bool) -> Error {
        let result = shared.lock().send(shared, data, text);
        match result {
            Ok(()) => Error::OK,
            Err((err, url)) => {
                errors::report(&err, &url);
                errors::code(&err)
            }
        }
    }

    /// A new peer with these settings (used for the links of
    /// `RustWebSocketMultiplayerPeer`), set through the same setters as
    /// from GDScript, so the same rules apply (sub-protocols are trimmed).
    pub(crate) fn configured(settings: &LinkSettings) -> Gd<RustWebSocketPeer> {
        let mut gd = RustWebSocketPeer::new_gd();
        {
            let mut p = gd.bind_mut();
            p.set_supported_protocols(settings.supported_protocols.clone());
            p.set_handshake_headers(settings.handshake_headers.clone());
            p.set_inbound_buffer_size(settings.inbound_buffer_size);
            p.set_outbound_buffer_size(settings.outbound_buffer_size);
            p.set_max_queued_packets(settings.max_queued_packets);
            p.shared.lock().core.config.handshake_timeout = settings.handshake_timeout;
            p.set_heartbeat_interval(LINK_HEARTBEAT_SECONDS);
            p.compression_enabled = settings.compression_enabled;
            p.set_compression_threshold(settings.compression_threshold);
            p.compression_context_takeover = settings.compression_context_takeover;
            p.set_compression_window_bits(settings.compression_window_bits);
        }
        gd
    }

    /// Connects as a client; reports failures like `connect_to_url`.
    pub(crate) fn connect(&mut self, url: &str, tls: Option<Gd<TlsOptions>>) -> Error {
        self.connect_to_url(GString::from(url), TlsArg(tls))
    }

    /// Starts the server side on a stream the core accepted itself.
    pub(crate) fn accept_core_stream(
        &mut self,
        stream: Box<dyn rustws_core::Stream>,
        tls: bool,
    ) -> Result<(), WsError> {
        let mut state = self.shared.lock();
        self.sync_config(&mut state);
        state.core.accept_stream(stream, tls)
    }

    fn check_positive(value: i32, what: &str) -> bool {
        errors::positive("RustWebSocketPeer", value, what)
    }
}

impl Drop for RustWebSocketPeer {
    fn drop(&mut self) {
        PEERS.remove(&self.shared);
    }
}

#[godot_api]
impl IPacketPeerExtension for RustWebSocketPeer {
    fn init(base: Base<PacketPeerExtension>) -> Self {
        RustWebSocketPeer {
            shared: State::new(),
            handshake_headers: PackedStringArray::new(),
            heartbeat_interval: 0.0,
            inbound_buffer_size: 65535,
            max_queued_packets: 4096,
            outbound_buffer_size: 65535,
            supported_protocols: PackedStringArray::new(),
            compression_enabled: false,
            compression_threshold: DEFAULT_COMPRESSION_THRESHOLD as i32,
            compression_context_takeover: true,
            compression_window_bits: 15,
            base,
        }
    }

    // The raw-pointer virtuals serve PacketPeer's own methods (put_var,
    // get_var, calls through a variable typed PacketPeer). They are optional
    // virtuals, so they too skip binding the object.
    #[func(gd_self)]
    unsafe fn get_packet_rawptr(
        this: Gd<Self>,
        r_buffer: RawPtr<*mut RawPtr<*const u8>>,
        r_buffer_size: RawPtr<*mut i32>,
    ) -> Error {
        let shared = Self::state(&this);
        let mut state = shared.lock();
        let packet = state.pop();
        // SAFETY: the pointers are the ones Godot passed.
        unsafe { packets::hand_out(packet, &mut state.held, r_buffer, r_buffer_size) }
    }

    #[func(gd_self)]
    unsafe fn put_packet_rawptr(
        this: Gd<Self>,
        p_buffer: RawPtr<*const u8>,
        p_buffer_size: i32,
    ) -> Error {
        // SAFETY: Godot passes a buffer of `p_buffer_size` readable bytes.
        match unsafe { packets::taken_in(p_buffer, p_buffer_size) } {
            Some(data) => Self::send_shared(&Self::state(&this), data, false),
            None => Error::ERR_INVALID_PARAMETER,
        }
    }

    fn get_available_packet_count(&self) -> i32 {
        crate::peer_calls::count(&self.shared)
    }

    fn get_max_packet_size(&self) -> i32 {
        self.inbound_buffer_size
    }
}

#[godot_api]
impl RustWebSocketPeer {
    /// Connects to the given URL (`ws://` or `wss://`). Returns at once; call
    /// [method poll] and check [method get_ready_state] to see it open or fail.
    /// `wss://` verifies the server's certificate and host name against the
    /// Mozilla roots; pass [method TLSOptions.client] to trust your own CA or
    /// override the name, or [method TLSOptions.client_unsafe] for testing.
    #[func]
    fn connect_to_url(
        &mut self,
        url: GString,
        #[opt(default = TlsArg(None))] tls_client_options: TlsArg,
    ) -> Error {
        let url = url.to_string();
        let result = tls_args::client_options(tls_client_options.0).and_then(|tls| {
            let mut state = self.shared.lock();
            self.sync_config(&mut state);
            state.core.connect_to_url(&url, tls)
        });
        errors::to_godot(result, &url)
    }

    /// Accepts a peer connection, performing the HTTP handshake as a
    /// WebSocket server. [param stream] must be a TCP stream from
    /// [method TCPServer.take_connection] or a TLS stream accepted with
    /// [method StreamPeerTLS.accept_stream].
    #[func]
    fn accept_stream(&mut self, stream: Option<Gd<StreamPeer>>) -> Error {
        let Some(stream) = stream else {
            let err = WsError::InvalidParameter(
                "accept_stream needs a stream; got null. Pass TCPServer.take_connection().".into(),
            );
            return errors::to_godot(Err(err), "");
        };
        let mut state = self.shared.lock();
        self.sync_config(&mut state);
        // Checked before the stream is taken: a refused stream stays open
        // for the caller (taking it closes it when the peer lets go).
        let result = state
            .core
            .can_accept()
            .and_then(|()| stream::server_stream(stream).map_err(WsError::InvalidParameter))
            .and_then(|(s, tls)| state.core.accept_stream(s, tls));
        drop(state);
        errors::to_godot(result, "")
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
        let failure = Self::state(&this).lock().close(code, &reason.to_string());
        link::report(failure);
    }

    /// Returns the IP address of the connected peer.
    #[func]
    fn get_connected_host(&self) -> GString {
        let addr = self.shared.lock().core.peer_addr();
        addr.map(|a| GString::from(&a.ip().to_string()))
            .unwrap_or_default()
    }

    /// Returns the remote port of the connected peer.
    #[func]
    fn get_connected_port(&self) -> i32 {
        let addr = self.shared.lock().core.peer_addr();
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
    fn set_no_delay(&mut self, enabled: bool) {
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

    /// Returns [member supported_protocols].
    #[func]
    fn get_supported_protocols(&self) -> PackedStringArray {
        self.supported_protocols.clone()
    }

    /// Sets [member supported_protocols]; spaces around each are removed.
    #[func]
    fn set_supported_protocols(&mut self, protocols: PackedStringArray) {
        self.supported_protocols = protocols
            .as_slice()
            .iter()
            .map(|s| GString::from(s.to_string().trim()))
            .collect();
    }

    /// Returns [member handshake_headers].
    #[func]
    fn get_handshake_headers(&self) -> PackedStringArray {
        self.handshake_headers.clone()
    }

    /// Sets [member handshake_headers].
    #[func]
    fn set_handshake_headers(&mut self, protocols: PackedStringArray) {
        self.handshake_headers = protocols;
    }

    /// Returns [member inbound_buffer_size].
    #[func]
    fn get_inbound_buffer_size(&self) -> i32 {
        self.inbound_buffer_size
    }

    /// Sets [member inbound_buffer_size] (bytes, greater than 0).
    #[func]
    fn set_inbound_buffer_size(&mut self, buffer_size: i32) {
        if Self::check_positive(buffer_size, "inbound_buffer_size") {
            self.inbound_buffer_size = buffer_size;
        }
    }

    /// Returns [member outbound_buffer_size].
    #[func]
    fn get_outbound_buffer_size(&self) -> i32 {
        self.outbound_buffer_size
    }

    /// Sets [member outbound_buffer_size] (bytes; 0 means no limit).
    #[func]
    fn set_outbound_buffer_size(&mut self, buffer_size: i32) {
        if errors::zero_or_more("RustWebSocketPeer", buffer_size, "outbound_buffer_size") {
            self.outbound_buffer_size = buffer_size;
        }
    }

    /// Sets [member max_queued_packets] (greater than 0).
    #[func]
    fn set_max_queued_packets(&mut self, buffer_size: i32) {
        if Self::check_positive(buffer_size, "max_queued_packets") {
            self.max_queued_packets = buffer_size;
        }
    }

    /// Returns [member max_queued_packets].
    #[func]
    fn get_max_queued_packets(&self) -> i32 {
        self.max_queued_packets
    }

    /// Sets [member heartbeat_interval] in seconds (0 or more).
    #[func]
    fn set_heartbeat_interval(&mut self, interval: f64) {
        if interval < 0.0 || !interval.is_finite() {
            godot_error!("RustWebSocketPeer: heartbeat_interval must be 0 or more seconds (got {interval}); the value was not changed.");
            return;
        }
        self.heartbeat_interval = interval;
        // Applies to an open link at once, as in the engine.
        self.shared.lock().core.set_heartbeat_interval(interval);
    }

    /// Returns [member heartbeat_interval].
    #[func]
    fn get_heartbeat_interval(&self) -> f64 {
        self.heartbeat_interval
    }

    /// Sets [member compression_threshold] (bytes, 0 or more).
    #[func]
    fn set_compression_threshold(&mut self, bytes: i32) {
        if errors::zero_or_more("RustWebSocketPeer", bytes, "compression_threshold") {
            self.compression_threshold = bytes;
        }
    }

    /// Sets [member compression_window_bits] (9-15).
    #[func]
    fn set_compression_window_bits(&mut self, bits: i32) {
        if errors::window_bits("RustWebSocketPeer", bits) {
            self.compression_window_bits = bits;
        }
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
