## The documented WebSocket server example with RustWebSocketPeer (made by
## WebSockets.new_peer(): the engine's WebSocketPeer where the extension is
## not loaded, as on Web, Android and iOS): a
## TCPServer on port 9080 hands each new connection to a peer's
## accept_stream(); peers are kept by id, every text or binary message is
## echoed back, and closes are reported with their code and reason.
extends Node

const WebSockets = preload("res://addons/rust_websocket/websockets.gd")

signal message_echoed(peer_id: int, message: PackedByteArray, is_text: bool)
signal peer_closed(peer_id: int, code: int, reason: String)

## Port to listen on; 0 lets the system pick one (then read it back here).
@export var port := 9080
## Address to bind; the demo stays on this machine.
@export var bind_address := "127.0.0.1"

var tcp_server := TCPServer.new()
var peers := {}  # id -> peer (see WebSockets.new_peer)
var next_id := 1
var log_lines: PackedStringArray = []


func log_message(message: String) -> void:
	var line := "[server] " + message
	log_lines.append(line)
	print(line)


func _ready() -> void:
	if tcp_server.listen(port, bind_address) != OK:
		log_message("Unable to start server on port %d." % port)
		set_process(false)
		return
	port = tcp_server.get_local_port()
	log_message("Listening on ws://%s:%d" % [bind_address, port])


func _process(_delta: float) -> void:
	while tcp_server.is_connection_available():
		var conn: StreamPeerTCP = tcp_server.take_connection()
		var socket = WebSockets.new_peer()
		if socket.accept_stream(conn) != OK:
			continue
		peers[next_id] = socket
		log_message("Peer %d connecting from %s" % [next_id, conn.get_connected_host()])
		next_id += 1

	for id in peers.keys():
		var socket = peers[id]
		socket.poll()
		var state: int = socket.get_ready_state()
		if state == WebSocketPeer.STATE_OPEN:
			while socket.get_available_packet_count():
				var packet: PackedByteArray = socket.get_packet()
				var is_text: bool = socket.was_string_packet()
				if is_text:
					log_message("Peer %d says: %s" % [id, packet.get_string_from_utf8()])
				else:
					log_message("Peer %d sent %d bytes" % [id, packet.size()])
				socket.send(packet, WebSocketPeer.WRITE_MODE_TEXT if is_text else WebSocketPeer.WRITE_MODE_BINARY)
				message_echoed.emit(id, packet, is_text)
		elif state == WebSocketPeer.STATE_CLOSED:
			var code: int = socket.get_close_code()
			var reason: String = socket.get_close_reason()
			log_message("Peer %d closed with code %d, reason \"%s\". Clean: %s" % [id, code, reason, code != -1])
			peers.erase(id)
			peer_closed.emit(id, code, reason)


func _exit_tree() -> void:
	for socket in peers.values():
		socket.close()
	tcp_server.stop()
