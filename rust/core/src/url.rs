//! Parsing of the `ws://` / `wss://` URLs given to `connect_to_url`.
//!
//! Follows the engine's rules: the scheme may be left out (it means `ws://`),
//! the port defaults to 80 or 443, the path to `/`, a `#fragment` is dropped,
//! an IPv6 host is written in brackets, and user info (`user@`) is refused.

use crate::error::WsError;

/// A WebSocket URL split into what the connection needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WsUrl {
    /// `true` for `wss://`.
    pub tls: bool,
    /// Host name or IP address, without brackets.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Path and query, always starting with `/`.
    pub path: String,
}

impl WsUrl {
    /// Parses `url`, returning an error that says what is wrong with it.
    pub fn parse(url: &str) -> Result<WsUrl, WsError> {
        let invalid = |why: &str| WsError::InvalidUrl {
            url: url.to_string(),
            why: why.to_string(),
        };
        let trimmed = url.trim();
        if trimmed.is_empty() {
            return Err(invalid("the URL is empty"));
        }
        let (tls, rest) = match trimmed.find("://") {
            Some(pos) => {
                let scheme = &trimmed[..pos + 3];
                let tls = if scheme.eq_ignore_ascii_case("wss://") {
                    true
                } else if scheme.eq_ignore_ascii_case("ws://") {
                    false
                } else {
                    return Err(WsError::UnsupportedScheme {
                        scheme: scheme.to_string(),
                    });
                };
                (tls, &trimmed[pos + 3..])
            }
            None => (false, trimmed),
        };
        // Drop the fragment, split authority from path.
        let rest = rest.split('#').next().unwrap_or_default();
        let (authority, path) = match rest.find(['/', '?']) {
            Some(pos) if rest.as_bytes()[pos] == b'?' => {
                (&rest[..pos], format!("/{}", &rest[pos..]))
            }
            Some(pos) => (&rest[..pos], rest[pos..].to_string()),
            None => (rest, "/".to_string()),
        };
        if authority.contains('@') {
            return Err(invalid("user info (user@host) is not supported"));
        }
        let default_port = if tls { 443 } else { 80 };
        let (host, port) = if let Some(after) = authority.strip_prefix('[') {
            let end = after
                .find(']')
                .ok_or_else(|| invalid("missing ']' after an IPv6 address"))?;
            let host = &after[..end];
            let tail = &after[end + 1..];
            let port = match tail {
                "" => default_port,
                _ => match tail.strip_prefix(':') {
                    Some(p) => parse_port(p)
                        .ok_or_else(|| invalid("the port is not a number from 1 to 65535"))?,
                    None => return Err(invalid("unexpected text after the IPv6 address")),
                },
            };
            (host.to_string(), port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => {
                    let port = parse_port(p)
                        .ok_or_else(|| invalid("the port is not a number from 1 to 65535"))?;
                    (h.to_string(), port)
                }
                None => (authority.to_string(), default_port),
            }
        };
        if host.is_empty() {
            return Err(invalid("the host is missing"));
        }
        if host.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid("the host contains spaces or control characters"));
        }
        if path.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid(
                "the path contains spaces or control characters; percent-encode them",
            ));
        }
        Ok(WsUrl {
            tls,
            host,
            port,
            path,
        })
    }

    /// The `Host` header value: the port is added unless it is the default one.
    pub fn host_header(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        let default_port = if self.tls { 443 } else { 80 };
        if self.port == default_port {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }
}

fn parse_port(text: &str) -> Option<u16> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<u16>().ok().filter(|p| *p != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(url: &str) -> WsUrl {
        WsUrl::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"))
    }

    #[test]
    fn defaults_follow_the_scheme() {
        assert_eq!(
            ok("ws://example.com"),
            WsUrl {
                tls: false,
                host: "example.com".into(),
                port: 80,
                path: "/".into()
            }
        );
        assert_eq!(
            ok("wss://example.com"),
            WsUrl {
                tls: true,
                host: "example.com".into(),
                port: 443,
                path: "/".into()
            }
        );
        assert_eq!(ok("example.com:9080/chat").port, 9080);
        assert!(!ok("example.com").tls);
    }

    #[test]
    fn path_query_fragment_and_ipv6() {
        let u = ok("ws://127.0.0.1:9080/game/room?id=3#frag");
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("127.0.0.1", 9080, "/game/room?id=3")
        );
        let u = ok("ws://host?x=1");
        assert_eq!(u.path, "/?x=1");
        let u = ok("wss://[::1]:8443/x");
        assert_eq!((u.host.as_str(), u.port, u.tls), ("::1", 8443, true));
        assert_eq!(u.host_header(), "[::1]:8443");
        assert_eq!(ok("WSS://Example.com/").host_header(), "Example.com");
    }

    #[test]
    fn bad_urls_say_why() {
        for (url, needle) in [
            ("", "empty"),
            ("   ", "empty"),
            ("ws://", "host is missing"),
            ("ws://host:http/", "port"),
            ("ws://host:0/", "port"),
            ("ws://host:70000/", "port"),
            ("ws://user@host/", "user info"),
            ("ws://[::1/", "IPv6"),
            ("ws://ho st/", "spaces"),
            ("ws://host/a b", "percent-encode"),
        ] {
            match WsUrl::parse(url) {
                Err(WsError::InvalidUrl { why, .. }) => {
                    assert!(why.contains(needle), "{url}: {why}")
                }
                other => panic!("{url}: expected InvalidUrl, got {other:?}"),
            }
        }
    }

    #[test]
    fn other_schemes_are_refused() {
        for url in ["http://example.com", "https://x", "ftp://x/y"] {
            assert!(
                matches!(WsUrl::parse(url), Err(WsError::UnsupportedScheme { .. })),
                "{url}"
            );
        }
    }
}
