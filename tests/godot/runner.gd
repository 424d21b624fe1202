## Runs every test_*.gd beside this file in a headless Godot.
##
## Each method whose name starts with "test_" is called (and awaited) with
## this runner as its only argument; it asserts through check()/eq() and
## polls peers through until(). Set GODOT_TEST_FILTER to run only tests whose
## "file:method" contains it. Ends with the line "N passed, N failed,
## N skipped". Before Godot 4.5 there is no Logger to capture printed
## errors: a test that checks an error's text is reported "skip" there
## (its other checks still run and can fail it).
extends SceneTree

const WATCHDOG_SECONDS := 600.0

var passed := 0
var failed := 0
var skipped := 0
## Checks of printed error text this test could not make (no Logger).
var _uncheckable := 0
var current := ""
var _current_failed := false
var errors: PackedStringArray = []
var messages: PackedStringArray = []
## GDScript errors raised while a test ran (the test stopped there).
var script_errors: PackedStringArray = []
var _logger: Object = null


func _initialize() -> void:
	# Headless Godot sleeps ~7 ms per frame (no window to draw); tests poll
	# once per frame, so they would mostly wait.
	OS.low_processor_usage_mode_sleep_usec = 0
	if ClassDB.class_exists("Logger"):
		_logger = load(get_script().resource_path.get_base_dir() + "/error_capture.gd").new(self)
		OS.call("add_logger", _logger)
	create_timer(WATCHDOG_SECONDS).timeout.connect(_on_watchdog)
	_run.call_deferred()


func _on_watchdog() -> void:
	printerr("watchdog: ", current, " did not finish in time")
	print("%d passed, %d failed, %d skipped" % [passed, failed + 1, skipped])
	quit(1)


func _run() -> void:
	var dir: String = get_script().resource_path.get_base_dir()
	var only := OS.get_environment("GODOT_TEST_FILTER")
	var files := Array(DirAccess.get_files_at(dir)).filter(func(f): return f.begins_with("test_") and f.ends_with(".gd"))
	files.sort()
	for f in files:
		var script: GDScript = load(dir + "/" + f)
		if script == null:
			_fail_file(f, "could not be loaded (parse error?)")
			continue
		for m in script.get_script_method_list():
			var name: String = m["name"]
			if not name.begins_with("test_") or (only != "" and not (f + ":" + name).contains(only)):
				continue
			var suite = script.new()
			current = f.get_basename() + ":" + name
			_current_failed = false
			_uncheckable = 0
			errors.clear()
			script_errors.clear()
			messages.clear()
			var started := Time.get_ticks_msec()
			await suite.call(name, self)
			for e in script_errors:
				check(false, "script error: " + e)
			if _current_failed:
				failed += 1
				print("FAIL ", current)
			elif _uncheckable > 0:
				skipped += 1
				print("skip ", current, "  (checks printed errors: needs Godot 4.5's Logger)")
			else:
				passed += 1
				print("ok   ", current, "  (", Time.get_ticks_msec() - started, " ms)")
	print("%d passed, %d failed, %d skipped" % [passed, failed, skipped])
	quit(1 if failed > 0 else 0)


func _fail_file(f: String, why: String) -> void:
	failed += 1
	print("FAIL ", f, ": ", why)


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
## test. Without a Logger (Godot < 4.5) nothing can be seen: it answers
## false and the test is reported as skipped.
func logged(needle: String) -> bool:
	if _logger == null:
		_uncheckable += 1
		return false
	for e in errors:
		if e.contains(needle):
			return true
	return false


## Asserts that an error containing `needle` was printed during this test
## (skipped without a Logger, see logged()).
func check_logged(needle: String) -> bool:
	if _logger == null:
		_uncheckable += 1
		return true
	return check(logged(needle), "expected an error mentioning \"%s\"; printed: %s" % [needle, errors])
