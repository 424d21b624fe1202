## Both classes used from Godot Threads, one thread at a time per object, as
## the engine's WebSocketPeer allows: created, driven and freed in a worker,
## handed over to the main thread, two workers at once. A crash here aborts
## the whole test run, so every test that gets to its end has passed that.
extends RefCounted

const U := preload("ws_util.gd")


## Polls `peers` until `cond` holds (blocking; for worker threads).
static func _spin(cond: Callable, peers: Array, seconds := 10.0) -> bool:
	var deadline := Time.get_ticks_msec() + int(seconds * 1000)
	while not cond.call():
		if Time.get_ticks_msec() > deadline:
			return false
		for p in peers:
			p.poll()
		OS.delay_usec(200)
	return true


## A connected pair of `cls`, made on the calling thread; [] on failure.
static func _pair(cls: String) -> Array:
	var tcp := TCPServer.new()
	if tcp.listen(0, "127.0.0.1") != OK:
		return []
	var c = ClassDB.instantiate(cls)
	var s = ClassDB.instantiate(cls)
	c.connect_to_url("ws://127.0.0.1:%d/" % tcp.get_local_port())
	if not _spin(func(): return tcp.is_connection_available(), [c]):
		return []
	s.accept_stream(tcp.take_connection())
	if not _spin(func(): return c.get_ready_state() == 1 and s.get_ready_state() == 1, [c, s]):
		return []
	tcp.stop()
	return [c, s]


## Sends `count` numbered messages from c to s and echoes them back; returns
## how many came back in order.
static func _echo(c, s, count: int) -> int:
	var good := 0
	for i in count:
		c.send_text("m%d" % i)
		if not _spin(func(): return s.get_available_packet_count() > 0, [c, s]):
			return good
		s.send(s.get_packet(), 0)
		if not _spin(func(): return c.get_available_packet_count() > 0, [c, s]):
			return good
		if c.get_packet().get_string_from_utf8() == "m%d" % i:
			good += 1
	return good


func test_a_worker_creates_drives_and_hands_over_a_pair(t) -> void:
	var th := Thread.new()
	th.start(func():
		var pair := _pair("RustWebSocketPeer")
		if pair.is_empty():
			return {"pair": [], "good": 0}
		return {"pair": pair, "good": _echo(pair[0], pair[1], 20)})
	var result: Dictionary = th.wait_to_finish()
	t.eq(result["good"], 20, "20 echoes in the worker")
	var pair: Array = result["pair"]
	if not t.eq(pair.size(), 2, "the pair came back"):
		return
	# The main thread takes over: same objects, same connection.
	var c: RustWebSocketPeer = pair[0]
	var s: RustWebSocketPeer = pair[1]
	t.eq(c.get_ready_state(), RustWebSocketPeer.STATE_OPEN, "still open on the main thread")
	t.eq(c.send_text("after"), OK, "send from the main thread")
	var got: PackedByteArray = await U.receive(t, s, [c])
	t.eq(got.get_string_from_utf8(), "after", "received on the main thread")
	c.close(1000, "bye")
	await U.wait_closed(t, c, s)
	t.eq(s.get_close_code(), 1000, "clean close")


func test_two_workers_at_once(t) -> void:
	var workers := []
	for i in 2:
		var th := Thread.new()
		th.start(func():
			var pair := _pair("RustWebSocketPeer")
			if pair.is_empty():
				return -1
			var good := _echo(pair[0], pair[1], 300)
			pair[0].close()
			_spin(func(): return pair[0].get_ready_state() == 3 and pair[1].get_ready_state() == 3, pair)
			return good)
		workers.append(th)
	for th in workers:
		t.eq(th.wait_to_finish(), 300, "300 echoes in each worker")


func test_a_peer_freed_in_a_worker_sends_what_it_queued(t) -> void:
	var s := RustWebSocketPeer.new()
	var holder := [RustWebSocketPeer.new()]
	if await U.connect_pair(t, holder[0], s) == 0:
		return
	var th := Thread.new()
	th.start(func():
		# The only reference moves into the worker, which sends and lets go:
		# the client is freed there, with its messages just sent.
		var client: RustWebSocketPeer = holder.pop_back()
		for m in ["a", "b", "c"]:
			client.send_text(m)
		client = null
		return holder.is_empty())
	t.check(th.wait_to_finish(), "the worker held the last reference")
	var got := await _drain(t, s, 3)
	t.eq(got, ["a", "b", "c"], "every message the worker sent arrived")


func test_a_peer_freed_right_after_a_batch_on_the_main_thread_sends_it(t) -> void:
	var s := RustWebSocketPeer.new()
	var c := RustWebSocketPeer.new()
	if await U.connect_pair(t, c, s) == 0:
		return
	# "b" and "c" wait for the end of the frame; the client is freed first.
	for m in ["a", "b", "c"]:
		c.send_text(m)
	c = null
	var got := await _drain(t, s, 3)
	t.eq(got, ["a", "b", "c"], "the batch went out when the peer was freed")


## Reads text packets from `s` until `n` came or it closed.
func _drain(t, s: RustWebSocketPeer, n: int) -> Array:
	var got := []
	await t.until(func():
		while s.get_available_packet_count() > 0:
			got.append(s.get_packet().get_string_from_utf8())
		return got.size() >= n or s.get_ready_state() == RustWebSocketPeer.STATE_CLOSED, [s], "%d messages" % n)
	return got


func test_multiplayer_peers_in_a_worker(t) -> void:
	var th := Thread.new()
	th.start(func():
		var probe := TCPServer.new()
		probe.listen(0, "127.0.0.1")
		var port := probe.get_local_port()
		probe.stop()
		var server := RustWebSocketMultiplayerPeer.new()
		var client := RustWebSocketMultiplayerPeer.new()
		if server.create_server(port, "127.0.0.1") != OK or client.create_client("ws://127.0.0.1:%d" % port) != OK:
			return "could not start"
		if not _spin(func(): return client.get_connection_status() == MultiplayerPeer.CONNECTION_CONNECTED, [server, client]):
			return "never connected"
		client.set_target_peer(1)
		client.put_packet("from the worker".to_utf8_buffer())
		if not _spin(func(): return server.get_available_packet_count() > 0, [server, client]):
			return "no packet"
		var text := server.get_packet().get_string_from_utf8()
		server.close()
		client.close()
		return text)
	t.eq(th.wait_to_finish(), "from the worker", "a packet through RustWebSocketMultiplayerPeer in a worker")


func test_many_peers_made_and_freed_in_workers(t) -> void:
	# Objects created and dropped on other threads, while the main thread
	# keeps running frames: no leak of work, no crash.
	var workers := []
	for i in 4:
		var th := Thread.new()
		th.start(func():
			var opened := 0
			for k in 10:
				var pair := _pair("RustWebSocketPeer")
				if pair.size() == 2:
					opened += 1
			return opened)
		workers.append(th)
	for k in 5:
		await t.process_frame
	for th in workers:
		t.eq(th.wait_to_finish(), 10, "ten pairs opened and freed in the worker")
