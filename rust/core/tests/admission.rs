//! A hub server behind a load balancer: plain HTTP on the game port (the
//! health check, 404, a request the game answers or lets time out), the
//! PROXY protocol (v1 and v2, before `ws://` and `wss://`, required and
//! missing, from an unlisted address), trusted forwarding headers, and
//! draining (503, 1012 after the grace, `Drained`).

mod common;

use rustws_core::{Event, Hub, Peer, PeerConfig, Status, Stream, TlsClientOptions, SERVER_ID};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

type TestHub = Hub<Peer>;

/// A server hub with `config` (its links take it too).
struct Server {
    hub: TestHub,
    config: PeerConfig,
}

impl Server {
    fn new(config: PeerConfig, tls: Option<std::sync::Arc<rustws_core::ServerConfig>>) -> Server {
        let mut hub = TestHub::default();
        hub.configure(&config);
        hub.create_server(0, "127.0.0.1", tls).unwrap();
        Server { hub, config }
    }

    fn port(&self) -> u16 {
        self.hub.local_port().unwrap()
    }

    fn poll(&mut self) {
        let config = self.config.clone();
        self.hub.configure(&config);
        self.hub.poll(&mut |stream: Box<dyn Stream>, tls: bool| {
            let mut p = Peer::new(config.clone());
            p.accept_stream(stream, tls).ok()?;
            Some(p)
        });
    }

    fn events(&mut self) -> Vec<Event> {
        std::iter::from_fn(|| self.hub.next_event()).collect()
    }
}

fn client(url: &str, config: PeerConfig, tls: TlsClientOptions) -> TestHub {
    let mut link = Peer::new(config);
    link.connect_to_url(url, tls).expect("connect_to_url");
    let mut hub = TestHub::default();
    hub.create_client(link).expect("create_client");
    hub
}

fn no_link(_: Box<dyn Stream>, _: bool) -> Option<Peer> {
    None
}

/// Polls the server and clients until `done` holds (fails after 10 s).
fn pump(
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
fn raw_exchange(server: &mut Server, preface: &[u8], request: &str) -> String {
    let thread = raw_client(server.port(), preface.to_vec(), request.to_string());
    finish(server, thread)
}

fn raw_client(port: u16, preface: Vec<u8>, request: String) -> JoinHandle<String> {
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

fn finish(server: &mut Server, thread: JoinHandle<String>) -> String {
    let start = Instant::now();
    while !thread.is_finished() {
        assert!(start.elapsed() < Duration::from_secs(10), "timed out");
        server.poll();
        std::thread::sleep(Duration::from_millis(1));
    }
    thread.join().unwrap()
}

fn status_of(answer: &str) -> &str {
    answer.get(9..12).unwrap_or("")
}

const UPGRADE: &str = "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

#[test]
fn health_answers_200_then_503_while_draining_and_other_paths_404() {
    let mut server = Server::new(PeerConfig::default(), None);
    let ok = raw_exchange(&mut server, b"", "GET /health HTTP/1.1\r\nHost: lb\r\n\r\n");
    assert!(ok.starts_with("HTTP/1.1 200 OK\r\n"), "{ok}");
    assert!(ok.contains("Content-Length: 3\r\n") && ok.contains("Connection: close\r\n"));
    assert!(ok.ends_with("\r\n\r\nok\n"));
    let head = raw_exchange(&mut server, b"", "HEAD /health?probe=1 HTTP/1.0\r\n\r\n");
    assert!(
        head.starts_with("HTTP/1.1 200") && head.ends_with("\r\n\r\n"),
        "{head}"
    );
    let missing = raw_exchange(&mut server, b"", "GET /status HTTP/1.1\r\n\r\n");
    assert_eq!(status_of(&missing), "404", "{missing}");
    let post = raw_exchange(
        &mut server,
        b"",
        "POST /health HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
    );
    assert_eq!(status_of(&post), "404", "{post}");
    // None of them became a peer.
    assert_eq!(server.events(), vec![]);
    assert_eq!((server.hub.links_len(), server.hub.pending_len()), (0, 0));

    server.hub.drain(60.0).unwrap();
    assert!(server.hub.is_draining());
    assert_eq!(
        server.events(),
        vec![Event::Drained],
        "no link: drained at once"
    );
    let draining = raw_exchange(&mut server, b"", "GET /health HTTP/1.1\r\n\r\n");
    assert_eq!(status_of(&draining), "503", "{draining}");
    let upgrade = raw_exchange(&mut server, b"", UPGRADE);
    assert_eq!(
        status_of(&upgrade),
        "503",
        "an upgrade is refused while draining: {upgrade}"
    );
    assert_eq!(server.events(), vec![]);

    // Off: a plain GET of the old path is 404.
    let mut config = PeerConfig::default();
    config.set_health_path("").unwrap();
    let mut off = Server::new(config, None);
    assert_eq!(
        status_of(&raw_exchange(&mut off, b"", "GET /health HTTP/1.1\r\n\r\n")),
        "404"
    );
}

#[test]
fn a_request_the_game_holds_is_answered_or_times_out_with_504() {
    let config = PeerConfig {
        handshake_timeout: 0.5,
        ..PeerConfig::default()
    };
    let mut server = Server::new(config, None);
    server.hub.handshake_timeout = Duration::from_millis(500);
    server.hub.hold_http = true;
    let thread = raw_client(
        server.port(),
        Vec::new(),
        "GET /players?x=1 HTTP/1.1\r\nX-Probe: 7\r\n\r\n".into(),
    );
    let start = Instant::now();
    let id = loop {
        server.poll();
        if let Some(Event::HttpRequest(id)) = server.hub.next_event() {
            break id;
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "no HttpRequest event"
        );
        std::thread::sleep(Duration::from_millis(1));
    };
    let request = server.hub.http_request(id).unwrap();
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        ("GET", "/players?x=1")
    );
    assert!(request
        .headers
        .contains(&("x-probe".to_string(), "7".to_string())));
    // The game's answer is checked.
    assert!(server.hub.answer_http(id, 99, &[], b"").is_err());
    assert!(server
        .hub
        .answer_http(id, 200, &["Bad\r\nInjected: 1".into()], b"")
        .is_err());
    assert!(server
        .hub
        .answer_http(id, 200, &[], &vec![0u8; rustws_core::MAX_HTTP_BODY + 1])
        .is_err());
    assert!(server.hub.answer_http(id + 1, 200, &[], b"").is_err());
    server
        .hub
        .answer_http(
            id,
            201,
            &["Content-Type: application/json".into()],
            b"{\"n\":3}",
        )
        .unwrap();
    let answer = finish(&mut server, thread);
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    assert!(answer.contains("Content-Type: application/json\r\n"));
    assert!(answer.contains("Content-Length: 7\r\nConnection: close\r\n\r\n{\"n\":3}"));
    // The health check is never held.
    let ok = raw_exchange(&mut server, b"", "GET /health HTTP/1.1\r\n\r\n");
    assert_eq!(status_of(&ok), "200");

    let started = Instant::now();
    let late = raw_exchange(&mut server, b"", "GET /slow HTTP/1.1\r\n\r\n");
    assert_eq!(status_of(&late), "504", "{late}");
    assert!(started.elapsed() >= Duration::from_millis(450));
    assert!(server
        .events()
        .iter()
        .all(|e| matches!(e, Event::HttpRequest(_))));
}

/// A stand-in for a load balancer in TCP mode: each connection to the
/// returned port is forwarded to `target` after `header`.
fn balancer(target: u16, header: Vec<u8>) -> u16 {
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

fn v2_header(source: SocketAddr) -> Vec<u8> {
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

fn sending(header: &str) -> PeerConfig {
    PeerConfig {
        handshake_headers: vec![header.into()],
        ..PeerConfig::default()
    }
}

fn proxied() -> PeerConfig {
    PeerConfig {
        proxy_protocol: true,
        ..PeerConfig::default()
    }
}

/// Connects a client through `port` and returns the id the server gave it.
fn join(
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

#[test]
fn proxy_v2_before_tls_names_the_real_client() {
    let (cert, key) = common::certificate(&["localhost"], false);
    let tls = rustws_core::server_config(cert.as_bytes(), key.as_bytes()).unwrap();
    let mut server = Server::new(proxied(), Some(tls));
    let real: SocketAddr = "203.0.113.9:40000".parse().unwrap();
    let port = balancer(server.port(), v2_header(real));
    let url = format!("wss://localhost:{port}/");
    let (mut c, id) = join(
        &mut server,
        &url,
        PeerConfig::default(),
        TlsClientOptions::Unsafe,
    );
    assert_eq!(server.hub.client_addr(id), Some(real));
    let link = server.hub.link(id).unwrap();
    assert_eq!(
        link.peer_addr()
            .map(|a| a.ip().to_canonical().to_string())
            .as_deref(),
        Some("127.0.0.1")
    );
    assert_eq!(link.tls_version().as_deref(), Some("TLSv1_3"));
    // Frames flow: nothing after the header was lost.
    c.put_packet(b"hello").unwrap();
    pump(&mut server, &mut [&mut c], |s, _| {
        s.hub.available_packets() == 1
    });
    assert_eq!(&server.hub.pop_packet().unwrap().data[..], b"hello");
}

#[test]
fn proxy_v1_and_local_before_ws() {
    let mut server = Server::new(proxied(), None);
    let port = balancer(
        server.port(),
        b"PROXY TCP6 2001:db8::5 ::1 5555 80\r\n".to_vec(),
    );
    let (_c, id) = join(
        &mut server,
        &format!("ws://127.0.0.1:{port}/"),
        PeerConfig::default(),
        TlsClientOptions::Default,
    );
    assert_eq!(
        server.hub.client_addr(id),
        Some("[2001:db8::5]:5555".parse().unwrap())
    );
    // The balancer's own health check: LOCAL, then plain HTTP.
    let mut local = rustws_core::V2_SIGNATURE.to_vec();
    local.extend_from_slice(&[0x20, 0x00, 0, 0]);
    let ok = raw_exchange(&mut server, &local, "GET /health HTTP/1.1\r\n\r\n");
    assert_eq!(status_of(&ok), "200", "{ok}");
    // And a whole header and request in one write.
    let ok = raw_exchange(
        &mut server,
        b"PROXY UNKNOWN\r\n",
        "GET /health HTTP/1.1\r\n\r\n",
    );
    assert_eq!(status_of(&ok), "200", "{ok}");
}

#[test]
fn a_required_header_missing_or_bad_refuses_the_connection() {
    let mut server = Server::new(proxied(), None);
    for (preface, request) in [
        (&b""[..], "GET /health HTTP/1.1\r\n\r\n"),
        (b"", UPGRADE),
        (
            b"PROXY TCP4 1.2.3.4 5.6.7.8 99999 1\r\n",
            "GET /health HTTP/1.1\r\n\r\n",
        ),
    ] {
        let answer = raw_exchange(&mut server, preface, request);
        assert_eq!(answer, "", "dropped without a word");
    }
    let mut huge = rustws_core::V2_SIGNATURE.to_vec();
    huge.extend_from_slice(&[0x21, 0x11, 0xff, 0xff]);
    assert_eq!(raw_exchange(&mut server, &huge, ""), "");
    assert_eq!(server.events(), vec![]);
    assert_eq!(server.hub.pending_len(), 0);
}

#[test]
fn unlisted_addresses_are_direct_clients() {
    let mut config = proxied();
    config.set_trusted_proxies(&["10.0.0.0/8"]).unwrap();
    let mut server = Server::new(config, None);
    let url = format!("ws://127.0.0.1:{}/", server.port());
    // A forwarding header from an untrusted peer is not believed either.
    let spoof = sending("X-Forwarded-For: 198.51.100.7");
    let (_c, id) = join(&mut server, &url, spoof, TlsClientOptions::Default);
    let addr = server.hub.client_addr(id).unwrap();
    assert_eq!(addr.ip().to_canonical().to_string(), "127.0.0.1");
}

#[test]
fn forwarding_headers_from_a_trusted_proxy_name_the_client() {
    let mut config = PeerConfig::default();
    config.set_trusted_proxies(&["127.0.0.1"]).unwrap();
    let mut server = Server::new(config, None);
    let url = format!("ws://127.0.0.1:{}/", server.port());
    let via = sending("X-Forwarded-For: 10.9.9.9, 198.51.100.7, 127.0.0.1");
    let (_a, a) = join(&mut server, &url, via, TlsClientOptions::Default);
    assert_eq!(
        server.hub.client_addr(a),
        Some("198.51.100.7:0".parse().unwrap())
    );
    let via = sending("Forwarded: for=\"[2001:db8::2]:7000\"");
    let (_b, b) = join(&mut server, &url, via, TlsClientOptions::Default);
    assert_eq!(
        server.hub.client_addr(b),
        Some("[2001:db8::2]:7000".parse().unwrap())
    );
    // While its upgrade request is held, the game sees the same address.
    server.config.hold_upgrade = true;
    let mut held = client(
        &url,
        sending("X-Forwarded-For: 198.51.100.8"),
        TlsClientOptions::Default,
    );
    let start = Instant::now();
    let id = loop {
        server.poll();
        held.poll(&mut no_link);
        if let Some(Event::UpgradeWaiting(id)) = server.hub.next_event() {
            break id;
        }
        assert!(start.elapsed() < Duration::from_secs(5), "no held request");
        std::thread::sleep(Duration::from_millis(1));
    };
    let pending = server.hub.pending_link(id).unwrap();
    assert_eq!(
        pending.client_addr(),
        Some("198.51.100.8:0".parse().unwrap())
    );
    server.config.hold_upgrade = false;
    let via = sending("X-Forwarded-For: not-an-address");
    let (_c, c) = join(&mut server, &url, via, TlsClientOptions::Default);
    assert_eq!(
        server
            .hub
            .client_addr(c)
            .map(|a| a.ip().to_canonical().to_string())
            .as_deref(),
        Some("127.0.0.1")
    );
}

#[test]
fn drain_closes_every_link_with_1012_after_the_grace_then_says_drained() {
    let mut server = Server::new(PeerConfig::default(), None);
    let url = format!("ws://127.0.0.1:{}/", server.port());
    let (mut a, ida) = join(
        &mut server,
        &url,
        PeerConfig::default(),
        TlsClientOptions::Default,
    );
    let (mut b, idb) = join(
        &mut server,
        &url,
        PeerConfig::default(),
        TlsClientOptions::Default,
    );
    server.events();
    let started = Instant::now();
    server.hub.drain(0.4).unwrap();
    // During the grace the links stay, and a new client is refused.
    let mut late = client(&url, PeerConfig::default(), TlsClientOptions::Default);
    pump(&mut server, &mut [&mut a, &mut b, &mut late], |_, c| {
        c[2].status() == Status::Disconnected
    });
    assert!(
        started.elapsed() < Duration::from_millis(400),
        "the late client was refused at once"
    );
    assert_eq!(server.hub.links_len(), 2);
    let mut codes = Vec::new();
    let mut events = Vec::new();
    pump(&mut server, &mut [&mut a, &mut b], |_, c| {
        c.iter().all(|h| h.status() == Status::Disconnected)
    });
    assert!(started.elapsed() >= Duration::from_millis(400));
    for c in [&mut a, &mut b] {
        let seen: Vec<_> = std::iter::from_fn(|| c.next_event()).collect();
        assert_eq!(
            seen.last(),
            Some(&Event::Disconnected(SERVER_ID)),
            "{seen:?}"
        );
        codes.push(
            c.link(SERVER_ID)
                .map(|l| (l.close_code(), l.close_reason().to_string())),
        );
    }
    assert_eq!(codes, vec![Some((1012, "service restart".to_string())); 2]);
    pump(&mut server, &mut [], |s, _| s.hub.links_len() == 0);
    for _ in 0..5 {
        server.poll();
        events.extend(server.events());
    }
    let mut disconnected: Vec<_> = events
        .iter()
        .filter(|e| matches!(e, Event::Disconnected(_)))
        .collect();
    disconnected.sort_by_key(|e| format!("{e:?}"));
    let mut want = [Event::Disconnected(ida), Event::Disconnected(idb)];
    want.sort_by_key(|e| format!("{e:?}"));
    assert_eq!(disconnected, want.iter().collect::<Vec<_>>());
    assert_eq!(events.last(), Some(&Event::Drained), "{events:?}");
    assert_eq!(events.iter().filter(|e| **e == Event::Drained).count(), 1);
}

#[test]
fn drain_needs_a_server_and_takes_any_grace() {
    let mut hub = TestHub::default();
    assert!(hub.drain(1.0).is_err());
    for grace in [f64::NAN, -1.0, 1e300, f64::INFINITY, f64::NEG_INFINITY] {
        let mut server = Server::new(PeerConfig::default(), None);
        server.hub.drain(grace).unwrap();
        assert_eq!(server.events(), vec![Event::Drained]);
        server.hub.clear();
        assert!(!server.hub.is_draining());
    }
}

/// A real HAProxy (when installed) in front of a hub: `send-proxy-v2` on
/// client and health-check connections, `option httpchk` on the game port.
/// The hub sees the client's own port (not HAProxy's), and once it drains
/// the health check's 503 takes it out of the pool. Skipped without
/// HAProxy, unless `RUSTWS_NEED_HAPROXY` is set (CI).
#[test]
fn behind_a_real_haproxy() {
    let bin = std::env::var("HAPROXY").unwrap_or_else(|_| "/usr/sbin/haproxy".into());
    if !std::path::Path::new(&bin).exists() {
        assert!(
            std::env::var_os("RUSTWS_NEED_HAPROXY").is_none(),
            "no HAProxy at {bin}"
        );
        eprintln!("skipped: no HAProxy at {bin}");
        return;
    }
    let mut server = Server::new(proxied(), None);
    let front = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = format!(
        "defaults\n  mode tcp\n  timeout connect 2s\n  timeout client 10s\n  timeout server 10s\n\
         frontend game\n  bind 127.0.0.1:{front}\n  default_backend servers\n\
         backend servers\n  option httpchk GET /health\n  http-check expect status 200\n\
         \x20 server s1 127.0.0.1:{} send-proxy-v2 check check-send-proxy inter 100ms fall 1 rise 1\n",
        server.port()
    );
    let (_dir, paths) = common::write_temp(&[("haproxy.cfg", &config)]);
    let child = std::process::Command::new(&bin)
        .args(["-db", "-f"])
        .arg(&paths[0])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("haproxy starts");
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _haproxy = Kill(child);

    // A WebSocket client by hand, so the test knows its own port.
    let start = Instant::now();
    let (sock, id) = loop {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no client got through HAProxy"
        );
        server.poll();
        let Ok(mut s) = TcpStream::connect(("127.0.0.1", front)) else {
            std::thread::sleep(Duration::from_millis(20));
            continue;
        };
        s.write_all(UPGRADE.as_bytes()).unwrap();
        s.set_nonblocking(true).unwrap();
        let mut head = Vec::new();
        let got = loop {
            server.poll();
            let mut buf = [0u8; 512];
            match s.read(&mut buf) {
                Ok(0) => break None,
                Ok(n) => head.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(_) => break None,
            }
            if let Some(Event::Connected(id)) = server.hub.next_event() {
                break Some(id);
            }
            if start.elapsed() > Duration::from_secs(10) {
                break None;
            }
            std::thread::sleep(Duration::from_millis(1));
        };
        if let Some(id) = got {
            break (s, id);
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mine = sock.local_addr().unwrap();
    let seen = server.hub.client_addr(id).unwrap();
    let tcp = server.hub.link(id).unwrap().peer_addr().unwrap();
    assert_eq!(
        seen.port(),
        mine.port(),
        "the client's own port, from the PROXY header"
    );
    assert_ne!(tcp.port(), mine.port(), "the TCP peer is HAProxy");

    // Draining: the health check says 503 and HAProxy takes the server out.
    server.hub.drain(30.0).unwrap();
    let start = Instant::now();
    loop {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "HAProxy kept a draining server"
        );
        let probe = raw_client(front, Vec::new(), UPGRADE.to_string());
        let answer = finish(&mut server, probe);
        if answer.is_empty() {
            break; // HAProxy had no server to send it to.
        }
        assert_eq!(status_of(&answer), "503", "{answer}");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        server.hub.links_len(),
        1,
        "the open link stays during the grace"
    );
    drop(sock);
}

#[test]
fn a_peer_the_game_accepted_itself_refuses_plain_http_as_before() {
    let (mut peer, mut raw) = common::server_and_raw_client(PeerConfig::default());
    raw.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    common::poll_until(&mut peer, "the refusal", |p| {
        p.ready_state() == rustws_core::ReadyState::Closed
    });
    let mut answer = String::new();
    raw.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let _ = raw.read_to_string(&mut answer);
    assert_eq!(status_of(&answer), "426", "{answer}");
}
