//! `RustWebSocketClient`'s statistics: its peer's (see
//! `RustWebSocketPeer.get_statistics`) plus the reconnects, and `ping()`.
//! The `pong_received` signal comes from the `session`'s poll.

use super::RustWebSocketClient;
use crate::peer::state;
use crate::peer::stats::{millis, statistics_dictionary};
use godot::global::Error;
use godot::prelude::*;

#[godot_api(secondary)]
impl RustWebSocketClient {
    /// The link's figures as a [Dictionary]: the keys of
    /// [method RustWebSocketPeer.get_statistics] for the current (or last)
    /// link, plus [code]reconnects[/code]: the attempts this node started by
    /// itself after a link dropped or an attempt failed (see
    /// [signal reconnecting]), since it was made.
    #[func]
    fn get_statistics(&self) -> VarDictionary {
        let figures = self.session.shared().lock().core.statistics();
        let mut d = statistics_dictionary(&figures);
        let reconnects = i64::try_from(self.session.reconnects()).unwrap_or(i64::MAX);
        d.set("reconnects", reconnects);
        d
    }

    /// The latest round-trip time in milliseconds, -1 before the first
    /// answer to a ping (see [method ping] and [signal pong_received]).
    #[func]
    fn get_round_trip_time(&self) -> f64 {
        millis(self.session.shared().lock().core.round_trip_time())
    }

    /// Sends a ping now; [signal pong_received] follows with the round-trip
    /// time when the server answers. Returns [constant FAILED] (printing
    /// why) when the link is not open.
    #[func(gd_self)]
    fn ping(mut this: Gd<Self>) -> Error {
        // A failure is printed once the node is no longer bound.
        Self::with(&mut this, |me| {
            let result = me.session.shared().lock().core.ping();
            state::to_godot(result.map_err(|e| (e, String::new())))
        })
    }
}
