//! The data side of permessage-deflate (RFC 7692 section 7.2): raw DEFLATE
//! (zlib-rs through flate2) with the message tail `00 00 ff ff` taken off
//! when compressing and put back when inflating.
//!
//! Inflating is bounded: output grows in steps and stops as soon as it would
//! pass the message limit, so a small compressed message that inflates to
//! gigabytes is refused after at most the limit (no decompression bomb).
//! Both sides allocate their zlib state only when first used, and a side
//! that keeps no context between messages gives it back when the link is
//! idle ([`Inflater::trim`], [`Deflater::trim`]).

use crate::inbound::ReadError;
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

/// The bytes every compressed message ends with before they are removed.
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// Output grows by at most this much per step while inflating.
const INFLATE_STEP: usize = 64 * 1024;

/// Compression level: fast, as games send often (level 1 compressed JSON
/// game state ~4x here at several hundred MB/s).
pub const LEVEL: u32 = 1;

/// Inflates the messages of one direction.
pub struct Inflater {
    state: Option<Decompress>,
    window_bits: u8,
    /// The peer starts each message afresh: no state is kept between them.
    reset_each: bool,
}

impl Inflater {
    /// `window_bits`: the largest window the peer may use (9-15); `reset_each`:
    /// the peer does not take context over between messages.
    pub fn new(window_bits: u8, reset_each: bool) -> Inflater {
        Inflater {
            state: None,
            window_bits: window_bits.clamp(9, 15),
            reset_each,
        }
    }

    /// Inflates `input` onto `out`, failing once `out` would pass `limit`.
    pub fn inflate(
        &mut self,
        input: &[u8],
        out: &mut Vec<u8>,
        limit: usize,
    ) -> Result<(), ReadError> {
        let bits = self.window_bits;
        let state = self
            .state
            .get_or_insert_with(|| Decompress::new_with_window_bits(false, bits));
        let mut input = input;
        loop {
            if out.len() == out.capacity() {
                // Room for one byte past the limit, so passing it shows.
                let room = (limit + 1).saturating_sub(out.len());
                if room == 0 {
                    return Err(ReadError::TooBig {
                        size: out.len(),
                        limit,
                    });
                }
                out.reserve_exact(room.min(out.len().max(INFLATE_STEP)));
            }
            let (in_before, out_before) = (state.total_in(), out.len());
            let status = state
                .decompress_vec(input, out, FlushDecompress::Sync)
                .map_err(|e| ReadError::Protocol(format!("bad compressed data: {e}")))?;
            let used = (state.total_in() - in_before) as usize;
            input = &input[used..];
            if out.len() > limit {
                return Err(ReadError::TooBig {
                    size: out.len(),
                    limit,
                });
            }
            if status == Status::StreamEnd {
                // A final DEFLATE block (BFINAL): what follows starts afresh.
                state.reset(false);
            }
            let progress = used > 0 || out.len() > out_before;
            if !progress || (input.is_empty() && out.len() < out.capacity()) {
                return Ok(());
            }
        }
    }

    /// Ends a message: inflates the removed tail.
    pub fn finish_message(&mut self, out: &mut Vec<u8>, limit: usize) -> Result<(), ReadError> {
        self.inflate(&TAIL, out, limit)?;
        if self.reset_each {
            if let Some(state) = self.state.as_mut() {
                state.reset(false);
            }
        }
        Ok(())
    }

    /// Gives back the zlib state when no context is kept between messages.
    pub fn trim(&mut self) {
        if self.reset_each {
            self.state = None;
        }
    }
}

/// Compresses the messages of one direction.
pub struct Deflater {
    state: Option<Compress>,
    window_bits: u8,
    /// We promised not to take context over between messages.
    reset_each: bool,
}

impl Deflater {
    /// `window_bits`: the largest window we may use (9-15); `reset_each`:
    /// start each message afresh.
    pub fn new(window_bits: u8, reset_each: bool) -> Deflater {
        Deflater {
            state: None,
            window_bits: window_bits.clamp(9, 15),
            reset_each,
        }
    }

    /// Appends `input` compressed as one message (tail removed) to `out`.
    pub fn compress(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
        let bits = self.window_bits;
        let state = self.state.get_or_insert_with(|| {
            Compress::new_with_window_bits(Compression::new(LEVEL), false, bits)
        });
        let start = out.len();
        out.reserve(input.len() / 2 + 64);
        let mut input = input;
        loop {
            let before = state.total_in();
            state
                .compress_vec(input, out, FlushCompress::Sync)
                .map_err(|e| format!("compression failed: {e}"))?;
            input = &input[(state.total_in() - before) as usize..];
            // Done when all input is taken and the sync flush fit.
            if input.is_empty() && out.len() < out.capacity() {
                break;
            }
            out.reserve(out.capacity().max(64));
        }
        if out.len() >= start + TAIL.len() && out.ends_with(&TAIL) {
            out.truncate(out.len() - TAIL.len());
        }
        if self.reset_each {
            state.reset();
        }
        Ok(())
    }

    /// Gives back the zlib state when no context is kept between messages.
    pub fn trim(&mut self) {
        if self.reset_each {
            self.state = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(takeover: bool, bits: u8) {
        let mut d = Deflater::new(bits, !takeover);
        let mut i = Inflater::new(bits, !takeover);
        for n in 0..20 {
            let msg: Vec<u8> = format!("{{\"tick\":{n},\"pos\":[1.5,2.5],\"name\":\"player\"}}")
                .repeat(30)
                .into_bytes();
            let mut packed = Vec::new();
            d.compress(&msg, &mut packed).unwrap();
            assert!(
                packed.len() < msg.len() / 3,
                "{} -> {}",
                msg.len(),
                packed.len()
            );
            let mut out = Vec::new();
            i.inflate(&packed, &mut out, 1 << 20).unwrap();
            i.finish_message(&mut out, 1 << 20).unwrap();
            assert_eq!(out, msg);
            if n % 5 == 4 {
                d.trim();
                i.trim();
            }
        }
    }

    #[test]
    fn messages_round_trip_with_and_without_context() {
        round_trip(true, 15);
        round_trip(false, 15);
        round_trip(false, 9);
    }

    #[test]
    fn a_bomb_stops_at_the_limit() {
        let mut d = Deflater::new(15, true);
        let zeros = vec![0u8; 8 << 20];
        let mut packed = Vec::new();
        d.compress(&zeros, &mut packed).unwrap();
        assert!(packed.len() < zeros.len() / 50, "{}", packed.len());
        let mut i = Inflater::new(15, true);
        let mut out = Vec::new();
        let limit = 256 << 10;
        let result = i
            .inflate(&packed, &mut out, limit)
            .and_then(|()| i.finish_message(&mut out, limit));
        assert!(
            matches!(result, Err(ReadError::TooBig { .. })),
            "{result:?}"
        );
        assert!(out.capacity() <= limit + 1, "{}", out.capacity());
    }

    #[test]
    fn exactly_the_limit_is_accepted() {
        let msg = vec![7u8; 5000];
        let mut packed = Vec::new();
        Deflater::new(15, true).compress(&msg, &mut packed).unwrap();
        let mut i = Inflater::new(15, true);
        let mut out = Vec::new();
        i.inflate(&packed, &mut out, 5000).unwrap();
        i.finish_message(&mut out, 5000).unwrap();
        assert_eq!(out, msg);
        let mut out = Vec::new();
        let over = i
            .inflate(&packed, &mut out, 4999)
            .and_then(|()| i.finish_message(&mut out, 4999));
        assert!(matches!(over, Err(ReadError::TooBig { .. })));
    }
}
