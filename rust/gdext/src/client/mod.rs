//! `RustWebSocketClient`: a Node a game drops into a scene to talk to one
//! server with signals instead of a poll loop, and that reconnects by
//! itself. It drives one `RustWebSocketPeer` (what `get_peer()` returns);
//! the decisions (which endings call for a reconnect, the backoff, the
//! messages kept while down) are the core's `reconnect` module, and
//! [`session`] turns one poll into the signals to emit. This file holds the
//! class: its inspector properties, methods and signals.

mod session;
mod stats;

use crate::binding::class_enums;
use crate::peer::RustWebSocketPeer;
use godot::classes::{Engine, INode, Node, TlsOptions, X509Certificate};
use godot::global::Error;
use godot::prelude::*;
use rustws_core::{Backoff, TlsClientOptions, WsError};
use session::{Event, Session};

class_enums! {
    class RustWebSocketClient;

    enum PollMode {
        /// Polled once a frame, in [method Node._process] (the default).
        POLL_PROCESS = 0,
        /// Polled once a physics tick, in [method Node._physics_process].
        POLL_PHYSICS = 1,
        /// Not polled by itself: call [method poll]; the signals are emitted
        /// by that call. Godot refuses calls into a node in the tree from
        /// other threads, so a thread of yours may poll a client kept out
        /// of the tree; for one in the tree, set
        /// [member Node.process_thread_group] instead, and it polls on its
        /// group's thread.
        POLL_MANUAL = 2,
    }
}

/// A WebSocket client node with signals, that reconnects by itself.
///
/// Add it to a scene, set [member url] in the inspector (or call
/// [method connect_to_url]), and connect its signals: [signal connected]
/// when the link opens, [signal message_received] for each message,
/// [signal closed] when the link (or an attempt to open it) ends, and
/// [signal reconnecting] before each new attempt. It polls itself every
/// frame (see [member poll_mode]).
/// [br][br]When the link drops without the game or the server asking for it
/// (network lost, server crashed or restarted, no answer to the heartbeat,
/// an attempt that failed), it tries again after [member reconnect_delay_min]
/// seconds, then twice as long each time up to [member reconnect_delay_max],
/// with a random part ([member reconnect_jitter]) so that many clients do not
/// come back at once; the waits start again from the shortest only after a
/// link stayed open 5 seconds (a server that drops each link at once gets
/// ever longer waits; with [member reconnect_max_attempts], each such link
/// counts as an attempt). Retrying is quiet: a failure is printed when it
/// first happens, not again for each attempt that fails the same way
/// ([signal closed] says why each time), and once more when no attempt
/// follows. A close the server asked for (with a close frame)
/// stays closed, except codes 1012 (service restart) and 1013 (try again
/// later); so does [method close].
/// [br][br]Messages sent while the link is down wait, up to
/// [member queue_limit], and go out in order once it opens; what does not
/// fit, or is still waiting when no further attempt comes, is dropped and
/// counted in [signal messages_dropped].
/// ```gdscript
/// @onready var client: RustWebSocketClient = $RustWebSocketClient
/// func _ready():
///     client.connected.connect(func(): client.send_text("hello"))
///     client.message_received.connect(func(message): print(message))
///     client.closed.connect(func(code, reason): print("closed ", code, " ", reason))
///     client.connect_to_url("wss://example.com/game")
/// ```
/// Other settings of the link (buffer sizes, compression, heartbeat,
/// timeouts, proxies) are those of its [RustWebSocketPeer]:
/// [method get_peer].
#[derive(GodotClass)]
#[class(base = Node)]
pub struct RustWebSocketClient {
    /// The server's URL ([code]ws://[/code] or [code]wss://[/code]), used by
    /// [method connect_to_url] when it is given none, and on entering the
    /// tree with [member autoconnect].
    #[export]
    url: GString,
    /// Connect to [member url] when the node is ready (when [member url] is
    /// not empty).
    #[export]
    autoconnect: bool,
    /// Sub-protocols to offer, as [member WebSocketPeer.supported_protocols].
    #[export]
    supported_protocols: PackedStringArray,
    /// Extra HTTP headers for the upgrade request, each
    /// [code]"Name: value"[/code], as [member WebSocketPeer.handshake_headers].
    #[export]
    handshake_headers: PackedStringArray,
    /// Where the client polls: [constant POLL_PROCESS] (every frame, on the
    /// node's processing thread: the main one, or its
    /// [member Node.process_thread_group]'s), [constant POLL_PHYSICS] or
    /// [constant POLL_MANUAL] (call [method poll] yourself).
    #[export(enum = (Process = 0, Physics = 1, Manual = 2))]
    poll_mode: i64,
    /// The certificate (or chain) that a [code]wss://[/code] server's must
    /// be signed by; empty: the usual trust (system store, project bundle),
    /// as [method TLSOptions.client] without a chain.
    #[export_group(name = "TLS", prefix = "tls_")]
    #[export]
    tls_trusted_chain: Option<Gd<X509Certificate>>,
    /// The host name the server's certificate must be for, when it is not
    /// the URL's host.
    #[export]
    tls_common_name_override: GString,
    /// Check the server's certificate and its host name. Off is
    /// [method TLSOptions.client_unsafe]: with [member tls_trusted_chain]
    /// the certificate must still be signed by that chain (only the host
    /// name is not checked, for a server reached by address); without one,
    /// any certificate is accepted (for development only).
    #[export]
    tls_verify: bool,
    /// Reconnect when the link drops or an attempt fails.
    #[export_group(name = "Reconnect", prefix = "reconnect_")]
    #[export]
    reconnect_enabled: bool,
    /// Seconds before the first new attempt (at least 0.05); each attempt in
    /// a row waits twice as long as the one before.
    #[export(range = (0.05, 60.0, 0.05, or_greater, suffix = "s"))]
    reconnect_delay_min: f64,
    /// The longest wait between two attempts, in seconds.
    #[export(range = (0.05, 300.0, 0.05, or_greater, suffix = "s"))]
    reconnect_delay_max: f64,
    /// The random part of each wait, from 0 (none) to 1: with 0.5, a wait
    /// of 4 s is between 2 and 4 s.
    #[export(range = (0.0, 1.0, 0.05))]
    reconnect_jitter: f64,
    /// Attempts in a row before giving up (then [signal closed] is the last
    /// signal); 0 tries for ever.
    #[export(range = (0.0, 100.0, 1.0, or_greater))]
    reconnect_max_attempts: i64,
    /// Messages kept while the link is down (connecting, or waiting to
    /// reconnect); 0 keeps none, so sending then fails.
    #[export_group(name = "")]
    #[export(range = (0.0, 4096.0, 1.0, or_greater))]
    queue_limit: i64,
    session: Session,
    base: Base<Node>,
}

#[godot_api]
impl INode for RustWebSocketClient {
    fn init(base: Base<Node>) -> Self {
        let defaults = Backoff::default();
        RustWebSocketClient {
            url: GString::new(),
            autoconnect: true,
            supported_protocols: PackedStringArray::new(),
            handshake_headers: PackedStringArray::new(),
            poll_mode: POLL_PROCESS,
            tls_trusted_chain: None,
            tls_common_name_override: GString::new(),
            tls_verify: true,
            reconnect_enabled: true,
            reconnect_delay_min: defaults.min_delay,
            reconnect_delay_max: defaults.max_delay,
            reconnect_jitter: defaults.jitter,
            reconnect_max_attempts: i64::from(defaults.max_attempts),
            queue_limit: 64,
            session: Session::new(),
            base,
        }
    }

    // The virtuals take the object rather than binding it for the whole
    // call: the signals of a poll are emitted with nothing bound, and a
    // handler may free the node (see `RustWebSocketClient::with`).
    #[func(gd_self)]
    fn ready(this: Gd<Self>) {
        let wanted = {
            let me = this.bind();
            me.autoconnect && !me.url.is_empty()
        };
        if wanted && !Engine::singleton().is_editor_hint() {
            Self::connect_to_url(this, GString::new());
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

    #[func(gd_self)]
    fn exit_tree(mut this: Gd<Self>) {
        // A client leaving the scene says goodbye rather than vanishing.
        Self::with(&mut this, |me| me.session.leave());
    }
}

#[godot_api]
impl RustWebSocketClient {
    /// The link opened (after [method connect_to_url], or a reconnect).
    /// Messages kept while it was down have gone out just before.
    #[signal]
    fn connected();

    /// A message came: a [String] for a text message, a [PackedByteArray]
    /// for a binary one (tell them apart with [code]message is String[/code]).
    #[signal]
    fn message_received(message: Variant);

    /// The link ended, or an attempt to open it failed: [param code] is the
    /// close code the server sent (-1 when none came, as
    /// [method WebSocketPeer.get_close_code]), [param reason] its reason or,
    /// when none came, why the link ended. [signal reconnecting] follows
    /// when another attempt comes.
    #[signal]
    fn closed(code: i64, reason: GString);

    /// Another attempt starts in [param delay] seconds; [param attempt]
    /// counts the attempts since a link last stayed open 5 seconds, from 1.
    #[signal]
    fn reconnecting(attempt: i64, delay: f64);

    /// [param count] messages sent while the link was down were dropped:
    /// more than [member queue_limit], or still waiting when [method close]
    /// was called or no further attempt came.
    #[signal]
    fn messages_dropped(count: i64);

    /// A pong answered one of the link's pings ([method ping], or the
    /// heartbeat of [method get_peer]): [param rtt] is the round-trip time in
    /// milliseconds (see [method get_round_trip_time]).
    #[signal]
    fn pong_received(rtt: f64);

    /// Starts connecting to [param url] (or to [member url] when empty, and
    /// sets [member url] otherwise), with the settings of the inspector.
    /// Returns what [method RustWebSocketPeer.connect_to_url] returns; the
    /// outcome comes as [signal connected] or [signal closed]. An attempt
    /// already under way or a link already open is closed first (without
    /// [signal closed]).
    #[func(gd_self)]
    fn connect_to_url(mut this: Gd<Self>, #[opt(default = "")] url: GString) -> Error {
        let tls = Self::tls(&this);
        Self::with(&mut this, |me| {
            if !url.is_empty() {
                me.url = url;
            }
            if me.url.is_empty() {
                crate::logger::error!("RustWebSocketClient: no URL to connect to; set url or pass one to connect_to_url().");
                return Error::ERR_INVALID_PARAMETER;
            }
            me.session.restart();
            me.attempt(tls)
        })
    }

    /// Sends [param message] as a text message. While the link is down and
    /// another attempt is coming (also while the server is closing it with
    /// 1012 or 1013 and the close is not over yet), the message waits (up
    /// to [member queue_limit]), goes out in order once the next link
    /// opens, and [constant OK] is returned.
    #[func(gd_self)]
    fn send_text(mut this: Gd<Self>, message: GString) -> Error {
        Self::with(&mut this, |me| {
            let limit = me.limit();
            me.session.send(message.to_string().as_bytes(), true, limit)
        })
    }

    /// Sends [param message] as a binary message (or as text with
    /// [constant RustWebSocketPeer.WRITE_MODE_TEXT]); waits while the link
    /// is down, as [method send_text].
    #[func(gd_self)]
    fn send(
        mut this: Gd<Self>,
        message: PackedByteArray,
        #[opt(default = 1)] write_mode: i64,
    ) -> Error {
        Self::with(&mut this, |me| {
            let limit = me.limit();
            me.session.send(message.as_slice(), write_mode == 0, limit)
        })
    }

    /// Closes the link (with [param code] and [param reason], as
    /// [method WebSocketPeer.close]) and stops reconnecting;
    /// [signal closed] comes once the server answered. Messages still
    /// waiting are dropped ([signal messages_dropped]).
    #[func(gd_self)]
    fn close(
        mut this: Gd<Self>,
        #[opt(default = 1000)] code: i64,
        #[opt(default = "")] reason: GString,
    ) {
        Self::with(&mut this, |me| {
            me.session.close_here(code, &reason.to_string())
        });
    }

    /// Polls the link and emits the signals of what happened; called by the
    /// node itself unless [member poll_mode] is [constant POLL_MANUAL].
    #[func(gd_self)]
    fn poll(mut this: Gd<Self>) {
        let (events, due) = Self::with(&mut this, |me| {
            let backoff = me.backoff();
            me.session.poll(backoff, me.reconnect_enabled)
        });
        if due {
            let tls = Self::tls(&this);
            Self::with(&mut this, |me| {
                if me.attempt(tls) != Error::OK {
                    // A URL that cannot work now will not work later.
                    me.session.give_up();
                }
            });
        }
        let generation = Self::with(&mut this, |me| me.session.generation());
        // Emitted with nothing bound or locked, one at a time: a handler may
        // call back, connect elsewhere, close, or free the node (or its
        // parent, or the tree); each is checked for before the next signal.
        for event in events {
            if !this.is_instance_valid() {
                return;
            }
            let stale = {
                let me = this.bind();
                let current = me.session.generation() == generation;
                match event {
                    // Counted whatever the link: always said.
                    Event::Dropped(_) => false,
                    // A handler before this one may have connected, closed
                    // or turned reconnecting off.
                    Event::Reconnecting(..) => {
                        !current || !me.session.waiting() || !me.reconnect_enabled
                    }
                    // A handler connected elsewhere: the old link's events
                    // are not the new one's.
                    _ => !current,
                }
            };
            if stale {
                if matches!(event, Event::Reconnecting(..)) {
                    // reconnect_enabled was turned off: no attempt comes.
                    Self::with(&mut this, |me| {
                        if !me.reconnect_enabled {
                            me.session.give_up();
                        }
                    });
                }
                continue;
            }
            let mut node = this.clone().upcast::<Node>();
            match event {
                Event::Connected => node.emit_signal("connected", &[]),
                Event::Message(message) => node.emit_signal("message_received", &[message]),
                Event::Closed(code, reason) => node.emit_signal(
                    "closed",
                    &[
                        code.to_variant(),
                        GString::from(reason.as_str()).to_variant(),
                    ],
                ),
                Event::Reconnecting(attempt, delay) => node.emit_signal(
                    "reconnecting",
                    &[i64::from(attempt).to_variant(), delay.to_variant()],
                ),
                Event::Dropped(count) => {
                    node.emit_signal("messages_dropped", &[(count as i64).to_variant()])
                }
                Event::Pong(rtt) => node.emit_signal("pong_received", &[rtt.to_variant()]),
            };
        }
    }

    /// The state of the link: [constant WebSocketPeer.STATE_CONNECTING],
    /// [code]STATE_OPEN[/code], [code]STATE_CLOSING[/code] or
    /// [code]STATE_CLOSED[/code] (also while waiting to reconnect: see
    /// [method is_reconnecting]).
    #[func]
    fn get_ready_state(&self) -> i64 {
        self.session.ready_state() as i64
    }

    /// [code]true[/code] while waiting for the next attempt.
    #[func]
    fn is_reconnecting(&self) -> bool {
        self.session.waiting()
    }

    /// Attempts since a link last stayed open 5 seconds (0 while one is
    /// open).
    #[func]
    fn get_reconnect_attempt(&self) -> i64 {
        i64::from(self.session.attempt())
    }

    /// Messages waiting for the link to open.
    #[func]
    fn get_queued_message_count(&self) -> i64 {
        self.session.queued() as i64
    }

    /// The [RustWebSocketPeer] this node drives (the same object across
    /// reconnects): set its other properties before connecting, read its
    /// [method RustWebSocketPeer.get_failure] and such. Do not poll, close
    /// or connect it yourself.
    #[func]
    fn get_peer(&self) -> Gd<RustWebSocketPeer> {
        self.session.peer()
    }
}

impl RustWebSocketClient {
    /// `f` of the node, bound for that time only; what it reports is printed
    /// once the bind is released (a game's `Logger` may read the node).
    fn with<R>(this: &mut Gd<Self>, f: impl FnOnce(&mut Self) -> R) -> R {
        let hold = crate::logger::hold();
        let mut me = this.bind_mut();
        let result = f(&mut me);
        drop(me);
        drop(hold);
        result
    }

    fn limit(&self) -> usize {
        usize::try_from(self.queue_limit).unwrap_or(0)
    }

    fn backoff(&self) -> Backoff {
        Backoff {
            min_delay: self.reconnect_delay_min,
            max_delay: self.reconnect_delay_max,
            jitter: self.reconnect_jitter,
            max_attempts: u32::try_from(self.reconnect_max_attempts).unwrap_or(0),
        }
    }

    /// The TLS options of the inspector's settings, as the core takes them.
    /// Made with the node not bound: reading the chain calls into the
    /// engine, which may print, and a Logger may read the node.
    fn tls(this: &Gd<Self>) -> Result<TlsClientOptions, WsError> {
        let (chain, name, verify) = {
            let me = this.bind();
            let chain = me.tls_trusted_chain.clone();
            (chain, me.tls_common_name_override.clone(), me.tls_verify)
        };
        let options = if !verify {
            TlsOptions::client_unsafe_ex()
                .trusted_chain(chain.as_ref())
                .done()
        } else if chain.is_none() && name.is_empty() {
            None
        } else {
            TlsOptions::client_ex()
                .trusted_chain(chain.as_ref())
                .common_name_override(&name)
                .done()
        };
        crate::tls_args::client_options(options)
    }

    /// Starts one attempt at [member url] with `tls` (see [`Self::tls`]).
    fn attempt(&mut self, tls: Result<TlsClientOptions, WsError>) -> Error {
        let url = self.url.to_string();
        let protocols = crate::settings::strings(&self.supported_protocols);
        let headers = crate::settings::strings(&self.handshake_headers);
        self.session.connect(&url, tls, protocols, headers)
    }
}
