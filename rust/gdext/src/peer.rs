//! `RustWebSocketPeer`: the engine's `WebSocketPeer` API on the Rust core.
//! Each method only translates Godot types and calls [`rustws_core::Peer`].

use crate::errors;
use crate::packets;
use crate::stream;
use godot::classes::{IPacketPeerExtension, PacketPeerExtension, StreamPeer, TlsOptions};
use godot::global::{godot_error, Error};
use godot::meta::conv::RawPtr;
use godot::meta::GodotImmutable;
use godot::prelude::*;
use godot::register::private::constant::{ConstantKind, ExportConstant, IntegerConstant};
use rustws_core::multiplayer::LINK_HEARTBEAT_SECONDS;
use rustws_core::{Bytes, Peer, ReadyState, TlsClientOptions, WsError};

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
    core: Peer,
    /// The packet handed out by the last `get_packet`, kept alive for Godot.
    current: Option<Bytes>,
    last_get_error: Error,
    /// A deferred flush is queued for the end of this frame.
    flush_scheduled: bool,
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
    base: Base<PacketPeerExtension>,
}

/// Registers the `State` and `WriteMode` enums like the engine's class has.
pub fn register_enums() {
    let class = RustWebSocketPeer::class_id();
    let enums = [
        (
            "State",
            vec![
                ("STATE_CONNECTING", 0),
                ("STATE_OPEN", 1),
                ("STATE_CLOSING", 2),
                ("STATE_CLOSED", 3),
            ],
        ),
        (
            "WriteMode",
            vec![("WRITE_MODE_TEXT", 0), ("WRITE_MODE_BINARY", 1)],
        ),
    ];
    for (name, values) in enums {
        let enumerators = values
            .into_iter()
            .map(|(n, v)| IntegerConstant::new(n, v))
            .collect();
        ExportConstant::new(
            class,
            ConstantKind::Enum {
                name: StringName::from(name),
                enumerators,
            },
        )
        .register();
    }
}

const WRITE_MODE_TEXT: i32 = 0;

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
}

/// The optional `tls_client_options` argument; its default is `null`.
#[derive(Clone, Debug)]
pub struct TlsArg(pub(crate) Option<Gd<TlsOptions>>);

impl GodotConvert for TlsArg {
    type Via = Option<Gd<TlsOptions>>;

    fn godot_shape() -> godot::meta::shape::GodotShape {
        <Option<Gd<TlsOptions>> as GodotConvert>::godot_shape()
    }
}

impl ToGodot for TlsArg {
    type Pass = godot::meta::conv::ByValue;

    fn to_godot(&self) -> Self::Via {
        self.0.clone()
    }
}

impl FromGodot for TlsArg {
    fn try_from_godot(via: Self::Via) -> Result<Self, godot::meta::error::ConvertError> {
        Ok(TlsArg(via))
    }
}

// SAFETY: the only value ever used as a default is `TlsArg(None)`, which holds
// no object and so cannot be mutated or shared across threads.
unsafe impl GodotImmutable for TlsArg {}

impl RustWebSocketPeer {
    fn strings(list: &PackedStringArray) -> Vec<String> {
        list.as_slice().iter().map(|s| s.to_string()).collect()
    }

    /// The properties into the core's config (the setters already checked
    /// and trimmed them).
    fn sync_config(&mut self) {
        let config = &mut self.core.config;
        config.handshake_headers = Self::strings(&self.handshake_headers);
        config.supported_protocols = Self::strings(&self.supported_protocols);
        config.inbound_buffer_size = self.inbound_buffer_size.max(1) as usize;
        config.outbound_buffer_size = self.outbound_buffer_size.max(0) as usize;
        config.max_queued_packets = self.max_queued_packets.max(1) as usize;
        config.heartbeat_interval = self.heartbeat_interval;
    }

    fn send_bytes(&mut self, data: &[u8], text: bool) -> Error {
        let result = self.core.send(data, text);
        if result.is_ok() {
            self.schedule_flush();
        }
        errors::to_godot(result, self.core.requested_url())
    }

    /// Sent messages are batched; what is still buffered at the end of this
    /// frame (or at the next poll) is written then, in one go.
    fn schedule_flush(&mut self) {
        if self.flush_scheduled || !self.core.has_unflushed() {
            return;
        }
        self.flush_scheduled = true;
        let id = self.base().instance_id();
        Callable::from_fn("RustWebSocketPeer.flush", move |_| {
            if let Ok(mut peer) = Gd::<RustWebSocketPeer>::try_from_instance_id(id) {
                let mut this = peer.bind_mut();
                this.flush_scheduled = false;
                if let Some(err) = this.core.flush() {
                    errors::report(&err, this.core.requested_url());
                }
            }
        })
        .call_deferred(&[]);
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
            p.core.config.handshake_timeout = settings.handshake_timeout;
            p.set_heartbeat_interval(LINK_HEARTBEAT_SECONDS);
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
        self.sync_config();
        self.core.accept_stream(stream, tls)
    }

    pub(crate) fn link_state(&self) -> ReadyState {
        self.core.ready_state()
    }

    pub(crate) fn link_send(&mut self, data: &[u8]) -> Result<(), WsError> {
        self.core.send(data, false)?;
        self.schedule_flush();
        Ok(())
    }

    pub(crate) fn link_pop(&mut self) -> Option<Bytes> {
        self.core.pop_packet().map(|p| p.data)
    }

    pub(crate) fn link_peer_addr(&self) -> Option<std::net::SocketAddr> {
        self.core.peer_addr()
    }

    fn tls_options(options: Option<Gd<TlsOptions>>) -> Result<TlsClientOptions, WsError> {
        let Some(options) = options else {
            return Ok(TlsClientOptions::Default);
        };
        if options.is_server() {
            return Err(WsError::InvalidParameter(
                "connect_to_url needs client TLS options (TLSOptions.client() or TLSOptions.client_unsafe()), not TLSOptions.server()".into(),
            ));
        }
        if options.is_unsafe_client() {
            return Ok(TlsClientOptions::Unsafe);
        }
        // A chain that cannot be written out is an error: falling back to
        // the default roots would silently drop the user's pinning.
        let ca_pem = match options.get_trusted_ca_chain() {
            None => None,
            Some(mut chain) => Some(crate::certs::pem(&mut chain).map_err(|why| {
                WsError::Tls(format!(
                    "the trusted_chain of TLSOptions.client cannot be used: {why}"
                ))
            })?),
        };
        let common_name_override = options.get_common_name_override().to_string();
        if ca_pem.is_none() && common_name_override.is_empty() {
            return Ok(TlsClientOptions::Default);
        }
        Ok(TlsClientOptions::Trusted {
            ca_pem: ca_pem.map(String::into_bytes),
            common_name_override,
        })
    }

    fn check_positive(value: i32, what: &str) -> bool {
        errors::positive("RustWebSocketPeer", value, what)
    }
}

#[godot_api]
impl IPacketPeerExtension for RustWebSocketPeer {
    fn init(base: Base<PacketPeerExtension>) -> Self {
        RustWebSocketPeer {
            core: Peer::default(),
            current: None,
            last_get_error: Error::OK,
            flush_scheduled: false,
            handshake_headers: PackedStringArray::new(),
            heartbeat_interval: 0.0,
            inbound_buffer_size: 65535,
            max_queued_packets: 4096,
            outbound_buffer_size: 65535,
            supported_protocols: PackedStringArray::new(),
            base,
        }
    }

    unsafe fn get_packet_rawptr(
        &mut self,
        r_buffer: RawPtr<*mut RawPtr<*const u8>>,
        r_buffer_size: RawPtr<*mut i32>,
    ) -> Error {
        let packet = self.core.pop_packet().map(|p| p.data);
        self.last_get_error = if packet.is_some() {
            Error::OK
        } else {
            Error::ERR_UNAVAILABLE
        };
        // SAFETY: the pointers are the ones Godot passed.
        unsafe { packets::hand_out(packet, &mut self.current, r_buffer, r_buffer_size) }
    }

    unsafe fn put_packet_rawptr(
        &mut self,
        p_buffer: RawPtr<*const u8>,
        p_buffer_size: i32,
    ) -> Error {
        // SAFETY: Godot passes a buffer of `p_buffer_size` readable bytes.
        match unsafe { packets::taken_in(p_buffer, p_buffer_size) } {
            Some(data) => self.send_bytes(data, false),
            None => Error::ERR_INVALID_PARAMETER,
        }
    }

    fn get_available_packet_count(&self) -> i32 {
        i32::try_from(self.core.available_packets()).unwrap_or(i32::MAX)
    }

    fn get_max_packet_size(&self) -> i32 {
        self.inbound_buffer_size
    }
}

#[godot_api]
impl RustWebSocketPeer {
    /// Returns the next received packet, or an empty array when there is none
    /// (then [method get_packet_error] returns [constant ERR_UNAVAILABLE]).
    /// The same as [method PacketPeer.get_packet], registered on this class so
    /// the packet is copied in one block rather than byte by byte.
    #[func]
    fn get_packet(&mut self) -> PackedByteArray {
        match self.core.pop_packet() {
            Some(packet) => {
                self.last_get_error = Error::OK;
                PackedByteArray::from(&packet.data[..])
            }
            None => {
                self.last_get_error = Error::ERR_UNAVAILABLE;
                PackedByteArray::new()
            }
        }
    }

    /// Returns the error of the last [method get_packet] (or [method get_var]).
    #[func]
    fn get_packet_error(&self) -> Error {
        self.last_get_error
    }

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
        self.sync_config();
        let url = url.to_string();
        let result = Self::tls_options(tls_client_options.0)
            .and_then(|tls| self.core.connect_to_url(&url, tls));
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
        self.sync_config();
        let result = stream::server_stream(stream)
            .map_err(WsError::InvalidParameter)
            .and_then(|(s, tls)| self.core.accept_stream(s, tls));
        errors::to_godot(result, "")
    }

    /// Sends [param message] as a binary frame, or as a text frame when
    /// [param write_mode] is `WRITE_MODE_TEXT` (then it must be UTF-8).
    #[func]
    fn send(&mut self, message: PackedByteArray, #[opt(default = 1)] write_mode: i32) -> Error {
        self.send_bytes(message.as_slice(), write_mode == WRITE_MODE_TEXT)
    }

    /// Sends [param message] as a text frame.
    #[func]
    fn send_text(&mut self, message: GString) -> Error {
        let text = message.to_string();
        self.send_bytes(text.as_bytes(), true)
    }

    /// Returns `true` if the last packet read came in a text frame.
    #[func]
    fn was_string_packet(&self) -> bool {
        self.core.was_text()
    }

    /// Updates the connection: handshake, receiving packets, sending queued
    /// data, heartbeats and the closing handshake. Call it every frame.
    #[func]
    pub(crate) fn poll(&mut self) {
        if let Some(err) = self.core.poll() {
            errors::report(&err, self.core.requested_url());
        }
    }

    /// Closes the connection with [param code] and [param reason] (at most 123
    /// bytes of UTF-8). Keep polling until [constant STATE_CLOSED] for a clean
    /// close. A negative code drops the connection at once.
    #[func]
    pub(crate) fn close(
        &mut self,
        #[opt(default = 1000)] code: i32,
        #[opt(default = "")] reason: GString,
    ) {
        if let Some(complaint) = self.core.close(code, &reason.to_string()) {
            errors::report(&complaint, self.core.requested_url());
        }
    }

    /// Returns the IP address of the connected peer.
    #[func]
    fn get_connected_host(&self) -> GString {
        self.core
            .peer_addr()
            .map(|a| GString::from(&a.ip().to_string()))
            .unwrap_or_default()
    }

    /// Returns the remote port of the connected peer.
    #[func]
    fn get_connected_port(&self) -> i32 {
        self.core.peer_addr().map_or(0, |a| i32::from(a.port()))
    }

    /// Returns the sub-protocol selected during the handshake, or an empty
    /// string.
    #[func]
    fn get_selected_protocol(&self) -> GString {
        GString::from(self.core.selected_protocol())
    }

    /// Returns the URL passed to [method connect_to_url], or, on the server
    /// side, the one the client asked for (from its request and Host header).
    #[func]
    fn get_requested_url(&self) -> GString {
        GString::from(self.core.requested_url())
    }

    /// Disables Nagle's algorithm on the TCP socket when [param enabled] is
    /// `true` (the default).
    #[func]
    fn set_no_delay(&mut self, enabled: bool) {
        self.core.set_nodelay(enabled);
    }

    /// Returns the number of bytes waiting to be sent.
    #[func]
    fn get_current_outbound_buffered_amount(&self) -> i32 {
        i32::try_from(self.core.buffered_amount()).unwrap_or(i32::MAX)
    }

    /// Returns the connection state: `STATE_CONNECTING`, `STATE_OPEN`,
    /// `STATE_CLOSING` or `STATE_CLOSED`.
    #[func]
    fn get_ready_state(&self) -> i32 {
        match self.core.ready_state() {
            ReadyState::Connecting => 0,
            ReadyState::Open => 1,
            ReadyState::Closing => 2,
            ReadyState::Closed => 3,
        }
    }

    /// Returns the close code received from the peer (or sent by us after a
    /// protocol error, such as 1009 for a message too big), or -1 when the
    /// connection ended without a close frame.
    #[func]
    fn get_close_code(&self) -> i32 {
        self.core.close_code()
    }

    /// Returns the close reason that came with [method get_close_code].
    #[func]
    fn get_close_reason(&self) -> GString {
        GString::from(self.core.close_reason())
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
        self.core.set_heartbeat_interval(interval);
    }

    /// Returns [member heartbeat_interval].
    #[func]
    fn get_heartbeat_interval(&self) -> f64 {
        self.heartbeat_interval
    }
}
