//! The HTTP proxy a multiplayer client connects through, as for
//! `RustWebSocketPeer` (see `peer/proxy.rs`); its link reads the setting at
//! `create_client`.

use super::RustWebSocketMultiplayerPeer;
use crate::settings::HasLinkSettings;
use godot::prelude::*;

#[godot_api(secondary)]
impl RustWebSocketMultiplayerPeer {
    /// Sets the HTTP proxy that [method create_client] goes through for a
    /// [code]ws://[/code] URL, as [method RustWebSocketPeer.set_http_proxy]
    /// does (same forms, credentials as
    /// [code]"user:password@proxy.example"[/code]; an empty [param host] or
    /// a [param port] of [code]-1[/code] connects directly). Set it before
    /// [method create_client]. A refused tunnel ends the attempt as any
    /// failed connection does ([signal MultiplayerPeer.peer_disconnected]
    /// is not emitted; the status goes back to
    /// [constant MultiplayerPeer.CONNECTION_DISCONNECTED]); the reason is
    /// printed.
    #[func]
    fn set_http_proxy(&self, host: GString, port: i32) {
        self.change(|c| c.set_http_proxy(&host.to_string(), port.into()));
    }

    /// Sets the HTTP proxy that [method create_client] goes through for a
    /// [code]wss://[/code] URL, as [method RustWebSocketPeer.set_https_proxy]
    /// does: TLS runs end to end with the server.
    #[func]
    fn set_https_proxy(&self, host: GString, port: i32) {
        self.change(|c| c.set_https_proxy(&host.to_string(), port.into()));
    }
}
