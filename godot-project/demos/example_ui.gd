## The window of the Client and Server demos: a page titled `title` showing
## the log of the parent node, whose script stays as the documentation has
## it.
extends Control

const Page := preload("res://demos/page.gd")

@export var title := ""
@export_multiline var subtitle := ""


func _ready() -> void:
	set_anchors_preset(Control.PRESET_FULL_RECT)
	var page := Page.new(title, subtitle)
	add_child(page)
	page.add_log(get_parent())
