## Runs every test_*.gd beside this file in a headless Godot.
##
## Each method whose name starts with "test_" is called (and awaited) with
## this runner as its only argument; it asserts through check()/eq() and
## polls peers through until(). Set GODOT_TEST_FILTER to run only tests
## whose "file:method" contains it. Ends with the line "N passed, N failed".
##
## What a test printed (errors, warnings, prints) is read back from this
## process's own output: tests/godot/run_suite.sh sends it to the file named
## by GODOT_TEST_LOG, and logged()/printed() read the part written since the
## test began. That works on every Godot version and platform (Godot 4.5's
## Logger class does not exist before 4.5). A "SCRIPT ERROR" printed while a
## test ran fails it: the test function stopped there.
extends SceneTree

const WATCHDOG_SECONDS := 600.0
## How Godot starts the lines of errors and warnings in its output.
const ERROR_PREFIXES := ["ERROR:", "WARNING:", "SCRIPT ERROR:", "USER ERROR:", "USER WARNING:", "USER SCRIPT ERROR:"]

var passed := 0
var failed := 0
var current := ""
var _current_failed := false
## The output file and where the current test's output starts in it.
var _log_path := ""
var _log_from := 0


func _initialize() -> void:
	# Headless Godot sleeps ~7 ms per frame (no window to draw); tests poll
	# once per frame, so they would mostly wait.
	OS.low_processor_usage_mode_sleep_usec = 0
	_log_path = OS.get_environment("GODOT_TEST_LOG")
	if _log_path == "" or not FileAccess.file_exists(_log_path):
		printerr("GODOT_TEST_LOG does not name this process's output file: run the tests through tests/godot/run_suite.sh")
		print("0 passed, 1 failed")
		quit(1)
		return
	create_timer(WATCHDOG_SECONDS).timeout.connect(_on_watchdog)
	_run.call_deferred()


func _on_watchdog() -> void:
	printerr("watchdog: ", current, " did not finish in time")
	print("%d passed, %d failed" % [passed, failed + 1])
	quit(1)


func _run() -> void:
	var dir: String = get_script().resource_path.get_base_dir()
	var only := OS.get_environment("GODOT_TEST_FILTER")
	var files := Array(DirAccess.get_files_at(dir)).filter(func(f): return f.begins_with("test_") and f.ends_with(".gd"))
	files.sort()
	for f in files:
		var script: GDScript = load(dir + "/" + f)
		if script == null or not script.can_instantiate():
			_fail_file(f, "could not be loaded (parse error?)")
			continue
		for m in script.get_script_method_list():
			var name: String = m["name"]
			if not name.begins_with("test_") or (only != "" and not (f + ":" + name).contains(only)):
				continue
			var suite = script.new()
			current = f.get_basename() + ":" + name
			_current_failed = false
			_log_from = _log_length()
			var started := Time.get_ticks_msec()
			await suite.call(name, self)
			for e in _output(true):
				if e.begins_with("SCRIPT ERROR:") or e.begins_with("USER SCRIPT ERROR:"):
					check(false, "script error: " + e)
			if _current_failed:
				failed += 1
				print("FAIL ", current)
			else:
				passed += 1
				print("ok   ", current, "  (", Time.get_ticks_msec() - started, " ms)")
	print("%d passed, %d failed" % [passed, failed])
	quit(1 if failed > 0 else 0)


func _fail_file(f: String, why: String) -> void:
	failed += 1
	print("FAIL ", f, ": ", why)


func _log_length() -> int:
	var f := FileAccess.open(_log_path, FileAccess.READ)
	return f.get_length() if f else 0


## The lines this process printed since the current test began: the error
## and warning lines (`errors` true) or the others.
func _output(errors: bool) -> PackedStringArray:
	var out: PackedStringArray = []
	var f := FileAccess.open(_log_path, FileAccess.READ)
	if f == null:
		return out
	f.seek(_log_from)
	var text := f.get_buffer(f.get_length() - _log_from).get_string_from_utf8()
	for line in text.split("\n", false):
		line = line.strip_edges()
		var is_error := ERROR_PREFIXES.any(func(p): return line.begins_with(p))
		if is_error == errors and line != "":
			out.append(line)
	return out


## Records a failure unless `cond` holds.
func check(cond: bool, what: String) -> bool:
	if not cond:
		_current_failed = true
		printerr("  ", current, ": ", what)
	return cond


## Records a failure unless `a == b`.
func eq(a, b, what: String) -> bool:
	var same: bool = typeof(a) == typeof(b) and a == b
	if not same and typeof(a) in [TYPE_INT, TYPE_FLOAT] and typeof(b) in [TYPE_INT, TYPE_FLOAT]:
		same = a == b
	return check(same, "%s: got %s, expected %s" % [what, _short(a), _short(b)])


func _short(v) -> String:
	var s := str(v)
	return s if s.length() < 200 else s.substr(0, 200) + "..."


## Polls `peers` every frame until `cond` returns true or `timeout` passes.
func until(cond: Callable, peers: Array, what: String, timeout := 20.0) -> bool:
	var deadline := Time.get_ticks_msec() + int(timeout * 1000.0)
	while true:
		for p in peers:
			if p != null:
				p.poll()
		if cond.call():
			return true
		if Time.get_ticks_msec() > deadline:
			return check(false, "timed out waiting for " + what)
		await process_frame
	return false


## True if an error or warning containing `needle` was printed during this
## test.
func logged(needle: String) -> bool:
	for e in _output(true):
		if e.contains(needle):
			return true
	return false


## Asserts that an error containing `needle` was printed during this test.
func check_logged(needle: String) -> bool:
	return check(logged(needle), "expected an error mentioning \"%s\"; printed: %s" % [needle, _output(true)])


## The error and warning lines printed during this test.
func errors_printed() -> PackedStringArray:
	return _output(true)


## The lines other than errors and warnings printed during this test.
func printed() -> PackedStringArray:
	return _output(false)
