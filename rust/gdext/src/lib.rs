use godot::prelude::*;
struct E;
#[gdextension]
unsafe impl ExtensionLibrary for E {}
