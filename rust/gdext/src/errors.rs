//! Maps the core's error families to Godot `Error` codes and reports
//! failures in Godot's output.

use godot::global::{godot_error, godot_warn, Error};
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

/// Prints `err` as a Godot error (or warning, for a peer that went away),
/// prefixed with the class and, when known, the URL.
pub fn report(err: &WsError, url: &str) {
    let at = if url.is_empty() {
        String::new()
    } else {
        format!(" ({url})")
    };
    if err.is_warning() {
        godot_warn!("RustWebSocketPeer{at}: {err}");
    } else {
        godot_error!("RustWebSocketPeer{at}: {err}");
    }
}

/// Reports `result`'s error and returns the matching Godot code.
pub fn to_godot(result: Result<(), WsError>, url: &str) -> Error {
    match result {
        Ok(()) => Error::OK,
        Err(e) => {
            report(&e, url);
            code(&e)
        }
    }
}

/// `true` for a value above 0; otherwise says so for `class`'s property
/// `what` (which keeps its old value).
pub fn positive(class: &str, value: i32, what: &str) -> bool {
    if value <= 0 {
        godot_error!(
            "{class}: {what} must be greater than 0 (got {value}); the value was not changed."
        );
    }
    value > 0
}

/// `true` for 0 (no limit) or more; otherwise says so for `class`'s property
/// `what` (which keeps its old value).
pub fn zero_or_more(class: &str, value: i32, what: &str) -> bool {
    if value < 0 {
        godot_error!(
            "{class}: {what} must be 0 (no limit) or more (got {value}); the value was not changed."
        );
    }
    value >= 0
}

/// `true` for a compression window of 9-15 bits; otherwise says so for
/// `class` (the property keeps its old value).
pub fn window_bits(class: &str, bits: i32) -> bool {
    let ok = (9..=15).contains(&bits);
    if !ok {
        godot_error!(
            "{class}: compression_window_bits must be 9-15 (got {bits}); the value was not changed."
        );
    }
    ok
}
