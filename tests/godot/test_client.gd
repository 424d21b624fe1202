## RustWebSocketClient, the node with signals that reconnects: its signals
## in order against the engine's WebSocketPeer as the server; a reconnect
## after the server restarts, with what was sent meanwhile delivered once;
## the backoff's waits; a server that refuses every attempt (403) does not
## make it spin; the outbox's limit and what it drops; 1012 brings it back,
## and a message sent while it is answered waits for the next link;
## a server that drops every link at once gets ever longer waits; a node
## retrying says a failure once (and again when it gives up); autoconnect, manual polling and
## polling from a thread.
extends RefCounted

const U := preload("ws_util.gd")


## A server on 127.0.0.1: the engine's WebSocketPeer (or ours, refusing
## every request with 403) on each connection.
class Server:
	var tcp: TCPServer
	var peers: Array = []
	var port := 0
	var refuse := false
	var refused := 0
	## Server TLS options: wss:// (the engine's StreamPeerTLS).
	var tls: TLSOptions = null

	func start(at := 0) -> bool:
		tcp = TCPServer.new()
		var ok := tcp.listen(at, "127.0.0.1") == OK
		port = tcp.get_local_port()
		return ok

	## Gone at once, as a server that crashed: its sockets close.
	func kill() -> void:
		peers.clear()
		tcp.stop()

	func poll() -> void:
		while tcp.is_listening() and tcp.is_connection_available():
			var p
			if refuse:
				p = RustWebSocketPeer.new()
				p.hold_upgrade = true
			else:
				p = WebSocketPeer.new()
			var stream: StreamPeer = tcp.take_connection()
			if tls:
				var secure := StreamPeerTLS.new()
				secure.accept_stream(stream, tls)
				stream = secure
			p.accept_stream(stream)
			peers.append(p)
		for p in peers:
			p.poll()
			if refuse and p.is_upgrade_waiting():
				p.refuse_upgrade(403, "go away")
				refused += 1

	func open() -> Array:
		return peers.filter(func(p): return p.get_ready_state() == WebSocketPeer.STATE_OPEN)

	## Every text message the open peers got, in order.
	func received(into: Array) -> void:
		for p in peers:
			while p.get_available_packet_count() > 0:
				into.append(p.get_packet().get_string_from_utf8())


## A client node in the tree, quick to reconnect, with every signal noted
## in its "events" meta as [name, args..., msec].
func _client(t, url := "") -> RustWebSocketClient:
	var c := RustWebSocketClient.new()
	c.autoconnect = false
	c.url = url
	c.reconnect_delay_min = 0.1
	c.reconnect_delay_max = 0.4
	c.reconnect_jitter = 0.0
	var events := []
	c.set_meta("events", events)
	c.connected.connect(func(): events.append(["connected", Time.get_ticks_msec()]))
	c.message_received.connect(func(m): events.append(["message", m, Time.get_ticks_msec()]))
	c.closed.connect(func(code, reason): events.append(["closed", code, reason, Time.get_ticks_msec()]))
	c.reconnecting.connect(func(a, d): events.append(["reconnecting", a, d, Time.get_ticks_msec()]))
	c.messages_dropped.connect(func(n): events.append(["dropped", n, Time.get_ticks_msec()]))
	t.root.add_child(c)
	return c


func _events(c: Node, name := "") -> Array:
	var all: Array = c.get_meta("events")
	return all if name == "" else all.filter(func(e): return e[0] == name)


func _names(c: Node) -> Array:
	return _events(c).map(func(e): return e[0])


## Waits until client `c` and the server both have the link open.
func _opened(t, c: Node, srv: Server) -> bool:
	return await t.until(func(): return srv.open().size() == 1 and _names(c).has("connected"), [srv], "open")


## A server started here and a client of it, connected and open; null
## (and a failed check) when it did not open.
func _open_pair(t, srv: Server) -> RustWebSocketClient:
	srv.start()
	var c := _client(t, "ws://127.0.0.1:%d/" % srv.port)
	c.connect_to_url()
	return c if await _opened(t, c, srv) else null


## Frames for `seconds`, polling `peers` as until() does.
func _wait(t, seconds: float, peers: Array) -> void:
	var end := Time.get_ticks_msec() + int(seconds * 1000.0)
	await t.until(func(): return Time.get_ticks_msec() >= end, peers, "time to pass", seconds + 5.0)


func test_signals_in_order_and_a_server_close_stays_closed(t) -> void:
	var srv := Server.new()
	srv.start()
	var c := _client(t, "ws://127.0.0.1:%d/room" % srv.port)
	t.eq(c.connect_to_url(), OK, "connect_to_url with the url property")
	if not await _opened(t, c, srv):
		return
	t.eq(c.get_ready_state(), WebSocketPeer.STATE_OPEN, "STATE_OPEN")
	var s: WebSocketPeer = srv.open()[0]
	s.send_text("hello")
	s.put_packet(PackedByteArray([1, 2]))
	s.close(1000, "bye")
	await t.until(func(): return _names(c).has("closed"), [srv], "closed")
	await _wait(t, 0.5, [srv])
	t.eq(_names(c), ["connected", "message", "message", "closed"], "signals in order, and no reconnect")
	var ev := _events(c)
	if ev.size() == 4:
		t.eq(typeof(ev[1][1]), TYPE_STRING, "a text message comes as a String")
		t.eq(ev[1][1], "hello", "its text")
		t.eq(typeof(ev[2][1]), TYPE_PACKED_BYTE_ARRAY, "a binary message as a PackedByteArray")
		t.eq(ev[2][1], PackedByteArray([1, 2]), "its bytes")
		t.eq(ev[3].slice(1, 3), [1000, "bye"], "closed with the server's code and reason")
	t.check(not c.is_reconnecting(), "a close the server asked for is not retried")
	c.queue_free()


func test_reconnects_after_the_server_restarts_and_delivers_once(t) -> void:
	var srv := Server.new()
	var c := await _open_pair(t, srv)
	if c == null:
		return
	var got := []
	t.eq(c.send_text("before"), OK, "send while open")
	await t.until(func():
		srv.received(got)
		return got.size() >= 1, [srv], "the first message")
	srv.kill()
	if not await t.until(func(): return _names(c).has("reconnecting"), [srv], "a reconnect planned"):
		return
	var closed: Array = _events(c, "closed")[0]
	t.eq(closed[1], -1, "the crash reads as close code -1")
	t.check(closed[2] != "", "with why: " + str(closed[2]))
	t.eq(_events(c, "reconnecting")[0].slice(1, 3), [1, 0.1], "first attempt after reconnect_delay_min")
	t.eq(c.send_text("while down"), OK, "a message sent while down waits")
	t.eq(c.get_queued_message_count(), 1, "one waiting")
	await _wait(t, 0.4, [srv])
	t.check(_events(c, "reconnecting").size() >= 2, "attempts go on while the server is down")
	t.check(srv.start(srv.port), "the server is back on its port")
	if not await t.until(func(): return _events(c, "connected").size() == 2, [srv], "connected again", 10.0):
		return
	t.eq(c.get_reconnect_attempt(), 0, "the count starts again once open")
	t.eq(c.get_queued_message_count(), 0, "the waiting message went out")
	srv.open()[0].send_text("welcome back")
	await t.until(func():
		srv.received(got)
		return got.size() >= 2 and _events(c, "message").size() >= 1, [srv], "both ways again")
	await _wait(t, 0.3, [srv])
	srv.received(got)
	t.eq(got, ["before", "while down"], "each message reached the server once")
	t.eq(_events(c, "message").map(func(e): return e[1]), ["welcome back"], "and the client got the server's once")
	var attempts: Array = _events(c, "reconnecting").map(func(e): return e[1])
	t.eq(attempts, range(1, attempts.size() + 1), "attempts counted 1, 2, 3...")
	c.queue_free()


## What could never go out (more than the link's outbound_buffer_size,
## text that is not UTF-8) is refused while the link is down, with why,
## instead of waiting at the head of the queue and holding back every
## message after it; those go out once the link opens.
func test_a_message_that_could_never_go_out_is_refused_while_down(t) -> void:
	var srv := Server.new()
	var c := await _open_pair(t, srv)
	if c == null:
		return
	srv.kill()
	if not await t.until(func(): return _names(c).has("reconnecting"), [srv], "a reconnect planned"):
		return
	var big := PackedByteArray()
	big.resize(c.get_peer().outbound_buffer_size + 1)
	t.check(c.send(big) != OK, "more than outbound_buffer_size: refused at once")
	t.check_logged("outbound_buffer_size")
	t.check(c.send(PackedByteArray([0xff]), RustWebSocketPeer.WRITE_MODE_TEXT) != OK, "text that is not UTF-8: refused at once")
	t.check_logged("UTF-8")
	t.eq(c.send_text("after them"), OK, "a message that fits waits")
	t.eq(c.get_queued_message_count(), 1, "only it waits")
	t.check(srv.start(srv.port), "the server is back on its port")
	if not await t.until(func(): return _events(c, "connected").size() == 2, [srv], "connected again", 10.0):
		return
	var got := []
	await t.until(func():
		srv.received(got)
		return got.size() >= 1, [srv], "the waiting message")
	t.eq(got, ["after them"], "it went out on the new link")
	t.eq(c.get_queued_message_count(), 0, "nothing waits")
	c.queue_free()


func test_backoff_doubles_up_to_the_max_and_stops_after_max_attempts(t) -> void:
	var c := _client(t, "ws://127.0.0.1:%d/" % U.free_port())
	c.reconnect_max_attempts = 5
	c.connect_to_url()
	if not await t.until(func(): return _events(c, "closed").size() == 6 and not c.is_reconnecting(), [], "the first attempt and five more", 15.0):
		return
	await _wait(t, 0.6, [])
	var tries := _events(c, "reconnecting")
	t.eq(tries.map(func(e): return e[2]), [0.1, 0.2, 0.4, 0.4, 0.4], "waits double up to reconnect_delay_max")
	var closes := _events(c, "closed")
	t.eq(closes.size(), 6, "nothing after the last attempt")
	t.eq(_names(c).back(), "closed", "closed is the last signal")
	for i in tries.size():
		# Each attempt starts once its wait is over, and ends after that.
		var waited: int = closes[i + 1][3] - tries[i][3]
		t.check(waited >= int(tries[i][2] * 1000.0) - 1, "attempt %d came after %d ms, not before its %.1f s" % [i + 1, waited, tries[i][2]])
	t.eq(c.get_peer().get_failure(), RustWebSocketPeer.FAILURE_REFUSED, "the peer says why")
	c.queue_free()

	var jittered := _client(t, "ws://127.0.0.1:%d/" % U.free_port())
	jittered.reconnect_jitter = 0.5
	jittered.reconnect_max_attempts = 3
	jittered.connect_to_url()
	await t.until(func(): return _events(jittered, "reconnecting").size() == 3, [], "three attempts", 10.0)
	var bases := [0.1, 0.2, 0.4]
	var waits: Array = _events(jittered, "reconnecting").map(func(e): return e[2])
	for i in waits.size():
		t.check(waits[i] >= bases[i] * 0.5 and waits[i] <= bases[i], "jittered wait %.3f within [%.2f, %.2f]" % [waits[i], bases[i] * 0.5, bases[i]])
	jittered.queue_free()


func test_a_server_that_refuses_forever_does_not_make_it_spin(t) -> void:
	var srv := Server.new()
	srv.refuse = true
	srv.start()
	var c := _client(t, "ws://127.0.0.1:%d/" % srv.port)
	c.reconnect_delay_min = 0.05
	c.reconnect_delay_max = 0.2
	c.connect_to_url()
	await _wait(t, 1.2, [srv])
	var attempts := _events(c, "closed").size()
	# Waits of 0.05, 0.1, then 0.2 s: about seven attempts in 1.2 s.
	t.check(attempts >= 3 and attempts <= 9, "%d attempts in 1.2 s" % attempts)
	t.eq(srv.refused, attempts, "each attempt reached the server and was refused once")
	t.eq(c.get_peer().get_failure_http_status(), 403, "the client reads 403")
	t.check(str(_events(c, "closed")[0][2]).contains("403"), "closed says 403: " + str(_events(c, "closed")[0][2]))
	c.close()
	t.check(not c.is_reconnecting(), "close() stops reconnecting")
	var before := _events(c).size()
	await _wait(t, 0.5, [srv])
	t.eq(_events(c).size(), before, "no signal after close()")
	c.queue_free()


func test_the_outbox_limit_and_what_it_drops(t) -> void:
	var fresh := _client(t)
	t.eq(fresh.send_text("nobody"), FAILED, "sending with no link and none coming fails")
	t.check_logged("not connected")
	fresh.queue_free()

	var c := _client(t, "ws://127.0.0.1:%d/" % U.free_port())
	c.queue_limit = 2
	c.reconnect_delay_min = 5.0
	c.connect_to_url()
	await t.until(func(): return c.is_reconnecting(), [], "waiting to reconnect")
	t.eq(c.send_text("one"), OK, "first kept")
	t.eq(c.send(PackedByteArray([2])), OK, "second kept")
	t.eq(c.send_text("three"), ERR_OUT_OF_MEMORY, "third refused")
	t.check_logged("queue_limit")
	await t.process_frame
	await t.process_frame
	t.eq(_events(c, "dropped").map(func(e): return e[1]), [1], "the refused one is reported")
	c.close()
	await t.process_frame
	await t.process_frame
	t.eq(_events(c, "dropped").map(func(e): return e[1]), [1, 2], "close() drops the two waiting, and says so")
	t.eq(c.get_queued_message_count(), 0, "nothing waits")
	c.queue_free()


func test_a_server_restarting_with_1012_is_rejoined(t) -> void:
	var srv := Server.new()
	var c := await _open_pair(t, srv)
	if c == null:
		return
	srv.open()[0].close(1012, "restarting")
	if not await t.until(func(): return _events(c, "connected").size() == 2, [srv], "back after 1012", 10.0):
		return
	t.eq(_events(c, "closed")[0].slice(1, 3), [1012, "restarting"], "closed with 1012")
	t.eq(_events(c, "reconnecting").size(), 1, "one attempt was enough")
	c.close(1000, "done")
	await t.until(func(): return _events(c, "closed").size() == 2, [srv], "our close answered")
	await _wait(t, 0.3, [srv])
	t.eq(_events(c, "reconnecting").size(), 1, "our own close is not retried")
	c.queue_free()


## A message sent while the client answers the server's 1012 (the link is
## closing, its end not seen yet) waits for the next link and arrives
## there once, instead of failing; after a plain 1000 no attempt comes,
## and a message sent while closing fails.
func test_a_message_sent_while_a_1012_is_answered_waits_for_the_next_link(t) -> void:
	var srv := Server.new()
	var c := await _open_pair(t, srv)
	if c == null:
		return
	var old: WebSocketPeer = srv.open()[0]
	old.close(1012, "restarting")
	old.poll()
	# The server is not polled now: the client has the close frame and
	# waits for the server to end the connection.
	if not await t.until(func(): return c.get_ready_state() == RustWebSocketPeer.STATE_CLOSING, [], "the client closing", 5.0):
		return
	t.eq(c.send_text("while closing"), OK, "sent while the 1012 is answered")
	t.eq(c.get_queued_message_count(), 1, "it waits for the next link")
	if not await t.until(func(): return _events(c, "connected").size() == 2, [srv], "back after 1012", 10.0):
		return
	var got := []
	await t.until(func():
		srv.received(got)
		return got.has("while closing"), [srv], "the message on the next link")
	await _wait(t, 0.2, [srv])
	srv.received(got)
	t.eq(got, ["while closing"], "arrived once")
	t.eq(c.get_queued_message_count(), 0, "nothing waits")
	var newer: WebSocketPeer = srv.open()[0]
	newer.close(1000, "bye")
	newer.poll()
	if not await t.until(func(): return c.get_ready_state() == RustWebSocketPeer.STATE_CLOSING, [], "the client closing again", 5.0):
		return
	t.eq(c.send_text("after 1000"), FAILED, "no attempt follows a 1000: sending fails")
	t.check_logged("no attempt is coming")
	c.queue_free()


func test_a_server_that_drops_each_link_at_once_gets_ever_longer_waits(t) -> void:
	var srv := Server.new()
	srv.start()
	var c := _client(t, "ws://127.0.0.1:%d/" % srv.port)
	c.reconnect_delay_min = 0.05
	c.reconnect_delay_max = 0.4
	c.connect_to_url()
	# Each link is closed with 1012 as soon as it opens.
	var kick := func() -> bool:
		for p in srv.open():
			p.close(1012, "restarting")
		return _events(c, "reconnecting").size() >= 5
	if not await t.until(kick, [srv], "five reconnects", 10.0):
		return
	var tries := _events(c, "reconnecting").slice(0, 5)
	t.eq(_events(c, "connected").size(), 5, "each attempt opened")
	t.eq(tries.map(func(e): return e[1]), [1, 2, 3, 4, 5], "a link that dropped at once counts as another attempt in a row")
	t.eq(tries.map(func(e): return e[2]), [0.05, 0.1, 0.2, 0.4, 0.4], "so the waits grow up to reconnect_delay_max")
	c.queue_free()


## Each retry of the same failure is quiet (the reason is on `closed`): the
## failure is printed when it first happens and when the node gives up,
## not once per attempt.
func test_a_reconnecting_node_prints_a_failure_once_and_when_it_gives_up(t) -> void:
	var port := U.free_port()
	var c := _client(t, "ws://127.0.0.1:%d/" % port)
	c.reconnect_max_attempts = 3
	c.connect_to_url()
	await t.until(func(): return _events(c, "closed").size() == 4 and not c.is_reconnecting(), [], "the first attempt and three more", 10.0)
	var lines := Array(t.errors_printed()).filter(func(l): return l.contains(":%d" % port))
	t.eq(lines.size(), 2, "two error lines for four attempts (the first failure, and giving up): %s" % [lines])
	t.check(_events(c, "closed").all(func(e): return str(e[2]) != ""), "each closed says why")
	c.queue_free()


func test_autoconnect_manual_polling_and_a_thread(t) -> void:
	var srv := Server.new()
	srv.start()
	var url := "ws://127.0.0.1:%d/" % srv.port
	var auto := RustWebSocketClient.new()
	t.check(auto.autoconnect, "autoconnect is on by default")
	auto.url = url
	var opened := [false]
	auto.connected.connect(func(): opened[0] = true)
	t.root.add_child(auto)
	await t.until(func(): return opened[0], [srv], "autoconnect on entering the tree")
	auto.queue_free()

	var manual := _client(t, url)
	manual.poll_mode = RustWebSocketClient.POLL_MANUAL
	manual.connect_to_url()
	await _wait(t, 0.3, [srv])
	t.eq(manual.get_ready_state(), WebSocketPeer.STATE_CONNECTING, "POLL_MANUAL: nothing happens without poll()")
	await t.until(func(): return _names(manual).has("connected"), [srv, manual], "open once polled")
	manual.close()

	# Off the tree, a thread of the game's may poll it (Godot refuses calls
	# from other threads into a node in the tree).
	var threaded := _client(t, url)
	t.root.remove_child(threaded)
	threaded.poll_mode = RustWebSocketClient.POLL_MANUAL
	var stop := [false]
	var thread := Thread.new()
	# The signals append to the events from the thread: read them under
	# the same lock.
	var lock := Mutex.new()
	var seen := func(name: String) -> int:
		lock.lock()
		var n := _events(threaded, name).size()
		lock.unlock()
		return n
	threaded.connect_to_url()
	thread.start(func():
		while not stop[0]:
			lock.lock()
			threaded.poll()
			lock.unlock()
			OS.delay_msec(1))
	await t.until(func(): return seen.call("connected") == 1 and srv.peers.back().get_ready_state() == WebSocketPeer.STATE_OPEN, [srv], "the thread's client open")
	srv.peers.back().send_text("to the thread")
	await t.until(func(): return seen.call("message") == 1, [srv], "a message through the thread's poll")
	stop[0] = true
	thread.wait_to_finish()
	t.eq(_names(threaded), ["connected", "message"], "signals from the thread, in order")
	threaded.free()

	# In the tree, on a thread of its own: the node's process runs there.
	var grouped := RustWebSocketClient.new()
	grouped.autoconnect = false
	grouped.process_thread_group = Node.PROCESS_THREAD_GROUP_SUB_THREAD
	var thread_ids := []
	grouped.connected.connect(func(): thread_ids.append(OS.get_thread_caller_id()))
	t.root.add_child(grouped)
	t.eq(grouped.connect_to_url(url), OK, "connect_to_url")
	await t.until(func(): return thread_ids.size() == 1, [srv], "connected on the node's own thread")
	t.check(thread_ids.size() == 1 and thread_ids[0] != OS.get_main_thread_id(), "the signal came from the node's thread")
	grouped.queue_free()
	manual.queue_free()


func test_inspector_settings_defaults_and_a_saved_scene(t) -> void:
	var defaults := {"url": "", "autoconnect": true, "poll_mode": RustWebSocketClient.POLL_PROCESS, "tls_verify": true,
		"reconnect_enabled": true, "reconnect_delay_min": 0.5, "reconnect_delay_max": 30.0, "reconnect_jitter": 0.5,
		"reconnect_max_attempts": 0, "queue_limit": 64}
	for name in defaults:
		t.eq(ClassDB.class_get_property_default_value("RustWebSocketClient", name), defaults[name], "default of " + name + " as the editor reads it")
	var c := RustWebSocketClient.new()
	c.url = "wss://game.example/play"
	c.autoconnect = false
	c.reconnect_delay_max = 7.5
	c.queue_limit = 3
	c.tls_verify = false
	c.poll_mode = RustWebSocketClient.POLL_PHYSICS
	c.supported_protocols = PackedStringArray(["chat"])
	var root := Node.new()
	root.add_child(c)
	c.owner = root
	var packed := PackedScene.new()
	t.eq(packed.pack(root), OK, "the scene packs")
	var copy: Node = packed.instantiate()
	var loaded = copy.get_child(0)
	t.eq(loaded.get_class(), "RustWebSocketClient", "the node comes back")
	t.eq([loaded.url, loaded.autoconnect, loaded.reconnect_delay_max, loaded.queue_limit, loaded.tls_verify, loaded.poll_mode, loaded.supported_protocols],
		["wss://game.example/play", false, 7.5, 3, false, RustWebSocketClient.POLL_PHYSICS, PackedStringArray(["chat"])], "with its settings")
	copy.free()
	root.free()


func test_connecting_again_from_closed_replaces_the_planned_attempt(t) -> void:
	var srv := Server.new()
	srv.start()
	var c := _client(t, "ws://127.0.0.1:%d/" % srv.port)
	c.reconnect_delay_min = 5.0
	c.closed.connect(func(_code, _reason):
		if _events(c, "closed").size() == 1:
			c.connect_to_url())
	c.connect_to_url()
	if not await _opened(t, c, srv):
		return
	# The server restarts at once; the game connects again itself.
	srv.kill()
	srv.start(srv.port)
	await t.until(func(): return _events(c, "connected").size() == 2, [srv], "connected again by the game", 10.0)
	t.eq(_events(c, "reconnecting"), [], "no attempt of its own was announced")
	t.check(not c.is_reconnecting(), "none is planned")
	c.queue_free()


func test_tls_settings_and_physics_polling(t) -> void:
	var files := U.tls_files(t)
	if files.is_empty():
		return
	var srv := Server.new()
	srv.tls = TLSOptions.server(files[1], files[0])
	srv.start()
	var url := "wss://127.0.0.1:%d/" % srv.port
	var ended := func(c): return _names(c).has("closed")
	var opened := func(c): return _names(c).has("connected")
	# The test certificate is self-signed: the usual trust refuses it.
	var usual := _client(t, url)
	usual.reconnect_enabled = false
	usual.connect_to_url()
	await t.until(ended.bind(usual), [srv], "the usual trust to refuse")
	t.eq(usual.get_peer().get_failure(), RustWebSocketPeer.FAILURE_TLS_UNKNOWN_ISSUER, "refused as an unknown issuer")
	var trusted := _client(t, url)
	trusted.tls_trusted_chain = files[0]
	trusted.poll_mode = RustWebSocketClient.POLL_PHYSICS
	trusted.connect_to_url()
	await t.until(opened.bind(trusted), [srv], "open with tls_trusted_chain, polled in physics")
	var wrong_name := _client(t, url)
	wrong_name.reconnect_enabled = false
	wrong_name.tls_trusted_chain = files[0]
	wrong_name.tls_common_name_override = "elsewhere.example"
	wrong_name.connect_to_url()
	await t.until(ended.bind(wrong_name), [srv], "a wrong tls_common_name_override to fail")
	t.eq(wrong_name.get_peer().get_failure(), RustWebSocketPeer.FAILURE_TLS_WRONG_HOST, "refused for the name")
	var unchecked := _client(t, url)
	unchecked.tls_verify = false
	unchecked.connect_to_url()
	await t.until(opened.bind(unchecked), [srv], "open with tls_verify off")
	for c in [usual, trusted, wrong_name, unchecked]:
		c.queue_free()
