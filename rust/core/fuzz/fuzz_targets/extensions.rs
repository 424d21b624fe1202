//! Fuzzes permessage-deflate negotiation, as offers to our server and as a
//! server's answer to our client.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    rustws_core::fuzz_support::extensions(data);
});
