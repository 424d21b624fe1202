## Visual test: each demo scene of godot-project in a real window, at
## 960x600 and 640x480. Fails when a visible Button, LineEdit or Label lies
## outside the window or is squeezed below the size its text needs, and
## saves a screenshot of each scene at each size.
## Arguments after "--": OUTPUT_DIR
extends SceneTree

const SCENES := [
	["menu", "res://main.tscn", {}],
	["client", "res://demos/client/client.tscn", {"local_server_port": 0}],
	["server", "res://demos/server/server.tscn", {"port": 0}],
	["client_server", "res://demos/client_server/client_server.tscn", {"port": 0}],
	["chat", "res://demos/chat/chat.tscn", {"port": 0}],
	["multiplayer", "res://demos/multiplayer/multiplayer_demo.tscn", {"port": 0}],
]
const SIZES := [Vector2i(960, 600), Vector2i(640, 480)]
const SETTLE_SECONDS := 1.5

var out_dir := ""
var problems: PackedStringArray = []


func _initialize() -> void:
	out_dir = OS.get_cmdline_user_args()[0] if OS.get_cmdline_user_args().size() > 0 else "user://visual"
	DirAccess.make_dir_recursive_absolute(out_dir)
	_run.call_deferred()


func _run() -> void:
	for size in SIZES:
		root.size = size
		DisplayServer.window_set_size(size)
		for spec in SCENES:
			await _check_scene(spec[0], spec[1], spec[2], size)
	for p in problems:
		printerr(p)
	print("visual: %d passed, %d failed" % [SCENES.size() * SIZES.size() - _failed_scenes(), _failed_scenes()])
	quit(1 if problems.size() > 0 else 0)


var _failed := {}


func _failed_scenes() -> int:
	return _failed.size()


func _check_scene(label: String, path: String, settings: Dictionary, size: Vector2i) -> void:
	var scene: Node = load(path).instantiate()
	for key in settings:
		scene.set(key, settings[key])
	root.add_child(scene)
	# Let the connections happen (logs, dots) and the layout settle.
	var until := Time.get_ticks_msec() + int(SETTLE_SECONDS * 1000)
	while Time.get_ticks_msec() < until:
		await process_frame
	await RenderingServer.frame_post_draw
	var view := Rect2(Vector2.ZERO, Vector2(root.get_visible_rect().size))
	for node in scene.find_children("*", "Control", true, false):
		var c := node as Control
		if not (c is Button or c is LineEdit or c is Label) or not c.is_visible_in_tree():
			continue
		var rect := c.get_global_rect()
		var what := "%s at %dx%d: %s \"%s\"" % [label, size.x, size.y, c.get_class(), _text(c)]
		if not view.grow(0.5).encloses(rect):
			_problem(label, size, "%s lies outside the window: %s (window %s)" % [what, rect, view.size])
		var need := c.get_combined_minimum_size()
		if c.size.x + 0.5 < need.x or c.size.y + 0.5 < need.y:
			_problem(label, size, "%s is squeezed: %s, needs %s" % [what, c.size, need])
	var file := "%s/%s_%dx%d.png" % [out_dir, label, size.x, size.y]
	root.get_texture().get_image().save_png(file)
	print("%s %s at %dx%d -> %s" % ["FAIL" if _failed.has("%s@%s" % [label, size]) else "ok  ", label, size.x, size.y, file])
	scene.queue_free()
	await process_frame


func _text(c: Control) -> String:
	var t: String = c.get("text") if c.get("text") != null else ""
	return t.substr(0, 40)


func _problem(label: String, size: Vector2i, what: String) -> void:
	_failed["%s@%s" % [label, size]] = true
	problems.append(what)
