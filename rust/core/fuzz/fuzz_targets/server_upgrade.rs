//! Fuzzes the server side: arbitrary bytes as the client's upgrade request
//! and the frames after it.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    rustws_core::fuzz_support::server_upgrade(data);
});
