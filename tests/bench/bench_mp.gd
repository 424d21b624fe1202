## The multiplayer workloads of the benchmark, run by bench.gd for the
## engine's WebSocketMultiplayerPeer and RustWebSocketMultiplayerPeer in the
## same process: packets through the MultiplayerPeer API (client to server
## and back, 32 bytes and 1 MiB, ws:// and wss://), RPCs through
## SceneMultiplayer (with a loopback peer that does no I/O as the bound),
## and a server's idle poll() cost and memory per client.
extends RefCounted

const BIG := 64 * 1024 * 1024
const LoopbackPeer := preload("res://loopback_peer.gd")
const RpcNode := preload("res://rpc_node.gd")

var bench  # bench.gd, for report(), settings and the scene tree


func _init(owner) -> void:
	bench = owner


func _port() -> int:
	var probe := TCPServer.new()
	probe.listen(0, "127.0.0.1")
	var port := probe.get_local_port()
	probe.stop()
	return port


## A server and one connected client of `cls`; [] on failure.
func _pair(cls: String, tls: bool, big: bool) -> Array:
	var server = ClassDB.instantiate(cls)
	var client = ClassDB.instantiate(cls)
	if big:
		for p in [server, client]:
			p.inbound_buffer_size = BIG
			p.outbound_buffer_size = BIG
	var port := _port()
	var joined := [0]
	server.peer_connected.connect(func(_id): joined[0] += 1)
	if server.create_server(port, "127.0.0.1", bench.tls_server if tls else null) != OK:
		return []
	var url := "%s://127.0.0.1:%d" % ["wss" if tls else "ws", port]
	if client.create_client(url, TLSOptions.client_unsafe() if tls else null) != OK:
		return []
	var deadline := Time.get_ticks_msec() + 5000
	while client.get_connection_status() != MultiplayerPeer.CONNECTION_CONNECTED or joined[0] == 0:
		server.poll()
		client.poll()
		if Time.get_ticks_msec() > deadline:
			return []
		OS.delay_usec(100)
	return [server, client]


func small(cls: String, tls: bool) -> void:
	var name := "mp_small_wss" if tls else "mp_small"
	var pair := _pair(cls, tls, false)
	if pair.is_empty():
		bench.report(name, cls, 0, "packets/s", {"error": "could not connect"})
		return
	var server = pair[0]
	var client = pair[1]
	var msg := PackedByteArray()
	msg.resize(32)
	client.set_target_peer(1)
	var outstanding := 0
	var received := 0
	var start := Time.get_ticks_usec()
	var end := start + int(bench.seconds * 1e6)
	while Time.get_ticks_usec() < end:
		while outstanding < 256:
			if client.put_packet(msg) != OK:
				break
			outstanding += 1
		server.poll()
		while server.get_available_packet_count() > 0:
			server.set_target_peer(server.get_packet_peer())
			server.put_packet(server.get_packet())
		client.poll()
		while client.get_available_packet_count() > 0:
			client.get_packet()
			outstanding -= 1
			received += 1
	bench.report(name, cls, received / ((Time.get_ticks_usec() - start) / 1e6), "packets/s")
	server.close()
	client.close()


## The cost of one call of a MultiplayerPeer method that does nothing in
## either class (get_transfer_channel, an engine virtual method for ours):
## what dispatch alone costs per call. SceneMultiplayer reaches our class
## only through such virtuals; the per-packet methods the workloads above
## call from GDScript are bound directly and skip it.
func call_cost(cls: String) -> void:
	var peer = ClassDB.instantiate(cls)
	var calls := 1000000
	var start := Time.get_ticks_usec()
	for i in calls:
		peer.get_transfer_channel()
	bench.report("mp_call_cost", cls, (Time.get_ticks_usec() - start) / float(calls), "us/call")


func bulk(cls: String, tls: bool) -> void:
	var name := "mp_bulk_wss" if tls else "mp_bulk"
	var pair := _pair(cls, tls, true)
	if pair.is_empty():
		bench.report(name, cls, 0, "MiB/s", {"error": "could not connect"})
		return
	var server = pair[0]
	var client = pair[1]
	var msg := PackedByteArray()
	msg.resize(1 << 20)
	client.set_target_peer(1)
	var sent := 0
	var got := 0
	var bytes := 0
	var start := Time.get_ticks_usec()
	var end := start + int(bench.seconds * 1e6)
	while Time.get_ticks_usec() < end:
		while sent - got < 8 and client.put_packet(msg) == OK:
			sent += 1
		client.poll()
		server.poll()
		while server.get_available_packet_count() > 0:
			bytes += server.get_packet().size()
			got += 1
	bench.report(name, cls, bytes / ((Time.get_ticks_usec() - start) / 1e6) / 1048576.0, "MiB/s")
	server.close()
	client.close()


## Reliable RPCs with a small argument: the server pings every client, each
## client answers; 32 rounds in flight per client. `cls` "" uses the
## loopback peer (no I/O): SceneMultiplayer's own cost.
func rpc(cls: String, clients := 4) -> void:
	var peers := []
	if cls == "":
		peers = LoopbackPeer.star(clients + 1)
	else:
		var server = ClassDB.instantiate(cls)
		var port := _port()
		if server.create_server(port, "127.0.0.1") != OK:
			bench.report("mp_rpc", cls, 0, "RPC/s", {"error": "could not listen"})
			return
		peers.append(server)
		for i in clients:
			var c = ClassDB.instantiate(cls)
			c.create_client("ws://127.0.0.1:%d" % port)
			peers.append(c)
	var label: String = cls if cls != "" else "loopback (no I/O)"
	var holder := Node.new()
	holder.name = "RpcBench"
	bench.root.add_child(holder)
	var apis := []
	var nodes := []
	for i in peers.size():
		var branch := Node.new()
		branch.name = "Peer%d" % i
		holder.add_child(branch)
		var api := SceneMultiplayer.new()
		bench.set_multiplayer(api, branch.get_path())
		api.multiplayer_peer = peers[i]
		var node := RpcNode.new()
		node.name = "Rpc"
		branch.add_child(node)
		apis.append(api)
		nodes.append(node)
	var server_api: SceneMultiplayer = apis[0]
	var deadline := Time.get_ticks_msec() + 10000
	while server_api.get_peers().size() < clients and Time.get_ticks_msec() < deadline:
		for api in apis:
			api.poll()
		OS.delay_usec(100)
	var ids := server_api.get_peers()
	if ids.size() < clients:
		bench.report("mp_rpc", label, 0, "RPC/s", {"error": "clients did not join"})
	else:
		# Let every client learn about the others (announcements) first.
		for k in 50:
			for api in apis:
				api.poll()
		var server_node: Node = nodes[0]
		var sent := 0
		var start := Time.get_ticks_usec()
		var end := start + int(bench.seconds * 1e6)
		while Time.get_ticks_usec() < end:
			while sent - server_node.pongs < 32 * clients:
				server_node.ping.rpc_id(ids[sent % ids.size()], sent)
				sent += 1
			for api in apis:
				api.poll()
		var elapsed := (Time.get_ticks_usec() - start) / 1e6
		# Each round is two RPCs: the ping and its pong.
		bench.report("mp_rpc", label, 2 * server_node.pongs / elapsed, "RPC/s", {"clients": clients})
	for i in apis.size():
		bench.set_multiplayer(null, holder.get_child(i).get_path())
		peers[i].close()
	holder.queue_free()


## A server of `cls` with `links` idle clients in a second Godot process
## (bench_clients.gd): memory per client, the server's poll() cost per
## client each 16 ms frame, then one echo over every client.
func idle(cls: String, links: int) -> void:
	var server = ClassDB.instantiate(cls)
	var port := _port()
	if server.create_server(port, "127.0.0.1") != OK:
		bench.report("mp_idle_poll", cls, 0, "us/client", {"error": "could not listen"})
		return
	var joined := [0]
	server.peer_connected.connect(func(_id): joined[0] += 1)
	var dir := ProjectSettings.globalize_path("res://")
	var go_file := dir.path_join("mp_go")
	var done_file := dir.path_join("mp_done")
	for f in [go_file, done_file]:
		DirAccess.remove_absolute(f)
	var rss0: int = bench._rss_kib()
	var url := "ws://127.0.0.1:%d/" % port
	# The clients are plain WebSocket peers: they ignore the id message.
	var args := ["--headless", "--path", dir, "--script", "res://bench_clients.gd", "--", url, str(links), "RustWebSocketPeer", go_file, done_file]
	var pid := OS.create_process(OS.get_executable_path(), args)
	var deadline := Time.get_ticks_msec() + 180000
	while joined[0] < links and Time.get_ticks_msec() < deadline:
		server.poll()
	# Idle, polled once per 16 ms frame, as in a game.
	var end := Time.get_ticks_msec() + 300
	while Time.get_ticks_msec() < end:
		server.poll()
		OS.delay_msec(16)
	var rss1: int = bench._rss_kib()
	# 80 frames (1.3 s): long enough to include the once-a-second checks an
	# idle link still makes.
	var total := 0
	for i in 80:
		var t0 := Time.get_ticks_usec()
		server.poll()
		total += Time.get_ticks_usec() - t0
		OS.delay_msec(16)
	var n: int = max(joined[0], 1)
	var extra := {"links": joined[0]}
	bench.report("mp_idle_memory_%d" % links, cls, (rss1 - rss0) / float(n), "KiB/client", extra)
	bench.report("mp_idle_poll_%d" % links, cls, total / 80.0 / n, "us/client", extra)
	# Every client sends one message; the server echoes it to its sender.
	FileAccess.open(go_file, FileAccess.WRITE).close()
	end = Time.get_ticks_msec() + 60000
	while not FileAccess.file_exists(done_file) and Time.get_ticks_msec() < end:
		server.poll()
		while server.get_available_packet_count() > 0:
			server.set_target_peer(server.get_packet_peer())
			server.put_packet(server.get_packet())
		OS.delay_usec(500)
	var echoed := 0
	if FileAccess.file_exists(done_file):
		echoed = int(FileAccess.get_file_as_string(done_file).strip_edges())
	bench.report("mp_idle_echo_%d" % links, cls, echoed, "clients", extra)
	if OS.is_process_running(pid):
		OS.kill(pid)
	server.close()
