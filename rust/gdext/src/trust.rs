//! The default trust of `wss://` clients, as the engine has it (see
//! `rustws_core::set_default_trust` for the order): the bundle the project
//! setting `network/tls/certificate_bundle_override` names, read through the
//! engine (so `res://` paths work, in exported games too), and the system's
//! CA certificates as the engine reads them (`OS.get_system_ca_certificates`:
//! the OS's store on Windows and macOS, the engine's list of bundle files on
//! Linux). Read at the first connection that needs it.

use godot::classes::{FileAccess, Os, ProjectSettings};
use godot::global::Error;
use godot::obj::Singleton;
use rustws_core::TrustSources;

/// The project setting that names a bundle of trusted certificates.
const BUNDLE_SETTING: &str = "network/tls/certificate_bundle_override";

/// Tells the core where the default roots come from.
pub(crate) fn install() {
    rustws_core::set_default_trust(sources);
}

fn sources() -> TrustSources {
    let settings = ProjectSettings::singleton();
    let name = settings.get_setting(BUNDLE_SETTING).to_string();
    let bundle_override = (!name.trim().is_empty()).then(|| {
        let bytes = FileAccess::get_file_as_bytes(name.as_str());
        let read = match FileAccess::get_open_error() {
            _ if !bytes.is_empty() => Ok(bytes.to_vec()),
            Error::OK => Err("the file is empty".to_string()),
            error => Err(format!("{error:?}")),
        };
        (name, read)
    });
    let system_pem = if bundle_override.is_some() {
        Vec::new()
    } else {
        Os::singleton()
            .get_system_ca_certificates()
            .to_string()
            .into_bytes()
    };
    TrustSources {
        bundle_override,
        system_pem,
    }
}
