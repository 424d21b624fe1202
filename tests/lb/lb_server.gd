## One game server of the load balancer test: a RustWebSocketServer node on
## 127.0.0.1:PORT behind HAProxy, taking the PROXY protocol only from the
## balancer's address PROXY_ADDRESS (its health path answers the balancer's
## checks). Greets each client with "welcome NAME". Prints "PORT <n>" once
## it listens. Writes to RECORD, flushed every frame (times in seconds
## since the epoch):
##   C <time> <id> <address> <port>   a client connected, as the server sees it
##   M <client> <seq>                  a message (the client's own text)
##   D <time> <id> <code>              a client left
##   R <time>                          drain started
##   Z <time>                          drained (then the process ends)
## Reads commands from CONTROL, one a line, each done once:
## "drain SECONDS", "quit".
## Arguments after "--": NAME PORT RECORD CONTROL PROXY_ADDRESS
extends SceneTree

var server_name := ""
var server: RustWebSocketServer
var record: FileAccess
var control_path := ""
var commands_done := 0
var control_checked := 0
var leaving := false


func _initialize() -> void:
	var args := OS.get_cmdline_user_args()
	if args.size() < 5:
		printerr("usage: -- NAME PORT RECORD CONTROL PROXY_ADDRESS")
		quit(2)
		return
	server_name = args[0]
	record = FileAccess.open(args[2], FileAccess.WRITE)
	control_path = args[3]
	if record == null:
		printerr("cannot write ", args[2])
		quit(2)
		return
	server = RustWebSocketServer.new()
	server.proxy_protocol = true
	server.trusted_proxies = PackedStringArray([args[4]])
	server.client_connected.connect(_on_connected)
	server.client_disconnected.connect(_on_disconnected)
	server.message_received.connect(_on_message)
	server.drained.connect(_on_drained)
	root.add_child(server)
	var error := server.listen(int(args[1]), "127.0.0.1")
	if error != OK:
		printerr("cannot listen on ", args[1], ": ", error_string(error))
		quit(1)
		return
	print("PORT ", args[1])


func _now() -> String:
	return "%.3f" % Time.get_unix_time_from_system()


func _on_connected(id: int) -> void:
	record.store_line("C %s %d %s %d" % [_now(), id, server.get_client_address(id), server.get_client_port(id)])
	server.send_text(id, "welcome " + server_name)


func _on_disconnected(id: int, code: int, _reason: String) -> void:
	record.store_line("D %s %d %d" % [_now(), id, code])


func _on_message(_id: int, message: Variant) -> void:
	if message is String:
		record.store_line("M " + message)


func _on_drained() -> void:
	record.store_line("Z " + _now())
	leaving = true


func _process(_delta: float) -> bool:
	var now := Time.get_ticks_msec()
	if now - control_checked >= 50:
		control_checked = now
		var lines := FileAccess.get_file_as_string(control_path).split("\n", false)
		while commands_done < lines.size():
			var words := lines[commands_done].split(" ", false)
			commands_done += 1
			if words.size() == 2 and words[0] == "drain":
				record.store_line("R " + _now())
				server.drain(float(words[1]))
			elif words.size() == 1 and words[0] == "quit":
				leaving = true
	record.flush()
	return leaving
