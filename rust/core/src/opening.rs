//! Opening a connection without blocking: the client's name lookup and
//! connect (on the [`dial`](crate::dial) pool), the tunnel through an HTTP
//! proxy when one is set ([`proxy`](crate::proxy)), TLS, and the HTTP upgrade on
//! either side, including the permessage-deflate negotiation. What comes out
//! is an [`Opened`] stream with the bytes read past the upgrade.

use crate::dial::Connector;
use crate::error::WsError;
use crate::extension::{self, Agreed, DeflateConfig};
use crate::handshake::{self, AcceptedRequest, MAX_HEAD_SIZE};
use crate::proxy::{self, Proxy};
use crate::readiness::Socket;
use crate::tls::{TlsClientOptions, TlsFailure, TlsStream};
use crate::transport::{Io, Stream};
use crate::url::WsUrl;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;

/// Read chunk for the upgrade head.
const HEAD_CHUNK: usize = 1024;

/// What the settings ask of the upgrade.
pub struct Wants<'a> {
    /// Sub-protocols offered (client) or accepted (server).
    pub protocols: &'a [String],
    /// Extra header lines for the request or the answer.
    pub headers: &'a [String],
    /// permessage-deflate to offer or accept, if any.
    pub compression: Option<DeflateConfig>,
    pub nodelay: bool,
    /// Server: wait for [`Opening::decide`] after reading a valid request,
    /// instead of answering it at once.
    pub hold: bool,
    /// Server: the path a plain HTTP `GET`/`HEAD` gets 200 on (503 while
    /// `draining`); empty: none.
    pub health_path: &'a str,
    /// Server: plain HTTP requests (no upgrade asked for) are answered
    /// (health check, 404, or held with `hold_http`); otherwise refused as
    /// a bad upgrade.
    pub plain_http: bool,
    /// Server: a plain HTTP request other than the health check waits for
    /// [`Opening::answer_http`]; otherwise it gets 404 at once.
    pub hold_http: bool,
    /// Server: the server drains: upgrade requests get 503, the health
    /// check too.
    pub draining: bool,
}

/// What the server does with a request it held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Answer `101 Switching Protocols`: the link opens.
    Accept,
    /// Answer with this HTTP error status and reason, then close.
    Refuse {
        /// An HTTP status from 400 to 599.
        status: u16,
        /// Sent as the answer's body.
        reason: String,
    },
}

/// A connection on its way to open.
pub enum Opening {
    /// Client: waiting for name lookup and TCP connect (to the proxy, when
    /// `proxy` is set).
    Dialing {
        connector: Connector,
        url: WsUrl,
        tls: Option<TlsClientOptions>,
        request: String,
        key: String,
        proxy: Option<Box<Proxy>>,
    },
    /// Client: connected to the proxy, `CONNECT` sent (or going out),
    /// waiting for its answer.
    Tunnel(Box<Tunnel>),
    /// Client: request sent (or going out), waiting for the 101 answer.
    Client { io: Io, key: String, head: Vec<u8> },
    /// Server: waiting for the client's upgrade request.
    Server { io: Io, head: Vec<u8>, tls: bool },
    /// Server: a valid request read and held (see [`Wants::hold`]) until
    /// the game decides; `leftover` is what the client sent after it.
    Held {
        io: Io,
        request: Box<AcceptedRequest>,
        leftover: Vec<u8>,
        decision: Option<Decision>,
    },
    /// Server: a plain HTTP request (no upgrade asked for), waiting for the
    /// game's answer (`answer` `None`) or with its answer to write.
    Http {
        io: Io,
        request: Box<crate::http_plain::HttpRequest>,
        answer: Option<Vec<u8>>,
    },
    /// Server: an HTTP answer being written; the connection ends after it.
    Answering { io: Io },
}

/// A `CONNECT` tunnel on its way to open, and what comes after it.
pub struct Tunnel {
    sock: TcpStream,
    /// The part of the `CONNECT` request not written yet.
    out: Vec<u8>,
    head: Vec<u8>,
    proxy: Proxy,
    url: WsUrl,
    tls: Option<TlsClientOptions>,
    request: String,
    key: String,
}

/// An upgraded stream, ready for frames.
pub struct Opened {
    pub io: Io,
    /// Bytes read past the upgrade head (the first frames).
    pub leftover: Vec<u8>,
    pub client: bool,
    pub protocol: String,
    /// Server side: the URL the client asked for.
    pub requested_url: Option<String>,
    pub compression: Option<Agreed>,
    /// The headers the other side sent: the request's on the server, the
    /// answer's on the client.
    pub headers: Vec<(String, String)>,
}

/// What one step of opening came to.
pub enum Step {
    Waiting(Opening),
    Open(Opened),
    /// The connection is done without opening, quietly (a plain HTTP
    /// request answered, a connection refused before its first byte of
    /// data, an upgrade refused while draining).
    Done,
}

impl Opening {
    /// The stream, once there is one.
    pub fn io(&self) -> Option<&Io> {
        match self {
            Opening::Client { io, .. }
            | Opening::Server { io, .. }
            | Opening::Held { io, .. }
            | Opening::Http { io, .. }
            | Opening::Answering { io } => Some(io),
            Opening::Dialing { .. } | Opening::Tunnel(_) => None,
        }
    }

    /// Server, waiting for the client's request (or holding it without a
    /// decision): `false` when [`Opening::advance`] would certainly do
    /// nothing now; `true` when unsure, and on the client side.
    pub fn may_have_input(&self, now: std::time::Instant) -> bool {
        match self {
            Opening::Server { io, .. }
            | Opening::Held {
                io, decision: None, ..
            }
            | Opening::Http {
                io, answer: None, ..
            } => io.buffered() > 0 || io.stream().may_have_input(now),
            _ => true,
        }
    }

    /// The request a server holds, waiting for [`Opening::decide`].
    pub fn held_request(&self) -> Option<&AcceptedRequest> {
        match self {
            Opening::Held {
                request,
                decision: None,
                ..
            } => Some(request),
            _ => None,
        }
    }

    /// Records what to do with a held request (done at the next
    /// [`Opening::advance`]); `false` when no request waits for a decision.
    pub fn decide(&mut self, choice: Decision) -> bool {
        match self {
            Opening::Held { decision, .. } if decision.is_none() => {
                *decision = Some(choice);
                true
            }
            _ => false,
        }
    }

    /// The stream, once there is one.
    pub fn io_mut(&mut self) -> Option<&mut Io> {
        match self {
            Opening::Client { io, .. }
            | Opening::Server { io, .. }
            | Opening::Held { io, .. }
            | Opening::Http { io, .. }
            | Opening::Answering { io } => Some(io),
            Opening::Dialing { .. } | Opening::Tunnel(_) => None,
        }
    }

    /// Advances as far as possible without waiting.
    pub fn advance(self, wants: &Wants) -> Result<Step, WsError> {
        match self {
            Opening::Dialing {
                connector,
                url,
                tls,
                request,
                key,
                proxy,
            } => dial(connector, url, tls, request, key, proxy, wants),
            Opening::Tunnel(tunnel) => through_proxy(tunnel, wants),
            Opening::Client { io, key, head } => client_upgrade(io, key, head, wants),
            Opening::Server { io, head, tls } => server_upgrade(io, head, tls, wants),
            http @ (Opening::Http { .. } | Opening::Answering { .. }) => {
                crate::opening_http::advance(http)
            }
            mut held @ Opening::Held { decision: None, .. } => {
                if let Opening::Held { io, leftover, .. } = &mut held {
                    watch_held(io, leftover)?;
                }
                Ok(Step::Waiting(held))
            }
            Opening::Held {
                mut io,
                request,
                leftover,
                decision: Some(decision),
            } => match decision {
                Decision::Accept => answer(io, *request, leftover, wants),
                Decision::Refuse { status, reason } => {
                    let _ = reject(&mut io, status, &reason);
                    Err(WsError::Handshake(format!(
                        "the upgrade request for {} was refused with {status} {}{}",
                        request.requested_url,
                        handshake::reason_phrase(status),
                        if reason.is_empty() {
                            String::new()
                        } else {
                            format!(": {reason}")
                        }
                    )))
                }
            },
        }
    }
}

/// Client: once connected, asks the proxy for a tunnel, or goes on with
/// TLS and the upgrade.
fn dial(
    mut connector: Connector,
    url: WsUrl,
    tls: Option<TlsClientOptions>,
    request: String,
    key: String,
    proxy: Option<Box<Proxy>>,
    wants: &Wants,
) -> Result<Step, WsError> {
    // TLS with the default roots starts once they have been read (off this
    // thread, see `trust::prefetch`): this thread holds the game's object
    // and must not wait for the read, nor make it.
    let roots_pending = tls
        .as_ref()
        .is_some_and(TlsClientOptions::uses_default_roots)
        && !crate::trust::ready();
    let polled = if roots_pending {
        None
    } else {
        connector.poll()
    };
    let Some(sock) = polled else {
        return Ok(Step::Waiting(Opening::Dialing {
            connector,
            url,
            tls,
            request,
            key,
            proxy,
        }));
    };
    let Some(proxy) = proxy else {
        return start_upgrade(sock?, url, tls, request, key, wants);
    };
    let sock = sock.map_err(|e| WsError::Proxy {
        proxy: proxy.address(),
        status: None,
        why: format!(
            "it could not be reached ({}); check the proxy's host and port",
            match &e {
                WsError::Connect { why, .. } => why.clone(),
                WsError::Resolve { why, .. } => format!("name lookup failed: {why}"),
                other => other.to_string(),
            }
        ),
    })?;
    let out = proxy.connect_request(&url.host, url.port).into_bytes();
    through_proxy(
        Box::new(Tunnel {
            sock,
            out,
            head: Vec::new(),
            proxy: *proxy,
            url,
            tls,
            request,
            key,
        }),
        wants,
    )
}

/// Client: sends `CONNECT` to the proxy and reads its answer; once the
/// tunnel is open, goes on as over a direct connection.
fn through_proxy(mut t: Box<Tunnel>, wants: &Wants) -> Result<Step, WsError> {
    let lost = |t: &Tunnel, e: String| WsError::Proxy {
        proxy: t.proxy.address(),
        status: None,
        why: format!("the connection to it was lost before the tunnel opened ({e})"),
    };
    while !t.out.is_empty() {
        match t.sock.write(&t.out) {
            Ok(0) => return Err(lost(&t, "nothing could be written".into())),
            Ok(n) => drop(t.out.drain(..n)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                return Ok(Step::Waiting(Opening::Tunnel(t)))
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(lost(&t, e.to_string())),
        }
    }
    // Read only up to the answer's end: whatever follows is the server's.
    // Nothing can follow before the client's first bytes (its TLS hello or
    // upgrade request), which are not sent yet, so reading byte by byte
    // costs a few dozen calls once per connection.
    let mut byte = [0u8; 1];
    let end = loop {
        match t.sock.read(&mut byte) {
            Ok(0) => {
                return Err(lost(
                    &t,
                    "it closed the connection without answering CONNECT".into(),
                ))
            }
            Ok(_) => {
                t.head.push(byte[0]);
                if t.head.ends_with(b"\r\n\r\n") {
                    break t.head.len();
                }
                if t.head.len() > MAX_HEAD_SIZE {
                    return Err(WsError::Proxy {
                        proxy: t.proxy.address(),
                        status: None,
                        why: format!("its answer to CONNECT is longer than {MAX_HEAD_SIZE} bytes"),
                    });
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                return Ok(Step::Waiting(Opening::Tunnel(t)))
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(lost(&t, e.to_string())),
        }
    };
    let target = format!("{}:{}", t.url.host, t.url.port);
    proxy::check_answer(&t.head[..end], &t.proxy, &target)?;
    let Tunnel {
        sock,
        url,
        tls,
        request,
        key,
        ..
    } = *t;
    start_upgrade(sock, url, tls, request, key, wants)
}

/// Client: on a connected socket (or tunnel), starts TLS (for `wss://`) and
/// sends the upgrade request.
fn start_upgrade(
    sock: TcpStream,
    url: WsUrl,
    tls: Option<TlsClientOptions>,
    request: String,
    key: String,
    wants: &Wants,
) -> Result<Step, WsError> {
    let mut stream: Box<dyn Stream> = match tls {
        Some(opts) => {
            let (config, name) = opts.client_config(&url.host)?;
            Box::new(TlsStream::new(Arc::clone(&config), name, sock)?)
        }
        None => Box::new(Socket::new(sock)),
    };
    stream.set_nodelay(wants.nodelay);
    let mut io = Io::new(stream);
    io.queue_bytes(request.as_bytes());
    client_upgrade(io, key, Vec::new(), wants)
}

/// Client: sends what is left of the request, then waits for the server's
/// answer and checks it (status, accept key, sub-protocol, extensions).
fn client_upgrade(
    mut io: Io,
    key: String,
    mut head: Vec<u8>,
    wants: &Wants,
) -> Result<Step, WsError> {
    io.flush_out()
        .map_err(|e| handshake_io_error(e, "sending the upgrade request"))?;
    let Some(end) = read_head(&mut io, &mut head)? else {
        return Ok(Step::Waiting(Opening::Client { io, key, head }));
    };
    let answer = handshake::verify_response(&head[..end], &key, wants.protocols)?;
    let compression = extension::verify(answer.extensions.as_deref(), wants.compression.as_ref())
        .map_err(WsError::Handshake)?;
    Ok(Step::Open(Opened {
        io,
        leftover: head.split_off(end),
        client: true,
        protocol: answer.protocol,
        requested_url: None,
        compression,
        headers: answer.headers,
    }))
}

/// Server: waits for the client's request, then answers it (refusing a bad
/// one with an HTTP status and the reason).
fn server_upgrade(
    mut io: Io,
    mut head: Vec<u8>,
    tls: bool,
    wants: &Wants,
) -> Result<Step, WsError> {
    let end = match read_head(&mut io, &mut head) {
        Ok(Some(end)) => end,
        Ok(None) => return Ok(Step::Waiting(Opening::Server { io, head, tls })),
        Err(e) if io.stream().refused_quietly() => {
            log::debug!("server: connection refused before its request: {e}");
            return Ok(Step::Done);
        }
        Err(e) => {
            if matches!(e, WsError::Handshake(_)) {
                let _ = reject(&mut io, 431, &e.to_string());
            }
            return Err(e);
        }
    };
    if wants.plain_http {
        if let Some(request) = crate::http_plain::plain_request(&head[..end]) {
            return crate::opening_http::serve(io, request, wants);
        }
    }
    let accepted = match handshake::parse_request(&head[..end], wants.protocols, tls) {
        Ok(_) if wants.draining => {
            let _ = reject(
                &mut io,
                503,
                "the server is draining; connect to another one",
            );
            log::debug!("server: upgrade refused with 503 while draining");
            return Ok(Step::Done);
        }
        Ok(a) => a,
        Err((status, err)) => {
            let _ = reject(&mut io, status, &err.to_string());
            return Err(err);
        }
    };
    let leftover = head.split_off(end);
    if wants.hold {
        return Ok(Step::Waiting(Opening::Held {
            io,
            request: Box::new(accepted),
            leftover,
            decision: None,
        }));
    }
    answer(io, accepted, leftover, wants)
}

/// Server: answers a valid request with `101 Switching Protocols`.
fn answer(
    mut io: Io,
    accepted: AcceptedRequest,
    leftover: Vec<u8>,
    wants: &Wants,
) -> Result<Step, WsError> {
    let compression = match (&wants.compression, &accepted.extensions) {
        (Some(config), Some(offers)) => extension::accept(offers, config),
        _ => None,
    };
    let answer = compression.map(|a| a.header_value());
    io.queue_bytes(
        handshake::accept_response(&accepted, wants.headers, answer.as_deref()).as_bytes(),
    );
    io.flush_out()
        .map_err(|e| handshake_io_error(e, "sending the upgrade response"))?;
    Ok(Step::Open(Opened {
        io,
        leftover,
        client: false,
        protocol: accepted.protocol,
        requested_url: Some(accepted.requested_url),
        compression,
        headers: accepted.headers,
    }))
}

/// A TLS failure inside an I/O error is reported as TLS; anything else as a
/// failed upgrade.
pub fn handshake_io_error(e: io::Error, what: &str) -> WsError {
    if let Some(tls) = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<TlsFailure>())
    {
        return crate::tls::error(&tls.0);
    }
    WsError::Handshake(format!("connection lost while {what}: {e}"))
}

/// Reads into `head` until it holds a whole HTTP head; returns its end.
fn read_head(io: &mut Io, head: &mut Vec<u8>) -> Result<Option<usize>, WsError> {
    let mut chunk = [0u8; HEAD_CHUNK];
    loop {
        match io.read(&mut chunk) {
            Ok(0) => {
                return Err(WsError::Handshake(
                    "the other side closed the connection before the upgrade was complete".into(),
                ))
            }
            Ok(n) => {
                let scan_from = head.len().saturating_sub(3);
                head.extend_from_slice(&chunk[..n]);
                let end = handshake::find_head_end(&head[scan_from..]).map(|e| scan_from + e);
                if end.unwrap_or(head.len()) > MAX_HEAD_SIZE {
                    return Err(WsError::Handshake(format!(
                        "the HTTP upgrade head is larger than {MAX_HEAD_SIZE} bytes"
                    )));
                }
                if end.is_some() {
                    return Ok(end);
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(handshake_io_error(e, "reading the upgrade")),
        }
    }
}

/// Server: a client whose request is held may go away meanwhile; this
/// notices it at once rather than at the handshake timeout. What it sends
/// meanwhile (as a rule nothing: it waits for the answer) is kept for after
/// the answer, up to a head's size.
fn watch_held(io: &mut Io, leftover: &mut Vec<u8>) -> Result<(), WsError> {
    let mut chunk = [0u8; 512];
    loop {
        match io.read(&mut chunk) {
            Ok(0) => {
                return Err(WsError::Handshake(
                    "the client closed the connection while its upgrade request was held".into(),
                ))
            }
            Ok(n) => {
                leftover.extend_from_slice(&chunk[..n]);
                if leftover.len() > MAX_HEAD_SIZE {
                    return Err(WsError::Handshake(format!(
                        "the client sent more than {MAX_HEAD_SIZE} bytes while its upgrade request was held"
                    )));
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(handshake_io_error(e, "holding the upgrade request")),
        }
    }
}

/// Best effort: tell an HTTP client why we refuse it.
pub(crate) fn reject(io: &mut Io, status: u16, why: &str) -> io::Result<()> {
    io.queue_bytes(handshake::reject_response(status, why).as_bytes());
    io.flush_out()
}
