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
