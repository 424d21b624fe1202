## Benchmark: the same GDScript workloads with the engine's WebSocketPeer and
## with RustWebSocketPeer, in one headless Godot process, both ends in this
## process. Prints one JSON object per measurement, e.g.
##   {"bench": "small_echo", "class": "WebSocketPeer", "value": 35000, "unit": "msg/s"}
## Arguments after "--": [seconds per run] [links for many_links]
extends SceneTree

const CLASSES := ["WebSocketPeer", "RustWebSocketPeer"]
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
	var only := OS.get_environment("BENCH_ONLY")
	for cls in CLASSES:
		for bench in ["small_echo", "small_echo_wss", "bulk", "bulk_wss", "latency", "many_links"]:
			if only != "" and not bench.begins_with(only):
				continue
			if bench.ends_with("_wss") and tls_server == null:
				continue
			await call(bench, cls)
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


## Opens a client/server pair of `cls`; returns [client, server] or [].
func open_pair(cls: String, tls := false, big := false) -> Array:
	var tcp := TCPServer.new()
	if tcp.listen(0, "127.0.0.1") != OK:
		return []
	var c = ClassDB.instantiate(cls)
	var s = ClassDB.instantiate(cls)
	if big:
		for p in [c, s]:
			p.inbound_buffer_size = BIG
			p.outbound_buffer_size = BIG
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


func bulk_wss(cls: String) -> void:
	_bulk(cls, true, "bulk_wss")


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


func many_links(cls: String) -> void:
	var tcp := TCPServer.new()
	tcp.listen(0, "127.0.0.1")
	var url := "ws://127.0.0.1:%d/" % tcp.get_local_port()
	var rss0 := _rss_kib()
	var clients := []
	var servers := []
	var batch := 8  # TCPServer's listen backlog is 8
	var deadline := Time.get_ticks_msec() + 120000
	while servers.size() < links and Time.get_ticks_msec() < deadline:
		var pending := []
		for i in min(batch, links - servers.size()):
			var c = ClassDB.instantiate(cls)
			c.connect_to_url(url)
			pending.append(c)
			clients.append(c)
		var accepted := []
		while accepted.size() < pending.size() and Time.get_ticks_msec() < deadline:
			for c in pending:
				c.poll()
			while tcp.is_connection_available():
				var s = ClassDB.instantiate(cls)
				s.accept_stream(tcp.take_connection())
				accepted.append(s)
		var open := false
		while not open and Time.get_ticks_msec() < deadline:
			open = true
			for p in pending + accepted:
				p.poll()
				if p.get_ready_state() != 1:
					open = false
		servers.append_array(accepted)
	var open_count := 0
	for s in servers:
		if s.get_ready_state() == 1:
			open_count += 1
	var rss1 := _rss_kib()
	var sweeps := 20
	var t0 := Time.get_ticks_usec()
	for i in sweeps:
		for s in servers:
			s.poll()
	var sweep_us := (Time.get_ticks_usec() - t0) / float(sweeps)
	# Both ends of every link live in this process: two peers per link.
	report("many_links_memory", cls, (rss1 - rss0) / float(max(2 * open_count, 1)), "KiB/peer", {"links": open_count})
	report("many_links_poll", cls, sweep_us / max(open_count, 1), "us/peer", {"links": open_count})
	# One echo round over every link, to show they all work.
	for c in clients:
		c.put_packet(PackedByteArray([1]))
	var echoed := 0
	var end := Time.get_ticks_msec() + 20000
	while echoed < open_count and Time.get_ticks_msec() < end:
		for s in servers:
			s.poll()
			while s.get_available_packet_count() > 0:
				s.put_packet(s.get_packet())
		for c in clients:
			c.poll()
			while c.get_available_packet_count() > 0:
				c.get_packet()
				echoed += 1
	report("many_links_echo", cls, echoed, "links", {"links": open_count})
	for p in clients + servers:
		p.close(-1)
	tcp.stop()
