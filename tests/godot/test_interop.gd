## Interop with the engine's own WebSocketPeer in both directions (and ours
## with ours): text, binary, unicode, 1 MiB and 8 MiB messages, 1000 ordered
## messages, put_var/get_var, sub-protocols, close codes, abrupt drops, TLS.
extends RefCounted

const U := preload("ws_util.gd")
const BIG := 16 * 1024 * 1024


func _peer(cls: String, big := false):
	var p = ClassDB.instantiate(cls)
	if big:
		p.inbound_buffer_size = BIG
		p.outbound_buffer_size = BIG
	return p


func _exchange(t, client_cls: String, server_cls: String) -> void:
	var label := "%s -> %s" % [client_cls, server_cls]
	var c = _peer(client_cls, true)
	var s = _peer(server_cls, true)
	c.supported_protocols = PackedStringArray(["chat", "json"])
	s.supported_protocols = PackedStringArray(["json"])
	c.handshake_headers = PackedStringArray(["X-Game: test"])
	var port: int = await U.connect_pair(t, c, s, "/lobby?room=1")
	if not t.check(port != 0, label + ": connected"):
		return
	t.eq(c.get_selected_protocol(), "json", label + ": client protocol")
	t.eq(s.get_selected_protocol(), "json", label + ": server protocol")
	t.eq(s.get_requested_url(), "ws://127.0.0.1:%d/lobby?room=1" % port, label + ": server requested url")
	t.eq(c.get_requested_url(), "ws://127.0.0.1:%d/lobby?room=1" % port, label + ": client requested url")
	t.eq(s.get_connected_host(), "127.0.0.1", label + ": server sees host")
	t.eq(c.get_connected_port(), port, label + ": client sees port")
	t.check(s.get_connected_port() > 0, label + ": server sees a port")

	var text := "héllo wörld ✓ 🎮"
	t.eq(c.send_text(text), OK, label + ": send_text")
	var got: PackedByteArray = await U.receive(t, s, [c])
	t.eq(got.get_string_from_utf8(), text, label + ": text arrives")
	t.check(s.was_string_packet(), label + ": was_string_packet after text")
	t.eq(s.send(got, WebSocketPeer.WRITE_MODE_TEXT), OK, label + ": send text back")
	got = await U.receive(t, c, [s])
	t.eq(got.get_string_from_utf8(), text, label + ": text echoed")
	t.check(c.was_string_packet(), label + ": client was_string_packet")

	t.eq(c.put_packet(PackedByteArray([0, 1, 255])), OK, label + ": put_packet")
	got = await U.receive(t, s, [c])
	t.eq(got, PackedByteArray([0, 1, 255]), label + ": binary arrives")
	t.check(not s.was_string_packet(), label + ": binary is not a string packet")
	# The same through a PacketPeer-typed variable, which calls PacketPeer's
	# own get_packet rather than the one our class registers again.
	t.eq(c.put_packet(PackedByteArray([7, 8])), OK, label + ": put_packet again")
	await t.until(func(): return s.get_available_packet_count() > 0, [c, s], "a packet")
	var as_packet_peer: PacketPeer = s
	t.eq(as_packet_peer.get_packet(), PackedByteArray([7, 8]), label + ": get_packet as a PacketPeer")
	t.eq(as_packet_peer.get_packet_error(), OK, label + ": get_packet_error as a PacketPeer")
	t.eq(as_packet_peer.get_packet(), PackedByteArray(), label + ": nothing left as a PacketPeer")
	t.eq(as_packet_peer.get_packet_error(), ERR_UNAVAILABLE, label + ": ERR_UNAVAILABLE as a PacketPeer")

	for size in [1024 * 1024, 8 * 1024 * 1024]:
		var data := U.pattern(size, size % 97)
		t.eq(c.send(data), OK, label + ": send %d" % size)
		got = await U.receive(t, s, [c])
		t.eq(got.size(), size, label + ": size of %d-byte message" % size)
		t.check(got == data, label + ": %d bytes intact client->server" % size)
		t.eq(s.send(data), OK, label + ": send back %d" % size)
		got = await U.receive(t, c, [s])
		t.check(got == data, label + ": %d bytes intact server->client" % size)

	for i in 1000:
		if c.put_var(i) != OK:
			t.check(false, label + ": put_var %d" % i)
			break
	var received := []
	await t.until(func():
		while s.get_available_packet_count() > 0:
			received.append(s.get_var())
		return received.size() >= 1000, [c, s], "1000 messages")
	var expected := range(1000)
	t.eq(received, expected, label + ": 1000 messages in order")

	var value := {"name": "player", "pos": Vector2(1.5, -2), "items": [1, "two", 3.0]}
	t.eq(s.put_var(value), OK, label + ": put_var dictionary")
	await t.until(func(): return c.get_available_packet_count() > 0, [c, s], "a var")
	t.eq(c.get_var(), value, label + ": get_var dictionary")

	c.close(4001, "bye ✓")
	await U.wait_closed(t, c, s)
	t.eq(s.get_close_code(), 4001, label + ": server sees close code")
	t.eq(s.get_close_reason(), "bye ✓", label + ": server sees close reason")
	t.eq(c.get_close_code(), 4001, label + ": client sees echoed close code")


func test_ours_client_engine_server(t) -> void:
	await _exchange(t, "RustWebSocketPeer", "WebSocketPeer")


func test_engine_client_ours_server(t) -> void:
	await _exchange(t, "WebSocketPeer", "RustWebSocketPeer")


func test_engine_client_ours_server_through_godot_stream(t) -> void:
	# The server side normally reads the accepted socket directly; this runs
	# the fallback that reads through the engine's StreamPeerTCP.
	OS.set_environment("RUST_WEBSOCKET_NO_TAKEOVER", "1")
	await _exchange(t, "WebSocketPeer", "RustWebSocketPeer")
	OS.unset_environment("RUST_WEBSOCKET_NO_TAKEOVER")


func test_ours_both_ends(t) -> void:
	await _exchange(t, "RustWebSocketPeer", "RustWebSocketPeer")


func _server_close(t, client_cls: String, server_cls: String) -> void:
	var label := "%s -> %s" % [client_cls, server_cls]
	var c = _peer(client_cls)
	var s = _peer(server_cls)
	if await U.connect_pair(t, c, s) == 0:
		return
	s.close(4100, "server says bye")
	t.eq(s.get_ready_state(), WebSocketPeer.STATE_CLOSING, label + ": server closing")
	await U.wait_closed(t, c, s)
	t.eq(c.get_close_code(), 4100, label + ": client sees server's code")
	t.eq(c.get_close_reason(), "server says bye", label + ": client sees server's reason")

	c = _peer(client_cls)
	s = _peer(server_cls)
	if await U.connect_pair(t, c, s) == 0:
		return
	s.close(-1)
	t.eq(s.get_ready_state(), WebSocketPeer.STATE_CLOSED, label + ": close(-1) closes at once")
	await U.wait_closed(t, c)
	t.eq(c.get_close_code(), -1, label + ": abrupt drop reports -1")


func test_server_close_and_drop_ours_client(t) -> void:
	await _server_close(t, "RustWebSocketPeer", "WebSocketPeer")


func test_server_close_and_drop_ours_server(t) -> void:
	await _server_close(t, "WebSocketPeer", "RustWebSocketPeer")


func test_message_over_inbound_limit_closes_with_1009(t) -> void:
	var c := RustWebSocketPeer.new()
	var s := WebSocketPeer.new()
	s.outbound_buffer_size = 1 << 20
	if await U.connect_pair(t, c, s) == 0:
		return
	t.eq(s.send(U.pattern(100000)), OK, "engine sends 100 KB")
	await U.wait_closed(t, c)
	t.eq(c.get_close_code(), 1009, "closed with 1009")
	t.check_logged("inbound_buffer_size")
	await t.until(func(): return s.get_ready_state() == WebSocketPeer.STATE_CLOSED, [s], "engine side to close")
	t.eq(s.get_close_code(), 1009, "the engine's peer received 1009")

	# Raised limit: the same message goes through.
	c = RustWebSocketPeer.new()
	c.inbound_buffer_size = 200000
	s = WebSocketPeer.new()
	s.outbound_buffer_size = 1 << 20
	if await U.connect_pair(t, c, s) == 0:
		return
	s.send(U.pattern(100000))
	var got: PackedByteArray = await U.receive(t, c, [s])
	t.eq(got.size(), 100000, "raised inbound_buffer_size accepts 100 KB")


func test_wss_ours_client_engine_tls_server(t) -> void:
	var files := U.tls_files(t)
	if files.is_empty():
		return
	var c := RustWebSocketPeer.new()
	var s := WebSocketPeer.new()
	var port: int = await U.connect_pair(t, c, s, "/secure", TLSOptions.server(files[1], files[0]), TLSOptions.client(files[0]), "localhost")
	if not t.check(port != 0, "wss connected"):
		return
	c.send_text("over tls ✓")
	var got: PackedByteArray = await U.receive(t, s, [c])
	t.eq(got.get_string_from_utf8(), "over tls ✓", "text over wss")
	t.eq(s.get_requested_url(), "wss://localhost:%d/secure" % port, "engine server sees wss url")
	c.close()
	await U.wait_closed(t, c, s)
	t.eq(s.get_close_code(), 1000, "clean close over wss")


func test_wss_engine_client_ours_tls_server(t) -> void:
	var files := U.tls_files(t)
	if files.is_empty():
		return
	var c := WebSocketPeer.new()
	var s := RustWebSocketPeer.new()
	var port: int = await U.connect_pair(t, c, s, "/secure", TLSOptions.server(files[1], files[0]), TLSOptions.client(files[0]), "localhost")
	if not t.check(port != 0, "wss connected"):
		return
	t.eq(s.get_requested_url(), "wss://localhost:%d/secure" % port, "our server sees wss url")
	c.put_packet(PackedByteArray([9, 8, 7]))
	var got: PackedByteArray = await U.receive(t, s, [c])
	t.eq(got, PackedByteArray([9, 8, 7]), "binary over wss")


func test_wss_refuses_untrusted_certificate(t) -> void:
	var files := U.tls_files(t)
	if files.is_empty():
		return
	var c := RustWebSocketPeer.new()
	var s := WebSocketPeer.new()
	var tcp: TCPServer = U.listen(t)
	t.eq(c.connect_to_url("wss://localhost:%d/" % tcp.get_local_port()), OK, "connect_to_url")
	await t.until(func(): return tcp.is_connection_available(), [c], "a TCP connection")
	var tls := StreamPeerTLS.new()
	tls.accept_stream(tcp.take_connection(), TLSOptions.server(files[1], files[0]))
	s.accept_stream(tls)
	await t.until(func(): return c.get_ready_state() == WebSocketPeer.STATE_CLOSED, [c, s], "the client to refuse")
	t.eq(c.get_close_code(), -1, "refused link has code -1")
	t.check_logged("not signed by a trusted authority")
