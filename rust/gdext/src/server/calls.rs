//! The methods and signals of `RustWebSocketServer`. Each binds the node
//! only around its own work (`RustWebSocketServer::with`); `poll` emits the
//! signals afterwards, one at a time, checking after each that the node
//! still exists.

use super::poll::Polled;
use super::{hub_error, RustWebSocketServer, CLASS};
use crate::peer::RustWebSocketPeer;
use crate::tls_args::TlsArg;
use godot::global::Error;
use godot::prelude::*;

/// The optional `except_ids` argument; its default is `[]`.
#[derive(Clone, Debug)]
pub(super) struct IdsArg(Vec<i64>);

impl GodotConvert for IdsArg {
    type Via = PackedInt64Array;

    fn godot_shape() -> godot::meta::shape::GodotShape {
        <PackedInt64Array as GodotConvert>::godot_shape()
    }
}

impl ToGodot for IdsArg {
    type Pass = godot::meta::conv::ByValue;

    fn to_godot(&self) -> Self::Via {
        self.0.iter().copied().collect()
    }
}

impl FromGodot for IdsArg {
    fn try_from_godot(via: Self::Via) -> Result<Self, godot::meta::error::ConvertError> {
        Ok(IdsArg(via.as_slice().to_vec()))
    }
}

// SAFETY: a plain list of numbers, owned by each copy: nothing in it can be
// mutated or shared across threads.
unsafe impl godot::meta::GodotImmutable for IdsArg {}

/// A message argument: a String goes as text, a PackedByteArray as binary.
fn message_of(message: &Variant) -> Result<(Vec<u8>, bool), Error> {
    match message.get_type() {
        VariantType::STRING | VariantType::STRING_NAME => {
            Ok((message.to::<GString>().to_string().into_bytes(), true))
        }
        VariantType::PACKED_BYTE_ARRAY => {
            Ok((message.to::<PackedByteArray>().as_slice().to_vec(), false))
        }
        other => {
            crate::logger::error!(
                "{CLASS}: a message is a String (sent as text) or a PackedByteArray (sent as \
                 binary), not {other:?}."
            );
            Err(Error::ERR_INVALID_PARAMETER)
        }
    }
}

#[godot_api(secondary)]
impl RustWebSocketServer {
    /// Starts listening on [param port] (0: any free port) at
    /// [param bind_address] ([code]"*"[/code]: every address). With
    /// [param tls_server_options] ([method TLSOptions.server]) it serves
    /// [code]wss://[/code]. Returns [constant OK],
    /// [constant ERR_ALREADY_IN_USE] (listening already, or the port is
    /// taken), [constant ERR_INVALID_PARAMETER] or [constant ERR_CANT_CREATE].
    #[func(gd_self)]
    pub(super) fn listen(
        mut this: Gd<Self>,
        port: i64,
        #[opt(default = "*")] bind_address: GString,
        #[opt(default = TlsArg(None))] tls_server_options: TlsArg,
    ) -> Error {
        let Ok(port) = u16::try_from(port) else {
            crate::logger::error!("{CLASS}: port must be between 0 and 65535 (got {port}).");
            return Error::ERR_INVALID_PARAMETER;
        };
        // Read with the node released: it calls into the engine.
        let tls = match tls_server_options
            .0
            .as_ref()
            .map(crate::tls_args::server_config)
        {
            None => None,
            Some(Ok(config)) => Some(config),
            Some(Err(why)) => {
                crate::logger::error!("{CLASS}: {why}");
                return Error::ERR_INVALID_PARAMETER;
            }
        };
        Self::with(&mut this, |me| {
            if me.hub.is_server() {
                return hub_error(rustws_core::HubError::AlreadyInUse);
            }
            let config = me.config_for_listen();
            me.hub.plain = true;
            me.hub.max_links = usize::try_from(me.max_clients).unwrap_or(0);
            me.hub.configure(&config);
            me.link_config = config;
            let created = me.hub.create_server(port, &bind_address.to_string(), tls);
            created.map_or_else(hub_error, |()| Error::OK)
        })
    }

    /// Stops listening and closes every client (code 1001, going away),
    /// without [signal client_disconnected].
    #[func(gd_self)]
    fn stop(mut this: Gd<Self>) {
        let old = Self::with(&mut this, |me| {
            for id in me.hub.link_ids() {
                let _ = me.hub.close_link(id, 1001, "server stopped");
            }
            std::mem::take(&mut me.hub)
        });
        // The links are dropped with the node released.
        drop(old);
    }

    /// [code]true[/code] while listening.
    #[func]
    fn is_listening(&self) -> bool {
        self.hub.is_server()
    }

    /// The port listened on (the one chosen when [method listen] was given
    /// 0), or 0 when not listening.
    #[func]
    fn get_local_port(&self) -> i64 {
        self.hub.local_port().map_or(0, i64::from)
    }

    /// Accepts new clients, reads every client and emits the signals of
    /// what happened; called by the node itself unless [member poll_mode]
    /// is [constant POLL_MANUAL].
    #[func(gd_self)]
    pub(super) fn poll(mut this: Gd<Self>) {
        crate::peer::flush::write_waiting();
        // Plain HTTP requests wait for the game only while it listens.
        let hold_http = !this.get_signal_connection_list("http_request").is_empty();
        let Polled { signals, gone } = Self::with(&mut this, |me| me.poll_bound(hold_http));
        drop(gone);
        // Emitted with nothing bound, one at a time: a handler may call
        // back, stop the server, or free the node (or its parent).
        for signal in signals {
            if !this.is_instance_valid() {
                return;
            }
            this.clone()
                .upcast::<Node>()
                .emit_signal(signal.0, &signal.1);
        }
    }

    /// Sends [param text] to client [param id] as a text message.
    #[func(gd_self)]
    fn send_text(mut this: Gd<Self>, id: i64, text: GString) -> Error {
        let data = text.to_string();
        Self::with(&mut this, |me| {
            let result = me.hub.send_to(client_id(id), data.as_bytes(), true);
            result.map_or_else(hub_error, |()| Error::OK)
        })
    }

    /// Sends [param bytes] to client [param id] as a binary message.
    #[func(gd_self)]
    fn send(mut this: Gd<Self>, id: i64, bytes: PackedByteArray) -> Error {
        Self::with(&mut this, |me| {
            let result = me.hub.send_to(client_id(id), bytes.as_slice(), false);
            result.map_or_else(hub_error, |()| Error::OK)
        })
    }

    /// Sends [param message] (a [String] as text, a [PackedByteArray] as
    /// binary) to every client but those in [param except_ids], framed
    /// once for all.
    #[func(gd_self)]
    fn broadcast(
        mut this: Gd<Self>,
        message: Variant,
        #[opt(default = IdsArg(Vec::new()))] except_ids: IdsArg,
    ) -> Error {
        let (data, text) = match message_of(&message) {
            Ok(m) => m,
            Err(e) => return e,
        };
        let except: Vec<i32> = except_ids.0.iter().map(|id| client_id(*id)).collect();
        Self::with(&mut this, |me| {
            let result = me.hub.broadcast(&data, text, &except);
            result.map_or_else(hub_error, |_| Error::OK)
        })
    }

    /// Subscribes client [param id] to [param topic] (at most 1,024 bytes):
    /// it gets what [method publish] sends to it, until
    /// [method unsubscribe] or it leaves.
    #[func(gd_self)]
    fn subscribe(mut this: Gd<Self>, id: i64, topic: GString) -> Error {
        let topic = topic.to_string();
        Self::with(&mut this, |me| {
            let result = me.hub.subscribe(client_id(id), &topic);
            result.map_or_else(hub_error, |_| Error::OK)
        })
    }

    /// Unsubscribes client [param id] from [param topic].
    #[func(gd_self)]
    fn unsubscribe(mut this: Gd<Self>, id: i64, topic: GString) -> Error {
        let topic = topic.to_string();
        Self::with(&mut this, |me| {
            let result = me.hub.unsubscribe(client_id(id), &topic);
            result.map_or_else(hub_error, |_| Error::OK)
        })
    }

    /// Sends [param message] (a [String] as text, a [PackedByteArray] as
    /// binary) to the clients subscribed to [param topic], framed once for
    /// all; returns how many it went to (0 when none; -1 on bad input).
    #[func(gd_self)]
    fn publish(mut this: Gd<Self>, topic: GString, message: Variant) -> i64 {
        let Ok((data, text)) = message_of(&message) else {
            return -1;
        };
        let topic = topic.to_string();
        Self::with(&mut this, |me| match me.hub.publish(&topic, &data, text) {
            Ok(count) => count as i64,
            Err(e) => {
                hub_error(e);
                -1
            }
        })
    }

    /// The topics client [param id] is subscribed to.
    #[func]
    fn get_client_topics(&self, id: i64) -> PackedStringArray {
        crate::settings::packed(&self.hub.topics_of(client_id(id)))
    }

    /// Closes client [param id]'s link with [param code] and [param reason]
    /// (as [method WebSocketPeer.close]); [signal client_disconnected]
    /// follows once it is closed.
    #[func(gd_self)]
    fn disconnect_client(
        mut this: Gd<Self>,
        id: i64,
        #[opt(default = 1000)] code: i64,
        #[opt(default = "")] reason: GString,
    ) -> Error {
        let Ok(code) = i32::try_from(code) else {
            crate::logger::error!("{CLASS}: close code {code} is out of range (1000-4999).");
            return Error::ERR_INVALID_PARAMETER;
        };
        let reason = reason.to_string();
        Self::with(&mut this, |me| {
            let result = me.hub.close_link(client_id(id), code, &reason);
            result.map_or_else(hub_error, |()| Error::OK)
        })
    }

    /// The ids of the connected clients.
    #[func]
    fn get_client_ids(&self) -> PackedInt64Array {
        self.hub.link_ids().into_iter().map(i64::from).collect()
    }

    /// Stops taking clients: upgrade requests and the [member health_path]
    /// get 503 (the port stays open for the load balancer's health checks),
    /// and after [param grace_seconds] (NaN or negative: 0) every client is
    /// closed with code 1012 "service restart";
    /// [signal client_disconnected] follows for each, then [signal drained].
    /// [RustWebSocketClient] reconnects after 1012, landing on another
    /// server behind the balancer. Returns [constant ERR_UNCONFIGURED] when
    /// not listening.
    #[func(gd_self)]
    fn drain(mut this: Gd<Self>, grace_seconds: f64) -> Error {
        Self::with(&mut this, |me| match me.hub.drain(grace_seconds) {
            Ok(()) => Error::OK,
            Err(_) => {
                crate::logger::error!("{CLASS}: drain() needs a listening server.");
                Error::ERR_UNCONFIGURED
            }
        })
    }

    /// Whether the server drains (see [method drain]).
    #[func]
    fn is_draining(&self) -> bool {
        self.hub.is_draining()
    }

    /// Answers the plain HTTP request [param id] of [signal http_request]
    /// with [param status] (100-599), [param body] (a [String], sent as
    /// UTF-8, or a [PackedByteArray]; at most 65,536 bytes) and extra
    /// [param headers] (may be empty; `"Name: value"` lines). The
    /// connection closes once it is written. Returns
    /// [constant ERR_INVALID_PARAMETER] when no such request waits or the
    /// answer is refused.
    #[func(gd_self)]
    fn reply_http(
        mut this: Gd<Self>,
        id: i64,
        status: i64,
        body: Variant,
        headers: PackedStringArray,
    ) -> Error {
        let Some(bytes) = crate::multiplayer::admission::reply_body(CLASS, &body) else {
            return Error::ERR_INVALID_PARAMETER;
        };
        let headers = crate::settings::strings(&headers);
        Self::with(&mut this, |me| {
            match me.hub.answer_http(client_id(id), status, &headers, &bytes) {
                Ok(()) => Error::OK,
                Err(rustws_core::HubError::NoSuchPeer(_)) => {
                    crate::logger::error!(
                        "{CLASS}: reply_http: no plain HTTP request {id} waits (it must come from http_request, within the handshake timeout)."
                    );
                    Error::ERR_INVALID_PARAMETER
                }
                Err(e) => {
                    hub_error(e);
                    Error::ERR_INVALID_PARAMETER
                }
            }
        })
    }

    /// The IP address of client [param id]: the real client's behind a load
    /// balancer with [member proxy_protocol] or [member trusted_proxies]
    /// (empty, with an error, when no such client).
    #[func]
    fn get_client_address(&self, id: i64) -> GString {
        self.client_addr(id)
            .map(|a| GString::from(&a.ip().to_canonical().to_string()))
            .unwrap_or_default()
    }

    /// The remote port of client [param id] (the real client's, as
    /// [method get_client_address]; 0, with an error, when no such client).
    #[func]
    fn get_client_port(&self, id: i64) -> i64 {
        self.client_addr(id).map_or(0, |a| i64::from(a.port()))
    }

    /// The link of client [param id], a [RustWebSocketPeer] (its
    /// statistics, [method RustWebSocketPeer.get_selected_protocol], its
    /// settings), or [code]null[/code] with an error. Do not poll or close
    /// it yourself.
    #[func]
    fn get_client_peer(&self, id: i64) -> Option<Gd<RustWebSocketPeer>> {
        let found = self.hub.link(client_id(id)).map(|l| l.0.clone());
        if found.is_none() {
            hub_error(rustws_core::HubError::NoSuchPeer(client_id(id)));
        }
        found
    }

    /// The settings new clients' links take, as a [RustWebSocketPeer]: the
    /// same settings as the node's link properties (changing one changes
    /// the other), for code that configures links as peers. Read by
    /// [method listen].
    #[func]
    fn get_link_settings(&self) -> Gd<RustWebSocketPeer> {
        self.template.clone()
    }

    /// With [member hold_upgrade]: lets the client announced as [param id]
    /// by [signal upgrade_requested] join. Returns
    /// [constant ERR_INVALID_PARAMETER] when no such client waits.
    #[func]
    fn accept_upgrade(&self, id: i64) -> Error {
        let Some(link) = self.held(id) else {
            return Error::ERR_INVALID_PARAMETER;
        };
        let result = link.lock().core.accept_upgrade();
        crate::peer::state::to_godot(result.map_err(|e| (e, String::new())))
    }

    /// With [member hold_upgrade]: turns the client announced as
    /// [param id] away with the HTTP error [param status] (400 to 599) and
    /// [param reason] as the body.
    #[func]
    fn refuse_upgrade(&self, id: i64, status: i64, #[opt(default = "")] reason: GString) -> Error {
        let Some(link) = self.held(id) else {
            return Error::ERR_INVALID_PARAMETER;
        };
        let result = link.lock().core.refuse_upgrade(status, &reason.to_string());
        crate::peer::state::to_godot(result.map_err(|e| (e, String::new())))
    }
}

/// A GDScript id as the hub's (an id out of range names no client).
fn client_id(id: i64) -> i32 {
    i32::try_from(id).unwrap_or(-1)
}

impl RustWebSocketServer {
    fn client_addr(&self, id: i64) -> Option<std::net::SocketAddr> {
        let addr = self
            .hub
            .link(client_id(id))
            .and_then(|l| l.1.lock().core.client_addr());
        if addr.is_none() {
            hub_error(rustws_core::HubError::NoSuchPeer(client_id(id)));
        }
        addr
    }

    /// The link of joining client `id`, or an error said.
    fn held(&self, id: i64) -> Option<crate::peer::state::SharedState> {
        let link = self.hub.pending_link(client_id(id)).map(|l| l.1.clone());
        if link.is_none() {
            crate::logger::error!(
                "{CLASS}: no joining client with id {id} (it must come from upgrade_requested, \
                 within the handshake timeout)"
            );
        }
        link
    }
}
