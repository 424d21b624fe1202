## Both ends in one scene: the Server demo plus a RustWebSocketPeer client,
## with buttons to ping (a text and a binary message) and to close, and a log
## of what happened. Shows a round trip on one machine with no setup.
extends Control

const WebSockets = preload("res://addons/rust_websocket/websockets.gd")

## Port for the local server (0: let the system pick one).
@export var port := 9080

const Page := preload("res://demos/page.gd")

var server: Node
var client = WebSockets.new_peer()
var pings_sent := 0
var pongs_received := 0
var log_lines: PackedStringArray = []
var _was_open := false
var _status: Label


func log_message(message: String) -> void:
	log_lines.append(message)
	print(message)


func _ready() -> void:
	server = preload("res://demos/server/server.gd").new()
	server.port = port
	add_child(server)
	server.peer_closed.connect(func(id, code, reason): log_message("server: peer %d closed (%d, \"%s\")" % [id, code, reason]))
	_build_ui()
	reconnect()


func _build_ui() -> void:
	var page := Page.new("Client + server", "Both ends in this scene: a %s client and the Server demo." % WebSockets.peer_class())
	add_child(page)
	var bar := HBoxContainer.new()
	page.content.add_child(bar)
	for spec in [["Ping", ping], ["Close", close_link], ["Reconnect", reconnect]]:
		var b := Button.new()
		b.text = spec[0]
		b.pressed.connect(spec[1])
		bar.add_child(b)
	_status = Label.new()
	bar.add_child(_status)
	page.add_log(self)


## Connects (again) to the local server.
func reconnect() -> void:
	if client.get_ready_state() != WebSocketPeer.STATE_CLOSED:
		return
	var url := "ws://127.0.0.1:%d/demo" % server.port
	log_message("client: connecting to " + url)
	client.connect_to_url(url)


## Sends one text and one binary message; the server echoes both.
func ping() -> void:
	if client.get_ready_state() != WebSocketPeer.STATE_OPEN:
		log_message("client: not open, press Reconnect")
		return
	pings_sent += 1
	client.send_text("ping #%d" % pings_sent)
	client.put_packet(PackedByteArray([pings_sent % 256, 0xff]))


## Starts the closing handshake.
func close_link() -> void:
	client.close(1000, "bye from the client")


func _process(_delta: float) -> void:
	client.poll()
	var state: int = client.get_ready_state()
	_status.text = ["connecting", "open", "closing", "closed"][state]
	if state == WebSocketPeer.STATE_OPEN:
		if not _was_open:
			_was_open = true
			log_message("client: open; press Ping")
		while client.get_available_packet_count():
			var packet: PackedByteArray = client.get_packet()
			if client.was_string_packet():
				pongs_received += 1
				log_message("client: echo \"%s\"" % packet.get_string_from_utf8())
			else:
				log_message("client: echo of %d binary bytes %s" % [packet.size(), packet])
	elif state == WebSocketPeer.STATE_CLOSED and _was_open:
		_was_open = false
		log_message("client: closed with code %d, reason \"%s\"" % [client.get_close_code(), client.get_close_reason()])
