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
		return _peer.send(data, WebSocketPeer.WRITE_MODE_TEXT if text else WebSocketPeer.WRITE_MODE_BINARY)
	if not ((_active and state == WebSocketPeer.STATE_CONNECTING) or is_reconnecting()):
		push_error("WebSocket client: cannot send: not connected, and no attempt is coming (call connect_to_url()).")
		return FAILED
	if _outbox.size() >= queue_limit:
		_dropped += 1
		push_error("WebSocket client: %d messages already wait for the link to open (queue_limit); this one was dropped." % queue_limit)
		return ERR_OUT_OF_MEMORY
	_outbox.append([data, text])
	return OK


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
			_peer.send(m[0], WebSocketPeer.WRITE_MODE_TEXT if m[1] else WebSocketPeer.WRITE_MODE_BINARY)
	while _peer.get_available_packet_count() > 0:
		var packet := _peer.get_packet()
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
