//! The `RustWebSocketPeer` methods a game calls per message or per frame,
//! bound directly (see [`crate::direct`]). Each only translates types and
//! calls into [`crate::link`]; the other methods are in [`crate::peer`].

use crate::direct::{self, direct_methods, DirectClass};
use crate::link::{self, SharedState, State, PEERS};
use crate::peer::RustWebSocketPeer;
use godot::builtin::{GString, PackedByteArray};
use godot::global::Error;
use godot::private::{as_storage, Storage};
use godot::sys;
use rustws_core::ReadyState;

impl DirectClass for RustWebSocketPeer {
    type State = State;
    const NAME: &'static str = "RustWebSocketPeer";

    unsafe fn state_of(instance: sys::GDExtensionClassInstancePtr) -> Option<SharedState> {
        // SAFETY: per the contract. Only the base is read, which godot-rust
        // keeps outside the cell it binds the instance through.
        let storage = unsafe { as_storage::<RustWebSocketPeer>(instance) };
        let object = storage.base().obj_sys();
        // SAFETY: the base of a live object.
        unsafe { direct::registered(&PEERS, object, || storage.get_gd().bind().shared().clone()) }
    }
}

/// `get_available_packet_count`'s answer for `state`.
pub(crate) fn count(state: &SharedState) -> i32 {
    i32::try_from(state.lock().core.available_packets()).unwrap_or(i32::MAX)
}

direct_methods! {
    class RustWebSocketPeer;

    /// Updates the connection: handshake, receiving packets, sending queued
    /// data, heartbeats and the closing handshake. Call it every frame.
    fn poll(state) -> () {
        let failure = state.lock().poll();
        link::report(failure);
    }

    /// Sends [param buffer] as a binary message. The same as
    /// [method PacketPeer.put_packet], bound directly for speed.
    fn put_packet(state, buffer: PackedByteArray) -> Error {
        RustWebSocketPeer::send_shared(state, buffer.as_slice(), false)
    }

    /// Returns the next received packet, or an empty array when there is none
    /// (then [method get_packet_error] returns [constant ERR_UNAVAILABLE]).
    /// The same as [method PacketPeer.get_packet], bound directly so the
    /// packet is copied in one block.
    fn get_packet(state) -> PackedByteArray {
        let packet = state.lock().pop();
        packet.map_or_else(PackedByteArray::new, |p| PackedByteArray::from(&p[..]))
    }

    /// Returns the number of received packets waiting to be read. The same as
    /// [method PacketPeer.get_available_packet_count], bound directly for
    /// speed.
    fn get_available_packet_count(state) -> i32 {
        count(state)
    }

    /// Returns the error of the last [method get_packet] (or
    /// [method PacketPeer.get_var]).
    fn get_packet_error(state) -> Error {
        state.lock().last_get_error
    }

    /// Sends [param message] as a binary frame, or as a text frame when
    /// [param write_mode] is [constant WRITE_MODE_TEXT] (then it must be
    /// UTF-8).
    fn send(state, message: PackedByteArray, write_mode: i32 = 1) -> Error {
        let text = write_mode == crate::peer::WRITE_MODE_TEXT;
        RustWebSocketPeer::send_shared(state, message.as_slice(), text)
    }

    /// Sends [param message] as a text frame.
    fn send_text(state, message: GString) -> Error {
        let text = message.to_string();
        RustWebSocketPeer::send_shared(state, text.as_bytes(), true)
    }

    /// Returns [code]true[/code] if the last packet read came in a text
    /// frame.
    fn was_string_packet(state) -> bool {
        state.lock().core.was_text()
    }

    /// Returns the connection state: [constant STATE_CONNECTING],
    /// [constant STATE_OPEN], [constant STATE_CLOSING] or
    /// [constant STATE_CLOSED].
    fn get_ready_state(state) -> i32 {
        match state.lock().core.ready_state() {
            ReadyState::Connecting => 0,
            ReadyState::Open => 1,
            ReadyState::Closing => 2,
            ReadyState::Closed => 3,
        }
    }

    /// Returns the number of bytes waiting to be sent.
    fn get_current_outbound_buffered_amount(state) -> i32 {
        let amount = state.lock().core.buffered_amount();
        i32::try_from(amount).unwrap_or(i32::MAX)
    }
}
