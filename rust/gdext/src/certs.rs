//! Certificates from Godot's `X509Certificate` as PEM text for rustls.
//!
//! `X509Certificate.save_to_string()` hands back the PEM with its C string
//! terminator, and the engine prints a "Unicode parsing error" about it on
//! every call; `save()` writes the same PEM without it, so the certificate
//! goes through a file in a fresh private directory (see
//! `rustws_core::PrivateDir`) that is removed at once.

use godot::classes::X509Certificate;
use godot::global::Error;
use godot::prelude::*;
use rustws_core::PrivateDir;

/// The certificate (chain) as PEM, or why Godot could not write it out.
pub fn pem(cert: &mut Gd<X509Certificate>) -> Result<String, String> {
    let from_file = PrivateDir::create().ok().and_then(|dir| {
        let path = dir.path().join("certificate.crt");
        let saved = cert.save(&GString::from(&path.to_string_lossy().to_string()));
        let text = std::fs::read_to_string(&path).ok()?;
        (saved == Error::OK && !text.trim().is_empty()).then_some(text)
    });
    if let Some(text) = from_file {
        return Ok(text);
    }
    // No writable temporary folder: take the string (and the warning).
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
