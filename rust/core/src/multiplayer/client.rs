//! The client side of the hub: one link to the server, connected once the
//! server's first message gave this peer its id.

use super::{Event, Hub, Link, Status, SERVER_ID};
use crate::peer::ReadyState;

impl<L: Link> Hub<L> {
    pub(super) fn poll_client(&mut self) {
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
                    let id = <[u8; 4]>::try_from(&first.data[..]).map(i32::from_le_bytes);
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
                                first.data.len()
                            );
                            link.close();
                            return;
                        }
                    }
                }
                Self::drain_link(&mut self.incoming, SERVER_ID, link, false);
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
                    Self::drain_link(&mut self.incoming, SERVER_ID, link, false);
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
}
