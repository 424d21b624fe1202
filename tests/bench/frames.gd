## Frame-driven benchmarks: the workloads as a game runs them, driven by
## the SceneTree (SceneMultiplayer polls each multiplayer root once a frame,
## nodes send from _process), for one class at a time. Prints one JSON line
## per measure, as bench.gd does:
##   {"bench": "frames_rpc_w8_capped_rate", "class": ..., "value": ..., "unit": ...}
## Arguments after "--": WORKLOAD CLASS MODE [PARAM] [SECONDS]
##   CLASS a multiplayer or peer class; RustLoopbackMultiplayerPeer (built
##     with the `bench` feature) is the bound: SceneMultiplayer over a peer
##     that does no I/O, its virtuals bound as ours are
##   WORKLOAD rpc (PARAM: RPCs kept outstanding), sync (PARAM: synchronized
##     nodes; 8 clients), broadcast (PARAM: clients), peer (PARAM: messages
##     per frame; CLASS is then a peer class)
##   MODE capped (headless Godot's own frame sleep, ~145 frames/s) or
##     uncapped (no sleep: what a frame costs)
## Measures: deliveries per second, frames from send to delivery (or per
## round trip), and the main thread's CPU time per frame (the multiplayer
## polls, the nodes' _process, deferred calls; not the frame's sleep).
extends SceneTree

const WARMUP_S := 0.5
const FrameNodes := preload("res://frames_nodes.gd")

var workload := ""
var cls := ""
var mode := ""
var param := 0
var seconds := 2.0
var roots: Array[Node] = []
var peers: Array = []


func _initialize() -> void:
	var args := OS.get_cmdline_user_args()
	if args.size() < 4:
		printerr("usage: -- WORKLOAD CLASS MODE PARAM [SECONDS]")
		quit(2)
		return
	workload = args[0]
	cls = args[1]
	mode = args[2]
	param = int(args[3])
	if args.size() > 4:
		seconds = float(args[4])
	if mode == "uncapped":
		OS.low_processor_usage_mode_sleep_usec = 0
	_run.call_deferred()


func _port() -> int:
	var probe := TCPServer.new()
	probe.listen(0, "127.0.0.1")
	var port := probe.get_local_port()
	probe.stop()
	return port


## A node tree with its own SceneMultiplayer over `peer`.
func _multiplayer_root(name: String, peer: MultiplayerPeer) -> Node:
	var root_node := Node.new()
	root_node.name = name
	root.add_child(root_node)
	var mp := SceneMultiplayer.new()
	set_multiplayer(mp, root_node.get_path())
	mp.multiplayer_peer = peer
	roots.append(root_node)
	peers.append(peer)
	return root_node


## A server root and `clients` client roots of `cls`, connected; [] if not.
func _star(clients: int) -> Array:
	if cls == "RustLoopbackMultiplayerPeer":
		var loops: Array = ClassDB.instantiate(cls).star(clients + 1)
		var linked := [_multiplayer_root("Server", loops[0])]
		for i in clients:
			linked.append(_multiplayer_root("Client%d" % i, loops[i + 1]))
		await process_frame
		return linked
	var port := _port()
	var server: MultiplayerPeer = ClassDB.instantiate(cls)
	if server.create_server(port, "127.0.0.1") != OK:
		return []
	var all := [_multiplayer_root("Server", server)]
	for i in clients:
		var client: MultiplayerPeer = ClassDB.instantiate(cls)
		if client.create_client("ws://127.0.0.1:%d" % port) != OK:
			return []
		all.append(_multiplayer_root("Client%d" % i, client))
		# Players arrive a few at a time: a hundred connecting at once
		# overflow the engine's listen backlog (its clients then give up).
		if i % 8 == 7:
			var joined := Time.get_ticks_msec() + 5000
			while all[0].multiplayer.get_peers().size() < i + 1 and Time.get_ticks_msec() < joined:
				await process_frame
	var deadline := Time.get_ticks_msec() + 20000
	while Time.get_ticks_msec() < deadline:
		await process_frame
		var ready: bool = all[0].multiplayer.get_peers().size() == clients
		for r in all.slice(1):
			ready = ready and r.multiplayer.multiplayer_peer.get_connection_status() == MultiplayerPeer.CONNECTION_CONNECTED
		if ready:
			return all
	var statuses := {}
	for r in all.slice(1):
		var st: int = r.multiplayer.multiplayer_peer.get_connection_status()
		statuses[st] = statuses.get(st, 0) + 1
	printerr("%s: %d of %d clients connected in 20 s (clients by status: %s)" % [cls, all[0].multiplayer.get_peers().size(), clients, statuses])
	return []


func _run() -> void:
	match workload:
		"rpc":
			await _rpc_window()
		"sync":
			await _synchronizers()
		"broadcast":
			await _broadcast()
		"peer":
			await _peer_messages()
		_:
			printerr("unknown workload ", workload)
	# The nodes stop first, so none sends over a closed peer.
	for r in roots:
		r.process_mode = Node.PROCESS_MODE_DISABLED
	for p in peers:
		p.close()
	await process_frame
	quit()


func report(bench: String, value: float, unit: String) -> void:
	print(JSON.stringify({"bench": bench, "class": cls, "value": value, "unit": unit}))


## The CPU time the main thread (this one) has used, in microseconds
## (Linux's scheduler statistics: every frame's work, none of its sleep).
func _main_thread_cpu_us() -> float:
	var f := FileAccess.open("/proc/thread-self/schedstat", FileAccess.READ)
	return float(f.get_line().split(" ")[0]) / 1000.0 if f else 0.0


## Runs the measured stretch: warms up, then counts frames and process time
## over `seconds`. `deliveries` and `delay` are read from the nodes.
func _measure(counter: Callable) -> Dictionary:
	var warm_until := Time.get_ticks_msec() + int(WARMUP_S * 1000)
	while Time.get_ticks_msec() < warm_until:
		await process_frame
	var start: Dictionary = counter.call()
	var t0 := Time.get_ticks_usec()
	var cpu0 := _main_thread_cpu_us()
	var frames := 0
	while Time.get_ticks_usec() - t0 < int(seconds * 1e6):
		await process_frame
		frames += 1
	var elapsed := (Time.get_ticks_usec() - t0) / 1e6
	var process_us := _main_thread_cpu_us() - cpu0
	var end: Dictionary = counter.call()
	var delivered: int = end["delivered"] - start["delivered"]
	var delay_frames: float = end["delay_frames"] - start["delay_frames"]
	var delays: int = end["delays"] - start["delays"]
	return {
		"per_second": delivered / elapsed,
		"per_frame": delivered / float(max(frames, 1)),
		"frames_to_deliver": delay_frames / float(max(delays, 1)),
		"us_per_frame": process_us / float(max(frames, 1)),
		"fps": frames / elapsed,
	}


## The client keeps `param` reliable RPCs outstanding; the server answers
## once a frame with the count it has received.
func _rpc_window() -> void:
	var star: Array = await _star(1)
	if star.is_empty():
		report("frames_rpc_w%d_%s_rate" % [param, mode], 0, "RPC/s")
		return
	var server_node := FrameNodes.RpcWindow.new()
	server_node.name = "Rpc"
	star[0].add_child(server_node)
	var client_node := FrameNodes.RpcWindow.new()
	client_node.name = "Rpc"
	client_node.window = param
	star[1].add_child(client_node)
	var result: Dictionary = await _measure(func(): return client_node.counters())
	var key := "frames_rpc_w%d_%s" % [param, mode]
	report(key + "_rate", result["per_second"], "RPC/s")
	report(key + "_round_trip", result["frames_to_deliver"], "frames")
	report(key + "_frame", result["us_per_frame"], "us/frame")


## `param` nodes, each with a MultiplayerSynchronizer, on the server and 8
## clients; the server moves every node every frame.
func _synchronizers() -> void:
	var star: Array = await _star(8)
	if star.is_empty():
		report("frames_sync_%d_%s_frame" % [param, mode], 0, "us/frame")
		return
	var watchers := []
	for r in star:
		var world := FrameNodes.SyncWorld.new()
		world.name = "World"
		world.nodes = param
		world.is_server = r == star[0]
		r.add_child(world)
		if r != star[0]:
			watchers.append(world)
	var result: Dictionary = await _measure(func(): return FrameNodes.sum_counters(watchers))
	var key := "frames_sync_%d_%s" % [param, mode]
	report(key + "_rate", result["per_second"], "updates/s")
	report(key + "_delivery", result["frames_to_deliver"], "frames")
	report(key + "_frame", result["us_per_frame"], "us/frame")


## The server sends a state RPC to all `param` clients every frame.
func _broadcast() -> void:
	var star: Array = await _star(param)
	if star.is_empty():
		report("frames_broadcast_%d_%s_frame" % [param, mode], 0, "us/frame")
		return
	var watchers := []
	for r in star:
		var node := FrameNodes.Broadcast.new()
		node.name = "State"
		node.is_server = r == star[0]
		r.add_child(node)
		if r != star[0]:
			watchers.append(node)
	var result: Dictionary = await _measure(func(): return FrameNodes.sum_counters(watchers))
	var key := "frames_broadcast_%d_%s" % [param, mode]
	report(key + "_rate", result["per_second"], "deliveries/s")
	report(key + "_delivery", result["frames_to_deliver"], "frames")
	report(key + "_frame", result["us_per_frame"], "us/frame")


## Two peers of the peer class: the client node sends `param` messages a
## frame and the server node echoes them, each polling in its _process.
func _peer_messages() -> void:
	var tcp := TCPServer.new()
	tcp.listen(0, "127.0.0.1")
	var client = ClassDB.instantiate(cls)
	client.connect_to_url("ws://127.0.0.1:%d/" % tcp.get_local_port())
	var server = ClassDB.instantiate(cls)
	var deadline := Time.get_ticks_msec() + 5000
	while Time.get_ticks_msec() < deadline and client.get_ready_state() != 1:
		client.poll()
		if tcp.is_connection_available():
			server.accept_stream(tcp.take_connection())
		server.poll()
		await process_frame
	var echo := FrameNodes.PeerEcho.new()
	echo.name = "Echo"
	echo.server = server
	root.add_child(echo)
	var sender := FrameNodes.PeerSender.new()
	sender.name = "Sender"
	sender.client = client
	sender.per_frame = param
	root.add_child(sender)
	var result: Dictionary = await _measure(func(): return sender.counters())
	var key := "frames_peer_%d_%s" % [param, mode]
	report(key + "_rate", result["per_second"], "msg/s")
	report(key + "_round_trip", result["frames_to_deliver"], "frames")
	report(key + "_frame", result["us_per_frame"], "us/frame")
	client.close()
	server.close()
