## Which certificates a wss:// client trusts when the game names none, for
## the engine's classes and ours side by side: a TLS server (the engine's
## StreamPeerTLS, and its WebSocketMultiplayerPeer) with a certificate from
## a private CA in res://trust/, and clients with no TLSOptions and with
## TLSOptions.client() without a chain. tests/trust/run_trust.sh puts the CA
## in the system bundle, in the project's bundle override, or nowhere, and
## says whether every client must open ("open") or none may ("fail").
## Prints one line per client and "trust: 1 passed, 0 failed" (or 0, 1).
extends SceneTree

const TIMEOUT_MS := 15000

var expect := ""
var failed := 0
var lines: PackedStringArray = []


func _initialize() -> void:
	expect = OS.get_cmdline_user_args()[0] if OS.get_cmdline_user_args().size() > 0 else ""
	_run.call_deferred()


func _check(ok: bool, what: String) -> void:
	print(("ok   " if ok else "FAIL ") + what)
	if not ok:
		failed += 1


func _server_tls() -> TLSOptions:
	var cert := X509Certificate.new()
	var key := CryptoKey.new()
	if cert.load("res://trust/server.crt") != OK or key.load("res://trust/server.key") != OK:
		return null
	return TLSOptions.server(key, cert)


## Waits until `done` holds or the time is up, polling `peers` each frame.
func _until(done: Callable, peers: Array) -> void:
	var deadline := Time.get_ticks_msec() + TIMEOUT_MS
	while not done.call() and Time.get_ticks_msec() < deadline:
		for p in peers:
			p.poll()
		await process_frame


func _run() -> void:
	var server_tls := _server_tls()
	if server_tls == null or expect not in ["open", "fail"]:
		_check(false, "the test's certificate in res://trust/ and an expectation (open or fail)")
		return _finish()
	await _peers(server_tls)
	await _multiplayer(server_tls)
	_finish()


## A WebSocket client of each class, with no TLSOptions and with
## TLSOptions.client(), against one wss:// server each.
func _peers(server_tls: TLSOptions) -> void:
	for cls in ["WebSocketPeer", "RustWebSocketPeer"]:
		for options in [null, TLSOptions.client()]:
			var what := "%s, %s" % [cls, "no TLSOptions" if options == null else "TLSOptions.client()"]
			var tcp := TCPServer.new()
			tcp.listen(0, "127.0.0.1")
			var client = ClassDB.instantiate(cls)
			client.connect_to_url("wss://localhost:%d/" % tcp.get_local_port(), options)
			var server := WebSocketPeer.new()
			var tls := StreamPeerTLS.new()
			var accepted := [false]
			await _until(func():
				if not accepted[0] and tcp.is_connection_available():
					tls.accept_stream(tcp.take_connection(), server_tls)
					server.accept_stream(tls)
					accepted[0] = true
				return client.get_ready_state() != WebSocketPeer.STATE_CONNECTING, [client, server])
			var opened: bool = client.get_ready_state() == WebSocketPeer.STATE_OPEN
			if opened:
				client.send_text("hello")
				await _until(func(): return server.get_available_packet_count() > 0, [client, server])
				opened = server.get_available_packet_count() > 0
			_check(opened == (expect == "open"), "%s: %s" % [what, "opened and sent" if opened else "refused"])
			if cls == "RustWebSocketPeer" and expect == "fail":
				_check(client.get_failure() == RustWebSocketPeer.FAILURE_TLS_UNKNOWN_ISSUER, "%s: the failure is FAILURE_TLS_UNKNOWN_ISSUER (%s)" % [what, client.get_failure_reason()])
			client.close()
			tcp.stop()


## A multiplayer client of each class against the engine's wss:// server.
func _multiplayer(server_tls: TLSOptions) -> void:
	for cls in ["WebSocketMultiplayerPeer", "RustWebSocketMultiplayerPeer"]:
		var probe := TCPServer.new()
		probe.listen(0, "127.0.0.1")
		var port := probe.get_local_port()
		probe.stop()
		var server := WebSocketMultiplayerPeer.new()
		if server.create_server(port, "127.0.0.1", server_tls) != OK:
			_check(false, "the engine's wss:// multiplayer server")
			continue
		var client = ClassDB.instantiate(cls)
		client.create_client("wss://localhost:%d" % port)
		await _until(func(): return client.get_connection_status() != MultiplayerPeer.CONNECTION_CONNECTING, [client, server])
		var connected: bool = client.get_connection_status() == MultiplayerPeer.CONNECTION_CONNECTED
		_check(connected == (expect == "open"), "%s client: %s" % [cls, "connected" if connected else "refused"])
		client.close()
		server.close()


func _finish() -> void:
	print("trust: %d passed, %d failed" % [1 if failed == 0 else 0, 1 if failed > 0 else 0])
	quit(1 if failed > 0 else 0)
