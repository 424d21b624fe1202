## What the servers of the load balancer test share (lb_server.gd: the
## RustWebSocketServer node; lb_server_mp.gd: RustWebSocketMultiplayerPeer):
## a server on 127.0.0.1:PORT behind HAProxy, taking the PROXY protocol only
## from the balancer's address PROXY_ADDRESS (its health path answers the
## balancer's checks), greeting each client with "welcome NAME". Prints
## "PORT <n>" once it listens. Writes to RECORD, flushed every frame (times
## in seconds since the epoch):
##   C <time> <id> <address> <port>   a client connected, as the server sees it
##   M <client> <seq>                  a message (the client's own text)
##   D <time> <id> <code>              a client left
##   R <time>                          drain started
##   Z <time>                          drained (then the process ends)
## Reads commands from CONTROL, one a line, each done once:
## "drain SECONDS", "quit".
## Arguments after "--": NAME PORT RECORD CONTROL PROXY_ADDRESS [xff]
## With "xff" (behind nginx), no PROXY header: the balancer's
## X-Forwarded-For gives the client's address.
extends SceneTree

var server_name := ""
var record: FileAccess
var control_path := ""
var commands_done := 0
var control_checked := 0
var leaving := false
## False with "xff": the balancer sends X-Forwarded-For, not the PROXY protocol.
var use_proxy_protocol := true


## Starts the server on 127.0.0.1:`port`, the PROXY protocol taken from
## `proxy` only.
func listen(_port: int, _proxy: String) -> Error:
	return ERR_UNAVAILABLE


## Starts draining: clients closed with 1012 after `grace` seconds.
func drain(_grace: float) -> void:
	pass


## Work of each frame besides the commands (polling, when not a node).
func serve() -> void:
	pass


func _initialize() -> void:
	var args := OS.get_cmdline_user_args()
	if args.size() < 5:
		printerr("usage: -- NAME PORT RECORD CONTROL PROXY_ADDRESS")
		quit(2)
		return
	server_name = args[0]
	use_proxy_protocol = not (args.size() > 5 and args[5] == "xff")
	record = FileAccess.open(args[2], FileAccess.WRITE)
	control_path = args[3]
	if record == null:
		printerr("cannot write ", args[2])
		quit(2)
		return
	var error := listen(int(args[1]), args[4])
	if error != OK:
		printerr("cannot listen on ", args[1], ": ", error_string(error))
		quit(1)
		return
	print("PORT ", args[1])


func now() -> String:
	return "%.3f" % Time.get_unix_time_from_system()


func connected(id: int, address: String, port: int) -> void:
	record.store_line("C %s %d %s %d" % [now(), id, address, port])


func message(text: String) -> void:
	record.store_line("M " + text)


func disconnected(id: int, code: int) -> void:
	record.store_line("D %s %d %d" % [now(), id, code])


func drained() -> void:
	record.store_line("Z " + now())
	leaving = true


func _process(_delta: float) -> bool:
	var ticks := Time.get_ticks_msec()
	if ticks - control_checked >= 50:
		control_checked = ticks
		var lines := FileAccess.get_file_as_string(control_path).split("\n", false)
		while commands_done < lines.size():
			var words := lines[commands_done].split(" ", false)
			commands_done += 1
			if words.size() == 2 and words[0] == "drain":
				record.store_line("R " + now())
				drain(float(words[1]))
			elif words.size() == 1 and words[0] == "quit":
				leaving = true
	serve()
	record.flush()
	return leaving
