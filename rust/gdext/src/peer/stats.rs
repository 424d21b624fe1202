//! `RustWebSocketPeer`'s statistics: the core's `Peer::statistics` as a
//! [Dictionary], the round-trip time for every frame, and `ping()`. An
//! addition to the engine's API; the counting itself is the core's.

use super::{state, RustWebSocketPeer};
use godot::global::Error;
use godot::prelude::*;
use rustws_core::Statistics;
use std::time::Duration;

#[godot_api(secondary)]
impl RustWebSocketPeer {
    /// The link's figures as a [Dictionary] (counts since the current
    /// connection started; they stay readable after it ends and are cleared
    /// by the next [method connect_to_url] or [method accept_stream]):
    /// [br]- [code]messages_in[/code], [code]messages_out[/code]: whole
    /// messages received and sent;
    /// [br]- [code]bytes_in[/code], [code]bytes_out[/code]: their payload
    /// bytes (received: after decompressing; sent: before compressing);
    /// [br]- [code]wire_bytes_in[/code], [code]wire_bytes_out[/code]: the
    /// bytes of every frame on the connection (headers, masks, pings, pongs,
    /// close, compressed payloads; not the HTTP upgrade). Below the payload
    /// bytes when compression saves;
    /// [br]- [code]queued_in[/code]: received packets waiting to be read now;
    /// [br]- [code]queued_out[/code], [code]buffered_out[/code]: sent messages
    /// and bytes not yet handed to the socket now;
    /// [br]- [code]pings_sent[/code], [code]pongs_received[/code]: our pings
    /// ([method ping] and [member heartbeat_interval]) and the pongs that
    /// answered them;
    /// [br]- [code]rtt_ms[/code], [code]rtt_smoothed_ms[/code],
    /// [code]rtt_lowest_ms[/code]: the round-trip time in milliseconds,
    /// latest, smoothed (each new sample weighs 1/8) and lowest; -1 until a
    /// pong answered one of our pings (a pong nobody asked for does not
    /// count);
    /// [br]- [code]since_last_message_ms[/code]: milliseconds since the last
    /// message arrived (as of the [method poll] that read it), -1 before the
    /// first.
    #[func]
    fn get_statistics(&self) -> VarDictionary {
        let figures = self.shared.lock().core.statistics();
        statistics_dictionary(&figures)
    }

    /// The latest round-trip time in milliseconds, measured with this link's
    /// own pings ([method ping], or the [member heartbeat_interval]); -1
    /// before the first answer. Cheap enough to read every frame.
    #[func]
    fn get_round_trip_time(&self) -> f64 {
        millis(self.shared.lock().core.round_trip_time())
    }

    /// Milliseconds since the last message arrived (as of the [method poll]
    /// that read it); -1 before the first on this connection.
    #[func]
    fn get_time_since_last_message(&self) -> f64 {
        millis(self.shared.lock().core.statistics().since_last_message)
    }

    /// Adds Godot [Performance] custom monitors over every
    /// [RustWebSocketPeer] made from now on (the links of
    /// [RustWebSocketMultiplayerPeer] and [RustWebSocketClient] included),
    /// shown as graphs in the debugger's Monitors tab under
    /// [code]RustWebSocket[/code]: [code]open_links[/code],
    /// [code]messages_in_per_s[/code], [code]messages_out_per_s[/code],
    /// [code]bytes_in_per_s[/code], [code]bytes_out_per_s[/code] (bytes on
    /// the wire), [code]queued_in[/code], [code]queued_out[/code],
    /// [code]rtt_ms[/code] (the smoothed round-trip time averaged over the
    /// open links that measured one; 0 when none has) and
    /// [code]rtt_lowest_ms[/code]. Calling it again changes nothing. The
    /// project setting [code]network/rust_websocket/performance_monitors[/code]
    /// set to [code]true[/code] does the same at start. Off by default:
    /// until then no peer is tracked.
    #[func]
    fn add_performance_monitors() {
        crate::monitors::add();
    }

    /// Sends a ping now; its pong (read by a later [method poll]) updates the
    /// round-trip time ([method get_round_trip_time]). Every WebSocket peer
    /// answers pings, the engine's included. Returns [constant FAILED]
    /// (printing why) when the link is not open.
    #[func]
    fn ping(&self) -> Error {
        let result = self.shared.lock().core.ping();
        state::to_godot(result.map_err(|e| (e, String::new())))
    }
}

/// Milliseconds, or -1 for none.
pub(crate) fn millis(d: Option<Duration>) -> f64 {
    d.map_or(-1.0, |d| d.as_secs_f64() * 1000.0)
}

/// [`Statistics`] as the [Dictionary] GDScript reads (keys documented on
/// `get_statistics`).
pub(crate) fn statistics_dictionary(s: &Statistics) -> VarDictionary {
    let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    let mut d = VarDictionary::new();
    for (key, value) in [
        ("messages_in", s.messages_in),
        ("messages_out", s.messages_out),
        ("bytes_in", s.bytes_in),
        ("bytes_out", s.bytes_out),
        ("wire_bytes_in", s.wire_in),
        ("wire_bytes_out", s.wire_out),
        ("queued_in", s.queued_in),
        ("queued_out", s.queued_out),
        ("buffered_out", s.buffered_out),
        ("pings_sent", s.pings_sent),
        ("pongs_received", s.pongs_received),
    ] {
        d.set(key, count(value));
    }
    for (key, value) in [
        ("rtt_ms", s.rtt_latest),
        ("rtt_smoothed_ms", s.rtt_smoothed),
        ("rtt_lowest_ms", s.rtt_lowest),
        ("since_last_message_ms", s.since_last_message),
    ] {
        d.set(key, millis(value));
    }
    d
}
