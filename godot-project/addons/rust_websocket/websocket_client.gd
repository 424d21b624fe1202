## The stand-in for [RustWebSocketClient] where the addon's library is not
## loaded (Web, Android, iOS): the same signals, properties and methods,
## over the engine's [WebSocketPeer], with the same reconnect rules.
## [code]WebSockets.new_client()[/code] makes one or the other; see
## [RustWebSocketClient] for what each member does. TLS settings beyond
## [member tls_options] and [constant POLL_MANUAL] threads are the native
## class's only.
extends Node

signal connected()
signal message_received(message: Variant)
signal closed(code: int, reason: String)
signal reconnecting(attempt: int, delay: float)
signal messages_dropped(count: int)
## Declared as the native node's; never emitted here: the engine's
## [WebSocketPeer] cannot send a ping on request or tell when a pong comes.
signal pong_received(rtt: float)

const POLL_PROCESS := 0
const POLL_PHYSICS := 1
const POLL_MANUAL := 2

@export var url := ""
@export var autoconnect := true
@export var supported_protocols := PackedStringArray()
@export var handshake_headers := PackedStringArray()
@export_enum("Process", "Physics", "Manual") var poll_mode := POLL_PROCESS
@export var reconnect_enabled := true
@export var reconnect_delay_min := 0.5
@export var reconnect_delay_max := 30.0
@export var reconnect_jitter := 0.5
@export var reconnect_max_attempts := 0
@export var queue_limit := 64
## TLS options for wss:// (null: the usual trust).
var tls_options: TLSOptions = null

var _peer := WebSocketPeer.new()
var _active := false
var _was_open := false
var _closing_here := false
var _attempt := 0
var _next_at := -1.0
## When the current link opened (-1: none open): the attempts count from 1
## again only after a link stayed open 5 s.
var _open_since := -1.0
var _outbox: Array = []  # [PackedByteArray, is_text]
var _dropped := 0
## What passed through this node: messages and payload bytes in and out,
## and the attempts started by the reconnect logic.
var _counts := {"messages_in": 0, "messages_out": 0, "bytes_in": 0, "bytes_out": 0}
var _reconnects := 0
## Time of the last message received (msec), -1: none yet.
var _last_message_at := -1


func _ready() -> void:
	if autoconnect and url != "" and not Engine.is_editor_hint():
		connect_to_url()


func _process(_delta: float) -> void:
	if poll_mode == POLL_PROCESS:
		poll()


func _physics_process(_delta: float) -> void:
	if poll_mode == POLL_PHYSICS:
		poll()


func _exit_tree() -> void:
	close(1001)


func connect_to_url(to := "") -> Error:
	if to != "":
		url = to
	_next_at = -1.0
	_attempt = 0
	return _start()


func _start() -> Error:
	if _peer.get_ready_state() != WebSocketPeer.STATE_CLOSED:
		_peer = WebSocketPeer.new()
	_peer.supported_protocols = supported_protocols
	_peer.handshake_headers = handshake_headers
	var err := _peer.connect_to_url(url, tls_options)
	_active = err == OK
	_counts = {"messages_in": 0, "messages_out": 0, "bytes_in": 0, "bytes_out": 0}
	_last_message_at = -1
	_was_open = false
	_open_since = -1.0
	_closing_here = false
	return err


func send_text(message: String) -> Error:
	return _send(message.to_utf8_buffer(), true)


func send(message: PackedByteArray, write_mode := WebSocketPeer.WRITE_MODE_BINARY) -> Error:
	return _send(message, write_mode == WebSocketPeer.WRITE_MODE_TEXT)


func _send(data: PackedByteArray, text: bool) -> Error:
	var state := _peer.get_ready_state()
	if state == WebSocketPeer.STATE_OPEN and _outbox.is_empty():
		return _put(data, text)
	if not ((_active and state == WebSocketPeer.STATE_CONNECTING) or is_reconnecting()):
		push_error("WebSocket client: cannot send: not connected, and no attempt is coming (call connect_to_url()).")
		return FAILED
	if _outbox.size() >= queue_limit:
		_dropped += 1
		push_error("WebSocket client: %d messages already wait for the link to open (queue_limit); this one was dropped." % queue_limit)
		return ERR_OUT_OF_MEMORY
	_outbox.append([data, text])
	return OK


## Sends one message on the open link, counting it when the peer takes it.
func _put(data: PackedByteArray, text: bool) -> Error:
	var err := _peer.send(data, WebSocketPeer.WRITE_MODE_TEXT if text else WebSocketPeer.WRITE_MODE_BINARY)
	if err == OK:
		_counts.messages_out += 1
		_counts.bytes_out += data.size()
	return err


## As [method RustWebSocketClient.get_statistics], with what the engine's
## [WebSocketPeer] lets this node know: messages and payload bytes it
## passed, queued, reconnects, time since the last message; the bytes on
## the wire, pings and round-trip times are [code]-1[/code] (unknown).
func get_statistics() -> Dictionary:
	var s := {
		"wire_bytes_in": -1, "wire_bytes_out": -1, "pings_sent": -1, "pongs_received": -1,
		"rtt_ms": -1.0, "rtt_smoothed_ms": -1.0, "rtt_lowest_ms": -1.0,
		"queued_in": _peer.get_available_packet_count(), "queued_out": -1,
		"buffered_out": _peer.get_current_outbound_buffered_amount(),
		"since_last_message_ms": -1.0 if _last_message_at < 0 else float(Time.get_ticks_msec() - _last_message_at),
		"reconnects": _reconnects,
	}
	s.merge(_counts)
	return s


## [code]-1[/code]: the engine's [WebSocketPeer] cannot measure the round
## trip.
func get_round_trip_time() -> float:
	return -1.0


## [constant ERR_UNAVAILABLE]: the engine's [WebSocketPeer] cannot send a
## ping on request (its [member WebSocketPeer.heartbeat_interval], where the
## engine has it, pings by itself but reports no answer).
func ping() -> Error:
	return ERR_UNAVAILABLE


func close(code := 1000, reason := "") -> void:
	_next_at = -1.0
	_attempt = 0
	_dropped += _outbox.size()
	_outbox.clear()
	if _active:
		_closing_here = true
		_peer.close(code, reason)


func is_reconnecting() -> bool:
	return _next_at >= 0.0


func get_reconnect_attempt() -> int:
	return 0 if _open_since >= 0.0 else _attempt


func get_queued_message_count() -> int:
	return _outbox.size()


func get_ready_state() -> int:
	return _peer.get_ready_state()


func get_peer() -> WebSocketPeer:
	return _peer


func poll() -> void:
	if _dropped > 0:
		var n := _dropped
		_dropped = 0
		messages_dropped.emit(n)
	var now := Time.get_ticks_msec() / 1000.0
	if not reconnect_enabled and _next_at >= 0.0:
		_next_at = -1.0
		_attempt = 0
		_dropped += _outbox.size()
		_outbox.clear()
	if not _active:
		if _next_at >= 0.0 and now >= _next_at:
			_next_at = -1.0
			_reconnects += 1
			if _start() != OK:
				close()
		return
	_peer.poll()
	var state := _peer.get_ready_state()
	if not _was_open and (state == WebSocketPeer.STATE_OPEN or (state != WebSocketPeer.STATE_CONNECTING and (_peer.get_available_packet_count() > 0 or _peer.get_close_code() >= 0))):
		_was_open = true
		_open_since = now
		connected.emit()
		while not _outbox.is_empty() and _peer.get_ready_state() == WebSocketPeer.STATE_OPEN:
			var m: Array = _outbox.pop_front()
			_put(m[0], m[1])
	while _peer.get_available_packet_count() > 0:
		var packet := _peer.get_packet()
		_counts.messages_in += 1
		_counts.bytes_in += packet.size()
		_last_message_at = Time.get_ticks_msec()
		message_received.emit(packet.get_string_from_utf8() if _peer.was_string_packet() else packet)
	if state != WebSocketPeer.STATE_CLOSED:
		return
	_active = false
	if _open_since >= 0.0 and now - _open_since >= 5.0:
		_attempt = 0
	_open_since = -1.0
	var code := _peer.get_close_code()
	closed.emit(code, _peer.get_close_reason())
	var by_server := _was_open and code >= 0
	var again := reconnect_enabled and not _closing_here and (not by_server or code in [1012, 1013])
	if again and (reconnect_max_attempts <= 0 or _attempt < reconnect_max_attempts):
		_attempt += 1
		var low := maxf(reconnect_delay_min, 0.05)
		var delay := minf(low * pow(2.0, mini(_attempt - 1, 60)), maxf(reconnect_delay_max, low))
		delay = maxf(delay * (1.0 - clampf(reconnect_jitter, 0.0, 1.0) * randf()), 0.05)
		_next_at = now + delay
		reconnecting.emit(_attempt, delay)
	elif not _outbox.is_empty():
		var n := _outbox.size()
		_outbox.clear()
		messages_dropped.emit(n)
