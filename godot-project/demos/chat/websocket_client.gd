## A WebSocket client node that turns polling into signals, on the lines of
## the official websocket_chat demo: connect with connect_to_url(), then
## listen to connected_to_server, message_received and connection_closed.
extends Node

const WebSockets = preload("res://addons/rust_websocket/websockets.gd")

signal connected_to_server()
signal connection_closed(code: int, reason: String)
signal message_received(message: Variant)

## Sub-protocols to offer.
@export var supported_protocols := PackedStringArray()
## TLS options for wss:// (null: verify against the usual roots).
var tls_options: TLSOptions = null

var socket = WebSockets.new_peer()
var last_state: int = WebSocketPeer.STATE_CLOSED


## Starts connecting; the outcome arrives as a signal.
func connect_to_url(url: String) -> Error:
	socket.supported_protocols = supported_protocols
	var err: int = socket.connect_to_url(url, tls_options)
	if err == OK:
		last_state = socket.get_ready_state()
	return err


## Sends a String as text, anything else with var_to_bytes.
func send(message: Variant) -> Error:
	if typeof(message) == TYPE_STRING:
		return socket.send_text(message)
	return socket.send(var_to_bytes(message))


## Starts the closing handshake.
func close(code := 1000, reason := "") -> void:
	socket.close(code, reason)


func _process(_delta: float) -> void:
	socket.poll()
	var state: int = socket.get_ready_state()
	if state != last_state:
		last_state = state
		if state == WebSocketPeer.STATE_OPEN:
			connected_to_server.emit()
		elif state == WebSocketPeer.STATE_CLOSED:
			connection_closed.emit(socket.get_close_code(), socket.get_close_reason())
	while socket.get_available_packet_count():
		var packet: PackedByteArray = socket.get_packet()
		if socket.was_string_packet():
			message_received.emit(packet.get_string_from_utf8())
		else:
			message_received.emit(bytes_to_var(packet))
