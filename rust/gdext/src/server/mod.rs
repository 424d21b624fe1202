//! `RustWebSocketServer`: a Node that listens for plain WebSocket clients
//! (browsers, the engine's `WebSocketPeer`, `RustWebSocketClient`) and turns
//! them into signals, on the core's `Hub` in plain mode (no multiplayer id;
//! sends to one client, broadcasts and topics framed once for all). Each
//! client's link is a `RustWebSocketPeer` object, as in the multiplayer
//! class (`get_client_peer`). This file holds the class: its inspector
//! properties, methods and signals; [`poll`] turns one poll into signals.

mod calls;
mod poll;

use crate::binding::class_enums;
use crate::multiplayer::state::Linked;
use crate::peer::RustWebSocketPeer;
use crate::settings::{self, HasLinkSettings};
use godot::classes::{Engine, INode, Node};
use godot::global::Error;
use godot::prelude::*;
use godot::register::property::PhantomVar;
use rustws_core::{Hub, HubError, PeerConfig};

/// The class's name, for what it prints.
pub(crate) const CLASS: &str = "RustWebSocketServer";

class_enums! {
    class RustWebSocketServer;

    enum PollMode {
        /// Polled once a frame, in [method Node._process] (the default).
        POLL_PROCESS = 0,
        /// Polled once a physics tick, in [method Node._physics_process].
        POLL_PHYSICS = 1,
        /// Not polled by itself: call [method poll]; the signals are emitted
        /// by that call. For a server on its own thread, set
        /// [member Node.process_thread_group] instead.
        POLL_MANUAL = 2,
    }
}

/// A WebSocket server node with signals: the engine's removed
/// [code]WebSocketServer[/code], with broadcasts and topics.
///
/// Add it to a scene, set [member port] (and [member autostart], or call
/// [method listen]), and connect its signals: [signal client_connected],
/// [signal message_received] for each message, [signal client_disconnected].
/// Its clients are any WebSocket clients: browsers, [WebSocketPeer],
/// [RustWebSocketClient]. It polls itself every frame (see
/// [member poll_mode]).
/// [br][br][method broadcast] and [method publish] (to the clients
/// [method subscribe]d to a topic) frame the message once and append the same
/// bytes to every client's outbound buffer (a client that agreed on
/// compression compresses it itself). A client that cannot take such a
/// message (its [member RustWebSocketPeer.outbound_buffer_size] or
/// [member RustWebSocketPeer.max_queued_packets] is reached: it does not
/// read) is closed with code 1008 rather than go on without it.
/// ```gdscript
/// @onready var server: RustWebSocketServer = $RustWebSocketServer
/// func _ready():
///     server.client_connected.connect(func(id): server.send_text(id, "welcome"))
///     server.message_received.connect(func(id, message): server.broadcast(message, [id]))
///     server.listen(9080)
/// ```
/// The settings of new clients' links (sub-protocols, buffer sizes,
/// compression, heartbeat, handshake timeout) are properties of the node,
/// read by [method listen]; their defaults are those of
/// [RustWebSocketMultiplayerPeer]'s links (a heartbeat on).
#[derive(GodotClass)]
#[class(base = Node)]
pub struct RustWebSocketServer {
    /// The port [method listen] uses in [method Node._ready] with
    /// [member autostart] (0: any free port, see [method get_local_port]).
    #[export(range = (0.0, 65535.0, 1.0))]
    port: i64,
    /// The address to listen on with [member autostart]: [code]"*"[/code]
    /// for every address (IPv6 and IPv4), or one IP address such as
    /// [code]"127.0.0.1"[/code].
    #[export]
    bind_address: GString,
    /// Listen on [member port] when the node is ready (not in the editor).
    #[export]
    autostart: bool,
    /// Where the server polls: [constant POLL_PROCESS] (every frame, on the
    /// node's processing thread), [constant POLL_PHYSICS] or
    /// [constant POLL_MANUAL] (call [method poll] yourself).
    #[export(enum = (Process = 0, Physics = 1, Manual = 2))]
    poll_mode: i64,
    /// The WebSocket sub-protocols accepted; empty accepts a client asking
    /// for none. Read by [method listen].
    #[var(get = get_supported_protocols, set = set_supported_protocols, usage_flags = [DEFAULT])]
    supported_protocols: PhantomVar<PackedStringArray>,
    /// Hold each joining client's upgrade request (its URL and headers come
    /// with [signal upgrade_requested]) until [method accept_upgrade] or
    /// [method refuse_upgrade], within [member handshake_timeout]. Read by
    /// [method listen].
    #[var(get = get_hold_upgrade, set = set_hold_upgrade, usage_flags = [DEFAULT])]
    hold_upgrade: PhantomVar<bool>,
    /// The most clients connected at once; 0: no limit. A client that opens
    /// beyond it is closed at once with code 1013 (try again later:
    /// [RustWebSocketClient] retries after its backoff; the engine's
    /// [WebSocketPeer] reports it as 1002, as it does 1012 and 1014).
    #[export(range = (0.0, 100000.0, 1.0, or_greater))]
    max_clients: i64,
    /// The most connections accepted and still opening (TLS or the upgrade
    /// not done); a new one drops the one opening longest, so a flood of
    /// connections that never finish holds this many descriptors.
    #[export(range = (1.0, 65536.0, 1.0, or_greater))]
    max_pending_connections: i64,
    // -- The settings of new clients' links (in the template, read by listen).
    /// Extra HTTP headers sent in the handshake response, each
    /// `"Name: value"`. Read by [method listen].
    #[var(get = get_handshake_headers, set = set_handshake_headers, usage_flags = [DEFAULT])]
    handshake_headers: PhantomVar<PackedStringArray>,
    /// The largest message accepted from each client, in bytes; a larger
    /// one closes its link with 1009. Read by [method listen].
    #[var(get = get_inbound_buffer_size, set = set_inbound_buffer_size, usage_flags = [DEFAULT])]
    inbound_buffer_size: PhantomVar<i32>,
    /// The most bytes waiting to be sent to each client; 0 means no limit.
    /// Read by [method listen].
    #[var(get = get_outbound_buffer_size, set = set_outbound_buffer_size, usage_flags = [DEFAULT])]
    outbound_buffer_size: PhantomVar<i32>,
    /// The most packets queued on each link, inbound and outbound each.
    /// Read by [method listen].
    #[var(get = get_max_queued_packets, set = set_max_queued_packets, usage_flags = [DEFAULT])]
    max_queued_packets: PhantomVar<i32>,
    /// Seconds a new client has to open its link (TLS and the upgrade, and
    /// a held upgrade's answer) before it is dropped. Read by
    /// [method listen].
    #[var(get = get_handshake_timeout, set = set_handshake_timeout, usage_flags = [DEFAULT])]
    handshake_timeout: PhantomVar<f64>,
    /// Seconds between the pings each link sends, so a client that vanished
    /// is found and dropped; 0 sends none. Read by [method listen] (an open
    /// link: [method get_client_peer] and its
    /// [member RustWebSocketPeer.heartbeat_interval]).
    #[var(get = get_heartbeat_interval, set = set_heartbeat_interval, usage_flags = [DEFAULT])]
    heartbeat_interval: PhantomVar<f64>,
    /// How many pings in a row a link may leave unanswered before it is
    /// dropped. Read by [method listen].
    #[var(get = get_heartbeat_misses, set = set_heartbeat_misses, usage_flags = [DEFAULT])]
    heartbeat_misses: PhantomVar<i32>,
    /// Accept clients' offers of permessage-deflate (RFC 7692). Off by
    /// default. Read by [method listen].
    #[var(get = get_compression_enabled, set = set_compression_enabled, usage_flags = [DEFAULT])]
    compression_enabled: PhantomVar<bool>,
    /// Messages shorter than this many bytes are sent uncompressed; 0
    /// compresses every message. Read by [method listen].
    #[var(get = get_compression_threshold, set = set_compression_threshold, usage_flags = [DEFAULT])]
    compression_threshold: PhantomVar<i32>,
    /// Keep the compression context between messages (better compression,
    /// a zlib state per direction per link); `false` lets idle links hold
    /// none. Read by [method listen].
    #[var(get = get_compression_context_takeover, set = set_compression_context_takeover, usage_flags = [DEFAULT])]
    compression_context_takeover: PhantomVar<bool>,
    /// The largest compression window, as a power of two (9-15): smaller
    /// saves memory per link. Read by [method listen].
    #[var(get = get_compression_window_bits, set = set_compression_window_bits, usage_flags = [DEFAULT])]
    compression_window_bits: PhantomVar<i32>,
    /// Behind a load balancer: read a PROXY protocol header (v1 or v2) at
    /// the start of each connection, from [member trusted_proxies] when
    /// that list is not empty; a connection without one is refused. The
    /// client's address is then the header's. Read by [method listen].
    #[export_group(name = "Load balancer")]
    #[export]
    proxy_protocol: bool,
    /// Addresses and CIDR ranges of the load balancers trusted for
    /// [code]X-Forwarded-For[/code] / [code]Forwarded[/code] (and, when not
    /// empty, the only ones allowed to send a PROXY header). Read by
    /// [method listen].
    #[export]
    trusted_proxies: PackedStringArray,
    /// The path a plain HTTP GET gets 200 on while the server takes
    /// clients, 503 while it drains (a load balancer's health check on the
    /// game port). Read by [method listen].
    #[export]
    health_path: GString,
    pub(super) hub: Hub<Linked>,
    /// The settings new links take (from [`Self::template`] and the node's
    /// own, at `listen`).
    pub(super) link_config: PeerConfig,
    /// The link settings (the node's link properties and
    /// `get_link_settings()` are views of this peer's).
    template: Gd<RustWebSocketPeer>,
    base: Base<Node>,
}

#[godot_api]
impl INode for RustWebSocketServer {
    fn init(base: Base<Node>) -> Self {
        let defaults = crate::settings::multiplayer_defaults();
        RustWebSocketServer {
            port: 9080,
            bind_address: GString::from("*"),
            autostart: false,
            poll_mode: POLL_PROCESS,
            supported_protocols: PhantomVar::default(),
            hold_upgrade: PhantomVar::default(),
            handshake_headers: PhantomVar::default(),
            inbound_buffer_size: PhantomVar::default(),
            outbound_buffer_size: PhantomVar::default(),
            max_queued_packets: PhantomVar::default(),
            handshake_timeout: PhantomVar::default(),
            heartbeat_interval: PhantomVar::default(),
            heartbeat_misses: PhantomVar::default(),
            compression_enabled: PhantomVar::default(),
            compression_threshold: PhantomVar::default(),
            compression_context_takeover: PhantomVar::default(),
            compression_window_bits: PhantomVar::default(),
            max_clients: 0,
            proxy_protocol: false,
            trusted_proxies: PackedStringArray::new(),
            health_path: GString::from(defaults.health_path.as_str()),
            max_pending_connections: defaults.max_pending_connections as i64,
            hub: Hub::default(),
            template: RustWebSocketPeer::configured(&defaults),
            link_config: defaults,
            base,
        }
    }

    // As the client node: the virtuals take the object and bind it only
    // around their own work; signals are emitted with nothing bound.
    #[func(gd_self)]
    fn ready(this: Gd<Self>) {
        let (wanted, port, bind) = {
            let me = this.bind();
            (me.autostart, me.port, me.bind_address.clone())
        };
        if wanted && !Engine::singleton().is_editor_hint() {
            Self::listen(this, port, bind, crate::tls_args::TlsArg(None));
        }
    }

    #[func(gd_self)]
    fn process(this: Gd<Self>, _delta: f64) {
        if this.bind().poll_mode == POLL_PROCESS {
            Self::poll(this);
        }
    }

    #[func(gd_self)]
    fn physics_process(this: Gd<Self>, _delta: f64) {
        if this.bind().poll_mode == POLL_PHYSICS {
            Self::poll(this);
        }
    }
}

settings::link_settings_api! {
impl RustWebSocketServer [common, max_queued_packets(max_queued_packets), handshake_timeout] {
    /// A client's link opened; [param id] names it in the other methods
    /// (a random number from 2 up, not reused while the server runs).
    #[signal]
    fn client_connected(id: i64);

    /// A client's link ended: [param code] is the close code (-1 when no
    /// close frame came, as [method WebSocketPeer.get_close_code]),
    /// [param reason] its reason or why the link ended. Its messages came
    /// before. [method get_client_peer] still gives its closed link in the
    /// handler.
    #[signal]
    fn client_disconnected(id: i64, code: i64, reason: GString);

    /// Client [param id] sent a message: a [String] for a text message, a
    /// [PackedByteArray] for a binary one.
    #[signal]
    fn message_received(id: i64, message: Variant);

    /// With [member hold_upgrade]: a client asks to join with [param url]
    /// (path and query, e.g. a token) and the HTTP [param headers]
    /// (lower-case names). Answer with [method accept_upgrade] (then
    /// [signal client_connected] comes with [param id]) or
    /// [method refuse_upgrade].
    #[signal]
    fn upgrade_requested(id: i64, url: GString, headers: VarDictionary);

    /// A plain HTTP request (no WebSocket upgrade) other than
    /// [member health_path]: [param id] names it for [method reply_http]
    /// (it never becomes a client), [param method] is `GET`, `POST`...,
    /// [param path] the target with its query, [param headers] lower-case
    /// names. Held only while something is connected to this signal;
    /// otherwise it gets 404 at once. Answer within the handshake timeout
    /// (later: 504).
    #[signal]
    fn http_request(id: i64, method: GString, path: GString, headers: VarDictionary);

    /// After [method drain], the last client is gone.
    #[signal]
    fn drained();
}
}

impl HasLinkSettings for RustWebSocketServer {
    const CLASS: &'static str = CLASS;
    fn with_config<R>(&self, f: impl FnOnce(&mut PeerConfig) -> R) -> R {
        f(&mut crate::binding::state(&self.template).lock().core.config)
    }
}

impl RustWebSocketServer {
    /// `f` of the node, bound for that time only; what it reports is printed
    /// once the bind is released (a game's `Logger` may read the node).
    pub(super) fn with<R>(this: &mut Gd<Self>, f: impl FnOnce(&mut Self) -> R) -> R {
        let hold = crate::logger::hold();
        let mut me = this.bind_mut();
        let result = f(&mut me);
        drop(me);
        drop(hold);
        result
    }

    /// The settings of a new server's links: the link properties (the
    /// template's), with the node's own.
    fn config_for_listen(&self) -> PeerConfig {
        let mut config = self.setting(PeerConfig::clone);
        config.proxy_protocol = self.proxy_protocol;
        let proxies = crate::settings::strings(&self.trusted_proxies);
        for refused in [
            config.set_max_pending_connections(self.max_pending_connections),
            config.set_trusted_proxies(&proxies),
            config.set_health_path(&self.health_path.to_string()),
        ]
        .into_iter()
        .filter_map(Result::err)
        {
            crate::logger::error!("{CLASS}: {refused}");
        }
        config
    }
}

/// Reports a hub failure; the Godot `Error` for it.
pub(super) fn hub_error(err: HubError) -> Error {
    let code = crate::errors::hub_code(&err);
    let err = match err {
        HubError::AlreadyInUse => "already listening; call stop() first".to_string(),
        HubError::NotConnected => "not listening; call listen() first".to_string(),
        HubError::NoSuchPeer(id) => {
            format!("no connected client with id {id} (see get_client_ids())")
        }
        other => other.to_string(),
    };
    crate::logger::error!("{CLASS}: {err}");
    code
}
