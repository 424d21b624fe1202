//! Sending on a plain server: to one client, to every client (but some),
//! to a topic's subscribers. A message for many links is framed once
//! ([`Prepared`]) and its bytes appended to each link's outbound buffer; a
//! link that compresses it (permessage-deflate agreed, the message at least
//! `compression_threshold` long) compresses it itself, as its compressor's
//! window is its own.
//!
//! Each link keeps its own limits (`outbound_buffer_size`,
//! `max_queued_packets`). A client that cannot take a message sent to many
//! (it does not read fast enough) is closed with [`SLOW_LINK_CODE`], as the
//! multiplayer broadcast closes a link that misses a packet: it would
//! otherwise go on without a message every other client got. A send to one
//! client returns its error instead, and the link stays.

use super::topics::{self, Topics};
use super::{Event, Hub, HubError, Link};
use crate::connection::Prepared;

/// The close code of a client that could not take a broadcast or published
/// message (1008, policy violation: it did not read what it was sent).
pub const SLOW_LINK_CODE: i32 = 1008;

/// The close code of a client that opened while the server had
/// [`Hub::max_links`] clients (1013, try again later; `RustWebSocketClient`
/// reconnects after it).
pub const SERVER_FULL_CODE: i32 = 1013;

impl<L: Link> Hub<L> {
    /// A plain server's new client: in, unless the server is full.
    pub(super) fn join_plain(&mut self, id: i32, mut link: L) {
        if self.max_links > 0 && self.links.len() >= self.max_links {
            log::warn!(
                "server: a client was turned away: max_clients ({}) are connected",
                self.max_links
            );
            link.close_with(SERVER_FULL_CODE, "server full");
            self.turned_away.push(link);
            return;
        }
        self.links.insert(id, link);
        self.events.push_back(Event::Connected(id));
    }

    /// Polls the clients turned away until their close is done (bounded by
    /// their close timeout).
    pub(super) fn poll_turned_away(&mut self) {
        self.turned_away.retain_mut(|link| {
            link.poll();
            link.state() != crate::peer::ReadyState::Closed
        });
    }

    /// Sends one message to the connected client `id`.
    pub fn send_to(&mut self, id: i32, data: &[u8], text: bool) -> Result<(), HubError> {
        let link = self.links.get_mut(&id).ok_or(HubError::NoSuchPeer(id))?;
        link.send_message(data, text).map_err(HubError::Send)
    }

    /// Sends one message to every connected client but those in `except`;
    /// returns how many it went to.
    pub fn broadcast(
        &mut self,
        data: &[u8],
        text: bool,
        except: &[i32],
    ) -> Result<usize, HubError> {
        let ids: Vec<i32> = self
            .links
            .keys()
            .copied()
            .filter(|id| !except.contains(id))
            .collect();
        self.fan_out(data, text, &ids)
    }

    /// Subscribes the connected client `id` to `topic`; `false` when it
    /// already was.
    pub fn subscribe(&mut self, id: i32, topic: &str) -> Result<bool, HubError> {
        topics::check(topic).map_err(HubError::Invalid)?;
        if !self.links.contains_key(&id) {
            return Err(HubError::NoSuchPeer(id));
        }
        Ok(self.topics.subscribe(id, topic))
    }

    /// Unsubscribes client `id` from `topic`; `false` when it was not
    /// subscribed.
    pub fn unsubscribe(&mut self, id: i32, topic: &str) -> Result<bool, HubError> {
        topics::check(topic).map_err(HubError::Invalid)?;
        if !self.links.contains_key(&id) {
            return Err(HubError::NoSuchPeer(id));
        }
        Ok(self.topics.unsubscribe(id, topic))
    }

    /// The topics client `id` is subscribed to.
    pub fn topics_of(&self, id: i32) -> Vec<String> {
        self.topics.of(id)
    }

    /// The clients subscribed to `topic`.
    pub fn subscribers(&self, topic: &str) -> Vec<i32> {
        self.topics.subscribers(topic)
    }

    /// Sends one message to the subscribers of `topic`; returns how many
    /// it went to (0 when none).
    pub fn publish(&mut self, topic: &str, data: &[u8], text: bool) -> Result<usize, HubError> {
        topics::check(topic).map_err(HubError::Invalid)?;
        let ids = Topics::subscribers(&self.topics, topic);
        self.fan_out(data, text, &ids)
    }

    /// Frames built for messages sent to many clients since the server
    /// started (one per broadcast or publish that had a receiver).
    pub fn frames_built(&self) -> u64 {
        self.frames_built
    }

    /// Topics with at least one subscriber.
    pub fn topic_count(&self) -> usize {
        self.topics.len()
    }

    /// The ids of the connected clients.
    pub fn link_ids(&self) -> Vec<i32> {
        self.links.keys().copied().collect()
    }

    /// Closes client `id` with `code` and `reason`; it leaves at a later
    /// poll, once the close is done.
    pub fn close_link(&mut self, id: i32, code: i32, reason: &str) -> Result<(), HubError> {
        let link = self.links.get_mut(&id).ok_or(HubError::NoSuchPeer(id))?;
        link.close_with(code, reason);
        Ok(())
    }

    /// Frames `data` once and appends it to the links `ids`; a link that
    /// cannot take it is closed ([`SLOW_LINK_CODE`]).
    fn fan_out(&mut self, data: &[u8], text: bool, ids: &[i32]) -> Result<usize, HubError> {
        if ids.is_empty() {
            if text && std::str::from_utf8(data).is_err() {
                return Err(HubError::Send(crate::error::WsError::InvalidUtf8Outbound));
            }
            return Ok(0);
        }
        let message = Prepared::new(data, text).map_err(HubError::Send)?;
        self.frames_built += 1;
        let mut sent = 0;
        let mut slow = Vec::new();
        for id in ids {
            let Some(link) = self.links.get_mut(id) else {
                continue;
            };
            match link.send_prepared(&message) {
                Ok(()) => sent += 1,
                Err(e) => {
                    link.close_with(SLOW_LINK_CODE, "too slow: its send buffer is full");
                    slow.push((*id, e));
                }
            }
        }
        if let Some((id, e)) = slow.first() {
            log::warn!(
                "server: {} client(s) could not take a message sent to many and were closed \
                 with {SLOW_LINK_CODE} (first: {id}, {e}); raise outbound_buffer_size or \
                 max_queued_packets, or send less",
                slow.len()
            );
        }
        Ok(sent)
    }
}
