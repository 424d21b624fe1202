//! A hub server for the admission tests: polled with links that take its
//! settings, raw HTTP exchanges with it, clients joining it, and a
//! stand-in load balancer that writes a PROXY header first.

use rustws_core::{Event, Hub, Peer, PeerConfig, Status, Stream, TlsClientOptions};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub type TestHub = Hub<Peer>;

/// A server hub with `config` (its links take it too).
pub struct Server {
    pub hub: TestHub,
    pub config: PeerConfig,
}

impl Server {
    pub fn new(
        config: PeerConfig,
        tls: Option<std::sync::Arc<rustws_core::ServerConfig>>,
    ) -> Server {
        let mut hub = TestHub::default();
        hub.configure(&config);
        hub.create_server(0, "127.0.0.1", tls).unwrap();
        Server { hub, config }
    }

    pub fn port(&self) -> u16 {
        self.hub.local_port().unwrap()
    }

    pub fn poll(&mut self) {
        let config = self.config.clone();
        self.hub.configure(&config);
        self.hub.poll(&mut |stream: Box<dyn Stream>, tls: bool| {
            let mut p = Peer::new(config.clone());
            p.accept_stream(stream, tls).ok()?;
            Some(p)
        });
    }

    pub fn events(&mut self) -> Vec<Event> {
        std::iter::from_fn(|| self.hub.next_event()).collect()
    }
}

pub fn client(url: &str, config: PeerConfig, tls: TlsClientOptions) -> TestHub {
    let mut link = Peer::new(config);
    link.connect_to_url(url, tls).expect("connect_to_url");
    let mut hub = TestHub::default();
    hub.create_client(link).expect("create_client");
    hub
}

pub fn no_link(_: Box<dyn Stream>, _: bool) -> Option<Peer> {
    None
}

/// Polls the server and clients until `done` holds (fails after 10 s).
pub fn pump(
    server: &mut Server,
    clients: &mut [&mut TestHub],
    mut done: impl FnMut(&Server, &[&mut TestHub]) -> bool,
) {
    let start = Instant::now();
    while !done(server, clients) {
        assert!(start.elapsed() < Duration::from_secs(10), "timed out");
        server.poll();
        for c in clients.iter_mut() {
            c.poll(&mut no_link);
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Sends `request` on a new connection (after `preface`) and returns all
/// the server wrote until it closed, polling the server meanwhile.
pub fn raw_exchange(server: &mut Server, preface: &[u8], request: &str) -> String {
    let thread = raw_client(server.port(), preface.to_vec(), request.to_string());
    finish(server, thread)
}

pub fn raw_client(port: u16, preface: Vec<u8>, request: String) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(8))).unwrap();
        s.write_all(&preface).unwrap();
        s.write_all(request.as_bytes()).unwrap();
        let mut answer = Vec::new();
        let _ = s.read_to_end(&mut answer);
        String::from_utf8_lossy(&answer).into_owned()
    })
}

pub fn finish(server: &mut Server, thread: JoinHandle<String>) -> String {
    let start = Instant::now();
    while !thread.is_finished() {
        assert!(start.elapsed() < Duration::from_secs(10), "timed out");
        server.poll();
        std::thread::sleep(Duration::from_millis(1));
    }
    thread.join().unwrap()
}

pub fn status_of(answer: &str) -> &str {
    answer.get(9..12).unwrap_or("")
}

pub const UPGRADE: &str =
    "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

/// A stand-in for a load balancer in TCP mode: each connection to the
/// returned port is forwarded to `target` after `header`.
pub fn balancer(target: u16, header: Vec<u8>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(mut client) = client else { return };
            let Ok(mut upstream) = TcpStream::connect(("127.0.0.1", target)) else {
                return;
            };
            if upstream.write_all(&header).is_err() {
                continue;
            }
            let (mut c2, mut u2) = (client.try_clone().unwrap(), upstream.try_clone().unwrap());
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut c2, &mut u2);
                let _ = u2.shutdown(std::net::Shutdown::Write);
            });
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut upstream, &mut client);
                let _ = client.shutdown(std::net::Shutdown::Write);
            });
        }
    });
    port
}

pub fn v2_header(source: SocketAddr) -> Vec<u8> {
    let mut h = rustws_core::V2_SIGNATURE.to_vec();
    let (SocketAddr::V4(src), family) = (source, 0x11) else {
        unreachable!()
    };
    h.extend_from_slice(&[0x21, family, 0, 12]);
    h.extend_from_slice(&src.ip().octets());
    h.extend_from_slice(&[127, 0, 0, 1]);
    h.extend_from_slice(&src.port().to_be_bytes());
    h.extend_from_slice(&443u16.to_be_bytes());
    h
}

pub fn sending(header: &str) -> PeerConfig {
    PeerConfig {
        handshake_headers: vec![header.into()],
        ..PeerConfig::default()
    }
}

pub fn proxied() -> PeerConfig {
    PeerConfig {
        proxy_protocol: true,
        ..PeerConfig::default()
    }
}

/// Connects a client through `port` and returns the id the server gave it.
pub fn join(
    server: &mut Server,
    url: &str,
    config: PeerConfig,
    tls: TlsClientOptions,
) -> (TestHub, i32) {
    let mut c = client(url, config, tls);
    pump(server, &mut [&mut c], |s, c| {
        c[0].status() == Status::Connected && s.hub.link(c[0].unique_id()).is_some()
    });
    let id = c.unique_id();
    (c, id)
}
