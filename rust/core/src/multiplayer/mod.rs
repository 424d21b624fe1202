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
//! In plain mode ([`Hub::plain`], the `RustWebSocketServer` node) the
//! server sends no id: its clients are any WebSocket clients, messages keep
//! their text or binary kind, and [`fanout`] sends to one client, to all
//! (but some), or to the subscribers of a topic ([`topics`]), each message
//! framed once for all of them.
//!
//! The hub is generic over its links ([`Link`]), so the Godot layer can keep
//! each link as a `RustWebSocketPeer` object that `get_peer()` hands out,
//! while the tests here use the core's `Peer` itself. The server side is in
//! [`server`], the client side in [`client`].

mod admit;
mod client;
mod fanout;
mod incoming;
mod link;
mod server;
mod topics;

pub use fanout::{SERVER_FULL_CODE, SLOW_LINK_CODE};
pub use incoming::PACKET_OVERHEAD;
pub use link::{Inbox, Link, LINK_HEARTBEAT_MISSES, LINK_HEARTBEAT_SECONDS};
pub use server::{listen_socket_of, LISTEN_BACKLOG};
pub use topics::MAX_TOPIC_LEN;

use crate::config::PeerConfig;
use crate::error::WsError;
use crate::readiness::Listener;
use crate::transport::Stream;
use incoming::{Incoming, Tagged};
use rustls::ServerConfig;
use std::collections::{BTreeMap, VecDeque};
use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};
use topics::Topics;
use tungstenite::Bytes;

/// Connections accepted in one poll at most (a burst is taken over a few
/// frames instead of stalling one).
pub const ACCEPTS_PER_POLL: usize = 64;
/// Accepting also stops once a poll has spent this long on it, after
/// [`ACCEPTS_BEFORE_BUDGET`] connections: where an accept and a close cost a
/// millisecond (Windows under load, Wine), 64 would stall the frame, and a
/// flood must still not outpace what is taken.
pub const ACCEPT_BUDGET: Duration = Duration::from_millis(4);
/// Connections always accepted in a poll (when waiting), whatever the time.
pub const ACCEPTS_BEFORE_BUDGET: usize = 16;

/// How long, in seconds, a new link has to open (and a client to get its
/// id): the engine's `handshake_timeout` default.
pub const MULTIPLAYER_HANDSHAKE_TIMEOUT: f64 = 3.0;

/// The settings a multiplayer link starts with: the engine's defaults, its
/// handshake timeout, and a heartbeat that keeps stalled clients (see
/// [`LINK_HEARTBEAT_MISSES`]).
pub fn link_config() -> PeerConfig {
    PeerConfig {
        handshake_timeout: MULTIPLAYER_HANDSHAKE_TIMEOUT,
        heartbeat_interval: LINK_HEARTBEAT_SECONDS,
        heartbeat_misses: LINK_HEARTBEAT_MISSES,
        ..PeerConfig::default()
    }
}

/// The server's id, as in the engine.
pub const SERVER_ID: i32 = 1;

/// `MultiplayerPeer.ConnectionStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Neither a client nor a server (or the session ended).
    Disconnected = 0,
    /// A client waiting for its link to open and for its id.
    Connecting = 1,
    /// A server, or a client with its id.
    Connected = 2,
}

/// Something the Godot layer turns into a signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// `peer_connected(id)`.
    Connected(i32),
    /// `peer_disconnected(id)`.
    Disconnected(i32),
    /// A joining client's upgrade request is held (`hold_upgrade`) and
    /// waits for the game to accept or refuse it; the id it gets if
    /// accepted. Once per client.
    UpgradeWaiting(i32),
    /// A plain HTTP request (no upgrade asked for, not the health check)
    /// waits for the game's answer ([`Hub::answer_http`]); only with
    /// [`Hub::hold_http`]. The id is the connection's, never a peer's.
    HttpRequest(i32),
    /// The server drains ([`Hub::drain`]) and its last link is gone. Once.
    Drained,
}

/// One received packet and the peer it came from.
pub struct Received {
    /// The sender's peer id.
    pub from: i32,
    /// The packet.
    pub data: Bytes,
    /// It came in a text frame (a plain server tells the game; the
    /// multiplayer API does not).
    pub text: bool,
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
    /// A bad argument (ERR_INVALID_PARAMETER): what is wrong with it.
    Invalid(String),
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
            HubError::Invalid(why) => write!(f, "{why}"),
        }
    }
}

struct Pending<L> {
    link: L,
    since: Instant,
    /// Its held request was announced ([`Event::UpgradeWaiting`]).
    announced: bool,
    /// Polled at the next poll even if it says it has nothing to do (the
    /// game decided on its held request).
    due: bool,
    /// When it was last asked whether it has input (see `PENDING_RECHECK`).
    checked: Option<Instant>,
    /// Its held plain HTTP request was announced ([`Event::HttpRequest`]).
    http_announced: bool,
}

/// The multiplayer state: links by peer id, received packets, the target.
pub struct Hub<L> {
    status: Status,
    unique_id: i32,
    listener: Option<Listener>,
    tls: Option<Arc<ServerConfig>>,
    pending: BTreeMap<i32, Pending<L>>,
    /// Ids of `pending` in the order they came (some may have left it):
    /// the oldest goes first when [`Hub::max_pending`] is reached.
    arrivals: VecDeque<i32>,
    /// Connections still opening dropped for newer ones, not yet reported.
    pending_dropped: u64,
    links: BTreeMap<i32, L>,
    incoming: Incoming,
    /// The sweep of the links starts after this id (it moves on when the
    /// incoming queue fills, so every link gets its turn).
    drain_after: i32,
    events: VecDeque<Event>,
    /// Peers whose link ended while packets of theirs were waiting: their
    /// `Disconnected` comes at the next poll.
    departing: Vec<i32>,
    /// Links of peers that left, kept until their `Disconnected` is taken.
    departed: BTreeMap<i32, L>,
    /// Links of peers whose `Disconnected` was taken and is being handled:
    /// [`Hub::link`] still finds them (as the engine's `get_peer` inside
    /// `peer_disconnected`) until [`Hub::handled`].
    leaving: Vec<(i32, L)>,
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
    /// Connections still opening at most; a new one drops the oldest
    /// ([`PeerConfig::max_pending_connections`]).
    pub max_pending: usize,
    /// Plain mode: no id message, clients are any WebSocket clients (see
    /// the module's help). Set before [`Hub::create_server`].
    pub plain: bool,
    /// Plain mode: open links at most (0: no limit); a client beyond is
    /// closed as soon as it opens, with [`SERVER_FULL_CODE`].
    pub max_links: usize,
    /// Clients turned away (plain mode, [`Hub::max_links`]), polled until
    /// their close is done so they read its code.
    turned_away: Vec<L>,
    /// Topics and their subscribers (plain mode).
    topics: Topics,
    /// Frames built by [`fanout`] (each broadcast or publish builds one).
    frames_built: u64,
    /// Admission behind a load balancer: PROXY protocol, trusted proxies
    /// and draining ([`admit`]).
    admission: admit::Admission,
    /// Plain HTTP requests other than the health check are held for the
    /// game ([`Event::HttpRequest`], [`Hub::answer_http`]); otherwise they
    /// get 404 at once. The Godot layer sets it while a handler listens.
    pub hold_http: bool,
}

impl<L: Link> Default for Hub<L> {
    fn default() -> Self {
        Hub {
            status: Status::Disconnected,
            unique_id: 0,
            listener: None,
            tls: None,
            pending: BTreeMap::new(),
            arrivals: VecDeque::new(),
            pending_dropped: 0,
            links: BTreeMap::new(),
            incoming: Incoming::new(
                link_config().hub_queue_packets(),
                link_config().hub_queue_bytes(),
            ),
            drain_after: 0,
            events: VecDeque::new(),
            departing: Vec::new(),
            departed: BTreeMap::new(),
            leaving: Vec::new(),
            accept_failing: false,
            client_since: Instant::now(),
            target: 0,
            refuse_new: false,
            handshake_timeout: crate::config::duration(MULTIPLAYER_HANDSHAKE_TIMEOUT),
            max_pending: crate::config::DEFAULT_MAX_PENDING_CONNECTIONS,
            plain: false,
            max_links: 0,
            turned_away: Vec::new(),
            topics: Topics::default(),
            frames_built: 0,
            admission: admit::Admission::default(),
            hold_http: false,
        }
    }
}

impl<L: Link> Hub<L> {
    /// Takes the hub's own settings from the class's: the handshake
    /// timeout, [`PeerConfig::max_pending_connections`] and the bound of
    /// the incoming queue ([`PeerConfig::hub_queue_bytes`],
    /// [`PeerConfig::hub_queue_packets`]).
    pub fn configure(&mut self, config: &PeerConfig) {
        self.handshake_timeout = config.handshake_limit();
        self.max_pending = config.max_pending_connections.max(1);
        self.incoming.max_bytes = config.hub_queue_bytes();
        self.incoming.max_packets = config.hub_queue_packets();
        self.admission.configure(config);
    }

    /// Sets the bound of the incoming queue directly: it takes packets from
    /// links while it holds fewer than `packets` packets and `bytes` bytes
    /// (each packet counted with [`PACKET_OVERHEAD`]).
    pub fn set_incoming_limits(&mut self, packets: usize, bytes: usize) {
        self.incoming.max_packets = packets;
        self.incoming.max_bytes = bytes;
    }

    /// What the incoming queue holds: payload bytes plus
    /// [`PACKET_OVERHEAD`] per packet.
    pub fn incoming_held(&self) -> usize {
        self.incoming.held()
    }

    /// Connections accepted and still opening.
    pub fn pending_len(&self) -> usize {
        self.pending.len()
    }

    /// How many connections still opening were dropped for newer ones since
    /// the last call (for the caller to report, outside its lock).
    pub fn take_pending_dropped(&mut self) -> u64 {
        std::mem::take(&mut self.pending_dropped)
    }

    /// Where the session is (`get_connection_status`).
    pub fn status(&self) -> Status {
        self.status
    }

    /// 1 for the server, the id the server gave us for a client, 0 when
    /// disconnected (or still waiting for the id).
    pub fn unique_id(&self) -> i32 {
        self.unique_id
    }

    /// `true` for a server (it listens).
    pub fn is_server(&self) -> bool {
        self.listener.is_some()
    }

    /// The port the server listens on (useful after listening on port 0).
    pub fn local_port(&self) -> Option<u16> {
        self.listener
            .as_ref()
            .and_then(|l| l.socket().local_addr().ok())
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
        for addr in server::bind_addresses(bind, port)? {
            match server::listen(addr) {
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
        self.listener = Some(Listener::new(listener));
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
        self.arrivals.clear();
        self.links.clear();
        self.incoming.clear();
        self.events.clear();
        self.departing.clear();
        self.departed.clear();
        self.leaving.clear();
        self.topics.clear();
        self.turned_away.clear();
        self.accept_failing = false;
        self.admission.drain = None;
    }

    /// Connected peers (on a client: the server, while connected).
    pub fn links_len(&self) -> usize {
        self.links.len()
    }

    /// The link of a connected peer (on a client: 1, the server), or of the
    /// peer whose `Disconnected` is being handled (its link closed).
    pub fn link(&self, id: i32) -> Option<&L> {
        self.links.get(&id).or_else(|| {
            self.leaving
                .iter()
                .find(|(gone, _)| *gone == id)
                .map(|(_, link)| link)
        })
    }

    /// Every connected peer's id and link.
    pub fn links(&self) -> impl Iterator<Item = (i32, &L)> {
        self.links.iter().map(|(id, link)| (*id, link))
    }

    /// The link of a connected peer, to change it.
    pub fn link_mut(&mut self, id: i32) -> Option<&mut L> {
        self.links.get_mut(&id)
    }

    /// The next signal to emit. The link of a peer that left stays
    /// reachable through [`Hub::link`] from its `Disconnected` until
    /// [`Hub::handled`] is called for that event.
    pub fn next_event(&mut self) -> Option<Event> {
        let event = self.events.pop_front()?;
        if let Event::Disconnected(id) = event {
            if let Some(link) = self.departed.remove(&id) {
                self.leaving.push((id, link));
            }
        }
        Some(event)
    }

    /// `event` (from [`Hub::next_event`]) has been handled: the link of a
    /// peer that left is handed back, to be dropped by the caller (after
    /// its lock, as the link may be an engine object).
    pub fn handled(&mut self, event: Event) -> Option<L> {
        let Event::Disconnected(id) = event else {
            return None;
        };
        let at = self.leaving.iter().position(|(gone, _)| *gone == id)?;
        Some(self.leaving.remove(at).1)
    }

    /// Received packets waiting to be read.
    pub fn available_packets(&self) -> usize {
        self.incoming.len()
    }

    /// The sender of the next packet (1 when there is none, as the engine).
    pub fn next_packet_peer(&self) -> i32 {
        self.incoming.front().map_or(SERVER_ID, |p| p.from)
    }

    /// Takes the oldest received packet.
    pub fn pop_packet(&mut self) -> Option<Received> {
        self.incoming.pop()
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

    /// Moves packets a link holds to `incoming`: while it has room, or
    /// (`all`) every one.
    fn drain_link(incoming: &mut Incoming, id: i32, link: &mut L, all: bool) {
        let mut inbox = Tagged {
            incoming,
            from: id,
            all,
        };
        while inbox.has_room() {
            let Some(packet) = link.pop() else {
                break;
            };
            inbox.take(packet.data, packet.text);
        }
    }

    /// A connected peer's link ended. Its packets stay readable; when some
    /// are waiting, its `Disconnected` comes at the start of the next poll,
    /// after the caller has read them (SceneMultiplayer reads only while the
    /// status is connected, and drops packets of peers it already forgot).
    fn depart(&mut self, id: i32, mut link: L) {
        // All of it: the link goes, and it held no more than its own limits.
        Self::drain_link(&mut self.incoming, id, &mut link, true);
        self.topics.forget(id);
        self.departed.insert(id, link);
        if self.incoming.has_from(id) {
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
            let departed = std::mem::take(&mut self.departed);
            self.clear();
            self.events = events;
            self.departed = departed;
        }
    }
}
