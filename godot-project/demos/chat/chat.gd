## A chat room on one screen: the server and three clients (Alice, Bob and
## Carol), each with its own log and input line. Each client is a
## RustWebSocketClient node (WebSockets.new_client()): signals instead of
## a poll loop, and a reconnect when the server restarts.
extends Control

const WebSockets = preload("res://addons/rust_websocket/websockets.gd")

const NAMES := ["Alice", "Bob", "Carol"]

## Port for the chat server (0: let the system pick one).
@export var port := 9081

const Page := preload("res://demos/page.gd")
const StatsOverlay := preload("res://demos/stats_overlay.gd")

var server: Node
var clients: Array = []  # RustWebSocketClient nodes (or their stand-in)
var logs: Array = []  # PackedStringArray per client
var overlays: Array = []  # stats_overlay.gd per client: round trip and rates


func _ready() -> void:
	server = preload("res://demos/chat/chat_server.gd").new()
	server.port = port
	add_child(server)
	var page := Page.new("Chat", "A chat server and three clients. Type in a column and press Enter. Restart the server: the clients reconnect by themselves.")
	add_child(page)
	var restart := Button.new()
	restart.text = "Restart the server"
	restart.size_flags_horizontal = Control.SIZE_SHRINK_BEGIN
	restart.pressed.connect(restart_server)
	page.content.add_child(restart)
	var columns := HBoxContainer.new()
	columns.size_flags_vertical = Control.SIZE_EXPAND_FILL
	page.content.add_child(columns)
	for i in NAMES.size():
		_add_client(i, columns)


func _add_client(i: int, columns: HBoxContainer) -> void:
	var client = WebSockets.new_client()
	client.autoconnect = false
	client.supported_protocols = PackedStringArray(["demo-chat"])
	client.reconnect_delay_min = 0.5
	client.reconnect_delay_max = 4.0
	add_child(client)
	clients.append(client)
	logs.append(PackedStringArray())
	var column := VBoxContainer.new()
	column.size_flags_horizontal = Control.SIZE_EXPAND_FILL
	columns.add_child(column)
	var title := Label.new()
	title.text = NAMES[i]
	column.add_child(title)
	var overlay := StatsOverlay.new(client)
	column.add_child(overlay)
	overlays.append(overlay)
	var panel := PanelContainer.new()
	panel.size_flags_vertical = Control.SIZE_EXPAND_FILL
	column.add_child(panel)
	var view := RichTextLabel.new()
	view.scroll_following = true
	panel.add_child(view)
	var input := LineEdit.new()
	input.placeholder_text = "Say something and press Enter"
	input.text_submitted.connect(func(text):
		say(i, text)
		input.clear())
	column.add_child(input)
	# The first message of a client is its name; again after a reconnect.
	client.connected.connect(func(): client.send_text(NAMES[i]))
	client.message_received.connect(func(message):
		logs[i].append(str(message))
		view.append_text(str(message) + "\n"))
	client.closed.connect(func(code, reason):
		view.append_text("[disconnected: %d %s]\n" % [code, reason]))
	client.reconnecting.connect(func(attempt, delay):
		view.append_text("[reconnecting in %.1f s, attempt %d]\n" % [delay, attempt]))
	client.connect_to_url("ws://127.0.0.1:%d/chat" % server.port)


## Restarts the server: its clients are closed with 1012 (service restart;
## dropped without a word on the engine-style loop) and it listens again:
## the clients reconnect by themselves.
func restart_server() -> void:
	server.restart()


## Client `i` says `text` in the room.
func say(i: int, text: String) -> void:
	if text.strip_edges() != "":
		clients[i].send_text(text)
