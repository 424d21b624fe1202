//! `RustWebSocketMultiplayerPeer`'s statistics: the figures of each link
//! (the core's `Peer::statistics`) and their totals. An addition to the
//! engine's API.

use super::RustWebSocketMultiplayerPeer;
use crate::peer::stats::statistics_dictionary;
use godot::prelude::*;
use rustws_core::Statistics;

#[godot_api(secondary)]
impl RustWebSocketMultiplayerPeer {
    /// The figures of all connected peers together, as a [Dictionary] with
    /// the keys of [method RustWebSocketPeer.get_statistics]: counts and
    /// bytes added over the links; [code]rtt_ms[/code] and
    /// [code]rtt_smoothed_ms[/code] the average over the links that have
    /// measured one (-1 when none has), [code]rtt_lowest_ms[/code] the
    /// lowest, [code]since_last_message_ms[/code] the shortest. Plus
    /// [code]links[/code]: the connected peers counted. Links keep their
    /// heartbeat ([member heartbeat_interval]), so round-trip times come by
    /// themselves.
    #[func]
    fn get_statistics(&self) -> VarDictionary {
        let (links, total) = {
            let state = self.shared.lock();
            let figures: Vec<Statistics> = state
                .hub
                .links()
                .map(|(_, link)| link.1.lock().core.statistics())
                .collect();
            (figures.len(), Statistics::total(figures))
        };
        let mut d = statistics_dictionary(&total);
        d.set("links", i64::try_from(links).unwrap_or(i64::MAX));
        d
    }

    /// The figures of the link to the peer [param id], as a [Dictionary]
    /// with the keys of [method RustWebSocketPeer.get_statistics]; empty
    /// (printing an error) when no peer has that id.
    #[func]
    fn get_peer_statistics(&self, id: i32) -> VarDictionary {
        self.with_link(id, |l| l.1.lock().core.statistics())
            .map(|s| statistics_dictionary(&s))
            .unwrap_or_default()
    }
}
