//! Fuzzes the client side's upgrade: the server's answer (status, headers,
//! sub-protocol, permessage-deflate agreement) and the frames after it.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    rustws_core::fuzz_support::client_upgrade(data);
});
