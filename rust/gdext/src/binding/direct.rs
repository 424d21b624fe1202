//! Direct method binds: the methods of our classes a game calls per message
//! or per frame, registered with the engine without godot-rust's method
//! wrapper.
//!
//! Why: godot-rust hands a `#[func(gd_self)]` method a `Gd<Self>` it makes
//! on every call: a reference-count increment and decrement through the
//! engine, and a class check that builds the class name as a string and asks
//! the engine. In a 32-byte echo that was 18% of all the time spent. Here the
//! engine's instance pointer leads to the object's base, its instance id,
//! and the state in the class's registry (see [`super::state_of`]): no
//! binding, no `Gd`, no engine call but the id.
//!
//! Each method is written once in [`direct_methods!`]: its `///` help text,
//! its parameters and a body over the object's shared state. The macro makes
//! its variant call (untyped GDScript, `call()`), its pointer call (typed
//! GDScript), its registration and its entry in the editor's help.

use super::{state_of, Shared, Stateful};
use godot::builtin::{GString, PackedByteArray, Variant, VariantType};
use godot::global::Error;
use godot::meta::{FromGodot, ToGodot};
use godot::obj::EngineEnum;
use godot::register::private::method::ClassMethodInfo;
use godot::sys::{self, GodotFfi, PtrcallType};
use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

/// A parameter type of a direct method.
/// Variant calls convert with `FromGodot` (as godot-rust's own binds do).
pub(crate) trait Arg: FromGodot {
    const TYPE: VariantType;
    /// # Safety
    /// `ptr` points to a live value of this type as the engine passes it in
    /// a pointer call (integers as 64 bits).
    unsafe fn from_ptr(ptr: sys::GDExtensionConstTypePtr) -> Self;
}

impl Arg for PackedByteArray {
    const TYPE: VariantType = VariantType::PACKED_BYTE_ARRAY;
    unsafe fn from_ptr(ptr: sys::GDExtensionConstTypePtr) -> Self {
        // SAFETY: per the contract; this takes a new reference.
        unsafe { PackedByteArray::new_from_sys(ptr) }
    }
}

impl Arg for GString {
    const TYPE: VariantType = VariantType::STRING;
    unsafe fn from_ptr(ptr: sys::GDExtensionConstTypePtr) -> Self {
        // SAFETY: per the contract; this takes a new reference.
        unsafe { GString::new_from_sys(ptr) }
    }
}

impl Arg for i32 {
    const TYPE: VariantType = VariantType::INT;
    unsafe fn from_ptr(ptr: sys::GDExtensionConstTypePtr) -> Self {
        // SAFETY: per the contract. Truncated as the engine's own binds do.
        unsafe { *ptr.cast::<i64>() as i32 }
    }
}

/// A return type of a direct method.
pub(crate) trait Ret: Sized {
    fn into_variant(self) -> Variant;
    /// # Safety
    /// `dst` points to a live value of this type as the engine expects it
    /// back from a pointer call (integers as 64 bits, booleans as a byte).
    unsafe fn write_to(self, dst: sys::GDExtensionTypePtr);
}

impl Ret for () {
    fn into_variant(self) -> Variant {
        Variant::nil()
    }
    unsafe fn write_to(self, _dst: sys::GDExtensionTypePtr) {}
}

impl Ret for i32 {
    fn into_variant(self) -> Variant {
        self.to_variant()
    }
    unsafe fn write_to(self, dst: sys::GDExtensionTypePtr) {
        // SAFETY: per the contract.
        unsafe { *dst.cast::<i64>() = i64::from(self) }
    }
}

impl Ret for bool {
    fn into_variant(self) -> Variant {
        self.to_variant()
    }
    unsafe fn write_to(self, dst: sys::GDExtensionTypePtr) {
        // SAFETY: per the contract.
        unsafe { *dst.cast::<u8>() = u8::from(self) }
    }
}

impl Ret for Error {
    fn into_variant(self) -> Variant {
        self.to_variant()
    }
    unsafe fn write_to(self, dst: sys::GDExtensionTypePtr) {
        // SAFETY: per the contract.
        unsafe { *dst.cast::<i64>() = i64::from(self.ord()) }
    }
}

impl Ret for PackedByteArray {
    fn into_variant(self) -> Variant {
        self.to_variant()
    }
    unsafe fn write_to(self, dst: sys::GDExtensionTypePtr) {
        // SAFETY: per the contract; the engine's empty array is swapped out
        // and released here.
        unsafe { self.move_return_ptr(dst, PtrcallType::Standard) }
    }
}

/// Why a variant call's arguments were refused, as the engine reports it.
pub(crate) struct CallFailure {
    error: sys::GDExtensionCallErrorType,
    argument: i32,
    expected: i32,
}

/// The parameter list of a direct method.
pub(crate) trait Args: Sized {
    const COUNT: usize;
    /// From a variant call's arguments, missing trailing ones taken from
    /// `defaults` (which are for the last parameters).
    fn from_variants(args: &[&Variant], defaults: &[Variant]) -> Result<Self, CallFailure>;
    /// # Safety
    /// `args` holds `COUNT` pointers as in [`Arg::from_ptr`].
    unsafe fn from_ptrs(args: *const sys::GDExtensionConstTypePtr) -> Self;
}

/// Parameter `index` of `count`, given or defaulted, converted.
fn param<A: Arg>(
    args: &[&Variant],
    defaults: &[Variant],
    count: usize,
    index: usize,
) -> Result<A, CallFailure> {
    let defaulted = (defaults.len() + index)
        .checked_sub(count)
        .and_then(|i| defaults.get(i));
    let Some(value) = args.get(index).copied().or(defaulted) else {
        // `check_count` refuses such a call first.
        return Err(CallFailure {
            error: sys::GDEXTENSION_CALL_ERROR_TOO_FEW_ARGUMENTS,
            argument: 0,
            expected: count as i32,
        });
    };
    value.try_to::<A>().map_err(|_| CallFailure {
        error: sys::GDEXTENSION_CALL_ERROR_INVALID_ARGUMENT,
        argument: index as i32,
        expected: A::TYPE.ord(),
    })
}

/// Checks the count of a variant call's arguments.
fn check_count(given: usize, count: usize, defaults: usize) -> Result<(), CallFailure> {
    let (error, expected) = if given > count {
        (sys::GDEXTENSION_CALL_ERROR_TOO_MANY_ARGUMENTS, count)
    } else if given + defaults < count {
        // The engine's binds name the full count here too.
        (sys::GDEXTENSION_CALL_ERROR_TOO_FEW_ARGUMENTS, count)
    } else {
        return Ok(());
    };
    Err(CallFailure {
        error,
        argument: 0,
        expected: expected as i32,
    })
}

impl Args for () {
    const COUNT: usize = 0;
    fn from_variants(args: &[&Variant], defaults: &[Variant]) -> Result<Self, CallFailure> {
        check_count(args.len(), 0, defaults.len())
    }
    unsafe fn from_ptrs(_args: *const sys::GDExtensionConstTypePtr) -> Self {}
}

impl<A: Arg> Args for (A,) {
    const COUNT: usize = 1;
    fn from_variants(args: &[&Variant], defaults: &[Variant]) -> Result<Self, CallFailure> {
        check_count(args.len(), 1, defaults.len())?;
        Ok((param(args, defaults, 1, 0)?,))
    }
    unsafe fn from_ptrs(args: *const sys::GDExtensionConstTypePtr) -> Self {
        // SAFETY: per the contract.
        unsafe { (A::from_ptr(*args),) }
    }
}

impl<A: Arg, B: Arg> Args for (A, B) {
    const COUNT: usize = 2;
    fn from_variants(args: &[&Variant], defaults: &[Variant]) -> Result<Self, CallFailure> {
        check_count(args.len(), 2, defaults.len())?;
        Ok((param(args, defaults, 2, 0)?, param(args, defaults, 2, 1)?))
    }
    unsafe fn from_ptrs(args: *const sys::GDExtensionConstTypePtr) -> Self {
        // SAFETY: per the contract.
        unsafe { (A::from_ptr(*args), B::from_ptr(*args.add(1))) }
    }
}

/// One direct method (made by [`direct_methods!`]).
pub(crate) trait Direct {
    type Class: Stateful;
    const NAME: &'static str;
    const PARAMS: &'static [&'static str];
    type Params: Args;
    type Ret: Ret + godot::meta::GodotConvert;
    /// The default values of the last parameters.
    fn defaults() -> Vec<Variant>;
    fn run(
        state: &Arc<Shared<<Self::Class as Stateful>::State>>,
        params: Self::Params,
    ) -> Self::Ret;
}

fn panicked(class: impl std::fmt::Display, name: &str) {
    crate::logger::error!(
        "{class}.{name}: internal error (a bug in the extension, reported above); the call did nothing. Please report it."
    );
}

/// The variant call of `M` (untyped GDScript, `call()`, `Callable`).
unsafe extern "C" fn varcall<M: Direct>(
    _method: *mut c_void,
    instance: sys::GDExtensionClassInstancePtr,
    args: *const sys::GDExtensionConstVariantPtr,
    count: sys::GDExtensionInt,
    ret: sys::GDExtensionVariantPtr,
    error: *mut sys::GDExtensionCallError,
) {
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let args: &[&Variant] = match usize::try_from(count) {
            // SAFETY: the engine passes `count` pointers to live Variants
            // (a `&Variant` is a non-null pointer to one).
            Ok(n) if n > 0 && !args.is_null() => unsafe {
                std::slice::from_raw_parts(args.cast::<&Variant>(), n)
            },
            _ => &[],
        };
        let defaults = if args.len() < M::Params::COUNT {
            M::defaults()
        } else {
            Vec::new()
        };
        let params = M::Params::from_variants(args, &defaults)?;
        // SAFETY: the engine's instance pointer for this call.
        let Some(state) = (unsafe { state_of::<M::Class>(instance) }) else {
            return Err(CallFailure {
                error: sys::GDEXTENSION_CALL_ERROR_INSTANCE_IS_NULL,
                argument: 0,
                expected: 0,
            });
        };
        Ok(M::run(&state, params).into_variant())
    }));
    match outcome {
        // SAFETY: `ret` is the engine's live Variant for the result.
        Ok(Ok(value)) if !ret.is_null() => unsafe {
            value.move_return_ptr(ret.cast(), PtrcallType::Standard)
        },
        Ok(Ok(_)) => {}
        Ok(Err(failure)) if !error.is_null() => {
            // SAFETY: the engine's error record for this call.
            unsafe {
                (*error).error = failure.error;
                (*error).argument = failure.argument;
                (*error).expected = failure.expected;
            }
        }
        Ok(Err(_)) => {}
        Err(_) => panicked(<M::Class as godot::obj::GodotClass>::class_id(), M::NAME),
    }
}

/// The pointer call of `M` (typed GDScript, engine code).
unsafe extern "C" fn ptrcall<M: Direct>(
    _method: *mut c_void,
    instance: sys::GDExtensionClassInstancePtr,
    args: *const sys::GDExtensionConstTypePtr,
    ret: sys::GDExtensionTypePtr,
) {
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: the engine passes one pointer per parameter, typed as
        // registered.
        let params = unsafe { M::Params::from_ptrs(args) };
        // SAFETY: the engine's instance pointer for this call.
        let state = unsafe { state_of::<M::Class>(instance) }?;
        Some(M::run(&state, params))
    }));
    match outcome {
        // SAFETY: `ret` is the engine's live value of the registered type.
        Ok(Some(value)) if !ret.is_null() => unsafe { value.write_to(ret) },
        Ok(Some(_)) => {}
        Ok(None) => crate::logger::error!(
            "{}.{}: called without an object.",
            <M::Class as godot::obj::GodotClass>::class_id(),
            M::NAME
        ),
        Err(_) => panicked(<M::Class as godot::obj::GodotClass>::class_id(), M::NAME),
    }
}

/// Registers `M` with the engine (after godot-rust registered the class);
/// `register` builds the method info from `M`'s parameter and return types.
///
/// # Safety
/// `register` must describe the parameters and result as `M::Params` and
/// `M::Ret` (which [`direct_methods!`] ensures), as the calls read and
/// write them that way.
pub(crate) unsafe fn register<M: Direct>(
    register: impl FnOnce(
        sys::GDExtensionClassMethodCall,
        sys::GDExtensionClassMethodPtrCall,
    ) -> ClassMethodInfo,
) {
    register(Some(varcall::<M>), Some(ptrcall::<M>)).register_extension_class_method();
}

/// Declares direct methods of a [`Stateful`] class: each with its `///`
/// help, its parameters (a trailing one may have ` = default`) and a body
/// over the object's state. Makes a `Direct` type per method,
/// `register_all()` (call it once the class is registered), `HELP`, and its
/// entry in the editor's help.
macro_rules! direct_methods {
    (class $class:ty; $(
        $(#[doc = $doc:literal])+
        fn $name:ident($state:ident $(, $arg:ident: $ty:ty $(= $default:expr)?)*) -> $ret:ty $body:block
    )+) => {
        $(
            #[allow(non_camel_case_types)]
            $(#[doc = $doc])+
            pub(crate) struct $name;

            impl $crate::binding::macro_support::Direct for $name {
                type Class = $class;
                const NAME: &'static str = stringify!($name);
                const PARAMS: &'static [&'static str] = &[$(stringify!($arg)),*];
                type Params = ($($ty,)*);
                type Ret = $ret;
                #[allow(unused_imports)]
                fn defaults() -> Vec<godot::builtin::Variant> {
                    use godot::meta::ToGodot as _;
                    vec![$($($default.to_variant(),)?)*]
                }
                fn run(
                    $state: &std::sync::Arc<$crate::binding::Shared<
                        <$class as $crate::binding::Stateful>::State,
                    >>,
                    ($($arg,)*): Self::Params,
                ) -> $ret $body
            }
        )+

        /// Registers every method above with the engine.
        pub(crate) fn register_all() {
            use $crate::binding::macro_support::{self as support, Direct as _};
            $(
                // SAFETY: the signature is the one `Direct` declares.
                unsafe {
                    support::register::<$name>(|call, ptrcall| {
                        support::ClassMethodInfo::from_signature::<$class, ($($ty,)*), $ret>(
                            godot::builtin::StringName::from(stringify!($name)),
                            call,
                            ptrcall,
                            support::MethodFlags::DEFAULT,
                            $name::PARAMS,
                            $name::defaults(),
                        )
                    })
                };
            )+
        }

        /// The editor's help for every method above.
        pub(crate) const HELP: &[$crate::binding::macro_support::Help] = &[$(
            $crate::binding::macro_support::Help {
                name: stringify!($name),
                ret: stringify!($ret),
                params: &[$((stringify!($arg), stringify!($ty))),*],
                doc: &[$($doc),+],
            },
        )+];

        // Handed to the editor with godot-rust's own help pages.
        $crate::binding::macro_support::shard_add!(
            $crate::binding::macro_support::__GODOT_DOCS_REGISTRY;
            $crate::binding::macro_support::DocsShard::new::<$class>(
                $crate::binding::macro_support::DocsItem::ITraitImpl(Box::leak(
                    $crate::binding::macro_support::help_xml(HELP).into_boxed_str(),
                )),
            )
        );
    };
}
pub(crate) use direct_methods;
