## A "Back to menu" button that every demo scene adds in its corner.
extends Button


func _ready() -> void:
	text = "Back to menu"
	set_anchors_and_offsets_preset(Control.PRESET_TOP_RIGHT)
	position.x -= 140
	pressed.connect(func(): get_tree().change_scene_to_file("res://main.tscn"))
