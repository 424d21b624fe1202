## Burst test server: RustWebSocketMultiplayerPeer listening on 127.0.0.1
## (its own socket, backlog 1024). Prints "PORT <n>", then, once `expected`
## clients got their id and left again (or after the time limit), one JSON
## line with what it saw.
## Arguments after "--": [expected clients] [time limit in seconds]
extends "server_base.gd"

var peer := RustWebSocketMultiplayerPeer.new()
var connected := 0
var disconnected := 0
var most_at_once := 0


func _initialize() -> void:
	read_args(60.0)
	peer.peer_connected.connect(func(_id): connected += 1)
	peer.peer_disconnected.connect(func(_id): disconnected += 1)
	# Port 0: the system picks one; read it back from a probe listener.
	var probe := TCPServer.new()
	probe.listen(0, "127.0.0.1")
	var port := probe.get_local_port()
	probe.stop()
	if peer.create_server(port, "127.0.0.1") != OK:
		printerr("cannot listen")
		quit(1)
		return
	announce(port)


func _process(_delta: float) -> bool:
	peer.poll()
	most_at_once = max(most_at_once, connected - disconnected)
	return finish_when(disconnected >= expected, {"connected": connected, "disconnected": disconnected,
		"most_at_once": most_at_once})
