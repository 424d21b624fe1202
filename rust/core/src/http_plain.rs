//! Plain HTTP on the game port: a request without `Upgrade: websocket`
//! (a load balancer's health check, a Kubernetes probe, a browser) gets an
//! HTTP answer rather than a dropped socket. This module recognizes such a
//! request ([`plain_request`]), writes answers ([`response`]) and checks
//! the game's ([`check_reply`]): a status from 100 to 599, header lines as
//! [`crate::PeerConfig::handshake_headers`], a body of at most
//! [`MAX_HTTP_BODY`] bytes. Every answer carries `Content-Length` and
//! `Connection: close`; the connection closes once it is written.

use crate::error::WsError;
use crate::handshake;

/// Largest body the game may answer a plain HTTP request with.
pub const MAX_HTTP_BODY: usize = 64 * 1024;

/// Longest path the built-in health check may have.
pub const MAX_HEALTH_PATH: usize = 256;

/// A plain HTTP request (no WebSocket upgrade asked for).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// `GET`, `HEAD`, `POST`...
    pub method: String,
    /// The request target as sent (`/health`, `/status?x=1`).
    pub path: String,
    /// Names lower-cased, repeated headers joined with `,`.
    pub headers: Vec<(String, String)>,
}

impl HttpRequest {
    /// The path without its query.
    pub fn path_only(&self) -> &str {
        self.path.split('?').next().unwrap_or_default()
    }

    /// A `HEAD` request: the answer has no body.
    pub fn is_head(&self) -> bool {
        self.method == "HEAD"
    }
}

/// The request in `head` when it is a well-formed HTTP/1.x request that
/// does not ask for a WebSocket upgrade; `None` otherwise (an upgrade, or
/// something that is not HTTP: it goes the usual way, and is refused as
/// before).
pub fn plain_request(head: &[u8]) -> Option<HttpRequest> {
    let head = handshake::parse_head(head).ok()?;
    if head.has_token("upgrade", "websocket") {
        return None;
    }
    let mut parts = head.first.split(' ');
    let (method, path, version) = (parts.next()?, parts.next()?, parts.next()?);
    let method_ok =
        !method.is_empty() && method.len() <= 16 && method.bytes().all(|b| b.is_ascii_uppercase());
    let path_ok = path.starts_with('/') || path == "*";
    if parts.next().is_some() || !method_ok || !path_ok || !version.starts_with("HTTP/1.") {
        return None;
    }
    Some(HttpRequest {
        method: method.to_string(),
        path: path.to_string(),
        headers: head.headers,
    })
}

/// Whether `path` may be the health path: empty (off), or `/` and
/// printable ASCII without spaces, at most [`MAX_HEALTH_PATH`] bytes.
pub fn valid_health_path(path: &str) -> bool {
    path.is_empty()
        || (path.starts_with('/')
            && path.len() <= MAX_HEALTH_PATH
            && path.bytes().all(|b| b.is_ascii_graphic() && b != b'?'))
}

/// The game's answer, checked: the status (100 to 599), the header lines
/// (as `handshake_headers`: `Name: value`, no line break; a
/// `Content-Length` or `Connection` of its own is refused, ours are sent)
/// and the body's length.
pub fn check_reply(status: i64, headers: &[String], body_len: usize) -> Result<u16, WsError> {
    let status = u16::try_from(status)
        .ok()
        .filter(|s| (100..=599).contains(s))
        .ok_or_else(|| {
            WsError::InvalidParameter(format!("status must be from 100 to 599 (got {status})"))
        })?;
    handshake::validate_extra_headers(headers)?;
    for h in headers {
        let name = h.split_once(':').map_or("", |(n, _)| n.trim());
        if name.eq_ignore_ascii_case("content-length")
            || name.eq_ignore_ascii_case("connection")
            || name.eq_ignore_ascii_case("transfer-encoding")
        {
            return Err(WsError::InvalidParameter(format!(
                "header \"{name}\" is set by the server itself; leave it out"
            )));
        }
    }
    if body_len > MAX_HTTP_BODY {
        return Err(WsError::InvalidParameter(format!(
            "the body is {body_len} bytes; at most {MAX_HTTP_BODY}"
        )));
    }
    Ok(status)
}

/// The reason phrase of a status.
fn reason(status: u16) -> &'static str {
    match status {
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        504 => "Gateway Timeout",
        100..=199 => "Informational",
        200..=299 => "OK",
        300..=399 => "Redirection",
        _ => handshake::reason_phrase(status),
    }
}

/// A whole answer: status line, `headers` (checked by [`check_reply`]),
/// `Content-Length`, `Connection: close`, and the body unless `head_only`.
pub fn response(status: u16, headers: &[String], body: &[u8], head_only: bool) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    let typed = headers.iter().any(|h| {
        h.split_once(':')
            .is_some_and(|(n, _)| n.trim().eq_ignore_ascii_case("content-type"))
    });
    if !typed && !body.is_empty() {
        out.push_str("Content-Type: text/plain; charset=utf-8\r\n");
    }
    for h in headers {
        out.push_str(h.trim());
        out.push_str("\r\n");
    }
    out.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    let mut out = out.into_bytes();
    if !head_only {
        out.extend_from_slice(body);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_requests_and_upgrades() {
        let r =
            plain_request(b"GET /health HTTP/1.1\r\nHost: x\r\nUser-Agent: probe\r\n\r\n").unwrap();
        assert_eq!((r.method.as_str(), r.path.as_str()), ("GET", "/health"));
        assert!(r
            .headers
            .iter()
            .any(|(n, v)| n == "user-agent" && v == "probe"));
        let r = plain_request(b"HEAD /status?deep=1 HTTP/1.0\r\n\r\n").unwrap();
        assert_eq!(r.path_only(), "/status");
        assert!(r.is_head());
        assert!(plain_request(b"OPTIONS * HTTP/1.1\r\n\r\n").is_some());
        // An upgrade goes the WebSocket way, as before.
        assert!(plain_request(
            b"GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
        )
        .is_none());
        for not_http in [
            &b"GET /x HTTP/2\r\n\r\n"[..],
            b"get /x HTTP/1.1\r\n\r\n",
            b"GET x HTTP/1.1\r\n\r\n",
            b"GET /x HTTP/1.1 extra\r\n\r\n",
            b"GET  /x HTTP/1.1\r\n\r\n",
            b"\x16\x03\x01\r\n\r\n",
            b"GET /x HTTP/1.1\r\nbad line\r\n\r\n",
        ] {
            assert!(plain_request(not_http).is_none(), "{not_http:?}");
        }
    }

    #[test]
    fn answers_carry_length_and_close() {
        let a = response(200, &[], b"ok\n", false);
        let text = String::from_utf8(a).unwrap();
        assert!(text.starts_with("HTTP/1.1 200 OK\r\n"));
        assert!(text.contains("Content-Length: 3\r\nConnection: close\r\n\r\nok\n"));
        let head = String::from_utf8(response(200, &[], b"ok\n", true)).unwrap();
        assert!(head.ends_with("Content-Length: 3\r\nConnection: close\r\n\r\n"));
        let typed = String::from_utf8(response(
            201,
            &["Content-Type: application/json".into()],
            b"{}",
            false,
        ))
        .unwrap();
        assert_eq!(typed.matches("Content-Type").count(), 1);
    }

    #[test]
    fn the_games_reply_is_bounded() {
        assert_eq!(check_reply(200, &[], 0).unwrap(), 200);
        for bad in [99, 600, -1, i64::MAX, 0] {
            assert!(check_reply(bad, &[], 0).is_err(), "{bad}");
        }
        assert!(check_reply(200, &["X-A: 1\r\nX-B: 2".into()], 0).is_err());
        assert!(check_reply(200, &["no colon".into()], 0).is_err());
        assert!(check_reply(200, &["Content-Length: 99".into()], 0).is_err());
        assert!(check_reply(200, &["connection: keep-alive".into()], 0).is_err());
        assert!(check_reply(200, &[], MAX_HTTP_BODY + 1).is_err());
        assert!(check_reply(200, &["Cache-Control: no-store".into()], MAX_HTTP_BODY).is_ok());
    }

    #[test]
    fn health_paths() {
        assert!(valid_health_path(""));
        assert!(valid_health_path("/health"));
        assert!(valid_health_path("/"));
        for bad in ["health", "/a b", "/a?b", "/\r\n", &"/x".repeat(200)] {
            assert!(!valid_health_path(bad), "{bad:?}");
        }
    }
}
