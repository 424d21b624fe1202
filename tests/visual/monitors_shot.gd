## Test only (tests/visual/run_monitors_shot.sh enables it in a copy of the
## demo project): runs the multiplayer demo from the editor with the
## Performance monitors on, opens the debugger's Monitors tab, ticks four of
## ours, and saves the editor's window to MONSHOT_OUT, then quits.
@tool
extends EditorPlugin

const SHOWN := ["open_links", "bytes_in_per_s", "bytes_out_per_s", "rtt_(ms)"]

var _t := 0.0
var _stage := 0
var _out := OS.get_environment("MONSHOT_OUT")


func _enter_tree() -> void:
	if _out != "":
		EditorInterface.get_editor_settings().set_setting("run/auto_save/save_before_running", false)


func _process(delta: float) -> void:
	if _out == "":
		return
	_t += delta
	# The first opening imports the project: the scene runs after it.
	if _stage == 0 and _t > 15.0:
		get_window().size = Vector2i(1280, 880)
		EditorInterface.play_custom_scene("res://demos/multiplayer/multiplayer_demo.tscn")
		_stage = 1
	elif _stage == 1 and _t > 20.0:
		var profiler := _find(EditorInterface.get_base_control(), "EditorPerformanceProfiler")
		var debugger := _find(EditorInterface.get_base_control(), "EditorDebuggerNode")
		if debugger:
			make_bottom_panel_item_visible(debugger)
		if profiler and profiler.get_parent() is TabContainer:
			profiler.get_parent().current_tab = profiler.get_index()
		_stage = 2
	elif _stage == 2 and _t > 24.0:
		# Our monitors appear once the game sent them: tick them as they come.
		var profiler := _find(EditorInterface.get_base_control(), "EditorPerformanceProfiler")
		var tree: Tree = _find(profiler, "Tree") if profiler else null
		if tree:
			_tick(tree)
		if _t > 30.0:
			_stage = 3
	elif _stage == 3 and _t > 40.0:
		get_viewport().get_texture().get_image().save_png(_out)
		EditorInterface.stop_playing_scene()
		_stage = 4
	elif _stage == 4 and _t > 42.0:
		get_tree().quit()


func _tick(tree: Tree) -> void:
	var category := tree.get_root().get_first_child()
	while category:
		category.collapsed = not category.get_text(0).begins_with("Rust")
		if not category.collapsed:
			var item := category.get_first_child()
			while item:
				if item.get_text(0).to_lower().replace(" ", "_") in SHOWN:
					item.set_checked(0, true)
				item = item.get_next()
		category = category.get_next()


func _find(node: Node, cls: String) -> Node:
	if node.get_class() == cls:
		return node
	for c in node.get_children():
		var found := _find(c, cls)
		if found:
			return found
	return null
