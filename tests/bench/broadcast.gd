## One message broadcast to many clients, once a frame: the main-thread time
## of the server's part of each frame (the broadcast and the poll that
## writes it), for
## - RustWebSocketServer: broadcast(message) + poll();
## - the engine's WebSocketPeer: a loop of send_text() + a loop of poll().
## The socket floor (the same frame written to as many sockets, one write
## each) is rust/core/examples/broadcast_floor.rs; tests/bench.sh runs both
## (BENCH_PARTS=broadcast).
## The WebSocket clients are the engine's WebSocketPeer in a second Godot
## process (this script with "clients URL COUNT STOP_FILE"), so that no
## client shares this process's readiness set.
## Arguments after "--": CLIENTS FRAMES BYTES. Prints one JSON line per case.
extends SceneTree

var clients_n := 1000
var frames_n := 300
var size := 32


func _initialize() -> void:
	var args := OS.get_cmdline_user_args()
	if args.size() == 4 and args[0] == "clients":
		_clients.call_deferred(args[1], int(args[2]), args[3])
		return
	if args.size() >= 1:
		clients_n = int(args[0])
	if args.size() >= 2:
		frames_n = int(args[1])
	if args.size() >= 3:
		size = int(args[2])
	_run.call_deferred()


func _run() -> void:
	var message := "x".repeat(size)
	await _ours(message)
	await _engine(message)
	quit(0)


## The client process: COUNT engine WebSocketPeer clients to URL, a few
## connecting at a time, each polled and read every frame until STOP_FILE.
func _clients(url: String, count: int, stop_file: String) -> void:
	var clients := []
	while not FileAccess.file_exists(stop_file):
		var connecting := clients.filter(func(c): return c.get_ready_state() == 0).size()
		while clients.size() < count and connecting < 64:
			var c := WebSocketPeer.new()
			c.inbound_buffer_size = 1 << 20
			c.connect_to_url(url)
			clients.append(c)
			connecting += 1
		for c in clients:
			c.poll()
			while c.get_available_packet_count() > 0:
				c.get_packet()
		await process_frame
	quit(0)


## Starts the client process on `url`; waits (calling `serve` every frame)
## until `open` says every client is in. Returns the stop file's path.
func _start_clients(url: String, serve: Callable, open: Callable) -> String:
	var stop := OS.get_user_data_dir().path_join("broadcast_stop_%d" % Time.get_ticks_usec())
	OS.create_process(OS.get_executable_path(), ["--headless", "--path", ProjectSettings.globalize_path("res://"), "--script", "res://broadcast.gd", "--", "clients", url, str(clients_n), stop])
	var deadline := Time.get_ticks_msec() + 120000
	while Time.get_ticks_msec() < deadline and open.call() < clients_n:
		serve.call()
		await process_frame
	if open.call() < clients_n:
		printerr("broadcast.gd: only %d of %d clients opened" % [open.call(), clients_n])
	return stop


func _stop_clients(stop: String) -> void:
	FileAccess.open(stop, FileAccess.WRITE)
	for i in 30:
		await process_frame
	DirAccess.remove_absolute(stop)


## `left`: bytes still waiting to be written at the end (0: every client
## took every message).
func _report(case: String, times: Array, left: int, clients: int) -> void:
	times.sort()
	var total := 0
	for t in times:
		total += t
	var line := {
		"bench": "broadcast", "case": case, "clients": clients, "frames": times.size(),
		"bytes": size, "median_us": times[times.size() / 2], "p90_us": times[int(times.size() * 0.9)],
		"mean_us": total / max(1, times.size()), "left_unwritten": left,
	}
	print(JSON.stringify(line))


func _ours(message: String) -> void:
	var server := RustWebSocketServer.new()
	server.poll_mode = RustWebSocketServer.POLL_MANUAL
	server.max_pending_connections = 4096
	root.add_child(server)
	if server.listen(0, "127.0.0.1") != OK:
		printerr("broadcast.gd: listen failed")
		return
	var stop := await _start_clients("ws://127.0.0.1:%d/" % server.get_local_port(), server.poll, func(): return server.get_client_ids().size())
	for i in 10:
		server.poll()
		await process_frame
	var times := []
	for f in frames_n:
		var t0 := Time.get_ticks_usec()
		server.broadcast(message)
		server.poll()
		times.append(Time.get_ticks_usec() - t0)
		await process_frame
	var sent := 0
	for id in server.get_client_ids():
		sent += server.get_client_peer(id).get_current_outbound_buffered_amount()
	_report("RustWebSocketServer.broadcast", times, sent, server.get_client_ids().size())
	await _stop_clients(stop)
	server.stop()
	server.free()


func _engine(message: String) -> void:
	var tcp := TCPServer.new()
	tcp.listen(0, "127.0.0.1")
	var peers := []
	var serve := func():
		while tcp.is_connection_available():
			var p := WebSocketPeer.new()
			p.inbound_buffer_size = 1 << 20
			p.accept_stream(tcp.take_connection())
			peers.append(p)
		for p in peers:
			p.poll()
	var stop := await _start_clients("ws://127.0.0.1:%d/" % tcp.get_local_port(), serve, func(): return peers.filter(func(p): return p.get_ready_state() == WebSocketPeer.STATE_OPEN).size())
	for i in 10:
		serve.call()
		await process_frame
	var open := peers.filter(func(p): return p.get_ready_state() == WebSocketPeer.STATE_OPEN)
	var times := []
	for f in frames_n:
		var t0 := Time.get_ticks_usec()
		for p in open:
			p.send_text(message)
		for p in open:
			p.poll()
		times.append(Time.get_ticks_usec() - t0)
		await process_frame
	var waiting := 0
	for p in open:
		waiting += p.get_current_outbound_buffered_amount()
	_report("WebSocketPeer send loop", times, waiting, open.size())
	await _stop_clients(stop)
	tcp.stop()
