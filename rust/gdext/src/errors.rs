//! Maps the core's error families to the Godot `Error` codes the engine's
//! classes return.

use godot::global::Error;
use rustws_core::{ErrorKind, HubError, WsError};

/// The Godot `Error` code for a core failure.
pub fn code(err: &WsError) -> Error {
    match err.kind() {
        ErrorKind::InvalidParameter => Error::ERR_INVALID_PARAMETER,
        ErrorKind::AlreadyInUse => Error::ERR_ALREADY_IN_USE,
        ErrorKind::Failed => Error::FAILED,
        ErrorKind::OutOfMemory => Error::ERR_OUT_OF_MEMORY,
        ErrorKind::InvalidData => Error::ERR_INVALID_DATA,
        ErrorKind::CantConnect => Error::ERR_CANT_CONNECT,
        ErrorKind::ConnectionError => Error::ERR_CONNECTION_ERROR,
    }
}

/// The Godot `Error` code for a hub failure (the multiplayer class's and the
/// server node's; each says it in its own words).
pub fn hub_code(err: &HubError) -> Error {
    match err {
        HubError::AlreadyInUse | HubError::AddressInUse(_) => Error::ERR_ALREADY_IN_USE,
        HubError::NotConnected => Error::ERR_UNCONFIGURED,
        HubError::NoSuchPeer(_) | HubError::Invalid(_) => Error::ERR_INVALID_PARAMETER,
        HubError::Listen(_) => Error::ERR_CANT_CREATE,
        HubError::Send(e) => code(e),
    }
}
