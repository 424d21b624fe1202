//! permessage-deflate against implementations nobody here wrote (Python
//! `websockets`, Node `ws`), both as client and as server, checked on the
//! wire: the `Sec-WebSocket-Extensions` answer and RSV1 on the frames.

mod common;

use common::*;
use rustws_core::fuzz_support::{lock, Shared};
use rustws_core::{Peer, PeerConfig, ReadyState, Stream, TlsClientOptions, WsError};
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use tungstenite::protocol::frame::FrameHeader;

/// A TCP stream that keeps a copy of everything that passes.
struct Recorder {
    sock: TcpStream,
    read: Shared<Vec<u8>>,
    written: Shared<Vec<u8>>,
}

impl Read for Recorder {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.sock.read(buf)?;
        lock(&self.read).extend_from_slice(&buf[..n]);
        Ok(n)
    }
}

impl Write for Recorder {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.sock.write(buf)?;
        lock(&self.written).extend_from_slice(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Stream for Recorder {
    fn peer_addr(&self) -> Option<SocketAddr> {
        self.sock.peer_addr().ok()
    }
}

/// What was recorded in one direction.
struct Wire(Shared<Vec<u8>>);

impl Wire {
    /// The HTTP head, as text.
    fn head(&self) -> String {
        let bytes = lock(&self.0);
        let end = rustws_core::find_head_end(&bytes).unwrap_or(bytes.len());
        String::from_utf8_lossy(&bytes[..end]).to_string()
    }

    /// (RSV1, opcode byte, payload length) of each frame after the head.
    fn frames(&self) -> Vec<(bool, u8, u64)> {
        let bytes = lock(&self.0);
        let mut at = rustws_core::find_head_end(&bytes).unwrap_or(bytes.len());
        let mut frames = Vec::new();
        while at < bytes.len() {
            let mut cursor = io::Cursor::new(&bytes[at..]);
            let Ok(Some((header, len))) = FrameHeader::parse(&mut cursor) else {
                break;
            };
            frames.push((header.rsv1, u8::from(header.opcode), len));
            at += cursor.position() as usize + len as usize;
        }
        frames
    }
}

fn header_value(head: &str, name: &str) -> Option<String> {
    head.lines().find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().to_string())
    })
}

fn compressing(config: PeerConfig) -> PeerConfig {
    PeerConfig {
        compression_enabled: true,
        inbound_buffer_size: 1 << 20,
        outbound_buffer_size: 1 << 20,
        ..config
    }
}

/// Our client with compression on, connected over a recorded stream.
fn recorded_client(port: u16, config: PeerConfig) -> (Peer, Wire, Wire) {
    let sock = TcpStream::connect(("127.0.0.1", port)).unwrap();
    sock.set_nonblocking(true).unwrap();
    let (read, written) = (Shared::default(), Shared::default());
    let rec = Recorder {
        sock,
        read: read.clone(),
        written: written.clone(),
    };
    let mut peer = Peer::new(config);
    peer.connect_over_stream(Box::new(rec), &format!("ws://127.0.0.1:{port}/z"))
        .unwrap();
    wait_open(&mut peer);
    (peer, Wire(read), Wire(written))
}

/// JSON-like game state, `n` bytes.
fn json(n: usize) -> String {
    let mut s = String::new();
    let mut i = 0;
    while s.len() < n {
        s.push_str(&format!(
            "{{\"id\":{i},\"x\":{:.2},\"y\":{:.2},\"state\":\"running\"}},",
            i as f64 * 0.37,
            i as f64 * 1.3
        ));
        i += 1;
    }
    s.truncate(n);
    s
}

fn our_client_against(kind: Impl, server_args: &[&str]) {
    let (_server, port) = ExtPeer::server_with(kind, server_args);
    let (mut peer, inbound, outbound) = recorded_client(port, compressing(PeerConfig::default()));
    let offer = header_value(&outbound.head(), "Sec-WebSocket-Extensions");
    assert_eq!(
        offer.as_deref(),
        Some("permessage-deflate; client_max_window_bits")
    );
    let answer = header_value(&inbound.head(), "Sec-WebSocket-Extensions").unwrap_or_default();
    assert!(
        answer.starts_with("permessage-deflate"),
        "{kind:?} answered {answer:?}"
    );
    assert_eq!(peer.negotiated_extensions(), answer.as_str());
    let big = json(20_000);
    peer.send(big.as_bytes(), true).unwrap();
    let back = next_packet(&mut peer);
    assert!(back.text);
    assert_eq!(back.data.as_ref(), big.as_bytes());
    peer.send(b"tiny", false).unwrap();
    assert_eq!(next_packet(&mut peer).data.as_ref(), b"tiny");
    // Ours: the big text went out compressed (RSV1, much smaller), the tiny
    // message under the threshold did not.
    let sent = outbound.frames();
    assert!(
        sent.iter()
            .any(|&(rsv1, op, len)| rsv1 && op == 1 && len < 20_000 / 3),
        "{sent:?}"
    );
    assert!(
        sent.iter()
            .any(|&(rsv1, op, len)| !rsv1 && op == 2 && len == 4),
        "{sent:?}"
    );
    // Theirs: the echo of the big text came compressed.
    let got = inbound.frames();
    assert!(got.iter().any(|&(rsv1, op, _)| rsv1 && op == 1), "{got:?}");
    peer.close(1000, "done");
    wait_closed(&mut peer);
}

#[test]
fn our_client_against_python_and_node_servers() {
    our_client_against(Impl::Python, &[]);
    our_client_against(Impl::Node, &["--deflate"]);
}

/// Our server with compression on; the external client offers it.
fn our_server_against(kind: Impl, client_args: &[&str]) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let text = json(30_000);
    let json_arg = "json:30000".to_string();
    let mut args = vec![
        format!("ws://127.0.0.1:{port}/"),
        json_arg,
        "bin:00ff".into(),
    ];
    args.extend(client_args.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut client_args_full = vec!["client"];
    client_args_full.extend(args);
    let client = ExtPeer::spawn_with(kind, &client_args_full);
    let (sock, _) = listener.accept().unwrap();
    sock.set_nonblocking(true).unwrap();
    let (read, written) = (Shared::default(), Shared::default());
    let rec = Recorder {
        sock,
        read: read.clone(),
        written: written.clone(),
    };
    let mut server = Peer::new(compressing(PeerConfig::default()));
    server.accept_stream(Box::new(rec), false).unwrap();
    wait_open(&mut server);
    let (inbound, outbound) = (Wire(read), Wire(written));
    let answer = header_value(&outbound.head(), "Sec-WebSocket-Extensions").unwrap_or_default();
    assert!(
        answer.starts_with("permessage-deflate"),
        "we answered {answer:?}"
    );
    let opened = client.line();
    assert!(
        opened.contains("permessage-deflate"),
        "{kind:?} saw {opened}"
    );
    // The JSON came intact (both generators make the same text), then the
    // binary message; each is echoed back.
    let first = next_packet(&mut server);
    assert!(
        first.text && first.data.as_ref() == text.as_bytes(),
        "{kind:?}: JSON differs"
    );
    server.send(&first.data, true).unwrap();
    let (echoed, errors) = echo_until_closed(&mut server);
    assert_eq!(echoed, 1, "{errors:?}");
    let reply = client.line();
    assert!(
        reply.starts_with("{\"type\":\"text\",\"len\":30000"),
        "{}",
        &reply[..reply.len().min(80)]
    );
    // Both directions carried the JSON compressed.
    let theirs = inbound.frames();
    assert!(
        theirs.iter().any(|&(rsv1, op, _)| rsv1 && op == 1),
        "{theirs:?}"
    );
    let ours = outbound.frames();
    assert!(
        ours.iter()
            .any(|&(rsv1, op, len)| rsv1 && op == 1 && len < 10_000),
        "{ours:?}"
    );
}

#[test]
fn python_and_node_clients_against_our_server() {
    our_server_against(Impl::Python, &[]);
    our_server_against(Impl::Node, &["--deflate"]);
}

#[test]
fn a_compressed_bomb_is_refused_with_1009_at_the_limit() {
    // 8 MiB of one letter is a few KiB compressed. We send it (no outbound
    // limit); Node's server echoes it compressed to us, whose inbound limit
    // is the default 64 KiB: refused with 1009 once inflating passes it.
    let (_server, port) = ExtPeer::server_with(Impl::Node, &["--deflate"]);
    let mut small = Peer::new(PeerConfig {
        compression_enabled: true,
        outbound_buffer_size: 0,
        ..PeerConfig::default()
    });
    small
        .connect_to_url(
            &format!("ws://127.0.0.1:{port}/"),
            TlsClientOptions::Default,
        )
        .unwrap();
    wait_open(&mut small);
    assert!(small
        .negotiated_extensions()
        .starts_with("permessage-deflate"));
    small.send(&vec![b'a'; 8 << 20], false).unwrap();
    let errors = wait_closed(&mut small);
    assert_eq!(small.close_code(), 1009, "{errors:?}");
    assert!(
        matches!(&errors[..], [WsError::MessageTooBig { limit: 65535, .. }]),
        "{errors:?}"
    );
    assert_eq!(small.ready_state(), ReadyState::Closed);
}
