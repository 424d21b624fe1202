//! The raw-pointer side of `PacketPeer`/`MultiplayerPeer` extensions: handing
//! a packet to Godot (which reads it through a pointer until the next call)
//! and taking the buffer Godot passes to `put_packet`.

use godot::global::Error;
use rustws_core::Bytes;

/// Gives `packet` to Godot through its out-pointers and keeps it alive in
/// `held` until the next call; `None` answers `ERR_UNAVAILABLE`.
///
/// # Safety
/// The pointers are the ones Godot passed to `_get_packet`: each null or
/// valid for one write.
pub unsafe fn hand_out(
    packet: Option<Bytes>,
    held: &mut Option<Bytes>,
    r_buffer: *mut *const u8,
    r_buffer_size: *mut i32,
) -> Error {
    let (out_buffer, out_size) = (r_buffer, r_buffer_size);
    if out_buffer.is_null() || out_size.is_null() {
        return Error::ERR_INVALID_PARAMETER;
    }
    let Some(data) = packet else {
        // SAFETY: valid out-pointer (checked non-null above).
        unsafe { *out_size = 0 };
        return Error::ERR_UNAVAILABLE;
    };
    let size = i32::try_from(data.len()).unwrap_or(i32::MAX);
    let ptr = held.insert(data).as_ptr();
    // SAFETY: valid out-pointers; `held` keeps the bytes alive until the next
    // call, which is what Godot requires.
    unsafe {
        *out_buffer = ptr;
        *out_size = size;
    }
    Error::OK
}

/// The bytes Godot passed to `_put_packet`, or `None` for a bad buffer.
///
/// # Safety
/// `p_buffer` must point to `p_buffer_size` readable bytes (as Godot
/// guarantees) that outlive the returned slice.
pub unsafe fn taken_in<'a>(p_buffer: *const u8, p_buffer_size: i32) -> Option<&'a [u8]> {
    let ptr = p_buffer;
    if p_buffer_size < 0 || (ptr.is_null() && p_buffer_size > 0) {
        return None;
    }
    if p_buffer_size == 0 {
        return Some(&[]);
    }
    // SAFETY: per this function's contract.
    Some(unsafe { std::slice::from_raw_parts(ptr, p_buffer_size as usize) })
}
