## The load balancer test's server on the RustWebSocketServer node, which
## polls itself (see lb_server_base.gd).
extends "lb_server_base.gd"

var server: RustWebSocketServer


func listen(port: int, proxy: String) -> Error:
	server = RustWebSocketServer.new()
	server.proxy_protocol = true
	server.trusted_proxies = PackedStringArray([proxy])
	server.client_connected.connect(_on_connected)
	server.client_disconnected.connect(_on_disconnected)
	server.message_received.connect(_on_message)
	server.drained.connect(drained)
	root.add_child(server)
	return server.listen(port, "127.0.0.1")


func drain(grace: float) -> void:
	server.drain(grace)


func _on_connected(id: int) -> void:
	connected(id, server.get_client_address(id), server.get_client_port(id))
	server.send_text(id, "welcome " + server_name)


func _on_disconnected(id: int, code: int, _reason: String) -> void:
	disconnected(id, code)


func _on_message(_id: int, text: Variant) -> void:
	if text is String:
		message(text)
