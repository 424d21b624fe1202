//! Fuzzes the check of an HTTP proxy's answer to CONNECT.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    rustws_core::fuzz_support::proxy_answer(data);
});
