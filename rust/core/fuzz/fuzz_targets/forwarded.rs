//! Fuzzes the X-Forwarded-For / Forwarded parsing and its trust rule.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    rustws_core::fuzz_support::forwarded(data);
});
