//! The `RustWebSocketPeer` methods a game calls per message or per frame,
//! bound directly (see [`crate::binding`]). Each only translates types and
//! calls into [`super::state`]; the other methods are in [`super`].

use super::flush;
use super::state::{report, send_message};
use super::{RustWebSocketPeer, WRITE_MODE_TEXT};
use crate::binding::direct_methods;
use godot::builtin::{GString, PackedByteArray};
use godot::global::Error;

direct_methods! {
    class RustWebSocketPeer;

    /// Updates the connection: handshake, receiving packets, sending queued
    /// data, heartbeats and the closing handshake. Call it every frame.
    fn poll(state) -> () {
        flush::write_waiting();
        let failure = state.lock().poll();
        report(failure);
    }

    /// Sends [param buffer] as a binary message. The same as
    /// [method PacketPeer.put_packet], bound directly for speed.
    fn put_packet(state, buffer: PackedByteArray) -> Error {
        send_message(state, buffer.as_slice(), false)
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
        state.lock().count()
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
        let text = i64::from(write_mode) == WRITE_MODE_TEXT;
        send_message(state, message.as_slice(), text)
    }

    /// Sends [param message] as a text frame.
    fn send_text(state, message: GString) -> Error {
        let text = message.to_string();
        send_message(state, text.as_bytes(), true)
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
        state.lock().ready_state()
    }

    /// Returns the number of bytes waiting to be sent.
    fn get_current_outbound_buffered_amount(state) -> i32 {
        let amount = state.lock().core.buffered_amount();
        i32::try_from(amount).unwrap_or(i32::MAX)
    }
}
