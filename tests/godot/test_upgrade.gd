## The server's view of the upgrade request, and its answer (hold_upgrade):
## a held request shows its URL and headers while connecting, then opens
## when accepted or gives the client an HTTP status when refused; with the
## engine's client and ours; the multiplayer server deciding who joins.
## Without hold_upgrade nothing changes.
extends RefCounted

const U := preload("ws_util.gd")


## A client of class `cls` asking for /game?token=42 with an Authorization
## header, and our server holding its request. Returns [client, server], or
## [] when the request never came.
func _held(t, cls: String) -> Array:
	var c = ClassDB.instantiate(cls)
	c.handshake_headers = PackedStringArray(["Authorization: Bearer abc"])
	var s := RustWebSocketPeer.new()
	s.hold_upgrade = true
	var tcp := U.listen(t)
	var port := tcp.get_local_port()
	if not t.eq(c.connect_to_url("ws://127.0.0.1:%d/game?token=42" % port), OK, cls + ": connect_to_url"):
		return []
	if not await t.until(func(): return tcp.is_connection_available(), [c], "a TCP connection"):
		return []
	t.eq(s.accept_stream(tcp.take_connection()), OK, "accept_stream")
	if not await t.until(func(): return s.is_upgrade_waiting(), [c, s], cls + ": the held request"):
		return []
	tcp.stop()
	return [c, s]


func _accepted(t, cls: String) -> void:
	var pair := await _held(t, cls)
	if pair.is_empty():
		return
	var c = pair[0]
	var s: RustWebSocketPeer = pair[1]
	t.eq(s.get_ready_state(), WebSocketPeer.STATE_CONNECTING, cls + ": held in STATE_CONNECTING")
	t.check(s.get_requested_url().ends_with("/game?token=42"), cls + ": URL with its query: " + s.get_requested_url())
	var headers := s.get_received_headers()
	t.eq(headers.get("authorization"), "Bearer abc", cls + ": the Authorization header")
	t.eq(headers.get("upgrade"), "websocket", cls + ": names are lower-case")
	for i in 10:
		s.poll()
		c.poll()
		await t.process_frame
	t.eq(c.get_ready_state(), WebSocketPeer.STATE_CONNECTING, cls + ": the client waits for the answer")
	t.eq(s.accept_upgrade(), OK, cls + ": accept_upgrade")
	t.check(not s.is_upgrade_waiting(), cls + ": decided")
	await t.until(func(): return c.get_ready_state() == WebSocketPeer.STATE_OPEN and s.get_ready_state() == WebSocketPeer.STATE_OPEN, [c, s], cls + ": both open")
	t.eq(s.get_received_headers().get("authorization"), "Bearer abc", cls + ": headers kept once open")
	t.eq(c.send_text("hi"), OK, cls + ": send")
	var got: PackedByteArray = await U.receive(t, s, [c])
	t.eq(got.get_string_from_utf8(), "hi", cls + ": message after the held upgrade")
	if c is RustWebSocketPeer:
		t.eq(c.get_received_headers().get("upgrade"), "websocket", "our client reads the answer's headers")


func test_held_request_accepted_engine_client(t) -> void:
	await _accepted(t, "WebSocketPeer")


func test_held_request_accepted_our_client(t) -> void:
	await _accepted(t, "RustWebSocketPeer")


func _refused(t, cls: String) -> void:
	var pair := await _held(t, cls)
	if pair.is_empty():
		return
	var c = pair[0]
	var s: RustWebSocketPeer = pair[1]
	t.eq(s.refuse_upgrade(403, "no entry"), OK, cls + ": refuse_upgrade")
	await t.until(func(): return c.get_ready_state() == WebSocketPeer.STATE_CLOSED and s.get_ready_state() == WebSocketPeer.STATE_CLOSED, [c, s], cls + ": both closed")
	t.eq(c.get_close_code(), -1, cls + ": no close frame")
	t.check_logged("403 Forbidden: no entry")
	if c is RustWebSocketPeer:
		t.eq(c.get_failure(), RustWebSocketPeer.FAILURE_HTTP_STATUS, "our client: failure is the HTTP status")
		t.eq(c.get_failure_http_status(), 403, "our client reads 403")


func test_held_request_refused_engine_client(t) -> void:
	await _refused(t, "WebSocketPeer")


func test_held_request_refused_our_client(t) -> void:
	await _refused(t, "RustWebSocketPeer")


func test_decisions_are_checked(t) -> void:
	var idle := RustWebSocketPeer.new()
	t.eq(idle.accept_upgrade(), ERR_INVALID_PARAMETER, "nothing waits")
	t.check_logged("no upgrade request is waiting")
	var pair := await _held(t, "WebSocketPeer")
	if pair.is_empty():
		return
	var s: RustWebSocketPeer = pair[1]
	t.eq(s.refuse_upgrade(200), ERR_INVALID_PARAMETER, "200 is not an error status")
	t.eq(s.refuse_upgrade(70000), ERR_INVALID_PARAMETER, "nor is 70000")
	t.eq(s.refuse_upgrade(401, "two\nlines"), ERR_INVALID_PARAMETER, "the reason is one line")
	t.check(s.is_upgrade_waiting(), "still waiting after refused arguments")
	t.eq(s.accept_upgrade(), OK, "then accepted")
	t.eq(s.refuse_upgrade(401), ERR_INVALID_PARAMETER, "one decision only")


func test_without_hold_the_request_is_answered_at_once(t) -> void:
	var c := WebSocketPeer.new()
	c.handshake_headers = PackedStringArray(["X-Room: 7"])
	var s := RustWebSocketPeer.new()
	t.eq(s.hold_upgrade, false, "off by default")
	var port: int = await U.connect_pair(t, c, s, "/r")
	if not t.check(port != 0, "opened as before"):
		return
	t.eq(s.get_received_headers().get("x-room"), "7", "headers readable once open")


func test_multiplayer_server_decides_who_joins(t) -> void:
	var server := RustWebSocketMultiplayerPeer.new()
	t.eq(server.hold_upgrade, false, "off by default")
	server.hold_upgrade = true
	var port := U.free_port()
	if not t.eq(server.create_server(port, "127.0.0.1"), OK, "create_server"):
		return
	var asked := {}  # peer id -> [url, headers]
	var joined := []
	server.upgrade_requested.connect(func(id, url, headers): asked[id] = [url, headers])
	server.peer_connected.connect(func(id): joined.append(id))
	# The engine's client with a token in the URL, ours with a header, and
	# one with a wrong token.
	var good := WebSocketMultiplayerPeer.new()
	good.create_client("ws://127.0.0.1:%d/play?token=good" % port)
	var ours := RustWebSocketMultiplayerPeer.new()
	ours.handshake_headers = PackedStringArray(["Authorization: Bearer good"])
	ours.create_client("ws://127.0.0.1:%d/play" % port)
	var bad := WebSocketMultiplayerPeer.new()
	bad.create_client("ws://127.0.0.1:%d/play?token=bad" % port)
	var all := [server, good, ours, bad]
	if not await t.until(func(): return asked.size() == 3, all, "three held requests"):
		return
	for i in 30:
		for p in all:
			p.poll()
		await t.process_frame
	t.eq(asked.size(), 3, "each client announced once")
	t.eq(joined, [], "nobody joined while undecided")
	for id in asked:
		var url: String = asked[id][0]
		var headers: Dictionary = asked[id][1]
		if url.ends_with("token=good") or headers.get("authorization", "") == "Bearer good":
			t.eq(server.accept_upgrade(id), OK, "accept " + url)
		else:
			t.eq(server.refuse_upgrade(id, 403, "bad token"), OK, "refuse " + url)
	await t.until(func(): return joined.size() == 2 and bad.get_connection_status() == MultiplayerPeer.CONNECTION_DISCONNECTED, all, "two joined, one refused")
	t.eq(good.get_connection_status(), MultiplayerPeer.CONNECTION_CONNECTED, "the engine's client with the token joined")
	t.eq(ours.get_connection_status(), MultiplayerPeer.CONNECTION_CONNECTED, "ours with the header joined")
	joined.sort()
	var expected := [good.get_unique_id(), ours.get_unique_id()]
	expected.sort()
	t.eq(joined, expected, "each joined with the id it was announced with")
	t.check(asked.has(good.get_unique_id()) and asked.has(ours.get_unique_id()), "the ids announced")
	t.eq(server.accept_upgrade(12345), ERR_INVALID_PARAMETER, "no such joining client")
	t.check_logged("no joining client with id 12345")
	for p in all:
		p.close()
