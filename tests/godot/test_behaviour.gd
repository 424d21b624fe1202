## RustWebSocketPeer's behaviour on bad input and hostile or broken peers:
## the engine's error codes, an explanation printed, never a crash.
extends RefCounted

const U := preload("ws_util.gd")


func test_bad_urls_and_arguments(t) -> void:
	var p := RustWebSocketPeer.new()
	t.eq(p.connect_to_url(""), ERR_INVALID_PARAMETER, "empty URL")
	t.check_logged("empty")
	t.eq(p.connect_to_url("http://example.com"), ERR_INVALID_PARAMETER, "http scheme")
	t.check_logged("Invalid protocol")
	t.eq(p.connect_to_url("ws://example.com:99999/"), ERR_INVALID_PARAMETER, "port out of range")
	t.eq(p.connect_to_url("ws://user@example.com/"), ERR_INVALID_PARAMETER, "user info")
	var crypto := Crypto.new()
	var key := crypto.generate_rsa(2048)
	var cert := crypto.generate_self_signed_certificate(key, "CN=localhost")
	t.eq(p.connect_to_url("wss://localhost/", TLSOptions.server(key, cert)), ERR_INVALID_PARAMETER, "server TLS options on a client")
	t.check_logged("TLSOptions.client")
	t.eq(p.get_ready_state(), RustWebSocketPeer.STATE_CLOSED, "still closed")
	p.handshake_headers = PackedStringArray(["no colon here"])
	t.eq(p.connect_to_url("ws://127.0.0.1:1/"), ERR_INVALID_PARAMETER, "malformed handshake header")
	t.check_logged("handshake_headers")


func test_send_while_not_open_and_null_stream(t) -> void:
	var p := RustWebSocketPeer.new()
	t.eq(p.send_text("x"), FAILED, "send_text while closed")
	t.check_logged("not open")
	t.eq(p.put_packet(PackedByteArray([1])), FAILED, "put_packet while closed")
	t.eq(p.send(PackedByteArray([1]), RustWebSocketPeer.WRITE_MODE_BINARY), FAILED, "send while closed")
	t.eq(p.accept_stream(null), ERR_INVALID_PARAMETER, "accept_stream(null)")
	t.check_logged("null")
	t.eq(p.accept_stream(StreamPeerBuffer.new()), ERR_INVALID_PARAMETER, "accept_stream(StreamPeerBuffer)")
	t.check_logged("StreamPeerTCP")
	t.eq(p.get_packet(), PackedByteArray(), "get_packet with nothing queued")
	t.eq(p.get_packet_error(), ERR_UNAVAILABLE, "get_packet_error with nothing queued")
	t.eq(p.get_available_packet_count(), 0, "no packets")
	t.eq(p.get_current_outbound_buffered_amount(), 0, "nothing buffered")
	t.eq(p.get_close_code(), -1, "close code before any connection")
	t.eq(p.get_connected_host(), "", "no host yet")
	t.eq(p.get_connected_port(), 0, "no port yet")
	p.set_no_delay(true)
	p.close()
	p.poll()
	t.eq(p.get_ready_state(), RustWebSocketPeer.STATE_CLOSED, "close on a closed peer is harmless")


func test_property_setters_refuse_bad_values(t) -> void:
	var p := RustWebSocketPeer.new()
	p.inbound_buffer_size = -5
	t.eq(p.inbound_buffer_size, 65535, "negative inbound_buffer_size refused")
	t.check_logged("inbound_buffer_size")
	p.max_queued_packets = 0
	t.eq(p.max_queued_packets, WebSocketPeer.new().max_queued_packets, "zero max_queued_packets refused (the engine's default kept)")
	p.heartbeat_interval = -1.0
	t.eq(p.heartbeat_interval, 0.0, "negative heartbeat refused")
	# Too long for a Duration: taken as "never", not a panic at connect.
	p.heartbeat_interval = 1e300
	t.eq(p.connect_to_url("ws://127.0.0.1:1/"), OK, "connect with a 1e300 s heartbeat")
	t.check(not t.logged("panic"), "no panic for a huge heartbeat_interval")
	p.close(-1)
	p.heartbeat_interval = 0.0
	p.supported_protocols = PackedStringArray([" chat "])
	t.eq(p.supported_protocols, PackedStringArray(["chat"]), "protocols are stripped")
	p.outbound_buffer_size = 0
	t.eq(p.outbound_buffer_size, 0, "0 = unlimited outbound")


func test_connection_refused_and_in_use(t) -> void:
	var tcp: TCPServer = U.listen(t)
	var port := tcp.get_local_port()
	tcp.stop()
	var p := RustWebSocketPeer.new()
	t.eq(p.connect_to_url("ws://127.0.0.1:%d/" % port), OK, "connect returns at once")
	t.eq(p.get_ready_state(), RustWebSocketPeer.STATE_CONNECTING, "connecting")
	t.eq(p.connect_to_url("ws://127.0.0.1:%d/" % port), ERR_ALREADY_IN_USE, "second connect while connecting")
	await t.until(func(): return p.get_ready_state() == RustWebSocketPeer.STATE_CLOSED, [p], "refusal")
	t.eq(p.get_close_code(), -1, "refused: -1")
	t.check_logged("Could not connect")


func test_handshake_headers_sent_and_non_101_refused(t) -> void:
	var tcp: TCPServer = U.listen(t)
	var p := RustWebSocketPeer.new()
	p.handshake_headers = PackedStringArray(["X-Game-Token: abc123", "Cookie: a=b"])
	p.supported_protocols = PackedStringArray(["v1", "v2"])
	t.eq(p.connect_to_url("ws://127.0.0.1:%d/path?q=1" % tcp.get_local_port()), OK, "connect")
	var expected := {
		"X-Game-Token": "abc123",
		"Cookie": "a=b",
		"Sec-WebSocket-Protocol": "v1,v2",
		"Host": "127.0.0.1:%d" % tcp.get_local_port(),
	}
	var conn: StreamPeerTCP = await U.expect_request(t, tcp, p, "/path?q=1", expected)
	conn.put_data("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_utf8_buffer())
	await t.until(func(): return p.get_ready_state() == RustWebSocketPeer.STATE_CLOSED, [p], "refusal")
	t.eq(p.get_close_code(), -1, "non-101: -1")
	t.check_logged("instead of 101")


func test_wrong_accept_key_and_unrequested_protocol(t) -> void:
	for bad in ["Sec-WebSocket-Accept: AAAA\r\n", "SUBPROTO"]:
		var tcp: TCPServer = U.listen(t)
		var p := RustWebSocketPeer.new()
		p.connect_to_url("ws://127.0.0.1:%d/" % tcp.get_local_port())
		await t.until(func(): return tcp.is_connection_available(), [p], "a TCP connection")
		var conn := tcp.take_connection()
		var head: String = await U.read_head(t, conn, [p])
		var accept := "Sec-WebSocket-Accept: %s\r\n" % U.accept_key(U.header(head, "Sec-WebSocket-Key"))
		var extra: String = "Sec-WebSocket-Protocol: surprise\r\n" if bad == "SUBPROTO" else ""
		var line: String = accept if bad == "SUBPROTO" else bad
		conn.put_data(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" + line + extra + "\r\n").to_utf8_buffer())
		await t.until(func(): return p.get_ready_state() == RustWebSocketPeer.STATE_CLOSED, [p], "refusal")
		t.check_logged("Sec-WebSocket-Accept" if bad != "SUBPROTO" else "not requested")


func test_garbage_instead_of_http_on_our_server(t) -> void:
	var tcp: TCPServer = U.listen(t)
	var raw := StreamPeerTCP.new()
	raw.connect_to_host("127.0.0.1", tcp.get_local_port())
	await t.until(func(): raw.poll(); return tcp.is_connection_available(), [], "a TCP connection")
	var s := RustWebSocketPeer.new()
	t.eq(s.accept_stream(tcp.take_connection()), OK, "accept_stream")
	await t.until(func(): raw.poll(); return raw.get_status() == StreamPeerTCP.STATUS_CONNECTED, [], "raw connected")
	raw.put_data(PackedByteArray([0x16, 0x03, 0x01, 0x00, 0xff, 0x0d, 0x0a, 0x0d, 0x0a]))
	await t.until(func(): return s.get_ready_state() == RustWebSocketPeer.STATE_CLOSED, [s], "our server to refuse")
	t.check_logged("handshake failed")
	var answer: String = await U.read_head(t, raw)
	t.check(answer.begins_with("HTTP/1.1 400"), "the client is told why: " + answer.get_slice("\r\n", 0))


func test_invalid_utf8_text_closes_with_1007(t) -> void:
	var p := RustWebSocketPeer.new()
	var conn: StreamPeerTCP = await U.raw_server_for(t, p)
	t.eq(p.get_ready_state(), RustWebSocketPeer.STATE_OPEN, "open")
	conn.put_data(PackedByteArray([0x81, 0x02, 0xc3, 0x28]))
	await t.until(func(): return p.get_ready_state() == RustWebSocketPeer.STATE_CLOSED, [p], "close")
	t.eq(p.get_close_code(), 1007, "1007 for invalid UTF-8")
	t.check_logged("UTF-8")
	# The close frame reached the raw peer: 0x88, masked length, 4-byte mask,
	# then 1007 big-endian under the mask (client frames are masked).
	await t.until(func(): conn.poll(); return conn.get_available_bytes() >= 8, [], "the close frame")
	var frame: PackedByteArray = conn.get_data(conn.get_available_bytes())[1]
	t.eq(frame[0], 0x88, "a close frame")
	t.check(frame[1] & 0x80, "masked, as a client must")
	var code: int = ((frame[6] ^ frame[2]) << 8) | (frame[7] ^ frame[3])
	t.eq(code, 1007, "close frame carries 1007")


func test_unmasked_frame_from_a_client_closes_with_1002(t) -> void:
	var tcp: TCPServer = U.listen(t)
	var raw := StreamPeerTCP.new()
	raw.connect_to_host("127.0.0.1", tcp.get_local_port())
	await t.until(func(): raw.poll(); return tcp.is_connection_available(), [], "a TCP connection")
	var s := RustWebSocketPeer.new()
	s.accept_stream(tcp.take_connection())
	await t.until(func(): raw.poll(); return raw.get_status() == StreamPeerTCP.STATUS_CONNECTED, [s], "raw connected")
	raw.put_data("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n".to_utf8_buffer())
	await t.until(func(): return s.get_ready_state() == RustWebSocketPeer.STATE_OPEN, [s], "open")
	var answer: String = await U.read_head(t, raw, [s])
	t.eq(U.header(answer, "Sec-WebSocket-Accept"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", "RFC accept key")
	raw.put_data(PackedByteArray([0x82, 0x01, 0x41]))  # unmasked binary frame
	await t.until(func(): return s.get_ready_state() == RustWebSocketPeer.STATE_CLOSED, [s], "close")
	t.eq(s.get_close_code(), 1002, "1002 for an unmasked client frame")
	t.check_logged("protocol error")


func test_outbound_limit_and_close_reason_length(t) -> void:
	var c := RustWebSocketPeer.new()
	var s := WebSocketPeer.new()
	if await U.connect_pair(t, c, s) == 0:
		return
	t.eq(c.send(U.pattern(70000)), ERR_OUT_OF_MEMORY, "message over outbound_buffer_size")
	t.check_logged("outbound_buffer_size")
	t.eq(c.get_ready_state(), RustWebSocketPeer.STATE_OPEN, "still open after a refused send")
	t.eq(c.send(PackedByteArray([0xff, 0xfe]), RustWebSocketPeer.WRITE_MODE_TEXT), ERR_INVALID_DATA, "invalid UTF-8 as text")
	t.eq(c.get_current_outbound_buffered_amount(), 0, "refused sends queue nothing")
	# The first message after a poll leaves at once; the next one waits in
	# the buffer (a masked client frame: 2 header bytes, 4 mask bytes, 100
	# payload bytes) until the next poll.
	c.poll()
	t.eq(c.send(U.pattern(100)), OK, "first send")
	t.eq(c.get_current_outbound_buffered_amount(), 0, "the first message was written")
	t.eq(c.send(U.pattern(100)), OK, "second send")
	t.eq(c.get_current_outbound_buffered_amount(), 106, "the second waits, framed")
	c.poll()
	t.eq(c.get_current_outbound_buffered_amount(), 0, "poll() wrote it")
	c.close(1000, "x".repeat(200))
	t.check_logged("123 bytes")
	await U.wait_closed(t, c, s)
	t.eq(s.get_close_reason().length(), 123, "reason cut to 123 bytes")


func test_heartbeat_keeps_live_links_and_drops_silent_ones(t) -> void:
	var c := RustWebSocketPeer.new()
	c.heartbeat_interval = 0.1
	var s := WebSocketPeer.new()
	if await U.connect_pair(t, c, s) == 0:
		return
	var until := Time.get_ticks_msec() + 600
	await t.until(func(): return Time.get_ticks_msec() > until, [c, s], "time to pass", 5.0)
	t.eq(c.get_ready_state(), RustWebSocketPeer.STATE_OPEN, "pongs keep the link open")

	var silent := RustWebSocketPeer.new()
	silent.heartbeat_interval = 0.1
	var conn: StreamPeerTCP = await U.raw_server_for(t, silent)
	await t.until(func(): return silent.get_ready_state() == RustWebSocketPeer.STATE_CLOSED, [silent], "the heartbeat to give up", 5.0)
	t.eq(silent.get_close_code(), -1, "no pong: dropped with -1")
	t.check_logged("heartbeat_interval")
	conn.disconnect_from_host()


func test_packets_before_close_stay_readable(t) -> void:
	var c := RustWebSocketPeer.new()
	var s := WebSocketPeer.new()
	if await U.connect_pair(t, c, s) == 0:
		return
	s.send_text("last words")
	s.close(1000, "done")
	await U.wait_closed(t, c, s)
	t.eq(c.get_available_packet_count(), 1, "the message sent before the close is kept")
	t.eq(c.get_packet().get_string_from_utf8(), "last words", "and readable")


func test_rust_log_records_reach_godot_output(t) -> void:
	# The test runner sets RUST_WEBSOCKET_LOG=info, so opening a link logs
	# an info record, which the extension prints.
	var c := RustWebSocketPeer.new()
	var s := WebSocketPeer.new()
	var port: int = await U.connect_pair(t, c, s, "/logged")
	if port == 0:
		return
	var printed: PackedStringArray = t.printed()
	var found := false
	for m in printed:
		if m.contains("client open: ws://127.0.0.1:%d/logged" % port):
			found = true
	t.check(found, "info record printed; got %s" % [printed])


## The per-message methods are bound directly (not through godot-rust's
## wrapper): typed calls (pointer calls), untyped calls and call()/callv()
## (variant calls, which fill defaults and check arguments themselves) must
## all behave as the engine's class does.
func test_direct_calls_typed_untyped_and_checked(t) -> void:
	var c := RustWebSocketPeer.new()
	var s := WebSocketPeer.new()
	if await U.connect_pair(t, c, s) == 0:
		return
	var u: Variant = c
	t.eq(u.get_ready_state(), RustWebSocketPeer.STATE_OPEN, "untyped get_ready_state")
	t.eq(c.get_ready_state(), RustWebSocketPeer.STATE_OPEN, "typed get_ready_state")
	# send's write_mode defaults to binary on every path.
	t.eq(c.send("typed".to_utf8_buffer()), OK, "typed send, default mode")
	t.eq(u.send("untyped".to_utf8_buffer()), OK, "untyped send, default mode")
	t.eq(c.call("send", "called".to_utf8_buffer()), OK, "call() send, default mode")
	t.eq(c.callv("send", ["text".to_utf8_buffer(), RustWebSocketPeer.WRITE_MODE_TEXT]), OK, "callv send, text mode")
	t.eq(u.send_text("untyped text"), OK, "untyped send_text")
	t.eq(u.put_packet("untyped packet".to_utf8_buffer()), OK, "untyped put_packet")
	var expected := [["typed", false], ["untyped", false], ["called", false], ["text", true], ["untyped text", true], ["untyped packet", false]]
	for e in expected:
		var got := await U.receive(t, s, [c])
		t.eq([got.get_string_from_utf8(), s.was_string_packet()], e, "received in order with its frame type")
	s.send_text("back")
	s.put_packet("bin".to_utf8_buffer())
	t.check(await t.until(func(): return u.get_available_packet_count() == 2, [c, s], "two packets back"), "untyped count")
	t.eq(u.get_packet().get_string_from_utf8(), "back", "untyped get_packet")
	t.eq(u.was_string_packet(), true, "untyped was_string_packet")
	t.eq(u.get_packet_error(), OK, "untyped get_packet_error")
	t.eq(c.get_packet().get_string_from_utf8(), "bin", "typed get_packet")
	t.eq(c.was_string_packet(), false, "typed was_string_packet")
	t.eq(c.get_packet(), PackedByteArray(), "typed get_packet when empty")
	t.eq(c.get_packet_error(), ERR_UNAVAILABLE, "typed get_packet_error")
	t.eq(u.get_packet(), PackedByteArray(), "untyped get_packet when empty")
	t.eq(u.get_current_outbound_buffered_amount(), 0, "untyped buffered amount")
	# Wrong argument counts and types: the engine's own error, no crash, for
	# both classes alike.
	for peer in [c, s]:
		var name: String = peer.get_class()
		t.eq(peer.callv("put_packet", []), null, name + " put_packet without its argument")
		t.eq(peer.callv("send", []), null, name + " send without arguments")
		t.eq(peer.callv("get_ready_state", [1]), null, name + " get_ready_state with an argument")
		t.eq(peer.callv("send_text", [[1, 2]]), null, name + " send_text with an Array")
	# Godot 4.4 says "1 arguments", 4.5 and later "1 argument(s)".
	for needle in ["::put_packet': Method expected 1 argument", "::send': Method expected 2 argument", "::get_ready_state': Method expected 0 argument", "::send_text': Cannot convert argument 1 from Array to String"]:
		var count := 0
		for e in t.errors_printed():
			if e.contains(needle):
				count += 1
		if t.check_logged(needle) and t.logged(needle):
			t.eq(count, 2, "both classes report \"%s\"" % needle)
	t.eq(c.get_ready_state(), RustWebSocketPeer.STATE_OPEN, "still open after refused calls")
	u.close()
	await U.wait_closed(t, c, s)
	t.eq(u.get_ready_state(), RustWebSocketPeer.STATE_CLOSED, "untyped close and poll")
