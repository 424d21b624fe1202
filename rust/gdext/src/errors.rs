//! Maps the core's error families to the Godot `Error` codes the engine's
//! classes return.

use godot::global::Error;
use rustws_core::{ErrorKind, WsError};

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
