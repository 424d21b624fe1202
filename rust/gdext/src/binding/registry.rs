//! Reaching an object's state without binding it: the registry behind
//! [`super::Stateful`].
//!
//! With godot-rust's `experimental-threads` (so the classes work from any
//! thread), every `bind()`/`bind_mut()`, including the implicit one of each
//! `#[func]` taking `&self`/`&mut self`, goes through a blocking cell whose
//! guards wake a futex when dropped: about a microsecond per call here,
//! several times the cost of a small message. So the state a class's hot
//! methods use lives behind its own `Mutex` (uncontended: a couple of atomic
//! operations), in an `Arc` the object holds, and those methods take
//! `#[func(gd_self)]` (or are bound directly, see [`super::direct`]) and
//! find the `Arc` in a [`Registry`] keyed by instance id. The first call on an object binds it once to fetch the `Arc`; the
//! object's `Drop` removes it.

use crate::logger::{self, Hold};
use godot::obj::InstanceId;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, RwLock};

/// The state of one object, and the id it is registered under.
pub struct Shared<S> {
    id: OnceLock<InstanceId>,
    state: Mutex<S>,
}

impl<S> Shared<S> {
    pub fn new(state: S) -> Arc<Shared<S>> {
        Arc::new(Shared {
            id: OnceLock::new(),
            state: Mutex::new(state),
        })
    }

    /// Locks the state. A panic while it was locked (which would be a bug)
    /// leaves it usable rather than poisoning every later call. What this
    /// thread reports meanwhile is printed once the lock is released (see
    /// [`crate::logger`]).
    pub fn lock(&self) -> Locked<'_, S> {
        let hold = logger::hold();
        Locked {
            guard: self.state.lock().unwrap_or_else(PoisonError::into_inner),
            _hold: hold,
        }
    }
}

/// A locked state. Fields drop in order: the lock is released first, then
/// the reports made meanwhile are printed.
pub struct Locked<'a, S> {
    guard: MutexGuard<'a, S>,
    _hold: Hold,
}

impl<S> Deref for Locked<'_, S> {
    type Target = S;
    fn deref(&self) -> &S {
        &self.guard
    }
}

impl<S> DerefMut for Locked<'_, S> {
    fn deref_mut(&mut self) -> &mut S {
        &mut self.guard
    }
}

/// Instance ids are unique integers: a multiplicative hash spreads them.
#[derive(Default)]
pub struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

fn key(id: InstanceId) -> u64 {
    id.to_i64() as u64
}

type Map<S> = HashMap<u64, Arc<Shared<S>>, BuildHasherDefault<IdHasher>>;

const SHARDS: usize = 32;

/// Objects of one class by instance id, split in shards so threads working
/// on different objects rarely touch the same lock.
pub struct Registry<S> {
    shards: OnceLock<Vec<RwLock<Map<S>>>>,
}

impl<S> Registry<S> {
    pub const fn new() -> Registry<S> {
        Registry {
            shards: OnceLock::new(),
        }
    }

    fn shard(&self, id: InstanceId) -> &RwLock<Map<S>> {
        let shards = self
            .shards
            .get_or_init(|| (0..SHARDS).map(|_| RwLock::default()).collect());
        let raw = key(id);
        // Low bits of an id are the engine's slot index: they vary most.
        &shards[(raw as usize ^ (raw >> 32) as usize) % SHARDS]
    }

    /// The state of the object `id`; `fetch` supplies it (binding the object
    /// once) when it is not registered yet.
    pub fn get(&self, id: InstanceId, fetch: impl FnOnce() -> Arc<Shared<S>>) -> Arc<Shared<S>> {
        let shard = self.shard(id);
        if let Some(found) = shard
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key(id))
        {
            return found.clone();
        }
        let shared = fetch();
        let _ = shared.id.set(id);
        shard
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key(id), shared.clone());
        shared
    }

    /// Forgets the object whose state this is (from its `Drop`).
    pub fn remove(&self, shared: &Shared<S>) {
        if let Some(id) = shared.id.get() {
            self.shard(*id)
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(&key(*id));
        }
    }
}
