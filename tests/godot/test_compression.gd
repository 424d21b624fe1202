## permessage-deflate in Godot: agreed between our classes, declined
## silently by the engine's (which never offers and ignores offers), a
## threshold, an inflated size over inbound_buffer_size closing with 1009,
## and RPCs over RustWebSocketMultiplayerPeer with compression on.
extends RefCounted

const U := preload("ws_util.gd")


func _json(n: int) -> String:
	var s := ""
	var i := 0
	while s.length() < n:
		s += '{"id":%d,"x":%.2f,"y":%.2f,"state":"running"},' % [i, i * 0.37, i * 1.3]
		i += 1
	return s.substr(0, n)


func _compressing() -> RustWebSocketPeer:
	var p := RustWebSocketPeer.new()
	p.compression_enabled = true
	return p


func test_our_classes_agree_and_messages_round_trip(t) -> void:
	var c := _compressing()
	var s := _compressing()
	if await U.connect_pair(t, c, s) == 0:
		return
	t.check(c.get_negotiated_extensions().begins_with("permessage-deflate"), "client: " + c.get_negotiated_extensions())
	t.eq(s.get_negotiated_extensions(), c.get_negotiated_extensions(), "both sides agree")
	var state := _json(40000)
	t.eq(c.send_text(state), OK, "send 40 KB of JSON")
	var got: PackedByteArray = await U.receive(t, s, [c])
	t.eq(got.get_string_from_utf8(), state, "the JSON arrives intact")
	t.check(s.was_string_packet(), "as text")
	t.eq(s.send(U.pattern(300000)), ERR_OUT_OF_MEMORY, "the outbound limit counts the uncompressed size")
	t.eq(s.put_packet(PackedByteArray([1, 2, 3])), OK, "a small packet (under the threshold)")
	t.eq(await U.receive(t, c, [s]), PackedByteArray([1, 2, 3]), "small packet arrives")
	c.close(1000, "done")
	await U.wait_closed(t, c, s)
	t.eq(s.get_close_code(), 1000, "clean close")
	t.check(c.get_negotiated_extensions() != "", "what was agreed stays readable after the close")


func test_the_engines_class_is_unaffected(t) -> void:
	# Engine client, our server with compression on: nothing offered.
	var c := WebSocketPeer.new()
	var s := _compressing()
	if await U.connect_pair(t, c, s) != 0:
		t.eq(s.get_negotiated_extensions(), "", "the engine's client never offers")
		t.eq(c.send_text(_json(5000)), OK, "engine sends")
		t.eq((await U.receive(t, s, [c])).get_string_from_utf8(), _json(5000), "arrives")
		t.eq(s.send_text(_json(5000)), OK, "ours answers uncompressed")
		t.eq((await U.receive(t, c, [s])).get_string_from_utf8(), _json(5000), "the engine reads it")
	# Our client offering, engine server: the engine ignores the offer.
	var c2 := _compressing()
	var s2 := WebSocketPeer.new()
	if await U.connect_pair(t, c2, s2) != 0:
		t.eq(c2.get_negotiated_extensions(), "", "the engine's server declines by ignoring")
		t.eq(c2.send_text(_json(5000)), OK, "ours sends uncompressed")
		t.eq((await U.receive(t, s2, [c2])).get_string_from_utf8(), _json(5000), "the engine reads it")


func test_small_windows_and_no_context_takeover_are_agreed(t) -> void:
	var c := _compressing()
	c.compression_context_takeover = false
	c.compression_window_bits = 10
	var s := _compressing()
	if await U.connect_pair(t, c, s) == 0:
		return
	var ext := c.get_negotiated_extensions()
	for p in ["server_no_context_takeover", "client_no_context_takeover", "server_max_window_bits=10", "client_max_window_bits=10"]:
		t.check(ext.contains(p), "agreed %s: %s" % [p, ext])
	for i in 5:
		t.eq(c.send_text(_json(3000 + i)), OK, "send %d" % i)
		t.eq((await U.receive(t, s, [c])).get_string_from_utf8(), _json(3000 + i), "message %d" % i)


func test_a_message_that_inflates_past_the_limit_closes_with_1009(t) -> void:
	var c := _compressing()
	c.outbound_buffer_size = 0
	var s := _compressing()
	if await U.connect_pair(t, c, s) == 0:
		return
	# 4 MiB of zeros: a few KiB compressed, far over the server's 64 KiB.
	var zeros := PackedByteArray()
	zeros.resize(4 * 1024 * 1024)
	t.eq(c.send(zeros), OK, "sent compressed")
	await U.wait_closed(t, c, s)
	t.eq(s.get_close_code(), 1009, "the server closed with 1009")
	t.check_logged("inbound_buffer_size")


func test_rpcs_over_compressed_multiplayer_links(t) -> void:
	var server := RustWebSocketMultiplayerPeer.new()
	server.compression_enabled = true
	var client := RustWebSocketMultiplayerPeer.new()
	client.compression_enabled = true
	var port := U.listen(t).get_local_port()
	t.eq(server.create_server(port, "127.0.0.1"), OK, "create_server")
	t.eq(client.create_client("ws://127.0.0.1:%d" % port), OK, "create_client")
	await t.until(func(): return client.get_connection_status() == MultiplayerPeer.CONNECTION_CONNECTED, [server, client], "client connected")
	var link: RustWebSocketPeer = client.get_peer(1)
	if not t.check(link != null, "the client's link"):
		return
	t.check(link.get_negotiated_extensions().begins_with("permessage-deflate"), "links agreed: " + link.get_negotiated_extensions())
	var state := _json(20000).to_utf8_buffer()
	client.set_target_peer(1)
	t.eq(client.put_packet(state), OK, "client sends game state")
	await t.until(func(): return server.get_available_packet_count() > 0, [server, client], "the packet")
	t.eq(server.get_packet(), state, "arrives intact")
	server.close()
	client.close()
