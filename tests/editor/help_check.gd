## Test only (tests/editor/run_help_check.sh enables it in a copy of the
## test project): opens the help page of each of our classes the way a user
## does (the Script editor's help viewer, as Search Help or Ctrl+click
## opens it), reads the text the page shows, and checks that the class and
## every method, property, signal and constant it registers have their
## description.
## Writes "N passed, N failed" and the failures to HELP_CHECK_OUT (and each
## page's text beside it), then quits the editor.
@tool
extends EditorPlugin

const CLASSES := ["RustWebSocketPeer", "RustWebSocketMultiplayerPeer", "RustWebSocketClient", "RustWebSocketServer"]
## What the help viewer shows in place of a missing description.
const MISSING := "There is currently no description"
## The help viewer's section titles.
const HEADINGS := ["Description", "Tutorials", "Properties", "Methods", "Signals", "Enumerations", "Constants", "Property Descriptions", "Method Descriptions", "Signal Descriptions"]
## Seconds to wait for a page (the editor builds its help in the background).
const PAGE_TIMEOUT := 60.0

var _out: PackedStringArray = []
var _failed := 0


func _enter_tree() -> void:
	if OS.get_environment("HELP_CHECK_OUT") != "":
		_run.call_deferred()


func _check(ok: bool, what: String) -> void:
	if not ok:
		_failed += 1
		_out.append("FAIL " + what)


func _run() -> void:
	var passed := 0
	for cls in CLASSES:
		var before := _failed
		var text := await _page(cls)
		_check(text != "", cls + ": the help viewer showed its page")
		# Kept beside the result, to read what the page said.
		var page := FileAccess.open(OS.get_environment("HELP_CHECK_OUT").get_base_dir().path_join(cls + ".txt"), FileAccess.WRITE)
		page.store_string(text)
		page.close()
		if text != "":
			_check_page(cls, text)
		if _failed == before:
			passed += 1
			_out.append("ok   " + cls + ": every member has its description")
	_out.append("%d passed, %d failed" % [passed, CLASSES.size() - passed])
	var f := FileAccess.open(OS.get_environment("HELP_CHECK_OUT"), FileAccess.WRITE)
	f.store_string("\n".join(_out) + "\n")
	f.close()
	EditorInterface.get_base_control().get_tree().quit(0)


## The text of the help page of `cls`, as the viewer shows it ("" if it
## never appeared).
func _page(cls: String) -> String:
	var editor := EditorInterface.get_script_editor()
	var deadline := Time.get_ticks_msec() + int(PAGE_TIMEOUT * 1000.0)
	while Time.get_ticks_msec() < deadline:
		editor.goto_help("class_name:" + cls)
		await get_tree().process_frame
		for label in editor.find_children("*", "RichTextLabel", true, false):
			var text: String = label.get_parsed_text()
			if label.is_visible_in_tree() and text.contains(cls) and text.contains("Description"):
				# The viewer puts no-break spaces around "=" and in signatures.
				return text.replace(String.chr(160), " ")
	return ""


func _check_page(cls: String, text: String) -> void:
	var missing := text.count(MISSING)
	_check(missing == 0, "%s: %d members show \"%s...\"" % [cls, missing, MISSING])
	var accessors := {}
	for p in ClassDB.class_get_property_list(cls, true):
		if p["usage"] & (PROPERTY_USAGE_CATEGORY | PROPERTY_USAGE_GROUP | PROPERTY_USAGE_SUBGROUP):
			continue
		_check(text.contains(p["name"]), "%s: property %s is on the page" % [cls, p["name"]])
		for accessor in _accessors(cls, p["name"]):
			accessors[accessor] = true
	for m in ClassDB.class_get_method_list(cls, true):
		if not accessors.has(m["name"]):
			_check(text.contains(m["name"] + "("), "%s: method %s is on the page" % [cls, m["name"]])
	for c in ClassDB.class_get_integer_constant_list(cls, true):
		_check(_constant_text(text, c) != "", "%s: constant %s is on the page with its description" % [cls, c])
	for sig in ClassDB.class_get_signal_list(cls, true):
		_check(text.contains(sig["name"] + "("), "%s: signal %s is on the page" % [cls, sig["name"]])


## The setter and getter of property `name` of `cls` (the page lists them
## with the property, not as methods). Godot 4.4 and later say which they
## are; 4.3's ClassDB cannot, so there they are the class's methods named
## set_, get_ or is_ and the property's name.
func _accessors(cls: String, name: String) -> Array:
	if ClassDB.has_method("class_get_property_getter"):
		return [ClassDB.call("class_get_property_setter", cls, name), ClassDB.call("class_get_property_getter", cls, name)]
	var out := []
	for prefix in ["set_", "get_", "is_"]:
		if ClassDB.class_has_method(cls, prefix + name):
			out.append(prefix + name)
	_check(out.size() >= 2, "%s: property %s has a setter and a getter" % [cls, name])
	return out


## The description the page shows under constant `name` ("" if none: the
## viewer then goes straight on to the next constant, enum or section).
func _constant_text(text: String, name: String) -> String:
	var lines := text.split("\n")
	for i in lines.size():
		# The constant's own entry: a bullet, then "NAME = value".
		var line := lines[i].strip_edges()
		var parts := line.split(" ", false, 1)
		if parts.size() < 2 or not parts[1].begins_with(name + " = "):
			continue
		for j in range(i + 1, lines.size()):
			var next := lines[j].strip_edges()
			if next == "":
				continue
			var starts_another := next.left(1) == line.left(1) or next.begins_with("enum ") or not next.contains(" ")
			return "" if starts_another else next
	return ""
