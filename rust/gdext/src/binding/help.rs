//! The editor's help for what godot-rust does not document itself: the
//! directly bound methods (see [`super::direct`]) and the enums of a class
//! ([`class_enums!`]), as the XML the editor reads, handed over through
//! godot-rust's docs registry with its own pages.

use super::macro_support::{ConstantKind, ExportConstant, IntegerConstant};
use godot::builtin::StringName;
use godot::obj::GodotClass;

/// The editor-help entry of one direct method.
pub(crate) struct Help {
    pub name: &'static str,
    pub ret: &'static str,
    pub params: &'static [(&'static str, &'static str)],
    pub doc: &'static [&'static str],
}

/// One enum of a class: its name and constants (name, value, help text).
pub(crate) struct EnumDecl {
    pub name: &'static str,
    pub constants: &'static [(&'static str, i64, &'static str)],
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The `<method>` entries of the editor's help for `methods`.
pub(crate) fn help_xml(methods: &[Help]) -> String {
    let mut xml = String::new();
    for m in methods {
        let ret = if m.ret == "()" { "void" } else { m.ret };
        xml.push_str(&format!(
            "<method name=\"{}\">\n  <return type=\"{}\" />\n",
            m.name,
            xml_escape(ret)
        ));
        for (index, (name, ty)) in m.params.iter().enumerate() {
            xml.push_str(&format!(
                "  <param index=\"{index}\" name=\"{}\" type=\"{}\" />\n",
                xml_escape(name),
                xml_escape(ty)
            ));
        }
        let text: Vec<&str> = m.doc.iter().map(|line| line.trim()).collect();
        xml.push_str(&format!(
            "  <description>\n{}\n  </description>\n</method>\n",
            xml_escape(&text.join("\n"))
        ));
    }
    xml
}

/// The `<constant>` entries of the editor's help for `enums`.
pub(crate) fn enum_help_xml(enums: &[EnumDecl]) -> String {
    let mut xml = String::new();
    for e in enums {
        for (name, value, doc) in e.constants {
            xml.push_str(&format!(
                "<constant name=\"{name}\" value=\"{value}\" enum=\"{}\">{}</constant>\n",
                e.name,
                xml_escape(doc.trim())
            ));
        }
    }
    xml
}

/// Registers `enums` on class `C` (after godot-rust registered the class).
pub(crate) fn register_enums<C: GodotClass>(enums: &[EnumDecl]) {
    for e in enums {
        let enumerators = e
            .constants
            .iter()
            .map(|(name, value, _)| IntegerConstant::new(name, *value))
            .collect();
        ExportConstant::new(
            C::class_id(),
            ConstantKind::Enum {
                name: StringName::from(e.name),
                enumerators,
            },
        )
        .register();
    }
}

/// Declares the enums of a class, each constant with its `///` help (as
/// the engine's classes have them). Makes a Rust constant per enum constant,
/// `ENUMS`, `register_enums()` (call it once the class is registered) and
/// the constants' entries in the editor's help.
macro_rules! class_enums {
    (class $class:ty; $(
        enum $enum:ident {
            $( $(#[doc = $doc:literal])+ $name:ident = $value:literal, )+
        }
    )+) => {
        $($(
            $(#[doc = $doc])+
            #[allow(dead_code)]
            pub(crate) const $name: i64 = $value;
        )+)+

        /// The class's enums, as registered.
        pub(crate) const ENUMS: &[$crate::binding::macro_support::EnumDecl] = &[$(
            $crate::binding::macro_support::EnumDecl {
                name: stringify!($enum),
                constants: &[$((stringify!($name), $value, concat!($($doc),+)),)+],
            },
        )+];

        /// Registers the enums above with the engine.
        pub(crate) fn register_enums() {
            $crate::binding::macro_support::register_enums::<$class>(ENUMS);
        }

        // Handed to the editor with godot-rust's own help pages.
        $crate::binding::macro_support::shard_add!(
            $crate::binding::macro_support::__GODOT_DOCS_REGISTRY;
            $crate::binding::macro_support::DocsShard::new::<$class>(
                $crate::binding::macro_support::DocsItem::InherentImpl(
                    $crate::binding::macro_support::InherentImplDocs {
                        methods_xml: "",
                        signals_xml: "",
                        constants_xml: Box::leak(
                            $crate::binding::macro_support::enum_help_xml(ENUMS).into_boxed_str(),
                        ),
                    },
                ),
            )
        );
    };
}
pub(crate) use class_enums;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_help_is_escaped_and_typed() {
        let xml = help_xml(&[Help {
            name: "m",
            ret: "()",
            params: &[("a", "i32")],
            doc: &[" Sends <b> & \"c\"."],
        }]);
        assert!(xml.contains("<return type=\"void\" />"), "{xml}");
        assert!(
            xml.contains("<param index=\"0\" name=\"a\" type=\"i32\" />"),
            "{xml}"
        );
        assert!(
            xml.contains("Sends &lt;b&gt; &amp; &quot;c&quot;."),
            "{xml}"
        );
    }

    #[test]
    fn constant_help_names_its_enum() {
        let xml = enum_help_xml(&[EnumDecl {
            name: "State",
            constants: &[("OPEN", 1, " Open & ready.")],
        }]);
        assert_eq!(
            xml,
            "<constant name=\"OPEN\" value=\"1\" enum=\"State\">Open &amp; ready.</constant>\n"
        );
    }
}
