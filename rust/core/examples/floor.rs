//! The floor and ceiling for the benchmarks: raw loopback TCP and tungstenite
//! used directly from Rust, with the workloads of tests/bench/bench.gd.
//! Prints one JSON object per measurement.
//!
//! Usage: cargo run --release -p rustws-core --example floor [seconds]

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};
use tungstenite::protocol::{Role, WebSocketConfig, WebSocketContext};
use tungstenite::{Bytes, Message};

fn pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let a = TcpStream::connect(listener.local_addr().expect("local addr")).expect("connect");
    let (b, _) = listener.accept().expect("accept");
    for s in [&a, &b] {
        s.set_nodelay(true).expect("nodelay");
    }
    (a, b)
}

fn report(bench: &str, who: &str, value: f64, unit: &str) {
    println!("{{\"bench\": \"{bench}\", \"class\": \"{who}\", \"value\": {value:.1}, \"unit\": \"{unit}\"}}");
}

/// 32-byte echo with 256 outstanding; the echo side on its own thread.
fn raw_tcp_echo(seconds: f64) {
    let (mut client, mut server) = pair();
    let echo = std::thread::spawn(move || {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match server.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if server.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            }
        }
    });
    let msg = [7u8; 32];
    let mut window = Vec::with_capacity(256 * 32);
    for _ in 0..256 {
        window.extend_from_slice(&msg);
    }
    client.write_all(&window).expect("write");
    let start = Instant::now();
    let mut received = 0usize;
    let mut buf = vec![0u8; 64 * 1024];
    while start.elapsed().as_secs_f64() < seconds {
        let n = client.read(&mut buf).expect("read");
        let done = (received + n) / 32 - received / 32;
        received += n;
        if done > 0 {
            client.write_all(&window[..done * 32]).expect("write");
        }
    }
    report(
        "small_echo",
        "raw TCP (Rust threads)",
        (received / 32) as f64 / start.elapsed().as_secs_f64(),
        "msg/s",
    );
    drop(client);
    let _ = echo.join();
}

/// The socket work of frames.gd's broadcast, and nothing else: each round
/// writes a 40-byte message to each of 100 links (one system call each) and
/// reads it on the other end (one each): what no WebSocket class can avoid
/// per frame there, beside SceneMultiplayer's own cost.
fn raw_tcp_broadcast(seconds: f64) {
    let links: Vec<(TcpStream, TcpStream)> = (0..100).map(|_| pair()).collect();
    for (client, _) in &links {
        client.set_nonblocking(true).expect("nonblocking");
    }
    let msg = [7u8; 40];
    let mut buf = [0u8; 4096];
    let start = Instant::now();
    let mut rounds = 0u64;
    while start.elapsed().as_secs_f64() < seconds {
        for (_, server) in &links {
            let mut server: &TcpStream = server;
            server.write_all(&msg).expect("write");
        }
        for (client, _) in &links {
            let mut client: &TcpStream = client;
            let mut got = 0;
            while got < msg.len() {
                match client.read(&mut buf) {
                    Ok(0) => panic!("closed"),
                    Ok(n) => got += n,
                    Err(e) if e.kind() == ErrorKind::WouldBlock => std::hint::spin_loop(),
                    Err(e) => panic!("read: {e}"),
                }
            }
        }
        rounds += 1;
    }
    report(
        "frames_broadcast_100_floor",
        "raw TCP (Rust, one thread)",
        start.elapsed().as_secs_f64() * 1e6 / rounds as f64,
        "us/frame",
    );
}

fn raw_tcp_bulk(seconds: f64) {
    let (mut client, mut server) = pair();
    let reader = std::thread::spawn(move || {
        let mut buf = vec![0u8; 1 << 20];
        let mut total = 0usize;
        while let Ok(n) = server.read(&mut buf) {
            if n == 0 {
                break;
            }
            total += n;
        }
        total
    });
    let msg = vec![1u8; 1 << 20];
    let start = Instant::now();
    while start.elapsed().as_secs_f64() < seconds {
        client.write_all(&msg).expect("write");
    }
    drop(client);
    let total = reader.join().unwrap_or(0);
    report(
        "bulk",
        "raw TCP (Rust threads)",
        total as f64 / 1048576.0 / start.elapsed().as_secs_f64(),
        "MiB/s",
    );
}

struct Ws {
    ctx: WebSocketContext,
    sock: TcpStream,
}

fn ws_pair() -> (Ws, Ws) {
    let (a, b) = pair();
    a.set_nonblocking(true).expect("nonblocking");
    b.set_nonblocking(true).expect("nonblocking");
    let config = WebSocketConfig::default().max_message_size(Some(16 << 20));
    (
        Ws {
            ctx: WebSocketContext::new(Role::Client, Some(config)),
            sock: a,
        },
        Ws {
            ctx: WebSocketContext::new(Role::Server, Some(config)),
            sock: b,
        },
    )
}

fn drain(ws: &mut Ws, mut on: impl FnMut(Message)) {
    loop {
        match ws.ctx.read(&mut ws.sock) {
            Ok(m) => on(m),
            Err(tungstenite::Error::Io(e)) if e.kind() == ErrorKind::WouldBlock => break,
            Err(e) => panic!("tungstenite read: {e}"),
        }
    }
}

fn flush(ws: &mut Ws) {
    match ws.ctx.flush(&mut ws.sock) {
        Ok(()) => {}
        Err(tungstenite::Error::Io(e)) if e.kind() == ErrorKind::WouldBlock => {}
        Err(e) => panic!("tungstenite flush: {e}"),
    }
}

/// Both ends in one thread on non-blocking sockets.
fn tungstenite_echo(seconds: f64) {
    let (mut c, mut s) = ws_pair();
    let msg = Bytes::from(vec![7u8; 32]);
    let mut outstanding = 0;
    let mut received = 0usize;
    let start = Instant::now();
    while start.elapsed().as_secs_f64() < seconds {
        while outstanding < 256 {
            c.ctx
                .write(&mut c.sock, Message::Binary(msg.clone()))
                .expect("write");
            outstanding += 1;
        }
        flush(&mut c);
        let mut echoes = Vec::new();
        drain(&mut s, |m| echoes.push(m));
        for m in echoes {
            s.ctx.write(&mut s.sock, m).expect("write");
        }
        flush(&mut s);
        drain(&mut c, |_| {
            outstanding -= 1;
            received += 1;
        });
    }
    report(
        "small_echo",
        "tungstenite (Rust, one thread)",
        received as f64 / start.elapsed().as_secs_f64(),
        "msg/s",
    );
}

fn tungstenite_bulk(seconds: f64) {
    let (mut c, mut s) = ws_pair();
    let msg = Bytes::from(vec![1u8; 1 << 20]);
    let mut bytes = 0usize;
    let start = Instant::now();
    let mut in_flight = 0;
    while start.elapsed().as_secs_f64() < seconds {
        if in_flight < 2 {
            c.ctx
                .write(&mut c.sock, Message::Binary(msg.clone()))
                .expect("write");
            in_flight += 1;
        }
        flush(&mut c);
        drain(&mut s, |m| {
            bytes += m.len();
            in_flight -= 1;
        });
        std::thread::sleep(Duration::from_micros(0));
    }
    report(
        "bulk",
        "tungstenite (Rust, one thread)",
        bytes as f64 / 1048576.0 / start.elapsed().as_secs_f64(),
        "MiB/s",
    );
}

fn main() {
    let seconds: f64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(2.0);
    raw_tcp_echo(seconds);
    raw_tcp_bulk(seconds);
    raw_tcp_broadcast(seconds);
    tungstenite_echo(seconds);
    tungstenite_bulk(seconds);
}
