//! Negotiating permessage-deflate (RFC 7692 section 7.1) in the
//! `Sec-WebSocket-Extensions` headers: the client's offer, the server's
//! choice among the offers it got (declining those it cannot honour), and
//! the client's check of the answer (a bad answer fails the connection).
//!
//! What we ask for is one [`DeflateConfig`] for both directions; the outcome
//! is an [`Agreed`] set of parameters, from which each side builds its
//! compressor and decompressor.

use crate::deflate::{Deflater, Inflater};

/// The extension's registered name.
pub const NAME: &str = "permessage-deflate";

/// What we ask of the compression of a link (both directions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeflateConfig {
    /// Keep the compression context between messages (better ratio, one
    /// zlib state per direction kept for the link's life). `false` asks for
    /// no context takeover both ways, so an idle link holds no zlib state.
    pub context_takeover: bool,
    /// Largest LZ77 window, 9-15 (2^bits bytes): smaller saves memory.
    pub max_window_bits: u8,
}

impl Default for DeflateConfig {
    fn default() -> Self {
        DeflateConfig {
            context_takeover: true,
            max_window_bits: 15,
        }
    }
}

/// The parameters both sides agreed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Agreed {
    pub server_no_context_takeover: bool,
    pub client_no_context_takeover: bool,
    pub server_max_window_bits: u8,
    pub client_max_window_bits: u8,
}

impl Agreed {
    /// The response header value that states these parameters.
    pub fn header_value(&self) -> String {
        let mut v = NAME.to_string();
        if self.server_no_context_takeover {
            v.push_str("; server_no_context_takeover");
        }
        if self.client_no_context_takeover {
            v.push_str("; client_no_context_takeover");
        }
        if self.server_max_window_bits < 15 {
            v.push_str(&format!(
                "; server_max_window_bits={}",
                self.server_max_window_bits
            ));
        }
        if self.client_max_window_bits < 15 {
            v.push_str(&format!(
                "; client_max_window_bits={}",
                self.client_max_window_bits
            ));
        }
        v
    }

    /// The compressor for our messages, or `None` when we cannot honour the
    /// window (8 bits: zlib's deflate uses at least 9), in which case our
    /// messages go out uncompressed, which the extension allows.
    pub fn deflater(&self, server: bool) -> Option<Deflater> {
        let (bits, fresh) = if server {
            (self.server_max_window_bits, self.server_no_context_takeover)
        } else {
            (self.client_max_window_bits, self.client_no_context_takeover)
        };
        (bits >= 9).then(|| Deflater::new(bits, fresh))
    }

    /// The decompressor for the peer's messages.
    pub fn inflater(&self, server: bool) -> Inflater {
        if server {
            Inflater::new(self.client_max_window_bits, self.client_no_context_takeover)
        } else {
            Inflater::new(self.server_max_window_bits, self.server_no_context_takeover)
        }
    }
}

/// One extension in a header: its name and `(name, value)` parameters.
struct Offer<'a> {
    name: &'a str,
    params: Vec<(&'a str, Option<&'a str>)>,
}

/// Splits a `Sec-WebSocket-Extensions` value (repeated headers already
/// joined with `,`) into extensions and their parameters.
fn parse(value: &str) -> Vec<Offer<'_>> {
    value
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(|ext| {
            let mut parts = ext.split(';').map(str::trim);
            let name = parts.next().unwrap_or_default();
            let params = parts
                .filter(|p| !p.is_empty())
                .map(|p| match p.split_once('=') {
                    Some((k, v)) => (k.trim(), Some(v.trim().trim_matches('"'))),
                    None => (p, None),
                })
                .collect();
            Offer { name, params }
        })
        .collect()
}

/// A window-bits value, 8-15.
fn bits(value: Option<&str>) -> Result<u8, String> {
    let v = value.ok_or("a window size without a value")?;
    match v.parse::<u8>() {
        Ok(b @ 8..=15) => Ok(b),
        _ => Err(format!("window size \"{v}\" is not 8-15")),
    }
}

/// The parameters of one permessage-deflate offer or answer, each at most
/// once, with valid values. `client_max_window_bits` may come without a
/// value (an offer's "I can do it"), kept as `Some(None)`.
#[derive(Default)]
struct Params {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_max_window_bits: Option<u8>,
    client_max_window_bits: Option<Option<u8>>,
}

fn params(offer: &Offer) -> Result<Params, String> {
    let mut p = Params::default();
    let mut seen: Vec<&str> = Vec::new();
    for (name, value) in &offer.params {
        if seen.contains(name) {
            return Err(format!("parameter {name} given twice"));
        }
        seen.push(name);
        match *name {
            "server_no_context_takeover" | "client_no_context_takeover" if value.is_some() => {
                return Err(format!("{name} takes no value"));
            }
            "server_no_context_takeover" => p.server_no_context_takeover = true,
            "client_no_context_takeover" => p.client_no_context_takeover = true,
            "server_max_window_bits" => p.server_max_window_bits = Some(bits(*value)?),
            "client_max_window_bits" => {
                p.client_max_window_bits = Some(value.map(|v| bits(Some(v))).transpose()?)
            }
            other => return Err(format!("unknown parameter {other}")),
        }
    }
    Ok(p)
}

/// The client's offer for `config`.
pub fn client_offer(config: &DeflateConfig) -> String {
    let mut v = format!("{NAME}; client_max_window_bits");
    if config.max_window_bits < 15 {
        v.push_str(&format!(
            "={}; server_max_window_bits={}",
            config.max_window_bits, config.max_window_bits
        ));
    }
    if !config.context_takeover {
        v.push_str("; server_no_context_takeover; client_no_context_takeover");
    }
    v
}

/// The server side: the first permessage-deflate offer in `offers` that can
/// be honoured, with what we ask for added; `None` declines them all (the
/// link then goes without compression).
pub fn accept(offers: &str, config: &DeflateConfig) -> Option<Agreed> {
    let ours = config.max_window_bits.clamp(9, 15);
    parse(offers)
        .iter()
        .filter(|o| o.name.eq_ignore_ascii_case(NAME))
        .find_map(|offer| {
            let p = params(offer).ok()?;
            // Server window: at most what the client allows, at most ours.
            let server_bits = p.server_max_window_bits.unwrap_or(15).min(ours);
            // Client window: we may only name it when the client offered it.
            let client_bits = match p.client_max_window_bits {
                None => 15,
                Some(offered) => offered.unwrap_or(15).min(ours),
            };
            Some(Agreed {
                server_no_context_takeover: p.server_no_context_takeover
                    || !config.context_takeover,
                client_no_context_takeover: p.client_no_context_takeover
                    || !config.context_takeover,
                server_max_window_bits: server_bits,
                client_max_window_bits: client_bits,
            })
        })
}

/// The client side: checks the server's answer against what `config`
/// offered (`None` when no compression was offered). Anything but a valid
/// acceptance of our offer, or no extension at all, fails the connection.
pub fn verify(
    answer: Option<&str>,
    offered: Option<&DeflateConfig>,
) -> Result<Option<Agreed>, String> {
    let Some(answer) = answer.filter(|a| !a.trim().is_empty()) else {
        return Ok(None);
    };
    let exts = parse(answer);
    let Some(config) = offered else {
        return Err(format!(
            "the server answered with extension(s) \"{answer}\" that were not offered"
        ));
    };
    let [ext] = &exts[..] else {
        return Err(format!(
            "the server answered with several extensions: \"{answer}\""
        ));
    };
    if !ext.name.eq_ignore_ascii_case(NAME) {
        return Err(format!(
            "the server answered with extension \"{}\" that was not offered",
            ext.name
        ));
    }
    let p =
        params(ext).map_err(|why| format!("bad permessage-deflate answer \"{answer}\": {why}"))?;
    let asked = config.max_window_bits.clamp(9, 15);
    let server_bits = p.server_max_window_bits.unwrap_or(15);
    if asked < 15 && server_bits > asked {
        return Err(format!(
            "the server will use a {server_bits}-bit window where at most {asked} was asked"
        ));
    }
    let client_bits = match p.client_max_window_bits {
        None => 15,
        Some(None) => {
            return Err("the server's client_max_window_bits has no value".into());
        }
        Some(Some(b)) => b,
    };
    if !config.context_takeover && !p.server_no_context_takeover {
        return Err("the server did not accept server_no_context_takeover".into());
    }
    Ok(Some(Agreed {
        server_no_context_takeover: p.server_no_context_takeover,
        client_no_context_takeover: p.client_no_context_takeover || !config.context_takeover,
        server_max_window_bits: server_bits,
        client_max_window_bits: client_bits.min(asked),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEFAULT: DeflateConfig = DeflateConfig {
        context_takeover: true,
        max_window_bits: 15,
    };
    const SMALL: DeflateConfig = DeflateConfig {
        context_takeover: false,
        max_window_bits: 10,
    };

    #[test]
    fn offers_and_answers_round_trip() {
        for config in [DEFAULT, SMALL] {
            let offer = client_offer(&config);
            let agreed = accept(&offer, &config).expect("our own offer is accepted");
            let checked = verify(Some(&agreed.header_value()), Some(&config)).unwrap();
            assert_eq!(checked, Some(agreed), "{offer}");
        }
        let small = accept(&client_offer(&SMALL), &SMALL).unwrap();
        assert_eq!(
            small.header_value(),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=10"
        );
    }

    #[test]
    fn the_server_takes_the_first_offer_it_can_honour() {
        // A browser's usual offer.
        let a = accept("permessage-deflate; client_max_window_bits", &DEFAULT).unwrap();
        assert_eq!(a.header_value(), "permessage-deflate");
        // Unknown parameter, bad value, duplicate: declined, next one taken.
        let offers = "permessage-deflate; foo, permessage-deflate; server_max_window_bits=16, \
                      permessage-deflate; server_no_context_takeover; server_no_context_takeover, \
                      x-other, permessage-deflate; server_max_window_bits=\"10\"";
        let a = accept(offers, &DEFAULT).unwrap();
        assert_eq!(a.server_max_window_bits, 10);
        assert_eq!(
            accept("permessage-deflate; client_no_context_takeover=1", &DEFAULT),
            None
        );
        assert_eq!(accept("x-webkit-deflate-frame", &DEFAULT), None);
        // We never name a client window the client did not offer to limit.
        let a = accept("permessage-deflate", &SMALL).unwrap();
        assert_eq!(
            (a.client_max_window_bits, a.server_max_window_bits),
            (15, 10)
        );
        // An 8-bit server window is agreed, and we then send uncompressed.
        let a = accept("permessage-deflate; server_max_window_bits=8", &DEFAULT).unwrap();
        assert_eq!(a.server_max_window_bits, 8);
        assert!(a.deflater(true).is_none());
    }

    #[test]
    fn the_client_fails_on_a_bad_answer() {
        assert_eq!(verify(None, Some(&DEFAULT)), Ok(None));
        assert!(
            verify(Some("permessage-deflate"), None).is_err(),
            "not offered"
        );
        assert!(verify(Some("x-foo"), Some(&DEFAULT)).is_err());
        assert!(verify(
            Some("permessage-deflate, permessage-deflate"),
            Some(&DEFAULT)
        )
        .is_err());
        assert!(verify(Some("permessage-deflate; foo"), Some(&DEFAULT)).is_err());
        assert!(verify(
            Some("permessage-deflate; client_max_window_bits"),
            Some(&DEFAULT)
        )
        .is_err());
        assert!(verify(
            Some("permessage-deflate; server_max_window_bits=12"),
            Some(&SMALL)
        )
        .is_err());
        assert!(
            verify(Some("permessage-deflate"), Some(&SMALL)).is_err(),
            "takeover refused"
        );
        let ok = verify(
            Some("permessage-deflate; server_no_context_takeover; client_max_window_bits=9"),
            Some(&DEFAULT),
        )
        .unwrap()
        .unwrap();
        assert!(ok.server_no_context_takeover);
        assert_eq!(ok.client_max_window_bits, 9);
    }
}
