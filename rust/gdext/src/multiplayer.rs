//! `RustWebSocketMultiplayerPeer`: the engine's `WebSocketMultiplayerPeer`
//! API for Godot's high-level multiplayer, on the core's
//! [`rustws_core::multiplayer::Hub`]. Each link is a `RustWebSocketPeer`
//! (what `get_peer()` returns); this file only translates types and turns
//! hub events into the `peer_connected`/`peer_disconnected` signals.

use crate::link::{self, SharedState};
use crate::packets;
use crate::peer::{LinkSettings, RustWebSocketPeer, TlsArg};
use crate::shared::{Registry, Shared};
use godot::classes::multiplayer_peer::{ConnectionStatus, TransferMode};
use godot::classes::{IMultiplayerPeerExtension, MultiplayerPeerExtension};
use godot::global::{godot_error, Error};
use godot::meta::conv::RawPtr;
use godot::prelude::*;
use rustws_core::multiplayer::{Event, Hub, HubError, Link, Status};
use rustws_core::peer::DEFAULT_COMPRESSION_THRESHOLD;
use rustws_core::{Bytes, ReadyState, Stream, WsError};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// The bytes the engine's class keeps back from `outbound_buffer_size` for
/// its own framing; `get_max_packet_size` subtracts the same.
const PROTO_SIZE: i32 = 9;

const CLASS: &str = "RustWebSocketMultiplayerPeer";

/// A link of the hub: a `RustWebSocketPeer` object (what `get_peer()` hands
/// out) and its state, which the hub uses directly.
pub struct Linked(Gd<RustWebSocketPeer>, SharedState);

// SAFETY: a Linked belongs to the hub of one RustWebSocketMultiplayerPeer,
// used from one thread at a time (as the engine's objects are); its Gd keeps
// a ref-counted object alive (atomic counts) and is only cloned out for
// `get_peer`. The link's state is behind its own lock.
unsafe impl Send for Linked {}

impl Linked {
    fn new(peer: Gd<RustWebSocketPeer>) -> Linked {
        let shared = peer.bind().shared().clone();
        Linked(peer, shared)
    }
}

impl Link for Linked {
    fn poll(&mut self) {
        // As the class's own poll: reports its errors like any peer.
        let failure = self.1.lock().poll();
        link::report(failure);
    }
    fn state(&self) -> ReadyState {
        self.1.lock().core.ready_state()
    }
    fn send(&mut self, data: &[u8]) -> Result<(), WsError> {
        self.1.lock().send(&self.1, data, false).map_err(|(e, _)| e)
    }
    fn pop(&mut self) -> Option<Bytes> {
        self.1.lock().core.pop_packet().map(|p| p.data)
    }
    fn close(&mut self) {
        let failure = self.1.lock().close(1000, "");
        link::report(failure);
    }
    fn peer_addr(&self) -> Option<SocketAddr> {
        self.1.lock().core.peer_addr()
    }
    fn poll_drain(&mut self, out: &mut dyn FnMut(Bytes)) -> ReadyState {
        let (failure, state) = {
            let mut link = self.1.lock();
            let failure = link.poll();
            while let Some(p) = link.core.pop_packet() {
                out(p.data);
            }
            (failure, link.core.ready_state())
        };
        link::report(failure);
        state
    }
}

/// A [MultiplayerPeer] over WebSockets written in Rust, a drop-in
/// replacement for the engine's [WebSocketMultiplayerPeer]: same methods,
/// properties and defaults, and the same wire rules, so a server of one class
/// serves clients of the other. Assign it to [member MultiplayerAPI.multiplayer_peer]
/// after [method create_server] or [method create_client].
///
/// The server (peer 1) listens itself and serves `wss://` through rustls
/// when given [method TLSOptions.server]; each link is a
/// [RustWebSocketPeer], returned by [method get_peer].
#[derive(GodotClass)]
#[class(base = MultiplayerPeerExtension, tool)]
pub struct RustWebSocketMultiplayerPeer {
    shared: Arc<Shared<MpState>>,
    transfer_channel: i32,
    transfer_mode: TransferMode,
    /// The WebSocket sub-protocols offered (client) or accepted (server).
    #[var(get = get_supported_protocols, set = set_supported_protocols)]
    supported_protocols: PackedStringArray,
    /// Extra HTTP headers sent in the handshake, each `"Name: value"`.
    #[var(get = get_handshake_headers, set = set_handshake_headers)]
    handshake_headers: PackedStringArray,
    /// The largest message accepted by each link, in bytes.
    #[var(get = get_inbound_buffer_size, set = set_inbound_buffer_size)]
    inbound_buffer_size: i32,
    /// The most bytes waiting to be sent on each link; 0 means no limit.
    #[var(get = get_outbound_buffer_size, set = set_outbound_buffer_size)]
    outbound_buffer_size: i32,
    /// Seconds a new link has to open (and, for a client, to get its id)
    /// before it is dropped.
    #[var(get = get_handshake_timeout, set = set_handshake_timeout)]
    handshake_timeout: f64,
    /// The most packets queued on each link, inbound and outbound each.
    #[var(get = get_max_queued_packets, set = set_max_queued_packets)]
    max_queued_packets: i32,
    /// Compress messages with permessage-deflate (RFC 7692) on every link: a
    /// client offers it, the server accepts offers. Off by default (the wire
    /// is then as the engine's class makes it). Set before
    /// [method create_client] or [method create_server].
    #[var]
    compression_enabled: bool,
    /// Packets shorter than this many bytes are sent uncompressed; 0
    /// compresses every packet.
    #[var(set = set_compression_threshold)]
    compression_threshold: i32,
    /// Keep the compression context between packets (better compression, a
    /// zlib state per direction per link). `false` asks both sides to start
    /// each packet afresh, so idle links hold none: for servers with many
    /// clients.
    #[var]
    compression_context_takeover: bool,
    /// The largest compression window both sides may use, as a power of two
    /// (9-15): smaller saves memory per link.
    #[var(set = set_compression_window_bits)]
    compression_window_bits: i32,
    base: Base<MultiplayerPeerExtension>,
}

/// What the packet methods share (see [`crate::shared`]): the hub and the
/// packet handed to Godot.
pub struct MpState {
    pub(crate) hub: Hub<Linked>,
    /// The packet handed out by the last `get_packet`, kept alive for Godot.
    held: Option<Bytes>,
    /// What `get_packet_error` answers.
    pub(crate) last_get_error: Error,
}

impl MpState {
    /// The next received packet, noting `get_packet_error`'s answer:
    /// `ERR_UNCONFIGURED` when not connected, `ERR_UNAVAILABLE` when none.
    pub(crate) fn pop(&mut self) -> Result<Bytes, Error> {
        let packet = if self.hub.status() != Status::Connected {
            Err(Error::ERR_UNCONFIGURED)
        } else {
            self.hub
                .pop_packet()
                .map(|p| p.data)
                .ok_or(Error::ERR_UNAVAILABLE)
        };
        self.last_get_error = packet.as_ref().err().copied().unwrap_or(Error::OK);
        packet
    }

    /// `get_available_packet_count`'s answer.
    pub(crate) fn count(&self) -> i32 {
        i32::try_from(self.hub.available_packets()).unwrap_or(i32::MAX)
    }

    /// Sends to the target peer, reporting a failure.
    pub(crate) fn put(shared: &Shared<MpState>, data: &[u8]) -> Error {
        let result = shared.lock().hub.put_packet(data);
        match result {
            Ok(()) => Error::OK,
            Err(e) => hub_error(e),
        }
    }
}

/// Every `RustWebSocketMultiplayerPeer`'s state by instance id.
pub(crate) static MULTIS: Registry<MpState> = Registry::new();

fn hub_error(err: HubError) -> Error {
    let code = match &err {
        HubError::AlreadyInUse | HubError::AddressInUse(_) => Error::ERR_ALREADY_IN_USE,
        HubError::NotConnected => Error::ERR_UNCONFIGURED,
        HubError::NoSuchPeer(_) => Error::ERR_INVALID_PARAMETER,
        HubError::Listen(_) => Error::ERR_CANT_CREATE,
        HubError::Send(e) => crate::errors::code(e),
    };
    godot_error!("RustWebSocketMultiplayerPeer: {err}");
    code
}

impl RustWebSocketMultiplayerPeer {
    fn settings(&self) -> LinkSettings {
        LinkSettings {
            supported_protocols: self.supported_protocols.clone(),
            handshake_headers: self.handshake_headers.clone(),
            inbound_buffer_size: self.inbound_buffer_size,
            outbound_buffer_size: self.outbound_buffer_size,
            max_queued_packets: self.max_queued_packets,
            handshake_timeout: self.shared.lock().hub.handshake_timeout,
            compression_enabled: self.compression_enabled,
            compression_threshold: self.compression_threshold,
            compression_context_takeover: self.compression_context_takeover,
            compression_window_bits: self.compression_window_bits,
        }
    }

    fn positive(value: i32, what: &str) -> bool {
        crate::errors::positive("RustWebSocketMultiplayerPeer", value, what)
    }

    /// `f` of the link of peer `id`, or `None` with an error.
    fn with_link<R>(&self, id: i32, f: impl FnOnce(&Linked) -> R) -> Option<R> {
        let found = self.shared.lock().hub.link(id).map(f);
        if found.is_none() {
            godot_error!("RustWebSocketMultiplayerPeer: no connected peer with id {id}.");
        }
        found
    }

    /// The state, for code that has the object bound anyway.
    pub(crate) fn shared(&self) -> &Arc<Shared<MpState>> {
        &self.shared
    }

    /// The state of `this`, without binding it.
    fn state(this: &Gd<Self>) -> Arc<Shared<MpState>> {
        MULTIS.get(this.instance_id_unchecked(), || this.bind().shared.clone())
    }
}

impl Drop for RustWebSocketMultiplayerPeer {
    fn drop(&mut self) {
        MULTIS.remove(&self.shared);
    }
}

#[godot_api]
impl IMultiplayerPeerExtension for RustWebSocketMultiplayerPeer {
    fn init(base: Base<MultiplayerPeerExtension>) -> Self {
        RustWebSocketMultiplayerPeer {
            shared: Shared::new(MpState {
                hub: Hub::default(),
                held: None,
                last_get_error: Error::OK,
            }),
            transfer_channel: 0,
            transfer_mode: TransferMode::RELIABLE,
            supported_protocols: PackedStringArray::new(),
            handshake_headers: PackedStringArray::new(),
            inbound_buffer_size: 65535,
            outbound_buffer_size: 65535,
            handshake_timeout: 3.0,
            max_queued_packets: 4096,
            compression_enabled: false,
            compression_threshold: DEFAULT_COMPRESSION_THRESHOLD as i32,
            compression_context_takeover: true,
            compression_window_bits: 15,
            base,
        }
    }

    // The raw packet methods are optional virtuals, so they can skip
    // binding the object (see `crate::shared`).
    #[func(gd_self)]
    unsafe fn get_packet_rawptr(
        this: Gd<Self>,
        r_buffer: RawPtr<*mut RawPtr<*const u8>>,
        r_buffer_size: RawPtr<*mut i32>,
    ) -> Error {
        let shared = Self::state(&this);
        let mut state = shared.lock();
        let packet = match state.pop() {
            Ok(packet) => Some(packet),
            Err(Error::ERR_UNAVAILABLE) => None,
            Err(e) => return e,
        };
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
        let Some(data) = (unsafe { packets::taken_in(p_buffer, p_buffer_size) }) else {
            return Error::ERR_INVALID_PARAMETER;
        };
        MpState::put(&Self::state(&this), data)
    }

    fn get_available_packet_count(&self) -> i32 {
        self.shared.lock().count()
    }

    fn get_max_packet_size(&self) -> i32 {
        self.outbound_buffer_size - PROTO_SIZE
    }

    fn get_packet_channel(&self) -> i32 {
        0
    }

    fn get_packet_mode(&self) -> TransferMode {
        TransferMode::RELIABLE
    }

    fn set_transfer_channel(&mut self, channel: i32) {
        self.transfer_channel = channel;
    }

    fn get_transfer_channel(&self) -> i32 {
        self.transfer_channel
    }

    fn set_transfer_mode(&mut self, mode: TransferMode) {
        self.transfer_mode = mode;
    }

    fn get_transfer_mode(&self) -> TransferMode {
        self.transfer_mode
    }

    fn set_target_peer(&mut self, peer: i32) {
        self.shared.lock().hub.target = peer;
    }

    fn get_packet_peer(&self) -> i32 {
        self.shared.lock().hub.next_packet_peer()
    }

    fn is_server(&self) -> bool {
        self.shared.lock().hub.is_server()
    }

    fn poll(&mut self) {
        let settings = self.settings();
        let mut new_link = |stream: Box<dyn Stream>, tls: bool| {
            let mut gd = RustWebSocketPeer::configured(&settings);
            let accepted = gd.bind_mut().accept_core_stream(stream, tls);
            match accepted {
                Ok(()) => Some(Linked::new(gd)),
                Err(e) => {
                    godot_error!(
                        "RustWebSocketMultiplayerPeer: cannot serve a new connection: {e}"
                    );
                    None
                }
            }
        };
        self.shared.lock().hub.poll(&mut new_link);
        // Signals last, one at a time with the lock released: their handlers
        // may call back into this object.
        loop {
            let Some(event) = self.shared.lock().hub.next_event() else {
                break;
            };
            let (signal, id) = match event {
                Event::Connected(id) => ("peer_connected", id),
                Event::Disconnected(id) => ("peer_disconnected", id),
            };
            self.base_mut()
                .emit_signal(signal, &[Variant::from(i64::from(id))]);
        }
    }

    fn close(&mut self) {
        let mut state = self.shared.lock();
        state.hub.clear();
        state.held = None;
    }

    fn disconnect_peer(&mut self, peer: i32, force: bool) {
        let result = self.shared.lock().hub.disconnect_peer(peer, force);
        if let Err(e) = result {
            hub_error(e);
        }
    }

    fn get_unique_id(&self) -> i32 {
        self.shared.lock().hub.unique_id()
    }

    fn set_refuse_new_connections(&mut self, enable: bool) {
        self.shared.lock().hub.refuse_new = enable;
    }

    fn is_refusing_new_connections(&self) -> bool {
        self.shared.lock().hub.refuse_new
    }

    fn is_server_relay_supported(&self) -> bool {
        // As the engine's class: the high-level API may relay through peer 1.
        true
    }

    fn get_connection_status(&self) -> ConnectionStatus {
        match self.shared.lock().hub.status() {
            Status::Disconnected => ConnectionStatus::DISCONNECTED,
            Status::Connecting => ConnectionStatus::CONNECTING,
            Status::Connected => ConnectionStatus::CONNECTED,
        }
    }
}

#[godot_api]
impl RustWebSocketMultiplayerPeer {
    /// Starts a client connecting to [param url] (`ws://` or `wss://`). The
    /// peer counts as connected once the server has sent its id; then
    /// [signal MultiplayerPeer.peer_connected] is emitted for peer 1.
    #[func]
    fn create_client(
        &mut self,
        url: GString,
        #[opt(default = TlsArg(None))] tls_client_options: TlsArg,
    ) -> Error {
        if self.shared.lock().hub.status() != Status::Disconnected {
            return hub_error(HubError::AlreadyInUse);
        }
        let mut gd = RustWebSocketPeer::configured(&self.settings());
        let err = gd
            .bind_mut()
            .connect(&url.to_string(), tls_client_options.0);
        if err != Error::OK {
            return err;
        }
        let created = self.shared.lock().hub.create_client(Linked::new(gd));
        match created {
            Ok(()) => Error::OK,
            Err(e) => hub_error(e),
        }
    }

    /// Starts a server listening on [param port] at [param bind_address]
    /// (`"*"`: every address). With [param tls_server_options]
    /// ([method TLSOptions.server]) it serves `wss://` through rustls.
    #[func]
    fn create_server(
        &mut self,
        port: i32,
        #[opt(default = "*")] bind_address: GString,
        #[opt(default = TlsArg(None))] tls_server_options: TlsArg,
    ) -> Error {
        if self.shared.lock().hub.status() != Status::Disconnected {
            return hub_error(HubError::AlreadyInUse);
        }
        let Ok(port) = u16::try_from(port) else {
            godot_error!(
                "RustWebSocketMultiplayerPeer: port must be between 0 and 65535 (got {port})."
            );
            return Error::ERR_INVALID_PARAMETER;
        };
        let tls = match tls_server_options
            .0
            .as_ref()
            .map(crate::tls_args::server_config)
        {
            None => None,
            Some(Ok(config)) => Some(config),
            Some(Err(why)) => {
                godot_error!("RustWebSocketMultiplayerPeer: {why}");
                return Error::ERR_INVALID_PARAMETER;
            }
        };
        let created = self
            .shared
            .lock()
            .hub
            .create_server(port, &bind_address.to_string(), tls);
        match created {
            Ok(()) => Error::OK,
            Err(e) => hub_error(e),
        }
    }

    /// Returns the [RustWebSocketPeer] of the connected peer [param peer_id]
    /// (on a client, 1 is the server), or `null` with an error.
    #[func]
    fn get_peer(&self, peer_id: i32) -> Option<Gd<RustWebSocketPeer>> {
        self.with_link(peer_id, |l| l.0.clone())
    }

    /// Returns the IP address of the peer [param id].
    #[func]
    fn get_peer_address(&self, id: i32) -> GString {
        self.with_link(id, |l| l.peer_addr())
            .flatten()
            .map(|a| GString::from(&a.ip().to_canonical().to_string()))
            .unwrap_or_default()
    }

    /// Returns the remote port of the peer [param id].
    #[func]
    fn get_peer_port(&self, id: i32) -> i32 {
        self.with_link(id, |l| l.peer_addr())
            .flatten()
            .map_or(0, |a| i32::from(a.port()))
    }

    /// Returns the sub-protocols offered or accepted.
    #[func]
    fn get_supported_protocols(&self) -> PackedStringArray {
        self.supported_protocols.clone()
    }

    /// Sets the sub-protocols offered (client) or accepted (server).
    #[func]
    fn set_supported_protocols(&mut self, protocols: PackedStringArray) {
        self.supported_protocols = protocols;
    }

    /// Returns the extra handshake headers.
    #[func]
    fn get_handshake_headers(&self) -> PackedStringArray {
        self.handshake_headers.clone()
    }

    /// Sets the extra handshake headers, each `"Name: value"` (the argument
    /// is named `protocols`, as in the engine's class).
    #[func]
    fn set_handshake_headers(&mut self, protocols: PackedStringArray) {
        self.handshake_headers = protocols;
    }

    /// Returns the largest message accepted by each link.
    #[func]
    fn get_inbound_buffer_size(&self) -> i32 {
        self.inbound_buffer_size
    }

    /// Sets the largest message accepted by each link (new links).
    #[func]
    fn set_inbound_buffer_size(&mut self, buffer_size: i32) {
        if Self::positive(buffer_size, "inbound_buffer_size") {
            self.inbound_buffer_size = buffer_size;
        }
    }

    /// Returns the most bytes waiting to be sent on each link.
    #[func]
    fn get_outbound_buffer_size(&self) -> i32 {
        self.outbound_buffer_size
    }

    /// Sets the most bytes waiting to be sent on each link (new links); 0
    /// means no limit, as for [RustWebSocketPeer].
    #[func]
    fn set_outbound_buffer_size(&mut self, buffer_size: i32) {
        if crate::errors::zero_or_more(
            "RustWebSocketMultiplayerPeer",
            buffer_size,
            "outbound_buffer_size",
        ) {
            self.outbound_buffer_size = buffer_size;
        }
    }

    /// Returns the handshake timeout in seconds.
    #[func]
    fn get_handshake_timeout(&self) -> f64 {
        self.handshake_timeout
    }

    /// Sets the handshake timeout in seconds (greater than 0).
    #[func]
    fn set_handshake_timeout(&mut self, timeout: f64) {
        if !(timeout > 0.0 && timeout.is_finite()) {
            godot_error!("RustWebSocketMultiplayerPeer: handshake_timeout must be greater than 0 (got {timeout}); the value was not changed.");
            return;
        }
        self.handshake_timeout = timeout;
        // Beyond what a Duration holds is as good as never.
        self.shared.lock().hub.handshake_timeout =
            Duration::try_from_secs_f64(timeout).unwrap_or(Duration::MAX);
    }

    /// Returns the most packets queued on each link.
    #[func]
    fn get_max_queued_packets(&self) -> i32 {
        self.max_queued_packets
    }

    /// Sets the most packets queued on each link (new links).
    #[func]
    fn set_max_queued_packets(&mut self, max_queued_packets: i32) {
        if Self::positive(max_queued_packets, "max_queued_packets") {
            self.max_queued_packets = max_queued_packets;
        }
    }

    /// Sets [member compression_threshold] (bytes, 0 or more).
    #[func]
    fn set_compression_threshold(&mut self, bytes: i32) {
        if crate::errors::zero_or_more(CLASS, bytes, "compression_threshold") {
            self.compression_threshold = bytes;
        }
    }

    /// Sets [member compression_window_bits] (9-15).
    #[func]
    fn set_compression_window_bits(&mut self, bits: i32) {
        if crate::errors::window_bits(CLASS, bits) {
            self.compression_window_bits = bits;
        }
    }
}
