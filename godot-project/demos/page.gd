## The frame every demo scene shares: a title and a "Back to menu" button
## on top, then `content`, which fills the rest of the window with margins
## at the edges. Containers lay it out, so it fits any window size.
##   var page := Page.new("Title", "one line about the scene")
##   add_child(page)
##   page.content.add_child(...)
extends Panel

const MARGIN := 14

var content := VBoxContainer.new()


func _init(title: String, subtitle := "") -> void:
	set_anchors_preset(Control.PRESET_FULL_RECT)
	var margins := MarginContainer.new()
	margins.set_anchors_preset(Control.PRESET_FULL_RECT)
	for side in ["left", "top", "right", "bottom"]:
		margins.add_theme_constant_override("margin_" + side, MARGIN)
	add_child(margins)
	var column := VBoxContainer.new()
	column.add_theme_constant_override("separation", 10)
	margins.add_child(column)
	var header := HBoxContainer.new()
	column.add_child(header)
	var heading := VBoxContainer.new()
	heading.size_flags_horizontal = Control.SIZE_EXPAND_FILL
	header.add_child(heading)
	var label := Label.new()
	label.text = title
	label.add_theme_font_size_override("font_size", 24)
	heading.add_child(label)
	if subtitle != "":
		var about := Label.new()
		about.text = subtitle
		about.autowrap_mode = TextServer.AUTOWRAP_WORD_SMART
		about.modulate = Color(1, 1, 1, 0.7)
		heading.add_child(about)
	if title != "RustWebSocketPeer demos":
		var back := Button.new()
		back.text = "Back to menu"
		back.size_flags_vertical = Control.SIZE_SHRINK_BEGIN
		back.pressed.connect(func(): get_tree().change_scene_to_file("res://main.tscn"))
		header.add_child(back)
	content.size_flags_vertical = Control.SIZE_EXPAND_FILL
	content.add_theme_constant_override("separation", 8)
	column.add_child(content)


## A log panel that fills the space left in `parent` (default: `content`)
## and shows the `log_lines` of `source` as they grow.
func add_log(source: Node, parent: Control = null) -> RichTextLabel:
	var panel := PanelContainer.new()
	panel.size_flags_vertical = Control.SIZE_EXPAND_FILL
	(parent if parent else content).add_child(panel)
	var view := RichTextLabel.new()
	view.set_script(preload("res://demos/log_view.gd"))
	view.scroll_following = true
	view.selection_enabled = true
	panel.add_child(view)
	view.source = source
	return view
