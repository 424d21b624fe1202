## Drop-in parity where the engine's behaviour reaches outside the class,
## and the reasons a game can read: each case runs the engine's class beside
## ours where it has the behaviour. (The default trust store needs a system
## bundle of our own: tests/trust.)
extends RefCounted

const U := preload("ws_util.gd")


## Polls `peers` until `peer` leaves STATE_CONNECTING and is closed.
func _until_closed(t, peer, what: String, timeout := 20.0) -> bool:
	return await t.until(func(): return peer.get_ready_state() == WebSocketPeer.STATE_CLOSED, [peer], what, timeout)


func test_a_failed_connection_says_why_and_the_engine_calls_are_unchanged(t) -> void:
	# Refused: nothing listens on the port.
	var tcp: TCPServer = U.listen(t)
	var port := tcp.get_local_port()
	tcp.stop()
	var ours := RustWebSocketPeer.new()
	var engine := WebSocketPeer.new()
	t.eq(ours.get_failure(), RustWebSocketPeer.FAILURE_NONE, "nothing failed before a connection")
	t.eq(ours.get_failure_reason(), "", "and no reason")
	for p in [ours, engine]:
		p.connect_to_url("ws://127.0.0.1:%d/" % port)
	await t.until(func(): return ours.get_ready_state() == 3 and engine.get_ready_state() == 3, [ours, engine], "both to give up")
	t.eq(ours.get_close_code(), engine.get_close_code(), "get_close_code() as the engine's class (-1)")
	t.eq(ours.get_failure(), RustWebSocketPeer.FAILURE_REFUSED, "refused")
	t.check(ours.get_failure_reason().contains("Could not connect"), "the reason: " + ours.get_failure_reason())
	t.eq(ours.get_failure_http_status(), 0, "no HTTP status")
	# A name that cannot be looked up.
	t.eq(ours.connect_to_url("ws://no-such-host.invalid/"), OK, "connect returns at once")
	t.eq(ours.get_failure(), RustWebSocketPeer.FAILURE_NONE, "a new connection clears the failure")
	await _until_closed(t, ours, "the lookup to fail")
	t.eq(ours.get_failure(), RustWebSocketPeer.FAILURE_NAME_LOOKUP, "name lookup")
	t.check(ours.get_failure_reason().contains("no-such-host.invalid"), "the reason names the host: " + ours.get_failure_reason())


func test_an_http_status_instead_of_101_is_readable(t) -> void:
	for status in ["401 Unauthorized", "403 Forbidden", "404 Not Found"]:
		var tcp: TCPServer = U.listen(t)
		var p := RustWebSocketPeer.new()
		p.connect_to_url("ws://127.0.0.1:%d/" % tcp.get_local_port())
		var conn: StreamPeerTCP = await U.expect_request(t, tcp, p, "/", {})
		conn.put_data(("HTTP/1.1 %s\r\nContent-Length: 0\r\n\r\n" % status).to_utf8_buffer())
		await _until_closed(t, p, "the refusal")
		t.eq(p.get_close_code(), -1, status + ": close code as the engine's class")
		t.eq(p.get_failure(), RustWebSocketPeer.FAILURE_HTTP_STATUS, status + ": the failure")
		t.eq(p.get_failure_http_status(), int(status.get_slice(" ", 0)), status + ": the status")
		t.check(p.get_failure_reason().contains(status), status + ": the reason quotes it: " + p.get_failure_reason())


func test_timeouts_are_settable_and_said(t) -> void:
	var p := RustWebSocketPeer.new()
	t.eq(p.connect_timeout, 10.0, "connect_timeout default")
	t.eq(p.handshake_timeout, 15.0, "handshake_timeout default")
	p.connect_timeout = 0.0
	t.eq(p.connect_timeout, 10.0, "connect_timeout 0 refused")
	t.check_logged("connect_timeout must be greater than 0")
	p.handshake_timeout = -1.0
	t.eq(p.handshake_timeout, 15.0, "a negative handshake_timeout refused")
	# A server that accepts TCP and never answers the upgrade.
	var tcp: TCPServer = U.listen(t)
	p.handshake_timeout = 0.5
	t.eq(p.handshake_timeout, 0.5, "handshake_timeout taken")
	var started := Time.get_ticks_msec()
	p.connect_to_url("ws://127.0.0.1:%d/" % tcp.get_local_port())
	await _until_closed(t, p, "the handshake timeout", 10.0)
	var took := Time.get_ticks_msec() - started
	t.check(took >= 450 and took < 5000, "dropped after about 0.5 s (%d ms)" % took)
	t.eq(p.get_failure(), RustWebSocketPeer.FAILURE_TIMEOUT, "a timeout")
	t.check(p.get_failure_reason().contains("handshake_timeout"), "the reason names the setting: " + p.get_failure_reason())
	tcp.stop()


func test_a_client_that_stalls_a_minute_keeps_its_link(t) -> void:
	# The engine's multiplayer client joins our server, then is not polled
	# for 62 s (its game's main thread is stuck); the server keeps polling.
	var server := RustWebSocketMultiplayerPeer.new()
	t.eq(server.heartbeat_interval, 10.0, "default heartbeat_interval")
	t.eq(server.heartbeat_misses, 7, "default heartbeat_misses")
	var port := U.listen(t).get_local_port()
	t.eq(server.create_server(port, "127.0.0.1"), OK, "create_server")
	var client := WebSocketMultiplayerPeer.new()
	t.eq(client.create_client("ws://127.0.0.1:%d" % port), OK, "create_client")
	var joined := []
	server.peer_connected.connect(func(id): joined.append(id))
	var left := []
	server.peer_disconnected.connect(func(id): left.append(id))
	await t.until(func(): return client.get_connection_status() == MultiplayerPeer.CONNECTION_CONNECTED and joined.size() == 1, [server, client], "the client to join")
	var stall_until := Time.get_ticks_msec() + 62000
	await t.until(func(): return Time.get_ticks_msec() > stall_until, [server], "62 s of a stalled client", 70.0)
	t.eq(left, [], "the server kept the stalled client")
	client.put_packet("back".to_utf8_buffer())
	await t.until(func(): return server.get_available_packet_count() > 0, [server, client], "a packet after the stall")
	t.eq(server.get_packet().get_string_from_utf8(), "back", "and the link works")
	server.close()
	client.close()


func test_a_vanished_client_is_dropped_by_the_heartbeat(t) -> void:
	var server := RustWebSocketMultiplayerPeer.new()
	server.heartbeat_interval = 0.1
	server.heartbeat_misses = 3
	server.heartbeat_misses = 0
	t.eq(server.heartbeat_misses, 3, "0 misses refused")
	t.check_logged("heartbeat_misses must be 1 or more")
	var port := U.listen(t).get_local_port()
	t.eq(server.create_server(port, "127.0.0.1"), OK, "create_server")
	var client := WebSocketMultiplayerPeer.new()
	client.create_client("ws://127.0.0.1:%d" % port)
	var left := []
	server.peer_disconnected.connect(func(id): left.append(id))
	await t.until(func(): return client.get_connection_status() == MultiplayerPeer.CONNECTION_CONNECTED, [server, client], "the client to join")
	# A short stall (less than 3 pings) is kept; a long one is not.
	var until := Time.get_ticks_msec() + 150
	await t.until(func(): return Time.get_ticks_msec() > until, [server], "a short stall")
	client.poll()
	until = Time.get_ticks_msec() + 200
	await t.until(func(): return Time.get_ticks_msec() > until, [server, client], "the client to answer")
	t.eq(left, [], "kept after a short stall")
	var started := Time.get_ticks_msec()
	await t.until(func(): return left.size() == 1, [server], "the silent client to be dropped", 5.0)
	var took := Time.get_ticks_msec() - started
	t.check(took >= 250 and took < 2000, "dropped after about 3 to 4 intervals (%d ms)" % took)
	server.close()
	client.close()


func test_messages_sent_before_a_free_leave_with_the_free(t) -> void:
	# Three sends and a free in one call, no frame in between: the engine's
	# class has written all three when the free returns, and so has ours.
	for cls in ["WebSocketPeer", "RustWebSocketPeer"]:
		var c = ClassDB.instantiate(cls)
		var conn: StreamPeerTCP = await U.raw_server_for(t, c)
		if not t.eq(c.get_ready_state(), WebSocketPeer.STATE_OPEN, cls + " open"):
			continue
		# GDScript lets go of the finished coroutines' references to `c` at
		# the next frame; only then is this the last one.
		await t.process_frame
		for m in ["a", "b", "c"]:
			c.send_text(m)
		var gone: WeakRef = weakref(c)
		c = null
		t.check(gone.get_ref() == null, cls + ": freed when the last reference went")
		# Client frames are masked: 2 header bytes, 4 of mask, 1 of payload.
		conn.poll()
		t.eq(conn.get_available_bytes(), 21, cls + ": three frames were written when the free returned")
