## The chat room server: accepts RustWebSocketPeer connections from a
## TCPServer and relays each text message to everyone as "name: text".
## The first message of a client is its name.
extends Node

const WebSockets = preload("res://addons/rust_websocket/websockets.gd")

signal client_joined(id: int, name: String)
signal client_left(id: int, code: int)

## Port to listen on (0: let the system pick one).
@export var port := 9081

var tcp_server := TCPServer.new()
var peers := {}  # id -> peer (see WebSockets.new_peer)
var names := {}  # id -> String
var next_id := 1
var log_lines: PackedStringArray = []


func _ready() -> void:
	if tcp_server.listen(port, "127.0.0.1") != OK:
		push_error("Chat server: cannot listen on port %d" % port)
		set_process(false)
		return
	port = tcp_server.get_local_port()


## Drops every connection without a word and listens again on the same
## port, as a server process that crashed and was started again.
func restart() -> void:
	peers.clear()
	names.clear()
	tcp_server.stop()
	if tcp_server.listen(port, "127.0.0.1") != OK:
		push_error("Chat server: cannot listen on port %d again" % port)
		return
	log_lines.append("* the server restarted")


func broadcast(text: String) -> void:
	log_lines.append(text)
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
			var text: String = socket.get_packet().get_string_from_utf8()
			if not names.has(id):
				names[id] = text
				broadcast("* %s joined" % text)
				client_joined.emit(id, text)
			else:
				broadcast("%s: %s" % [names[id], text])
		if socket.get_ready_state() == WebSocketPeer.STATE_CLOSED:
			var who: String = names.get(id, "peer %d" % id)
			peers.erase(id)
			names.erase(id)
			broadcast("* %s left" % who)
			client_left.emit(id, socket.get_close_code())
