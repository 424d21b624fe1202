## A line under a demo column with its link's figures, updated twice a
## second: the round-trip time (from a ping sent every second) and the
## messages and bytes per second in and out (bytes on the wire where they
## are known). Over the engine's classes (the extension left out) the
## round-trip time reads "n/a": they cannot measure it.
extends Label

const WebSockets = preload("res://addons/rust_websocket/websockets.gd")
const EVERY := 0.5

## What to report: a client node, a peer or a multiplayer peer.
var source: Object
## Returns the peers to ping every second; by default the source itself.
var ping_targets := Callable()
## The figures shown last: rtt_ms, and messages and bytes per second in
## and out (msg_in, msg_out, bytes_in, bytes_out).
var shown := {}
var _last := {}
var _wait := 0.0
var _since_ping := 0.0


func _init(from: Object = null) -> void:
	source = from
	text = "RTT …"
	modulate = Color(1, 1, 1, 0.75)
	# Wraps in a narrow column rather than widening it.
	autowrap_mode = TextServer.AUTOWRAP_WORD_SMART


func _process(delta: float) -> void:
	if source == null:
		return
	_since_ping += delta
	if _since_ping >= 1.0:
		_since_ping = 0.0
		var targets: Array = ping_targets.call() if ping_targets.is_valid() else [source]
		for p in targets:
			if p != null and p.has_method("ping") and p.has_method("get_ready_state") and p.get_ready_state() == WebSocketPeer.STATE_OPEN:
				p.ping()
	_wait += delta
	if _wait < EVERY:
		return
	var s := WebSockets.statistics(source)
	var bytes_in := "wire_bytes_in" if s.wire_bytes_in >= 0 else "bytes_in"
	var bytes_out := "wire_bytes_out" if s.wire_bytes_out >= 0 else "bytes_out"
	shown = {
		"rtt_ms": s.rtt_ms,
		"msg_in": _rate(s, "messages_in"),
		"msg_out": _rate(s, "messages_out"),
		"bytes_in": _rate(s, bytes_in),
		"bytes_out": _rate(s, bytes_out),
	}
	_last = s
	_wait = 0.0
	var rtt := "n/a" if not WebSockets.is_native() else ("…" if s.rtt_ms < 0 else "%.1f ms" % s.rtt_ms)
	text = "RTT %s  ·  in %s  ·  out %s" % [rtt, _pair(shown.msg_in, shown.bytes_in), _pair(shown.msg_out, shown.bytes_out)]


## Per second since the last update; -1 when unknown. A count that went
## down (a new connection starts from zero) counts from zero.
func _rate(s: Dictionary, key: String) -> float:
	if s[key] < 0:
		return -1.0
	var before: int = _last.get(key, s[key])
	return maxf(0.0, s[key] - (before if before <= s[key] else 0)) / _wait


func _pair(messages: float, bytes: float) -> String:
	if messages < 0:
		return "n/a"
	return "%.0f msg/s, %s/s" % [messages, String.humanize_size(int(bytes)) if bytes >= 0 else "n/a"]
