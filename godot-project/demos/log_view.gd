## Shows the `log_lines` of the node at `source_path`, as they grow.
extends RichTextLabel

@export var source_path: NodePath

var _shown := 0


func _process(_delta: float) -> void:
	var source := get_node_or_null(source_path)
	if source == null:
		return
	var lines: PackedStringArray = source.log_lines
	while _shown < lines.size():
		append_text(lines[_shown] + "\n")
		_shown += 1
