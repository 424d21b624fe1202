## A server that took over the socket of a StreamPeerTCP the game still
## holds: closing the link ends the TCP connection for the client too (the
## engine's descriptor alone would keep it open, and the client would wait
## for a FIN that never comes).
extends RefCounted

const U := preload("ws_util.gd")


func test_close_ends_the_connection_while_the_game_keeps_its_stream(t) -> void:
	for how in ["close()", "freed"]:
		var tcp := U.listen(t)
		var client := WebSocketPeer.new()
		t.eq(client.connect_to_url("ws://127.0.0.1:%d/" % tcp.get_local_port()), OK, "connect_to_url")
		await t.until(func(): return tcp.is_connection_available(), [client], "a TCP connection")
		# The game keeps its stream, as the engine's server example does.
		var kept: StreamPeerTCP = tcp.take_connection()
		var server = RustWebSocketPeer.new()
		t.eq(server.accept_stream(kept), OK, "accept_stream")
		await t.until(func(): return client.get_ready_state() == WebSocketPeer.STATE_OPEN and server.get_ready_state() == WebSocketPeer.STATE_OPEN, [client, server], "both open")
		var started := Time.get_ticks_msec()
		if how == "close()":
			server.close(1000, "bye")
			await t.until(func(): return server.get_ready_state() == WebSocketPeer.STATE_CLOSED, [client, server], "the server to close")
		else:
			server = null
		await t.until(func(): return client.get_ready_state() == WebSocketPeer.STATE_CLOSED, [client], "the engine's client to see the end (%s)" % how, 5.0)
		t.check(Time.get_ticks_msec() - started < 3000, "%s: the client saw the end in %d ms" % [how, Time.get_ticks_msec() - started])
		t.check(kept != null, "the game's stream is still held")
		tcp.stop()
