## The demo menu: one button per demo scene, each with a line about it.
extends Control

const Page := preload("res://demos/page.gd")
const WebSockets = preload("res://addons/rust_websocket/websockets.gd")
const DEMOS := [
	["Client", "res://demos/client/client.tscn", "The documented client example: connect, send \"Test packet\", print the echo."],
	["Server", "res://demos/server/server.tscn", "The documented server example: TCPServer on port 9080, echoes text and binary."],
	["Client + server", "res://demos/client_server/client_server.tscn", "Both ends in one scene, with Ping, Close and Reconnect buttons and a log."],
	["Chat", "res://demos/chat/chat.tscn", "A chat room: one server, three clients, polling turned into signals."],
	["Multiplayer", "res://demos/multiplayer/multiplayer_demo.tscn", "Godot's high-level multiplayer (RPCs) over RustWebSocketMultiplayerPeer: a host and two players."],
]


func _ready() -> void:
	var page := Page.new("RustWebSocketPeer demos", "Godot's WebSocketPeer, written in Rust. Pick a demo:")
	add_child(page)
	if not WebSockets.is_native():
		# As on Web, Android and iOS, where the addon has no library.
		var note := Label.new()
		note.text = "The extension is not loaded here, so the demos run on the engine's WebSocketPeer (build it with rust/build_addon.sh, then reopen the project)."
		note.modulate = Color.ORANGE
		note.autowrap_mode = TextServer.AUTOWRAP_WORD_SMART
		page.content.add_child(note)
	var rows := GridContainer.new()
	rows.columns = 2
	rows.add_theme_constant_override("h_separation", 14)
	rows.add_theme_constant_override("v_separation", 12)
	page.content.add_child(rows)
	for demo in DEMOS:
		var button := Button.new()
		button.text = demo[0]
		button.custom_minimum_size = Vector2(160, 0)
		button.pressed.connect(get_tree().change_scene_to_file.bind(demo[1]))
		rows.add_child(button)
		var about := Label.new()
		about.text = demo[2]
		about.autowrap_mode = TextServer.AUTOWRAP_WORD_SMART
		about.size_flags_horizontal = Control.SIZE_EXPAND_FILL
		about.modulate = Color(1, 1, 1, 0.75)
		rows.add_child(about)
