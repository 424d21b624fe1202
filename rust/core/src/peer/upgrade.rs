//! The server's view of the upgrade request and its answer, with
//! [`PeerConfig::hold_upgrade`](crate::PeerConfig::hold_upgrade): the held
//! request's URL and headers, and the game's decision (accept, or refuse
//! with an HTTP status), which the next poll carries out.

use super::{Peer, Phase};
use crate::error::WsError;
use crate::opening::Decision;

impl Peer {
    /// The headers the other side sent in the upgrade (names lower-cased,
    /// repeated headers joined with `,`): on the server the client's request,
    /// readable while it is held and once open; on the client the server's
    /// answer, once open.
    pub fn handshake_headers(&self) -> &[(String, String)] {
        match &self.phase {
            Phase::Opening(o) => o
                .held_request()
                .map(|r| r.headers.as_slice())
                .unwrap_or_default(),
            _ => &self.handshake_headers,
        }
    }

    /// Server: a valid upgrade request waits for [`Peer::accept_upgrade`] or
    /// [`Peer::refuse_upgrade`] (only with
    /// [`PeerConfig::hold_upgrade`](crate::PeerConfig::hold_upgrade)).
    pub fn upgrade_waiting(&self) -> bool {
        matches!(&self.phase, Phase::Opening(o) if o.held_request().is_some())
    }

    /// Server, while opening: `false` when a poll would certainly do
    /// nothing now (the client sent nothing new, nothing waits to be
    /// written, no decision waits to be carried out), so a crowd of silent
    /// joining connections costs no work per frame; `true` otherwise (and
    /// once open, or on the client side).
    pub fn opening_may_have_input(&self, now: std::time::Instant) -> bool {
        match &self.phase {
            Phase::Opening(o) => o.may_have_input(now),
            _ => true,
        }
    }

    /// Server: the URL the held request asked for (`ws://host/path?query`).
    pub(super) fn held_url(&self) -> Option<&str> {
        match &self.phase {
            Phase::Opening(o) => o.held_request().map(|r| r.requested_url.as_str()),
            _ => None,
        }
    }

    /// Server: answers the held request with `101 Switching Protocols` at
    /// the next poll, which opens the link.
    pub fn accept_upgrade(&mut self) -> Result<(), WsError> {
        self.decide(Decision::Accept)
    }

    /// Server: answers the held request with an HTTP error `status` (400 to
    /// 599) and `reason` as its body at the next poll, then closes.
    pub fn refuse_upgrade(&mut self, status: i64, reason: &str) -> Result<(), WsError> {
        let status = u16::try_from(status)
            .ok()
            .filter(|s| (400..=599).contains(s))
            .ok_or_else(|| {
                WsError::InvalidParameter(format!(
                    "refuse_upgrade: status {status} is not an HTTP error status (400 to 599)"
                ))
            })?;
        if reason.contains(['\r', '\n']) || reason.len() > 1024 {
            return Err(WsError::InvalidParameter(
                "refuse_upgrade: the reason must be one line of at most 1,024 bytes".into(),
            ));
        }
        self.decide(Decision::Refuse {
            status,
            reason: reason.to_string(),
        })
    }

    fn decide(&mut self, decision: Decision) -> Result<(), WsError> {
        let decided = match &mut self.phase {
            Phase::Opening(o) => o.decide(decision),
            _ => false,
        };
        match decided {
            true => Ok(()),
            false => Err(WsError::InvalidParameter(
                "no upgrade request is waiting for a decision (hold_upgrade on, server side, \
                 request read by poll())"
                    .into(),
            )),
        }
    }
}
