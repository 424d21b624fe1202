## Autobahn TestSuite testee (server role): an echo server on 127.0.0.1 for
## `wstest -m fuzzingclient`, made of the class named on the command line
## (RustWebSocketPeer or the engine's WebSocketPeer) behind a TCPServer.
## Prints "PORT <n>"; echoes every message with its type until killed.
## Arguments after "--": CLASS [compress]
extends SceneTree

const BIG := 64 * 1024 * 1024

var tcp := TCPServer.new()
var cls := "RustWebSocketPeer"
var compress := false
var peers: Array = []


func _initialize() -> void:
	# Headless Godot sleeps ~7 ms per frame (it has no window to draw); the
	# suite echoes one message at a time. A short sleep leaves the CPU to
	# wstest, which is the bottleneck.
	OS.low_processor_usage_mode_sleep_usec = 250
	var args := OS.get_cmdline_user_args()
	if args.size() > 0:
		cls = args[0]
	compress = args.size() > 1 and args[1] == "compress"
	if tcp.listen(0, "127.0.0.1") != OK:
		printerr("cannot listen")
		quit(1)
		return
	print("PORT ", tcp.get_local_port())


func _process(_delta: float) -> bool:
	while tcp.is_connection_available():
		var p = ClassDB.instantiate(cls)
		p.inbound_buffer_size = BIG
		p.outbound_buffer_size = BIG
		p.max_queued_packets = 1 << 20
		if compress:
			p.compression_enabled = true
		p.accept_stream(tcp.take_connection())
		peers.append(p)
	var still := []
	for p in peers:
		p.poll()
		while p.get_available_packet_count() > 0:
			var data: PackedByteArray = p.get_packet()
			p.send(data, WebSocketPeer.WRITE_MODE_TEXT if p.was_string_packet() else WebSocketPeer.WRITE_MODE_BINARY)
		if p.get_ready_state() != WebSocketPeer.STATE_CLOSED:
			still.append(p)
	peers = still
	return false
