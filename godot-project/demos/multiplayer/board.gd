## One peer's view of the shared board: a dot per player, moved by RPCs.
## The same node path ("Board") exists under every peer's multiplayer root,
## which is what Godot's RPCs need.
extends Control

## peer id -> position on the board.
var positions := {}
var log_lines := PackedStringArray()


func _ready() -> void:
	multiplayer.peer_connected.connect(_on_peer_connected)
	multiplayer.peer_disconnected.connect(func(id):
		positions.erase(id)
		log_lines.append("peer %d left" % id)
		queue_redraw())
	multiplayer.connected_to_server.connect(func():
		log_lines.append("connected; my id is %d" % multiplayer.get_unique_id()))
	multiplayer.server_disconnected.connect(func(): log_lines.append("the host went away"))


func _on_peer_connected(id: int) -> void:
	log_lines.append("peer %d joined" % id)
	if multiplayer.is_server():
		# Tell the newcomer where everyone already is.
		for other in positions:
			place.rpc_id(id, other, positions[other])


## Moves the caller's own dot, on every peer (including the caller).
@rpc("any_peer", "call_local", "reliable")
func move_to(pos: Vector2) -> void:
	var id := multiplayer.get_remote_sender_id()
	positions[id] = pos
	log_lines.append("peer %d moved to %s" % [id, pos])
	queue_redraw()


## The host tells a newcomer where a player is.
@rpc("authority", "reliable")
func place(id: int, pos: Vector2) -> void:
	positions[id] = pos
	queue_redraw()


func _draw() -> void:
	draw_rect(Rect2(Vector2.ZERO, size), Color(0.12, 0.12, 0.16))
	for id in positions:
		var color := Color.from_hsv(float(id % 360) / 360.0, 0.7, 0.95)
		draw_circle(positions[id], 10.0, color)
		var mine: bool = multiplayer.multiplayer_peer != null and id == multiplayer.get_unique_id()
		if mine:
			draw_arc(positions[id], 14.0, 0, TAU, 24, Color.WHITE, 2.0)
