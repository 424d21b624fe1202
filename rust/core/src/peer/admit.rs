//! A server link's admission behind a load balancer: the real client's
//! address (a PROXY protocol header's source, else a trusted proxy's
//! `Forwarded` / `X-Forwarded-For`, else the TCP peer), plain HTTP requests
//! held for the game and its answer, and the hub's draining.

use super::{Peer, Phase};
use crate::error::WsError;
use crate::http_plain::{self, HttpRequest};
use crate::transport::Stream;
use std::net::SocketAddr;

/// What the hub that accepted a link tells it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Admission {
    /// A hub accepted the link: plain HTTP requests are answered (a peer
    /// the game accepted itself refuses them as before, with 426).
    pub by_hub: bool,
    /// Plain HTTP requests other than the health check wait for
    /// [`Peer::answer_http`] (the game listens for them).
    pub hold_http: bool,
    /// The server drains: the health check and upgrades get 503.
    pub draining: bool,
}

impl Peer {
    /// Server: what the hub says of this link: plain HTTP requests are
    /// answered (health check, 404), held for the game (`hold_http`), and
    /// whether the server drains. Applies to the request not read yet (a
    /// draining server refuses its upgrade with 503). A link never told
    /// this (one the game accepted itself) answers plain HTTP with 426, as
    /// before.
    pub fn set_admission(&mut self, hold_http: bool, draining: bool) {
        self.admission = Admission {
            by_hub: true,
            hold_http,
            draining,
        };
    }

    /// The real client: the source a PROXY protocol header named, else the
    /// right-most untrusted address of a trusted proxy's `Forwarded` or
    /// `X-Forwarded-For` header (port 0 unless the header gives one), else
    /// the TCP peer ([`Peer::peer_addr`]). Known once open, and while an
    /// upgrade request is held (the PROXY source as soon as it is read);
    /// kept after the link closes.
    pub fn client_addr(&self) -> Option<SocketAddr> {
        if self.client_addr.is_some() {
            return self.client_addr;
        }
        let stream = self.stream();
        if let (Phase::Opening(o), Some(s)) = (&self.phase, stream) {
            if let Some(request) = o.held_request() {
                return self.real_client(s, &request.headers);
            }
        }
        stream.and_then(|s| s.proxied_source()).or(self.peer_addr)
    }

    /// [`Peer::client_addr`] for a stream that just opened with the other
    /// side's `headers`.
    pub(super) fn real_client(
        &self,
        stream: &dyn Stream,
        headers: &[(String, String)],
    ) -> Option<SocketAddr> {
        let tcp = self.peer_addr.or_else(|| stream.peer_addr());
        stream
            .proxied_source()
            .or_else(|| {
                tcp.and_then(|t| {
                    crate::forwarded::forwarded_client(
                        t.ip(),
                        headers,
                        &self.config.trusted_proxies,
                    )
                })
            })
            .or(tcp)
    }

    /// Server: the plain HTTP request (no upgrade asked for) waiting for
    /// [`Peer::answer_http`].
    pub fn http_request(&self) -> Option<&HttpRequest> {
        match &self.phase {
            Phase::Opening(o) => o.http_request(),
            _ => None,
        }
    }

    /// Server: answers the held plain HTTP request with `status` (100 to
    /// 599), extra `headers` (`Name: value` lines, no `Content-Length` or
    /// `Connection`) and `body` (at most [`http_plain::MAX_HTTP_BODY`]
    /// bytes; none for `HEAD`), written at the next poll; the connection
    /// then closes.
    pub fn answer_http(
        &mut self,
        status: i64,
        headers: &[String],
        body: &[u8],
    ) -> Result<(), WsError> {
        let status = http_plain::check_reply(status, headers, body.len())?;
        let answered = match &mut self.phase {
            Phase::Opening(o) => o.answer_http(status, headers, body),
            _ => false,
        };
        if answered {
            Ok(())
        } else {
            Err(WsError::InvalidParameter(
                "no plain HTTP request is waiting for an answer".into(),
            ))
        }
    }
}
