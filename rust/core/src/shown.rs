//! What may be printed of text a peer, a proxy or a game controls.
//!
//! Printed lines reach the game's output, its log files and any `Logger` it
//! installed, so two rules hold for every line the library prints: no
//! secret (a URL's `user:password@` and its query values, where games put
//! session tokens; a proxy's credentials) and no control character that
//! could start a forged line (a bare CR or LF in a close reason, a header,
//! a request target). The game still reads the real values through the API.

use std::borrow::Cow;

/// `text` with every control character escaped (`\n`, `\r`, `\u{1b}`...),
/// so it prints as one line of what it really holds.
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// At most `max` characters of `text`, printable, with "..." when cut: what
/// is quoted of a line a peer sent (it may be long, and hold a cookie).
pub fn clipped(text: &str, max: usize) -> String {
    let mut out: String = text.chars().take(max).collect();
    if out.len() < text.len() {
        out.push_str("...");
    }
    printable(&out).into_owned()
}

/// A URL as it may be printed: user info as `***@`, each query value as
/// `***` (names kept, so the line still says which parameter was sent),
/// the fragment dropped, control characters escaped. Everything between
/// `://` and the last `@` counts as user info (a password may hold `/`,
/// `?` or `#`): hiding too much is fine, showing a password is not.
pub fn url(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://") {
        if let Some((_, host_on)) = rest.rsplit_once('@') {
            return self::url(&format!("{scheme}://{host_on}")).replacen("://", "://***@", 1);
        }
    }
    let url = url.split('#').next().unwrap_or_default();
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let mut out = String::with_capacity(url.len());
    match base.split_once("://") {
        Some((scheme, rest)) => {
            out.push_str(scheme);
            out.push_str("://");
            let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            match authority.rsplit_once('@') {
                Some((_, host)) => {
                    out.push_str("***@");
                    out.push_str(host);
                }
                None => out.push_str(authority),
            }
            out.push_str(path);
        }
        None => out.push_str(base),
    }
    if let Some(query) = query {
        out.push('?');
        let hidden: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((name, _)) => format!("{name}=***"),
                None if pair.is_empty() => String::new(),
                None => "***".into(),
            })
            .collect();
        out.push_str(&hidden.join("&"));
    }
    printable(&out).into_owned()
}

/// A proxy host setting as it may be printed: `user:password@` as `***@`.
pub fn proxy_host(host: &str) -> String {
    let shown = match host.rsplit_once('@') {
        Some((before, name)) => match before.split_once("://") {
            Some((scheme, _)) => format!("{scheme}://***@{name}"),
            None => format!("***@{name}"),
        },
        None => host.to_string(),
    };
    printable(&shown).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_keep_no_secret() {
        assert_eq!(
            url("wss://game.example:8443/play?token=s3cret&room=7#frag"),
            "wss://game.example:8443/play?token=***&room=***"
        );
        assert_eq!(url("ws://alice:pw@host/path?x"), "ws://***@host/path?***");
        // Whatever a password holds, it is not shown.
        assert_eq!(
            url("wss://alice:pa/ss@game.example/play"),
            "wss://***@game.example/play"
        );
        assert_eq!(
            url("wss://alice:pa?ss@game.example/"),
            "wss://***@game.example/"
        );
        assert_eq!(
            url("wss://alice:pa#ss@game.example/"),
            "wss://***@game.example/"
        );
        assert_eq!(url("ws://host/a?mail=x@y.z"), "ws://***@y.z");
        assert_eq!(url("/chat?session=abc"), "/chat?session=***");
        assert_eq!(url("ws://host/"), "ws://host/");
        assert_eq!(url("ws://host/\nFAKE: line"), "ws://host/\\nFAKE: line");
    }

    #[test]
    fn proxies_keep_no_password() {
        assert_eq!(
            proxy_host("https://alice:s3cretPW@proxy.corp"),
            "https://***@proxy.corp"
        );
        assert_eq!(proxy_host("alice:pw@proxy"), "***@proxy");
        assert_eq!(proxy_host("proxy"), "proxy");
    }

    #[test]
    fn quotes_are_clipped() {
        assert_eq!(clipped("short", 64), "short");
        let long = "x".repeat(7000);
        assert_eq!(clipped(&long, 64).len(), 67);
        assert_eq!(clipped("a\u{1}b", 64), "a\\u{1}b");
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(printable("a\r\nERROR: forged"), "a\\r\\nERROR: forged");
        assert_eq!(printable("plain"), "plain");
        assert!(matches!(printable("plain"), Cow::Borrowed(_)));
    }
}
