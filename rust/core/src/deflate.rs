//! The data side of permessage-deflate (RFC 7692 section 7.2): raw DEFLATE
//! (zlib-rs through flate2) with the message tail `00 00 ff ff` taken off
//! when compressing and put back when inflating.
//!
//! Inflating is bounded: output grows in steps and stops as soon as it would
//! pass the message limit, so a small compressed message that inflates to
//! gigabytes is refused after at most the limit (no decompression bomb).
//! Both sides allocate their zlib state only when first used. A side that
//! keeps no context between messages holds no state between them at all:
//! it borrows one spare state of its thread for each message and gives it
//! back at the message's end, so 10,000 such links cost one zlib state per
//! thread instead of one each.

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};
use std::cell::RefCell;

thread_local! {
    /// The spare compressor of this thread, with its window bits.
    static SPARE_DEFLATE: RefCell<Option<(u8, Compress)>> = const { RefCell::new(None) };
    /// The spare decompressor of this thread, with its window bits.
    static SPARE_INFLATE: RefCell<Option<(u8, Decompress)>> = const { RefCell::new(None) };
}

/// Takes this thread's spare state if it has `bits` window bits.
fn take_spare<T>(
    slot: &'static std::thread::LocalKey<RefCell<Option<(u8, T)>>>,
    bits: u8,
) -> Option<T> {
    slot.try_with(|s| {
        let mut s = s.try_borrow_mut().ok()?;
        match s.take() {
            Some((b, state)) if b == bits => Some(state),
            other => {
                *s = other;
                None
            }
        }
    })
    .ok()
    .flatten()
}

/// Keeps a reset `state` as this thread's spare (replacing an older one).
fn give_spare<T>(
    slot: &'static std::thread::LocalKey<RefCell<Option<(u8, T)>>>,
    bits: u8,
    state: T,
) {
    let _ = slot.try_with(|s| {
        if let Ok(mut s) = s.try_borrow_mut() {
            *s = Some((bits, state));
        }
    });
}

/// The bytes every compressed message ends with before they are removed.
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// Output grows by at most this much per step while inflating.
const INFLATE_STEP: usize = 64 * 1024;

/// Compression level: fast, as games send often (level 1 compressed JSON
/// game state ~4x here at several hundred MB/s).
pub const LEVEL: u32 = 1;

/// Why a message could not be inflated.
#[derive(Debug)]
pub enum InflateError {
    /// It inflates past the message limit (to at least `size` bytes).
    TooBig { size: usize },
    /// Not valid DEFLATE data.
    Corrupt(String),
}

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
    ) -> Result<(), InflateError> {
        let bits = self.window_bits;
        let state = self.state.get_or_insert_with(|| {
            take_spare(&SPARE_INFLATE, bits)
                .unwrap_or_else(|| Decompress::new_with_window_bits(false, bits))
        });
        let mut input = input;
        loop {
            if out.len() == out.capacity() {
                // Room for one byte past the limit, so passing it shows.
                let room = (limit + 1).saturating_sub(out.len());
                if room == 0 {
                    return Err(InflateError::TooBig { size: out.len() });
                }
                out.reserve_exact(room.min(out.len().max(INFLATE_STEP)));
            }
            let (in_before, out_before) = (state.total_in(), out.len());
            let status = state
                .decompress_vec(input, out, FlushDecompress::Sync)
                .map_err(|e| InflateError::Corrupt(e.to_string()))?;
            let used = (state.total_in() - in_before) as usize;
            input = &input[used..];
            if out.len() > limit {
                return Err(InflateError::TooBig { size: out.len() });
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
    pub fn finish_message(&mut self, out: &mut Vec<u8>, limit: usize) -> Result<(), InflateError> {
        self.inflate(&TAIL, out, limit)?;
        if self.reset_each {
            if let Some(mut state) = self.state.take() {
                state.reset(false);
                give_spare(&SPARE_INFLATE, self.window_bits, state);
            }
        }
        Ok(())
    }

    /// Whether this side holds a zlib state now.
    #[cfg(test)]
    pub fn holds_state(&self) -> bool {
        self.state.is_some()
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
            take_spare(&SPARE_DEFLATE, bits).unwrap_or_else(|| {
                Compress::new_with_window_bits(Compression::new(LEVEL), false, bits)
            })
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
            if let Some(mut state) = self.state.take() {
                state.reset();
                give_spare(&SPARE_DEFLATE, bits, state);
            }
        }
        Ok(())
    }

    /// Whether this side holds a zlib state now.
    #[cfg(test)]
    pub fn holds_state(&self) -> bool {
        self.state.is_some()
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
            // Without context takeover nothing is held between messages.
            assert_eq!(d.holds_state(), takeover);
            assert_eq!(i.holds_state(), takeover);
        }
    }

    #[test]
    fn links_without_context_share_one_state_per_thread() {
        let msg = b"{\"tick\":1,\"pos\":[1.5,2.5]}".repeat(40);
        let mut packed = Vec::new();
        Deflater::new(15, true).compress(&msg, &mut packed).unwrap();
        // Many links, each sending and receiving one message: their states
        // come from (and go back to) the thread's spare.
        let mut spare = std::ptr::null::<Compress>();
        for n in 0..100 {
            let mut d = Deflater::new(15, true);
            let mut again = Vec::new();
            d.compress(&msg, &mut again).unwrap();
            assert_eq!(again, packed, "link {n} compresses as a fresh context");
            let now = SPARE_DEFLATE.with(|s| {
                s.borrow()
                    .as_ref()
                    .map(|(_, c)| c as *const Compress)
                    .unwrap()
            });
            if n > 0 {
                assert_eq!(now, spare, "link {n} reused the spare");
            }
            spare = now;
            let mut i = Inflater::new(15, true);
            let mut out = Vec::new();
            i.inflate(&packed, &mut out, 1 << 20).unwrap();
            i.finish_message(&mut out, 1 << 20).unwrap();
            assert_eq!(out, msg);
            assert!(!i.holds_state() && !d.holds_state());
        }
        // A different window size does not take a state of the wrong size.
        let mut small = Vec::new();
        Deflater::new(9, true).compress(&msg, &mut small).unwrap();
        let mut out = Vec::new();
        let mut i = Inflater::new(9, true);
        i.inflate(&small, &mut out, 1 << 20).unwrap();
        i.finish_message(&mut out, 1 << 20).unwrap();
        assert_eq!(out, msg);
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
            matches!(result, Err(InflateError::TooBig { .. })),
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
        assert!(matches!(over, Err(InflateError::TooBig { .. })));
    }
}
