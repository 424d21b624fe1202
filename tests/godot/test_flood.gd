## A multiplayer server under a flood of connections that never finish
## opening (1,000 silent TCP connections): a real client, ours and the
## engine's WebSocketPeer, still joins, and the server's poll stays short.
## The same flood runs against the engine's WebSocketMultiplayerPeer and
## the figures are printed side by side (join time, longest poll, the
## server's descriptors).
extends RefCounted

const U := preload("ws_util.gd")
const FLOOD := 1000
## A generous bound on one poll of our server, not a benchmark.
const POLL_BOUND_MS := 50.0


## Descriptors this process holds (Linux; -1 elsewhere).
func _descriptors() -> int:
	if not DirAccess.dir_exists_absolute("/proc/self/fd"):
		return -1
	return DirAccess.get_files_at("/proc/self/fd").size()


## Polls the server each frame for `seconds` (or until `done` holds);
## `figures.max_poll_ms` keeps the longest poll and `figures.next_poll_ms`
## the one after it (one poll slowed by the machine, its thread preempted,
## is not the server's doing; a server that stalls does so more than once),
## `figures.descriptors` the
## most descriptors the server held (counted every 100 ms, beyond the
## flood's own ends).
func _frames(t, server, figures: Dictionary, seconds: float, done := Callable()) -> bool:
	var deadline := Time.get_ticks_msec() + int(seconds * 1000.0)
	var next_count := 0
	while Time.get_ticks_msec() < deadline:
		var start := Time.get_ticks_usec()
		server.poll()
		var took := (Time.get_ticks_usec() - start) / 1000.0
		if took > figures.max_poll_ms:
			figures.next_poll_ms = figures.max_poll_ms
			figures.max_poll_ms = took
		elif took > figures.next_poll_ms:
			figures.next_poll_ms = took
		if figures.has("base") and figures.base >= 0 and Time.get_ticks_msec() >= next_count:
			next_count = Time.get_ticks_msec() + 100
			figures.descriptors = maxi(figures.get("descriptors", 0), _descriptors() - figures.base - FLOOD)
		if done.is_valid() and done.call():
			return true
		await t.process_frame
	return false


## One real client of `client_cls` joining `server` on `port`; the time it
## took in ms (-1: not within `limit` seconds).
func _join(t, server, port: int, client_cls: String, joined: Array, figures: Dictionary, limit: float) -> float:
	var before := joined.size()
	var client = ClassDB.instantiate(client_cls)
	var start := Time.get_ticks_usec()
	client.connect_to_url("ws://127.0.0.1:%d/" % port)
	var ok: bool = await _frames(t, server, figures, limit, func():
		client.poll()
		return joined.size() > before and client.get_available_packet_count() > 0)
	var took := (Time.get_ticks_usec() - start) / 1000.0
	if ok:
		t.eq(client.get_packet().size(), 4, client_cls + " got its id from " + server.get_class())
	client.close()
	return took if ok else -1.0


func _flood_figures(t, cls: String, limit: float) -> Dictionary:
	var figures := {"max_poll_ms": 0.0, "next_poll_ms": 0.0}
	var port := U.free_port()
	var server = ClassDB.instantiate(cls)
	if cls == "RustWebSocketMultiplayerPeer":
		# Below the flood, as a game that wants few descriptors sets it.
		server.max_pending_connections = 256
	if not t.eq(server.create_server(port, "127.0.0.1"), OK, cls + ": create_server"):
		return figures
	var joined := []
	server.peer_connected.connect(func(id): joined.append(id))
	await _frames(t, server, figures, 0.1)
	var base := _descriptors()
	var flood := []
	for i in FLOOD:
		var s := StreamPeerTCP.new()
		s.connect_to_host("127.0.0.1", port)
		flood.append(s)
	# The flood sits there while the server polls.
	figures.base = base
	await _frames(t, server, figures, 2.0)
	figures.join_ours_ms = await _join(t, server, port, "RustWebSocketPeer", joined, figures, limit)
	figures.join_engine_ms = await _join(t, server, port, "WebSocketPeer", joined, figures, limit)
	for s in flood:
		s.disconnect_from_host()
	server.close()
	return figures


func test_a_real_client_joins_through_a_flood_of_silent_connections(t) -> void:
	var ours := await _flood_figures(t, "RustWebSocketMultiplayerPeer", 5.0)
	var engine := await _flood_figures(t, "WebSocketMultiplayerPeer", 8.0)
	for row in [["RustWebSocketMultiplayerPeer", ours], ["WebSocketMultiplayerPeer", engine]]:
		var f: Dictionary = row[1]
		print("flood of %d silent connections, %s: our client joined in %.0f ms, the engine's in %.0f ms (-1: not within the wait); longest polls %.1f and %.1f ms; server descriptors %d" % [
			FLOOD, row[0], f.get("join_ours_ms", -1.0), f.get("join_engine_ms", -1.0), f.max_poll_ms, f.next_poll_ms, f.get("descriptors", -1)])
	var cls := "RustWebSocketMultiplayerPeer"
	t.check(ours.get("join_ours_ms", -1.0) >= 0.0 and ours.join_ours_ms < 3000.0, cls + ": our client joins through the flood within 3 s")
	t.check(ours.get("join_engine_ms", -1.0) >= 0.0 and ours.join_engine_ms < 3000.0, cls + ": the engine's client joins through the flood within 3 s")
	# Under Wine every socket call goes through the Wine server, whose speed
	# swings with the machine's load (the engine's class then slows just
	# as much): there the bound is also twice the engine's own.
	var bound := POLL_BOUND_MS
	if OS.get_name() == "Windows":
		bound = maxf(POLL_BOUND_MS, 2.0 * engine.next_poll_ms)
	t.check(ours.next_poll_ms < bound, cls + ": no two polls over %.0f ms (the longest two: %.1f and %.1f ms)" % [bound, ours.max_poll_ms, ours.next_poll_ms])
	if ours.get("descriptors", -1) >= 0:
		t.check(ours.descriptors <= 256 + 16, cls + ": the server keeps at most max_pending_connections of the flood (%d descriptors)" % ours.descriptors)
	t.check_logged("max_pending_connections")


func test_max_pending_connections_setting(t) -> void:
	var cls := "RustWebSocketMultiplayerPeer"
	t.eq(ClassDB.class_get_property_default_value(cls, "max_pending_connections"), 1024, cls + ".max_pending_connections default as the editor reads it")
	var mp = ClassDB.instantiate(cls)
	t.eq(mp.max_pending_connections, 1024, "default")
	mp.max_pending_connections = 0
	t.eq(mp.max_pending_connections, 1024, "0 refused")
	t.check_logged("max_pending_connections must be greater than 0")
	mp.max_pending_connections = -1
	t.eq(mp.max_pending_connections, 1024, "-1 refused")
	mp.max_pending_connections = 2
	t.eq(mp.max_pending_connections, 2, "2 taken")
