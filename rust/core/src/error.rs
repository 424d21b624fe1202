//! The failures a caller can act on, one variant each, with the Godot `Error`
//! code family each one maps to.

use std::fmt;

/// The family of Godot `Error` code a failure is reported as. The Godot layer
/// maps each to the matching `godot::global::Error` constant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// `ERR_INVALID_PARAMETER`
    InvalidParameter,
    /// `ERR_ALREADY_IN_USE`
    AlreadyInUse,
    /// `FAILED`
    Failed,
    /// `ERR_OUT_OF_MEMORY`
    OutOfMemory,
    /// `ERR_INVALID_DATA`
    InvalidData,
    /// `ERR_CANT_CONNECT`
    CantConnect,
    /// `ERR_CONNECTION_ERROR`
    ConnectionError,
}

/// Everything that can go wrong in a WebSocket peer, each with a message that
/// says what to do about it.
#[derive(Debug, Clone, PartialEq)]
pub enum WsError {
    /// The URL given to `connect_to_url` could not be parsed.
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        why: String,
    },
    /// The URL's scheme is not `ws://` or `wss://`.
    UnsupportedScheme {
        /// The scheme given.
        scheme: String,
    },
    /// `connect_to_url`/`accept_stream` called while a connection is active.
    AlreadyInUse,
    /// An argument was rejected (null stream, server TLS options on a client...).
    InvalidParameter(String),
    /// `send`/`put_packet` while the connection is not open.
    NotOpen,
    /// A text message that is not valid UTF-8 was given to `send`.
    InvalidUtf8Outbound,
    /// The outbound byte limit would be exceeded by this message.
    OutboundBufferFull {
        /// Bytes already waiting.
        buffered: usize,
        /// Bytes of the refused message.
        message: usize,
        /// `outbound_buffer_size`.
        limit: usize,
    },
    /// The outbound queue already holds `max_queued_packets` messages.
    OutboundQueueFull {
        /// `max_queued_packets`.
        limit: usize,
    },
    /// Name lookup of the host failed.
    Resolve {
        /// The host looked up.
        host: String,
        /// The resolver's answer.
        why: String,
    },
    /// No address of the host accepted a TCP connection.
    Connect {
        /// The host connected to.
        host: String,
        /// The port connected to.
        port: u16,
        /// The last address's failure.
        why: String,
    },
    /// TLS could not be set up or failed (certificate, protocol, alert).
    Tls(String),
    /// The HTTP upgrade failed (bad request, bad response, wrong accept key,
    /// sub-protocol mismatch, headers too large).
    Handshake(String),
    /// The peer broke the WebSocket protocol; we closed with `code`.
    Protocol {
        /// The close code we sent.
        code: u16,
        /// What the peer did.
        why: String,
    },
    /// The peer sent a message larger than `inbound_buffer_size`; closed with 1009.
    MessageTooBig {
        /// The message's size as far as it was read (or inflated).
        size: usize,
        /// `inbound_buffer_size`.
        limit: usize,
    },
    /// The peer sent invalid UTF-8 in a text message; closed with 1007.
    InvalidUtf8Inbound,
    /// No pong came back within the heartbeat interval.
    HeartbeatTimeout {
        /// The heartbeat interval.
        seconds: f64,
    },
    /// The connection was lost by an I/O error.
    Io(String),
    /// The peer went away without a close frame (close code -1).
    Dropped(String),
}

impl WsError {
    /// The Godot error family this failure is returned as.
    pub fn kind(&self) -> ErrorKind {
        match self {
            WsError::InvalidUrl { .. } | WsError::UnsupportedScheme { .. } => {
                ErrorKind::InvalidParameter
            }
            WsError::InvalidParameter(_) => ErrorKind::InvalidParameter,
            WsError::AlreadyInUse => ErrorKind::AlreadyInUse,
            WsError::NotOpen => ErrorKind::Failed,
            WsError::InvalidUtf8Outbound => ErrorKind::InvalidData,
            WsError::OutboundBufferFull { .. } | WsError::OutboundQueueFull { .. } => {
                ErrorKind::OutOfMemory
            }
            WsError::Resolve { .. } | WsError::Connect { .. } => ErrorKind::CantConnect,
            WsError::Tls(_) | WsError::Handshake(_) => ErrorKind::ConnectionError,
            WsError::Protocol { .. } | WsError::InvalidUtf8Inbound => ErrorKind::InvalidData,
            WsError::MessageTooBig { .. } => ErrorKind::OutOfMemory,
            WsError::HeartbeatTimeout { .. } | WsError::Io(_) | WsError::Dropped(_) => {
                ErrorKind::ConnectionError
            }
        }
    }

    /// `true` for events worth a warning rather than an error: a peer that
    /// simply went away.
    pub fn is_warning(&self) -> bool {
        matches!(self, WsError::Dropped(_))
    }
}

impl fmt::Display for WsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WsError::InvalidUrl { url, why } => write!(
                f,
                "Invalid WebSocket URL \"{url}\": {why}. Use the form ws://host[:port][/path] or wss://host[:port][/path]."
            ),
            WsError::UnsupportedScheme { scheme } => write!(
                f,
                "Invalid protocol \"{scheme}\" (must be either \"ws://\" or \"wss://\")."
            ),
            WsError::AlreadyInUse => write!(
                f,
                "This peer is already connecting or connected; call close() and poll() until STATE_CLOSED, or use a new peer."
            ),
            WsError::InvalidParameter(why) => write!(f, "{why}"),
            WsError::NotOpen => write!(
                f,
                "Cannot send: the WebSocket is not open. Wait until get_ready_state() is STATE_OPEN."
            ),
            WsError::InvalidUtf8Outbound => write!(
                f,
                "Cannot send a text message that is not valid UTF-8; use WRITE_MODE_BINARY for raw bytes."
            ),
            WsError::OutboundBufferFull { buffered, message, limit } => write!(
                f,
                "Cannot send {message} bytes: {buffered} bytes are still waiting to be sent and outbound_buffer_size is {limit}. Raise outbound_buffer_size, or poll() until get_current_outbound_buffered_amount() drops."
            ),
            WsError::OutboundQueueFull { limit } => write!(
                f,
                "Cannot send: {limit} messages are already waiting to be sent (max_queued_packets). Raise max_queued_packets, or poll() to let them go out."
            ),
            WsError::Resolve { host, why } => {
                write!(f, "Could not resolve host \"{host}\": {why}.")
            }
            WsError::Connect { host, port, why } => {
                write!(f, "Could not connect to {host}:{port}: {why}.")
            }
            WsError::Tls(why) => write!(f, "TLS error: {why}"),
            WsError::Handshake(why) => write!(f, "WebSocket handshake failed: {why}"),
            WsError::Protocol { code, why } => {
                write!(f, "WebSocket protocol error from the peer, closed with {code}: {why}")
            }
            WsError::MessageTooBig { size, limit } => write!(
                f,
                "Received a message of at least {size} bytes, more than inbound_buffer_size ({limit}); the connection was closed with code 1009. Raise inbound_buffer_size (before connecting) to accept larger messages."
            ),
            WsError::InvalidUtf8Inbound => write!(
                f,
                "The peer sent a text message that is not valid UTF-8; the connection was closed with code 1007."
            ),
            WsError::HeartbeatTimeout { seconds } => write!(
                f,
                "No pong came back within heartbeat_interval ({seconds} s); the connection was dropped."
            ),
            WsError::Io(why) => write!(f, "Connection lost: {why}"),
            WsError::Dropped(why) => write!(f, "Connection closed without a close frame (close code -1): {why}"),
        }
    }
}

impl std::error::Error for WsError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn too_big_message_names_the_property_to_raise() {
        let e = WsError::MessageTooBig {
            size: 70000,
            limit: 65535,
        };
        let text = e.to_string();
        assert!(text.contains("inbound_buffer_size"), "{text}");
        assert!(text.contains("1009"), "{text}");
        assert_eq!(e.kind(), ErrorKind::OutOfMemory);
    }

    #[test]
    fn outbound_limits_map_to_out_of_memory() {
        let full = WsError::OutboundBufferFull {
            buffered: 10,
            message: 70000,
            limit: 65535,
        };
        assert_eq!(full.kind(), ErrorKind::OutOfMemory);
        assert!(full.to_string().contains("outbound_buffer_size"));
        let queue = WsError::OutboundQueueFull { limit: 4096 };
        assert_eq!(queue.kind(), ErrorKind::OutOfMemory);
        assert!(queue.to_string().contains("max_queued_packets"));
    }
}
