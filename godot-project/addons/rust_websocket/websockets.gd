## One script for every platform: makes a [RustWebSocketPeer] (or
## [RustWebSocketMultiplayerPeer]) where this addon's library is loaded, and
## the engine's [WebSocketPeer] (or [WebSocketMultiplayerPeer]) where it is
## not: Godot exports Web, Android and iOS games without the library (the
## addon has none for them), and a script that names RustWebSocketPeer then
## fails to load.
##
## [codeblock]
## const WebSockets = preload("res://addons/rust_websocket/websockets.gd")
##
## var socket = WebSockets.new_peer()   # keep the variable untyped
##
## func _ready():
##     socket.connect_to_url("wss://example.com")
##
## func _process(_delta):
##     socket.poll()
##     if socket.get_ready_state() == WebSocketPeer.STATE_OPEN:
##         while socket.get_available_packet_count():
##             print(socket.get_packet())
## [/codeblock]
##
## Both classes have the same methods, properties and constant values, so
## the same code drives either. Name the constants through the engine's
## class ([code]WebSocketPeer.STATE_OPEN[/code], which exists everywhere).
extends RefCounted

const PEER_CLASS := "RustWebSocketPeer"
const MULTIPLAYER_PEER_CLASS := "RustWebSocketMultiplayerPeer"
const CLIENT_CLASS := "RustWebSocketClient"


## [code]true[/code] where the addon's library is loaded, so [method new_peer]
## makes a [RustWebSocketPeer].
static func is_native() -> bool:
	return ClassDB.class_exists(PEER_CLASS)


## A new [RustWebSocketPeer] where the library is loaded, else a new
## [WebSocketPeer]. Keep the variable it goes in untyped (or typed
## [PacketPeer]): the two classes share no WebSocket base class.
static func new_peer() -> PacketPeer:
	if is_native():
		return ClassDB.instantiate(PEER_CLASS)
	return WebSocketPeer.new()


## A new [RustWebSocketMultiplayerPeer] where the library is loaded, else a
## new [WebSocketMultiplayerPeer].
static func new_multiplayer_peer() -> MultiplayerPeer:
	if ClassDB.class_exists(MULTIPLAYER_PEER_CLASS):
		return ClassDB.instantiate(MULTIPLAYER_PEER_CLASS)
	return WebSocketMultiplayerPeer.new()


## A new [RustWebSocketClient] node (signals, reconnect) where the library
## is loaded, else the script beside this one that does the same over the
## engine's [WebSocketPeer]. Add it to the tree; keep the variable untyped
## (or typed [Node]).
static func new_client() -> Node:
	if ClassDB.class_exists(CLIENT_CLASS):
		return ClassDB.instantiate(CLIENT_CLASS)
	return preload("websocket_client.gd").new()


## The name of the class [method new_peer] makes here, for logs and menus.
static func peer_class() -> String:
	return PEER_CLASS if is_native() else "WebSocketPeer"


## The keys of [method RustWebSocketPeer.get_statistics]: what a peer,
## multiplayer peer or client node made by this script reports with
## [method statistics].
const STATISTICS_KEYS := ["messages_in", "messages_out", "bytes_in", "bytes_out",
		"wire_bytes_in", "wire_bytes_out", "queued_in", "queued_out", "buffered_out",
		"pings_sent", "pongs_received", "rtt_ms", "rtt_smoothed_ms", "rtt_lowest_ms",
		"since_last_message_ms"]


## The figures of [param peer] (a peer, multiplayer peer or client node
## from this script) as a [Dictionary] with the keys of
## [method RustWebSocketPeer.get_statistics]. Where the library is loaded,
## that method's answer. Over the engine's classes, only what they can know:
## the packets waiting ([code]queued_in[/code]) and, for a
## [WebSocketPeer], the bytes not yet sent ([code]buffered_out[/code]);
## every other value is [code]-1[/code] (unknown), the round-trip time
## included: the engine's classes neither send pings on request nor tell
## when a pong arrives. The stand-in client node counts the messages and
## payload bytes that pass through it.
static func statistics(peer: Object) -> Dictionary:
	if peer.has_method("get_statistics"):
		return peer.get_statistics()
	var s := {}
	for key in STATISTICS_KEYS:
		s[key] = -1
	if peer is PacketPeer:
		s.queued_in = peer.get_available_packet_count()
	if peer is WebSocketPeer:
		s.buffered_out = peer.get_current_outbound_buffered_amount()
	return s


## The latest round-trip time of [param peer] in milliseconds (see
## [method RustWebSocketPeer.get_round_trip_time]); [code]-1[/code] over
## the engine's classes, which cannot measure it.
static func round_trip_time(peer: Object) -> float:
	if peer.has_method("get_round_trip_time"):
		return peer.get_round_trip_time()
	return -1.0
