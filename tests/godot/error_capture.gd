## Collects the errors and warnings Godot prints, so tests can assert that a
## failure was explained. Needs the Logger class (Godot 4.5+).
extends Logger

var _runner: Object
var _mutex := Mutex.new()


func _init(runner: Object) -> void:
	_runner = runner


func _log_error(function: String, file: String, line: int, code: String, rationale: String, editor_notify: bool, error_type: int, script_backtraces: Array) -> void:
	_mutex.lock()
	_runner.errors.append(code + " " + rationale)
	if error_type == ERROR_TYPE_SCRIPT:
		# A GDScript error stops the test function early: it must not pass.
		_runner.script_errors.append("%s (%s:%d)" % [rationale if rationale else code, file, line])
	_mutex.unlock()


func _log_message(message: String, error: bool) -> void:
	_mutex.lock()
	if error:
		_runner.errors.append(message)
	else:
		_runner.messages.append(message)
	_mutex.unlock()
