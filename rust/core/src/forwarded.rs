//! Who the client really is behind a load balancer: the list of trusted
//! proxies ([`TrustedProxies`], addresses and CIDR ranges), and the
//! `Forwarded` (RFC 7239 `for=`) and `X-Forwarded-For` request headers,
//! believed only when the TCP peer is a trusted proxy. The client is the
//! right-most address that is not itself a trusted proxy: entries to its
//! left were written by the client and prove nothing. Bounded: at most
//! [`MAX_FORWARDED_ENTRIES`] entries are looked at, from the right; an
//! invalid entry ends the search (the TCP address stands). Values are never
//! printed.

use crate::config::Refused;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Entries of a forwarding header looked at, from the right.
pub const MAX_FORWARDED_ENTRIES: usize = 32;

/// Entries in [`TrustedProxies`] at most.
pub const MAX_TRUSTED_PROXIES: usize = 256;

/// One address or CIDR range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpRange {
    addr: IpAddr,
    prefix: u8,
}

impl IpRange {
    /// Parses `"10.0.0.0/8"`, `"127.0.0.1"`, `"::1"`, `"fd00::/8"`.
    pub fn parse(text: &str) -> Option<IpRange> {
        let text = text.trim();
        let (ip, prefix) = match text.split_once('/') {
            Some((ip, bits)) => (ip, Some(bits)),
            None => (text, None),
        };
        let addr = canonical(ip.parse().ok()?);
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(bits)
                if !bits.is_empty()
                    && bits.len() <= 3
                    && bits.bytes().all(|b| b.is_ascii_digit()) =>
            {
                bits.parse::<u8>().ok().filter(|b| *b <= max)?
            }
            Some(_) => return None,
        };
        Some(IpRange { addr, prefix })
    }

    /// Whether `ip` is in the range (an IPv4-mapped IPv6 address counts as
    /// its IPv4 address).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// IPv4-mapped IPv6 addresses (what a dual-stack listener reports for an
/// IPv4 client) as IPv4.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The load balancers whose word about the client is believed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    ranges: Vec<IpRange>,
    /// The entries as given (trimmed), for the setting's getter.
    entries: Vec<String>,
}

impl TrustedProxies {
    /// Parses the entries (addresses and CIDR ranges); refuses the whole
    /// list on the first bad entry, or when there are more than
    /// [`MAX_TRUSTED_PROXIES`].
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<TrustedProxies, Refused> {
        if entries.len() > MAX_TRUSTED_PROXIES {
            return Err(Refused {
                setting: "trusted_proxies",
                rule: "at most 256 entries",
                got: format!("{} entries", entries.len()),
            });
        }
        let ranges = entries
            .iter()
            .map(|e| {
                IpRange::parse(e.as_ref()).ok_or_else(|| Refused {
                    setting: "trusted_proxies",
                    rule: "a list of IP addresses and CIDR ranges (\"10.0.0.0/8\", \"127.0.0.1\", \"::1\")",
                    got: format!("\"{}\"", crate::shown::printable(&e.as_ref().chars().take(64).collect::<String>())),
                })
            })
            .collect::<Result<_, _>>()?;
        let entries = entries
            .iter()
            .map(|e| e.as_ref().trim().to_string())
            .collect();
        Ok(TrustedProxies { ranges, entries })
    }

    /// The entries as given (trimmed).
    pub fn entries(&self) -> &[String] {
        &self.entries
    }

    /// No proxy is listed.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// Whether `ip` is a listed proxy (never, for an empty list).
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.ranges.iter().any(|r| r.contains(ip))
    }

    /// Whether a connection from `ip` must start with a PROXY header when
    /// the protocol is on: from a listed address, or from any when the list
    /// is empty.
    pub fn sends_proxy_header(&self, ip: IpAddr) -> bool {
        self.is_empty() || self.contains(ip)
    }
}

/// The client named by the forwarding headers of a request that came from
/// `peer` (`headers`: names lower-cased, repeated ones joined with `,`).
/// `None` when `peer` is not trusted, there is no such header, or its
/// right-most untrusted entry is invalid: the TCP address stands.
/// With both `Forwarded` and `X-Forwarded-For`, the client is believed only
/// when both name the same address (most proxies write one and pass the
/// other on as the client sent it). The port is the one the header gives,
/// else 0.
pub fn forwarded_client(
    peer: IpAddr,
    headers: &[(String, String)],
    trusted: &TrustedProxies,
) -> Option<SocketAddr> {
    if !trusted.contains(peer) {
        return None;
    }
    let find = |name: &str| headers.iter().find(|(n, _)| n == name).map(|(_, v)| v);
    let forwarded = find("forwarded").map(|v| rightmost_untrusted(v, trusted, forwarded_for));
    let x_forwarded = find("x-forwarded-for")
        .map(|v| rightmost_untrusted(v, trusted, |e| node(e.trim()).map(Some)));
    match (forwarded, x_forwarded) {
        // Most proxies write one of the two and pass the other on as the
        // client sent it: with both, a client is believed only when both
        // name it (else a client could pick its address by sending the
        // header its proxy does not write).
        (Some(f), Some(x)) => match (f, x) {
            (Some(f), Some(x)) if f.ip() == x.ip() => Some(f),
            _ => None,
        },
        (Some(one), None) | (None, Some(one)) => one,
        (None, None) => None,
    }
}

fn rightmost_untrusted(
    value: &str,
    trusted: &TrustedProxies,
    entry: impl Fn(&str) -> Option<Option<SocketAddr>>,
) -> Option<SocketAddr> {
    for e in value.rsplit(',').take(MAX_FORWARDED_ENTRIES) {
        // `Some(None)`: an element without `for=`, skipped.
        let addr = match entry(e)? {
            Some(a) => a,
            None => continue,
        };
        let addr = SocketAddr::new(canonical(addr.ip()), addr.port());
        if !trusted.contains(addr.ip()) {
            return Some(addr);
        }
    }
    None
}

/// One `Forwarded` element (`for=...;proto=...`): `Some(None)` when it has
/// no `for`, `None` when it is invalid.
fn forwarded_for(element: &str) -> Option<Option<SocketAddr>> {
    for pair in element.split(';') {
        let (key, value) = pair.trim().split_once('=')?;
        if key.trim().eq_ignore_ascii_case("for") {
            let value = value.trim();
            let value = match value.strip_prefix('"') {
                Some(quoted) => quoted.strip_suffix('"')?,
                None => value,
            };
            return node(value).map(Some);
        }
    }
    Some(None)
}

/// A node: `1.2.3.4`, `1.2.3.4:5`, `[2001:db8::1]`, `[2001:db8::1]:5`, or a
/// bare IPv6 address (as `X-Forwarded-For` writes it). `unknown` and
/// obfuscated names (`_hidden`) are not addresses: `None`.
fn node(text: &str) -> Option<SocketAddr> {
    if text.len() > 64 {
        return None;
    }
    if let Some(rest) = text.strip_prefix('[') {
        let (ip, after) = rest.split_once(']')?;
        let ip: Ipv6Addr = ip.parse().ok()?;
        let port = match after {
            "" => 0,
            p => port(p.strip_prefix(':')?)?,
        };
        return Some(SocketAddr::new(IpAddr::V6(ip), port));
    }
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(SocketAddr::new(ip, 0));
    }
    let (ip, p) = text.rsplit_once(':')?;
    Some(SocketAddr::new(
        IpAddr::V4(ip.parse::<Ipv4Addr>().ok()?),
        port(p)?,
    ))
}

fn port(text: &str) -> Option<u16> {
    (!text.is_empty() && text.len() <= 5 && text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| text.parse().ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trusted(list: &[&str]) -> TrustedProxies {
        TrustedProxies::parse(list).unwrap()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn hdr(name: &str, value: &str) -> Vec<(String, String)> {
        vec![(name.to_string(), value.to_string())]
    }

    #[test]
    fn ranges_and_addresses() {
        let t = trusted(&[
            "10.0.0.0/8",
            "127.0.0.1",
            "::1",
            "fd00::/8",
            " 192.168.1.0/24 ",
        ]);
        assert!(t.contains(ip("10.255.0.1")));
        assert!(!t.contains(ip("11.0.0.1")));
        assert!(t.contains(ip("127.0.0.1")));
        assert!(!t.contains(ip("127.0.0.2")));
        assert!(t.contains(ip("::1")));
        assert!(t.contains(ip("fdff::1")));
        assert!(!t.contains(ip("fe00::1")));
        assert!(t.contains(ip("192.168.1.200")));
        // A dual-stack listener reports IPv4 clients as mapped addresses.
        assert!(t.contains(ip("::ffff:10.1.2.3")));
        let all = trusted(&["0.0.0.0/0", "::/0"]);
        assert!(all.contains(ip("1.2.3.4")) && all.contains(ip("2001:db8::1")));
        assert!(!TrustedProxies::default().contains(ip("127.0.0.1")));
        assert!(TrustedProxies::default().sends_proxy_header(ip("1.2.3.4")));
        assert!(!t.sends_proxy_header(ip("1.2.3.4")));
    }

    #[test]
    fn bad_entries_are_refused() {
        for bad in [
            "10.0.0.0/33",
            "::/129",
            "10.0.0.0/",
            "/8",
            "10.0.0",
            "host",
            "10.0.0.0/+8",
            "1.2.3.4/08x",
            "",
        ] {
            let e = TrustedProxies::parse(&[bad]).unwrap_err();
            assert_eq!(e.setting, "trusted_proxies", "{bad}");
        }
        let many = vec!["127.0.0.1"; MAX_TRUSTED_PROXIES + 1];
        assert!(TrustedProxies::parse(&many).is_err());
    }

    #[test]
    fn x_forwarded_for_takes_the_rightmost_untrusted() {
        let t = trusted(&["10.0.0.0/8"]);
        let lb = ip("10.0.0.5");
        let h = hdr("x-forwarded-for", "198.51.100.1, 203.0.113.7, 10.0.0.9");
        assert_eq!(
            forwarded_client(lb, &h, &t),
            Some("203.0.113.7:0".parse().unwrap())
        );
        // The client wrote the left part: a spoofed entry there is ignored.
        let h = hdr("x-forwarded-for", "10.0.0.1, 203.0.113.7");
        assert_eq!(
            forwarded_client(lb, &h, &t),
            Some("203.0.113.7:0".parse().unwrap())
        );
        let h = hdr("x-forwarded-for", "2001:db8::9");
        assert_eq!(
            forwarded_client(lb, &h, &t),
            Some("[2001:db8::9]:0".parse().unwrap())
        );
        let h = hdr("x-forwarded-for", "203.0.113.7:4711");
        assert_eq!(
            forwarded_client(lb, &h, &t),
            Some("203.0.113.7:4711".parse().unwrap())
        );
    }

    #[test]
    fn headers_from_an_untrusted_peer_are_ignored() {
        let h = hdr("x-forwarded-for", "203.0.113.7");
        assert_eq!(
            forwarded_client(ip("198.51.100.1"), &h, &trusted(&["10.0.0.0/8"])),
            None
        );
        // An empty list trusts no one.
        assert_eq!(
            forwarded_client(ip("10.0.0.1"), &h, &TrustedProxies::default()),
            None
        );
    }

    #[test]
    fn forwarded_for_elements() {
        let t = trusted(&["127.0.0.1"]);
        let lb = ip("127.0.0.1");
        let h = hdr(
            "forwarded",
            "for=198.51.100.1, for=\"[2001:db8:cafe::17]:4711\";proto=https;by=127.0.0.1",
        );
        assert_eq!(
            forwarded_client(lb, &h, &t),
            Some("[2001:db8:cafe::17]:4711".parse().unwrap())
        );
        let h = hdr("forwarded", "For=203.0.113.43, proto=http");
        assert_eq!(
            forwarded_client(lb, &h, &t),
            Some("203.0.113.43:0".parse().unwrap())
        );
        // A proxy that writes X-Forwarded-For and passes on the client's own
        // Forwarded: the client does not get to pick its address.
        let mut h = hdr("x-forwarded-for", "198.51.100.2");
        h.extend(hdr("forwarded", "for=198.51.100.3"));
        assert_eq!(forwarded_client(lb, &h, &t), None);
        let mut h = hdr("x-forwarded-for", "203.0.113.7");
        h.extend(hdr("forwarded", "for=1.2.3.4"));
        assert_eq!(forwarded_client(lb, &h, &t), None);
        // Both naming the same client: believed (with Forwarded's port).
        let mut h = hdr("x-forwarded-for", "198.51.100.3");
        h.extend(hdr("forwarded", "for=\"198.51.100.3:4711\""));
        assert_eq!(
            forwarded_client(lb, &h, &t),
            Some("198.51.100.3:4711".parse().unwrap())
        );
    }

    #[test]
    fn invalid_values_keep_the_tcp_address() {
        let t = trusted(&["127.0.0.1"]);
        let lb = ip("127.0.0.1");
        for bad in [
            ("x-forwarded-for", "not-an-ip"),
            ("x-forwarded-for", "203.0.113.7, garbage"),
            ("x-forwarded-for", "203.0.113.7:99999"),
            ("x-forwarded-for", ""),
            ("forwarded", "for=unknown"),
            ("forwarded", "for=_hidden"),
            ("forwarded", "for=\"[::1"),
            ("forwarded", "for"),
            ("forwarded", "for=[2001:db8::1]x"),
        ] {
            assert_eq!(
                forwarded_client(lb, &hdr(bad.0, bad.1), &t),
                None,
                "{bad:?}"
            );
        }
        // Only trusted entries: nobody else named.
        assert_eq!(
            forwarded_client(lb, &hdr("x-forwarded-for", "127.0.0.1"), &t),
            None
        );
    }

    #[test]
    fn long_chains_are_bounded() {
        let t = trusted(&["10.0.0.0/8"]);
        let mut chain = vec!["203.0.113.7"];
        chain.extend(std::iter::repeat_n("10.0.0.1", MAX_FORWARDED_ENTRIES));
        let h = hdr("x-forwarded-for", &chain.join(","));
        // The client is beyond the entries looked at: the TCP address stands.
        assert_eq!(forwarded_client(ip("10.0.0.2"), &h, &t), None);
        let huge = "10.0.0.1,".repeat(100_000) + "10.0.0.1";
        let h = hdr("x-forwarded-for", &huge);
        assert_eq!(forwarded_client(ip("10.0.0.2"), &h, &t), None);
    }
}
