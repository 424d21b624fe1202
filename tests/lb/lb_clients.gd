## The players of the load balancer test: COUNT RustWebSocketClient nodes
## in one headless Godot process, connecting through the balancer at URL
## with their default reconnect settings, each sending a numbered text
## message "<client> <seq>" every INTERVAL_MS (the numbers count only the
## messages send_text took, from 0). A server greets each client with
## "welcome <server>".
## Writes what the clients see to EVENTS, one line each, flushed every frame
## (times in seconds since the epoch):
##   W <time> <client> <server>        greeted by a server (connected there)
##   X <time> <client> <code> <seq>    the link closed; <seq> is the first
##                                     number sent after the client noticed
##   G <time> <client> <count>         messages dropped (none expected)
##   E <time> <client> <seq> <error> <open|away>  send_text refused a
##                                     message, while the client was greeted
##                                     and had seen no close since (open) or not
##   K <tag> <client> <seq>            answer to "mark": the next number
##   F <client> <seq>                  answer to "stop": numbers sent
## Reads commands from CONTROL, one a line, each done once: "mark TAG",
## "more N" (N more clients), "stop" (stop sending), "quit".
## Arguments after "--": URL COUNT EVENTS CONTROL [INTERVAL_MS]
extends SceneTree

var url := ""
var interval_ms := 250
var clients: Array[RustWebSocketClient] = []
var names: PackedStringArray = []
var next_seq: PackedInt64Array = []
var next_send: PackedInt64Array = []
## Greeted, and no close seen since.
var linked: Array[bool] = []
var sending := true
var events: FileAccess
var control_path := ""
var commands_done := 0
var control_checked := 0


func _initialize() -> void:
	var args := OS.get_cmdline_user_args()
	if args.size() < 4:
		printerr("usage: -- URL COUNT EVENTS CONTROL [INTERVAL_MS]")
		quit(2)
		return
	url = args[0]
	events = FileAccess.open(args[2], FileAccess.WRITE)
	control_path = args[3]
	if args.size() > 4:
		interval_ms = maxi(int(args[4]), 10)
	if events == null:
		printerr("cannot write ", args[2])
		quit(2)
		return
	_add(int(args[1]))
	print("CLIENTS ", clients.size())


func _now() -> String:
	return "%.3f" % Time.get_unix_time_from_system()


func _add(count: int) -> void:
	for i in count:
		var index := clients.size()
		var client := RustWebSocketClient.new()
		client.url = url
		# Every message a client sends while it is away must wait for it.
		client.queue_limit = 4096
		client.message_received.connect(_on_message.bind(index))
		client.closed.connect(_on_closed.bind(index))
		client.messages_dropped.connect(_on_dropped.bind(index))
		clients.append(client)
		names.append("c%d" % index)
		next_seq.append(0)
		linked.append(false)
		next_send.append(Time.get_ticks_msec() + randi() % interval_ms)
		root.add_child(client)


func _on_message(message: Variant, index: int) -> void:
	if message is String and message.begins_with("welcome "):
		linked[index] = true
		events.store_line("W %s %s %s" % [_now(), names[index], message.substr(8)])


func _on_closed(code: int, _reason: String, index: int) -> void:
	linked[index] = false
	events.store_line("X %s %s %d %d" % [_now(), names[index], code, next_seq[index]])


func _on_dropped(count: int, index: int) -> void:
	events.store_line("G %s %s %d" % [_now(), names[index], count])


func _command(line: String) -> bool:
	var words := line.split(" ", false)
	if words.is_empty():
		return false
	match words[0]:
		"mark":
			for i in clients.size():
				events.store_line("K %s %s %d" % [words[1], names[i], next_seq[i]])
		"more":
			_add(int(words[1]))
		"stop":
			sending = false
			for i in clients.size():
				events.store_line("F %s %d" % [names[i], next_seq[i]])
		"quit":
			return true
	return false


func _process(_delta: float) -> bool:
	var now := Time.get_ticks_msec()
	var done := false
	if now - control_checked >= 50:
		control_checked = now
		var lines := FileAccess.get_file_as_string(control_path).split("\n", false)
		while commands_done < lines.size() and not done:
			done = _command(lines[commands_done])
			commands_done += 1
	if sending:
		for i in clients.size():
			if now < next_send[i]:
				continue
			next_send[i] += interval_ms
			var error := clients[i].send_text("%s %d" % [names[i], next_seq[i]])
			if error == OK:
				next_seq[i] += 1
			else:
				events.store_line("E %s %s %d %d %s" % [_now(), names[i], next_seq[i], error, "open" if linked[i] else "away"])
	events.flush()
	return done
