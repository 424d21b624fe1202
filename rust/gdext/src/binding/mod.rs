//! The binding runtime: how our classes meet the engine where godot-rust's
//! public API does not reach, and the one module of ours that uses
//! godot-rust's private API (`godot::sys`, `godot::private`,
//! `godot::register::private`, `godot::docs::__gather_xml_docs`: doc-hidden,
//! and changed without notice in any release; hence `godot = "=0.5.5"` in
//! Cargo.toml). A godot-rust upgrade
//! touches this folder only; the test at the end of this file fails until
//! each use here was checked against the new version.
//!
//! What it offers the classes:
//! - [`Stateful`]: a class whose state lives behind its own lock, in a
//!   [`Registry`] by instance id, so methods reach it without binding the
//!   object (godot-rust's thread-safe binding costs about a microsecond per
//!   call): [`state`] for `#[func(gd_self)]` methods, and the direct calls;
//! - [`direct_methods!`]: the methods a game calls per message or per frame,
//!   registered with the engine directly (no `Gd` made per call), with their
//!   help in the editor;
//! - [`direct_virtuals!`]: a class's engine virtual methods (what
//!   SceneMultiplayer calls per packet) as plain functions over its state,
//!   in place of godot-rust's `I*` trait, which binds the object per call;
//! - [`class_enums!`]: a class's enums (godot-rust has no public way to add
//!   one), with each constant's help.

mod direct;
mod help;
mod registry;
pub(crate) mod virtuals;

pub(crate) use direct::direct_methods;
pub(crate) use help::class_enums;
pub(crate) use registry::{Registry, Shared};
pub(crate) use virtuals::direct_virtuals;

#[doc(hidden)]
pub(crate) mod macro_support {
    //! What the macros of this module expand to; not for direct use.
    pub(crate) use super::direct::{register, Direct};
    pub(crate) use super::help::{enum_help_xml, help_xml, register_enums, EnumDecl, Help};
    pub(crate) use godot::obj::cap::ImplementsGodotVirtual;
    pub(crate) use godot::private::{
        ClassShard, DocsItem, DocsShard, ITraitImpl, InherentImplDocs, ShardItem,
        __GODOT_DOCS_REGISTRY, __GODOT_SHARD_REGISTRY,
    };
    pub(crate) use godot::register::info::MethodFlags;
    pub(crate) use godot::register::private::constant::{
        ConstantKind, ExportConstant, IntegerConstant,
    };
    pub(crate) use godot::register::private::method::ClassMethodInfo;
    pub(crate) use godot::sys::shard_add;
    pub(crate) use godot::sys::GDExtensionClassCallVirtual as CallVirtual;
}

use godot::obj::{bounds, Bounds, Gd, GodotClass, Inherits};
use godot::private::{as_storage, Storage};
use godot::sys;
use std::sync::Arc;

/// A class whose state lives behind its own lock (see the module header).
pub(crate) trait Stateful:
    GodotClass + Bounds<Declarer = bounds::DeclUser> + Inherits<<Self as GodotClass>::Base>
{
    /// What its methods work on.
    type State: 'static;
    /// Every object's state by instance id.
    fn registry() -> &'static Registry<Self::State>;
    /// The object's state (for the first lookup, which binds it once).
    fn shared(&self) -> &Arc<Shared<Self::State>>;
}

/// The state of `this`, without binding it (after the first call).
pub(crate) fn state<C: Stateful>(this: &Gd<C>) -> Arc<Shared<C::State>> {
    C::registry().get(this.instance_id_unchecked(), || {
        this.bind().shared().clone()
    })
}

/// The state of the object behind an engine instance pointer, `None` for a
/// null one.
///
/// # Safety
/// (For the direct calls and virtuals of this module.)
/// `instance`, when not null, is the instance pointer the engine passed for
/// an object of class `C` (godot-rust's storage of it), alive for the call.
unsafe fn state_of<C: Stateful>(
    instance: sys::GDExtensionClassInstancePtr,
) -> Option<Arc<Shared<C::State>>> {
    if instance.is_null() {
        return None;
    }
    // SAFETY: per the contract. The base is read outside the cell
    // godot-rust binds the instance through.
    let storage = unsafe { as_storage::<C>(instance) };
    // SAFETY: the base of a live object.
    let raw = unsafe { sys::interface_fn!(object_get_instance_id)(storage.base().obj_sys()) };
    let id = godot::obj::InstanceId::try_from_i64(raw as i64)?;
    // On a miss the instance is bound in place, never through a new `Gd`: the
    // engine calls virtuals on objects no reference holds yet (the editor
    // reads the default property values of a class it just made), and a
    // `Gd` made and dropped there would free the object under the engine.
    Some(C::registry().get(id, || storage.get().shared().clone()))
}

/// The help pages godot-rust will hand the editor, as XML (for tests).
#[cfg(test)]
pub(crate) fn help_pages() -> Vec<String> {
    godot::docs::__gather_xml_docs().collect()
}

#[cfg(test)]
mod tests {
    /// The godot-rust version every use of its private API here was checked
    /// against.
    const WRITTEN_FOR: &str = "0.5.5";

    /// The version of a package in the workspace's Cargo.lock.
    fn locked_version(name: &str) -> Option<&'static str> {
        let lock = include_str!("../../../../Cargo.lock");
        lock.split("[[package]]").find_map(|entry| {
            let mut lines = entry.lines().map(str::trim);
            lines.find(|l| *l == format!("name = \"{name}\""))?;
            lines
                .find_map(|l| l.strip_prefix("version = \""))
                .map(|v| v.trim_end_matches('"'))
        })
    }

    #[test]
    fn godot_rust_is_the_version_the_binding_module_was_written_for() {
        for crate_name in ["godot", "godot-core", "godot-ffi"] {
            let locked = locked_version(crate_name);
            assert_eq!(
                locked,
                Some(WRITTEN_FOR),
                "{crate_name} is {locked:?} in Cargo.lock, but rust/gdext/src/binding/ was written \
                 against godot-rust {WRITTEN_FOR} and uses its private API (godot::sys, \
                 godot::private, godot::register::private: instance storage, method and constant \
                 registration, the docs registry). Check each use in that folder against the new \
                 version, run the GDScript tests and the help-page test, then update WRITTEN_FOR."
            );
        }
    }
}
