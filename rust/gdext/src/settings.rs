//! The link settings both classes have as properties, over the core's one
//! settings type ([`PeerConfig`]: the defaults and the rules for new values
//! are there). A class says where its `PeerConfig` is ([`HasLinkSettings`]),
//! declares each property as a `PhantomVar` field with its help, and writes
//! its getter and setter as one line each through [`HasLinkSettings::setting`]
//! and [`HasLinkSettings::change`] (godot-rust takes property accessors only
//! from a class's primary `#[godot_api]` block, so they cannot be generated
//! into a block of their own).

use godot::builtin::{GString, PackedStringArray};

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
