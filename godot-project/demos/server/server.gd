## The documented WebSocket server example with RustWebSocketPeer: a
## TCPServer on port 9080 hands each new connection to a peer's
## accept_stream(); peers are kept by id, every text or binary message is
## echoed back, and closes are reported with their code and reason.
extends Node

signal message_echoed(peer_id: int, message: PackedByteArray, is_text: bool)
signal peer_closed(peer_id: int, code: int, reason: String)

## Port to listen on; 0 lets the system pick one (then read it back here).
@export var port := 9080
## Address to bind; the demo stays on this machine.
@export var bind_address := "127.0.0.1"

var tcp_server := TCPServer.new()
var peers := {}  # id -> RustWebSocketPeer
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
		var socket := RustWebSocketPeer.new()
		if socket.accept_stream(conn) != OK:
			continue
		peers[next_id] = socket
		log_message("Peer %d connecting from %s" % [next_id, conn.get_connected_host()])
		next_id += 1

	for id in peers.keys():
		var socket: RustWebSocketPeer = peers[id]
		socket.poll()
		var state := socket.get_ready_state()
		if state == RustWebSocketPeer.STATE_OPEN:
			while socket.get_available_packet_count():
				var packet := socket.get_packet()
				var is_text := socket.was_string_packet()
				if is_text:
					log_message("Peer %d says: %s" % [id, packet.get_string_from_utf8()])
				else:
					log_message("Peer %d sent %d bytes" % [id, packet.size()])
				socket.send(packet, RustWebSocketPeer.WRITE_MODE_TEXT if is_text else RustWebSocketPeer.WRITE_MODE_BINARY)
				message_echoed.emit(id, packet, is_text)
		elif state == RustWebSocketPeer.STATE_CLOSED:
			var code := socket.get_close_code()
			var reason := socket.get_close_reason()
			log_message("Peer %d closed with code %d, reason \"%s\". Clean: %s" % [id, code, reason, code != -1])
			peers.erase(id)
			peer_closed.emit(id, code, reason)


func _exit_tree() -> void:
	for socket in peers.values():
		socket.close()
	tcp_server.stop()
