//! The HTTP/1.1 upgrade that opens a WebSocket (RFC 6455 section 4), on both
//! sides, as pure functions over bytes and strings.
//!
//! The client builds its request with [`client_request`] and checks the answer
//! with [`verify_response`]; the server reads a request with [`parse_request`]
//! and answers with [`accept_response`] or [`reject_response`].

use crate::error::WsError;
use tungstenite::handshake::derive_accept_key;

/// Largest upgrade request or response head we buffer, in bytes.
pub const MAX_HEAD_SIZE: usize = 8192;

/// Index just past the `\r\n\r\n` that ends an HTTP head, if `buf` holds one.
pub fn find_head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4)
}

/// A fresh random `Sec-WebSocket-Key`.
pub fn generate_key() -> String {
    tungstenite::handshake::client::generate_key()
}

/// Checks the user's extra handshake headers: each must be `Name: value` on
/// one line.
pub fn validate_extra_headers(headers: &[String]) -> Result<(), WsError> {
    for h in headers {
        let bad = h.contains('\r') || h.contains('\n');
        let named = h.split_once(':').is_some_and(|(n, _)| {
            !n.trim().is_empty() && n.bytes().all(|b| b.is_ascii_graphic() && b != b':')
        });
        if bad || !named {
            // Never the value: it may be a token (one read from a file
            // keeps its line break).
            let name = h.split_once(':').map_or("", |(n, _)| n);
            let what = if bad {
                "holds a line break"
            } else {
                "has no \"Name:\" part"
            };
            return Err(WsError::InvalidParameter(format!(
                "Invalid entry in handshake_headers (named \"{}\"): it {what}. Each entry must be one line of the form \"Name: value\".",
                crate::shown::clipped(name, 64)
            )));
        }
    }
    Ok(())
}

/// The client's upgrade request.
pub fn client_request(
    path: &str,
    host_header: &str,
    key: &str,
    protocols: &[String],
    extra: &[String],
    extensions: Option<&str>,
) -> String {
    let mut req = format!(
        "GET {path} HTTP/1.1\r\nHost: {host_header}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
    );
    if let Some(offer) = extensions {
        req.push_str(&format!("Sec-WebSocket-Extensions: {offer}\r\n"));
    }
    if !protocols.is_empty() {
        req.push_str(&format!(
            "Sec-WebSocket-Protocol: {}\r\n",
            protocols.join(",")
        ));
    }
    for h in extra {
        req.push_str(h);
        req.push_str("\r\n");
    }
    req.push_str("\r\n");
    req
}

/// An HTTP head split into its first line and its headers (names lower-cased,
/// repeated headers joined with `,`).
pub(crate) struct Head<'a> {
    pub(crate) first: &'a str,
    pub(crate) headers: Vec<(String, String)>,
}

impl Head<'_> {
    fn get(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn has_token(&self, name: &str, token: &str) -> bool {
        self.get(name)
            .is_some_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    }
}

pub(crate) fn parse_head(head: &[u8]) -> Result<Head<'_>, String> {
    let text =
        std::str::from_utf8(head).map_err(|_| "the HTTP head is not valid text".to_string())?;
    let text = text.strip_suffix("\r\n\r\n").unwrap_or(text);
    // Lines end with CR LF; a CR or LF alone, or any other control
    // character but a tab, is refused (it could forge a line wherever the
    // request target or a header is printed or passed on).
    if let Some(bad) = text
        .split("\r\n")
        .find(|line| line.bytes().any(|b| b.is_ascii_control() && b != b'\t'))
    {
        return Err(format!(
            "a line of the HTTP head holds a bare CR, LF or other control character: \"{}\"",
            crate::shown::clipped(bad.split(':').next().unwrap_or_default(), 64)
        ));
    }
    let mut lines = text.split("\r\n");
    let first = lines.next().unwrap_or_default();
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in lines {
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| format!("invalid header line \"{}\"", line.escape_debug()))?;
        let name = name.trim().to_ascii_lowercase();
        if name.is_empty() {
            return Err(format!("invalid header line \"{}\"", line.escape_debug()));
        }
        let value = value.trim().to_string();
        match headers.iter_mut().find(|(n, _)| *n == name) {
            Some((_, v)) => {
                v.push(',');
                v.push_str(&value);
            }
            None => headers.push((name, value)),
        }
    }
    Ok(Head { first, headers })
}

/// What a valid server answer said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerAnswer {
    /// The selected sub-protocol (empty when none was requested).
    pub protocol: String,
    /// Its `Sec-WebSocket-Extensions` value, if any (checked by the caller
    /// against what it offered).
    pub extensions: Option<String>,
    /// Every header of the answer (names lower-cased, repeats joined).
    pub headers: Vec<(String, String)>,
}

/// Checks the server's answer to our upgrade request.
pub fn verify_response(
    head: &[u8],
    key: &str,
    protocols: &[String],
) -> Result<ServerAnswer, WsError> {
    let fail = |why: String| WsError::Handshake(why);
    let head = parse_head(head).map_err(fail)?;
    let mut parts = head.first.split(' ');
    let version = parts.next().unwrap_or_default();
    let status = parts.next().unwrap_or_default();
    if !version.starts_with("HTTP/1.") {
        return Err(fail(format!(
            "the server did not answer with HTTP (got \"{}\")",
            head.first.escape_debug()
        )));
    }
    if status != "101" {
        return Err(match status.parse::<u16>() {
            Ok(status) => WsError::UpgradeRefused {
                status,
                line: head.first.escape_debug().to_string(),
            },
            Err(_) => fail(format!(
                "the server answered \"{}\" instead of 101 Switching Protocols; check the URL path and that the server speaks WebSocket",
                head.first.escape_debug()
            )),
        });
    }
    if !head.has_token("upgrade", "websocket") {
        return Err(fail(
            "missing or invalid header 'Upgrade' (expected 'websocket')".into(),
        ));
    }
    if !head.has_token("connection", "upgrade") {
        return Err(fail(
            "missing or invalid header 'Connection' (expected 'Upgrade')".into(),
        ));
    }
    let expected = derive_accept_key(key.as_bytes());
    match head.get("sec-websocket-accept") {
        Some(v) if v == expected => {}
        Some(v) => {
            return Err(fail(format!(
                "wrong Sec-WebSocket-Accept \"{v}\" (expected \"{expected}\")"
            )))
        }
        None => return Err(fail("missing header 'Sec-WebSocket-Accept'".into())),
    }
    let protocol = match (head.get("sec-websocket-protocol"), protocols.is_empty()) {
        (None, true) => String::new(),
        (Some(p), true) => {
            return Err(fail(format!(
                "the server selected sub-protocol \"{p}\" that was not requested"
            )))
        }
        (None, false) => {
            return Err(fail(format!(
                "requested sub-protocol(s) {} but the server selected none",
                protocols.join(",")
            )))
        }
        (Some(p), false) if protocols.iter().any(|q| q == p) => p.to_string(),
        (Some(p), false) => {
            return Err(fail(format!(
                "the server selected sub-protocol \"{p}\" that was not requested"
            )))
        }
    };
    Ok(ServerAnswer {
        protocol,
        extensions: head.get("sec-websocket-extensions").map(str::to_string),
        headers: head.headers,
    })
}

/// What the server learned from a valid upgrade request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptedRequest {
    /// The client's `Sec-WebSocket-Key`.
    pub key: String,
    /// Its `Sec-WebSocket-Extensions` offers, if any.
    pub extensions: Option<String>,
    /// The sub-protocol we selected, or empty.
    pub protocol: String,
    /// `ws://host/path` (or `wss://`) as the client asked for it.
    pub requested_url: String,
    /// Every header of the request (names lower-cased, repeats joined).
    pub headers: Vec<(String, String)>,
}

/// Reads a client's upgrade request. On failure returns the HTTP status to
/// answer with and the error.
pub fn parse_request(
    head: &[u8],
    supported: &[String],
    tls: bool,
) -> Result<AcceptedRequest, (u16, WsError)> {
    let fail = |status: u16, why: String| (status, WsError::Handshake(why));
    let head = parse_head(head).map_err(|why| fail(400, why))?;
    let parts: Vec<&str> = head.first.split(' ').filter(|s| !s.is_empty()).collect();
    if parts.len() != 3 || parts[0] != "GET" || parts[2] != "HTTP/1.1" {
        return Err(fail(
            400,
            format!(
                "expected \"GET <path> HTTP/1.1\", got \"{}\"",
                head.first.escape_debug()
            ),
        ));
    }
    if !head.has_token("upgrade", "websocket") {
        return Err(fail(
            426,
            "missing or invalid header 'Upgrade' (expected 'websocket')".into(),
        ));
    }
    if !head.has_token("connection", "upgrade") {
        return Err(fail(
            400,
            "missing or invalid header 'Connection' (expected 'Upgrade')".into(),
        ));
    }
    if head.get("sec-websocket-version") != Some("13") {
        return Err(fail(
            426,
            "missing or invalid header 'Sec-WebSocket-Version' (expected '13')".into(),
        ));
    }
    let key = match head.get("sec-websocket-key") {
        Some(k) if !k.is_empty() => k.to_string(),
        _ => return Err(fail(400, "missing header 'Sec-WebSocket-Key'".into())),
    };
    let protocol = match head.get("sec-websocket-protocol") {
        Some(requested) => {
            let chosen = requested
                .split(',')
                .map(str::trim)
                .find(|p| supported.iter().any(|s| s == p));
            match chosen {
                Some(p) => p.to_string(),
                None => {
                    return Err(fail(
                        400,
                        format!(
                            "the client asked for sub-protocol(s) \"{requested}\", none of which is in supported_protocols ({})",
                            supported.join(",")
                        ),
                    ))
                }
            }
        }
        None if !supported.is_empty() => {
            return Err(fail(
                400,
                format!(
                "the client asked for no sub-protocol but supported_protocols requires one of {}",
                supported.join(",")
            ),
            ))
        }
        None => String::new(),
    };
    let host = head.get("host").unwrap_or_default();
    let scheme = if tls { "wss://" } else { "ws://" };
    let requested_url = format!("{scheme}{host}{}", parts[1]);
    Ok(AcceptedRequest {
        key,
        extensions: head.get("sec-websocket-extensions").map(str::to_string),
        protocol,
        requested_url,
        headers: head.headers,
    })
}

/// The server's `101 Switching Protocols` answer.
pub fn accept_response(
    req: &AcceptedRequest,
    extra: &[String],
    extensions: Option<&str>,
) -> String {
    let mut resp = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n",
        derive_accept_key(req.key.as_bytes())
    );
    if !req.protocol.is_empty() {
        resp.push_str(&format!("Sec-WebSocket-Protocol: {}\r\n", req.protocol));
    }
    if let Some(agreed) = extensions {
        resp.push_str(&format!("Sec-WebSocket-Extensions: {agreed}\r\n"));
    }
    for h in extra {
        resp.push_str(h);
        resp.push_str("\r\n");
    }
    resp.push_str("\r\n");
    resp
}

/// The standard phrase of an HTTP error status a server may refuse with.
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        409 => "Conflict",
        410 => "Gone",
        426 => "Upgrade Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        400..=499 => "Bad Request",
        _ => "Error",
    }
}

/// A short HTTP error answer for a request we refuse.
pub fn reject_response(status: u16, why: &str) -> String {
    let reason = reason_phrase(status);
    let body = format!("{why}\n");
    let version = if status == 426 {
        "Sec-WebSocket-Version: 13\r\n"
    } else {
        ""
    };
    format!(
        "HTTP/1.1 {status} {reason}\r\n{version}Content-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn protos(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn rfc_sample_key_round_trips() {
        // RFC 6455 section 1.3 example.
        let key = "dGhlIHNhbXBsZSBub25jZQ==";
        let head = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
        assert_eq!(
            verify_response(head.as_bytes(), key, &[]).map(|a| a.protocol),
            Ok(String::new())
        );
    }

    #[test]
    fn client_and_server_agree_on_protocol() {
        let key = generate_key();
        let req = client_request(
            "/chat?x=1",
            "example.com:9080",
            &key,
            &protos(&["a", "b"]),
            &["X-Token: 42".to_string()],
            Some("permessage-deflate; client_max_window_bits"),
        );
        assert!(req.contains("X-Token: 42\r\n"));
        let end = find_head_end(req.as_bytes()).unwrap();
        assert_eq!(end, req.len());
        let accepted = parse_request(req.as_bytes(), &protos(&["b"]), false).unwrap();
        assert_eq!(accepted.protocol, "b");
        assert_eq!(accepted.requested_url, "ws://example.com:9080/chat?x=1");
        assert_eq!(
            accepted.extensions.as_deref(),
            Some("permessage-deflate; client_max_window_bits")
        );
        assert!(accepted
            .headers
            .contains(&("x-token".to_string(), "42".to_string())));
        assert!(accepted
            .headers
            .contains(&("host".to_string(), "example.com:9080".to_string())));
        let resp = accept_response(
            &accepted,
            &["Set-Cookie: a=1".to_string()],
            Some("permessage-deflate"),
        );
        let answer = verify_response(resp.as_bytes(), &key, &protos(&["a", "b"])).unwrap();
        assert_eq!(answer.protocol, "b");
        assert_eq!(answer.extensions.as_deref(), Some("permessage-deflate"));
        assert!(answer
            .headers
            .contains(&("set-cookie".to_string(), "a=1".to_string())));
    }

    #[test]
    fn refusals_carry_the_standard_phrase() {
        for (status, phrase) in [
            (401, "Unauthorized"),
            (403, "Forbidden"),
            (404, "Not Found"),
        ] {
            let answer = reject_response(status, "no entry");
            assert!(answer.starts_with(&format!("HTTP/1.1 {status} {phrase}\r\n")));
            assert!(answer.ends_with("\r\n\r\nno entry\n"));
        }
    }

    #[test]
    fn response_errors_are_specific() {
        let key = generate_key();
        let cases: Vec<(String, &[&str], &str)> = vec![
            ("SSH-2.0-OpenSSH\r\n\r\n".into(), &[], "did not answer with HTTP"),
            ("HTTP/1.1 101 OK\r\nConnection: Upgrade\r\n\r\n".into(), &[], "Upgrade"),
            ("HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: nope\r\n\r\n".into(), &[], "wrong Sec-WebSocket-Accept"),
            (format!("HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\nSec-WebSocket-Protocol: x\r\n\r\n", derive_accept_key(key.as_bytes())), &[], "not requested"),
            (format!("HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n", derive_accept_key(key.as_bytes())), &["a"], "selected none"),
            (format!("HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\nSec-WebSocket-Protocol: c\r\n\r\n", derive_accept_key(key.as_bytes())), &["a", "b"], "not requested"),
            ("HTTP/1.1 101 OK\r\nno colon here\r\n\r\n".into(), &[], "invalid header"),
        ];
        match verify_response(b"HTTP/1.1 404 Not Found\r\n\r\n", &key, &[]) {
            Err(e @ WsError::UpgradeRefused { status: 404, .. }) => {
                assert!(e.to_string().contains("instead of 101"), "{e}")
            }
            other => panic!("404: {other:?}"),
        }
        for (head, p, needle) in cases {
            match verify_response(head.as_bytes(), &key, &protos(p)) {
                Err(WsError::Handshake(why)) => assert!(why.contains(needle), "{head:?}: {why}"),
                other => panic!("{head:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn request_errors_pick_a_status() {
        let base = "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: k==\r\n";
        assert!(parse_request(format!("{base}\r\n").as_bytes(), &[], false).is_ok());
        let cases = [
            ("POST / HTTP/1.1\r\n\r\n".to_string(), 400),
            ("\u{1}\u{2}garbage\r\n\r\n".to_string(), 400),
            // A bare LF or CR in the target or a header: refused, not read.
            (base.replace("GET / ", "GET /a\nFAKE: x ") + "\r\n", 400),
            (
                base.replace("Host: h", "Host: h\rX-Forged: 1") + "\r\n",
                400,
            ),
            (
                base.replace("Host: h", "Host: h\nERROR: forged") + "\r\n",
                400,
            ),
            (
                base.replace("Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 8") + "\r\n",
                426,
            ),
            (base.replace("Sec-WebSocket-Key: k==\r\n", "") + "\r\n", 400),
            (base.replace("Upgrade: websocket\r\n", "") + "\r\n", 426),
            (format!("{base}Sec-WebSocket-Protocol: x\r\n\r\n"), 400),
        ];
        for (head, status) in cases {
            match parse_request(head.as_bytes(), &[], true) {
                Err((s, WsError::Handshake(_))) => assert_eq!(s, status, "{head:?}"),
                other => panic!("{head:?}: {other:?}"),
            }
        }
        // A required protocol the client did not offer.
        assert!(parse_request(format!("{base}\r\n").as_bytes(), &protos(&["p"]), false).is_err());
        let reject = reject_response(426, "why");
        assert!(reject.starts_with("HTTP/1.1 426 Upgrade Required\r\n"));
        assert!(reject.ends_with("\r\n\r\nwhy\n"));
    }

    #[test]
    fn extra_headers_must_be_single_lines() {
        assert!(validate_extra_headers(&["X-A: 1".into(), "Cookie: a=b; c=d".into()]).is_ok());
        for bad in [
            "no colon",
            ": empty name",
            "X: a\r\nInjected: 1",
            "Bad Name: v",
        ] {
            assert!(validate_extra_headers(&[bad.to_string()]).is_err(), "{bad}");
        }
    }
}
