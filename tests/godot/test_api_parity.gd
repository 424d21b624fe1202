## RustWebSocketPeer must expose exactly the engine's WebSocketPeer API:
## methods (argument names, types, defaults, return types), properties with
## their defaults, and constants with their enums; plus the compression
## members listed below, and nothing else.
extends RefCounted

const OURS := "RustWebSocketPeer"
const ENGINE := "WebSocketPeer"
## Differences kept on purpose, each with its reason. Anything else fails.
const KNOWN_DIFFERENCES := {
	"property heartbeat_interval": "the engine registers the property as INT although its getter, setter and documentation use float; ours is float, so 0.5 shows as 0.5 in the inspector",
}


## Members beyond the engine's class, on purpose, each off or at the
## engine's behaviour by default: permessage-deflate, which no Godot
## WebSocket has; timeouts and the heartbeat's tolerance; why a connection
## failed; the server's view of the upgrade request and its answer; the
## HTTP proxy a client goes through (named as HTTPClient's); a server
## behind a load balancer (PROXY protocol, trusted proxies, the health path,
## plain HTTP answers, draining). Anything else extra fails.
const EXTRA_PROPERTIES := {
	"": ["compression_enabled", "compression_threshold", "compression_context_takeover", "compression_window_bits", "connect_timeout", "handshake_timeout", "heartbeat_misses", "hold_upgrade"],
	"multiplayer": ["compression_enabled", "compression_threshold", "compression_context_takeover", "compression_window_bits", "connect_timeout", "heartbeat_interval", "heartbeat_misses", "hold_upgrade", "max_pending_connections", "proxy_protocol", "trusted_proxies", "health_path"],
}
## Members the engine's WebSocketPeer gained in a later version, with that
## version: on an older engine they are additions of ours (kept, and listed
## in the README), which the engine's class there must indeed lack; from
## that version on they are compared as any other member.
const ENGINE_ADDED_IN := {
	"heartbeat_interval": [4, 4],
}
const EXTRA_METHODS := {
	"": ["get_negotiated_extensions", "get_failure", "get_failure_reason", "get_failure_http_status", "get_received_headers", "is_upgrade_waiting", "accept_upgrade", "refuse_upgrade", "set_http_proxy", "set_https_proxy", "get_statistics", "get_round_trip_time", "get_time_since_last_message", "ping", "add_performance_monitors"],
	"multiplayer": ["set_http_proxy", "set_https_proxy", "accept_upgrade", "refuse_upgrade", "get_statistics", "get_peer_statistics", "drain", "is_draining", "reply_http"],
}


## The running engine's [major, minor].
func _engine_version() -> Array:
	var info := Engine.get_version_info()
	return [info["major"], info["minor"]]


## The properties of WebSocketPeer that this engine does not have yet.
func _later_properties() -> Array:
	var out := []
	for p in ENGINE_ADDED_IN:
		if _engine_version() < ENGINE_ADDED_IN[p]:
			out.append(p)
	return out


func _extra_properties(side: String) -> Array:
	var out: Array = EXTRA_PROPERTIES[side].duplicate()
	if side == "":
		out.append_array(_later_properties())
	return out


func _is_extra(what: String, name: String) -> bool:
	var side := "multiplayer" if what.begins_with("multiplayer") else ""
	if what.ends_with("property"):
		return name in _extra_properties(side)
	if what.ends_with("method"):
		if name in EXTRA_METHODS[side]:
			return true
		for p in _extra_properties(side):
			if name == "get_" + p or name == "set_" + p:
				return true
	if what.ends_with("constant"):
		return side == "" and name.begins_with("FAILURE_")
	return false


func _methods(cls: String) -> Dictionary:
	var out := {}
	for m in ClassDB.class_get_method_list(cls, true):
		var args := []
		for a in m["args"]:
			args.append("%s:%s" % [a["name"], type_string(a["type"])])
		var defaults := []
		for d in m["default_args"]:
			defaults.append(var_to_str(d) if d != null else "null")
		out[m["name"]] = {
			"args": args,
			"defaults": defaults,
			"return": type_string(m["return"]["type"]),
		}
	return out


func _properties(cls: String) -> Dictionary:
	var out := {}
	for p in ClassDB.class_get_property_list(cls, true):
		if p["usage"] & (PROPERTY_USAGE_CATEGORY | PROPERTY_USAGE_GROUP | PROPERTY_USAGE_SUBGROUP):
			continue
		# Usage too: it decides what the inspector shows and saves, and
		# which defaults the editor reads.
		out[p["name"]] = "%s (usage %d)" % [type_string(p["type"]), p["usage"]]
	return out


func _constants(cls: String) -> Dictionary:
	var out := {}
	for c in ClassDB.class_get_integer_constant_list(cls, true):
		out[c] = [ClassDB.class_get_integer_constant(cls, c), ClassDB.class_get_integer_constant_enum(cls, c, true)]
	return out


## `inherited`: members of a parent class that ours may register again (to
## run faster), which must then have the parent's exact signature.
func _compare(t, what: String, engine: Dictionary, ours: Dictionary, inherited := {}) -> void:
	for k in engine:
		if KNOWN_DIFFERENCES.has("%s %s" % [what, k]):
			continue
		if t.check(ours.has(k), "%s %s is missing" % [what, k]):
			t.eq(ours[k], engine[k], "%s %s" % [what, k])
	for k in ours:
		if inherited.has(k) and not engine.has(k):
			t.eq(ours[k], inherited[k], "%s %s has PacketPeer's signature" % [what, k])
			continue
		if _is_extra(what, k):
			continue
		t.check(engine.has(k), "%s %s is not in the engine's class" % [what, k])


func test_class_exists_and_is_a_packet_peer(t) -> void:
	t.check(ClassDB.class_exists(OURS), OURS + " is registered")
	t.eq(str(ClassDB.get_parent_class(OURS)), "PacketPeerExtension", "parent class")
	t.check(ClassDB.is_parent_class(OURS, "PacketPeer"), "inherits PacketPeer")
	t.check(ClassDB.can_instantiate(OURS), "can be instantiated")


func test_methods_match(t) -> void:
	var engine := _methods(ENGINE)
	t.check(engine.size() >= 20, "engine method list read (%d)" % engine.size())
	# get_packet and get_packet_error are registered again on our class (one
	# block copy instead of PacketPeer's byte loop), with PacketPeer's signature.
	_compare(t, "method", engine, _methods(OURS), _methods("PacketPeer"))


func test_properties_match_with_defaults(t) -> void:
	var engine := _properties(ENGINE)
	t.eq(engine.size(), 6 - _later_properties().size(), "engine property count")
	var ours := _properties(OURS)
	_compare(t, "property", engine, ours)
	t.eq(ours.get("heartbeat_interval"), "float (usage %d)" % PROPERTY_USAGE_DEFAULT, "heartbeat_interval is a float property")
	var a = ClassDB.instantiate(ENGINE)
	var b = ClassDB.instantiate(OURS)
	for p in engine:
		t.eq(b.get(p), a.get(p), "default of " + p)


## On an engine older than a member of ENGINE_ADDED_IN: the engine's class
## lacks it (else the list is wrong), ours has it and it works (off by
## default, as the engine's where it has it).
func test_additions_on_this_engine_version(t) -> void:
	var engine := _properties(ENGINE)
	var ours := _properties(OURS)
	for p in ENGINE_ADDED_IN:
		var later: bool = p in _later_properties()
		t.eq(engine.has(p), not later, "%s in the engine's %s on %s" % [p, ENGINE, Engine.get_version_info()["string"]])
		t.check(ours.has(p), "%s in %s on every version" % [p, OURS])
	var peer := RustWebSocketPeer.new()
	t.eq(peer.heartbeat_interval, 0.0, "no heartbeat by default")
	peer.heartbeat_interval = 0.5
	t.eq(peer.heartbeat_interval, 0.5, "heartbeat_interval taken")


func test_constants_and_enums_match(t) -> void:
	var engine := _constants(ENGINE)
	t.eq(engine.size(), 6, "engine constant count")
	_compare(t, "constant", engine, _constants(OURS))
	t.eq(RustWebSocketPeer.STATE_OPEN, WebSocketPeer.STATE_OPEN, "STATE_OPEN from GDScript")
	t.eq(RustWebSocketPeer.STATE_CLOSED, 3, "STATE_CLOSED from GDScript")
	t.eq(RustWebSocketPeer.WRITE_MODE_TEXT, 0, "WRITE_MODE_TEXT from GDScript")
	var enums := Array(ClassDB.class_get_enum_list(OURS, true))
	enums.sort()
	t.eq(enums, ["Failure", "State", "WriteMode"], "enum list (Failure is ours)")


func test_multiplayer_peer_matches_the_engines(t) -> void:
	var ours := "RustWebSocketMultiplayerPeer"
	var engine := "WebSocketMultiplayerPeer"
	t.check(ClassDB.class_exists(ours), ours + " is registered")
	t.check(ClassDB.is_parent_class(ours, "MultiplayerPeer"), "it is a MultiplayerPeer")
	var methods := _methods(engine)
	t.check(methods.size() >= 15, "engine method list read (%d)" % methods.size())
	# The per-packet methods are registered again on our class (bound
	# directly, for speed), with MultiplayerPeer's and PacketPeer's signatures.
	var inherited := _methods("PacketPeer")
	inherited.merge(_methods("MultiplayerPeer"))
	_compare(t, "multiplayer method", methods, _methods(ours), inherited)
	var props := _properties(engine)
	t.eq(props.size(), 6, "engine property count")
	_compare(t, "multiplayer property", props, _properties(ours))
	var a = ClassDB.instantiate(engine)
	var b = ClassDB.instantiate(ours)
	for p in props:
		t.eq(b.get(p), a.get(p), "multiplayer default of " + p)
	for p in ["refuse_new_connections", "transfer_mode", "transfer_channel"]:
		t.eq(b.get(p), a.get(p), "MultiplayerPeer default of " + p)
	_compare(t, "multiplayer constant", _constants(engine), _constants(ours))
	t.eq(b.get_connection_status(), MultiplayerPeer.CONNECTION_DISCONNECTED, "starts disconnected")
	t.eq(b.get_unique_id(), 0, "no id before create_*")


## The editor reads a class's default values (for the inspector and the
## help pages) from an object it makes and frees without ever holding a
## reference to it; reading them there must neither free that object under
## the engine (a crash when the project opens) nor differ from the engine's.
func test_defaults_as_the_editor_reads_them(t) -> void:
	for pair in [[ENGINE, OURS], ["WebSocketMultiplayerPeer", "RustWebSocketMultiplayerPeer"]]:
		for p in ClassDB.class_get_property_list(pair[0], false):
			if p["usage"] & PROPERTY_USAGE_CATEGORY:
				continue
			var name: String = p["name"]
			t.eq(ClassDB.class_get_property_default_value(pair[1], name),
				ClassDB.class_get_property_default_value(pair[0], name),
				"%s.%s default as the editor reads it" % [pair[1], name])


func test_compression_members_and_defaults(t) -> void:
	for cls in ["RustWebSocketPeer", "RustWebSocketMultiplayerPeer"]:
		var o = ClassDB.instantiate(cls)
		t.eq(o.compression_enabled, false, cls + ": compression off by default (the engine's wire)")
		t.eq(o.compression_threshold, 1024, cls + ": threshold")
		t.eq(o.compression_context_takeover, true, cls + ": context takeover")
		t.eq(o.compression_window_bits, 15, cls + ": window bits")
		o.compression_window_bits = 8
		t.eq(o.compression_window_bits, 15, cls + ": 8 bits refused")
		t.check_logged("9-15")
		o.compression_threshold = -1
		t.eq(o.compression_threshold, 1024, cls + ": negative threshold refused")
		o.compression_window_bits = 10
		t.eq(o.compression_window_bits, 10, cls + ": 10 bits taken")
	t.eq(RustWebSocketPeer.new().get_negotiated_extensions(), "", "nothing agreed before a connection")
