## The documented WebSocket client example with RustWebSocketPeer (made by
## WebSockets.new_peer(), see the Server demo): connect,
## send "Test packet", print what comes back, and report the close.
##
## By default it also starts the Server demo inside this scene on port 9080,
## so it works offline. To try a public echo service instead, select the
## Client node and set `websocket_url` to "wss://echo.websocket.org" and
## untick `start_local_server`.
extends Node

const WebSockets = preload("res://addons/rust_websocket/websockets.gd")

## Where to connect. With start_local_server on, the local server's address.
@export var websocket_url := "ws://127.0.0.1:9080"
## Start the Server demo in this scene and connect to it.
@export var start_local_server := true
## Port for that local server (0: let the system pick one).
@export var local_server_port := 9080

var socket = WebSockets.new_peer()
var local_server: Node = null
var received_texts: PackedStringArray = []
var close_code := 0
var log_lines: PackedStringArray = []
var _sent := false


func log_message(message: String) -> void:
	log_lines.append(message)
	print(message)


func _ready() -> void:
	if start_local_server:
		local_server = preload("res://demos/server/server.gd").new()
		local_server.port = local_server_port
		add_child(local_server)
		websocket_url = "ws://127.0.0.1:%d" % local_server.port
	var err: int = socket.connect_to_url(websocket_url)
	if err == OK:
		log_message("Connecting to %s..." % websocket_url)
	else:
		log_message("Unable to connect (error %d)." % err)
		set_process(false)


func _process(_delta: float) -> void:
	socket.poll()
	var state: int = socket.get_ready_state()
	if state == WebSocketPeer.STATE_OPEN:
		if not _sent:
			log_message("> Sending test packet.")
			socket.send_text("Test packet")
			_sent = true
		while socket.get_available_packet_count():
			var packet: PackedByteArray = socket.get_packet()
			if socket.was_string_packet():
				var text := packet.get_string_from_utf8()
				received_texts.append(text)
				log_message("< Got text data from server: %s" % text)
			else:
				log_message("< Got binary data from server: %d bytes" % packet.size())
	elif state == WebSocketPeer.STATE_CLOSING:
		pass  # Keep polling to achieve a proper close.
	elif state == WebSocketPeer.STATE_CLOSED:
		close_code = socket.get_close_code()
		var reason: String = socket.get_close_reason()
		log_message("WebSocket closed with code: %d, reason \"%s\". Clean: %s" % [close_code, reason, close_code != -1])
		set_process(false)
