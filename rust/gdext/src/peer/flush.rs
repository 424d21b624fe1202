//! When batched sends leave: on the main thread, messages sent after the
//! first one since a `poll()` wait, together, until the end of the frame,
//! where one deferred call writes every waiting batch, or until any peer or
//! multiplayer peer of ours is polled on the main thread, which writes every
//! waiting batch first (so a receiver in this process polled later in the
//! same frame sees every message the engine's class would have shown it);
//! on any other thread there is no frame to wait for, so each send is written
//! at once (as the engine's class does everywhere).
//!
//! The list holds the batches themselves ([`Batch`]), so a peer freed before
//! the frame ends still gets its batch written. If the deferred call is ever
//! lost (a full message queue), the next frame queues a new one, so nothing
//! waits longer than a frame or a `poll()`.

use godot::classes::Engine;
use godot::obj::Singleton;
use godot::prelude::*;
use std::cell::RefCell;
use std::sync::{Arc, OnceLock};
use std::thread::ThreadId;

static MAIN_THREAD: OnceLock<ThreadId> = OnceLock::new();

/// Something with sends waiting for the end of the frame.
pub(crate) trait Batch {
    /// Writes what waits, as far as the socket takes it now.
    fn write_batch(&self);
}

/// Remembers the calling thread as the main thread (called at extension init,
/// which Godot runs on its main thread).
pub(crate) fn init_main_thread() {
    let _ = MAIN_THREAD.set(std::thread::current().id());
}

/// `true` on the thread Godot runs its main loop on.
pub(crate) fn on_main_thread() -> bool {
    MAIN_THREAD.get() == Some(&std::thread::current().id())
}

#[derive(Default)]
struct Waiting {
    batches: Vec<Arc<dyn Batch>>,
    /// The frame in which the deferred call was queued, until it runs.
    queued_in: Option<u64>,
}

thread_local! {
    static WAITING: RefCell<Waiting> = RefCell::default();
}

/// Writes every batch waiting now (before a poll on the main thread reads
/// what may have been sent to it).
pub(crate) fn write_waiting() {
    let batches = WAITING
        .try_with(|w| {
            w.try_borrow_mut()
                .map(|mut w| std::mem::take(&mut w.batches))
        })
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default();
    for batch in batches {
        batch.write_batch();
    }
}

/// Writes `batch` at the end of this frame (main thread only).
pub(crate) fn at_end_of_frame(batch: Arc<dyn Batch>) {
    let frame = Engine::singleton().get_process_frames();
    let queue = WAITING.with_borrow_mut(|w| {
        w.batches.push(batch);
        let queue = w.queued_in != Some(frame);
        if queue {
            w.queued_in = Some(frame);
        }
        queue
    });
    if queue {
        Callable::from_fn("RustWebSocketPeer.flush_batches", |_| {
            let batches = WAITING.with_borrow_mut(|w| {
                w.queued_in = None;
                std::mem::take(&mut w.batches)
            });
            for batch in batches {
                batch.write_batch();
            }
        })
        .call_deferred(&[]);
    }
}
