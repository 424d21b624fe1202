//! The star network behind `RustWebSocketMultiplayerPeer`, run by the same
//! rules as the engine's `WebSocketMultiplayerPeer`, so either end can be
//! the engine's class:
//! - the server is peer 1; it listens, and gives each client a random id
//!   (2..2^31) as the first message on its link (4 bytes, little-endian);
//! - a client talks to the server only (relaying is the high-level
//!   multiplayer API's job), and counts as connected once it has its id;
//! - packets carry no header of their own; empty ones are not delivered;
//! - links not open (with an id) within the handshake timeout are dropped.
//!
//! The hub is generic over its links ([`Link`]), so the Godot layer can keep
//! each link as a `RustWebSocketPeer` object that `get_peer()` hands out,
//! while the tests here use [`Peer`] itself.

use crate::error::WsError;
use crate::peer::{Peer, ReadyState};
use crate::readiness::Socket;
use crate::tls::TlsStream;
use crate::transport::Stream;
use rustls::ServerConfig;
use std::collections::{BTreeMap, VecDeque};
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tungstenite::Bytes;

/// Heartbeat of every multiplayer link, in seconds: a peer that stops
/// answering pings (a half-open connection, a crashed client) is dropped
/// after one to two intervals. The engine's class sends none, so its links
/// to a vanished peer stay until TCP gives up; pings are answered by every
/// WebSocket peer, the engine's included. Change it per link through
/// `get_peer(id).heartbeat_interval`.
pub const LINK_HEARTBEAT_SECONDS: f64 = 10.0;

/// Connections accepted in one poll at most (a burst is taken over a few
/// frames instead of stalling one).
pub const ACCEPTS_PER_POLL: usize = 64;

/// The server's id, as in the engine.
pub const SERVER_ID: i32 = 1;

/// `MultiplayerPeer.ConnectionStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Disconnected = 0,
    Connecting = 1,
    Connected = 2,
}

/// What the hub needs of one WebSocket link.
pub trait Link {
    /// Advances the link (handshake, reads, writes); reports its own errors.
    fn poll(&mut self);
    fn state(&self) -> ReadyState;
    /// Sends one binary message.
    fn send(&mut self, data: &[u8]) -> Result<(), WsError>;
    /// The next received message, if any.
    fn pop(&mut self) -> Option<Bytes>;
    /// Starts a clean close.
    fn close(&mut self);
    fn peer_addr(&self) -> Option<SocketAddr>;
    /// Polls, hands every received message to `out`, and returns the state
    /// after: one step for the hub's per-frame sweep (a link may do it
    /// cheaper than the three calls).
    fn poll_drain(&mut self, out: &mut dyn FnMut(Bytes)) -> ReadyState {
        self.poll();
        while let Some(data) = self.pop() {
            out(data);
        }
        self.state()
    }
}

impl Link for Peer {
    fn poll(&mut self) {
        if let Some(e) = Peer::poll(self) {
            log::warn!("multiplayer link: {e}");
        }
    }
    fn state(&self) -> ReadyState {
        self.ready_state()
    }
    fn send(&mut self, data: &[u8]) -> Result<(), WsError> {
        Peer::send(self, data, false)
    }
    fn pop(&mut self) -> Option<Bytes> {
        self.pop_packet().map(|p| p.data)
    }
    fn close(&mut self) {
        let _ = Peer::close(self, 1000, "");
    }
    fn peer_addr(&self) -> Option<SocketAddr> {
        Peer::peer_addr(self)
    }
}

/// Something the Godot layer turns into a signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    Connected(i32),
    Disconnected(i32),
}

/// One received packet and the peer it came from.
pub struct Received {
    pub from: i32,
    pub data: Bytes,
}

/// Why a hub call failed, mapped to the engine's error codes by the caller.
#[derive(Debug, Clone, PartialEq)]
pub enum HubError {
    /// Already a client or server (ERR_ALREADY_IN_USE).
    AlreadyInUse,
    /// Not connected (ERR_UNCONFIGURED).
    NotConnected,
    /// No peer with this id (ERR_INVALID_PARAMETER).
    NoSuchPeer(i32),
    /// The port is taken (ERR_ALREADY_IN_USE).
    AddressInUse(String),
    /// The address or port cannot be listened on (ERR_CANT_CREATE).
    Listen(String),
    /// The link refused the message (its own error code).
    Send(WsError),
}

impl std::fmt::Display for HubError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HubError::AlreadyInUse => {
                write!(f, "already a client or server; call close() first")
            }
            HubError::NotConnected => write!(f, "not connected; create a client or server first"),
            HubError::NoSuchPeer(id) => write!(f, "no connected peer with id {id}"),
            HubError::AddressInUse(why) => write!(f, "cannot listen, the port is taken: {why}"),
            HubError::Listen(why) => write!(f, "cannot listen: {why}"),
            HubError::Send(e) => write!(f, "{e}"),
        }
    }
}

struct Pending<L> {
    link: L,
    since: Instant,
}

/// The multiplayer state: links by peer id, received packets, the target.
pub struct Hub<L> {
    status: Status,
    unique_id: i32,
    listener: Option<TcpListener>,
    tls: Option<Arc<ServerConfig>>,
    pending: BTreeMap<i32, Pending<L>>,
    links: BTreeMap<i32, L>,
    incoming: VecDeque<Received>,
    events: VecDeque<Event>,
    /// Peers whose link ended while packets of theirs were waiting: their
    /// `Disconnected` comes at the next poll.
    departing: Vec<i32>,
    /// The last accept failed (e.g. out of descriptors); said once until an
    /// accept works again.
    accept_failing: bool,
    client_since: Instant,
    /// `set_target_peer`: 0 all, > 0 one peer, < 0 all but that one.
    pub target: i32,
    /// `refuse_new_connections`.
    pub refuse_new: bool,
    /// Links not open by then are dropped (the engine's default: 3 s).
    pub handshake_timeout: Duration,
}

impl<L: Link> Default for Hub<L> {
    fn default() -> Self {
        Hub {
            status: Status::Disconnected,
            unique_id: 0,
            listener: None,
            tls: None,
            pending: BTreeMap::new(),
            links: BTreeMap::new(),
            incoming: VecDeque::new(),
            events: VecDeque::new(),
            departing: Vec::new(),
            accept_failing: false,
            client_since: Instant::now(),
            target: 0,
            refuse_new: false,
            handshake_timeout: Duration::from_secs(3),
        }
    }
}

/// The address `create_server` binds: `"*"` is every address, IPv6 and IPv4
/// where the system allows both.
fn bind_addresses(bind: &str, port: u16) -> Result<Vec<SocketAddr>, HubError> {
    if bind == "*" || bind.is_empty() {
        return Ok(vec![
            SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), port),
            SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port),
        ]);
    }
    let ip: IpAddr = bind.parse().map_err(|_| {
        HubError::Listen(format!(
            "bind_address \"{bind}\" is not an IP address (or \"*\" for all)"
        ))
    })?;
    Ok(vec![SocketAddr::new(ip, port)])
}

/// The listening socket of a server hub (for inspecting its options).
pub fn listen_socket_of<L: Link>(hub: &Hub<L>) -> Option<&TcpListener> {
    hub.listener.as_ref()
}

/// Connections the kernel holds for us between polls (the engine's
/// TCPServer uses 8, so a burst of clients overflows it).
pub const LISTEN_BACKLOG: i32 = 1024;

/// A listening socket on `addr`. The IPv6 wildcard also takes IPv4 clients
/// (IPV6_V6ONLY off, as the engine's TCPServer does; the system default is
/// on under Windows and some Linux setups, where IPv4 clients were refused).
fn listen(addr: SocketAddr) -> io::Result<TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    let sock = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    if addr.is_ipv6() && addr.ip().is_unspecified() {
        let _ = sock.set_only_v6(false);
    }
    // As std and the engine do on Unix: a restarted server can bind at once.
    #[cfg(unix)]
    sock.set_reuse_address(true)?;
    sock.bind(&addr.into())?;
    sock.listen(LISTEN_BACKLOG)?;
    Ok(sock.into())
}

impl<L: Link> Hub<L> {
    pub fn status(&self) -> Status {
        self.status
    }

    /// 1 for the server, the id the server gave us for a client, 0 when
    /// disconnected (or still waiting for the id).
    pub fn unique_id(&self) -> i32 {
        self.unique_id
    }

    pub fn is_server(&self) -> bool {
        self.listener.is_some()
    }

    /// The port the server listens on (useful after listening on port 0).
    pub fn local_port(&self) -> Option<u16> {
        self.listener
            .as_ref()
            .and_then(|l| l.local_addr().ok())
            .map(|a| a.port())
    }

    /// Starts listening. `tls`: serve `wss://` with this configuration.
    pub fn create_server(
        &mut self,
        port: u16,
        bind: &str,
        tls: Option<Arc<ServerConfig>>,
    ) -> Result<(), HubError> {
        if self.status != Status::Disconnected {
            return Err(HubError::AlreadyInUse);
        }
        self.clear();
        let mut last_err = HubError::Listen("no address to listen on".into());
        let mut listener = None;
        for addr in bind_addresses(bind, port)? {
            match listen(addr) {
                Ok(l) => {
                    listener = Some(l);
                    break;
                }
                // Taken on IPv6 means taken: do not try IPv4 alone.
                Err(e) if e.kind() == io::ErrorKind::AddrInUse => {
                    return Err(HubError::AddressInUse(format!("{addr}: {e}")));
                }
                Err(e) => last_err = HubError::Listen(format!("{addr}: {e}")),
            }
        }
        let listener = listener.ok_or(last_err)?;
        listener
            .set_nonblocking(true)
            .map_err(|e| HubError::Listen(e.to_string()))?;
        self.listener = Some(listener);
        self.tls = tls;
        self.unique_id = SERVER_ID;
        self.status = Status::Connected;
        Ok(())
    }

    /// Becomes a client over `link`, on which `connect_to_url` was called.
    pub fn create_client(&mut self, link: L) -> Result<(), HubError> {
        if self.status != Status::Disconnected {
            return Err(HubError::AlreadyInUse);
        }
        self.clear();
        self.links.insert(SERVER_ID, link);
        self.client_since = Instant::now();
        self.status = Status::Connecting;
        Ok(())
    }

    /// Drops every link and returns to `Disconnected`; events not yet taken
    /// are dropped too (they belong to the session that ended).
    pub fn clear(&mut self) {
        self.status = Status::Disconnected;
        self.unique_id = 0;
        self.listener = None;
        self.tls = None;
        self.pending.clear();
        self.links.clear();
        self.incoming.clear();
        self.events.clear();
        self.departing.clear();
        self.accept_failing = false;
    }

    /// Connected peers (on a client: the server, while connected).
    pub fn links_len(&self) -> usize {
        self.links.len()
    }

    /// The link of a connected peer (on a client: 1, the server).
    pub fn link(&self, id: i32) -> Option<&L> {
        self.links.get(&id)
    }

    pub fn link_mut(&mut self, id: i32) -> Option<&mut L> {
        self.links.get_mut(&id)
    }

    /// The next signal to emit.
    pub fn next_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    pub fn available_packets(&self) -> usize {
        self.incoming.len()
    }

    /// The sender of the next packet (1 when there is none, as the engine).
    pub fn next_packet_peer(&self) -> i32 {
        self.incoming.front().map_or(SERVER_ID, |p| p.from)
    }

    pub fn pop_packet(&mut self) -> Option<Received> {
        self.incoming.pop_front()
    }

    /// Sends to the target peer(s): on a server, one peer, everyone, or
    /// everyone but one; on a client, always the server.
    pub fn put_packet(&mut self, data: &[u8]) -> Result<(), HubError> {
        if self.status != Status::Connected {
            return Err(HubError::NotConnected);
        }
        if !self.is_server() {
            let link = self
                .links
                .get_mut(&SERVER_ID)
                .ok_or(HubError::NotConnected)?;
            return link.send(data).map_err(HubError::Send);
        }
        if self.target > 0 {
            let link = self
                .links
                .get_mut(&self.target)
                .ok_or(HubError::NoSuchPeer(self.target))?;
            return link.send(data).map_err(HubError::Send);
        }
        let excluded = if self.target < 0 {
            self.target.checked_neg()
        } else {
            None
        };
        for (id, link) in self.links.iter_mut() {
            if excluded == Some(*id) {
                continue;
            }
            if let Err(e) = link.send(data) {
                // A reliable packet this peer will never get: end its link
                // rather than let it go on without it.
                log::error!(
                    "multiplayer: peer {id} could not take a broadcast packet ({e}); \
                     its link is closed"
                );
                link.close();
            }
        }
        Ok(())
    }

    /// Closes one peer's link; `force` forgets it at once (no
    /// `peer_disconnected`), and on a client ends the session.
    pub fn disconnect_peer(&mut self, id: i32, force: bool) -> Result<(), HubError> {
        let link = self.links.get_mut(&id).ok_or(HubError::NoSuchPeer(id))?;
        link.close();
        if force {
            self.links.remove(&id);
            if !self.is_server() {
                self.clear();
            }
        }
        Ok(())
    }

    fn new_id(&self) -> i32 {
        loop {
            let id = (rand::random::<u32>() & 0x7fff_ffff) as i32;
            if id > SERVER_ID && !self.links.contains_key(&id) && !self.pending.contains_key(&id) {
                return id;
            }
        }
    }

    /// Accepts, advances handshakes, reads every link and queues events.
    /// `new_link` makes a server-side link for an accepted stream (the flag
    /// says whether it is TLS); `None` refuses it.
    pub fn poll(&mut self, new_link: &mut dyn FnMut(Box<dyn Stream>, bool) -> Option<L>) {
        self.finish_departures();
        match self.status {
            Status::Disconnected => {}
            _ if self.is_server() => self.poll_server(new_link),
            _ => self.poll_client(),
        }
    }

    /// Queues a packet received from `from` (empty ones carry nothing).
    fn receive(incoming: &mut VecDeque<Received>, from: i32, data: Bytes) {
        if !data.is_empty() {
            incoming.push_back(Received { from, data });
        }
    }

    /// Moves the packets a link still holds to `incoming`.
    fn drain(incoming: &mut VecDeque<Received>, id: i32, link: &mut L) {
        while let Some(data) = link.pop() {
            Self::receive(incoming, id, data);
        }
    }

    /// A connected peer's link ended. Its packets stay readable; when some
    /// are waiting, its `Disconnected` comes at the start of the next poll,
    /// after the caller has read them (SceneMultiplayer reads only while the
    /// status is connected, and drops packets of peers it already forgot).
    fn depart(&mut self, id: i32, mut link: L) {
        Self::drain(&mut self.incoming, id, &mut link);
        if self.incoming.iter().any(|p| p.from == id) {
            self.departing.push(id);
        } else {
            self.finish_departure(id);
        }
    }

    fn finish_departures(&mut self) {
        for id in std::mem::take(&mut self.departing) {
            self.finish_departure(id);
        }
    }

    fn finish_departure(&mut self, id: i32) {
        self.events.push_back(Event::Disconnected(id));
        if !self.is_server() {
            // The client's session ends with its server link.
            let events = std::mem::take(&mut self.events);
            self.clear();
            self.events = events;
        }
    }

    fn poll_client(&mut self) {
        let Some(link) = self.links.get_mut(&SERVER_ID) else {
            self.clear();
            return;
        };
        link.poll();
        match link.state() {
            ReadyState::Open => {
                if self.status == Status::Connecting {
                    let Some(first) = link.pop() else {
                        return self.check_client_timeout();
                    };
                    let id = <[u8; 4]>::try_from(&first[..]).map(i32::from_le_bytes);
                    match id {
                        Ok(id) if id > SERVER_ID => {
                            self.unique_id = id;
                            self.status = Status::Connected;
                            self.events.push_back(Event::Connected(SERVER_ID));
                        }
                        _ => {
                            log::error!(
                                "multiplayer: the server's first message is not a peer id \
                                 ({} bytes); is it a WebSocketMultiplayerPeer server?",
                                first.len()
                            );
                            link.close();
                            return;
                        }
                    }
                }
                Self::drain(&mut self.incoming, SERVER_ID, link);
            }
            ReadyState::Closed => {
                let Some(link) = self.links.remove(&SERVER_ID) else {
                    return;
                };
                if self.status == Status::Connected {
                    self.depart(SERVER_ID, link);
                } else {
                    self.clear();
                }
            }
            _ => {
                // Closing: what came before the close is still delivered.
                if self.status == Status::Connected {
                    Self::drain(&mut self.incoming, SERVER_ID, link);
                }
                self.check_client_timeout();
            }
        }
    }

    fn check_client_timeout(&mut self) {
        if self.status == Status::Connecting && self.client_since.elapsed() > self.handshake_timeout
        {
            log::warn!(
                "multiplayer: no connection to the server after {:.1} s (handshake_timeout)",
                self.handshake_timeout.as_secs_f64()
            );
            self.clear();
        }
    }

    fn accept(&mut self, new_link: &mut dyn FnMut(Box<dyn Stream>, bool) -> Option<L>) {
        let Some(listener) = &self.listener else {
            return;
        };
        for _ in 0..ACCEPTS_PER_POLL {
            let sock = match listener.accept() {
                Ok((sock, _)) => {
                    self.accept_failing = false;
                    sock
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) => {
                    // Once per run of failures, not every frame: the
                    // connection waits in the kernel's queue meanwhile.
                    if !self.accept_failing {
                        self.accept_failing = true;
                        log::error!(
                            "multiplayer: cannot accept new connections: {e} (out of file \
                             descriptors? raise the process's limit, e.g. `ulimit -n`); \
                             retrying every poll"
                        );
                    }
                    return;
                }
            };
            if self.refuse_new {
                continue;
            }
            if sock.set_nonblocking(true).is_err() {
                continue;
            }
            let stream: Box<dyn Stream> = match &self.tls {
                Some(config) => match TlsStream::server(Arc::clone(config), sock) {
                    Ok(s) => Box::new(s),
                    Err(e) => {
                        log::warn!("multiplayer: {e}");
                        continue;
                    }
                },
                None => Box::new(Socket::new(sock)),
            };
            if let Some(link) = new_link(stream, self.tls.is_some()) {
                let id = self.new_id();
                self.pending.insert(
                    id,
                    Pending {
                        link,
                        since: Instant::now(),
                    },
                );
            }
        }
    }

    fn poll_server(&mut self, new_link: &mut dyn FnMut(Box<dyn Stream>, bool) -> Option<L>) {
        self.accept(new_link);
        let timeout = self.handshake_timeout;
        let mut opened = Vec::new();
        self.pending.retain(|id, p| {
            if p.since.elapsed() > timeout {
                log::debug!("multiplayer: peer {id} not open after {timeout:?}; dropped");
                return false;
            }
            p.link.poll();
            match p.link.state() {
                ReadyState::Connecting => true,
                ReadyState::Open => {
                    opened.push(*id);
                    true
                }
                _ => false,
            }
        });
        for id in opened {
            let Some(mut p) = self.pending.remove(&id) else {
                continue;
            };
            if self.refuse_new {
                p.link.close();
                continue;
            }
            match p.link.send(&id.to_le_bytes()) {
                Ok(()) => {
                    self.links.insert(id, p.link);
                    self.events.push_back(Event::Connected(id));
                }
                Err(e) => log::error!("multiplayer: could not send peer {id} its id: {e}"),
            }
        }
        let mut gone = Vec::new();
        let incoming = &mut self.incoming;
        for (id, link) in self.links.iter_mut() {
            // Packets that came before a close are delivered.
            let state = link.poll_drain(&mut |data| Self::receive(incoming, *id, data));
            if state != ReadyState::Open {
                gone.push(*id);
            }
        }
        for id in gone {
            if let Some(link) = self.links.remove(&id) {
                self.depart(id, link);
            }
        }
    }
}
