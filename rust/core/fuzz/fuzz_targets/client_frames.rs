//! Fuzzes the client side after a valid upgrade: arbitrary bytes as the
//! server's frames (fragmentation, control frames, UTF-8, sizes, closes).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    rustws_core::fuzz_support::client_frames(data);
});
