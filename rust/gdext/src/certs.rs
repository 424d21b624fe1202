//! Certificates from Godot's `X509Certificate` as PEM text for rustls.
//!
//! Up to Godot 4.4, `X509Certificate.save_to_string()` hands back the PEM
//! (tens of microseconds). From 4.5 it ends with the C string terminator and
//! the engine prints a "Unicode parsing error" about it on every call, so
//! there `save()` writes the same PEM to a file in a fresh private directory
//! (see `rustws_core::PrivateDir`) that is removed at once.

use godot::classes::{Engine, X509Certificate};
use godot::global::Error;
use godot::obj::Singleton;
use godot::prelude::*;
use rustws_core::PrivateDir;
use std::sync::OnceLock;

/// Whether this engine's `save_to_string()` is clean (Godot 4.4 or older).
fn string_is_clean() -> bool {
    static CLEAN: OnceLock<bool> = OnceLock::new();
    *CLEAN.get_or_init(|| {
        let info = Engine::singleton().get_version_info();
        let part = |key: &str| {
            info.get(key)
                .and_then(|v| v.try_to::<i64>().ok())
                .unwrap_or(0)
        };
        (part("major"), part("minor")) <= (4, 4)
    })
}

/// The certificate (chain) as PEM, or why Godot could not write it out.
pub fn pem(cert: &mut Gd<X509Certificate>) -> Result<String, String> {
    let from_file = (!string_is_clean())
        .then(|| {
            let dir = PrivateDir::create().ok()?;
            let path = dir.path().join("certificate.crt");
            let saved = cert.save(&GString::from(&path.to_string_lossy().to_string()));
            let text = std::fs::read_to_string(&path).ok()?;
            (saved == Error::OK && !text.trim().is_empty()).then_some(text)
        })
        .flatten();
    if let Some(text) = from_file {
        return Ok(text);
    }
    // Up to 4.4, or no writable temporary folder (then with the warning).
    let text = cert.save_to_string().to_string();
    let text = text.trim_end_matches(['\0', '\u{fffd}']).to_string();
    if text.trim().is_empty() {
        return Err(
            "the X509Certificate is empty (was its load() successful?) or Godot could not write it out"
                .into(),
        );
    }
    Ok(text)
}
