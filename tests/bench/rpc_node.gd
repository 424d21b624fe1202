## The node the RPC benchmark calls on every peer: the server sends `ping`
## to a client, which answers with `pong` to the server.
extends Node

var pongs := 0


@rpc("authority", "call_remote", "reliable")
func ping(n: int) -> void:
	pong.rpc_id(1, n)


@rpc("any_peer", "call_remote", "reliable")
func pong(_n: int) -> void:
	pongs += 1
