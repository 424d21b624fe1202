## The load balancer test's server on RustWebSocketMultiplayerPeer, polled
## each frame (see lb_server_base.gd). Each client first gets its id (the
## multiplayer protocol's binary message), then the greeting as text.
extends "lb_server_base.gd"

var peer := RustWebSocketMultiplayerPeer.new()


func listen(port: int, proxy: String) -> Error:
	peer.proxy_protocol = use_proxy_protocol
	peer.trusted_proxies = PackedStringArray([proxy])
	peer.peer_connected.connect(_on_connected)
	peer.peer_disconnected.connect(_on_disconnected)
	peer.drained.connect(drained)
	return peer.create_server(port, "127.0.0.1")


func drain(grace: float) -> void:
	peer.drain(grace)


func serve() -> void:
	peer.poll()
	while peer.get_available_packet_count() > 0:
		var packet := peer.get_packet()
		message(packet.get_string_from_utf8())


func _on_connected(id: int) -> void:
	connected(id, peer.get_peer_address(id), peer.get_peer_port(id))
	peer.get_peer(id).send_text("welcome " + server_name)


func _on_disconnected(id: int) -> void:
	var link: RustWebSocketPeer = peer.get_peer(id)
	disconnected(id, link.get_close_code() if link else -1)
