//! The PROXY protocol (HAProxy's spec, versions 1 and 2): the header a
//! load balancer writes first on a connection it forwards, naming the
//! client it came from. Pure parsing, no I/O: [`parse`] looks at the bytes
//! read so far and says either how many more may be read without reading
//! past the header ([`Parsed::Incomplete`]), or what the header says and
//! how long it is ([`Parsed::Done`]); the bytes after it belong to TLS or
//! HTTP. Bounded: a version 1 line is at most [`V1_MAX`] bytes, a version 2
//! header at most 16 + [`V2_MAX_LEN`].

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// The 12 bytes a version 2 header starts with.
pub const V2_SIGNATURE: [u8; 12] = *b"\r\n\r\n\0\r\nQUIT\n";

/// Longest version 1 line, `\r\n` included (the spec's bound).
pub const V1_MAX: usize = 107;

/// Largest version 2 address block (addresses and TLVs) accepted; the spec
/// allows 65535, balancers send a few hundred bytes at most.
pub const V2_MAX_LEN: usize = 4096;

/// The shortest version 1 line ("PROXY UNKNOWN\r\n").
const V1_MIN: usize = 15;

/// What a complete header says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyHeader {
    /// The client the balancer forwards; `None` for its own connections
    /// (version 2 `LOCAL`, version 1 `UNKNOWN`, an unspecified or Unix
    /// family): then the TCP peer's address stands.
    pub source: Option<SocketAddr>,
    /// The address the client connected to, when given.
    pub destination: Option<SocketAddr>,
    /// The header's length in bytes: what follows belongs to the stream.
    pub len: usize,
}

/// Where parsing stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// More bytes are needed; this many more may be read without reading
    /// past the header (at least 1).
    Incomplete(usize),
    /// The whole header.
    Done(ProxyHeader),
}

/// Why a header was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProxyError {
    /// The connection does not start with a PROXY header.
    Missing,
    /// A version 1 line longer than [`V1_MAX`], or a version 2 block longer
    /// than [`V2_MAX_LEN`] (the length it declared).
    TooLong(usize),
    /// A header that breaks the spec (what is wrong; never the peer's bytes).
    Malformed(&'static str),
}

impl fmt::Display for ProxyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProxyError::Missing => write!(
                f,
                "the connection did not start with a PROXY protocol header, which \
                 proxy_protocol requires from this address"
            ),
            ProxyError::TooLong(n) => write!(
                f,
                "PROXY protocol header too long ({n} bytes; at most {V1_MAX} for version 1, \
                 {V2_MAX_LEN} of addresses for version 2)"
            ),
            ProxyError::Malformed(why) => write!(f, "malformed PROXY protocol header: {why}"),
        }
    }
}

impl std::error::Error for ProxyError {}

/// Parses the start of a connection (`buf`: every byte read so far).
pub fn parse(buf: &[u8]) -> Result<Parsed, ProxyError> {
    let v1 = b"PROXY ";
    if buf.is_empty() {
        // Neither version yet: the shorter of the two shortest headers.
        return Ok(Parsed::Incomplete(V1_MIN));
    }
    let n = buf.len().min(V2_SIGNATURE.len());
    if buf[..n] == V2_SIGNATURE[..n] {
        return parse_v2(buf);
    }
    let n = buf.len().min(v1.len());
    if buf[..n] == v1[..n] {
        return parse_v1(buf);
    }
    Err(ProxyError::Missing)
}

fn parse_v1(buf: &[u8]) -> Result<Parsed, ProxyError> {
    let Some(end) = buf.windows(2).position(|w| w == b"\r\n") else {
        if buf.len() >= V1_MAX {
            return Err(ProxyError::TooLong(buf.len()));
        }
        if buf.len() < V1_MIN {
            return Ok(Parsed::Incomplete(V1_MIN - buf.len()));
        }
        // The line ends with "\r\n": when the last byte is not '\r', two
        // more bytes at least.
        let more = if buf.last() == Some(&b'\r') { 1 } else { 2 };
        return Ok(Parsed::Incomplete(more));
    };
    let len = end + 2;
    if len > V1_MAX {
        return Err(ProxyError::TooLong(len));
    }
    let line = std::str::from_utf8(&buf[6..end])
        .map_err(|_| ProxyError::Malformed("version 1 line is not ASCII"))?;
    let mut parts = line.split(' ');
    let family = parts.next().unwrap_or_default();
    if family == "UNKNOWN" {
        // The rest, if any, is to be ignored.
        return Ok(Parsed::Done(ProxyHeader {
            source: None,
            destination: None,
            len,
        }));
    }
    let v6 = match family {
        "TCP4" => false,
        "TCP6" => true,
        _ => {
            return Err(ProxyError::Malformed(
                "version 1 family is not TCP4, TCP6 or UNKNOWN",
            ))
        }
    };
    let fields: Vec<&str> = parts.collect();
    let [src, dst, sport, dport] = fields[..] else {
        return Err(ProxyError::Malformed(
            "version 1 line does not have four address fields",
        ));
    };
    let ip = |s: &str| -> Result<IpAddr, ProxyError> {
        let ip: IpAddr = if v6 {
            IpAddr::V6(
                s.parse::<Ipv6Addr>()
                    .map_err(|_| ProxyError::Malformed("version 1 address is not IPv6"))?,
            )
        } else {
            IpAddr::V4(
                s.parse::<Ipv4Addr>()
                    .map_err(|_| ProxyError::Malformed("version 1 address is not IPv4"))?,
            )
        };
        Ok(ip)
    };
    let port = |s: &str| -> Result<u16, ProxyError> {
        let ok = !s.is_empty()
            && s.len() <= 5
            && s.bytes().all(|b| b.is_ascii_digit())
            && (s == "0" || !s.starts_with('0'));
        ok.then(|| s.parse::<u16>().ok())
            .flatten()
            .ok_or(ProxyError::Malformed(
                "version 1 port is not a number from 0 to 65535",
            ))
    };
    Ok(Parsed::Done(ProxyHeader {
        source: Some(SocketAddr::new(ip(src)?, port(sport)?)),
        destination: Some(SocketAddr::new(ip(dst)?, port(dport)?)),
        len,
    }))
}

fn parse_v2(buf: &[u8]) -> Result<Parsed, ProxyError> {
    if buf.len() < 16 {
        return Ok(Parsed::Incomplete(16 - buf.len()));
    }
    let (version, command) = (buf[12] >> 4, buf[12] & 0x0f);
    if version != 2 {
        return Err(ProxyError::Malformed(
            "version 2 signature with another version",
        ));
    }
    let local = match command {
        0 => true,
        1 => false,
        _ => {
            return Err(ProxyError::Malformed(
                "version 2 command is not LOCAL or PROXY",
            ))
        }
    };
    let (family, transport) = (buf[13] >> 4, buf[13] & 0x0f);
    if family > 3 || transport > 2 {
        return Err(ProxyError::Malformed(
            "version 2 family or transport unknown",
        ));
    }
    let declared = usize::from(u16::from_be_bytes([buf[14], buf[15]]));
    if declared > V2_MAX_LEN {
        return Err(ProxyError::TooLong(declared));
    }
    let len = 16 + declared;
    if buf.len() < len {
        return Ok(Parsed::Incomplete(len - buf.len()));
    }
    let body = &buf[16..len];
    let none = Parsed::Done(ProxyHeader {
        source: None,
        destination: None,
        len,
    });
    // LOCAL: the balancer's own connection (a health check). An unspecified
    // or Unix family, or a datagram transport: no IP client to report.
    if local || transport != 1 || !(family == 1 || family == 2) {
        return Ok(none);
    }
    let be16 = |at: usize| u16::from_be_bytes([body[at], body[at + 1]]);
    let (source, destination) = if family == 1 {
        if body.len() < 12 {
            return Err(ProxyError::Malformed(
                "version 2 IPv4 block shorter than 12 bytes",
            ));
        }
        let ip = |at: usize| {
            IpAddr::V4(Ipv4Addr::new(
                body[at],
                body[at + 1],
                body[at + 2],
                body[at + 3],
            ))
        };
        (
            SocketAddr::new(ip(0), be16(8)),
            SocketAddr::new(ip(4), be16(10)),
        )
    } else {
        if body.len() < 36 {
            return Err(ProxyError::Malformed(
                "version 2 IPv6 block shorter than 36 bytes",
            ));
        }
        let ip = |at: usize| {
            let mut octets = [0u8; 16];
            octets.copy_from_slice(&body[at..at + 16]);
            IpAddr::V6(Ipv6Addr::from(octets))
        };
        (
            SocketAddr::new(ip(0), be16(32)),
            SocketAddr::new(ip(16), be16(34)),
        )
    };
    // TLVs (after the addresses) are skipped: nothing here needs them.
    Ok(Parsed::Done(ProxyHeader {
        source: Some(source),
        destination: Some(destination),
        len,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v2(command: u8, family: u8, body: &[u8]) -> Vec<u8> {
        let mut h = V2_SIGNATURE.to_vec();
        h.push(0x20 | command);
        h.push(family);
        h.extend_from_slice(&(body.len() as u16).to_be_bytes());
        h.extend_from_slice(body);
        h
    }

    fn done(buf: &[u8]) -> ProxyHeader {
        match parse(buf) {
            Ok(Parsed::Done(h)) => h,
            other => panic!("expected a whole header, got {other:?}"),
        }
    }

    /// Feeds `buf` as a reader would: only as many bytes as the parser
    /// allows each time; never past the header's end.
    fn incremental(buf: &[u8]) -> Result<ProxyHeader, ProxyError> {
        let mut have = 0;
        loop {
            match parse(&buf[..have])? {
                Parsed::Done(h) => return Ok(h),
                Parsed::Incomplete(n) => {
                    assert!(n >= 1);
                    assert!(have + n <= buf.len(), "asked to read past the input");
                    have += n;
                }
            }
        }
    }

    #[test]
    fn v1_tcp4_and_tcp6() {
        let line = b"PROXY TCP4 192.0.2.7 10.0.0.1 56324 443\r\nGET / HTTP/1.1\r\n";
        let h = done(line);
        assert_eq!(h.source, Some("192.0.2.7:56324".parse().unwrap()));
        assert_eq!(h.destination, Some("10.0.0.1:443".parse().unwrap()));
        assert_eq!(&line[h.len..h.len + 3], b"GET");
        let line = b"PROXY TCP6 2001:db8::1 ::1 65535 8080\r\n";
        let h = incremental(line).unwrap();
        assert_eq!(h.source, Some("[2001:db8::1]:65535".parse().unwrap()));
        assert_eq!(h.len, line.len());
    }

    #[test]
    fn v1_unknown_keeps_the_tcp_address() {
        let h = done(b"PROXY UNKNOWN\r\n");
        assert_eq!(h.source, None);
        let h = done(b"PROXY UNKNOWN ffff:f::1 ffff:f::2 1 2\r\nrest");
        assert_eq!((h.source, h.len), (None, 39));
    }

    #[test]
    fn v1_refuses_bad_lines() {
        for bad in [
            &b"PROXY TCP4 192.0.2.7 10.0.0.1 56324\r\n"[..],
            b"PROXY TCP4 ::1 10.0.0.1 1 2\r\n",
            b"PROXY TCP6 192.0.2.7 ::1 1 2\r\n",
            b"PROXY TCP4 192.0.2.7 10.0.0.1 65536 2\r\n",
            b"PROXY TCP4 192.0.2.7 10.0.0.1 -1 2\r\n",
            b"PROXY TCP4 192.0.2.7 10.0.0.1 01 2\r\n",
            b"PROXY TCP4  192.0.2.7 10.0.0.1 1 2\r\n",
            b"PROXY UDP4 192.0.2.7 10.0.0.1 1 2\r\n",
            b"PROXY TCP4 192.0.2.7 10.0.0.1 1 \xff\r\n",
        ] {
            assert!(
                matches!(parse(bad), Err(ProxyError::Malformed(_))),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn v1_longer_than_107_bytes_is_refused_without_waiting_for_more() {
        let mut line = b"PROXY UNKNOWN ".to_vec();
        line.resize(V1_MAX, b'x');
        assert_eq!(parse(&line), Err(ProxyError::TooLong(V1_MAX)));
        line.truncate(V1_MAX - 1);
        assert_eq!(parse(&line), Ok(Parsed::Incomplete(2)));
        let mut long = line.clone();
        long.extend_from_slice(b"x\r\n");
        assert!(matches!(parse(&long), Err(ProxyError::TooLong(_))));
    }

    #[test]
    fn v2_ipv4_ipv6_with_tlvs() {
        let mut body = vec![203, 0, 113, 9, 10, 0, 0, 2];
        body.extend_from_slice(&40000u16.to_be_bytes());
        body.extend_from_slice(&443u16.to_be_bytes());
        body.extend_from_slice(&[0x04, 0, 3, b'a', b'b', b'c']); // a TLV
        let mut buf = v2(1, 0x11, &body);
        let header_len = buf.len();
        buf.extend_from_slice(b"\x16\x03\x01"); // a TLS hello follows
        let h = incremental(&buf).unwrap();
        assert_eq!(h.source, Some("203.0.113.9:40000".parse().unwrap()));
        assert_eq!(h.destination, Some("10.0.0.2:443".parse().unwrap()));
        assert_eq!(h.len, header_len);

        let mut body = Vec::new();
        body.extend_from_slice(&"2001:db8::7".parse::<Ipv6Addr>().unwrap().octets());
        body.extend_from_slice(&Ipv6Addr::LOCALHOST.octets());
        body.extend_from_slice(&[0x12, 0x34, 0x00, 0x50]);
        let h = incremental(&v2(1, 0x21, &body)).unwrap();
        assert_eq!(h.source, Some("[2001:db8::7]:4660".parse().unwrap()));
    }

    #[test]
    fn v2_local_and_unspec_give_no_client() {
        assert_eq!(done(&v2(0, 0x00, &[])).source, None);
        // LOCAL with addresses: still the balancer's own connection.
        assert_eq!(done(&v2(0, 0x11, &[1; 12])).source, None);
        assert_eq!(done(&v2(1, 0x00, &[])).source, None);
        assert_eq!(done(&v2(1, 0x31, &[0; 216])).source, None);
    }

    #[test]
    fn v2_refuses_bad_headers() {
        assert!(matches!(
            parse(&v2(1, 0x11, &[0; 8])),
            Err(ProxyError::Malformed(_))
        ));
        assert!(matches!(
            parse(&v2(1, 0x21, &[0; 12])),
            Err(ProxyError::Malformed(_))
        ));
        assert!(matches!(
            parse(&v2(2, 0x11, &[0; 12])),
            Err(ProxyError::Malformed(_))
        ));
        assert!(matches!(
            parse(&v2(1, 0x41, &[0; 12])),
            Err(ProxyError::Malformed(_))
        ));
        let mut wrong_version = v2(1, 0x11, &[0; 12]);
        wrong_version[12] = 0x11;
        assert!(matches!(
            parse(&wrong_version),
            Err(ProxyError::Malformed(_))
        ));
    }

    #[test]
    fn v2_oversized_is_refused_from_its_first_16_bytes() {
        let mut head = V2_SIGNATURE.to_vec();
        head.extend_from_slice(&[0x21, 0x11]);
        head.extend_from_slice(&(V2_MAX_LEN as u16 + 1).to_be_bytes());
        assert_eq!(parse(&head), Err(ProxyError::TooLong(V2_MAX_LEN + 1)));
        head[14..16].copy_from_slice(&u16::MAX.to_be_bytes());
        assert_eq!(parse(&head), Err(ProxyError::TooLong(65535)));
    }

    #[test]
    fn partial_input_asks_only_for_what_is_certainly_header() {
        assert_eq!(parse(b""), Ok(Parsed::Incomplete(V1_MIN)));
        assert_eq!(parse(b"PRO"), Ok(Parsed::Incomplete(V1_MIN - 3)));
        assert_eq!(parse(&V2_SIGNATURE[..5]), Ok(Parsed::Incomplete(11)));
        assert_eq!(parse(&V2_SIGNATURE), Ok(Parsed::Incomplete(4)));
        let full = v2(1, 0x11, &[0; 12]);
        assert_eq!(parse(&full[..16]), Ok(Parsed::Incomplete(12)));
    }

    #[test]
    fn anything_else_is_missing_at_its_first_wrong_byte() {
        assert_eq!(parse(b"GET / HTTP/1.1\r\n"), Err(ProxyError::Missing));
        assert_eq!(parse(b"\x16\x03\x01"), Err(ProxyError::Missing));
        assert_eq!(parse(b"PROXX"), Err(ProxyError::Missing));
        assert_eq!(parse(b"\r\n\r\n\0\r\nQUIX"), Err(ProxyError::Missing));
        assert_eq!(parse(b"proxy "), Err(ProxyError::Missing));
    }
}
