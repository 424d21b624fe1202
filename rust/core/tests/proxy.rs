//! Our client through a real HTTP proxy, Debian's `tinyproxy`, started by
//! each test on a port of its own (allowing `CONNECT` only to the test's
//! server port), to Python `websockets` servers: `ws://` and `wss://`
//! through the tunnel, credentials, refusals (407, 403, an unreachable
//! server), a proxy that is down, and one that goes away mid-connection.
//! One more proxy, written here, records what it relays, to show that a
//! `wss://` tunnel carries no plaintext.
//!
//! Without `tinyproxy` (`apt install tinyproxy`), those tests say so and
//! pass, except under CI, where they fail.

mod common;

use common::*;
use rustws_core::{Failure, Peer, PeerConfig, ReadyState, TlsClientOptions, WsError};
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A tinyproxy process, killed on drop.
struct Tinyproxy {
    child: Child,
    port: u16,
    _dir: tempdir::Dir,
}

impl Tinyproxy {
    /// Starts tinyproxy allowing `CONNECT` to `allowed` ports, with
    /// `user:password` when given; `None` when tinyproxy is not installed
    /// (outside CI).
    fn start(allowed: &[u16], credentials: Option<(&str, &str)>) -> Option<Tinyproxy> {
        let found = Command::new("tinyproxy")
            .arg("-v")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok();
        if !found {
            assert!(
                std::env::var_os("CI").is_none(),
                "tinyproxy is needed for the proxy tests (apt install tinyproxy)"
            );
            eprintln!("SKIPPED: tinyproxy is not installed (apt install tinyproxy)");
            return None;
        }
        let port = free_port();
        let mut conf = format!(
            "Port {port}\nListen 127.0.0.1\nTimeout 30\nAllow 127.0.0.1\nMaxClients 20\nLogLevel Warning\n"
        );
        for p in allowed {
            conf.push_str(&format!("ConnectPort {p}\n"));
        }
        if let Some((user, password)) = credentials {
            conf.push_str(&format!("BasicAuth {user} {password}\n"));
        }
        let (dir, paths) = write_temp(&[("tinyproxy.conf", &conf)]);
        let child = Command::new("tinyproxy")
            .arg("-d")
            .arg("-c")
            .arg(&paths[0])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start tinyproxy");
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(start.elapsed() < WAIT, "tinyproxy did not listen in time");
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(Tinyproxy {
            child,
            port,
            _dir: dir,
        })
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Tinyproxy {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A port nothing listens on (just now).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A port on 127.0.0.1 bound but not listening: a connect to it is
/// refused, and nothing else takes it while the socket lives (a port merely
/// found free could be taken by a test running beside this one).
fn refusing_port() -> (socket2::Socket, u16) {
    use socket2::{Domain, Socket, Type};
    let sock = Socket::new(Domain::IPV4, Type::STREAM, None).expect("a socket");
    let any: std::net::SocketAddr = "127.0.0.1:0".parse().expect("an address");
    sock.bind(&any.into()).expect("bind");
    let port = sock
        .local_addr()
        .ok()
        .and_then(|a| a.as_socket())
        .map(|a| a.port())
        .expect("its port");
    (sock, port)
}

fn via(proxy_port: u16, https: bool, host: &str) -> PeerConfig {
    let mut config = PeerConfig::default();
    let set = if https {
        PeerConfig::set_https_proxy
    } else {
        PeerConfig::set_http_proxy
    };
    set(&mut config, host, i64::from(proxy_port)).expect("proxy setting");
    config
}

/// Connects and polls until the attempt ends; the one error it ended with.
fn refused(config: PeerConfig, url: &str) -> WsError {
    let mut peer = client(config, url, TlsClientOptions::Default);
    let errors = wait_closed(&mut peer);
    match <[WsError; 1]>::try_from(errors) {
        Ok([e]) => e,
        Err(errors) => panic!("expected one error, got {errors:?}"),
    }
}

fn echo_once(peer: &mut Peer, text: &str) {
    peer.send(text.as_bytes(), true).expect("send");
    assert_eq!(next_packet(peer).data.as_ref(), text.as_bytes());
}

#[test]
fn ws_goes_through_the_http_proxy() {
    let (_server, port) = ExtPeer::server_with(Impl::Python, &[]);
    let Some(proxy) = Tinyproxy::start(&[port], None) else {
        return;
    };
    let mut peer = client(
        via(proxy.port, false, "127.0.0.1"),
        &format!("ws://127.0.0.1:{port}/through"),
        TlsClientOptions::Default,
    );
    wait_open(&mut peer);
    // The socket is the proxy's: nothing went to the server directly.
    assert_eq!(peer.peer_addr().map(|a| a.port()), Some(proxy.port));
    echo_once(&mut peer, "through the proxy ✓");
    peer.close(1000, "done");
    assert!(wait_closed(&mut peer).is_empty());
    assert_eq!(peer.close_code(), 1000);

    // The https proxy setting is not used for ws://.
    let mut direct = client(
        via(proxy.port, true, "127.0.0.1"),
        &format!("ws://127.0.0.1:{port}/"),
        TlsClientOptions::Default,
    );
    wait_open(&mut direct);
    assert_eq!(direct.peer_addr().map(|a| a.port()), Some(port));
}

#[test]
fn wss_goes_through_the_https_proxy_with_tls_to_the_server() {
    let (cert, key) = certificate(&["game.example"], false);
    let (_server, port, _files) = tls_server(Impl::Python, &cert, &key);
    let Some(proxy) = Tinyproxy::start(&[port], None) else {
        return;
    };
    let trusted = TlsClientOptions::Trusted {
        ca_pem: Some(cert.into_bytes()),
        common_name_override: "game.example".into(),
    };
    let mut peer = client(
        via(proxy.port, true, "http://127.0.0.1"),
        &format!("wss://127.0.0.1:{port}/secure"),
        trusted,
    );
    wait_open(&mut peer);
    assert_eq!(peer.tls_version().as_deref(), Some("TLSv1_3"));
    assert_eq!(peer.peer_addr().map(|a| a.port()), Some(proxy.port));
    echo_once(&mut peer, "secure through the proxy");
}

#[test]
fn credentials_are_sent_and_a_refusal_says_what_is_missing() {
    let (_server, port) = ExtPeer::server_with(Impl::Python, &[]);
    let Some(proxy) = Tinyproxy::start(&[port], Some(("player", "s3cret"))) else {
        return;
    };
    let url = format!("ws://127.0.0.1:{port}/");
    // The status for this is 407; tinyproxy 1.11 answers CONNECT with 401.
    let none = refused(via(proxy.port, false, "127.0.0.1"), &url);
    assert_eq!(none.failure(), Failure::Proxy);
    assert!(matches!(none.http_status(), Some(401 | 407)), "{none}");
    assert!(none.to_string().contains("user:password@host"), "{none}");
    let wrong = refused(via(proxy.port, false, "player:nope@127.0.0.1"), &url);
    assert!(matches!(wrong.http_status(), Some(401 | 407)), "{wrong}");
    assert!(
        wrong.to_string().contains("refused the credentials"),
        "{wrong}"
    );

    let mut peer = client(
        via(proxy.port, false, "player:s3cret@127.0.0.1"),
        &url,
        TlsClientOptions::Default,
    );
    wait_open(&mut peer);
    echo_once(&mut peer, "signed in");
}

#[test]
fn refusals_and_an_absent_proxy_end_the_attempt_with_a_reason() {
    let (_server, port) = ExtPeer::server_with(Impl::Python, &[]);
    let (_closed, closed_port) = refusing_port();
    // CONNECT allowed to the closed port only.
    let Some(proxy) = Tinyproxy::start(&[closed_port], None) else {
        return;
    };
    let config = || via(proxy.port, false, "127.0.0.1");
    let forbidden = refused(config(), &format!("ws://127.0.0.1:{port}/"));
    assert_eq!(forbidden.failure(), Failure::Proxy);
    assert_eq!(forbidden.http_status(), Some(403));
    assert!(
        forbidden.to_string().contains("does not allow"),
        "{forbidden}"
    );

    let unreachable = refused(config(), &format!("ws://127.0.0.1:{closed_port}/"));
    assert_eq!(unreachable.failure(), Failure::Proxy);
    let status = unreachable.http_status().unwrap_or(0);
    assert!((500..600).contains(&status), "{unreachable}");

    let (_down, down) = refusing_port();
    let absent = refused(
        via(down, false, "127.0.0.1"),
        &format!("ws://127.0.0.1:{port}/"),
    );
    assert_eq!(absent.failure(), Failure::Proxy);
    assert_eq!(absent.http_status(), None);
    assert!(
        absent.to_string().contains(&format!("127.0.0.1:{down}")),
        "{absent}"
    );
}

#[test]
fn the_proxy_going_away_drops_an_open_link() {
    let (_server, port) = ExtPeer::server_with(Impl::Python, &[]);
    let Some(mut proxy) = Tinyproxy::start(&[port], None) else {
        return;
    };
    let mut peer = client(
        via(proxy.port, false, "127.0.0.1"),
        &format!("ws://127.0.0.1:{port}/"),
        TlsClientOptions::Default,
    );
    wait_open(&mut peer);
    echo_once(&mut peer, "before");
    proxy.stop();
    let errors = wait_closed(&mut peer);
    assert_eq!(peer.close_code(), -1, "{errors:?}");
    assert!(
        errors.iter().any(|e| e.failure() == Failure::Dropped),
        "{errors:?}"
    );
}

/// A proxy that accepts `CONNECT` and then hangs up, before answering.
#[test]
fn a_proxy_that_hangs_up_before_answering_is_named() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let proxy_port = listener.local_addr().unwrap().port();
    let hang_up = std::thread::spawn(move || {
        let (mut sock, _) = listener.accept().expect("accept");
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") && sock.read(&mut byte).unwrap_or(0) == 1 {
            head.push(byte[0]);
        }
        let _ = sock.shutdown(Shutdown::Both);
        String::from_utf8_lossy(&head).into_owned()
    });
    let e = refused(
        via(proxy_port, false, "127.0.0.1"),
        "ws://game.example:8080/",
    );
    let head = hang_up.join().unwrap();
    assert!(
        head.starts_with("CONNECT game.example:8080 HTTP/1.1\r\n"),
        "{head}"
    );
    assert_eq!(e.failure(), Failure::Proxy);
    assert!(e.to_string().contains("without answering CONNECT"), "{e}");
}

/// A minimal `CONNECT` proxy that keeps a copy of every byte it relays.
fn recording_proxy() -> (u16, Arc<Mutex<Vec<u8>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);
    std::thread::spawn(move || {
        let Ok((mut client, _)) = listener.accept() else {
            return;
        };
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") && client.read(&mut byte).unwrap_or(0) == 1 {
            head.push(byte[0]);
        }
        let text = String::from_utf8_lossy(&head).into_owned();
        let target = text.split_whitespace().nth(1).unwrap_or("").to_string();
        let Ok(server) = TcpStream::connect(target) else {
            return;
        };
        let _ = client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n");
        let relay = |mut from: TcpStream, mut to: TcpStream, record: Arc<Mutex<Vec<u8>>>| {
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n @ 1..) = from.read(&mut buf) {
                    record.lock().unwrap().extend_from_slice(&buf[..n]);
                    if to.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
                let _ = to.shutdown(Shutdown::Write);
            })
        };
        relay(
            client.try_clone().unwrap(),
            server.try_clone().unwrap(),
            Arc::clone(&record),
        );
        relay(server, client, record);
    });
    (port, seen)
}

#[test]
fn a_wss_tunnel_carries_no_plaintext() {
    let (cert, key) = certificate(&["game.example"], false);
    let (_server, port, _files) = tls_server(Impl::Python, &cert, &key);
    let (proxy_port, seen) = recording_proxy();
    let trusted = TlsClientOptions::Trusted {
        ca_pem: Some(cert.into_bytes()),
        common_name_override: "game.example".into(),
    };
    let mut peer = client(
        via(proxy_port, true, "127.0.0.1"),
        &format!("wss://127.0.0.1:{port}/hidden-path"),
        trusted,
    );
    wait_open(&mut peer);
    let secret = "a secret only the server may read";
    echo_once(&mut peer, secret);
    peer.close(1000, "");
    wait_closed(&mut peer);
    assert_eq!(peer.ready_state(), ReadyState::Closed);
    let relayed = seen.lock().unwrap().clone();
    assert!(relayed.len() > secret.len(), "the proxy relayed nothing");
    let text = String::from_utf8_lossy(&relayed);
    for plain in [secret, "hidden-path", "Sec-WebSocket-Key", "Upgrade"] {
        assert!(!text.contains(plain), "the proxy saw {plain:?}");
    }
}
