//! The link settings both classes have as properties, over the core's one
//! settings type ([`PeerConfig`]: the defaults and the rules for new values
//! are there). A class says where its `PeerConfig` is ([`HasLinkSettings`]),
//! declares each property as a `PhantomVar` field with its help, and writes
//! its getter and setter as one line each through [`HasLinkSettings::setting`]
//! and [`HasLinkSettings::change`] (godot-rust takes property accessors only
//! from a class's primary `#[godot_api]` block, so they cannot be generated
//! into a block of their own).

use std::sync::atomic::{AtomicUsize, Ordering};

use godot::builtin::{GString, PackedStringArray};
use godot::classes::{ClassDb, WebSocketMultiplayerPeer, WebSocketPeer};
use godot::obj::{NewGd, Singleton};

use rustws_core::{PeerConfig, Refused};

/// A class with link settings.
pub(crate) trait HasLinkSettings {
    /// The class's name, for messages.
    const CLASS: &'static str;

    /// `f` of the settings (under the class's lock).
    fn with_config<R>(&self, f: impl FnOnce(&mut PeerConfig) -> R) -> R;

    /// A value read from the settings.
    fn setting<R>(&self, read: impl FnOnce(&PeerConfig) -> R) -> R {
        self.with_config(|c| read(c))
    }

    /// Applies a change to the settings; a value the core refuses is said
    /// (the setting keeps its old value).
    fn change(&self, f: impl FnOnce(&mut PeerConfig) -> Result<(), Refused>) {
        report(Self::CLASS, self.with_config(f));
    }
}

/// A `PackedStringArray` as the core's strings.
pub(crate) fn strings(list: &PackedStringArray) -> Vec<String> {
    list.as_slice().iter().map(GString::to_string).collect()
}

/// The core's strings as a `PackedStringArray`.
pub(crate) fn packed(list: &[String]) -> PackedStringArray {
    list.iter().map(|s| GString::from(s.as_str())).collect()
}

/// A size of the core as a Godot `int` property (which is 32-bit here).
pub(crate) fn as_int(value: usize) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

/// Says why `class` refused a value (the property kept its old one).
pub(crate) fn report(class: &str, result: Result<(), Refused>) {
    if let Err(refused) = result {
        crate::logger::error!("{class}: {refused}");
    }
}

/// The engine's defaults of the sizes both classes share with it, read from
/// the running engine's classes at registration (0: not read, the core's
/// default stays): `max_queued_packets` is 2048 on 4.3 and 4096 from 4.4,
/// and a game sees the defaults of the engine it runs in.
struct EngineSizes {
    inbound: AtomicUsize,
    outbound: AtomicUsize,
    max_queued: AtomicUsize,
}

impl EngineSizes {
    const fn new() -> Self {
        EngineSizes {
            inbound: AtomicUsize::new(0),
            outbound: AtomicUsize::new(0),
            max_queued: AtomicUsize::new(0),
        }
    }

    fn store(&self, inbound: i32, outbound: i32, max_queued: i32) {
        for (slot, value) in [
            (&self.inbound, inbound),
            (&self.outbound, outbound),
            (&self.max_queued, max_queued),
        ] {
            slot.store(usize::try_from(value).unwrap_or(0), Ordering::Relaxed);
        }
    }

    fn apply(&self, config: &mut PeerConfig) {
        let read = |slot: &AtomicUsize, value: &mut usize| {
            let engine = slot.load(Ordering::Relaxed);
            if engine > 0 {
                *value = engine;
            }
        };
        read(&self.inbound, &mut config.inbound_buffer_size);
        read(&self.outbound, &mut config.outbound_buffer_size);
        read(&self.max_queued, &mut config.max_queued_packets);
    }
}

/// `WebSocketPeer`'s sizes, for `RustWebSocketPeer`.
static PEER_SIZES: EngineSizes = EngineSizes::new();
/// `WebSocketMultiplayerPeer`'s sizes, for `RustWebSocketMultiplayerPeer`.
static MULTIPLAYER_SIZES: EngineSizes = EngineSizes::new();

/// Reads the engine's defaults (at the Scene stage, when the engine's
/// WebSocket classes are registered; on the main thread, no lock held).
/// A Godot built without its WebSocket module has neither class: the core's
/// defaults stay.
pub(crate) fn read_engine_defaults() {
    let classes = ClassDb::singleton();
    if !classes.class_exists("WebSocketPeer") || !classes.class_exists("WebSocketMultiplayerPeer") {
        return;
    }
    let peer = WebSocketPeer::new_gd();
    PEER_SIZES.store(
        peer.get_inbound_buffer_size(),
        peer.get_outbound_buffer_size(),
        peer.get_max_queued_packets(),
    );
    let multi = WebSocketMultiplayerPeer::new_gd();
    MULTIPLAYER_SIZES.store(
        multi.get_inbound_buffer_size(),
        multi.get_outbound_buffer_size(),
        multi.get_max_queued_packets(),
    );
}

/// A new `RustWebSocketPeer`'s settings: the core's, with the running
/// engine's sizes.
pub(crate) fn peer_defaults() -> PeerConfig {
    let mut config = PeerConfig::default();
    PEER_SIZES.apply(&mut config);
    config
}

/// A new `RustWebSocketMultiplayerPeer`'s settings: the core's, with the
/// running engine's sizes.
pub(crate) fn multiplayer_defaults() -> PeerConfig {
    let mut config = rustws_core::link_config();
    MULTIPLAYER_SIZES.apply(&mut config);
    config
}
