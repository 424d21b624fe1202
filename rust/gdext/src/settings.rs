//! The link settings the peer, multiplayer and server classes have as
//! properties, over the core's one settings type ([`PeerConfig`]: the
//! defaults and the rules for new values are there). A class says where its
//! `PeerConfig` is ([`HasLinkSettings`]), declares each property as a
//! `PhantomVar` field with its own help (which says what the setting means
//! for that class), and gets the getters and setters from
//! [`link_settings_api!`], which wraps its primary `#[godot_api]` block
//! (godot-rust takes property accessors only from that block, and a macro
//! called inside it would reach the attribute unexpanded).

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

    /// Sets the heartbeat interval (a class whose open link takes it at
    /// once says so here).
    fn set_heartbeat(&self, interval: f64) {
        self.change(|c| c.set_heartbeat_interval(interval));
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

/// Wraps a class's primary `#[godot_api] impl` block and adds the getters
/// and setters of the link settings the class has, written once here (a
/// macro called inside the block would reach the attribute unexpanded).
/// The groups, in brackets after the class: `common` (sub-protocols,
/// headers, buffer sizes, compression, heartbeat, hold_upgrade),
/// `max_queued_packets(arg)` (the setter's argument name differs between
/// the engine's classes), `connect_timeout` (client side),
/// `handshake_timeout`. The class implements [`HasLinkSettings`].
macro_rules! link_settings_api {
    (impl $class:ident [$($groups:tt)*] { $($items:tt)* }) => {
        $crate::settings::link_settings_api!(@munch $class [$($groups)*] [$($items)*]);
    };
    (@munch $class:ident [] [$($acc:tt)*]) => {
        #[::godot::prelude::godot_api]
        impl $class { $($acc)* }
    };
    (@munch $class:ident [, $($rest:tt)*] [$($acc:tt)*]) => {
        $crate::settings::link_settings_api!(@munch $class [$($rest)*] [$($acc)*]);
    };
    (@munch $class:ident [common $($rest:tt)*] [$($acc:tt)*]) => {
        $crate::settings::link_settings_api!(@munch $class [$($rest)*] [$($acc)*
            /// Returns [member supported_protocols].
            #[func]
            fn get_supported_protocols(&self) -> PackedStringArray {
                self.setting(|c| $crate::settings::packed(&c.supported_protocols))
            }

            /// Sets [member supported_protocols]; spaces around each are removed.
            #[func]
            fn set_supported_protocols(&self, protocols: PackedStringArray) {
                let list = $crate::settings::strings(&protocols);
                self.with_config(|c| c.set_supported_protocols(list));
            }

            /// Returns [member handshake_headers].
            #[func]
            fn get_handshake_headers(&self) -> PackedStringArray {
                self.setting(|c| $crate::settings::packed(&c.handshake_headers))
            }

            /// Sets [member handshake_headers], each `"Name: value"` (the argument
            /// is named `protocols`, as in the engine's class).
            #[func]
            fn set_handshake_headers(&self, protocols: PackedStringArray) {
                let list = $crate::settings::strings(&protocols);
                self.with_config(|c| c.handshake_headers = list);
            }

            /// Returns [member inbound_buffer_size].
            #[func]
            fn get_inbound_buffer_size(&self) -> i32 {
                self.setting(|c| $crate::settings::as_int(c.inbound_buffer_size))
            }

            /// Sets [member inbound_buffer_size] (bytes, greater than 0).
            #[func]
            fn set_inbound_buffer_size(&self, buffer_size: i32) {
                self.change(|c| c.set_inbound_buffer_size(buffer_size.into()));
            }

            /// Returns [member outbound_buffer_size].
            #[func]
            fn get_outbound_buffer_size(&self) -> i32 {
                self.setting(|c| $crate::settings::as_int(c.outbound_buffer_size))
            }

            /// Sets [member outbound_buffer_size] (bytes; 0 means no limit).
            #[func]
            fn set_outbound_buffer_size(&self, buffer_size: i32) {
                self.change(|c| c.set_outbound_buffer_size(buffer_size.into()));
            }

            /// Returns [member compression_enabled].
            #[func]
            fn get_compression_enabled(&self) -> bool {
                self.setting(|c| c.compression_enabled)
            }

            /// Sets [member compression_enabled].
            #[func]
            fn set_compression_enabled(&self, enabled: bool) {
                self.with_config(|c| c.compression_enabled = enabled);
            }

            /// Returns [member compression_threshold].
            #[func]
            fn get_compression_threshold(&self) -> i32 {
                self.setting(|c| $crate::settings::as_int(c.compression_threshold))
            }

            /// Sets [member compression_threshold] (bytes, 0 or more).
            #[func]
            fn set_compression_threshold(&self, bytes: i32) {
                self.change(|c| c.set_compression_threshold(bytes.into()));
            }

            /// Returns [member compression_context_takeover].
            #[func]
            fn get_compression_context_takeover(&self) -> bool {
                self.setting(|c| c.deflate.context_takeover)
            }

            /// Sets [member compression_context_takeover].
            #[func]
            fn set_compression_context_takeover(&self, enabled: bool) {
                self.with_config(|c| c.deflate.context_takeover = enabled);
            }

            /// Returns [member compression_window_bits].
            #[func]
            fn get_compression_window_bits(&self) -> i32 {
                self.setting(|c| i32::from(c.deflate.max_window_bits))
            }

            /// Sets [member compression_window_bits] (9-15).
            #[func]
            fn set_compression_window_bits(&self, bits: i32) {
                self.change(|c| c.set_compression_window_bits(bits.into()));
            }

            /// Returns [member heartbeat_interval].
            #[func]
            fn get_heartbeat_interval(&self) -> f64 {
                self.setting(|c| c.heartbeat_interval)
            }

            /// Sets [member heartbeat_interval] in seconds (0 or more).
            #[func]
            fn set_heartbeat_interval(&self, interval: f64) {
                $crate::settings::HasLinkSettings::set_heartbeat(self, interval);
            }

            /// Returns [member heartbeat_misses].
            #[func]
            fn get_heartbeat_misses(&self) -> i32 {
                self.setting(|c| $crate::settings::as_int(c.heartbeat_misses as usize))
            }

            /// Sets [member heartbeat_misses] (1 or more).
            #[func]
            fn set_heartbeat_misses(&self, pings: i32) {
                self.change(|c| c.set_heartbeat_misses(pings.into()));
            }

            /// Returns [member hold_upgrade].
            #[func]
            fn get_hold_upgrade(&self) -> bool {
                self.setting(|c| c.hold_upgrade)
            }

            /// Sets [member hold_upgrade].
            #[func]
            fn set_hold_upgrade(&self, enabled: bool) {
                self.with_config(|c| c.hold_upgrade = enabled);
            }
        ]);
    };
    (@munch $class:ident [max_queued_packets($arg:ident) $($rest:tt)*] [$($acc:tt)*]) => {
        $crate::settings::link_settings_api!(@munch $class [$($rest)*] [$($acc)*
            /// Returns [member max_queued_packets].
            #[func]
            fn get_max_queued_packets(&self) -> i32 {
                self.setting(|c| $crate::settings::as_int(c.max_queued_packets))
            }

            /// Sets [member max_queued_packets] (greater than 0).
            #[func]
            fn set_max_queued_packets(&self, $arg: i32) {
                self.change(|c| c.set_max_queued_packets($arg.into()));
            }
        ]);
    };
    (@munch $class:ident [connect_timeout $($rest:tt)*] [$($acc:tt)*]) => {
        $crate::settings::link_settings_api!(@munch $class [$($rest)*] [$($acc)*
            /// Returns [member connect_timeout].
            #[func]
            fn get_connect_timeout(&self) -> f64 {
                self.setting(|c| c.connect_timeout)
            }

            /// Sets [member connect_timeout] in seconds (greater than 0).
            #[func]
            fn set_connect_timeout(&self, seconds: f64) {
                self.change(|c| c.set_connect_timeout(seconds));
            }
        ]);
    };
    (@munch $class:ident [handshake_timeout $($rest:tt)*] [$($acc:tt)*]) => {
        $crate::settings::link_settings_api!(@munch $class [$($rest)*] [$($acc)*
            /// Returns [member handshake_timeout].
            #[func]
            fn get_handshake_timeout(&self) -> f64 {
                self.setting(|c| c.handshake_timeout)
            }

            /// Sets [member handshake_timeout] in seconds (greater than 0).
            #[func]
            fn set_handshake_timeout(&self, seconds: f64) {
                self.change(|c| c.set_handshake_timeout(seconds));
            }
        ]);
    };
}
pub(crate) use link_settings_api;
