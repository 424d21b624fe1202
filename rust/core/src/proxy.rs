//! Reaching a server through an HTTP proxy, as `HTTPClient.set_http_proxy`
//! and `set_https_proxy` let the engine's HTTP client do.
//!
//! A WebSocket goes through a proxy in a `CONNECT` tunnel (RFC 6455
//! section 4.1 asks this of a client behind a proxy; browsers do the same
//! for `ws://` and `wss://`): the client asks the proxy for a TCP connection
//! to the server's host and port, and once the proxy answers `200`, speaks
//! to the server through it (TLS included, end to end, so the proxy sees no
//! plaintext of a `wss://` link). A plain forwarded `GET` would not do: a
//! forwarding proxy drops the `Upgrade` header, which is hop-by-hop.
//!
//! This module is the pure part: the proxy's address and credentials as the
//! user gives them ([`Proxy::parse`]), the `CONNECT` request, and reading
//! the proxy's answer ([`check_answer`]). `opening` does the I/O.

use crate::error::WsError;
use std::fmt;

/// An HTTP proxy to tunnel through.
#[derive(Clone, PartialEq, Eq)]
pub struct Proxy {
    host: String,
    port: u16,
    /// `Proxy-Authorization` value (`Basic ...`), when credentials were given.
    authorization: Option<String>,
}

// Credentials never appear in logs or messages.
impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Proxy({}{})",
            self.address(),
            if self.authorization.is_some() {
                ", with credentials"
            } else {
                ""
            }
        )
    }
}

impl Proxy {
    /// The proxy the game names with `host` and `port`, or `None` for none
    /// (an empty `host` or a port of -1, as `HTTPClient` takes them).
    ///
    /// `host` is a name or address, optionally after `http://` and with
    /// credentials in front, as in the `http_proxy` variable most tools
    /// read: `user:password@proxy.example` (`%40` for an `@` inside them).
    /// On a bad value, says what is wrong.
    pub fn parse(host: &str, port: i64) -> Result<Option<Proxy>, String> {
        let host = host.trim();
        if host.is_empty() || port == -1 {
            return Ok(None);
        }
        let port = u16::try_from(port)
            .ok()
            .filter(|p| *p > 0)
            .ok_or("the port is out of range")?;
        let rest = host
            .strip_prefix("http://")
            .or_else(|| host.strip_prefix("HTTP://"))
            .unwrap_or(host);
        if rest.contains("://") {
            return Err(format!(
                "\"{}\" names a scheme other than http://; the proxy is spoken to in plain HTTP",
                crate::shown::proxy_host(host)
            ));
        }
        let (credentials, name) = match rest.rsplit_once('@') {
            Some((credentials, name)) => (Some(credentials), name),
            None => (None, rest),
        };
        let name = name.trim_end_matches('/');
        let bracketed = name.starts_with('[') && name.ends_with(']');
        let plain = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._:".contains(&b));
        if !(plain || bracketed)
            || (name.contains(':') && !bracketed && name.parse::<std::net::Ipv6Addr>().is_err())
        {
            return Err(format!(
                "\"{}\" is not a host name or address (give the port apart, without a path)",
                crate::shown::printable(name)
            ));
        }
        let authorization = match credentials {
            None => None,
            Some(c) => {
                let (user, password) = c.split_once(':').unwrap_or((c, ""));
                let pair = format!("{}:{}", percent_decode(user)?, percent_decode(password)?);
                Some(format!("Basic {}", base64(pair.as_bytes())))
            }
        };
        let host = name
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        Ok(Some(Proxy {
            host,
            port,
            authorization,
        }))
    }

    /// The host to connect to.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port to connect to.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `host:port`, for messages (no credentials).
    pub fn address(&self) -> String {
        format!("{}:{}", bracket(&self.host), self.port)
    }

    /// The `CONNECT` request for a tunnel to `host:port`.
    pub fn connect_request(&self, host: &str, port: u16) -> String {
        let target = format!("{}:{port}", bracket(host));
        let mut request = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n");
        if let Some(authorization) = &self.authorization {
            request.push_str(&format!("Proxy-Authorization: {authorization}\r\n"));
        }
        request.push_str("\r\n");
        request
    }
}

/// An IPv6 address in brackets, as a URL authority writes it.
fn bracket(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

/// Checks the proxy's answer to `CONNECT` (the head, up to its blank line):
/// any `2xx` opens the tunnel; anything else is why it did not.
pub fn check_answer(head: &[u8], proxy: &Proxy, target: &str) -> Result<(), WsError> {
    let text = String::from_utf8_lossy(head);
    let line = text.lines().next().unwrap_or("").trim().to_string();
    let mut parts = line.split_whitespace();
    let status = match (parts.next(), parts.next().map(str::parse::<u16>)) {
        (Some(version), Some(Ok(status))) if version.starts_with("HTTP/") => status,
        _ => {
            return Err(WsError::Proxy {
                proxy: proxy.address(),
                status: None,
                why: format!(
                    "it did not answer CONNECT in HTTP (\"{}\"); is {} an HTTP proxy?",
                    line.escape_debug(),
                    proxy.address()
                ),
            })
        }
    };
    if (200..300).contains(&status) {
        return Ok(());
    }
    let advice = match status {
        // 407 is the proxy's status for this; some (tinyproxy 1.11) say 401.
        401 | 407 if proxy.authorization.is_some() => {
            "it refused the credentials given with the proxy's host (user:password@host)"
        }
        401 | 407 => "it wants credentials: give them with the host, as user:password@host",
        403 => "it does not allow a tunnel to this host and port",
        502..=504 => "it could not reach the server",
        _ => "it refused the tunnel",
    };
    Err(WsError::Proxy {
        proxy: proxy.address(),
        status: Some(status),
        why: format!("it answered \"{line}\" to CONNECT {target}: {advice}"),
    })
}

/// `%XX` escapes decoded (credentials as a URL writes them).
fn percent_decode(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or("a % in the proxy credentials must start an escape such as %40")?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "the proxy credentials are not valid UTF-8".to_string())
}

/// Standard base64 with padding (RFC 4648), for `Basic` credentials.
fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18u32, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxy(host: &str, port: i64) -> Proxy {
        Proxy::parse(host, port).unwrap().unwrap()
    }

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), encoded, "{plain}");
        }
    }

    #[test]
    fn empty_host_or_port_minus_one_means_no_proxy() {
        assert_eq!(Proxy::parse("", 3128), Ok(None));
        assert_eq!(Proxy::parse("proxy.lan", -1), Ok(None));
    }

    #[test]
    fn host_forms_users_write() {
        let p = proxy("proxy.lan", 3128);
        assert_eq!((p.host(), p.port()), ("proxy.lan", 3128));
        assert_eq!(proxy("http://proxy.lan/", 8080).host(), "proxy.lan");
        assert_eq!(proxy("[::1]", 8080).address(), "[::1]:8080");
        assert_eq!(proxy("::1", 8080).host(), "::1");
        for bad in [
            "socks5://proxy.lan",
            "proxy.lan/path",
            "proxy lan",
            "proxy.lan:80",
        ] {
            assert!(Proxy::parse(bad, 3128).is_err(), "{bad}");
        }
        for port in [0, 65536, -2] {
            let e = Proxy::parse("proxy.lan", port).unwrap_err();
            assert!(e.contains("out of range"), "{e}");
        }
    }

    #[test]
    fn connect_request_names_the_target_and_sends_credentials() {
        let plain = proxy("proxy.lan", 3128).connect_request("example.com", 443);
        assert_eq!(
            plain,
            "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"
        );
        // "Aladdin:open sesame", RFC 7617's example; %40 stands for '@'.
        let p = proxy("Aladdin:open sesame@proxy.lan", 3128);
        assert!(p
            .connect_request("::1", 80)
            .contains("CONNECT [::1]:80 HTTP/1.1\r\n"));
        assert!(p
            .connect_request("h", 1)
            .contains("Proxy-Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n"));
        let at = proxy("me:p%40ss@proxy.lan", 1);
        assert_eq!(at.host(), "proxy.lan");
        assert!(at.connect_request("h", 1).contains(&base64(b"me:p@ss")));
        assert!(!format!("{at:?}").contains("p@ss"));
        assert!(Proxy::parse("me:%zz@proxy.lan", 1).is_err());
    }

    #[test]
    fn answers_a_game_can_act_on() {
        let p = proxy("proxy.lan", 3128);
        assert_eq!(
            check_answer(b"HTTP/1.0 200 Connection established\r\n\r\n", &p, "h:1"),
            Ok(())
        );
        for (status, hint) in [
            (407, "credentials"),
            (403, "does not allow"),
            (502, "could not reach"),
        ] {
            let head = format!("HTTP/1.1 {status} No\r\nContent-Length: 0\r\n\r\n");
            let e = check_answer(head.as_bytes(), &p, "h:1").unwrap_err();
            assert_eq!(e.http_status(), Some(status));
            assert_eq!(e.failure(), crate::Failure::Proxy);
            assert!(e.to_string().contains(hint), "{e}");
            assert!(e.to_string().contains("proxy.lan:3128"), "{e}");
        }
        let e = check_answer(b"SSH-2.0-OpenSSH\r\n\r\n", &p, "h:1").unwrap_err();
        assert_eq!(e.http_status(), None);
        assert!(e.to_string().contains("HTTP proxy"), "{e}");
    }
}
