## Shows the `log_lines` of a node as they grow: `source`, or the node at
## `source_path`.
extends RichTextLabel

@export var source_path: NodePath
var source: Node

var _shown := 0


func _process(_delta: float) -> void:
	var from: Node = source if source else get_node_or_null(source_path)
	if from == null:
		return
	var lines: PackedStringArray = from.log_lines
	while _shown < lines.size():
		append_text(lines[_shown] + "\n")
		_shown += 1
