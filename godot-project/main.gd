## The demo menu: one button per demo scene.
extends Control

const DEMOS := [
	["Client", "res://demos/client/client.tscn", "The documented client example: connect, send \"Test packet\", print the echo."],
	["Server", "res://demos/server/server.tscn", "The documented server example: TCPServer on port 9080, echoes text and binary."],
	["Client + server", "res://demos/client_server/client_server.tscn", "Both ends in one scene, with Ping and Close buttons and a log."],
	["Chat", "res://demos/chat/chat.tscn", "A chat room: one server, three clients, polling turned into signals."],
	["Multiplayer", "res://demos/multiplayer/multiplayer_demo.tscn", "Godot's high-level multiplayer (RPCs) over RustWebSocketMultiplayerPeer: a host and two players."],
]


func _ready() -> void:
	var box := VBoxContainer.new()
	box.set_anchors_and_offsets_preset(Control.PRESET_CENTER)
	box.custom_minimum_size = Vector2(520, 0)
	add_child(box)
	var title := Label.new()
	title.text = "RustWebSocketPeer demos"
	title.add_theme_font_size_override("font_size", 28)
	title.horizontal_alignment = HORIZONTAL_ALIGNMENT_CENTER
	box.add_child(title)
	if not ClassDB.class_exists("RustWebSocketPeer"):
		var warn := Label.new()
		warn.text = "The extension is not loaded: run rust/build_addon.sh, then reopen the project."
		warn.modulate = Color.ORANGE_RED
		warn.autowrap_mode = TextServer.AUTOWRAP_WORD
		box.add_child(warn)
	for demo in DEMOS:
		var button := Button.new()
		button.text = demo[0]
		button.tooltip_text = demo[2]
		button.pressed.connect(get_tree().change_scene_to_file.bind(demo[1]))
		box.add_child(button)
		var about := Label.new()
		about.text = demo[2]
		about.autowrap_mode = TextServer.AUTOWRAP_WORD
		about.modulate = Color(1, 1, 1, 0.7)
		box.add_child(about)
