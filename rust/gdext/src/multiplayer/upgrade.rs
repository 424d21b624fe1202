//! A server's decision on each joining client: with `hold_upgrade` on, the
//! hub announces a client whose upgrade request is held
//! (`Event::UpgradeWaiting`), `_poll` emits `upgrade_requested` with its URL
//! and headers (read here, with the lock released before the signal), and
//! the game answers with `accept_upgrade(peer_id)` or `refuse_upgrade`,
//! which go to that client's link (a `RustWebSocketPeer`, see
//! `peer/upgrade.rs`).

use super::state::{MpState, CLASS};
use super::RustWebSocketMultiplayerPeer;
use crate::binding::{Shared, Stateful};
use crate::peer::{state, upgrade::headers_dictionary};
use godot::global::Error;
use godot::prelude::*;

/// The arguments of `upgrade_requested` for the held client `id`, if it
/// still waits.
pub(super) fn request_of(shared: &Shared<MpState>, id: i32) -> Option<Vec<Variant>> {
    let link = shared.lock().hub.pending_link(id)?.1.clone();
    let (url, headers) = {
        let link = link.lock();
        if !link.core.upgrade_waiting() {
            return None;
        }
        let url = link.core.requested_url().to_string();
        (url, link.core.handshake_headers().to_vec())
    };
    // Godot values are made with no lock held.
    Some(vec![
        Variant::from(i64::from(id)),
        GString::from(url.as_str()).to_variant(),
        headers_dictionary(&headers).to_variant(),
    ])
}

impl RustWebSocketMultiplayerPeer {
    /// The link of joining client `peer_id`, or an error said.
    fn held(&self, peer_id: i32) -> Option<state::SharedState> {
        let link = self
            .shared()
            .lock()
            .hub
            .pending_link(peer_id)
            .map(|l| l.1.clone());
        if link.is_none() {
            crate::logger::error!(
                "{CLASS}: no joining client with id {peer_id} (it must come from upgrade_requested, within handshake_timeout)"
            );
        }
        link
    }
}

#[godot_api(secondary)]
impl RustWebSocketMultiplayerPeer {
    /// Lets the client announced as [param peer_id] by
    /// [signal upgrade_requested] join: its connection opens at the next
    /// poll, and [signal MultiplayerPeer.peer_connected] follows with that
    /// id. Returns `ERR_INVALID_PARAMETER` when no such client waits.
    #[func]
    fn accept_upgrade(&self, peer_id: i32) -> Error {
        let Some(link) = self.held(peer_id) else {
            return Error::ERR_INVALID_PARAMETER;
        };
        let result = link.lock().core.accept_upgrade();
        state::to_godot(result.map_err(|e| (e, String::new())))
    }

    /// Turns the client announced as [param peer_id] away: it gets the HTTP
    /// error [param status] (400 to 599: 401, 403, 404...) with
    /// [param reason] as the body, and never joins. Returns
    /// `ERR_INVALID_PARAMETER` when no such client waits or the status
    /// cannot be sent.
    #[func]
    fn refuse_upgrade(
        &self,
        peer_id: i32,
        status: i32,
        #[opt(default = "")] reason: GString,
    ) -> Error {
        let Some(link) = self.held(peer_id) else {
            return Error::ERR_INVALID_PARAMETER;
        };
        let result = link
            .lock()
            .core
            .refuse_upgrade(i64::from(status), &reason.to_string());
        state::to_godot(result.map_err(|e| (e, String::new())))
    }
}
