## Runs each demo scene of godot-project headless for a bounded time and
## asserts that the round trip it shows really happened.
## DEMO_EXPECT_NATIVE says which classes they must run on: 1, the
## extension's (loaded); 0, the engine's (the extension left out, as on Web,
## Android and iOS).
extends RefCounted

const WebSockets = preload("res://addons/rust_websocket/websockets.gd")
const NAMES := ["Alice", "Bob", "Carol"]


## Whether the extension's classes are expected here (DEMO_EXPECT_NATIVE).
func _native() -> bool:
	return OS.get_environment("DEMO_EXPECT_NATIVE") != "0"


func test_the_expected_classes_are_in_use(t) -> void:
	t.eq(WebSockets.is_native(), _native(), "the extension is loaded" if _native() else "the extension is not loaded")
	var peer_class := "RustWebSocketPeer" if _native() else "WebSocketPeer"
	t.eq(WebSockets.new_peer().get_class(), peer_class, "new_peer() makes a " + peer_class)
	t.eq(WebSockets.peer_class(), peer_class, "peer_class()")
	var mp_class := "RustWebSocketMultiplayerPeer" if _native() else "WebSocketMultiplayerPeer"
	t.eq(WebSockets.new_multiplayer_peer().get_class(), mp_class, "new_multiplayer_peer() makes a " + mp_class)
	var client: Node = WebSockets.new_client()
	t.eq(client.get_class(), "RustWebSocketClient" if _native() else "Node", "new_client() makes the native node or its stand-in")
	t.check(client.has_signal("reconnecting") and client.has_method("send_text"), "with the same signals and methods")
	t.check(client.has_signal("pong_received") and client.has_method("get_statistics") and client.has_method("ping"), "with the statistics calls")
	var s: Dictionary = WebSockets.statistics(client)
	for key in WebSockets.STATISTICS_KEYS + ["reconnects"]:
		t.check(s.has(key), "statistics key " + key)
	t.eq(WebSockets.round_trip_time(client), -1.0, "no round trip before a pong")
	if not _native():
		t.eq(client.ping(), ERR_UNAVAILABLE, "the stand-in cannot ping")
		var bare := WebSockets.statistics(WebSocketPeer.new())
		t.eq([bare.rtt_ms, bare.messages_in, bare.queued_in], [-1, -1, 0], "the engine's peer: what it can know")
	client.free()


func _start(t, path: String, settings: Dictionary) -> Node:
	var scene: Node = load(path).instantiate()
	for key in settings:
		scene.set(key, settings[key])
	t.root.add_child(scene)
	return scene


func test_client_demo_echoes_test_packet(t) -> void:
	var scene := _start(t, "res://demos/client/client.tscn", {"local_server_port": 0})
	await t.until(func(): return scene.received_texts.has("Test packet"), [], "the echo of Test packet", 10.0)
	t.check(scene.log_lines.has("< Got text data from server: Test packet"), "client printed the echo")
	t.check(scene.local_server.log_lines.has("[server] Peer 1 says: Test packet"), "server saw the packet")
	scene.socket.close(4000, "demo over")
	await t.until(func(): return scene.close_code != 0, [], "the client to report the close", 10.0)
	t.eq(scene.close_code, 4000, "clean close code")
	await t.until(func(): return scene.local_server.peers.is_empty(), [], "the server to drop the peer", 10.0)
	scene.queue_free()


func test_server_demo_echoes_text_and_binary(t) -> void:
	var scene := _start(t, "res://demos/server/server.tscn", {"port": 0})
	var closes := []
	scene.peer_closed.connect(func(id, code, reason): closes.append([id, code, reason]))
	var client := WebSocketPeer.new()  # the engine's own class as the client
	t.eq(client.connect_to_url("ws://127.0.0.1:%d/" % scene.port), OK, "engine client connects")
	await t.until(func(): return client.get_ready_state() == WebSocketPeer.STATE_OPEN, [client], "open", 10.0)
	client.send_text("hello server ✓")
	client.put_packet(PackedByteArray([1, 2, 3]))
	var got := []
	await t.until(func():
		while client.get_available_packet_count():
			var p := client.get_packet()
			got.append(p.get_string_from_utf8() if client.was_string_packet() else p)
		return got.size() == 2, [client], "two echoes", 10.0)
	t.eq(got, ["hello server ✓", PackedByteArray([1, 2, 3])], "text and binary echoed")
	t.check(scene.log_lines.has("[server] Peer 1 connecting from 127.0.0.1"), "the connection's address is still readable after accept_stream: %s" % [scene.log_lines])
	client.close(4001, "client leaves")
	await t.until(func(): return closes.size() == 1, [client], "the server to report the close", 10.0)
	t.eq(closes, [[1, 4001, "client leaves"]], "close code and reason reported")
	scene.queue_free()


func test_client_server_demo_ping_and_close(t) -> void:
	var scene := _start(t, "res://demos/client_server/client_server.tscn", {"port": 0})
	await t.until(func(): return scene.client.get_ready_state() == WebSocketPeer.STATE_OPEN, [], "open", 10.0)
	for i in 3:
		scene.ping()
	await t.until(func(): return scene.pongs_received == 3, [], "three echoes", 10.0)
	t.check(scene.log_lines.has("client: echo \"ping #3\""), "echo logged")
	scene.close_link()
	await t.until(func(): return scene.client.get_ready_state() == WebSocketPeer.STATE_CLOSED, [], "closed", 10.0)
	await t.until(func(): return scene.log_lines.has("server: peer 1 closed (1000, \"bye from the client\")"), [], "server close report", 10.0)
	scene.reconnect()
	await t.until(func(): return scene.client.get_ready_state() == WebSocketPeer.STATE_OPEN, [], "reopened", 10.0)
	scene.queue_free()


func test_chat_demo_relays_to_everyone(t) -> void:
	var scene := _start(t, "res://demos/chat/chat.tscn", {"port": 0})
	# A client only sees the joins that happen after its own connection, so
	# wait for the last join, which every client must see.
	await t.until(func(): return scene.server.log_lines.size() >= 3, [], "three joins", 10.0)
	var last: String = scene.server.log_lines[2] if scene.server.log_lines.size() >= 3 else "?"
	await t.until(func(): return scene.logs.all(func(l): return l.has(last)), [], "everyone to see " + last, 10.0)
	scene.say(0, "hello room")
	scene.say(2, "hi Alice")
	await t.until(func(): return scene.logs.all(func(l): return l.has("Alice: hello room") and l.has("Carol: hi Alice")), [], "the messages to reach all", 10.0)
	t.eq(scene.clients[1].get_peer().get_selected_protocol(), "demo-chat", "sub-protocol agreed")
	# The overlay of each column: the round trip (measured natively, n/a
	# over the engine's class) and messages per second that moved.
	await t.until(func(): return scene.overlays.all(func(o): return o.shown.has("rtt_ms") and (o.shown.rtt_ms >= 0.0 or not _native())), [], "the overlays' round trips", 10.0)
	for o in scene.overlays:
		t.check(o.text.begins_with("RTT ") and o.text.contains("msg/s"), "overlay line: " + o.text)
		t.check(o.text.contains("ms") if _native() else o.text.begins_with("RTT n/a"), "round trip shown as the classes allow: " + o.text)
	var client_class := "RustWebSocketClient" if _native() else "Node"
	t.check(scene.clients.all(func(c): return c.get_class() == client_class), "every column uses a " + client_class)
	# The server restarts: every client comes back by itself, and says its
	# name again.
	scene.restart_server()
	var joins := func(who: String) -> int: return Array(scene.server.log_lines).count("* %s joined" % who)
	await t.until(func(): return NAMES.all(func(n): return joins.call(n) == 2), [], "everyone back after the restart", 15.0)
	await t.until(func(): return scene.clients.all(func(c): return c.get_ready_state() == WebSocketPeer.STATE_OPEN), [], "every client open", 10.0)
	scene.say(1, "still here")
	await t.until(func(): return scene.logs.all(func(l): return l.has("Bob: still here")), [], "a message after the restart reaches all", 10.0)
	scene.clients[1].close(1000, "bye")
	await t.until(func(): return scene.logs[0].has("* Bob left"), [], "Bob's leave announced", 10.0)
	await t.process_frame
	t.check(not scene.clients[1].is_reconnecting(), "a client that closed stays closed")
	scene.queue_free()


func test_multiplayer_demo_moves_players_on_every_board(t) -> void:
	var scene := _start(t, "res://demos/multiplayer/multiplayer_demo.tscn", {"port": 0})
	var boards: Array = scene.boards
	# Everyone knows everyone (players learn of each other through the host;
	# an RPC relayed from a peer not yet announced is dropped by SceneMultiplayer).
	await t.until(func(): return boards.all(func(b): return b.multiplayer.get_peers().size() == 2), [], "two players joined and announced", 10.0)
	var mp_class := "RustWebSocketMultiplayerPeer" if _native() else "WebSocketMultiplayerPeer"
	t.check(scene.peers.all(func(p): return p.get_class() == mp_class), "every column uses " + mp_class)
	var id1: int = boards[1].multiplayer.get_unique_id()
	var id2: int = boards[2].multiplayer.get_unique_id()
	scene.step(1)
	scene.step(2)
	await t.until(func(): return boards.all(func(b): return b.positions.has(id1) and b.positions.has(id2)), [], "both moves on every board", 10.0)
	t.eq(boards[0].positions[id1], boards[2].positions[id1], "player 1 at the same spot on the host and player 2")
	t.eq(boards[1].positions[id2], boards[0].positions[id2], "player 2 at the same spot on player 1 and the host")
	await t.until(func(): return boards[1].positions.has(1), [], "the host's dot placed for a newcomer", 10.0)
	t.check(boards[1].log_lines.has("connected; my id is %d" % id1), "player 1 logged its id")
	await t.until(func(): return scene.overlays.all(func(o): return o.shown.has("rtt_ms") and (o.shown.rtt_ms >= 0.0 or not _native())), [], "the overlays' round trips", 10.0)
	for o in scene.overlays:
		t.check(o.text.begins_with("RTT ") and o.text.contains("msg/s" if _native() else "RTT n/a"), "overlay line: " + o.text)
	scene.queue_free()


func test_main_menu_lists_every_demo(t) -> void:
	var scene := _start(t, "res://main.tscn", {})
	await t.root.get_tree().process_frame
	var buttons := scene.find_children("*", "Button", true, false)
	var names := buttons.map(func(b): return b.text)
	t.eq(names, ["Client", "Server", "Client + server", "Chat", "Multiplayer"], "one button per demo")
	for demo in scene.DEMOS:
		t.check(ResourceLoader.exists(demo[1]), demo[1] + " exists")
	var note: bool = scene.find_children("*", "Label", true, false).any(func(l): return l.text.contains("not loaded"))
	t.eq(note, not _native(), "the menu says when the demos run on the engine's classes")
	scene.queue_free()
