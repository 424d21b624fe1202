//! The `TLSOptions` arguments of both classes, as the core's TLS settings:
//! the optional `tls_client_options` of `connect_to_url`/`create_client`
//! (default `null`), and the server options of `create_server`.

use godot::classes::TlsOptions;
use godot::meta::GodotImmutable;
use godot::prelude::*;
use rustws_core::{TlsClientOptions, WsError};
use std::sync::Arc;

/// The optional `tls_client_options` argument; its default is `null`.
#[derive(Clone, Debug)]
pub struct TlsArg(pub(crate) Option<Gd<TlsOptions>>);

impl GodotConvert for TlsArg {
    type Via = Option<Gd<TlsOptions>>;

    fn godot_shape() -> godot::meta::shape::GodotShape {
        <Option<Gd<TlsOptions>> as GodotConvert>::godot_shape()
    }
}

impl ToGodot for TlsArg {
    type Pass = godot::meta::conv::ByValue;

    fn to_godot(&self) -> Self::Via {
        self.0.clone()
    }
}

impl FromGodot for TlsArg {
    fn try_from_godot(via: Self::Via) -> Result<Self, godot::meta::error::ConvertError> {
        Ok(TlsArg(via))
    }
}

// SAFETY: the only value ever used as a default is `TlsArg(None)`, which holds
// no object and so cannot be mutated or shared across threads.
unsafe impl GodotImmutable for TlsArg {}

/// What a client's `TLSOptions` (or `null`) asks for.
pub fn client_options(options: Option<Gd<TlsOptions>>) -> Result<TlsClientOptions, WsError> {
    let Some(options) = options else {
        return Ok(TlsClientOptions::Default);
    };
    if options.is_server() {
        return Err(WsError::InvalidParameter(
            "connect_to_url needs client TLS options (TLSOptions.client() or TLSOptions.client_unsafe()), not TLSOptions.server()".into(),
        ));
    }
    // A chain that cannot be written out is an error: falling back to the
    // default roots (or, for client_unsafe, to no check) would silently drop
    // the user's pinning.
    let ca_pem = match options.get_trusted_ca_chain() {
        None => None,
        Some(mut chain) => Some(crate::certs::pem(&mut chain).map_err(|why| {
            WsError::Tls(format!(
                "the trusted_chain of the TLSOptions cannot be used: {why}"
            ))
        })?),
    };
    if options.is_unsafe_client() {
        // As the engine: with a chain, the certificate is still verified
        // against it and only the host name is not checked.
        return Ok(match ca_pem {
            Some(ca_pem) => TlsClientOptions::ChainOnly {
                ca_pem: ca_pem.into_bytes(),
            },
            None => TlsClientOptions::Unsafe,
        });
    }
    let common_name_override = options.get_common_name_override().to_string();
    if ca_pem.is_none() && common_name_override.is_empty() {
        return Ok(TlsClientOptions::Default);
    }
    Ok(TlsClientOptions::Trusted {
        ca_pem: ca_pem.map(String::into_bytes),
        common_name_override,
    })
}

/// The rustls server configuration `TLSOptions.server(key, certificate)`
/// asks for, or why it cannot be used.
pub fn server_config(options: &Gd<TlsOptions>) -> Result<Arc<rustws_core::ServerConfig>, String> {
    if !options.is_server() {
        return Err(
            "create_server needs TLSOptions.server(key, certificate), not client options".into(),
        );
    }
    let key = options
        .get_private_key()
        .map(|mut k| k.save_to_string().to_string())
        .ok_or("the server TLSOptions has no private key")?;
    let mut cert = options
        .get_own_certificate()
        .ok_or("the server TLSOptions has no certificate")?;
    let cert = crate::certs::pem(&mut cert)
        .map_err(|why| format!("the server certificate cannot be used: {why}"))?;
    rustws_core::server_config(cert.as_bytes(), key.as_bytes()).map_err(|e| e.to_string())
}
