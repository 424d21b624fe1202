## Helpers shared by the GDScript tests: connecting a client peer to a
## server peer through a TCPServer on 127.0.0.1, receiving, and a raw TCP
## "peer" that the test scripts byte by byte.
extends RefCounted

const GUID := "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


## A TCPServer on 127.0.0.1 with a port picked by the OS.
static func listen(t) -> TCPServer:
	var tcp := TCPServer.new()
	t.eq(tcp.listen(0, "127.0.0.1"), OK, "TCPServer.listen")
	return tcp


## A port on 127.0.0.1 that nothing listens on (just now).
static func free_port() -> int:
	var tcp := TCPServer.new()
	tcp.listen(0, "127.0.0.1")
	var port := tcp.get_local_port()
	tcp.stop()
	return port


## Connects `client` to a fresh server and accepts it on `server_peer`
## (TLS when `server_tls` is given). Returns the port, or 0 on failure.
static func connect_pair(t, client, server_peer, path := "/", server_tls: TLSOptions = null, client_tls: TLSOptions = null, host := "127.0.0.1") -> int:
	var tcp := listen(t)
	var port := tcp.get_local_port()
	var url := "%s://%s:%d%s" % ["wss" if server_tls else "ws", host, port, path]
	if not t.eq(client.connect_to_url(url, client_tls), OK, "connect_to_url " + url):
		return 0
	if not await t.until(func(): return tcp.is_connection_available(), [client], "a TCP connection"):
		return 0
	var conn: StreamPeer = tcp.take_connection()
	if server_tls:
		var tls := StreamPeerTLS.new()
		t.eq(tls.accept_stream(conn, server_tls), OK, "StreamPeerTLS.accept_stream")
		conn = tls
	if not t.eq(server_peer.accept_stream(conn), OK, "accept_stream"):
		return 0
	await t.until(func(): return client.get_ready_state() != 0 and server_peer.get_ready_state() != 0, [client, server_peer], "both ends to leave STATE_CONNECTING")
	tcp.stop()
	var ok: bool = t.eq(client.get_ready_state(), 1, "client state") and t.eq(server_peer.get_ready_state(), 1, "server state")
	return port if ok else 0


## The test certificate (for 127.0.0.1 and localhost) and its key, which
## the test scripts put in res://certs/, as [X509Certificate, CryptoKey]; an
## empty array (and a failed check) when they cannot be loaded.
static func tls_files(t) -> Array:
	var cert := X509Certificate.new()
	var key := CryptoKey.new()
	if not t.eq(cert.load("res://certs/cert.pem"), OK, "load res://certs/cert.pem") or not t.eq(key.load("res://certs/key.pem"), OK, "load res://certs/key.pem"):
		return []
	return [cert, key]


## Waits for the next packet on `peer` (polling `others` too) and returns it.
static func receive(t, peer, others: Array = []) -> PackedByteArray:
	var all := [peer]
	all.append_array(others)
	if not await t.until(func(): return peer.get_available_packet_count() > 0, all, "a packet"):
		return PackedByteArray()
	return peer.get_packet()


## Polls both until both are closed.
static func wait_closed(t, a, b = null) -> bool:
	return await t.until(func(): return a.get_ready_state() == 3 and (b == null or b.get_ready_state() == 3), [a, b], "STATE_CLOSED")


## Bytes 0..n-1 of a repeating pattern.
static func pattern(n: int, seed := 7) -> PackedByteArray:
	var b := PackedByteArray()
	b.resize(n)
	for i in range(0, n, 4096):
		b[i] = (i / 4096 + seed) % 256
	return b


## The Sec-WebSocket-Accept value for a key.
static func accept_key(key: String) -> String:
	var ctx := HashingContext.new()
	ctx.start(HashingContext.HASH_SHA1)
	ctx.update((key + GUID).to_utf8_buffer())
	return Marshalls.raw_to_base64(ctx.finish())


## Reads an HTTP head from a raw StreamPeerTCP (waits for it).
static func read_head(t, conn: StreamPeerTCP, others: Array = []) -> String:
	var head := PackedByteArray()
	var done := func():
		conn.poll()
		var n := conn.get_available_bytes()
		if n > 0:
			head.append_array(conn.get_data(n)[1])
		return head.get_string_from_utf8().contains("\r\n\r\n")
	await t.until(done, others, "an HTTP head")
	return head.get_string_from_utf8()


## Waits for `peer` to reach `tcp` and checks its upgrade request: the
## request line asks for `path` and each of `headers` (name -> value) is
## there. Returns the server's end of the connection.
static func expect_request(t, tcp: TCPServer, peer, path: String, headers: Dictionary) -> StreamPeerTCP:
	await t.until(func(): return tcp.is_connection_available(), [peer], "a TCP connection")
	var conn := tcp.take_connection()
	var head: String = await read_head(t, conn, [peer])
	t.check(head.begins_with("GET %s HTTP/1.1\r\n" % path), "request line: " + head.get_slice("\r\n", 0))
	for name in headers:
		t.eq(header(head, name), headers[name], "header %s sent" % name)
	return conn


## The value of header `name` in an HTTP head.
static func header(head: String, name: String) -> String:
	for line in head.split("\r\n"):
		var parts := line.split(":", true, 1)
		if parts.size() == 2 and parts[0].strip_edges().to_lower() == name.to_lower():
			return parts[1].strip_edges()
	return ""


## A raw server that answers the upgrade correctly; returns its connection
## to the (open) client so the test can send raw frames.
static func raw_server_for(t, client) -> StreamPeerTCP:
	var tcp := listen(t)
	t.eq(client.connect_to_url("ws://127.0.0.1:%d/" % tcp.get_local_port()), OK, "connect_to_url")
	await t.until(func(): return tcp.is_connection_available(), [client], "a TCP connection")
	var conn := tcp.take_connection()
	var head: String = await read_head(t, conn, [client])
	var resp := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n" % accept_key(header(head, "Sec-WebSocket-Key"))
	conn.put_data(resp.to_utf8_buffer())
	await t.until(func(): return client.get_ready_state() != 0, [client], "the client to open")
	tcp.stop()
	return conn
