## A game calling back into our objects while they report or emit: a
## Logger (Godot 4.5+, OS.add_logger) that reads the object whose error it
## receives, or the multiplayer server, synchronously from inside the
## report (nothing of ours may be locked or bound then); get_peer() inside
## peer_disconnected; the client node's handlers that turn reconnecting
## off, close, connect elsewhere or free the node (or its parent); and what
## worked from signals before (nested poll, close, queue_free, held upgrade
## decisions, SceneMultiplayer peer swaps). Each beside the engine's class
## where it has the behaviour.
extends RefCounted

const U := preload("ws_util.gd")

## A Logger that calls `probe` for every error or warning it receives, and
## keeps what it returned (null when the call failed). Compiled at run time:
## the class does not exist before Godot 4.5.
const LOGGER_SOURCE := """extends Logger
var probe: Callable
var seen := []
var inside := false

func _log_error(_function: String, _file: String, _line: int, _code: String, _rationale: String, _editor_notify: bool, _error_type: int, _script_backtraces: Array[ScriptBacktrace]) -> void:
	if inside or not probe.is_valid():
		return
	inside = true
	seen.append(probe.call())
	inside = false

func _log_message(_message: String, _error: bool) -> void:
	pass
"""


## A Logger calling `probe`, installed; null (with a message saying the test
## is skipped) on a Godot without the Logger class.
func _logger(t, probe: Callable) -> Object:
	if not ClassDB.class_exists("Logger"):
		print("  skipped: this Godot has no Logger class (it came in 4.5)")
		return null
	var script := GDScript.new()
	script.source_code = LOGGER_SOURCE
	if not t.eq(script.reload(), OK, "the Logger script compiles"):
		return null
	var logger = script.new()
	logger.probe = probe
	OS.call("add_logger", logger)
	return logger


func _remove(logger: Object) -> void:
	if logger != null:
		OS.call("remove_logger", logger)


## Every call the Logger made worked and returned `expected`, and it made some.
func _all_seen(t, logger: Object, expected, what: String) -> void:
	var seen: Array = logger.seen
	t.check(not seen.is_empty(), what + ": the Logger received the report")
	t.check(seen.all(func(v): return typeof(v) == typeof(expected) and v == expected), what + ": each call from the Logger answered %s: %s" % [expected, seen])
	t.check(not t.logged("already bound") and not t.logged("while printing an error"), what + ": no failed bind inside the Logger")


## A multiplayer server of `cls` on a free port, and an engine WebSocketPeer
## joined to it (peer_connected seen); [server, client, id] or [] on failure.
func _server_and_client(t, cls, driver = null, inbound := 0) -> Array:
	var server = cls.new()
	if inbound > 0:
		server.inbound_buffer_size = inbound
	var port := U.free_port()
	if not t.eq(server.create_server(port, "127.0.0.1"), OK, "create_server"):
		return []
	var joined := []
	server.peer_connected.connect(func(id): joined.append(id))
	var client := WebSocketPeer.new()
	client.connect_to_url("ws://127.0.0.1:%d/" % port)
	var poller = driver if driver != null else server
	if not await t.until(func(): return not joined.is_empty() and client.get_ready_state() == WebSocketPeer.STATE_OPEN, [poller, client], "a client joined"):
		return []
	return [server, client, joined[0]]


func test_logger_reads_the_multiplayer_server_while_a_client_drops(t) -> void:
	for cls in [RustWebSocketMultiplayerPeer, WebSocketMultiplayerPeer]:
		for through_scene in [false, true]:
			var label := "%s%s" % [cls.new().get_class(), " in SceneMultiplayer" if through_scene else ""]
			var scene := SceneMultiplayer.new()
			var server = cls.new()
			var pair := []
			var logger: Object
			if through_scene:
				# The Logger asks the high-level API, which asks the peer.
				logger = _logger(t, func(): return scene.get_unique_id())
			else:
				logger = _logger(t, func(): return pair[0].get_unique_id() if not pair.is_empty() else 1)
			if logger == null:
				return
			var driver = scene if through_scene else null
			if through_scene:
				var port := U.free_port()
				t.eq(server.create_server(port, "127.0.0.1"), OK, label + ": create_server")
				scene.multiplayer_peer = server
				var client := WebSocketPeer.new()
				client.connect_to_url("ws://127.0.0.1:%d/" % port)
				var ids := []
				scene.peer_connected.connect(func(id): ids.append(id))
				if await t.until(func(): return not ids.is_empty(), [scene, client], label + ": a client joined"):
					pair.append_array([server, client, ids[0]])
			else:
				pair.append_array(await _server_and_client(t, cls))
			if pair.is_empty():
				_remove(logger)
				return
			var left := []
			(scene if through_scene else pair[0]).peer_disconnected.connect(func(id): left.append(id))
			# Gone without a close frame: the server reports the lost link.
			pair[1].close(-1)
			await t.until(func(): return not left.is_empty(), [scene if through_scene else pair[0]], label + ": peer_disconnected")
			_remove(logger)
			t.eq(left, [pair[2]], label + ": the client that dropped left")
			if cls == RustWebSocketMultiplayerPeer:
				_all_seen(t, logger, 1, label)
			if through_scene:
				scene.multiplayer_peer = null
			server.close()


func test_logger_reads_the_server_on_a_kick_then_broadcast_and_an_oversized_message(t) -> void:
	for cls in [RustWebSocketMultiplayerPeer, WebSocketMultiplayerPeer]:
		var label: String = cls.new().get_class()
		var pair := []
		var logger := _logger(t, func(): return pair[0].get_unique_id() if not pair.is_empty() else 1)
		if logger == null:
			return
		pair.append_array(await _server_and_client(t, cls))
		if pair.is_empty():
			_remove(logger)
			return
		var server = pair[0]
		# A kick and a broadcast in one frame: the broadcast cannot reach
		# the closing link.
		server.disconnect_peer(pair[2])
		server.set_target_peer(0)
		server.put_packet("to all".to_utf8_buffer())
		await t.until(func(): return pair[1].get_ready_state() == WebSocketPeer.STATE_CLOSED, [server, pair[1]], label + ": the kicked client closed")
		server.close()
		# A message over the server's inbound_buffer_size.
		pair.clear()
		pair.append_array(await _server_and_client(t, cls, null, 256))
		if pair.is_empty():
			_remove(logger)
			return
		var big := PackedByteArray()
		big.resize(1000)
		pair[1].put_packet(big)
		await t.until(func(): return pair[1].get_ready_state() == WebSocketPeer.STATE_CLOSED, [pair[0], pair[1]], label + ": the link of the oversized message ended")
		_remove(logger)
		pair[0].close()
		if cls == RustWebSocketMultiplayerPeer:
			_all_seen(t, logger, 1, label)


func test_logger_reads_the_object_whose_error_it_receives(t) -> void:
	# Each case: [the object, what the Logger reads, what that is, the call
	# that reports an error]. The engine's classes beside ours.
	var cases := []
	for cls in [RustWebSocketPeer, WebSocketPeer]:
		var p = cls.new()
		p.inbound_buffer_size = 12345
		cases.append([p, func(): return p.inbound_buffer_size, 12345, func(): p.connect_to_url("not a url")])
	var refused := RustWebSocketPeer.new()
	cases.append([refused, func(): return refused.compression_window_bits, 15, func(): refused.compression_window_bits = 99])
	var taken := TCPServer.new()
	taken.listen(0, "127.0.0.1")
	for cls in [RustWebSocketMultiplayerPeer, WebSocketMultiplayerPeer]:
		var mp = cls.new()
		mp.handshake_timeout = 2.5
		cases.append([mp, func(): return mp.handshake_timeout, 2.5, func(): mp.create_server(taken.get_local_port(), "127.0.0.1")])
	var node := RustWebSocketClient.new()
	node.autoconnect = false
	node.url = "ws://127.0.0.1:%d/" % U.free_port()
	cases.append([node, func(): return node.url, node.url, func(): node.send_text("nobody listens")])
	var node2 := RustWebSocketClient.new()
	node2.autoconnect = false
	cases.append([node2, func(): return node2.url, "not a url", func(): node2.connect_to_url("not a url")])
	for c in cases:
		var label: String = "%s, %s" % [c[0].get_class(), c[3]]
		var logger := _logger(t, c[1])
		if logger == null:
			break
		c[3].call()
		_remove(logger)
		if c[0].get_class().begins_with("Rust"):
			_all_seen(t, logger, c[2], label)
		else:
			# The engine's class: whatever it printed, the Logger's reads worked.
			t.check(logger.seen.all(func(v): return v == c[2]), label + ": the engine's class: " + str(logger.seen))
	taken.stop()
	node.free()
	node2.free()


func test_get_peer_inside_peer_disconnected_is_the_closed_peer(t) -> void:
	for cls in [RustWebSocketMultiplayerPeer, WebSocketMultiplayerPeer]:
		var label: String = cls.new().get_class()
		var pair := await _server_and_client(t, cls)
		if pair.is_empty():
			return
		var server = pair[0]
		var inside := []
		var note := func(id: int) -> void:
			var p = server.get_peer(id)
			inside.append([p != null, p.get_close_code() if p else 0, p.get_close_reason() if p else "", p.get_ready_state() if p else -1])
		server.peer_disconnected.connect(note)
		pair[1].close(1000, "had enough")
		await t.until(func(): return not inside.is_empty(), [server, pair[1]], label + ": peer_disconnected")
		t.eq(inside, [[true, 1000, "had enough", WebSocketPeer.STATE_CLOSED]], label + ": get_peer inside peer_disconnected: the closed peer, its code and reason")
		t.check(server.get_peer(pair[2]) == null, label + ": gone after the signal")
		server.peer_disconnected.disconnect(note)
		server.close()


## A client node in the tree with quick retries, every signal noted.
func _client(t, url: String) -> RustWebSocketClient:
	var c := RustWebSocketClient.new()
	c.autoconnect = false
	c.url = url
	c.reconnect_delay_min = 0.1
	c.reconnect_delay_max = 0.1
	c.reconnect_jitter = 0.0
	var events := []
	c.set_meta("events", events)
	c.connected.connect(func(): events.append("connected"))
	c.message_received.connect(func(m): events.append(["message", m]))
	c.closed.connect(func(_code, _reason): events.append("closed"))
	c.reconnecting.connect(func(_a, _d): events.append("reconnecting"))
	t.root.add_child(c)
	return c


func _frames(t, seconds: float, peers: Array = []) -> void:
	var end := Time.get_ticks_msec() + int(seconds * 1000.0)
	await t.until(func(): return Time.get_ticks_msec() >= end, peers, "time to pass", seconds + 5.0)


func test_reconnect_off_or_close_from_a_signal_cancels_the_planned_attempt(t) -> void:
	for signal_name in ["closed", "reconnecting"]:
		for how in ["reconnect_enabled = false", "close()"]:
			var label := "%s in %s" % [how, signal_name]
			var c := _client(t, "ws://127.0.0.1:%d/" % U.free_port())
			var stop := func(_a = null, _b = null):
				if how == "close()":
					c.close()
				else:
					c.reconnect_enabled = false
			c.connect(signal_name, stop)
			c.connect_to_url()
			await _frames(t, 0.6)
			var events: Array = c.get_meta("events")
			t.eq(events.count("closed"), 1, label + ": no attempt after the refused one (%s)" % [events])
			t.check(not c.is_reconnecting(), label + ": none planned")
			c.queue_free()


## A server that sends `messages` as soon as a client's link is open.
class Talker:
	var tcp := TCPServer.new()
	var peers := []
	var messages: Array

	func _init(say: Array) -> void:
		messages = say
		tcp.listen(0, "127.0.0.1")

	func url() -> String:
		return "ws://127.0.0.1:%d/" % tcp.get_local_port()

	func poll() -> void:
		while tcp.is_connection_available():
			var p := WebSocketPeer.new()
			p.accept_stream(tcp.take_connection())
			peers.append([p, false])
		for entry in peers:
			entry[0].poll()
			if not entry[1] and entry[0].get_ready_state() == WebSocketPeer.STATE_OPEN:
				entry[1] = true
				for m in messages:
					entry[0].send_text(m)
				entry[0].poll()

	func open_count() -> int:
		return peers.filter(func(e): return e[1]).size()


func test_connecting_elsewhere_inside_connected_ends_the_old_links_messages(t) -> void:
	var old := Talker.new(["old 1", "old 2", "old 3"])
	var new := Talker.new(["new"])
	var c := _client(t, old.url())
	c.poll_mode = RustWebSocketClient.POLL_MANUAL
	var elsewhere := func() -> void:
		if c.url == old.url():
			c.connect_to_url(new.url())
	c.connected.connect(elsewhere)
	c.connect_to_url()
	# The client is not polled once the old server has answered: its next
	# poll sees the link open and the three messages at once.
	var until_old_open := func() -> bool:
		old.poll()
		if old.open_count() == 0:
			c.poll()
		return old.open_count() == 1
	if not await t.until(until_old_open, [], "the old server open"):
		return
	OS.delay_msec(100)
	var until_new_message := func() -> bool:
		old.poll()
		new.poll()
		c.poll()
		return (c.get_meta("events") as Array).has(["message", "new"])
	await t.until(until_new_message, [], "the new server's message")
	var messages: Array = (c.get_meta("events") as Array).filter(func(e): return e is Array)
	t.eq(messages, [["message", "new"]], "only the new link's messages")
	c.queue_free()


func test_freeing_the_node_or_its_parent_inside_its_signals(t) -> void:
	# (The node itself cannot be freed while it emits: Godot refuses it, for
	# a GDScript node too.)
	for signal_name in ["connected", "message_received", "closed", "reconnecting"]:
		for victim in ["parent", "grandparent"]:
			var label := "%s freed in %s" % [victim, signal_name]
			var talker := Talker.new(["hi"])
			var url := talker.url() if signal_name in ["connected", "message_received"] else "ws://127.0.0.1:%d/" % U.free_port()
			var grandparent := Node.new()
			t.root.add_child(grandparent)
			var parent := Node.new()
			grandparent.add_child(parent)
			var c := RustWebSocketClient.new()
			c.autoconnect = false
			c.reconnect_delay_min = 0.1
			parent.add_child(c)
			var peer_ref: WeakRef = weakref(c.get_peer())
			var node_id := c.get_instance_id()
			var fired := [false]
			var free_it := func(_a = null, _b = null) -> void:
				fired[0] = true
				if victim == "parent":
					parent.free()
				else:
					grandparent.free()
			c.connect(signal_name, free_it)
			c.connect_to_url(url)
			var until_fired := func() -> bool:
				talker.poll()
				return fired[0]
			await t.until(until_fired, [], label + ": the signal")
			await t.process_frame
			await t.process_frame
			t.check(not is_instance_id_valid(node_id), label + ": the node is gone")
			t.check(peer_ref.get_ref() == null, label + ": its peer was freed with it (no leak)")
			var bad := Array(t.errors_printed()).filter(func(l): return l.contains("bind") or l.contains("panic") or l.contains("UB"))
			t.eq(bad, [], label + ": no failed bind, panic or UB warning")
			if is_instance_valid(grandparent):
				grandparent.free()


## What worked before stays working: from each signal of the client node, a
## nested poll(), close(), connect_to_url() and queue_free().
func test_calls_from_each_signal_of_the_client_node(t) -> void:
	for signal_name in ["connected", "message_received", "closed", "reconnecting"]:
		for action in ["poll", "close", "connect_to_url", "queue_free"]:
			var label := "%s in %s" % [action, signal_name]
			var talker := Talker.new(["hi"])
			var url: String = talker.url() if signal_name in ["connected", "message_received"] else "ws://127.0.0.1:%d/" % U.free_port()
			var c := _client(t, url)
			c.reconnect_max_attempts = 2
			var done := [0]
			var act := func(_a = null, _b = null) -> void:
				done[0] += 1
				if done[0] > 1:
					return
				match action:
					"poll": c.poll()
					"close": c.close()
					"connect_to_url": c.connect_to_url()
					"queue_free": c.queue_free()
			c.connect(signal_name, act)
			var node_id := c.get_instance_id()
			c.connect_to_url()
			var until_done := func() -> bool:
				talker.poll()
				return done[0] > 0
			await t.until(until_done, [], label + ": the signal")
			await _frames(t, 0.3, [talker])
			if action == "queue_free":
				t.check(not is_instance_id_valid(node_id), label + ": the node is gone")
			elif action == "close":
				t.check(not c.is_reconnecting(), label + ": no attempt planned after close()")
			elif action == "connect_to_url":
				t.check(c.get_ready_state() != WebSocketPeer.STATE_CLOSED or c.is_reconnecting() or _count(c, "closed") >= 1, label + ": a new attempt was made")
			if is_instance_id_valid(node_id):
				c.queue_free()
	var bad := Array(t.errors_printed()).filter(func(l): return l.contains("bind") or l.contains("panic") or l.contains("UB"))
	t.eq(bad, [], "no failed bind, panic or UB warning")


func _count(c: Node, what: String) -> int:
	return (c.get_meta("events") as Array).count(what)


## From the multiplayer server's signals: a nested poll(), get_peer(),
## disconnect_peer() and close(); with hold_upgrade, accept_upgrade,
## refuse_upgrade and close() from upgrade_requested.
func test_calls_from_the_multiplayer_servers_signals(t) -> void:
	var pair := await _server_and_client(t, RustWebSocketMultiplayerPeer)
	if pair.is_empty():
		return
	var server: RustWebSocketMultiplayerPeer = pair[0]
	var seen := []
	var on_left := func(id: int) -> void:
		server.poll()
		seen.append(server.get_peer(id) != null)
		server.close()
	server.peer_disconnected.connect(on_left)
	server.disconnect_peer(pair[2])
	await t.until(func(): return not seen.is_empty(), [server, pair[1]], "peer_disconnected")
	t.eq(seen, [true], "poll, get_peer and close inside peer_disconnected")
	t.eq(server.get_connection_status(), MultiplayerPeer.CONNECTION_DISCONNECTED, "closed from the signal")
	server.peer_disconnected.disconnect(on_left)

	for decision in ["accept", "refuse", "close"]:
		var held := RustWebSocketMultiplayerPeer.new()
		held.hold_upgrade = true
		var port := U.free_port()
		held.create_server(port, "127.0.0.1")
		var joined := []
		held.peer_connected.connect(func(id): joined.append(id))
		var decide := func(id: int, _url: String, _headers: Dictionary) -> void:
			match decision:
				"accept": held.accept_upgrade(id)
				"refuse": held.refuse_upgrade(id, 403, "no")
				"close": held.close()
		held.upgrade_requested.connect(decide)
		var client := WebSocketPeer.new()
		client.connect_to_url("ws://127.0.0.1:%d/" % port)
		var expected := WebSocketPeer.STATE_OPEN if decision == "accept" else WebSocketPeer.STATE_CLOSED
		await t.until(func(): return client.get_ready_state() == expected, [held, client], decision + " from upgrade_requested", 6.0)
		t.eq(joined.size(), 1 if decision == "accept" else 0, decision + ": who joined")
		held.upgrade_requested.disconnect(decide)
		held.close()
	var bad := Array(t.errors_printed()).filter(func(l): return l.contains("bind") or l.contains("panic") or l.contains("UB"))
	t.eq(bad, [], "no failed bind, panic or UB warning")


## Issue 27, item 6: a client sends a frame with RSV2 set to the multiplayer
## server while a Logger asks the server for its id (the server reports the
## protocol error as it polls the link).
func test_logger_reads_the_server_on_a_frame_with_rsv2(t) -> void:
	for cls in [RustWebSocketMultiplayerPeer, WebSocketMultiplayerPeer]:
		var label: String = cls.new().get_class()
		var server = cls.new()
		var logger := _logger(t, func(): return server.get_unique_id())
		if logger == null:
			return
		var port := U.free_port()
		t.eq(server.create_server(port, "127.0.0.1"), OK, label + ": create_server")
		var conn := StreamPeerTCP.new()
		conn.connect_to_host("127.0.0.1", port)
		var request := "GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n" % port
		var sent := [false]
		var send_request := func() -> bool:
			conn.poll()
			if not sent[0] and conn.get_status() == StreamPeerTCP.STATUS_CONNECTED:
				conn.put_data(request.to_utf8_buffer())
				sent[0] = true
			return sent[0]
		await t.until(send_request, [server], label + ": connected")
		var head: String = await U.read_head(t, conn, [server])
		t.check(head.begins_with("HTTP/1.1 101"), label + ": upgraded")
		# FIN, RSV2, binary; masked, one byte.
		conn.put_data(PackedByteArray([0xA2, 0x81, 1, 2, 3, 4, 0x2A]))
		var left := []
		server.peer_disconnected.connect(func(id): left.append(id))
		var gone := func() -> bool:
			conn.poll()
			return conn.get_status() != StreamPeerTCP.STATUS_CONNECTED or not left.is_empty()
		await t.until(gone, [server], label + ": the link of the bad frame ended")
		_remove(logger)
		server.close()
		if cls == RustWebSocketMultiplayerPeer:
			_all_seen(t, logger, 1, label)


## SceneMultiplayer's peer swapped from inside a signal of ours: a client
## whose connected_to_server handler puts a new peer in (connecting to the
## same server), and one whose handler puts the offline peer back.
func test_scene_multiplayer_peer_swapped_inside_a_signal(t) -> void:
	var server := RustWebSocketMultiplayerPeer.new()
	var port := U.free_port()
	t.eq(server.create_server(port, "127.0.0.1"), OK, "create_server")
	var scene := SceneMultiplayer.new()
	var first := RustWebSocketMultiplayerPeer.new()
	first.create_client("ws://127.0.0.1:%d/" % port)
	scene.multiplayer_peer = first
	var second := RustWebSocketMultiplayerPeer.new()
	var joins := [0]
	var swap := func() -> void:
		joins[0] += 1
		if joins[0] == 1:
			second.create_client("ws://127.0.0.1:%d/" % port)
			scene.multiplayer_peer = second
		else:
			scene.multiplayer_peer = OfflineMultiplayerPeer.new()
	scene.connected_to_server.connect(swap)
	await t.until(func(): return joins[0] == 2, [server, scene], "connected twice, the second time through the swapped-in peer")
	t.check(scene.multiplayer_peer is OfflineMultiplayerPeer, "offline again, swapped from the second signal")
	t.eq(second.get_connection_status(), MultiplayerPeer.CONNECTION_CONNECTED, "the swapped-in peer connected")
	scene.connected_to_server.disconnect(swap)
	first.close()
	second.close()
	server.close()
	var bad := Array(t.errors_printed()).filter(func(l): return l.contains("bind") or l.contains("panic") or l.contains("UB"))
	t.eq(bad, [], "no failed bind, panic or UB warning")
