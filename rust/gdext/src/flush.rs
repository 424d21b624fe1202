//! When batched sends leave: on the main thread, messages sent after the
//! first one since a `poll()` wait for the end of the frame, where one
//! deferred call writes every waiting peer's batch; on any other thread there
//! is no frame to wait for, so each send is written at once (as the engine's
//! class does everywhere).
//!
//! The list holds the peers' shared state, so a peer freed before the frame
//! ends still gets its batch written. If the deferred call is ever lost (a
//! full message queue), the next frame queues a new one, so nothing waits
//! longer than a frame or a `poll()`.

use crate::link::{self, SharedState};
use godot::classes::Engine;
use godot::obj::Singleton;
use godot::prelude::*;
use std::cell::RefCell;
use std::sync::OnceLock;
use std::thread::ThreadId;

static MAIN_THREAD: OnceLock<ThreadId> = OnceLock::new();

/// Remembers the calling thread as the main thread (called at extension init,
/// which Godot runs on its main thread).
pub fn init_main_thread() {
    let _ = MAIN_THREAD.set(std::thread::current().id());
}

/// `true` on the thread Godot runs its main loop on.
pub fn on_main_thread() -> bool {
    MAIN_THREAD.get() == Some(&std::thread::current().id())
}

#[derive(Default)]
struct Waiting {
    peers: Vec<SharedState>,
    /// The frame in which the deferred call was queued, until it runs.
    queued_in: Option<u64>,
}

thread_local! {
    static WAITING: RefCell<Waiting> = RefCell::default();
}

/// Adds a peer to the end-of-frame flush (main thread only).
pub fn at_end_of_frame(peer: SharedState) {
    let frame = Engine::singleton().get_process_frames();
    let queue = WAITING.with_borrow_mut(|w| {
        w.peers.push(peer);
        let queue = w.queued_in != Some(frame);
        if queue {
            w.queued_in = Some(frame);
        }
        queue
    });
    if queue {
        Callable::from_fn("RustWebSocketPeer.flush_batches", |_| {
            let peers = WAITING.with_borrow_mut(|w| {
                w.queued_in = None;
                std::mem::take(&mut w.peers)
            });
            for peer in peers {
                let failure = peer.lock().flush_batch();
                link::report(failure);
            }
        })
        .call_deferred(&[]);
    }
}
