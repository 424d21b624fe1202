//! Helpers shared by the integration tests: driving a [`Peer`] until a
//! condition holds, and running the Python `websockets` and Node `ws` peers
//! (tests/peers).

#![allow(dead_code)]

pub mod counting;
pub mod hub_server;

use rustws_core::{Peer, PeerConfig, ReadyState, Stream, WsError};
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

/// How long any one wait may take before the test fails.
pub const WAIT: Duration = Duration::from_secs(20);

/// Polls `peer` until `done` holds; collects the errors `poll` reported.
pub fn poll_until(
    peer: &mut Peer,
    what: &str,
    mut done: impl FnMut(&mut Peer) -> bool,
) -> Vec<WsError> {
    let start = Instant::now();
    let mut errors = Vec::new();
    loop {
        if let Some(e) = peer.poll() {
            errors.push(e);
        }
        if done(peer) {
            return errors;
        }
        assert!(
            start.elapsed() < WAIT,
            "timed out waiting for {what}; state {:?}, errors {errors:?}",
            peer.ready_state()
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Polls until the peer is open, failing on any error.
pub fn wait_open(peer: &mut Peer) {
    let errors = poll_until(peer, "STATE_OPEN", |p| {
        p.ready_state() != ReadyState::Connecting
    });
    assert_eq!(peer.ready_state(), ReadyState::Open, "errors: {errors:?}");
}

/// Polls until the next packet arrives and returns it.
pub fn next_packet(peer: &mut Peer) -> rustws_core::Packet {
    let errors = poll_until(peer, "a packet", |p| {
        p.available_packets() > 0 || p.ready_state() == ReadyState::Closed
    });
    peer.pop_packet().unwrap_or_else(|| {
        panic!(
            "closed before a packet came: {errors:?}, code {}",
            peer.close_code()
        )
    })
}

/// Polls until closed; returns the errors seen on the way.
pub fn wait_closed(peer: &mut Peer) -> Vec<WsError> {
    poll_until(peer, "STATE_CLOSED", |p| {
        p.ready_state() == ReadyState::Closed
    })
}

/// Our server side: accepts one connection on `listener` with `config` and
/// polls it open. Fails (rather than waiting for ever) when no client comes,
/// e.g. because the external peer could not start.
pub fn accept_one(listener: &TcpListener, config: PeerConfig) -> Peer {
    let mut server = accept_connecting(listener, config);
    wait_open(&mut server);
    server
}

/// A client of ours (with `client_config`) connected to a server of ours
/// (with `server_config`) on `listener`, both polled until open.
pub fn open_pair_on(
    listener: &TcpListener,
    client_config: PeerConfig,
    server_config: PeerConfig,
) -> (Peer, Peer) {
    let port = listener.local_addr().expect("listener address").port();
    let mut client = Peer::new(client_config);
    client
        .connect_to_url(
            &format!("ws://127.0.0.1:{port}/"),
            rustws_core::TlsClientOptions::Default,
        )
        .expect("connect");
    let mut server = accept_connecting(listener, server_config);
    poll_until(&mut client, "both open", |c| {
        server.poll();
        c.ready_state() == ReadyState::Open && server.ready_state() == ReadyState::Open
    });
    (client, server)
}

/// [`open_pair_on`] a listener of its own.
pub fn open_pair(client_config: PeerConfig, server_config: PeerConfig) -> (Peer, Peer) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("listen");
    open_pair_on(&listener, client_config, server_config)
}

/// Our server side on the next connection to `listener`, accepted and not
/// polled yet (still `Connecting`).
pub fn accept_connecting(listener: &TcpListener, config: PeerConfig) -> Peer {
    listener
        .set_nonblocking(true)
        .expect("non-blocking listener");
    let start = std::time::Instant::now();
    let sock = loop {
        match listener.accept() {
            Ok((sock, _)) => break sock,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                assert!(
                    start.elapsed() < WAIT,
                    "no client connected in time (is python3 with websockets / node with ws installed? see README)"
                );
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
            Err(e) => panic!("accept: {e}"),
        }
    };
    sock.set_nonblocking(true).expect("non-blocking");
    let mut server = Peer::new(config);
    let stream: Box<dyn Stream> = Box::new(sock);
    server.accept_stream(stream, false).expect("accept_stream");
    server
}

/// Echoes every message back until the peer is closed; returns how many
/// were echoed and the errors `poll` reported.
pub fn echo_until_closed(server: &mut Peer) -> (usize, Vec<WsError>) {
    let mut echoed = 0;
    let errors = poll_until(server, "the close", |p| {
        while let Some(packet) = p.pop_packet() {
            p.send(&packet.data, packet.text).expect("echo");
            echoed += 1;
        }
        p.ready_state() == ReadyState::Closed
    });
    (echoed, errors)
}

/// The upgrade request a raw test client sends (the RFC's sample key).
pub const RAW_UPGRADE: &str = "GET /x HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

/// Our server peer (accepted, not open yet) on one end, a raw client
/// socket on the other (blocking, no delay, reads time out after 10 s).
pub fn server_and_raw_client(config: PeerConfig) -> (Peer, std::net::TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a listener");
    let raw = std::net::TcpStream::connect(listener.local_addr().expect("its address"))
        .expect("a raw client");
    raw.set_nodelay(true).expect("no delay");
    raw.set_read_timeout(Some(WAIT / 2))
        .expect("a read timeout");
    let (sock, _) = listener.accept().expect("accept");
    sock.set_nonblocking(true).expect("non-blocking");
    let mut peer = Peer::new(config);
    peer.accept_stream(Box::new(sock), false)
        .expect("accept_stream");
    (peer, raw)
}

/// [`server_and_raw_client`] with the upgrade done: the server open, the
/// raw client past the server's answer, which is returned.
pub fn open_server_and_raw_client(config: PeerConfig) -> (Peer, std::net::TcpStream, String) {
    use std::io::{Read, Write};
    let (mut peer, mut raw) = server_and_raw_client(config);
    raw.write_all(RAW_UPGRADE.as_bytes())
        .expect("the upgrade request");
    wait_open(&mut peer);
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        raw.read_exact(&mut byte).expect("the server's answer");
        head.push(byte[0]);
    }
    (peer, raw, String::from_utf8_lossy(&head).into_owned())
}

/// Limits raised to 1 MiB and one accepted sub-protocol, for the servers
/// the external clients talk to.
pub fn server_config(protocol: &str) -> PeerConfig {
    PeerConfig {
        supported_protocols: vec![protocol.into()],
        inbound_buffer_size: 1 << 20,
        outbound_buffer_size: 1 << 20,
        ..PeerConfig::default()
    }
}

/// Which independent implementation plays the other end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Impl {
    /// Python `websockets` (tests/peers/ws_peer.py).
    Python,
    /// Node `ws` (tests/peers/ws_peer.js).
    Node,
}

impl Impl {
    fn command(self) -> Command {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/peers");
        match self {
            Impl::Python => {
                let mut c = Command::new("python3");
                c.arg(dir.join("ws_peer.py"));
                c
            }
            Impl::Node => {
                let mut c = Command::new("node");
                c.arg(dir.join("ws_peer.js"));
                c
            }
        }
    }
}

/// A running external peer with its stdout lines.
pub struct ExtPeer {
    pub child: Child,
    pub lines: Receiver<String>,
}

impl ExtPeer {
    /// Starts the given implementation's peer script.
    pub fn spawn_with(kind: Impl, args: &[&str]) -> ExtPeer {
        let mut child = kind
            .command()
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 with websockets (pip install websockets) and node with ws (npm ci in tests/peers) are needed");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        ExtPeer { child, lines: rx }
    }

    /// The next line the peer printed.
    pub fn line(&self) -> String {
        self.lines
            .recv_timeout(WAIT)
            .expect("the external peer printed nothing in time")
    }

    /// Starts a server of the given implementation and returns it with its port.
    pub fn server_with(kind: Impl, args: &[&str]) -> (ExtPeer, u16) {
        let mut all = vec!["server"];
        all.extend_from_slice(args);
        let peer = ExtPeer::spawn_with(kind, &all);
        let line = peer.line();
        let port = line
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("bad first line {line:?}"));
        (peer, port)
    }
}

impl Drop for ExtPeer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A self-signed certificate and key for `names`, as PEM; `expired` makes
/// one that ran out in 2001.
pub fn certificate(names: &[&str], expired: bool) -> (String, String) {
    let mut params =
        rcgen::CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
            .expect("params");
    if expired {
        params.not_before = rcgen::date_time_ymd(2000, 1, 1);
        params.not_after = rcgen::date_time_ymd(2001, 1, 1);
    }
    let key = rcgen::KeyPair::generate().expect("key");
    let cert = params.self_signed(&key).expect("cert");
    (cert.pem(), key.serialize_pem())
}

/// A `wss://` server of `imp` with this certificate and key, its port, and
/// the folder holding the files it reads (removed when dropped).
pub fn tls_server(imp: Impl, cert: &str, key: &str) -> (ExtPeer, u16, tempdir::Dir) {
    let (dir, paths) = write_temp(&[("cert.pem", cert), ("key.pem", key)]);
    let (server, port) = ExtPeer::server_with(
        imp,
        &[
            "--cert",
            paths[0].to_str().expect("a UTF-8 temp path"),
            "--key",
            paths[1].to_str().expect("a UTF-8 temp path"),
        ],
    );
    (server, port, dir)
}

/// A client connecting to `url` (connecting, not open yet).
pub fn client(config: PeerConfig, url: &str, tls: rustws_core::TlsClientOptions) -> Peer {
    let mut peer = Peer::new(config);
    peer.connect_to_url(url, tls).expect("connect_to_url");
    assert_eq!(peer.ready_state(), ReadyState::Connecting);
    peer
}

/// Writes the files into a fresh temp folder and returns their paths.
pub fn write_temp(files: &[(&str, &str)]) -> (tempdir::Dir, Vec<PathBuf>) {
    let dir = tempdir::Dir::new();
    let paths = files
        .iter()
        .map(|(name, content)| {
            let p = dir.0.join(name);
            std::fs::write(&p, content).expect("write temp file");
            p
        })
        .collect();
    (dir, paths)
}

pub mod tempdir {
    use std::path::PathBuf;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A folder removed on drop.
    pub struct Dir(pub PathBuf);

    impl Dir {
        pub fn new() -> Dir {
            static N: AtomicUsize = AtomicUsize::new(0);
            let p = std::env::temp_dir().join(format!(
                "rustws-test-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::SeqCst)
            ));
            std::fs::create_dir_all(&p).expect("temp dir");
            Dir(p)
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}
