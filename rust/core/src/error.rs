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

/// Why a connection could not be made or ended, in the categories a game can
/// act on (say "check your network" or "the server is down", retry later,
/// update a certificate...). `get_failure()` returns it (the engine's
/// `State`-like integers, [`Failure::None`] while nothing failed); the text
/// comes with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i32)]
pub enum Failure {
    /// Nothing failed (yet).
    None = 0,
    /// The host name could not be looked up.
    NameLookup = 1,
    /// The host refused the connection (nothing listens on that port).
    Refused = 2,
    /// No answer in time: the TCP connect (`connect_timeout`) or the whole
    /// opening (`handshake_timeout`).
    Timeout = 3,
    /// The host could not be reached otherwise (network unreachable...).
    Unreachable = 4,
    /// The server's certificate is not signed by a trusted authority.
    TlsUnknownIssuer = 5,
    /// The server's certificate has expired (or is not valid yet).
    TlsExpired = 6,
    /// The server's certificate is not for the host name connected to.
    TlsWrongHost = 7,
    /// Another TLS failure.
    Tls = 8,
    /// The server answered the upgrade with an HTTP status other than 101
    /// (its number: `get_failure_http_status()`).
    HttpStatus = 9,
    /// Another failure of the HTTP upgrade (a bad answer, a mismatch).
    Handshake = 10,
    /// The peer broke the WebSocket protocol (closed with 1002, 1007, 1009).
    Protocol = 11,
    /// The peer stopped answering pings (heartbeat).
    Heartbeat = 12,
    /// The connection was lost without a close frame.
    Dropped = 13,
    /// The HTTP proxy (`set_http_proxy`, `set_https_proxy`) could not be
    /// reached, or refused the tunnel (its status:
    /// `get_failure_http_status()`, e.g. 407 for missing credentials).
    Proxy = 14,
}

/// Why a TCP connect failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectCause {
    /// Actively refused.
    Refused,
    /// No answer before the connect timeout (or the handshake timeout).
    TimedOut,
    /// Anything else (unreachable...).
    Other,
}

/// Why a certificate was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertificateCause {
    /// Not signed by a trusted authority.
    UnknownIssuer,
    /// Expired, or not valid yet.
    Expired,
    /// Not valid for the host name.
    WrongHost,
    /// Anything else (revoked, bad usage...).
    Other,
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
        /// Its kind.
        cause: ConnectCause,
    },
    /// TLS could not be set up or failed (protocol, alert, settings).
    Tls(String),
    /// The server's certificate was refused.
    Certificate {
        /// Why, as a kind.
        cause: CertificateCause,
        /// Why, with what to do about it.
        why: String,
    },
    /// The server answered the upgrade with this HTTP status, not 101.
    UpgradeRefused {
        /// The status code.
        status: u16,
        /// The server's status line.
        line: String,
    },
    /// The HTTP proxy could not be reached or did not open the tunnel.
    Proxy {
        /// The proxy's `host:port`.
        proxy: String,
        /// Its answer's status, when it answered.
        status: Option<u16>,
        /// What happened, with what to do about it.
        why: String,
    },
    /// The connection was not open within the handshake timeout.
    Timeout {
        /// The timeout, in seconds.
        seconds: f64,
    },
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
        /// How many pings in a row went unanswered.
        misses: u32,
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
            WsError::Tls(_)
            | WsError::Certificate { .. }
            | WsError::UpgradeRefused { .. }
            | WsError::Proxy { .. }
            | WsError::Timeout { .. }
            | WsError::Handshake(_) => ErrorKind::ConnectionError,
            WsError::Protocol { .. } | WsError::InvalidUtf8Inbound => ErrorKind::InvalidData,
            WsError::MessageTooBig { .. } => ErrorKind::OutOfMemory,
            WsError::HeartbeatTimeout { .. } | WsError::Io(_) | WsError::Dropped(_) => {
                ErrorKind::ConnectionError
            }
        }
    }

    /// The category a game can act on (see [`Failure`]).
    pub fn failure(&self) -> Failure {
        match self {
            WsError::Resolve { .. } => Failure::NameLookup,
            WsError::Connect { cause, .. } => match cause {
                ConnectCause::Refused => Failure::Refused,
                ConnectCause::TimedOut => Failure::Timeout,
                ConnectCause::Other => Failure::Unreachable,
            },
            WsError::Timeout { .. } => Failure::Timeout,
            WsError::Certificate { cause, .. } => match cause {
                CertificateCause::UnknownIssuer => Failure::TlsUnknownIssuer,
                CertificateCause::Expired => Failure::TlsExpired,
                CertificateCause::WrongHost => Failure::TlsWrongHost,
                CertificateCause::Other => Failure::Tls,
            },
            WsError::Tls(_) => Failure::Tls,
            WsError::UpgradeRefused { .. } => Failure::HttpStatus,
            WsError::Proxy { .. } => Failure::Proxy,
            WsError::Handshake(_) => Failure::Handshake,
            WsError::Protocol { .. }
            | WsError::MessageTooBig { .. }
            | WsError::InvalidUtf8Inbound => Failure::Protocol,
            WsError::HeartbeatTimeout { .. } => Failure::Heartbeat,
            WsError::Io(_) | WsError::Dropped(_) => Failure::Dropped,
            // Refused calls, not failures of the connection.
            WsError::InvalidUrl { .. }
            | WsError::UnsupportedScheme { .. }
            | WsError::AlreadyInUse
            | WsError::InvalidParameter(_)
            | WsError::NotOpen
            | WsError::InvalidUtf8Outbound
            | WsError::OutboundBufferFull { .. }
            | WsError::OutboundQueueFull { .. } => Failure::None,
        }
    }

    /// The HTTP status the server answered the upgrade with, if that is why
    /// the connection failed.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            WsError::UpgradeRefused { status, .. } => Some(*status),
            WsError::Proxy { status, .. } => *status,
            _ => None,
        }
    }

    /// `true` for events worth a warning rather than an error: a peer that
    /// simply went away.
    pub fn is_warning(&self) -> bool {
        matches!(self, WsError::Dropped(_))
    }
}

/// Printed as one line: what a peer or a proxy sent (a close reason, a
/// status line) cannot start a forged line, and a URL shows no secret.
impl fmt::Display for WsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut raw = String::new();
        self.describe(&mut raw)?;
        f.write_str(&crate::shown::printable(&raw))
    }
}

impl WsError {
    fn describe(&self, f: &mut String) -> fmt::Result {
        use fmt::Write;
        match self {
            WsError::InvalidUrl { url, why } => write!(
                f,
                "Invalid WebSocket URL \"{}\": {why}. Use the form ws://host[:port][/path] or wss://host[:port][/path].",
                crate::shown::url(url)
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
            WsError::Connect { host, port, why, .. } => {
                write!(f, "Could not connect to {host}:{port}: {why}.")
            }
            WsError::Tls(why) | WsError::Certificate { why, .. } => write!(f, "TLS error: {why}"),
            WsError::UpgradeRefused { line, .. } => write!(
                f,
                "WebSocket handshake failed: the server answered \"{line}\" instead of 101 Switching Protocols; check the URL path and that the server speaks WebSocket"
            ),
            WsError::Proxy { proxy, why, .. } => {
                write!(f, "Could not connect through the HTTP proxy {proxy}: {why}.")
            }
            WsError::Timeout { seconds } => write!(
                f,
                "WebSocket handshake failed: the connection was not open after {seconds:.1} s (handshake_timeout); dropped"
            ),
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
            WsError::HeartbeatTimeout { seconds, misses } => write!(
                f,
                "{misses} ping(s) in a row, {seconds} s apart (heartbeat_interval), went unanswered; the connection was dropped."
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
