## Autobahn TestSuite testee (client role): runs every case of a
## `wstest -m fuzzingserver` on 127.0.0.1 with the class named on the
## command line, echoing each case's messages, then asks for the reports.
## Prints "CASES <n>" and "DONE" at the end.
## Arguments after "--": PORT AGENT CLASS [compress]
extends SceneTree

const BIG := 64 * 1024 * 1024
const CASE_SECONDS := 60.0

var base := ""
var agent := ""
var cls := "RustWebSocketPeer"
var compress := false


func _initialize() -> void:
	# Headless Godot sleeps ~7 ms per frame (it has no window to draw); the
	# suite echoes one message at a time. A short sleep leaves the CPU to
	# wstest, which is the bottleneck.
	OS.low_processor_usage_mode_sleep_usec = 250
	var args := OS.get_cmdline_user_args()
	base = "ws://127.0.0.1:%s" % args[0]
	agent = args[1]
	if args.size() > 2:
		cls = args[2]
	compress = args.size() > 3 and args[3] == "compress"
	_run.call_deferred()


func _peer(kind := ""):
	var p = ClassDB.instantiate(kind if kind != "" else cls)
	p.inbound_buffer_size = BIG
	p.outbound_buffer_size = BIG
	p.max_queued_packets = 1 << 20
	if compress:
		p.compression_enabled = true
	return p


## Connects to `path`, echoes until the server closes; returns the text
## messages it got (for getCaseCount).
func _session(path: String, kind := "") -> Array:
	var p = _peer(kind)
	var got := []
	if p.connect_to_url(base + path) != OK:
		return got
	var deadline := Time.get_ticks_msec() + int(CASE_SECONDS * 1000)
	while p.get_ready_state() != WebSocketPeer.STATE_CLOSED and Time.get_ticks_msec() < deadline:
		p.poll()
		while p.get_available_packet_count() > 0:
			var data: PackedByteArray = p.get_packet()
			var text: bool = p.was_string_packet()
			if text:
				got.append(data.get_string_from_utf8())
			p.send(data, WebSocketPeer.WRITE_MODE_TEXT if text else WebSocketPeer.WRITE_MODE_BINARY)
		await process_frame
	if p.get_ready_state() != WebSocketPeer.STATE_CLOSED:
		printerr("%s: no close within %d s" % [path, CASE_SECONDS])
		p.close(-1)
	return got


func _run() -> void:
	# The count comes in a message followed at once by the close; the
	# engine's class drops messages that arrive with a close, so the count is
	# always read with RustWebSocketPeer (it is not a test case).
	var counted: Array = await _session("/getCaseCount", "RustWebSocketPeer")
	var count := int(counted[0]) if counted.size() > 0 else 0
	print("CASES ", count)
	for i in range(1, count + 1):
		await _session("/runCase?case=%d&agent=%s" % [i, agent])
	await _session("/updateReports?agent=%s" % agent)
	print("DONE")
	quit(0 if count > 0 else 1)
