//! Fuzzes the PROXY protocol parser (versions 1 and 2), fed incrementally.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    rustws_core::fuzz_support::proxy_header(data);
});
