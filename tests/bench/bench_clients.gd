## Client side of bench.gd's many-links workload, run as a second Godot
## process so both ends of 10,000 links need not share one process's
## descriptor limit. Arguments after "--": URL COUNT CLASS GO_FILE DONE_FILE.
## Opens COUNT links of CLASS to URL (a few handshakes at a time, as the
## engine's TCPServer has a short listen backlog) and keeps polling them.
## Once GO_FILE exists, sends one message on every link and writes the number
## of echoes received to DONE_FILE.
extends SceneTree

const IN_FLIGHT := 8
const DEADLINE_MS := 180000


func _initialize() -> void:
	var args := OS.get_cmdline_user_args()
	if args.size() < 5:
		printerr("bench_clients.gd: URL COUNT CLASS GO_FILE DONE_FILE")
		quit(1)
		return
	_run.call_deferred(args[0], int(args[1]), args[2], args[3], args[4])


func _run(url: String, count: int, cls: String, go_file: String, done_file: String) -> void:
	var deadline := Time.get_ticks_msec() + DEADLINE_MS
	var clients := []
	var connecting := []
	while Time.get_ticks_msec() < deadline and not FileAccess.file_exists(go_file):
		while clients.size() < count and connecting.size() < IN_FLIGHT:
			var c = ClassDB.instantiate(cls)
			c.connect_to_url(url)
			connecting.append(c)
			clients.append(c)
		var still := []
		for c in connecting:
			c.poll()
			if c.get_ready_state() == 0:
				still.append(c)
		connecting = still
		if connecting.is_empty():
			# All open: keep them alive without spinning.
			for c in clients:
				c.poll()
			OS.delay_msec(5)
	var echoed := 0
	var sent := 0
	for c in clients:
		# Anything that came before (a multiplayer server's id message).
		while c.get_available_packet_count() > 0:
			c.get_packet()
		if c.get_ready_state() == 1 and c.put_packet(PackedByteArray([1])) == OK:
			sent += 1
	while echoed < sent and Time.get_ticks_msec() < deadline:
		for c in clients:
			c.poll()
			while c.get_available_packet_count() > 0:
				c.get_packet()
				echoed += 1
		OS.delay_usec(500)
	var f := FileAccess.open(done_file, FileAccess.WRITE)
	if f != null:
		f.store_line(str(echoed))
		f.close()
	for c in clients:
		c.close(-1)
	quit(0)
