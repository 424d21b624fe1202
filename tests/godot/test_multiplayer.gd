## RustWebSocketMultiplayerPeer under Godot's high-level multiplayer API:
## RPCs between a server and two clients, with our class and the engine's
## WebSocketMultiplayerPeer mixed on either side, over ws:// and wss://;
## ids, relayed RPCs, peer signals, get_peer, disconnects and bad input.
extends RefCounted

const OURS := "RustWebSocketMultiplayerPeer"
const ENGINE := "WebSocketMultiplayerPeer"
const U := preload("ws_util.gd")


class Game extends Node:
	var got: Array = []

	@rpc("any_peer", "reliable")
	func hello(text: String) -> void:
		got.append([multiplayer.get_remote_sender_id(), text])


## One node tree per peer, each with its own SceneMultiplayer and a "Game".
func _endpoint(t, name: String, peer: MultiplayerPeer) -> Game:
	var root := Node.new()
	root.name = name
	t.root.add_child(root)
	var game := Game.new()
	game.name = "Game"
	root.add_child(game)
	var mp := SceneMultiplayer.new()
	t.set_multiplayer(mp, root.get_path())
	mp.multiplayer_peer = peer
	return game


func _teardown(t, games: Array) -> void:
	for g in games:
		var root: Node = g.get_parent()
		g.multiplayer.multiplayer_peer.close()
		g.multiplayer.multiplayer_peer = null
		t.set_multiplayer(null, root.get_path())
		root.queue_free()
	await t.process_frame


func _session(t, server_cls: String, client_classes: Array, tls: Array = []) -> void:
	var label := "%s server, %s clients%s" % [server_cls, ", ".join(client_classes), " over wss" if tls else ""]
	var port := U.free_port()
	var server = ClassDB.instantiate(server_cls)
	var server_tls: TLSOptions = TLSOptions.server(tls[1], tls[0]) if tls else null
	if not t.eq(server.create_server(port, "127.0.0.1", server_tls), OK, label + ": create_server"):
		return
	var joined := []
	server.peer_connected.connect(func(id): joined.append(id))
	var games: Array = [_endpoint(t, "server", server)]
	var url := "%s://%s:%d/" % ["wss" if tls else "ws", "localhost" if tls else "127.0.0.1", port]
	for i in client_classes.size():
		var c = ClassDB.instantiate(client_classes[i])
		t.eq(c.create_client(url, TLSOptions.client(tls[0]) if tls else null), OK, label + ": create_client")
		games.append(_endpoint(t, "client%d" % i, c))
	var ok: bool = await t.until(func():
		return games[0].multiplayer.get_peers().size() == 2 and games.slice(1).all(func(g):
			return g.multiplayer.multiplayer_peer.get_connection_status() == MultiplayerPeer.CONNECTION_CONNECTED), [], label + ": everyone connected")
	if not ok:
		await _teardown(t, games)
		return
	var a: Game = games[1]
	var b: Game = games[2]
	var ida := a.multiplayer.get_unique_id()
	var idb := b.multiplayer.get_unique_id()
	t.check(ida > 1 and idb > 1 and ida != idb, label + ": clients have distinct ids (%d, %d)" % [ida, idb])
	joined.sort()
	var want := [ida, idb]
	want.sort()
	t.eq(joined, want, label + ": peer_connected on the server for each client")
	t.eq(games[0].multiplayer.get_unique_id(), 1, label + ": the server is peer 1")
	if server_cls == OURS:
		var link = server.get_peer(ida)
		t.check(link is RustWebSocketPeer and link.get_ready_state() == 1, label + ": get_peer returns an open RustWebSocketPeer")
		t.eq(server.get_peer_address(ida), "127.0.0.1", label + ": get_peer_address")
		t.check(server.get_peer_port(ida) > 0, label + ": get_peer_port")

	# Clients learn of each other from the server (SceneMultiplayer's relay).
	await t.until(func(): return Array(a.multiplayer.get_peers()).has(idb), [], label + ": a knows of b")
	a.hello.rpc_id(1, "hi from a")
	games[0].hello.rpc("to everyone")
	a.hello.rpc_id(idb, "a to b, relayed")
	await t.until(func(): return games[0].got.size() >= 1 and a.got.size() >= 1 and b.got.size() >= 2, [], label + ": RPCs delivered")
	t.eq(games[0].got, [[ida, "hi from a"]], label + ": server got the client's RPC with its id")
	t.eq(a.got, [[1, "to everyone"]], label + ": client a got the broadcast")
	t.check(b.got.has([1, "to everyone"]), label + ": client b got the broadcast")
	t.check(b.got.has([ida, "a to b, relayed"]), label + ": client b got a's RPC through the server")

	var big := "x".repeat(30000)
	b.hello.rpc_id(1, big)
	await t.until(func(): return games[0].got.size() >= 2, [], label + ": a 30 KB RPC")
	t.eq(games[0].got.back(), [idb, big], label + ": 30 KB RPC intact")

	var left := []
	games[0].multiplayer.peer_disconnected.connect(func(id): left.append(id))
	var server_gone := [false]
	b.multiplayer.server_disconnected.connect(func(): server_gone[0] = true)
	server.disconnect_peer(idb)
	await t.until(func(): return left.has(idb) and server_gone[0], [], label + ": b disconnected on both ends")
	t.eq(b.multiplayer.multiplayer_peer.get_connection_status(), MultiplayerPeer.CONNECTION_DISCONNECTED, label + ": b is disconnected")
	t.eq(games[0].multiplayer.get_peers(), PackedInt32Array([ida]), label + ": the server keeps a")
	await _teardown(t, games)


func test_ours_server_with_engine_and_our_clients(t) -> void:
	await _session(t, OURS, [ENGINE, OURS])


func test_engine_server_with_our_clients(t) -> void:
	await _session(t, ENGINE, [OURS, OURS])


func test_ours_server_ours_clients(t) -> void:
	await _session(t, OURS, [OURS, ENGINE])


func test_wss_ours_server_engine_client(t) -> void:
	var files := U.tls_files(t)
	if files:
		await _session(t, OURS, [ENGINE, OURS], files)


func test_wss_engine_server_our_clients(t) -> void:
	var files := U.tls_files(t)
	if files:
		await _session(t, ENGINE, [OURS, OURS], files)


func test_bad_input_is_refused_with_reasons(t) -> void:
	var p := RustWebSocketMultiplayerPeer.new()
	t.eq(p.put_packet(PackedByteArray([1])), ERR_UNCONFIGURED, "put_packet before create_*")
	t.eq(p.create_server(70000), ERR_INVALID_PARAMETER, "port out of range")
	t.check_logged("port")
	t.eq(p.create_server(0, "nowhere"), ERR_CANT_CREATE, "bind_address that is not an IP")
	t.check_logged("not an IP")
	t.eq(p.create_server(0, "127.0.0.1", TLSOptions.client()), ERR_INVALID_PARAMETER, "client TLS options for a server")
	t.check_logged("TLSOptions.server")
	var taken := TCPServer.new()
	taken.listen(0, "127.0.0.1")
	t.eq(p.create_server(taken.get_local_port(), "127.0.0.1"), ERR_ALREADY_IN_USE, "a port in use")
	taken.stop()
	t.eq(p.create_client("nonsense://x"), ERR_INVALID_PARAMETER, "a bad URL")
	t.eq(p.create_server(0, "127.0.0.1"), OK, "create_server")
	t.eq(p.create_client("ws://127.0.0.1:1/"), ERR_ALREADY_IN_USE, "create_client on a server")
	t.check(p.get_peer(12345) == null, "get_peer of an unknown id")
	t.check_logged("12345")
	p.handshake_timeout = -1.0
	t.eq(p.handshake_timeout, 3.0, "a negative handshake_timeout is refused")
	p.handshake_timeout = 1e300
	t.eq(p.handshake_timeout, 1e300, "a huge handshake_timeout is kept (as never)")
	p.poll()
	t.check(not t.logged("panic"), "no panic for a huge handshake_timeout")
	p.close()
	t.eq(p.get_connection_status(), MultiplayerPeer.CONNECTION_DISCONNECTED, "closed")


func test_client_gives_up_on_a_server_that_sends_no_id(t) -> void:
	# A plain WebSocket server (RustWebSocketPeer) never sends a peer id.
	var tcp := TCPServer.new()
	tcp.listen(0, "127.0.0.1")
	var p := RustWebSocketMultiplayerPeer.new()
	p.handshake_timeout = 0.5
	t.eq(p.create_client("ws://127.0.0.1:%d/" % tcp.get_local_port()), OK, "create_client")
	var connected := [false]
	p.peer_connected.connect(func(_id): connected[0] = true)
	var s := RustWebSocketPeer.new()
	await t.until(func():
		if tcp.is_connection_available():
			s.accept_stream(tcp.take_connection())
		return p.get_connection_status() == MultiplayerPeer.CONNECTION_DISCONNECTED, [p, s], "the client to give up")
	t.check(not connected[0], "no peer_connected without an id")
	tcp.stop()


func test_refuse_new_connections_keeps_existing_peers(t) -> void:
	var port := U.free_port()
	var server := RustWebSocketMultiplayerPeer.new()
	t.eq(server.create_server(port, "127.0.0.1"), OK, "create_server")
	var a := RustWebSocketMultiplayerPeer.new()
	a.create_client("ws://127.0.0.1:%d" % port)
	await t.until(func(): return a.get_connection_status() == MultiplayerPeer.CONNECTION_CONNECTED, [server, a], "a connected")
	server.refuse_new_connections = true
	t.check(server.refuse_new_connections, "refuse_new_connections reads back")
	var b := WebSocketMultiplayerPeer.new()
	b.handshake_timeout = 0.5
	b.create_client("ws://127.0.0.1:%d" % port)
	await t.until(func(): return b.get_connection_status() == MultiplayerPeer.CONNECTION_DISCONNECTED, [server, a, b], "b refused")
	t.eq(a.get_connection_status(), MultiplayerPeer.CONNECTION_CONNECTED, "a stays")
	a.put_packet(PackedByteArray([9]))
	await t.until(func(): return server.get_available_packet_count() > 0, [server, a], "a's packet")
	t.eq(server.get_packet_peer(), a.get_unique_id(), "the packet is from a")
	t.eq(server.get_packet(), PackedByteArray([9]), "a's packet arrives")
	server.close()
	a.close()


## Sends `size` bytes from `from` to `to` and checks they arrive intact.
func _big_packet(t, from, to, size: int, what: String) -> void:
	var big := U.pattern(size)
	t.eq(from.put_packet(big), OK, what)
	await t.until(func(): return to.get_available_packet_count() > 0, [to, from], what + " to arrive")
	t.eq(to.get_packet(), big, what + ": intact")


func test_settings_reach_the_links(t) -> void:
	var port := U.free_port()
	var server := RustWebSocketMultiplayerPeer.new()
	var client := RustWebSocketMultiplayerPeer.new()
	for p in [server, client]:
		p.supported_protocols = PackedStringArray(["game-v2"])
		p.inbound_buffer_size = 1 << 20
		p.outbound_buffer_size = 1 << 20
		p.max_queued_packets = 64
		p.handshake_timeout = 5.0
	client.handshake_headers = PackedStringArray(["X-Player: tester"])
	t.eq(client.handshake_headers, PackedStringArray(["X-Player: tester"]), "handshake_headers reads back")
	t.eq(client.handshake_timeout, 5.0, "handshake_timeout reads back")
	t.eq(server.create_server(port, "127.0.0.1"), OK, "create_server")
	t.eq(client.create_client("ws://127.0.0.1:%d/" % port), OK, "create_client")
	await t.until(func(): return client.get_connection_status() == MultiplayerPeer.CONNECTION_CONNECTED and server.get_available_packet_count() == 0 and Array([client.get_unique_id()]).all(func(id): return server.get_peer(id) != null if id > 1 else false), [server, client], "connected")
	var link: RustWebSocketPeer = server.get_peer(client.get_unique_id())
	t.eq(link.get_selected_protocol(), "game-v2", "sub-protocol agreed on the server's link")
	t.eq(client.get_peer(1).get_selected_protocol(), "game-v2", "and on the client's")
	t.eq(link.inbound_buffer_size, 1 << 20, "inbound_buffer_size reached the link")
	t.eq(link.max_queued_packets, 64, "max_queued_packets reached the link")
	await _big_packet(t, client, server, 300000, "a 300 KB packet (over the engine's 64 KiB default)")
	server.close()
	client.close()


func test_handshake_headers_reach_the_wire(t) -> void:
	var tcp: TCPServer = U.listen(t)
	var client := RustWebSocketMultiplayerPeer.new()
	client.handshake_headers = PackedStringArray(["X-Player: tester", "Cookie: team=red"])
	client.supported_protocols = PackedStringArray(["game-v2"])
	t.eq(client.create_client("ws://127.0.0.1:%d/lobby" % tcp.get_local_port()), OK, "create_client")
	var expected := {"X-Player": "tester", "Cookie": "team=red", "Sec-WebSocket-Protocol": "game-v2"}
	await U.expect_request(t, tcp, client, "/lobby", expected)
	client.close()


func test_link_settings_follow_the_peer_rules(t) -> void:
	var port := U.free_port()
	var server := RustWebSocketMultiplayerPeer.new()
	var client := RustWebSocketMultiplayerPeer.new()
	client.outbound_buffer_size = -5
	t.eq(client.outbound_buffer_size, 65535, "a negative outbound_buffer_size is refused")
	t.check_logged("outbound_buffer_size must be 0 (no limit) or more")
	client.outbound_buffer_size = 0
	t.eq(client.outbound_buffer_size, 0, "0 (no limit) is accepted, as by RustWebSocketPeer and the engine")
	client.supported_protocols = PackedStringArray([" game-v3 "])
	server.supported_protocols = PackedStringArray(["game-v3"])
	server.inbound_buffer_size = 1 << 20
	t.eq(server.create_server(port, "127.0.0.1"), OK, "create_server")
	t.eq(client.create_client("ws://127.0.0.1:%d/" % port), OK, "create_client")
	await t.until(func(): return client.get_connection_status() == MultiplayerPeer.CONNECTION_CONNECTED, [server, client], "connected")
	var link: RustWebSocketPeer = client.get_peer(1)
	t.eq(link.outbound_buffer_size, 0, "0 reached the link")
	t.eq(link.supported_protocols, PackedStringArray(["game-v3"]), "the link trims sub-protocols as its own setter does")
	t.eq(link.get_selected_protocol(), "game-v3", "and the trimmed one was agreed")
	await _big_packet(t, client, server, 200000, "a 200 KB packet with no outbound limit")
	server.close()
	client.close()


## The packet-level calls a game makes on the peer itself: untyped (bound
## directly on our class), through a MultiplayerPeer-typed variable (the
## engine virtual methods SceneMultiplayer uses) and typed as our class
## (pointer calls) give the engine's class's answers.
func test_packet_level_calls_match_the_engines(t) -> void:
	var answers := {}
	for cls in [ENGINE, OURS]:
		answers[cls] = await _packet_calls(t, cls)
	t.eq(answers[OURS], answers[ENGINE], "the same answers as the engine's class")


func _packet_calls(t, cls: String) -> Array:
	var out := []
	var port := U.free_port()
	var server = ClassDB.instantiate(cls)
	var client = ClassDB.instantiate(cls)
	out.append(client.get_available_packet_count())
	if not t.eq(server.create_server(port, "127.0.0.1"), OK, cls + " create_server"):
		return out
	t.eq(client.create_client("ws://127.0.0.1:%d/" % port), OK, cls + " create_client")
	var id := [0]
	server.peer_connected.connect(func(i): id[0] = i)
	if not await t.until(func(): return client.get_connection_status() == MultiplayerPeer.CONNECTION_CONNECTED and id[0] != 0, [server, client], cls + " connected"):
		return out
	client.set_target_peer(1)
	out.append(client.put_packet("one".to_utf8_buffer()))
	var client_mp: MultiplayerPeer = client
	client_mp.set_target_peer(1)
	out.append(client_mp.put_packet("two".to_utf8_buffer()))
	client.put_var({"three": 3})
	t.check(await t.until(func(): return server.get_available_packet_count() == 3, [server, client], cls + " three packets"), cls + " packets arrive")
	out.append(server.get_available_packet_count())
	out.append(server.get_packet_peer() == id[0])
	out.append(server.get_packet().get_string_from_utf8())
	out.append(server.get_packet_error())
	var server_mp: MultiplayerPeer = server
	out.append(server_mp.get_available_packet_count())
	out.append(server_mp.get_packet_peer() == id[0])
	out.append(server_mp.get_packet().get_string_from_utf8())
	out.append(server_mp.get_packet_error())
	out.append(server.get_var())
	out.append(server.get_packet_error())
	out.append(server.get_available_packet_count())
	out.append(server.get_packet())
	out.append(server.get_packet_error())
	server.set_target_peer(id[0])
	out.append(server.put_packet("back".to_utf8_buffer()))
	server_mp.set_target_peer(id[0])
	out.append(server_mp.put_packet("again".to_utf8_buffer()))
	t.check(await t.until(func(): return client.get_available_packet_count() == 2, [server, client], cls + " answers"), cls + " answers arrive")
	if cls == OURS:
		var typed: RustWebSocketMultiplayerPeer = client
		out.append(typed.get_packet_peer())
		out.append(typed.get_packet().get_string_from_utf8())
		out.append(typed.get_packet_error())
		typed.set_target_peer(1)
		out.append(typed.put_packet("typed".to_utf8_buffer()))
	else:
		out.append(client.get_packet_peer())
		out.append(client.get_packet().get_string_from_utf8())
		out.append(client.get_packet_error())
		client.set_target_peer(1)
		out.append(client.put_packet("typed".to_utf8_buffer()))
	out.append(client.get_packet().get_string_from_utf8())
	out.append(client.get_available_packet_count())
	t.check(await t.until(func(): return server.get_available_packet_count() == 1, [server, client], cls + " typed packet"), cls + " typed packet arrives")
	out.append(server.get_packet().get_string_from_utf8())
	server.close()
	client.close()
	return out
