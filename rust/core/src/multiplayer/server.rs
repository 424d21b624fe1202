//! The server side of the hub: listening (dual-stack for `"*"`, a deep
//! backlog), accepting at most [`ACCEPTS_PER_POLL`] connections (and
//! [`ACCEPT_BUDGET`] of time) a poll and
//! keeping at most [`Hub::max_pending`] still opening (the oldest goes
//! first), polling those only when they may have something to do, giving
//! each new link a random id once it is open, and sweeping the open links
//! for packets and ends.

use super::incoming::Tagged;
use super::{
    admit, Event, Hub, HubError, Link, Pending, ACCEPTS_BEFORE_BUDGET, ACCEPTS_PER_POLL,
    ACCEPT_BUDGET, SERVER_ID,
};
use crate::peer::ReadyState;
use crate::preface::Prefaced;
use crate::readiness::{self, Listener, Socket};
use crate::tls::TlsStream;
use crate::transport::Stream;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener};
use std::ops::Bound;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The address `create_server` binds: `"*"` is every address, IPv6 and IPv4
/// where the system allows both.
pub(super) fn bind_addresses(bind: &str, port: u16) -> Result<Vec<SocketAddr>, HubError> {
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
    hub.listener.as_ref().map(|l| l.socket())
}

/// Connections the kernel holds for us between polls (the engine's
/// TCPServer uses 8, so a burst of clients overflows it).
pub const LISTEN_BACKLOG: i32 = 1024;

/// A listening socket on `addr`. The IPv6 wildcard also takes IPv4 clients
/// (IPV6_V6ONLY off, as the engine's TCPServer does; the system default is
/// on under Windows and some Linux setups, where IPv4 clients were refused).
pub(super) fn listen(addr: SocketAddr) -> io::Result<TcpListener> {
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

/// Where no readiness set says which sockets have input (macOS), a connection still opening is asked directly at most this often:
/// hundreds of silent ones then cost a few system calls per frame, not one
/// each (a request waits at most this long to be noticed).
const PENDING_RECHECK: Duration = Duration::from_millis(20);

impl<L: Link> Hub<L> {
    fn new_id(&self) -> i32 {
        loop {
            let id = (rand::random::<u32>() & 0x7fff_ffff) as i32;
            if id > SERVER_ID && !self.links.contains_key(&id) && !self.pending.contains_key(&id) {
                return id;
            }
        }
    }

    fn accept(&mut self, new_link: &mut dyn FnMut(Box<dyn Stream>, bool) -> Option<L>) {
        // Out of `self` meanwhile, so the loop can change the rest.
        let Some(listener) = self.listener.take() else {
            return;
        };
        if listener.may_have_connection(Instant::now()) {
            self.accept_from(&listener, new_link);
        }
        self.listener = Some(listener);
    }

    fn accept_from(
        &mut self,
        listener: &Listener,
        new_link: &mut dyn FnMut(Box<dyn Stream>, bool) -> Option<L>,
    ) {
        let started = Instant::now();
        for taken in 0..ACCEPTS_PER_POLL {
            if taken >= ACCEPTS_BEFORE_BUDGET && started.elapsed() >= ACCEPT_BUDGET {
                return;
            }
            let (sock, from) = match listener.accept() {
                Ok(accepted) => {
                    self.accept_failing = false;
                    accepted
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
                _ if self.admission.wants_preface(from.ip()) => {
                    Box::new(Prefaced::new(sock, self.tls.clone()))
                }
                Some(config) => match TlsStream::server(Arc::clone(config), sock) {
                    Ok(s) => Box::new(s),
                    Err(e) => {
                        log::warn!("multiplayer: {e}");
                        continue;
                    }
                },
                None => Box::new(Socket::new(sock)),
            };
            if let Some(mut link) = new_link(stream, self.tls.is_some()) {
                link.admit(self.hold_http, self.is_draining());
                while self.pending.len() >= self.max_pending.max(1) {
                    if !self.drop_oldest_pending() {
                        break;
                    }
                }
                let id = self.new_id();
                self.pending.insert(
                    id,
                    Pending {
                        link,
                        since: Instant::now(),
                        announced: false,
                        due: false,
                        checked: None,
                        http_announced: false,
                    },
                );
                self.arrivals.push_back(id);
            }
        }
    }

    /// Drops the connection that has been opening longest, making room for
    /// a new one: a flood of connections that never finish opening then
    /// holds [`Hub::max_pending`] descriptors, and a real client that
    /// comes after it gets in. `false` when none is opening.
    fn drop_oldest_pending(&mut self) -> bool {
        while let Some(id) = self.arrivals.pop_front() {
            if self.pending.remove(&id).is_some() {
                self.pending_dropped += 1;
                return true;
            }
        }
        false
    }

    /// Forgets the ids in `arrivals` that left `pending` once they are most
    /// of it.
    fn compact_arrivals(&mut self) {
        if self.arrivals.len() > 2 * self.pending.len() + 64 {
            let pending = &self.pending;
            self.arrivals.retain(|id| pending.contains_key(id));
        }
    }

    /// The link of a client that has not joined yet (its upgrade request
    /// held, for example), by the id it will get.
    pub fn pending_link(&self, id: i32) -> Option<&L> {
        self.pending.get(&id).map(|p| &p.link)
    }

    /// [`Hub::pending_link`], to decide on its held request (it is polled
    /// at the next poll).
    pub fn pending_link_mut(&mut self, id: i32) -> Option<&mut L> {
        self.pending.get_mut(&id).map(|p| {
            p.due = true;
            &mut p.link
        })
    }

    pub(super) fn poll_server(
        &mut self,
        new_link: &mut dyn FnMut(Box<dyn Stream>, bool) -> Option<L>,
    ) {
        self.accept(new_link);
        let timeout = self.handshake_timeout;
        let mut opened = Vec::new();
        let events = &mut self.events;
        let now = Instant::now();
        self.pending.retain(|id, p| {
            if now.saturating_duration_since(p.since) > timeout {
                if p.http_announced {
                    // The game did not answer in time.
                    let _ = p.link.answer_http(504, &[], b"no answer in time\n");
                    p.link.poll();
                }
                log::debug!("multiplayer: peer {id} not open after {timeout:?}; dropped");
                return false;
            }
            // A silent connection costs a flag check, not a read (where
            // there is no readiness set, a direct check at most every
            // PENDING_RECHECK).
            if !std::mem::take(&mut p.due) {
                let recent = p
                    .checked
                    .is_some_and(|at| now.saturating_duration_since(at) < PENDING_RECHECK);
                if recent {
                    return true;
                }
                p.checked = (!readiness::HAS_SET).then_some(now);
                if !p.link.may_have_input(now) {
                    return true;
                }
            }
            p.link.poll();
            match p.link.state() {
                ReadyState::Connecting => {
                    if !p.announced && p.link.upgrade_waiting() {
                        p.announced = true;
                        events.push_back(Event::UpgradeWaiting(*id));
                    }
                    if !p.http_announced && p.link.http_waiting() {
                        p.http_announced = true;
                        events.push_back(Event::HttpRequest(*id));
                    }
                    true
                }
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
            if self.is_draining() {
                p.link.close_with(1012, admit::RESTART_REASON);
                continue;
            }
            if self.plain {
                self.join_plain(id, p.link);
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
        self.compact_arrivals();
        self.poll_turned_away();
        self.sweep_links();
        self.drain_tick(Instant::now());
    }

    /// Polls every open link and moves its packets to the incoming queue
    /// while that has room, starting after the link where it last filled,
    /// so each gets its turn; links that ended depart.
    fn sweep_links(&mut self) {
        let mut gone = Vec::new();
        let incoming = &mut self.incoming;
        let start = self.drain_after;
        let mut filled_at = None;
        let (later, earlier) = (
            (Bound::Excluded(start), Bound::Unbounded),
            (Bound::Unbounded, Bound::Included(start)),
        );
        for range in [later, earlier] {
            for (id, link) in self.links.range_mut(range) {
                let had_room = incoming.has_room();
                let mut inbox = Tagged {
                    incoming: &mut *incoming,
                    from: *id,
                    all: false,
                };
                // Packets that came before a close are delivered.
                let state = link.poll_drain(&mut inbox);
                if had_room && !incoming.has_room() && filled_at.is_none() {
                    filled_at = Some(*id);
                }
                if state != ReadyState::Open {
                    gone.push(*id);
                }
            }
        }
        if let Some(id) = filled_at {
            self.drain_after = id;
        }
        for id in gone {
            if let Some(link) = self.links.remove(&id) {
                self.depart(id, link);
            }
        }
    }
}
