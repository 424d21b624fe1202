## The nodes of the frame-driven benchmarks (frames.gd). Each keeps its
## counters: messages delivered, and the frames from send to delivery
## summed over the deliveries it could time.
extends RefCounted


## Adds up the counters of `nodes`.
static func sum_counters(nodes: Array) -> Dictionary:
	var total := {"delivered": 0, "delay_frames": 0, "delays": 0}
	for n in nodes:
		var c: Dictionary = n.counters()
		for k in total:
			total[k] += c[k]
	return total


## The RPC window: on the client, keeps `window` reliable RPCs outstanding;
## on the server, answers once a frame with how many it has received.
class RpcWindow extends Node:
	var window := 0
	var sent := 0
	var acked := 0
	var received := 0
	var answered := 0
	var delay_frames := 0
	## The frame each RPC still outstanding was sent in.
	var sent_in := PackedInt64Array()

	func counters() -> Dictionary:
		return {"delivered": acked, "delay_frames": delay_frames, "delays": acked}

	func _ready() -> void:
		sent_in.resize(max(window, 1))

	@rpc("any_peer", "call_remote", "reliable")
	func request(_seq: int) -> void:
		received += 1

	@rpc("authority", "call_remote", "reliable")
	func answer(count: int) -> void:
		var now := Engine.get_process_frames()
		for seq in range(acked, count):
			delay_frames += now - sent_in[seq % sent_in.size()]
		acked = count

	func _process(_delta: float) -> void:
		if multiplayer.is_server():
			if received != answered:
				answered = received
				answer.rpc(received)
			return
		var now := Engine.get_process_frames()
		while sent - acked < window:
			sent_in[sent % sent_in.size()] = now
			request.rpc_id(1, sent)
			sent += 1


## `nodes` Node2D, each with a MultiplayerSynchronizer of its position, and
## a stamp of the frame the server last moved them in.
class SyncWorld extends Node:
	var nodes := 0
	var is_server := false
	var stamp := 0
	var seen := 0
	var delivered := 0
	var delay_frames := 0
	var items: Array[Node2D] = []

	func counters() -> Dictionary:
		return {"delivered": delivered, "delay_frames": delay_frames, "delays": seen}

	func _ready() -> void:
		var config := SceneReplicationConfig.new()
		config.add_property(NodePath(".:position"))
		config.property_set_replication_mode(NodePath(".:position"), SceneReplicationConfig.REPLICATION_MODE_ALWAYS)
		for i in nodes:
			var item := Node2D.new()
			item.name = "Item%d" % i
			add_child(item)
			var sync := MultiplayerSynchronizer.new()
			sync.name = "Sync"
			sync.replication_config = config
			sync.root_path = NodePath("..")
			item.add_child(sync)
			items.append(item)

	func _process(_delta: float) -> void:
		if is_server:
			# The stamp rides in every item's position: x is the frame.
			var frame := float(Engine.get_process_frames())
			for i in items.size():
				items[i].position = Vector2(frame, i)
			return
		var now := Engine.get_process_frames()
		for item in items:
			var sent := int(item.position.x)
			if sent > 0 and item.has_meta("last") and int(item.get_meta("last")) != sent:
				delivered += 1
				seen += 1
				delay_frames += now - sent
			item.set_meta("last", sent)


## A state RPC from the server to every client, once a frame.
class Broadcast extends Node:
	var is_server := false
	var delivered := 0
	var delay_frames := 0
	var payload := PackedByteArray()

	func counters() -> Dictionary:
		return {"delivered": delivered, "delay_frames": delay_frames, "delays": delivered}

	func _ready() -> void:
		payload.resize(64)

	@rpc("authority", "call_remote", "reliable")
	func state(frame: int, _data: PackedByteArray) -> void:
		delivered += 1
		delay_frames += Engine.get_process_frames() - frame

	func _process(_delta: float) -> void:
		if is_server:
			state.rpc(Engine.get_process_frames(), payload)


## The server end of the peer workload: echoes what comes, each frame.
class PeerEcho extends Node:
	var server

	func _process(_delta: float) -> void:
		server.poll()
		while server.get_available_packet_count() > 0:
			server.put_packet(server.get_packet())


## The client end: sends `per_frame` stamped messages a frame and times
## their echoes.
class PeerSender extends Node:
	var client
	var per_frame := 1
	var delivered := 0
	var delay_frames := 0

	func counters() -> Dictionary:
		return {"delivered": delivered, "delay_frames": delay_frames, "delays": delivered}

	func _process(_delta: float) -> void:
		client.poll()
		var now := Engine.get_process_frames()
		while client.get_available_packet_count() > 0:
			var sent: int = client.get_packet().decode_s64(0)
			delivered += 1
			delay_frames += now - sent
		var msg := PackedByteArray()
		msg.resize(32)
		msg.encode_s64(0, now)
		for i in per_frame:
			client.put_packet(msg)
