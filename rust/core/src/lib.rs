//! Engine-free WebSocket peer logic behind the Godot extension.
//!
//! Everything here is plain Rust and is tested with `cargo test`. The
//! modules are private; this page is the whole surface the Godot layer (and
//! the tests) may use. From the bottom up:
//!
//! - URLs (`url`), connecting on a bounded thread pool (`dial`), TLS with
//!   rustls (`tls`) and the roots a client trusts by default (`trust`), the socket and its readiness (`readiness`,
//!   `takeover`), the byte transport with its outbound buffer (`transport`);
//! - the HTTP upgrade on both sides (`handshake`, `opening`) with
//!   permessage-deflate negotiation (`extension`) and its data side
//!   (`deflate`); frames to messages (`inbound`), close rules (`close`), an
//!   open link's two directions (`connection`), the inbound queue (`queue`);
//! - the settings of a link ([`PeerConfig`]), the peer state machine that
//!   ties the above together ([`Peer`]) and the multiplayer star network
//!   ([`Hub`]).
//!
//! Errors a caller can act on are [`WsError`] (with its [`ErrorKind`]) and
//! [`HubError`]; a refused setting is [`Refused`].

mod close;
mod config;
mod connection;
mod deflate;
mod dial;
mod error;
mod extension;
mod forwarded;
mod handshake;
mod http_plain;
mod inbound;
mod multiplayer;
mod opening;
mod opening_http;
mod peer;
mod preface;
mod private_dir;
mod proxy;
mod proxy_protocol;
mod queue;
mod readiness;
mod reconnect;
mod shown;
mod stats;
mod takeover;
mod tls;
mod transport;
mod trust;
mod url;

#[doc(hidden)]
pub mod fuzz_support;

pub use close::{is_sendable_close_code, MAX_CLOSE_REASON};
pub use config::{
    PeerConfig, Refused, DEFAULT_BUFFER_SIZE, DEFAULT_CLOSE_TIMEOUT, DEFAULT_COMPRESSION_THRESHOLD,
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_HANDSHAKE_TIMEOUT, DEFAULT_HEALTH_PATH,
    DEFAULT_HEARTBEAT_MISSES, DEFAULT_MAX_PENDING_CONNECTIONS, DEFAULT_MAX_QUEUED_PACKETS,
    HUB_QUEUE_FACTOR,
};
pub use connection::Prepared;
pub use dial::{live_workers, Connector, MAX_WORKERS};
pub use error::{CertificateCause, ConnectCause, ErrorKind, Failure, WsError};
pub use extension::DeflateConfig;
pub use forwarded::{
    canonical as canonical_ip, forwarded_client, IpRange, TrustedProxies, MAX_FORWARDED_ENTRIES,
    MAX_TRUSTED_PROXIES,
};
pub use handshake::{find_head_end, MAX_HEAD_SIZE};
pub use http_plain::{HttpRequest, MAX_HEALTH_PATH, MAX_HTTP_BODY};
pub use multiplayer::{
    link_config, listen_socket_of, Event, Hub, HubError, Inbox, Link, Received, Status,
    ACCEPTS_BEFORE_BUDGET, ACCEPTS_PER_POLL, LINK_HEARTBEAT_MISSES, LINK_HEARTBEAT_SECONDS,
    LISTEN_BACKLOG, MAX_TOPIC_LEN, PACKET_OVERHEAD, SERVER_FULL_CODE, SERVER_ID, SLOW_LINK_CODE,
};
pub use peer::{Peer, ReadyState, CLIENT_CLOSE_WAIT, FLUSH_AT, READ_BUDGET, REPLY_BACKLOG};
pub use preface::Prefaced;
pub use private_dir::PrivateDir;
pub use proxy::Proxy;
pub use proxy_protocol::{
    parse as parse_proxy_header, Parsed as ProxyParsed, ProxyError, ProxyHeader, V1_MAX,
    V2_MAX_LEN, V2_SIGNATURE,
};
pub use queue::Packet;
pub use readiness::Socket;
pub use reconnect::{Backoff, Ending, Outbox, Reconnector};
pub use shown::{printable, url as shown_url};
pub use stats::{Statistics, PINGS_IN_FLIGHT, PING_PAYLOAD};
pub use takeover::take_over;
pub use tls::{server_config, ServerConfig, TlsClientOptions};
pub use transport::Stream;
pub use trust::{default_roots, finish_trust_read, set_default_trust, TrustOrigin, TrustSources};
pub use tungstenite::Bytes;
