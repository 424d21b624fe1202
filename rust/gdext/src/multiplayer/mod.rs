//! `RustWebSocketMultiplayerPeer`: the engine's `WebSocketMultiplayerPeer`
//! API for Godot's high-level multiplayer, on the core's `Hub` (see
//! [`state`]). Each link is a `RustWebSocketPeer` (what `get_peer()`
//! returns); this file only translates types and turns hub events into the
//! `peer_connected`/`peer_disconnected` signals. The packet methods a game
//! calls itself are bound directly, in [`calls`]; SceneMultiplayer reaches
//! the same hub through the engine's virtual methods here.

pub(crate) mod admission;
pub(crate) mod calls;
mod proxy;
pub(crate) mod state;
mod stats;
mod upgrade;

use crate::binding::{direct_virtuals, Registry, Shared, Stateful};
use crate::packets;
use crate::settings::{self, HasLinkSettings};
use crate::tls_args::TlsArg;
use godot::classes::multiplayer_peer::{ConnectionStatus, TransferMode};
use godot::classes::MultiplayerPeerExtension;
use godot::global::Error;
use godot::prelude::*;
use rustws_core::{Event, HubError, PeerConfig, Status, Stream};
use state::{hub_error, Linked, MpState, CLASS, MULTIS};
use std::sync::Arc;

/// The bytes the engine's class keeps back from `outbound_buffer_size` for
/// its own framing; `get_max_packet_size` subtracts the same.
const PROTO_SIZE: i32 = 9;

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
#[class(base = MultiplayerPeerExtension, init, tool)]
pub struct RustWebSocketMultiplayerPeer {
    #[init(val = MpState::new())]
    shared: Arc<Shared<MpState>>,
    /// The WebSocket sub-protocols offered (client) or accepted (server).
    #[var(get = get_supported_protocols, set = set_supported_protocols, usage_flags = [DEFAULT])]
    supported_protocols: PhantomVar<PackedStringArray>,
    /// Extra HTTP headers sent in the handshake, each `"Name: value"`.
    #[var(get = get_handshake_headers, set = set_handshake_headers, usage_flags = [DEFAULT])]
    handshake_headers: PhantomVar<PackedStringArray>,
    /// The largest message accepted by each link, in bytes.
    #[var(get = get_inbound_buffer_size, set = set_inbound_buffer_size, usage_flags = [DEFAULT])]
    inbound_buffer_size: PhantomVar<i32>,
    /// The most bytes waiting to be sent on each link; 0 means no limit.
    #[var(get = get_outbound_buffer_size, set = set_outbound_buffer_size, usage_flags = [DEFAULT])]
    outbound_buffer_size: PhantomVar<i32>,
    /// Seconds a new link has to open (and, for a client, to get its id)
    /// before it is dropped.
    #[var(get = get_handshake_timeout, set = set_handshake_timeout, usage_flags = [DEFAULT])]
    handshake_timeout: PhantomVar<f64>,
    /// Seconds between the pings each link sends, so a peer that vanished
    /// (a half-open connection, a crashed client) is found and dropped
    /// instead of staying until TCP gives up; 0 sends none, as the engine's
    /// class. Costs a 2-byte ping and its pong per link per interval. New
    /// links take it (an open one: [method get_peer] and its
    /// [member RustWebSocketPeer.heartbeat_interval]).
    #[var(get = get_heartbeat_interval, set = set_heartbeat_interval, usage_flags = [DEFAULT])]
    heartbeat_interval: PhantomVar<f64>,
    /// How many pings in a row a link may leave unanswered before it is
    /// dropped. With the defaults (10 s, 7 pings) a client that stops polling
    /// for up to 70 s (a level load, a shader compile, a phone in the
    /// background) keeps its link, and one that vanished is dropped within
    /// 80 s. New links take it.
    #[var(get = get_heartbeat_misses, set = set_heartbeat_misses, usage_flags = [DEFAULT])]
    heartbeat_misses: PhantomVar<i32>,
    /// Server side: hold each joining client's upgrade request (its URL and
    /// headers come with [signal upgrade_requested]) until
    /// [method accept_upgrade] or [method refuse_upgrade], instead of
    /// letting every client join. The decision must come within
    /// [member handshake_timeout]. Off by default, as the engine's class
    /// behaves. Read by [method create_server].
    #[var(get = get_hold_upgrade, set = set_hold_upgrade, usage_flags = [DEFAULT])]
    hold_upgrade: PhantomVar<bool>,
    /// Seconds one TCP connect attempt of a client may take (see
    /// [member RustWebSocketPeer.connect_timeout]).
    #[var(get = get_connect_timeout, set = set_connect_timeout, usage_flags = [DEFAULT])]
    connect_timeout: PhantomVar<f64>,
    /// Server side: the most connections accepted and still opening (TLS or
    /// the WebSocket upgrade not done yet). When a new one comes, the one
    /// opening longest is dropped, so a flood of connections that never
    /// finish opening holds this many descriptors and no work per frame,
    /// and a real client that comes meanwhile still joins. The default is
    /// the listen backlog (1,024); lower it to hold fewer descriptors under
    /// a flood, not below the clients expected to join at once. The
    /// engine's class has no such limit.
    #[var(get = get_max_pending_connections, set = set_max_pending_connections, usage_flags = [DEFAULT])]
    max_pending_connections: PhantomVar<i32>,
    /// The most packets queued on each link, inbound and outbound each.
    #[var(get = get_max_queued_packets, set = set_max_queued_packets, usage_flags = [DEFAULT])]
    max_queued_packets: PhantomVar<i32>,
    /// Compress messages with permessage-deflate (RFC 7692) on every link: a
    /// client offers it, the server accepts offers. Off by default (the wire
    /// is then as the engine's class makes it). Set before
    /// [method create_client] or [method create_server].
    #[var(get = get_compression_enabled, set = set_compression_enabled, usage_flags = [DEFAULT])]
    compression_enabled: PhantomVar<bool>,
    /// Packets shorter than this many bytes are sent uncompressed; 0
    /// compresses every packet.
    #[var(get = get_compression_threshold, set = set_compression_threshold, usage_flags = [DEFAULT])]
    compression_threshold: PhantomVar<i32>,
    /// Keep the compression context between packets (better compression, a
    /// zlib state per direction per link). `false` asks both sides to start
    /// each packet afresh, so idle links hold none: for servers with many
    /// clients.
    #[var(get = get_compression_context_takeover, set = set_compression_context_takeover, usage_flags = [DEFAULT])]
    compression_context_takeover: PhantomVar<bool>,
    /// The largest compression window both sides may use, as a power of two
    /// (9-15): smaller saves memory per link.
    #[var(get = get_compression_window_bits, set = set_compression_window_bits, usage_flags = [DEFAULT])]
    compression_window_bits: PhantomVar<i32>,
    // -- Behind a load balancer (admission): PROXY protocol, trusted proxies, plain HTTP.
    /// Server side: connections from [member trusted_proxies] (from any
    /// address while that list is empty) must start with a PROXY protocol
    /// header, version 1 or 2 (HAProxy `send-proxy` / `send-proxy-v2`,
    /// nginx `proxy_protocol on`, cloud network balancers), read before TLS;
    /// [method get_peer_address] then gives the client it names. A
    /// connection without a valid header is dropped. Connections from
    /// other addresses are direct clients. Off by default. Read by
    /// [method create_server] and each poll.
    #[var(get = get_proxy_protocol, set = set_proxy_protocol, usage_flags = [DEFAULT])]
    proxy_protocol: PhantomVar<bool>,
    /// Server side: the load balancers believed about the client, as IP
    /// addresses and CIDR ranges (`"10.0.0.0/8"`, `"127.0.0.1"`, `"::1"`;
    /// at most 256). They may send the PROXY header (see
    /// [member proxy_protocol]), and only their `X-Forwarded-For` and
    /// `Forwarded` headers are read: the client is the right-most address
    /// there that is not itself listed. Empty (the default): no forwarding
    /// header is believed. A bad entry refuses the whole list.
    #[var(get = get_trusted_proxies, set = set_trusted_proxies, usage_flags = [DEFAULT])]
    trusted_proxies: PhantomVar<PackedStringArray>,
    /// Server side: a plain HTTP `GET` or `HEAD` of this path (no
    /// WebSocket upgrade) is answered `200 ok`, or `503` while the server
    /// drains (see [method drain]): a load balancer's health check or a
    /// Kubernetes probe on the game port. Empty turns it off. Other plain
    /// requests get 404, or [signal http_request] when connected.
    #[var(get = get_health_path, set = set_health_path, usage_flags = [DEFAULT])]
    health_path: PhantomVar<GString>,
    base: Base<MultiplayerPeerExtension>,
}

impl Stateful for RustWebSocketMultiplayerPeer {
    type State = MpState;
    fn registry() -> &'static Registry<MpState> {
        &MULTIS
    }
    fn shared(&self) -> &Arc<Shared<MpState>> {
        &self.shared
    }
}

impl HasLinkSettings for RustWebSocketMultiplayerPeer {
    const CLASS: &'static str = state::CLASS;
    fn with_config<R>(&self, f: impl FnOnce(&mut PeerConfig) -> R) -> R {
        f(&mut self.shared.lock().config)
    }
}

impl RustWebSocketMultiplayerPeer {
    /// `f` of the link of peer `id`, or `None` with an error.
    fn with_link<R>(&self, id: i32, f: impl FnOnce(&Linked) -> R) -> Option<R> {
        let found = self.shared.lock().hub.link(id).map(f);
        if found.is_none() {
            crate::logger::error!("{}: no connected peer with id {id}.", Self::CLASS);
        }
        found
    }

    /// Refuses a second `create_*` while a session runs.
    fn check_disconnected(&self) -> Result<(), Error> {
        if self.shared.lock().hub.status() != Status::Disconnected {
            return Err(hub_error(HubError::AlreadyInUse));
        }
        Ok(())
    }
}

impl Drop for RustWebSocketMultiplayerPeer {
    fn drop(&mut self) {
        MULTIS.remove(&self.shared);
    }
}

// The engine virtual methods SceneMultiplayer calls, several per packet and
// per RPC, bound directly over the state (see `crate::binding`): godot-rust's
// `I*` trait would bind the object on every call.
direct_virtuals! {
    class RustWebSocketMultiplayerPeer;

    fn _get_packet(state, _this, r_buffer: *mut *const u8, r_buffer_size: *mut i32) -> Error {
        let mut state = state.lock();
        let packet = match state.pop() {
            Ok(packet) => Some(packet),
            Err(Error::ERR_UNAVAILABLE) => None,
            Err(e) => return e,
        };
        // SAFETY: the pointers are the ones Godot passed.
        unsafe { packets::hand_out(packet, &mut state.held, r_buffer, r_buffer_size) }
    }

    fn _put_packet(state, _this, p_buffer: *const u8, p_buffer_size: i32) -> Error {
        // SAFETY: Godot passes a buffer of `p_buffer_size` readable bytes.
        match unsafe { packets::taken_in(p_buffer, p_buffer_size) } {
            Some(data) => MpState::put(state, data),
            None => Error::ERR_INVALID_PARAMETER,
        }
    }

    fn _get_available_packet_count(state, _this) -> i32 {
        state.lock().count()
    }

    fn _get_max_packet_size(state, _this) -> i32 {
        settings::as_int(state.lock().config.outbound_buffer_size) - PROTO_SIZE
    }

    fn _get_packet_channel(_state, _this) -> i32 {
        0
    }

    fn _get_packet_mode(_state, _this) -> TransferMode {
        TransferMode::RELIABLE
    }

    fn _set_transfer_channel(state, _this, channel: i32) -> () {
        state.lock().transfer_channel = channel;
    }

    fn _get_transfer_channel(state, _this) -> i32 {
        state.lock().transfer_channel
    }

    fn _set_transfer_mode(state, _this, mode: TransferMode) -> () {
        state.lock().transfer_mode = mode;
    }

    fn _get_transfer_mode(state, _this) -> TransferMode {
        state.lock().transfer_mode
    }

    fn _set_target_peer(state, _this, peer: i32) -> () {
        state.lock().hub.target = peer;
    }

    fn _get_packet_peer(state, _this) -> i32 {
        state.lock().hub.next_packet_peer()
    }

    fn _is_server(state, _this) -> bool {
        state.lock().hub.is_server()
    }

    fn _poll(state, this) -> () {
        crate::peer::flush::write_waiting();
        // Asked of the engine with no lock held: plain HTTP requests wait
        // for the game only while a handler listens.
        let hold_http = state.lock().hub.is_server()
            && !this
                .gd()
                .upcast::<Object>()
                .get_signal_connection_list("http_request")
                .is_empty();
        {
            let mut locked = state.lock();
            let MpState { hub, config, .. } = &mut *locked;
            hub.configure(config);
            hub.hold_http = hold_http;
            hub.poll(&mut |stream: Box<dyn Stream>, tls: bool| {
                let link = Linked::new(config);
                let accepted = link.1.lock().core.accept_stream(stream, tls);
                match accepted {
                    Ok(()) => Some(link),
                    Err(e) => {
                        crate::logger::error!("{CLASS}: cannot serve a new connection: {e}");
                        None
                    }
                }
            });
        }
        state::report_dropped_pending(state);
        // Signals last, one at a time with the lock released: their handlers
        // may call back into this object.
        let mut object = None;
        loop {
            let Some(event) = state.lock().hub.next_event() else {
                break;
            };
            let (signal, args) = match event {
                Event::Connected(id) => ("peer_connected", vec![Variant::from(i64::from(id))]),
                Event::Disconnected(id) => ("peer_disconnected", vec![Variant::from(i64::from(id))]),
                Event::UpgradeWaiting(id) => match upgrade::request_of(state, id) {
                    Some(args) => ("upgrade_requested", args),
                    None => continue,
                },
                Event::HttpRequest(id) => match admission::request_of(state, id) {
                    Some(args) => ("http_request", args),
                    None => continue,
                },
                Event::Drained => ("drained", Vec::new()),
            };
            object
                .get_or_insert_with(|| this.gd().upcast::<Object>())
                .emit_signal(signal, &args);
            // get_peer(id) found the link of a peer that left during its
            // signal; dropped here, with the lock released.
            let gone = state.lock().hub.handled(event);
            drop(gone);
        }
    }

    fn _close(state, _this) -> () {
        let mut state = state.lock();
        state.hub.clear();
        state.held = None;
    }

    fn _disconnect_peer(state, _this, peer: i32, force: bool) -> () {
        let result = state.lock().hub.disconnect_peer(peer, force);
        if let Err(e) = result {
            hub_error(e);
        }
    }

    fn _get_unique_id(state, _this) -> i32 {
        state.lock().hub.unique_id()
    }

    fn _set_refuse_new_connections(state, _this, enable: bool) -> () {
        state.lock().hub.refuse_new = enable;
    }

    fn _is_refusing_new_connections(state, _this) -> bool {
        state.lock().hub.refuse_new
    }

    fn _is_server_relay_supported(_state, _this) -> bool {
        // As the engine's class: the high-level API may relay through peer 1.
        true
    }

    fn _get_connection_status(state, _this) -> ConnectionStatus {
        match state.lock().hub.status() {
            Status::Disconnected => ConnectionStatus::DISCONNECTED,
            Status::Connecting => ConnectionStatus::CONNECTING,
            Status::Connected => ConnectionStatus::CONNECTED,
        }
    }
}

settings::link_settings_api! {
impl RustWebSocketMultiplayerPeer [common, max_queued_packets(max_queued_packets), connect_timeout] {
    /// Server side, with [member hold_upgrade] on: a client asks to join
    /// with the URL [param url] (path and query, e.g. a token) and the HTTP
    /// [param headers] (lower-case names). Answer with
    /// [method accept_upgrade] (it joins as [param peer_id]:
    /// [signal MultiplayerPeer.peer_connected] follows) or
    /// [method refuse_upgrade] (it never joins). Emitted once per client,
    /// from [method MultiplayerPeer.poll].
    #[signal]
    fn upgrade_requested(peer_id: i64, url: GString, headers: VarDictionary);

    /// Starts a client connecting to [param url] (`ws://` or `wss://`). The
    /// peer counts as connected once the server has sent its id; then
    /// [signal MultiplayerPeer.peer_connected] is emitted for peer 1.
    #[func]
    fn create_client(
        &self,
        url: GString,
        #[opt(default = TlsArg(None))] tls_client_options: TlsArg,
    ) -> Error {
        if let Err(e) = self.check_disconnected() {
            return e;
        }
        let link = Linked::new(&self.shared.lock().config);
        let err = link
            .0
            .clone()
            .bind()
            .connect(&url.to_string(), tls_client_options.0);
        if err != Error::OK {
            return err;
        }
        let created = self.shared.lock().hub.create_client(link);
        created.map_or_else(hub_error, |()| Error::OK)
    }

    /// Starts a server listening on [param port] at [param bind_address]
    /// (`"*"`: every address). With [param tls_server_options]
    /// ([method TLSOptions.server]) it serves `wss://` through rustls.
    #[func]
    fn create_server(
        &self,
        port: i32,
        #[opt(default = "*")] bind_address: GString,
        #[opt(default = TlsArg(None))] tls_server_options: TlsArg,
    ) -> Error {
        if let Err(e) = self.check_disconnected() {
            return e;
        }
        let Ok(port) = u16::try_from(port) else {
            crate::logger::error!(
                "{}: port must be between 0 and 65535 (got {port}).",
                Self::CLASS
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
                crate::logger::error!("{}: {why}", Self::CLASS);
                return Error::ERR_INVALID_PARAMETER;
            }
        };
        let created = self
            .shared
            .lock()
            .hub
            .create_server(port, &bind_address.to_string(), tls);
        created.map_or_else(hub_error, |()| Error::OK)
    }

    /// Returns the [RustWebSocketPeer] of the connected peer [param peer_id]
    /// (on a client, 1 is the server), or `null` with an error. Inside
    /// [signal MultiplayerPeer.peer_disconnected], the closed peer of the
    /// one that left (its [method RustWebSocketPeer.get_close_code] and
    /// reason), as the engine's class.
    #[func]
    fn get_peer(&self, peer_id: i32) -> Option<Gd<crate::peer::RustWebSocketPeer>> {
        self.with_link(peer_id, |l| l.0.clone())
    }

    /// Returns the IP address of the peer [param id]: with
    /// [member proxy_protocol] or [member trusted_proxies] set, the real
    /// client behind the load balancer (the PROXY header's source, else the
    /// trusted proxy's forwarding header), else the TCP peer.
    #[func]
    fn get_peer_address(&self, id: i32) -> GString {
        self.with_link(id, |l| l.1.lock().core.client_addr())
            .flatten()
            .map(|a| GString::from(&a.ip().to_canonical().to_string()))
            .unwrap_or_default()
    }

    /// Returns the remote port of the peer [param id] (the real client's,
    /// as [method get_peer_address]; 0 when a forwarding header named no
    /// port).
    #[func]
    fn get_peer_port(&self, id: i32) -> i32 {
        self.with_link(id, |l| l.1.lock().core.client_addr())
            .flatten()
            .map_or(0, |a| i32::from(a.port()))
    }

    /// Returns [member max_pending_connections].
    #[func]
    fn get_max_pending_connections(&self) -> i32 {
        self.setting(|c| settings::as_int(c.max_pending_connections))
    }

    /// Sets [member max_pending_connections] (greater than 0).
    #[func]
    fn set_max_pending_connections(&self, connections: i32) {
        self.change(|c| c.set_max_pending_connections(connections.into()));
    }

    /// Returns the handshake timeout in seconds.
    #[func]
    fn get_handshake_timeout(&self) -> f64 {
        self.setting(|c| c.handshake_timeout)
    }

    /// Sets the handshake timeout in seconds (greater than 0).
    #[func]
    fn set_handshake_timeout(&self, timeout: f64) {
        let result = {
            let mut state = self.shared.lock();
            let result = state.config.set_handshake_timeout(timeout);
            state.hub.handshake_timeout = state.config.handshake_limit();
            result
        };
        settings::report(Self::CLASS, result);
    }

    // -- Behind a load balancer (admission): signals, draining, plain HTTP, settings.
    /// Server side: a plain HTTP request (no WebSocket upgrade) for another
    /// path than [member health_path]: [param id] names the connection
    /// (never a peer), [param method] is `GET`, `POST`..., [param path]
    /// the request target with its query, [param headers] the request's
    /// headers (lower-case names). Answer with [method reply_http] within
    /// [member handshake_timeout] (later: 504). Requests are held only
    /// while something is connected to this signal; otherwise they get 404
    /// at once. The connection never becomes a peer.
    #[signal]
    fn http_request(id: i64, method: GString, path: GString, headers: VarDictionary);

    /// Server side: after [method drain], the last peer is gone (at the
    /// next poll when there was none).
    #[signal]
    fn drained();

    /// Server side: stops taking clients: upgrade requests and the
    /// [member health_path] get 503 (the port stays open for the load
    /// balancer's health checks), and after [param grace_seconds] (NaN or
    /// negative: 0) every peer is closed with code 1012 "service restart";
    /// [signal MultiplayerPeer.peer_disconnected] follows for each as
    /// usual, then [signal drained]. Clients such as [RustWebSocketClient]
    /// reconnect after 1012, landing on another server behind the balancer.
    /// Calling it again can only shorten the grace. Ends with
    /// [method MultiplayerPeer.close]. Returns `ERR_UNCONFIGURED` when not
    /// a server.
    #[func]
    fn drain(&self, grace_seconds: f64) -> Error {
        let result = self.shared.lock().hub.drain(grace_seconds);
        match result {
            Ok(()) => Error::OK,
            Err(_) => {
                crate::logger::error!("{}: drain() needs a running server.", Self::CLASS);
                Error::ERR_UNCONFIGURED
            }
        }
    }

    /// Whether the server drains (see [method drain]).
    #[func]
    fn is_draining(&self) -> bool {
        self.shared.lock().hub.is_draining()
    }

    /// Answers the plain HTTP request [param id] of [signal http_request]
    /// with [param status] (100-599), [param body] (a [String], sent as
    /// UTF-8, or a [PackedByteArray]; at most 65,536 bytes) and extra
    /// [param headers] (may be empty; `"Name: value"` lines, checked as
    /// [member handshake_headers]; `Content-Length` and `Connection: close`
    /// are added). The connection closes once it is written. Returns
    /// `ERR_INVALID_PARAMETER` when no such request waits or the answer is
    /// refused.
    #[func]
    fn reply_http(&self, id: i32, status: i32, body: Variant, headers: PackedStringArray) -> Error {
        admission::reply(self, id, status, &body, &headers)
    }

    /// Returns [member proxy_protocol].
    #[func]
    fn get_proxy_protocol(&self) -> bool {
        self.setting(|c| c.proxy_protocol)
    }

    /// Sets [member proxy_protocol].
    #[func]
    fn set_proxy_protocol(&self, enabled: bool) {
        self.with_config(|c| c.proxy_protocol = enabled);
    }

    /// Returns [member trusted_proxies].
    #[func]
    fn get_trusted_proxies(&self) -> PackedStringArray {
        self.setting(|c| settings::packed(c.trusted_proxies.entries()))
    }

    /// Sets [member trusted_proxies] (IP addresses and CIDR ranges).
    #[func]
    fn set_trusted_proxies(&self, proxies: PackedStringArray) {
        let list = settings::strings(&proxies);
        self.change(|c| c.set_trusted_proxies(&list));
    }

    /// Returns [member health_path].
    #[func]
    fn get_health_path(&self) -> GString {
        self.setting(|c| GString::from(c.health_path.as_str()))
    }

    /// Sets [member health_path] (empty, or a path starting with `/`).
    #[func]
    fn set_health_path(&self, path: GString) {
        let path = path.to_string();
        self.change(|c| c.set_health_path(&path));
    }
}
}
