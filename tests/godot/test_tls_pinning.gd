## A pinned chain on a server reached by address, beside the engine's
## classes: the server's certificate is for game.example, signed by CA A,
## and the client dials wss://127.0.0.1. TLSOptions.client_unsafe(chain)
## still verifies the certificate against the chain and skips only the
## host-name check; client_unsafe() checks nothing; client(chain) checks
## both. Each row is run with the engine's class and ours, and with each
## class that dials: the peer, the multiplayer client, the client node.
## Godot 4.3's own classes answer two rows otherwise (client_unsafe(CA_B)
## opens: the chain is not checked; client_unsafe() fails): there the
## engine's answers are printed beside ours, and ours keep the later
## engine's rule, which is never weaker on the chain.
extends RefCounted

const U := preload("ws_util.gd")

## [label, options maker, opens?]. The options are made per attempt.
var ROWS := [
	["client_unsafe(CA_B)", func(c): return TLSOptions.client_unsafe(c.b), false],
	["client_unsafe(CA_A)", func(c): return TLSOptions.client_unsafe(c.a), true],
	["client_unsafe()", func(_c): return TLSOptions.client_unsafe(), true],
	["client(CA_A)", func(c): return TLSOptions.client(c.a), false],
]


## The certificates of res://certs/ (made by the test project's setup).
class Certs:
	var a := X509Certificate.new()
	var b := X509Certificate.new()
	var server: TLSOptions

	func load_all(t) -> bool:
		var cert := X509Certificate.new()
		var key := CryptoKey.new()
		var ok: bool = t.eq(a.load("res://certs/ca_a.pem"), OK, "load CA A") \
			and t.eq(b.load("res://certs/ca_b.pem"), OK, "load CA B") \
			and t.eq(cert.load("res://certs/game.pem"), OK, "load the game.example certificate") \
			and t.eq(key.load("res://certs/game_key.pem"), OK, "load its key")
		server = TLSOptions.server(key, cert)
		return ok


## A wss:// server of the engine's WebSocketPeer on 127.0.0.1 with the
## game.example certificate, accepting every connection.
class Server:
	var tcp := TCPServer.new()
	var peers: Array = []
	var tls: TLSOptions

	func _init(options: TLSOptions) -> void:
		tls = options
		tcp.listen(0, "127.0.0.1")

	func url() -> String:
		return "wss://127.0.0.1:%d/" % tcp.get_local_port()

	func poll() -> void:
		while tcp.is_connection_available():
			var stream := StreamPeerTLS.new()
			stream.accept_stream(tcp.take_connection(), tls)
			var p := WebSocketPeer.new()
			p.accept_stream(stream)
			peers.append(p)
		for p in peers:
			p.poll()


## Whether a peer class opens a link to the server with each row's options.
func _peer_opens(t, cls, certs: Certs, row: Array) -> bool:
	var srv := Server.new(certs.server)
	var c = cls.new()
	t.eq(c.connect_to_url(srv.url(), row[1].call(certs)), OK, "%s: connect_to_url" % row[0])
	await t.until(func(): return c.get_ready_state() != WebSocketPeer.STATE_CONNECTING, [c, srv], "%s: the attempt to end" % row[0])
	return c.get_ready_state() == WebSocketPeer.STATE_OPEN


## Whether the running engine's classes have the rule these rows expect
## (4.4 and later).
func _engine_has_the_rule() -> bool:
	var v := Engine.get_version_info()
	return v.major > 4 or (v.major == 4 and v.minor >= 4)


## Checks the engine's answer where it has the rule; elsewhere prints it.
func _engine_answer(t, got: bool, row: Array, what: String) -> void:
	if _engine_has_the_rule():
		t.eq(got, row[2], "%s with %s opens: %s" % [what, row[0], row[2]])
	else:
		print("  %s with %s on Godot %s opens: %s (ours: %s)" % [what, row[0], Engine.get_version_info().string, got, row[2]])


func _listening_server(t, certs: Certs) -> Array:
	for i in 10:
		var port := U.free_port()
		var server := WebSocketMultiplayerPeer.new()
		if server.create_server(port, "127.0.0.1", certs.server) == OK:
			return [server, port]
	t.check(false, "no port for the multiplayer server")
	return []


func test_peer_rows_beside_the_engine(t) -> void:
	var certs := Certs.new()
	if not certs.load_all(t):
		return
	for row in ROWS:
		var engine: bool = await _peer_opens(t, WebSocketPeer, certs, row)
		var ours: bool = await _peer_opens(t, RustWebSocketPeer, certs, row)
		_engine_answer(t, engine, row, "the engine's WebSocketPeer")
		t.eq(ours, row[2], "RustWebSocketPeer with %s opens: %s (as the engine's)" % [row[0], row[2]])


func test_multiplayer_rows_beside_the_engine(t) -> void:
	var certs := Certs.new()
	if not certs.load_all(t):
		return
	for row in ROWS:
		var results := []
		for cls in [WebSocketMultiplayerPeer, RustWebSocketMultiplayerPeer]:
			var made := _listening_server(t, certs)
			if made.is_empty():
				return
			var server: WebSocketMultiplayerPeer = made[0]
			var c = cls.new()
			t.eq(c.create_client("wss://127.0.0.1:%d" % made[1], row[1].call(certs)), OK, "%s: create_client" % row[0])
			await t.until(func():
				server.poll()
				return c.get_connection_status() != MultiplayerPeer.CONNECTION_CONNECTING, [c], "%s: the join to end" % row[0])
			results.append(c.get_connection_status() == MultiplayerPeer.CONNECTION_CONNECTED)
			c.close()
			server.close()
		_engine_answer(t, results[0], row, "the engine's multiplayer client")
		t.eq(results[1], row[2], "RustWebSocketMultiplayerPeer with %s joins: %s (as the engine's)" % [row[0], row[2]])


## The client node's settings for the same rows: tls_verify off is
## client_unsafe(tls_trusted_chain).
func test_client_node_rows(t) -> void:
	var certs := Certs.new()
	if not certs.load_all(t):
		return
	var rows := [
		["tls_verify off, CA B", false, certs.b, false],
		["tls_verify off, CA A", false, certs.a, true],
		["tls_verify off, no chain", false, null, true],
		["tls_verify on, CA A", true, certs.a, false],
	]
	for row in rows:
		var srv := Server.new(certs.server)
		var c := RustWebSocketClient.new()
		c.autoconnect = false
		c.url = srv.url()
		c.reconnect_enabled = false
		c.tls_verify = row[1]
		c.tls_trusted_chain = row[2]
		var events := []
		c.connected.connect(func(): events.append("connected"))
		c.closed.connect(func(_code, _reason): events.append("closed"))
		t.get_root().add_child(c)
		c.connect_to_url()
		await t.until(func(): return not events.is_empty(), [srv], "%s: the attempt to end" % row[0])
		t.eq(events.has("connected"), row[3], "the client node with %s opens: %s" % [row[0], row[3]])
		c.queue_free()
