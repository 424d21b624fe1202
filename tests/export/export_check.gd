## Runs in the exported demo game (tests/export/run_export.sh): the
## client-and-server scene, three pings, their echoes, then a clean close.
## Prints "exported game: 1 passed, 0 failed" when all of it happened.
extends SceneTree

const WebSockets = preload("res://addons/rust_websocket/websockets.gd")
const TIMEOUT_MS := 20000

var _scene: Node
var _deadline := 0
var _step := 0


func _initialize() -> void:
	print("exported game: peers are ", WebSockets.peer_class())
	_scene = load("res://demos/client_server/client_server.tscn").instantiate()
	_scene.port = 0
	root.add_child(_scene)
	_deadline = Time.get_ticks_msec() + TIMEOUT_MS


func _process(_delta: float) -> bool:
	if Time.get_ticks_msec() > _deadline:
		print("timed out at step %d; the scene logged: %s" % [_step, _scene.log_lines])
		return _finish(false)
	match _step:
		0:
			if _scene.client.get_ready_state() == WebSocketPeer.STATE_OPEN:
				for i in 3:
					_scene.ping()
				_step = 1
		1:
			if _scene.pongs_received == 3:
				_scene.close_link()
				_step = 2
		2:
			if _scene.log_lines.has("server: peer 1 closed (1000, \"bye from the client\")"):
				return _finish(WebSockets.is_native())
	return false


func _finish(ok: bool) -> bool:
	print("exported game: %d passed, %d failed" % [1 if ok else 0, 0 if ok else 1])
	quit(0 if ok else 1)
	return true
