## Through an HTTP proxy (set_http_proxy / set_https_proxy): tinyproxy, with
## credentials, runs beside the suite (tests/godot/run_suite.sh says where in
## TEST_PROXY_PORT and TEST_PROXY_CREDENTIALS). Our client through it to the
## engine's WebSocketPeer server, ws:// and wss://; refusals and an absent
## proxy read as FAILURE_PROXY; the multiplayer client through it to the
## engine's multiplayer server; bad settings refused.
extends RefCounted

const U := preload("ws_util.gd")


## "user:password@127.0.0.1" and the proxy's port, or [] (the test then
## says it was skipped; under CI it fails).
func _proxy(t) -> Array:
	var port := OS.get_environment("TEST_PROXY_PORT")
	if port == "":
		if OS.get_environment("CI") != "":
			t.check(false, "no HTTP proxy beside the suite (apt install tinyproxy)")
		else:
			print("SKIPPED: no HTTP proxy beside the suite (apt install tinyproxy)")
		return []
	return [OS.get_environment("TEST_PROXY_CREDENTIALS") + "@127.0.0.1", port.to_int()]


func _echo_both_ways(t, c, s, what: String) -> void:
	t.eq(c.send_text("via the proxy ✓"), OK, what + ": send")
	var got: PackedByteArray = await U.receive(t, s, [c])
	t.eq(got.get_string_from_utf8(), "via the proxy ✓", what + ": the server gets it")
	t.eq(s.put_packet(PackedByteArray([1, 2, 3])), OK, what + ": the server answers")
	got = await U.receive(t, c, [s])
	t.eq(got, PackedByteArray([1, 2, 3]), what + ": the client gets it")


func test_ws_through_the_http_proxy_to_the_engine_server(t) -> void:
	var proxy := _proxy(t)
	if proxy.is_empty():
		return
	var c := RustWebSocketPeer.new()
	c.set_http_proxy(proxy[0], proxy[1])
	var s := WebSocketPeer.new()
	var port: int = await U.connect_pair(t, c, s, "/lobby")
	if not t.check(port != 0, "open through the proxy"):
		return
	t.eq(c.get_connected_port(), proxy[1], "the client's socket is the proxy's")
	t.eq(s.get_requested_url(), "ws://127.0.0.1:%d/lobby" % port, "the server reads the path")
	await _echo_both_ways(t, c, s, "ws")
	c.close(1000, "bye")
	await U.wait_closed(t, c, s)
	t.eq(s.get_close_code(), 1000, "a clean close through the tunnel")


func test_wss_through_the_https_proxy_to_the_engine_server(t) -> void:
	var proxy := _proxy(t)
	var files := U.tls_files(t)
	if proxy.is_empty() or files.is_empty():
		return
	var c := RustWebSocketPeer.new()
	# The http proxy is for ws:// only: a wrong one here must not be used.
	c.set_http_proxy("127.0.0.1", U.free_port())
	c.set_https_proxy(proxy[0], proxy[1])
	var s := WebSocketPeer.new()
	var port: int = await U.connect_pair(t, c, s, "/secure", TLSOptions.server(files[1], files[0]), TLSOptions.client(files[0]))
	if not t.check(port != 0, "open through the proxy"):
		return
	t.eq(c.get_connected_port(), proxy[1], "the client's socket is the proxy's")
	await _echo_both_ways(t, c, s, "wss")


## Our client through the proxy at `host` and `port` (0: a port nobody
## listens on, picked while the server listens, so the two differ) to a
## server that listens; the attempt must fail as the proxy's.
func _fails_through(t, host: String, port: int) -> RustWebSocketPeer:
	var server := U.listen(t)
	var c := RustWebSocketPeer.new()
	c.set_http_proxy(host, port if port != 0 else U.free_port())
	t.eq(c.connect_to_url("ws://127.0.0.1:%d/" % server.get_local_port()), OK, "connect_to_url")
	await t.until(func(): return c.get_ready_state() == WebSocketPeer.STATE_CLOSED, [c], "the attempt to end")
	server.stop()
	t.eq(c.get_failure(), RustWebSocketPeer.FAILURE_PROXY, "the failure is the proxy's: " + c.get_failure_reason())
	return c


func test_refused_credentials_and_an_absent_proxy_read_as_failure_proxy(t) -> void:
	var proxy := _proxy(t)
	if proxy.is_empty():
		return
	var c := await _fails_through(t, "gamer:wrong@127.0.0.1", proxy[1])
	# 407 is the status for this; tinyproxy 1.11 answers CONNECT with 401.
	t.check(c.get_failure_http_status() in [401, 407], "the proxy's status: %d" % c.get_failure_http_status())
	t.check(c.get_failure_reason().contains("credentials"), "the reason says what to fix: " + c.get_failure_reason())
	t.check_logged("HTTP proxy 127.0.0.1:%d" % proxy[1])
	c = await _fails_through(t, "127.0.0.1", proxy[1])
	t.check(c.get_failure_reason().contains("user:password@host"), "no credentials: " + c.get_failure_reason())

	c = await _fails_through(t, "127.0.0.1", 0)
	t.eq(c.get_failure_http_status(), 0, "no status from a proxy that is not there")
	t.check(c.get_failure_reason().contains("could not be reached"), "the reason says the proxy was not reached: " + c.get_failure_reason())


func test_a_bad_setting_is_refused_and_an_empty_host_goes_direct(t) -> void:
	var proxy := _proxy(t)
	if proxy.is_empty():
		return
	var c := RustWebSocketPeer.new()
	c.set_http_proxy(proxy[0], proxy[1])
	c.set_http_proxy("proxy with spaces", 8080)
	t.check_logged("set_http_proxy must be")
	c.set_https_proxy("127.0.0.1", 70000)
	t.check_logged("set_https_proxy must be")
	var s := WebSocketPeer.new()
	if not t.check(await U.connect_pair(t, c, s) != 0, "open"):
		return
	t.eq(c.get_connected_port(), proxy[1], "the good setting was kept")
	c.close()
	await U.wait_closed(t, c, s)
	c.set_http_proxy("", 0)
	s = WebSocketPeer.new()
	var port: int = await U.connect_pair(t, c, s)
	t.eq(c.get_connected_port(), port, "an empty host connects directly")


func test_multiplayer_client_through_the_proxy_to_the_engine_server(t) -> void:
	var proxy := _proxy(t)
	if proxy.is_empty():
		return
	var port := U.free_port()
	var server := WebSocketMultiplayerPeer.new()
	if not t.eq(server.create_server(port, "127.0.0.1"), OK, "the engine's create_server"):
		return
	var c := RustWebSocketMultiplayerPeer.new()
	c.set_http_proxy(proxy[0], proxy[1])
	t.eq(c.create_client("ws://127.0.0.1:%d" % port), OK, "create_client")
	await t.until(func(): return c.get_connection_status() == MultiplayerPeer.CONNECTION_CONNECTED, [server, c], "connected through the proxy")
	t.eq(c.get_peer(1).get_connected_port(), proxy[1], "the link's socket is the proxy's")
	c.put_packet(PackedByteArray([42]))
	await t.until(func(): return server.get_available_packet_count() > 0, [server, c], "the packet")
	t.eq(server.get_packet_peer(), c.get_unique_id(), "from the client")
	t.eq(server.get_packet(), PackedByteArray([42]), "intact")

	var refused := RustWebSocketMultiplayerPeer.new()
	refused.set_http_proxy("gamer:wrong@127.0.0.1", proxy[1])
	t.eq(refused.create_client("ws://127.0.0.1:%d" % port), OK, "create_client")
	await t.until(func(): return refused.get_connection_status() == MultiplayerPeer.CONNECTION_DISCONNECTED, [server, c, refused], "the refused client to give up")
	t.check_logged("HTTP proxy")
	c.close()
	server.close()
