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
	_mutex.unlock()


func _log_message(message: String, error: bool) -> void:
	_mutex.lock()
	if error:
		_runner.errors.append(message)
	else:
		_runner.messages.append(message)
	_mutex.unlock()
