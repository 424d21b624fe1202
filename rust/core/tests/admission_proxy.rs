//! A hub server behind a load balancer: the PROXY protocol (v1 and v2,
//! before `ws://` and `wss://`, required and missing, from an unlisted
//! address), trusted forwarding headers, and a real HAProxy in front.

mod common;

use common::hub_server::*;
use rustws_core::{Event, PeerConfig, TlsClientOptions};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

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

/// A real HAProxy (when installed) in front of a hub: `send-proxy-v2` on
/// client and health-check connections, `option httpchk` on the game port.
/// The hub sees the client's own port (not HAProxy's), and once it drains
/// the health check's 503 takes it out of the pool. Skipped without
/// HAProxy, unless `RUSTWS_NEED_HAPROXY` is set (CI), and on Windows.
#[test]
fn behind_a_real_haproxy() {
    // HAProxy is a Linux program here: a Windows build of the tests (under
    // Wine) would find its path through Wine's drive mapping and fail to
    // run it, so it is not tried there.
    if cfg!(windows) {
        eprintln!("skipped: HAProxy is not run by the Windows tests");
        return;
    }
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
