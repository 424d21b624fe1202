//! The `RustWebSocketMultiplayerPeer` methods a game calls per packet when it
//! drives the peer itself from GDScript, bound directly (see
//! [`crate::binding`]). SceneMultiplayer reaches the same hub through the
//! engine virtual methods in [`super`].

use super::state::MpState;
use super::RustWebSocketMultiplayerPeer;
use crate::binding::direct_methods;
use godot::builtin::PackedByteArray;
use godot::global::Error;

direct_methods! {
    class RustWebSocketMultiplayerPeer;

    /// Sends [param buffer] to the peer chosen with [method set_target_peer]
    /// (0: every peer; a negative id: every peer but that one). The same as
    /// [method PacketPeer.put_packet], bound directly for speed.
    fn put_packet(state, buffer: PackedByteArray) -> Error {
        MpState::put(state, buffer.as_slice())
    }

    /// Returns the next received packet, or an empty array when there is
    /// none (then [method get_packet_error] says why). The same as
    /// [method PacketPeer.get_packet], bound directly so the packet is copied
    /// in one block.
    fn get_packet(state) -> PackedByteArray {
        let packet = state.lock().pop();
        packet.map_or_else(|_| PackedByteArray::new(), |p| PackedByteArray::from(&p[..]))
    }

    /// Returns the error of the last [method get_packet] (or
    /// [method PacketPeer.get_var]): [constant ERR_UNAVAILABLE] when there
    /// was no packet, [constant ERR_UNCONFIGURED] when not connected.
    fn get_packet_error(state) -> Error {
        state.lock().last_get_error
    }

    /// Returns the number of received packets waiting to be read. The same
    /// as [method PacketPeer.get_available_packet_count], bound directly for
    /// speed.
    fn get_available_packet_count(state) -> i32 {
        state.lock().count()
    }

    /// Returns the id of the peer that sent the next packet. The same as
    /// [method MultiplayerPeer.get_packet_peer], bound directly for speed.
    fn get_packet_peer(state) -> i32 {
        state.lock().hub.next_packet_peer()
    }

    /// Sets the peer that [method put_packet] sends to: a peer id, 0 for
    /// every peer, or a negative id for every peer but that one. The same as
    /// [method MultiplayerPeer.set_target_peer], bound directly for speed.
    fn set_target_peer(state, id: i32) -> () {
        state.lock().hub.target = id;
    }
}
