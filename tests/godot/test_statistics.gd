## Statistics and round-trip time: exact counts of a scripted exchange with
## the engine's WebSocketPeer as the other end (ours as client and as
## server), the round-trip time on loopback and through a relay that delays
## each direction by 50 ms, the client node's pong_received, the
## multiplayer class's totals and per-peer figures, and the Performance
## monitors.
extends RefCounted

const U := preload("ws_util.gd")
const DELAY_MS := 50


## A TCP relay on 127.0.0.1 to `target_port` that holds every chunk of bytes
## DELAY_MS before passing it on, in both directions.
class Relay:
	var tcp := TCPServer.new()
	var port := 0
	var target_port := 0
	var pairs: Array = []

	func start(to_port: int) -> bool:
		target_port = to_port
		var ok := tcp.listen(0, "127.0.0.1") == OK
		port = tcp.get_local_port()
		return ok

	## Accepts, reads and writes what is due; call it every frame.
	func poll() -> void:
		while tcp.is_connection_available():
			var inside := tcp.take_connection()
			var outside := StreamPeerTCP.new()
			outside.connect_to_host("127.0.0.1", target_port)
			pairs.append({"a": inside, "b": outside, "ab": [], "ba": []})
		var now := Time.get_ticks_msec()
		for p in pairs:
			p.a.poll()
			p.b.poll()
			_move(p.a, p.ab, now)
			if p.b.get_status() == StreamPeerTCP.STATUS_CONNECTED:
				_move(p.b, p.ba, now)
				_due(p.b, p.ab, now)
			_due(p.a, p.ba, now)

	func _move(from: StreamPeerTCP, queue: Array, now: int) -> void:
		var n := from.get_available_bytes()
		if n > 0:
			queue.append([now + DELAY_MS, from.get_data(n)[1]])

	func _due(to: StreamPeerTCP, queue: Array, now: int) -> void:
		while not queue.is_empty() and queue[0][0] <= now:
			to.put_data(queue.pop_front()[1])


## Connects our peer and the engine's through a TCPServer: `ours_client`
## picks the side. Returns [client, server] open, or [] (a failed check).
func _pair(t, ours_client: bool) -> Array:
	var ours := RustWebSocketPeer.new()
	var engine := WebSocketPeer.new()
	var c = ours if ours_client else engine
	var s = engine if ours_client else ours
	if await U.connect_pair(t, c, s) == 0:
		return []
	return [c, s]


## The scripted exchange: three "hello" texts and a 200-byte binary message
## from `from` to `to`, echoed back by `to`.
func _exchange(t, from, to) -> void:
	for i in 3:
		from.send_text("hello")
	from.put_packet(U.pattern(200))
	var got := []
	await t.until(func():
		while to.get_available_packet_count() > 0:
			got.append([to.get_packet(), to.was_string_packet()])
		return got.size() == 4, [from, to], "4 messages")
	for g in got:
		to.send(g[0], WebSocketPeer.WRITE_MODE_TEXT if g[1] else WebSocketPeer.WRITE_MODE_BINARY)
	await t.until(func(): return from.get_available_packet_count() == 4, [from, to], "4 echoes")


func _counts(s: Dictionary) -> Array:
	return [s.messages_in, s.messages_out, s.bytes_in, s.bytes_out, s.wire_bytes_in, s.wire_bytes_out]


func test_exact_counts_against_the_engine_peer(t) -> void:
	for ours_client in [true, false]:
		var label := "ours as " + ("client" if ours_client else "server")
		var pair: Array = await _pair(t, ours_client)
		if pair.is_empty():
			return
		var ours: RustWebSocketPeer = pair[0] if ours_client else pair[1]
		var engine: WebSocketPeer = pair[1] if ours_client else pair[0]
		t.eq(_counts(ours.get_statistics()), [0, 0, 0, 0, 0, 0], label + ": nothing yet")
		t.eq(ours.get_time_since_last_message(), -1.0, label + ": no message yet")
		await _exchange(t, ours, engine)
		var s := ours.get_statistics()
		# A client masks its frames (4 bytes each): "hello" is 2 + 5 bytes
		# (+ 4), the 200-byte message 2 + 2 + 200 (+ 4).
		var masked := 3 * 11 + 208
		var plain := 3 * 7 + 204
		var wire := [plain, masked] if ours_client else [masked, plain]
		t.eq(_counts(s), [4, 4, 215, 215, wire[0], wire[1]], label + ": counts of the exchange")
		t.eq(s.queued_in, 4, label + ": the echoes wait to be read")
		t.eq(s.queued_out, 0, label + ": nothing waits to be sent")
		t.eq(s.rtt_ms, -1.0, label + ": no round-trip time without a ping")
		t.check(ours.get_time_since_last_message() >= 0.0 and ours.get_time_since_last_message() < 5000.0, label + ": time since the last message")
		for key in ["messages_in", "messages_out", "bytes_in", "bytes_out", "wire_bytes_in", "wire_bytes_out", "queued_in", "queued_out", "buffered_out", "pings_sent", "pongs_received", "rtt_ms", "rtt_smoothed_ms", "rtt_lowest_ms", "since_last_message_ms"]:
			t.check(s.has(key), label + ": key " + key)
		engine.close()
		await U.wait_closed(t, ours, engine)
		t.eq(ours.get_statistics().messages_in, 4, label + ": still readable after the close")


func test_compression_shows_on_the_wire(t) -> void:
	var ours := RustWebSocketPeer.new()
	ours.compression_enabled = true
	ours.compression_threshold = 0
	var other := RustWebSocketPeer.new()
	other.compression_enabled = true
	if await U.connect_pair(t, ours, other) == 0:
		return
	var text := "the same words again and again. ".repeat(128)
	for i in 5:
		ours.send_text(text)
	await t.until(func(): return other.get_available_packet_count() == 5, [ours, other], "5 messages")
	var s := ours.get_statistics()
	t.eq(s.bytes_out, 5 * text.length(), "payload bytes out")
	t.check(s.wire_bytes_out * 10 < s.bytes_out, "compressed: %d bytes on the wire for %d of payload" % [s.wire_bytes_out, s.bytes_out])
	t.eq(other.get_statistics().wire_bytes_in, s.wire_bytes_out, "the other end counts the same wire bytes")


## Pings until `count` pongs came; returns the last round-trip time.
func _ping(t, ours: RustWebSocketPeer, engine: WebSocketPeer, count: int, relay: Relay = null) -> float:
	for i in count:
		var before: int = ours.get_statistics().pongs_received
		t.eq(ours.ping(), OK, "ping")
		await t.until(func():
			if relay:
				relay.poll()
			return ours.get_statistics().pongs_received > before, [ours, engine], "a pong")
	return ours.get_round_trip_time()


func test_round_trip_time_on_loopback_and_through_a_delaying_relay(t) -> void:
	var pair: Array = await _pair(t, true)
	if pair.is_empty():
		return
	var ours: RustWebSocketPeer = pair[0]
	t.eq(ours.get_round_trip_time(), -1.0, "no round-trip time before a pong")
	var direct: float = await _ping(t, ours, pair[1], 3)
	t.check(direct >= 0.0 and direct < 100.0, "loopback round trip %.2f ms" % direct)
	var s := ours.get_statistics()
	t.eq([s.pings_sent, s.pongs_received], [3, 3], "pings and pongs counted")
	t.check(s.rtt_lowest_ms <= s.rtt_ms and s.rtt_lowest_ms <= s.rtt_smoothed_ms, "lowest is lowest: %s" % s)
	t.eq(pair[1].get_available_packet_count(), 0, "pings are not messages")

	# Through the relay: each direction waits 50 ms.
	var tcp := U.listen(t)
	var relay := Relay.new()
	t.check(relay.start(tcp.get_local_port()), "relay listens")
	var delayed := RustWebSocketPeer.new()
	var engine := WebSocketPeer.new()
	delayed.connect_to_url("ws://127.0.0.1:%d/" % relay.port)
	await t.until(func():
		relay.poll()
		if tcp.is_connection_available():
			engine.accept_stream(tcp.take_connection())
		return delayed.get_ready_state() == WebSocketPeer.STATE_OPEN, [delayed, engine], "open through the relay")
	var slow: float = await _ping(t, delayed, engine, 2, relay)
	t.check(slow >= 2.0 * DELAY_MS - 5.0 and slow < 2000.0, "relayed round trip %.1f ms (loopback %.2f ms)" % [slow, direct])
	t.check(slow > direct, "slower than loopback")
	print("  round trip: loopback %.2f ms, through the 50 ms relay %.1f ms" % [direct, slow])


func test_client_node_pong_received_and_reconnects(t) -> void:
	var tcp := U.listen(t)
	var engine := WebSocketPeer.new()
	var c := RustWebSocketClient.new()
	c.autoconnect = false
	var rtts := []
	c.pong_received.connect(func(rtt): rtts.append(rtt))
	t.root.add_child(c)
	c.connect_to_url("ws://127.0.0.1:%d/" % tcp.get_local_port())
	await t.until(func():
		if tcp.is_connection_available():
			engine.accept_stream(tcp.take_connection())
		return c.get_ready_state() == WebSocketPeer.STATE_OPEN, [engine], "the node open")
	t.eq(c.get_round_trip_time(), -1.0, "no round-trip time yet")
	t.eq(c.ping(), OK, "ping")
	await t.until(func(): return rtts.size() == 1, [engine], "pong_received")
	if rtts.size() == 1:
		t.check(rtts[0] >= 0.0 and rtts[0] < 100.0, "pong_received(%.2f ms)" % rtts[0])
		t.eq(c.get_round_trip_time(), rtts[0], "get_round_trip_time is the signal's")
	c.send_text("hi")
	await t.until(func(): return engine.get_available_packet_count() == 1, [engine], "the message")
	var s := c.get_statistics()
	t.eq([s.messages_out, s.bytes_out, s.pongs_received, s.reconnects], [1, 2, 1, 0], "the node's statistics")
	c.close()
	await t.until(func(): return c.get_ready_state() == WebSocketPeer.STATE_CLOSED, [engine], "the node closed")
	c.queue_free()


func test_multiplayer_totals_and_per_peer(t) -> void:
	var server := RustWebSocketMultiplayerPeer.new()
	var port := U.free_port()
	t.eq(server.create_server(port, "127.0.0.1"), OK, "create_server")
	var clients := []
	for cls in ["WebSocketMultiplayerPeer", "RustWebSocketMultiplayerPeer"]:
		var c = ClassDB.instantiate(cls)
		t.eq(c.create_client("ws://127.0.0.1:%d" % port), OK, cls + ": create_client")
		clients.append(c)
	var all := [server] + clients
	await t.until(func(): return server.get_statistics().links == 2 and clients.all(func(c): return c.get_connection_status() == MultiplayerPeer.CONNECTION_CONNECTED), all, "two clients")
	var ids := []
	await t.until(func():
		while server.get_available_packet_count() > 0:
			server.get_packet()
		return true, all, "a poll")
	var before := server.get_statistics()
	var per_before := {}
	for c in clients:
		var id: int = c.get_unique_id()
		ids.append(id)
		per_before[id] = server.get_peer_statistics(id)
		c.set_target_peer(1)
		for i in 3:
			c.put_packet(PackedByteArray([1, 2, 3]))
	var got := [0]
	await t.until(func():
		while server.get_available_packet_count() > 0:
			server.get_packet()
			got[0] += 1
		return got[0] == 6, all, "6 packets")
	var after := server.get_statistics()
	t.eq(after.messages_in - before.messages_in, 6, "6 messages more in the totals")
	var sum := 0
	for id in ids:
		var p := server.get_peer_statistics(id)
		t.eq(p.messages_in - per_before[id].messages_in, 3, "3 messages more from peer %d" % id)
		sum += p.messages_in
	t.eq(after.messages_in, sum, "the totals are the sum of the peers'")
	t.eq(server.get_peer_statistics(99999), {}, "an unknown id: empty")
	t.check_logged("no connected peer with id 99999")
	for c in clients:
		c.close()
	server.close()


func test_performance_monitors_exist_and_move(t) -> void:
	var setting := "network/rust_websocket/performance_monitors"
	t.check(ProjectSettings.has_setting(setting), "the project setting is registered")
	t.eq(ProjectSettings.get_setting(setting), false, "off by default")
	RustWebSocketPeer.add_performance_monitors()
	RustWebSocketPeer.add_performance_monitors()
	for name in ["open_links", "messages_in_per_s", "messages_out_per_s", "bytes_in_per_s", "bytes_out_per_s", "queued_in", "queued_out", "rtt_ms", "rtt_lowest_ms"]:
		t.check(Performance.has_custom_monitor("RustWebSocket/" + name), "monitor " + name)
	var open_before: float = Performance.get_custom_monitor("RustWebSocket/open_links")
	var a := RustWebSocketPeer.new()
	var b := RustWebSocketPeer.new()
	if await U.connect_pair(t, a, b) == 0:
		return
	# A reading now starts the interval the next one measures.
	await t.until(func(): return true, [a, b], "a frame")
	OS.delay_msec(250)
	Performance.get_custom_monitor("RustWebSocket/open_links")
	var sent := [0]
	var end := Time.get_ticks_msec() + 600
	await t.until(func():
		for i in 10:
			a.send_text("tick")
			sent[0] += 1
		while b.get_available_packet_count() > 0:
			b.get_packet()
		return Time.get_ticks_msec() >= end, [a, b], "0.6 s of traffic")
	a.ping()
	await t.until(func(): return a.get_round_trip_time() >= 0.0, [a, b], "a pong")
	var open: float = Performance.get_custom_monitor("RustWebSocket/open_links")
	t.eq(open - open_before, 2.0, "two more open links")
	var rate: float = Performance.get_custom_monitor("RustWebSocket/messages_out_per_s")
	t.check(rate > 10.0, "messages out per second: %.1f (sent %d)" % [rate, sent[0]])
	t.check(Performance.get_custom_monitor("RustWebSocket/messages_in_per_s") > 10.0, "messages in per second")
	t.check(Performance.get_custom_monitor("RustWebSocket/bytes_out_per_s") > rate * 4.0, "wire bytes out per second")
	t.check(Performance.get_custom_monitor("RustWebSocket/rtt_ms") > 0.0, "round-trip time")
	a.close()
	await U.wait_closed(t, a, b)
	OS.delay_msec(250)
	t.eq(Performance.get_custom_monitor("RustWebSocket/open_links"), open_before, "closed links are not open")
