//! The settings of a link, one type for both Godot classes: the properties
//! the engine's `WebSocketPeer` and `WebSocketMultiplayerPeer` have (and our
//! compression settings beside them), their defaults, and the rules a new
//! value must follow. A setter that refuses a value keeps the old one and
//! says why ([`Refused`]); the Godot layer prints that and the class name.
//!
//! A connection reads the settings when it starts (`connect_to_url`,
//! `accept_stream`), as the engine's class does; only the heartbeat also
//! applies to an open link.

use crate::extension::DeflateConfig;
use crate::forwarded::TrustedProxies;
use crate::proxy::Proxy;
use std::fmt;
use std::time::Duration;

/// Default of [`PeerConfig::inbound_buffer_size`] and
/// [`PeerConfig::outbound_buffer_size`], as in the engine.
pub const DEFAULT_BUFFER_SIZE: usize = 65535;

/// Default of [`PeerConfig::max_queued_packets`], as in the engine.
pub const DEFAULT_MAX_QUEUED_PACKETS: usize = 4096;

/// Default of [`PeerConfig::handshake_timeout`] for a `RustWebSocketPeer`,
/// in seconds: the engine's class has no such setting and never gives up;
/// ours drops a link that is not open after this long.
pub const DEFAULT_HANDSHAKE_TIMEOUT: f64 = 15.0;

/// Default of [`PeerConfig::connect_timeout`], in seconds.
pub const DEFAULT_CONNECT_TIMEOUT: f64 = 10.0;

/// Default of [`PeerConfig::heartbeat_misses`]: as the engine's class, a link
/// whose ping is still unanswered when the next one is due is dropped.
pub const DEFAULT_HEARTBEAT_MISSES: u32 = 1;

/// Default of [`PeerConfig::close_timeout`].
pub const DEFAULT_CLOSE_TIMEOUT: Duration = Duration::from_secs(10);

/// Default of [`PeerConfig::compression_threshold`] (as Node's `ws`).
pub const DEFAULT_COMPRESSION_THRESHOLD: usize = 1024;

/// Default of [`PeerConfig::max_pending_connections`]: the listen backlog
/// (`LISTEN_BACKLOG`), so a burst the listener can queue opens at once even
/// when its clients are slow to send their requests (a lower cap dropped the
/// first of 1,000 clients opened at once by one busy process before they
/// had written); a flood still holds at most this many descriptors.
pub const DEFAULT_MAX_PENDING_CONNECTIONS: usize = 1024;

/// A multiplayer hub's queue of received packets holds at most this many
/// times a link's own limits ([`PeerConfig::inbound_buffer_size`] bytes,
/// [`PeerConfig::max_queued_packets`] packets); beyond it, packets wait in
/// their links.
pub const HUB_QUEUE_FACTOR: usize = 4;

/// The settings of one link; read when a connection starts.
#[derive(Debug, Clone, PartialEq)]
pub struct PeerConfig {
    /// Extra `Name: value` lines for the upgrade request (client) or the
    /// response (server).
    pub handshake_headers: Vec<String>,
    /// Sub-protocols offered (client) or accepted (server), trimmed.
    pub supported_protocols: Vec<String>,
    /// Largest message accepted, and the budget of queued inbound bytes.
    pub inbound_buffer_size: usize,
    /// Budget of outbound bytes not yet written to the socket (0: no limit).
    pub outbound_buffer_size: usize,
    /// Most packets queued, inbound and outbound each.
    pub max_queued_packets: usize,
    /// Seconds between automatic pings (0: none).
    pub heartbeat_interval: f64,
    /// Pings in a row that may go unanswered: when the next one is due and
    /// this many are, the link is dropped (at least 1).
    pub heartbeat_misses: u32,
    /// Longest time, in seconds, one TCP connect attempt may take before the
    /// next address of the host is tried (or the connection fails).
    pub connect_timeout: f64,
    /// Longest time, in seconds, from `connect_to_url`/`accept_stream` to an
    /// open link (name lookup, connect, TLS and the upgrade); a peer that
    /// takes longer (for example a client that opens TCP and never sends its
    /// upgrade) is dropped. Kept as given (see
    /// [`PeerConfig::handshake_limit`]).
    pub handshake_timeout: f64,
    /// Longest time in `STATE_CLOSING`: a peer that does not finish the
    /// closing handshake by then is dropped.
    pub close_timeout: Duration,
    /// Offer (client) or accept (server) permessage-deflate; off, the wire
    /// stays as the engine's.
    pub compression_enabled: bool,
    /// The compression asked for when [`PeerConfig::compression_enabled`].
    pub deflate: DeflateConfig,
    /// Messages shorter than this go out uncompressed.
    pub compression_threshold: usize,
    /// Server side: hold a valid upgrade request until the game accepts or
    /// refuses it ([`crate::Peer::accept_upgrade`],
    /// [`crate::Peer::refuse_upgrade`]); off, it is answered at once, as
    /// the engine's class does.
    pub hold_upgrade: bool,
    /// Client: the HTTP proxy `ws://` connections tunnel through.
    pub http_proxy: Option<Proxy>,
    /// Client: the HTTP proxy `wss://` connections tunnel through.
    pub https_proxy: Option<Proxy>,
    /// Multiplayer server: connections accepted and still opening (TCP
    /// connected, TLS or the upgrade not done yet) at most; when a new one
    /// comes, the oldest still opening is dropped. A flood of silent
    /// connections then holds this many descriptors, not thousands.
    pub max_pending_connections: usize,
    /// Server: connections from [`PeerConfig::trusted_proxies`] (from any
    /// address when that list is empty) start with a PROXY protocol header
    /// (version 1 or 2) naming the real client; one without it is refused.
    /// Off by default.
    pub proxy_protocol: bool,
    /// Server: the load balancers whose word about the client is believed
    /// (the PROXY header's senders, and the only peers whose
    /// `X-Forwarded-For` / `Forwarded` headers are read). Empty: no
    /// forwarding header is believed.
    pub trusted_proxies: TrustedProxies,
    /// Server: the path a plain HTTP `GET`/`HEAD` is answered on with 200
    /// (503 while draining); empty turns it off.
    pub health_path: String,
}

/// Default of [`PeerConfig::health_path`].
pub const DEFAULT_HEALTH_PATH: &str = "/health";

impl Default for PeerConfig {
    fn default() -> Self {
        PeerConfig {
            handshake_headers: Vec::new(),
            supported_protocols: Vec::new(),
            inbound_buffer_size: DEFAULT_BUFFER_SIZE,
            outbound_buffer_size: DEFAULT_BUFFER_SIZE,
            max_queued_packets: DEFAULT_MAX_QUEUED_PACKETS,
            heartbeat_interval: 0.0,
            heartbeat_misses: DEFAULT_HEARTBEAT_MISSES,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
            close_timeout: DEFAULT_CLOSE_TIMEOUT,
            compression_enabled: false,
            deflate: DeflateConfig::default(),
            compression_threshold: DEFAULT_COMPRESSION_THRESHOLD,
            hold_upgrade: false,
            http_proxy: None,
            https_proxy: None,
            max_pending_connections: DEFAULT_MAX_PENDING_CONNECTIONS,
            proxy_protocol: false,
            trusted_proxies: TrustedProxies::default(),
            health_path: DEFAULT_HEALTH_PATH.to_string(),
        }
    }
}

/// A value a setter refused, and why (the setting kept its old value).
#[derive(Debug, Clone, PartialEq)]
pub struct Refused {
    /// The property's name, as in GDScript.
    pub setting: &'static str,
    /// What it must be, e.g. "greater than 0".
    pub rule: &'static str,
    /// The value given, as text.
    pub got: String,
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} must be {} (got {}); the value was not changed.",
            self.setting, self.rule, self.got
        )
    }
}

impl std::error::Error for Refused {}

/// `value` as a count above 0, or why not.
fn positive(setting: &'static str, value: i64) -> Result<usize, Refused> {
    usize::try_from(value)
        .ok()
        .filter(|v| *v > 0)
        .ok_or_else(|| Refused {
            setting,
            rule: "greater than 0",
            got: value.to_string(),
        })
}

/// `value` as a size where 0 means no limit, or why not.
fn zero_or_more(setting: &'static str, value: i64) -> Result<usize, Refused> {
    usize::try_from(value).map_err(|_| Refused {
        setting,
        rule: "0 (no limit) or more",
        got: value.to_string(),
    })
}

/// `seconds` if above 0 (and finite), or why not.
fn positive_seconds(setting: &'static str, seconds: f64) -> Result<f64, Refused> {
    if seconds > 0.0 && seconds.is_finite() {
        Ok(seconds)
    } else {
        Err(Refused {
            setting,
            rule: "greater than 0",
            got: seconds.to_string(),
        })
    }
}

/// A proxy setting, or why not (credentials in `host` are not repeated).
fn proxy_setting(setting: &'static str, host: &str, port: i64) -> Result<Option<Proxy>, Refused> {
    Proxy::parse(host, port).map_err(|why| {
        let shown = crate::shown::proxy_host(host);
        Refused {
            setting,
            rule: "a host ([user:password@]name) and a port from 1 to 65535 (an empty host or port -1: no proxy)",
            got: format!("\"{shown}\", {port}: {why}"),
        }
    })
}

/// `seconds` as a duration; beyond what a `Duration` holds is as good as
/// never.
pub fn duration(seconds: f64) -> Duration {
    Duration::try_from_secs_f64(seconds.max(0.0)).unwrap_or(Duration::MAX)
}

impl PeerConfig {
    /// [`PeerConfig::connect_timeout`] as a duration.
    pub fn connect_limit(&self) -> Duration {
        duration(self.connect_timeout)
    }

    /// [`PeerConfig::handshake_timeout`] as a duration.
    pub fn handshake_limit(&self) -> Duration {
        duration(self.handshake_timeout)
    }

    /// The most bytes a multiplayer hub's queue of received packets holds
    /// before it leaves packets in their links (each packet counted with
    /// its bookkeeping): [`HUB_QUEUE_FACTOR`] times `inbound_buffer_size`.
    pub fn hub_queue_bytes(&self) -> usize {
        self.inbound_buffer_size.saturating_mul(HUB_QUEUE_FACTOR)
    }

    /// The most packets a multiplayer hub's queue holds, as
    /// [`PeerConfig::hub_queue_bytes`]: [`HUB_QUEUE_FACTOR`] times
    /// `max_queued_packets`.
    pub fn hub_queue_packets(&self) -> usize {
        self.max_queued_packets.saturating_mul(HUB_QUEUE_FACTOR)
    }

    /// The permessage-deflate to offer or accept, if enabled.
    pub fn compression(&self) -> Option<DeflateConfig> {
        self.compression_enabled.then_some(self.deflate)
    }

    /// Sets the sub-protocols, with the spaces around each removed.
    pub fn set_supported_protocols(&mut self, protocols: impl IntoIterator<Item = String>) {
        self.supported_protocols = protocols
            .into_iter()
            .map(|p| p.trim().to_string())
            .collect();
    }

    /// Sets the proxy for `ws://` (`set_http_proxy`): see [`Proxy::parse`];
    /// an empty host or port -1 connects directly.
    pub fn set_http_proxy(&mut self, host: &str, port: i64) -> Result<(), Refused> {
        self.http_proxy = proxy_setting("set_http_proxy", host, port)?;
        Ok(())
    }

    /// Sets the proxy for `wss://` (`set_https_proxy`), as
    /// [`PeerConfig::set_http_proxy`].
    pub fn set_https_proxy(&mut self, host: &str, port: i64) -> Result<(), Refused> {
        self.https_proxy = proxy_setting("set_https_proxy", host, port)?;
        Ok(())
    }

    /// The proxy a connection to a `ws://` (`tls` false) or `wss://` URL
    /// goes through.
    pub fn proxy_for(&self, tls: bool) -> Option<&Proxy> {
        if tls {
            self.https_proxy.as_ref()
        } else {
            self.http_proxy.as_ref()
        }
    }

    /// Sets `inbound_buffer_size` (bytes, greater than 0).
    pub fn set_inbound_buffer_size(&mut self, bytes: i64) -> Result<(), Refused> {
        self.inbound_buffer_size = positive("inbound_buffer_size", bytes)?;
        Ok(())
    }

    /// Sets `outbound_buffer_size` (bytes; 0 means no limit).
    pub fn set_outbound_buffer_size(&mut self, bytes: i64) -> Result<(), Refused> {
        self.outbound_buffer_size = zero_or_more("outbound_buffer_size", bytes)?;
        Ok(())
    }

    /// Sets `max_queued_packets` (greater than 0).
    pub fn set_max_queued_packets(&mut self, packets: i64) -> Result<(), Refused> {
        self.max_queued_packets = positive("max_queued_packets", packets)?;
        Ok(())
    }

    /// Sets `trusted_proxies` from addresses and CIDR ranges
    /// (`"10.0.0.0/8"`, `"127.0.0.1"`, `"::1"`); a bad entry refuses the
    /// whole list.
    pub fn set_trusted_proxies<S: AsRef<str>>(&mut self, entries: &[S]) -> Result<(), Refused> {
        self.trusted_proxies = TrustedProxies::parse(entries)?;
        Ok(())
    }

    /// Sets `health_path`: empty (off), or a path starting with `/`
    /// (printable, no spaces or query, at most 256 bytes).
    pub fn set_health_path(&mut self, path: &str) -> Result<(), Refused> {
        if !crate::http_plain::valid_health_path(path) {
            return Err(Refused {
                setting: "health_path",
                rule: "empty (off) or a path starting with \"/\" (no spaces, no query, at most 256 bytes)",
                got: format!("\"{}\"", crate::shown::printable(&path.chars().take(64).collect::<String>())),
            });
        }
        self.health_path = path.to_string();
        Ok(())
    }

    /// Sets `max_pending_connections` (greater than 0).
    pub fn set_max_pending_connections(&mut self, connections: i64) -> Result<(), Refused> {
        self.max_pending_connections = positive("max_pending_connections", connections)?;
        Ok(())
    }

    /// Sets `heartbeat_interval` (seconds, 0 or more; 0 sends no pings).
    pub fn set_heartbeat_interval(&mut self, seconds: f64) -> Result<(), Refused> {
        if !(seconds >= 0.0 && seconds.is_finite()) {
            return Err(Refused {
                setting: "heartbeat_interval",
                rule: "0 or more seconds",
                got: seconds.to_string(),
            });
        }
        self.heartbeat_interval = seconds;
        Ok(())
    }

    /// Sets `heartbeat_misses` (1 or more).
    pub fn set_heartbeat_misses(&mut self, pings: i64) -> Result<(), Refused> {
        self.heartbeat_misses = u32::try_from(pings)
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| Refused {
                setting: "heartbeat_misses",
                rule: "1 or more",
                got: pings.to_string(),
            })?;
        Ok(())
    }

    /// Sets `handshake_timeout` (seconds, greater than 0).
    pub fn set_handshake_timeout(&mut self, seconds: f64) -> Result<(), Refused> {
        self.handshake_timeout = positive_seconds("handshake_timeout", seconds)?;
        Ok(())
    }

    /// Sets `connect_timeout` (seconds, greater than 0).
    pub fn set_connect_timeout(&mut self, seconds: f64) -> Result<(), Refused> {
        self.connect_timeout = positive_seconds("connect_timeout", seconds)?;
        Ok(())
    }

    /// Sets `compression_threshold` (bytes, 0 or more; 0 compresses every
    /// message).
    pub fn set_compression_threshold(&mut self, bytes: i64) -> Result<(), Refused> {
        self.compression_threshold = usize::try_from(bytes).map_err(|_| Refused {
            setting: "compression_threshold",
            rule: "0 or more",
            got: bytes.to_string(),
        })?;
        Ok(())
    }

    /// Sets `compression_window_bits` (9-15).
    pub fn set_compression_window_bits(&mut self, bits: i64) -> Result<(), Refused> {
        match u8::try_from(bits) {
            Ok(b @ 9..=15) => {
                self.deflate.max_window_bits = b;
                Ok(())
            }
            _ => Err(Refused {
                setting: "compression_window_bits",
                rule: "9-15",
                got: bits.to_string(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_values_keep_the_old_one_and_say_why() {
        let mut c = PeerConfig::default();
        let err = c.set_inbound_buffer_size(0).unwrap_err();
        assert_eq!(
            err.to_string(),
            "inbound_buffer_size must be greater than 0 (got 0); the value was not changed."
        );
        assert_eq!(c.inbound_buffer_size, DEFAULT_BUFFER_SIZE);
        assert!(c.set_outbound_buffer_size(-1).is_err());
        assert!(c.set_outbound_buffer_size(0).is_ok());
        assert_eq!(c.outbound_buffer_size, 0);
        assert!(c.set_max_queued_packets(0).is_err());
        assert!(c.set_max_pending_connections(0).is_err());
        assert!(c.set_max_pending_connections(-5).is_err());
        assert_eq!(c.max_pending_connections, DEFAULT_MAX_PENDING_CONNECTIONS);
        assert!(c.set_max_pending_connections(i64::MAX).is_ok());
        assert_eq!(c.hub_queue_bytes(), DEFAULT_BUFFER_SIZE * HUB_QUEUE_FACTOR);
        c.inbound_buffer_size = usize::MAX;
        assert_eq!(c.hub_queue_bytes(), usize::MAX, "saturates");
        c.inbound_buffer_size = DEFAULT_BUFFER_SIZE;
        assert!(c.set_heartbeat_interval(-0.5).is_err());
        assert!(c.set_heartbeat_interval(f64::NAN).is_err());
        assert!(c.set_heartbeat_interval(0.0).is_ok());
        assert!(c.set_handshake_timeout(0.0).is_err());
        assert!(c.set_handshake_timeout(f64::INFINITY).is_err());
        assert!(c.set_handshake_timeout(1e300).is_ok());
        assert_eq!(c.handshake_timeout, 1e300, "kept as given");
        assert_eq!(c.handshake_limit(), Duration::MAX, "as good as never");
        assert!(c.set_connect_timeout(0.0).is_err());
        assert!(c.set_connect_timeout(2.5).is_ok());
        assert_eq!(c.connect_limit(), Duration::from_millis(2500));
        assert!(c.set_heartbeat_misses(0).is_err());
        assert!(c.set_heartbeat_misses(7).is_ok());
        assert_eq!(c.heartbeat_misses, 7);
        assert!(c.set_compression_threshold(-1).is_err());
        assert!(c.set_compression_window_bits(8).is_err());
        assert!(c.set_compression_window_bits(16).is_err());
        assert!(c.set_compression_window_bits(10).is_ok());
        assert_eq!(c.deflate.max_window_bits, 10);
    }

    #[test]
    fn compression_is_asked_for_only_when_enabled() {
        let mut c = PeerConfig::default();
        assert_eq!(c.compression(), None);
        c.compression_enabled = true;
        c.deflate.context_takeover = false;
        assert_eq!(
            c.compression(),
            Some(DeflateConfig {
                context_takeover: false,
                max_window_bits: 15
            })
        );
    }

    #[test]
    fn a_proxy_per_scheme_and_a_bad_one_keeps_the_old_without_its_password() {
        let mut c = PeerConfig::default();
        c.set_http_proxy("proxy.lan", 3128).unwrap();
        c.set_https_proxy("me:hunter2@secure.lan", 8443).unwrap();
        assert_eq!(c.proxy_for(false).map(|p| p.port()), Some(3128));
        assert_eq!(c.proxy_for(true).map(|p| p.host()), Some("secure.lan"));
        let err = c.set_https_proxy("me:hunter2@bad host", 8443).unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("set_https_proxy must be"), "{text}");
        assert!(
            text.contains("***@bad host") && !text.contains("hunter2"),
            "{text}"
        );
        assert_eq!(c.proxy_for(true).map(|p| p.host()), Some("secure.lan"));
        c.set_http_proxy("", 0).unwrap();
        c.set_https_proxy("secure.lan", -1).unwrap();
        assert!(c.proxy_for(false).is_none() && c.proxy_for(true).is_none());
    }

    #[test]
    fn protocols_are_trimmed() {
        let mut c = PeerConfig::default();
        c.set_supported_protocols([" chat ".to_string(), "v2".to_string()]);
        assert_eq!(c.supported_protocols, ["chat", "v2"]);
    }
}
