## The chat room server: relays each text message to everyone as
## "name: text"; the first message of a client is its name. Where the
## addon's library is loaded it is a RustWebSocketServer node (signals, one
## broadcast call); elsewhere the engine's TCPServer and WebSocketPeer loop
## below does the same.
extends Node

const WebSockets = preload("res://addons/rust_websocket/websockets.gd")

signal client_joined(id: int, name: String)
signal client_left(id: int, code: int)

## Port to listen on (0: let the system pick one).
@export var port := 9081

var names := {}  # id -> String
var log_lines: PackedStringArray = []
## The RustWebSocketServer node, where the library is loaded.
var server: Node = null

# The engine-style loop, where it is not.
var tcp_server := TCPServer.new()
var peers := {}  # id -> WebSocketPeer
var next_id := 1


func _ready() -> void:
	if ClassDB.class_exists("RustWebSocketServer"):
		server = ClassDB.instantiate("RustWebSocketServer")
		server.supported_protocols = PackedStringArray(["demo-chat"])
		server.message_received.connect(_on_message)
		server.client_disconnected.connect(func(id, code, _reason): _on_left(id, code))
		add_child(server)
		set_process(false)
		if server.listen(port, "127.0.0.1") != OK:
			push_error("Chat server: cannot listen on port %d" % port)
			return
		port = server.get_local_port()
		return
	if tcp_server.listen(port, "127.0.0.1") != OK:
		push_error("Chat server: cannot listen on port %d" % port)
		set_process(false)
		return
	port = tcp_server.get_local_port()


## Closes every client (1012, service restart, with the node; dropped
## without a word on the engine-style loop) and listens again on the same
## port: the clients reconnect by themselves.
func restart() -> void:
	if server:
		# 1012 (service restart): the clients reconnect by themselves.
		for id in server.get_client_ids():
			server.disconnect_client(id, 1012, "restart")
		server.stop()
		names.clear()
		if server.listen(port, "127.0.0.1") != OK:
			push_error("Chat server: cannot listen on port %d again" % port)
			return
		log_lines.append("* the server restarted")
		return
	peers.clear()
	names.clear()
	tcp_server.stop()
	if tcp_server.listen(port, "127.0.0.1") != OK:
		push_error("Chat server: cannot listen on port %d again" % port)
		return
	log_lines.append("* the server restarted")


func broadcast(text: String) -> void:
	log_lines.append(text)
	if server:
		server.broadcast(text)
		return
	for socket in peers.values():
		if socket.get_ready_state() == WebSocketPeer.STATE_OPEN:
			socket.send_text(text)


func _process(_delta: float) -> void:
	while tcp_server.is_connection_available():
		var socket = WebSockets.new_peer()
		socket.supported_protocols = PackedStringArray(["demo-chat"])
		if socket.accept_stream(tcp_server.take_connection()) == OK:
			peers[next_id] = socket
			next_id += 1
	for id in peers.keys():
		var socket = peers[id]
		socket.poll()
		while socket.get_available_packet_count():
			_on_message(id, socket.get_packet().get_string_from_utf8())
		if socket.get_ready_state() == WebSocketPeer.STATE_CLOSED:
			peers.erase(id)
			_on_left(id, socket.get_close_code())


func _on_message(id: int, text) -> void:
	if not text is String:
		return
	if not names.has(id):
		names[id] = text
		broadcast("* %s joined" % text)
		client_joined.emit(id, text)
	else:
		broadcast("%s: %s" % [names[id], text])


func _on_left(id: int, code: int) -> void:
	var who: String = names.get(id, "peer %d" % id)
	names.erase(id)
	broadcast("* %s left" % who)
	client_left.emit(id, code)
