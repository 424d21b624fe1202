//! Godot `Performance` custom monitors over every `RustWebSocketPeer` (the
//! links of the multiplayer class and the client node's included): open
//! links, messages and bytes per second in and out, what is queued, the
//! round-trip time. Opt-in (the project setting [`SETTING`] read at start,
//! or `RustWebSocketPeer.add_performance_monitors()`): until then peers are
//! not tracked at all. Once on, each new peer's state is remembered weakly;
//! the monitors read the core's statistics of the live ones at most every
//! [`SAMPLE_EVERY`], so no message pays for it.

use crate::binding::Shared;
use crate::peer::state::State;
use godot::classes::{Engine, Performance, ProjectSettings};
use godot::prelude::*;
use rustws_core::{ReadyState, Statistics};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};

/// The project setting that adds the monitors at start.
pub(crate) const SETTING: &str = "network/rust_websocket/performance_monitors";

/// The monitors' category in the debugger's Monitors tab.
const CATEGORY: &str = "RustWebSocket";

/// Figures are read again when the last reading is older than this (the
/// debugger asks for every monitor in turn, once a second).
const SAMPLE_EVERY: Duration = Duration::from_millis(200);

/// Peers are tracked once the monitors are on.
static ON: AtomicBool = AtomicBool::new(false);

static TRACKER: Mutex<Tracker> = Mutex::new(Tracker {
    peers: Vec::new(),
    pruned_at: 0,
    sampled: None,
    values: [0.0; MONITORS.len()],
});

/// The monitors: name, and the figure it shows.
const MONITORS: [(&str, Figure); 9] = [
    ("open_links", Figure::OpenLinks),
    ("messages_in_per_s", Figure::MessagesIn),
    ("messages_out_per_s", Figure::MessagesOut),
    ("bytes_in_per_s", Figure::WireIn),
    ("bytes_out_per_s", Figure::WireOut),
    ("queued_in", Figure::QueuedIn),
    ("queued_out", Figure::QueuedOut),
    ("rtt_ms", Figure::Rtt),
    ("rtt_lowest_ms", Figure::RttLowest),
];

#[derive(Clone, Copy)]
enum Figure {
    OpenLinks,
    MessagesIn,
    MessagesOut,
    WireIn,
    WireOut,
    QueuedIn,
    QueuedOut,
    Rtt,
    RttLowest,
}

struct Tracker {
    /// Each peer's state and its counts at the last reading.
    peers: Vec<(Weak<Shared<State>>, Statistics)>,
    /// The number of peers after the last pruning: the list is pruned when
    /// it doubles, so it stays bounded when nobody reads the monitors.
    pruned_at: usize,
    sampled: Option<Instant>,
    values: [f64; MONITORS.len()],
}

/// Remembers a new peer's state (when the monitors are on).
pub(crate) fn track(state: &Arc<Shared<State>>) {
    if !ON.load(Ordering::Relaxed) {
        return;
    }
    let mut t = TRACKER.lock().unwrap_or_else(PoisonError::into_inner);
    if t.peers.len() >= (2 * t.pruned_at).max(64) {
        t.peers.retain(|(w, _)| w.strong_count() > 0);
        t.pruned_at = t.peers.len();
    }
    t.peers.push((Arc::downgrade(state), Statistics::default()));
}

/// Shows the project setting in the editor (off unless the project sets
/// it) and adds the monitors when it is on.
pub(crate) fn from_project_setting() {
    let mut settings = ProjectSettings::singleton();
    if !settings.has_setting(SETTING) {
        settings.set_setting(SETTING, &false.to_variant());
    }
    settings.set_initial_value(SETTING, &false.to_variant());
    let mut info = VarDictionary::new();
    info.set("name", SETTING);
    info.set("type", VariantType::BOOL.ord());
    settings.add_property_info(&info);
    if settings
        .get_setting(SETTING)
        .try_to::<bool>()
        .unwrap_or(false)
    {
        add();
    }
}

/// Adds the monitors (once); peers made from now on are counted.
pub(crate) fn add() {
    ON.store(true, Ordering::Relaxed);
    let Some(mut performance) = Engine::singleton()
        .has_singleton("Performance")
        .then(Performance::singleton)
    else {
        return;
    };
    for (index, (name, _)) in MONITORS.iter().enumerate() {
        let id = StringName::from(&format!("{CATEGORY}/{name}"));
        if performance.has_custom_monitor(&id) {
            continue;
        }
        let callable = Callable::from_sync_fn(*name, move |_| value(index));
        performance.add_custom_monitor(&id, &callable);
    }
}

/// The monitor `index`'s value now.
fn value(index: usize) -> f64 {
    // Anything the peers' locks held back is printed after the tracker's.
    let _hold = crate::logger::hold();
    let mut t = TRACKER.lock().unwrap_or_else(PoisonError::into_inner);
    let now = Instant::now();
    if t.sampled
        .map_or(true, |at| now.duration_since(at) >= SAMPLE_EVERY)
    {
        sample(&mut t, now);
    }
    t.values.get(index).copied().unwrap_or(0.0)
}

/// Reads every live peer's figures: counts since the last reading become
/// rates; dead peers are dropped.
fn sample(t: &mut Tracker, now: Instant) {
    let seconds = t
        .sampled
        .map_or(0.0, |at| now.duration_since(at).as_secs_f64());
    t.sampled = Some(now);
    let (mut open, mut delta, mut current) = (0u64, Statistics::default(), Vec::new());
    t.peers.retain_mut(|(weak, last)| {
        let Some(state) = weak.upgrade() else {
            return false;
        };
        let (s, is_open) = {
            let locked = state.lock();
            (
                locked.core.statistics(),
                locked.core.ready_state() == ReadyState::Open,
            )
        };
        // A peer that connected again starts its counts from zero.
        delta.messages_in += s.messages_in.saturating_sub(last.messages_in);
        delta.messages_out += s.messages_out.saturating_sub(last.messages_out);
        delta.wire_in += s.wire_in.saturating_sub(last.wire_in);
        delta.wire_out += s.wire_out.saturating_sub(last.wire_out);
        *last = s;
        if is_open {
            open += 1;
            current.push(s);
        }
        true
    });
    t.pruned_at = t.peers.len();
    let total = Statistics::total(current);
    let rate = |n: u64| {
        if seconds > 0.0 {
            n as f64 / seconds
        } else {
            0.0
        }
    };
    let ms = |d: Option<Duration>| d.map_or(0.0, |d| d.as_secs_f64() * 1000.0);
    for (value, (_, figure)) in t.values.iter_mut().zip(MONITORS) {
        *value = match figure {
            Figure::OpenLinks => open as f64,
            Figure::MessagesIn => rate(delta.messages_in),
            Figure::MessagesOut => rate(delta.messages_out),
            Figure::WireIn => rate(delta.wire_in),
            Figure::WireOut => rate(delta.wire_out),
            Figure::QueuedIn => total.queued_in as f64,
            Figure::QueuedOut => total.queued_out as f64,
            Figure::Rtt => ms(total.rtt_smoothed),
            Figure::RttLowest => ms(total.rtt_lowest),
        };
    }
}
