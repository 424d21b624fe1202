//! Certificates from Godot's `X509Certificate` as PEM text for rustls.
//!
//! `X509Certificate.save_to_string()` hands back the PEM with its C string
//! terminator, and the engine prints a "Unicode parsing error" about it on
//! every call; `save()` writes the same PEM without it, so the certificate
//! goes through a short-lived file in the system's temporary folder.

use godot::classes::X509Certificate;
use godot::global::Error;
use godot::prelude::*;
use std::sync::atomic::{AtomicU64, Ordering};

/// The certificate (chain) as PEM, or `None` when Godot cannot write it.
pub fn pem(cert: &mut Gd<X509Certificate>) -> Option<String> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let path = std::env::temp_dir().join(format!(
        "rust_websocket_{}_{}.crt",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let saved = cert.save(&GString::from(&path.to_string_lossy().to_string()));
    let text = std::fs::read_to_string(&path).ok();
    let _ = std::fs::remove_file(&path);
    match (saved, text) {
        (Error::OK, Some(text)) if !text.trim().is_empty() => Some(text),
        // No writable temporary folder: take the string (and the warning).
        _ => {
            let text = cert.save_to_string().to_string();
            let text = text.trim_end_matches(['\0', '\u{fffd}']).to_string();
            (!text.trim().is_empty()).then_some(text)
        }
    }
}
