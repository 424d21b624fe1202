## Benchmark: the same GDScript workloads with the engine's WebSocketPeer and
## with RustWebSocketPeer, in one headless Godot process, both ends in this
## process. Prints one JSON object per measurement, e.g.
##   {"bench": "small_echo", "class": "WebSocketPeer", "value": 35000, "unit": "msg/s"}
## Arguments after "--": [seconds per run] [links for many_links]
extends SceneTree

const CLASSES := ["WebSocketPeer", "RustWebSocketPeer"]
const MP_CLASSES := ["WebSocketMultiplayerPeer", "RustWebSocketMultiplayerPeer"]
const BIG := 8 * 1024 * 1024

var seconds := 2.0
var links := 1000
var tls_server: TLSOptions
var tls_client: TLSOptions


func _initialize() -> void:
	var args := OS.get_cmdline_user_args()
	if args.size() > 0:
		seconds = float(args[0])
	if args.size() > 1:
		links = int(args[1])
	var cert := X509Certificate.new()
	var key := CryptoKey.new()
	if cert.load(OS.get_environment("WS_TEST_CERT")) == OK and key.load(OS.get_environment("WS_TEST_KEY")) == OK:
		tls_server = TLSOptions.server(key, cert)
		tls_client = TLSOptions.client(cert)
	_run.call_deferred()


func _run() -> void:
	# Memory is read as the process's resident size, which memory freed by
	# an earlier benchmark in the same process hides: bench.sh runs each
	# memory benchmark in a fresh process (BENCH_ONLY, BENCH_CLASS,
	# BENCH_SETTING) and leaves them out of the main run (BENCH_SKIP).
	var only := OS.get_environment("BENCH_ONLY")
	var skip := OS.get_environment("BENCH_SKIP").split(",", false)
	var wants := func(name: String) -> bool:
		for s in skip:
			if name.begins_with(s):
				return false
		return only == "" or name.begins_with(only)
	var only_class := OS.get_environment("BENCH_CLASS")
	var only_setting := OS.get_environment("BENCH_SETTING")
	for cls in CLASSES:
		if only_class != "" and cls != only_class:
			continue
		for bench in ["small_echo", "small_echo_wss", "bulk", "bulk_wss", "bulk_deep", "latency", "many_links"]:
			if not wants.call(bench) or (bench.ends_with("_wss") and tls_server == null):
				continue
			await call(bench, cls)
	if wants.call("tls_ceiling") and tls_server != null:
		tls_ceiling()
	var mp = load("res://bench_mp.gd").new(self)
	for cls in MP_CLASSES:
		if only_class != "" and cls != only_class:
			continue
		for tls in [false, true]:
			if tls and tls_server == null:
				continue
			if wants.call("mp_small"):
				mp.small(cls, tls)
			if wants.call("mp_bulk"):
				mp.bulk(cls, tls)
		if wants.call("mp_call_cost"):
			mp.call_cost(cls)
		if wants.call("mp_rpc"):
			await mp.rpc(cls)
		if wants.call("mp_idle"):
			for n in [1000, links]:
				mp.idle(cls, n)
	if wants.call("mp_rpc"):
		await mp.rpc("")
	if wants.call("compression_stream"):
		compression_stream()
	if wants.call("compression_memory"):
		for setting in ["off", "takeover", "no_takeover"]:
			if only_setting == "" or setting == only_setting:
				compression_memory(setting)
	quit(0)


func report(bench: String, cls: String, value: float, unit: String, extra := {}) -> void:
	var d := {"bench": bench, "class": cls, "value": value, "unit": unit}
	d.merge(extra)
	print(JSON.stringify(d))


func _rss_kib() -> int:
	var f := FileAccess.open("/proc/self/statm", FileAccess.READ)
	if f == null:
		return 0
	return int(f.get_line().split(" ")[1]) * 4


## Opens a client/server pair of `cls` (with `buffers`-byte limits when
## `big`); returns [client, server] or [].
func open_pair(cls: String, tls := false, big := false, buffers := BIG) -> Array:
	var tcp := TCPServer.new()
	if tcp.listen(0, "127.0.0.1") != OK:
		return []
	var c = ClassDB.instantiate(cls)
	var s = ClassDB.instantiate(cls)
	if big:
		for p in [c, s]:
			p.inbound_buffer_size = buffers
			p.outbound_buffer_size = buffers
	var host := "localhost" if tls else "127.0.0.1"
	c.connect_to_url("%s://%s:%d/" % ["wss" if tls else "ws", host, tcp.get_local_port()], tls_client if tls else null)
	var deadline := Time.get_ticks_msec() + 5000
	while not tcp.is_connection_available():
		c.poll()
		if Time.get_ticks_msec() > deadline:
			return []
		OS.delay_usec(100)
	var conn: StreamPeer = tcp.take_connection()
	if tls:
		var t := StreamPeerTLS.new()
		t.accept_stream(conn, tls_server)
		conn = t
	s.accept_stream(conn)
	while c.get_ready_state() != 1 or s.get_ready_state() != 1:
		c.poll()
		s.poll()
		if Time.get_ticks_msec() > deadline or c.get_ready_state() == 3 or s.get_ready_state() == 3:
			return []
		OS.delay_usec(50)
	tcp.stop()
	return [c, s]


func _echo(cls: String, tls: bool, name: String) -> void:
	var pair := open_pair(cls, tls)
	if pair.is_empty():
		report(name, cls, 0, "msg/s", {"error": "could not connect"})
		return
	var c = pair[0]
	var s = pair[1]
	var msg := PackedByteArray()
	msg.resize(32)
	var outstanding := 0
	var received := 0
	var start := Time.get_ticks_usec()
	var end := start + int(seconds * 1e6)
	while Time.get_ticks_usec() < end:
		while outstanding < 256:
			if c.put_packet(msg) != OK:
				break
			outstanding += 1
		s.poll()
		while s.get_available_packet_count() > 0:
			s.put_packet(s.get_packet())
		c.poll()
		while c.get_available_packet_count() > 0:
			c.get_packet()
			outstanding -= 1
			received += 1
	var elapsed := (Time.get_ticks_usec() - start) / 1e6
	report(name, cls, received / elapsed, "msg/s")
	c.close()
	s.close()


func small_echo(cls: String) -> void:
	_echo(cls, false, "small_echo")


func small_echo_wss(cls: String) -> void:
	_echo(cls, true, "small_echo_wss")


func _bulk(cls: String, tls: bool, name: String) -> void:
	var pair := open_pair(cls, tls, true)
	if pair.is_empty():
		report(name, cls, 0, "MiB/s", {"error": "could not connect"})
		return
	var c = pair[0]
	var s = pair[1]
	var msg := PackedByteArray()
	msg.resize(1 << 20)
	var bytes := 0
	var start := Time.get_ticks_usec()
	var end := start + int(seconds * 1e6)
	while Time.get_ticks_usec() < end:
		if c.get_current_outbound_buffered_amount() < (2 << 20):
			c.put_packet(msg)
		c.poll()
		s.poll()
		while s.get_available_packet_count() > 0:
			bytes += s.get_packet().size()
	var elapsed := (Time.get_ticks_usec() - start) / 1e6
	report(name, cls, bytes / elapsed / 1048576.0, "MiB/s")
	c.close()
	s.close()


func bulk(cls: String) -> void:
	_bulk(cls, false, "bulk")


## 1 MiB messages one way with deep queues: 64 MiB buffers, 8 in flight.
func bulk_deep(cls: String) -> void:
	var pair := open_pair(cls, false, true, 64 << 20)
	if pair.is_empty():
		report("bulk_deep", cls, 0, "MiB/s", {"error": "could not connect"})
		return
	var c = pair[0]
	var s = pair[1]
	var msg := PackedByteArray()
	msg.resize(1 << 20)
	var sent := 0
	var got := 0
	var bytes := 0
	var start := Time.get_ticks_usec()
	var end := start + int(seconds * 1e6)
	while Time.get_ticks_usec() < end:
		while sent - got < 8 and c.put_packet(msg) == OK:
			sent += 1
		c.poll()
		s.poll()
		while s.get_available_packet_count() > 0:
			bytes += s.get_packet().size()
			got += 1
	report("bulk_deep", cls, bytes / ((Time.get_ticks_usec() - start) / 1e6) / 1048576.0, "MiB/s")
	c.close()
	s.close()


func bulk_wss(cls: String) -> void:
	_bulk(cls, true, "bulk_wss")


## The most decrypted bytes the engine's StreamPeerTLS hands to a reader on
## this core: a TLS server reads raw application data (no WebSocket) that
## the `tls_sender` example, in its own process and on the other core, writes
## with the same rustls client as our wss:// client. The bulk_wss server side
## of both classes reads through such a StreamPeerTLS, so this bounds them.
func tls_ceiling() -> void:
	var sender := OS.get_environment("BENCH_TLS_SENDER")
	if sender == "":
		return
	var name := "StreamPeerTLS read, sender in another process"
	var tcp := TCPServer.new()
	if tcp.listen(0, "127.0.0.1") != OK:
		report("tls_ceiling", name, 0, "MiB/s", {"error": "could not listen"})
		return
	var pid := OS.create_process(sender, [str(tcp.get_local_port()), str(seconds + 5)])
	var deadline := Time.get_ticks_msec() + 5000
	while not tcp.is_connection_available() and Time.get_ticks_msec() < deadline:
		OS.delay_usec(500)
	if pid <= 0 or not tcp.is_connection_available():
		report("tls_ceiling", name, 0, "MiB/s", {"error": "the sender did not connect"})
		if pid > 0:
			OS.kill(pid)
		return
	var tls := StreamPeerTLS.new()
	tls.accept_stream(tcp.take_connection(), tls_server)
	while tls.get_status() == StreamPeerTLS.STATUS_HANDSHAKING and Time.get_ticks_msec() < deadline:
		tls.poll()
		OS.delay_usec(100)
	if tls.get_status() != StreamPeerTLS.STATUS_CONNECTED:
		report("tls_ceiling", name, 0, "MiB/s", {"error": "TLS handshake failed"})
		OS.kill(pid)
		return
	var bytes := 0
	var start := Time.get_ticks_usec()
	var end := start + int(seconds * 1e6)
	while Time.get_ticks_usec() < end and tls.get_status() == StreamPeerTLS.STATUS_CONNECTED:
		tls.poll()
		bytes += tls.get_partial_data(16384)[1].size()
	var elapsed := (Time.get_ticks_usec() - start) / 1e6
	report("tls_ceiling", name, bytes / elapsed / 1048576.0, "MiB/s")
	tls.disconnect_from_stream()
	OS.kill(pid)


func latency(cls: String) -> void:
	var pair := open_pair(cls)
	if pair.is_empty():
		report("latency", cls, 0, "us", {"error": "could not connect"})
		return
	var c = pair[0]
	var s = pair[1]
	var msg := PackedByteArray()
	msg.resize(32)
	var samples: Array[float] = []
	var end := Time.get_ticks_usec() + int(seconds * 1e6)
	while Time.get_ticks_usec() < end and samples.size() < 100000:
		var t0 := Time.get_ticks_usec()
		c.put_packet(msg)
		while s.get_available_packet_count() == 0:
			s.poll()
		s.put_packet(s.get_packet())
		while c.get_available_packet_count() == 0:
			c.poll()
		c.get_packet()
		samples.append(Time.get_ticks_usec() - t0)
	samples.sort()
	var median := samples[samples.size() / 2]
	var p99 := samples[int(samples.size() * 0.99)]
	report("latency", cls, median, "us", {"p99": p99, "samples": samples.size()})
	c.close()
	s.close()


## Waits for `ms` milliseconds, polling `peers` once per 16 ms frame.
func _frames(peers: Array, ms: int) -> void:
	var end := Time.get_ticks_msec() + ms
	while Time.get_ticks_msec() < end:
		for p in peers:
			p.poll()
		OS.delay_msec(16)


## `links` server-side peers in this process; their clients live in a second
## Godot process (bench_clients.gd), as clients do in a game.
func many_links(cls: String) -> void:
	var tcp := TCPServer.new()
	tcp.listen(0, "127.0.0.1")
	var url := "ws://127.0.0.1:%d/" % tcp.get_local_port()
	var dir := ProjectSettings.globalize_path("res://")
	var go_file := dir.path_join("links_go")
	var done_file := dir.path_join("links_done")
	for f in [go_file, done_file]:
		DirAccess.remove_absolute(f)
	var rss0 := _rss_kib()
	var args := ["--headless", "--path", dir, "--script", "res://bench_clients.gd", "--", url, str(links), cls, go_file, done_file]
	var pid := OS.create_process(OS.get_executable_path(), args)
	if pid <= 0:
		report("many_links_memory", cls, 0, "KiB/peer", {"error": "could not start the client process"})
		return
	var servers := []
	var connecting := []
	var deadline := Time.get_ticks_msec() + 180000
	while servers.size() < links and Time.get_ticks_msec() < deadline:
		while tcp.is_connection_available():
			var s = ClassDB.instantiate(cls)
			s.accept_stream(tcp.take_connection())
			connecting.append(s)
		var still := []
		for s in connecting:
			s.poll()
			match s.get_ready_state():
				0:
					still.append(s)
				1:
					servers.append(s)
		connecting = still
	# Idle for a while, polled once per frame, as in a running game.
	_frames(servers, 300)
	var open_count := 0
	for s in servers:
		if s.get_ready_state() == 1:
			open_count += 1
	var rss1 := _rss_kib()
	var sweeps := 20
	var sweep_total := 0
	for i in sweeps:
		var t0 := Time.get_ticks_usec()
		for s in servers:
			s.poll()
		sweep_total += Time.get_ticks_usec() - t0
		OS.delay_msec(16)
	var sweep_us := sweep_total / float(sweeps)
	report("many_links_memory", cls, (rss1 - rss0) / float(max(open_count, 1)), "KiB/peer", {"links": open_count})
	report("many_links_poll", cls, sweep_us / max(open_count, 1), "us/peer", {"links": open_count})
	# One echo round over every link, to show they all work.
	FileAccess.open(go_file, FileAccess.WRITE).close()
	var end := Time.get_ticks_msec() + 60000
	while not FileAccess.file_exists(done_file) and Time.get_ticks_msec() < end:
		for s in servers:
			s.poll()
			while s.get_available_packet_count() > 0:
				s.put_packet(s.get_packet())
		OS.delay_usec(500)
	var echoed := 0
	if FileAccess.file_exists(done_file):
		echoed = int(FileAccess.get_file_as_string(done_file).strip_edges())
	report("many_links_echo", cls, echoed, "links", {"links": open_count})
	if OS.is_process_running(pid):
		OS.kill(pid)
	for s in servers + connecting:
		s.close(-1)
	tcp.stop()


## JSON-like game state, about `n` bytes, changing with `tick`.
func _state(tick: int, n := 2048) -> String:
	var s := '{"tick":%d,"players":[' % tick
	var i := 0
	while s.length() < n:
		s += '{"id":%d,"x":%.2f,"y":%.2f,"hp":%d,"state":"running"},' % [i, (tick * 7 + i * 13) * 0.37, (tick * 3 + i * 29) * 0.11, 100 - (tick + i) % 100]
		i += 1
	return s + "{}]}"


## A game-state stream (2 KB of JSON per message) from client to server with
## RustWebSocketPeer, compression off and on: messages/s, and bytes on the
## wire per message (counted by a relay between the two in a second run).
func compression_stream() -> void:
	var states := []
	for t in 64:
		states.append(_state(t).to_utf8_buffer())
	for on in [false, true]:
		var label := "RustWebSocketPeer, compression %s" % ("on" if on else "off")
		var pair := _compressed_pair(on)
		if pair.is_empty():
			report("json_stream", label, 0, "msg/s", {"error": "could not connect"})
			continue
		var c = pair[0]
		var s = pair[1]
		var sent := 0
		var got := 0
		var start := Time.get_ticks_usec()
		var end := start + int(seconds * 1e6)
		while Time.get_ticks_usec() < end:
			while sent - got < 64 and c.get_current_outbound_buffered_amount() < 32768:
				if c.put_packet(states[sent % states.size()]) != OK:
					break
				sent += 1
			c.poll()
			s.poll()
			while s.get_available_packet_count() > 0:
				s.get_packet()
				got += 1
		report("json_stream", label, got / ((Time.get_ticks_usec() - start) / 1e6), "msg/s")
		c.close(-1)
		s.close(-1)
		report("json_wire", label, _wire_bytes(on, states), "bytes/msg")


## A client/server pair of RustWebSocketPeer, both with compression `on`.
## `takeover` false asks for no context takeover. Accepts on `tcp` when
## given (kept listening), else on a TCPServer of its own.
func _compressed_pair(on: bool, takeover := true, tcp: TCPServer = null) -> Array:
	var own := tcp == null
	if own:
		tcp = TCPServer.new()
		tcp.listen(0, "127.0.0.1")
	var c := RustWebSocketPeer.new()
	var s := RustWebSocketPeer.new()
	for p in [c, s]:
		p.compression_enabled = on
		p.compression_context_takeover = takeover
	c.connect_to_url("ws://127.0.0.1:%d/" % tcp.get_local_port())
	var deadline := Time.get_ticks_msec() + 5000
	while not tcp.is_connection_available():
		c.poll()
		if Time.get_ticks_msec() > deadline:
			return []
		OS.delay_usec(100)
	s.accept_stream(tcp.take_connection())
	while c.get_ready_state() != 1 or s.get_ready_state() != 1:
		c.poll()
		s.poll()
		if Time.get_ticks_msec() > deadline:
			return []
	if own:
		tcp.stop()
	return [c, s]


## Bytes on the wire per message of the stream: 200 messages through a TCP
## relay that counts what passes from client to server.
func _wire_bytes(on: bool, states: Array) -> float:
	var relay := TCPServer.new()
	relay.listen(0, "127.0.0.1")
	var target := TCPServer.new()
	target.listen(0, "127.0.0.1")
	var c := RustWebSocketPeer.new()
	var s := RustWebSocketPeer.new()
	for p in [c, s]:
		p.compression_enabled = on
	c.connect_to_url("ws://127.0.0.1:%d/" % relay.get_local_port())
	var deadline := Time.get_ticks_msec() + 5000
	while not relay.is_connection_available() and Time.get_ticks_msec() < deadline:
		c.poll()
	var from_client := relay.take_connection()
	var to_server := StreamPeerTCP.new()
	to_server.connect_to_host("127.0.0.1", target.get_local_port())
	while not target.is_connection_available() and Time.get_ticks_msec() < deadline:
		to_server.poll()
	s.accept_stream(target.take_connection())
	var counted := [0, false]  # bytes after the upgrade, counting started
	var pump := func():
		from_client.poll()
		to_server.poll()
		var n := from_client.get_available_bytes()
		if n > 0:
			var data: PackedByteArray = from_client.get_data(n)[1]
			if counted[1]:
				counted[0] += data.size()
			to_server.put_data(data)
		n = to_server.get_available_bytes()
		if n > 0:
			from_client.put_data(to_server.get_data(n)[1])
	while (c.get_ready_state() != 1 or s.get_ready_state() != 1) and Time.get_ticks_msec() < deadline:
		c.poll()
		s.poll()
		pump.call()
	counted[1] = true
	var got := 0
	for i in 200:
		c.put_packet(states[i % states.size()])
		while got <= i and Time.get_ticks_msec() < deadline + 10000:
			c.poll()
			pump.call()
			s.poll()
			while s.get_available_packet_count() > 0:
				s.get_packet()
				got += 1
	c.close(-1)
	s.close(-1)
	return counted[0] / 200.0


## Memory per idle link after each of 1,000 links exchanged a few 2 KB
## game-state messages each way: compression off, on (context takeover, a
## zlib state per direction kept), and on without context takeover.
func compression_memory(setting: String) -> void:
	var count := 1000
	var tcp := TCPServer.new()
	tcp.listen(0, "127.0.0.1")
	var state := _state(1).to_utf8_buffer()
	var rss0 := _rss_kib()
	var pairs := []
	for i in count:
		var pair := _compressed_pair(setting != "off", setting != "no_takeover", tcp)
		if pair.is_empty():
			break
		pairs.append(pair)
	for round in 3:
		for pair in pairs:
			pair[0].put_packet(state)
			pair[1].put_packet(state)
		_frames(pairs.reduce(func(a, p): return a + p, []), 50)
		for pair in pairs:
			for p in pair:
				while p.get_available_packet_count() > 0:
					p.get_packet()
	_frames(pairs.reduce(func(a, p): return a + p, []), 100)
	var rss1 := _rss_kib()
	report("compression_memory", "RustWebSocketPeer, compression %s" % setting, (rss1 - rss0) / float(max(pairs.size() * 2, 1)), "KiB/peer", {"links": pairs.size()})
	for pair in pairs:
		for p in pair:
			p.close(-1)
	tcp.stop()
