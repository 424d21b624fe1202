#!/usr/bin/env python3
"""An independent WebSocket peer (Python `websockets`) for interop tests.

server mode: echoes every message back with its type (permessage-deflate
accepted, as `websockets` does by default); a text message
"close:CODE:REASON" makes it close with that code and reason; "drop" makes it
drop the TCP connection without a close frame. Prints "PORT <n>" once
listening on 127.0.0.1 (port picked by the OS), and one "CLOSED <code> <reason>"
line per finished connection.

client mode: connects to URL (offering permessage-deflate, as `websockets`
does by default), prints {"protocol", "extensions"} as agreed, sends the
messages given as arguments (text, or "bin:<hex>" for binary, "big:<n>" for
n bytes of binary, or "json:<n>" for n bytes of JSON-like text), prints one
JSON line per reply ({"type": "text"|"binary", "len": n, "text": ..., "hex": ...}),
then closes with --close-code/--close-reason and prints "CLOSED <code> <reason>"
with what the server answered.
"""
import argparse
import asyncio
import json
import ssl
import sys

import websockets
from websockets.asyncio.client import connect
from websockets.asyncio.server import serve


def log(*parts):
    print(*parts, flush=True)


def log_json(obj):
    """One JSON line, written as Node's JSON.stringify writes it (ws_peer.js
    prints the same lines), so tests compare the two peers' output as text."""
    log(json.dumps(obj, separators=(",", ":"), ensure_ascii=False))


async def run_server(args):
    ctx = None
    if args.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.cert, args.key)

    async def handler(ws):
        try:
            async for msg in ws:
                if isinstance(msg, str) and msg.startswith("close:"):
                    _, code, reason = msg.split(":", 2)
                    await ws.close(int(code), reason)
                    break
                if msg == "drop":
                    ws.transport.abort()
                    break
                await ws.send(msg)
        except websockets.ConnectionClosed:
            pass
        rcvd = ws.protocol.close_rcvd
        log("CLOSED", rcvd.code if rcvd else -1, rcvd.reason if rcvd else "")

    protocols = args.protocols.split(",") if args.protocols else None
    async with serve(handler, "127.0.0.1", 0, ssl=ctx, subprotocols=protocols,
                     max_size=args.max_size, ping_interval=None) as server:
        port = server.sockets[0].getsockname()[1]
        log("PORT", port)
        await asyncio.get_running_loop().create_future()


def parse_message(arg):
    if arg.startswith("bin:"):
        return bytes.fromhex(arg[4:])
    if arg.startswith("big:"):
        n = int(arg[4:])
        return bytes(i % 251 for i in range(n))
    if arg.startswith("json:"):
        return json_text(int(arg[5:]))
    return arg


def json_text(n):
    """n bytes of game-state-like JSON text (compresses several times)."""
    parts = []
    i = 0
    while sum(len(p) for p in parts) < n:
        parts.append(f'{{"id":{i},"x":{i * 0.37:.2f},"y":{i * 1.3:.2f},"state":"running"}},')
        i += 1
    return "".join(parts)[:n]


async def run_client(args):
    ctx = None
    if args.url.startswith("wss://"):
        ctx = ssl.create_default_context(cafile=args.ca)
    protocols = args.protocols.split(",") if args.protocols else None
    async with connect(args.url, ssl=ctx, subprotocols=protocols, max_size=args.max_size,
                       ping_interval=None, additional_headers={"X-Test": "python"}) as ws:
        log_json({"protocol": ws.subprotocol or "",
                  "extensions": ws.response.headers.get("Sec-WebSocket-Extensions", "")})
        for arg in args.messages:
            msg = parse_message(arg)
            await ws.send(msg)
            reply = await asyncio.wait_for(ws.recv(), 20)
            if isinstance(reply, str):
                log_json({"type": "text", "len": len(reply.encode()), "text": reply})
            else:
                ok = reply == msg if isinstance(msg, bytes) else False
                log_json({"type": "binary", "len": len(reply), "same": ok})
        await ws.close(args.close_code, args.close_reason)
        rcvd = ws.protocol.close_rcvd
        log("CLOSED", rcvd.code if rcvd else -1, rcvd.reason if rcvd else "")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["server", "client"])
    p.add_argument("url", nargs="?")
    p.add_argument("messages", nargs="*")
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--ca")
    p.add_argument("--protocols")
    p.add_argument("--max-size", type=int, default=64 * 1024 * 1024)
    p.add_argument("--close-code", type=int, default=1000)
    p.add_argument("--close-reason", default="")
    args = p.parse_args()
    try:
        asyncio.run(run_server(args) if args.mode == "server" else run_client(args))
    except KeyboardInterrupt:
        pass
    except Exception as e:  # reported to the test, which asserts on it
        log("ERROR", type(e).__name__, e)
        sys.exit(1)


if __name__ == "__main__":
    main()
