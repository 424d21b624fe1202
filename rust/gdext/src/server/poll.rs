//! One poll of a `RustWebSocketServer`: the hub advanced with the node bound,
//! what happened collected as [`Signal`]s (with their Godot values made
//! there), and the links of clients that left handed back, to be dropped
//! once the node is released. The class emits the signals afterwards, with
//! nothing bound.

use super::{RustWebSocketServer, CLASS};
use crate::multiplayer::state::Linked;
use crate::peer::upgrade::headers_dictionary;
use godot::prelude::*;
use rustws_core::{Event, Stream};

/// A signal to emit: its name and arguments.
pub(super) struct Signal(pub &'static str, pub Vec<Variant>);

/// What one poll came to.
#[derive(Default)]
pub(super) struct Polled {
    pub signals: Vec<Signal>,
    /// Links of clients that left, dropped with the node released.
    pub gone: Vec<Linked>,
}

impl RustWebSocketServer {
    /// Advances the hub and collects what to emit (the node is bound).
    pub(super) fn poll_bound(&mut self, hold_http: bool) -> Polled {
        let mut polled = Polled::default();
        if !self.hub.is_server() {
            return polled;
        }
        self.hub.hold_http = hold_http;
        let config = &self.link_config;
        self.hub.poll(&mut |stream: Box<dyn Stream>, tls: bool| {
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
        let mut leaving = Vec::new();
        while let Some(event) = self.hub.next_event() {
            match event {
                Event::Connected(id) => polled
                    .signals
                    .push(Signal("client_connected", vec![id.to_variant()])),
                Event::Disconnected(id) => leaving.push(event_left(&self.hub, id)),
                Event::UpgradeWaiting(id) => {
                    if let Some(args) = self.request_of(id) {
                        polled.signals.push(Signal("upgrade_requested", args));
                    }
                }
                Event::HttpRequest(id) => {
                    if let Some(request) = self.hub.http_request(id) {
                        polled.signals.push(Signal(
                            "http_request",
                            vec![
                                id.to_variant(),
                                GString::from(request.method.as_str()).to_variant(),
                                GString::from(request.path.as_str()).to_variant(),
                                headers_dictionary(&request.headers).to_variant(),
                            ],
                        ));
                    }
                }
                Event::Drained => leaving.push(Signal("drained", Vec::new())),
            }
            if let Some(link) = self.hub.handled(event) {
                polled.gone.push(link);
            }
        }
        // Messages after the joins of this poll (a client's first message
        // follows its client_connected); the leaves of this poll come after
        // the messages (the hub holds a leave back while its client's
        // messages wait, so those come first).
        while let Some(packet) = self.hub.pop_packet() {
            let message = if packet.text {
                GString::from(String::from_utf8_lossy(&packet.data).as_ref()).to_variant()
            } else {
                PackedByteArray::from(&packet.data[..]).to_variant()
            };
            polled.signals.push(Signal(
                "message_received",
                vec![packet.from.to_variant(), message],
            ));
        }
        polled.signals.extend(leaving);
        polled
    }

    /// The arguments of `upgrade_requested` for the held client `id`, if it
    /// still waits.
    fn request_of(&self, id: i32) -> Option<Vec<Variant>> {
        let link = self.hub.pending_link(id)?;
        let link = link.1.lock();
        if !link.core.upgrade_waiting() {
            return None;
        }
        let url = link.core.requested_url().to_string();
        let headers = link.core.handshake_headers().to_vec();
        drop(link);
        Some(vec![
            id.to_variant(),
            GString::from(url.as_str()).to_variant(),
            headers_dictionary(&headers).to_variant(),
        ])
    }
}

/// `client_disconnected` for `id`, with the close code and reason of its
/// link (-1 and why, when no close frame came).
fn event_left(hub: &rustws_core::Hub<Linked>, id: i32) -> Signal {
    let (code, reason) = hub
        .link(id)
        .map(|l| {
            let link = l.1.lock();
            let code = link.core.close_code();
            let reason = match link.core.failure() {
                Some(failure) if code < 0 => failure.to_string(),
                _ => link.core.close_reason().to_string(),
            };
            (code, reason)
        })
        .unwrap_or((-1, String::new()));
    Signal(
        "client_disconnected",
        vec![
            id.to_variant(),
            code.to_variant(),
            GString::from(reason.as_str()).to_variant(),
        ],
    )
}
