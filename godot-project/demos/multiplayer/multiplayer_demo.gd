## Godot's high-level multiplayer over RustWebSocketMultiplayerPeer: a host
## and two players in one window. Each column has its own SceneMultiplayer
## (set on its subtree), so the three really talk over WebSockets. Press
## "Move" in a column to move that player's dot on every board by RPC.
extends Control

const WebSockets = preload("res://addons/rust_websocket/websockets.gd")

## Port of the host (0: pick a free one).
@export var port := 9082

const TITLES := ["Host", "Player 1", "Player 2"]
const Page := preload("res://demos/page.gd")
const StatsOverlay := preload("res://demos/stats_overlay.gd")

var boards: Array = []  # board.gd per column
var peers: Array = []  # a multiplayer peer per column (see WebSockets)
var roots: Array[NodePath] = []  # each column's multiplayer root
var overlays: Array = []  # stats_overlay.gd per column: round trip and rates


func _ready() -> void:
	if port == 0:
		var probe := TCPServer.new()
		probe.listen(0, "127.0.0.1")
		port = probe.get_local_port()
		probe.stop()
	var page := Page.new("Multiplayer", "A host and two players, each with its own SceneMultiplayer. Move sends an RPC to every board.")
	add_child(page)
	var columns := HBoxContainer.new()
	columns.size_flags_vertical = Control.SIZE_EXPAND_FILL
	page.content.add_child(columns)
	for i in TITLES.size():
		_add_column(i, columns)


func _add_column(i: int, columns: HBoxContainer) -> void:
	var column := VBoxContainer.new()
	column.name = "Peer%d" % i
	column.size_flags_horizontal = Control.SIZE_EXPAND_FILL
	columns.add_child(column)
	var title := Label.new()
	title.text = TITLES[i]
	column.add_child(title)
	# The multiplayer root must exist in the tree before RPC nodes use it.
	var mp := SceneMultiplayer.new()
	get_tree().set_multiplayer(mp, column.get_path())
	roots.append(column.get_path())
	var peer = WebSockets.new_multiplayer_peer()
	var err: Error
	if i == 0:
		err = peer.create_server(port, "127.0.0.1")
	else:
		err = peer.create_client("ws://127.0.0.1:%d" % port)
	mp.multiplayer_peer = peer
	peers.append(peer)
	var overlay := StatsOverlay.new(peer)
	overlay.ping_targets = _links.bind(peer, i == 0)
	column.add_child(overlay)
	overlays.append(overlay)
	var board := Control.new()
	board.name = "Board"
	board.set_script(preload("res://demos/multiplayer/board.gd"))
	board.custom_minimum_size = Vector2(0, 150)
	board.size_flags_vertical = Control.SIZE_EXPAND_FILL
	column.add_child(board)
	boards.append(board)
	if err != OK:
		board.log_lines.append("could not start: %s" % error_string(err))
	elif i == 0:
		board.log_lines.append("hosting on port %d" % port)
		board.positions[1] = Vector2(30, 30)
	var move := Button.new()
	move.text = "Move"
	move.pressed.connect(step.bind(i))
	column.add_child(move)
	_add_log(column, board)


## The links of a column's multiplayer peer (the host's to each player, a
## player's to the host), for the overlay's pings.
func _links(peer: MultiplayerPeer, host: bool) -> Array:
	if peer.get_connection_status() != MultiplayerPeer.CONNECTION_CONNECTED:
		return []
	var ids: Array = Array(boards[0].multiplayer.get_peers()) if host else [1]
	return ids.map(func(id): return peer.get_peer(id))


## A log panel under a column, showing what its board reports.
func _add_log(column: Control, board: Control) -> void:
	var panel := PanelContainer.new()
	panel.custom_minimum_size = Vector2(0, 90)
	column.add_child(panel)
	var view := RichTextLabel.new()
	view.set_script(preload("res://demos/log_view.gd"))
	view.scroll_following = true
	view.source = board
	panel.add_child(view)


## Moves column `i`'s player to a new random spot, on every board.
func step(i: int) -> void:
	var board: Control = boards[i]
	if board.multiplayer.multiplayer_peer.get_connection_status() != MultiplayerPeer.CONNECTION_CONNECTED:
		return
	var pos := Vector2(randf_range(15, max(board.size.x, 60) - 15), randf_range(15, max(board.size.y, 60) - 15))
	board.move_to.rpc(pos)


func _exit_tree() -> void:
	for i in peers.size():
		peers[i].close()
		get_tree().set_multiplayer(null, roots[i])
