//! Adapts a Godot `StreamPeer` (a `StreamPeerTCP` from
//! `TCPServer.take_connection()`, or a `StreamPeerTLS` after its
//! `accept_stream`) to the core's non-blocking [`Stream`].

use godot::classes::stream_peer_tcp::Status as TcpStatus;
use godot::classes::stream_peer_tls::Status as TlsStatus;
use godot::classes::{StreamPeer, StreamPeerTcp, StreamPeerTls};
use godot::global::Error;
use godot::prelude::*;
use rustws_core::{take_over, Socket, Stream};
use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr};

/// The stream `accept_stream` was given, as the core's [`Stream`]: the OS
/// socket itself when it can be found (see `rustws_core::take_over`), else a
/// [`GodotStream`]. `RUST_WEBSOCKET_NO_TAKEOVER=1` always keeps the engine's
/// stream. Returns the stream and whether it is TLS.
pub fn server_stream(stream: Gd<StreamPeer>) -> Result<(Box<dyn Stream>, bool), String> {
    let (mut godot, tls) = GodotStream::from_stream(stream)?;
    if !tls && std::env::var_os("RUST_WEBSOCKET_NO_TAKEOVER").is_none() {
        let mut tcp = godot.tcp.clone();
        let mut set_nodelay = |on: bool| tcp.set_no_delay(on);
        if let Some(sock) = godot
            .peer_addr()
            .and_then(|peer| take_over(peer, &mut set_nodelay))
        {
            // The engine's stream stays as the caller has it (its address
            // still readable); our duplicate of the socket carries the link.
            godot.keep_open = true;
            return Ok((Box::new(Socket::new(sock)), false));
        }
        log::debug!(
            "reading through StreamPeerTCP: no socket of ours matched {:?}",
            godot.peer_addr()
        );
    }
    Ok((Box::new(godot), tls))
}

/// A Godot stream the core reads and writes through.
pub struct GodotStream {
    conn: Gd<StreamPeer>,
    tcp: Gd<StreamPeerTcp>,
    tls: Option<Gd<StreamPeerTls>>,
    /// Leave the engine's stream connected when dropped (it was taken over).
    keep_open: bool,
}

impl GodotStream {
    /// Wraps the stream handed to `accept_stream`; says why when it is not
    /// one we can use. Returns the stream and whether it is TLS.
    pub fn from_stream(stream: Gd<StreamPeer>) -> Result<(GodotStream, bool), String> {
        if let Ok(tcp) = stream.clone().try_cast::<StreamPeerTcp>() {
            if tcp.get_status() != TcpStatus::CONNECTED {
                return Err("the StreamPeerTCP is not connected; pass the stream returned by TCPServer.take_connection()".into());
            }
            return Ok((
                GodotStream {
                    conn: stream,
                    tcp,
                    tls: None,
                    keep_open: false,
                },
                false,
            ));
        }
        if let Ok(tls) = stream.clone().try_cast::<StreamPeerTls>() {
            let base = tls
                .get_stream()
                .and_then(|s| s.try_cast::<StreamPeerTcp>().ok());
            let Some(tcp) = base else {
                return Err("the StreamPeerTLS must wrap a StreamPeerTCP (call StreamPeerTLS.accept_stream on a TCPServer connection first)".into());
            };
            return Ok((
                GodotStream {
                    conn: stream,
                    tcp,
                    tls: Some(tls),
                    keep_open: false,
                },
                true,
            ));
        }
        Err(format!(
            "accept_stream needs a StreamPeerTCP or StreamPeerTLS, got {}",
            stream.get_class()
        ))
    }

    /// `Ok(true)` once TLS (if any) is ready for application data. The
    /// handshake needs `poll()`; once connected, reads and writes report
    /// failures themselves, so the status is only read.
    fn ready(&mut self) -> io::Result<bool> {
        let Some(tls) = self.tls.as_mut() else {
            return Ok(true);
        };
        if tls.get_status() != TlsStatus::CONNECTED {
            tls.poll();
        }
        match tls.get_status() {
            TlsStatus::CONNECTED => Ok(true),
            TlsStatus::HANDSHAKING => Ok(false),
            TlsStatus::DISCONNECTED => Err(io::ErrorKind::ConnectionReset.into()),
            other => Err(io::Error::other(format!(
                "TLS handshake failed (StreamPeerTLS status {other:?})"
            ))),
        }
    }
}

/// Splits the `[error, value]` array that `get_partial_data` and
/// `put_partial_data` return; a malformed answer counts as `FAILED`.
fn status_and<T: FromGodot>(result: &VarArray) -> (i64, Option<T>) {
    let err = result
        .get(0)
        .and_then(|v| v.try_to::<i64>().ok())
        .unwrap_or(Error::FAILED.ord() as i64);
    (err, result.get(1).and_then(|v| v.try_to::<T>().ok()))
}

impl Read for GodotStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if !self.ready()? {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let want = buf.len().min(16 * 1024) as i32;
        let (err, data) = status_and::<PackedByteArray>(&self.conn.get_partial_data(want));
        if err == Error::ERR_FILE_EOF.ord() as i64 {
            return Ok(0);
        }
        if err != Error::OK.ord() as i64 {
            return Err(io::Error::new(
                io::ErrorKind::ConnectionReset,
                format!("StreamPeer read error {err}"),
            ));
        }
        let data = data.unwrap_or_default();
        let n = data.len().min(buf.len());
        if n == 0 {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        buf[..n].copy_from_slice(&data.as_slice()[..n]);
        Ok(n)
    }
}

impl Write for GodotStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if !self.ready()? {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let (err, sent) =
            status_and::<i64>(&self.conn.put_partial_data(&PackedByteArray::from(buf)));
        if err != Error::OK.ord() as i64 {
            return Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                format!("StreamPeer write error {err}"),
            ));
        }
        let sent = sent.unwrap_or(0);
        if sent <= 0 {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        Ok(sent as usize)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

// SAFETY: `Send` lets the peer's state (which owns this stream, boxed as a
// `dyn Stream` inside the core's `Peer`) sit behind that peer's `Mutex`
// and be reached from whichever thread calls the peer. Why that is sound:
// - Every use of the `Gd`s here (a read, a write, a status call, the drop)
//   happens through `Peer`, so with that peer's lock held: our code never
//   calls these objects from two threads at once. A `GodotStream` is made
//   in `server_stream` and moved straight into a `Peer`; it is not `Clone`
//   and no reference to it leaves the `Peer`.
// - The objects are `StreamPeerTCP`/`StreamPeerTLS`, both `RefCounted`:
//   moving a `Gd` to another thread and dropping it there only changes an
//   atomic reference count in the engine.
// - The game may still hold the same stream and call it from another
//   thread at the same time; that is the engine's own rule for its stream
//   objects (its `WebSocketPeer` keeps the stream it is given just as we
//   do), not something this type adds.
unsafe impl Send for GodotStream {}

impl Stream for GodotStream {
    fn peer_addr(&self) -> Option<SocketAddr> {
        let ip: IpAddr = self.tcp.get_connected_host().to_string().parse().ok()?;
        let port = u16::try_from(self.tcp.get_connected_port()).ok()?;
        Some(SocketAddr::new(ip, port))
    }

    fn set_nodelay(&mut self, enabled: bool) {
        self.tcp.set_no_delay(enabled);
    }

    fn tls_version(&self) -> Option<String> {
        self.tls
            .as_ref()
            .map(|_| "TLS by StreamPeerTLS".to_string())
    }
}

impl Drop for GodotStream {
    fn drop(&mut self) {
        if self.keep_open {
            return;
        }
        if let Some(tls) = self.tls.as_mut() {
            tls.disconnect_from_stream();
        }
        self.tcp.disconnect_from_host();
    }
}
