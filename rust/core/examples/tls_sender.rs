//! The sending half of the benchmark's engine-TLS ceiling: connects to a
//! `StreamPeerTLS` server that tests/bench/bench.gd runs, with the same rustls
//! client (cipher order included) as `RustWebSocketPeer`'s `wss://` client,
//! and writes 1 MiB blocks of application data until the server closes or the
//! time is up. Running in its own process, it leaves the Godot process's core
//! to the engine's TLS alone, so the reader measures the most decrypted bytes a
//! `StreamPeerTLS` can hand to anyone.
//!
//! Usage: tls_sender PORT SECONDS (the certificate is not verified: loopback).

use rustws_core::TlsClientOptions;
use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

fn main() {
    let mut args = std::env::args().skip(1);
    let port: u16 = args.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    let seconds: f64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(3.0);
    if port == 0 {
        eprintln!("usage: tls_sender PORT SECONDS");
        std::process::exit(2);
    }
    let (config, name) = match TlsClientOptions::Unsafe.client_config("localhost") {
        Ok(c) => c,
        Err(e) => {
            eprintln!("tls_sender: {e}");
            std::process::exit(1);
        }
    };
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    // The server may still be starting to listen.
    let sock = loop {
        match TcpStream::connect(("127.0.0.1", port)) {
            Ok(s) => break s,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => {
                eprintln!("tls_sender: cannot connect to 127.0.0.1:{port}: {e}");
                std::process::exit(1);
            }
        }
    };
    // A blocking rustls stream: it finishes the handshake before the first
    // write (the core's non-blocking TlsStream leaves that to its reads).
    let conn = match rustls::ClientConnection::new(config, name) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("tls_sender: {e}");
            std::process::exit(1);
        }
    };
    let mut tls = rustls::StreamOwned::new(conn, sock);
    let block = vec![0x5au8; 1 << 20];
    while Instant::now() < deadline {
        if tls.write_all(&block).is_err() {
            break;
        }
    }
    let _ = tls.flush();
}
