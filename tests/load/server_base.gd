## What the test servers started by godot_server.sh share: their arguments
## after "--" ([expected links or clients] [time limit in seconds] [more]),
## the "PORT <n>" line the scripts wait for, and the one JSON line each ends
## with (and its exit status: 0 when all it expected happened in time).
extends SceneTree

var expected := 1000
var limit_ms := 0
## The arguments after the first two.
var more: PackedStringArray = []
var started := 0


## Reads the arguments; `default_limit` seconds when no limit is given.
func read_args(default_limit: float) -> void:
	var args := OS.get_cmdline_user_args()
	if args.size() > 0:
		expected = int(args[0])
	limit_ms = int((float(args[1]) if args.size() > 1 else default_limit) * 1000.0)
	more = args.slice(2)


## Says the server listens on `port`; its time limit starts now.
func announce(port: int) -> void:
	started = Time.get_ticks_msec()
	print("PORT ", port)


## When `done`, or when time is up: prints `report` (with "timed_out"
## added) as one JSON line and quits. Returns true then.
func finish_when(done: bool, report: Dictionary) -> bool:
	if not done and Time.get_ticks_msec() - started <= limit_ms:
		return false
	report["timed_out"] = not done
	print(JSON.stringify(report))
	quit(0 if done else 1)
	return true
