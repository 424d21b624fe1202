//! The server's view of a client's upgrade request, and its answer: with
//! `hold_upgrade` on, [`RustWebSocketPeer`] keeps a valid request waiting
//! in `STATE_CONNECTING` until the game accepts or refuses it (the core's
//! `Peer::accept_upgrade` / `Peer::refuse_upgrade`). An addition to the
//! engine's API: with the property off, nothing here changes behaviour.

use super::{state, RustWebSocketPeer};
use godot::global::Error;
use godot::prelude::*;

#[godot_api(secondary)]
impl RustWebSocketPeer {
    /// The HTTP headers the other side sent in the opening handshake, as a
    /// [Dictionary] of lower-case names to values (a repeated header's values
    /// joined with `,`). On the server side: the client's request, readable
    /// from the moment [method poll] read it (while held, see
    /// [member hold_upgrade]) and once open. On the client side: the
    /// server's answer, once open. Empty before that.
    #[func]
    fn get_received_headers(&self) -> VarDictionary {
        headers_dictionary(self.shared.lock().core.handshake_headers())
    }

    /// `true` on the server side when [member hold_upgrade] is on and a
    /// client's valid upgrade request waits for [method accept_upgrade] or
    /// [method refuse_upgrade]. Read its URL with [method get_requested_url]
    /// and its headers with [method get_received_headers].
    #[func]
    fn is_upgrade_waiting(&self) -> bool {
        self.shared.lock().core.upgrade_waiting()
    }

    /// Accepts the waiting upgrade request: the next [method poll] answers
    /// `101 Switching Protocols` and the connection opens. Returns
    /// `ERR_INVALID_PARAMETER` when no request waits (see
    /// [method is_upgrade_waiting]).
    #[func]
    fn accept_upgrade(&self) -> Error {
        let result = self.shared.lock().core.accept_upgrade();
        state::to_godot(result.map_err(|e| (e, String::new())))
    }

    /// Refuses the waiting upgrade request: the next [method poll] answers
    /// with the HTTP error [param status] (400 to 599, e.g. 401 Unauthorized,
    /// 403 Forbidden, 404 Not Found) and [param reason] as the body, then
    /// closes ([constant STATE_CLOSED]). The client reads the status as the
    /// failure of its connection. Returns `ERR_INVALID_PARAMETER` when no
    /// request waits or the status or reason cannot be sent.
    #[func]
    fn refuse_upgrade(&self, status: i32, #[opt(default = "")] reason: GString) -> Error {
        let result = self
            .shared
            .lock()
            .core
            .refuse_upgrade(i64::from(status), &reason.to_string());
        state::to_godot(result.map_err(|e| (e, String::new())))
    }
}

/// Handshake headers as the [Dictionary] GDScript reads.
pub(crate) fn headers_dictionary(list: &[(String, String)]) -> VarDictionary {
    let mut headers = VarDictionary::new();
    for (name, value) in list {
        headers.set(
            &GString::from(name.as_str()),
            &GString::from(value.as_str()),
        );
    }
    headers
}
