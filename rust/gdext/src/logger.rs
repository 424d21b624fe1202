//! A `log` backend that prints to Godot's output: info and below with
//! `print`, warnings with `push_warning`, errors with `push_error`.
//!
//! The level comes from the environment variable `RUST_WEBSOCKET_LOG`
//! (`off`, `error`, `warn`, `info`, `debug`, `trace`), else from the project
//! setting `network/rust_websocket/log_level` (same words), else `warn`.

use godot::classes::ProjectSettings;
use godot::global::{godot_error, godot_print, godot_warn};
use godot::obj::Singleton;
use log::{Level, LevelFilter, Log, Metadata, Record};

struct GodotLogger;

impl Log for GodotLogger {
    fn enabled(&self, metadata: &Metadata) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        match record.level() {
            Level::Error => godot_error!("[{}] {}", record.target(), record.args()),
            Level::Warn => godot_warn!("[{}] {}", record.target(), record.args()),
            level => godot_print!("[{level} {}] {}", record.target(), record.args()),
        }
    }

    fn flush(&self) {}
}

static LOGGER: GodotLogger = GodotLogger;

/// Parses a level word; `None` for anything else.
pub fn parse_level(word: &str) -> Option<LevelFilter> {
    word.trim().parse::<LevelFilter>().ok()
}

fn configured_level() -> LevelFilter {
    if let Some(level) = std::env::var("RUST_WEBSOCKET_LOG")
        .ok()
        .as_deref()
        .and_then(parse_level)
    {
        return level;
    }
    let settings = ProjectSettings::singleton();
    let key = "network/rust_websocket/log_level";
    if settings.has_setting(key) {
        let value = settings.get_setting(key).to_string();
        if let Some(level) = parse_level(&value) {
            return level;
        }
        godot_warn!(
            "{key} is \"{value}\"; use off, error, warn, info, debug or trace. Using warn."
        );
    }
    LevelFilter::Warn
}

/// Installs the logger (once; a logger installed by another crate wins).
pub fn install() {
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(configured_level());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_words() {
        assert_eq!(parse_level("warn"), Some(LevelFilter::Warn));
        assert_eq!(parse_level(" INFO "), Some(LevelFilter::Info));
        assert_eq!(parse_level("off"), Some(LevelFilter::Off));
        assert_eq!(parse_level("loud"), None);
    }
}
