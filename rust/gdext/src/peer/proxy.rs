//! The HTTP proxy a client connects through: `set_http_proxy` and
//! `set_https_proxy`, named and taken as the engine's `HTTPClient` takes
//! them. An addition to the engine's API; the tunnel itself is the core's
//! (`PeerConfig::set_http_proxy`, the `CONNECT` in its `opening`).

use super::RustWebSocketPeer;
use crate::settings::HasLinkSettings;
use godot::prelude::*;

#[godot_api(secondary)]
impl RustWebSocketPeer {
    /// Sets the HTTP proxy that [code]ws://[/code] connections go through,
    /// as [method HTTPClient.set_http_proxy] does: the next
    /// [method connect_to_url] connects to the proxy at [param host] and
    /// [param port] and asks it for a tunnel to the server
    /// ([code]CONNECT[/code]). An empty [param host] or a [param port] of
    /// [code]-1[/code] connects directly again.
    /// [br][br]Credentials go in front of the host, as in the
    /// [code]http_proxy[/code] variable most tools read:
    /// [code]"user:password@proxy.example"[/code] (write [code]%40[/code]
    /// for an [code]@[/code] inside them); they are sent as
    /// [code]Proxy-Authorization: Basic[/code].
    /// [br][br]A proxy that cannot be reached or refuses the tunnel (407:
    /// credentials missing or wrong, 403: not allowed, 502: the server could
    /// not be reached) ends the attempt with [constant FAILURE_PROXY]; read
    /// [method get_failure_http_status] and [method get_failure_reason].
    /// [method get_connected_host] and [method get_connected_port] then
    /// name the proxy.
    #[func]
    fn set_http_proxy(&self, host: GString, port: i32) {
        self.change(|c| c.set_http_proxy(&host.to_string(), port.into()));
    }

    /// Sets the HTTP proxy that [code]wss://[/code] connections go through,
    /// as [method HTTPClient.set_https_proxy] does. The proxy only relays
    /// the bytes: TLS runs end to end between this peer and the server, so
    /// the proxy sees neither the messages nor the URL's path. Same forms as
    /// [method set_http_proxy].
    #[func]
    fn set_https_proxy(&self, host: GString, port: i32) {
        self.change(|c| c.set_https_proxy(&host.to_string(), port.into()));
    }
}
