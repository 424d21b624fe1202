//! Everything the extension prints goes through here: the `log` records of
//! the core (info and below with `print`, warnings with `push_warning`,
//! errors with `push_error`) and the reports of the classes ([`error!`],
//! [`warning!`]).
//!
//! A game's `Logger` (Godot 4.5+, `OS.add_logger`) receives each line
//! synchronously, on the thread that printed it, and may call straight back
//! into the object that printed (`multiplayer.get_unique_id()`, a
//! property). So nothing is printed while this thread holds one of our
//! locks or a godot-rust bind of one of our objects: such sections hold a
//! [`Hold`] (every `Shared::lock` guard does, and the client node takes one
//! around each bind), and lines printed meanwhile wait in a thread-local
//! queue that the last `Hold` to drop prints, once the lock or bind is
//! released. Direct use of godot-rust's print macros is refused by clippy
//! (`clippy.toml`) outside this file.
//!
//! The level comes from the environment variable `RUST_WEBSOCKET_LOG`
//! (`off`, `error`, `warn`, `info`, `debug`, `trace`), else from the project
//! setting `network/rust_websocket/log_level` (same words), else `warn`.

#![allow(clippy::disallowed_macros)]

use godot::classes::ProjectSettings;
use godot::global::{godot_error, godot_print, godot_warn};
use godot::obj::Singleton;
use log::{Level, LevelFilter, Log, Metadata, Record};
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::marker::PhantomData;

thread_local! {
    /// How many [`Hold`]s this thread has.
    static HELD: Cell<usize> = const { Cell::new(0) };
    /// Lines printed while held, in order.
    static WAITING: RefCell<VecDeque<(Level, String)>> = const { RefCell::new(VecDeque::new()) };
    /// This thread is printing the waiting lines (a `Logger` it reaches may
    /// report too: those lines join the queue, after the ones before them).
    static PRINTING: Cell<bool> = const { Cell::new(false) };
}

/// While one lives, this thread's reports wait; the last to drop prints
/// them. Hold it for exactly as long as a lock or a bind it guards (drop it
/// after them).
#[must_use]
pub(crate) struct Hold {
    /// Thread-bound: the count is this thread's.
    _not_send: PhantomData<*const ()>,
}

/// Starts holding this thread's reports.
pub(crate) fn hold() -> Hold {
    HELD.with(|held| held.set(held.get() + 1));
    Hold {
        _not_send: PhantomData,
    }
}

impl Drop for Hold {
    fn drop(&mut self) {
        let left = HELD.with(|held| {
            let left = held.get().saturating_sub(1);
            held.set(left);
            left
        });
        if left == 0 {
            print_waiting();
        }
    }
}

/// `true` while this thread holds reports back.
pub(crate) fn holding() -> bool {
    HELD.with(|held| held.get() > 0)
}

/// Prints the lines that waited, one at a time from the oldest. A line a
/// `Logger` called from here reports (it may call into our objects, which
/// hold and release again) joins the end of the queue and is printed in
/// its turn by this loop, never ahead of the lines before it.
fn print_waiting() {
    drain(&mut print_now);
}

/// [`print_waiting`] with the printing given (tests print into a list).
fn drain(print: &mut dyn FnMut(Level, &str)) {
    if PRINTING.with(Cell::get) {
        return;
    }
    /// Clears the flag however printing ends.
    struct Printing;
    impl Drop for Printing {
        fn drop(&mut self) {
            let _ = PRINTING.try_with(|p| p.set(false));
        }
    }
    PRINTING.with(|p| p.set(true));
    let _printing = Printing;
    while let Some((level, line)) = WAITING
        .try_with(|waiting| waiting.borrow_mut().pop_front())
        .ok()
        .flatten()
    {
        print(level, &line);
    }
}

fn print_now(level: Level, line: &str) {
    match level {
        Level::Error => godot_error!("{line}"),
        Level::Warn => godot_warn!("{line}"),
        _ => godot_print!("{line}"),
    }
}

/// Prints `line` now, or once this thread holds nothing any more.
pub(crate) fn say(level: Level, line: String) {
    if holding() || PRINTING.with(Cell::get) {
        let queued = WAITING
            .try_with(|waiting| waiting.borrow_mut().push_back((level, line.clone())))
            .is_ok();
        if queued {
            return;
        }
    }
    print_now(level, &line);
}

/// Reports an error (Godot's `push_error`), after any lock or bind of ours
/// this thread holds is released.
macro_rules! error {
    ($($arg:tt)*) => {
        $crate::logger::say(::log::Level::Error, format!($($arg)*))
    };
}

/// Reports a warning (Godot's `push_warning`), as [`error!`].
macro_rules! warning {
    ($($arg:tt)*) => {
        $crate::logger::say(::log::Level::Warn, format!($($arg)*))
    };
}

pub(crate) use {error, warning};

struct GodotLogger;

impl Log for GodotLogger {
    fn enabled(&self, metadata: &Metadata) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let line = match record.level() {
            Level::Error | Level::Warn => format!("[{}] {}", record.target(), record.args()),
            level => format!("[{level} {}] {}", record.target(), record.args()),
        };
        say(record.level(), line);
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

    /// The methods and virtuals Godot calls never bind an object of ours
    /// mutably for the whole call (`&mut self` in a `#[godot_api]` block):
    /// what they print or emit would reach a game's `Logger` or handler
    /// with the object bound, and its call back would fail. They take
    /// `&self` (state behind its own lock) or the object (`gd_self`).
    #[test]
    fn no_engine_called_method_binds_its_object_mutably() {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = vec![src.clone()];
        let mut offenders = Vec::new();
        while let Some(path) = files.pop() {
            if path.is_dir() {
                for entry in std::fs::read_dir(&path).unwrap().flatten() {
                    files.push(entry.path());
                }
                continue;
            }
            if path.extension().and_then(|e| e.to_str()) != Some("rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let mut in_api = false;
            for (n, line) in text.lines().enumerate() {
                if line.starts_with("#[godot_api") {
                    in_api = true;
                } else if line == "}" {
                    in_api = false;
                } else if in_api && line.contains("&mut self") {
                    offenders.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
                }
            }
        }
        assert!(
            offenders.is_empty(),
            "methods binding mutably: {offenders:#?}"
        );
    }

    #[test]
    fn held_lines_wait_for_the_outermost_release() {
        let outer = hold();
        let inner = hold();
        say(Level::Info, "first".into());
        drop(inner);
        assert!(holding());
        let waiting = WAITING.with(|w| w.borrow().len());
        assert_eq!(waiting, 1, "a line printed while held waits");
        // Taken out here rather than printed (no engine in unit tests).
        let lines = WAITING.with(|w| std::mem::take(&mut *w.borrow_mut()));
        assert_eq!(lines, vec![(Level::Info, "first".to_string())]);
        drop(outer);
        assert!(!holding());
    }

    /// A line reported while the waiting ones print (a `Logger` calling
    /// back into our object) comes after them, in order.
    #[test]
    fn lines_reported_while_printing_keep_their_order() {
        let held = hold();
        say(Level::Error, "first".into());
        say(Level::Warn, "second".into());
        // Released without printing (no engine here); drained by hand.
        HELD.with(|h| h.set(0));
        std::mem::forget(held);
        let mut printed = Vec::new();
        drain(&mut |_, line| {
            printed.push(line.to_string());
            if line == "first" {
                // What a Logger receiving "first" reports, directly and
                // from inside one of our locks.
                say(Level::Error, "from the logger".into());
                let inner = hold();
                say(Level::Error, "from a lock".into());
                HELD.with(|h| h.set(h.get() - 1));
                std::mem::forget(inner);
                print_waiting_test_hook();
            }
        });
        assert_eq!(
            printed,
            ["first", "second", "from the logger", "from a lock"]
        );
        assert!(!PRINTING.with(Cell::get));
    }

    /// What the drop of the last `Hold` does (it would print for real).
    fn print_waiting_test_hook() {
        drain(&mut |_, _| panic!("a nested release printed ahead of the queue"));
    }
}
