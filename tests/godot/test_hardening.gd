## Hardening seen from GDScript: a refused accept_stream leaves the caller's
## connection alone, a trusted chain that cannot be used is an error (never
## the default roots), heartbeats apply to open links and multiplayer links
## have one, a close the peer never answers ends after the close timeout, and
## tiny messages trickled to a game that does not read hold little memory.
extends RefCounted

const U := preload("ws_util.gd")


func test_a_refused_accept_stream_keeps_the_callers_connection(t) -> void:
	var busy := RustWebSocketPeer.new()
	var other := RustWebSocketPeer.new()
	if await U.connect_pair(t, other, busy) == 0:
		return
	# A second raw client reaches a new TCPServer; the busy peer refuses it.
	var tcp: TCPServer = U.listen(t)
	var raw := StreamPeerTCP.new()
	raw.connect_to_host("127.0.0.1", tcp.get_local_port())
	await t.until(func(): return tcp.is_connection_available() and raw.get_status() == StreamPeerTCP.STATUS_CONNECTED, [raw], "a TCP connection")
	var conn := tcp.take_connection()
	t.eq(busy.accept_stream(conn), ERR_ALREADY_IN_USE, "a peer already connected refuses")
	t.check_logged("already")
	# The refused stream is still the caller's, open: another peer takes it.
	conn.poll()
	t.eq(conn.get_status(), StreamPeerTCP.STATUS_CONNECTED, "the caller's connection is still open")
	var fresh := RustWebSocketPeer.new()
	t.eq(fresh.accept_stream(conn), OK, "another peer accepts the same stream")
	raw.put_data("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n".to_utf8_buffer())
	await t.until(func(): return fresh.get_ready_state() == RustWebSocketPeer.STATE_OPEN, [fresh, raw], "the upgrade on the same stream")
	# Bad handshake headers are refused before the stream is taken, too.
	var bad := RustWebSocketPeer.new()
	bad.handshake_headers = PackedStringArray(["no colon"])
	var tcp2: TCPServer = U.listen(t)
	var raw2 := StreamPeerTCP.new()
	raw2.connect_to_host("127.0.0.1", tcp2.get_local_port())
	await t.until(func(): return tcp2.is_connection_available(), [], "a TCP connection")
	var conn2 := tcp2.take_connection()
	t.eq(bad.accept_stream(conn2), ERR_INVALID_PARAMETER, "bad handshake_headers refused")
	conn2.poll()
	t.eq(conn2.get_status(), StreamPeerTCP.STATUS_CONNECTED, "and the stream left open")


func test_an_unusable_trusted_chain_is_an_error_not_the_default_roots(t) -> void:
	var p := RustWebSocketPeer.new()
	# An empty certificate, as after a failed load(): no PEM can come of it.
	var opts := TLSOptions.client(X509Certificate.new())
	var err := p.connect_to_url("wss://localhost:1/", opts)
	t.check(err != OK, "connect_to_url refuses (got %d)" % err)
	t.check_logged("trusted_chain")
	t.eq(p.get_ready_state(), RustWebSocketPeer.STATE_CLOSED, "nothing was started")


func test_heartbeat_set_on_an_open_link_and_multiplayer_links_have_one(t) -> void:
	var c := RustWebSocketPeer.new()
	var s := WebSocketPeer.new()
	if await U.connect_pair(t, c, s) == 0:
		return
	# The engine's server stops being polled: no pong will come.
	c.heartbeat_interval = 0.1
	await t.until(func(): return c.get_ready_state() == RustWebSocketPeer.STATE_CLOSED, [c], "the heartbeat to drop the silent link", 5.0)
	t.check_logged("heartbeat_interval")
	var server := RustWebSocketMultiplayerPeer.new()
	var client := RustWebSocketMultiplayerPeer.new()
	var port := U.listen(t).get_local_port()
	t.eq(server.create_server(port, "127.0.0.1"), OK, "create_server")
	t.eq(client.create_client("ws://127.0.0.1:%d" % port), OK, "create_client")
	await t.until(func(): return client.get_connection_status() == MultiplayerPeer.CONNECTION_CONNECTED, [server, client], "connected")
	var link: RustWebSocketPeer = client.get_peer(1)
	if t.check(link != null, "the client's link"):
		t.eq(link.heartbeat_interval, 10.0, "multiplayer links ping every 10 s")
		t.eq(link.heartbeat_misses, 7, "and keep a peer that misses up to 7 pings in a row")
	server.close()
	client.close()


func test_a_close_the_peer_never_answers_ends_after_the_timeout(t) -> void:
	var c := RustWebSocketPeer.new()
	var s := WebSocketPeer.new()
	if await U.connect_pair(t, c, s) == 0:
		return
	# The engine's server is never polled again, so it never answers.
	c.close(1000, "bye")
	t.eq(c.get_ready_state(), RustWebSocketPeer.STATE_CLOSING, "closing")
	await t.until(func(): return c.get_ready_state() == RustWebSocketPeer.STATE_CLOSED, [c], "the close timeout", 15.0)
	t.check_logged("closing handshake")


## Resident memory of this process, in bytes (Linux); -1 elsewhere.
static func _resident() -> int:
	var f := FileAccess.open("/proc/self/statm", FileAccess.READ)
	if f == null:
		return -1
	# A /proc file reports no length: read its line.
	var fields := f.get_line().split(" ")
	return int(fields[1]) * 4096 if fields.size() > 1 else -1


## A raw server trickles `count` one-byte messages, one per write, and the
## client is polled until each arrives (one per read; it stops when the
## client takes no more); nothing is read. Returns the resident growth.
static func _trickle(t, client, count: int) -> int:
	var conn: StreamPeerTCP = await U.raw_server_for(t, client)
	if conn == null or client.get_ready_state() != 1:
		t.check(false, "the client opened")
		return 0
	conn.set_no_delay(true)
	var frame := PackedByteArray([0x82, 1, 120])
	var before := _resident()
	var stalled := false
	for i in count:
		conn.put_data(frame)
		var tries := 0
		while not stalled and client.get_available_packet_count() <= i and tries < 200:
			OS.delay_usec(100)
			client.poll()
			tries += 1
		stalled = stalled or client.get_available_packet_count() <= i
	var grown := _resident() - before
	print("  %s: %d of %d one-byte messages queued, resident +%d KiB" % [client.get_class(), client.get_available_packet_count(), count, grown / 1024])
	# Nothing was lost: the rest waited in the socket.
	var got := 0
	var deadline := Time.get_ticks_msec() + 10000
	while got < count and Time.get_ticks_msec() < deadline:
		client.poll()
		while client.get_available_packet_count() > 0:
			client.get_packet()
			got += 1
		OS.delay_usec(200)
	t.eq(got, count, "%s received every message" % client.get_class())
	client.close()
	conn.disconnect_from_host()
	return grown


func test_tiny_messages_trickled_to_a_game_that_does_not_read_hold_little_memory(t) -> void:
	if OS.get_name() != "Linux":
		t.check(true, "resident memory is read from /proc: not measured here")
		return
	if not t.check(_resident() > 0, "resident memory from /proc/self/statm"):
		return
	var engine := await _trickle(t, WebSocketPeer.new(), 2000)
	var ours := await _trickle(t, RustWebSocketPeer.new(), 2000)
	# Before: a 16 KiB read chunk stayed alive per queued message, about
	# 8 MB resident for 2,000 of them.
	t.check(ours < max(1024 * 1024, 4 * engine), "ours grew %d KiB resident, the engine's class %d KiB" % [ours / 1024, engine / 1024])
