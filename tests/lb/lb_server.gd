## The load balancer test's server on the RustWebSocketServer node, which
## polls itself (see lb_server_base.gd). The class is looked up by name, so
## that a build without it (or without its balancer settings) says so
## instead of failing to compile.
extends "lb_server_base.gd"

var server: Node


func listen(port: int, proxy: String) -> Error:
	if not ClassDB.class_exists("RustWebSocketServer"):
		printerr("this build has no RustWebSocketServer")
		return ERR_UNAVAILABLE
	server = ClassDB.instantiate("RustWebSocketServer")
	for member in ["proxy_protocol", "trusted_proxies"]:
		if not member in server:
			printerr("RustWebSocketServer has no ", member)
			return ERR_UNAVAILABLE
	for method in ["drain", "listen", "send_text", "get_client_address", "get_client_port"]:
		if not server.has_method(method):
			printerr("RustWebSocketServer has no ", method, "()")
			return ERR_UNAVAILABLE
	server.proxy_protocol = use_proxy_protocol
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
