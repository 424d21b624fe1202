//! Behind a load balancer: the arguments of `http_request` for a held plain
//! HTTP request (`Event::HttpRequest`), read with the lock released before
//! the signal, and `reply_http`'s answer, which goes to that connection's
//! link (see the core's `http_plain`).

use super::state::{hub_error, MpState, CLASS};
use super::RustWebSocketMultiplayerPeer;
use crate::binding::{Shared, Stateful};
use crate::peer::upgrade::headers_dictionary;
use godot::global::Error;
use godot::prelude::*;

/// The arguments of `http_request` for connection `id`, if its request
/// still waits.
pub(super) fn request_of(shared: &Shared<MpState>, id: i32) -> Option<Vec<Variant>> {
    let request = shared.lock().hub.http_request(id)?;
    // Godot values are made with no lock held.
    Some(vec![
        Variant::from(i64::from(id)),
        GString::from(request.method.as_str()).to_variant(),
        GString::from(request.path.as_str()).to_variant(),
        headers_dictionary(&request.headers).to_variant(),
    ])
}

/// `reply_http`: checks the body's type, then hands the answer to the link.
pub(super) fn reply(
    this: &RustWebSocketMultiplayerPeer,
    id: i32,
    status: i32,
    body: &Variant,
    headers: &PackedStringArray,
) -> Error {
    let Some(bytes) = reply_body(CLASS, body) else {
        return Error::ERR_INVALID_PARAMETER;
    };
    let headers = crate::settings::strings(headers);
    let result = this
        .shared()
        .lock()
        .hub
        .answer_http(id, i64::from(status), &headers, &bytes);
    match result {
        Ok(()) => Error::OK,
        Err(rustws_core::HubError::NoSuchPeer(_)) => {
            crate::logger::error!(
                "{CLASS}: reply_http: no plain HTTP request {id} waits (it must come from http_request, within handshake_timeout)."
            );
            Error::ERR_INVALID_PARAMETER
        }
        Err(e) => {
            hub_error(e);
            Error::ERR_INVALID_PARAMETER
        }
    }
}

/// `reply_http`'s body as bytes (a String, a PackedByteArray or null), for
/// both classes that answer plain HTTP; `None` (said) for another type. A
/// byte array longer than the core takes is cut one byte past its limit,
/// so the core refuses it without a copy of all of it.
pub(crate) fn reply_body(class: &str, body: &Variant) -> Option<Vec<u8>> {
    if let Ok(text) = body.try_to::<GString>() {
        Some(text.to_string().into_bytes())
    } else if let Ok(raw) = body.try_to::<PackedByteArray>() {
        let slice = raw.as_slice();
        Some(slice[..slice.len().min(rustws_core::MAX_HTTP_BODY + 1)].to_vec())
    } else if body.is_nil() {
        Some(Vec::new())
    } else {
        crate::logger::error!(
            "{class}: reply_http: the body must be a String or a PackedByteArray."
        );
        None
    }
}
