//! Benchmarks only (cargo feature `bench`, never in a release):
//! `RustLoopbackMultiplayerPeer`, a `MultiplayerPeer` that does no I/O.
//! Packets go straight into the other peer's queue in the same process. Its
//! engine virtuals are bound as `RustWebSocketMultiplayerPeer`'s are
//! (`direct_virtuals!`), so SceneMultiplayer over it costs what
//! SceneMultiplayer and the binding cost, and nothing a WebSocket adds: the
//! bound for our multiplayer class in the frame-driven benchmarks.

use crate::binding::{direct_virtuals, Registry, Shared, Stateful};
use crate::packets;
use godot::classes::multiplayer_peer::{ConnectionStatus, TransferMode};
use godot::classes::MultiplayerPeerExtension;
use godot::global::Error;
use godot::prelude::*;
use rustws_core::Bytes;
use std::collections::VecDeque;
use std::sync::{Arc, Weak};

/// One loopback peer's state.
#[derive(Default)]
pub(crate) struct Loop {
    id: i32,
    /// Everyone this peer reaches (the server reaches every client, a client
    /// the server), by id.
    others: Vec<(i32, Weak<Shared<Loop>>)>,
    /// Received packets, with their sender.
    queue: VecDeque<(i32, Bytes)>,
    target: i32,
    announced: bool,
    held: Option<Bytes>,
}

static LOOPS: Registry<Loop> = Registry::new();

/// A [MultiplayerPeer] that does no I/O, for benchmarks: packets go straight
/// into the other peer's queue. Made in stars by [method star].
#[derive(GodotClass)]
#[class(base = MultiplayerPeerExtension, init, tool)]
pub struct RustLoopbackMultiplayerPeer {
    #[init(val = Shared::new(Loop::default()))]
    shared: Arc<Shared<Loop>>,
    base: Base<MultiplayerPeerExtension>,
}

impl Stateful for RustLoopbackMultiplayerPeer {
    type State = Loop;
    fn registry() -> &'static Registry<Loop> {
        &LOOPS
    }
    fn shared(&self) -> &Arc<Shared<Loop>> {
        &self.shared
    }
}

impl Drop for RustLoopbackMultiplayerPeer {
    fn drop(&mut self) {
        LOOPS.remove(&self.shared);
    }
}

#[godot_api]
impl RustLoopbackMultiplayerPeer {
    /// [param count] peers linked as a star: element 0 is the server (id 1),
    /// the others are clients (ids 2 and up).
    #[func]
    fn star(count: i32) -> Array<Gd<RustLoopbackMultiplayerPeer>> {
        let all: Vec<Gd<Self>> = (0..count.max(0)).map(|_| Self::new_gd()).collect();
        let states: Vec<(i32, Arc<Shared<Loop>>)> = all
            .iter()
            .zip(1..)
            .map(|(gd, id)| (id, gd.bind().shared.clone()))
            .collect();
        for (id, shared) in &states {
            let mut state = shared.lock();
            state.id = *id;
            state.others = states
                .iter()
                .filter(|(other, _)| other != id && (*id == 1 || *other == 1))
                .map(|(other, s)| (*other, Arc::downgrade(s)))
                .collect();
        }
        all.iter().cloned().collect()
    }
}

direct_virtuals! {
    class RustLoopbackMultiplayerPeer;

    fn _get_packet(state, _this, r_buffer: *mut *const u8, r_buffer_size: *mut i32) -> Error {
        let mut state = state.lock();
        let packet = state.queue.pop_front().map(|(_, data)| data);
        // SAFETY: the pointers are the ones Godot passed.
        unsafe { packets::hand_out(packet, &mut state.held, r_buffer, r_buffer_size) }
    }

    fn _put_packet(state, _this, p_buffer: *const u8, p_buffer_size: i32) -> Error {
        // SAFETY: Godot passes a buffer of `p_buffer_size` readable bytes.
        let Some(data) = (unsafe { packets::taken_in(p_buffer, p_buffer_size) }) else {
            return Error::ERR_INVALID_PARAMETER;
        };
        let data = Bytes::copy_from_slice(data);
        let (from, target, others) = {
            let state = state.lock();
            (state.id, state.target, state.others.clone())
        };
        for (id, other) in others {
            let wanted = if target > 0 { id == target } else { id != -target };
            if let Some(other) = other.upgrade().filter(|_| wanted) {
                other.lock().queue.push_back((from, data.clone()));
            }
        }
        Error::OK
    }

    fn _get_available_packet_count(state, _this) -> i32 {
        i32::try_from(state.lock().queue.len()).unwrap_or(i32::MAX)
    }

    fn _get_max_packet_size(_state, _this) -> i32 {
        1 << 24
    }

    fn _get_packet_channel(_state, _this) -> i32 {
        0
    }

    fn _get_packet_mode(_state, _this) -> TransferMode {
        TransferMode::RELIABLE
    }

    fn _set_transfer_channel(_state, _this, _channel: i32) -> () {}

    fn _get_transfer_channel(_state, _this) -> i32 {
        0
    }

    fn _set_transfer_mode(_state, _this, _mode: TransferMode) -> () {}

    fn _get_transfer_mode(_state, _this) -> TransferMode {
        TransferMode::RELIABLE
    }

    fn _set_target_peer(state, _this, peer: i32) -> () {
        state.lock().target = peer;
    }

    fn _get_packet_peer(state, _this) -> i32 {
        state.lock().queue.front().map_or(1, |(from, _)| *from)
    }

    fn _is_server(state, _this) -> bool {
        state.lock().id == 1
    }

    fn _poll(state, this) -> () {
        let others: Vec<i32> = {
            let mut state = state.lock();
            if state.announced {
                return;
            }
            state.announced = true;
            state.others.iter().map(|(id, _)| *id).collect()
        };
        let mut object = this.gd().upcast::<Object>();
        for id in others {
            object.emit_signal("peer_connected", &[Variant::from(i64::from(id))]);
        }
    }

    fn _close(state, _this) -> () {
        state.lock().others.clear();
    }

    fn _disconnect_peer(_state, _this, _peer: i32, _force: bool) -> () {}

    fn _get_unique_id(state, _this) -> i32 {
        state.lock().id
    }

    fn _set_refuse_new_connections(_state, _this, _enable: bool) -> () {}

    fn _is_refusing_new_connections(_state, _this) -> bool {
        false
    }

    fn _is_server_relay_supported(_state, _this) -> bool {
        true
    }

    fn _get_connection_status(_state, _this) -> ConnectionStatus {
        ConnectionStatus::CONNECTED
    }
}
