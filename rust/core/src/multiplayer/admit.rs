//! The hub behind a load balancer: which connections must start with a
//! PROXY protocol header ([`PeerConfig::proxy_protocol`],
//! [`PeerConfig::trusted_proxies`]), the real client of a link, plain HTTP
//! requests held for the game, and draining ([`Hub::drain`]): no new
//! client joins (upgrades and the health check get 503, the listener stays
//! open), every link is closed with 1012 after the grace, and
//! [`Event::Drained`] says when the last one is gone.

use super::{Event, Hub, HubError, Link};
use crate::config::PeerConfig;
use crate::forwarded::TrustedProxies;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

/// The close reason draining sends with code 1012 (service restart).
pub const RESTART_REASON: &str = "service restart";

/// The hub's admission settings and draining state.
#[derive(Debug, Default)]
pub(super) struct Admission {
    proxy_protocol: bool,
    trusted: TrustedProxies,
    /// Draining since `drain`: links are closed once `until` has passed.
    pub drain: Option<Drain>,
}

#[derive(Debug)]
pub(super) struct Drain {
    until: Instant,
    closed: bool,
    reported: bool,
}

impl Admission {
    /// Takes the settings (called every poll: clones only on a change).
    pub fn configure(&mut self, config: &PeerConfig) {
        self.proxy_protocol = config.proxy_protocol;
        if self.trusted != config.trusted_proxies {
            self.trusted = config.trusted_proxies.clone();
        }
    }

    /// Whether a connection from `ip` must start with a PROXY header.
    pub fn wants_preface(&self, ip: IpAddr) -> bool {
        self.proxy_protocol && self.trusted.sends_proxy_header(ip)
    }
}

/// `seconds` as a grace: NaN and negative are 0, beyond a `Duration` is
/// as good as never.
fn grace(seconds: f64) -> Duration {
    if seconds.is_nan() {
        return Duration::ZERO;
    }
    crate::config::duration(seconds)
}

impl<L: Link> Hub<L> {
    /// Server: starts draining: no new client joins (an upgrade request
    /// gets 503, so does the health check; the listener stays open), and
    /// after `grace_seconds` (NaN or negative: 0) every link is closed with
    /// 1012 "service restart". [`Event::Drained`] comes when the last link
    /// is gone (at the next poll when there is none). Draining again only
    /// shortens the grace. Ends with [`Hub::clear`].
    pub fn drain(&mut self, grace_seconds: f64) -> Result<(), HubError> {
        if !self.is_server() {
            return Err(HubError::NotConnected);
        }
        let now = Instant::now();
        // Beyond what the clock holds: a century, as good as never.
        let until = now
            .checked_add(grace(grace_seconds))
            .or_else(|| now.checked_add(Duration::from_secs(100 * 365 * 86400)))
            .unwrap_or(now);
        match &mut self.admission.drain {
            Some(d) => d.until = d.until.min(until),
            None => {
                self.admission.drain = Some(Drain {
                    until,
                    closed: false,
                    reported: false,
                })
            }
        }
        let hold = self.hold_http;
        for p in self.pending.values_mut() {
            p.link.admit(hold, true);
        }
        self.drain_tick(Instant::now());
        Ok(())
    }

    /// The server drains ([`Hub::drain`]).
    pub fn is_draining(&self) -> bool {
        self.admission.drain.is_some()
    }

    /// Closes the links once the grace is over; says when the last one is
    /// gone.
    pub(super) fn drain_tick(&mut self, now: Instant) {
        let Some(drain) = &mut self.admission.drain else {
            return;
        };
        if !drain.closed && now >= drain.until {
            drain.closed = true;
            for link in self.links.values_mut() {
                link.close_with(1012, RESTART_REASON);
            }
        }
        let gone = self.links.is_empty() && self.departing.is_empty();
        if gone && !drain.reported {
            drain.reported = true;
            self.events.push_back(Event::Drained);
        }
    }

    /// The real client of a connected peer's link ([`Link::client_addr`]).
    pub fn client_addr(&self, id: i32) -> Option<SocketAddr> {
        self.link(id).and_then(Link::client_addr)
    }

    /// The plain HTTP request held on connection `id`
    /// ([`Event::HttpRequest`]).
    pub fn http_request(&self, id: i32) -> Option<crate::http_plain::HttpRequest> {
        self.pending_link(id).and_then(Link::http_request)
    }

    /// Answers the plain HTTP request held on connection `id`
    /// ([`crate::Peer::answer_http`] says what is accepted); written at the
    /// next poll, then the connection closes.
    pub fn answer_http(
        &mut self,
        id: i32,
        status: i64,
        headers: &[String],
        body: &[u8],
    ) -> Result<(), HubError> {
        let link = self.pending_link_mut(id).ok_or(HubError::NoSuchPeer(id))?;
        link.answer_http(status, headers, body)
            .map_err(HubError::Send)
    }
}
