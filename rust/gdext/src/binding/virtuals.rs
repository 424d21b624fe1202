//! Direct virtual methods: the engine virtual methods of a class (the
//! `_poll`, `_get_packet`, `_get_available_packet_count`... that
//! SceneMultiplayer calls several times per packet and per RPC) handed to
//! the engine as plain functions over the object's state, instead of
//! through godot-rust's `I*` trait, which binds the object through its
//! thread-safe cell on every call (about 0.5 us; the engine's own classes:
//! 0.1 us).
//!
//! [`direct_virtuals!`] writes, for a [`Stateful`] class, one function per
//! virtual (its pointer call: the engine passes each argument by pointer,
//! integers and enums as 64 bits), the class's answer to the engine's "which
//! function is `_name`?" (godot-rust's `ImplementsGodotVirtual`), and the
//! registration godot-rust's `#[godot_api] impl I... for` block would have
//! made. A class using it has no such block.

use super::{state_of, Shared, Stateful};
use godot::classes::multiplayer_peer::{ConnectionStatus, TransferMode};
use godot::global::Error;
use godot::obj::{EngineEnum, Gd};
use godot::private::{as_storage, Storage};
use godot::sys;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

/// A parameter type of a direct virtual.
pub(crate) trait VArg: Sized {
    /// # Safety
    /// `ptr` points to a live value of this type as the engine passes it in
    /// a pointer call.
    unsafe fn from_ptr(ptr: sys::GDExtensionConstTypePtr) -> Self;
}

impl VArg for i32 {
    unsafe fn from_ptr(ptr: sys::GDExtensionConstTypePtr) -> Self {
        // SAFETY: per the contract: integers come as 64 bits. Truncated as
        // the engine's own binds do.
        unsafe { *ptr.cast::<i64>() as i32 }
    }
}

impl VArg for bool {
    unsafe fn from_ptr(ptr: sys::GDExtensionConstTypePtr) -> Self {
        // SAFETY: per the contract: a boolean is one byte.
        unsafe { *ptr.cast::<u8>() != 0 }
    }
}

impl VArg for TransferMode {
    unsafe fn from_ptr(ptr: sys::GDExtensionConstTypePtr) -> Self {
        // SAFETY: per the contract: an enum comes as 64 bits. An unknown
        // value is taken as reliable (WebSocket is reliable whatever is asked).
        let ord = unsafe { *ptr.cast::<i64>() };
        i32::try_from(ord)
            .ok()
            .and_then(TransferMode::try_from_ord)
            .unwrap_or(TransferMode::RELIABLE)
    }
}

/// A pointer argument (`const uint8_t *`, `const uint8_t **`, `int32_t *`):
/// the engine passes a pointer to it.
impl<T> VArg for *mut T {
    unsafe fn from_ptr(ptr: sys::GDExtensionConstTypePtr) -> Self {
        // SAFETY: per the contract.
        unsafe { *ptr.cast::<*mut T>() }
    }
}

impl<T> VArg for *const T {
    unsafe fn from_ptr(ptr: sys::GDExtensionConstTypePtr) -> Self {
        // SAFETY: per the contract.
        unsafe { *ptr.cast::<*const T>() }
    }
}

/// A return type of a direct virtual.
pub(crate) trait VRet: Sized {
    /// # Safety
    /// `dst` points to a live value of this type as the engine expects it
    /// back from a pointer call (integers and enums as 64 bits, booleans as
    /// a byte).
    unsafe fn write_to(self, dst: sys::GDExtensionTypePtr);
}

impl VRet for () {
    unsafe fn write_to(self, _dst: sys::GDExtensionTypePtr) {}
}

impl VRet for i32 {
    unsafe fn write_to(self, dst: sys::GDExtensionTypePtr) {
        // SAFETY: per the contract.
        unsafe { *dst.cast::<i64>() = i64::from(self) }
    }
}

impl VRet for bool {
    unsafe fn write_to(self, dst: sys::GDExtensionTypePtr) {
        // SAFETY: per the contract.
        unsafe { *dst.cast::<u8>() = u8::from(self) }
    }
}

impl VRet for Error {
    unsafe fn write_to(self, dst: sys::GDExtensionTypePtr) {
        // SAFETY: per the contract.
        unsafe { *dst.cast::<i64>() = i64::from(self.ord()) }
    }
}

impl VRet for TransferMode {
    unsafe fn write_to(self, dst: sys::GDExtensionTypePtr) {
        // SAFETY: per the contract.
        unsafe { *dst.cast::<i64>() = i64::from(self.ord()) }
    }
}

impl VRet for ConnectionStatus {
    unsafe fn write_to(self, dst: sys::GDExtensionTypePtr) {
        // SAFETY: per the contract.
        unsafe { *dst.cast::<i64>() = i64::from(self.ord()) }
    }
}

/// The parameters of a direct virtual.
pub(crate) trait VArgs: Sized {
    /// # Safety
    /// `args` holds one pointer per parameter, as in [`VArg::from_ptr`].
    unsafe fn from_ptrs(args: *const sys::GDExtensionConstTypePtr) -> Self;
}

impl VArgs for () {
    unsafe fn from_ptrs(_args: *const sys::GDExtensionConstTypePtr) -> Self {}
}

impl<A: VArg> VArgs for (A,) {
    unsafe fn from_ptrs(args: *const sys::GDExtensionConstTypePtr) -> Self {
        // SAFETY: per the contract.
        unsafe { (A::from_ptr(*args),) }
    }
}

impl<A: VArg, B: VArg> VArgs for (A, B) {
    unsafe fn from_ptrs(args: *const sys::GDExtensionConstTypePtr) -> Self {
        // SAFETY: per the contract.
        unsafe { (A::from_ptr(*args), B::from_ptr(*args.add(1))) }
    }
}

/// The object a direct virtual runs on, for the few that need more than
/// its state (to emit a signal).
pub(crate) struct This<C> {
    instance: sys::GDExtensionClassInstancePtr,
    class: std::marker::PhantomData<C>,
}

impl<C: Stateful> This<C> {
    /// The object, as a `Gd` (a reference count up and down: not for every
    /// call of a hot virtual). Only in virtuals the engine calls on objects
    /// a reference holds (`_poll`): on one no reference holds yet (as the
    /// editor makes to read default values), dropping the `Gd` frees it.
    pub(crate) fn gd(&self) -> Gd<C> {
        // SAFETY: `instance` is the engine's live instance pointer for the
        // call this `This` was made for, and lives no longer than the call.
        let storage = unsafe { as_storage::<C>(self.instance) };
        storage.get_gd()
    }
}

/// One direct virtual (made by [`direct_virtuals!`]).
pub(crate) trait DirectVirtual {
    type Class: Stateful;
    const NAME: &'static str;
    type Params: VArgs;
    type Ret: VRet;
    fn run(
        state: &Arc<Shared<<Self::Class as Stateful>::State>>,
        this: &This<Self::Class>,
        params: Self::Params,
    ) -> Self::Ret;
}

/// The engine-facing function of virtual `M`.
pub(crate) unsafe extern "C" fn call<M: DirectVirtual>(
    instance: sys::GDExtensionClassInstancePtr,
    args: *const sys::GDExtensionConstTypePtr,
    ret: sys::GDExtensionTypePtr,
) {
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: the engine passes one pointer per parameter, typed as the
        // virtual is declared.
        let params = unsafe { M::Params::from_ptrs(args) };
        // SAFETY: the engine's instance pointer for this call.
        let state = unsafe { state_of::<M::Class>(instance) }?;
        let this = This {
            instance,
            class: std::marker::PhantomData,
        };
        Some(M::run(&state, &this, params))
    }));
    match outcome {
        // SAFETY: `ret` is the engine's live value of the virtual's type.
        Ok(Some(value)) if !ret.is_null() => unsafe { value.write_to(ret) },
        Ok(Some(_)) => {}
        Ok(None) => crate::logger::error!(
            "{}.{}: called without an object.",
            <M::Class as godot::obj::GodotClass>::class_id(),
            M::NAME
        ),
        Err(_) => crate::logger::error!(
            "{}.{}: internal error (a bug in the extension, reported above); the call did nothing. Please report it.",
            <M::Class as godot::obj::GodotClass>::class_id(),
            M::NAME
        ),
    }
}

/// Declares the engine virtual methods of a [`Stateful`] class, each with a
/// body over the object's state (and `$this`, see [`This`]). Replaces the
/// class's `#[godot_api] impl I... for` block: every virtual the class
/// answers must be here.
macro_rules! direct_virtuals {
    (class $class:ty; $(
        $(#[doc = $doc:literal])*
        fn $name:ident($state:ident, $this:pat_param $(, $arg:ident: $ty:ty)*) -> $ret:ty $body:block
    )+) => {
        $(
            #[allow(non_camel_case_types)]
            $(#[doc = $doc])*
            pub(crate) struct $name;

            impl $crate::binding::virtuals::DirectVirtual for $name {
                type Class = $class;
                const NAME: &'static str = stringify!($name);
                type Params = ($($ty,)*);
                type Ret = $ret;
                #[allow(unused_variables)]
                fn run(
                    $state: &std::sync::Arc<$crate::binding::Shared<
                        <$class as $crate::binding::Stateful>::State,
                    >>,
                    $this: &$crate::binding::virtuals::This<$class>,
                    ($($arg,)*): Self::Params,
                ) -> $ret $body
            }
        )+

        impl $crate::binding::macro_support::ImplementsGodotVirtual for $class {
            fn __virtual_call(name: &str) -> $crate::binding::macro_support::CallVirtual {
                match name {
                    $(stringify!($name) => Some($crate::binding::virtuals::call::<$name>),)+
                    _ => None,
                }
            }
        }

        // What godot-rust's `#[godot_api] impl I... for` block registers.
        $crate::binding::macro_support::shard_add!(
            $crate::binding::macro_support::__GODOT_SHARD_REGISTRY;
            $crate::binding::macro_support::ClassShard::new::<$class>(
                $crate::binding::macro_support::ShardItem::ITraitImpl(
                    $crate::binding::macro_support::ITraitImpl::new::<$class>(),
                ),
            )
        );
    };
}
pub(crate) use direct_virtuals;
