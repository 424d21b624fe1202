## A MultiplayerPeer that does no I/O: packets go straight into the other
## peer's queue in this process. The benchmark runs SceneMultiplayer's RPCs
## over it to measure what SceneMultiplayer itself costs, the bound for any
## real MultiplayerPeer. Make a star with `LoopbackPeer.star(n)`: element 0
## is the server (id 1), the rest are clients (ids 2..n).
extends MultiplayerPeerExtension

var id := 0
var peers := {}  # id -> LoopbackPeer (everyone this one can reach)
var queue: Array = []  # [from, PackedByteArray]
var target := 0
var _announced := false


static func star(count: int) -> Array:
	var all := []
	for i in count:
		var p = new()
		p.id = i + 1
		all.append(p)
	for p in all:
		for q in all:
			if q != p and (p.id == 1 or q.id == 1):
				p.peers[q.id] = q
	return all


func _get_packet_script() -> PackedByteArray:
	return queue.pop_front()[1]


func _get_packet_peer() -> int:
	return queue[0][0] if not queue.is_empty() else 1


func _put_packet_script(buffer: PackedByteArray) -> Error:
	if target > 0:
		if peers.has(target):
			peers[target].queue.append([id, buffer])
		return OK
	for other in peers:
		if target < 0 and other == -target:
			continue
		peers[other].queue.append([id, buffer])
	return OK


func _get_available_packet_count() -> int:
	return queue.size()


func _get_max_packet_size() -> int:
	return 1 << 24


func _get_packet_channel() -> int:
	return 0


func _get_packet_mode() -> MultiplayerPeer.TransferMode:
	return MultiplayerPeer.TRANSFER_MODE_RELIABLE


func _set_transfer_channel(_channel: int) -> void:
	pass


func _get_transfer_channel() -> int:
	return 0


func _set_transfer_mode(_mode: MultiplayerPeer.TransferMode) -> void:
	pass


func _get_transfer_mode() -> MultiplayerPeer.TransferMode:
	return MultiplayerPeer.TRANSFER_MODE_RELIABLE


func _set_target_peer(peer: int) -> void:
	target = peer


func _is_server() -> bool:
	return id == 1


func _poll() -> void:
	if not _announced:
		_announced = true
		for other in peers:
			peer_connected.emit(other)


func _close() -> void:
	peers.clear()


func _disconnect_peer(_peer: int, _force: bool) -> void:
	pass


func _get_unique_id() -> int:
	return id


func _get_connection_status() -> MultiplayerPeer.ConnectionStatus:
	return MultiplayerPeer.CONNECTION_CONNECTED


func _is_server_relay_supported() -> bool:
	return true
