## What the library prints keeps the game's secrets and cannot be made to
## print a forged line: a proxy's password, a URL's query values (session
## tokens) and user info never reach the output (the game still reads the
## real values through the API), and a request line or header with a bare
## CR or LF is refused before anything reads or prints it.
extends RefCounted

const U := preload("ws_util.gd")


## Every line printed during the test (errors, warnings and the rest).
func _all_output(t) -> PackedStringArray:
	var all: PackedStringArray = t.errors_printed()
	all.append_array(t.printed())
	return all


func _none_contains(t, needle: String, what: String) -> void:
	for line in _all_output(t):
		if not t.check(not line.contains(needle), "%s: printed \"%s\"" % [what, line]):
			return


func test_a_refused_proxy_setting_does_not_print_its_password(t) -> void:
	for cls in [RustWebSocketPeer, RustWebSocketMultiplayerPeer]:
		var p = cls.new()
		p.set_https_proxy("https://alice:s3cretPW@proxy.corp", 3128)
		t.check_logged("***@proxy.corp")
	_none_contains(t, "s3cretPW", "the proxy's password")


func test_failure_lines_hide_query_values_and_user_info(t) -> void:
	var port := U.free_port()
	var url := "ws://127.0.0.1:%d/play?token=SECRET-TOKEN-42&room=7" % port
	var p := RustWebSocketPeer.new()
	t.eq(p.connect_to_url(url), OK, "connect_to_url")
	t.eq(p.get_requested_url(), url, "the game reads the real URL")
	await t.until(func(): return p.get_ready_state() == WebSocketPeer.STATE_CLOSED, [p], "the refused attempt")
	t.check_logged("token=***&room=***")
	_none_contains(t, "SECRET-TOKEN-42", "the URL's token")
	# A URL with user info is refused (as the engine does); the refusal does
	# not repeat the password either.
	var q := RustWebSocketPeer.new()
	t.eq(q.connect_to_url("ws://bob:hunter2@127.0.0.1:%d/?token=abc" % port), ERR_INVALID_PARAMETER, "user info refused")
	_none_contains(t, "hunter2", "the URL's password")
	_none_contains(t, "token=abc", "the URL's token")


## A raw client sends an upgrade whose target or a header holds a bare LF
## or CR; our server refuses it with 400 and never reads it as a URL.
func test_bare_cr_or_lf_in_a_request_is_refused(t) -> void:
	var key := "dGhlIHNhbXBsZSBub25jZQ=="
	var requests := [
		"GET /game\nERROR: forged line HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % key,
		"GET /game HTTP/1.1\r\nHost: x\rERROR: forged\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % key,
	]
	for request in requests:
		var tcp := U.listen(t)
		var client := StreamPeerTCP.new()
		client.connect_to_host("127.0.0.1", tcp.get_local_port())
		await t.until(func(): return tcp.is_connection_available(), [client], "a TCP connection")
		var server := RustWebSocketPeer.new()
		server.hold_upgrade = true
		t.eq(server.accept_stream(tcp.take_connection()), OK, "accept_stream")
		client.put_data(request.to_utf8_buffer())
		var answer := PackedByteArray()
		await t.until(func():
			client.poll()
			var n := client.get_available_bytes()
			if n > 0:
				answer.append_array(client.get_data(n)[1])
			return server.get_ready_state() == WebSocketPeer.STATE_CLOSED, [server], "the server to refuse")
		t.check(answer.get_string_from_utf8().begins_with("HTTP/1.1 400"), "answered 400: " + answer.get_string_from_utf8().get_slice("\r\n", 0))
		t.check(not server.is_upgrade_waiting(), "no request held for the game")
		t.check(not server.get_requested_url().contains("\n") and not server.get_requested_url().contains("\r"), "no URL with a line break")
		tcp.stop()
	for line in _all_output(t):
		t.check(not line.begins_with("ERROR: forged"), "a forged line was printed: " + line)


## A handshake header refused for a line break (a token read from a file
## keeps its trailing newline) is named, never printed with its value; a
## long bad request line is quoted only in part.
func test_a_refused_header_does_not_print_its_value(t) -> void:
	var p := RustWebSocketPeer.new()
	p.handshake_headers = PackedStringArray(["Authorization: Bearer SECRET-TKN-9\n"])
	t.eq(p.connect_to_url("ws://127.0.0.1:%d/" % U.free_port()), ERR_INVALID_PARAMETER, "the header is refused")
	t.check_logged("named \"Authorization\"")
	_none_contains(t, "SECRET-TKN-9", "the header's value")
