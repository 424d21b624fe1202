## Load test server: one Godot process serving many RustWebSocketPeer links
## from a TCPServer on 127.0.0.1, echoing every message. Prints "PORT <n>",
## then, when the load generator's links are all gone (or after the time
## limit), one JSON line with what it saw and its resident memory.
## Arguments after "--": [expected links] [time limit in seconds] [compress]
## [hold] ("compress" turns permessage-deflate on; the JSON line then counts
## the links that agreed it. "hold" holds each upgrade request and lets in
## only a URL with "token=good", refusing the others with 403; the JSON
## line counts both).
extends "server_base.gd"

var tcp := TCPServer.new()
var peers: Array = []
var rss_idle := 0
var rss_peak := 0
var rss_base := 0
var max_open := 0
var accepted := 0
var messages := 0
var closes := {}
var compress := false
var compressed_links := 0
var hold := false
var held := 0
var refused := 0


func _rss_kib() -> int:
	var f := FileAccess.open("/proc/self/statm", FileAccess.READ)
	return int(f.get_line().split(" ")[1]) * 4 if f else 0


func _initialize() -> void:
	read_args(120.0)
	compress = more.has("compress")
	hold = more.has("hold")
	if tcp.listen(0, "127.0.0.1") != OK:
		printerr("cannot listen")
		quit(1)
		return
	rss_base = _rss_kib()
	announce(tcp.get_local_port())


func _process(_delta: float) -> bool:
	while tcp.is_connection_available():
		var p := RustWebSocketPeer.new()
		p.compression_enabled = compress
		p.hold_upgrade = hold
		p.accept_stream(tcp.take_connection())
		peers.append(p)
		accepted += 1
	var open := 0
	var still := []
	for p in peers:
		p.poll()
		if p.is_upgrade_waiting():
			held += 1
			if p.get_requested_url().contains("token=good"):
				p.accept_upgrade()
			else:
				p.refuse_upgrade(403, "no token")
				refused += 1
		while p.get_available_packet_count() > 0:
			var packet: PackedByteArray = p.get_packet()
			p.send(packet, RustWebSocketPeer.WRITE_MODE_TEXT if p.was_string_packet() else RustWebSocketPeer.WRITE_MODE_BINARY)
			messages += 1
		var state: int = p.get_ready_state()
		if state == RustWebSocketPeer.STATE_OPEN:
			open += 1
			if not p.has_meta("counted") and p.get_negotiated_extensions() != "":
				p.set_meta("counted", true)
				compressed_links += 1
		if state == RustWebSocketPeer.STATE_CLOSED:
			var code: int = p.get_close_code()
			closes[code] = closes.get(code, 0) + 1
		else:
			still.append(p)
	peers = still
	if open > max_open:
		max_open = open
		if open == expected:
			rss_idle = _rss_kib()
	rss_peak = max(rss_peak, _rss_kib())
	var per_link := (rss_idle - rss_base) / float(max(max_open, 1)) if rss_idle > 0 else -1.0
	return finish_when(accepted >= expected and peers.is_empty(), {"accepted": accepted, "max_open": max_open,
		"messages": messages, "closes": closes, "compressed_links": compressed_links,
		"held": held, "refused": refused,
		"rss_base_kib": rss_base, "rss_peak_kib": rss_peak, "kib_per_link": per_link})
