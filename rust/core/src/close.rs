//! The rules of close frames (RFC 6455 sections 5.5.1 and 7.4): which codes
//! a close frame may carry, how long its reason may be, and its payload in
//! both directions. Used by the reader (a peer's close frame) and by the
//! peer when it closes (ours).

use std::fmt;

/// Longest close reason, in bytes, that fits a control frame (125 bytes of
/// payload, 2 of them the code).
pub const MAX_CLOSE_REASON: usize = 123;

/// Close codes a close frame may carry (RFC 6455 section 7.4): the defined
/// codes a peer may send, and 3000-4999 for libraries and applications.
pub fn is_sendable_close_code(code: i32) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

/// `reason` cut to at most [`MAX_CLOSE_REASON`] bytes at a character
/// boundary, and whether it was cut.
pub fn fit_reason(reason: &str) -> (&str, bool) {
    if reason.len() <= MAX_CLOSE_REASON {
        return (reason, false);
    }
    let mut end = MAX_CLOSE_REASON;
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    (&reason[..end], true)
}

/// The payload of our close frame: `code` and `reason`, or nothing.
pub fn payload(frame: Option<(u16, &str)>) -> Vec<u8> {
    let mut payload = Vec::new();
    if let Some((code, reason)) = frame {
        payload.extend_from_slice(&code.to_be_bytes());
        payload.extend_from_slice(reason.as_bytes());
    }
    payload
}

/// Why a peer's close frame is refused.
#[derive(Debug, PartialEq, Eq)]
pub enum BadClose {
    /// A code no peer may send, or a 1-byte payload (close with 1002).
    Protocol(String),
    /// The reason is not UTF-8 (close with 1007).
    InvalidUtf8,
}

impl fmt::Display for BadClose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BadClose::Protocol(why) => f.write_str(why),
            BadClose::InvalidUtf8 => f.write_str("close reason is not UTF-8"),
        }
    }
}

/// The code and reason of a peer's close frame, `None` when it carried none.
pub fn parse(payload: &[u8]) -> Result<Option<(u16, String)>, BadClose> {
    match payload {
        [] => Ok(None),
        [_] => Err(BadClose::Protocol(
            "close frame with a 1-byte payload".into(),
        )),
        [hi, lo, reason @ ..] => {
            let code = u16::from_be_bytes([*hi, *lo]);
            if !is_sendable_close_code(i32::from(code)) {
                return Err(BadClose::Protocol(format!("invalid close code {code}")));
            }
            let reason = std::str::from_utf8(reason).map_err(|_| BadClose::InvalidUtf8)?;
            Ok(Some((code, reason.to_string())))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_a_peer_may_send() {
        for code in [1000, 1003, 1007, 1014, 3000, 4999] {
            assert!(is_sendable_close_code(code), "{code}");
        }
        for code in [-1, 0, 999, 1004, 1005, 1006, 1015, 2999, 5000] {
            assert!(!is_sendable_close_code(code), "{code}");
        }
    }

    #[test]
    fn reasons_are_cut_at_a_character_boundary() {
        assert_eq!(fit_reason("bye"), ("bye", false));
        let long = "é".repeat(100); // 200 bytes
        let (cut, was_cut) = fit_reason(&long);
        assert!(was_cut);
        assert_eq!(cut.len(), 122);
        assert!(cut.chars().all(|c| c == 'é'));
    }

    #[test]
    fn payloads_both_ways() {
        assert_eq!(
            parse(&payload(Some((4000, "ok")))),
            Ok(Some((4000, "ok".into())))
        );
        assert_eq!(parse(&payload(None)), Ok(None));
        assert!(matches!(parse(&[3]), Err(BadClose::Protocol(_))));
        assert!(matches!(parse(&[0x03, 0xed]), Err(BadClose::Protocol(_))));
        assert_eq!(parse(&[0x03, 0xe8, 0xff]), Err(BadClose::InvalidUtf8));
    }
}
